//! Text for reading at a glance, shared by the TUI and `check`: counts with their plural,
//! times to the second and relative ("2m ago"), and the decisive line of a long error (the
//! status, error code and message of a FailedMount carrying a whole JSON body). The full
//! text stays where it was (detail pane on a key, JSON `evidence`).

/// "1 error", "3 errors".
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A duration in the unit of the limit it is measured against: `169h`, `168h0m1s`.
pub fn hours(d: std::time::Duration) -> String {
    let s = d.as_secs();
    let (h, m, s) = (s / 3600, s % 3600 / 60, s % 60);
    match (m, s) {
        (0, 0) => format!("{h}h"),
        (m, 0) => format!("{h}h{m}m"),
        (m, s) => format!("{h}h{m}m{s}s"),
    }
}

/// A timestamp to the second, UTC: `2025-06-01 09:02:00Z`.
pub fn time(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%SZ").to_string()
}

/// The time of day to the second, UTC: `09:02:00` (the lab clock, timeline steps).
pub fn clock(t: jiff::Timestamp) -> String {
    t.strftime("%H:%M:%S").to_string()
}

/// A lab clock speed as people read it: whole from 10 up (`102`), else at most two decimals
/// without trailing zeros (`0.11`, `0.1`, `2.5`, `1`).
pub fn speed(s: f64) -> String {
    if s >= 10.0 {
        format!("{s:.0}")
    } else {
        let t = format!("{s:.2}");
        t.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// How long ago `then` was, seen from `now`: "12s ago", "2m ago", "3h ago", "4d ago".
pub fn ago(then: jiff::Timestamp, now: jiff::Timestamp) -> String {
    let secs = now.as_second().saturating_sub(then.as_second());
    if secs < 0 {
        return "just now".into();
    }
    format!("{} ago", span(secs.unsigned_abs()))
}

/// A duration as people read it at a glance, in its largest whole unit: "12s", "2m", "3h",
/// "325d" (never "7810h").
pub fn span(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m", secs / 60),
        3600..86400 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86400),
    }
}

/// The decisive part of an error message: for a short message the message itself; for a
/// CSI/Azure error with rulers and a JSON body, the HTTP status, the error code and the
/// error message, each once.
pub fn decisive(message: &str) -> String {
    let flat = message.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= 160 && !message.contains("----") && !message.contains('{') {
        return flat;
    }
    let mut parts: Vec<String> = Vec::new();
    let mut add = |p: String| {
        if !p.is_empty() && !parts.contains(&p) {
            parts.push(p);
        }
    };
    // azidentity's first line, "<Credential> authentication failed. <reason>" ([SDK]
    // errors.go): the reason is the cause when the body has no AADSTS code (the IMDS's "the
    // requested identity isn't assigned to this resource").
    if let Some(line) = credential_failure(message) {
        add(line);
    }
    // "RESPONSE 404: 404 Not Found" (azure-sdk-for-go) / "StatusCode=403".
    if let Some(status) = after(message, "RESPONSE ").map(|r| take_until(r, &['\n', ','])) {
        add(format!("RESPONSE {}", status.trim()));
    } else if let Some(code) = after(message, "StatusCode=").map(|r| take_until(r, &[' ', ','])) {
        add(format!("StatusCode={}", code.trim()));
    } else if let Some(cause) = after(message, "RESPONSE: ").map(|r| take_until(r, &['\n'])) {
        // No HTTP answer at all ("RESPONSE: dial tcp: lookup …: no such host", "RESPONSE:
        // context deadline exceeded"): the transport's own error is the cause, and the host
        // it names (a vault, Entra ID's login endpoint) says where it failed.
        add(format!("RESPONSE: {}", cause.trim()));
    }
    if let Some(code) = after(message, "ERROR CODE: ").map(|r| take_until(r, &['\n'])) {
        add(code.trim().to_string());
    }
    if let Some(code) = json_string(message, "code") {
        add(code);
    }
    if let Some(m) = json_string(message, "message") {
        // Its first sentence: the rest is advice ("If you recently deleted…", a help link).
        let first = m.find(". ").map_or(m.as_str(), |i| &m[..=i]);
        add(first.to_string());
    } else if let Some(a) = after(message, "AADSTS") {
        add(format!("AADSTS{}", take_until(a, &['.', '\n'])));
    } else if let Some(d) = json_string(message, "error_description") {
        // An OAuth error body (Entra ID, the node's IMDS): no `message`, the cause is here.
        let first = d.find(". ").map_or(d.as_str(), |i| &d[..=i]);
        add(first.to_string());
    }
    if parts.is_empty() {
        // Wrapped errors (the CSI driver's "…, err: rpc error: code = Unknown desc = …,
        // error: <cause>"): the innermost cause is the decisive one.
        let innermost = [", error: ", ", err: ", "desc = "]
            .iter()
            .filter_map(|sep| flat.rfind(sep).map(|i| &flat[i + sep.len()..]))
            .min_by_key(|cause| cause.len());
        if let Some(cause) = innermost.filter(|c| !c.is_empty()) {
            return cut_at_word(cause, 160);
        }
        // No known shape: the first sentence (a period that ends a word, not the one in
        // `Microsoft.KeyVault` or a host name), cut at a word.
        let first = flat.find(". ").map_or(flat.as_str(), |i| &flat[..=i]);
        return cut_at_word(first, 160);
    }
    parts.join(" · ")
}

/// A past event kept on a link as history ("<evidence line> — <why it is history>", the
/// diagnosis's `history::record`): the event's [`evidence`] line, then why. A history fact
/// that is not an event (no ` — `) is returned whole.
pub fn history(fact: &str) -> String {
    match fact.rsplit_once(" — ") {
        Some((event, why)) => format!("{} — {why}", evidence(event)),
        None => fact.to_string(),
    }
}

/// An evidence line ("FailedMount (x9, kubelet): <message>"): its head, then the decisive
/// part of the message.
pub fn evidence(e: &str) -> String {
    match e.split_once(": ") {
        Some((head, rest)) if head.len() <= 64 && !head.contains(['{', '\n']) => {
            format!("{head}: {}", decisive(rest))
        }
        _ => decisive(e),
    }
}

/// `<Credential> authentication failed. <reason>` when the reason is said on that line (an
/// AADSTS failure leaves it empty: its body says why).
fn credential_failure(message: &str) -> Option<String> {
    const FAILED: &str = " authentication failed.";
    let at = message.find(FAILED)?;
    let credential = message[..at].rsplit([' ', '\n', ':']).next()?;
    let reason = take_until(&message[at + FAILED.len()..], &['\n']).trim();
    (credential.ends_with("Credential") && !reason.is_empty())
        .then(|| format!("{credential} authentication failed. {reason}"))
}

fn after<'a>(s: &'a str, needle: &str) -> Option<&'a str> {
    s.find(needle).map(|i| &s[i + needle.len()..])
}

fn take_until<'a>(s: &'a str, stops: &[char]) -> &'a str {
    s.find(stops).map_or(s, |i| &s[..i])
}

/// The first `"key": "value"` string in a JSON body embedded in free text, its escapes
/// decoded (Key Vault's messages break lines with `\r\n`) and its whitespace collapsed.
fn json_string(s: &str, key: &str) -> Option<String> {
    let rest = after(s, &format!("\"{key}\""))?;
    let literal = rest.trim_start().strip_prefix(':')?.trim_start();
    if !literal.starts_with('"') {
        return None; // a number, an object: not a message
    }
    // The literal ends at the first quote that no backslash escapes.
    let mut escaped = false;
    let (end, _) = literal.char_indices().skip(1).find(|&(_, c)| {
        let closes = c == '"' && !escaped;
        escaped = c == '\\' && !escaped;
        closes
    })?;
    // Text that is not quite JSON (a raw line break inside the string) is kept as it stands.
    let text: String =
        serde_json::from_str(&literal[..=end]).unwrap_or_else(|_| literal[1..end].to_string());
    Some(text.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn cut_at_word(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out = String::new();
    for w in s.split_whitespace() {
        if out.chars().count() + w.chars().count() + 2 > max {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    /// A request that got no HTTP answer keeps the transport error, which names the host
    /// (codes.yaml KVC701: the message is the evidence; its decisive line must survive).
    #[test]
    fn a_request_without_an_answer_keeps_the_transport_error() {
        let m = "MountVolume.SetUp failed for volume \"secrets-store\" : rpc error: code = Unknown desc = failed to mount secrets store objects for pod demo/app-x, err: rpc error: code = Unknown desc = failed to mount objects, error: failed to get objectType:secret, objectName:db-password, objectVersion:: ClientAssertionCredential authentication failed. \nPOST https://login.microsoftonline.com/5c7e/oauth2/v2.0/token\nRESPONSE: dial tcp: lookup login.microsoftonline.com: no such host";
        let seen = super::evidence(&format!("FailedMount (x9, kubelet): {m}"));
        assert!(
            seen.ends_with("RESPONSE: dial tcp: lookup login.microsoftonline.com: no such host"),
            "{seen}"
        );
    }

    use super::*;

    #[test]
    fn speeds_are_rounded_for_reading() {
        let got: Vec<String> = [0.10986328125, 0.1, 1.0, 2.5, 30.0, 102.4, 3600.0]
            .into_iter()
            .map(speed)
            .collect();
        assert_eq!(got, ["0.11", "0.1", "1", "2.5", "30", "102", "3600"]);
    }

    #[test]
    fn plurals() {
        assert_eq!(plural(1, "error"), "1 error");
        assert_eq!(plural(0, "error"), "0 errors");
        assert_eq!(plural(2, "warning"), "2 warnings");
    }

    #[test]
    fn times_are_to_the_second_and_relative() {
        let t: jiff::Timestamp = "2025-06-01T09:02:00.02419707Z".parse().unwrap();
        assert_eq!(time(t), "2025-06-01 09:02:00Z");
        assert_eq!(clock(t), "09:02:00");
        let now: jiff::Timestamp = "2025-06-01T09:04:30Z".parse().unwrap();
        assert_eq!(ago(t, now), "2m ago");
        assert_eq!(ago(t, t), "0s ago");
    }

    #[test]
    fn a_failed_mount_with_a_json_body_comes_down_to_status_code_and_message() {
        // The shape of FACTS.md §3: azure-sdk-for-go's ResponseError inside the CSI message.
        let m = "MountVolume.SetUp failed for volume \"secrets-store\" : rpc error: code = Unknown desc = failed to mount secrets store objects for pod shop/catalog-1, err: rpc error: code = Unknown desc = failed to get objectType:secret, objectName:catalog-api-key, objectVersion:: GET https://kv-shop.vault.azure.net/secrets/catalog-api-key/\n--------------------------------------------------------------------------------\nRESPONSE 404: 404 Not Found\nERROR CODE: SecretNotFound\n--------------------------------------------------------------------------------\n{\n  \"error\": {\n    \"code\": \"SecretNotFound\",\n    \"message\": \"A secret with (name/id) catalog-api-key was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command.\"\n  }\n}\n--------------------------------------------------------------------------------\n";
        assert_eq!(
            decisive(m),
            "RESPONSE 404: 404 Not Found · SecretNotFound · A secret with (name/id) catalog-api-key was not found in this key vault."
        );
    }

    #[test]
    fn escaped_line_breaks_in_the_json_message_read_as_spaces() {
        // FACTS.md §3: an RBAC denial's message breaks its lines with `\r\n` inside the JSON.
        let m = "GET https://kv-shop.vault.azure.net/secrets/db-password/\n----\nRESPONSE 403: 403 Forbidden\nERROR CODE: Forbidden\n----\n{\n  \"error\": {\n    \"code\": \"Forbidden\",\n    \"message\": \"Caller is not authorized to perform action on resource.\\r\\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\\r\\nCaller: appid=1;oid=2\\r\\nAction: \\u0027Microsoft.KeyVault/vaults/secrets/getSecret/action\\u0027\",\n    \"innererror\": {\"code\": \"ForbiddenByRbac\"}\n  }\n}\n----\n";
        assert_eq!(
            decisive(m),
            "RESPONSE 403: 403 Forbidden · Forbidden · Caller is not authorized to perform action on resource."
        );
        assert_eq!(
            json_string(m, "message").unwrap(),
            "Caller is not authorized to perform action on resource. If role assignments, deny assignments or role definitions were changed recently, please observe propagation time. Caller: appid=1;oid=2 Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'"
        );
    }

    #[test]
    fn a_long_line_is_not_cut_at_the_dot_of_a_resource_id() {
        let scope = "/subscriptions/00000000-0000-0000-0000-00000000ab01/resourceGroups/rg-lab/providers/Microsoft.KeyVault/vaults/kv-shop";
        let line = format!(
            "Key Vault Secrets User at {scope}: dataActions [\"Microsoft.KeyVault/vaults/secrets/getSecret/action\", \"Microsoft.KeyVault/vaults/secrets/readMetadata/action\"]"
        );
        let seen = decisive(&line);
        assert!(
            seen.starts_with(&format!("Key Vault Secrets User at {scope}:")),
            "{seen}"
        );
        assert!(seen.ends_with('…') && seen.chars().count() <= 160, "{seen}");
        // A sentence still ends at its period.
        let first = "word ".repeat(20);
        let first = first.trim_end();
        let rest = "more ".repeat(20);
        assert_eq!(decisive(&format!("{first}. {rest}")), format!("{first}."));
    }

    #[test]
    fn a_chain_of_wrapped_errors_comes_down_to_its_innermost_cause() {
        let m = "MountVolume.SetUp failed for volume \"secrets-store\" : rpc error: code = Unknown desc = failed to mount secrets store objects for pod shop/shipping-1, err: rpc error: code = Unknown desc = failed to mount objects, error: failed to yaml unmarshal objects, error: yaml: line 4: did not find expected '-' indicator";
        assert_eq!(
            decisive(m),
            "yaml: line 4: did not find expected '-' indicator"
        );
        let m = "failed to get data in spc shop/gateway-kv for secret gateway-tls, err: failed to get cert data from file gateway-tls, err: pkcs12: error reading P12 data: asn1: syntax error: sequence truncated";
        assert_eq!(
            decisive(m),
            "pkcs12: error reading P12 data: asn1: syntax error: sequence truncated"
        );
    }

    #[test]
    fn a_message_that_is_not_quite_json_is_kept_as_it_stands() {
        let m = "{\"error\": {\"code\": \"Forbidden\", \"message\": \"Caller is not authorized.\nIf role assignments changed, wait.\"}}";
        assert_eq!(
            json_string(m, "message").unwrap(),
            "Caller is not authorized. If role assignments changed, wait."
        );
        assert_eq!(json_string("{\"code\": 403}", "code"), None);
    }

    #[test]
    fn a_short_message_is_kept_whole() {
        assert_eq!(
            decisive("Successfully pulled image\n \"nginx\""),
            "Successfully pulled image \"nginx\""
        );
    }
}
