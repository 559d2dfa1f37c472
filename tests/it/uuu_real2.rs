//! Audit UUU-real2: leftovers of audits UUU-real and UUU-azure, each expectation written from
//! the documented behaviour (the API server's validation words, kubectl, FACTS) before
//! kvchain was run on it.

use crate::manifest_run::{check_docs, findings_of};

const SPC_PLACEHOLDER: &str = "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {name: \"${SPC_NAME}\", namespace: shop}\nspec:\n  provider: azure\n  parameters: {clientID: 0b9c5e1a-7d2f-4c3e-9a8b-1f2e3d4c5b6a, keyvaultName: kv-shop, tenantId: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b, objects: \"array:\\n  - |\\n    objectName: db\\n    objectType: secret\\n\"}\n";

const POD_PLACEHOLDER: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\nspec:\n  containers:\n  - name: c\n    image: i\n    volumeMounts: [{name: kv, mountPath: /mnt/kv, readOnly: true}]\n  volumes:\n  - name: kv\n    csi: {driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {secretProviderClass: \"${SPC_NAME}\"}}\n";

/// An SPC named by a placeholder (`${SPC_NAME}`) is refused by the API server (metadata.name
/// must be a DNS subdomain), and so is the same file applied again after any hand edit that
/// keeps the template: what works is rendering it (envsubst, helm template) and applying
/// what it renders. The pod's KVC101 says so, not "correct the document"; and its confirm
/// looks for the templates, not for an object named `${SPC_NAME}`, which cannot exist.
#[test]
fn an_spc_refused_for_a_placeholder_name_is_to_be_rendered() {
    let (_, r, path) = check_docs(&[SPC_PLACEHOLDER, POD_PLACEHOLDER]);
    let found = findings_of(&r, "KVC101");
    assert_eq!(found.len(), 1, "{found:#?}");
    let (fix, confirm) = (
        found[0]["fix"].as_str().unwrap(),
        found[0]["confirm"].as_str().unwrap(),
    );
    assert!(!fix.contains("# correct"), "{fix}");
    assert!(
        fix.contains("helm template … | kvchain check -f -")
            && fix.contains(&format!("envsubst < {path} | kubectl apply -n shop -f -")),
        "{fix}"
    );
    assert!(
        !fix.contains(&format!("kubectl apply -n shop -f {path}")),
        "{fix}"
    );
    assert_eq!(confirm, "grep -rn -F '${SPC_NAME}' .");
}

const CANARY: &str = "CANARY-uuu-real2";

/// An access-policy vault whose only policy is a human user's object id (no managed identity of
/// the lab, no former principal of one: the lab's directory does not say it was deleted). Key
/// Vault keeps a policy whose principal was deleted, but an id kvchain cannot look up is
/// unknown, not deleted (README: the directory is not read; only where a source knows the
/// principal is gone does KVC501 name it): the lab called every id none of its identities' a
/// deleted principal, so KVC501 said the user's policy "names a principal that no longer
/// exists" and its fix deleted it (`az keyvault delete-policy`), taking the user's access.
#[test]
fn a_policy_for_an_id_the_directory_does_not_know_is_not_called_deleted() {
    const USER: &str = "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a";
    let r = crate::mmm_lab::report("uuu_real2/uuu-real2-policy-user.yaml", CANARY);
    let text = r.to_string();
    assert!(!text.contains("no longer exists"), "{r:#}");
    assert!(!text.contains("delete-policy"), "{r:#}");
    assert!(
        !text.contains(&format!("{USER}: no such principal")),
        "{r:#}"
    );
    // The identity's own missing policy is still what to fix.
    let found = findings_of(&r, "KVC501");
    assert!(
        found
            .iter()
            .any(|f| f["fix"].as_str().is_some_and(|x| x.contains(
                "az keyvault set-policy -n kv-uuu --object-id 3f4a5b6c-7d8e-4f9a-8b1c-2d3e4f5a6b7c"
            ))),
        "{r:#}"
    );
}

/// A container with no `name` (or an empty one), a mount with no `mountPath`: the API server
/// requires them (ValidatePodSpec, `field.Required`), and kubectl apply is refused with
/// `spec.template.spec.containers[0].name: Required value`. k8s-openapi reads a missing required
/// field as empty, so kvchain diagnosed a pod that can never be made, as if it ran.
#[test]
fn a_container_without_its_required_fields_is_refused_in_the_api_servers_words() {
    const SPC: &str = "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {name: app-kv, namespace: shop}\nspec:\n  provider: azure\n  parameters: {clientID: 0b9c5e1a-7d2f-4c3e-9a8b-1f2e3d4c5b6a, keyvaultName: kv-shop, tenantId: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b, objects: \"array:\\n  - |\\n    objectName: db\\n    objectType: secret\\n\"}\n";
    for (container, said) in [
        (
            "      - image: i\n        volumeMounts: [{name: kv, mountPath: /mnt/kv, readOnly: true}]\n",
            "spec.template.spec.containers[0].name: Required value",
        ),
        (
            "      - name: \"\"\n        image: i\n        volumeMounts: [{name: kv, mountPath: /mnt/kv, readOnly: true}]\n",
            "spec.template.spec.containers[0].name: Required value",
        ),
        (
            "      - name: c\n        image: i\n        volumeMounts: [{name: kv, readOnly: true}]\n",
            "spec.template.spec.containers[0].volumeMounts[0].mountPath: Required value",
        ),
    ] {
        let deployment = format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: app, namespace: shop}}\nspec:\n  selector: {{matchLabels: {{app: app}}}}\n  template:\n    metadata: {{labels: {{app: app}}}}\n    spec:\n      containers:\n{container}      volumes:\n      - name: kv\n        csi: {{driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {{secretProviderClass: app-kv}}}}\n"
        );
        let (_, r, _) = check_docs(&[SPC, &deployment]);
        let unread = r["unread"].to_string();
        assert!(
            unread.contains("Deployment/app") && unread.contains(said),
            "{said}: {r:#}"
        );
        assert!(!unread.contains("missing field"), "{unread}");
        assert!(r["chains"].as_array().unwrap().is_empty(), "{said}: {r:#}");
    }
}

/// The SecretProviderClass CRD requires no field (shared/upstream/crds: no `required` in its
/// schema), so an SPC with no `spec` is applied; the driver then finds no provider of name ""
/// and every mount fails. kvchain refused the document in serde's words ("missing field
/// `spec`") and left the pod's chain on an unread SPC: it is read as the API server keeps it,
/// and KVC104 names the missing provider.
#[test]
fn an_spc_without_a_spec_is_read_as_applied() {
    const SPC: &str = "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {name: app-kv, namespace: shop}\n";
    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\nspec:\n  containers:\n  - name: c\n    image: i\n    volumeMounts: [{name: kv, mountPath: /mnt/kv, readOnly: true}]\n  volumes:\n  - name: kv\n    csi: {driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {secretProviderClass: app-kv}}\n";
    let (_, r, _) = check_docs(&[SPC, POD]);
    assert_eq!(r["unread"], serde_json::json!([]), "{r:#}");
    assert!(!r.to_string().contains("missing field"), "{r:#}");
    let found = findings_of(&r, "KVC104");
    assert_eq!(found.len(), 1, "{r:#}");
    assert!(
        found[0]["message"]
            .as_str()
            .unwrap()
            .contains("has no spec.provider"),
        "{r:#}"
    );
}
