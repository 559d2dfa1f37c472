//! KVC104's template edit on a StatefulSet under `podManagementPolicy: OrderedReady` (the
//! default) whose pod is stuck on the node without the driver (audit PP4): its controller
//! replaces no pod while one is not Running and Ready (Kubernetes docs, StatefulSet "Forced
//! rollback"), so the edit alone reaches nothing; the fix ends with the stuck pod deleted, as
//! the restart plan deletes such a pod.

use std::time::Duration;

use kvchain::chain::{self, Code, Finding};
use kvchain::source::lab::world::{Stage, Workload, World};
use kvchain::source::lab::{self, export};

use crate::lab_nodes::{CLUSTER, GPU_NODE, GPU_TOLERATION, HEALTHY, SHOP};

/// The healthy checkout as a StatefulSet of 2 (OrderedReady, the default) pinned to the gpu
/// node by a required node affinity and a toleration of its taint, after a minute.
fn pinned_set() -> World {
    let sa = "      serviceAccountName: checkout\n";
    let affinity = "      affinity:\n        nodeAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n            nodeSelectorTerms:\n              - matchExpressions: [{key: agentpool, operator: In, values: [gpu]}]\n";
    let set = HEALTHY
        .replacen("kind: Deployment\n", "kind: StatefulSet\n", 1)
        .replacen(
            sa,
            &format!("{sa}{affinity}      tolerations:\n        - {GPU_TOLERATION}\n"),
            1,
        );
    assert_ne!(set, HEALTHY);
    let sc = lab::scenario::parse(
        "nodes",
        std::path::Path::new("nodes.yaml"),
        &[CLUSTER, SHOP, &set, GPU_NODE].join("\n---\n"),
    )
    .expect("scenario loads");
    let mut w = World::new(sc);
    w.advance(Duration::from_secs(60));
    w
}

fn kvc104(w: &World) -> Vec<Finding> {
    chain::diagnose(&export::snapshot(w))
        .iter()
        .filter(|c| c.pod.starts_with("checkout-"))
        .flat_map(|c| c.findings())
        .filter(|f| f.code == Code::KVC104)
        .cloned()
        .collect()
}

/// `kubectl edit statefulset/checkout` as the fix says: the affinity and the toleration
/// removed from the pod template (a new revision, which the controller then rolls).
fn edit_template(w: &mut World) {
    let key = (
        "StatefulSet".to_string(),
        "shop".to_string(),
        "checkout".to_string(),
    );
    let set: &mut Workload = w.workloads.get_mut(&key).expect("StatefulSet checkout");
    let spec = (set.template_mut().and_then(|t| t.spec.as_mut())).expect("its template");
    spec.affinity = None;
    spec.tolerations = None;
    // The template annotation a rollout restart sets: the lab reconciles the change.
    w.rollout_restart("StatefulSet", "shop", "checkout")
        .unwrap();
}

fn stuck_on_gpu(w: &World) -> bool {
    let p = w.pods.get(&("shop".to_string(), "checkout-0".to_string()));
    p.is_some_and(|p| {
        let node = p.spec.as_ref().and_then(|s| s.node_name.as_deref());
        node == Some("aks-gpu-0000-vmss000000") && !matches!(p.stage, Stage::Running)
    })
}

#[test]
fn kvc104_on_an_ordered_ready_set_deletes_its_stuck_pod_after_the_template_edit() {
    let mut w = pinned_set();
    assert!(
        stuck_on_gpu(&w),
        "checkout-0 waits for a mount on the gpu node"
    );
    let found = kvc104(&w);
    assert!(!found.is_empty(), "checkout-0 on the gpu node");
    let fix = &found[0].fix;
    assert!(
        fix.starts_with(
            "kubectl edit statefulset/checkout -n shop && kubectl delete pod checkout-0 -n shop --ignore-not-found  # "
        ),
        "{fix}"
    );
    assert!(fix.contains("\"Forced rollback\""), "{fix}");
    // The edit alone: the controller waits for checkout-0, which stays where it is.
    edit_template(&mut w);
    w.advance(Duration::from_secs(180));
    assert!(stuck_on_gpu(&w), "the edit alone replaces no pod");
    assert!(!kvc104(&w).is_empty());
    // The fix's delete: checkout-0 is made again from the edited template, off the gpu node.
    w.delete_pod("shop", "checkout-0").unwrap();
    w.advance(Duration::from_secs(180));
    assert!(!stuck_on_gpu(&w));
    assert!(kvc104(&w).is_empty(), "{:#?}", kvc104(&w));
}
