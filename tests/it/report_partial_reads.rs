//! Audit DDD: what a refused read leaves unknown is counted as not verified (README: "a chain
//! with nothing failing whose links are unknown for such a gap … is `<skipped>` with `not
//! verified`"), whatever shape the gap's reason has, and every read that failed is a gap.

use kvchain::chain::diagnose;
use kvchain::chain::testkit as tk;
use kvchain::snapshot::*;

fn summary(s: &Snapshot) -> serde_json::Value {
    let chains = diagnose(s);
    let json: serde_json::Value = serde_json::from_str(&kvchain::report::json(s, &chains)).unwrap();
    json["summary"].clone()
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
            .any(|c| c.link(kvchain::chain::LinkKind::Mount).status
                == kvchain::chain::Status::Unknown),
        "{chains:#?}"
    );
    let n = summary(&s)["unverified"].as_u64();
    assert!(n.is_some_and(|n| n >= 1), "{}", summary(&s));
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
            .any(|c| c.link(kvchain::chain::LinkKind::Access).status
                == kvchain::chain::Status::Unknown),
        "{chains:#?}"
    );
    let n = summary(&s)["unverified"].as_u64();
    assert!(n.is_some_and(|n| n >= 1), "{}", summary(&s));
}
