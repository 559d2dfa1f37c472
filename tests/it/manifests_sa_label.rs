//! The workload-identity webhook selects pods by the label `azure.workload.identity/use:
//! "true"` on the pod (template), never on the ServiceAccount (FACTS §6: objectSelector on
//! the pod labels). A label written on the ServiceAccount, as older guides did, is said in
//! KVC201 as being in the wrong place (audit J6), so that the finding does not read as a
//! false alarm to someone who sees the label in the ServiceAccount's file.

use serde_json::Value;

const SPC: &str = "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {name: spc, namespace: app}\nspec:\n  provider: azure\n  parameters:\n    keyvaultName: kv-app\n    tenantId: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b\n    clientID: 0b9c5e1a-7d2f-4c3e-9a8b-1f2e3d4c5b6a\n    objects: |\n      array:\n        - |\n          objectName: db\n          objectType: secret\n";

const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: app}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      serviceAccountName: app-sa\n      containers:\n      - name: web\n        image: nginx\n        volumeMounts: [{name: s, mountPath: /mnt/s, readOnly: true}]\n      volumes:\n      - name: s\n        csi: {driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {secretProviderClass: spc}}\n";

fn service_account(labels: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app-sa\n  namespace: app\n  labels: {labels}\n  annotations: {{azure.workload.identity/client-id: 0b9c5e1a-7d2f-4c3e-9a8b-1f2e3d4c5b6a}}\n"
    )
}

/// The one KVC201 of `check -f` on the SPC, the ServiceAccount with `labels` and the
/// Deployment, whose pod template is not labelled.
fn kvc201(labels: &str) -> Value {
    let (_, r, _) = crate::manifest_run::check_docs(&[SPC, &service_account(labels), DEPLOYMENT]);
    let found = crate::manifest_run::findings_of(&r, "KVC201");
    assert_eq!(found.len(), 1, "{r:#}");
    found[0].clone()
}

#[test]
fn a_use_label_on_the_service_account_is_said_to_be_in_the_wrong_place() {
    let f = kvc201("{azure.workload.identity/use: 'true'}");
    let message = f["message"].as_str().unwrap();
    assert!(
        message.contains("ServiceAccount app-sa carries label azure.workload.identity/use")
            && message.contains("pod labels only")
            && message.contains("move it to the pod template"),
        "{message}"
    );
    let evidence: Vec<&str> = (f["evidence"].as_array().unwrap().iter())
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(
        evidence
            .iter()
            .any(|e| e.starts_with("ServiceAccount app-sa")
                && e.contains("azure.workload.identity/use")),
        "{evidence:?}"
    );
    // The fix still labels the pod template, and says why the ServiceAccount's does nothing.
    let fix = f["fix"].as_str().unwrap();
    assert!(
        fix.starts_with("kubectl patch deployment web -n app")
            && fix.contains(r#""labels":{"azure.workload.identity/use":"true"}"#)
            && fix.contains("ServiceAccount app-sa"),
        "{fix}"
    );
}

/// Without the label on the ServiceAccount, KVC201 says nothing of it.
#[test]
fn no_service_account_label_no_word_of_it() {
    let f = kvc201("{team: web}");
    assert!(
        !f["message"].as_str().unwrap().contains("ServiceAccount"),
        "{f:#}"
    );
}

/// Neither the client-id annotation nor the pod label (KVC203, a note): a label on the
/// ServiceAccount is named there too, as selecting nothing.
#[test]
fn kvc203_names_a_use_label_on_the_service_account() {
    let sa = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app-sa\n  namespace: app\n  labels: {azure.workload.identity/use: 'true'}\n";
    let (_, r, _) = crate::manifest_run::check_docs(&[SPC, sa, DEPLOYMENT]);
    let found = crate::manifest_run::findings_of(&r, "KVC203");
    assert_eq!(found.len(), 1, "{r:#}");
    let message = found[0]["message"].as_str().unwrap();
    assert!(
        message.contains("ServiceAccount app-sa carries label azure.workload.identity/use")
            && message.contains("move it to the pod template"),
        "{message}"
    );
}

/// Audit TT7: the SPC's clientID is still a template placeholder (KVC306): KVC203's annotate
/// does not paste it in single quotes (`'$VAR'` stays literal even once the variable is set):
/// it takes the value from CLIENT_ID, which bash refuses to expand while unset (audit III6:
/// `<the same clientId …>` was a redirection).
#[test]
fn kvc203_names_no_placeholder_client_id() {
    let spc = SPC.replace(
        "clientID: 0b9c5e1a-7d2f-4c3e-9a8b-1f2e3d4c5b6a",
        "clientID: $APP_CLIENT_ID",
    );
    let sa = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app-sa, namespace: app}\n";
    let labelled = DEPLOYMENT.replace(
        "labels: {app: web}",
        "labels: {app: web, azure.workload.identity/use: 'true'}",
    );
    for deployment in [DEPLOYMENT.to_string(), labelled] {
        let (_, r, _) = crate::manifest_run::check_docs(&[&spc, sa, &deployment]);
        assert_eq!(
            crate::manifest_run::findings_of(&r, "KVC306").len(),
            1,
            "{r:#}"
        );
        let found = crate::manifest_run::findings_of(&r, "KVC203");
        assert_eq!(found.len(), 1, "{r:#}");
        let fix = found[0]["fix"].as_str().unwrap();
        assert!(!fix.contains("APP_CLIENT_ID"), "{fix}");
        assert!(
            fix.contains(
                "kubectl annotate serviceaccount app-sa -n app azure.workload.identity/client-id=\"${CLIENT_ID:?set CLIENT_ID to the clientId the SecretProviderClass names}\" --overwrite"
            ),
            "{fix}"
        );
    }
}
