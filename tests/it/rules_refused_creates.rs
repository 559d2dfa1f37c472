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
