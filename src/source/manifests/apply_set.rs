//! The documents of every input file in `kubectl apply` order, one per object: an object
//! defined twice (the same kind, namespace and name, in one file or two) is applied twice and
//! the last definition is what the cluster holds. The earlier one is left out, and said so.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::error::InputError;

/// One document (or one item of a `List`) waiting to be read.
pub(super) struct Queued {
    pub file: Arc<Path>,
    /// 1-based document number in its file.
    pub index: usize,
    /// 1-based line where the document starts.
    pub line: usize,
    pub value: serde_yaml::Value,
}

#[derive(Default)]
pub(super) struct ApplySet {
    /// In read order; an error where a document could not be parsed or where a later
    /// definition of the same object replaced it (so errors are listed in file order).
    queued: Vec<Result<Queued, InputError>>,
    /// (kind, namespace as written, name) → position in `queued`.
    placed: HashMap<(String, String, String), usize>,
}

/// The kinds kvchain reads: only their duplicates change a verdict.
pub(super) const READ: [&str; 14] = [
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
    "Pod",
    "ServiceAccount",
    "SecretProviderClass",
    "Secret",
    "Ingress",
    "CSIDriver",
    "Rollout",
    "ScaledJob",
];

impl ApplySet {
    /// Queue a document; a `List` queues each item (at the List's document number).
    pub fn push(&mut self, mut doc: Queued) {
        if kind_of(&doc.value).ends_with("List")
            && let Some(items) = doc.value.get_mut("items").and_then(|i| i.as_sequence_mut())
        {
            // Taken, not cloned: a large List would otherwise be held twice.
            for (i, item) in std::mem::take(items).into_iter().enumerate() {
                if let Some(why) = super::refused::not_an_object(&item).filter(|_| !item.is_null())
                {
                    // kubectl refuses a List item that is no object: listed, never skipped.
                    self.push_error(InputError::in_document(
                        &doc.file,
                        doc.index,
                        format!(
                            "List (document starts at line {}): items[{i}]: {why}",
                            doc.line
                        ),
                    ));
                    continue;
                }
                self.push(Queued {
                    file: doc.file.clone(),
                    value: item,
                    ..doc
                });
            }
            return;
        }
        if let Some(key) = key_of(&doc.value)
            && let Some(earlier) = self.placed.insert(key.clone(), self.queued.len())
            && let Ok(gone) = &self.queued[earlier]
        {
            self.queued[earlier] = Err(superseded(gone, &doc, &key));
        }
        self.queued.push(Ok(doc));
    }

    /// A document that could not be parsed, in its place among the others.
    pub fn push_error(&mut self, e: InputError) {
        self.queued.push(Err(e));
    }

    /// The documents to read and the errors, in order; superseded definitions are errors.
    pub fn into_documents(self) -> impl Iterator<Item = Result<Queued, InputError>> {
        self.queued.into_iter()
    }
}

/// Whether a document must wait for the whole apply set before it is read: a `List` (its
/// items may be), or a kind kvchain reads (a later definition of the same object replaces it).
/// Any other is read at once.
pub(super) fn waits(v: &serde_yaml::Value) -> bool {
    let kind = kind_of(v);
    kind.ends_with("List") || READ.contains(&kind)
}

fn kind_of(v: &serde_yaml::Value) -> &str {
    v.get("kind").and_then(|k| k.as_str()).unwrap_or_default()
}

fn key_of(v: &serde_yaml::Value) -> Option<(String, String, String)> {
    let kind = kind_of(v);
    if !READ.contains(&kind) {
        return None;
    }
    let meta = v.get("metadata")?;
    let name = meta.get("name").and_then(|n| n.as_str())?;
    if name.is_empty() {
        return None;
    }
    let namespace = meta
        .get("namespace")
        .and_then(|n| n.as_str())
        .unwrap_or_default();
    Some((kind.to_string(), namespace.to_string(), name.to_string()))
}

fn superseded(
    gone: &Queued,
    by: &Queued,
    (kind, ns, name): &(String, String, String),
) -> InputError {
    let object = crate::shown::shown_string(match ns.as_str() {
        "" => format!("{kind} {name} (no namespace)"),
        ns => format!("{kind} {ns}/{name}"),
    });
    let again = if gone.file == by.file {
        format!("document {}", by.index)
    } else {
        format!("{}, document {}", by.file.display(), by.index)
    };
    InputError::in_document(
        &gone.file,
        gone.index,
        format!(
            "{object} (document starts at line {}) is defined again in {again}: kubectl apply keeps the last definition, so this one is left out",
            gone.line
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(file: &str, index: usize, text: &str) -> Queued {
        Queued {
            file: Arc::from(Path::new(file)),
            index,
            line: 1,
            value: serde_yaml::from_str(text).expect("yaml"),
        }
    }

    /// The documents kept as `file#index`, and the error messages.
    fn read(set: ApplySet) -> (Vec<String>, Vec<String>) {
        let (kept, left): (Vec<_>, Vec<_>) = set.into_documents().partition(Result::is_ok);
        (
            kept.into_iter()
                .flatten()
                .map(|d| format!("{}#{}", d.file.display(), d.index))
                .collect(),
            left.into_iter()
                .filter_map(Result::err)
                .map(|e| e.to_string())
                .collect(),
        )
    }

    /// The same object in two files: the later is kept, the earlier is named as left out;
    /// the same name in another namespace, of another kind or of a kind kvchain does not read
    /// is another object.
    #[test]
    fn the_last_definition_of_an_object_wins_and_the_earlier_is_named() {
        let mut set = ApplySet::default();
        set.push(doc(
            "a.yaml",
            1,
            "{kind: Pod, metadata: {name: web, namespace: shop}}",
        ));
        set.push(doc(
            "a.yaml",
            2,
            "{kind: Pod, metadata: {name: web, namespace: ops}}",
        ));
        set.push(doc(
            "a.yaml",
            3,
            "{kind: ServiceAccount, metadata: {name: web, namespace: shop}}",
        ));
        set.push(doc("a.yaml", 4, "{kind: ConfigMap, metadata: {name: c}}"));
        set.push(doc("b.yaml", 1, "{kind: ConfigMap, metadata: {name: c}}"));
        set.push(doc(
            "b.yaml",
            2,
            "{kind: Pod, metadata: {name: web, namespace: shop}}",
        ));
        let (kept, left) = read(set);
        assert_eq!(
            left,
            [
                "a.yaml, document 1: Pod shop/web (document starts at line 1) is defined again in b.yaml, document 2: kubectl apply keeps the last definition, so this one is left out"
            ]
        );
        assert_eq!(
            kept,
            ["a.yaml#2", "a.yaml#3", "a.yaml#4", "b.yaml#1", "b.yaml#2"]
        );
    }

    #[test]
    fn a_list_is_read_item_by_item_and_its_items_replace_like_documents() {
        let mut set = ApplySet::default();
        set.push(doc(
            "l.yaml",
            1,
            "{kind: List, items: [{kind: Pod, metadata: {name: p}}, {kind: Pod, metadata: {name: p}}]}",
        ));
        let (kept, left) = read(set);
        assert_eq!(left.len(), 1);
        assert!(left[0].contains("Pod p (no namespace)"), "{}", left[0]);
        assert_eq!(kept, ["l.yaml#1"]);
    }
}
