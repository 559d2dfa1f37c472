//! One missing synced Secret, one cause (audit RR3). The driver records its FailedToCreateSecret
//! on the pod it reconciled (FACTS §3), but the Secret is the SecretProviderClass's, one for
//! every pod that mounts it (FACTS §2): each chain that syncs it reads the event, so the
//! replica the event was not recorded on does not say "no FailedToCreateSecret event says the
//! driver failed" beside its sibling's "the driver failed to create it". And a
//! MountRotationComplete (the mount's rotation) says nothing of the Secret: while it is still
//! missing, the failure is not history, and never both history and the finding's evidence.

use jiff::SignedDuration;
use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Chain, Code, LinkKind, Severity, diagnose};
use kvchain::snapshot::*;

use super::rules_runtime::csi;

const FORBIDDEN: &str = "failed to create Kubernetes secret: secrets is forbidden: User \"system:serviceaccount:kube-system:secrets-store-csi-driver\" cannot create resource \"secrets\" in API group \"\" in the namespace \"shop\". The secret operation failed with forbidden error. If you installed the CSI driver using helm, ensure syncSecret.enabled=true is set.";

/// Two replicas mounted, the synced Secret gone, whether the driver may write Secrets not
/// read, and the driver's refusal recorded on the first replica only.
fn refused_on_one_pod() -> Snapshot {
    let mut s = tk::empty();
    tk::add_app(&mut s, NS, APP, 2);
    s.secrets.items.retain(|x| x.name != tk::secret_name(APP));
    csi(&mut s).sync_secret_enabled = Observed::unknown("not read");
    s.events.items.push(EventObs {
        reason: "FailedToCreateSecret".into(),
        source: "csi-secrets-store-controller".into(),
        message: FORBIDDEN.into(),
        last_seen: Some(tk::ago(SignedDuration::from_mins(1))),
        ..tk::failed_mount(NS, &tk::pod_name(APP, 0), "secrets-store-inline", "")
    });
    s
}

/// Every chain's KVC806: one cause, the same on each, an error citing the driver's event.
fn assert_one_cause(chains: &[Chain]) {
    let found: Vec<_> = chains
        .iter()
        .flat_map(|c| c.findings())
        .filter(|f| f.code == Code::KVC806)
        .collect();
    assert_eq!(found.len(), 2, "one per replica's chain: {found:#?}");
    for f in &found {
        assert_eq!(f.severity, Severity::Error, "{f:#?}");
        assert_eq!(f.message, found[0].message, "{found:#?}");
        assert!(
            !f.message.contains("no FailedToCreateSecret event"),
            "{}",
            f.message
        );
        assert!(
            f.evidence
                .iter()
                .any(|e| e.starts_with("FailedToCreateSecret")),
            "{f:#?}"
        );
    }
}

#[test]
fn a_driver_failure_on_one_replica_is_every_replicas_cause() {
    assert_one_cause(&diagnose(&refused_on_one_pod()));
}

#[test]
fn a_mount_rotation_does_not_make_a_missing_secrets_failure_history() {
    let mut s = refused_on_one_pod();
    s.events.items.push(EventObs {
        reason: "MountRotationComplete".into(),
        type_: "Normal".into(),
        source: "csi-secrets-store-rotation".into(),
        message: format!(
            "successfully rotated mounted contents for spc {NS}/{}",
            tk::spc_name(APP)
        ),
        last_seen: Some(tk::now()),
        ..tk::failed_mount(NS, &tk::pod_name(APP, 0), "secrets-store-inline", "")
    });
    let chains = diagnose(&s);
    assert_one_cause(&chains);
    for c in &chains {
        let sync = c.link(LinkKind::Sync);
        assert!(
            !sync.facts.iter().any(|f| f.label.starts_with("history")),
            "the event is the finding's evidence, not history: {sync:#?}"
        );
    }
}

/// Any shape of the driver's failure that names the Secret is every replica's (audit UU3): a
/// data error (`failed to get data in spc …`, FACTS §3) recorded on one replica, whose cause
/// the SPC has since lost, gives each chain the same "failed, now looks right" KVC801 citing
/// it, never a KVC806 on the other replica that says no such event exists.
#[test]
fn a_data_error_on_one_replica_is_every_replicas_finding() {
    let mut s = refused_on_one_pod();
    let (spc, secret) = (tk::spc_name(APP), tk::secret_name(APP));
    for e in &mut s.events.items {
        e.message = format!(
            "failed to get data in spc {NS}/{spc} for secret {secret}, err: file matching objectName password not found in the pod"
        );
    }
    let chains = diagnose(&s);
    assert_eq!(chains.len(), 2);
    let found: Vec<_> = (chains.iter())
        .map(|c| {
            let sync: Vec<_> = c.link(LinkKind::Sync).findings.iter().collect();
            assert!(
                !sync.iter().any(|f| f.code == Code::KVC806),
                "{}: {sync:#?}",
                c.pod
            );
            let f = (sync.iter())
                .find(|f| f.code == Code::KVC801)
                .unwrap_or_else(|| panic!("{}: the event's KVC801: {sync:#?}", c.pod));
            assert!(
                f.evidence
                    .iter()
                    .any(|e| e.contains("failed to get data in spc")),
                "{f:#?}"
            );
            f.message.clone()
        })
        .collect();
    assert_eq!(found[0], found[1], "one finding, alike on each chain");
}

/// A refused write that names its Secret (`failed to create Kubernetes secret <name>: …`) is
/// that Secret's only (audit UU4, 3/b2): another Secret of the SPC missing does not cite it
/// as "the driver failed to create it".
#[test]
fn a_refused_write_naming_one_secret_is_not_anothers_evidence() {
    let mut s = refused_on_one_pod();
    let (secret, other) = (
        tk::secret_name(APP),
        format!("{}-api", tk::secret_name(APP)),
    );
    let mut second = tk::spc_mut(&mut s, APP).secret_objects[0].clone();
    second.secret_name = other.as_str().into();
    tk::spc_mut(&mut s, APP).secret_objects.push(second);
    for e in &mut s.events.items {
        e.message = FORBIDDEN.replace("secret:", &format!("secret {secret}:"));
    }
    let chains = diagnose(&s);
    for c in &chains {
        for f in c
            .findings()
            .filter(|f| f.resource == format!("Secret/{other}"))
        {
            assert!(
                !f.evidence
                    .iter()
                    .any(|e| e.contains(secret.as_str()) && e.starts_with("FailedToCreateSecret")),
                "{f:#?}"
            );
            assert!(
                !f.message.contains("the driver failed to create it"),
                "{}",
                f.message
            );
        }
        let named: Vec<_> = (c.findings())
            .filter(|f| f.code == Code::KVC806 && f.resource == format!("Secret/{secret}"))
            .collect();
        assert_eq!(named.len(), 1, "{}: {named:#?}", c.pod);
        assert_eq!(named[0].severity, Severity::Error);
    }
}
