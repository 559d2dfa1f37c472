//! `v1` ConfigMaps in the lab: what the API server admits and what the kubelet reads of them.
//! Only the keys are kept: the kubelet's checks (env `configMapKeyRef`, `envFrom.configMapRef`,
//! `configMap` volumes and projected sources) depend on whether a ConfigMap and a key exist,
//! never on a value, and the lab never shows one. Messages are the kubelet's own
//! (`pkg/kubelet/kubelet_pods.go` makeEnvironmentVariables, the watch-based ConfigMap manager's
//! not-found for resource `configmap`, `pkg/volume/configmap` MakePayload).

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::snapshot::config_key::invalid_config_key as invalid_key;

/// A ConfigMap's metadata and its keys (`data` and `binaryData`), without values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LabConfigMap {
    pub metadata: ObjectMeta,
    /// `data` keys: the only ones env (`configMapKeyRef`, `envFrom`) reads.
    pub data: BTreeSet<String>,
    /// `binaryData` keys: a volume projects them too, env never sees them.
    pub binary_data: BTreeSet<String>,
}

impl LabConfigMap {
    /// The ConfigMap as the API server admits it (`ValidateConfigMap`): every key a valid
    /// config key and in one of `data` and `binaryData` only. The values are dropped here.
    pub fn admit(cm: ConfigMap) -> Result<LabConfigMap, String> {
        let data: BTreeSet<String> = cm.data.unwrap_or_default().into_keys().collect();
        let binary_data: BTreeSet<String> =
            cm.binary_data.unwrap_or_default().into_keys().collect();
        for (field, keys, other, other_field) in [
            ("data", &data, &binary_data, "binaryData"),
            ("binaryData", &binary_data, &data, "data"),
        ] {
            for k in keys {
                if let Some(why) = invalid_key(k) {
                    return Err(format!("{field}[{k:?}]: Invalid value: {k:?}: {why}"));
                }
                if other.contains(k) {
                    return Err(format!(
                        "{field}[{k:?}]: Invalid value: {k:?}: duplicate of key present in {other_field}"
                    ));
                }
            }
        }
        Ok(LabConfigMap {
            metadata: cm.metadata,
            data,
            binary_data,
        })
    }

    /// A volume (or projected source) `items[].key` finds its key in either map.
    pub fn projects(&self, key: &str) -> bool {
        self.data.contains(key) || self.binary_data.contains(key)
    }
}

/// The kubelet's ConfigMap manager, for a ConfigMap the namespace lacks (env and volumes).
pub fn not_found(name: &str) -> String {
    format!("configmap \"{name}\" not found")
}

/// makeEnvironmentVariables, for a `configMapKeyRef` key the ConfigMap's `data` lacks.
pub fn env_key_missing(key: &str, ns: &str, name: &str) -> String {
    format!("couldn't find key {key} in ConfigMap {ns}/{name}")
}

/// The configMap volume plugin's MakePayload, for an `items[].key` the ConfigMap lacks.
pub fn volume_key_missing(key: &str) -> String {
    format!("configmap references non-existent config key: {key}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cm(data: &[&str], binary: &[&str]) -> ConfigMap {
        ConfigMap {
            data: Some(data.iter().map(|k| (k.to_string(), "v".into())).collect()),
            binary_data: Some(
                binary
                    .iter()
                    .map(|k| (k.to_string(), k8s_openapi::ByteString(vec![1])))
                    .collect(),
            ),
            ..Default::default()
        }
    }

    /// The API server refuses a key in both maps and a key that is no config key; keys of
    /// either map are projected by a volume, env reads `data` only.
    #[test]
    fn keys_are_admitted_as_the_api_server_validates_them() {
        let ok = LabConfigMap::admit(cm(&["LOG_LEVEL", "app.conf"], &["logo.png"])).unwrap();
        assert!(ok.projects("logo.png") && ok.projects("app.conf"));
        assert!(!ok.data.contains("logo.png"));
        let dup = LabConfigMap::admit(cm(&["a"], &["a"])).unwrap_err();
        assert!(
            dup.contains("duplicate of key present in binaryData"),
            "{dup}"
        );
        let bad = LabConfigMap::admit(cm(&["a/b"], &[])).unwrap_err();
        assert!(bad.starts_with("data[\"a/b\"]: Invalid value"), "{bad}");
        assert!(LabConfigMap::admit(cm(&["..x"], &[])).is_err());
    }
}
