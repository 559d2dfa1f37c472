//! Fields the schema does not know. `kubectl apply`'s default `--validate=strict` refuses a
//! document with one (`strict decoding error: unknown field "spec.templates"`), and a
//! structural CRD prunes one applied without it; the typed value kvchain reads drops it without
//! a word, so a Deployment with `templates:` vanished and an SPC with `secretObject:` read as
//! syncing nothing (audit BB4). The typed value written back holds every key its type knows
//! that the document set: a key of the document it lacks is one the type does not know.

use serde::Serialize;
use serde_yaml::Value;

/// Keys the rules read, offered for a near miss (`templates` → `template`).
const READ: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "name",
    "namespace",
    "labels",
    "annotations",
    "spec",
    "template",
    "jobTemplate",
    "containers",
    "initContainers",
    "volumes",
    "volumeMounts",
    "mountPath",
    "subPath",
    "readOnly",
    "env",
    "envFrom",
    "valueFrom",
    "secretKeyRef",
    "secretRef",
    "csi",
    "driver",
    "volumeAttributes",
    "nodePublishSecretRef",
    "serviceAccountName",
    "provider",
    "parameters",
    "secretObjects",
    "secretName",
    "objectName",
    "key",
    "data",
    "stringData",
    "type",
    "selector",
    "replicas",
    "tls",
    "tokenRequests",
    "audience",
];

/// The first key of `doc` that `typed`, written back, lacks, said as kubectl's strict
/// validation says it: `spec.templates: unknown field "spec.templates" (did you mean
/// template?)…`. A top-level `status` (in `kubectl get -o yaml` output) is not checked: kubectl
/// does not apply it and kvchain does not read it.
pub(super) fn unknown_field(doc: &Value, typed: &impl Serialize) -> Option<String> {
    let written = serde_yaml::to_value(typed).ok()?;
    let path = first_unknown(doc, &written, String::new(), true)?;
    let key = path.rsplit(['.', ']']).next().unwrap_or(&path);
    let near = (READ.iter())
        .map(|k| (strsim::levenshtein(k, key), *k))
        .filter(|(d, k)| *d <= 2 && *d > 0 && k.len() > 2)
        .min()
        .map_or(String::new(), |(_, k)| format!(" (did you mean {k}?)"));
    Some(format!(
        "{path}: unknown field \"{path}\"{near}: kubectl refuses the document (its default --validate=strict)"
    ))
}

fn first_unknown(doc: &Value, written: &Value, at: String, top: bool) -> Option<String> {
    match (doc, written) {
        (Value::Mapping(d), Value::Mapping(w)) => d.iter().find_map(|(k, v)| {
            let k = k.as_str()?;
            if top && k == "status" {
                return None;
            }
            let path = if at.is_empty() {
                k.to_string()
            } else {
                format!("{at}.{k}")
            };
            match w.get(k) {
                Some(wv) => first_unknown(v, wv, path, false),
                None => Some(crate::shown::shown_line(&path).into_owned()),
            }
        }),
        (Value::Sequence(d), Value::Sequence(w)) => (d.iter().zip(w))
            .enumerate()
            .find_map(|(i, (dv, wv))| first_unknown(dv, wv, format!("{at}[{i}]"), false)),
        (Value::Tagged(d), _) => first_unknown(&d.value, written, at, top),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::Deployment;

    fn check(text: &str) -> Option<String> {
        let v: Value = serde_yaml::from_str(text).unwrap();
        let d: Deployment = serde_yaml::from_value(v.clone()).unwrap();
        unknown_field(&v, &d)
    }

    #[test]
    fn a_misspelled_key_is_named_by_its_path_and_a_known_one_is_not() {
        let ok = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, labels: {any-key: x}}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    spec:\n      containers: [{name: c, image: i, env: [], resources: {limits: {cpu: 1}}}]\nstatus: {replicas: 1, whatever: 2}\n";
        assert_eq!(check(ok), None);
        let typo = ok.replace("  template:", "  templates:");
        assert_eq!(
            check(&typo).unwrap(),
            "spec.templates: unknown field \"spec.templates\" (did you mean template?): kubectl refuses the document (its default --validate=strict)"
        );
        let env = ok.replace("env: []", "envs: []");
        assert!(
            check(&env)
                .unwrap()
                .starts_with("spec.template.spec.containers[0].envs: unknown field")
        );
    }
}
