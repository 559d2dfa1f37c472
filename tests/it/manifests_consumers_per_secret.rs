//! KVC903 judged per synced Secret (audit LL12): the driver's SPCPS controller creates each
//! secretObjects entry's Secret on its own, going on to the next when one fails (FACTS §2),
//! so a Sync cause on one Secret (KVC804 on a TLS entry) blocks nothing about another: a
//! workload reading the other Secret without mounting is told so, not "blocked by Sync". A
//! workload reading the broken Secret still follows the cause.

const SPC: &str = "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {name: app-kv, namespace: team-a}\nspec:\n  provider: azure\n  secretObjects:\n  - secretName: app-tls\n    type: kubernetes.io/tls\n    data:\n    - {objectName: site-cert, key: tls.crt}\n    - {objectName: site-cert, key: tls.key}\n  - secretName: app-db\n    type: Opaque\n    data:\n    - {objectName: db-password, key: password}\n  parameters: {clientID: 11111111-2222-4333-8444-555555555555, keyvaultName: kv-team-a, tenantID: 72f988bf-86f1-41af-91ab-2d7cd011db47, objects: \"array:\\n  - |\\n    objectName: site-cert\\n    objectType: cert\\n  - |\\n    objectName: db-password\\n    objectType: secret\\n\"}\n";

const SA: &str = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app-sa, namespace: team-a, annotations: {azure.workload.identity/client-id: 11111111-2222-4333-8444-555555555555}}\n";

const WEB: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: team-a}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web, azure.workload.identity/use: 'true'}}\n    spec:\n      serviceAccountName: app-sa\n      containers:\n      - name: app\n        image: i\n        volumeMounts: [{name: kv, mountPath: /mnt/kv, readOnly: true}]\n      volumes:\n      - name: kv\n        csi: {driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {secretProviderClass: app-kv}}\n";

fn reader(name: &str, secret: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: team-a}}\nspec:\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n      serviceAccountName: app-sa\n      containers:\n      - name: c\n        image: i\n        envFrom: [{{secretRef: {{name: {secret}}}}}]\n"
    )
}

#[test]
fn a_sync_cause_on_another_secret_blocks_no_reader() {
    let (db, tls) = (reader("report", "app-db"), reader("tlsdump", "app-tls"));
    let (_, r, _) = crate::manifest_run::check_docs(&[SPC, SA, WEB, &db, &tls]);
    assert!(
        !crate::manifest_run::findings_of(&r, "KVC804").is_empty(),
        "{r:#}"
    );
    let found = crate::manifest_run::findings_of(&r, "KVC903");
    let of = |who: &str| {
        found
            .iter()
            .find(|f| f["resource"] == format!("Deployment/{who}"))
            .unwrap_or_else(|| panic!("no KVC903 for {who}: {r:#}"))
    };
    let report = of("report");
    let message = report["message"].as_str().unwrap();
    assert!(!message.starts_with("blocked by"), "{message}");
    assert!(report.get("follows").is_none(), "{report:#}");
    assert!(
        !report["fix"].as_str().unwrap().contains("KVC804"),
        "{report:#}"
    );
    // The reader of the broken Secret waits on its cause.
    let dump = of("tlsdump");
    assert!(
        dump["message"]
            .as_str()
            .unwrap()
            .starts_with("blocked by Sync"),
        "{dump:#}"
    );
}
