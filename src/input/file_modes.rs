//! A manifest's scalars as kubectl reads them: YAML 1.1 (sigs.k8s.io/yaml over go-yaml v2),
//! where serde_yaml reads YAML 1.2. A plain `yes` is a boolean, a plain `0400` the octal
//! integer 256 ([`super::go_numbers`]), a key is sent as the string YAMLToJSON makes of it, an
//! integral float as the integer `json.Marshal` writes; a quoted scalar is a string to both.
//! Only the parser sees the quotes: the value tree serde_yaml builds does not keep them, so
//! scalars are resolved while the value is built ([`At`] says whether a manifest is read, and
//! whether at a key), from the text the scalar was borrowed from.
//!
//! File modes were resolved as octal only under a volume's `defaultMode` and `items[].mode`
//! (audit TTT-real); go-yaml resolves every plain scalar alike, so a `0644` elsewhere, a
//! `+0644` or `0_644` were strings where kubectl sends numbers (audit WWW-real). The API
//! server refuses a quoted `"0400"` where the pod spec has an int32 ([`quoted_hint`]) and a
//! mode outside 0..0777 (manifests::modes).

use serde_yaml::Value;

/// The volume kinds whose `defaultMode` and `items[].mode` are file modes.
const SOURCES: [&str; 4] = ["secret", "configMap", "downwardAPI", "projected"];

/// Where a value sits, as the parser descends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum At {
    /// Not a manifest: inputs other than manifests (config, themes, an SPC's `objects`), read
    /// as serde_yaml reads them.
    Off,
    /// A value in a manifest.
    Elsewhere,
    /// A mapping's key in a manifest ([`kubectl_key`]).
    Key,
}

impl At {
    /// Where the value of a key of a mapping that sits at `self` sits.
    pub(crate) fn value(self) -> At {
        if self == At::Off {
            At::Off
        } else {
            At::Elsewhere
        }
    }

    /// Where a key of a mapping that sits at `self` is read.
    pub(crate) fn map_key(self) -> At {
        if self == At::Off { At::Off } else { At::Key }
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

    /// go-yaml v2 resolves every plain scalar alike, not only a volume's modes: `0644` is 420
    /// wherever it is written, `0800` the float 800 (no octal), a quoted one a string; a key
    /// is sent as its decimal text (audit WWW-real; these were all strings).
    #[test]
    fn plain_numbers_are_go_yaml_numbers_everywhere() {
        let v = read(concat!(
            "spec:\n  volumes:\n    - name: a\n      secret: {secretName: '0400', defaultMode: 0x1A4}\n",
            "    - name: b\n      configMap: {name: c, defaultMode: 0800}\n",
            "    - name: c\n      secret: {secretName: s, defaultMode: +0644, items: [{key: k, path: p, mode: 0o400}]}\n",
            "  mode: 0400\n  replicas: 0_3\n  0644: k\n",
        ));
        let vols = &v["spec"]["volumes"];
        assert_eq!(vols[0]["secret"]["secretName"], Value::from("0400"));
        assert_eq!(vols[0]["secret"]["defaultMode"], Value::from(420));
        assert_eq!(vols[1]["configMap"]["defaultMode"], Value::from(800));
        assert_eq!(vols[2]["secret"]["defaultMode"], Value::from(420));
        assert_eq!(vols[2]["secret"]["items"][0]["mode"], Value::from(256));
        assert_eq!(v["spec"]["mode"], Value::from(256));
        assert_eq!(v["spec"]["replicas"], Value::from(3));
        assert_eq!(v["spec"]["420"], Value::from("k"));
        // Not a manifest (config, themes): serde_yaml's reading, untouched.
        let text = "a: 0644\n";
        let budget = crate::input::Budget::for_text(text);
        let plain = crate::input::value_within(text, &budget).unwrap();
        assert_eq!(plain["a"], Value::from("0644"));
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
