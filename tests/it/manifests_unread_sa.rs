//! A ServiceAccount the files define but whose document kvchain could not read (audit BB3).
//! FACTS §6 lists `azure.workload.identity/service-account-token-expiration` among the SA's
//! annotations; written unquoted (`86400`) it is an integer, which an annotation
//! (map[string]string) cannot hold: kubectl refuses that document, and kvchain lists it under
//! Not read. The account is then neither absent from the files nor to be created bare
//! (`kubectl create serviceaccount` would drop its other annotations, and applying the file
//! would still fail on it): its document is to be corrected, as KVC101 says for an unread SPC.

const SPC: &str = "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {name: app-kv, namespace: shop}\nspec:\n  provider: azure\n  parameters: {clientID: 0b9c5e1a-7d2f-4c3e-9a8b-1f2e3d4c5b6a, keyvaultName: kv-shop, tenantId: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b, objects: \"array:\\n  - |\\n    objectName: db\\n    objectType: secret\\n\"}\n";

const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app, namespace: shop}\nspec:\n  selector: {matchLabels: {app: app}}\n  template:\n    metadata: {labels: {app: app, azure.workload.identity/use: \"true\"}}\n    spec:\n      serviceAccountName: app\n      containers:\n      - name: c\n        image: i\n        volumeMounts: [{name: kv, mountPath: /mnt/kv, readOnly: true}]\n      volumes:\n      - name: kv\n        csi: {driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {secretProviderClass: app-kv}}\n";

fn sa(annotations: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app\n  namespace: shop\n  annotations:\n    azure.workload.identity/client-id: 0b9c5e1a-7d2f-4c3e-9a8b-1f2e3d4c5b6a\n{annotations}"
    )
}

#[test]
fn an_unread_service_account_document_is_to_be_corrected_not_created() {
    for annotation in [
        "    azure.workload.identity/service-account-token-expiration: 86400\n",
        "    azure.workload.identity/tenant-id: 5\n",
    ] {
        let sa = sa(annotation);
        let (_, r, path) = crate::manifest_run::check_docs(&[SPC, DEPLOYMENT, &sa]);
        let unread = r["unread"].to_string();
        assert!(unread.contains("ServiceAccount/app"), "{unread}");
        let found = crate::manifest_run::findings_of(&r, "KVC202");
        assert_eq!(found.len(), 1, "{found:#?}");
        let (message, fix) = (
            found[0]["message"].as_str().unwrap(),
            found[0]["fix"].as_str().unwrap(),
        );
        assert!(
            message.contains("runs as service account app, whose document could not be read: ")
                && message.contains("document 3: ServiceAccount/app")
                && !message.contains("not in the given manifests"),
            "{message}"
        );
        assert!(!fix.contains("kubectl create serviceaccount"), "{fix}");
        // The file holds other objects: applied whole it would re-apply them as written
        // (audit TT2), so the document alone.
        assert_eq!(
            fix,
            format!(
                "# correct {path}, document 3 (see Not read), then apply that document alone (kubectl apply -n shop -f <a file holding only it>: the file holds other objects, which applying it whole would re-apply as written)"
            )
        );
    }
}

/// The account's document alone in its file: that file, corrected, is what to apply.
#[test]
fn an_unread_account_alone_in_its_file_is_applied_from_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sa.yaml");
    std::fs::write(dir.path().join("app.yaml"), [SPC, DEPLOYMENT].join("---\n")).unwrap();
    std::fs::write(&file, sa("    azure.workload.identity/tenant-id: 5\n")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "-f"])
        .arg(dir.path())
        .args(["-o", "json"])
        .output()
        .unwrap();
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let found = crate::manifest_run::findings_of(&r, "KVC202");
    assert_eq!(found.len(), 1, "{found:#?}");
    let path = file.display().to_string();
    assert_eq!(
        found[0]["fix"].as_str().unwrap(),
        format!(
            "# correct {path}, document 1 (see Not read), then kubectl apply -n shop -f {path}"
        )
    );
}

/// An account in none of the files stays what it was: unknown offline, a warning.
#[test]
fn an_account_in_no_file_is_still_unknown_offline() {
    let (_, r, _) = crate::manifest_run::check_docs(&[SPC, DEPLOYMENT]);
    let found = crate::manifest_run::findings_of(&r, "KVC202");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0]["severity"], "warning");
    assert!(
        found[0]["message"]
            .as_str()
            .unwrap()
            .contains("which is not in the given manifests"),
        "{found:#?}"
    );
}
