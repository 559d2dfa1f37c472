//! The move to a workload identity of its own (KVC303 from the node's identity, KVC304 from
//! aad-pod-identity), checked as pasted. The new identity needs, before the SPC names it, a
//! federated credential for each mounting pod's service account (FACTS §5, §7) and read
//! access in the vault's permission model: a role on an Azure RBAC vault, an access policy on
//! an access-policy vault, where role assignments are ignored (FACTS §8). With a mode flag
//! still on, clientID is not read (FACTS §5), so the patch turns the old mode off.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

const TENANT: &str = "5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b";

const OBJECTS: &str = "\"array:\\n  - |\\n    objectName: db\\n    objectType: secret\\n  - |\\n    objectName: tls\\n    objectType: cert\\n\"";

/// An SPC of namespace `shop` named `app-kv` with `identity` (flow-map entries) as its mode.
fn spc(identity: &str) -> String {
    format!(
        "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {{name: app-kv, namespace: shop}}\nspec:\n  provider: azure\n  parameters: {{{identity}, keyvaultName: kv-move, tenantId: {TENANT}, objects: {OBJECTS}}}\n"
    )
}

fn deployment(name: &str, sa: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: shop}}\nspec:\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n      serviceAccountName: {sa}\n      containers:\n      - name: c\n        image: i\n        command: [sleep, infinity]\n        volumeMounts: [{{name: kv, mountPath: /mnt/kv, readOnly: true}}]\n      volumes:\n      - name: kv\n        csi: {{driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {{secretProviderClass: app-kv}}}}\n"
    )
}

/// The lab cluster, a vault of the given model holding `db` and `tls`, and the node identity.
fn lab_world(rbac: bool) -> String {
    format!(
        "apiVersion: lab.kvchain.dev/v1\nkind: Cluster\nmetadata: {{name: aks-move}}\nspec:\n  oidcIssuerURL: https://westeurope.oic.prod-aks.azure.com/{TENANT}/6d8f2a3b-4c5e-4f70-9b1c-2d3e4f5a6b7c/\n  tenantID: {TENANT}\n  location: westeurope\n  workloadIdentityWebhook: true\n  csiDriver: {{installed: true, syncSecret: true, tokenAudiences: [api://AzureADTokenExchange]}}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: shop}}\n---\napiVersion: lab.kvchain.dev/v1\nkind: KeyVault\nmetadata: {{name: kv-move}}\nspec:\n  tenantID: {TENANT}\n  enableRbacAuthorization: {rbac}\n  accessPolicies:\n  - {{objectID: 11111111-2222-3333-4444-555555555555, tenantID: {TENANT}, secrets: [get], certificates: [get]}}\n  secrets: [{{name: db, value: s3cret}}]\n  certificates: [{{name: tls, subject: CN=shop}}]\n---\napiVersion: lab.kvchain.dev/v1\nkind: RoleAssignment\nmetadata: {{name: ra-node}}\nspec: {{principalID: 11111111-2222-3333-4444-555555555555, role: Key Vault Certificate User, scope: {{vault: kv-move}}}}\n---\napiVersion: lab.kvchain.dev/v1\nkind: ManagedIdentity\nmetadata: {{name: id-node}}\nspec: {{clientID: aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee, principalID: 11111111-2222-3333-4444-555555555555, tenantID: {TENANT}}}\n"
    )
}

/// The fixes of `code` in `kvchain check <mode> <file of docs> -o json`.
fn fixes(mode: &str, docs: &[&str], code: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.yaml");
    std::fs::write(&path, docs.join("---\n")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", mode])
        .arg(&path)
        .args(["-o", "json"])
        .output()
        .unwrap();
    let r: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let found: Vec<String> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == code)
        .map(|f| f["fix"].as_str().unwrap().to_string())
        .collect();
    assert!(!found.is_empty(), "no {code}: {r:#}");
    found
}

/// `fix` run by `sh` with stand-ins for `az` and `kubectl` that log their arguments, one
/// call a line; `az keyvault show … enableRbacAuthorization` answers `rbac` (tsv: `true`,
/// `false`, or nothing when the vault predates the property), the new identity holds no
/// federated credential (its issuer+subject lookup answers nothing), lookups answer a GUID.
fn pasted(fix: &str, rbac: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("calls");
    let stub = |name: &str, body: &str| {
        let p = dir.path().join(name);
        std::fs::write(
            &p,
            format!("#!/bin/sh\necho \"{name} $*\" >> \"$CALLS\"\n{body}"),
        )
        .unwrap();
        make_executable(&p);
    };
    stub(
        "az",
        "case \"$*\" in\n  *enableRbacAuthorization*) [ -n \"$RBAC\" ] && echo \"$RBAC\" ;;\n  *\"federated-credential list\"*) ;;\n  *--query*) echo 99999999-8888-7777-6666-555555555555 ;;\nesac\nexit 0\n",
    );
    // A CSIDriver that requests the exchange audience (what the move reads first, FACTS §5).
    stub(
        "kubectl",
        "case \"$*\" in\n  *\"get csidriver\"*) echo api://AzureADTokenExchange ;;\nesac\nexit 0\n",
    );
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap()
    );
    let out = Command::new("sh")
        .args(["-c", fix])
        .env("PATH", path)
        .env("CALLS", &log)
        .env("RBAC", rbac)
        .env("IDENTITY_RG", "rg-ids")
        .env("IDENTITY_NAME", "id-app")
        // What the guards at its head ask for (audit XD-paste).
        .env("CLUSTER_RG", "rg-aks")
        .env("CLUSTER", "aks")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{fix}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

fn make_executable(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn position(calls: &[String], what: &str) -> usize {
    calls
        .iter()
        .position(|c| c.contains(what))
        .unwrap_or_else(|| panic!("no {what} in {calls:#?}"))
}

const NODE: &str =
    "useVMManagedIdentity: 'true', userAssignedIdentityID: aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";

/// Audit J1: on a vault known to use access policies the move assigned a role, which the
/// vault ignores (FACTS §8): the new identity could read nothing, and the mount that worked
/// failed with 403 once the SPC named it.
#[test]
fn on_an_access_policy_vault_the_move_sets_an_access_policy() {
    let (world, app) = (lab_world(false), deployment("app", "app"));
    for fix in fixes("--lab", &[&world, &spc(NODE), &app], "KVC303") {
        assert!(!fix.contains("az role assignment"), "{fix}");
        let calls = pasted(&fix, "");
        let policy = position(
            &calls,
            "az keyvault set-policy -n kv-move --object-id 99999999-8888-7777-6666-555555555555",
        );
        // get on both types the SPC reads (secret, cert: FACTS §8), and nothing else.
        let granted = &calls[policy];
        assert!(
            granted.contains("--secret-permissions get")
                && granted.contains("--certificate-permissions get"),
            "{granted}"
        );
        assert!(
            policy < position(&calls, "kubectl patch secretproviderclass app-kv"),
            "{calls:#?}"
        );
    }
}

/// The RBAC vault keeps the roles (FACTS §8: Secrets User for secrets, Certificate User for
/// certificates), with no access policy beside them. The SPC reads a secret and a certificate:
/// Certificate User reads both (its data actions include Secrets User's), so it is the one
/// role assigned (audit III1: Secrets User beside it granted nothing more).
#[test]
fn on_an_rbac_vault_the_move_assigns_roles() {
    let (world, app) = (lab_world(true), deployment("app", "app"));
    for fix in fixes("--lab", &[&world, &spc(NODE), &app], "KVC303") {
        assert!(
            !fix.contains("set-policy") && !fix.contains("enableRbacAuthorization"),
            "{fix}"
        );
        let calls = pasted(&fix, "");
        let roles: Vec<&String> = (calls.iter())
            .filter(|c| c.starts_with("az role assignment create"))
            .collect();
        assert!(
            roles.len() == 1 && roles[0].contains("Key Vault Certificate User"),
            "{calls:#?}"
        );
    }
}

/// Audit J1: from manifests the vault's model is not known; the pasted command asks the vault
/// (`enableRbacAuthorization`) and grants in that model only.
#[test]
fn from_manifests_the_move_grants_in_the_model_the_vault_reports() {
    let app = deployment("app", "app");
    for fix in fixes("-f", &[&spc(NODE), &app], "KVC303") {
        for (answer, model) in [("true", "rbac"), ("false", "policies"), ("", "policies")] {
            let calls = pasted(&fix, answer);
            let roles = calls
                .iter()
                .filter(|c| c.starts_with("az role assignment create"))
                .count();
            let policies = calls
                .iter()
                .filter(|c| c.starts_with("az keyvault set-policy"))
                .count();
            match model {
                // One role: Certificate User reads the secret too (audit III1).
                "rbac" => assert!(roles == 1 && policies == 0, "{answer:?}: {calls:#?}"),
                _ => assert!(roles == 0 && policies == 1, "{answer:?}: {calls:#?}"),
            }
            position(&calls, "kubectl patch secretproviderclass app-kv");
        }
    }
}

/// Audit J4: KVC304's fix was the bare SPC edit, which breaks a mount that works where
/// aad-pod-identity still runs (no federated credential, no read access for the new
/// identity). It is the same move, each mounting account federated, usePodIdentity off.
#[test]
fn the_pod_identity_move_brings_credentials_and_access_first() {
    let (app, worker) = (deployment("app", "app"), deployment("worker", "worker"));
    for fix in fixes(
        "-f",
        &[&spc("usePodIdentity: 'true'"), &app, &worker],
        "KVC304",
    ) {
        let calls = pasted(&fix, "true");
        let patch = position(&calls, "kubectl patch secretproviderclass app-kv -n shop");
        for sa in ["app", "worker"] {
            let fic = position(
                &calls,
                &format!("--subject system:serviceaccount:shop:{sa} "),
            );
            assert!(fic < patch, "{calls:#?}");
        }
        assert!(
            position(&calls, "az role assignment create") < patch,
            "{calls:#?}"
        );
        let patched = &calls[patch];
        assert!(
            patched.contains("\"usePodIdentity\":\"false\"")
                && patched.contains("\"clientID\":\"99999999-8888-7777-6666-555555555555\"")
                && !patched.contains("useVMManagedIdentity"),
            "{patched}"
        );
    }
}
