use super::*;

fn sa(ns: &str, name: &str) -> (Key, ServiceAccountObs) {
    (
        (ns.into(), name.into()),
        ServiceAccountObs {
            namespace: ns.into(),
            name: name.into(),
            ..Default::default()
        },
    )
}

#[test]
fn namespace_gap_drops_only_that_namespace_and_relist_clears_it() {
    let mut k = Kind::default();
    k.replace(&Scope::All, [sa("a", "x"), sa("b", "y")].into());
    let payments = Scope::Namespace("b".into());
    k.set_gap(
        &payments,
        "cannot list serviceaccounts in b: forbidden".into(),
    );
    let c = k.coll(false);
    assert_eq!(c.items.len(), 1);
    assert_eq!(
        c.unknown_in("b"),
        Some("cannot list serviceaccounts in b: forbidden")
    );
    assert_eq!(c.unknown_in("a"), None);
    k.replace(&payments, [sa("b", "z")].into());
    assert!(k.gaps.is_empty());
    assert_eq!(k.len(), 2);
}

#[test]
fn the_store_holds_fingerprints_never_secret_bytes() {
    use k8s_openapi::ByteString;
    use k8s_openapi::api::core::v1::Secret;
    let canary = "CANARY-store-41d7";
    let secret = Secret {
        metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            name: Some("foosecret".into()),
            namespace: Some("app".into()),
            ..Default::default()
        },
        data: Some(
            [(
                "password".to_string(),
                ByteString(canary.as_bytes().to_vec()),
            )]
            .into(),
        ),
        string_data: Some([("token".to_string(), canary.to_string())].into()),
        ..Default::default()
    };
    // Exactly what the Secret watcher stores: the converted observation.
    let mut state = LiveState::default();
    state.managed_secrets.apply(
        ("app".into(), "foosecret".into()),
        Some(crate::snapshot::convert::secret(&secret)),
    );
    drop(secret);
    let dump = format!("{state:?}");
    assert!(
        dump.contains("foosecret") && !dump.contains(canary),
        "{dump}"
    );
    let snap = state.assemble("t", Timestamp::UNIX_EPOCH);
    assert!(!serde_json::to_string(&*snap).unwrap().contains(canary));
}

fn names<'a>(it: impl Iterator<Item = &'a ServiceAccountObs>) -> Vec<String> {
    it.map(|s| format!("{}/{}", s.namespace, s.name)).collect()
}

#[test]
fn the_store_shares_with_the_snapshots_and_follows_changes() {
    let mut state = LiveState::default();
    let sas = |s: &LiveState| names(s.service_accounts.values());
    state
        .service_accounts
        .replace(&Scope::All, [sa("a", "x"), sa("b", "y")].into());
    let first = state.assemble("t", Timestamp::UNIX_EPOCH);
    assert_eq!(names(first.service_accounts.items.iter()), ["a/x", "b/y"]);
    assert!(
        state
            .service_accounts
            .items
            .values()
            .zip(first.service_accounts.items.shared())
            .all(|(here, there)| Arc::ptr_eq(here, there)),
        "one copy: the snapshot shares the store's observations"
    );
    assert_eq!(sas(&state), ["a/x", "b/y"]);
    let (key, mut changed) = sa("a", "x");
    changed.annotations.insert("k".into(), "v".into());
    state.service_accounts.apply(key, Some(changed));
    state.service_accounts.delete(&("b".into(), "y".into()));
    let (key, added) = sa("c", "z");
    state.service_accounts.apply(key, Some(added));
    assert_eq!(sas(&state), ["a/x", "c/z"]);
    drop(first);
    let second = state.assemble("t", Timestamp::UNIX_EPOCH);
    assert_eq!(names(second.service_accounts.items.iter()), ["a/x", "c/z"]);
    assert_eq!(second.service_accounts.items[0].annotations["k"], "v");
    // Nothing changed: the same objects again, shared with the snapshot before.
    let third = state.assemble("t", Timestamp::UNIX_EPOCH);
    assert_eq!(names(third.service_accounts.items.iter()), ["a/x", "c/z"]);
    assert_eq!(third.service_accounts.items[0].annotations["k"], "v");
    assert_eq!(third.service_accounts.items, second.service_accounts.items);
    assert!(Arc::ptr_eq(
        &third.service_accounts.items.shared()[1],
        &second.service_accounts.items.shared()[1]
    ));
    // A one-shot check takes them all and keeps nothing.
    let taken = state.take_snapshot("t", Timestamp::UNIX_EPOCH);
    assert_eq!(names(taken.service_accounts.items.iter()), ["a/x", "c/z"]);
    assert!(state.service_accounts.is_empty());
}

#[test]
fn a_merged_duplicate_stays_in_the_store_across_snapshots() {
    let mut s = LiveState::default();
    let secret = |name: &str, t: &str| SecretObs {
        namespace: "app".into(),
        name: name.into(),
        type_: t.into(),
        ..Default::default()
    };
    s.managed_secrets
        .apply(("app".into(), "a".into()), Some(secret("a", "managed")));
    s.named_secrets.set_items(
        [
            (("app".into(), "a".into()), secret("a", "named")),
            (("app".into(), "b".into()), secret("b", "named")),
        ]
        .into(),
    );
    for _ in 0..3 {
        let snap = s.assemble("t", Timestamp::UNIX_EPOCH);
        let got: Vec<(&str, &str)> = snap
            .secrets
            .items
            .iter()
            .map(|x| (x.name.as_str(), x.type_.as_str()))
            .collect();
        assert_eq!(got, [("a", "managed"), ("b", "named")]);
    }
    let named = s.named_secrets.get(&("app".into(), "a".into()));
    assert_eq!(named.map(|x| x.type_.as_str()), Some("named"));
}

#[test]
fn filtered_objects_change_nothing() {
    let mut k: Kind<ServiceAccountObs> = Kind::default();
    assert!(!k.apply(("a".into(), "noise".into()), None));
    let (key, v) = sa("a", "x");
    assert!(k.apply(key.clone(), Some(v)));
    assert!(k.apply(key.clone(), None), "filtered now: the old one goes");
    assert!(!k.delete(&key));
}

#[test]
fn snapshot_waits_for_every_kind_and_merges_secrets() {
    let mut s = LiveState::default();
    assert!(!s.watches_synced());
    s.cluster_synced = true;
    s.pods.synced = true;
    s.service_accounts.synced = true;
    s.spcs.synced = true;
    s.spc_statuses.synced = true;
    s.managed_secrets.synced = true;
    s.events.synced = true;
    s.deployments.synced = true;
    s.replica_sets.synced = true;
    s.stateful_sets.synced = true;
    s.daemon_sets.synced = true;
    s.jobs.synced = true;
    s.cron_jobs.synced = true;
    s.ingresses.synced = true;
    assert!(s.watches_synced());
    assert!(!s.complete());
    let secret = |name: &str| SecretObs {
        namespace: "app".into(),
        name: name.into(),
        ..Default::default()
    };
    s.managed_secrets
        .apply(("app".into(), "a".into()), Some(secret("a")));
    s.named_secrets
        .apply(("app".into(), "a".into()), Some(secret("a")));
    s.named_secrets
        .apply(("app".into(), "b".into()), Some(secret("b")));
    s.named_secrets.synced = true;
    assert!(s.complete());
    let snap = s.assemble("ctx", Timestamp::UNIX_EPOCH);
    assert_eq!(snap.secrets.items.len(), 2);
    assert_eq!(snap.source.kind, SourceKind::Live);
}

/// A snapshot assembled before the Deployments are listed (the TUI shows one while loading)
/// has not seen Reloader: that none runs is not known yet. Once listed (none there), it is.
#[test]
fn reloader_is_not_absent_before_the_deployments_are_listed() {
    let mut state = LiveState::default();
    let snap = state.assemble("t", Timestamp::UNIX_EPOCH);
    let facts = snap.cluster.reloader.as_ref().unwrap();
    assert_eq!(facts.unseen.as_deref(), Some("Deployments not listed yet"));
    state.deployments.replace(&Scope::All, Default::default());
    let snap = state.assemble("t", Timestamp::UNIX_EPOCH);
    assert_eq!(snap.cluster.reloader.as_ref().unwrap().unseen, None);
}
