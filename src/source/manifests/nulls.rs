//! `key:` with nothing after it: null, which the API server prunes (kubectl applies such a
//! manifest as if the key were absent).

/// Drop every mapping entry whose value is null, at any depth (serde_yaml bounds the depth).
/// An entry whose key is a mapping or list stays: it is how YAML reads an unquoted `{{ … }}`
/// (`{{.Values.x: null}: null}`), which kubectl refuses before any pruning (see `refused`).
pub(super) fn prune_nulls(v: &mut serde_yaml::Value) {
    use serde_yaml::Value;
    match v {
        Value::Mapping(m) => {
            m.retain(|k, v| !v.is_null() || matches!(k, Value::Mapping(_) | Value::Sequence(_)));
            for (_, v) in m.iter_mut() {
                prune_nulls(v);
            }
        }
        Value::Sequence(s) => s.iter_mut().for_each(prune_nulls),
        Value::Tagged(t) => prune_nulls(&mut t.value),
        _ => {}
    }
}
