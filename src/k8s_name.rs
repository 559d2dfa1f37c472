//! The API server's name rules (RFC 1123), shared by the manifests source, which refuses what
//! the API server would, and the rules, which never propose a name it would refuse.

/// RFC 1123 label, as the API server validates namespace names.
pub fn dns_label(name: &str) -> bool {
    name.len() <= 63 && !name.contains('.') && dns_subdomain(name)
}

/// RFC 1123 subdomain, as the API server validates object names.
pub fn dns_subdomain(name: &str) -> bool {
    let ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = name.as_bytes();
    name.len() <= 253
        && bytes.first().copied().is_some_and(ok)
        && bytes.last().copied().is_some_and(ok)
        && bytes.iter().all(|&b| ok(b) || b == b'-' || b == b'.')
}
