//! What the real-world audits (SSS-real, TTT-real) share: `kvchain check -f` on their own
//! fixtures, asserting a canary vault value is never printed and nothing panicked, and the
//! report's list of documents not read.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// `check -f PATHS -o FORMAT`; neither stream may hold `canary` or a panic.
pub(crate) fn run(paths: &[&Path], format: &str, canary: &str) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "-f"])
        .args(paths)
        .args(["-o", format])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run kvchain");
    for stream in [&out.stdout, &out.stderr] {
        let text = String::from_utf8_lossy(stream);
        assert!(!text.contains(canary), "a vault value was printed: {text}");
        assert!(!text.contains("panicked"), "{text}");
    }
    out
}

/// Exit status and JSON report of `check -f PATHS -o json`.
pub(crate) fn check(paths: &[&Path], canary: &str) -> (i32, Value) {
    let out = run(paths, "json", canary);
    let r = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), r)
}

/// The report's documents not read, each as said.
pub(crate) fn unread(r: &Value) -> Vec<String> {
    r["unread"]
        .as_array()
        .expect("unread")
        .iter()
        .map(|u| u.as_str().expect("string").to_string())
        .collect()
}

/// The unread entry of `what` (`Kind/name`, followed by its reason in parentheses) among
/// `unread`, which must list it.
pub(crate) fn unread_of<'a>(unread: &'a [String], what: &str) -> &'a str {
    unread
        .iter()
        .find(|u| u.contains(&format!("{what} (")))
        .unwrap_or_else(|| panic!("{what} not listed as unread: {unread:#?}"))
}
