//! Audit XX6: what kvchain writes on stderr — exit-2 errors and the warnings said before the
//! TUI starts — echoes values it did not choose: a file name (a crafted name in a checked-out
//! repository, passed by pre-commit as `-f $(files)`), a kubeconfig's context name, a theme's
//! `name:` or its file's name, an argument. Written raw, `ESC[2J` cleared the reader's screen
//! and OSC 52 set their clipboard. README: echoed values show control characters as `\u{…}`;
//! stderr is held to it at the one place it is written, so every message is.

use std::path::Path;
use std::process::{Command, Stdio};

const CLEAR: &str = "\u{1b}[2J";
const CLIP: &str = "\u{1b}]52;c;Q1RY\u{7}";
const WEB: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/examples/healthy/web.yaml"
);

/// `kvchain ARGS` in `dir`: its exit status and stderr.
fn stderr_of(args: &[&str], dir: &Path) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .env("KUBECONFIG", dir.join("kubeconfig"))
        .stdin(Stdio::null())
        .output()
        .expect("run kvchain");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// No raw ESC or BEL, and the message still names the value, escaped.
fn assert_escaped(what: &str, (code, err): (Option<i32>, String), names: &str) {
    assert!(
        !err.contains(['\u{1b}', '\u{7}']),
        "{what}: raw ESC or BEL on stderr: {err:?}"
    );
    assert!(err.contains(names), "{what}: names {names:?}: {err:?}");
    assert_eq!(code, Some(2), "{what}: {err:?}");
}

/// The escaped form `check` writes of `s` (`\u{1b}` for ESC).
fn esc(s: &str) -> String {
    s.replace('\u{1b}', "\\u{1b}").replace('\u{7}', "\\u{7}")
}

#[test]
fn exit_2_errors_echo_no_raw_terminal_escapes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The current context of an unreachable cluster (JSON strings are YAML scalars).
    let context = serde_json::to_string(&format!("evil{CLEAR}{CLIP}")).unwrap();
    std::fs::write(
        d.join("kubeconfig"),
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c1\n  cluster: {{server: http://127.0.0.1:9}}\n\
             contexts:\n- name: {context}\n  context: {{cluster: c1, user: u1}}\ncurrent-context: {context}\n\
             users:\n- name: u1\n  user: {{token: not-a-secret-test-token}}\n"
        ),
    )
    .unwrap();
    assert_escaped(
        "unreachable context",
        stderr_of(&["check", "--no-azure", "--request-timeout", "2s"], d),
        &format!("(context evil{})", esc(&format!("{CLEAR}{CLIP}"))),
    );

    let bad = format!("bad{CLIP}.yaml");
    std::fs::write(d.join(&bad), "a: [\n").unwrap();
    assert_escaped(
        "invalid YAML in a file named by -f",
        stderr_of(&["check", "-f", &bad], d),
        &format!("kvchain: {}, document 1: invalid YAML", esc(&bad)),
    );
    let missing = format!("nope{CLEAR}");
    assert_escaped(
        "missing -f path",
        stderr_of(&["check", "-f", &missing], d),
        &format!("kvchain: {}: cannot read", esc(&missing)),
    );
    assert_escaped(
        "missing --snapshot path",
        stderr_of(&["check", "--snapshot", &missing], d),
        &format!("kvchain: {}: cannot read snapshot", esc(&missing)),
    );
    assert_escaped(
        "--chain",
        stderr_of(&["check", "-f", WEB, "--chain", CLIP, "-o", "svg"], d),
        &format!("--chain {}: no such chain", esc(CLIP)),
    );
    // Escaped in its second half already; now in both.
    let ns = format!("x{CLEAR}");
    assert_escaped(
        "-n",
        stderr_of(&["check", "-f", WEB, "-n", &ns], d),
        &format!("-n {}: the manifests", esc(&ns)),
    );
}

/// Theme names come from a theme file's `name:` or the file's own name under `themes/`:
/// the list of available themes (exit 2) and the warning for a broken theme file, said
/// before the TUI takes the terminal.
#[test]
fn theme_names_and_warnings_echo_no_raw_terminal_escapes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("themes")).unwrap();
    let name = serde_json::to_string(&format!("evil{CLEAR}")).unwrap();
    std::fs::write(
        d.join("themes/evil.yaml"),
        format!("name: {name}\naccent: red\n"),
    )
    .unwrap();
    let broken = format!("y{CLIP}");
    std::fs::write(d.join(format!("themes/{broken}.yaml")), "accent: \"#zz\"\n").unwrap();
    std::fs::write(d.join("cfg.yaml"), "theme: light\n").unwrap();
    assert_escaped(
        "unknown --theme",
        stderr_of(&["demo", "--config", "cfg.yaml", "--theme", "nosuch"], d),
        &format!("evil{})", esc(CLEAR)),
    );
    // Without a terminal the TUI refuses to start (exit 2), after the warnings.
    assert_escaped(
        "broken theme warning",
        stderr_of(&["demo", "--config", "cfg.yaml"], d),
        &format!(
            "kvchain: warning: skipping theme themes/{}.yaml: accent",
            esc(&broken)
        ),
    );
}
