//! Audit Y1: a SecretProviderClass no pod mounts is checked on its own (README "its findings
//! join `findings` and the summary counts"), and what it finds decides the exit status. So
//! every CI format shows it: one SARIF result per finding pointing at the SPC's line, a
//! failing JUnit case `SecretProviderClass/NAME (mounted by no pod)`, a Mermaid node. A job
//! that fails with an empty SARIF upload or an all-green JUnit report shows nothing to fix.
//!
//! The mistake: `objectType: secrte`, refused by the provider whoever mounts the SPC
//! (FACTS §5: "Invalid vaultObjectTypes. Should be secret, key, or cert").

use std::path::Path;
use std::process::Command;

use serde_json::Value;

pub(crate) const LONE_SPC: &str = "\
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: lone
  namespace: shop
spec:
  provider: azure
  parameters:
    clientID: \"c4a1e7d2-9b3f-4e5a-8c6d-1f2e3a4b5c6d\"
    keyvaultName: kv-shop
    tenantId: \"72f988bf-86f1-41af-91ab-2d7cd011db47\"
    objects: |
      array:
        - |
          objectName: a
          objectType: secrte
";

/// `check -f lone.yaml [more...] -o FORMAT` run in a directory holding `lone.yaml`: (exit
/// status, stdout).
pub(crate) fn check(format: &str, more: &[&Path]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lone.yaml"), LONE_SPC).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "-f", "lone.yaml"])
        .args(more)
        .args(["-o", format])
        .current_dir(dir.path())
        .env("XDG_CONFIG_HOME", dir.path())
        .env("HOME", dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    (out.status.code(), stdout)
}

pub(crate) fn healthy() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/examples/healthy")
}

#[test]
fn sarif_has_a_result_for_the_unmounted_spc_at_its_line() {
    for more in [vec![], vec![healthy()]] {
        let more: Vec<&Path> = more.iter().map(|p| p.as_path()).collect();
        let (code, out) = check("sarif", &more);
        assert_eq!(code, Some(1), "{out}");
        let doc: Value = serde_json::from_str(&out).unwrap();
        let errors = super::check_ci::sarif_schema_errors(&doc);
        assert!(errors.is_empty(), "{errors:#?}");
        let results = doc["runs"][0]["results"].as_array().unwrap();
        let r = results
            .iter()
            .find(|r| r["ruleId"] == "KVC705")
            .unwrap_or_else(|| panic!("no KVC705 result: {out}"));
        assert_eq!(r["level"], "error");
        let phys = &r["locations"][0]["physicalLocation"];
        assert_eq!(phys["artifactLocation"]["uri"], "lone.yaml", "{r}");
        // `metadata.name: lone` is line 4 of the file.
        assert_eq!(phys["region"]["startLine"], 4, "{r}");
        assert_eq!(
            r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
            "shop/SecretProviderClass/lone"
        );
        assert!(r["properties"]["fix"].as_str().unwrap().contains("lone"));
    }
}

#[test]
fn junit_fails_a_case_for_the_unmounted_spc() {
    for more in [vec![], vec![healthy()]] {
        let more: Vec<&Path> = more.iter().map(|p| p.as_path()).collect();
        let (code, xml) = check("junit", &more);
        assert_eq!(code, Some(1), "{xml}");
        let case = xml
            .split("<testcase ")
            .find(|c| c.contains("SecretProviderClass/lone (mounted by no pod)"))
            .unwrap_or_else(|| panic!("no case for the SPC: {xml}"));
        let case = case.split("</testcase>").next().unwrap();
        assert!(
            case.contains("<failure") && case.contains("type=\"KVC705\""),
            "{case}"
        );
        // The failures in the summary count it: a failed job never reads all green.
        let head = xml.lines().nth(1).unwrap();
        assert!(!head.contains("failures=\"0\""), "{head}");
    }
}

#[test]
fn mermaid_draws_the_unmounted_spc_with_its_code() {
    let (code, doc) = check("mermaid", &[]);
    assert_eq!(code, Some(1), "{doc}");
    let node = doc
        .lines()
        .find(|l| l.contains("SecretProviderClass shop/lone"))
        .unwrap_or_else(|| panic!("no node for the SPC: {doc}"));
    assert!(
        node.contains("KVC705") && node.ends_with(":::broken"),
        "{node}"
    );
}

/// README: "a flowchart with no chain says why" — also when nothing failed to be read.
#[test]
fn mermaid_with_nothing_to_draw_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let sa = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app\n  namespace: shop\n";
    std::fs::write(dir.path().join("sa.yaml"), sa).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "-f", "sa.yaml", "-o", "mermaid"])
        .current_dir(dir.path())
        .env("XDG_CONFIG_HOME", dir.path())
        .env("HOME", dir.path())
        .output()
        .unwrap();
    let doc = String::from_utf8(out.stdout).unwrap();
    assert!(
        doc.contains("no pod mounts a Secrets Store CSI volume"),
        "{doc}"
    );
}
