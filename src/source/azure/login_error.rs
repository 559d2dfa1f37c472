//! One readable line from an azure_identity login error. The developer chain's error is an
//! aggregate over several lines ("Multiple errors were encountered while attempting to
//! authenticate:" then, per credential, "<Name>Credential authentication failed. <cause>",
//! a troubleshooting link and the cause again after " - "); an Entra refusal carries the
//! HTTP exchange and a JSON body. Cutting at the first line kept only the aggregate's header
//! (audit FFF: the gap ended in "(Multiple errors were encountered while attempting to
//! authenticate:)"), which names neither what was tried nor why it failed.
//!
//! Nothing here holds a secret: the errors carry tool output and Entra's error text, never a
//! token (azure_identity keeps those in `Secret`), and each cause is capped.

use super::credential::CredentialKind;

/// The gap's reason when credential `kind` yields no token: what to do, then what was tried
/// and why each failed (`error` is azure_identity's text).
pub fn explain(kind: &CredentialKind, error: &str) -> String {
    let said = summarize(error);
    let hint = kind.hint();
    if !names_credentials(error) {
        return format!("{hint}: {said}");
    }
    // "run az login" presumes the tool is there: when the chain found none, install it first
    // (the hint's own words stay first, as the README quotes them).
    let install =
        if *kind == CredentialKind::DeveloperTools && said.contains("az not found on PATH") {
            " — install the Azure CLI first"
        } else {
            ""
        };
    format!("{hint}. Tried {said}{install}")
}

fn names_credentials(error: &str) -> bool {
    find_part(error, "Credential authentication failed.").is_some()
}

/// The longest cause said per credential, in characters.
const CAP: usize = 200;

/// What each tried credential said, `Name: cause; Name: cause`, or the first meaningful line
/// when the error names no credential.
pub fn summarize(error: &str) -> String {
    const FAILED: &str = "Credential authentication failed.";
    let mut parts = Vec::new();
    let mut rest = error;
    // Each "<Name>Credential authentication failed." starts a credential's part; a part whose
    // cause is another's (ClientAssertionCredential inside WorkloadIdentityCredential) is the
    // outer one's, so only parts that begin a line (or the text) are split at.
    while let Some(at) = find_part(rest, FAILED) {
        let name_start = rest[..at]
            .rfind(|c: char| !c.is_ascii_alphanumeric())
            .map_or(0, |i| i + 1);
        let name = &rest[name_start..at + "Credential".len()];
        let body_start = at + FAILED.len();
        let next = find_part(&rest[body_start..], FAILED)
            .map(|n| {
                let n = body_start + n;
                rest[..n]
                    .rfind(|c: char| !c.is_ascii_alphanumeric())
                    .map_or(n, |i| i + 1)
            })
            .unwrap_or(rest.len());
        parts.push(format!(
            "{}: {}",
            human(name),
            cause(&rest[body_start..next])
        ));
        rest = &rest[next..];
    }
    if parts.is_empty() {
        return cause(error);
    }
    parts.join("; ")
}

/// The next "<Name>Credential authentication failed." at the start of the text or of a line.
fn find_part(text: &str, failed: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = text[from..].find(failed) {
        let at = from + i;
        let line_start = text[..at].rfind('\n').map_or(0, |n| n + 1);
        let name = &text[line_start..at];
        if name.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Some(at);
        }
        from = at + failed.len();
    }
    None
}

/// The credential's name as a user knows it.
fn human(name: &str) -> String {
    match name {
        "AzureCliCredential" => "Azure CLI (az)".into(),
        "AzureDeveloperCliCredential" => "Azure Developer CLI (azd)".into(),
        "WorkloadIdentityCredential" => "workload identity".into(),
        "ClientSecretCredential" => "service principal (AZURE_CLIENT_SECRET)".into(),
        "ManagedIdentityCredential" => "managed identity".into(),
        "ClientAssertionCredential" => "client assertion".into(),
        other => other.into(),
    }
}

/// One credential's cause: Entra's error_description when there is one (the AADSTS code and
/// its sentence), else the text without the troubleshooting link, the HTTP exchange's
/// framing, "ERROR:" prefixes and the cause repeated after " - ", on one line.
fn cause(body: &str) -> String {
    if let Some(desc) = json_string(body, "\"error_description\"") {
        return cap(&one_line(desc.split("\\r\\n").next().unwrap_or(&desc)));
    }
    let body = body.split("To troubleshoot, visit").next().unwrap_or(body);
    let kept: Vec<&str> = body
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.chars().all(|c| c == '-'))
        .filter(|l| !l.ends_with("Credential authentication failed."))
        .collect();
    let text = one_line(&kept.join(" "));
    let text = text.trim_start_matches("ERROR:").trim();
    let text = match text.split_once(" - ") {
        // The aggregate repeats the cause after " - ": said once.
        Some((head, tail)) if head.contains(tail.trim()) => head.trim(),
        _ => text,
    };
    if text.is_empty() {
        return "no reason given".into();
    }
    cap(text)
}

/// The JSON string value after `key` (`"key": "value"`), undoing `\"`.
fn json_string(text: &str, key: &str) -> Option<String> {
    let after = &text[text.find(key)? + key.len()..];
    let after = after.trim_start().strip_prefix(':')?.trim_start();
    let mut chars = after.strip_prefix('"')?.chars();
    let mut out = String::new();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                '"' => out.push('"'),
                other => {
                    out.push('\\');
                    out.push(other);
                }
            },
            '"' => return Some(out),
            c => out.push(c),
        }
    }
    None
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn cap(text: &str) -> String {
    match text.char_indices().nth(CAP) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// azure_identity 1.1.0-beta.1's own test (developer_tools_credential.rs, `executor`):
    /// the aggregate when both tools fail to run.
    #[test]
    fn the_developer_chain_names_each_tool_and_its_cause_once() {
        let e = "Multiple errors were encountered while attempting to authenticate:\n\
             AzureCliCredential authentication failed. other error error: something went wrong\n\
             To troubleshoot, visit https://aka.ms/azsdk/rust/identity/troubleshoot#azure-cli - other error error: something went wrong - something went wrong\n\
             AzureDeveloperCliCredential authentication failed. other error error: something went wrong\n\
             To troubleshoot, visit https://aka.ms/azsdk/rust/identity/troubleshoot#azd - other error error: something went wrong - something went wrong";
        assert_eq!(
            summarize(e),
            "Azure CLI (az): other error error: something went wrong; Azure Developer CLI (azd): other error error: something went wrong"
        );
    }

    /// azure_identity's azd test: "not logged in" on a line of its own after "ERROR:".
    #[test]
    fn a_cause_on_its_own_line_loses_its_error_prefix() {
        let e = "Multiple errors were encountered while attempting to authenticate:\n\
             AzureCliCredential authentication failed. ERROR: Please run 'az login' to setup account.\n\n\
             To troubleshoot, visit https://aka.ms/azsdk/rust/identity/troubleshoot#azure-cli - ERROR: Please run 'az login' to setup account.\n\n\
             AzureDeveloperCliCredential authentication failed.\nERROR: not logged in, run `azd auth login` to login\n\
             To troubleshoot, visit https://aka.ms/azsdk/rust/identity/troubleshoot#azd - \nERROR: not logged in, run `azd auth login` to login";
        assert_eq!(
            summarize(e),
            "Azure CLI (az): Please run 'az login' to setup account.; Azure Developer CLI (azd): not logged in, run `azd auth login` to login"
        );
    }

    /// FACTS §5: the FIC mismatch as the track-2 SDK words it, inside the workload identity
    /// credential: the AADSTS sentence is the cause.
    #[test]
    fn an_entra_refusal_is_its_error_description() {
        let e = "WorkloadIdentityCredential authentication failed. ClientAssertionCredential authentication failed. \nPOST https://login.microsoftonline.com/t/oauth2/v2.0/token\n--------\nRESPONSE 400: 400 Bad Request\n--------\n{ \"error\": \"invalid_request\", \"error_description\": \"AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: 'https://x/'.\\r\\nTrace ID: 1\", \"error_codes\": [70021] }\n--------\nTo troubleshoot, visit https://aka.ms/azsdk/rust/identity/troubleshoot#workload";
        assert_eq!(
            summarize(e),
            "workload identity: AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: 'https://x/'."
        );
    }

    /// The developer chain on a machine with neither tool (exit 127 from /bin/sh, which
    /// azure_identity words "<tool> not found on PATH"): one line, the README's words first.
    #[test]
    fn no_tool_installed_says_install_the_cli_then_what_was_tried() {
        let e = "Multiple errors were encountered while attempting to authenticate:\n\
             AzureCliCredential authentication failed. az not found on PATH\n\
             To troubleshoot, visit https://aka.ms/azsdk/rust/identity/troubleshoot#azure-cli - az not found on PATH\n\
             AzureDeveloperCliCredential authentication failed. azd not found on PATH\n\
             To troubleshoot, visit https://aka.ms/azsdk/rust/identity/troubleshoot#azd - azd not found on PATH";
        let said = explain(&CredentialKind::DeveloperTools, e);
        assert_eq!(
            said,
            "no Azure credentials: run `az login` (or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET). Tried Azure CLI (az): az not found on PATH; Azure Developer CLI (azd): azd not found on PATH — install the Azure CLI first"
        );
        assert!(!said.contains('\n'));
        let said = explain(&CredentialKind::ServicePrincipal, "connection refused");
        assert!(
            said.ends_with("AZURE_CLIENT_SECRET: connection refused"),
            "{said}"
        );
    }

    /// A shell that finds neither tool: exit status 127, as /bin/sh answers for a missing
    /// command. Its future is written out as `#[async_trait]` expands the trait's method.
    #[derive(Debug)]
    struct NoTools;

    impl azure_identity::Executor for NoTools {
        fn run<'a, 'b, 'c, 'd, 'e>(
            &'a self,
            _program: &'b std::ffi::OsStr,
            _args: &'c [&'d std::ffi::OsStr],
        ) -> std::pin::Pin<
            Box<dyn Future<Output = std::io::Result<std::process::Output>> + Send + 'e>,
        >
        where
            'a: 'e,
            'b: 'e,
            'c: 'e,
            'd: 'e,
            Self: 'e,
        {
            use std::os::unix::process::ExitStatusExt;
            Box::pin(async {
                Ok(std::process::Output {
                    status: std::process::ExitStatus::from_raw(127 << 8),
                    stdout: Vec::new(),
                    stderr: b"/bin/sh: 1: az: not found\n".to_vec(),
                })
            })
        }
    }

    /// The real developer chain, failing in process: the gap is one line naming both tools
    /// (it was cut to the aggregate's header, audit FFF).
    #[tokio::test]
    async fn the_real_developer_chain_failing_reads_as_one_line() {
        use azure_core::credentials::TokenCredential;
        let cred = azure_identity::DeveloperToolsCredential::new(Some(
            azure_identity::DeveloperToolsCredentialOptions {
                executor: Some(std::sync::Arc::new(NoTools)),
            },
        ))
        .unwrap();
        let e = cred
            .get_token(&["https://management.azure.com/.default"], None)
            .await
            .unwrap_err()
            .to_string();
        let said = explain(&CredentialKind::DeveloperTools, &e);
        assert!(!said.contains('\n'), "{said}");
        assert!(!said.contains("Multiple errors"), "{said}");
        assert!(said.contains("Tried Azure CLI (az): "), "{said}");
        assert!(said.contains("; Azure Developer CLI (azd): "), "{said}");
        assert!(said.contains("run `az login`"), "{said}");
    }

    #[test]
    fn an_error_naming_no_credential_is_its_first_lines_on_one_line_and_capped() {
        assert_eq!(summarize("no token\n  at all"), "no token at all");
        let long = "x".repeat(500);
        let s = summarize(&long);
        assert_eq!(s.chars().count(), CAP + 1);
        assert!(s.ends_with('…'));
        assert_eq!(summarize(""), "no reason given");
    }
}
