//! Hostile manifests given to `check -f` (audit F): too many documents, names too long to
//! echo, documents kubectl refuses, a path holding no manifest. Each ends in a clear message
//! naming the file and the field (an unread document, or exit 2), never a quiet pass. Large
//! inputs are generated here, not committed.

use std::path::Path;
use std::process::{Command, Output, Stdio};

const SA: &str =
    "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app\n  namespace: shop\n";

/// `kvchain ARGS` in `dir`, without color, logs or standard input (shared by the hostile
/// command and input-wording tests).
pub(crate) fn kvchain(args: &[&str], dir: &Path) -> Output {
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

/// Documents kubectl refuses are listed as not read with the reason (audit F7, F8, F12, F13),
/// beside a readable ServiceAccount (exit 1): before, a scalar, a sequence, a List item that
/// is no object and a kind-less document with `spec` passed as if absent, `kind: 5` read as
/// "kind: missing", a document without apiVersion was diagnosed, and a top-level sequence of
/// objects got a blank label.
#[test]
fn documents_kubectl_refuses_are_listed_with_the_reason() {
    let pod = "{apiVersion: v1, kind: Pod, metadata: {name: p, namespace: shop}, spec: {containers: [{name: a, image: x}]}}";
    let cases = [
        (
            "hello\n",
            "document 2: the document (document starts at line 7): is a string, not an object",
        ),
        (
            "- a\n- b\n",
            "document 2: the document (document starts at line 7): is a sequence (a YAML list), not an object",
        ),
        (
            &format!("- {pod}\n"),
            "document 2: the document (document starts at line 7): is a sequence (a YAML list), not an object",
        ),
        (
            &format!("apiVersion: v1\nkind: List\nitems:\n- {pod}\n- \"apiVersion: v1\"\n- 42\n"),
            "document 2: List (document starts at line 7): items[1]: is a string, not an object",
        ),
        (
            "apiVersion: apps/v1\nspec:\n  replicas: 1\n",
            "document 2: apps/v1 (document starts at line 7): kind: missing",
        ),
        (
            "apiVersion: v1\nkind: 5\nmetadata: {name: k, namespace: shop}\n",
            "document 2: v1 k (document starts at line 7): kind: is a number, not a string",
        ),
        (
            "kind: Pod\nmetadata: {name: ko, namespace: shop}\nspec: {containers: [{name: a, image: x}], volumes: [{name: s, csi: {driver: secrets-store.csi.k8s.io, volumeAttributes: {secretProviderClass: kv}}}]}\n",
            "document 2: Pod/ko (document starts at line 7): apiVersion: missing or not a string (kubectl rejects a document without it: \"Object 'apiVersion' is missing\")",
        ),
    ];
    for (doc, want) in cases {
        let (code, out) = check_f(&format!("{SA}---\n{doc}"), &["-o", "json"]);
        assert_eq!(code, Some(1), "{doc}: {out}");
        let json: serde_json::Value = serde_json::from_str(&out).expect("json");
        let unread: Vec<&str> = json["unread"]
            .as_array()
            .expect("unread")
            .iter()
            .filter_map(|u| u.as_str())
            .collect();
        assert!(
            unread
                .iter()
                .any(|u| u.starts_with(&format!("m.yaml, {want}"))),
            "{doc}: {unread:?}"
        );
        // Nothing of it is diagnosed: the Pod of the sequence or without apiVersion is no chain.
        assert_eq!(json["summary"]["chains"], 0, "{doc}");
    }
    // The List's object item is still read; the number item is listed too.
    let (_, out) = check_f(
        &format!("apiVersion: v1\nkind: List\nitems:\n- {pod}\n- 42\n"),
        &["-o", "json"],
    );
    let json: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(json["summary"]["chains"], 0);
    assert!(
        json["unread"][0]
            .as_str()
            .unwrap()
            .contains("items[1]: is a number, not an object")
    );
    // An empty document and kind-less Helm values are still no objects, and not refused.
    let (code, out) = check_f(
        &format!("{SA}---\n---\nreplicaCount: 2\nimage: {{tag: x}}\n"),
        &[],
    );
    assert_eq!(code, Some(0), "{out}");
}

/// A directory with no manifest file (empty, or only templates) passed with 0 chains and exit
/// 0 (audit F9): a mistyped path in CI was green. It is an input error naming the path.
#[test]
fn a_directory_without_a_manifest_file_is_an_input_error_naming_it() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("empty")).unwrap();
    std::fs::create_dir(d.path().join("tpl")).unwrap();
    std::fs::write(d.path().join("tpl/deploy.yaml.tpl"), SA).unwrap();
    for dir in ["empty", "tpl"] {
        let out = kvchain(&["check", "-f", dir], d.path());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{dir}: {err}");
        assert!(
            err.contains(&format!("{dir}: no manifest file found"))
                && err.contains("no objects passed to apply"),
            "{dir}: {err}"
        );
    }
    // Beside a path that holds one, the empty directory adds nothing, as for kubectl.
    std::fs::write(d.path().join("sa.yaml"), SA).unwrap();
    let out = kvchain(&["check", "-f", "empty", "sa.yaml"], d.path());
    assert_eq!(out.status.code(), Some(0));
}

/// Audit QQ4: an input with no object at all (an empty file, comments only, `null`, empty
/// `---` documents, a List without items, an empty `helm template` render on stdin) passed
/// green with "0 chains, 0 errors", while an empty directory was exit 2. kubectl refuses each
/// alike ("no objects passed to apply"): so does `check -f`, naming the input, in every format.
#[test]
fn an_input_with_no_object_is_an_input_error_naming_it() {
    let empties = [
        ("empty.yaml", ""),
        ("blank.yaml", "\n  \n"),
        ("comments.yaml", "# nothing rendered\n# really\n"),
        ("null.yaml", "null\n"),
        (
            "separators.yaml",
            "---\n---\n# Source: chart/templates/x.yaml\n---\n",
        ),
        ("list0.yaml", "apiVersion: v1\nkind: List\nitems: []\n"),
        (
            "list-nulls.yaml",
            "apiVersion: v1\nkind: List\nitems: [null, ~]\n",
        ),
        (
            "list0.json",
            r#"{"apiVersion": "v1", "kind": "List", "items": []}"#,
        ),
    ];
    let d = tempfile::tempdir().unwrap();
    for (name, text) in empties {
        std::fs::write(d.path().join(name), text).unwrap();
        for format in ["text", "json", "sarif", "junit"] {
            let out = kvchain(&["check", "-f", name, "-o", format], d.path());
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{name} -o {format}: {err}");
            assert!(
                err.contains(&format!("{name}: no objects"))
                    && err.contains("no objects passed to apply"),
                "{name} -o {format}: {err}"
            );
        }
    }
    // `helm template … | kvchain check -f -` on an empty render.
    for text in ["", "---\n# Source: chart/templates/empty.yaml\n"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kvchain"))
            .args(["check", "-f", "-"])
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run kvchain");
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "stdin {text:?}: {err}");
        assert!(
            err.contains("<stdin>: no objects") && err.contains("no objects passed to apply"),
            "stdin {text:?}: {err}"
        );
    }
    // Beside a file that holds an object, an empty one adds nothing, as for kubectl.
    std::fs::write(d.path().join("sa.yaml"), SA).unwrap();
    let out = kvchain(
        &["check", "-f", "empty.yaml", "null.yaml", "sa.yaml"],
        d.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A null document beside a broken one: nothing could be read, the broken one is said.
    std::fs::write(
        d.path().join("bad.yaml"),
        "kind: ConfigMap\nmetadata:\n\tname: x\n",
    )
    .unwrap();
    let out = kvchain(&["check", "-f", "null.yaml", "bad.yaml"], d.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("bad.yaml, document 1: invalid YAML"), "{err}");
}

/// Audit QQ6: a JSON document that does not parse was "invalid YAML" with libyaml's message
/// (README: a JSON document is read by a JSON parser); a control character on line 4 was
/// placed at line 1, column 1 (serde_yaml gives such a reader error only a byte position).
#[test]
fn a_json_error_says_json_and_a_control_character_its_real_line() {
    let json = r#"{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "x"}, "oops": [1,2,}"#;
    let (code, out) = check_f(json, &[]);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("m.yaml, document 1: invalid JSON at line 1, column 88: expected value"),
        "{out}"
    );
    // In a second document, at the file's line.
    let (_, out) = check_f(&format!("{SA}---\n{json}\n"), &[]);
    assert!(
        out.contains("document 2: invalid JSON at line 7, column 88"),
        "{out}"
    );
    let nul =
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: \"x\u{0}y\"\n  namespace: a\n";
    let (code, out) = check_f(nul, &[]);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("invalid YAML at line 4, column 11: control characters are not allowed"),
        "{out}"
    );
    let (_, out) = check_f(&format!("{SA}---\n{nul}"), &[]);
    assert!(
        out.contains("document 2: invalid YAML at line 10, column 11"),
        "{out}"
    );
}
