//! Audit TTT-honest: one cause blocks what a read meets after it. On a node without the
//! Secrets Store CSI driver (or the Azure provider) the kubelet fails the mount before any
//! provider runs (FACTS §11 "Nodes", §3), so no token exchange and no Key Vault request is
//! made: the causes met only there are real, keep their fixes, and read blocked by the Pod
//! link's KVC104. A clientID naming no identity (KVC301) leaves no principal to judge a grant
//! of: the Access link waits on it. The worlds are tests/fixtures/lab/ttt_honest/*.yaml; their
//! vault values are canaries that no output may show.

use serde_json::Value;

/// Lab worlds of this audit (tests/fixtures/lab/ttt_honest/), canaries checked in text and JSON.
fn lab(name: &str) -> Value {
    crate::mmm_lab::report(&format!("ttt_honest/{name}"), "CANARY-ttt-honest")
}

fn only<'a>(r: &'a Value, code: &str) -> &'a Value {
    let found: Vec<&Value> = (r["findings"].as_array().unwrap().iter())
        .filter(|f| f["code"] == code)
        .collect();
    assert_eq!(found.len(), 1, "{code}: {r}");
    found[0]
}

/// The one finding of `code`, blocked by the `link` (`pod`, `access`…) whose `root` code is
/// the cause: `follows` names that link, and the message says so first and names the root.
fn blocked<'a>(r: &'a Value, code: &str, link: &str, root: &str) -> &'a Value {
    let f = only(r, code);
    assert_eq!(f["follows"], link, "{f:#}");
    let title = link[..1].to_uppercase() + &link[1..];
    let message = f["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!("blocked by {title}: ")) && message.contains(root),
        "{message}"
    );
    f
}

/// FACTS §11 "Nodes", §3: on a node without the driver the kubelet fails the mount with
/// "driver name secrets-store.csi.k8s.io not found in the list of registered CSI drivers":
/// the driver is never called, so the provider asks Entra ID for no token and Key Vault for
/// nothing. A grant that is missing too (KVC501) is real and keeps its fix, but is not met
/// yet: one error, KVC104, and KVC501 blocked by the Pod link.
#[test]
fn a_missing_grant_behind_a_node_without_the_driver_is_not_met_yet() {
    let r = lab("ttt-tainted-node-no-role.yaml");
    assert_eq!(r["summary"]["errors"], 1, "{r}");
    assert_eq!(only(&r, "KVC104")["follows"], Value::Null, "{r}");
    let f = blocked(&r, "KVC501", "pod", "KVC104");
    assert!(
        f["fix"]
            .as_str()
            .unwrap()
            .starts_with("az role assignment create "),
        "the blocked cause keeps its own fix: {f:#}"
    );
    let chain = &r["chains"][0];
    assert_eq!(crate::mmm_lab::link(chain, "pod")["status"], "broken");
    assert_ne!(
        crate::mmm_lab::link(chain, "access")["status"],
        "broken",
        "{chain}"
    );
}

/// The same node with an SPC clientID no identity has (KVC301, met only at the token
/// exchange): blocked by the Pod link too, with its own fix; the Access link, which has no
/// principal to judge because of it, waits on the root cause instead of reading unknown.
#[test]
fn an_unknown_client_id_behind_a_node_without_the_driver_is_not_met_yet() {
    let r = lab("ttt-tainted-node-no-identity.yaml");
    assert_eq!(r["summary"]["errors"], 1, "{r}");
    let f = only(&r, "KVC301");
    assert_eq!(f["follows"], "pod", "{f:#}");
    assert!(
        f["fix"]
            .as_str()
            .unwrap()
            .starts_with("kubectl patch secretproviderclass api-kv"),
        "{f:#}"
    );
    let access = crate::mmm_lab::link(&r["chains"][0], "access");
    assert_eq!(access["status"], "pending", "{access}");
    assert_eq!(access["summary"], "blocked: Pod", "{access}");
    assert!(r["summary"].get("unverified").is_none(), "{}", r["summary"]);
}

/// KVC301: the token exchange names an application that does not exist, so no principal is
/// there to judge a grant of. The Access link is not unknown (nothing went unread): it waits
/// on the Identity link, as the links after any root cause do ("blocked: Identity").
#[test]
fn the_access_link_behind_kvc301_is_blocked_by_identity_not_unknown() {
    let r = crate::mmm_lab::report(
        "sss_azure/sss-az-client-id-no-identity.yaml",
        "CANARY-sss-az-1",
    );
    assert_eq!(r["summary"]["errors"], 1, "{r}");
    let chain = &r["chains"][0];
    assert_eq!(crate::mmm_lab::link(chain, "identity")["status"], "broken");
    let access = crate::mmm_lab::link(chain, "access");
    assert_eq!(access["status"], "pending", "{access}");
    assert_eq!(access["summary"], "blocked: Identity", "{access}");
    assert!(r["summary"].get("unverified").is_none(), "{}", r["summary"]);
}

/// Key Vault authorizes each request before it reads the object ("Authentication in Azure Key
/// Vault": authentication, then authorization, then the operation): a caller whose role does
/// not grant getSecret gets 403 for a secret whether it exists or not. With the trainer's
/// wrong-role and then delete-object, every poll is refused 403: one error (KVC502), and the
/// deleted secret (KVC601) blocked by Access with its own fix, met once the role is right.
#[test]
fn a_deleted_object_behind_a_wrong_role_is_not_met_yet() {
    let r = crate::mmm_lab::report_after(
        "ttt_honest/ttt-wrong-role-deleted-object.yaml",
        &["--for", "12m"],
        "CANARY-ttt-honest",
    );
    assert_eq!(r["summary"]["errors"], 1, "{r}");
    assert_eq!(only(&r, "KVC502")["follows"], Value::Null, "{r}");
    let f = blocked(&r, "KVC601", "access", "KVC502");
    assert!(
        f["fix"]
            .as_str()
            .unwrap()
            .contains("az keyvault secret recover"),
        "the blocked cause keeps its own fix: {f:#}"
    );
}

/// Key Vault validates the token before it authorizes the request ("Authentication in Azure
/// Key Vault"; FACTS §11 "Tenants": a token of another tenant gets 401 AKV10032): with the
/// vault in another tenant than the identity, a role removed and the object deleted are not
/// met yet. One error (KVC406); KVC501 and KVC601 blocked by Federation, each with its fix.
#[test]
fn a_missing_grant_and_object_behind_a_token_of_another_tenant_are_not_met_yet() {
    let r = crate::mmm_lab::report_after(
        "ttt_honest/ttt-other-tenant-no-role.yaml",
        &["--for", "6m"],
        "CANARY-ttt-honest",
    );
    assert_eq!(r["summary"]["errors"], 1, "{r}");
    assert_eq!(only(&r, "KVC406")["follows"], Value::Null, "{r}");
    for code in ["KVC501", "KVC601"] {
        let f = blocked(&r, code, "federation", "KVC406");
        assert!(!f["fix"].as_str().unwrap().is_empty(), "{f:#}");
    }
}

/// The provider parses `objects` (FACTS §5) only once the driver calls it, which the kubelet
/// does not do on a node without the driver (FACTS §11 "Nodes"): mis-indented objects (KVC705)
/// are real and keep their fix, but are not met yet. One error, KVC104.
#[test]
fn bad_objects_behind_a_node_without_the_driver_are_not_met_yet() {
    let r = lab("ttt-tainted-node-bad-objects.yaml");
    assert_eq!(r["summary"]["errors"], 1, "{r}");
    assert_eq!(only(&r, "KVC104")["follows"], Value::Null, "{r}");
    let f = blocked(&r, "KVC705", "pod", "KVC104");
    assert!(
        f["fix"]
            .as_str()
            .unwrap()
            .starts_with("kubectl edit secretproviderclass api-kv"),
        "{f:#}"
    );
}

/// The provider reads the SPC's parameters (FACTS §5: tenantId is required, "tenantId is not
/// provided") only when the driver calls it, which the kubelet does not do on a node without
/// the driver (FACTS §11 "Nodes"): the missing tenantId (KVC302) is real and keeps its fix,
/// but is not met yet. One error, KVC104.
#[test]
fn bad_parameters_behind_a_node_without_the_driver_are_not_met_yet() {
    let r = lab("ttt-tainted-node-no-tenant.yaml");
    assert_eq!(r["summary"]["errors"], 1, "{r}");
    assert_eq!(only(&r, "KVC104")["follows"], Value::Null, "{r}");
    let f = blocked(&r, "KVC302", "pod", "KVC104");
    assert!(f["fix"].as_str().unwrap().contains("tenantID: "), "{f:#}");
}
