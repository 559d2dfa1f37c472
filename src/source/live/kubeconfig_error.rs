//! What is wrong with a kubeconfig, said without its content.
//!
//! The kubeconfig is the most credential-dense file kvchain reads: bearer tokens, client keys,
//! passwords. kube's YAML parser renders an error with the lines around it quoted, and serde's
//! type errors quote the offending value; either would print a credential to the terminal, a
//! CI log or a pasted bug report. Every kubeconfig error kvchain shows passes here: it names
//! the line, the column and what is wrong, never a line or a value of the file.

use kube::config::{KubeconfigError, LoadDataError};

/// What a kubeconfig defines, taken before kube consumes it: the errors about a context or a
/// cluster that is not there say which ones are (audit FFF8: "failed to load current
/// context: nosuch" for a `--context` that names none, "the cluster of context: nope" for a
/// cluster).
pub struct Defined {
    /// The file(s) read, as the user names them (`KUBECONFIG file /x`).
    pub files: String,
    pub contexts: Vec<String>,
    pub clusters: Vec<String>,
    /// `--context`, when given.
    pub requested: Option<String>,
    pub current: Option<String>,
}

/// `e`, for the kubeconfig `d` describes, naming the file and what it defines.
pub fn describe_in(e: &KubeconfigError, d: &Defined) -> String {
    let files = &d.files;
    match e {
        KubeconfigError::LoadContext(name) if d.requested.as_deref() == Some(name.as_str()) => {
            format!(
                "no context named {name} in {files} ({})",
                its("contexts", &d.contexts)
            )
        }
        KubeconfigError::LoadContext(name) => format!(
            "{files}: its current-context {name} names no context it defines ({}): pass --context NAME",
            its("contexts", &d.contexts)
        ),
        KubeconfigError::LoadClusterOfContext(cluster) => {
            let context = d.requested.as_ref().or(d.current.as_ref());
            format!(
                "context {} names cluster {cluster}, which {files} does not define ({})",
                context.map_or("(none)", String::as_str),
                its("clusters", &d.clusters)
            )
        }
        KubeconfigError::CurrentContextNotSet if !d.contexts.is_empty() => format!(
            "{files}: {} ({})",
            describe(e),
            its("contexts", &d.contexts)
        ),
        other => format!("{files}: {}", describe(other)),
    }
}

/// "its contexts: a, b", or that there is none.
fn its(what: &str, names: &[String]) -> String {
    if names.is_empty() {
        return format!("it defines no {}", what.trim_end_matches('s'));
    }
    format!("its {what}: {}", names.join(", "))
}

/// A client error from building one from a kubeconfig, said without its credentials:
/// `exec`, the context user's exec plugin command, names the plugin that did not start
/// (kube says only "unable to run auth exec: No such file or directory").
pub fn describe_client(e: &kube::Error, exec: Option<&str>) -> String {
    use kube::client::AuthError;
    match e {
        kube::Error::InferKubeconfig(k) => describe(k),
        kube::Error::Auth(AuthError::AuthExecStart(io)) => {
            let plugin = exec.map_or("(unnamed)".to_string(), |c| format!("`{c}`"));
            if io.kind() == std::io::ErrorKind::NotFound {
                format!(
                    "exec plugin {plugin} not found on PATH (the kubeconfig user's exec command: install it, or correct users[].user.exec.command)"
                )
            } else {
                format!("cannot run exec plugin {plugin}: {io}")
            }
        }
        kube::Error::Auth(AuthError::ReadTokenFile(io, path)) => {
            format!("cannot read the token file {}: {io}", path.display())
        }
        other => other.to_string(),
    }
}

/// `e` in words that quote nothing from the file (the caller names the file).
pub fn describe(e: &KubeconfigError) -> String {
    match e {
        // kube quotes the path's Debug form inside quotes ('"/x"').
        KubeconfigError::ReadConfig(io, path) => format!("cannot read {}: {io}", path.display()),
        KubeconfigError::Parse(p) => {
            let at = p
                .location()
                .map(|l| format!("line {}, column {}: ", l.line(), l.column()))
                .unwrap_or_default();
            format!(
                "not a valid kubeconfig: {at}{}",
                what(&p.without_snippet().to_string())
            )
        }
        KubeconfigError::CurrentContextNotSet => {
            "no current-context is set: pass --context NAME".to_string()
        }
        KubeconfigError::LoadCertificateAuthority(d) => {
            format!(
                "cannot load the cluster's certificate-authority: {}",
                data(d, "certificate-authority-data")
            )
        }
        KubeconfigError::LoadClientCertificate(d) => {
            format!(
                "cannot load the user's client-certificate: {}",
                data(d, "client-certificate-data")
            )
        }
        KubeconfigError::LoadClientKey(d) => {
            format!(
                "cannot load the user's client-key: {}",
                data(d, "client-key-data")
            )
        }
        // The PEM parser's messages name what it expected, not the bytes it read; still, a
        // certificate is no place to quote from.
        KubeconfigError::ParseCertificates(_) => {
            "the certificate data is not PEM-encoded certificates".to_string()
        }
        // The URL parser names no part of the URL.
        KubeconfigError::ParseClusterUrl(_) => "the cluster's server is not a valid URL".into(),
        KubeconfigError::ParseProxyUrl(_) => "the cluster's proxy-url is not a valid URL".into(),
        // The rest name contexts, clusters and paths (no credential): kube's words.
        other => other.to_string(),
    }
}

/// Why base64 data or a file referred to did not load: the base64 decoder names a byte of
/// the data and its offset, a piece of a private key.
fn data(d: &LoadDataError, field: &str) -> String {
    match d {
        LoadDataError::DecodeBase64(_) => format!("{field} is not valid base64"),
        // kube's words quote the path's Debug form inside quotes: '"/x"' (audit FFF8).
        LoadDataError::ReadFile(io, path) => format!("cannot read {}: {io}", path.display()),
        other => other.to_string(),
    }
}

/// The parser's message without the location prefix (given apart) and without any value:
/// serde's "invalid type: string \"…\"" keeps only the kind; a quoted or back-quoted piece
/// that is not a field name is dropped.
fn what(rendered: &str) -> String {
    // serde_saphyr writes "error: line L column C: message" (or the message alone).
    let msg = rendered.trim();
    let msg = msg.strip_prefix("error: ").unwrap_or(msg);
    let msg = match msg.strip_prefix("line ") {
        Some(rest) => rest
            .split_once(": ")
            .filter(|(at, _)| at.contains("column"))
            .map_or(msg, |(_, m)| m),
        None => msg,
    };
    // Only the first line: a multi-line message is a rendering of the input. A scanner's
    // message repeats the place ("… found a tab at line 4, column 12"), given already.
    let first = msg.lines().next().unwrap_or("");
    let first = match first.rfind(" at line ") {
        Some(i) if first[i..].contains("column") => &first[..i],
        _ => first,
    };
    let redacted = crate::input::redact(first);
    crate::shown::shown_string(drop_quoted(&redacted))
}

/// `text` with double-quoted pieces replaced by `"…"`: a message that quotes a scalar
/// ("unknown variant \"CANARY\"") must not carry it. Back-quoted names (`token`) are the
/// schema's own field names and stay.
fn drop_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut parts = text.split('"');
    if let Some(head) = parts.next() {
        out.push_str(head);
    }
    let rest: Vec<&str> = parts.collect();
    let mut i = 0;
    while i < rest.len() {
        // rest[i] is inside quotes when a closing quote follows (i + 1 exists).
        if i + 1 < rest.len() {
            out.push_str("\"…\"");
            out.push_str(rest[i + 1]);
            i += 2;
        } else {
            out.push('"');
            out.push_str(rest[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::config::Kubeconfig;

    fn parse_error(yaml: &str) -> String {
        match Kubeconfig::from_yaml(yaml) {
            Err(e) => describe(&e),
            Ok(_) => panic!("parsed: {yaml}"),
        }
    }

    /// Canaries beside and inside the error: a tab after the credentials, a list where a
    /// string belongs, a number where a list belongs, a mapping as a token, a bad indent.
    #[test]
    fn no_parse_error_quotes_a_line_or_a_value() {
        let cases = [
            "apiVersion: v1\nusers:\n- name: u\n  user:\n    client-key-data: CANARY-key-1\n    token: CANARY-tok-2\n\tx: y\n",
            "users:\n- name: u\n  user: {token: CANARY-tok-3, password: [CANARY-pw-4]}\n",
            "users:\n- name: u\n  user: {token: [CANARY-tok-5]}\n",
            "users:\n- name: u\n  user: {token: {CANARY-k-6: CANARY-v-7}}\n",
            "clusters: CANARY-8\n",
            "users:\n- name: u\n  user:\n    token: CANARY-tok-9\n   password: CANARY-pw-10\n",
            "users:\n- name: u\n  user: {token: \"CANARY-tok-11}\n",
            "users: [{name: u, user: {exec: {apiVersion: v1, command: x, env: CANARY-12}}}]\n",
        ];
        for yaml in cases {
            let e = parse_error(yaml);
            assert!(!e.contains("CANARY"), "{e}\n-- from --\n{yaml}");
            assert!(!e.contains('\n'), "one line: {e}");
            assert!(e.starts_with("not a valid kubeconfig: line "), "{e}");
        }
    }

    #[test]
    fn the_line_column_and_cause_are_kept() {
        let e = parse_error(
            "users:\n- name: u\n  user:\n    token: CANARY-tok\n\tclient-certificate-data: abc\n",
        );
        assert_eq!(
            e,
            "not a valid kubeconfig: line 4, column 12: while scanning a plain scalar, found a tab"
        );
        assert!(e.contains("tab"), "{e}");
    }

    /// A client key that is not base64: the decoder's message names a byte of it and its offset.
    #[tokio::test]
    async fn base64_errors_name_no_byte_of_the_key() {
        let k = Kubeconfig::from_yaml(
            "current-context: x\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:9'}}]\n\
             contexts: [{name: x, context: {cluster: c, user: u}}]\n\
             users: [{name: u, user: {client-certificate-data: 'CANARY-cert!!', client-key-data: 'CANARY-key!!'}}]\n",
        )
        .unwrap();
        let config = kube::Config::from_custom_kubeconfig(k, &Default::default())
            .await
            .unwrap();
        // The key is read when the client is built.
        let e = match kube::client::ClientBuilder::try_from(config) {
            Err(kube::Error::InferKubeconfig(e)) => describe(&e),
            Err(other) => panic!("{other}"),
            Ok(_) => panic!("loaded a key that is not base64"),
        };
        assert!(!e.contains("CANARY") && !e.contains("offset"), "{e}");
        assert!(e.contains("not valid base64"), "{e}");
    }

    #[test]
    fn quoted_pieces_are_dropped_and_field_names_kept() {
        assert_eq!(
            drop_quoted("unknown variant \"CANARY\", expected `a` or `b`"),
            "unknown variant \"…\", expected `a` or `b`"
        );
        assert_eq!(drop_quoted("a \"b"), "a \"b");
    }
}
