//! A SecretProviderClass no pod mounts is checked on its own and its findings decide the exit
//! status (README: "its findings join `findings` and the summary counts"), so a suppression
//! must reach them as it reaches a chain's (README "Suppressing findings": an annotation on
//! the SecretProviderClass or its Namespace, or a config `ignore:` rule by code, namespace
//! glob and resource glob). Suppressed, the finding is never silently gone: text prints it
//! `suppressed`, JSON gives it `"suppressed": {"by", "reason"}`, SARIF a `suppressions`
//! entry (`external` for a config rule, `inSource` for an annotation), JUnit labels it in
//! `system-out`; only the exit status stops counting it.
//!
//! The finding: KVC705, `objectType: secrte`, refused by the provider whoever mounts the SPC
//! (FACTS §5: "Invalid vaultObjectTypes. Should be secret, key, or cert").

use std::process::Command;

use serde_json::Value;

use super::check_lone_spc_ci::LONE_SPC;

pub(crate) const RULE: &str = "ignore:
  - code: KVC705
    namespace: shop
    reason: objects fixed in TICKET-9
";

/// `check -f lone.yaml --config config.yaml -o FORMAT` over `spc` with `config` as the config
/// file: (exit status, stdout).
pub(crate) fn check(spc: &str, config: &str, format: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lone.yaml"), spc).unwrap();
    std::fs::write(dir.path().join("config.yaml"), config).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args([
            "check",
            "-f",
            "lone.yaml",
            "--config",
            "config.yaml",
            "-o",
            format,
        ])
        .current_dir(dir.path())
        .env("XDG_CONFIG_HOME", dir.path())
        .env("HOME", dir.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (out.status.code(), String::from_utf8(out.stdout).unwrap())
}

/// The lone SPC with `kvchain.dev/ignore` annotations on it.
fn annotated() -> String {
    LONE_SPC.replace(
        "  namespace: shop\n",
        "  namespace: shop\n  annotations:\n    kvchain.dev/ignore: KVC705\n    kvchain.dev/ignore-reason: objects fixed in TICKET-9\n",
    )
}

#[test]
fn a_config_rule_suppresses_the_unmounted_spcs_finding_in_text_and_json() {
    let (code, text) = check(LONE_SPC, RULE, "text");
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("KVC705 error suppressed")
            && text.contains("(by config ignore rule 0 — objects fixed in TICKET-9)"),
        "{text}"
    );
    let (code, out) = check(LONE_SPC, RULE, "json");
    assert_eq!(code, Some(0), "{out}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    let f = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "KVC705")
        .unwrap_or_else(|| panic!("still listed: {out}"));
    assert_eq!(f["suppressed"]["by"], "config ignore rule 0");
    assert_eq!(f["suppressed"]["reason"], "objects fixed in TICKET-9");
    assert_eq!(doc["summary"]["suppressed"], 1, "{out}");
    assert_eq!(doc["summary"]["errors"], 0, "{out}");
}

#[test]
fn a_config_rule_suppresses_it_in_sarif_and_junit() {
    let (code, out) = check(LONE_SPC, RULE, "sarif");
    assert_eq!(code, Some(0), "{out}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    let r = doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "KVC705")
        .unwrap_or_else(|| panic!("still a result: {out}"));
    assert_eq!(r["suppressions"][0]["kind"], "external", "{r}");
    assert!(
        r["suppressions"][0]["justification"]
            .as_str()
            .unwrap()
            .contains("objects fixed in TICKET-9"),
        "{r}"
    );
    let (code, xml) = check(LONE_SPC, RULE, "junit");
    assert_eq!(code, Some(0), "{xml}");
    let case = xml
        .split("<testcase ")
        .find(|c| c.contains("SecretProviderClass/lone (mounted by no pod)"))
        .unwrap_or_else(|| panic!("still a case: {xml}"));
    let case = case.split("</testcase>").next().unwrap();
    assert!(!case.contains("<failure"), "{case}");
    assert!(
        case.contains("KVC705") && case.contains("suppressed: config ignore rule 0"),
        "{case}"
    );
}

/// Every field a rule gives must match (README "all given fields must match"): a rule for
/// another namespace suppresses nothing here.
#[test]
fn a_rule_for_another_namespace_leaves_it_failing() {
    let other = RULE.replace("namespace: shop", "namespace: team-*");
    let (code, text) = check(LONE_SPC, &other, "text");
    assert_eq!(code, Some(1), "{text}");
    assert!(!text.contains("suppressed"), "{text}");
}

/// An annotation on the SecretProviderClass itself suppresses it: SARIF `inSource`.
#[test]
fn an_annotation_on_the_spc_suppresses_it() {
    let spc = annotated();
    let (code, out) = check(&spc, "{}\n", "sarif");
    assert_eq!(code, Some(0), "{out}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    let r = &doc["runs"][0]["results"][0];
    assert_eq!(r["ruleId"], "KVC705", "{out}");
    assert_eq!(r["suppressions"][0]["kind"], "inSource", "{r}");
    let (_, text) = check(&spc, "{}\n", "text");
    assert!(
        text.contains(
            "(by annotation kvchain.dev/ignore on SecretProviderClass/lone — objects fixed in TICKET-9)"
        ),
        "{text}"
    );
}
