//! What a chain is named by in the tree and the pane titles. Most chains start at a pod; a
//! chain no pod starts ([`crate::chain`]'s orphans: an Ingress whose TLS names a synced Secret
//! that no pod mounts) has an empty pod name, so it is named by the object it is about
//! (`Ingress/edge`), and it is no pod to count, restart or verify.

use std::borrow::Cow;

use crate::chain::Chain;

/// Whether a pod starts the chain (an Ingress's does not).
pub fn has_pod(c: &Chain) -> bool {
    !c.pod.is_empty()
}

/// The pod's name, else `Kind/name` of what the chain is about.
pub fn name(c: &Chain) -> Cow<'_, str> {
    if has_pod(c) {
        return Cow::Borrowed(c.pod.as_str());
    }
    match &c.workload {
        Some(w) => Cow::Owned(format!("{}/{}", w.kind, w.name)),
        None => Cow::Borrowed("(no pod)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::WorkloadRef;
    use crate::ui::testing::healthy_chain;

    #[test]
    fn a_chain_without_a_pod_is_named_by_what_it_is_about() {
        let c = healthy_chain("shop", Some("checkout"), "checkout-1");
        assert!(has_pod(&c));
        assert_eq!(name(&c), "checkout-1");
        let mut orphan = c.clone();
        orphan.pod = Default::default();
        orphan.workload = Some(WorkloadRef {
            kind: "Ingress".into(),
            name: "edge".into(),
        });
        assert!(!has_pod(&orphan));
        assert_eq!(name(&orphan), "Ingress/edge");
        orphan.workload = None;
        assert_eq!(name(&orphan), "(no pod)");
    }
}
