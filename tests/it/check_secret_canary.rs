//! README "Input errors": "A wrong-typed value is never echoed: it may be secret material."
//! Audit QQ5: an integer too large for u128 under a Secret's `stringData` was echoed whole in
//! the parse error (`invalid type: integer `1844…1234` as u128`), as parse errors did not pass
//! the redaction type errors pass.
//!
//! A canary: a distinctive value planted in every shape that can make a document fail to read
//! (an integer past u64 or u128, a float or a boolean where a string is expected, a map or a
//! list, an invalid escape, an unclosed quote, a duplicate key, a tag, a control character),
//! under a Secret's `stringData` and `data` and a container's `env` value, in YAML and JSON.
//! `check -f` reads each bad file alone (exit 2, the message on stderr) and all of them beside
//! a healthy app (exit 1, listed as not read) in every `-o` format: no part of a canary may
//! appear on stdout or stderr.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const WEB: &str = include_str!("../../assets/examples/healthy/web.yaml");
const SAS: &str = include_str!("../../assets/examples/healthy/serviceaccounts.json");

/// A shape of bad value: its name, the YAML lines for `key` at `indent`, and what of it must
/// never be printed (compared case-insensitively).
struct Shape {
    name: &'static str,
    lines: fn(&str, &str) -> String,
    canary: &'static [&'static str],
    /// Whether kvchain refuses the document (a local tag is read as the value it tags).
    refused: bool,
}

fn one(key: &str, indent: &str, value: &str) -> String {
    format!("{indent}{key}: {value}\n")
}

const SHAPES: &[Shape] = &[
    Shape {
        name: "int-past-u128",
        lines: |k, i| one(k, i, "987654321098765432109876543210987654321098765"),
        canary: &["98765432109876"],
        refused: true,
    },
    Shape {
        name: "int-past-u64",
        lines: |k, i| one(k, i, "184467440737095516161234"),
        canary: &["18446744073709", "1.844674"],
        refused: true,
    },
    Shape {
        name: "negative-int-past-i64",
        lines: |k, i| one(k, i, "-92233720368547758089876"),
        canary: &["92233720368547", "9.223372"],
        refused: true,
    },
    Shape {
        name: "hex-past-u64",
        lines: |k, i| one(k, i, "0xCAFE1234567890ABCDEF1234567890"),
        canary: &["1234567890abcdef", "cafe1234"],
        refused: true,
    },
    Shape {
        name: "small-int",
        lines: |k, i| one(k, i, "73915"),
        canary: &["73915"],
        refused: true,
    },
    Shape {
        name: "float",
        lines: |k, i| one(k, i, "27182.818284590452"),
        canary: &["818284"],
        refused: true,
    },
    Shape {
        name: "float-exponent",
        lines: |k, i| one(k, i, "6.0221408e23"),
        canary: &["0221408"],
        refused: true,
    },
    Shape {
        name: "bool",
        lines: |k, i| one(k, i, "true"),
        canary: &["`true`", "boolean true"],
        refused: true,
    },
    Shape {
        name: "map",
        lines: |k, i| one(k, i, "{canary-map-key-3c9d: canary-map-val-3c9d}"),
        canary: &["3c9d"],
        refused: true,
    },
    Shape {
        name: "list",
        lines: |k, i| one(k, i, "[canary-seq-8e2f, 41877]"),
        canary: &["8e2f", "41877"],
        refused: true,
    },
    Shape {
        name: "invalid-escape",
        lines: |k, i| one(k, i, r#""canary-esc-\q-6a7b""#),
        canary: &["6a7b"],
        refused: true,
    },
    Shape {
        name: "unclosed-quote",
        lines: |k, i| one(k, i, "\"canary-open-1d4e"),
        canary: &["1d4e"],
        refused: true,
    },
    Shape {
        name: "duplicate-key",
        lines: |k, i| one(k, i, "canary-dup-a-7d1e") + &one(k, i, "canary-dup-b-7d1e"),
        canary: &["7d1e"],
        refused: true,
    },
    Shape {
        name: "tag",
        lines: |k, i| one(k, i, "!secret canary-tag-2f5a"),
        canary: &["2f5a"],
        refused: false,
    },
    Shape {
        name: "control-character",
        lines: |k, i| one(k, i, "\"canary-ctl-\u{1}-4c8d\""),
        canary: &["4c8d"],
        refused: true,
    },
];

/// The documents a shape is planted in: (name, document with the shape's lines at `{}`).
fn placements(shape: &Shape) -> Vec<(&'static str, String)> {
    let lines = shape.lines;
    let n = shape.name;
    vec![
        (
            "stringdata",
            format!(
                "apiVersion: v1\nkind: Secret\nmetadata: {{name: {n}-s, namespace: shop}}\nstringData:\n{}",
                lines("pin", "  ")
            ),
        ),
        (
            "data",
            format!(
                "apiVersion: v1\nkind: Secret\nmetadata: {{name: {n}-d, namespace: shop}}\ndata:\n{}",
                lines("pin", "  ")
            ),
        ),
        (
            "env",
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {n}, namespace: shop}}\nspec:\n  selector: {{matchLabels: {{app: canary}}}}\n  template:\n    metadata: {{labels: {{app: canary}}}}\n    spec:\n      containers:\n        - name: c\n          image: x\n          env:\n            - name: PIN\n{}",
                lines("value", "              ")
            ),
        ),
    ]
}

/// JSON documents: (name, text, canary).
const JSON: &[(&str, &str, &str)] = &[
    (
        "int-past-u128",
        "987654321098765432109876543210987654321098765",
        "98765432109876",
    ),
    ("int-past-u64", "184467440737095516161234", "18446744073709"),
    ("float", "27182.818284590452", "818284"),
    ("invalid-escape", r#""canary-esc-\q-6a7b""#, "6a7b"),
    ("unclosed", r#""canary-open-1d4e}}"#, "1d4e"),
    (
        "duplicate-key",
        r#""canary-dup-a-7d1e", "pin": "canary-dup-b-7d1e""#,
        "7d1e",
    ),
    (
        "map",
        r#"{"canary-map-key-3c9d": "canary-map-val-3c9d"}"#,
        "3c9d",
    ),
];

fn json_secret(name: &str, value: &str) -> String {
    format!(
        r#"{{"apiVersion": "v1", "kind": "Secret", "metadata": {{"name": "{name}-j", "namespace": "shop"}}, "stringData": {{"pin": {value}}}}}"#
    )
}

/// Every bad file: (file name, text, canaries, refused).
fn bad_files() -> Vec<(String, String, Vec<&'static str>, bool)> {
    let mut out = Vec::new();
    for shape in SHAPES {
        for (place, text) in placements(shape) {
            out.push((
                format!("bad-{}-{place}.yaml", shape.name),
                text,
                shape.canary.to_vec(),
                shape.refused,
            ));
        }
    }
    for (name, value, canary) in JSON {
        out.push((
            format!("bad-{name}-stringdata.json"),
            json_secret(name, value),
            vec![*canary],
            true,
        ));
    }
    out
}

fn run(args: &[&str], dir: &Path) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run kvchain");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), all)
}

fn assert_no_canary(out: &str, canaries: &[&str], what: &str) {
    let lower = out.to_lowercase();
    for c in canaries {
        assert!(
            !lower.contains(&c.to_lowercase()),
            "{what}: the value {c:?} is echoed:\n{out}"
        );
    }
}

const FORMATS: [&str; 6] = ["text", "json", "sarif", "junit", "mermaid", "svg"];

#[test]
fn a_bad_file_alone_is_an_error_that_never_echoes_its_value() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text, canaries, refused) in bad_files() {
        let path: PathBuf = dir.path().join(&name);
        std::fs::write(&path, &text).unwrap();
        for format in ["text", "json"] {
            let (code, out) = run(&["check", "-f", &name, "-o", format], dir.path());
            if refused {
                assert_eq!(code, Some(2), "{name} -o {format}: not refused:\n{out}");
                assert!(
                    out.contains(&name),
                    "{name}: the error names no file:\n{out}"
                );
            }
            assert_no_canary(&out, &canaries, &format!("{name} -o {format}"));
        }
    }
}

#[test]
fn bad_files_beside_a_healthy_app_are_not_read_in_every_format_and_never_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("m");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("web.yaml"), WEB).unwrap();
    std::fs::write(root.join("serviceaccounts.json"), SAS).unwrap();
    let bad = bad_files();
    let mut all: Vec<&str> = Vec::new();
    for (name, text, canaries, _) in &bad {
        std::fs::write(root.join(name), text).unwrap();
        all.extend(canaries);
    }
    for format in FORMATS {
        let (code, out) = run(&["check", "-f", "m", "-o", format], dir.path());
        assert_eq!(code, Some(1), "-o {format}: unread documents fail:\n{out}");
        if matches!(format, "text" | "json") {
            for (name, _, _, _) in bad.iter().filter(|b| b.3) {
                assert!(
                    out.contains(name.as_str()),
                    "-o {format}: {name} is not listed:\n{out}"
                );
            }
        }
        assert_no_canary(&out, &all, &format!("-o {format}"));
    }
}
