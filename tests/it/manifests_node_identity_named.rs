//! KVC303's move when the SPC already names a user-assigned identity in `clientID` (not read
//! while `useVMManagedIdentity` is on, FACTS §5): that identity is federated (FACTS §7) and
//! the SPC pointed at it, not a new one created that reads nothing in the vault. The identity
//! is found by its clientId, and an empty answer stops the line before any change.

const SPC_BOTH: &str = "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {name: app-kv, namespace: shop}\nspec:\n  provider: azure\n  parameters: {useVMManagedIdentity: 'true', userAssignedIdentityID: 7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918, clientID: 0b9c5e1a-7d2f-4c3e-9a8b-1f2e3d4c5b6a, keyvaultName: kv-shop, tenantId: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b, objects: \"array:\\n  - |\\n    objectName: db\\n    objectType: secret\\n\"}\n";

const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app, namespace: shop}\nspec:\n  selector: {matchLabels: {app: app}}\n  template:\n    metadata: {labels: {app: app}}\n    spec:\n      serviceAccountName: app\n      containers:\n      - name: c\n        image: i\n        volumeMounts: [{name: kv, mountPath: /mnt/kv, readOnly: true}]\n      volumes:\n      - name: kv\n        csi: {driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {secretProviderClass: app-kv}}\n";

#[test]
fn the_spcs_own_client_id_is_federated_not_a_new_identity() {
    let (_, r, _) = crate::manifest_run::check_docs(&[SPC_BOTH, DEPLOY]);
    let found = crate::manifest_run::findings_of(&r, "KVC303");
    assert!(!found.is_empty(), "{r:#}");
    for f in found {
        let fix = f["fix"].as_str().unwrap();
        assert!(!fix.contains("az identity create"), "{fix}");
        // The move comes first; the CSIDriver's audiences are read before the switch
        // (manifests do not hold it: audits AA1, VVV-real).
        assert!(
            crate::xd_paste::after_guards(fix).starts_with(
                "IDENTITY_NAME=\"$(az identity list --query \"[?clientId=='0b9c5e1a-7d2f-4c3e-9a8b-1f2e3d4c5b6a'].name\" -o tsv)\""
            ),
            "{fix}"
        );
        assert!(fix.contains("[ -n \"$IDENTITY_NAME\" ] ||"), "{fix}");
        assert!(
            fix.contains("--subject system:serviceaccount:shop:app "),
            "{fix}"
        );
        assert!(
            fix.contains("\\\"useVMManagedIdentity\\\":\\\"false\\\""),
            "{fix}"
        );
    }
}
