//! What a kustomization changes in the objects it renders, beyond their namespace and names
//! (audit UUU-real): `kubectl apply -k` sends the render, so an object read as its file
//! writes it, where kustomize changes it, would be diagnosed as it is never applied (a patch
//! that sets the vault name, a Secret reference kustomize rewrites to a generated name).
//!
//! kustomize docs ("kustomization" fields): `patches` (each on its `target`, or on the object
//! the patch names), `patchesStrategicMerge`, `patchesJson6902`, `replicas` (sets
//! `spec.replicas` of the Deployment, ReplicaSet, ReplicationController or StatefulSet of that
//! name), `secretGenerator` / `configMapGenerator` (make an object named `<name>-<hash of its
//! content>`, unless `disableNameSuffixHash`, and rewrite every reference to `<name>` to it),
//! `commonLabels`, `labels` and `commonAnnotations` (onto every object and pod template).
//! `replicas` is modelled as kustomize does it. Any other change sets the whole render aside,
//! as a rename does ([`super::render::verdict`]), naming the kustomization and the command that
//! checks the render: one object of a render read as written beside its patched neighbour set
//! aside alone would break the chains that join them (a pod told its SecretProviderClass's
//! document is broken, when kustomize only patched it). `images` changes container images,
//! which no verdict reads: read as written. Labels and annotations count only when they hold a
//! key kvchain reads (workload identity, Reloader): others change no verdict (kustomize adds
//! common labels to selectors and templates alike).

use std::path::Path;

use serde_yaml::Value;

/// What one kustomization changes: how each change is said (`patches (target
/// Deployment/api)`), and the `replicas` it sets (name, count).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Changes {
    pub said: Vec<String>,
    pub replicas: Vec<(String, i64)>,
}

/// The kinds kustomize's `replicas` field sets (its replicas field specs).
const SCALABLE: [&str; 4] = [
    "Deployment",
    "ReplicaSet",
    "ReplicationController",
    "StatefulSet",
];

/// The changes kustomization `k` (at `file`) makes to what it renders.
pub(super) fn of(file: &Path, k: &Value) -> Changes {
    let dir = file.parent().unwrap_or(Path::new(""));
    let mut out = Changes::default();
    let mut add = |what: String| out.said.push(what);
    let list = |key: &str| -> Vec<Value> {
        k.get(key)
            .and_then(Value::as_sequence)
            .cloned()
            .unwrap_or_default()
    };
    for p in list("patches").iter().chain(&list("patchesJson6902")) {
        let field = if p.get("patch").is_some() || p.get("path").is_some() {
            "patches"
        } else {
            continue;
        };
        match p.get("target").filter(|t| t.is_mapping()) {
            Some(t) => {
                let (kind, name) = (text(t, "kind"), text(t, "name"));
                let shown = format!(
                    "{}/{}",
                    kind.as_deref().unwrap_or("*"),
                    name.as_deref().unwrap_or("*")
                );
                add(format!("{field} (target {shown})"));
            }
            None => {
                let content = p
                    .get("patch")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .or_else(|| {
                        let path = p.get("path").and_then(Value::as_str)?;
                        std::fs::read_to_string(dir.join(path)).ok()
                    });
                named_objects(content.as_deref(), field, &mut add);
            }
        }
    }
    for p in list("patchesStrategicMerge") {
        let Some(s) = p.as_str() else { continue };
        let content = if s.contains('\n') {
            Some(s.to_string())
        } else {
            std::fs::read_to_string(dir.join(s)).ok()
        };
        named_objects(content.as_deref(), "patchesStrategicMerge", &mut add);
    }
    let mut replicas = Vec::new();
    for r in list("replicas") {
        let (Some(name), Some(count)) = (text(&r, "name"), r.get("count").and_then(Value::as_i64))
        else {
            continue;
        };
        replicas.push((name, count));
    }
    let no_hash = |g: &Value| {
        g.get("options")
            .and_then(|o| o.get("disableNameSuffixHash"))
            .or_else(|| {
                k.get("generatorOptions")
                    .and_then(|o| o.get("disableNameSuffixHash"))
            })
            .and_then(Value::as_bool)
            == Some(true)
    };
    for (field, kind) in [
        ("secretGenerator", "Secret"),
        ("configMapGenerator", "ConfigMap"),
    ] {
        for g in list(field) {
            let Some(name) = text(&g, "name") else {
                continue;
            };
            if no_hash(&g) {
                continue;
            }
            add(format!(
                "{field} {name}: the {kind} is named {name}-<hash> and each reference to it rewritten"
            ));
        }
    }
    let mut keys: Vec<String> = Vec::new();
    for field in ["commonLabels", "commonAnnotations"] {
        if let Some(m) = k.get(field).and_then(Value::as_mapping) {
            keys.extend(
                m.keys()
                    .filter_map(Value::as_str)
                    .map(|s| format!("{field} {s}")),
            );
        }
    }
    for l in list("labels") {
        if let Some(m) = l.get("pairs").and_then(Value::as_mapping) {
            keys.extend(
                m.keys()
                    .filter_map(Value::as_str)
                    .map(|s| format!("labels {s}")),
            );
        }
    }
    let read = |key: &str| {
        key.contains("azure.workload.identity/") || key.contains("reloader.stakater.com")
    };
    if let Some(key) = keys.iter().find(|k| read(k)) {
        add(key.clone());
    }
    out.replicas = replicas;
    out
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The objects a patch's own text names (`kind` and `metadata.name` of each document); a
/// patch that cannot be read, or names none, may touch any object.
fn named_objects(content: Option<&str>, field: &str, add: &mut impl FnMut(String)) {
    let named: Vec<(Option<String>, Option<String>)> = content
        .and_then(|c| crate::input::stream::documents(c).ok())
        .into_iter()
        .flatten()
        .filter_map(|d| d.value.ok())
        .filter(Value::is_mapping)
        .map(|v| {
            let name = v.get("metadata").and_then(|m| text(m, "name"));
            (text(&v, "kind"), name)
        })
        .filter(|(_, name)| name.is_some())
        .collect();
    if named.is_empty() {
        add(format!("{field} (a patch whose target is not known)"));
    }
    for (kind, name) in named {
        let shown = format!(
            "{}/{}",
            kind.as_deref().unwrap_or("*"),
            name.as_deref().unwrap_or("*")
        );
        add(format!("{field} ({shown})"));
    }
}

/// Sets `spec.replicas` of `value` as kustomize's `replicas` (name, count) say: on the
/// scalable kinds of that name.
pub(crate) fn apply_replicas(value: &mut Value, replicas: &[(String, i64)]) {
    let kind = value.get("kind").and_then(Value::as_str).unwrap_or("");
    if !SCALABLE.contains(&kind) {
        return;
    }
    let name = value
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    // The outermost kustomization's count is applied last, so it wins.
    for (n, count) in replicas {
        if *n == name
            && let Some(spec) = value.get_mut("spec").and_then(Value::as_mapping_mut)
        {
            spec.insert("replicas".into(), (*count).into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replicas_are_set_on_the_scalable_object_of_that_name_the_outermost_last() {
        let mut d =
            crate::input::value("kind: Deployment\nmetadata: {name: api}\nspec: {replicas: 2}\n")
                .unwrap();
        apply_replicas(
            &mut d,
            &[("api".into(), 3), ("api".into(), 0), ("web".into(), 5)],
        );
        assert_eq!(d["spec"]["replicas"], Value::from(0));
        let mut s =
            crate::input::value("kind: Service\nmetadata: {name: api}\nspec: {}\n").unwrap();
        apply_replicas(&mut s, &[("api".into(), 3)]);
        assert!(s["spec"].get("replicas").is_none());
    }

    #[test]
    fn what_a_kustomization_changes_is_said_and_images_are_not() {
        let k = crate::input::value(concat!(
            "images: [{name: nginx, newTag: '1'}]\n",
            "replicas: [{name: api, count: 4}]\n",
            "patchesJson6902: [{target: {kind: Deployment, name: api}, path: ops.yaml}]\n",
            "secretGenerator: [{name: env, literals: [A=b]}, {name: flat, options: {disableNameSuffixHash: true}}]\n",
            "commonLabels: {team: a}\n",
            "commonAnnotations: {reloader.stakater.com/auto: 'true'}\n",
        ))
        .unwrap();
        let c = of(Path::new("k/kustomization.yaml"), &k);
        assert_eq!(c.replicas, [("api".to_string(), 4)]);
        assert_eq!(
            c.said,
            [
                "patches (target Deployment/api)",
                "secretGenerator env: the Secret is named env-<hash> and each reference to it rewritten",
                "commonAnnotations reloader.stakater.com/auto",
            ]
        );
    }
}
