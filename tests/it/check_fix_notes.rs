//! A fix is one shell line, `command  # note`: bash reads everything after an unquoted `#`
//! that starts a word as a comment, so a command joined after a note never runs (audit P2).
//! FACTS §4: "`subPath` mounts never see rotated content" — the edit that removes the subPath
//! is the half of KVC901's fix that cures it, and it must be in the part bash runs.

use std::time::Duration;

use kvchain::chain::testkit as tk;
use kvchain::chain::{Chain, Code, diagnose, unmounted_spcs};
use kvchain::source::lab::world::World;
use kvchain::source::lab::{self, export, faults};
use kvchain::source::manifests;

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
    diagnose(&run_snapshot(text, after))
}

fn run_snapshot(text: &str, after: Duration) -> kvchain::snapshot::Snapshot {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scenario.yaml");
    std::fs::write(&path, text).unwrap();
    lab::run_check(path.to_str().unwrap(), Some(after)).expect("scenario runs")
}

/// The part of `line` bash runs.
fn command(line: &str) -> &str {
    tk::comment_at(line).map_or(line, |at| &line[..at])
}

/// The note of `line` when a command follows inside it (`kubectl … # … && kubectl …`): the
/// first runs, the second does not. A line that is all note runs nothing, as it says.
fn swallowed(line: &str) -> Option<&str> {
    let at = tk::comment_at(line)?;
    if line[..at].trim().is_empty() {
        return None;
    }
    let note = &line[at..];
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

/// Every fix and confirm kvchain writes for what it ships and tests with, as
/// `(where, code, line)`: the built-in scenarios (every `assets/scenarios/*.yaml` is a part
/// of one; settled, and at 4m, 10m and 30m), each trainer fault on the default scenario, the
/// subPath variants, and `check -f` on `assets/examples` (each directory) and on each
/// manifest fixture under `tests/fixtures/manifests` (chains and the SecretProviderClasses no
/// pod mounts). KVC302's service-principal alternative is a choice offered in words (audit
/// N3), so it is scanned like the rest.
fn every_fix_and_confirm() -> Vec<(String, Code, String)> {
    let mut seen: Vec<(String, Code, String)> = Vec::new();
    let mut take = |what: &str, snap: &kvchain::snapshot::Snapshot, chains: &[Chain]| {
        let spcs = unmounted_spcs(snap, chains);
        let findings =
            (chains.iter().flat_map(|c| c.findings())).chain(spcs.iter().flat_map(|s| &s.findings));
        for f in findings {
            for line in [&f.fix, &f.confirm] {
                seen.push((what.to_string(), f.code, line.to_string()));
            }
        }
    };
    let scenarios: Vec<&str> = lab::builtin_scenarios()
        .iter()
        .map(|b| b.0)
        .filter(|n| !n.contains(':'))
        .collect();
    for name in &scenarios {
        for after in [None, Some(240), Some(600), Some(1800)] {
            let snap = lab::run_check(name, after.map(Duration::from_secs)).expect(name);
            take(&format!("{name} {after:?}"), &snap, &diagnose(&snap));
        }
    }
    for fault in faults::CATALOGUE {
        let mut w = World::new(lab::load("default").unwrap());
        w.run_until_stable(Duration::from_secs(3600));
        faults::apply(&mut w, fault.id).expect(fault.id);
        w.advance(Duration::from_secs(600));
        let snap = export::snapshot(&w);
        take(fault.id, &snap, &diagnose(&snap));
    }
    for (kind, head) in [("DaemonSet", DAEMONSET), ("OnDelete", ON_DELETE)] {
        let snap = run_snapshot(&cart_as(head), Duration::from_secs(300));
        take(kind, &snap, &diagnose(&snap));
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut inputs = vec![
        root.join("assets/examples/healthy"),
        root.join("assets/examples/broken"),
    ];
    for entry in std::fs::read_dir(root.join("tests/fixtures/manifests")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            inputs.push(path);
        }
    }
    for path in inputs {
        let snap = manifests::load(std::slice::from_ref(&path)).expect("manifests load");
        take(&path.display().to_string(), &snap, &diagnose(&snap));
    }
    assert!(seen.len() > 500, "the gatherer found {} lines", seen.len());
    seen
}

/// A fix cites upstream projects by name, never the fact sheet kvchain was written from,
/// which users do not have (audit OO1).
#[test]
fn no_fix_or_confirm_cites_the_unshipped_fact_sheet() {
    let seen: Vec<_> = every_fix_and_confirm()
        .into_iter()
        .filter(|(.., line)| line.contains("FACTS"))
        .collect();
    assert!(seen.is_empty(), "{seen:#?}");
}

/// No command sits in a note.
#[test]
fn no_command_is_joined_after_a_note() {
    let seen: Vec<_> = every_fix_and_confirm()
        .into_iter()
        .filter(|(.., line)| swallowed(line).is_some())
        .collect();
    assert!(seen.is_empty(), "{seen:#?}");
}

/// The words a pasted line may start with: the tools it runs, a `read` or an assignment that
/// captures a lookup, the `${EDITOR:-vi}` of an edit, and `#` for a note.
const STARTS: &[&str] = &[
    "kubectl",
    "az",
    "helm",
    "read",
    "grep",
    "${EDITOR:-vi}",
    "#",
    // A group: `{ check || { echo why >&2; false; }; } && …`.
    "{",
    // The guard that stops a paste on a variable nothing sets, naming it (audit XD-paste).
    ":",
];

/// Every fix and confirm parses as bash (`bash -n`) and starts with a command or with `#`: a
/// note without `#` runs its first word (`add`, `keep`, `correct`) when pasted (audit Z6).
#[test]
fn every_fix_and_confirm_parses_and_a_note_starts_with_a_hash() {
    let mut lines: std::collections::BTreeMap<String, (String, Code)> = Default::default();
    for (what, code, line) in every_fix_and_confirm() {
        lines.entry(line).or_insert((what, code));
    }
    let mut bad = Vec::new();
    for (line, (what, code)) in &lines {
        if line.is_empty() {
            continue;
        }
        let first = line.split_whitespace().next().unwrap_or_default();
        let assignment = first.split_once('=').is_some_and(|(v, _)| {
            !v.is_empty() && v.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
        });
        if !(STARTS.contains(&first) || assignment) {
            bad.push(format!("{what} {code:?}: starts with {first:?}: {line}"));
            continue;
        }
        // What the TUI copies with `y`: the command itself, never nothing.
        if !line.starts_with('#') && kvchain::ui::fix_text::command(line).is_none() {
            bad.push(format!(
                "{what} {code:?}: the TUI takes it for prose: {line}"
            ));
        }
        let parsed = std::process::Command::new("bash")
            .args(["-n", "-c", line])
            .output()
            .unwrap();
        if !parsed.status.success() {
            bad.push(format!(
                "{what} {code:?}: bash -n: {}: {line}",
                String::from_utf8_lossy(&parsed.stderr).trim()
            ));
        }
    }
    assert!(
        bad.is_empty(),
        "{} of {} lines:\n{}",
        bad.len(),
        lines.len(),
        bad.join("\n")
    );
}

/// Fixture `name` under tests/fixtures/manifests, as its findings name it.
fn fixture_path(name: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/manifests")
        .join(name)
        .display()
        .to_string()
}

/// The findings of `check -f` on fixture `name` under tests/fixtures/manifests.
fn fixture_findings(name: &str) -> Vec<kvchain::chain::Finding> {
    let snap = manifests::load(&[fixture_path(name).into()]).expect("loads");
    let chains = diagnose(&snap);
    let spcs = unmounted_spcs(&snap, &chains);
    (chains.iter().flat_map(|c| c.findings()).cloned())
        .chain(spcs.into_iter().flat_map(|s| s.findings))
        .collect()
}

/// FACTS §6: the webhook selects pods by the label and mutates on CREATE only, so a bare pod
/// (nothing owns it to make another) is recreated carrying the label: the recreate KVC707
/// uses, whose edit the note names (audit Z6: "add label … and recreate it" ran `add`).
#[test]
fn a_bare_pod_without_the_label_is_recreated_with_it() {
    let found = fixture_findings("bare-pod-unlabelled.yaml");
    let f = (found.iter().find(|f| f.code == Code::KVC201)).expect("KVC201");
    // The fixture's file holds the SA and SPC too: re-applying it would re-apply them as
    // written (audit TT2), so the live pod is edited and replaced, never the file applied.
    let file = fixture_path("bare-pod-unlabelled.yaml");
    assert!(
        f.fix.starts_with(
            "POD_YAML=$(mktemp -d)/audit-once.yaml && kubectl get pod audit-once -n audit -o yaml > \"$POD_YAML\" && ${EDITOR:-vi} \"$POD_YAML\" && kubectl replace --force -f \"$POD_YAML\"  # "
        ),
        "{}",
        f.fix
    );
    assert!(!f.fix.contains(&file), "{}", f.fix);
    assert!(
        f.fix[tk::comment_at(&f.fix).unwrap()..]
            .contains("add label azure.workload.identity/use: \"true\" to metadata.labels"),
        "{}",
        f.fix
    );
}

/// A document kvchain could not read is the user's to correct: KVC101 says which, as a note.
#[test]
fn an_unread_document_is_named_in_a_note() {
    let found = fixture_findings("unread-spc.yaml");
    let f = (found.iter().find(|f| f.code == Code::KVC101)).expect("KVC101");
    assert!(f.fix.starts_with("# correct "), "{}", f.fix);
    assert!(f.fix.contains("unread-spc.yaml, document 1"), "{}", f.fix);
}
