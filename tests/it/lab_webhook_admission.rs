//! FACTS §6: the workload-identity webhook (failurePolicy: Fail) refuses a labelled pod that
//! asks for a proxy sidecar on hostNetwork, or a token expiration outside 3600–86400 (the
//! pod's annotation over the service account's). The lab's webhook refuses them as AKS does:
//! no pod is created, the ReplicaSet records FailedCreate with the webhook's denial, and the
//! diagnosis says KVC106 — as `check -f` says for the same template.

use std::time::Duration;

use kvchain::chain::{Code, Severity, diagnose};
use kvchain::snapshot::Snapshot;
use kvchain::source::lab::{self, export};

use super::lab_nodes::{CLUSTER, HEALTHY, SHOP};

const DENIED: &str = "Error creating: admission webhook \"mutation.azure-workload-identity.io\" denied the request: ";

/// The healthy scenario with `annotations` on the Deployment's pod template and `spec` lines
/// added to its pod spec, run for a minute.
fn run(annotations: &str, spec: &str) -> Snapshot {
    let labels =
        "      labels:\n        app: checkout\n        azure.workload.identity/use: \"true\"\n";
    let pod_spec = "    spec:\n      serviceAccountName: checkout\n";
    assert!(HEALTHY.contains(labels) && HEALTHY.contains(pod_spec));
    let healthy = HEALTHY
        .replacen(
            labels,
            &format!("{labels}      annotations: {{{annotations}}}\n"),
            1,
        )
        .replacen(pod_spec, &format!("{pod_spec}{spec}"), 1);
    let sc = lab::scenario::parse(
        "admission",
        std::path::Path::new("admission.yaml"),
        &[CLUSTER, SHOP, &healthy].join("\n---\n"),
    )
    .expect("scenario loads");
    let mut w = lab::world::World::new(sc);
    w.advance(Duration::from_secs(60));
    export::snapshot(&w)
}

fn checkout_pods(s: &Snapshot) -> usize {
    s.pods
        .items
        .iter()
        .filter(|p| p.name.starts_with("checkout-"))
        .count()
}

fn refused_with(s: &Snapshot, why: &str) {
    assert_eq!(checkout_pods(s), 0, "no pod is admitted");
    let refusals: Vec<&str> = s
        .events
        .items
        .iter()
        .filter(|e| e.reason == "FailedCreate")
        .map(|e| e.message.as_str())
        .collect();
    assert!(
        refusals.iter().any(|m| *m == format!("{DENIED}{why}")),
        "{refusals:#?}"
    );
    let chains = diagnose(s);
    let kvc106: Vec<_> = chains
        .iter()
        .flat_map(|c| c.findings())
        .filter(|f| f.code == Code::KVC106)
        .collect();
    assert_eq!(kvc106.len(), 1, "{chains:#?}");
    assert_eq!(kvc106[0].severity, Severity::Error);
    assert!(kvc106[0].message.contains(why), "{}", kvc106[0].message);
}

#[test]
fn a_proxy_sidecar_on_a_host_network_pod_is_refused_at_admission() {
    // The annotation's presence asks for the proxy, whatever its value.
    for value in ["\"true\"", "\"false\""] {
        let s = run(
            &format!("azure.workload.identity/inject-proxy-sidecar: {value}"),
            "      hostNetwork: true\n",
        );
        refused_with(
            &s,
            "hostNetwork is set to true, cannot inject proxy sidecar",
        );
    }
    // Either one alone is admitted.
    let s = run("", "      hostNetwork: true\n");
    assert_eq!(checkout_pods(&s), 2);
    let s = run("azure.workload.identity/inject-proxy-sidecar: \"true\"", "");
    assert_eq!(checkout_pods(&s), 2);
}

#[test]
fn a_token_expiration_out_of_range_is_refused_at_admission() {
    let s = run(
        "azure.workload.identity/service-account-token-expiration: \"1800\"",
        "",
    );
    refused_with(
        &s,
        "token expiration 1800 not valid. Expected value to be between 3600 and 86400",
    );
    let s = run(
        "azure.workload.identity/service-account-token-expiration: \"86400\"",
        "",
    );
    assert_eq!(checkout_pods(&s), 2);
    assert!(
        diagnose(&s)
            .iter()
            .flat_map(|c| c.findings())
            .all(|f| f.code != Code::KVC106)
    );
}
