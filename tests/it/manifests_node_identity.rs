//! KVC303's move from the node's identity to a workload identity, checked as pasted against
//! what the manifests say (FACTS §5: every pod's mount exchanges its own service account's
//! token; the pod volume's volumeAttributes are merged over the SPC's parameters; §7: the
//! federated credential's subject is `system:serviceaccount:<ns>:<sa>`, exact).

const SPC_NODE: &str = "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {name: app-kv, namespace: shop}\nspec:\n  provider: azure\n  parameters: {useVMManagedIdentity: 'true', userAssignedIdentityID: 7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918, keyvaultName: kv-shop, tenantId: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b, objects: \"array:\\n  - |\\n    objectName: db\\n    objectType: secret\\n\"}\n";

const SPC_WORKLOAD: &str = "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {name: app-kv, namespace: shop}\nspec:\n  provider: azure\n  parameters: {clientID: 0b9c5e1a-7d2f-4c3e-9a8b-1f2e3d4c5b6a, keyvaultName: kv-shop, tenantId: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b, objects: \"array:\\n  - |\\n    objectName: db\\n    objectType: secret\\n\"}\n";

fn deployment(name: &str, sa: &str, attributes: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: shop}}\nspec:\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n      serviceAccountName: {sa}\n      containers:\n      - name: c\n        image: i\n        volumeMounts: [{{name: kv, mountPath: /mnt/kv, readOnly: true}}]\n      volumes:\n      - name: kv\n        csi: {{driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {{secretProviderClass: app-kv{attributes}}}}}\n"
    )
}

/// The KVC303 fixes of `docs` checked as one manifest file.
fn kvc303_fixes(docs: &[&str]) -> Vec<String> {
    let (_, r, _) = crate::manifest_run::check_docs(docs);
    let fixes: Vec<String> = crate::manifest_run::findings_of(&r, "KVC303")
        .iter()
        .map(|f| f["fix"].as_str().unwrap().to_string())
        .collect();
    assert!(!fixes.is_empty(), "{r:#}");
    fixes
}

/// Audit I1: a credential for one account only broke the other workload's mount (KVC401)
/// once the SPC named the new identity.
#[test]
fn the_move_federates_every_account_that_mounts_the_spc() {
    let (app, worker) = (
        deployment("app", "app", ""),
        deployment("worker", "worker", ""),
    );
    for fix in kvc303_fixes(&[SPC_NODE, &app, &worker]) {
        for sa in ["app", "worker"] {
            assert!(
                fix.contains(&format!(
                    "--name shop-{sa} --identity-name \"$IDENTITY_NAME\""
                )) && fix.contains(&format!("--subject system:serviceaccount:shop:{sa} ")),
                "{fix}"
            );
        }
    }
}

/// Audit I3: the node identity came from the volume, which overrides the SPC: patching the SPC
/// changed nothing, and a new identity was not needed, the SPC naming one already.
#[test]
fn a_node_identity_the_volume_sets_is_removed_from_the_volume() {
    let app = deployment("app", "app", ", useVMManagedIdentity: 'true'");
    for fix in kvc303_fixes(&[SPC_WORKLOAD, &app]) {
        assert!(
            fix.starts_with("kubectl edit deployment/app -n shop  # volume kv: remove volumeAttributes.useVMManagedIdentity"),
            "{fix}"
        );
        assert!(
            !fix.contains("secretproviderclass") && !fix.contains("az identity create"),
            "{fix}"
        );
    }
}

/// Audit P4: the node identity's tenant, when the SPC's is unusable and the manifests do not
/// show the cluster's. `az aks show --query identity.tenantId` is the tenant of a
/// system-assigned control-plane identity only (ManagedClusterIdentity.tenantId), empty on a
/// cluster with a user-assigned one or a service principal; AKS makes the node identities in
/// the cluster's subscription, whose tenant `az account show` prints on every cluster.
#[test]
fn the_node_identitys_tenant_is_looked_up_as_the_subscriptions() {
    let spc = SPC_NODE.replace(
        "tenantId: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b",
        "tenantId: tid",
    );
    let app = deployment("app", "app", "");
    let (_, r, _) = crate::manifest_run::check_docs(&[&spc, &app]);
    let fixes: Vec<String> = crate::manifest_run::findings_of(&r, "KVC302")
        .iter()
        .map(|f| f["fix"].as_str().unwrap().to_string())
        .collect();
    assert!(!fixes.is_empty(), "{r:#}");
    for fix in fixes {
        assert!(
            fix.contains("az account show --query tenantId -o tsv")
                && !fix.contains("identity.tenantId"),
            "{fix}"
        );
    }
}
