//! A Key Vault request that got no HTTP answer at all (FACTS §11, Network): a mistyped vault
//! name, or a private endpoint whose private DNS zone is not linked to the cluster's VNet,
//! shows as a DNS failure or `context deadline exceeded` against `<vault>.vault.azure.net`,
//! never as a 403/404. Which of the two it is depends on whether the vault exists, which the
//! rules decide (`rules::resolve`); here only the message is read.

use std::sync::LazyLock;

use memchr::memmem::Finder;

/// The Key Vault DNS suffixes of the clouds the provider knows (FACTS §5, `cloudName`).
const VAULT_SUFFIXES: [&str; 4] = [
    ".vault.azure.net",
    ".vault.usgovcloudapi.net",
    ".vault.azure.cn",
    ".vault.microsoftazure.de",
];

/// How the request failed before Key Vault could answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unreached {
    /// The vault's host name did not resolve (`dial tcp: lookup …: no such host`).
    Dns,
    /// No answer in time (`context deadline exceeded`, `i/o timeout`).
    Timeout,
    /// The kubelet's own deadline on the mount call ran out (`rpc error: code =
    /// DeadlineExceeded desc = context deadline exceeded`, AKV#1063): the provider was still
    /// waiting, and no host is named. FACTS §11 Network: a mistyped vault name or a private
    /// endpoint without its DNS zone linked shows this way.
    MountDeadline,
}

impl Unreached {
    /// How the message said it, for the finding's text.
    pub fn as_str(self) -> &'static str {
        match self {
            Unreached::Dns => "does not resolve",
            Unreached::Timeout => "does not answer in time (context deadline exceeded)",
            Unreached::MountDeadline => {
                "got no answer before the kubelet's deadline on the mount (rpc error: code = DeadlineExceeded, no host named)"
            }
        }
    }
}

/// A request to a vault that got no answer: the vault's host and name, and how it failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VaultUnreached<'m> {
    pub host: &'m str,
    pub vault: &'m str,
    pub how: Unreached,
}

/// The vault request of `message` that got no answer, if that is what the message says.
pub fn unreached_vault(message: &str) -> Option<VaultUnreached<'_>> {
    // Searchers built once: every chain's events are asked, and `str::find` built a two-way
    // searcher per marker per message.
    static DNS: LazyLock<[Finder<'static>; 2]> =
        LazyLock::new(|| ["no such host", "dial tcp: lookup "].map(Finder::new));
    static TIMEOUT: LazyLock<[Finder<'static>; 3]> = LazyLock::new(|| {
        [
            "context deadline exceeded",
            "i/o timeout",
            "Client.Timeout exceeded",
        ]
        .map(Finder::new)
    });
    let first = |markers: &[Finder]| {
        (markers.iter())
            .filter_map(|m| m.find(message.as_bytes()))
            .min()
    };
    // A DNS lookup that itself timed out is a DNS failure: the name is what did not resolve.
    let (how, at) = if let Some(at) = first(&*DNS) {
        (Unreached::Dns, at)
    } else if let Some(at) = first(&*TIMEOUT) {
        (Unreached::Timeout, at)
    } else {
        return None;
    };
    // The request that failed is the one named last before the failure: an adal token
    // refresh "for request to https://<vault>…" that timed out at "Post
    // https://login.microsoftonline.com/…: dial tcp: i/o timeout" (AKV#186) is Entra ID not
    // answering, not the vault. A failure before any URL keeps the message's vault.
    let host = match last_host(&message[..at]) {
        Some(h) => is_vault_host(h).then_some(h)?,
        None => vault_host(message)?,
    };
    let vault = &host[..host.find('.')?];
    Some(VaultUnreached { host, vault, how })
}

/// The host of the last `http(s)://` URL in `text`.
fn last_host(text: &str) -> Option<&str> {
    let (at, scheme) = ["https://", "http://"]
        .iter()
        .filter_map(|s| text.rfind(s).map(|at| (at, s.len())))
        .max()?;
    Some(host_at(&text[at + scheme..]))
}

/// The host name `rest` starts with.
fn host_at(rest: &str) -> &str {
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '.'))
        .unwrap_or(rest.len());
    &rest[..end]
}

/// Whether `host` is `<vault>.vault.<cloud suffix>`.
fn is_vault_host(host: &str) -> bool {
    let lower = host.to_ascii_lowercase();
    VAULT_SUFFIXES
        .iter()
        .any(|s| lower.ends_with(s) && lower.len() > s.len())
}

/// Whether `message` is the kubelet's deadline on the whole mount call, naming no host
/// (`MountVolume.SetUp failed for volume "…" : rpc error: code = DeadlineExceeded desc =
/// context deadline exceeded`, the title of AKV#1063, which FACTS §11 Network cites): the
/// vault named by the SecretProviderClass got no answer in time. A deadline on the token
/// endpoint or another named host is not one.
pub fn mount_deadline(message: &str) -> bool {
    message.contains("code = DeadlineExceeded")
        && message.contains("context deadline exceeded")
        && !message.contains("https://")
}

/// Whether `message` is a vault request that got no answer at all: one naming the vault's
/// host ([`unreached_vault`]), or the kubelet's deadline on the mount ([`mount_deadline`]).
pub fn unanswered(message: &str) -> bool {
    unreached_vault(message).is_some() || mount_deadline(message)
}

/// The vault a message's request went to (`GET https://kv-shop.vault.azure.net/…` →
/// `kv-shop`): what a fix names when the SecretProviderClass that says it could not be read.
pub fn vault_named(message: &str) -> Option<&str> {
    let host = vault_host(message)?;
    Some(&host[..host.find('.')?])
}

/// The first `https://<vault>.vault.<cloud suffix>` host the message names.
fn vault_host(message: &str) -> Option<&str> {
    message.match_indices("https://").find_map(|(at, _)| {
        let host = host_at(&message[at + "https://".len()..]);
        is_vault_host(host).then_some(host)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vault_a_request_went_to_is_read_from_its_url() {
        let m = "RESPONSE 404: 404 Not Found\nGET https://kv-shop.vault.azure.net/secrets/billing-token/\nSecretNotFound";
        assert_eq!(vault_named(m), Some("kv-shop"));
        assert_eq!(vault_named("GET https://login.microsoftonline.com/x"), None);
        assert_eq!(vault_named("no url here"), None);
    }

    const WRAP: &str = "MountVolume.SetUp failed for volume \"secrets-store\" : rpc error: code = Unknown desc = failed to mount secrets store objects for pod demo/app-1, err: rpc error: code = Unknown desc = failed to mount objects, error: failed to get objectType:secret, objectName:db-password, objectVersion:: ";

    #[test]
    fn a_mistyped_name_is_a_dns_failure_of_its_host() {
        let m = format!(
            "{WRAP}GET https://kv-dem0.vault.azure.net/secrets/db-password/\nRESPONSE: dial tcp: lookup kv-dem0.vault.azure.net on 10.0.0.10:53: no such host"
        );
        let u = unreached_vault(&m).expect("unreached");
        assert_eq!(
            (u.vault, u.host, u.how),
            ("kv-dem0", "kv-dem0.vault.azure.net", Unreached::Dns)
        );
    }

    #[test]
    fn a_deadline_against_a_vault_is_a_timeout() {
        let m = format!(
            "{WRAP}GET https://kv-demo.vault.usgovcloudapi.net/secrets/db-password/\nRESPONSE: context deadline exceeded"
        );
        let u = unreached_vault(&m).expect("unreached");
        assert_eq!((u.vault, u.how), ("kv-demo", Unreached::Timeout));
    }

    #[test]
    fn the_kubelets_deadline_names_no_host_but_is_unanswered() {
        // AKV#1063's title, verbatim.
        let m = "MountVolume.SetUp failed for volume \"my-secrets-store\" : rpc error: code = DeadlineExceeded desc = context deadline exceeded";
        assert!(mount_deadline(m) && unanswered(m));
        assert_eq!(unreached_vault(m), None);
        let token = format!(
            "{WRAP}POST https://login.microsoftonline.com/t/oauth2/v2.0/token\nrpc error: code = DeadlineExceeded desc = context deadline exceeded"
        );
        assert!(!mount_deadline(&token) && !unanswered(&token));
    }

    #[test]
    fn a_timeout_elsewhere_or_an_answer_is_not_a_vault_unreached() {
        // The token endpoint timing out is not the vault's network.
        let token = format!(
            "{WRAP}POST https://login.microsoftonline.com/t/oauth2/v2.0/token\nRESPONSE: context deadline exceeded"
        );
        assert_eq!(unreached_vault(&token), None);
        let answered = format!(
            "{WRAP}GET https://kv-demo.vault.azure.net/secrets/db/\nRESPONSE 403: 403 Forbidden ForbiddenByFirewall"
        );
        assert_eq!(unreached_vault(&answered), None);
    }
}
