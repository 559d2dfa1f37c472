use super::*;
use crate::snapshot::{Coll, SourceInfo, SourceKind};

fn source(kind: SourceKind, only_namespace: Option<&str>) -> SourceInfo {
    SourceInfo {
        kind,
        only_namespace: only_namespace.map(str::to_string),
        ..SourceInfo::default()
    }
}

fn reloader(ns: &str, run: ReloaderObs) -> WorkloadObs {
    WorkloadObs {
        kind: "Deployment".into(),
        namespace: ns.into(),
        name: "reloader".into(),
        replicas: Some(1),
        reloader: Some(Box::new(run)),
        ..WorkloadObs::default()
    }
}

/// What a live read of every namespace, holding `workloads`, says of namespace `shop`.
fn live(workloads: Vec<WorkloadObs>) -> Runs {
    let facts = ReloaderFacts::of(&Coll::known(workloads), &source(SourceKind::Live, None));
    reloader_runs(facts.as_ref(), "shop")
}

#[test]
fn none_runs_only_where_every_namespace_was_read() {
    assert!(
        matches!(live(Vec::new()), Runs::No(why) if why.contains("no Deployment in any namespace"))
    );
    // One namespace read: Reloader may run in another (unknown is not absent).
    let of = |w: &Coll<WorkloadObs>, s: SourceInfo| {
        reloader_runs(ReloaderFacts::of(w, &s).as_ref(), "shop")
    };
    let none = Coll::known(Vec::new());
    let only = of(&none, source(SourceKind::Live, Some("shop")));
    assert!(
        matches!(&only, Runs::Unknown(why) if why.contains("only one read")),
        "{only:?}"
    );
    let mut gaps = Coll::known(Vec::new());
    gaps.gaps
        .namespaces
        .insert("ops".into(), "forbidden".into());
    assert!(matches!(
        of(&gaps, source(SourceKind::Live, None)),
        Runs::Unknown(_)
    ));
    // Manifests know only the files.
    assert!(matches!(
        of(&none, source(SourceKind::Manifests, None)),
        Runs::Unknown(_)
    ));
    // Not observed (the lab's facts come from its Cluster document; a snapshot saved before
    // this was read): taken to run, as before.
    assert_eq!(of(&none, source(SourceKind::Lab, None)), Runs::Yes);
    assert_eq!(reloader_runs(None, "shop"), Runs::Yes);
}

#[test]
fn a_reloader_seen_is_judged_by_what_it_watches() {
    let ok = ReloaderObs {
        available: Some(1),
        ..ReloaderObs::default()
    };
    assert_eq!(live(vec![reloader("ops", ok.clone())]), Runs::Yes);
    let no = |run: ReloaderObs, want: &str| {
        let got = live(vec![reloader("ops", run)]);
        assert!(
            matches!(&got, Runs::No(why) if why.contains(want)),
            "{got:?} lacks {want}"
        );
    };
    let only = |ns: &str| Some(vec![ns.to_string()]);
    no(
        ReloaderObs {
            only: only("ops"),
            ..ok.clone()
        },
        "watches only namespace ops, not shop",
    );
    no(
        ReloaderObs {
            ignored_namespaces: vec!["shop".into()],
            ..ok.clone()
        },
        "--namespaces-to-ignore",
    );
    no(
        ReloaderObs {
            ignores_secrets: true,
            ..ok.clone()
        },
        "--resources-to-ignore=secrets",
    );
    no(
        ReloaderObs {
            webhook_only: true,
            ..ok.clone()
        },
        "--webhook-url",
    );
    no(
        ReloaderObs {
            available: Some(0),
            ..ok.clone()
        },
        "no available replica",
    );
    // --namespaces-to-ignore counts only when it watches every namespace.
    let scoped = ReloaderObs {
        only: only("shop"),
        ignored_namespaces: vec!["shop".into()],
        ..ok.clone()
    };
    assert_eq!(live(vec![reloader("ops", scoped)]), Runs::Yes);
    // A selector over labels the snapshot does not hold: unknown.
    let selected = ReloaderObs {
        namespace_selector: Some("team=a".into()),
        ..ok.clone()
    };
    assert!(matches!(
        live(vec![reloader("ops", selected)]),
        Runs::Unknown(_)
    ));
    // One scaled to zero: none runs; beside one that watches the namespace: it runs.
    let mut idle = reloader("ops", ok.clone());
    idle.replicas = Some(0);
    assert!(matches!(live(vec![idle.clone()]), Runs::No(why) if why.contains("scaled to 0")));
    let own = reloader(
        "shop",
        ReloaderObs {
            only: only("shop"),
            ..ok
        },
    );
    assert_eq!(live(vec![idle, own]), Runs::Yes);
}
