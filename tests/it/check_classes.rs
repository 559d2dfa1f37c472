//! `kvchain check -f` on manifests written by others (issue 18): one fixture per class of
//! wrong verdict, under tests/fixtures/manifests/ (see its README), asserting the documented
//! behaviour of the provider, the driver and the webhook (FACTS §2, §5, §6).

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> String {
    root()
        .join("tests/fixtures/manifests")
        .join(name)
        .to_str()
        .expect("utf-8 path")
        .to_string()
}

fn kvchain(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("run kvchain")
}

/// Exit code and JSON report of `check -f <fixture>`.
fn check(name: &str) -> (i32, Value) {
    let out = kvchain(&["check", "-f", &fixture(name), "-o", "json"]);
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), v)
}

fn findings<'a>(report: &'a Value, code: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["code"] == code)
        .collect()
}

fn one<'a>(report: &'a Value, code: &str) -> &'a Value {
    let all = findings(report, code);
    assert_eq!(all.len(), 1, "one {code}: {:#}", report["findings"]);
    all[0]
}

fn no_errors(report: &Value) {
    let errors: Vec<&Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["severity"] == "error")
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

fn spc<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["spcs"]
        .as_array()
        .expect("spcs")
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no spcs entry {name}: {:#}", report["spcs"]))
}

#[test]
fn null_values_are_absent_and_a_bad_document_does_not_hide_the_others() {
    let (code, r) = check("null-values.yaml");
    // The provider's own message for the empty key, on the chain that mounts the SPC.
    let f = one(&r, "KVC302");
    assert_eq!(f["severity"], "error");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("keyvaultName is not provided"),
        "{f:#}"
    );
    // `userAssignedIdentityID:` (null) is absent: the kubelet's own identity is used.
    assert!(
        one(&r, "KVC303")["message"]
            .as_str()
            .unwrap()
            .contains("system-assigned")
    );
    // The third document (replicas: many) is named, the rest is still diagnosed.
    let unread = r["unread"].as_array().expect("unread");
    assert_eq!(unread.len(), 1, "{unread:?}");
    let u = unread[0].as_str().unwrap();
    assert!(u.contains("null-values.yaml, document 3"), "{u}");
    assert!(u.contains("Deployment/broken-replicas"), "{u}");
    assert_eq!(r["summary"]["chains"], 1);
    assert_eq!(r["summary"]["unread"], 1);
    assert_eq!(
        code, 1,
        "an error finding (and an unread document), not an input error"
    );
}

#[test]
fn only_when_nothing_can_be_read_is_it_an_input_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("only-bad.yaml");
    std::fs::write(
        &bad,
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec: {replicas: many}\n---\nkind: Pod\nmetadata: {name: [\n",
    )
    .expect("write");
    let out = kvchain(&["check", "-f", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("only-bad.yaml, document 1"), "{err}");
    assert!(err.contains("and 1 more unread"), "{err}");
    // The same bad file next to a readable one: the readable one is diagnosed, text names
    // what was left out.
    let out = kvchain(&[
        "check",
        "-f",
        bad.to_str().unwrap(),
        "-f",
        &fixture("pod-identity.yaml"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Not read"), "{text}");
    assert!(text.contains("only-bad.yaml, document 2"), "{text}");
    assert!(text.contains("Pod/legacy-app"), "{text}");
}

#[test]
fn what_is_outside_the_given_files_is_unknown_not_absent() {
    let (code, r) = check("outside-files.yaml");
    let f = one(&r, "KVC202");
    assert_eq!(f["severity"], "warning");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("not in the given manifests"),
        "{f:#}"
    );
    // The namespace-less SPC is the one `kubectl apply -n payments` puts beside the pods: an
    // assumption the files cannot prove, said as an info naming the -n it needs.
    let assumed = findings(&r, "KVC101");
    assert_eq!(assumed.len(), 1, "{:#}", r["findings"]);
    assert_eq!(assumed[0]["severity"], "info");
    assert!(
        assumed[0]["message"]
            .as_str()
            .unwrap()
            .contains("must be applied with -n payments"),
        "{:#}",
        assumed[0]
    );
    let chain = &r["chains"][0];
    assert_eq!(chain["namespace"], "payments");
    assert_eq!(chain["vault"], "kv-payments-01");
    assert_eq!(code, 0);
    no_errors(&r);
}

#[test]
fn an_spc_missing_from_the_files_is_a_warning_but_a_near_miss_stays_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pod = |spc: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: a}}\nspec:\n  containers: [{{name: c, image: i}}]\n  volumes:\n  - name: v\n    csi: {{driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {{secretProviderClass: {spc}}}}}\n"
        )
    };
    let spc = "---\napiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {name: orders-kv, namespace: a}\nspec: {provider: azure, parameters: {clientID: x, keyvaultName: kv-one, tenantId: t, objects: 'array: []'}}\n";
    let path = dir.path().join("m.yaml");
    std::fs::write(&path, pod("elsewhere-kv")).expect("write");
    let (_, r) = {
        let out = kvchain(&["check", "-f", path.to_str().unwrap(), "-o", "json"]);
        (
            out.status.code(),
            serde_json::from_slice::<Value>(&out.stdout).expect("json"),
        )
    };
    assert_eq!(one(&r, "KVC101")["severity"], "warning");
    std::fs::write(&path, pod("order-kv") + spc).expect("write");
    let out = kvchain(&["check", "-f", path.to_str().unwrap(), "-o", "json"]);
    let r: Value = serde_json::from_slice(&out.stdout).expect("json");
    let f = one(&r, "KVC101");
    assert_eq!(f["severity"], "error");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("did you mean orders-kv?")
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn pod_identity_is_deprecated_not_broken() {
    let (code, r) = check("pod-identity.yaml");
    assert!(findings(&r, "KVC302").is_empty(), "{:#}", r["findings"]);
    let f = one(&r, "KVC304");
    assert_eq!(f["severity"], "warning");
    assert!(
        f["fix"]
            .as_str()
            .unwrap()
            .contains("workload-identity-migrate")
    );
    assert_eq!(code, 0);
}

#[test]
fn a_bare_pod_manifest_is_not_blamed_for_what_admission_adds() {
    let (code, r) = check("bare-pod-wi.yaml");
    assert!(findings(&r, "KVC205").is_empty(), "{:#}", r["findings"]);
    let sa = &r["chains"][0]["links"][1];
    assert_eq!(sa["link"], "serviceAccount");
    assert_eq!(sa["status"], "ok", "{sa:#}");
    assert_eq!(code, 0);
}

#[test]
fn spcs_no_pod_mounts_are_checked_on_their_own() {
    let (code, r) = check("spc-only.yaml");
    assert_eq!(r["summary"]["chains"], 0);
    assert_eq!(r["summary"]["spcs"], 4);
    // Invalid item values, with the provider's messages, on the SPC itself.
    let bad = spc(&r, "bad-values");
    assert_eq!(bad["status"], "broken");
    let msg = one(&r, "KVC705")["message"].as_str().unwrap().to_string();
    for expected in [
        "invalid objectEncoding: base32",
        "invalid objectFormat: der",
        "Should be secret, key, or cert",
    ] {
        assert!(msg.contains(expected), "{expected} in {msg}");
    }
    // useWorkloadIdentity is not a provider parameter, and without clientID no identity
    // (FACTS §5): one cause, on the credential finding, whose fix removes the flag.
    let wi = spc(&r, "wi-flag");
    assert_eq!(wi["codes"], serde_json::json!(["KVC307"]));
    let none = one(&r, "KVC307");
    let msg = none["message"].as_str().unwrap();
    assert!(msg.contains("useWorkloadIdentity"), "{msg}");
    assert!(msg.contains("clientID does"), "{msg}");
    let fix = none["fix"].as_str().unwrap();
    assert!(fix.contains("remove useWorkloadIdentity"), "{fix}");
    assert!(fix.contains("nodePublishSecretRef"), "{fix}");
    // A TLS Secret fed by objectType cert gets no private key.
    let tls = one(&r, "KVC804");
    assert_eq!(tls["resource"], "SecretProviderClass/tls-from-cert");
    assert!(tls["message"].as_str().unwrap().contains("no private key"));
    assert_eq!(spc(&r, "fine")["status"], "ok");
    assert_eq!(code, 1);
    // Text: the SPCs have their own place, with their findings.
    let out = kvchain(&["check", "-f", &fixture("spc-only.yaml")]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("SecretProviderClasses mounted by no pod"),
        "{text}"
    );
    assert!(text.contains("SecretProviderClass/tls-from-cert"), "{text}");
    assert!(text.contains("KVC804 error"), "{text}");
}

#[test]
fn unrendered_templates_are_said_once_and_not_judged_as_values() {
    let (code, r) = check("templates.yaml");
    let f = one(&r, "KVC306");
    assert_eq!(f["severity"], "warning");
    let msg = f["message"].as_str().unwrap();
    assert!(msg.contains("unrendered template values"), "{msg}");
    for field in [
        "keyvaultName: $KEYVAULT_NAME",
        "tenantId: <tenant-id>",
        "clientID: ${USER_ASSIGNED_CLIENT_ID}",
        "objects[0].objectName: $SECRET_NAME",
    ] {
        assert!(msg.contains(field), "{field} in {msg}");
    }
    let all = serde_json::to_string(&r["findings"]).unwrap();
    assert!(!all.contains("Invalid vault name"), "{all}");
    assert!(findings(&r, "KVC603").is_empty(), "a $VERSION is not a pin");
    // The pod's serviceAccountName is a placeholder, no DNS subdomain: the API server refuses
    // the pod (ValidatePodSpec's ValidateServiceAccountName), so it is not read but said
    // unrendered (audit VVV-real; it was read, with a KVC202 warning on a pod never created).
    assert!(findings(&r, "KVC202").is_empty(), "{r:#}");
    let unread = r["unread"].to_string();
    assert!(
        unread.contains("spec.serviceAccountName: Invalid value: \\\"${SERVICE_ACCOUNT_NAME}\\\"")
            && unread.contains("It is an unrendered template value"),
        "{unread}"
    );
    assert_eq!(code, 1);
}

#[test]
fn cloud_names_the_provider_library_accepts_are_accepted() {
    let (code, r) = check("clouds.yaml");
    assert_eq!(spc(&r, "cli-public")["status"], "ok");
    assert_eq!(spc(&r, "cli-gov")["status"], "ok");
    let f = one(&r, "KVC302");
    assert_eq!(f["resource"], "SecretProviderClass/nonsense");
    assert!(f["message"].as_str().unwrap().contains("\"AZUREMOON\""));
    assert_eq!(code, 1);
}

#[test]
fn a_placeholder_client_id_is_not_compared_but_a_missing_annotation_still_is() {
    let dir = tempfile::tempdir().expect("tempdir");
    let doc = |sa_annotations: &str, client: &str| {
        format!(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: app, namespace: t{sa_annotations}}}\n---\napiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {{name: kv, namespace: t}}\nspec: {{provider: azure, parameters: {{clientID: '{client}', keyvaultName: kv-one, tenantId: '5b1e7c44-0b8f-4a8e-9d55-3f0c2a6e1d21', objects: 'array: []'}}}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: t, labels: {{azure.workload.identity/use: 'true'}}}}\nspec:\n  serviceAccountName: app\n  containers: [{{name: c, image: i}}]\n  volumes:\n  - name: v\n    csi: {{driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {{secretProviderClass: kv}}}}\n"
        )
    };
    let path = dir.path().join("m.yaml");
    let report = |text: String| -> Value {
        std::fs::write(&path, text).expect("write");
        let out = kvchain(&["check", "-f", path.to_str().unwrap(), "-o", "json"]);
        serde_json::from_slice(&out.stdout).expect("json")
    };
    let guid = "0d9f2a61-4c57-4b8e-a7c3-2e5f8b1d6a90";
    let r = report(doc(
        ", annotations: {azure.workload.identity/client-id: '${CLIENT_ID}'}",
        guid,
    ));
    // Not compared with the SPC's id: a placeholder is reported once as unrendered (README,
    // KVC306), on the service account, since the webhook injects it as it is (FACTS §6).
    assert!(findings(&r, "KVC204").is_empty(), "{:#}", r["findings"]);
    let f = one(&r, "KVC306");
    assert_eq!(f["resource"], "ServiceAccount/app");
    let msg = f["message"].as_str().unwrap();
    assert!(msg.contains("unrendered template values"), "{msg}");
    assert!(!msg.contains(guid), "not a mismatch: {msg}");
    // The SPC's clientID is what the rendered annotation should say.
    assert!(f["fix"].as_str().unwrap().contains(guid), "{f:#}");
    let r = report(doc("", "$IDENTITY_CLIENT_ID"));
    assert_eq!(one(&r, "KVC203")["severity"], "warning");
    // Two real, different ids are still a mismatch.
    let r = report(doc(
        ", annotations: {azure.workload.identity/client-id: 11111111-2222-3333-4444-555555555555}",
        guid,
    ));
    assert_eq!(one(&r, "KVC204")["severity"], "warning");
}

/// FACTS §5: with no clientID the provider uses service-principal mode, whose credential is
/// the mounting volume's nodePublishSecretRef. A volume naming its SPC by an unrendered
/// `${VAR}` may mount the namespace's SPC once rendered: when it carries the ref, the SPC is
/// not short of a credential; when it does not, the warning stands. The same unrendered name
/// in two namespaces is two findings, one under each.
#[test]
fn an_unrendered_mount_with_its_credential_is_not_a_missing_credential() {
    let (_, r) = check("unrendered-mount.yaml");
    assert_eq!(spc(&r, "reports-kv")["status"], "ok", "{:#}", r["spcs"]);
    assert_eq!(spc(&r, "ledger-kv")["codes"], serde_json::json!(["KVC307"]));
    let unrendered = findings(&r, "KVC101");
    let namespaces: Vec<&str> = unrendered
        .iter()
        .map(|f| f["namespace"].as_str().unwrap())
        .collect();
    assert_eq!(namespaces.len(), 2, "{unrendered:#?}");
    assert!(namespaces.contains(&"sp") && namespaces.contains(&"bare"));
    let out = kvchain(&["check", "-f", &fixture("unrendered-mount.yaml")]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.matches("KVC101 warning").count(), 2, "{text}");
}

fn on<'a>(report: &'a Value, code: &str, resource: &str) -> Vec<&'a Value> {
    findings(report, code)
        .into_iter()
        .filter(|f| f["resource"] == resource)
        .collect()
}

/// FACTS §6: the webhook selects pods labelled `azure.workload.identity/use: "true"` and, with
/// `failurePolicy: Fail`, its refusal means no pod: a proxy sidecar on a hostNetwork pod, and a
/// token expiration (the pod's annotation, else the service account's) outside 3600–86400.
#[test]
fn webhook_refusals_decided_by_the_manifest_are_kvc106() {
    let (code, r) = check("webhook-admission.yaml");
    let relay = on(&r, "KVC106", "Deployment/relay");
    assert_eq!(relay.len(), 1, "{:#}", r["findings"]);
    assert_eq!(relay[0]["severity"], "error");
    let msg = relay[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("hostNetwork is set to true, cannot inject proxy sidecar"),
        "{msg}"
    );
    // The annotation's presence asks for the proxy: the fix removes it, not its value.
    let fix = relay[0]["fix"].as_str().unwrap();
    assert!(
        fix.contains("remove annotation azure.workload.identity/inject-proxy-sidecar"),
        "{fix}"
    );
    let batch = on(&r, "KVC106", "Deployment/batch");
    assert_eq!(batch.len(), 1, "{:#}", r["findings"]);
    let msg = batch[0]["message"].as_str().unwrap();
    assert!(
        msg.contains(
            "token expiration 1800 not valid. Expected value to be between 3600 and 86400"
        ),
        "{msg}"
    );
    // The value lives on the service account: the fix annotates it with a valid value.
    assert_eq!(
        batch[0]["fix"],
        "kubectl annotate serviceaccount batch -n edge azure.workload.identity/service-account-token-expiration=3600 --overwrite"
    );
    // The pod's own annotation wins; an unlabelled pod is never seen by the webhook.
    assert!(on(&r, "KVC106", "Deployment/report").is_empty());
    assert!(on(&r, "KVC106", "Deployment/probe").is_empty());
    assert_eq!(code, 1);
}

/// FACTS §11 "Nodes": the driver and provider DaemonSets run on Linux nodes; a pod pinned to
/// Windows (nodeSelector or required affinity) needs the charts' Windows DaemonSets, which the
/// AKS add-on does not run. Offline it is a warning; a pod that may land on Linux is fine.
#[test]
fn a_windows_pod_mounting_the_csi_volume_needs_the_windows_daemonsets() {
    let (code, r) = check("windows-pods.yaml");
    for owner in ["Deployment/iis", "StatefulSet/ledger"] {
        let f = on(&r, "KVC104", owner);
        assert_eq!(f.len(), 1, "{owner}: {:#}", r["findings"]);
        assert_eq!(f[0]["severity"], "warning");
        let msg = f[0]["message"].as_str().unwrap();
        assert!(
            msg.contains("driver name secrets-store.csi.k8s.io not found in the list of registered CSI drivers"),
            "{msg}"
        );
        assert!(msg.contains("AKS add-on does not run"), "{msg}");
        let fix = f[0]["fix"].as_str().unwrap();
        assert!(fix.contains("windows.enabled=true"), "{fix}");
    }
    assert!(on(&r, "KVC104", "Deployment/agent").is_empty());
    assert!(on(&r, "KVC104", "Deployment/api").is_empty());
    assert_eq!(code, 0);
}

/// FACTS §5: in service-principal mode the provider reads keys `clientid` and `clientsecret`
/// of the nodePublishSecretRef Secret, case-insensitively, else "could not find clientid in
/// secrets". A Secret among the manifests is checked by its key names; no value is shown.
#[test]
fn a_service_principal_secret_with_other_key_names_is_rejected_by_the_provider() {
    let (code, r) = check("sp-secret.yaml");
    let all = findings(&r, "KVC302");
    assert_eq!(all.len(), 1, "{:#}", r["findings"]);
    let f = all[0];
    assert_eq!(f["resource"], "Secret/billing-sp");
    assert_eq!(f["severity"], "error");
    let msg = f["message"].as_str().unwrap();
    assert!(
        msg.contains("\"could not find clientid in secrets\""),
        "{msg}"
    );
    assert!(
        msg.contains("\"could not find clientsecret in secrets\""),
        "{msg}"
    );
    let fix = f["fix"].as_str().unwrap();
    assert!(fix.contains("client-id → clientid"), "{fix}");
    assert!(fix.contains("client-secret → clientsecret"), "{fix}");
    let text = serde_json::to_string(&r).unwrap();
    assert!(!text.contains("placeholder-secret"), "a value leaked");
    assert_eq!(code, 1);
}

/// Upstream service-principal examples (FACTS §5: no clientID ⇒ the mounting volume's
/// nodePublishSecretRef) come without pods: no credential is missing yet, so KVC307 is a note;
/// it stays a warning where `useWorkloadIdentity` shows workload identity was meant (spc-only).
/// KVC303 reads only the SPC and is said of an SPC no pod mounts too.
#[test]
fn identities_of_spcs_no_pod_mounts_are_told_as_the_spc_says() {
    let (code, r) = check("spc-only-identities.yaml");
    let sp = one(&r, "KVC307");
    assert_eq!(sp["resource"], "SecretProviderClass/sp-example");
    assert_eq!(sp["severity"], "info");
    let node = one(&r, "KVC303");
    assert_eq!(node["resource"], "SecretProviderClass/node-msi");
    assert!(
        node["message"]
            .as_str()
            .unwrap()
            .contains("node identity 9d2e4f6a-8b0c-4d1e-a3f5-7b9c1d3e5f70"),
        "{node:#}"
    );
    assert_eq!(code, 0);
    let (_, r) = check("spc-only.yaml");
    assert_eq!(one(&r, "KVC307")["severity"], "warning");
}

/// A SecretProviderClass whose metadata.name is still a placeholder is no name the API server
/// takes (a lowercase RFC 1123 subdomain): `kubectl apply` refuses it, so it is not read, said in
/// the API server's words and as unrendered (audit UUU-real; it was read and flagged KVC306 as
/// if it existed), and the pod naming it is told its SecretProviderClass's document could not
/// be read (KVC101); no command may name it as an object.
#[test]
fn an_unrendered_spc_name_is_a_template_value_and_no_command_names_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("m.yaml");
    std::fs::write(
        &path,
        "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {name: '${SPC_NAME}', namespace: t}\nspec: {provider: azure, parameters: {clientID: 0d9f2a61-4c57-4b8e-a7c3-2e5f8b1d6a90, keyvaultName: kv-one, tenantId: 5b1e7c44-0b8f-4a8e-9d55-3f0c2a6e1d21, objects: 'array: []', useVMManagedIdentitty: 'true'}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: t}\nspec:\n  containers: [{name: c, image: i}]\n  volumes:\n  - name: v\n    csi: {driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {secretProviderClass: '${SPC_NAME}'}}\n",
    )
    .expect("write");
    let out = kvchain(&["check", "-f", path.to_str().unwrap(), "-o", "json"]);
    let r: Value = serde_json::from_slice(&out.stdout).expect("json");
    let unread = r["unread"].as_array().expect("unread");
    assert_eq!(unread.len(), 1, "{unread:#?}");
    let u = unread[0].as_str().unwrap();
    assert!(
        u.contains("metadata.name: Invalid value: \"${SPC_NAME}\": a lowercase RFC 1123 subdomain")
            && u.contains("unrendered template"),
        "{u}"
    );
    let f = one(&r, "KVC101");
    let msg = f["message"].as_str().unwrap();
    assert!(msg.contains("could not be read"), "{msg}");
    assert!(
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["code"] != "KVC306"),
        "{r:#}"
    );
    for f in r["findings"].as_array().unwrap() {
        for field in ["confirm", "fix"] {
            let cmd = f[field].as_str().unwrap_or_default();
            assert!(
                !cmd.contains("secretproviderclass '${SPC_NAME}'"),
                "{} {field}: {cmd}",
                f["code"]
            );
        }
    }
}

/// Audit QQ6: the headline counted one lone SPC as "1 SPCs"; README says an unread document
/// is listed right after what could not be seen ("Not visible", then "Not read").
#[test]
fn one_lone_spc_is_one_spc_and_not_read_follows_not_visible() {
    let dir = tempfile::tempdir().unwrap();
    let spc = "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {name: lone, namespace: shop}\nspec:\n  provider: azure\n  parameters:\n    keyvaultName: kv-shop\n    tenantId: 00000000-0000-0000-0000-000000000001\n    clientID: 00000000-0000-0000-0000-000000000002\n    objects: |\n      array:\n        - |\n          objectName: db\n          objectType: secret\n";
    std::fs::write(dir.path().join("spc.yaml"), spc).unwrap();
    let path = dir.path().to_str().unwrap().to_string();
    let out = kvchain(&["check", "-f", &path]);
    let text = String::from_utf8_lossy(&out.stdout);
    let head = text.lines().next().unwrap_or_default();
    assert!(head.contains(", 1 SPC mounted by no pod,"), "{head}");
    std::fs::write(
        dir.path().join("zz-bad.yaml"),
        "kind: ConfigMap\nmetadata:\n\tname: x\n",
    )
    .unwrap();
    let out = kvchain(&["check", "-f", &path]);
    let text = String::from_utf8_lossy(&out.stdout);
    let at = |s: &str| text.lines().position(|l| l.starts_with(s));
    let (visible, read) = (at("Not visible"), at("Not read"));
    assert!(visible.is_some() && read.is_some(), "{text}");
    assert!(visible < read, "{text}");
}
