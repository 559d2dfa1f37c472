//! Audit MMM-out: README "Suppressing findings": "A suppressed finding is never silently gone"
//! and every format says it is suppressed (text dimmed with `suppressed`, JSON `"suppressed"`,
//! SARIF a `suppressions` entry, JUnit labelled). The pictures drew an accepted finding's code
//! exactly as an open one's: a slide of the chain said the opposite of the report. They mark
//! it `suppressed` beside the code.

use std::process::Command;

/// `check --lab default -o FORMAT --chain orders`, KVC401 (the orders chain's cause)
/// suppressed by a config rule when `suppress`.
fn picture(format: &str, suppress: bool) -> String {
    lab_default(&["--chain", "orders", "-o", format], suppress).1
}

/// `check --lab default ARGS`, KVC401 suppressed by a config rule when `suppress`: (exit
/// status, stdout).
pub(crate) fn lab_default(args: &[&str], suppress: bool) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.yaml");
    let rules = if suppress {
        "ignore:\n  - code: KVC401\n    reason: fixed in the next release\n"
    } else {
        "ignore: []\n"
    };
    std::fs::write(&config, rules).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "--lab", "default"])
        .args(args)
        .arg("--config")
        .arg(&config)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (out.status.code(), String::from_utf8(out.stdout).unwrap())
}

#[test]
fn mermaid_marks_a_suppressed_code_suppressed() {
    let open = picture("mermaid", false);
    let line = |doc: &str| {
        (doc.lines().find(|l| l.contains("KVC401")))
            .unwrap_or_else(|| panic!("{doc}"))
            .to_string()
    };
    assert!(!line(&open).contains("suppressed"), "{open}");
    let accepted = picture("mermaid", true);
    assert!(
        line(&accepted).contains("KVC401</b> suppressed"),
        "{accepted}"
    );
}

#[test]
fn svg_marks_a_suppressed_code_suppressed() {
    let open = picture("svg", false);
    assert!(
        open.contains(">KVC401<") && !open.contains("KVC401 suppressed"),
        "{open}"
    );
    let accepted = picture("svg", true);
    assert!(accepted.contains(">KVC401 suppressed<"), "{accepted}");
}

/// A SecretProviderClass no pod mounts is a node of its own with its codes: an accepted one
/// is marked there too.
#[test]
fn mermaid_marks_a_suppressed_code_of_an_spc_no_pod_mounts() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("lone.yaml"),
        "apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: lone
  namespace: shop
  annotations:
    kvchain.dev/ignore: KVC705
spec:
  provider: azure
  parameters:
    keyvaultName: kv-shop
    tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47
    clientID: 11111111-2222-3333-4444-555555555555
    objects: |
      array:
        - |
          objectName: foo
          objectType: secrets
",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "-o", "mermaid", "-f"])
        .arg(dir.path())
        .output()
        .unwrap();
    let doc = String::from_utf8(out.stdout).unwrap();
    let node = (doc
        .lines()
        .find(|l| l.contains("SecretProviderClass shop/lone")))
    .unwrap_or_else(|| panic!("{doc}"));
    assert!(node.contains("KVC705 suppressed"), "{node}");
}
