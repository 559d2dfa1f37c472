//! Kubeconfig and connection errors name the thing that is wrong (audit FFF8): a `--context`
//! the file lacks is no "current context", a context's missing cluster is a cluster, an exec
//! plugin that is not installed is named, https to a plain-HTTP server is a failed TLS
//! handshake, and a path is said once, unquoted.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Contexts `a` (cluster `one`, a token user) and `b` (cluster `nope`, which is not defined),
/// `e` (an exec user whose plugin is not installed) and `c` (a client certificate file that
/// does not exist), all at `server`.
fn kubeconfig(dir: &Path, server: &str) -> PathBuf {
    let text = format!(
        "apiVersion: v1
kind: Config
current-context: a
clusters:
- name: one
  cluster: {{server: '{server}'}}
contexts:
- name: a
  context: {{cluster: one, user: tok}}
- name: b
  context: {{cluster: nope, user: tok}}
- name: e
  context: {{cluster: one, user: exec}}
- name: c
  context: {{cluster: one, user: cert}}
users:
- name: tok
  user: {{token: not-a-secret-test-token}}
- name: exec
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubelogin-not-installed-kvchain-test
      args: [get-token]
- name: cert
  user: {{client-certificate: /nonexistent/kvchain-cert.pem, client-key: /nonexistent/kvchain-key.pem}}
"
    );
    let p = dir.join("config");
    std::fs::write(&p, text).unwrap();
    p
}

/// `kvchain check --context <context>` on `path`: exit code and stderr.
fn check(path: &Path, context: &str) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args([
            "check",
            "--no-azure",
            "--request-timeout",
            "5s",
            "--kubeconfig",
        ])
        .arg(path)
        .args(["--context", context])
        .env("NO_COLOR", "1")
        .env_remove("KUBECONFIG")
        .env_remove("KVCHAIN_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("run kvchain");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A server that answers every connection in plain HTTP, whatever it is sent: its address.
fn plain_http_server() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let mut buf = [0u8; 1024];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        }
    });
    addr
}

#[test]
fn a_context_or_cluster_the_file_lacks_is_named_as_what_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let path = kubeconfig(dir.path(), "http://127.0.0.1:9");
    let file = format!("--kubeconfig {}", path.display());

    let (code, err) = check(&path, "nosuch");
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "no context named nosuch in {file} (its contexts: a, b, e, c)"
        )),
        "{err}"
    );
    assert!(!err.contains("current context"), "{err}");

    let (code, err) = check(&path, "b");
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "context b names cluster nope, which {file} does not define (its clusters: one)"
        )),
        "{err}"
    );
}

#[test]
fn a_missing_exec_plugin_is_named_and_a_missing_file_is_said_once_unquoted() {
    let dir = tempfile::tempdir().unwrap();
    let path = kubeconfig(dir.path(), "http://127.0.0.1:9");

    let (code, err) = check(&path, "e");
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("exec plugin `kubelogin-not-installed-kvchain-test` not found on PATH"),
        "{err}"
    );

    let (code, err) = check(&path, "c");
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("cannot read /nonexistent/kvchain-cert.pem: "),
        "{err}"
    );
    assert!(!err.contains("'\""), "doubled quotes: {err}");
}

#[test]
fn https_to_a_plain_http_server_says_the_tls_handshake_failed() {
    let addr = plain_http_server();
    let dir = tempfile::tempdir().unwrap();
    let path = kubeconfig(dir.path(), &format!("https://{addr}"));
    let (code, err) = check(&path, "a");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains(&format!("https://{addr}")), "{err}");
    assert!(err.contains("TLS handshake failed"), "{err}");
    assert!(err.contains("plain HTTP"), "{err}");
}
