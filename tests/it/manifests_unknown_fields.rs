//! A misspelled key in a document of a kind kvchain reads (audit BB4). `kubectl apply --help`
//! (v1.32): `--validate='strict'` is the default, and it "will use a schema to validate the
//! input and fail the request if invalid" (`strict decoding error: unknown field
//! "spec.templates"`); a structural CRD prunes such a field when it is applied without
//! validation (FACTS §2: the Secret is synced only from `spec.secretObjects`). So the object is
//! not what the file seems to say: it is listed under Not read, naming the file, the document
//! and the field, never read as healthy with the misspelled part dropped.

const SPC: &str = "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {name: app-kv, namespace: shop}\nspec:\n  provider: azure\n  parameters: {clientID: 0b9c5e1a-7d2f-4c3e-9a8b-1f2e3d4c5b6a, keyvaultName: kv-shop, tenantId: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b, objects: \"array:\\n  - |\\n    objectName: db\\n    objectType: secret\\n\"}\n  secretObjects: [{secretName: app-db, type: Opaque, data: [{objectName: db, key: password}]}]\n";

const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app, namespace: shop}\nspec:\n  selector: {matchLabels: {app: app}}\n  template:\n    metadata: {labels: {app: app}}\n    spec:\n      containers:\n      - name: c\n        image: i\n        env: [{name: DB, valueFrom: {secretKeyRef: {name: app-db, key: password}}}]\n        volumeMounts: [{name: kv, mountPath: /mnt/kv, readOnly: true}]\n      volumes:\n      - name: kv\n        csi: {driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {secretProviderClass: app-kv}}\n";

fn unread(docs: &[&str]) -> String {
    let (_, r, _) = crate::manifest_run::check_docs(docs);
    r["unread"].to_string()
}

#[test]
fn a_misspelled_key_leaves_its_document_unread_naming_the_field() {
    for (docs, doc, field, near) in [
        (
            [SPC, &DEPLOYMENT.replace("  template:", "  templates:")],
            "document 2: Deployment/app",
            "spec.templates",
            "template",
        ),
        (
            [SPC, &DEPLOYMENT.replace("        env:", "        envs:")],
            "document 2: Deployment/app",
            "spec.template.spec.containers[0].envs",
            "env",
        ),
        (
            [
                &SPC.replace("  secretObjects:", "  secretObject:"),
                DEPLOYMENT,
            ],
            "document 1: SecretProviderClass/app-kv",
            "spec.secretObject",
            "secretObjects",
        ),
    ] {
        let said = unread(&docs);
        assert!(
            said.contains(doc)
                && said.contains(&format!(
                    "{field}: unknown field \\\"{field}\\\" (did you mean {near}?): kubectl refuses the document"
                )),
            "{said}"
        );
    }
}

/// Keys the schema knows are read as ever, a free map's keys (labels, annotations,
/// parameters) included, and a `status` from `kubectl get -o yaml` is not judged.
#[test]
fn known_keys_and_a_status_leave_the_documents_read() {
    let status = format!("{DEPLOYMENT}status: {{replicas: 1, anyField: 2}}\n");
    let labelled = DEPLOYMENT.replace("{app: app}}\n    spec", "{app: app, any/key: x}}\n    spec");
    for docs in [[SPC, DEPLOYMENT], [SPC, &status], [SPC, &labelled]] {
        assert_eq!(unread(&docs), "[]");
    }
}
