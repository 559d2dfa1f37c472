//! Two SecretProviderClasses naming one synced Secret (KVC807). The driver writes a synced
//! Secret only from a pod's mount of the SPC (FACTS §2 "No mount ⇒ no Secret", §11), so a
//! second SPC that no pod mounts writes nothing: the Secret has one writer and the chain that
//! uses it works. That is a latent clash, a warning on the SPC no pod mounts (renaming its
//! secretName breaks no reader), not a "last writer wins" error on the working chain.

use std::sync::Arc;

use kvchain::chain::engine::Feed;
use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{self, Chain, Code, Severity, diagnose};
use kvchain::snapshot::*;

/// The app, plus `api` whose SPC syncs the app's Secret too; `api` runs `pods` pods.
fn second_writer(pods: usize) -> Snapshot {
    let mut s = tk::empty();
    tk::add_app(&mut s, NS, APP, 1);
    tk::add_app(&mut s, NS, "api", 1);
    tk::spc_mut(&mut s, "api").secret_objects[0].secret_name = tk::secret_name(APP).as_str().into();
    if pods == 0 {
        // Nothing mounts api-kv: its pods, their SPC statuses and its own Secret are gone.
        s.pods.items.retain(|p| !p.name.starts_with("api"));
        s.spc_statuses
            .items
            .retain(|st| !st.pod_name.starts_with("api"));
        s.workloads.items.retain(|w| !w.name.starts_with("api"));
        let own = tk::secret_name("api");
        s.secrets.items.retain(|x| x.name != own);
    }
    s
}

#[test]
fn a_second_writer_no_pod_mounts_leaves_the_working_chain_alone() {
    let s = second_writer(0);
    let chains = diagnose(&s);
    assert!(
        chains
            .iter()
            .flat_map(|c| c.findings())
            .all(|f| f.code != Code::KVC807),
        "{chains:#?}"
    );
    assert!(!kvchain::report::has_errors(&chains), "{chains:#?}");
    // The SPC no pod mounts says so, as a warning on itself.
    let alone = chain::unmounted_spcs(&s, &chains);
    let api = alone
        .iter()
        .find(|v| v.name == tk::spc_name("api"))
        .unwrap_or_else(|| panic!("{alone:#?}"));
    let f = api
        .findings
        .iter()
        .find(|f| f.code == Code::KVC807)
        .unwrap_or_else(|| panic!("{api:#?}"));
    assert_eq!(f.severity, Severity::Warning);
    assert!(f.message.contains("writes nothing now"), "{}", f.message);
    assert!(
        f.fix.starts_with(&format!(
            "kubectl edit secretproviderclass {} ",
            tk::spc_name("api")
        )),
        "{}",
        f.fix
    );
}

#[test]
fn once_a_pod_mounts_the_second_writer_the_conflict_is_an_error() {
    let chains = diagnose(&second_writer(1));
    let f = chains
        .iter()
        .flat_map(|c| c.findings())
        .find(|f| f.code == Code::KVC807)
        .unwrap_or_else(|| panic!("{chains:#?}"));
    assert_eq!(f.severity, Severity::Error);
}

/// The incremental engine re-diagnoses the app's chain when a pod starts mounting the other
/// writer, and when it stops: what it publishes is the full diagnosis each time.
#[test]
fn the_engine_follows_the_other_writer_being_mounted() {
    let mut feed = Feed::new(None);
    let quiet = Arc::new(second_writer(0));
    let busy = Arc::new(second_writer(1));
    let published =
        |feed: &Feed| -> Vec<Chain> { feed.chains().iter().map(|c| (**c).clone()).collect() };
    feed.update(quiet.clone());
    assert_eq!(published(&feed), diagnose(&quiet));
    feed.update(busy.clone());
    assert_eq!(published(&feed), diagnose(&busy), "api's pod mounts it");
    feed.update(quiet.clone());
    assert_eq!(published(&feed), diagnose(&quiet), "api's pod gone");
}

/// The app and a second writer no pod mounts, with the pods unread (audit SS1): every SPC is
/// then checked on its own. `statuses` says whether the SecretProviderClassPodStatuses were
/// read. The workloads are dropped so the pods' SPC statuses are the only word on who mounts.
fn pods_unread(statuses: bool) -> Snapshot {
    let mut s = second_writer(0);
    s.pods.items.clear();
    s.pods.gaps.all = Some("cannot list pods at the cluster scope: forbidden".into());
    s.workloads.items.clear();
    if !statuses {
        s.spc_statuses.items.clear();
        s.spc_statuses.gaps.all = Some(
            "cannot list secretproviderclasspodstatuses at the cluster scope: forbidden".into(),
        );
    }
    s
}

fn kvc807s(s: &Snapshot) -> Vec<(String, kvchain::chain::Finding)> {
    let chains = diagnose(s);
    assert!(chains.is_empty(), "pods unread: no chain {chains:#?}");
    chain::unmounted_spcs(s, &chains)
        .into_iter()
        .flat_map(|v| {
            let name = v.name.clone();
            v.findings.into_iter().map(move |f| (name.clone(), f))
        })
        .filter(|(_, f)| f.code == Code::KVC807)
        .collect()
}

/// Unknown is not absent: with the pods unread, the SPC pod statuses that were read still say
/// which SPC is mounted (the driver writes a synced Secret only from a successful mount, which
/// leaves a status, FACTS §1-§2). The clash is the latent one, once, on the SPC none names.
#[test]
fn pods_unread_the_spc_statuses_read_say_which_spc_writes() {
    let s = pods_unread(true);
    let found = kvc807s(&s);
    assert_eq!(found.len(), 1, "one finding, not one per SPC: {found:#?}");
    let (on, f) = &found[0];
    assert_eq!(on, &tk::spc_name("api"), "{f:#?}");
    assert_eq!(f.severity, Severity::Warning, "{f:#?}");
    assert!(f.message.contains("writes nothing now"), "{}", f.message);
    assert!(
        f.fix.starts_with(&format!(
            "kubectl edit secretproviderclass {} ",
            tk::spc_name("api")
        )),
        "the fix edits the SPC not in use: {}",
        f.fix
    );
}

/// With neither the pods nor their SPC statuses read, which SPC writes now is unknown: said
/// once, as a warning (no error made from what was not read, so `check` exits 3, not 1).
#[test]
fn pods_and_statuses_unread_which_spc_writes_is_unknown() {
    let s = pods_unread(false);
    let found = kvc807s(&s);
    assert_eq!(found.len(), 1, "one finding, not one per SPC: {found:#?}");
    let f = &found[0].1;
    assert_eq!(f.severity, Severity::Warning, "{f:#?}");
    assert!(f.message.contains("unknown"), "{}", f.message);
    assert!(!f.message.contains("both sync"), "{}", f.message);
}

/// The Secret two mounted SPCs sync does not exist, and the driver's refused write (naming
/// it) is recorded on one writer's pod only (audit UU4). The refused write is the root cause
/// on every chain that syncs it, citing the event; the clash is latent (no Secret, no values
/// to mix), a warning after it, never "its readers may get any of their values".
#[test]
fn a_missing_secret_of_two_writers_is_its_refused_writes_first() {
    let mut s = second_writer(1);
    let secret = tk::secret_name(APP);
    s.secrets.items.retain(|x| x.name != secret);
    s.events.items.push(EventObs {
        reason: "FailedToCreateSecret".into(),
        source: "csi-secrets-store-controller".into(),
        message: format!("failed to create Kubernetes secret {secret}: secrets is forbidden: User \"system:serviceaccount:kube-system:secrets-store-csi-driver\" cannot create resource \"secrets\" in API group \"\" in the namespace \"{NS}\""),
        last_seen: Some(tk::now()),
        ..tk::failed_mount(NS, &tk::pod_name("api", 0), "secrets-store-inline", "")
    });
    let chains = diagnose(&s);
    assert_eq!(chains.len(), 2, "{chains:#?}");
    for c in &chains {
        let root = c.root_cause().unwrap_or_else(|| panic!("{c:#?}"));
        assert_eq!(root.code, Code::KVC806, "{}: {root:#?}", c.pod);
        assert_eq!(root.severity, Severity::Error);
        assert!(root.message.contains(secret.as_str()), "{root:#?}");
        assert!(
            root.evidence
                .iter()
                .any(|e| e.starts_with("FailedToCreateSecret")),
            "{}: cites the event: {root:#?}",
            c.pod
        );
        let sync = c.link(chain::LinkKind::Sync);
        let first = sync.findings.first().map(|f| f.code);
        assert_eq!(first, Some(Code::KVC806), "{}: {sync:#?}", c.pod);
        for f in sync.findings.iter().filter(|f| f.code == Code::KVC807) {
            assert_eq!(f.severity, Severity::Warning, "{f:#?}");
            assert!(!f.message.contains("readers may get"), "{}", f.message);
        }
    }
}
