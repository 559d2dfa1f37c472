//! SecretProviderClasses as the API server keeps them. Their CRD requires no field
//! (shared/upstream/crds: no `required` in its schema), so one applied without `spec` exists
//! in a cluster (its mounts fail for want of a provider). Such an object is one SPC to
//! diagnose, never a reason to leave every other SPC unread: a list decoded as one document
//! failed whole on it, and every chain's SPC became unknown (INCOMPLETE, exit 3).

use crate::live_gaps::check_in_context;
use crate::live_support::*;
use serde_json::{Value, json};

fn spc_without_spec() -> Value {
    json!({
        "apiVersion": "secrets-store.csi.x-k8s.io/v1",
        "kind": "SecretProviderClass",
        "metadata": {"name": "no-spec-yet", "namespace": NS},
    })
}

#[tokio::test]
async fn an_spc_without_a_spec_leaves_the_other_spcs_read() {
    let api = world();
    api.add(SPCS, spc_without_spec());
    let run = check_in_context(&api, &["-A", "-o", "json"]).await;
    let r = run.json();
    assert_eq!(
        r["summary"]["incomplete"],
        Value::Null,
        "{:#}",
        r["summary"]
    );
    let gaps = r["gaps"].to_string();
    assert!(!gaps.contains("secretproviderclasses"), "{gaps}");
    // The world's pod still has its SPC: its Pod link is not unknown.
    let chain = (r["chains"].as_array().unwrap().iter())
        .find(|c| c["id"].as_str().unwrap_or_default().contains(POD))
        .unwrap_or_else(|| panic!("the pod's chain: {:#}", r["chains"]));
    let links = chain["links"].as_array().unwrap();
    assert!(links.iter().all(|l| l["status"] != "unknown"), "{links:#?}");
    assert_ne!(run.code, Some(3), "{}\n{}", run.stdout, run.stderr);
    assert!(!run.stdout.contains(CANARY), "a value was printed");
}
