//! `R` in the TUI for pods with unusual owners (audit 18, A18-1/2): the confirmation names
//! exactly what the source will do — the restart plan of the pod's owner, not the chain's
//! workload taken for something `kubectl rollout restart` can restart. A mirror pod is
//! refused with why; a bare pod's deletion needs its name typed.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kvchain::action::Action;
use kvchain::chain::model::WorkloadRef;
use kvchain::snapshot::{Coll, OwnerRef, PodObs, WorkloadObs};
use kvchain::ui::app::{App, AppEvent, Effect, Mode};
use kvchain::ui::config::UiConfig;
use kvchain::ui::testing::{healthy_chain, lab_snapshot};
use kvchain::ui::tree::Row;

const NS: &str = "payments";

fn owner(kind: &str, name: &str) -> OwnerRef {
    OwnerRef {
        kind: kind.into(),
        name: name.into(),
        uid: Default::default(),
        controller: true,
    }
}

fn pod(name: &str, owners: Vec<OwnerRef>, labels: &[(&str, &str)]) -> PodObs {
    PodObs {
        namespace: NS.into(),
        name: name.into(),
        owners,
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        phase: "Running".into(),
        node: Some("aks-node-1".into()),
        ..Default::default()
    }
}

/// The pods, their chains with the workload the chain index would name, and the app on them.
fn app() -> App {
    let mut mirror = pod("etcd-aks-node-1", vec![owner("Node", "aks-node-1")], &[]);
    mirror
        .annotations
        .insert("kubernetes.io/config.mirror".into(), "4c1f".into());
    let pods = [
        (
            pod(
                "api-7f8c9d-x1p2q",
                vec![owner("ReplicaSet", "api-7f8c9d")],
                &[("rollouts-pod-template-hash", "7f8c9d")],
            ),
            Some(("Rollout", "api")),
        ),
        (
            pod("migrate-h7k2m", vec![owner("Job", "migrate")], &[]),
            Some(("CronJob", "nightly")),
        ),
        (
            pod(
                "cache-5d4-q9w8e",
                vec![owner("ReplicaSet", "cache-5d4")],
                &[],
            ),
            Some(("ReplicaSet", "cache-5d4")),
        ),
        (
            pod("redis-0", vec![owner("RedisFailover", "redis")], &[]),
            Some(("RedisFailover", "redis")),
        ),
        (mirror, Some(("Node", "aks-node-1"))),
        (pod("debug", vec![], &[]), None),
        (
            pod(
                "ledger-6b7c8-k2j4h",
                vec![owner("ReplicaSet", "ledger-6b7c8")],
                &[("pod-template-hash", "6b7c8")],
            ),
            Some(("Deployment", "ledger")),
        ),
    ];
    let mut snapshot = lab_snapshot("default");
    snapshot.pods = Coll::known(pods.iter().map(|(p, _)| p.clone()).collect());
    snapshot.workloads = Coll::known(vec![
        WorkloadObs {
            kind: "ReplicaSet".into(),
            namespace: NS.into(),
            name: "cache-5d4".into(),
            ..Default::default()
        },
        WorkloadObs {
            kind: "ReplicaSet".into(),
            namespace: NS.into(),
            name: "ledger-6b7c8".into(),
            owners: vec![owner("Deployment", "ledger")],
            ..Default::default()
        },
        WorkloadObs {
            kind: "Deployment".into(),
            namespace: NS.into(),
            name: "ledger".into(),
            paused: true,
            ..Default::default()
        },
    ]);
    let chains = pods
        .iter()
        .map(|(p, w)| {
            let mut c = healthy_chain(NS, None, &p.name);
            c.workload = w.map(|(kind, name)| WorkloadRef {
                kind: kind.into(),
                name: name.into(),
            });
            c
        })
        .collect();
    let mut app = App::new(snapshot.source.clone(), UiConfig::default());
    app.update(AppEvent::Resize(120, 40));
    app.apply(Arc::new(snapshot), chains);
    app
}

fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app.update(AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn select(app: &mut App, name: &str) {
    let chains = app.chains.clone();
    for i in 0..app.tree.rows.len() {
        app.tree.select(i, &chains);
        if app.selected_pod().is_some_and(|(_, p)| p == name)
            && matches!(app.tree.selected_row(), Row::Pod(..) | Row::Chain(..))
        {
            return;
        }
    }
    panic!("no pod {name}");
}

/// `R` on `name`: the confirmation's prompt (None when nothing is offered, with why said).
fn offer(app: &mut App, name: &str) -> Option<String> {
    select(app, name);
    key(app, KeyCode::Char('R'));
    match &app.mode {
        Mode::Confirm { prompt, .. } => Some(prompt.clone()),
        _ => None,
    }
}

#[test]
fn the_confirmation_says_what_each_owner_gets_and_never_a_rollout_it_does_not_do() {
    let mut a = app();
    let argo = offer(&mut a, "api-7f8c9d-x1p2q").expect("offered");
    assert!(
        argo.starts_with("Restart Argo Rollout payments/api: set its spec.restartAt")
            && !argo.contains("kubectl rollout restart"),
        "{argo}"
    );
    key(&mut a, KeyCode::Esc);

    // The chain names the CronJob; the pod's controller is its Job, and the delete costs a
    // failure against the Job's backoffLimit.
    let job = offer(&mut a, "migrate-h7k2m").expect("offered");
    assert!(
        job.starts_with(
            "Delete pod payments/migrate-h7k2m; its controller Job/migrate makes a new one."
        ) && job.contains("backoffLimit")
            && !job.contains("kubectl rollout restart"),
        "{job}"
    );
    let fx = key(&mut a, KeyCode::Char('y'));
    assert!(
        matches!(fx.as_slice(), [Effect::Act(Action::Restart { pod, .. })] if pod == "migrate-h7k2m"),
        "{fx:?}"
    );

    for (name, owner) in [
        ("cache-5d4-q9w8e", "ReplicaSet/cache-5d4"),
        ("redis-0", "RedisFailover/redis"),
    ] {
        let said = offer(&mut a, name).expect("offered");
        assert!(
            said.starts_with(&format!(
                "Delete pod payments/{name}; its controller {owner} makes a new one."
            )) && !said.contains("kubectl rollout restart"),
            "{said}"
        );
        key(&mut a, KeyCode::Esc);
    }
}

#[test]
fn a_mirror_pod_is_refused_with_why_and_nothing_is_confirmed() {
    let mut a = app();
    assert_eq!(offer(&mut a, "etcd-aks-node-1"), None);
    assert_eq!(a.mode, Mode::Normal);
    let (said, _) = a.message.clone().expect("the refusal is said");
    assert!(
        said.contains("refused")
            && said.contains("static pod on node aks-node-1")
            && said.contains("does not restart"),
        "{said}"
    );
}

#[test]
fn a_bare_pod_is_deleted_only_when_its_name_is_typed() {
    let mut a = app();
    let said = offer(&mut a, "debug").expect("offered");
    assert!(
        said.contains("nothing recreates it") && said.contains("Type the pod name"),
        "{said}"
    );
    // `y` is a letter of a name here, not a confirmation.
    assert!(key(&mut a, KeyCode::Char('y')).is_empty());
    assert!(
        key(&mut a, KeyCode::Enter).is_empty(),
        "a wrong name cancels"
    );
    assert_eq!(a.mode, Mode::Normal);

    offer(&mut a, "debug").expect("offered");
    for c in "debug".chars() {
        assert!(key(&mut a, KeyCode::Char(c)).is_empty());
    }
    let fx = key(&mut a, KeyCode::Enter);
    assert!(
        matches!(fx.as_slice(), [Effect::Act(Action::Restart { pod, .. })] if pod == "debug"),
        "{fx:?}"
    );
}

/// A paused Deployment's pod: kubectl refuses its rollout restart, so `R` offers to delete
/// the pod (its ReplicaSet makes a new one) and says the Deployment is paused and how to
/// restart every replica.
#[test]
fn a_paused_deployments_pod_is_offered_a_delete_with_why() {
    let mut a = app();
    let said = offer(&mut a, "ledger-6b7c8-k2j4h").expect("offered");
    assert!(
        said.starts_with(
            "Delete pod payments/ledger-6b7c8-k2j4h; its controller ReplicaSet/ledger-6b7c8 makes a new one. Deployment ledger is paused (spec.paused): kubectl rollout restart refuses it"
        ) && said.contains("kubectl rollout resume deployment/ledger -n payments"),
        "{said}"
    );
    let fx = key(&mut a, KeyCode::Char('y'));
    assert!(
        matches!(fx.as_slice(), [Effect::Act(Action::Restart { pod, .. })] if pod == "ledger-6b7c8-k2j4h"),
        "{fx:?}"
    );
}
