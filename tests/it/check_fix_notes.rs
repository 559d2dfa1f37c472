//! A fix is one shell line, `command  # note`: bash reads everything after an unquoted `#`
//! that starts a word as a comment, so a command joined after a note never runs (audit P2).
//! FACTS §4: "`subPath` mounts never see rotated content" — the edit that removes the subPath
//! is the half of KVC901's fix that cures it, and it must be in the part bash runs.

use std::time::Duration;

use kvchain::chain::testkit as tk;
use kvchain::chain::{Chain, Code, diagnose};
use kvchain::source::lab::world::World;
use kvchain::source::lab::{self, export, faults};

const CLUSTER: &str = include_str!("../../assets/scenarios/cluster.yaml");
const SHOP: &str = include_str!("../../assets/scenarios/shop.yaml");
const HEALTHY: &str = include_str!("../../assets/scenarios/healthy.yaml");
const ENV_STALE: &str = include_str!("../../assets/scenarios/env-stale.yaml");

const DEPLOYMENT: &str =
    "kind: Deployment\nmetadata:\n  name: cart\n  namespace: shop\nspec:\n  replicas: 1\n";
const MOUNT: &str = "              mountPath: /mnt/secrets-store\n              readOnly: true\n";

/// env-stale's cart as another workload kind (`head`: its kind, metadata and spec's first
/// lines), with a second mount of the CSI volume's file through subPath.
fn cart_as(head: &str) -> String {
    assert!(ENV_STALE.contains(DEPLOYMENT) && ENV_STALE.contains(MOUNT));
    let stale = ENV_STALE.replacen(DEPLOYMENT, head, 1).replacen(
        MOUNT,
        &format!(
            "{MOUNT}            - name: secrets-store\n              mountPath: /etc/redis-pass\n              subPath: redis-password\n              readOnly: true\n"
        ),
        1,
    );
    [CLUSTER, SHOP, HEALTHY, &stale].join("\n---\n")
}

const DAEMONSET: &str = "kind: DaemonSet\nmetadata:\n  name: cart\n  namespace: shop\nspec:\n";
const ON_DELETE: &str = "kind: StatefulSet\nmetadata:\n  name: cart\n  namespace: shop\nspec:\n  replicas: 1\n  serviceName: cart\n  updateStrategy:\n    type: OnDelete\n";

fn run(text: &str, after: Duration) -> Vec<Chain> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scenario.yaml");
    std::fs::write(&path, text).unwrap();
    let snap = lab::run_check(path.to_str().unwrap(), Some(after)).expect("scenario runs");
    diagnose(&snap)
}

/// The part of `line` bash runs.
fn command(line: &str) -> &str {
    tk::comment_at(line).map_or(line, |at| &line[..at])
}

/// The note of `line` when a command follows inside it (`# … && kubectl …`).
fn swallowed(line: &str) -> Option<&str> {
    let note = &line[tk::comment_at(line)?..];
    let runs = |sep: &str| {
        ["kubectl ", "az ", "helm ", "${EDITOR"]
            .iter()
            .any(|c| note.contains(&format!("{sep}{c}")))
    };
    (runs("&& ") || runs("; ") || runs("|| ")).then_some(note)
}

#[test]
fn a_subpath_copy_of_a_daemonset_or_on_delete_pod_runs_its_edit_after_the_restart() {
    for (kind, head, edit) in [
        (
            "DaemonSet",
            DAEMONSET,
            "kubectl edit daemonset/cart -n shop",
        ),
        (
            "StatefulSet",
            ON_DELETE,
            "kubectl edit statefulset/cart -n shop",
        ),
    ] {
        let chains = run(&cart_as(head), Duration::from_secs(300));
        let f = chains
            .iter()
            .flat_map(|c| c.findings())
            .find(|f| f.code == Code::KVC901 && f.message.contains("/etc/redis-pass"))
            .unwrap_or_else(|| panic!("{kind}: KVC901 for the subPath copy"));
        assert!(
            command(&f.fix).contains(edit),
            "{kind}: the subPath edit is commented out: {}",
            f.fix
        );
        // The notes are kept, after the commands.
        assert!(
            f.fix
                .contains("remove the volumeMount of secrets-store at /etc/redis-pass"),
            "{}",
            f.fix
        );
    }
}

/// Every fix and confirm of the built-in scenarios (settled, and at 4m and 30m), of each
/// trainer fault on the default scenario, and of the subPath variants: no command sits in a
/// note. KVC302's service-principal alternative is a choice offered in words (audit N3), so it
/// is scanned like the rest.
#[test]
fn no_command_is_joined_after_a_note() {
    let mut seen: Vec<(String, Code, String)> = Vec::new();
    let mut take = |what: &str, chains: &[Chain]| {
        for f in chains.iter().flat_map(|c| c.findings()) {
            for line in [&f.fix, &f.confirm] {
                if let Some(note) = swallowed(line) {
                    seen.push((what.to_string(), f.code, note.to_string()));
                }
            }
        }
    };
    let scenarios: Vec<&str> = lab::builtin_scenarios()
        .iter()
        .map(|b| b.0)
        .filter(|n| !n.contains(':'))
        .collect();
    for name in &scenarios {
        for after in [None, Some(240), Some(1800)] {
            let snap = lab::run_check(name, after.map(Duration::from_secs)).expect(name);
            take(&format!("{name} {after:?}"), &diagnose(&snap));
        }
    }
    for fault in faults::CATALOGUE {
        let mut w = World::new(lab::load("default").unwrap());
        w.run_until_stable(Duration::from_secs(3600));
        faults::apply(&mut w, fault.id).expect(fault.id);
        w.advance(Duration::from_secs(600));
        take(fault.id, &diagnose(&export::snapshot(&w)));
    }
    for (kind, head) in [("DaemonSet", DAEMONSET), ("OnDelete", ON_DELETE)] {
        take(kind, &run(&cart_as(head), Duration::from_secs(300)));
    }
    assert!(seen.is_empty(), "{seen:#?}");
}
