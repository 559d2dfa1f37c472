//! A FailedCreate on a Deployment's ReplicaSet, for a template chain (every pod retired): a
//! refusal older than a pod that same ReplicaSet created afterwards was retried and admitted,
//! so it is history, not KVC106 (FACTS §11 "Evidence ages"; README "Events are history"; audit
//! RR1). A newer one, or one of no known time, stays current. An event that names its
//! ReplicaSet's uid belongs to that object only: a ReplicaSet of the same name made again is
//! another object.

use jiff::SignedDuration;
use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Chain, Code, LinkKind, Status, diagnose};
use kvchain::snapshot::*;

/// The healthy app whose pods are all being deleted (created an hour ago, mounted, started),
/// so its Deployment's template is the chain, and a FailedCreate on its ReplicaSet.
fn retired_with_refusal(last_seen: Option<jiff::Timestamp>) -> Snapshot {
    let mut s = tk::healthy();
    let mut template = s.pods.items[0].clone();
    for p in &mut s.pods.items {
        p.deleting = true;
    }
    template.name = APP.into();
    template.uid = Default::default();
    template.template_of = Some(tk::owner("Deployment", APP));
    template.containers[0].state = ContainerStateObs::Unknown;
    tk::workload_mut(&mut s, "Deployment", APP).template = Some(Box::new(template));
    s.events.items.push(EventObs {
        namespace: NS.into(),
        involved_kind: "ReplicaSet".into(),
        involved_name: tk::replica_set(APP).into(),
        involved_uid: format!("uid-rs-{NS}-{APP}"),
        type_: "Warning".into(),
        reason: "FailedCreate".into(),
        message: "Error creating: admission webhook \"mutation.azure-workload-identity.io\" denied the request: token expiration 100 not valid. Expected value to be between 3600 and 86400".into(),
        count: 5,
        source: "replicaset-controller".into(),
        last_seen,
        ..EventObs::default()
    });
    s
}

fn template_chain(s: &Snapshot) -> Chain {
    diagnose(s)
        .into_iter()
        .find(|c| c.pod.as_str() == APP)
        .expect("the Deployment's template chain")
}

fn has_kvc106(c: &Chain) -> bool {
    c.findings().any(|f| f.code == Code::KVC106)
}

/// The pods were created an hour ago; a refusal 90 minutes ago was retried since.
#[test]
fn a_failed_create_older_than_the_pods_its_replica_set_made_is_history() {
    let s = retired_with_refusal(Some(tk::ago(SignedDuration::from_mins(90))));
    let c = template_chain(&s);
    assert!(!has_kvc106(&c), "{:#?}", c.links);
    let pod = c.link(LinkKind::Pod);
    assert_eq!(pod.status, Status::Ok, "{pod:#?}");
    let fact = (pod.facts.iter())
        .find(|f| f.label == "history (KVC106)")
        .unwrap_or_else(|| panic!("the refusal kept as history: {pod:#?}"));
    assert!(
        fact.observed.contains(&tk::pod_name(APP, 0)) && fact.observed.contains("retried"),
        "names the pod created since: {fact:#?}"
    );
}

/// A refusal seen after the newest pod was created, or of no known time, is current.
#[test]
fn a_failed_create_newer_than_every_pod_or_undated_stays_current() {
    for seen in [Some(tk::ago(SignedDuration::from_mins(5))), None] {
        let c = template_chain(&retired_with_refusal(seen));
        assert!(has_kvc106(&c), "{seen:?}: {:#?}", c.links);
        assert_eq!(c.link(LinkKind::Pod).status, Status::Broken);
    }
}

/// The pods were made by a ReplicaSet of the same name but another uid (the one read now):
/// they say nothing of the refusing object's retries, so a recent refusal by uid
/// `uid-rs-earlier` is not this ReplicaSet's, and an old one is not retried by its pods.
#[test]
fn a_failed_create_is_matched_by_its_replica_sets_uid() {
    // Recent, and naming another ReplicaSet object of that name: not this Deployment's.
    let mut s = retired_with_refusal(Some(tk::ago(SignedDuration::from_mins(5))));
    for e in s
        .events
        .items
        .iter_mut()
        .filter(|e| e.reason == "FailedCreate")
    {
        e.involved_uid = "uid-rs-earlier".into();
    }
    assert!(!has_kvc106(&template_chain(&s)));
    // Same uid as the ReplicaSet read: current.
    let s = retired_with_refusal(Some(tk::ago(SignedDuration::from_mins(5))));
    assert!(has_kvc106(&template_chain(&s)));
    // Older than the pods, but the pods name their ReplicaSet by another uid: they are not
    // the refusing object's retries, so the refusal is not made history by them.
    let mut s = retired_with_refusal(Some(tk::ago(SignedDuration::from_mins(90))));
    for p in &mut s.pods.items {
        p.owners[0].uid = "uid-rs-later".into();
    }
    tk::workload_mut(&mut s, "ReplicaSet", &tk::replica_set(APP)).uid = String::new();
    let c = template_chain(&s);
    assert!(has_kvc106(&c), "{:#?}", c.links);
}

/// Where one side carries no uid, the ReplicaSet is matched by name (a hand-made snapshot, an
/// owner reference read without it): an event without a uid is retried by the pods of any
/// ReplicaSet of that name, and one with a uid by pods whose owner reference has none.
#[test]
fn a_failed_create_is_matched_by_name_where_a_uid_is_missing() {
    let old = || retired_with_refusal(Some(tk::ago(SignedDuration::from_mins(90))));
    let mut s = old();
    for e in (s.events.items.iter_mut()).filter(|e| e.reason == "FailedCreate") {
        e.involved_uid = String::new();
    }
    assert!(!has_kvc106(&template_chain(&s)));
    let mut s = old();
    for p in &mut s.pods.items {
        p.owners[0].uid = Default::default();
    }
    assert!(!has_kvc106(&template_chain(&s)));
    // Pods of another ReplicaSet's name say nothing of this one's retries.
    let mut s = old();
    for p in &mut s.pods.items {
        p.owners[0].uid = Default::default();
        p.owners[0].name = "another-rs".into();
    }
    assert!(has_kvc106(&template_chain(&s)));
}

/// A second ReplicaSet of the Deployment, named `name`, of revision `rev` (when given) and
/// `replicas` (the Deployment controller scales a superseded one to 0).
fn add_replica_set(s: &mut Snapshot, name: &str, rev: Option<&str>, replicas: Option<i32>) {
    let mut rs = tk::workload_mut(s, "ReplicaSet", &tk::replica_set(APP)).clone();
    rs.name = name.into();
    rs.uid = format!("uid-{name}");
    rs.annotations = rev
        .map(|r| [(REVISION.to_string(), r.to_string())].into())
        .unwrap_or_default();
    rs.replicas = replicas;
    s.workloads.items.push(rs);
}

const REVISION: &str = "deployment.kubernetes.io/revision";
const OLD_RS: &str = "web-5f7c9d8b6";

fn set_revision(s: &mut Snapshot, rev: &str) {
    tk::workload_mut(s, "ReplicaSet", &tk::replica_set(APP))
        .annotations
        .insert(REVISION.to_string(), rev.to_string());
}

/// The ordinary repair (audit UU1): the old template was refused, the user fixed it, and the
/// Deployment's new ReplicaSet created the pods 30 minutes later. The refusal is history: the
/// current template was admitted, so editing it fixes nothing. Told by revision, by the
/// refused ReplicaSet scaled to 0 when revisions do not tell, and when the refused ReplicaSet
/// is gone (a Deployment deletes only old ones) and the event names it by name only.
#[test]
fn an_older_replica_sets_failed_create_is_history_once_the_new_one_made_pods() {
    type Setup = fn(&mut Snapshot);
    let cases: [(&str, Setup); 3] = [
        ("by revision", |s| {
            set_revision(s, "2");
            add_replica_set(s, OLD_RS, Some("1"), None);
        }),
        ("scaled to 0", |s| {
            set_revision(s, "1");
            add_replica_set(s, OLD_RS, Some("1"), Some(0));
        }),
        ("gone, no uid", |s| {
            for e in &mut s.events.items {
                e.involved_uid = String::new();
            }
        }),
    ];
    for (case, setup) in cases {
        let mut s = retired_with_refusal(Some(tk::ago(SignedDuration::from_mins(90))));
        for e in &mut s.events.items {
            e.involved_name = OLD_RS.into();
            e.involved_uid = format!("uid-{OLD_RS}");
        }
        setup(&mut s);
        let c = template_chain(&s);
        assert!(!has_kvc106(&c), "{case}: {:#?}", c.links);
        let pod = c.link(LinkKind::Pod);
        let fact = (pod.facts.iter())
            .find(|f| f.label == "history (KVC106)")
            .unwrap_or_else(|| panic!("{case}: the refusal kept as history: {pod:#?}"));
        assert!(
            fact.observed.contains(&tk::replica_set(APP))
                && fact.observed.contains(&tk::pod_name(APP, 0)),
            "{case}: names the newer ReplicaSet and its pod: {fact:#?}"
        );
    }
}

/// The refused ReplicaSet is the current one and the pods created since are an older
/// ReplicaSet's (it replaced a pod during the stalled rollout): they say nothing of the
/// current template, so the refusal stays KVC106 (audit UU1 control `1/c`).
#[test]
fn an_older_replica_sets_pods_do_not_retire_the_current_ones_refusal() {
    let setups: [fn(&mut Snapshot); 2] = [
        |s| {
            set_revision(s, "2");
            add_replica_set(s, OLD_RS, Some("1"), None);
        },
        |s| {
            set_revision(s, "1");
            add_replica_set(s, OLD_RS, Some("1"), Some(0));
        },
    ];
    for setup in setups {
        let mut s = retired_with_refusal(Some(tk::ago(SignedDuration::from_mins(90))));
        setup(&mut s);
        for p in &mut s.pods.items {
            p.owners[0].name = OLD_RS.into();
            p.owners[0].uid = format!("uid-{OLD_RS}").into();
        }
        let c = template_chain(&s);
        assert!(has_kvc106(&c), "{:#?}", c.links);
    }
}
