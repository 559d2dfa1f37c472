//! Shapes met in public manifests (audit LLL), written here as our own fixtures and judged
//! from the documented behaviour.

use crate::manifest_run::{check_docs, findings_of};

/// The client id a user-assigned identity is named by in `userAssignedIdentityID`.
const UAI: &str = "c6c6c6c6-7d7d-4e8e-9f9f-a0a0a0a0a0a0";

/// An SPC that names a user-assigned identity in `userAssignedIdentityID` but leaves
/// `useVMManagedIdentity` "false", with no clientID, mounted by a pod with no
/// nodePublishSecretRef.
fn uai_without_vm_flag() -> [String; 2] {
    let spc = format!(
        "apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata: {{name: app-kv, namespace: team-a}}
spec:
  provider: azure
  parameters:
    usePodIdentity: 'false'
    useVMManagedIdentity: 'false'
    userAssignedIdentityID: {UAI}
    keyvaultName: kv-team-a
    tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47
    objects: |
      array:
        - |
          objectName: db-password
          objectType: secret
"
    );
    let pod = "apiVersion: v1
kind: Pod
metadata: {name: app, namespace: team-a}
spec:
  containers:
  - name: app
    image: i
    volumeMounts: [{name: kv, mountPath: /mnt/kv, readOnly: true}]
  volumes:
  - name: kv
    csi: {driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {secretProviderClass: app-kv}}
"
    .to_string();
    [spc, pod]
}

/// FACTS §5: `userAssignedIdentityID` is read only with `useVMManagedIdentity: "true"`; with no
/// mode set, no clientID and no nodePublishSecretRef the provider fails with "nodePublishSecretRef
/// secret is not set". The identity the author wrote is in the file: KVC302's fix names it (the
/// flag that makes the provider read it, or the same clientId for workload identity) instead of
/// a `<workload identity clientId>` placeholder, and KVC305 does not tell to remove it.
#[test]
fn an_identity_written_in_user_assigned_identity_id_is_the_fix_not_a_placeholder() {
    let [spc, pod] = uai_without_vm_flag();
    let (code, r, _) = check_docs(&[&spc, &pod]);
    assert_eq!(code, 1, "{r:#}");
    let kvc302 = findings_of(&r, "KVC302");
    assert_eq!(kvc302.len(), 1, "{r:#}");
    let f = &kvc302[0];
    assert_eq!(f["severity"], "error", "{f:#}");
    let fix = f["fix"].as_str().unwrap();
    assert!(fix.contains("useVMManagedIdentity: \"true\""), "{fix}");
    assert!(fix.contains(&format!("clientID: {UAI}")), "{fix}");
    assert!(!fix.contains("<workload identity clientId>"), "{fix}");
    let evidence = f["evidence"].to_string();
    assert!(evidence.contains("userAssignedIdentityID"), "{f:#}");
    for f in findings_of(&r, "KVC305") {
        let fix = f["fix"].as_str().unwrap();
        assert!(!fix.contains("remove userAssignedIdentityID"), "{f:#}");
    }
}

/// The one KVC201 fix `check -f` gives `workload` (mounting SPC `app-kv` as service account
/// `app-sa`), whose account carries the `use` label and client-id annotation `client_id`.
fn label_fix(client_id: &str, workload: &str) -> String {
    let sa = format!(
        "apiVersion: v1
kind: ServiceAccount
metadata:
  name: app-sa
  namespace: team-a
  labels: {{azure.workload.identity/use: 'true'}}
  annotations: {{azure.workload.identity/client-id: {client_id}}}
"
    );
    let spc = crate::manifest_run::spc("app-kv", "", crate::manifest_run::ONE_OBJECT);
    let (_, r, _) = check_docs(&[&sa, &spc, workload]);
    let kvc201 = findings_of(&r, "KVC201");
    assert_eq!(kvc201.len(), 1, "{r:#}");
    kvc201[0]["fix"].as_str().unwrap().to_string()
}

/// FACTS §6: the webhook injects the account's `azure.workload.identity/client-id` into every
/// labelled pod's containers as it is, whatever non-empty value it holds. While that annotation
/// is still a template value, KVC201's label fix alone gives the app `AZURE_CLIENT_ID=<…>`, so its
/// token requests still fail: the fix says to render the annotation (KVC306) first, in a note,
/// and runs nothing before it.
#[test]
fn the_label_fix_waits_for_the_account_annotation_to_be_rendered() {
    let deployment = "apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: team-a}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      serviceAccountName: app-sa
      containers:
      - name: api
        image: i
        volumeMounts: [{name: kv, mountPath: /mnt/kv, readOnly: true}]
      volumes:
      - name: kv
        csi: {driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {secretProviderClass: app-kv}}
";
    let fix = label_fix("<identity clientID>", deployment);
    assert!(
        fix.starts_with('#'),
        "a label applied now injects the placeholder: {fix}"
    );
    assert!(fix.contains("KVC306"), "{fix}");
    assert!(fix.contains("<identity clientID>"), "{fix}");
    assert!(
        fix.contains("kubectl patch deployment api -n team-a"),
        "the label patch is still said, to run once rendered: {fix}"
    );
}

/// FACTS §6: the webhook selects pods by their own label. A bare Pod whose ServiceAccount
/// carries the label instead is told that the label belongs on the pod: it has no template,
/// which the fix named ("it belongs on the pod template, as here").
#[test]
fn the_label_of_a_bare_pod_belongs_on_the_pod_not_a_template() {
    let pod = "apiVersion: v1
kind: Pod
metadata: {name: app, namespace: team-a}
spec:
  serviceAccountName: app-sa
  containers:
  - name: app
    image: i
    volumeMounts: [{name: kv, mountPath: /mnt/kv, readOnly: true}]
  volumes:
  - name: kv
    csi: {driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {secretProviderClass: app-kv}}
";
    let fix = label_fix("11111111-2222-4333-8444-555555555555", pod);
    assert!(fix.contains("it belongs on the pod, as here"), "{fix}");
    assert!(!fix.contains("template"), "{fix}");
}

/// README (`check -f`, an SPC whose pods may be in a document that could not be read): its own
/// fields are checked, and with nothing wrong there its status is unknown, not ok — its
/// identity, grant and objects are a mounting pod's chain's (FACTS §5, §8: none of them is in
/// the file). A note about it (KVC303 on a node identity, an info) says nothing wrong either:
/// the SPC still reads `unknown`, never `ok`.
#[test]
fn an_spc_whose_pods_are_unread_is_unknown_even_with_an_info_finding() {
    let spc = "apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata: {name: web-kv, namespace: web}
spec:
  provider: azure
  parameters:
    useVMManagedIdentity: 'true'
    userAssignedIdentityID: b7b7b7b7-1c1c-4d2d-8e3e-4f4f4f4f4f4f
    keyvaultName: kv-web
    tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47
    objects: |
      array:
        - |
          objectName: conn
          objectType: secret
";
    // kubectl's strict validation refuses a container field it does not know.
    let deployment = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: i
        affinity: {}
        volumeMounts: [{name: kv, mountPath: /mnt/kv, readOnly: true}]
      volumes:
      - name: kv
        csi: {driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {secretProviderClass: web-kv}}
";
    let (_, r, _) = check_docs(&[spc, deployment]);
    assert_eq!(r["unread"].as_array().map(Vec::len), Some(1), "{r:#}");
    let spcs = r["spcs"].as_array().unwrap();
    assert_eq!(spcs.len(), 1, "{r:#}");
    assert!(spcs[0]["pods_unread"].is_string(), "{r:#}");
    assert_eq!(spcs[0]["codes"], serde_json::json!(["KVC303"]), "{r:#}");
    assert_eq!(spcs[0]["status"], "unknown", "{r:#}");
}
