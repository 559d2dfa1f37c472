//! Audit XB-facts: lab worlds written from FACTS §1–§10 (the SPC pod status, the synced Secret,
//! events, rotation, the Azure provider's parameters, the webhook, federated credentials, Key
//! Vault roles, Reloader), each with the verdict a user must get stated in its fixture's header
//! (tests/fixtures/lab/xb-facts-*.yaml) before kvchain was run on it. Where a header expected
//! more than the documents support the test asserts what they do support (the audit's report
//! says which). Their vault values are canaries (`CANARY-xbfac`) that no output may show.

use serde_json::Value;

use super::mmm_lab::{link, report_after};
use super::www_scen::exit_code;

const CANARY: &str = "CANARY-xbfac";

fn world(name: &str) -> Value {
    report_after(&format!("xb-facts-{name}.yaml"), &[], CANARY)
}

fn exit(name: &str) -> Option<i32> {
    exit_code(&format!("xb-facts-{name}"), &[])
}

/// Every finding's code, sorted, duplicates kept (one cause is said once).
fn codes(r: &Value) -> Vec<String> {
    let mut c: Vec<String> = (r["findings"].as_array().unwrap().iter())
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect();
    c.sort();
    c
}

/// The one finding of `code`.
fn one<'a>(r: &'a Value, code: &str) -> &'a Value {
    let all: Vec<&Value> = (r["findings"].as_array().unwrap().iter())
        .filter(|f| f["code"] == code)
        .collect();
    assert_eq!(all.len(), 1, "{code}: {r}");
    all[0]
}

fn fix<'a>(r: &'a Value, code: &str) -> &'a str {
    one(r, code)["fix"].as_str().unwrap()
}

/// The status of `name` on the world's only chain.
fn status<'a>(r: &'a Value, name: &str) -> &'a str {
    let chains = r["chains"].as_array().unwrap();
    assert_eq!(chains.len(), 1, "{r}");
    link(&chains[0], name)["status"].as_str().unwrap()
}

/// Nothing said, every link ok, exit 0.
fn healthy(name: &str) {
    let r = world(name);
    assert!(codes(&r).is_empty(), "{name}: {r}");
    for c in r["chains"].as_array().unwrap() {
        for l in c["links"].as_array().unwrap() {
            assert_eq!(l["status"], "ok", "{name}: {l}");
        }
    }
    assert_eq!(exit(name), Some(0), "{name}");
}

/// `code` is the one cause on `at`, the links after it wait, exit 1.
fn one_cause(r: &Value, name: &str, code: &str, at: &str) {
    let causes: Vec<&str> = (r["findings"].as_array().unwrap().iter())
        .filter(|f| f["follows"].is_null() && f["severity"] == "error")
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(causes, [code], "{name}: {r}");
    assert_eq!(status(r, at), "broken", "{name}: {r}");
    assert_eq!(exit(name), Some(1), "{name}");
}

// §1, §5: objectVersion.

/// FACTS §5: a version the secret never had is a 404; the secret exists, so the fix is the pin.
#[test]
fn a_pinned_version_the_secret_never_had_is_the_pin_to_fix() {
    let r = world("pinned-missing-version");
    one_cause(&r, "pinned-missing-version", "KVC601", "vaultObject");
    let f = fix(&r, "KVC601");
    assert!(f.contains("objectVersion"), "{f}");
    assert!(!f.contains("az keyvault secret set"), "{f}");
    assert!(codes(&r).iter().all(|c| c != "KVC501"), "{r}");
    assert_eq!(status(&r, "mount"), "pending", "{r}");
}

/// FACTS §5: objectVersion `latest` is the latest, not a pin.
#[test]
fn object_version_latest_is_no_pin() {
    healthy("version-latest-rotated");
}

// §2: secretObjects.

/// FACTS §2: with objectVersionHistory the files are `<name>/<i>`.
#[test]
fn a_history_entry_without_its_index_names_db_password_0() {
    let r = world("history-no-index");
    one_cause(&r, "history-no-index", "KVC801", "sync");
    assert!(
        fix(&r, "KVC801").contains("objectName: db-password/0"),
        "{r}"
    );
    assert_eq!(status(&r, "mount"), "ok", "{r}");
    assert_eq!(status(&r, "consumers"), "pending", "{r}");
}

/// FACTS §5: disabled versions are skipped by objectVersionHistory.
#[test]
fn a_disabled_middle_version_under_history_is_skipped() {
    healthy("history-disabled-middle");
}

/// FACTS §5: an alias is a relative path without `..`: a sub-directory is one.
#[test]
fn an_alias_in_a_sub_directory_is_a_file_name() {
    healthy("alias-subdir");
}

/// FACTS §5: `file name must not contain '..'`; must be relative.
#[test]
fn an_alias_leaving_the_volume_is_refused_by_the_provider() {
    for name in ["alias-dotdot", "alias-absolute"] {
        let r = world(name);
        one_cause(&r, name, "KVC705", "mount");
        assert!(fix(&r, "KVC705").contains("objectAlias"), "{r}");
        assert!(codes(&r).iter().all(|c| c != "KVC801"), "{r}");
        assert_eq!(status(&r, "sync"), "pending", "{r}");
    }
}

/// FACTS §2 and §5: a tls Secret needs tls.key; an objectType cert file holds no key.
#[test]
fn a_tls_entry_without_tls_key_reads_the_certificate_as_a_secret() {
    let r = world("tls-crt-only");
    one_cause(&r, "tls-crt-only", "KVC804", "sync");
    let f = fix(&r, "KVC804");
    assert!(
        f.contains("tls.key") && f.contains("objectType: secret"),
        "{f}"
    );
    assert_eq!(status(&r, "mount"), "ok", "{r}");
}

/// FACTS §2: `key 'ca.crt' is not supported. Only 'tls.key' and 'tls.crt' are supported`.
#[test]
fn a_tls_entry_with_a_third_key_drops_it() {
    let r = world("tls-extra-key");
    one_cause(&r, "tls-extra-key", "KVC804", "sync");
    assert!(
        one(&r, "KVC804")["message"]
            .as_str()
            .unwrap()
            .contains("'ca.crt' is not supported")
    );
    let f = fix(&r, "KVC804");
    assert!(f.contains("tls.key and tls.crt in place of"), "{f}");
}

/// FACTS §2: type is required ("secret type is empty"). One cause, said once, its fix the
/// type: the rotation's `failed validation … secret type is empty` is the same cause, and
/// deleting the pod would change nothing.
#[test]
fn an_entry_without_type_is_one_cause_with_the_type_as_its_fix() {
    let r = world("entry-no-type");
    one_cause(&r, "entry-no-type", "KVC806", "sync");
    let f = fix(&r, "KVC806");
    assert!(f.contains("type: Opaque"), "{f}");
    assert!(!f.contains("kubectl delete pod"), "{f}");
    assert_eq!(status(&r, "consumers"), "pending", "{r}");
}

// §3: FailedMount shapes.

/// FACTS §3: `Readonly is not true in request`.
#[test]
fn a_volume_not_read_only_is_refused_by_the_driver() {
    let r = world("readonly-false");
    one_cause(&r, "readonly-false", "KVC103", "pod");
    assert!(fix(&r, "KVC103").contains("readOnly: true"), "{r}");
}

/// FACTS §3: the kubelet knows no driver of that name; the driver is installed, so the fix
/// is the volume's driver name, no install.
#[test]
fn a_driver_name_typo_is_the_volume_not_the_install() {
    let r = world("driver-name-typo");
    one_cause(&r, "driver-name-typo", "KVC103", "pod");
    let f = fix(&r, "KVC103");
    assert!(f.contains("driver: secrets-store.csi.k8s.io"), "{f}");
    assert!(!f.contains("enable-addons"), "{f}");
    assert!(codes(&r).iter().all(|c| c != "KVC104"), "{r}");
    // The kubelet says so (FACTS §3): its FailedMount is KVC103's evidence, and the Mount
    // link does not take its silence for a kubelet that stopped reporting.
    let kvc103 = one(&r, "KVC103").to_string();
    assert!(
        kvc103.contains(
            "driver name secrets-store.csi.x-k8s.io not found in the list of registered CSI drivers"
        ),
        "{kvc103}"
    );
    let chains = r["chains"].as_array().unwrap();
    assert!(
        !link(&chains[0], "mount")
            .to_string()
            .contains("not reporting"),
        "{r}"
    );
}

/// The causes a provider read meets, blocked by `by` with their own fixes kept.
fn blocked(r: &Value, code: &str, by: &str, at: &str) {
    let f = one(r, code);
    assert_eq!(f["follows"], by, "{code}: {r}");
    assert!(!f["fix"].as_str().unwrap().starts_with("# fix"), "{f}");
    assert_eq!(status(r, at), "pending", "{r}");
}

/// Stacked, FACTS §3 and §8: the driver refuses the volume before any provider runs, so no
/// Key Vault read is made: KVC501 is not met yet.
#[test]
fn a_volume_not_read_only_blocks_the_missing_role() {
    let r = world("readonly-false-no-role");
    one_cause(&r, "readonly-false-no-role", "KVC103", "pod");
    blocked(&r, "KVC501", "pod", "access");
}

/// Stacked, FACTS §3 and §7: no driver of that name is called, so no token is exchanged.
#[test]
fn a_driver_name_typo_blocks_the_subject_mismatch() {
    let r = world("driver-typo-subject");
    one_cause(&r, "driver-typo-subject", "KVC103", "pod");
    blocked(&r, "KVC401", "pod", "federation");
}

// §5: the provider's parameters.

/// FACTS §5: `tenantID` or `tenantId`; `tenantid` is not read.
#[test]
fn a_lower_case_tenantid_is_renamed() {
    let r = world("tenantid-lowercase");
    one_cause(&r, "tenantid-lowercase", "KVC302", "identity");
    assert!(
        fix(&r, "KVC302").contains("rename tenantid to tenantID"),
        "{r}"
    );
    assert!(codes(&r).iter().all(|c| c != "KVC404"), "{r}");
}

/// Stacked, FACTS §5: the provider refuses its parameters before any token or Key Vault
/// request, so the missing role is not met yet.
#[test]
fn refused_parameters_block_the_missing_role() {
    let r = world("tenantid-lowercase-no-role");
    one_cause(&r, "tenantid-lowercase-no-role", "KVC302", "identity");
    blocked(&r, "KVC501", "identity", "access");
}

/// FACTS §5: useVMManagedIdentity reads as userAssignedIdentityID's identity; no workload
/// identity takes part, so neither the label nor the annotation is asked for.
#[test]
fn a_node_identity_mounts_without_workload_identity_findings() {
    let r = world("vm-identity");
    assert_eq!(codes(&r), ["KVC303"], "{r}");
    assert_eq!(status(&r, "mount"), "ok", "{r}");
    assert_eq!(exit("vm-identity"), Some(0));
}

/// FACTS §5: ParseBool("1") is true; clientID then takes no part, its identity's missing role
/// neither.
#[test]
fn use_vm_managed_identity_1_is_on_and_the_client_id_is_unused() {
    let r = world("vm-identity-one-over-clientid");
    assert!(codes(&r).iter().all(|c| c != "KVC501"), "{r}");
    assert!(codes(&r).contains(&"KVC303".to_string()), "{r}");
    assert!(fix(&r, "KVC305").contains("remove clientID"), "{r}");
    assert_eq!(status(&r, "mount"), "ok", "{r}");
    assert_eq!(exit("vm-identity-one-over-clientid"), Some(0));
}

/// docs/scenarios.md 'Node identities': an identity nobody has is held by no node.
#[test]
fn a_node_identity_that_does_not_exist_is_the_identity_link() {
    let r = world("vm-identity-unassigned");
    one_cause(&r, "vm-identity-unassigned", "KVC301", "identity");
    assert!(fix(&r, "KVC301").contains("userAssignedIdentityID"), "{r}");
}

/// FACTS §5: ParseBool("FALSE") and ("False") are false.
#[test]
fn identity_modes_false_in_capitals_are_off() {
    healthy("modes-false-capitals");
}

/// FACTS §5: `only one identity mode can be enabled at a time`; the clientID beside them has
/// its credential and role, so turning the modes off is what works.
#[test]
fn two_identity_modes_are_one_cause() {
    let r = world("two-modes");
    one_cause(&r, "two-modes", "KVC302", "identity");
    assert!(
        one(&r, "KVC302")["message"]
            .as_str()
            .unwrap()
            .contains("only one identity mode")
    );
    let f = fix(&r, "KVC302");
    assert!(
        f.contains(r#"usePodIdentity: "false", useVMManagedIdentity: "false""#),
        "{f}"
    );
    // No mode is taken, so no principal is judged: the Access link waits, it is not unknown.
    assert_eq!(status(&r, "access"), "pending", "{r}");
}

/// FACTS §5: pfx only for objectType secret; objectEncoding only for secret.
#[test]
fn format_and_encoding_on_the_wrong_type_are_refused() {
    for (name, field) in [
        ("pfx-on-cert", "objectFormat"),
        ("encoding-on-key", "objectEncoding"),
    ] {
        let r = world(name);
        one_cause(&r, name, "KVC705", "mount");
        assert!(fix(&r, "KVC705").contains(field), "{name}: {r}");
    }
}

// §6: the webhook.

/// FACTS §6: the webhook selects pod labels; a label on the account or "True" selects nothing.
#[test]
fn a_label_off_the_pod_or_not_true_is_put_on_the_template() {
    for name in ["label-on-sa", "label-value-capital"] {
        let r = world(name);
        assert_eq!(codes(&r), ["KVC201"], "{name}: {r}");
        let f = fix(&r, "KVC201");
        assert!(
            f.starts_with("kubectl patch deployment api -n demo")
                && f.contains(r#""azure.workload.identity/use":"true""#),
            "{name}: {f}"
        );
        assert_eq!(status(&r, "mount"), "ok", "{r}");
        assert_eq!(exit(name), Some(0), "{name}");
    }
}

/// FACTS §6: `hostNetwork is set to true, cannot inject proxy sidecar`.
#[test]
fn a_proxy_sidecar_on_host_network_is_refused_at_admission() {
    let r = world("proxy-hostnetwork");
    one_cause(&r, "proxy-hostnetwork", "KVC106", "pod");
    assert!(
        one(&r, "KVC106")["message"]
            .as_str()
            .unwrap()
            .contains("hostNetwork is set to true, cannot inject proxy sidecar")
    );
    assert!(fix(&r, "KVC106").contains("inject-proxy-sidecar"), "{r}");
    assert_eq!(status(&r, "mount"), "pending", "{r}");
}

/// FACTS §6: skip-containers skips only the containers it names.
#[test]
fn skipping_a_container_the_pod_lacks_skips_nothing() {
    healthy("skip-unknown-container");
}

// §7: federated credentials.

/// FACTS §7: the audience compares case-sensitively.
#[test]
fn an_audience_in_lower_case_is_updated_in_place() {
    let r = world("fic-audience-case");
    one_cause(&r, "fic-audience-case", "KVC403", "federation");
    assert!(fix(&r, "KVC403").starts_with(
        "az identity federated-credential update --name fic-api --identity-name id-api -g rg-id --audiences api://AzureADTokenExchange"
    ));
}

// §8: Key Vault roles.

/// FACTS §8: Key Vault Contributor has no data action.
#[test]
fn key_vault_contributor_reads_nothing() {
    let r = world("contributor-only");
    one_cause(&r, "contributor-only", "KVC501", "access");
    assert!(fix(&r, "KVC501").contains(r#"--role "Key Vault Secrets User""#));
    assert!(codes(&r).iter().all(|c| c != "KVC504"), "{r}");
}

/// FACTS §8: Crypto User has keys/read; Certificate User has getSecret.
#[test]
fn crypto_user_reads_a_key_and_certificate_user_a_secret() {
    healthy("crypto-user-key");
    healthy("cert-user-secret");
}

// §10: Reloader.

/// A rotated env reader nothing restarts: KVC901 restarts it, KVC902's words and fix.
fn not_reloaded(name: &str, why: &str, fixed: &str) {
    let r = world(name);
    assert_eq!(codes(&r), ["KVC901", "KVC902"], "{name}: {r}");
    assert_eq!(
        fix(&r, "KVC901"),
        "kubectl rollout restart deployment/api -n demo"
    );
    let kvc902 = one(&r, "KVC902");
    assert!(
        kvc902["message"].as_str().unwrap().contains(why),
        "{kvc902}"
    );
    assert!(kvc902["fix"].as_str().unwrap().contains(fixed), "{kvc902}");
    assert_eq!(status(&r, "consumers"), "broken", "{r}");
}

/// FACTS §10: the SPC annotation needs --enable-csi-integration (default false).
#[test]
fn the_spc_annotation_without_csi_integration_restarts_nothing() {
    not_reloaded(
        "reloader-spc-no-csi",
        "--enable-csi-integration=true",
        "reloader.stakater.com/auto=true",
    );
}

/// FACTS §10, §2: search needs match on the Secret, which secretObjects annotations carry.
#[test]
fn search_without_match_puts_match_on_the_secret_objects() {
    not_reloaded(
        "reloader-search-no-match",
        "reloader.stakater.com/match",
        "kubectl patch secretproviderclass api-kv",
    );
    healthy("reloader-search-match");
}

/// FACTS §10: ignore on the Secret, an exclusion on the workload, a list naming others.
#[test]
fn ignored_excluded_or_unnamed_secrets_restart_nothing() {
    not_reloaded(
        "reloader-ignore",
        "reloader.stakater.com/ignore",
        "/spec/secretObjects/0/annotations/reloader.stakater.com~1ignore",
    );
    not_reloaded(
        "reloader-exclude",
        "excludes api-db",
        "secrets.exclude.reloader.stakater.com/reload-",
    );
    not_reloaded(
        "reloader-named-other",
        "names other Secrets",
        "secret.reloader.stakater.com/reload=api-cfg,api-db",
    );
}

// Stacked behind the Pod link, and the rest of §5, §6, §8, §10 (the second batch).

/// FACTS §3, §5: the driver refuses the volume before the provider parses the objects.
#[test]
fn a_volume_not_read_only_blocks_broken_objects() {
    let r = world("readonly-false-bad-objects");
    one_cause(&r, "readonly-false-bad-objects", "KVC103", "pod");
    let f = one(&r, "KVC705");
    assert_eq!(f["follows"], "pod", "{r}");
}

/// FACTS §3, §5: no provider runs, so the parameters it would refuse are not met yet.
#[test]
fn a_driver_name_typo_blocks_refused_parameters() {
    let r = world("driver-typo-tenantid");
    one_cause(&r, "driver-typo-tenantid", "KVC103", "pod");
    let f = one(&r, "KVC302");
    assert_eq!(f["follows"], "pod", "{r}");
    assert!(
        f["fix"].as_str().unwrap().contains("rename tenantid"),
        "{f}"
    );
}

/// FACTS §5: without a clientID, the node identity userAssignedIdentityID names is the one
/// to keep.
#[test]
fn two_modes_with_a_node_identity_keep_the_node_identity() {
    let r = world("two-modes-node-identity");
    one_cause(&r, "two-modes-node-identity", "KVC302", "identity");
    let f = fix(&r, "KVC302");
    assert!(f.contains(r#"usePodIdentity: "false""#), "{f}");
    assert!(!f.contains(r#"useVMManagedIdentity: "false""#), "{f}");
}

/// FACTS §6: the pod's token expiration wins over the account's.
#[test]
fn the_pods_token_expiration_wins_over_the_accounts() {
    healthy("token-expiration-pod-wins");
}

/// FACTS §6: the proxy sidecar is refused on hostNetwork only.
#[test]
fn a_proxy_sidecar_without_host_network_is_admitted() {
    healthy("proxy-no-hostnetwork");
}

/// FACTS §8, §5: a certificate read as a secret is read on the secret's resource.
#[test]
fn a_grant_on_the_certificate_does_not_read_its_secret() {
    let r = world("cert-scope-secret-read");
    let causes: Vec<String> = codes(&r)
        .into_iter()
        .filter(|c| c == "KVC501" || c == "KVC502")
        .collect();
    assert_eq!(causes.len(), 1, "{r}");
    let f = fix(&r, &causes[0]);
    assert!(!f.contains("/certificates/web-cert"), "{f}");
    assert_eq!(status(&r, "access"), "broken", "{r}");
    assert_eq!(exit("cert-scope-secret-read"), Some(1));
}

/// FACTS §10 (KVC902's fix): the template's annotations count when the workload has none.
#[test]
fn reloader_on_the_template_restarts_it() {
    healthy("reloader-on-template");
}

/// FACTS §10: auto "false" restarts nothing.
#[test]
fn reloader_auto_false_restarts_nothing() {
    let r = world("reloader-auto-false");
    assert_eq!(codes(&r), ["KVC901", "KVC902"], "{r}");
}

/// FACTS §5, §7: with nothing naming an identity, the one visible identity already federated
/// for the pod's account (id-api, demo:api) is what KVC303's move uses - it needs only the
/// read access - not a new identity under names the paste leaves unset.
#[test]
fn leaving_the_node_identity_uses_the_identity_already_federated() {
    let r = world("vm-identity-federated");
    assert_eq!(codes(&r), ["KVC303"], "{r}");
    let f = fix(&r, "KVC303");
    assert!(
        f.starts_with("IDENTITY_NAME=id-api && IDENTITY_RG=rg-id"),
        "{f}"
    );
    assert!(!f.contains("az identity create"), "{f}");
    assert!(!f.contains("federated-credential create"), "{f}");
    assert!(f.contains(r#"--role "Key Vault Secrets User""#), "{f}");
}
