//! clientID beside an identity mode (audit J8). FACTS §5: at most one of usePodIdentity /
//! useVMManagedIdentity / useAzureTokenProxy; with none set, workload identity if clientID.
//! So with a VM's managed identity or pod identity on, clientID is never read, the mirror of
//! userAssignedIdentityID outside VM mode (KVC305); identity binding does read it (it
//! requires it).

use serde_json::Value;

fn spc(identity: &str) -> String {
    format!(
        "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {{name: app-kv, namespace: shop}}\nspec:\n  provider: azure\n  parameters: {{{identity}, keyvaultName: kv-shop, tenantId: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b, objects: \"array:\\n  - |\\n    objectName: db\\n    objectType: secret\\n\"}}\n"
    )
}

const CLIENT: &str = "clientID: 0b9c5e1a-7d2f-4c3e-9a8b-1f2e3d4c5b6a";

fn deployment(attributes: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: app, namespace: shop}}\nspec:\n  selector: {{matchLabels: {{app: app}}}}\n  template:\n    metadata: {{labels: {{app: app}}}}\n    spec:\n      containers:\n      - name: c\n        image: i\n        volumeMounts: [{{name: kv, mountPath: /mnt/kv, readOnly: true}}]\n      volumes:\n      - name: kv\n        csi: {{driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {{secretProviderClass: app-kv{attributes}}}}}\n"
    )
}

/// The KVC305 findings of `check -f` on `docs`.
fn unread(docs: &[&str]) -> Vec<Value> {
    let (_, r, _) = crate::manifest_run::check_docs(docs);
    crate::manifest_run::findings_of(&r, "KVC305")
}

fn names_client_id(found: &[Value]) -> bool {
    found
        .iter()
        .any(|f| f["evidence"].to_string().contains("parameters.clientID"))
}

#[test]
fn a_client_id_beside_a_vm_identity_is_not_read() {
    let spc = spc(&format!(
        "useVMManagedIdentity: 'true', userAssignedIdentityID: 7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918, {CLIENT}"
    ));
    for docs in [vec![spc.as_str()], vec![spc.as_str(), &deployment("")]] {
        let found = unread(&docs);
        assert!(names_client_id(&found), "{found:#?}");
        let f = &found[0];
        let (message, fix) = (f["message"].as_str().unwrap(), f["fix"].as_str().unwrap());
        assert!(
            message.contains("clientID (read only when no identity mode is set"),
            "{message}"
        );
        // Kept, it becomes the identity only with the mode off.
        assert!(
            fix.contains("remove clientID") && fix.contains("useVMManagedIdentity: \"false\""),
            "{fix}"
        );
    }
}

#[test]
fn a_client_id_beside_pod_identity_is_not_read() {
    let found = unread(&[
        &spc(&format!("usePodIdentity: 'true', {CLIENT}")),
        &deployment(""),
    ]);
    assert!(names_client_id(&found), "{found:#?}");
    let fix = found[0]["fix"].as_str().unwrap();
    assert!(fix.contains("usePodIdentity: \"false\""), "{fix}");
}

/// Workload identity and identity binding read it: nothing to report.
#[test]
fn a_client_id_is_read_without_a_mode_and_with_identity_binding() {
    for identity in [
        CLIENT.to_string(),
        format!("useVMManagedIdentity: 'false', {CLIENT}"),
        format!("useAzureTokenProxy: 'true', {CLIENT}"),
    ] {
        let found = unread(&[&spc(&identity), &deployment("")]);
        assert!(!names_client_id(&found), "{identity}: {found:#?}");
    }
}

/// A pod volume that turns the VM's identity on over the SPC's clientID is one cause, told by
/// KVC303 (its fix removes the override), not a second one here.
#[test]
fn a_mode_the_volume_turns_on_is_not_blamed_on_the_spc() {
    let found = unread(&[&spc(CLIENT), &deployment(", useVMManagedIdentity: 'true'")]);
    assert!(!names_client_id(&found), "{found:#?}");
}
