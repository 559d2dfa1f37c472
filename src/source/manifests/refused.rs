//! Documents `kubectl apply` would refuse, found before they are typed: without them in "Not
//! read" they would vanish silently (a misspelt kind, a kind-less document) or yield objects
//! the API server never holds (an empty name, shown as `Deployment/`).

use serde_yaml::Value;

use super::apply_set::READ;

/// Why the document cannot be applied, as `field: reason`; `None` when it can be read.
pub(super) fn refused(value: &Value, kind: &str, name: &str) -> Option<String> {
    let field = |key: &str| value.get(key);
    if kind.is_empty() {
        // Helm values, Chart.yaml or kustomization.yaml sit beside manifests without a kind;
        // a document with both apiVersion and metadata is meant as an object.
        let object = field("apiVersion").is_some() && field("metadata").is_some();
        return object.then(|| "kind: missing (kubectl rejects a document without it)".into());
    }
    if kind.ends_with("List") {
        // A List whose items are a sequence was unpacked already (apply_set).
        return field("items")
            .is_some()
            .then(|| "items: invalid type, expected a sequence of objects".into());
    }
    if let Some(meant) = near_miss(kind) {
        return Some(format!(
            "kind: {kind:?} is not a kind kvchain reads (did you mean {meant}?)"
        ));
    }
    let generated = value
        .get("metadata")
        .and_then(|m| m.get("generateName"))
        .and_then(Value::as_str)
        .is_some_and(|g| !g.is_empty());
    if READ.contains(&kind) && name.is_empty() && !generated {
        return Some("metadata.name: missing or empty (the API server rejects it)".into());
    }
    // Every kind kvchain reads is named as a DNS-1123 subdomain. A template placeholder is
    // left to the rules, which say it is unrendered.
    if READ.contains(&kind)
        && !name.is_empty()
        && !crate::chain::rules::params::is_placeholder(name)
        && !dns_subdomain(name)
    {
        return Some(format!(
            "metadata.name: {:?} is no valid name (lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253): the API server rejects it",
            crate::shown::shown(name)
        ));
    }
    None
}

/// RFC 1123 subdomain, as the API server validates object names.
fn dns_subdomain(name: &str) -> bool {
    let ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = name.as_bytes();
    name.len() <= 253
        && bytes.first().copied().is_some_and(ok)
        && bytes.last().copied().is_some_and(ok)
        && bytes.iter().all(|&b| ok(b) || b == b'-' || b == b'.')
}

/// The kind kvchain reads that `kind` misspells: within edit distance 2, ignoring case (1 for
/// three-letter kinds, so `Node` is not taken for `Pod`).
fn near_miss(kind: &str) -> Option<&'static str> {
    if READ.contains(&kind) {
        return None;
    }
    let lower = kind.to_lowercase();
    READ.iter()
        .map(|k| (strsim::levenshtein(&lower, &k.to_lowercase()), *k))
        .filter(|&(d, k)| d <= if k.len() <= 3 { 1 } else { 2 })
        .min()
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_are_dns_subdomains() {
        for good in ["web", "kv-shop.v2", "a", "0app"] {
            assert!(dns_subdomain(good), "{good}");
        }
        for bad in ["My_SPC", "-web", "web-", "Web", "kv shop", ""] {
            assert!(!dns_subdomain(bad), "{bad}");
        }
        let value = serde_yaml::from_str::<Value>("kind: SecretProviderClass").unwrap();
        let why = refused(&value, "SecretProviderClass", "My_SPC").expect("refused");
        assert!(why.starts_with("metadata.name: \"My_SPC\""), "{why}");
        // Placeholders are the rules' to tell (unrendered), not refused here.
        assert_eq!(refused(&value, "SecretProviderClass", "${SPC}"), None);
    }

    #[test]
    fn near_misses_of_read_kinds_only() {
        assert_eq!(near_miss("Deploymnet"), Some("Deployment"));
        assert_eq!(near_miss("deployment"), Some("Deployment"));
        assert_eq!(near_miss("Pods"), Some("Pod"));
        for real in [
            "Node",
            "Service",
            "ConfigMap",
            "Role",
            "CSINode",
            "Deployment",
        ] {
            assert_eq!(near_miss(real), None, "{real}");
        }
    }
}
