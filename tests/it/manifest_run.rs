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
