//! Which provider an SPC is for (audit J2). The driver hands a mount to the provider its
//! `spec.provider` names, looked up verbatim among the registered providers, and fails it with
//! `failed to lookup provider client: "<name>"` (FailedToLookupProviderGRPCClient) when none
//! has that name (FACTS §3, §11). The Azure provider registers as `azure` and only ever sees
//! those SPCs (FACTS §5): a Vault or AWS SPC is not the Azure provider's to judge, and an
//! Azure SPC whose provider is spelt otherwise never reaches it.

use serde_json::Value;

const VAULT_SPC: &str = "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {name: db, namespace: app}\nspec:\n  provider: vault\n  parameters:\n    vaultAddress: http://vault.vault:8200\n    roleName: database\n    objects: |\n      - objectName: db-password\n        secretPath: secret/data/db-pass\n        secretKey: password\n";

const AWS_SPC: &str = "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {name: db, namespace: app}\nspec:\n  provider: aws\n  parameters:\n    objects: |\n      - objectName: \"MySecret\"\n        objectType: \"secretsmanager\"\n";

/// An Azure SPC with `provider` replaced by `line` (`None`: no provider field at all).
fn azure_spc(line: Option<&str>) -> String {
    let provider = line.map_or(String::new(), |l| format!("  provider: {l}\n"));
    format!(
        "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {{name: db, namespace: app}}\nspec:\n{provider}  parameters:\n    clientID: 0b9c5e1a-7d2f-4c3e-9a8b-1f2e3d4c5b6a\n    keyvaultName: kv-app\n    tenantId: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b\n    objects: |\n      array:\n        - |\n          objectName: db\n          objectType: secret\n"
    )
}

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: app}\nspec:\n  serviceAccountName: web\n  containers:\n  - name: web\n    image: nginx\n    volumeMounts: [{name: s, mountPath: /mnt/s, readOnly: true}]\n  volumes:\n  - name: s\n    csi: {driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {secretProviderClass: db}}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web, namespace: app}\n";

/// `check -f` of `docs` as one file: (exit status, JSON report, the file's path).
fn check(docs: &[&str]) -> (i32, Value, String) {
    crate::manifest_run::check_docs(docs)
}

fn codes(r: &Value) -> Vec<String> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// A Vault or AWS SPC a pod mounts: none of the Azure provider's parameter rules (KVC302's
/// missing keyvaultName and tenantId, KVC705's objects, KVC305's unread keys) is said, the
/// exit status is 0, and the chain says plainly that the provider is not judged.
#[test]
fn another_providers_spc_is_not_judged_by_the_azure_rules() {
    for spc in [VAULT_SPC, AWS_SPC] {
        let (rc, r, _) = check(&[spc, POD]);
        assert_eq!(codes(&r), Vec::<String>::new(), "{r:#}");
        assert_eq!(rc, 0, "{r:#}");
        let chain = &r["chains"][0];
        let links = chain["links"].as_array().unwrap();
        assert_eq!(links[0]["link"], "pod");
        assert_eq!(links[0]["status"], "ok", "{chain:#}");
        for l in &links[1..] {
            assert_eq!(l["status"], "unknown", "{chain:#}");
            assert!(
                l["summary"].as_str().unwrap().contains("not judged"),
                "{chain:#}"
            );
        }
        let provider = if spc == VAULT_SPC { "vault" } else { "aws" };
        assert!(
            links[1]["summary"]
                .as_str()
                .unwrap()
                .contains(&format!("provider {provider}")),
            "{chain:#}"
        );
    }
}

/// The same SPC with no pod: still not judged (as the standalone check always did), and the
/// chain and standalone paths agree.
#[test]
fn another_providers_spc_alone_is_not_judged_either() {
    let (rc, r, _) = check(&[VAULT_SPC]);
    assert_eq!(codes(&r), Vec::<String>::new(), "{r:#}");
    assert_eq!(rc, 0);
}

/// `provider: Azure`, a near miss, an empty name or none at all: the driver finds no provider
/// by that name and every mount fails before the Azure provider is called. KVC104 (the
/// provider-lookup failure) on the SPC, quoting the driver's error with the name it looked
/// up, and a fix that sets `spec.provider: azure` in the manifest that defines it.
#[test]
fn a_provider_name_meant_for_azure_fails_every_mount() {
    for (line, looked_up) in [
        (Some("Azure"), "Azure"),
        (Some("azur"), "azur"),
        (Some("'azure '"), "azure "),
        (Some("''"), ""),
        (None, ""),
    ] {
        let spc = azure_spc(line);
        let (rc, r, path) = check(&[&spc, POD]);
        let f = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == "KVC104")
            .unwrap_or_else(|| panic!("{line:?}: {r:#}"));
        assert_eq!(f["severity"], "error", "{f:#}");
        assert_eq!(f["resource"], "SecretProviderClass/db", "{f:#}");
        let message = f["message"].as_str().unwrap();
        assert!(
            message.contains(&format!(
                "error connecting to provider \"{looked_up}\": provider not found"
            )),
            "{line:?}: {message}"
        );
        let fix = f["fix"].as_str().unwrap();
        assert!(
            fix.contains("spec.provider: azure") && fix.contains(&path),
            "{line:?}: {fix}"
        );
        assert_eq!(rc, 1, "{line:?}");
    }
}

/// The correct name says nothing of the provider.
#[test]
fn provider_azure_raises_no_lookup_error() {
    let spc = azure_spc(Some("azure"));
    let (_, r, _) = check(&[&spc, POD]);
    assert!(!codes(&r).contains(&"KVC104".to_string()), "{r:#}");
}

/// A misnamed Azure SPC no pod mounts is checked on its own, with the same error.
#[test]
fn a_misnamed_provider_is_said_for_an_spc_no_pod_mounts() {
    let spc = azure_spc(Some("Azure"));
    let (rc, r, _) = check(&[&spc]);
    assert!(codes(&r).contains(&"KVC104".to_string()), "{r:#}");
    assert_eq!(rc, 1);
}
