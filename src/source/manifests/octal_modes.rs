//! File modes written in octal (`defaultMode: 0400`), as the Kubernetes docs write them.
//!
//! kubectl reads manifests as YAML 1.1 (sigs.k8s.io/yaml over go-yaml v2), where a plain
//! scalar `0400` is the octal integer 256; serde_yaml reads YAML 1.2 and leaves it a string,
//! which the typed pod spec then refused, so a document kubectl applies was "not read". The
//! volume modes — `defaultMode` of a secret, configMap, downwardAPI or projected volume and
//! `mode` of their `items` (a projected source's too) — are the fields written that way; only
//! those are converted, and only a string of octal digits after a leading `0` (go-yaml's
//! `strconv.ParseInt(s, 0, 64)`). serde_yaml does not say whether the scalar was quoted, so a
//! quoted `"0400"` (which the API server would refuse as a string) is read the same way.

use serde_yaml::Value;

/// The volume kinds whose `defaultMode` and `items[].mode` are file modes.
const SOURCES: [&str; 4] = ["secret", "configMap", "downwardAPI", "projected"];

/// Converts the octal file modes of every pod spec's `volumes` in `v` (at any depth: a pod,
/// a workload's template, a CronJob's job template, a custom resource's).
pub(crate) fn convert(v: &mut Value) {
    match v {
        Value::Mapping(m) => {
            for (k, child) in m.iter_mut() {
                if k.as_str() == Some("volumes")
                    && let Value::Sequence(volumes) = child
                {
                    volumes.iter_mut().for_each(volume);
                } else {
                    convert(child);
                }
            }
        }
        Value::Sequence(s) => s.iter_mut().for_each(convert),
        Value::Tagged(t) => convert(&mut t.value),
        _ => {}
    }
}

/// One volume: its source's `defaultMode` and item modes; a projected volume's sources'.
fn volume(v: &mut Value) {
    for kind in SOURCES {
        let Some(source) = v.get_mut(kind) else {
            continue;
        };
        modes(source, "defaultMode");
        if let Some(Value::Sequence(sources)) = source.get_mut("sources") {
            for s in sources.iter_mut() {
                for kind in SOURCES {
                    if let Some(inner) = s.get_mut(kind) {
                        modes(inner, "");
                    }
                }
            }
        }
    }
}

/// `field` of `source` (none when empty) and its `items[].mode`.
fn modes(source: &mut Value, field: &str) {
    if !field.is_empty()
        && let Some(m) = source.get_mut(field)
    {
        octal(m);
    }
    if let Some(Value::Sequence(items)) = source.get_mut("items") {
        for m in items.iter_mut().filter_map(|i| i.get_mut("mode")) {
            octal(m);
        }
    }
}

/// `0400` as YAML 1.1 resolves it: a leading `0` then octal digits is an octal integer.
fn octal(v: &mut Value) {
    let Value::String(s) = v else { return };
    let Some(digits) = s.strip_prefix('0') else {
        return;
    };
    if digits.is_empty() || !digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return;
    }
    if let Ok(n) = i64::from_str_radix(digits, 8) {
        *v = Value::Number(n.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Value {
        let mut v = crate::input::value(text).unwrap();
        convert(&mut v);
        v
    }

    #[test]
    fn volume_modes_in_octal_are_integers_as_yaml_1_1_reads_them() {
        let v = read(
            "spec:\n  volumes:\n    - name: a\n      secret: {secretName: s, defaultMode: 0400, items: [{key: k, path: p, mode: 0644}]}\n    - name: b\n      projected:\n        defaultMode: 0755\n        sources:\n          - configMap: {name: c, items: [{key: k, path: p, mode: 0440}]}\n",
        );
        let vols = &v["spec"]["volumes"];
        assert_eq!(vols[0]["secret"]["defaultMode"], Value::from(256));
        assert_eq!(vols[0]["secret"]["items"][0]["mode"], Value::from(420));
        assert_eq!(vols[1]["projected"]["defaultMode"], Value::from(493));
        assert_eq!(
            vols[1]["projected"]["sources"][0]["configMap"]["items"][0]["mode"],
            Value::from(288)
        );
    }

    #[test]
    fn other_strings_and_fields_are_left_alone() {
        let v = read(
            "spec:\n  volumes:\n    - name: a\n      secret: {secretName: '0400', defaultMode: '0x1'}\n    - name: b\n      configMap: {name: c, defaultMode: 0800}\n  mode: 0400\n",
        );
        assert_eq!(
            v["spec"]["volumes"][0]["secret"]["secretName"],
            Value::from("0400")
        );
        assert_eq!(
            v["spec"]["volumes"][0]["secret"]["defaultMode"],
            Value::from("0x1")
        );
        assert_eq!(
            v["spec"]["volumes"][1]["configMap"]["defaultMode"],
            Value::from("0800")
        );
        assert_eq!(v["spec"]["mode"], Value::from("0400"));
    }
}
