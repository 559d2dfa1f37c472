//! Unrendered templates written unquoted, and values of the wrong kind, said as what they are.
//!
//! `name: {{ .Values.spcName }}` is no string to YAML: it reads as a mapping whose one key is
//! the mapping `{.Values.spcName: null}`. kubectl converts YAML to JSON before anything else and
//! refuses a key that is not a scalar ("invalid map key"), so the document is never applied. Said
//! as "missing or empty" or "invalid type: map, expected i32", the user looks for the wrong
//! mistake; a quoted `"{{ … }}"` is a string, and the rules report it as unrendered (KVC306).

use serde_yaml::Value;

/// What follows the field path when a document holds an unquoted `{{ … }}`.
pub(super) const REFUSED: &str = "is an unrendered template: `{{ … }}` written unquoted, which YAML reads as a nested mapping (a Helm chart not yet rendered?): kubectl apply refuses the document; render it first (helm template)";

/// The field path (`spec.replicas`, `metadata.name`) of the first value that is an unquoted
/// `{{ … }}`, or of any mapping with a key that is a mapping or a list, which kubectl refuses
/// the same way. `.` for the document itself.
pub(super) fn unrendered(value: &Value) -> Option<String> {
    found(value, &|k| k.is_mapping() || k.is_sequence())
}

/// What follows the path of a mapping holding a null key.
pub(super) const NULL_KEY: &str = "holds a null key (`~`, `null`, or nothing before the `:`): kubectl refuses the document before sending it (error converting YAML to JSON: unsupported map key of type: %!s(<nil>), key: <nil>, value: …; kvchain does not print the value)";

/// The field path of the first mapping with a null key (`~: x`, `? : x`): sigs.k8s.io/yaml's
/// YAMLToJSON turns a string, number or boolean key into a JSON key and refuses any other
/// (`unsupported map key of type`), so kubectl applies nothing of the document (audit
/// WWW-real; it was said as serde's `invalid type: unit value` at a `?` path, or not at all).
/// `.` for the document itself.
pub(super) fn null_key(value: &Value) -> Option<String> {
    found(value, &Value::is_null)
}

/// The path of the first mapping with a key `bad` takes, depth-first in document order.
fn found(value: &Value, bad: &dyn Fn(&Value) -> bool) -> Option<String> {
    let mut path = Vec::new();
    find(value, &mut path, bad).then(|| {
        if path.is_empty() {
            ".".to_string()
        } else {
            path.concat().trim_start_matches('.').to_string()
        }
    })
}

/// Depth-first, in document order; `path` holds the segments down to the value found.
fn find(value: &Value, path: &mut Vec<String>, bad: &dyn Fn(&Value) -> bool) -> bool {
    match value {
        Value::Mapping(m) => {
            if m.keys().any(bad) {
                return true;
            }
            for (k, v) in m {
                path.push(format!(".{}", key_text(k)));
                if find(v, path, bad) {
                    return true;
                }
                path.pop();
            }
            false
        }
        Value::Sequence(items) => {
            for (i, v) in items.iter().enumerate() {
                path.push(format!("[{i}]"));
                if find(v, path, bad) {
                    return true;
                }
                path.pop();
            }
            false
        }
        Value::Tagged(t) => find(&t.value, path, bad),
        _ => false,
    }
}

fn key_text(k: &Value) -> String {
    match k {
        Value::String(s) => crate::shown::shown(s).into_owned(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => "~".to_string(),
    }
}

/// What a value is, never what it holds (a wrong-typed value may be secret material).
pub(super) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path_of(text: &str) -> Option<String> {
        unrendered(&serde_yaml::from_str(text).unwrap())
    }

    #[test]
    fn an_unquoted_template_is_found_at_its_field() {
        assert_eq!(
            path_of("metadata:\n  name: {{ .Values.spcName }}\n").as_deref(),
            Some("metadata.name")
        );
        assert_eq!(
            path_of("spec:\n  replicas: {{ .Values.replicas }}\n").as_deref(),
            Some("spec.replicas")
        );
        assert_eq!(
            path_of("spec:\n  containers:\n  - image: {{ .Values.image }}\n").as_deref(),
            Some("spec.containers[0].image")
        );
        // Quoted, it is a string: the rules say it is unrendered (KVC306).
        assert_eq!(path_of("metadata:\n  name: \"{{ .Values.x }}\"\n"), None);
        assert_eq!(path_of("metadata: {name: web, labels: {a: b}}\n"), None);
    }
}
