//! `kvchain check` in CI when a read failed: what SARIF and JUnit say of a view with gaps (a
//! notification per gap at the level of what it hides, no successful run, the chains behind an
//! unread kind skipped), on the `healthy` lab replayed with some reads forbidden.

use serde_json::Value;

use super::check_ci::{kvchain, sarif_schema_errors, stdout_json};

/// The `healthy` lab saved as a snapshot file after `edit`: a cluster that forbade some reads,
/// replayed offline with `check --snapshot`. Returns the directory (keep it) and the path.
pub(crate) fn gapped_snapshot(
    edit: impl FnOnce(&mut kvchain::snapshot::Snapshot),
) -> (tempfile::TempDir, String) {
    let mut snap = kvchain::source::lab::run_check("healthy", None).expect("lab healthy");
    edit(&mut snap);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snap.json");
    std::fs::write(
        &path,
        kvchain::snapshot::file::to_string(&snap, false).unwrap(),
    )
    .unwrap();
    let path = path.to_str().unwrap().to_string();
    (dir, path)
}

pub(crate) const PODS_FORBIDDEN: &str = "cannot list pods at the cluster scope: forbidden";
const SPCS_FORBIDDEN: &str = "cannot list secretproviderclasses at the cluster scope: forbidden";
const SECRETS_FORBIDDEN: &str = "cannot list secrets in shop: forbidden";

pub(crate) fn pods_forbidden(s: &mut kvchain::snapshot::Snapshot) {
    s.pods = kvchain::snapshot::Coll::unknown(PODS_FORBIDDEN);
}

fn spcs_forbidden(s: &mut kvchain::snapshot::Snapshot) {
    s.spcs = kvchain::snapshot::Coll::unknown(SPCS_FORBIDDEN);
}

fn secrets_forbidden_in_shop(s: &mut kvchain::snapshot::Snapshot) {
    s.secrets
        .gaps
        .namespaces
        .insert("shop".into(), SECRETS_FORBIDDEN.into());
}

fn notifications(doc: &Value) -> &Vec<Value> {
    doc["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap_or_else(|| panic!("no toolExecutionNotifications: {doc:#}"))
}

/// Audit: with pods forbidden the SARIF had `"results": []` and nothing else, which code
/// scanning reads as healthy. The gap is a notification (what, where, why) at level error, and
/// the execution is not successful.
#[test]
fn sarif_of_a_view_with_unread_pods_names_the_gap_and_is_no_successful_run() {
    let (_dir, path) = gapped_snapshot(pods_forbidden);
    let out = kvchain(&["check", "--snapshot", &path, "-o", "sarif"]);
    assert_eq!(out.status.code(), Some(3), "incomplete, as before");
    let doc = stdout_json(&out);
    let errors = sarif_schema_errors(&doc);
    assert!(errors.is_empty(), "{errors:#?}");
    let run = &doc["runs"][0];
    assert_eq!(run["results"], Value::Array(vec![]));
    assert_eq!(run["invocations"][0]["executionSuccessful"], false);
    assert_eq!(run["properties"]["incomplete"], true);
    let notes = notifications(&doc);
    assert_eq!(notes.len(), 1, "{notes:#?}");
    let n = &notes[0];
    assert_eq!(n["level"], "error");
    let text = n["message"]["text"].as_str().unwrap();
    assert!(
        text.contains("pods (all namespaces)") && text.contains(PODS_FORBIDDEN),
        "{text}"
    );
    assert_eq!(n["properties"]["kind"], "pods");
    assert_eq!(n["properties"]["namespace"], Value::Null);
    assert_eq!(n["properties"]["reason"], PODS_FORBIDDEN);
    assert_eq!(n["properties"]["hidesChains"], true);
    // The descriptor it names is the driver's, at that index.
    let idx = n["descriptor"]["index"].as_u64().unwrap() as usize;
    assert_eq!(
        run["tool"]["driver"]["notifications"][idx]["id"],
        n["descriptor"]["id"]
    );
    // Not vacuous: the schema does check the invocation.
    let mut wrong = doc.clone();
    wrong["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]["level"] =
        Value::from("fatal");
    assert!(!sarif_schema_errors(&wrong).is_empty());
}

/// Error when chains may be missing, warning when a link is unknown for a failed read, note
/// when nothing failed (`--no-azure`, what manifests cannot hold); a complete view has no
/// notification and a successful execution.
#[test]
fn sarif_notification_levels_follow_what_each_gap_hides() {
    let (_dir, path) = gapped_snapshot(|s| {
        spcs_forbidden(s);
        secrets_forbidden_in_shop(s);
        s.azure.role_assignments =
            kvchain::snapshot::Coll::unknown(kvchain::snapshot::gaps::AZURE_DISABLED);
    });
    let out = kvchain(&["check", "--snapshot", &path, "-o", "sarif"]);
    assert_eq!(out.status.code(), Some(3));
    let doc = stdout_json(&out);
    let errors = sarif_schema_errors(&doc);
    assert!(errors.is_empty(), "{errors:#?}");
    let level_of = |reason: &str| {
        let n = notifications(&doc)
            .iter()
            .find(|n| n["properties"]["reason"] == reason)
            .unwrap_or_else(|| panic!("no notification for {reason}: {doc:#}"));
        n["level"].as_str().unwrap().to_string()
    };
    assert_eq!(level_of(SPCS_FORBIDDEN), "error");
    assert_eq!(level_of(SECRETS_FORBIDDEN), "warning");
    assert_eq!(level_of(kvchain::snapshot::gaps::AZURE_DISABLED), "note");
    let secrets = notifications(&doc)
        .iter()
        .find(|n| n["properties"]["reason"] == SECRETS_FORBIDDEN)
        .unwrap();
    assert_eq!(
        secrets["locations"][0]["logicalLocations"][0]["name"], "shop",
        "where: the namespace"
    );
    assert_eq!(
        doc["runs"][0]["invocations"][0]["executionSuccessful"],
        false
    );

    let (_dir, path) = gapped_snapshot(|_| {});
    let doc = stdout_json(&kvchain(&["check", "--snapshot", &path, "-o", "sarif"]));
    assert!(sarif_schema_errors(&doc).is_empty());
    assert_eq!(
        doc["runs"][0]["invocations"][0]["executionSuccessful"],
        true
    );
    assert!(notifications(&doc).is_empty());

    let out = kvchain(&["check", "-f", "assets/examples/healthy", "-o", "sarif"]);
    assert_eq!(out.status.code(), Some(0));
    let doc = stdout_json(&out);
    assert_eq!(
        doc["runs"][0]["invocations"][0]["executionSuccessful"],
        true
    );
    let notes = notifications(&doc);
    assert!(
        !notes.is_empty(),
        "manifests still say what they cannot see"
    );
    assert!(notes.iter().all(|n| n["level"] == "note"), "{notes:#?}");
}

/// Every test case of a JUnit document: (suite, name, status, message), status one of
/// `pass`, `failure`, `error`, `skipped`; read with a strict XML parser.
fn junit_statuses(xml: &str) -> Vec<(String, String, String, String)> {
    use quick_xml::events::Event;
    let attr = |e: &quick_xml::events::BytesStart, name: &str| {
        e.try_get_attribute(name)
            .unwrap()
            .map(|a| {
                a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .unwrap()
                    .into_owned()
            })
            .unwrap_or_default()
    };
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let (mut suite, mut out) = (String::new(), Vec::new());
    loop {
        match reader
            .read_event()
            .unwrap_or_else(|e| panic!("not well-formed: {e}\n{xml}"))
        {
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                b"testsuite" => suite = attr(&e, "name"),
                b"testcase" => out.push((
                    suite.clone(),
                    attr(&e, "name"),
                    "pass".to_string(),
                    String::new(),
                )),
                kind @ (b"failure" | b"error" | b"skipped") => {
                    let last = out.last_mut().expect("inside a testcase");
                    last.2 = String::from_utf8(kind.to_vec()).unwrap();
                    last.3 = attr(&e, "message");
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

/// Audit: with pods forbidden the JUnit was `tests="0" failures="0"`; with SPCs forbidden
/// every chain passed with all its links unknown. The gap is an errored case naming what,
/// where and why, and the chains behind it are skipped with the reason, not passed.
#[test]
fn junit_of_an_incomplete_view_errors_on_the_gap_and_skips_the_chains_behind_it() {
    let run = |edit: fn(&mut kvchain::snapshot::Snapshot)| {
        let (_dir, path) = gapped_snapshot(edit);
        let out = kvchain(&["check", "--snapshot", &path, "-o", "junit"]);
        (
            out.status.code(),
            junit_statuses(&String::from_utf8(out.stdout).unwrap()),
        )
    };
    let (code, cases) = run(pods_forbidden);
    assert_eq!(code, Some(3));
    assert_eq!(cases.len(), 1, "{cases:#?}");
    let (suite, name, status, message) = &cases[0];
    assert_eq!(suite, kvchain::output::junit::GAP_SUITE);
    assert_eq!(name, "read pods (all namespaces)");
    assert_eq!(status, "error");
    assert!(message.contains(PODS_FORBIDDEN), "{message}");

    let (code, cases) = run(spcs_forbidden);
    assert_eq!(code, Some(3));
    let gap = cases.iter().find(|c| c.1.contains("secretproviderclasses"));
    assert_eq!(gap.map(|c| c.2.as_str()), Some("error"), "{cases:#?}");
    let chains: Vec<_> = cases.iter().filter(|c| c.0 == "shop").collect();
    assert_eq!(chains.len(), 2, "{cases:#?}");
    for (_, name, status, message) in chains {
        assert_eq!(status, "skipped", "{name} is no pass");
        assert!(
            message.starts_with("not verified") && message.contains(SPCS_FORBIDDEN),
            "{message}"
        );
    }

    // A link unknown for a failed read: the gap and the chain are skipped, not errored. No
    // chain is missing, but the chain is not verified: exit 3, not 0 (audit VVV-honest).
    let (code, cases) = run(secrets_forbidden_in_shop);
    assert_eq!(code, Some(3), "not verified is no pass");
    assert!(cases.iter().all(|c| c.2 == "skipped"), "{cases:#?}");
    assert!(cases.iter().any(|c| c.1 == "read secrets in shop"));

    // A complete view, and manifests (whose gaps are the source's nature): plain passes.
    let (_, cases) = run(|_| {});
    assert!(
        !cases.is_empty() && cases.iter().all(|c| c.2 == "pass"),
        "{cases:#?}"
    );
    let out = kvchain(&["check", "-f", "assets/examples/healthy", "-o", "junit"]);
    let cases = junit_statuses(&String::from_utf8(out.stdout).unwrap());
    assert!(
        !cases.is_empty() && cases.iter().all(|c| c.2 == "pass"),
        "{cases:#?}"
    );
}
