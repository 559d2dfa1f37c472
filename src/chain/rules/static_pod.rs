//! A static pod: a manifest file the kubelet runs on its own, seen in the API as a mirror pod
//! owned by its Node. Kubernetes forbids a static pod's spec to refer to any other API object,
//! a ServiceAccount included (the API server refuses such a mirror), so there is no
//! service-account token for the driver to hand to the provider: workload identity cannot
//! authenticate its mount, and there is no account to annotate or federate.

use super::set;
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::{Link, Status};

/// The ServiceAccount link of a static pod, told here instead of the account's checks (there
/// is no account). False when the pod is not static.
pub(super) fn check(cx: &Ctx, link: &mut Link) -> bool {
    let Some(node) = cx.pod.static_node() else {
        return false;
    };
    // Only workload identity needs the pod's account (the node's identity or a service
    // principal's Secret do not; the latter is refused in a mirror pod by the API server).
    if !super::service_account::workload_identity(cx) {
        set(
            link,
            Status::Ok,
            "static pod: no service account (none needed)",
        );
        return true;
    }
    let client = cx
        .params
        .as_deref()
        .and_then(|p| p.client_id.as_deref())
        .unwrap_or_default();
    link.findings.push(cx.remedied(
        Code::KVC207,
        format!("Pod/{}", cx.pod.name),
        format!(
            "pod {} is a static pod of node {node} (a kubelet manifest; the API holds its mirror): a static pod cannot refer to a ServiceAccount, so no service-account token exists for the driver to exchange and workload identity (clientID {client}) cannot authenticate its mount",
            cx.pod.name
        ),
        vec![
            format!("metadata.ownerReferences: Node/{node}"),
            "spec.serviceAccountName: (none: a static pod may name none)".to_string(),
        ],
    ));
    true
}
