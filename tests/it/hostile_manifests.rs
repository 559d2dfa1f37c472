//! Hostile manifests given to `check -f` (audit F): too many documents, names too long to
//! echo, documents kubectl refuses, a path holding no manifest. Each ends in a clear message
//! naming the file and the field (an unread document, or exit 2), never a quiet pass. Large
//! inputs are generated here, not committed.

use std::path::Path;
use std::process::{Command, Output, Stdio};

const SA: &str =
    "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app\n  namespace: shop\n";

fn kvchain(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("run kvchain")
}

/// Exit code and stdout + stderr of `check -f m.yaml` over `text`.
fn check_f(text: &str, more: &[&str]) -> (Option<i32>, String) {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("m.yaml"), text).unwrap();
    let mut args = vec!["check", "-f", "m.yaml"];
    args.extend(more);
    let out = kvchain(&args, d.path());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), all)
}

/// 54 MB of `---\nx: 1\n` took 5 GB and half a minute (audit F4): a file of more documents
/// than kvchain reads is refused whole, naming it and the limit, before any is parsed.
#[test]
fn a_file_of_too_many_documents_is_refused_naming_it_and_the_limit() {
    let text = "---\nx: 1\n".repeat(100_001);
    let (code, out) = check_f(&text, &[]);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains(
            "m.yaml: 100001 YAML documents, more than the 100000 kvchain reads from one file"
        ),
        "{out}"
    );
    // Beside a readable file it is listed as not read, and the other file is diagnosed.
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("big.yaml"), &text).unwrap();
    std::fs::write(d.path().join("sa.yaml"), SA).unwrap();
    let out = kvchain(&["check", "-f", ".", "-o", "json"], d.path());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(out.status.code(), Some(1));
    let unread = json["unread"].as_array().expect("unread");
    assert_eq!(unread.len(), 1, "{unread:?}");
    assert!(
        unread[0]
            .as_str()
            .unwrap()
            .contains("big.yaml: 100001 YAML documents")
    );
}

/// At the limit, every document is read.
#[test]
fn a_file_at_the_document_limit_is_read() {
    let mut text = String::from(SA);
    text.push_str(&"---\nx: 1\n".repeat(99_999));
    let (code, out) = check_f(&text, &[]);
    assert_eq!(code, Some(0), "{out}");
}

/// A huge `metadata.name` was echoed whole in the label of the document's error and in the
/// JSON `unread` (audit F5): it is cut like any echoed value, to 200 characters and its size.
#[test]
fn a_huge_name_is_cut_in_the_label_of_an_unread_document() {
    let name = "a".repeat(100_000);
    let doc = format!("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {name}\n");
    // Alone: exit 2, the message on stderr.
    let (code, out) = check_f(&doc, &[]);
    assert_eq!(code, Some(2), "{}", &out[..out.len().min(2000)]);
    assert!(out.len() < 2_000, "{} bytes: {}", out.len(), &out[..2000]);
    assert!(
        out.contains(&format!("ServiceAccount/{}… (100015 bytes)", &name[..185])),
        "{out}"
    );
    // Beside a readable document: listed under `unread`, cut there too.
    let (code, out) = check_f(&format!("{SA}---\n{doc}"), &["-o", "json"]);
    assert_eq!(code, Some(1));
    let json: serde_json::Value = serde_json::from_str(&out).expect("json");
    let unread = json["unread"][0].as_str().expect("unread");
    assert!(unread.len() < 1_000, "{} bytes", unread.len());
    assert!(unread.contains("ServiceAccount/aaaa"), "{unread}");
}
