//! The texts `-f PATH…` names, read once: the load and the origin scan (SARIF lines,
//! Namespace annotations) share them, so a warning is printed once and both see the same bytes.
//!
//! A path given on the command line must be readable (else exit 2, as `kubectl apply -f`
//! refuses a missing path); `-` is standard input, as for kubectl. What a directory holds is
//! the user's tree as it happens to be: an entry that cannot be read there (a dangling
//! symlink, a subdirectory kvchain may not list) is listed as not read, and the rest is still
//! diagnosed.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::input::InputError;

/// The name standard input goes by in messages and the report's label.
pub const STDIN: &str = "<stdin>";

/// The manifest files found under the `-f` paths, each read or not.
#[derive(Debug, Default)]
pub struct Inputs {
    /// In the order given (a directory's entries sorted), with the file's text or why not.
    pub files: Vec<(PathBuf, Result<String, InputError>)>,
    /// Directory entries that could not even be looked at (listed as not read).
    pub unlisted: Vec<InputError>,
    /// The paths as given, for the report's label.
    pub label: String,
    /// The files named on the command line (`-` too), not found in a directory: a document
    /// there without a kind is meant as an object, and refused as kubectl refuses it (XX7).
    pub named: HashSet<PathBuf>,
    /// The namespace a kustomization among the inputs renders a file's objects into
    /// (`namespace:`), whatever the file says (audit TTT-real).
    pub namespaces: std::collections::HashMap<PathBuf, String>,
    /// The `replicas` a kustomization sets on each file's objects (name, count).
    pub replicas: std::collections::HashMap<PathBuf, Vec<(String, i64)>>,
}

/// Reads everything `paths` names. Only a path given explicitly that cannot be read is an error.
pub fn read(paths: &[PathBuf]) -> Result<Inputs, InputError> {
    let mut found = Found::default();
    let mut stdin_read = false;
    let mut inputs = Inputs::default();
    for p in paths {
        if is_stdin(p) {
            // Standard input can be read once; a second `-` adds nothing.
            if !std::mem::replace(&mut stdin_read, true) {
                let name = PathBuf::from(STDIN);
                let text = crate::input::read_stdin(&name);
                inputs.named.insert(name.clone());
                inputs.files.push((name, text));
            }
            continue;
        }
        let before = found.files.len();
        collect(p, true, &mut found)?;
        if found.files[before..] == [p.clone()] {
            inputs.named.insert(p.clone());
        }
        for f in &found.files[before..] {
            inputs.files.push((f.clone(), crate::input::read_text(f)));
        }
    }
    inputs.unlisted = found.unlisted;
    // A kustomization's patches are partial objects, set aside with the reason.
    let rendered = super::kustomize::set_aside(&mut inputs.files, &inputs.named);
    inputs.namespaces = rendered.namespaces;
    inputs.replicas = rendered.replicas;
    if inputs.files.is_empty() && inputs.unlisted.is_empty() {
        // Directories holding no manifest: a mistyped path in CI would otherwise pass green
        // with 0 chains (audit F9). kubectl refuses it too: "no objects passed to apply".
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(InputError::new(
            shown.join(", "),
            "no manifest file found (kvchain reads the .yaml, .yml and .json files of a directory; kubectl says \"no objects passed to apply\")",
        ));
    }
    inputs.label = paths
        .iter()
        .map(|p| match is_stdin(p) {
            true => STDIN.to_string(),
            false => p.display().to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ");
    Ok(inputs)
}

fn is_stdin(p: &Path) -> bool {
    p.as_os_str() == "-"
}

#[derive(Default)]
struct Found {
    files: Vec<PathBuf>,
    unlisted: Vec<InputError>,
    /// Directories already listed (device, inode): symlinks that loop back would otherwise be
    /// followed until the path is too long, or exponentially with two of them.
    seen: HashSet<(u64, u64)>,
}

fn collect(path: &Path, explicit: bool, found: &mut Found) -> Result<(), InputError> {
    use std::os::unix::fs::MetadataExt;
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if explicit => {
            return Err(InputError::in_file(path, format!("cannot read: {e}")));
        }
        Err(e) => {
            unreadable_entry(path, e, found);
            return Ok(());
        }
    };
    if let Some(kind) = crate::input::special_kind(&meta) {
        // Opening a FIFO blocks until a writer appears: never open one.
        if explicit {
            return Err(InputError::in_file(
                path,
                format!("is {kind}: only regular files are read"),
            ));
        }
        if is_manifest(path) {
            crate::input::warn_skipped(path, kind);
        }
    } else if meta.is_dir() {
        if !found.seen.insert((meta.dev(), meta.ino())) {
            return Ok(());
        }
        let listing = match std::fs::read_dir(path) {
            Ok(l) => l,
            Err(e) => {
                let e = InputError::in_file(path, format!("cannot list directory: {e}"));
                if explicit {
                    return Err(e);
                }
                found.unlisted.push(e);
                return Ok(());
            }
        };
        let mut entries: Vec<PathBuf> = listing.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for e in entries {
            collect(&e, false, found)?;
        }
    } else if explicit || is_manifest(path) {
        found.files.push(path.to_path_buf());
    }
    Ok(())
}

/// A directory entry whose target cannot be looked at: most often a symlink left dangling.
/// One named like a manifest is listed as not read; another may be anything (a link to a
/// directory, to a README), so it gets a warning only.
fn unreadable_entry(path: &Path, e: std::io::Error, found: &mut Found) {
    let why = match std::fs::read_link(path) {
        Ok(target) if e.kind() == std::io::ErrorKind::NotFound => format!(
            "cannot read: a symbolic link to {}, which does not exist",
            crate::shown::shown(&target.display().to_string())
        ),
        _ => format!("cannot read: {e}"),
    };
    if is_manifest(path) {
        found.unlisted.push(InputError::in_file(path, why));
    } else {
        crate::say!("kvchain: warning: skipping {}: {why}", path.display());
    }
}

fn is_manifest(p: &Path) -> bool {
    matches!(
        p.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dangling_link_inside_a_directory_is_listed_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.yaml"), "kind: ConfigMap\n").unwrap();
        std::os::unix::fs::symlink("/nonexistent/x.yaml", dir.path().join("old.yaml")).unwrap();
        std::os::unix::fs::symlink("/nonexistent/dir", dir.path().join("gone")).unwrap();
        let inputs = read(&[dir.path().to_path_buf()]).expect("the directory is read");
        assert_eq!(inputs.files.len(), 1);
        assert_eq!(inputs.unlisted.len(), 1, "{:?}", inputs.unlisted);
        let why = inputs.unlisted[0].to_string();
        assert!(
            why.contains("old.yaml") && why.contains("/nonexistent/x.yaml"),
            "{why}"
        );
        // Given by name, the same link is the user's mistake: an error.
        assert!(read(&[dir.path().join("old.yaml")]).is_err());
    }
}
