//! Ephemeral containers the API server refuses in a manifest (Kubernetes API reference,
//! EphemeralContainer: they "may not be added by directly updating the pod spec", only through
//! the pod's `ephemeralcontainers` subresource, as `kubectl debug` does). Pod validation refuses
//! them on create (`ValidatePodCreate`: `spec.ephemeralContainers: Forbidden: cannot be set on
//! create`), and every pod template (`ValidatePodTemplateSpec`: `ephemeral containers not
//! allowed in pod template`). A `check -f` document and a lab scenario holding them are refused
//! alike: neither pod would ever exist.

use serde_yaml::Value;

/// Where each kind that makes pods keeps its pod spec, as a field path.
const POD_SPECS: [(&str, &str); 7] = [
    ("Pod", "spec"),
    ("Deployment", "spec.template.spec"),
    ("StatefulSet", "spec.template.spec"),
    ("DaemonSet", "spec.template.spec"),
    ("ReplicaSet", "spec.template.spec"),
    ("Job", "spec.template.spec"),
    ("CronJob", "spec.jobTemplate.spec.template.spec"),
];

/// Why the API server refuses document `value` of `kind` (named `name`) for its ephemeral
/// containers, as `field: reason` in its words; None when it holds none (an empty list is
/// none: the checks count them).
pub(crate) fn refused(value: &Value, kind: &str, name: &str) -> Option<String> {
    let (_, path) = POD_SPECS.iter().find(|(k, _)| *k == kind)?;
    let spec = path.split('.').try_fold(value, |v, key| v.get(key))?;
    let listed = spec.get("ephemeralContainers")?;
    if listed.as_sequence().is_some_and(|s| s.is_empty()) || listed.is_null() {
        return None;
    }
    let why = match kind {
        "Pod" => "cannot be set on create",
        _ => "ephemeral containers not allowed in pod template",
    };
    let name = crate::shown::shown(name);
    Some(format!(
        "{path}.ephemeralContainers: Forbidden: {why}: the API server refuses {kind} \"{name}\" (kubectl apply says so), and no pod is made from it; an ephemeral container is added to a running pod through its ephemeralcontainers subresource, as kubectl debug does"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Value {
        serde_yaml::from_str(text).unwrap()
    }

    #[test]
    fn a_pod_or_a_template_with_ephemeral_containers_is_refused_in_the_api_servers_words() {
        let pod = doc("spec:\n  containers: [{name: a}]\n  ephemeralContainers: [{name: d}]\n");
        assert_eq!(
            refused(&pod, "Pod", "tool").as_deref(),
            Some(
                "spec.ephemeralContainers: Forbidden: cannot be set on create: the API server refuses Pod \"tool\" (kubectl apply says so), and no pod is made from it; an ephemeral container is added to a running pod through its ephemeralcontainers subresource, as kubectl debug does"
            )
        );
        let cron = doc(
            "spec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          ephemeralContainers: [{name: d}]\n",
        );
        let why = refused(&cron, "CronJob", "nightly").expect("refused");
        assert!(
            why.starts_with("spec.jobTemplate.spec.template.spec.ephemeralContainers: Forbidden: ephemeral containers not allowed in pod template"),
            "{why}"
        );
    }

    #[test]
    fn none_or_an_empty_list_is_no_ephemeral_container() {
        for text in [
            "spec:\n  containers: [{name: a}]\n",
            "spec:\n  ephemeralContainers: []\n",
            "spec:\n  ephemeralContainers: null\n",
        ] {
            assert_eq!(refused(&doc(text), "Pod", "p"), None, "{text}");
        }
        let deploy = doc("spec:\n  template:\n    spec:\n      containers: [{name: a}]\n");
        assert_eq!(refused(&deploy, "Deployment", "web"), None);
        assert_eq!(refused(&doc("data: {a: b}\n"), "ConfigMap", "c"), None);
    }
}
