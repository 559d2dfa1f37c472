//! Audit XX8: input errors say where and what in the input's own terms. README: "Input errors
//! name the file, the document, the line and the field path"; the config's "every error names
//! the file and the field". Rust type names (`struct Coll`, `i32`) mean nothing to the reader;
//! a List item is named by its place in the List; an invalid name is quoted once, not escaped
//! twice.

use std::path::Path;

/// `kvchain ARGS` in `dir`: exit status, stdout and stderr together.
fn run(args: &[&str], dir: &Path) -> (Option<i32>, String) {
    let out = crate::hostile_manifests::kvchain(args, dir);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

const SA: &str = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app, namespace: shop}\n";

/// No Rust type name shows through: `expected i32` is an integer, `struct …` an object.
#[test]
fn type_errors_say_what_is_expected_in_the_inputs_terms() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "m.yaml",
        &format!(
            "{SA}---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: shop}}\nspec:\n  replicas: \"2\"\n  selector: {{}}\n  template: {{spec: {{containers: [{{name: c}}]}}}}\n"
        ),
    );
    let (code, out) = run(&["check", "-f", "m.yaml"], d);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("spec.replicas: the API server refuses the document (kubectl apply says: Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32)"),
        "{out}"
    );
    // A snapshot's collection that is null, and the config's number.
    write(d, "cfg.yaml", "lab:\n  speed: 1e309\n");
    let (code, out) = run(&["check", "--lab", "default", "--config", "cfg.yaml"], d);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("lab.speed: invalid type: a string, expected a number"),
        "{out}"
    );
    let (code, snap) = run(&["snapshot", "save", "--lab", "default", "-o", "s.json"], d);
    assert_eq!(code, Some(0), "{snap}");
    let mut s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("s.json")).unwrap()).unwrap();
    s["snapshot"]["pods"] = serde_json::Value::Null;
    write(d, "s.json", &s.to_string());
    let (code, out) = run(&["check", "--snapshot", "s.json"], d);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("snapshot.pods (line ")
            && out.contains("invalid type: null, expected an object"),
        "{out}"
    );
    for rust in ["struct ", "i32", "f64"] {
        assert!(!out.contains(rust), "{rust} shows through: {out}");
    }
}

/// A List's items share its document: the bad one is named by `items[N]`.
#[test]
fn a_list_items_error_names_the_item() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "list.yaml",
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ServiceAccount\n  metadata: {name: a, namespace: shop}\n\
         - apiVersion: v1\n  kind: ServiceAccount\n  metadata:\n    name: web\n    namespace: shop\n    annotations:\n      azure.workload.identity/client-id: 123\n\
         - apiVersion: v1\n  kind: ServiceAccount\n  metadata: {namespace: shop}\n",
    );
    let (code, out) = run(&["check", "-f", "list.yaml"], d);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("list.yaml, document 1: List (document starts at line 1): items[1]: ServiceAccount/web: metadata.annotations"),
        "{out}"
    );
    assert!(
        out.contains("list.yaml, document 1: List (document starts at line 1): items[2]: ServiceAccount: metadata.name"),
        "{out}"
    );
}

/// Errors with no place of their own: a document whose aliases expand too often names the
/// line it starts at; a config file with a tab before its first key names line and column.
#[test]
fn errors_without_a_place_of_their_own_name_a_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Nine aliases of the one before, ten times over: serde_yaml's repetition limit.
    let mut bomb = String::from(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  a0: &a0 [x]\n",
    );
    for i in 1..=10 {
        let p = i - 1;
        bomb.push_str(&format!(
            "  a{i}: &a{i} [*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p}]\n"
        ));
    }
    write(d, "bomb.yaml", &format!("{SA}---\n{bomb}"));
    let (code, out) = run(&["check", "-f", "bomb.yaml"], d);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("bomb.yaml, document 2: invalid YAML: repetition limit exceeded (its aliases expand too many times) (document starts at line 5)"),
        "{out}"
    );
    write(d, "cfg.yaml", "\ttheme: light\n");
    let (code, out) = run(&["check", "--lab", "default", "--config", "cfg.yaml"], d);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("cfg.yaml: line 1, column 1: found character"),
        "{out}"
    );
}

/// A name holding a control character is quoted with it escaped once, as the resource beside
/// it shows it (`{:?}` of the escaped text wrote `\\u{1b}`).
#[test]
fn an_invalid_name_is_escaped_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "m.yaml",
        &format!(
            "{SA}---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: \"web\\e[2J\", namespace: shop}}\n"
        ),
    );
    let (code, out) = run(&["check", "-f", "m.yaml"], d);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains(
            "metadata.name: Invalid value: \"web\\u{1b}[2J\": a lowercase RFC 1123 subdomain"
        ),
        "{out}"
    );
    assert!(!out.contains("\\\\u{1b}"), "escaped twice: {out}");
}
