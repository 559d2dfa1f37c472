//! Documents `kubectl apply` would refuse, found before they are typed: without them in "Not
//! read" they would vanish silently (a misspelt kind, a kind-less document) or yield objects
//! the API server never holds (an empty name, shown as `Deployment/`).

use crate::k8s_name::{dns_label, dns_subdomain, label_key_errors, label_value_errors};
use serde_yaml::Value;

use super::apply_set::READ;

mod template;

/// A document or List item without a kind, as kubectl refuses it.
pub(super) const KIND_MISSING: &str =
    "kind: missing (kubectl rejects an object without it: \"Object 'Kind' is missing\")";

/// A mapping with no `kind` at all, which kubectl refuses ("Object 'Kind' is missing"), when it
/// is evidently meant as an object: `alone` in a file named on the command line that holds no
/// other object (`{}`, a pod-spec fragment: kvchain never says "0 chains" over it, audit XX7),
/// or holding a secrets-store volume (a Deployment that lost its kind, XX3). Otherwise it is
/// Helm values or a Chart.yaml, skipped unless [`refused`] finds it an object.
pub(super) fn kindless(value: &Value, alone: bool) -> Option<&'static str> {
    let meant = alone || super::custom::secrets_store_volume(value).is_some();
    (meant && is_kindless(value)).then_some(KIND_MISSING)
}

/// A mapping without a `kind` key.
pub(super) fn is_kindless(value: &Value) -> bool {
    value.is_mapping() && value.get("kind").is_none()
}

/// Why the document cannot be applied, as `field: reason`; `None` when it can be read.
pub(super) fn refused(value: &Value, kind: &str, name: &str) -> Option<String> {
    let field = |key: &str| value.get(key);
    if let Some(why) = not_an_object(value) {
        return Some(why);
    }
    if let Some(k) = field("kind")
        && !k.is_string()
    {
        return Some(format!(
            "kind: is {}, not a string (kubectl rejects it)",
            template::kind_of(k)
        ));
    }
    if kind.is_empty() {
        // Helm values, Chart.yaml or kustomization.yaml sit beside manifests without a kind;
        // a document with apiVersion and metadata or spec is meant as an object.
        let object = field("apiVersion").is_some()
            && (field("metadata").is_some() || field("spec").is_some());
        return object.then(|| KIND_MISSING.into());
    }
    if kind != "SecretProviderClass"
        && field("apiVersion")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
    {
        // As a missing kind: kubectl says "Object 'apiVersion' is missing" and applies
        // nothing of it. (A SecretProviderClass gets its own message below.)
        return Some(
            "apiVersion: missing or not a string (kubectl rejects a document without it: \"Object 'apiVersion' is missing\")"
                .into(),
        );
    }
    if kind.ends_with("List") {
        // A List whose items are a sequence was unpacked already (apply_set).
        return field("items")
            .is_some()
            .then(|| "items: invalid type, expected a sequence of objects".into());
    }
    if let Some(meant) = near_miss(kind) {
        return Some(format!(
            "kind: {kind:?} is not a kind kvchain reads (did you mean {meant}?)"
        ));
    }
    let generated = value
        .get("metadata")
        .and_then(|m| m.get("generateName"))
        .and_then(Value::as_str)
        .is_some_and(|g| !g.is_empty());
    if kind == "SecretProviderClass"
        && let Some(why) = unserved_spc_version(field("apiVersion"))
    {
        return Some(why);
    }
    if let Some(why) = unserved_version(kind, field("apiVersion")) {
        return Some(why);
    }
    if !READ.contains(&kind) {
        return None;
    }
    // Before any field is judged: an unquoted `{{ … }}` anywhere fails kubectl's YAML-to-JSON
    // conversion, so the whole document is refused, whatever the field.
    if let Some(path) = template::unrendered(value) {
        return Some(format!("{path}: {}", template::REFUSED));
    }
    if let Some(path) = template::null_key(value) {
        return Some(format!("{path}: {}", template::NULL_KEY));
    }
    let meta = value.get("metadata");
    if let Some(n) = meta.and_then(|m| m.get("name"))
        && !n.is_string()
    {
        return Some(format!(
            "metadata.name: is {}, not a string (the API server rejects it)",
            template::kind_of(n)
        ));
    }
    if name.is_empty() && !generated {
        return Some("metadata.name: missing or empty (the API server rejects it)".into());
    }
    if let Some(why) = meta
        .and_then(|m| m.get("namespace"))
        .and_then(invalid_namespace)
    {
        return Some(format!("metadata.namespace: {why}"));
    }
    if !name.is_empty()
        && let Some(why) = invalid_name(kind, name)
    {
        return Some(why);
    }
    if let Some(why) = meta.and_then(|m| m.get("labels")).and_then(invalid_labels) {
        return Some(why);
    }
    super::ephemeral::refused(value, kind, name)
}

/// Why a document (or a List item) is no object at all, if it is not: kubectl decodes each
/// into one object and refuses a scalar or a sequence. An empty document is no object either,
/// and kubectl skips it: so does kvchain.
pub(super) fn not_an_object(value: &Value) -> Option<String> {
    match value {
        Value::Mapping(_) | Value::Null => None,
        Value::Sequence(_) => Some(
            "is a sequence (a YAML list), not an object: kubectl reads each document as one object and refuses it (several objects go under the items of a kind: List)"
                .into(),
        ),
        Value::Tagged(t) => not_an_object(&t.value),
        other => Some(format!(
            "is {}, not an object (kubectl refuses it)",
            template::kind_of(other)
        )),
    }
}

/// The API group and versions the Secrets Store CSI CRD serves (upstream/crds: `v1`, storage,
/// and the deprecated `v1alpha1`). Any other apiVersion is refused by `kubectl apply` ("no
/// matches for kind \"SecretProviderClass\" in version …"), so the SPC never exists.
const SPC_GROUP: &str = "secrets-store.csi.x-k8s.io";
const SPC_VERSIONS: [&str; 2] = ["v1", "v1alpha1"];
/// The driver's name, often written where the API group belongs.
const DRIVER_NAME: &str = "secrets-store.csi.k8s.io";

/// Why a SecretProviderClass's apiVersion is one the CRD does not serve, as `apiVersion: …`.
/// A placeholder is said to be unrendered (it is no version until rendered); a wrong group or
/// version gets the served one it most likely means.
fn unserved_spc_version(api_version: Option<&Value>) -> Option<String> {
    let Some(v) = api_version
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
    else {
        return Some(format!(
            "apiVersion: missing (kubectl rejects a document without it; a SecretProviderClass is {SPC_GROUP}/v1)"
        ));
    };
    let (group, version) = v.rsplit_once('/').unwrap_or(("", v));
    if group == SPC_GROUP && SPC_VERSIONS.contains(&version) {
        return None;
    }
    let shown = crate::shown::shown(v);
    if crate::chain::rules::params::is_placeholder(v) {
        return Some(format!(
            "apiVersion: {shown:?} is an unrendered template value: kubectl apply finds no served version for it; render the template ({SPC_GROUP}/v1; v1alpha1 is served too but deprecated)"
        ));
    }
    let refused = format!(
        "kubectl apply refuses it (no matches for kind \"SecretProviderClass\" in version {shown:?}): the CRD serves {SPC_GROUP}/v1 and the deprecated v1alpha1 only"
    );
    let meant_version = if SPC_VERSIONS.contains(&version) {
        version
    } else {
        "v1"
    };
    let hint = if group == DRIVER_NAME {
        format!(
            " (did you mean {SPC_GROUP}/{meant_version}? {DRIVER_NAME} is the driver's name, not the API group)"
        )
    } else if group.eq_ignore_ascii_case(SPC_GROUP) || group.starts_with("secrets-store.") {
        format!(" (did you mean {SPC_GROUP}/{meant_version}?)")
    } else {
        String::new()
    };
    Some(format!(
        "apiVersion: {shown:?} is not served: {refused}{hint}"
    ))
}

/// The one apiVersion the API server serves for each built-in kind kvchain reads (the
/// extensions/v1beta1, apps/v1beta2, batch/v1beta1 and networking.k8s.io/v1beta1 forms were
/// removed by Kubernetes 1.16, 1.22 and 1.25).
const SERVED: [(&str, &str); 11] = [
    ("Deployment", "apps/v1"),
    ("StatefulSet", "apps/v1"),
    ("DaemonSet", "apps/v1"),
    ("ReplicaSet", "apps/v1"),
    ("Job", "batch/v1"),
    ("CronJob", "batch/v1"),
    ("Pod", "v1"),
    ("ServiceAccount", "v1"),
    ("Secret", "v1"),
    ("Ingress", "networking.k8s.io/v1"),
    ("CSIDriver", "storage.k8s.io/v1"),
];

/// Why a built-in kind's apiVersion is one the API server does not serve, as `apiVersion: …`
/// in kubectl's words ("no matches for kind …", audit XX4): the typed reading would say only
/// "invalid value: a string, expected apps/v1", with no field named.
fn unserved_version(kind: &str, api_version: Option<&Value>) -> Option<String> {
    let (_, served) = SERVED.iter().find(|(k, _)| *k == kind)?;
    let v = api_version.and_then(Value::as_str)?;
    if v == *served {
        return None;
    }
    let shown = crate::shown::shown(v);
    Some(format!(
        "apiVersion: {shown:?} is not served: kubectl apply refuses it (no matches for kind \"{kind}\" in version {shown:?}): the API server serves {kind} as {served}"
    ))
}

/// What the refusal of a value adds when the value is a template placeholder (`{{ .Values.x }}`,
/// `${X}`): where to check the manifests as rendered. Empty for any other value.
pub(super) fn unrendered_note(value: &str) -> &'static str {
    if crate::chain::rules::params::is_placeholder(value) {
        " It is an unrendered template value: check the manifests as rendered (helm template … | kvchain check -f -, or envsubst < FILE | kvchain check -f -)."
    } else {
        ""
    }
}

/// apimachinery's words for a name that is no lowercase RFC 1123 subdomain.
pub(super) const SUBDOMAIN: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

/// apimachinery's words for a name that is no lowercase RFC 1123 label.
pub(super) const LABEL: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

/// Why the API server refuses `name` for an object of `kind`, in its words, if it does. Every
/// kind kvchain reads is named as a lowercase RFC 1123 subdomain, but a StatefulSet, named as
/// an RFC 1123 label since Kubernetes 1.27 (its pods' hostnames are made from it:
/// apps/validation `ValidateStatefulSetName`, kubernetes#114172); a CronJob's is at most 52
/// characters besides (batch validation). A template placeholder
/// (`{{ .Release.Name }}-app`, `$APP_NAME`) is no such name either: the object is never
/// created, so it is not read, and said to be unrendered; it was read as an object under the
/// placeholder, with findings for it (KVC306 on an SPC), as if `kubectl apply` took it (audit
/// UUU-real).
fn invalid_name(kind: &str, name: &str) -> Option<String> {
    let (valid, rule) = if kind == "StatefulSet" {
        (dns_label(name), LABEL)
    } else {
        (dns_subdomain(name), SUBDOMAIN)
    };
    // A CronJob's Jobs are named `<name>-<11 characters>` and a Job's name must stay a label
    // (63): batch validation's ValidateCronJobCreate refuses a name over 52 characters
    // (audit VVV-real).
    let cron_job_too_long = kind == "CronJob" && name.len() > 52;
    if valid && !cron_job_too_long {
        return None;
    }
    // Both rules also bound the length (253, 63): said in the API server's words too.
    let max = if kind == "StatefulSet" { 63 } else { 253 };
    let rule = if valid {
        "must be no more than 52 characters".to_string()
    } else if name.len() > max {
        format!("must be no more than {max} characters")
    } else {
        rule.to_string()
    };
    let unrendered = unrendered_note(name);
    // Quoted as written, control characters escaped once (`{:?}` escaped `\u{1b}` again).
    let shown = crate::shown::shown(name);
    Some(format!(
        "metadata.name: Invalid value: \"{shown}\": {rule}: the API server refuses the document (kubectl apply says: The {kind} \"{shown}\" is invalid), and nothing is made from it.{unrendered}"
    ))
}

/// Why a written `metadata.namespace` names no namespace, if it does not. Namespaces are
/// DNS-1123 labels (the API server validates them so): `Shop_Prod` or one holding an escape
/// code cannot exist, so every object placed in it is refused, and fixes naming it cannot work.
/// A template placeholder (`${NS}`) is left alone (a name is not, `invalid_name`): README's placeholders
/// are "not validated", and manifests rendered at deploy time are read as one namespace.
fn invalid_namespace(ns: &Value) -> Option<String> {
    let Some(ns) = ns.as_str() else {
        return Some(format!(
            "is {}, not a string (the API server rejects it)",
            template::kind_of(ns)
        ));
    };
    // Empty is `default` to the API server, as if absent.
    if ns.is_empty() || dns_label(ns) || crate::chain::rules::params::is_placeholder(ns) {
        return None;
    }
    // Quoted as written, control characters escaped once (`{:?}` would escape them twice).
    Some(format!(
        "\"{}\" is no valid namespace (lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63): the API server rejects it",
        crate::shown::shown(ns)
    ))
}

/// Why the API server refuses an object's `metadata.labels` (ValidateObjectMeta →
/// ValidateLabels), in its words: `metadata.labels: Invalid value: "": name part must be
/// non-empty`. An empty key (`"": x`) was read as a label (audit WWW-real). Judged only when
/// every value is a string: a value of another kind is the decoder's type error, said first.
fn invalid_labels(labels: &Value) -> Option<String> {
    let m = labels.as_mapping()?;
    let mut errs = Vec::new();
    for (k, v) in m {
        let (Some(k), Some(v)) = (k.as_str(), v.as_str()) else {
            return None;
        };
        errs.extend(label_key_errors(k).into_iter().map(|e| (k, e)));
        errs.extend(label_value_errors(v).into_iter().map(|e| (v, e)));
    }
    let said: Vec<String> = errs
        .iter()
        .map(|(v, e)| {
            format!(
                "metadata.labels: Invalid value: \"{}\": {e}",
                crate::shown::shown(v)
            )
        })
        .collect();
    (!said.is_empty()).then(|| {
        format!(
            "{}: the API server refuses the document (kubectl apply says so)",
            said.join(", ")
        )
    })
}

/// The kind kvchain reads that `kind` misspells: within edit distance 2, ignoring case (1 for
/// three-letter kinds, so `Node` is not taken for `Pod`).
fn near_miss(kind: &str) -> Option<&'static str> {
    if READ.contains(&kind) {
        return None;
    }
    let lower = kind.to_lowercase();
    READ.iter()
        .map(|k| (strsim::levenshtein(&lower, &k.to_lowercase()), *k))
        .filter(|&(d, k)| d <= if k.len() <= 3 { 1 } else { 2 })
        .min()
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_are_dns_subdomains() {
        for good in ["web", "kv-shop.v2", "a", "0app"] {
            assert!(dns_subdomain(good), "{good}");
        }
        for bad in ["My_SPC", "-web", "web-", "Web", "kv shop", ""] {
            assert!(!dns_subdomain(bad), "{bad}");
        }
        let value = serde_yaml::from_str::<Value>(
            "{apiVersion: secrets-store.csi.x-k8s.io/v1, kind: SecretProviderClass}",
        )
        .unwrap();
        let why = refused(&value, "SecretProviderClass", "My_SPC").expect("refused");
        assert!(
            why.starts_with(
                "metadata.name: Invalid value: \"My_SPC\": a lowercase RFC 1123 subdomain"
            ),
            "{why}"
        );
        // A placeholder is no name the API server takes either, said to be unrendered (audit
        // UUU-real; it was left to the rules as KVC306).
        let placeholder = refused(&value, "SecretProviderClass", "${SPC}").expect("refused");
        assert!(placeholder.contains("unrendered template"), "{placeholder}");
        // A StatefulSet's name is a label: a dot is refused.
        let sts =
            serde_yaml::from_str::<Value>("{apiVersion: apps/v1, kind: StatefulSet}").unwrap();
        assert!(refused(&sts, "StatefulSet", "db.primary").is_some());
        assert_eq!(refused(&sts, "StatefulSet", "db-primary"), None);
    }

    /// Only `secrets-store.csi.x-k8s.io/v1` and `v1alpha1` are served (upstream CRD): the
    /// driver's name as group, another version, a placeholder or no apiVersion are refused,
    /// each saying why.
    #[test]
    fn a_secret_provider_class_needs_a_served_api_version() {
        let why = |v: &str| {
            let value = serde_yaml::from_str::<Value>(&format!(
                "{{apiVersion: {v:?}, kind: SecretProviderClass, metadata: {{name: kv}}}}"
            ))
            .unwrap();
            refused(&value, "SecretProviderClass", "kv")
        };
        assert_eq!(why("secrets-store.csi.x-k8s.io/v1"), None);
        assert_eq!(why("secrets-store.csi.x-k8s.io/v1alpha1"), None);
        let driver = why("secrets-store.csi.k8s.io/v1").expect("wrong group");
        assert!(
            driver.starts_with("apiVersion: ")
                && driver.contains("did you mean secrets-store.csi.x-k8s.io/v1?")
                && driver.contains("the driver's name, not the API group"),
            "{driver}"
        );
        let v2 = why("secrets-store.csi.x-k8s.io/v2").expect("unserved version");
        assert!(
            v2.contains("not served")
                && v2.contains("serves secrets-store.csi.x-k8s.io/v1 and the deprecated v1alpha1"),
            "{v2}"
        );
        let templ = why("$API_VERSION").expect("placeholder");
        assert!(
            templ.starts_with("apiVersion: \"$API_VERSION\"") && templ.contains("unrendered"),
            "{templ}"
        );
        let none =
            serde_yaml::from_str::<Value>("{kind: SecretProviderClass, metadata: {name: kv}}")
                .unwrap();
        let missing = refused(&none, "SecretProviderClass", "kv").expect("no apiVersion");
        assert!(missing.starts_with("apiVersion: missing"), "{missing}");
        // Other kinds keep their own apiVersions.
        let deploy =
            serde_yaml::from_str::<Value>("{apiVersion: apps/v1, kind: Deployment}").unwrap();
        assert_eq!(refused(&deploy, "Deployment", "web"), None);
    }

    /// A namespace is a DNS-1123 label; a placeholder is left to render, like a name.
    #[test]
    fn namespaces_are_dns_labels() {
        let why = |ns: &str| {
            let mut value = serde_yaml::from_str::<Value>(
                "{apiVersion: v1, kind: ServiceAccount, metadata: {name: web}}",
            )
            .unwrap();
            value["metadata"]["namespace"] = Value::String(ns.to_string());
            refused(&value, "ServiceAccount", "web")
        };
        for good in [
            "shop",
            "a",
            "team-1",
            "",
            "${NS}",
            "{{ .Release.Namespace }}",
        ] {
            assert_eq!(why(good), None, "{good}");
        }
        for bad in ["Shop_Prod", "shop.prod", "-shop", &"a".repeat(64)] {
            let said = why(bad).unwrap_or_default();
            assert!(said.starts_with("metadata.namespace: \""), "{bad}: {said}");
            assert!(said.contains("is no valid namespace"), "{said}");
        }
        let esc = why("sh\u{1b}[5mop").unwrap_or_default();
        assert!(esc.contains("\"sh\\u{1b}[5mop\""), "{esc}");
        let number = serde_yaml::from_str::<Value>(
            "{apiVersion: v1, kind: Pod, metadata: {name: p, namespace: 7}}",
        )
        .unwrap();
        assert_eq!(
            refused(&number, "Pod", "p").as_deref(),
            Some("metadata.namespace: is a number, not a string (the API server rejects it)")
        );
    }

    #[test]
    fn near_misses_of_read_kinds_only() {
        assert_eq!(near_miss("Deploymnet"), Some("Deployment"));
        assert_eq!(near_miss("deployment"), Some("Deployment"));
        assert_eq!(near_miss("Pods"), Some("Pod"));
        for real in [
            "Node",
            "Service",
            "ConfigMap",
            "Role",
            "CSINode",
            "Deployment",
        ] {
            assert_eq!(near_miss(real), None, "{real}");
        }
    }
}
