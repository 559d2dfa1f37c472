//! `check -f`: what the SecretProviderClass's `objects` and `secretObjects` decide alone.
//! An objectType the provider refuses (FACTS §5 "Invalid vaultObjectTypes") is never fetched,
//! so the Object link cannot be ok from manifests (README: the Azure side is unknown, never
//! ok); a typed Secret whose data keys the API server's validation requires are missing is
//! never created (FACTS §2 the driver writes exactly `data[].key`; §3 FailedToCreateSecret).

use kvchain::chain::{Chain, Code, Finding, LinkKind, Severity, Status, diagnose};
use kvchain::source::manifests;

/// A Deployment mounting SPC `kv` (objects `db` of `object_type`, and `tls-cert` as a
/// secret) whose `secretObjects` are `secret_objects` (YAML flow, indented under spec).
fn manifests_with(object_type: &str, secret_objects: &str) -> String {
    format!(
        r#"apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata: {{name: kv, namespace: shop}}
spec:
  provider: azure
  parameters:
    clientID: 2b4d6f8a-1c3e-4a5b-9d7f-0e2c4a6b8d0f
    keyvaultName: kv-shop
    tenantID: 72f988bf-86f1-41af-91ab-2d7cd011db47
    objects: |
      array:
        - |
          objectName: db
          objectType: {object_type}
        - |
          objectName: registry
          objectType: secret
  secretObjects: {secret_objects}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: shop}}
spec:
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers: [{{name: c, image: i}}]
      volumes:
      - name: secrets
        csi: {{driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {{secretProviderClass: kv}}}}
"#
    )
}

fn chain(text: &str) -> Chain {
    let snap = manifests::load_str("m.yaml", text).expect("loads");
    let mut chains = diagnose(&snap);
    assert_eq!(chains.len(), 1);
    chains.remove(0)
}

/// `certificate` (for `cert`) and `Secret` are refused by the provider before any Key Vault
/// call: the Object link is never ok (nor broken: the Mount link's KVC705 is the cause).
#[test]
fn an_invalid_object_type_never_makes_the_object_link_ok() {
    for bad in ["certificate", "Secret"] {
        let c = chain(&manifests_with(bad, "[]"));
        let object = &c.links[LinkKind::VaultObject.index()];
        assert!(
            matches!(object.status, Status::Unknown | Status::Pending),
            "{bad}: {:?} {}",
            object.status,
            object.summary
        );
        assert!(
            c.findings().any(|f| f.code == Code::KVC705),
            "{bad}: KVC705 says why"
        );
    }
    let good = chain(&manifests_with("secret", "[]"));
    assert_eq!(
        good.links[LinkKind::VaultObject.index()].status,
        Status::Unknown,
        "a valid object is Azure unknown from manifests"
    );
}
