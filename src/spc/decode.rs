//! The types of an `objects` item's fields, as the provider decodes them: an item it cannot
//! decode fails the mount (KVC705), however valid its other fields are.

use super::{RawObject, SpcProblem, scalar};

/// Fields of a type the provider cannot decode. It decodes each item into a typed struct
/// (FACTS §5: strings, and `objectVersionHistory` an integer) and the whole mount fails on a
/// field it cannot decode: a list or mapping where a string goes, or an `objectVersionHistory`
/// that is no integer. A scalar where a string goes is read as its text, as the provider's
/// YAML decoding does. The value is not echoed: only its kind.
///
/// A quoted number is a string (audit Z5): the provider decodes each item with
/// gopkg.in/yaml.v3 into `ObjectVersionHistory int32`, and yaml.v3's `decoder.scalar`
/// (decode.go, branch v3) tags a quoted scalar `!!str` (`if n.indicatedString() { tag =
/// strTag; resolved = n.Value }`); for an `reflect.Int…` field it accepts a resolved int,
/// int64, uint64 or float64, and a string only into a `time.Duration`; anything else is
/// `d.terror`: `cannot unmarshal !!str `3` into int32`. A string field takes any scalar
/// (`case reflect.String: out.SetString(n.Value)`), so quoted or not is the same there.
pub(super) fn type_problems(raw: &RawObject, field: &str, problems: &mut Vec<SpcProblem>) {
    let strings = [
        ("objectName", &raw.object_name),
        ("objectType", &raw.object_type),
        ("objectAlias", &raw.object_alias),
        ("objectVersion", &raw.object_version),
        ("objectFormat", &raw.object_format),
        ("objectEncoding", &raw.object_encoding),
        ("filePermission", &raw.file_permission),
    ];
    let mut push = |sub: &str, message: String| {
        problems.push(SpcProblem {
            field: format!("{field}.{sub}"),
            message,
            line: None,
            column: None,
        })
    };
    let undecodable = "the provider cannot decode this item, so the mount fails";
    for (name, v) in strings {
        if let Some(v @ (serde_yaml::Value::Sequence(_) | serde_yaml::Value::Mapping(_))) = v {
            push(
                name,
                format!("is {}, not a string ({undecodable})", value_kind(v)),
            );
        }
    }
    if let Some(v) = &raw.object_version_history {
        // A number, as `object_from_raw` reads it: its text, parsed as a 32-bit integer.
        let decodes = match v {
            serde_yaml::Value::Null => true,
            serde_yaml::Value::Number(_) => {
                scalar(&Some(v.clone())).is_some_and(|s| s.parse::<i32>().is_ok())
            }
            _ => false,
        };
        let quoted_integer =
            matches!(v, serde_yaml::Value::String(s) if s.trim().parse::<i32>().is_ok());
        if quoted_integer {
            push(
                "objectVersionHistory",
                format!("{QUOTED_INTEGER}, not an integer ({undecodable})"),
            );
        } else if !decodes {
            push(
                "objectVersionHistory",
                format!("is {}, not a 32-bit integer ({undecodable})", value_kind(v)),
            );
        }
    }
}

/// How a quoted integer is said: the engine's KVC705 fix removes the quotes.
pub(crate) const QUOTED_INTEGER: &str = "is a string (a quoted number)";

/// What a YAML value is, for a message that must not quote it.
fn value_kind(v: &serde_yaml::Value) -> &'static str {
    match v {
        serde_yaml::Value::Null => "null",
        serde_yaml::Value::Bool(_) => "a boolean",
        serde_yaml::Value::Number(_) => "a number",
        serde_yaml::Value::String(_) => "a string",
        serde_yaml::Value::Sequence(_) => "a list",
        serde_yaml::Value::Mapping(_) => "a mapping",
        serde_yaml::Value::Tagged(_) => "a tagged value",
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    /// The problems of one item, as `field: message`.
    fn problems(item: &str) -> Vec<String> {
        let item = item.replace('\n', "\n      ");
        let objects = format!("array:\n  - |\n      {item}\n");
        let params = BTreeMap::from([("objects".to_string(), objects)]);
        crate::spc::parse(&params)
            .problems
            .iter()
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect()
    }

    #[test]
    fn a_list_or_mapping_where_a_string_goes_is_a_problem_naming_item_and_field() {
        let p = problems("objectName: db\nobjectType: secret\nobjectVersion: [x]");
        assert_eq!(
            p,
            [
                "objects.array[0].objectVersion: is a list, not a string (the provider cannot decode this item, so the mount fails)"
            ]
        );
        let p = problems("objectName: db\nobjectType: secret\nobjectAlias: {a: SECRETISH}");
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with("objects.array[0].objectAlias: is a mapping, not a string"),
            "{p:?}"
        );
        assert!(
            !p[0].contains("SECRETISH"),
            "the value is not echoed: {p:?}"
        );
    }

    #[test]
    fn an_object_version_history_that_is_no_integer_is_a_problem() {
        for (v, kind) in [
            ("lots", "a string"),
            ("[1]", "a list"),
            ("true", "a boolean"),
            ("1.5", "a number"),
        ] {
            let p = problems(&format!(
                "objectName: db\nobjectType: secret\nobjectVersionHistory: {v}"
            ));
            assert_eq!(
                p,
                [format!(
                    "objects.array[0].objectVersionHistory: is {kind}, not a 32-bit integer (the provider cannot decode this item, so the mount fails)"
                )],
                "{v}"
            );
        }
    }

    #[test]
    fn scalars_where_strings_go_and_integers_decode_as_before() {
        assert!(
            problems(
                "objectName: 7\nobjectType: secret\nobjectVersion: 12\nobjectVersionHistory: 3"
            )
            .is_empty()
        );
        // A string field takes a quoted scalar as its text (yaml.v3: `out.SetString(n.Value)`).
        assert!(
            problems("objectName: \"7\"\nobjectType: 'secret'\nobjectVersion: \"12\"").is_empty()
        );
    }

    /// Audit Z5: yaml.v3 (the provider's decoder, into `ObjectVersionHistory int32`) tags a
    /// quoted scalar `!!str` and refuses it for an int field: `cannot unmarshal !!str `3`
    /// into int32` (decode.go `decoder.scalar`: a string goes into an int kind only as a
    /// `time.Duration`). So `"3"` fails the mount, as `lots` does.
    #[test]
    fn a_quoted_object_version_history_is_a_string_the_provider_cannot_decode() {
        for v in ["\"3\"", "'4'", "\" 2 \""] {
            let p = problems(&format!(
                "objectName: db\nobjectType: secret\nobjectVersionHistory: {v}"
            ));
            assert_eq!(
                p,
                [
                    "objects.array[0].objectVersionHistory: is a string (a quoted number), not an integer (the provider cannot decode this item, so the mount fails)"
                ],
                "{v}"
            );
        }
    }
}
