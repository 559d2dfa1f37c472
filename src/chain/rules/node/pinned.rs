//! What in a pod's spec puts it on a node the AKS add-on's DaemonSets do not tolerate (FACTS
//! §11 "Nodes"), for the KVC104 fix to name (audits MM5, NN5): the nodeSelector entries and
//! required node-affinity terms that pin it there, and the tolerations that let it onto the
//! tainted node. A DaemonSet runs a pod on every node its tolerations admit, so for it the
//! toleration alone is the cause; a Deployment's pods may also be pinned.

use super::{requirement, tolerates};
use crate::chain::context::Ctx;
use crate::snapshot::{NodeObs, NodeRequirementObs, PlacementObs, PodObs, TaintObs, TolerationObs};

/// The entries to remove from the pod template, each named as the manifest writes it, and
/// whether the spec's tolerations were read at all (a live pod list has no spec).
pub(super) struct Pinned {
    pub entries: Vec<String>,
    pub tolerations_read: bool,
}

/// The pod's own spec (manifests, lab) for a field it holds, else its workload's template.
fn field<'c, T>(
    cx: &'c Ctx,
    get: impl Fn(&'c PodObs) -> &'c T,
    empty: impl Fn(&T) -> bool,
) -> Option<&'c T> {
    let own = get(cx.pod);
    if !empty(own) {
        return Some(own);
    }
    cx.workload_object
        .and_then(|w| w.template.as_deref())
        .map(get)
        .filter(|t| !empty(t))
}

pub(super) fn pinned(
    cx: &Ctx,
    placement: &[PlacementObs],
    node: &NodeObs,
    taints: &[&TaintObs],
) -> Pinned {
    // Keys the DaemonSets select on themselves (`kubernetes.io/os: linux`) keep the pod where
    // they run too: not a pin.
    let theirs = |k: &str| {
        placement.iter().any(|p| {
            p.node_selector.contains_key(k) || p.affinity.iter().flatten().any(|r| r.key == k)
        })
    };
    let mut entries = Vec::new();
    if let Some(selector) = field(cx, |p| &p.node_selector, |s| s.is_empty()) {
        let pins: Vec<String> = selector
            .iter()
            .filter(|(k, v)| node.labels.get(*k) == Some(*v) && !theirs(k))
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        if !pins.is_empty() {
            entries.push(format!("nodeSelector {}", pins.join(", ")));
        }
    }
    if let Some(terms) = field(cx, |p| &p.node_affinity, |t| t.is_empty()) {
        entries.extend(affinity(terms, node, &theirs));
    }
    let tolerations = field(cx, |p| &p.tolerations, |t| t.is_empty());
    entries.extend(
        tolerations
            .into_iter()
            .flatten()
            .filter(|tol| taints.iter().any(|t| tolerates(tol, t)))
            .map(|tol| format!("toleration {}", toleration_yaml(tol))),
    );
    Pinned {
        entries,
        tolerations_read: tolerations.is_some(),
    }
}

/// The required node-affinity terms (ORed) that pin the pod to `node`: each term the node
/// satisfies with requirements the DaemonSets do not share. None when some term admits the
/// node without such a requirement (the pod is not pinned). A term left empty matches no
/// node, and the API server refuses an empty nodeSelectorTerms, so a term made only of pins
/// goes whole, and the required block goes when every term does.
fn affinity(
    terms: &[Vec<NodeRequirementObs>],
    node: &NodeObs,
    theirs: &dyn Fn(&str) -> bool,
) -> Vec<String> {
    const REQUIRED: &str = "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution";
    let admitting: Vec<(usize, &Vec<NodeRequirementObs>)> = (terms.iter().enumerate())
        .filter(|(_, t)| !t.is_empty() && t.iter().all(|r| requirement(r, node)))
        .collect();
    let pins = |t: &[NodeRequirementObs]| t.iter().filter(|r| !theirs(&r.key)).count();
    if admitting.is_empty() || admitting.iter().any(|(_, t)| pins(t) == 0) {
        return Vec::new();
    }
    let whole = |t: &[NodeRequirementObs]| pins(t) == t.len();
    if admitting.len() == terms.len() && admitting.iter().all(|(_, t)| whole(t)) {
        let shown: Vec<String> = terms.iter().map(|t| term_yaml(t)).collect();
        let its = if terms.len() == 1 {
            "its only term"
        } else {
            "its terms"
        };
        return vec![format!("{REQUIRED} ({its} {})", shown.join(" and "))];
    }
    admitting
        .iter()
        .map(|(i, t)| {
            if whole(t) {
                format!("{REQUIRED}.nodeSelectorTerms[{i}] {}", term_yaml(t))
            } else {
                let shown: Vec<String> = (t.iter().filter(|r| !theirs(&r.key)))
                    .map(requirement_yaml)
                    .collect();
                format!(
                    "{} from {REQUIRED}.nodeSelectorTerms[{i}].matchExpressions",
                    shown.join(" and ")
                )
            }
        })
        .collect()
}

fn term_yaml(t: &[NodeRequirementObs]) -> String {
    let shown: Vec<String> = t.iter().map(requirement_yaml).collect();
    format!("{{matchExpressions: [{}]}}", shown.join(", "))
}

fn requirement_yaml(r: &NodeRequirementObs) -> String {
    match r.operator.as_str() {
        "Exists" | "DoesNotExist" => format!("{{key: {}, operator: {}}}", r.key, r.operator),
        op => format!(
            "{{key: {}, operator: {op}, values: [{}]}}",
            r.key,
            r.values.join(", ")
        ),
    }
}

/// A toleration as a YAML flow mapping, unset fields left out.
fn toleration_yaml(t: &TolerationObs) -> String {
    let fields: Vec<String> = [
        ("key", &t.key),
        ("operator", &t.operator),
        ("value", &t.value),
        ("effect", &t.effect),
    ]
    .iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| format!("{k}: {v}"))
    .collect();
    format!("{{{}}}", fields.join(", "))
}
