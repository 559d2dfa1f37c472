//! Fields the schema does not know. `kubectl apply`'s default `--validate=strict` refuses a
//! document with one (`strict decoding error: unknown field "spec.templates"`), and a
//! structural CRD prunes one applied without it; the typed value kvchain reads drops it without
//! a word, so a Deployment with `templates:` vanished and an SPC with `secretObject:` read as
//! syncing nothing (audit BB4). The typed value written back holds every key its type knows
//! that the document set: a key of the document it lacks is one the type does not know.

use k8s_openapi::api::core::v1::{PodSpec, PodTemplateSpec};
use serde::Serialize;
use serde_yaml::Value;

use super::field_errors::FieldErrors;

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
    let path = first_unknown(doc, &written)?;
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

/// Why the API server refuses pod spec `s` at `path` (`spec`, `spec.template.spec`), a spec
/// with containers: a required field left empty, a file mode out of range, an env
/// reference to no valid name or key, a duplicate, a node selector that is no
/// label, a serviceAccountName that is no name; None when it takes it.
pub(super) fn spec_refused(path: &str, s: &PodSpec) -> Option<String> {
    let mut errors = FieldErrors::default();
    spec_errors(path, s, &[], &mut errors);
    errors.refusal()
}

/// Every error of pod spec `s` at `path`, as the API server gathers them all; `added` names the
/// volumes a controller adds to each pod it makes (a StatefulSet's claim templates).
fn spec_errors(path: &str, s: &PodSpec, added: &[&str], errors: &mut FieldErrors) {
    super::required::check(path, s, errors);
    super::pod_names::check(path, s, added, errors);
    super::modes::check(path, s, errors);
    super::env_refs::check(path, s, errors);
    super::duplicates::check(path, s, errors);
    super::labels::check(path, s, errors);
    super::sa_name::check(path, s, errors);
}

/// A pod spec at `path` (`spec.template.spec`, a Pod's `spec`) with no container, said as the
/// API server's validation says it: `spec.template.spec.containers: Required value`. A pod needs
/// one, so kubectl's apply is refused; the typed value reads a null or missing template or
/// spec as empty, and the workload vanished without a word (audit BB4).
pub(super) fn no_containers(path: &str, spec: Option<&PodSpec>) -> Option<String> {
    if spec.is_some_and(|s| !s.containers.is_empty()) {
        return None;
    }
    Some(format!(
        "{}: the API server refuses the document (kubectl apply says so), and no pod is made from it",
        no_container(path, spec)
    ))
}

/// `path.containers: Required value (why)` for a pod spec without a container.
fn no_container(path: &str, spec: Option<&PodSpec>) -> String {
    let why = match spec {
        Some(_) => "no containers listed".to_string(),
        None => format!("{path} is missing or null"),
    };
    format!("{path}.containers: Required value ({why})")
}

/// How the API server meets a workload's pod template.
pub(super) enum Template<'a> {
    /// Validated with the workload (ValidatePodTemplateSpec): an error refuses the document.
    Validated,
    /// A StatefulSet's: the API server validates only its labels and annotations (apps
    /// validation's ValidatePodTemplateSpecForStatefulSet, "TODO: Add validation for PodSpec"),
    /// so the StatefulSet is made, and each pod its controller makes from the template, with a
    /// volume per claim template, is refused (FailedCreate).
    StatefulSet { claims: Vec<&'a str> },
}

/// The pod template at `path` of a built-in workload, refused when its labels are no labels,
/// it has no container ([`no_containers`]) or its pod spec has an error ([`spec_errors`]: every
/// one said).
pub(super) fn containers<'t>(
    doc: &super::Doc,
    what: &str,
    path: &str,
    t: Option<&'t PodTemplateSpec>,
    how: Template<'_>,
) -> Result<Option<&'t PodTemplateSpec>, crate::input::InputError> {
    // ValidatePodTemplateSpec: the template's labels, then its pod spec.
    let mut errors = FieldErrors::default();
    let labels = t.and_then(|t| t.metadata.as_ref()?.labels.as_ref());
    super::labels::labels(&format!("{path}.metadata.labels"), labels, &mut errors);
    let added = match &how {
        Template::StatefulSet { claims } => {
            // Its labels are the StatefulSet's own validation; its pod spec its pods'.
            if let Some(why) = errors.refusal_of_document() {
                return Err(doc.err(what, why));
            }
            claims.as_slice()
        }
        Template::Validated => &[],
    };
    let spec = t.and_then(|t| t.spec.as_ref());
    match spec.filter(|s| !s.containers.is_empty()) {
        Some(s) => spec_errors(&format!("{path}.spec"), s, added, &mut errors),
        None => errors.push(no_container(&format!("{path}.spec"), spec)),
    }
    let refusal = match how {
        Template::Validated => errors.refusal(),
        Template::StatefulSet { .. } => errors.refusal_of_pods(),
    };
    match refusal {
        Some(why) => Err(doc.err(what, why)),
        None => Ok(t),
    }
}

/// One step of the path to a key: a mapping key or a list index.
enum Step<'v> {
    Key(&'v str),
    Index(usize),
}

/// The path of the first key of `doc` that `written` lacks (`spec.template.spec.x`), built only
/// once one is found: the walk itself allocates nothing.
fn first_unknown(doc: &Value, written: &Value) -> Option<String> {
    let mut at = Vec::new();
    walk(doc, written, &mut at, true).then(|| {
        let mut path = String::new();
        for step in &at {
            match step {
                Step::Key(k) if path.is_empty() => path.push_str(k),
                Step::Key(k) => {
                    path.push('.');
                    path.push_str(k);
                }
                Step::Index(i) => path.push_str(&format!("[{i}]")),
            }
        }
        crate::shown::shown_line(&path).into_owned()
    })
}

/// Whether `doc` holds a key `written` lacks; `at` is left holding the path to it.
fn walk<'v>(doc: &'v Value, written: &Value, at: &mut Vec<Step<'v>>, top: bool) -> bool {
    match (doc, written) {
        (Value::Mapping(d), Value::Mapping(w)) => d.iter().any(|(k, v)| {
            let Some(k) = k.as_str() else { return false };
            if top && k == "status" {
                return false;
            }
            at.push(Step::Key(k));
            let found = match w.get(k) {
                Some(wv) => walk(v, wv, at, false),
                None => true,
            };
            if !found {
                at.pop();
            }
            found
        }),
        (Value::Sequence(d), Value::Sequence(w)) => {
            (d.iter().zip(w)).enumerate().any(|(i, (dv, wv))| {
                at.push(Step::Index(i));
                let found = walk(dv, wv, at, false);
                if !found {
                    at.pop();
                }
                found
            })
        }
        (Value::Tagged(d), _) => walk(&d.value, written, at, top),
        _ => false,
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
