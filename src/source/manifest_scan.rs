//! What `check -f` needs beyond the snapshot: where each object is written (file and line,
//! for SARIF annotations on the pull request) and the annotations of `Namespace` documents
//! (for suppressions). A second, untyped pass over the same texts: [`super::manifests::load`]
//! has already reported any parse error, so documents that do not parse are skipped here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::manifests::files::Inputs;
use crate::suppress::NamespaceAnnotations;

/// Where an object is defined: file and 1-based line of its `name:`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub file: PathBuf,
    pub line: usize,
}

#[derive(Debug, Default)]
pub struct Scan {
    /// `(namespace, Kind, name)` → origin.
    pub objects: BTreeMap<(String, String, String), Origin>,
    pub namespaces: NamespaceAnnotations,
}

impl Scan {
    pub fn origin(&self, namespace: &str, kind: &str, name: &str) -> Option<&Origin> {
        self.objects
            .get(&(namespace.to_string(), kind.to_string(), name.to_string()))
    }
    /// Origin of a `Kind/name` resource string in `namespace`.
    pub fn origin_of(&self, namespace: &str, resource: &str) -> Option<&Origin> {
        let (kind, name) = resource.split_once('/')?;
        self.origin(namespace, kind, name)
    }
}

pub fn scan(inputs: &Inputs) -> Scan {
    let mut out = Scan::default();
    for (f, text) in &inputs.files {
        // The load already reported the files that could not be read.
        if let Ok(text) = text {
            scan_str(f, text, &mut out);
        }
    }
    out
}

pub fn scan_str(file: &Path, text: &str, out: &mut Scan) {
    let text = crate::input::without_bom(text);
    // The same documents as the load (a bad one skipped, those after it read; a file of too
    // many, which the load reported, not at all), one at a time: a document ends where the
    // next starts. Lines are read forward once, one document's at a time.
    let Ok(docs) = crate::input::stream::documents(text) else {
        return;
    };
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l)).peekable();
    let mut docs = docs.peekable();
    while let Some(doc) = docs.next() {
        let end = docs.peek().map_or(usize::MAX, |d| d.line);
        while lines.next_if(|&(n, _)| n < doc.line).is_some() {}
        let mut names = NameLines::default();
        while let Some((n, l)) = lines.next_if(|&(n, _)| n < end) {
            names.add(n, l);
        }
        let Ok(mut value) = doc.value else {
            continue;
        };
        if value.apply_merge().is_err() {
            continue;
        }
        let mut from = doc.line;
        object(file, &names, doc.line, &mut from, &value, "", out);
    }
}

/// The lines of one document that read `name: <name>` (quoted or not), by name, in order:
/// one pass over the document, not a scan per object (a List of many flow-style items, which
/// have no such line, made that quadratic).
#[derive(Default)]
struct NameLines<'t>(std::collections::HashMap<&'t str, Vec<usize>>);

impl<'t> NameLines<'t> {
    fn add(&mut self, n: usize, line: &'t str) {
        let l = line.trim_start().trim_start_matches("- ");
        let name = l
            .strip_prefix("name:")
            .map(|r| r.trim().trim_matches(['"', '\'']))
            .or_else(|| {
                l.strip_prefix("\"name\":")
                    .map(|r| r.trim().trim_end_matches(',').trim_matches('"'))
            });
        if let Some(name) = name {
            self.0.entry(name).or_default().push(n);
        }
    }

    /// First line at or after `from` that names `name`.
    fn find(&self, name: &str, from: usize) -> Option<usize> {
        let lines = self.0.get(name)?;
        lines.get(lines.partition_point(|&n| n < from)).copied()
    }
}

/// Record one object (or each item of a `List`). `from` moves forward so that two items
/// with the same name in one List get their own lines.
fn object(
    file: &Path,
    names: &NameLines,
    start: usize,
    from: &mut usize,
    v: &serde_yaml::Value,
    implied: &str,
    out: &mut Scan,
) {
    let kind = v.get("kind").and_then(|k| k.as_str()).unwrap_or(implied);
    if kind.ends_with("List")
        && let Some(items) = v.get("items").and_then(|i| i.as_sequence())
    {
        // A typed List's items without a kind are of the List's kind (kubectl, audit XX3).
        let item_kind = kind.strip_suffix("List").unwrap_or_default();
        for item in items {
            object(file, names, start, from, item, item_kind, out);
        }
        return;
    }
    let meta = v.get("metadata");
    let Some(name) = meta.and_then(|m| m.get("name")).and_then(|n| n.as_str()) else {
        return;
    };
    let line = names.find(name, *from).unwrap_or(start);
    *from = line + 1;
    let annotations: BTreeMap<String, String> = meta
        .and_then(|m| m.get("annotations"))
        .and_then(|a| serde_yaml::from_value(a.clone()).ok())
        .unwrap_or_default();
    if kind == "Namespace" {
        out.namespaces.insert(name.to_string(), annotations);
    }
    let namespace = meta
        .and_then(|m| m.get("namespace"))
        .and_then(|n| n.as_str())
        .unwrap_or(if kind == "Namespace" { "" } else { "default" });
    out.objects
        .entry((namespace.to_string(), kind.to_string(), name.to_string()))
        .or_insert(Origin {
            file: file.to_path_buf(),
            line,
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_get_the_line_of_their_name_and_namespaces_their_annotations() {
        let text = "\
# comment
apiVersion: v1
kind: Namespace
metadata:
  name: pay
  annotations:
    kvchain.dev/ignore: KVC902
---
apiVersion: apps/v1
kind: Deployment
metadata:
  namespace: pay
  name: api
spec:
  template:
    metadata:
      name: not-this
---
kind: List
items:
- kind: ServiceAccount
  metadata: {name: a, namespace: pay}
- kind: ServiceAccount
  metadata:
    name: b
";
        let mut s = Scan::default();
        scan_str(Path::new("m.yaml"), text, &mut s);
        assert_eq!(s.origin("", "Namespace", "pay").unwrap().line, 5);
        assert_eq!(s.origin("pay", "Deployment", "api").unwrap().line, 13);
        assert_eq!(s.origin_of("default", "ServiceAccount/b").unwrap().line, 25);
        // Flow-style metadata has no `name:` line of its own: the document start stands in.
        assert_eq!(s.origin("pay", "ServiceAccount", "a").unwrap().line, 19);
        assert_eq!(s.namespaces["pay"]["kvchain.dev/ignore"], "KVC902");
    }
}
