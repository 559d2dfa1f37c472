//! Loading a scenario: each YAML document to its lab kind or Kubernetes object, strictly
//! (unknown kinds, top-level fields and duplicates are errors naming the document).

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::validate::{Places, validate};
use super::*;
use crate::input::InputError;

/// Loads a scenario from YAML text; `origin` names the file in errors.
pub fn parse(name: &str, origin: &Path, text: &str) -> Result<Scenario, InputError> {
    let mut sc = Scenario {
        name: name.to_string(),
        ..Scenario::default()
    };
    let mut cluster: Option<ClusterSpec> = None;
    let mut seen = Seen::default();
    // Where cross-document checks point their errors: the document of each item.
    let mut places = Places::default();
    for (i, value) in crate::input::documents(text).enumerate() {
        let n = i + 1;
        let value = value
            .map_err(|e| InputError::in_document(origin, n, format!("not valid YAML: {e}")))?;
        if value.is_null() {
            continue; // empty document (e.g. a trailing `---`)
        }
        let field = |key: &str| -> Result<String, InputError> {
            match value.get(key) {
                Some(serde_yaml::Value::String(s)) if !s.is_empty() => Ok(s.clone()),
                _ => Err(InputError::in_document(
                    origin,
                    n,
                    format!("`{key}` is missing or not a string"),
                )),
            }
        };
        let api_version = field("apiVersion")?;
        let kind = field("kind")?;
        let err = |e: String| InputError::in_document(origin, n, format!("{kind}: {e}"));
        if api_version == LAB_API_VERSION {
            top_level_fields(&value, &[], &err)?;
            let name = value
                .get("metadata")
                .cloned()
                .map(crate::input::typed::<LabMeta>)
                .transpose()
                .map_err(|e| err(e.under("metadata")))?
                .map(|m| m.name)
                .unwrap_or_default();
            let spec = value
                .get("spec")
                .cloned()
                .ok_or_else(|| err("`spec` is missing".into()))?;
            let named = |what: &str| -> Result<String, InputError> {
                if name.is_empty() {
                    Err(err(format!("metadata.name is required for a {what}")))
                } else {
                    Ok(name.clone())
                }
            };
            match kind.as_str() {
                "Cluster" => {
                    if cluster.is_some() {
                        return Err(err("only one Cluster per scenario".into()));
                    }
                    let mut c: ClusterSpec = lab_spec(spec, &err)?;
                    c.name = name.clone();
                    cluster_checks(&c).map_err(&err)?;
                    places.cluster = n;
                    cluster = Some(c);
                }
                "ManagedIdentity" => {
                    let name = named("ManagedIdentity")?;
                    seen.once(("ManagedIdentity", name.clone()), &err)?;
                    sc.identities.push(ManagedIdentity {
                        name,
                        spec: lab_spec(spec, &err)?,
                    })
                }
                "KeyVault" => {
                    let name = named("KeyVault")?;
                    // One vault in any case (a DNS label, FACTS §5): `kv-a` and `KV-A` clash.
                    seen.once(("KeyVault", name.to_ascii_lowercase()), &err)?;
                    if !(3..=24).contains(&name.len())
                        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                    {
                        return Err(err(format!(
                            "metadata.name: vault name {name:?} must match [-a-zA-Z0-9]{{3,24}}"
                        )));
                    }
                    let spec: KeyVaultSpec = lab_spec(spec, &err)?;
                    vault_checks(&spec).map_err(&err)?;
                    sc.vaults.push(KeyVault { name, spec })
                }
                "RoleAssignment" => {
                    let spec: RoleAssignmentSpec = lab_spec(spec, &err)?;
                    let sc_ = &spec.scope;
                    let named = [
                        !sc_.vault.is_empty(),
                        sc_.resource_group.is_some(),
                        sc_.subscription,
                    ];
                    if named.iter().filter(|n| **n).count() != 1 {
                        return Err(err(
                            "spec.scope: give exactly one of vault, resourceGroup, subscription: true"
                                .into(),
                        ));
                    }
                    if sc_.object.is_some() && sc_.vault.is_empty() {
                        return Err(err(
                            "spec.scope.object: an object scope lies in a vault: give scope.vault too"
                                .into(),
                        ));
                    }
                    if (sc_.resource_group.as_deref()).is_some_and(|g| g.trim().is_empty()) {
                        return Err(err("spec.scope.resourceGroup: empty".into()));
                    }
                    if let Some(o) = &spec.scope.object
                        && !o.split_once('/').is_some_and(|(c, n)| {
                            matches!(c, "secrets" | "keys" | "certificates") && !n.is_empty()
                        })
                    {
                        return Err(err(format!(
                            "spec.scope.object: {o:?} must be secrets/<name>, keys/<name> or certificates/<name>"
                        )));
                    }
                    let builtin = crate::source::lab::roles::builtin(&spec.role);
                    match (&spec.data_actions, builtin) {
                        (None, None) => {
                            return Err(err(format!(
                                "spec.role: {:?} is not a Key Vault built-in role (known: {}); a custom role gives its spec.dataActions",
                                spec.role,
                                crate::source::lab::roles::names().join(", ")
                            )));
                        }
                        (Some(_), Some(b)) => {
                            return Err(err(format!(
                                "spec.role: {:?} is a built-in role's name: a custom role with spec.dataActions needs its own",
                                b.name
                            )));
                        }
                        (None, Some(_)) if !spec.not_data_actions.is_empty() => {
                            return Err(err(
                                "spec.notDataActions: only a custom role (spec.dataActions) has them here"
                                    .into(),
                            ));
                        }
                        _ => {}
                    }
                    let what = format!(
                        "{} {} {}",
                        spec.principal_id,
                        spec.role,
                        spec.scope
                            .arm("", || Some(spec.scope.vault.to_ascii_lowercase()))
                            .unwrap_or_default()
                            .to_ascii_lowercase()
                    );
                    seen.once(("RoleAssignment grant", what), &err)?;
                    if !name.is_empty() {
                        seen.once(("RoleAssignment", name.clone()), &err)?;
                    }
                    places.role_assignments.push(n);
                    sc.role_assignments.push(RoleAssignment {
                        name: if name.is_empty() {
                            format!("ra-{}", sc.role_assignments.len() + 1)
                        } else {
                            name
                        },
                        spec,
                        created_at: None,
                    })
                }
                "Timeline" => {
                    let events = timeline(spec, &err)?;
                    places.timeline.extend((0..events.len()).map(|i| (n, i)));
                    sc.timeline.extend(events);
                }
                "Lesson" => {
                    let name = named("Lesson")?;
                    let l: crate::source::lab::lesson::LessonSpec = lab_spec(spec, &err)?;
                    sc.lessons.push(l.build(name).map_err(&err)?);
                }
                other => {
                    return Err(err(format!(
                        "unknown lab kind {other:?} (expected Cluster, ManagedIdentity, KeyVault, RoleAssignment, Timeline or Lesson)"
                    )));
                }
            }
            continue;
        }
        let fields: &[&str] = match kind.as_str() {
            "Secret" => &["data", "stringData", "type", "immutable"],
            "ConfigMap" => &["data", "binaryData", "immutable"],
            "ServiceAccount" => &[
                "secrets",
                "imagePullSecrets",
                "automountServiceAccountToken",
            ],
            _ => &["spec", "status"],
        };
        top_level_fields(&value, fields, &err)?;
        // A pod or pod template holding ephemeral containers is refused by the API server, as
        // `kubectl apply` would have it refused (`check -f` says the same).
        let object = (value.get("metadata").and_then(|m| m.get("name")))
            .and_then(serde_yaml::Value::as_str)
            .unwrap_or("");
        if let Some(why) = crate::source::manifests::ephemeral::refused(&value, &kind, object) {
            return Err(err(why));
        }
        let identity = k8s_identity(&kind, &value);
        seen.once(identity, &err)?;
        match (api_version.as_str(), kind.as_str()) {
            ("v1", "Namespace") => sc.namespaces.push(k8s(value, &err)?),
            ("v1", "Node") => {
                places.nodes.push(n);
                sc.nodes.push(k8s(value, &err)?)
            }
            ("v1", "ServiceAccount") => sc.service_accounts.push(k8s(value, &err)?),
            ("v1", "Pod") => {
                places.pods.push((n, 1));
                sc.pods.push(k8s(value, &err)?)
            }
            ("v1", "Secret") => sc.secrets.push(k8s(value, &err)?),
            ("v1", "ConfigMap") => {
                let cm = crate::source::lab::config_map::LabConfigMap::admit(k8s(value, &err)?);
                sc.config_maps.push(cm.map_err(&err)?)
            }
            ("apps/v1", "Deployment") => {
                let d: Deployment = k8s(value, &err)?;
                let r = d.spec.as_ref().and_then(|s| s.replicas);
                places.pods.push((n, replicas(r).map_err(&err)?));
                sc.deployments.push(d)
            }
            ("apps/v1", "StatefulSet") => {
                let d: StatefulSet = k8s(value, &err)?;
                let r = d.spec.as_ref().and_then(|s| s.replicas);
                places.pods.push((n, replicas(r).map_err(&err)?));
                sc.stateful_sets.push(d)
            }
            ("apps/v1", "DaemonSet") => {
                places.pods.push((n, 1));
                sc.daemon_sets.push(k8s(value, &err)?)
            }
            ("batch/v1", "Job") => {
                places.pods.push((n, 1));
                sc.jobs.push(k8s(value, &err)?)
            }
            ("networking.k8s.io/v1", "Ingress") => sc.ingresses.push(k8s(value, &err)?),
            ("secrets-store.csi.x-k8s.io/v1", "SecretProviderClass") => {
                sc.spcs.push(k8s(value, &err)?)
            }
            (api, kind) => {
                return Err(InputError::in_document(
                    origin,
                    n,
                    format!("unsupported kind {api}/{kind} in a lab scenario"),
                ));
            }
        }
    }
    sc.cluster = cluster.ok_or_else(|| {
        InputError::in_file(
            origin,
            format!("no `kind: Cluster` document (apiVersion {LAB_API_VERSION})"),
        )
    })?;
    validate(&sc, origin, &places)?;
    sc.timeline.sort_by_key(|e| e.at);
    Ok(sc)
}

fn lab_spec<T: DeserializeOwned>(
    spec: serde_yaml::Value,
    err: &impl Fn(String) -> InputError,
) -> Result<T, InputError> {
    crate::input::typed(spec).map_err(|e| err(e.under("spec")))
}

fn k8s<T: DeserializeOwned + kube::Resource>(
    value: serde_yaml::Value,
    err: &impl Fn(String) -> InputError,
) -> Result<T, InputError> {
    let obj: T = crate::input::typed(value).map_err(|e| err(e.to_string()))?;
    if obj.meta().name.as_deref().unwrap_or("").is_empty() {
        return Err(err("metadata.name is required".into()));
    }
    Ok(obj)
}

/// Identities already defined in a scenario: a second definition would silently replace or
/// shadow the first.
#[derive(Default)]
struct Seen(std::collections::HashSet<(&'static str, String)>);

impl Seen {
    fn once(
        &mut self,
        (kind, name): (&'static str, String),
        err: &impl Fn(String) -> InputError,
    ) -> Result<(), InputError> {
        if self.0.insert((kind, name.clone())) {
            Ok(())
        } else {
            Err(err(format!("{kind} {name:?} is defined twice")))
        }
    }
}

/// Kind and `namespace/name` of a Kubernetes object (objects without a namespace live in
/// `default`, as with kubectl).
fn k8s_identity(kind: &str, value: &serde_yaml::Value) -> (&'static str, String) {
    let meta = value.get("metadata");
    let get = |k: &str| meta.and_then(|m| m.get(k)).and_then(|v| v.as_str());
    let kind: &'static str = match kind {
        "Namespace" => "Namespace",
        "Node" => "Node",
        "ServiceAccount" => "ServiceAccount",
        "Pod" => "Pod",
        "Secret" => "Secret",
        "ConfigMap" => "ConfigMap",
        "Deployment" => "Deployment",
        "StatefulSet" => "StatefulSet",
        "DaemonSet" => "DaemonSet",
        "Job" => "Job",
        "Ingress" => "Ingress",
        "SecretProviderClass" => "SecretProviderClass",
        _ => "object",
    };
    let name = get("name").unwrap_or("");
    if kind == "Namespace" || kind == "Node" {
        (kind, name.to_string())
    } else {
        (
            kind,
            format!("{}/{name}", get("namespace").unwrap_or("default")),
        )
    }
}

/// A scenario document may only carry `apiVersion`, `kind`, `metadata` and the kind's own
/// top-level fields (`spec` for lab kinds): anything else is a typo that would be ignored.
fn top_level_fields(
    value: &serde_yaml::Value,
    allowed: &[&str],
    err: &impl Fn(String) -> InputError,
) -> Result<(), InputError> {
    let Some(map) = value.as_mapping() else {
        return Err(err("a document must be a mapping".into()));
    };
    let base = ["apiVersion", "kind", "metadata"];
    let lab = value.get("apiVersion").and_then(|v| v.as_str()) == Some(LAB_API_VERSION);
    for key in map.keys() {
        let k = key.as_str().unwrap_or("");
        let ok = base.contains(&k) || allowed.contains(&k) || (lab && k == "spec");
        if !ok {
            let mut all: Vec<&str> = base.to_vec();
            all.extend_from_slice(if lab { &["spec"] } else { allowed });
            return Err(err(format!(
                "unknown top-level field {}, expected one of {}",
                match key.as_str() {
                    Some(k) => format!("`{k}`"),
                    None => "(not a string)".into(),
                },
                all.join(", ")
            )));
        }
    }
    Ok(())
}

/// The names of [`LabAction`]'s variants, as written in a Timeline event.
const ACTIONS: [&str; 9] = [
    "rotateSecret",
    "deletePod",
    "deleteSecret",
    "rolloutRestart",
    "pauseRollout",
    "resumeRollout",
    "deleteWorkload",
    "applyFault",
    "repairFault",
];

/// `kind: Timeline` — `spec.events`, each `at:` a lab time plus exactly one action.
fn timeline(
    spec: serde_yaml::Value,
    err: &impl Fn(String) -> InputError,
) -> Result<Vec<TimedEvent>, InputError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Spec {
        events: Vec<serde_yaml::Value>,
    }
    #[derive(Deserialize)]
    struct At(#[serde(with = "humantime_field")] Duration);

    let spec: Spec = lab_spec(spec, err)?;
    let mut out = Vec::with_capacity(spec.events.len());
    for (i, ev) in spec.events.into_iter().enumerate() {
        let here = format!("spec.events[{i}]");
        let serde_yaml::Value::Mapping(mut m) = ev else {
            return Err(err(format!(
                "{here}: expected a mapping with `at` and one action"
            )));
        };
        let at = m
            .shift_remove("at")
            .ok_or_else(|| err(format!("{here}.at: missing (the lab time, e.g. 90s)")))?;
        let At(at) = crate::input::typed(at).map_err(|e| err(e.under(&format!("{here}.at"))))?;
        if let Some(bad) = m
            .keys()
            .find(|k| !k.as_str().is_some_and(|n| ACTIONS.contains(&n)))
        {
            return Err(err(format!(
                "{here}: unknown field {} (expected `at` and one of {})",
                bad.as_str()
                    .map_or("(not a string)".into(), |n| format!("`{n}`")),
                ACTIONS.join(", ")
            )));
        }
        let mut entries = m.into_iter();
        let (name, body) = match (entries.next(), entries.next()) {
            (Some(one), None) => one,
            (None, _) => {
                return Err(err(format!(
                    "{here}: no action (expected one of {})",
                    ACTIONS.join(", ")
                )));
            }
            (Some((a, _)), Some((b, _))) => {
                return Err(err(format!(
                    "{here}: more than one action ({}, {}): give each its own event",
                    a.as_str().unwrap_or("?"),
                    b.as_str().unwrap_or("?")
                )));
            }
        };
        let name = name.as_str().unwrap_or_default();
        let tagged = serde_yaml::Value::Tagged(Box::new(serde_yaml::value::TaggedValue {
            tag: serde_yaml::value::Tag::new(name),
            value: body,
        }));
        let action: LabAction = crate::input::typed(tagged).map_err(|e| {
            // The enum's path starts with the variant, which is the key the user wrote.
            err(e.under(&here))
        })?;
        if let LabAction::ApplyFault { id } | LabAction::RepairFault { id } = &action
            && crate::source::lab::faults::find(id).is_none()
        {
            return Err(err(format!("{here}.{name}.id: unknown fault {id:?}")));
        }
        out.push(TimedEvent { at, action });
    }
    Ok(out)
}

/// `kind: Cluster` on its own: settings no other document changes.
fn cluster_checks(c: &ClusterSpec) -> Result<(), String> {
    if c.oidc_issuer_url.is_empty() {
        return Err("spec.oidcIssuerURL: empty (the cluster's OIDC issuer URL is required)".into());
    }
    if c.csi_driver.rotation_poll_interval < Duration::from_secs(1) {
        return Err("spec.csiDriver.rotationPollInterval: must be at least 1s".into());
    }
    Ok(())
}

/// `kind: KeyVault` on its own: each object defined once, each secret with one value source.
fn vault_checks(spec: &KeyVaultSpec) -> Result<(), String> {
    for (field, what, names) in [
        (
            "secrets",
            "secret",
            spec.secrets.iter().map(|s| &s.name).collect::<Vec<_>>(),
        ),
        ("keys", "key", spec.keys.iter().map(|k| &k.name).collect()),
        (
            "certificates",
            "certificate",
            spec.certificates.iter().map(|c| &c.name).collect(),
        ),
    ] {
        // Key Vault object names are case-insensitive (lab::vaults): `DB` and `db` are one.
        let mut seen = std::collections::BTreeMap::new();
        for (i, n) in names.into_iter().enumerate() {
            if let Some(first) = seen.insert(n.to_ascii_lowercase(), n) {
                let case = match first == n {
                    true => String::new(),
                    false => {
                        format!(" (as {first:?}: Key Vault object names are case-insensitive)")
                    }
                };
                return Err(format!(
                    "spec.{field}[{i}].name: {what} {n:?} is defined twice{case}"
                ));
            }
        }
    }
    for (i, s) in spec.secrets.iter().enumerate() {
        if s.value.is_none() && s.versions.is_empty() {
            return Err(format!(
                "spec.secrets[{i}]: secret {:?}: set `value` or `versions`",
                s.name
            ));
        }
        if s.value.is_some() && !s.versions.is_empty() {
            return Err(format!(
                "spec.secrets[{i}]: secret {:?}: `value` and `versions` are exclusive",
                s.name
            ));
        }
    }
    Ok(())
}

/// A workload's `spec.replicas` (1 when not given), within the lab's limit (the one
/// `generated:N` has): a Deployment with `replicas: 2147483647` would otherwise exhaust memory.
fn replicas(r: Option<i32>) -> Result<usize, String> {
    let max = crate::source::lab::generator::MAX_PODS;
    match r.unwrap_or(1) {
        r if r < 0 => Err(format!("spec.replicas: must not be negative, got {r}")),
        r if r as usize > max => Err(format!(
            "spec.replicas: {r} is more than the lab's limit of {max} pods"
        )),
        r => Ok(r as usize),
    }
}
