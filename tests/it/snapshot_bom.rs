//! README (input limits): "A leading UTF-8 byte-order mark is ignored." A snapshot saved on
//! Windows (Notepad, PowerShell 5's `Set-Content -Encoding utf8`) gains one; it was refused as
//! "not a kvchain snapshot: expected a JSON object" (audit BB5).

use std::process::{Command, Output, Stdio};

fn kvchain(args: &[&str], dir: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("run kvchain")
}

#[test]
fn a_snapshot_starting_with_a_byte_order_mark_reads_as_without_it() {
    let d = tempfile::tempdir().unwrap();
    let saved = kvchain(
        &["snapshot", "save", "--lab", "healthy", "-o", "s.json"],
        d.path(),
    );
    assert!(saved.status.success(), "{saved:?}");
    let text = std::fs::read(d.path().join("s.json")).unwrap();
    let mut bom = b"\xef\xbb\xbf".to_vec();
    bom.extend(&text);
    std::fs::write(d.path().join("bom.json"), bom).unwrap();
    let plain = kvchain(&["check", "--snapshot", "s.json"], d.path());
    let marked = kvchain(&["check", "--snapshot", "bom.json"], d.path());
    assert_eq!(
        String::from_utf8_lossy(&marked.stderr),
        String::from_utf8_lossy(&plain.stderr)
    );
    assert_eq!(marked.status.code(), plain.status.code());
    assert_eq!(marked.stdout, plain.stdout);
    assert!(!plain.stdout.is_empty());
}
