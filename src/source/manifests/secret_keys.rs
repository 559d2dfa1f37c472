//! A Secret's data keys as the API server validates them: `stringData` is merged into `data`
//! (the v1 conversion), then ValidateSecret checks every key with IsConfigMapKey:
//! `data[db/password]: Invalid value: "db/password": a valid config key must consist of …`.
//! kvchain read such a Secret as one that exists, whose key `db/password` a consumer could read
//! (audit WWW-real). An empty key (`"": x`) is refused alike. Keys only: values are never read
//! here, nor shown.

use k8s_openapi::api::core::v1::Secret;

use crate::snapshot::config_key::invalid_config_key;

/// Why the API server refuses Secret `s` for its keys, each in its words (sorted: Go walks the
/// map in no order), or None.
pub(super) fn refused(s: &Secret) -> Option<String> {
    let mut keys: Vec<&String> = (s.data.iter().flat_map(|d| d.keys()))
        .chain(s.string_data.iter().flat_map(|d| d.keys()))
        .collect();
    keys.sort();
    keys.dedup();
    let said: Vec<String> = keys
        .into_iter()
        .filter_map(|k| {
            let why = invalid_config_key(k)?;
            let k = crate::shown::shown(k);
            Some(format!("data[{k}]: Invalid value: \"{k}\": {why}"))
        })
        .collect();
    (!said.is_empty()).then(|| {
        let name = s.metadata.name.as_deref().unwrap_or_default();
        format!(
            "{}: the API server refuses the document (kubectl apply says: The Secret \"{}\" is invalid), and the Secret is never made",
            said.join(", "),
            crate::shown::shown(name)
        )
    })
}
