//! Where the kustomizations among the inputs render each file: the namespace and the renaming
//! each root kustomization (one no other among them names) applies to it, followed through the
//! directories its `resources`, `bases` and `components` name.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde_yaml::Value;

/// How one root kustomization renders a file.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Render {
    /// The root kustomization, as its path is shown.
    root: PathBuf,
    /// The namespace it puts the file's objects in (the outermost `namespace:` wins), if any.
    namespace: Option<String>,
    /// `namePrefix` / `nameSuffix` on the way, as written.
    renamed: Option<String>,
    /// What else the kustomizations on the way change, each as said with its kustomization
    /// ([`super::changes`]): any sets the render aside.
    changed: Vec<String>,
    /// `replicas` on the way (name, count), innermost first: modelled.
    pub(super) replicas: Vec<(String, i64)>,
}

/// Kustomizations read from disk at most, so a tree of links cannot keep the walk going.
const MAX_READ: usize = 500;

/// Each file (canonical path) the roots among `known` render, with how each renders it.
pub(super) fn renders(known: &HashMap<PathBuf, (PathBuf, Value)>) -> HashMap<PathBuf, Vec<Render>> {
    let mut cache: HashMap<PathBuf, (PathBuf, Value)> = known.clone();
    let mut referenced = HashSet::new();
    for (file, k) in known.values() {
        for dir in entries(k).filter_map(|e| dir_entry(file, e)) {
            if let Some(c) = super::in_dir(&dir).and_then(|k| k.canonicalize().ok()) {
                referenced.insert(c);
            }
        }
    }
    let mut roots: Vec<&PathBuf> = (known.keys())
        .filter(|c| !referenced.contains(*c))
        .filter(|c| known[*c].1.get("kind").and_then(Value::as_str) != Some("Component"))
        .collect();
    roots.sort();
    let mut out: HashMap<PathBuf, Vec<Render>> = HashMap::new();
    for root in roots {
        let shown = known[root].0.clone();
        let start = Render {
            root: shown,
            namespace: None,
            renamed: None,
            changed: Vec::new(),
            replicas: Vec::new(),
        };
        let mut seen = HashSet::new();
        walk(root, &start, &mut cache, &mut seen, &mut out);
    }
    for r in out.values_mut() {
        r.sort();
        r.dedup();
    }
    out
}

/// Follows kustomization `at` (canonical) under what the kustomizations above it set.
fn walk(
    at: &Path,
    above: &Render,
    cache: &mut HashMap<PathBuf, (PathBuf, Value)>,
    seen: &mut HashSet<PathBuf>,
    out: &mut HashMap<PathBuf, Vec<Render>>,
) {
    if !seen.insert(at.to_path_buf()) {
        return;
    }
    let Some((file, k)) = cache.get(at).cloned() else {
        return;
    };
    let text = |key: &str| {
        k.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let renamed = [
        ("namePrefix", text("namePrefix")),
        ("nameSuffix", text("nameSuffix")),
    ]
    .into_iter()
    .filter_map(|(key, v)| v.map(|v| format!("{key} {v}")))
    .collect::<Vec<_>>();
    // A component's patches and generators act on the resources of the kustomization that
    // names it, so they are this one's changes too.
    let mut changes = super::changes::of(&file, &k);
    for c in components(&file, &k) {
        if let Some((cfile, ck)) = load(&c.0, &c.1, cache) {
            let more = super::changes::of(&cfile, &ck);
            changes.said.extend(more.said);
            changes.replicas.extend(more.replicas);
        }
    }
    let mut changed = above.changed.clone();
    changed.extend(
        changes
            .said
            .iter()
            .map(|w| format!("{w} in {}", file.display())),
    );
    // Inner first: the overlay's transformers run after its base's, so its count wins.
    let mut replicas = changes.replicas;
    replicas.extend(above.replicas.iter().cloned());
    let here = Render {
        root: above.root.clone(),
        // kustomize runs a base's transformers first and its overlay's after: the
        // outermost namespace is the one the objects end in.
        namespace: above.namespace.clone().or_else(|| text("namespace")),
        renamed: above
            .renamed
            .clone()
            .or_else(|| (!renamed.is_empty()).then(|| renamed.join(", "))),
        changed,
        replicas,
    };
    for entry in entries(&k).collect::<Vec<_>>() {
        let path = dir_of(&file).join(entry);
        if path.is_file() {
            if let Ok(c) = path.canonicalize() {
                out.entry(c).or_default().push(here.clone());
            }
            continue;
        }
        let Some(kfile) = dir_entry(&file, entry).and_then(|d| super::in_dir(&d)) else {
            continue;
        };
        let Ok(c) = kfile.canonicalize() else {
            continue;
        };
        if load(&kfile, &c, cache).is_none() {
            continue;
        }
        walk(&c, &here, cache, seen, out);
    }
}

/// Kustomization `kfile` (as shown; `c` canonical), from the cache or read from disk into it.
fn load(
    kfile: &Path,
    c: &Path,
    cache: &mut HashMap<PathBuf, (PathBuf, Value)>,
) -> Option<(PathBuf, Value)> {
    if let Some(hit) = cache.get(c) {
        return Some(hit.clone());
    }
    if cache.len() >= MAX_READ {
        return None;
    }
    let v = std::fs::read_to_string(kfile)
        .ok()
        .and_then(|t| crate::input::value(&t).ok())?;
    cache.insert(c.to_path_buf(), (kfile.to_path_buf(), v.clone()));
    Some((kfile.to_path_buf(), v))
}

/// The kustomizations (as shown, canonical) of the local directories `components` of `k`
/// names.
fn components(file: &Path, k: &Value) -> Vec<(PathBuf, PathBuf)> {
    (k.get("components").and_then(Value::as_sequence))
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(|e| dir_entry(file, e))
        .filter_map(|d| super::in_dir(&d))
        .filter_map(|k| k.canonicalize().ok().map(|c| (k, c)))
        .collect()
}

fn dir_of(file: &Path) -> &Path {
    file.parent().unwrap_or(Path::new(""))
}

/// The entries of `resources`, `bases` and `components` that are local paths (a remote one,
/// `github.com/…` or a URL, is not on this disk).
fn entries(k: &Value) -> impl Iterator<Item = &str> {
    ["resources", "bases", "components"]
        .into_iter()
        .flat_map(|key| {
            k.get(key)
                .and_then(Value::as_sequence)
                .into_iter()
                .flatten()
        })
        .filter_map(Value::as_str)
        .filter(|e| !e.contains("://") && !e.starts_with("github.com/") && !e.starts_with("git@"))
}

/// The directory entry `e` of kustomization `file` names, when it names one.
fn dir_entry(file: &Path, e: &str) -> Option<PathBuf> {
    let p = dir_of(file).join(e);
    p.is_dir().then_some(p)
}

/// What the renders of one file make of it: `Ok(Some(ns))` read in namespace `ns`, `Ok(None)`
/// read as written, `Err(why)` not read (renders that disagree, or rename).
pub(super) fn verdict(renders: &[Render]) -> Result<Option<String>, String> {
    let first = &renders[0];
    if renders.iter().all(|r| {
        r.renamed.is_none()
            && r.changed.is_empty()
            && r.namespace == first.namespace
            && r.replicas == first.replicas
    }) {
        return Ok(first.namespace.clone());
    }
    let mut by_root: BTreeMap<String, String> = BTreeMap::new();
    for r in renders {
        let how = [
            r.namespace.as_ref().map(|n| format!("namespace {n}")),
            r.renamed.clone(),
        ]
        .into_iter()
        .flatten()
        .chain(r.changed.iter().cloned())
        .collect::<Vec<_>>();
        let how = match how.is_empty() {
            true => "as written".to_string(),
            false => how.join(", "),
        };
        by_root.insert(r.root.display().to_string(), how);
    }
    let said = (by_root.iter())
        .map(|(root, how)| format!("{root} ({how})"))
        .collect::<Vec<_>>()
        .join(", ");
    let commands = (by_root.keys())
        .map(|root| super::command(Path::new(root)))
        .collect::<Vec<_>>()
        .join("; ");
    Err(format!(
        "rendered by kustomizations that do not leave it as written: {said}; read as written, its objects would be diagnosed in a namespace, under a name or with fields they do not have: not read (each render is checked with: {commands})"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(root: &str, ns: Option<&str>, renamed: Option<&str>) -> Render {
        Render {
            root: root.into(),
            namespace: ns.map(Into::into),
            renamed: renamed.map(Into::into),
            changed: Vec::new(),
            replicas: Vec::new(),
        }
    }

    #[test]
    fn one_namespace_is_read_there_and_disagreeing_renders_are_not_read() {
        assert_eq!(verdict(&[r("a/k.yaml", None, None)]), Ok(None));
        let prod = r("o/prod/kustomization.yaml", Some("prod"), None);
        assert_eq!(
            verdict(std::slice::from_ref(&prod)),
            Ok(Some("prod".into()))
        );
        let dev = r("o/dev/kustomization.yaml", Some("dev"), None);
        let why = verdict(&[dev, prod]).unwrap_err();
        assert!(why.contains("o/dev/kustomization.yaml (namespace dev), o/prod/kustomization.yaml (namespace prod)"), "{why}");
        assert!(why.contains("kubectl kustomize o/dev | kvchain check -f -; kubectl kustomize o/prod | kvchain check -f -"), "{why}");
        let renamed = verdict(&[r("k.yaml", None, Some("namePrefix prod-"))]).unwrap_err();
        assert!(renamed.contains("k.yaml (namePrefix prod-)"), "{renamed}");
    }
}
