//! The incremental engine, case by case: which chains a change rebuilds, and worlds where a
//! change reaches chains it does not name (pods moved in one burst, a new ReplicaSet revision,
//! a CSIDriver's audiences, a copied pod), each checked against a full diagnosis as
//! engine_props' random sequences are.

use std::sync::Arc;

use kvchain::chain::engine::{Change, Engine, Object};
use kvchain::chain::testkit;
use kvchain::snapshot::*;

use super::engine_props::{Edit, assert_agrees, changes, worlds};

#[test]
fn a_pod_change_rebuilds_only_the_chains_that_read_it() {
    // 30 apps of 4 replicas each, all in one namespace (generated worlds spread over 50
    // namespaces: 30 SPCs stay in 30 namespaces; put them together to make the point).
    let mut s = testkit::empty();
    for a in 0..30 {
        testkit::add_app(&mut s, "shared", &format!("app-{a:02}"), 4);
    }
    let mut engine = Engine::new(s);
    let total = engine.chains().count();
    assert_eq!(total, 120);
    let mut pod = engine.snapshot().pods.items[5].clone();
    pod.phase = "Pending".into();
    let work = engine.apply([Change::Upsert(Object::Pod(pod.into()))]);
    // The pod's own chain and its three siblings (they count who mounts their SPC), no more.
    assert_eq!(work.chains, 4, "{work:?}");
    assert_agrees(&engine, "one pod Pending");
    // A Secret only app-07's SPC syncs: app-07's four chains.
    let secret = engine
        .snapshot()
        .secrets
        .items
        .iter()
        .find(|x| x.name == testkit::secret_name("app-07"))
        .cloned()
        .expect("app-07's synced Secret");
    let work = engine.apply([Change::Delete(Object::Secret(secret.into()))]);
    assert_eq!(work.chains, 4, "{work:?}");
    assert_agrees(&engine, "Secret deleted");
}

/// The engine numbers a namespace's pods: a deleted pod's number waits for its
/// re-diagnosis, the pod that takes its place keeps its own, a pod added again keeps its
/// chains apart from the one it replaces.
#[test]
fn pods_deleted_moved_and_added_again_in_one_burst_keep_their_own_chains() {
    let mut s = testkit::empty();
    for a in 0..3 {
        testkit::add_app(&mut s, "shared", &format!("app-{a}"), 2);
    }
    let mut engine = Engine::new(s);
    let pods: Vec<Arc<PodObs>> = engine.snapshot().pods.items.shared().to_vec();
    let first = pods[0].clone();
    let mut last = (*pods[pods.len() - 1]).clone();
    last.phase = "Pending".into();
    let mut back = (*first).clone();
    back.phase = "Failed".into();
    engine.apply([
        // The last pod moves into the first one's place…
        Change::Delete(Object::Pod(first.clone())),
        // …changes there…
        Change::Upsert(Object::Pod(last.into())),
        // …and the first comes back under its old name, changed.
        Change::Upsert(Object::Pod(back.into())),
    ]);
    assert_agrees(&engine, "delete, move, re-add");
    assert_eq!(engine.pod_chains("shared", &first.name).len(), 1);
    // Deleted for good: its chains go, a new pod takes its number.
    engine.apply([Change::Delete(Object::Pod(first.clone()))]);
    assert!(engine.pod_chains("shared", &first.name).is_empty());
    let mut new = (*pods[1]).clone();
    new.name = "newcomer".into();
    engine.apply([Change::Upsert(Object::Pod(new.into()))]);
    assert_agrees(&engine, "deleted, then a newcomer");
    assert_eq!(engine.pod_chains("shared", "newcomer").len(), 1);
}

/// A Deployment's new ReplicaSet revision changes what its older pods' stale env is (being
/// replaced, or a rollout with no pod: KVC901 of `rules::consumers::rollout`), though those
/// pods read nothing of the new ReplicaSet's own: the change reaches every pod of the
/// Deployment.
#[test]
fn a_new_replica_set_revision_reaches_the_deployments_older_pods() {
    let mut s = testkit::healthy();
    let app = testkit::APP;
    let at = testkit::ago(jiff::SignedDuration::from_mins(5));
    testkit::secret_mut(&mut s, app).updated_at = Some(at);
    if let Observed::Known(Some(o)) = &mut testkit::object_mut(&mut s, app).state {
        o.versions[0].created = Some(at);
    }
    testkit::workload_mut(&mut s, "ReplicaSet", &testkit::replica_set(app))
        .annotations
        .insert("deployment.kubernetes.io/revision".into(), "1".into());
    let mut engine = Engine::new(s);
    let newer = WorkloadObs {
        kind: "ReplicaSet".into(),
        namespace: testkit::NS.into(),
        name: format!("{app}-5f6c7d8e9").into(),
        uid: "uid-rs-newer".into(),
        owners: vec![testkit::owner("Deployment", app)],
        annotations: [(
            "deployment.kubernetes.io/revision".to_string(),
            "2".to_string(),
        )]
        .into(),
        replicas: Some(1),
        ..WorkloadObs::default()
    };
    engine.apply([Change::Upsert(Object::Workload(newer.into()))]);
    assert_agrees(&engine, "a newer ReplicaSet revision");
}

/// A CSIDriver serves every namespace, so KVC105's fix names every token audience the
/// cluster's SPCs read (one `tokenRequests` list: a fix naming fewer would drop another
/// namespace's audience when pasted). The engine diagnoses a namespace at a time and must
/// still name the other namespaces' audiences, as a full pass does.
#[test]
fn kvc105s_fix_names_the_audiences_of_every_namespace_as_a_full_pass_does() {
    let mut s = testkit::empty();
    testkit::add_app(&mut s, "alpha", "web", 1);
    testkit::add_app(&mut s, "beta", "api", 1);
    let spc = testkit::spc_mut(&mut s, "api");
    spc.parameters
        .insert("useAzureTokenProxy".into(), "true".into());
    testkit::reparse(spc);
    if let Observed::Known(driver) = &mut s.cluster.csi_driver {
        driver.token_audiences = Observed::Known(Vec::new());
    }
    let mut engine = Engine::new(s.clone());
    let full = kvchain::chain::diagnose(&s);
    let fix = |c: &kvchain::chain::Chain| {
        (c.findings()
            .find(|f| f.code == kvchain::chain::Code::KVC105))
        .map(|f| f.fix.to_string())
        .unwrap_or_default()
    };
    let web = full
        .iter()
        .find(|c| c.namespace == "alpha")
        .expect("web's chain");
    assert!(
        fix(web).contains("api://AKSIdentityBinding")
            && fix(web).contains("api://AzureADTokenExchange"),
        "{}",
        fix(web)
    );
    assert_agrees(&engine, "KVC105 over two namespaces");
    // beta's SPC turns to workload identity: alpha's fix no longer names identity binding.
    let mut spc = testkit::spc_mut(&mut s, "api").clone();
    spc.parameters.remove("useAzureTokenProxy");
    testkit::reparse(&mut spc);
    engine.apply([Change::Upsert(Object::Spc(spc.into()))]);
    assert_agrees(&engine, "beta's SPC edited");
    let web = engine
        .chains()
        .find(|c| c.namespace == "alpha")
        .expect("web's chain");
    assert!(
        !fix(web).contains("api://AKSIdentityBinding"),
        "{}",
        fix(web)
    );
}

/// A case the batches property found (the lab's default world: a pod copied, then an SPC's
/// clientID changed): kept as a plain test so it runs every time, not only when the random
/// search meets it again.
#[test]
fn a_copied_pod_then_an_spc_client_id_change_agree() {
    let mut engine = Engine::new(worlds()[0].clone());
    let mut gone = Vec::new();
    let batches = [[Edit::CopyPod(23)], [Edit::SpcClientId(15)]];
    for (n, batch) in batches.iter().enumerate() {
        let s = engine.snapshot();
        let all = changes(&s, &batch[0], &mut gone, n * 8);
        engine.apply(all);
        assert_agrees(&engine, &format!("{:?}", &batches[..=n]));
    }
}
