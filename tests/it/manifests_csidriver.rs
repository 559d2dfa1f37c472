//! KVC105's fix when the CSIDriver is a document of the given manifests (audit J7): the
//! driver applied from its deploy YAML, whose CSIDriver has no tokenRequests (FACTS §4), so
//! workload-identity mounts find no token (FACTS §5). The fix edits that document and applies
//! it again; a `helm upgrade` of a release the files do not show would not exist.

use serde_json::Value;

const SPC: &str = "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {name: spc, namespace: app}\nspec:\n  provider: azure\n  parameters:\n    keyvaultName: kv-app\n    tenantId: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b\n    clientID: 0b9c5e1a-7d2f-4c3e-9a8b-1f2e3d4c5b6a\n    objects: |\n      array:\n        - |\n          objectName: db\n          objectType: secret\n";

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: app}\nspec:\n  containers:\n  - name: web\n    image: nginx\n    volumeMounts: [{name: s, mountPath: /mnt/s, readOnly: true}]\n  volumes:\n  - name: s\n    csi: {driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {secretProviderClass: spc}}\n";

/// The deploy YAML's CSIDriver (FACTS §4), with `extra` lines under its spec.
fn csidriver(extra: &str) -> String {
    format!(
        "apiVersion: storage.k8s.io/v1\nkind: CSIDriver\nmetadata:\n  name: secrets-store.csi.k8s.io\nspec:\n  podInfoOnMount: true\n  attachRequired: false\n  volumeLifecycleModes:\n  - Ephemeral\n  requiresRepublish: true\n{extra}"
    )
}

/// The KVC105 findings of `check -f` on the driver file and the app file, and the driver
/// file's path.
fn kvc105(driver: &str) -> (Vec<Value>, String) {
    kvc105_in(driver, true)
}

/// [`kvc105`], the CSIDriver the second document after a ServiceAccount (`shared`) or its
/// file's one object.
fn kvc105_in(driver: &str, shared: bool) -> (Vec<Value>, String) {
    let dir = tempfile::tempdir().unwrap();
    let driver_path = dir.path().join("driver.yaml");
    let rbac = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: secrets-store-csi-driver, namespace: kube-system}\n";
    let docs = if shared {
        vec![rbac, driver]
    } else {
        vec![driver]
    };
    std::fs::write(&driver_path, docs.join("---\n")).unwrap();
    std::fs::write(dir.path().join("app.yaml"), [SPC, POD].join("---\n")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "-f"])
        .arg(dir.path())
        .args(["-o", "json"])
        .output()
        .unwrap();
    let r: Value = serde_json::from_slice(&out.stdout).expect("json");
    let found = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "KVC105")
        .cloned()
        .collect();
    (found, driver_path.display().to_string())
}

#[test]
fn kvc105_edits_the_csidriver_document_it_was_read_from() {
    let (found, path) = kvc105_in(&csidriver(""), false);
    assert_eq!(found.len(), 1, "{found:#?}");
    let fix = found[0]["fix"].as_str().unwrap();
    assert!(
        fix.starts_with(&format!(
            "${{EDITOR:-vi}} {path} && kubectl apply -f {path}  # in document 1, CSIDriver secrets-store.csi.k8s.io, set spec.tokenRequests: [{{audience: api://AzureADTokenExchange}}]"
        )),
        "{fix}"
    );
    assert!(!fix.contains("helm"), "{fix}");
}

/// Audit TT2's rule for every fix that edits a file: one holding other objects is never
/// applied whole (`kubectl apply -f` would re-apply them as written, over other fixes'
/// changes or rendered live objects). The live CSIDriver is edited (tokenRequests may change
/// in place) and the document named for the same change; pasted, nothing is applied.
#[test]
fn a_csidriver_sharing_its_file_is_edited_live_never_the_file_applied() {
    let (found, path) = kvc105(&csidriver(""));
    assert_eq!(found.len(), 1, "{found:#?}");
    let fix = found[0]["fix"].as_str().unwrap();
    assert!(
        fix.starts_with("kubectl edit csidriver secrets-store.csi.k8s.io  # "),
        "{fix}"
    );
    assert!(fix.contains(&format!("in document 2 of {path}")), "{fix}");
    assert!(
        fix.contains("set spec.tokenRequests: [{audience: api://AzureADTokenExchange}]"),
        "{fix}"
    );
    let run = crate::paste_kit::paste(fix, "", "");
    assert!(run.called("kubectl [apply]").is_empty(), "{:?}", run.calls);
    assert_eq!(
        run.calls,
        ["kubectl [edit] [csidriver] [secrets-store.csi.k8s.io]"],
        "{:?}",
        run.calls
    );
}

/// The edit the fix asks for, made: nothing left to say. An audience the document already
/// requests is kept in the list the fix sets.
#[test]
fn the_edit_it_asks_for_ends_the_finding_and_keeps_other_audiences() {
    let (found, _) = kvc105(&csidriver(
        "  tokenRequests:\n  - audience: api://AzureADTokenExchange\n",
    ));
    assert!(found.is_empty(), "{found:#?}");
    let (found, _) = kvc105(&csidriver(
        "  tokenRequests:\n  - audience: api://AKSIdentityBinding\n",
    ));
    let fix = found[0]["fix"].as_str().unwrap();
    assert!(
        fix.contains("add {audience: api://AzureADTokenExchange} to spec.tokenRequests, keeping its entries (api://AKSIdentityBinding) as they are"),
        "{fix}"
    );
}

/// Audit LL15: an entry the document has keeps its fields (expirationSeconds): the fix adds
/// the audience to the list, never sets the list anew without them, and the list with the
/// entry as it was and the audience added ends the finding.
#[test]
fn an_existing_entry_keeps_its_expiration() {
    let entry =
        "  tokenRequests:\n  - audience: api://AKSIdentityBinding\n    expirationSeconds: 3600\n";
    let (found, _) = kvc105(&csidriver(entry));
    assert_eq!(found.len(), 1, "{found:#?}");
    let fix = found[0]["fix"].as_str().unwrap();
    assert!(!fix.contains("set spec.tokenRequests: ["), "{fix}");
    assert!(
        fix.contains("add {audience: api://AzureADTokenExchange} to spec.tokenRequests"),
        "{fix}"
    );
    assert!(fix.contains("as they are"), "{fix}");
    let (found, _) = kvc105(&csidriver(&format!(
        "{entry}  - audience: api://AzureADTokenExchange\n"
    )));
    assert!(found.is_empty(), "{found:#?}");
}
