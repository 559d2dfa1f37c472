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

/// The codes of the report's SPC entry `name`.
fn spc_codes(r: &serde_json::Value, name: &str) -> Vec<String> {
    let spc = (r["spcs"].as_array().expect("spcs").iter())
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no spcs entry {name}: {:#}", r["spcs"]));
    (spc["codes"].as_array().expect("codes").iter())
        .map(|c| c.as_str().unwrap_or_default().to_string())
        .collect()
}

/// A StatefulSet's claim template replaces a pod-template volume of its name in every pod
/// (the controller's updateStorage: "If pod has conflicting local Volumes these are replaced
/// with Volumes that conform to the set's templates"), and the API server takes the clash.
/// So a CSI volume of that name is never mounted: no chain reads as if it were (the subPath
/// warning of a mount that is the claim's disk), and the SPC says why no pod mounts it.
#[test]
fn a_claim_template_of_the_csi_volume_s_name_takes_its_place_in_every_pod() {
    let (code, r) = check(&[&fixture("claim-replaces-csi.yaml")], CANARY);
    let chains = r["chains"].as_array().expect("chains");
    let workloads: Vec<&str> = (chains.iter())
        .filter_map(|c| c["workload"].as_str())
        .collect();
    assert_eq!(workloads, ["StatefulSet/web"], "{r:#}");
    for (spc, set, volume, free) in [
        ("db-kv", "db", "data", "secrets-store"),
        ("cache-kv", "cache", "state", "secrets-store-2"),
    ] {
        assert_eq!(spc_codes(&r, spc), ["KVC710"], "{:#}", r["spcs"]);
        let f = (r["findings"].as_array().expect("findings").iter())
            .find(|f| f["code"] == "KVC710" && f["resource"] == format!("StatefulSet/{set}"))
            .unwrap_or_else(|| panic!("KVC710 of {set}: {:#}", r["findings"]));
        let message = f["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(&format!(
                "StatefulSet/{set} names SecretProviderClass {spc} in its pod template's volume {volume}, and its volumeClaimTemplates[{volume}] has the same name"
            )),
            "{f:#}"
        );
        let fix = f["fix"].as_str().unwrap_or_default();
        assert!(
            fix.starts_with(&format!("kubectl edit statefulset/{set} -n data"))
                && fix.contains(&format!("rename the CSI volume {volume} to {free},")),
            "{f:#}"
        );
    }
    assert_eq!(code, 1, "an error finding: exit 1");
}

/// The lab's StatefulSet controller makes its pods as the real one does (updateStorage): the
/// pods run with the claim's volume and mount no CSI volume, the SPC says why (KVC710), and the
/// env reader of its synced Secret, which no pod makes, waits on that cause: its fix is
/// KVC710's rename, not a second CSI volume beside the replaced one.
#[test]
fn in_the_lab_a_claim_template_s_pods_mount_no_csi_volume_and_the_missing_secret_waits_on_kvc710() {
    let r = super::mmm_lab::report_after("claim-replaces-csi.yaml", &[], "CANARY-claim-lab");
    assert_eq!(spc_codes(&r, "api-kv"), ["KVC710"], "{:#}", r["spcs"]);
    let chains = r["chains"].as_array().expect("chains");
    assert!(
        chains
            .iter()
            .all(|c| c["volume"].as_str().unwrap_or_default().is_empty()),
        "no pod mounts a CSI volume: {r:#}"
    );
    let f = (r["findings"].as_array().expect("findings").iter())
        .find(|f| f["code"] == "KVC904")
        .unwrap_or_else(|| panic!("the env reader's KVC904: {:#}", r["findings"]));
    assert!(
        f["message"].as_str().unwrap_or_default().contains(
            "StatefulSet/web means to mount it, but its volumeClaimTemplates[secrets-store] takes the place of its CSI volume secrets-store in every pod (KVC710)"
        ),
        "{f:#}"
    );
    assert!(
        f["fix"].as_str().unwrap_or_default().starts_with(
            "# fix KVC710 (StatefulSet/web: rename its CSI volume secrets-store) first"
        ),
        "{f:#}"
    );
}
