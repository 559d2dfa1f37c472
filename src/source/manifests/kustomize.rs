//! Kustomize patches among the files: partial objects, not objects to apply.
//!
//! A kustomization (`kustomization.yaml`) names patch files under `patches[].path`,
//! `patchesStrategicMerge[]` and `patchesJson6902[].path` (kustomize docs, "kustomization"
//! fields). Such a file holds only the fields it changes (an SPC with `keyvaultName` alone, a
//! Deployment with `replicas` alone, a list of JSON-patch operations), which kustomize merges
//! into the resources it renders; `kubectl apply -k` never sends it as it is. Read as an object,
//! a directory of overlays gave errors for what only the patch lacks (no provider, no objects,
//! no containers) and a second, broken SecretProviderClass beside the real one. So a patch is
//! not read, and said so: what kvchain checked is the tree as written, not the rendered
//! overlay, which `kubectl kustomize DIR | kvchain check -f -` checks.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_yaml::Value;

use crate::input::InputError;

/// The file names kustomize looks for in a directory (the extension-less one is not a file
/// kvchain reads from a directory, so it names no patch here).
const NAMES: [&str; 2] = ["kustomization.yaml", "kustomization.yml"];

/// Each patch file the kustomizations among `files` name (their paths resolved and made
/// canonical), with the kustomization that names it.
fn patches(files: &[(PathBuf, Result<String, InputError>)]) -> HashMap<PathBuf, PathBuf> {
    let mut out = HashMap::new();
    for (file, text) in files {
        let is_kustomization = file
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| NAMES.contains(&n));
        let (true, Ok(text)) = (is_kustomization, text) else {
            continue;
        };
        // Unparsable, it names nothing known: its files are read as they are.
        let Ok(k) = crate::input::value(text) else {
            continue;
        };
        let dir = file.parent().unwrap_or(Path::new(""));
        for p in named(&k) {
            if let Ok(path) = dir.join(p).canonicalize() {
                out.entry(path).or_insert_with(|| file.clone());
            }
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

/// Replaces the text of every patch file among `files` by why it is not read.
pub(super) fn set_aside(files: &mut [(PathBuf, Result<String, InputError>)]) {
    let patches = patches(files);
    if patches.is_empty() {
        return;
    }
    for (file, text) in files.iter_mut() {
        let Some(kustomization) = file.canonicalize().ok().and_then(|c| patches.get(&c)) else {
            continue;
        };
        let dir = kustomization.parent().unwrap_or(Path::new("."));
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        *text = Err(InputError::in_file(
            file,
            format!(
                "a kustomize patch ({} names it): the fields kustomize merges into a resource it renders, not an object kubectl applies as it is; not read (the rendered overlay is checked with: kubectl kustomize {} | kvchain check -f -)",
                kustomization.display(),
                crate::chain::rules::remedy::sh_word(&dir.display().to_string()),
            ),
        ));
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
}
