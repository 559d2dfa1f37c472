//! Audit PPP-seeds: the practitioners' troubleshooting playbooks (shared/seeds), symptom by
//! symptom, rebuilt as lab worlds of our own (tests/fixtures/lab/ppp-seeds-*.yaml, written from
//! docs/scenarios.md's format) and judged against FACTS, never against the articles where
//! they disagree. Vault values are canaries that no output may show.

use serde_json::Value;

use super::mmm_lab::{link, report};

/// The findings of `r` with `code`.
fn findings<'a>(r: &'a Value, code: &str) -> Vec<&'a Value> {
    (r["findings"].as_array().unwrap().iter())
        .filter(|f| f["code"] == code)
        .collect()
}

fn text<'a>(f: &'a Value, field: &str) -> &'a str {
    f[field].as_str().unwrap_or_default()
}

/// The articles' "synced Secret exists but data: {}" has a real cause, not theirs (a wrong
/// objectName makes no Secret at all, FACTS §2): a Secret of that name made first by hand.
/// The driver selects its Secrets by its managed label (FACTS §2) and does not rewrite one
/// that exists (FACTS §11): the hand-made Secret keeps no synced key and gets no owner, the
/// env reader is held. One cause, said as that: not an SPC edited after the Secret was
/// written nor rotation failing silently, and the rotation's failed patch (FACTS §3) is its
/// evidence, not a driver failure of its own (KVC806). Deleting it lets the next mount make
/// it (the fix), and the confirm shows the label and who wrote it.
#[test]
fn a_hand_made_secret_of_the_synced_name_is_named_as_not_the_drivers() {
    let r = report("ppp-seeds-unlabelled-secret.yaml", "CANARY-ppp-unlab");
    let chain = &r["chains"][0];
    assert_eq!(link(chain, "sync")["status"], "broken", "{chain}");
    assert!(findings(&r, "KVC806").is_empty(), "{r}");
    let stale = findings(&r, "KVC805");
    assert_eq!(stale.len(), 1, "{r}");
    let f = stale[0];
    assert_eq!(f["resource"], "Secret/app-db");
    let message = text(f, "message");
    assert!(
        message.contains("not made by the driver")
            && message.contains("secrets-store.csi.k8s.io/managed")
            && message.contains("DB_CONNECTION_STRING"),
        "{message}"
    );
    assert!(
        !message.contains("written before") && !message.contains("fails silently"),
        "{message}"
    );
    let evidence = f["evidence"].to_string();
    assert!(evidence.contains("SecretRotationFailed"), "{evidence}");
    let confirm = text(f, "confirm");
    assert!(
        confirm.starts_with("kubectl get secret app-db -n payments")
            && confirm.contains(".metadata.labels")
            && confirm.contains("managedFields"),
        "{confirm}"
    );
    let fix = text(f, "fix");
    assert!(
        fix.starts_with(
            "kubectl delete secret app-db -n payments --ignore-not-found && kubectl rollout restart deployment/app -n payments"
        ) && !fix.contains("az aks upgrade"),
        "{fix}"
    );
    // The held env reader follows the Secret's cause.
    let held = findings(&r, "KVC905");
    assert_eq!(held.len(), 1, "{r}");
    assert!(text(held[0], "fix").contains("fix KVC805"), "{}", held[0]);
    assert!(
        text(held[0], "message").contains("it has OTHER"),
        "{}",
        held[0]
    );
}

/// A guide's "add `rotationPollInterval: \"30s\"` to the volume's volumeAttributes": the driver
/// merges volumeAttributes over the SPC's parameters (FACTS §5) and the provider reads no such
/// key; rotation and its interval are the driver's flags, one for the cluster (FACTS §4: no
/// per-volume rotation attribute exists). Said, not silently taken for a 30 s rotation: a
/// KVC305 on the workload whose volume holds it, naming the driver's flag, whose fix removes
/// the attribute (no placeholder), and nothing else on the chain.
#[test]
fn a_rotation_interval_in_volume_attributes_is_said_to_change_nothing() {
    let r = report("ppp-seeds-rotation-attribute.yaml", "CANARY-ppp-rotattr");
    let all = r["findings"].as_array().unwrap();
    assert_eq!(all.len(), 1, "{r}");
    let f = &all[0];
    assert_eq!(f["code"], "KVC305", "{f}");
    assert_eq!(f["resource"], "Deployment/app", "{f}");
    let message = text(f, "message");
    assert!(
        message.contains("volumeAttributes")
            && message.contains("rotationPollInterval")
            && message.contains("--rotation-poll-interval"),
        "{message}"
    );
    let fix = text(f, "fix");
    assert_eq!(
        fix,
        "kubectl edit deployment/app -n payments  # remove volumes[kv].csi.volumeAttributes.rotationPollInterval"
    );
    let chain = &r["chains"][0];
    assert_eq!(link(chain, "mount")["status"], "ok", "{chain}");
}

/// The guides' fix for env that never updates is "annotate the Deployment for Reloader". Where
/// no Reloader runs (the lab's default), the annotation acts on nothing: the rotated Secret
/// (FACTS §4: env is a start-time snapshot) leaves the running container's copy old, and no
/// rollout follows (FACTS §10: Reloader rolls out annotated workloads when it runs). The stale
/// copy stays an error with its restart and says why the annotation did not act; and since the
/// snapshot says no Reloader runs, KVC902 says that nothing will restart it at the next
/// rotation either (as for a paused Deployment), with what runs one.
#[test]
fn an_annotation_for_a_reloader_that_never_acts_is_said_with_the_stale_copy() {
    let r = report("ppp-seeds-reloader-absent.yaml", "CANARY-ppp-noreloader");
    let stale = findings(&r, "KVC901");
    assert_eq!(stale.len(), 1, "{r}");
    let f = stale[0];
    assert_eq!(f["severity"], "error", "{f}");
    let message = text(f, "message");
    assert!(
        message.contains("no Reloader acts on them")
            && message.contains("no Deployment in any namespace runs Stakater Reloader"),
        "{message}"
    );
    assert_eq!(
        text(f, "fix"),
        "kubectl rollout restart deployment/app -n payments"
    );
    let none = findings(&r, "KVC902");
    assert_eq!(none.len(), 1, "{r}");
    let f = none[0];
    assert_eq!(f["severity"], "warning", "{f}");
    assert!(text(f, "message").contains("no Reloader acts on it"), "{f}");
    assert!(text(f, "confirm").contains("stakater/reloader"), "{f}");
    assert!(
        text(f, "fix").starts_with("helm upgrade --install reloader reloader --repo https://stakater.github.io/stakater-charts"),
        "{f}"
    );
}

/// The same hand-made Secret shipped in an app's manifests (a chart's placeholder Secret):
/// applied, it exists before the first mount, and the driver never writes it (FACTS §2, §11),
/// which the files alone show. `check -f` says so (KVC805, not the driver's: the env reader's
/// KVC905 points at it, where it pointed at no finding before), its fix keeps the document from
/// being applied, and the Secret's value never shows.
#[test]
fn a_secret_document_of_the_synced_name_is_named_from_the_files() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/manifests/ppp-seeds-unlabelled-secret");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "-o", "json", "-f"])
        .arg(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains("CANARY-ppp-unlab"),
        "a value reached the output"
    );
    let r: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let stale = findings(&r, "KVC805");
    assert_eq!(stale.len(), 1, "{r}");
    let f = stale[0];
    assert_eq!(f["resource"], "Secret/app-db", "{f}");
    assert!(text(f, "message").contains("not made by the driver"), "{f}");
    let fix = text(f, "fix");
    assert!(
        fix.starts_with("# do not apply the Secret app-db document")
            && fix.ends_with("kubectl delete secret app-db -n payments --ignore-not-found"),
        "{fix}"
    );
    let held = findings(&r, "KVC905");
    assert!(text(held[0], "fix").contains("fix KVC805"), "{}", held[0]);
}
