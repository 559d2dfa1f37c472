//! Audit TT6: a SecretProviderClass with an ownerReference marked `controller: true` (the AKS
//! app routing operator's, owned by an Ingress) is reconciled by that controller: a patch of
//! it does not last. Its fixes name the owner to change and run nothing; an SPC no controller
//! owns keeps its patch.

use crate::manifest_run::{check_docs, findings_of};

/// SPC `web-tls` of team-a on the node's identity (KVC303), `owner` the metadata lines it adds.
fn spc(owner: &str, tenant: &str) -> String {
    format!(
        "apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: web-tls
  namespace: team-a
{owner}spec:
  provider: azure
  parameters:
    useVMManagedIdentity: 'true'
    userAssignedIdentityID: 7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918
    keyvaultName: kv-team-a
{tenant}    objects: |
      array:
        - |
          objectName: web-cert
          objectType: secret
"
    )
}

const OWNED: &str = "  labels: {app.kubernetes.io/managed-by: aks-app-routing-operator}
  ownerReferences:
  - {apiVersion: networking.k8s.io/v1, kind: Ingress, name: web, uid: 0f1e2d3c-4b5a-4697-8877-665544332211, controller: true}
";

const TENANT: &str = "    tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47\n";

#[test]
fn a_controller_owned_spc_is_changed_through_its_owner() {
    let (_, r, _) = check_docs(&[&spc(OWNED, TENANT)]);
    let f = findings_of(&r, "KVC303");
    assert_eq!(f.len(), 1, "{r:#}");
    let fix = f[0]["fix"].as_str().unwrap();
    assert!(
        fix.starts_with("# SecretProviderClass web-tls is managed by Ingress/web (its controller): change that, a patch here is reconciled back"),
        "{fix}"
    );
    // Pasted, it runs nothing: no patch its controller would revert.
    let run = crate::paste_kit::paste(fix, "", "");
    assert!(run.calls.is_empty(), "{:?}", run.calls);
    // An edit of the SPC (KVC302: no tenant) names the owner too.
    let (_, r, _) = check_docs(&[&spc(OWNED, "")]);
    let f = findings_of(&r, "KVC302");
    assert_eq!(f.len(), 1, "{r:#}");
    let fix = f[0]["fix"].as_str().unwrap();
    assert!(
        fix.starts_with("# SecretProviderClass web-tls is managed by Ingress/web"),
        "{fix}"
    );
}

#[test]
fn an_spc_no_controller_owns_keeps_its_patch() {
    let (_, r, _) = check_docs(&[&spc("", TENANT)]);
    let f = findings_of(&r, "KVC303");
    assert_eq!(f.len(), 1, "{r:#}");
    let fix = f[0]["fix"].as_str().unwrap();
    assert!(
        fix.contains("kubectl patch secretproviderclass web-tls -n team-a"),
        "{fix}"
    );
    assert!(!fix.contains("managed by"), "{fix}");
}
