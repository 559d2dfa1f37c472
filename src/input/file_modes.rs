//! Volume file modes as kubectl reads a manifest: a plain `defaultMode: 0400` is the octal
//! integer 256, a quoted `"0400"` is a string.
//!
//! kubectl reads YAML 1.1 (sigs.k8s.io/yaml over go-yaml v2), where a plain scalar of a
//! leading `0` and octal digits is an octal integer (`strconv.ParseInt(s, 0, 64)`); serde_yaml
//! reads YAML 1.2 and gives a string for both. A quoted scalar is a string to both, and the API
//! server refuses a string where the pod spec has an int32 (`json: cannot unmarshal string into
//! Go struct field SecretVolumeSource…defaultMode of type int32`), so `kubectl apply` refuses
//! the whole object. Only the parser sees the quotes: the value tree serde_yaml builds does
//! not keep them, so the modes are resolved while the value is built ([`At`] follows where
//! the parser is), from the text the scalar was borrowed from.
//!
//! The fields are the ones the Kubernetes docs write in octal: `defaultMode` of a `secret`,
//! `configMap`, `downwardAPI` or `projected` volume and `mode` of their `items` (a projected
//! source's too), in any `volumes` list (a pod, a workload's template, a CronJob's job
//! template, a custom resource's).

use serde_yaml::Value;

/// The volume kinds whose `defaultMode` and `items[].mode` are file modes.
const SOURCES: [&str; 4] = ["secret", "configMap", "downwardAPI", "projected"];

/// Where a value sits on the way to a volume's file mode, as the parser descends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum At {
    /// Not followed: inputs other than manifests (config, themes, an SPC's `objects`).
    Off,
    /// Anywhere not on the way to a file mode.
    Elsewhere,
    /// The list under a `volumes` key.
    Volumes,
    /// One volume.
    Volume,
    /// A volume's `secret`, `configMap`, `downwardAPI` or `projected`.
    Source,
    /// A projected volume's `sources` list.
    Sources,
    /// One entry of `sources`.
    Projection,
    /// A projection's `secret`, `configMap` or `downwardAPI` (items, no defaultMode).
    Projected,
    /// An `items` list.
    Items,
    /// One entry of `items`.
    Item,
    /// A `defaultMode` or an item's `mode`: the scalar resolved here.
    Mode,
    /// A mapping's key in a manifest ([`kubectl_key`]).
    Key,
}

impl At {
    /// Where the value of `key`, in a mapping that sits at `self`, sits.
    pub(crate) fn key(self, key: &Value) -> At {
        if self == At::Off {
            return At::Off;
        }
        let Some(k) = key.as_str() else {
            return At::Elsewhere;
        };
        match (self, k) {
            // A `<<` merge key's mapping is merged into this one: the same kind of place.
            (At::Volume | At::Source | At::Projection | At::Projected | At::Item, "<<") => self,
            (At::Volume, k) if SOURCES.contains(&k) => At::Source,
            (At::Source, "defaultMode") | (At::Item, "mode") => At::Mode,
            (At::Source | At::Projected, "items") => At::Items,
            (At::Source, "sources") => At::Sources,
            (At::Projection, k) if SOURCES.contains(&k) => At::Projected,
            (_, "volumes") => At::Volumes,
            _ => At::Elsewhere,
        }
    }

    /// Where a key of a mapping that sits at `self` is read.
    pub(crate) fn map_key(self) -> At {
        if self == At::Off { At::Off } else { At::Key }
    }

    /// Where an entry of a list that sits at `self` sits.
    pub(crate) fn entry(self) -> At {
        match self {
            At::Off => At::Off,
            At::Volumes => At::Volume,
            At::Sources => At::Projection,
            At::Items => At::Item,
            _ => At::Elsewhere,
        }
    }
}

/// Whether scalar `s`, borrowed from `src`, was written plain (not quoted). serde_yaml lends a
/// plain scalar as the bytes of the text and a quoted one as the bytes between its quotes;
/// anything else (escapes, block scalars) is an owned string, never lent.
pub(crate) fn plain(src: &str, s: &str) -> bool {
    let (at, base) = (s.as_ptr() as usize, src.as_ptr() as usize);
    let Some(offset) = at.checked_sub(base).filter(|o| o + s.len() <= src.len()) else {
        return false;
    };
    let before = offset.checked_sub(1).map(|o| src.as_bytes()[o]);
    !matches!(before, Some(b'"' | b'\''))
}

/// The boolean a plain scalar `s` (borrowed from `src`) is to kubectl's YAML 1.1 (go-yaml v2,
/// under sigs.k8s.io/yaml): `y`, `yes`, `on` and `n`, `no`, `off` in their three cases, beside
/// `true` / `false` that YAML 1.2 reads too. serde_yaml reads them as strings, so `readOnly:
/// yes` was refused as a string where kubectl sends `true`, and `value: yes` in an env entry
/// read as the string the API server never gets: kubectl sends `true`, and the API server
/// refuses the object (`json: cannot unmarshal bool into Go struct field EnvVar…value of type
/// string`) (audit UUU-real). A quoted `"yes"` stays a string.
pub(crate) fn plain_bool(src: &str, s: &str) -> Option<bool> {
    let b = match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => true,
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => false,
        _ => return None,
    };
    plain(src, s).then_some(b)
}

/// Scalar `v` read as a manifest's mapping key (`at` is [`At::Key`]) as kubectl sends it:
/// go-yaml v2 resolves a plain key as any scalar (`yes`, `on` and `true` a boolean, `1` an
/// integer) and sigs.k8s.io/yaml's YAMLToJSON makes it the JSON key `"true"`, `"false"` or the
/// number's decimal text. So a label or a Secret's data key written `yes:` is `true` to the
/// API server, and `1:` is `"1"`; serde_yaml kept `yes` and refused the number (audit
/// VVV-real). Elsewhere `v` is returned as it is.
pub(crate) fn kubectl_key(at: At, v: Value) -> Value {
    if at != At::Key {
        return v;
    }
    match v {
        Value::Bool(b) => Value::String(b.to_string()),
        // go-yaml keeps a float key a float64, which YAMLToJSON writes with
        // FormatFloat(f, 'g', -1, 32): the shortest text of its 32-bit value.
        Value::Number(n) if n.is_f64() => Value::String(match n.as_f64() {
            Some(f) if f.is_nan() => ".nan".into(),
            Some(f) if f.is_infinite() => if f > 0.0 { ".inf" } else { "-.inf" }.into(),
            Some(f) => go_g32(f as f32),
            None => n.to_string(),
        }),
        Value::Number(n) => Value::String(n.to_string()),
        v => v,
    }
}

/// Go's `FormatFloat(f, 'g', -1, 32)`: the shortest digits that read back as `f`, in exponent
/// form (`1e+06`, two exponent digits at least) when the exponent is below -4 or from 6 on
/// (strconv's `%g` takes 6 as the precision of a shortest format).
fn go_g32(f: f32) -> String {
    let e = format!("{f:e}");
    let Some((mantissa, exp)) = e.split_once('e') else {
        return e;
    };
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        format!("{f}")
    }
}

/// A manifest's float `f` (a scalar value, `at` not [`At::Off`]) as the API server reads it:
/// kubectl sends go-yaml's float64 through Go's `json.Marshal`, which writes an integral one
/// without a fraction (`1.0`, `1e3` are sent as `1`, `1000`), so an integer field takes it.
/// serde_yaml kept it a float, which an int32 refused: `replicas: 1.0` was refused where
/// `kubectl apply` takes it (audit VVV-real). Only within i64, where Go's ParseInt reads it.
pub(crate) fn kubectl_float(at: At, f: f64) -> Value {
    let integral = f.fract() == 0.0 && f.abs() < 9.2e18;
    if at != At::Off && at != At::Key && integral {
        Value::Number((f as i64).into())
    } else {
        Value::Number(f.into())
    }
}

/// The octal integer a file mode `s` is to kubectl: `s` a plain scalar (not quoted, not a
/// block scalar) of `0` and octal digits, borrowed from `src`. `None` for anything else, which
/// stays the string it is (a quoted `"0400"`, refused by the API server as a string).
pub(crate) fn plain_octal(src: &str, s: &str) -> Option<i64> {
    let digits = s.strip_prefix('0')?;
    if digits.is_empty() || !digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return None;
    }
    if !plain(src, s) {
        return None;
    }
    i64::from_str_radix(digits, 8).ok()
}

/// How to write a file mode kvchain found quoted, when the field at `keys` (its path's keys,
/// no indices) is one and `got` (the JSON kind written) a string: kubectl sends a quoted
/// `"0400"` as a JSON string, which the API server refuses where the pod spec has an int32
/// (audit TTT-real; the refusal itself is said as every type error is, manifests::type_error).
pub(crate) fn quoted_hint(keys: &[&str], got: &str) -> Option<&'static str> {
    let n = keys.len();
    let field = *keys.last()?;
    let holder = |i: usize| n.checked_sub(i).and_then(|i| keys.get(i)).copied();
    let mode = match (field, holder(2), holder(3)) {
        ("defaultMode", Some(s), _) => SOURCES.contains(&s),
        ("mode", Some("items"), Some(s)) => SOURCES.contains(&s),
        _ => false,
    };
    (mode && got == "string" && keys.contains(&"volumes")).then_some(
        ": a quoted mode is a string; write it unquoted (0400, the octal number kubectl's YAML reads, or its decimal 256)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Value {
        crate::input::stream::documents(text)
            .unwrap()
            .next()
            .unwrap()
            .value
            .unwrap()
    }

    #[test]
    fn plain_yaml_1_1_booleans_are_booleans_and_quoted_ones_strings() {
        let v = read("a: yes\nb: 'yes'\nc: Off\nd: \"on\"\ne: [n, Y]\nyes: 1\nf: yesterday\n");
        assert_eq!(v["a"], Value::Bool(true));
        assert_eq!(v["b"], Value::from("yes"));
        assert_eq!(v["c"], Value::Bool(false));
        assert_eq!(v["d"], Value::from("on"));
        assert_eq!(v["e"][0], Value::Bool(false));
        assert_eq!(v["e"][1], Value::Bool(true));
        // A key too is a boolean to go-yaml, which YAMLToJSON writes as "true" (audit VVV-real).
        assert_eq!(v["true"], Value::from(1));
        assert_eq!(v.get("yes"), None);
        assert_eq!(v["f"], Value::from("yesterday"));
    }

    /// sigs.k8s.io/yaml's key conversion: a boolean key is "true"/"false", an integer its
    /// decimal, a float FormatFloat(f, 'g', -1, 32), a quoted key the string it is; values
    /// keep their kinds, an integral float value becomes the integer json.Marshal writes.
    #[test]
    fn keys_are_the_strings_kubectl_sends_and_integral_floats_integers() {
        let v = read("on: a\n'no': b\n1: c\n1.5: d\n1e6: e\n100.0: f\nr: 2.0\ns: 2.5\nt: 1e3\n");
        for (k, want) in [
            ("true", "a"),
            ("no", "b"),
            ("1", "c"),
            ("1.5", "d"),
            ("1e+06", "e"),
            ("100", "f"),
        ] {
            assert_eq!(v[k], Value::from(want), "{k}: {v:?}");
        }
        assert_eq!(v["r"], Value::from(2));
        assert_eq!(v["s"], Value::from(2.5));
        assert_eq!(v["t"], Value::from(1000));
        // Not a manifest (config, themes): serde_yaml's reading, untouched.
        let text = "yes: 2.0\n";
        let budget = crate::input::Budget::for_text(text);
        let plain = crate::input::value_within(text, &budget).unwrap();
        assert_eq!(plain["yes"], Value::from(2.0));
    }

    #[test]
    fn plain_modes_are_octal_and_quoted_ones_strings() {
        let v = read(concat!(
            "spec:\n  volumes:\n",
            "    - name: a\n      secret: {secretName: s, defaultMode: 0400, items: [{key: k, path: p, mode: 0644}]}\n",
            "    - name: b\n      projected:\n        defaultMode: 0755\n        sources:\n",
            "          - configMap: {name: c, items: [{key: k, path: p, mode: 0440}]}\n",
            "    - name: c\n      secret: {secretName: s, defaultMode: \"0400\", items: [{key: k, path: p, mode: '0644'}]}\n",
            "    - name: d\n      configMap:\n        name: c\n        defaultMode: |\n          0400\n",
        ));
        let vols = &v["spec"]["volumes"];
        assert_eq!(vols[0]["secret"]["defaultMode"], Value::from(256));
        assert_eq!(vols[0]["secret"]["items"][0]["mode"], Value::from(420));
        assert_eq!(vols[1]["projected"]["defaultMode"], Value::from(493));
        let item = &vols[1]["projected"]["sources"][0]["configMap"]["items"][0];
        assert_eq!(item["mode"], Value::from(288));
        assert_eq!(vols[2]["secret"]["defaultMode"], Value::from("0400"));
        assert_eq!(vols[2]["secret"]["items"][0]["mode"], Value::from("0644"));
        assert_eq!(vols[3]["configMap"]["defaultMode"], Value::from("0400\n"));
    }

    #[test]
    fn only_volume_modes_and_only_octal_digits_are_converted() {
        let v = read(concat!(
            "spec:\n  volumes:\n    - name: a\n      secret: {secretName: '0400', defaultMode: 0x1}\n",
            "    - name: b\n      configMap: {name: c, defaultMode: 0800}\n  mode: 0400\n",
        ));
        assert_eq!(
            v["spec"]["volumes"][0]["secret"]["secretName"],
            Value::from("0400")
        );
        assert_eq!(
            v["spec"]["volumes"][1]["configMap"]["defaultMode"],
            Value::from("0800")
        );
        assert_eq!(v["spec"]["mode"], Value::from("0400"));
    }

    #[test]
    fn json_modes_are_what_json_says() {
        let v = read(
            r#"{"spec": {"volumes": [{"name": "a", "secret": {"defaultMode": "0400"}}, {"name": "b", "secret": {"defaultMode": 256}}]}}"#,
        );
        assert_eq!(
            v["spec"]["volumes"][0]["secret"]["defaultMode"],
            Value::from("0400")
        );
        assert_eq!(
            v["spec"]["volumes"][1]["secret"]["defaultMode"],
            Value::from(256)
        );
    }

    #[test]
    fn merged_and_aliased_modes_are_resolved_where_they_are_written() {
        let v = read(concat!(
            "spec:\n  volumes:\n    - name: a\n      secret: &s {secretName: s, defaultMode: 0440}\n",
            "    - name: b\n      secret: *s\n",
        ));
        assert_eq!(
            v["spec"]["volumes"][1]["secret"]["defaultMode"],
            Value::from(288)
        );
    }
}
