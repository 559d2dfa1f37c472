//! README "In CI": "What could not be read is never a quiet pass". A document that could not
//! be read makes the exit status 1 (README "kvchain check"); JUnit, Mermaid and SVG say why,
//! as text, JSON and SARIF do: JUnit as an `<error type="unread">` case of the suite
//! `kvchain: not visible` (as it shows each failed read), the pictures in their note of what
//! could not be read.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const WEB: &str = include_str!("../../assets/examples/healthy/web.yaml");
const SAS: &str = include_str!("../../assets/examples/healthy/serviceaccounts.json");

/// The healthy example plus `zz-bad.yaml`, whose YAML is broken (a tab indents a line).
fn manifests() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("m");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("web.yaml"), WEB).unwrap();
    std::fs::write(root.join("serviceaccounts.json"), SAS).unwrap();
    std::fs::write(
        root.join("zz-bad.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n\tnamespace: shop\n",
    )
    .unwrap();
    (dir, root)
}

fn check(dir: &Path, format: &str) -> (Option<i32>, String) {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "-f", dir.to_str().unwrap(), "-o", format])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run kvchain");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn junit_has_an_error_case_for_the_unread_document() {
    let (_keep, dir) = manifests();
    let (code, xml) = check(&dir, "junit");
    assert_eq!(code, Some(1), "{xml}");
    let head = xml.lines().nth(1).unwrap_or("");
    assert!(!head.contains(r#"errors="0""#), "a quiet pass: {head}");
    let suite = xml
        .split(r#"<testsuite name="kvchain: not visible""#)
        .nth(1)
        .expect("the not-visible suite")
        .split("</testsuite>")
        .next()
        .unwrap();
    assert!(suite.contains("zz-bad.yaml, document 1"), "{suite}");
    assert!(
        suite.contains(r#"<error "#) && suite.contains(r#"type="unread""#),
        "{suite}"
    );
}

#[test]
fn mermaid_and_svg_name_the_unread_document() {
    let (_keep, dir) = manifests();
    for format in ["mermaid", "svg"] {
        let (code, doc) = check(&dir, format);
        assert_eq!(code, Some(1), "{format}: {doc}");
        assert!(
            doc.contains("Not read") && doc.contains("zz-bad.yaml, document 1"),
            "{format} is silent about the unread document:\n{doc}"
        );
    }
}

#[test]
fn a_clean_run_has_no_unread_note() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/examples/healthy");
    for format in ["mermaid", "svg"] {
        let (code, doc) = check(&dir, format);
        assert_eq!(code, Some(0), "{format}: {doc}");
        assert!(!doc.contains("Not read"), "{format}: {doc}");
    }
}
