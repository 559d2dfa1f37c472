//! A broken kubeconfig (README "Secret values": no secret value is ever printed; "kvchain
//! check": a wrong-typed value is never echoed) is named by file, line, column and what is
//! wrong — never by quoting its lines, which hold tokens and client keys. Every command that
//! reads the kubeconfig is run over the same files, with canaries next to the error.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A kubeconfig whose only mistake is a tab-indented line right after the user's credentials.
const TAB_AFTER_CREDENTIALS: &str = "\
apiVersion: v1
kind: Config
current-context: admin
clusters:
- name: aks
  cluster:
    server: https://127.0.0.1:9
contexts:
- name: admin
  context: {cluster: aks, user: admin}
users:
- name: admin
  user:
    client-key-data: CANARY-clientkey-4005
    token: CANARY-token-4006
\tclient-certificate-data: abc
";

/// A password given as a list, beside a token.
const WRONG_TYPE: &str = "\
apiVersion: v1
kind: Config
current-context: admin
clusters: [{name: aks, cluster: {server: 'https://127.0.0.1:9'}}]
contexts: [{name: admin, context: {cluster: aks, user: admin}}]
users:
- name: admin
  user: {token: CANARY-token-4002, password: [CANARY-pw-4003]}
";

/// A client key that is not base64: its decoder names a byte of it.
const KEY_NOT_BASE64: &str = "\
apiVersion: v1
kind: Config
current-context: admin
clusters: [{name: aks, cluster: {server: 'https://127.0.0.1:9'}}]
contexts: [{name: admin, context: {cluster: aks, user: admin}}]
users:
- name: admin
  user: {client-certificate-data: 'CANARY-cert-4007!', client-key-data: 'CANARY-key-4008!'}
";

fn kubeconfig(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn run(args: &[&str], kubeconfig_env: Option<&Path>, dir: &Path) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kvchain"));
    cmd.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("HOME", dir)
        .env_remove("KUBECONFIG")
        .env_remove("RUST_LOG")
        .env_remove("KVCHAIN_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(k) = kubeconfig_env {
        cmd.env("KUBECONFIG", k);
    }
    cmd.output().expect("run kvchain")
}

fn all_output(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Every entry point that reads a kubeconfig, given `path` by flag or by KUBECONFIG.
fn every_reader(path: &Path, dir: &Path) -> Vec<(String, Output)> {
    let p = path.to_str().unwrap();
    let out = dir.join("snap.json");
    let out = out.to_str().unwrap();
    let flagged: [&[&str]; 4] = [
        &["check", "--kubeconfig", p, "--request-timeout", "2s"],
        &["check", "--kubeconfig", p, "--all-contexts"],
        &["snapshot", "save", "--kubeconfig", p, "-o", out],
        &["serve", "--kubeconfig", p, "--listen", "127.0.0.1:0"],
    ];
    let mut runs: Vec<(String, Output)> = flagged
        .iter()
        .map(|a| (a.join(" "), run(a, None, dir)))
        .collect();
    // The TUI with no command reads KUBECONFIG before it opens the terminal.
    runs.push(("KUBECONFIG=… kvchain".into(), run(&[], Some(path), dir)));
    runs.push((
        "KUBECONFIG=… kvchain check".into(),
        run(&["check", "--request-timeout", "2s"], Some(path), dir),
    ));
    runs
}

#[test]
fn a_yaml_error_names_file_line_and_column_and_quotes_no_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = kubeconfig(dir.path(), "config", TAB_AFTER_CREDENTIALS);
    for (what, o) in every_reader(&path, dir.path()) {
        let text = all_output(&o);
        assert_eq!(o.status.code(), Some(2), "{what}: {text}");
        assert!(!text.contains("CANARY"), "{what} leaks: {text}");
        assert!(
            !text.contains("client-key-data"),
            "{what} quotes a line: {text}"
        );
        assert!(
            text.contains("config: not a valid kubeconfig: line 15, column 12:"),
            "{what}: {text}"
        );
        assert!(text.contains("tab"), "{what} says what is wrong: {text}");
        assert!(!text.contains("panicked"), "{what}: {text}");
    }
}

#[test]
fn a_wrong_typed_credential_is_not_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let path = kubeconfig(dir.path(), "config", WRONG_TYPE);
    for (what, o) in every_reader(&path, dir.path()) {
        let text = all_output(&o);
        assert_eq!(o.status.code(), Some(2), "{what}: {text}");
        assert!(!text.contains("CANARY"), "{what} leaks: {text}");
        assert!(text.contains("line 8, column"), "{what}: {text}");
    }
}

#[test]
fn a_client_key_that_is_not_base64_is_named_without_its_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = kubeconfig(dir.path(), "config", KEY_NOT_BASE64);
    let p = path.to_str().unwrap();
    let o = run(
        &["check", "--kubeconfig", p, "--request-timeout", "2s"],
        None,
        dir.path(),
    );
    let text = all_output(&o);
    assert_eq!(o.status.code(), Some(2), "{text}");
    assert!(
        !text.contains("CANARY") && !text.contains("offset"),
        "{text}"
    );
    assert!(
        text.contains("client-certificate-data is not valid base64"),
        "{text}"
    );
}

#[test]
fn completions_stay_quiet_over_a_broken_kubeconfig() {
    let dir = tempfile::tempdir().unwrap();
    let path = kubeconfig(dir.path(), "config", TAB_AFTER_CREDENTIALS);
    let o = Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["--", "kvchain", "check", "--context", ""])
        .env("COMPLETE", "bash")
        .env("KUBECONFIG", &path)
        .env("_CLAP_COMPLETE_INDEX", "4")
        .env("_CLAP_COMPLETE_COMP_TYPE", "9")
        .env("_CLAP_COMPLETE_SPACE", "true")
        .env("_CLAP_IFS", "\n")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = all_output(&o);
    assert!(!text.contains("CANARY"), "{text}");
    assert!(!text.contains("panicked"), "{text}");
}

/// README "kvchain check": a kubeconfig without current-context names the file and says to
/// pass --context, with the contexts it has.
#[test]
fn no_current_context_names_the_file_and_suggests_context() {
    let dir = tempfile::tempdir().unwrap();
    let text = WRONG_TYPE.replace("current-context: admin\n", "").replace(
        "{token: CANARY-token-4002, password: [CANARY-pw-4003]}",
        "{token: CANARY-token-4009}",
    );
    let path = kubeconfig(dir.path(), "nocurrent", &text);
    let o = run(
        &["check", "--kubeconfig", path.to_str().unwrap()],
        None,
        dir.path(),
    );
    let e = all_output(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains("nocurrent"), "names the file: {e}");
    assert!(e.contains("--context"), "suggests --context: {e}");
    assert!(e.contains("admin"), "names the contexts there are: {e}");
    assert!(!e.contains("CANARY"), "{e}");
}
