//! KVC204 once per ServiceAccount when a bare Pod manifest is among its workloads (audit
//! LL14): a Pod read from a file was never created, so the webhook injected nothing into it
//! (FACTS §6: at admission) and "running pods hold no AZURE_CLIENT_ID" is no finding of its
//! own; it says what the templates say, and the one fix re-creates it with the others.

const SA: &str = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app-sa, namespace: team-a, annotations: {azure.workload.identity/client-id: 99999999-2222-4333-8444-555555555555}}\n";

const SPC: &str = "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {name: app-kv, namespace: team-a}\nspec:\n  provider: azure\n  parameters: {clientID: 11111111-2222-4333-8444-555555555555, keyvaultName: kv-team-a, tenantID: 72f988bf-86f1-41af-91ab-2d7cd011db47, objects: \"array:\\n  - |\\n    objectName: db\\n    objectType: secret\\n\"}\n";

const SPEC: &str = "serviceAccountName: app-sa\n  containers:\n  - name: app\n    image: i\n    volumeMounts: [{name: kv, mountPath: /mnt/kv, readOnly: true}]\n  volumes:\n  - name: kv\n    csi: {driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {secretProviderClass: app-kv}}\n";

#[test]
fn a_bare_pod_manifest_adds_no_second_kvc204() {
    let pod = format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: lonely, namespace: team-a, labels: {{azure.workload.identity/use: 'true'}}}}\nspec:\n  {SPEC}"
    );
    let spec = SPEC.replace("\n  ", "\n      ");
    let deploy = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: team-a}}\nspec:\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web, azure.workload.identity/use: 'true'}}}}\n    spec:\n      {spec}"
    );
    let (_, r, _) = crate::manifest_run::check_docs(&[SA, SPC, &pod, &deploy]);
    let found = crate::manifest_run::findings_of(&r, "KVC204");
    assert_eq!(found.len(), 1, "{r:#}");
    let f = &found[0];
    let message = f["message"].as_str().unwrap();
    assert!(!message.contains("no AZURE_CLIENT_ID seen"), "{message}");
    // The one fix covers both: the Deployment restarted, the bare Pod re-created.
    let fix = f["fix"].as_str().unwrap();
    assert!(fix.contains("rollout restart deployment/web"), "{fix}");
    assert!(fix.contains("pod lonely"), "{fix}");
}
