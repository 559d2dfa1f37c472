//! What an unread document defines, as far as it can be told: a chain naming it can say why
//! it is missing, and an SPC its pods may mount is not said to be mounted by no pod (audit
//! XX1: an unread Deployment is the offline form of unread pods, and unknown is not absent).

use serde_yaml::Value;

use super::apply_set::READ;
use super::str_at;

/// Kinds kvchain reads that define no pod: left unread, they hide no chain.
const PODLESS: [&str; 5] = [
    "ServiceAccount",
    "SecretProviderClass",
    "Secret",
    "Ingress",
    "CSIDriver",
];

/// The kind, namespace as written and name a document defines, when it names one. A kind-less
/// document of the Secrets Store CSI API group is taken for the SecretProviderClass it
/// evidently is (the group's other kind, the pod status, is written by the driver).
pub(super) fn defines(value: &Value) -> Option<(String, Option<String>, String)> {
    let meta = value.get("metadata")?;
    let name = meta.get("name")?.as_str().filter(|n| !n.is_empty())?;
    let kind = match str_at(value, "kind") {
        "" if str_at(value, "apiVersion").starts_with("secrets-store.csi.x-k8s.io/") => {
            "SecretProviderClass"
        }
        kind => kind,
    };
    Some((kind.to_string(), namespace(value), name.to_string()))
}

/// Where the pods an unread document may define would be: `Some(namespace as written)`
/// (`Some(None)` when it writes none) for a workload, a pod, a document without a kind, or
/// another kind holding a secrets-store volume; `None` for one that defines no pod (a
/// ServiceAccount, a Secret, a ConfigMap without such a volume, a scalar).
pub(super) fn pods_of(value: &Value) -> Option<Option<String>> {
    if !value.is_mapping() {
        return None;
    }
    let kind = str_at(value, "kind");
    let podless = PODLESS.contains(&kind)
        || (!kind.is_empty()
            && !kind.ends_with("List")
            && !READ.contains(&kind)
            && super::custom::secrets_store_volume(value).is_none());
    // An empty namespace is the apply namespace, as none is.
    (!podless).then(|| namespace(value).filter(|n| !n.is_empty()))
}

fn namespace(value: &Value) -> Option<String> {
    value
        .get("metadata")
        .and_then(|m| m.get("namespace"))
        .and_then(Value::as_str)
        .map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pods(text: &str) -> Option<Option<String>> {
        pods_of(&serde_yaml::from_str(text).unwrap())
    }

    #[test]
    fn only_documents_that_may_define_pods_count() {
        let ns = Some(Some("shop".to_string()));
        assert_eq!(pods("kind: Deployment\nmetadata: {namespace: shop}"), ns);
        assert_eq!(pods("kind: Pod\nmetadata: {name: p}"), Some(None));
        assert_eq!(pods("metadata: {name: p, namespace: shop}"), ns);
        assert_eq!(
            pods("kind: Knative\nspec: {volumes: [{csi: {driver: secrets-store.csi.k8s.io}}]}"),
            Some(None)
        );
        for none in [
            "kind: ServiceAccount\nmetadata: {namespace: shop}",
            "kind: Secret",
            "kind: ConfigMap\ndata: {a: b}",
            "just a string",
        ] {
            assert_eq!(pods(none), None, "{none}");
        }
    }
}
