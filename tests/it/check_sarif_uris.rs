//! Audit Y6: SARIF 2.1.0 `artifactLocation.uri` is a URI reference (the OASIS schema in
//! tests/fixtures: `"format": "uri-reference"`; RFC 3986). `check -f -` used to write
//! `"uri": "<stdin>"` and paths went unencoded (`a b.yaml`). Standard input is described
//! instead (its line kept); a file's path is percent-encoded and decodes back to the path.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

const SPC: &str = "\
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: lone
  namespace: shop
spec:
  provider: azure
  parameters:
    keyvaultName: kv-shop
    tenantId: \"72f988bf-86f1-41af-91ab-2d7cd011db47\"
    objects: |
      array:
        - |
          objectName: a
          objectType: secrte
";

/// RFC 3986 characters of a relative reference's path: unreserved, sub-delims, `:@/`, and
/// `%` only as the start of `%XX`.
fn is_uri_path(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'%' {
            if i + 2 >= b.len() || !(b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit()) {
                return false;
            }
            i += 3;
            continue;
        }
        if !(c.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&c)) {
            return false;
        }
        i += 1;
    }
    true
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn artifacts(doc: &Value) -> Vec<Value> {
    doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| {
            r["locations"][0]["physicalLocation"]
                .get("artifactLocation")
                .cloned()
        })
        .collect()
}

fn run(dir: &std::path::Path, args: &[&str], stdin: Option<&str>) -> Value {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "-o", "sarif"])
        .args(args)
        .current_dir(dir)
        .env("XDG_CONFIG_HOME", dir)
        .env("HOME", dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn standard_input_is_described_not_named_by_an_invalid_uri() {
    let dir = tempfile::tempdir().unwrap();
    let doc = run(dir.path(), &["-f", "-"], Some(SPC));
    let found = artifacts(&doc);
    assert!(!found.is_empty(), "{doc}");
    for a in found {
        if let Some(uri) = a["uri"].as_str() {
            assert!(is_uri_path(uri), "not a URI reference: {uri}");
        }
        // GitHub code scanning refuses a location without a uri (audit AA5).
        assert_eq!(a["uri"], "stdin", "{a}");
        assert!(a.get("description").is_some(), "{a}");
    }
}

#[test]
fn file_paths_are_percent_encoded() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("my manifests#1");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(sub.join("spc 100%.yaml"), SPC).unwrap();
    let doc = run(dir.path(), &["-f", "my manifests#1"], None);
    let uris: Vec<String> = artifacts(&doc)
        .iter()
        .filter_map(|a| a["uri"].as_str().map(str::to_string))
        .collect();
    assert!(!uris.is_empty(), "{doc}");
    for uri in uris {
        assert!(is_uri_path(&uri), "not a URI reference: {uri}");
        assert_eq!(decode(&uri), "my manifests#1/spc 100%.yaml");
    }
}
