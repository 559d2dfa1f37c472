//! README "kvchain check": "A value that is echoed (a name, a `keyvaultName`) is cut to its
//! first 200 characters and its size when it runs past 512 bytes, and control, zero-width and
//! bidirectional characters in it are shown as `\u{…}`". Names from manifests that hold an
//! escape sequence, a right-to-left override or a thousand characters are run through every
//! human- or CI-facing format; the XML ones must stay well-formed XML.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const WEB: &str = include_str!("../../assets/examples/healthy/web.yaml");
const SAS: &str = include_str!("../../assets/examples/healthy/serviceaccounts.json");
const FORMATS: [&str; 5] = ["text", "sarif", "junit", "mermaid", "svg"];

/// The healthy example with `from` replaced by `to` in `web.yaml`, in a directory of its own.
fn manifests(from: &str, to: &str) -> (tempfile::TempDir, PathBuf) {
    assert!(WEB.contains(from), "web.yaml has {from:?}");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("m");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("web.yaml"), WEB.replace(from, to)).unwrap();
    std::fs::write(root.join("serviceaccounts.json"), SAS).unwrap();
    (dir, root)
}

fn check(dir: &Path, format: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "-f", dir.to_str().unwrap(), "-o", format])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run kvchain")
}

/// Characters a terminal acts on or that reorder a line.
fn raw_hidden(s: &str) -> Option<char> {
    s.chars().find(|&c| {
        (c.is_control() && c != '\n' && c != '\t' && c != '\r')
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    })
}

/// Well-formed XML: every character allowed by XML 1.0 and the document parses to its end.
fn assert_xml(doc: &str, what: &str) {
    let bad = doc.chars().find(|&c| {
        !matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
    });
    assert_eq!(bad, None, "{what}: a character XML 1.0 refuses");
    let mut reader = quick_xml::Reader::from_str(doc);
    reader.config_mut().check_end_names = true;
    let mut depth = 0i32;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(_)) => depth += 1,
            Ok(quick_xml::events::Event::End(_)) => depth -= 1,
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("{what}: not well-formed XML: {e}\n{doc}"),
        }
    }
    assert_eq!(depth, 0, "{what}: unclosed elements");
}

fn every_format(dir: &Path) -> Vec<(&'static str, String)> {
    FORMATS
        .iter()
        .map(|&f| {
            let out = check(dir, f);
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(!text.contains("panicked"), "{f}: {text}");
            if matches!(f, "svg" | "junit") && out.status.code() != Some(2) {
                assert_xml(&String::from_utf8_lossy(&out.stdout), f);
            }
            (f, text)
        })
        .collect()
}

#[test]
fn an_escape_sequence_and_a_bidi_override_in_a_reference_are_shown_escaped() {
    let (_keep, dir) = manifests(
        r#"secretProviderClass: "web-kv""#,
        r#"secretProviderClass: "web-kv\e[31mRED\u202E""#,
    );
    for (format, text) in every_format(&dir) {
        assert_eq!(raw_hidden(&text), None, "{format} passes it raw:\n{text}");
        // SARIF is JSON: its backslashes are escaped once more. The SVG draws the worst
        // chain, which may be another one.
        let shown = match format {
            "sarif" => r"web-kv\\u{1b}[31mRED\\u{202e}",
            "svg" => continue,
            _ => r"web-kv\u{1b}[31mRED\u{202e}",
        };
        assert!(
            text.contains(shown),
            "{format} shows the name as the file says:\n{text}"
        );
    }
}

#[test]
fn a_bidi_override_in_the_namespace_is_shown_escaped() {
    let (_keep, dir) = manifests("namespace: shop", "namespace: \"sh\\e[5mop\\u202E\"");
    for (format, text) in every_format(&dir) {
        assert_eq!(raw_hidden(&text), None, "{format} passes it raw:\n{text}");
    }
}

#[test]
fn a_thousand_character_name_is_cut_to_200_and_its_size() {
    let long = "k".repeat(1000);
    let (_keep, dir) = manifests(
        r#"secretProviderClass: "web-kv""#,
        &format!(r#"secretProviderClass: "{long}""#),
    );
    for (format, text) in every_format(&dir) {
        assert!(!text.contains(&long), "{format} prints it whole");
        // The SVG draws the worst chain, which may be another one.
        if format != "svg" {
            assert!(
                text.contains(&format!("{}… (1000 bytes)", "k".repeat(200))),
                "{format} says its size:\n{text}"
            );
        }
    }
}

#[test]
fn a_thousand_character_name_in_a_document_not_read_is_cut_too() {
    let long = "w".repeat(1000);
    let (_keep, dir) = manifests(
        "  name: web\n  namespace: shop",
        &format!("  name: {long}\n  namespace: shop"),
    );
    for (format, text) in every_format(&dir) {
        assert!(!text.contains(&long), "{format} prints it whole:\n{text}");
    }
}
