//! Audit F1: the SecretProviderClass CRD not installed while a pod mounts an SPC through the
//! secrets-store driver. A missing CRD is a fact (README "Not visible": there are no
//! SecretProviderClasses), so the SPC the pod names is known not to exist: KVC101, naming the
//! CRD as the cause, and exit 1 in every format — never "0 errors", eight links `?`, exit 0.

use crate::live_gaps::{Run, check_in_context};
use crate::live_support::*;
use serde_json::Value;

/// The world of `live_support` on a cluster whose API server serves neither driver CRD (the
/// lists answer 404), without the FailedMount event, so nothing but the missing CRD decides.
pub(crate) fn no_crds() -> FakeApi {
    let api = world();
    api.remove_collection(SPCS);
    api.remove_collection(SPCPS);
    api.replace_silently(EVENTS, Vec::new());
    api
}

pub(crate) async fn check(api: &FakeApi, format: &str) -> Run {
    check_in_context(api, &["-A", "-o", format]).await
}

#[tokio::test]
async fn a_pod_naming_an_spc_whose_crd_is_not_installed_is_kvc101_and_exits_1() {
    let api = no_crds();
    let run = check(&api, "json").await;
    assert_eq!(run.code, Some(1), "{}\n{}", run.stdout, run.stderr);
    let r: Value = serde_json::from_str(&run.stdout).unwrap();
    // The pod and the Deployment's template (which names the SPC too) each get it.
    let findings = r["findings"].as_array().unwrap();
    assert!(
        !findings.is_empty() && findings.iter().all(|f| f["code"] == "KVC101"),
        "{findings:#?}"
    );
    let f = findings
        .iter()
        .find(|f| f["chain"].as_str().unwrap().contains(POD))
        .expect("the pod's finding");
    let message = f["message"].as_str().unwrap();
    assert!(
        message.contains("azure-sync") && message.contains("CRD is not installed"),
        "names the SPC and the cause: {message}"
    );
    // This world's driver is registered (its DaemonSet and CSIDriver exist): only the CRDs
    // are missing, and the fix brings them.
    assert!(
        f["fix"]
            .as_str()
            .unwrap()
            .contains("secrets-store.csi.x-k8s.io_secretproviderclasses.yaml"),
        "{f:#}"
    );
    assert!(
        f["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == "CRD secretproviderclasses.secrets-store.csi.x-k8s.io not installed"),
        "{f:#}"
    );
    // The chain is broken at the Pod link; what follows waits on it, none of it unknown.
    for chain in r["chains"].as_array().unwrap() {
        let links = chain["links"].as_array().unwrap();
        assert_eq!(links[0]["status"], "broken", "{links:#?}");
        assert!(
            links.iter().all(|l| l["status"] != "unknown"),
            "a missing CRD is known: {links:#?}"
        );
    }

    let text = check(&api, "text").await;
    assert_eq!(text.code, Some(1), "{}", text.stdout);
    let headline = text.stdout.lines().next().unwrap_or_default();
    assert!(
        !headline.contains(" 0 errors") && !headline.starts_with("INCOMPLETE"),
        "{headline}"
    );
}

#[tokio::test]
async fn ci_formats_fail_on_the_missing_crd_too() {
    let api = no_crds();
    let sarif = check(&api, "sarif").await;
    assert_eq!(sarif.code, Some(1), "{}", sarif.stderr);
    let s: Value = serde_json::from_str(&sarif.stdout).unwrap();
    let results = s["runs"][0]["results"].as_array().unwrap();
    assert!(
        results
            .iter()
            .any(|r| r["ruleId"] == "KVC101" && r["level"] == "error"),
        "{results:#?}"
    );
    let junit = check(&api, "junit").await;
    assert_eq!(junit.code, Some(1), "{}", junit.stderr);
    assert!(
        junit.stdout.contains("<failure") && junit.stdout.contains("KVC101"),
        "{}",
        junit.stdout
    );
}
