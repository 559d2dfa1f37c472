//! The lab's pods before their mount, diagnosed: a pod the scheduler cannot place (its
//! FailedScheduling event, scenarios.md "Trainer faults") or bound to a node that does not
//! exist is the Pod link's cause (KVC107); a Deployment that is only starting has no finding,
//! its synced Secret pending (README "Finding codes"); a FailedToCreateSecret is the one cause
//! of the synced Secret it explains (KVC801, no KVC806 beside it).

use std::time::Duration;

use kvchain::chain::{self, Chain, Code, LinkKind, Severity, Status};
use kvchain::source::lab::world::World;
use kvchain::source::lab::{self, export};

use crate::lab_nodes::{CLUSTER, HEALTHY, SHOP, healthy_with, placed};

/// The healthy chain plus `extra` documents (a bare pod, nodes).
fn world(extra: &str) -> World {
    healthy_with(&[extra])
}

fn chain_of<'c>(chains: &'c [Chain], pod: &str) -> &'c Chain {
    chains
        .iter()
        .find(|c| c.pod == pod)
        .unwrap_or_else(|| panic!("no chain for {pod}: {chains:#?}"))
}

fn codes(c: &Chain) -> Vec<(Code, Severity)> {
    c.findings().map(|f| (f.code, f.severity)).collect()
}

#[test]
fn an_unschedulable_pod_is_a_pod_warning_then_an_error() {
    let mut w = world(&placed("  nodeSelector: {agentpool: gpu}\n"));
    w.advance(Duration::from_secs(60));
    let chains = chain::diagnose(&export::snapshot(&w));
    let c = chain_of(&chains, "placed");
    assert_eq!(
        codes(c),
        [(Code::KVC107, Severity::Warning)],
        "{:#?}",
        c.links
    );
    let f = c.findings().next().unwrap();
    assert!(
        f.evidence.iter().any(|e| e.starts_with("FailedScheduling")
            && e.contains("didn't match Pod's node affinity/selector")),
        "{f:#?}"
    );
    assert_eq!(c.link(LinkKind::Mount).summary, "blocked: Pod");
    // The checkout pods are fine: nothing of theirs is flagged.
    assert!(
        chains
            .iter()
            .filter(|c| c.pod != "placed")
            .all(|c| c.findings().next().is_none())
    );
    // Still unschedulable after minutes: an error.
    w.advance(Duration::from_secs(300));
    let chains = chain::diagnose(&export::snapshot(&w));
    let c = chain_of(&chains, "placed");
    assert_eq!(
        codes(c),
        [(Code::KVC107, Severity::Error)],
        "{:#?}",
        c.links
    );
    assert_eq!(c.link(LinkKind::Pod).status, Status::Broken);
}

#[test]
fn a_pod_bound_to_a_node_that_does_not_exist_is_not_mounting() {
    let mut w = world(&placed("  nodeName: aks-nodepool9-00000000-vmss000009\n"));
    w.advance(Duration::from_secs(20));
    let chains = chain::diagnose(&export::snapshot(&w));
    let c = chain_of(&chains, "placed");
    assert_eq!(
        codes(c),
        [(Code::KVC107, Severity::Error)],
        "{:#?}",
        c.links
    );
    assert_eq!(c.link(LinkKind::Mount).summary, "blocked: Pod");
}

/// P3: `check --lab healthy --for 0s`: pods starting, nothing mounted, no Secret yet.
#[test]
fn a_deployment_only_starting_has_no_finding() {
    let snap = lab::run_check("healthy", Some(Duration::ZERO)).unwrap();
    let chains = chain::diagnose(&snap);
    assert_eq!(chains.len(), 2);
    for c in &chains {
        assert!(c.findings().next().is_none(), "{:#?}", c.links);
        assert_eq!(c.link(LinkKind::Mount).status, Status::Pending);
        assert_eq!(c.link(LinkKind::Sync).status, Status::Pending);
        assert_eq!(c.link(LinkKind::Sync).summary, "waiting for mount");
    }
}

/// P7: secretObjects maps history index 2 of an object with two versions: the driver reports
/// FailedToCreateSecret; that is the one finding for the missing Secret.
#[test]
fn a_failed_to_create_secret_is_the_one_cause_of_the_missing_secret() {
    let app = HEALTHY
        .replace(
            "          objectAlias: db-password\n",
            "          objectAlias: db-password\n          objectVersionHistory: 3\n",
        )
        .replace(
            "        - objectName: db-password\n          key: password\n",
            "        - objectName: db-password/0\n          key: password\n        - objectName: db-password/2\n          key: previous\n",
        );
    assert_ne!(app, HEALTHY, "the fixture edits the SPC");
    let sc = lab::scenario::parse(
        "hist",
        std::path::Path::new("hist.yaml"),
        &[CLUSTER, SHOP, &app].join("\n---\n"),
    )
    .expect("scenario loads");
    let mut w = World::new(sc);
    w.run_until_stable(lab::MAX_SETTLE);
    let chains = chain::diagnose(&export::snapshot(&w));
    for c in &chains {
        assert_eq!(
            codes(c),
            [(Code::KVC801, Severity::Error)],
            "{:#?}",
            c.links
        );
        let f = c.findings().next().unwrap();
        assert!(
            f.evidence
                .iter()
                .any(|e| e.starts_with("FailedToCreateSecret")
                    && e.contains("db-password/2 not found in the pod")),
            "{f:#?}"
        );
    }
}
