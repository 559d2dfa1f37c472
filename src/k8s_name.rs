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

/// The API server's own words for a label value it refuses (apimachinery
/// `validation.IsValidLabelValue`: at most 63 characters, empty or alphanumerics with '-', '_'
/// and '.' inside), one message per rule broken; empty when the value is valid.
pub fn label_value_errors(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > 63 {
        errs.push(MAX_63.to_string());
    }
    if !value.is_empty() && !qualified_name_part(value) {
        errs.push(format!(
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '({QNAME})?')"
        ));
    }
    errs
}

/// The API server's words for a label key it refuses (apimachinery `IsQualifiedName`: an
/// optional DNS-1123 subdomain prefix and '/', then a name part of at most 63 characters).
pub fn label_key_errors(key: &str) -> Vec<String> {
    let name_rule = format!(
        "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '{QNAME}')"
    );
    let parts: Vec<&str> = key.split('/').collect();
    let mut errs = Vec::new();
    let name = match parts[..] {
        [name] => name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push("prefix part must be non-empty".to_string());
            } else if !dns_subdomain(prefix) {
                errs.push("prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')".to_string());
            }
            name
        }
        _ => {
            return vec![format!(
                "a qualified name {name_rule} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
            )];
        }
    };
    if name.is_empty() {
        errs.push("name part must be non-empty".to_string());
    } else if name.len() > 63 {
        errs.push(format!("name part {MAX_63}"));
    }
    if !qualified_name_part(name) {
        errs.push(format!("name part {name_rule}"));
    }
    errs
}

const MAX_63: &str = "must be no more than 63 characters";
const QNAME: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`, whole (no length limit: said apart).
fn qualified_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    let edge = |c: Option<&u8>| c.is_some_and(u8::is_ascii_alphanumeric);
    edge(b.first())
        && edge(b.last())
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_and_keys_as_the_api_server_judges_them() {
        for ok in ["", "linux", "Standard_D4s_v3", "a.b-c_d", "0", "REPLACE_ME"] {
            assert!(label_value_errors(ok).is_empty(), "{ok}");
        }
        for bad in [
            "$OS",
            "{{ .Values.os }}",
            "<os>",
            "__OS__",
            "-a",
            "a b",
            "#{os}#",
        ] {
            let e = label_value_errors(bad);
            assert_eq!(e.len(), 1, "{bad}");
            assert!(
                e[0].starts_with("a valid label must be an empty string"),
                "{bad}"
            );
            assert!(e[0].ends_with(
                "regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
            ));
        }
        assert_eq!(label_value_errors(&"a".repeat(64)), [MAX_63]);
        for ok in [
            "kubernetes.io/os",
            "agentpool",
            "node.kubernetes.io/instance-type",
        ] {
            assert!(label_key_errors(ok).is_empty(), "{ok}");
        }
        assert_eq!(label_key_errors("/os"), ["prefix part must be non-empty"]);
        assert!(label_key_errors("a/b/c")[0].starts_with("a qualified name must consist"));
        assert!(label_key_errors("$KEY")[0].starts_with("name part must consist"));
        assert!(
            label_key_errors("Example.com/os")[0].starts_with("prefix part a lowercase RFC 1123")
        );
    }
}
