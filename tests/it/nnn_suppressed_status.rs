//! Audit NNN-out 2: README "Suppressing findings": a suppressed finding is never silently
//! gone, and the exit status stops counting it (JUnit passes such a chain, SARIF marks the
//! result suppressed, `serve`'s alerts read its link ok). JSON `status` and the pictures'
//! colours still read `broken`: a chain the run no longer fails on was drawn red and reported
//! broken, against the exit status. A link (and a chain, and a SecretProviderClass no pod
//! mounts) that only suppressed findings break or warn now reads `suppressed` (`⊘`, blue) in
//! every output: not broken, and not ok either (the finding is accepted, not fixed). One open
//! finding beside it keeps it broken.

use serde_json::Value;

use super::check_lone_spc_ci::LONE_SPC;
use super::check_lone_spc_suppressed::{RULE, check};
use super::check_pictures_suppressed::lab_default;

/// The default lab's orders chain (its one finding KVC401, on Federation) in the JSON report.
fn orders(suppress: bool) -> Value {
    let (_, out) = lab_default(&["-o", "json"], suppress);
    let doc: Value = serde_json::from_str(&out).unwrap();
    let chain = (doc["chains"].as_array().unwrap().iter())
        .find(|c| c["id"].as_str().unwrap().contains("/orders-"))
        .unwrap_or_else(|| panic!("no orders chain: {out}"))
        .clone();
    assert_eq!(chain["codes"], serde_json::json!(["KVC401"]), "{chain}");
    chain
}

fn link<'a>(chain: &'a Value, name: &str) -> &'a Value {
    &(chain["links"].as_array().unwrap().iter())
        .find(|l| l["link"] == name)
        .unwrap()["status"]
}

#[test]
fn json_reads_a_chain_broken_only_by_a_suppressed_finding_suppressed() {
    let open = orders(false);
    assert_eq!(open["status"], "broken", "{open}");
    assert_eq!(link(&open, "federation"), "broken", "{open}");
    let accepted = orders(true);
    assert_eq!(accepted["status"], "suppressed", "{accepted}");
    assert_eq!(link(&accepted, "federation"), "suppressed", "{accepted}");
    // What the break kept from being tried is still not reached.
    assert_eq!(link(&accepted, "mount"), "pending", "{accepted}");
}

#[test]
fn the_pictures_colour_it_suppressed_not_broken() {
    let (_, svg) = lab_default(&["--chain", "orders", "-o", "svg"], true);
    assert!(
        svg.contains(r#"data-link="federation" data-status="suppressed""#),
        "{svg}"
    );
    assert!(!svg.contains(r#"data-status="broken""#), "{svg}");
    assert!(svg.contains("fill=\"#0969da\""), "{svg}");
    let (_, mermaid) = lab_default(&["--chain", "orders", "-o", "mermaid"], true);
    let line =
        (mermaid.lines().find(|l| l.contains("KVC401"))).unwrap_or_else(|| panic!("{mermaid}"));
    assert!(line.ends_with(":::suppressed"), "{line}");
    assert!(!mermaid.contains(":::broken"), "{mermaid}");
    // Open, the same link is drawn broken.
    let (_, svg) = lab_default(&["--chain", "orders", "-o", "svg"], false);
    assert!(
        svg.contains(r#"data-link="federation" data-status="broken""#),
        "{svg}"
    );
}

/// The text strip and JUnit's (drawn as the text report draws it) say it too.
#[test]
fn the_strips_mark_it_suppressed() {
    let (_, text) = lab_default(&[], true);
    assert!(text.contains("⊘ Federation"), "{text}");
    let (_, xml) = lab_default(&["-o", "junit"], true);
    let case =
        (xml.split("<testcase ").find(|c| c.contains("orders"))).unwrap_or_else(|| panic!("{xml}"));
    let case = case.split("</testcase>").next().unwrap();
    assert!(!case.contains("<failure"), "{case}");
    assert!(case.contains("⊘ Federation"), "{case}");
}

/// A SecretProviderClass no pod mounts whose one finding is suppressed: exit 0, JSON
/// `suppressed`, the Mermaid node coloured so, JUnit passing: every output agrees.
#[test]
fn an_spc_no_pod_mounts_failing_only_on_a_suppressed_finding_reads_suppressed() {
    let (code, out) = check(LONE_SPC, RULE, "json");
    assert_eq!(code, Some(0), "{out}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["spcs"][0]["status"], "suppressed", "{out}");
    let (code, doc) = check(LONE_SPC, RULE, "mermaid");
    assert_eq!(code, Some(0), "{doc}");
    let node = (doc
        .lines()
        .find(|l| l.contains("SecretProviderClass shop/lone")))
    .unwrap_or_else(|| panic!("{doc}"));
    assert!(node.ends_with(":::suppressed"), "{node}");
    // Without the rule it fails the run and reads broken.
    let (code, out) = check(LONE_SPC, "ignore: []\n", "json");
    assert_eq!(code, Some(1), "{out}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["spcs"][0]["status"], "broken", "{out}");
}
