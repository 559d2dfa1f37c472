//! Audit TTT-honest: what kvchain says when a cause blocks everything behind it, and when it
//! cannot read. An Ingress whose TLS names the synced Secret of a SecretProviderClass no pod
//! mounts is a chain of its own (README TUI "Tree", `chain::orphans`; FACTS §2, §11: no
//! mount, no Secret). With Ingresses unread such a chain is missing, as a workload's template
//! chain is behind unread Deployments (audit SSS-access): README `kvchain check` exit status 3,
//! "'0 errors' would otherwise pass for 'all healthy'". Where every SPC that syncs a Secret is
//! mounted, an Ingress is only a reader on a pod's chain: its gap hides no chain.

use crate::live_gaps::{Run, assert_text_and_sarif_incomplete, check_without};
use crate::live_support::*;
use serde_json::{Value, json};

const TTT_CANARY: &str = "CANARY-ttt-honest-ingress";

/// The live world without its FailedMount (nothing fails), its synced Secrets holding this
/// audit's canary, and Ingress `edge` serving `legacy-synced`, the Secret of `azure-legacy`,
/// which no pod mounts.
fn edge_on_unmounted_spc() -> FakeApi {
    let api = world();
    api.replace_silently(EVENTS, Vec::new());
    api.replace_silently(
        SECRETS,
        vec![
            synced_secret("foosecret", TTT_CANARY, true),
            synced_secret("legacy-synced", TTT_CANARY, true),
        ],
    );
    api.add(INGRESSES, edge("legacy-synced"));
    api
}

fn edge(secret: &str) -> Value {
    json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
           "metadata": {"name": "edge", "namespace": NS},
           "spec": {"tls": [{"hosts": ["edge.example.com"], "secretName": secret}],
                    "rules": [{"host": "edge.example.com"}]}})
}

async fn check(api: &FakeApi, format: &str) -> Run {
    check_without(api, format, TTT_CANARY).await
}

fn ingress_gap(r: &Value) -> &Value {
    r["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["kind"] == "ingresses")
        .unwrap_or_else(|| panic!("an ingresses gap: {:#}", r["gaps"]))
}

#[tokio::test]
async fn the_ingress_chain_is_seen_when_ingresses_can_be_read() {
    // The control: the chain the unread Ingresses hide below.
    let run = check(&edge_on_unmounted_spc(), "json").await;
    let r = run.json();
    assert!(
        r["chains"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["workload"] == "Ingress/edge" && c["spc"] == "azure-legacy"),
        "{:#}",
        r["chains"]
    );
}

#[tokio::test]
async fn ingresses_unread_where_one_may_start_a_chain_make_the_check_incomplete() {
    let api = edge_on_unmounted_spc();
    api.deny(INGRESSES, Some(NS));
    let run = check(&api, "json").await;
    let r = run.json();
    assert_eq!(r["summary"]["errors"], 0, "{:#}", r["findings"]);
    assert_eq!(
        run.code,
        Some(3),
        "chains may be missing: {:#}",
        r["summary"]
    );
    assert_eq!(r["summary"]["incomplete"], true, "{}", r["summary"]);
    let gap = ingress_gap(&r);
    assert_eq!(gap["namespace"], NS);
    assert_eq!(gap["hides_chains"], true, "{gap}");

    assert_text_and_sarif_incomplete(&api, "ingresses", TTT_CANARY).await;

    let junit = check(&api, "junit").await;
    assert_eq!(junit.code, Some(3));
    assert!(
        junit.stdout.contains("ingresses in payments")
            && junit.stdout.contains("type=\"incomplete\""),
        "{}",
        junit.stdout
    );
}

#[tokio::test]
async fn ingresses_unread_where_every_synced_spc_is_mounted_hide_no_chain() {
    // Without azure-legacy, the only SPC that syncs a Secret is mounted by the pod: an Ingress
    // could only be a reader on that pod's chain, whose links say what went unchecked.
    let api = edge_on_unmounted_spc();
    api.replace_silently(SPCS, Vec::new());
    let mut spc = upstream("spc-azure-wi-synck8s.yaml", VARS);
    spc["metadata"]["namespace"] = json!(NS);
    api.add(SPCS, spc);
    api.deny(INGRESSES, Some(NS));
    let run = check(&api, "json").await;
    let r = run.json();
    // No chain is missing (no INCOMPLETE), but the links that went unchecked leave the chain
    // not verified: exit 3, not 0 (audit VVV-honest).
    assert_eq!(run.code, Some(3), "{:#}", r["findings"]);
    assert!(
        r["summary"]["unverified"].as_u64() >= Some(1),
        "{}",
        r["summary"]
    );
    assert!(r["summary"].get("incomplete").is_none(), "{}", r["summary"]);
    assert_ne!(ingress_gap(&r)["hides_chains"], true, "{:#}", r["gaps"]);
}

fn pod_chain(r: &Value) -> &Value {
    (r["chains"].as_array().unwrap().iter())
        .find(|c| c["pod"] == POD)
        .unwrap_or_else(|| panic!("the pod's chain: {:#}", r["chains"]))
}

fn link<'a>(chain: &'a Value, name: &str) -> &'a Value {
    crate::mmm_lab::link(chain, name)
}

/// FACTS §1: the driver writes a pod's SecretProviderClassPodStatus, a kind its own CRD
/// defines, only after a successful mount. With that CRD not installed (the list answers 404)
/// no status exists anywhere, which is known, not a read that failed (README: a missing CRD
/// "means there are no SecretProviderClasses", and "a link unknown ... that a failed read left
/// unknown" is what counts as not verified). The running pod's started container proves its
/// mount (FACTS §11), so its Mount link is mounted, not "status unknown", and the chain is not
/// counted as not verified for a read that never failed.
#[tokio::test]
async fn a_missing_pod_status_crd_is_known_not_a_failed_read() {
    let api = world();
    api.replace_silently(EVENTS, Vec::new());
    api.replace_silently(SECRETS, vec![synced_secret("foosecret", TTT_CANARY, true)]);
    api.remove_collection(SPCPS);
    let run = check(&api, "json").await;
    let r = run.json();
    assert!(
        r["gaps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["kind"] == "secretproviderclasspodstatuses"),
        "the missing CRD is still said: {:#}",
        r["gaps"]
    );
    // Known, and a cause (audit UUU-honest: the driver fails each new mount at the status
    // write, nodeserver.go): the pod that mounted before keeps its files, told as a warning
    // (KVC709), its started container still the proof of its mount.
    let mount = link(pod_chain(&r), "mount");
    assert_eq!(mount["status"], "warning", "{mount:#}");
    assert_eq!(mount["summary"], "no status CRD", "{mount:#}");
    assert!(
        (mount["facts"].as_array().unwrap().iter()).any(|f| f["label"] == "mounted"),
        "{mount:#}"
    );
    assert!(
        r["summary"].get("unverified").is_none(),
        "{:#}",
        r["summary"]
    );
    let text = check(&api, "text").await;
    let headline = text.stdout.lines().next().unwrap_or_default();
    assert!(!headline.contains("not verified"), "{headline}");
}

/// With SecretProviderClasses refused (403) the pod's SecretProviderClassPodStatus is still
/// read, `mounted: true`: written only after a successful mount (FACTS §1), it says the mount
/// happened. The Mount link says so ("mounted; SPC unknown"), still unknown for what the SPC
/// decides (versions, rotation), and the check stays incomplete (exit 3).
#[tokio::test]
async fn spcs_unread_leave_a_mount_its_status_proves_said_as_mounted() {
    let api = world();
    api.replace_silently(EVENTS, Vec::new());
    api.replace_silently(SECRETS, vec![synced_secret("foosecret", TTT_CANARY, true)]);
    api.deny(SPCS, Some(NS));
    let run = check(&api, "json").await;
    assert_eq!(run.code, Some(3), "{}", run.stdout);
    let r = run.json();
    let mount = link(pod_chain(&r), "mount");
    assert_eq!(mount["status"], "unknown", "{mount:#}");
    assert_eq!(mount["summary"], "mounted; SPC unknown", "{mount:#}");
    let facts = mount["facts"].as_array().unwrap();
    assert!(
        facts.iter().any(|f| f["label"] == "mounted")
            && facts.iter().any(|f| f["label"] == "not checked"),
        "{mount:#}"
    );
    // The Deployment's template has no status: nothing proves a mount there.
    let template = (r["chains"].as_array().unwrap().iter())
        .find(|c| c["pod"] != POD)
        .expect("the template's chain");
    assert_eq!(link(template, "mount")["summary"], "SPC unknown");
}
