//! The documents of every input file in `kubectl apply` order, one per object: an object
//! defined twice (the same kind, namespace and name, in one file or two) is applied twice and
//! the last definition is what the cluster holds. The earlier one is left out, and said so.
//!
//! A SecretProviderClass written without a namespace is applied with `-n` into the namespace
//! of the pods that name it (README `check -f`), so two such documents of one name are one
//! object only where they land in one namespace: each is taken to land where the pods of its
//! own file that name it are (a pod itself without a namespace: `default`, where kvchain puts
//! it), and documents whose files' pods are in different namespaces are different objects,
//! both read, each kept to its own namespaces (audit TT5).

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

use crate::input::InputError;

/// One document (or one item of a `List`) waiting to be read.
pub(super) struct Queued {
    pub file: Arc<Path>,
    /// 1-based document number in its file.
    pub index: usize,
    /// 1-based line where the document starts.
    pub line: usize,
    /// A List item's place in its document (`items[2]`, `items[0].items[1]`).
    pub item: Option<String>,
    pub value: serde_yaml::Value,
    /// For a namespace-less SecretProviderClass kept beside another of its name: the
    /// namespaces it is applied into (its file's pods that name it), the only ones it serves.
    pub home: Option<BTreeSet<String>>,
    /// A kind-less document of a file named on the command line that holds nothing else: it
    /// is refused ([`super::refused::kindless`]).
    pub kindless_alone: bool,
}

#[derive(Default)]
pub(super) struct ApplySet {
    /// In read order; an error where a document could not be parsed or where a later
    /// definition of the same object replaced it (so errors are listed in file order).
    queued: Vec<Result<Queued, InputError>>,
    /// (kind, namespace as written, name) → position in `queued`.
    placed: HashMap<(String, String, String), usize>,
    /// Positions of namespace-less SecretProviderClasses: whether one replaces another of its
    /// name depends on where each lands, told once every document is queued.
    floating_spcs: Vec<usize>,
    /// Where List items refused here may define pods ([`super::unread::pods_of`]).
    pub unread_pods: Vec<Option<String>>,
    /// Each superseded definition, kept: (position of the later one, its own position, it).
    /// kubectl apply leaves it in place when the API server refuses the later one.
    held: Vec<(usize, usize, Queued)>,
}

/// The queued documents in order and the superseded definitions held back ([`ApplySet::held`]).
pub(super) type Parts = (Vec<Result<Queued, InputError>>, Vec<(usize, usize, Queued)>);

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
        let typed = typed_list(&doc.value);
        if kind_of(&doc.value).ends_with("List")
            && let Some(items) = doc.value.get_mut("items").and_then(|i| i.as_sequence_mut())
        {
            // Taken, not cloned: a large List would otherwise be held twice.
            for (i, mut item) in std::mem::take(items).into_iter().enumerate() {
                typed.fill(&mut item);
                let why = match super::refused::not_an_object(&item) {
                    Some(why) if !item.is_null() => Some(why),
                    // kubectl gives a plain List's item no kind: "Object 'Kind' is missing".
                    None if item.is_mapping() && kind_of(&item).is_empty() => {
                        self.unread_pods.extend(super::unread::pods_of(&item));
                        Some(super::refused::KIND_MISSING.to_string())
                    }
                    _ => None,
                };
                if let Some(why) = why {
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
                let place = match &doc.item {
                    Some(list) => format!("{list}.items[{i}]"),
                    None => format!("items[{i}]"),
                };
                self.push(Queued {
                    file: doc.file.clone(),
                    item: Some(place),
                    value: item,
                    home: None,
                    ..doc
                });
            }
            return;
        }
        if let Some(key) = key_of(&doc.value)
            && key.0 == "SecretProviderClass"
            && key.1.is_empty()
        {
            self.floating_spcs.push(self.queued.len());
        } else if let Some(key) = key_of(&doc.value)
            && let Some(earlier) = self.placed.insert(key.clone(), self.queued.len())
            && let Ok(gone) = &self.queued[earlier]
        {
            let why = Err(superseded(gone, &doc, &key));
            if let Ok(gone) = std::mem::replace(&mut self.queued[earlier], why) {
                self.held.push((self.queued.len(), earlier, gone));
            }
        }
        self.queued.push(Ok(doc));
    }

    /// A document that could not be parsed, in its place among the others.
    pub fn push_error(&mut self, e: InputError) {
        self.queued.push(Err(e));
    }

    /// The documents to read and the errors, in order (superseded definitions are errors),
    /// and the superseded definitions themselves.
    pub fn into_parts(mut self) -> Parts {
        self.part_floating_spcs();
        (self.queued, self.held)
    }

    /// Namespace-less SecretProviderClasses of one name: a document is left out when a later
    /// one lands in a namespace it lands in, or when where either lands is not told (no pod of
    /// its file names it: one apply set, one namespace, as for any object). Two or more left
    /// of one name each keep to the namespaces of their own files' pods.
    fn part_floating_spcs(&mut self) {
        if self.floating_spcs.len() < 2 {
            return;
        }
        // (file, namespace, SecretProviderClass names its volumes mount) of every pod-making
        // document, and the documents of each name, in order.
        let mounts: Vec<(&Path, String, BTreeSet<&str>)> = (self.queued.iter())
            .flatten()
            .filter_map(|q| {
                let names = mounted_spcs(&q.value);
                (!names.is_empty()).then(|| (&*q.file, namespace_or_default(&q.value), names))
            })
            .collect();
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        for &i in &self.floating_spcs {
            if let Ok(q) = &self.queued[i]
                && let Some((_, _, name)) = key_of(&q.value)
            {
                by_name.entry(name).or_default().push(i);
            }
        }
        let mut homes: HashMap<usize, BTreeSet<String>> = HashMap::new();
        let mut gone: Vec<(usize, usize)> = Vec::new();
        for (name, docs) in by_name.iter().filter(|(_, d)| d.len() > 1) {
            let home = |i: usize| -> BTreeSet<String> {
                let Ok(q) = &self.queued[i] else {
                    return BTreeSet::new();
                };
                (mounts.iter())
                    .filter(|(file, _, names)| *file == &*q.file && names.contains(name.as_str()))
                    .map(|(_, ns, _)| ns.clone())
                    .collect()
            };
            let docs_homes: Vec<(usize, BTreeSet<String>)> =
                docs.iter().map(|&i| (i, home(i))).collect();
            let mut kept = Vec::new();
            for (k, (i, h)) in docs_homes.iter().enumerate() {
                let same = |o: &BTreeSet<String>| h.is_empty() || o.is_empty() || !h.is_disjoint(o);
                match docs_homes[k + 1..].iter().find(|(_, o)| same(o)) {
                    Some((j, _)) => gone.push((*i, *j)),
                    None => kept.push((*i, h.clone())),
                }
            }
            if kept.len() > 1 {
                homes.extend(kept);
            }
        }
        for (i, j) in gone {
            let (Ok(earlier), Ok(later)) = (&self.queued[i], &self.queued[j]) else {
                continue;
            };
            let Some(key) = key_of(&earlier.value) else {
                continue;
            };
            let why = Err(superseded(earlier, later, &key));
            if let Ok(gone) = std::mem::replace(&mut self.queued[i], why) {
                self.held.push((j, i, gone));
            }
        }
        for (i, home) in homes {
            if let Ok(q) = &mut self.queued[i] {
                q.home = Some(home);
            }
        }
    }
}

/// The namespace a document is written in, `default` without one (where kvchain puts a pod
/// written without one that names a namespace-less SecretProviderClass: they land together).
fn namespace_or_default(v: &serde_yaml::Value) -> String {
    v.get("metadata")
        .and_then(|m| m.get("namespace"))
        .and_then(|n| n.as_str())
        .unwrap_or("default")
        .to_string()
}

/// The SecretProviderClasses the csi volumes of a pod-making document's pod spec name.
fn mounted_spcs(v: &serde_yaml::Value) -> BTreeSet<&str> {
    const SPECS: [&[&str]; 4] = [
        &["spec"],
        &["spec", "template", "spec"],
        &["spec", "jobTemplate", "spec", "template", "spec"],
        &["spec", "jobTargetRef", "template", "spec"],
    ];
    if !matches!(
        kind_of(v),
        "Deployment"
            | "StatefulSet"
            | "DaemonSet"
            | "ReplicaSet"
            | "Job"
            | "CronJob"
            | "Pod"
            | "Rollout"
            | "ScaledJob"
    ) {
        return BTreeSet::new();
    }
    SPECS
        .iter()
        .filter_map(|path| path.iter().try_fold(v, |at, k| at.get(k)))
        .filter_map(|spec| spec.get("volumes")?.as_sequence())
        .flatten()
        .filter_map(|vol| {
            vol.get("csi")?
                .get("volumeAttributes")?
                .get(crate::chain::index::SPC_ATTRIBUTE)?
                .as_str()
        })
        .collect()
}

/// Whether a document must wait for the whole apply set before it is read: a `List` (its
/// items may be), or a kind kvchain reads (a later definition of the same object replaces it).
/// Any other is read at once.
pub(super) fn waits(v: &serde_yaml::Value) -> bool {
    let kind = kind_of(v);
    kind.ends_with("List") || READ.contains(&kind)
}

/// What a typed List (`DeploymentList`, as the API writes it: `kubectl get --raw …`) gives
/// its items: kubectl's unstructured decoder sets an item's missing kind to the List's kind
/// without `List`, and its missing apiVersion to the List's (audit XX3). A plain `List` gives
/// nothing.
pub(super) struct TypedList {
    kind: Option<String>,
    api_version: Option<serde_yaml::Value>,
}

pub(super) fn typed_list(list: &serde_yaml::Value) -> TypedList {
    let kind = kind_of(list)
        .strip_suffix("List")
        .filter(|k| !k.is_empty())
        .map(String::from);
    TypedList {
        api_version: kind.as_ref().and_then(|_| list.get("apiVersion").cloned()),
        kind,
    }
}

impl TypedList {
    fn fill(&self, item: &mut serde_yaml::Value) {
        let (Some(kind), Some(map)) = (&self.kind, item.as_mapping_mut()) else {
            return;
        };
        if kind_of_map(map).is_empty() {
            map.insert("kind".into(), kind.as_str().into());
        }
        if let Some(v) = &self.api_version
            && map.get("apiVersion").is_none()
        {
            map.insert("apiVersion".into(), v.clone());
        }
    }
}

fn kind_of_map(m: &serde_yaml::Mapping) -> &str {
    m.get("kind").and_then(|k| k.as_str()).unwrap_or_default()
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
            item: None,
            value: serde_yaml::from_str(text).expect("yaml"),
            home: None,
            kindless_alone: false,
        }
    }

    /// The documents kept as `file#index`, and the error messages.
    fn read(set: ApplySet) -> (Vec<String>, Vec<String>) {
        let (kept, left): (Vec<_>, Vec<_>) =
            set.into_parts().0.into_iter().partition(Result::is_ok);
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
