//! Kustomize trees among the files: what `kubectl apply -k` sends is the render, not the files
//! as written.
//!
//! A kustomization (`kustomization.yaml`, `.yml` or `Kustomization`) names patch files under
//! `patches[].path`, `patchesStrategicMerge[]` and `patchesJson6902[].path` (kustomize docs,
//! "kustomization" fields). Such a file holds only the fields it changes (an SPC with
//! `keyvaultName` alone, a list of JSON-patch operations), which kustomize merges into the
//! resources it renders; `kubectl apply -k` never sends it as it is. Read as an object, a
//! directory of overlays gave errors for what only the patch lacks and a second, broken
//! SecretProviderClass beside the real one. So a patch is not read, and said so, also when it is
//! named alone on the command line beside the kustomization that names it (audit TTT-real).
//!
//! A kustomization's `namespace:` puts every namespaced object it renders (its `resources`,
//! `bases` and `components`, through the kustomizations of the directories they name) into
//! that namespace, whatever the file says; `namePrefix` / `nameSuffix` rename them. Read as
//! written, such objects were diagnosed in a namespace (and under names) they never have, with
//! fixes for objects that do not exist (audit TTT-real). So each file is read as every
//! rendering kustomization among the inputs (or beside a file named alone) puts it: in the one
//! namespace they all set, or as written when none sets one. When they disagree (overlays of
//! two namespaces over one base) or rename, it is not read, naming the overlays and the command
//! that checks each render (`kubectl kustomize DIR | kvchain check -f -`). So is a file whose
//! render a kustomization otherwise changes (a patch, a generator's rewritten references;
//! [`changes`], audit UUU-real); `replicas` is modelled.

mod changes;
mod render;

pub(super) use changes::apply_replicas;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde_yaml::Value;

use crate::input::InputError;

/// The file names kustomize looks for in a directory, in its order.
const NAMES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

fn is_kustomization(file: &Path) -> bool {
    file.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| NAMES.contains(&n))
}

/// The kustomization file of directory `dir` on disk, if it has one.
fn in_dir(dir: &Path) -> Option<PathBuf> {
    NAMES.iter().map(|n| dir.join(n)).find(|p| p.is_file())
}

/// The kustomizations to judge the inputs by: those among `files`, and the one beside each
/// file named alone (`named`) whose directory was not given, read from disk. Keyed by their
/// canonical path, each with the path to show and its parsed value (one that does not parse
/// names nothing known: its files are read as they are).
fn known(
    files: &[(PathBuf, Result<String, InputError>)],
    named: &HashSet<PathBuf>,
) -> HashMap<PathBuf, (PathBuf, Value)> {
    let mut out = HashMap::new();
    for (file, text) in files {
        if let (true, Ok(text)) = (is_kustomization(file), text)
            && let (Ok(k), Ok(c)) = (crate::input::value(text), file.canonicalize())
        {
            out.insert(c, (file.clone(), k));
        }
    }
    for file in named.iter().filter(|f| !is_kustomization(f)) {
        let Some(k) = file.parent().and_then(in_dir) else {
            continue;
        };
        let Ok(c) = k.canonicalize() else { continue };
        if out.contains_key(&c) {
            continue;
        }
        if let Some(v) = std::fs::read_to_string(&k)
            .ok()
            .and_then(|t| crate::input::value(&t).ok())
        {
            out.insert(c, (k, v));
        }
    }
    out
}

/// The patch paths kustomization `k` names (an inline patch, a string with a line break or a
/// `patch:` field, names no file).
fn named(k: &Value) -> Vec<&str> {
    let list = |key: &str| {
        k.get(key)
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
    };
    let with_path = ["patches", "patchesJson6902"]
        .into_iter()
        .flat_map(|key| list(key).filter_map(|p| p.get("path").and_then(Value::as_str)));
    let strategic = list("patchesStrategicMerge")
        .filter_map(Value::as_str)
        .filter(|p| !p.contains('\n'));
    with_path.chain(strategic).collect()
}

/// `.` for the empty parent of a relative file name.
fn dir_of(file: &Path) -> &Path {
    match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// The command that checks the render of the kustomization at `file`.
fn command(file: &Path) -> String {
    format!(
        "kubectl kustomize {} | kvchain check -f -",
        crate::chain::rules::remedy::sh_word(&dir_of(file).display().to_string())
    )
}

/// What the kustomizations do to the files they render and leave readable: the namespace
/// each file's objects are put in, and the `replicas` they set (name, count; [`changes`]).
#[derive(Default)]
pub(crate) struct Rendered {
    pub namespaces: HashMap<PathBuf, String>,
    pub replicas: HashMap<PathBuf, Vec<(String, i64)>>,
}

/// Sets aside every patch file among `files` (its text replaced by why it is not read) and
/// every file the kustomizations render otherwise than as written (elsewhere, renamed,
/// patched, with a generated name's references rewritten: [`changes`]); returns the namespace
/// each remaining file's objects are rendered into, where the kustomizations set one, and
/// the replica counts they set.
pub(super) fn set_aside(
    files: &mut [(PathBuf, Result<String, InputError>)],
    named: &HashSet<PathBuf>,
) -> Rendered {
    let known = known(files, named);
    if known.is_empty() {
        return Rendered::default();
    }
    let mut patches = HashMap::new();
    for (kfile, k) in known.values() {
        for p in named_patches(kfile, k) {
            patches.entry(p).or_insert_with(|| kfile.clone());
        }
    }
    let renders = render::renders(&known);
    let mut out = Rendered::default();
    for (file, text) in files.iter_mut() {
        let Ok(canonical) = file.canonicalize() else {
            continue;
        };
        if let Some(kustomization) = patches.get(&canonical) {
            *text = Err(InputError::in_file(
                file,
                format!(
                    "a kustomize patch ({} names it): the fields kustomize merges into a resource it renders, not an object kubectl applies as it is; not read (the rendered overlay is checked with: {})",
                    kustomization.display(),
                    command(kustomization),
                ),
            ));
            continue;
        }
        let Some(r) = renders.get(&canonical) else {
            continue;
        };
        match render::verdict(r) {
            Ok(ns) => {
                if let Some(ns) = ns {
                    out.namespaces.insert(file.clone(), ns);
                }
                if !r[0].replicas.is_empty() {
                    out.replicas.insert(file.clone(), r[0].replicas.clone());
                }
            }
            Err(why) => *text = Err(InputError::in_file(file, why)),
        }
    }
    out
}

/// The canonical paths of the patch files kustomization `kfile` names.
fn named_patches(kfile: &Path, k: &Value) -> Vec<PathBuf> {
    let dir = kfile.parent().unwrap_or(Path::new(""));
    named(k)
        .into_iter()
        .filter_map(|p| dir.join(p).canonicalize().ok())
        .collect()
}

/// The kinds kustomize's namespace transformer leaves alone (cluster-scoped) among those a
/// manifest tree holds.
const CLUSTER_SCOPED: [&str; 14] = [
    "Namespace",
    "CSIDriver",
    "CSINode",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "StorageClass",
    "PersistentVolume",
    "PriorityClass",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "APIService",
    "IngressClass",
    "RuntimeClass",
];

/// `value` (a document, or a List's items) put into `namespace` as kustomize's namespace
/// transformer puts it: every namespaced object, whatever namespace it said.
pub(super) fn put_in(value: &mut Value, namespace: &str) {
    let kind = value.get("kind").and_then(Value::as_str).unwrap_or("");
    if kind.ends_with("List") {
        if let Some(items) = value.get_mut("items").and_then(Value::as_sequence_mut) {
            items.iter_mut().for_each(|i| put_in(i, namespace));
        }
        return;
    }
    if kind.is_empty() || CLUSTER_SCOPED.contains(&kind) {
        return;
    }
    if let Some(meta) = value.get_mut("metadata").and_then(Value::as_mapping_mut) {
        meta.insert("namespace".into(), namespace.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_patch_fields_name_their_files_and_inline_patches_none() {
        let k = crate::input::value(concat!(
            "patches:\n- path: spc.yaml\n- patch: |-\n    - op: remove\n      path: /spec/x\n",
            "patchesStrategicMerge:\n- replicas.yaml\n- |-\n  apiVersion: v1\n  kind: X\n",
            "patchesJson6902:\n- target: {kind: Deployment, name: api}\n  path: ops.yaml\n",
            "resources:\n- ../base\n",
        ))
        .unwrap();
        assert_eq!(named(&k), ["spc.yaml", "ops.yaml", "replicas.yaml"]);
    }

    #[test]
    fn namespaced_objects_and_list_items_are_put_in_the_namespace() {
        let mut v = crate::input::value(
            "kind: List\nitems:\n- {kind: Deployment, metadata: {name: a, namespace: dev}}\n- {kind: CSIDriver, metadata: {name: d}}\n",
        )
        .unwrap();
        put_in(&mut v, "prod");
        assert_eq!(v["items"][0]["metadata"]["namespace"], Value::from("prod"));
        assert!(v["items"][1]["metadata"].get("namespace").is_none());
    }
}
