//! Audit DDD: what a refused read leaves unknown is counted as not verified (README: "a chain
//! with nothing failing whose links are unknown for such a gap … is `<skipped>` with `not
//! verified`"), whatever shape the gap's reason has, and every read that failed is a gap.

use kvchain::chain::testkit as tk;
use kvchain::chain::{LinkKind, Status, diagnose};
use kvchain::snapshot::*;

fn summary(s: &Snapshot) -> serde_json::Value {
    let chains = diagnose(s);
    let json: serde_json::Value = serde_json::from_str(&kvchain::report::json(s, &chains)).unwrap();
    json["summary"].clone()
}

/// The JSON summary counts at least one chain not verified.
fn assert_unverified(s: &Snapshot) {
    let n = summary(s)["unverified"].as_u64();
    assert!(n.is_some_and(|n| n >= 1), "{}", summary(s));
}

fn live(mut s: Snapshot) -> Snapshot {
    s.source.kind = SourceKind::Live;
    s
}

/// DDD4. The live source joins the CSIDriver's and the driver DaemonSet's refusals into one
/// gap (`a; b`); the Mount link records the part its rotation check needed. The chain is
/// still counted not verified.
#[test]
fn a_gap_joining_two_refused_reads_counts_the_links_it_left_unknown() {
    let mut s = live(tk::healthy());
    assert!(summary(&s).get("unverified").is_none());
    s.cluster.csi_driver = Observed::unknown(
        "cannot get csidrivers at the cluster scope: forbidden; cannot list daemonsets in kube-system: forbidden",
    );
    let chains = diagnose(&s);
    assert!(
        chains
            .iter()
            .any(|c| c.link(LinkKind::Mount).status == Status::Unknown),
        "{chains:#?}"
    );
    assert_unverified(&s);
    let junit = kvchain::output::junit::render(
        &s,
        &chains,
        &kvchain::output::Context {
            fail_on: kvchain::output::FailOn::Error,
            ..Default::default()
        },
    );
    assert!(junit.contains("not verified: Mount unknown"), "{junit}");
}

/// DDD5. A role definition that could not be read leaves what its assignment grants unknown:
/// a gap of its own (README's `azure.roleDefinitions`), and the Access links it leaves
/// unknown count as not verified.
#[test]
fn an_unreadable_role_definition_is_a_gap_and_its_access_links_are_not_verified() {
    let mut s = live(tk::healthy());
    // Not mounted: a mount would prove the grant whatever the definition says.
    tk::unmount(&mut s, tk::APP);
    let reason =
        "cannot read role definition c0ffee00-0000-4000-8000-000000000001: 403 AuthorizationFailed";
    for ra in &mut s.azure.role_assignments.items {
        ra.role_definition_id = "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/c0ffee00-0000-4000-8000-000000000001".into();
        ra.role_name = String::new();
        ra.data_actions.clear();
        ra.unresolved = Some(reason.into());
    }
    let gaps = s.gaps();
    let defs: Vec<&Gap> = gaps
        .iter()
        .filter(|g| g.kind == "azure.roleDefinitions")
        .collect();
    assert_eq!(defs.len(), 1, "{gaps:#?}");
    assert_eq!(defs[0].reason, reason);
    let chains = diagnose(&s);
    assert!(
        chains
            .iter()
            .any(|c| c.link(LinkKind::Access).status == Status::Unknown),
        "{chains:#?}"
    );
    assert_unverified(&s);
}

/// DDD1. With the Ingresses unread, whether one serves a synced Secret (and so depends on the
/// mounting pods' owners, KVC803) is not known: the Sync and Consumers links say so, and the
/// chain counts as not verified instead of ✓ everywhere.
#[test]
fn ingresses_unread_leave_the_synced_secrets_users_unknown() {
    let mut s = live(tk::healthy());
    let reason = "cannot list ingresses at the cluster scope: forbidden";
    s.ingresses.items.clear();
    s.ingresses.gaps.all = Some(reason.into());
    let chains = diagnose(&s);
    for c in &chains {
        for kind in [LinkKind::Sync, LinkKind::Consumers] {
            let l = c.link(kind);
            if l.status == Status::Ok {
                assert_ne!(&*l.summary, "none", "{l:#?}");
            }
        }
    }
    let sync = chains[0].link(LinkKind::Sync);
    assert_eq!(sync.status, Status::Unknown, "{sync:#?}");
    assert!(
        sync.facts
            .iter()
            .any(|f| f.label == "not checked" && f.observed.contains("whether an Ingress serves")),
        "{sync:#?}"
    );
    assert_unverified(&s);
}

/// DDD2. With the Secrets unread, an Ingress (read) serving the SPC's synced Secret is a
/// consumer whose certificate is unknown: never "none".
#[test]
fn secrets_unread_do_not_turn_an_ingress_consumer_into_none() {
    let mut s = live(tk::healthy());
    let secret = s.spcs.items[0].secret_objects[0].secret_name.to_string();
    s.ingresses.items.push(IngressObs {
        namespace: tk::NS.into(),
        name: "edge".into(),
        tls_secrets: vec![secret],
    });
    // The Ingress is the Secret's only reader: the pods read the mounted files.
    for p in &mut s.pods.items {
        for c in &mut p.containers {
            c.env.clear();
            c.env_from_secrets.clear();
        }
    }
    s.secrets.items.clear();
    s.secrets.gaps.all = Some("cannot list secrets at the cluster scope: forbidden".into());
    let chains = diagnose(&s);
    for c in &chains {
        let l = c.link(LinkKind::Consumers);
        assert_eq!(&*l.summary, "Secret unknown", "{l:#?}");
        assert!(!(l.status == Status::Ok && &*l.summary == "none"), "{l:#?}");
    }
}

/// DDD10. With the pods of a namespace unread, its SecretProviderClasses are checked on their
/// own: their fields only, while the identity, grant and objects are a mounting pod's chain's.
/// Nothing found there is not "fine": the verdict is unknown, never ✓.
#[test]
fn an_spc_whose_pods_are_unread_is_not_shown_fine() {
    let mut s = live(tk::healthy());
    s.pods.items.clear();
    s.pods
        .gaps
        .namespaces
        .insert(tk::NS.into(), "cannot list pods in shop: forbidden".into());
    let chains = diagnose(&s);
    let spcs = kvchain::chain::unmounted_spcs(&s, &chains);
    assert!(!spcs.is_empty());
    for v in &spcs {
        assert!(v.pods_unread.is_some(), "{v:#?}");
        if v.findings.is_empty() {
            assert_eq!(v.status, Status::Unknown, "{v:#?}");
        }
    }
    let text = kvchain::report::text(&s, &chains, false);
    assert!(
        !text.contains("✓ namespace shop SecretProviderClass/"),
        "{text}"
    );
}

/// DDD3. A link whose only finding is a warning (no Reloader for an env reader) still says
/// which check the failed read kept it from making (whether the env holds the Secret's current
/// value), and the chain counts as not verified: a warning is no "checked, and only this".
#[test]
fn a_warning_beside_a_check_a_failed_read_left_undone_is_not_verified() {
    let mut s = live(tk::healthy());
    // No Reloader: the env reader's restart after a rotation is nobody's (KVC902, a warning).
    tk::workload_mut(&mut s, "Deployment", tk::APP)
        .annotations
        .clear();
    s.secrets.items.clear();
    s.secrets.gaps.all = Some("cannot list secrets at the cluster scope: forbidden".into());
    let chains = diagnose(&s);
    let warned: Vec<&kvchain::chain::Link> = chains
        .iter()
        .map(|c| c.link(LinkKind::Consumers))
        .filter(|l| l.status == Status::Warning)
        .collect();
    assert!(!warned.is_empty(), "{chains:#?}");
    for l in &warned {
        assert!(
            l.facts
                .iter()
                .any(|f| f.label == "not checked" && f.observed.contains("KVC901")),
            "{l:#?}"
        );
    }
    assert_unverified(&s);
    let text = kvchain::report::text(&s, &chains, false);
    assert!(
        text.contains("Consumers: no reloader + a check not made"),
        "{text}"
    );
}

/// FFF1. The driver reports a failing rotation poll only as an event (FACTS §3, §4): with the
/// namespace's events unread, a mounted pod's Mount link cannot say its polls succeed. It is
/// unknown, saying which check was not made, and the chain is not verified; with rotation
/// known off no poll runs and the link stays ok.
#[test]
fn events_unread_leave_a_mounted_pods_rotation_unchecked() {
    let mut s = live(tk::healthy());
    s.events.gaps.all = Some("cannot list events at the cluster scope: forbidden".into());
    let chains = diagnose(&s);
    let mount = chains[0].link(LinkKind::Mount);
    assert_eq!(mount.status, Status::Unknown, "{mount:#?}");
    assert!(
        (mount.facts.iter())
            .any(|f| f.label == "not checked" && f.observed.contains("MountRotationFailed")),
        "{mount:#?}"
    );
    assert_unverified(&s);
    let Observed::Known(csi) = &mut s.cluster.csi_driver else {
        panic!("the testkit reads the driver")
    };
    csi.rotation_enabled = Observed::Known(false);
    let chains = diagnose(&s);
    assert_ne!(
        chains[0].link(LinkKind::Mount).status,
        Status::Unknown,
        "{chains:#?}"
    );
}
