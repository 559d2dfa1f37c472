//! README (chain strip): a box's code is that of the finding that gives it its colour. An
//! info finding (KVC603, a pinned objectVersion) colours nothing: the report lists it, and no
//! picture writes its code beside a box, as the TUI's strip shows none (audit QQQ-users).

use std::process::Command;

fn check(format: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args([
            "check",
            "-f",
            "assets/examples/broken/reports.yaml",
            "-o",
            format,
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_pictures_write_no_info_code_beside_a_box() {
    let text = check("text");
    assert!(text.contains("KVC603 info"), "the report lists it: {text}");
    let mermaid = check("mermaid");
    let object = (mermaid.lines().find(|l| l.contains("Object<br/>")))
        .unwrap_or_else(|| panic!("{mermaid}"));
    assert!(!object.contains("KVC603"), "{object}");
    assert!(
        mermaid.contains("<b>KVC102</b>"),
        "a warning keeps its code: {mermaid}"
    );
    let svg = check("svg");
    assert!(!svg.contains(">KVC603<"), "{svg}");
    assert!(svg.contains(">KVC102<"), "{svg}");
}
