//! The API server's rule for a key of a ConfigMap's or a Secret's data (apimachinery
//! `IsConfigMapKey`): the lab admits ConfigMaps and builds synced Secrets by it, and the
//! diagnosis says when a `secretObjects` key breaks it (the driver's create is refused).

/// Why `k` is no valid key, in the API server's words, or None.
pub fn invalid_config_key(k: &str) -> Option<&'static str> {
    if k.len() > 253 {
        return Some("must be no more than 253 characters");
    }
    // An empty key fails the regular expression (`+`): the API server says so in its words.
    if k.is_empty()
        || !k
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Some(
            "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
        );
    }
    match k {
        "." => Some("must not be '.'"),
        ".." => Some("must not be '..'"),
        _ if k.starts_with("..") => Some("must not start with '..'"),
        _ => None,
    }
}
