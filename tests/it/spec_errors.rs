//! `check -f` says every error the API server finds in a pod template, as kubectl prints them
//! all (ValidatePodSpec appends each error it finds), where it said the first kind only; and
//! the names the API server checks inside a pod spec: a container's and a volume's name (RFC
//! 1123 labels), distinct container names, a volumeMount naming a volume of the pod, the
//! template's labels. A StatefulSet's pod spec is its pods' to refuse, not the StatefulSet's
//! (apps validation's ValidatePodTemplateSpecForStatefulSet validates its labels only), and a
//! mount of one of its volumeClaimTemplates names a volume its controller adds.

use std::path::PathBuf;

use super::real_kit::{check, unread, unread_of};

const CANARY: &str = "CANARY-spec-errors";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/spec_errors")
        .join(name)
}

#[test]
fn every_error_of_a_pod_template_is_said_in_one_entry() {
    let (_, r) = check(&[&fixture("all-errors.yaml")], CANARY);
    let unread = unread(&r);
    let u = unread_of(&unread, "Deployment/two-mistakes");
    for said in [
        "spec.template.spec.containers[0].name: Invalid value: \"Api_Server\": a lowercase RFC 1123 label must consist of",
        "spec.template.spec.containers[0].volumeMounts[0].name: Not found: \"secrets-stor\"",
        "spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef.name: Invalid value: \"Db_Secret\": a lowercase RFC 1123 subdomain",
    ] {
        assert!(u.contains(said), "{said} in {u}");
    }
    assert!(
        u.contains("the API server refuses the document (kubectl apply says so), and no pod is made from it"),
        "{u}"
    );
    let twins = unread_of(&unread, "Deployment/twins");
    assert!(
        twins.contains("spec.template.spec.containers[1].name: Duplicate value: \"app\""),
        "{twins}"
    );
    let labels = unread_of(&unread, "Deployment/label-typo");
    assert!(
        labels.contains(
            "spec.template.metadata.labels: Invalid value: \"team name\": name part must consist of"
        ),
        "{labels}"
    );
}

#[test]
fn a_stateful_set_s_pods_are_refused_not_the_stateful_set_and_its_claims_are_volumes() {
    let (_, r) = check(&[&fixture("all-errors.yaml")], CANARY);
    let unread = unread(&r);
    let u = unread_of(&unread, "StatefulSet/db-bad-ref");
    assert!(
        u.contains("spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef.name: Invalid value: \"DB_SECRET\"")
            && u.contains("the API server takes the StatefulSet but refuses each pod its controller makes from this template")
            && !u.contains("refuses the document"),
        "{u}"
    );
    assert!(
        !unread.iter().any(|u| u.contains("StatefulSet/db-claim")),
        "its mount names its volumeClaimTemplate: {unread:#?}"
    );
    // Only the secrets-store pod has a chain; every other document is read or listed here.
    let chains = r["chains"].as_array().expect("chains");
    assert!(
        chains.iter().any(|c| c["workload"] == "Deployment/api"),
        "{r:#}"
    );
    assert_eq!(unread.len(), 4, "{unread:#?}");
}
