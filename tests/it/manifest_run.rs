//! `kvchain check -f` of manifest documents written as one file, read back from its JSON
//! report: what the manifests tests paste and compare.

use serde_json::Value;

/// `check -f` of `docs` as one file: (exit status, JSON report, the file's path).
pub(crate) fn check_docs(docs: &[&str]) -> (i32, Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.yaml");
    std::fs::write(&path, docs.join("---\n")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "-f"])
        .arg(&path)
        .args(["-o", "json"])
        .output()
        .unwrap();
    let r: Value = serde_json::from_slice(&out.stdout).expect("json");
    (out.status.code().unwrap(), r, path.display().to_string())
}

/// The findings of `code` in report `r`.
pub(crate) fn findings_of(r: &Value, code: &str) -> Vec<Value> {
    (r["findings"].as_array().unwrap().iter())
        .filter(|f| f["code"] == code)
        .cloned()
        .collect()
}

/// Namespace team-a's ServiceAccount app-sa, annotated with the identity the SPCs name.
pub(crate) const SA: &str = "apiVersion: v1
kind: ServiceAccount
metadata: {name: app-sa, namespace: team-a, annotations: {azure.workload.identity/client-id: 11111111-2222-4333-8444-555555555555}}
";

/// SecretProviderClass `name` in team-a (workload identity, vault kv-team-a) with `sync` (a
/// `secretObjects:` block, or empty) and `objects` (the lines under `objects: |`).
pub(crate) fn spc(name: &str, sync: &str, objects: &str) -> String {
    format!(
        "apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata: {{name: {name}, namespace: team-a}}
spec:
  provider: azure
{sync}  parameters:
    clientID: 11111111-2222-4333-8444-555555555555
    keyvaultName: kv-team-a
    tenantID: 72f988bf-86f1-41af-91ab-2d7cd011db47
    objects: |
{objects}"
    )
}

/// One secret object, `db-password`, as the lines under `objects: |`.
pub(crate) const ONE_OBJECT: &str = "      array:
        - |
          objectName: db-password
          objectType: secret
";
