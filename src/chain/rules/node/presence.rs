//! Whether the driver (and the Azure provider) run on a node the DaemonSets' placement keeps
//! them off by NoSchedule taints only (audit L4). Such a taint keeps new pods off a node and
//! evicts none: the Kubernetes API's `TaintEffectNoSchedule` "Do not allow new pods to
//! schedule onto the node unless they tolerate the taint, but allow all pods submitted to
//! Kubelet without going through the scheduler to start, and allow all already-running pods
//! to continue running", against `TaintEffectNoExecute` "Evict any already-running pods that
//! do not tolerate the taint". A taint added to a pool after the driver's pods were placed
//! (`az aks nodepool update --node-taints`) leaves them running, so placement alone cannot
//! say the driver is absent there (FACTS §11 "Nodes": presence is per node, not per cluster).
//! What can: the driver's DaemonSet pods on that node, or a success of the driver there now.

use super::super::provider::{self, Provider};
use crate::chain::context::Ctx;
use crate::chain::index::{HashSet, SPC_ATTRIBUTE};
use crate::snapshot::{CsiDriverFacts, PlacementObs, PodObs, VolumeSourceObs};

/// What is known of the driver on the pod's node.
pub(super) enum Presence {
    /// It runs there: the evidence (its ready pods, a recent success).
    Runs(String),
    /// Its pods were read and none of a kind this chain needs is ready there: each such kind.
    Gone(Vec<Gone>),
    /// Nothing read says either way: why the driver's pods are unknown (the gap's reason).
    Unread(String),
}

/// A kind of the driver's pods this chain needs that is not ready on the node.
pub(super) struct Gone {
    /// The Azure provider's (else the driver's).
    pub provider: bool,
    /// Its pod on the node that is not ready; `None`: it has none there.
    pub not_ready: Option<String>,
}

impl Gone {
    fn what(&self) -> &'static str {
        if self.provider {
            "Azure provider"
        } else {
            "Secrets Store CSI driver"
        }
    }
}

/// The driver's (and, for an Azure chain, the provider's) presence on `node`: from their
/// DaemonSet pods when read, else from a success of the driver on the node within two
/// rotation polls (a rotation completed on, or an SPCPS written for, a pod of the node).
pub(super) fn on_node(
    cx: &Ctx,
    csi: &CsiDriverFacts,
    placement: &[PlacementObs],
    node: &str,
) -> Presence {
    let azure = provider::is_azure(cx);
    // The kinds whose DaemonSets were observed (a kind not observed is the cluster-wide
    // checks' to judge).
    let kinds: Vec<bool> = [false, true]
        .into_iter()
        .filter(|&p| (!p || azure) && placement.iter().any(|s| s.provider == p))
        .collect();
    if let Some(pods) = csi.driver_pods.known() {
        let mut seen = Vec::new();
        let mut gone = Vec::new();
        for &p in &kinds {
            let what = if p { "Azure provider" } else { "driver" };
            match pods
                .iter()
                .find(|d| d.provider == p && d.node == node && d.ready)
            {
                Some(d) => seen.push(format!("{what} pod {} ready on it", d.name)),
                None => gone.push(Gone {
                    provider: p,
                    not_ready: (pods.iter())
                        .find(|d| d.provider == p && d.node == node)
                        .map(|d| d.name.to_string()),
                }),
            }
        }
        return if gone.is_empty() {
            Presence::Runs(seen.join(", "))
        } else {
            Presence::Gone(gone)
        };
    }
    if let Some(seen) = runs_now(cx, node, azure) {
        return Presence::Runs(seen);
    }
    Presence::Unread(
        csi.driver_pods
            .unknown_reason()
            .unwrap_or_default()
            .to_string(),
    )
}

/// The newest success of the driver on `node` within two rotation polls of now, said as
/// evidence: a rotation completed on a pod of the node (the rotation reconciler runs in the
/// driver pod of the pod's node, FACTS §4; `SecretRotationComplete` is emitted after every
/// successful patch step, FACTS §3), or a mounted SPCPS of one written (after a successful
/// provider mount or rotation, FACTS §1). Pods of the chain's namespace only: a chain reads no
/// other namespace's objects. For an Azure chain only successes through an Azure SPC count
/// (they prove the provider as well).
fn runs_now(cx: &Ctx, node: &str, azure: bool) -> Option<String> {
    let ns = cx.ns();
    let poll = cx
        .cluster()
        .csi_driver
        .known()
        .map_or(std::time::Duration::from_secs(120), |c| {
            c.rotation_poll_interval
        });
    let through = |spc: &str| {
        !azure
            || cx
                .ix
                .spcs
                .get(&(ns, spc))
                .is_some_and(|s| provider::of(s) == Provider::Azure)
    };
    let peers: Vec<&PodObs> = pods_on(cx.snap().pods.items.iter(), ns, node).collect();
    let names: HashSet<&str> = peers.iter().map(|p| p.name.as_str()).collect();
    let rotated = peers
        .iter()
        .filter(|p| spcs_of(p).any(through))
        .flat_map(|p| {
            cx.ix
                .pod_events
                .get(&(ns, p.name.as_str()))
                .into_iter()
                .flatten()
        })
        .filter(|e| {
            matches!(
                e.reason.as_str(),
                "MountRotationComplete" | "SecretRotationComplete"
            )
        })
        .filter_map(|e| {
            e.last_seen
                .map(|t| (t, format!("{} on pod {}", e.reason, e.involved_name)))
        })
        .max_by_key(|(t, _)| *t);
    let written = cx
        .snap()
        .spc_statuses
        .items
        .iter()
        .filter(|s| {
            s.namespace == ns
                && s.mounted
                && names.contains(s.pod_name.as_str())
                && through(&s.spc_name)
        })
        .filter_map(|s| {
            s.updated_at
                .map(|t| (t, format!("SPCPS {} written", s.name)))
        })
        .max_by_key(|(t, _)| *t);
    let (t, what) = match (rotated, written) {
        (Some(r), Some(w)) => {
            if r.0 >= w.0 {
                r
            } else {
                w
            }
        }
        (r, w) => r.or(w)?,
    };
    let quiet = jiff::SignedDuration::try_from(poll * 2).ok()?;
    let stale = t
        .checked_add(quiet)
        .is_ok_and(|due| cx.ix.clock().after(due));
    (!stale).then(|| format!("{what} at {}", crate::glance::time(t)))
}

/// The pods of `ns` bound to `node`.
pub(crate) fn pods_on<'p>(
    pods: impl Iterator<Item = &'p PodObs>,
    ns: &'p str,
    node: &'p str,
) -> impl Iterator<Item = &'p PodObs> {
    pods.filter(move |p| p.namespace == ns && p.node.as_deref() == Some(node))
}

/// The SecretProviderClasses a pod's CSI volumes name.
fn spcs_of(pod: &PodObs) -> impl Iterator<Item = &str> {
    pod.volumes.iter().filter_map(|v| match &v.source {
        VolumeSourceObs::Csi { attributes, .. } => {
            attributes.get(SPC_ATTRIBUTE).map(|s| s.as_str())
        }
        _ => None,
    })
}

/// KVC104 for a pod on a node the driver's DaemonSets admit (no placement keeps them off)
/// where a pod of theirs that this chain needs is there and not ready: the node's mounts fail
/// all the same (FACTS §11 "Nodes": presence is per node). None while they run there, or
/// their pods were not read. A kind with no pod on such a node at all is not judged: its
/// DaemonSet places one there (a node just added), and the pod list says nothing of why not.
pub(super) fn admitted_but_unready(
    cx: &Ctx,
    csi: &CsiDriverFacts,
    placement: &[PlacementObs],
    node: &crate::snapshot::NodeObs,
    proven: bool,
) -> Option<crate::chain::model::Finding> {
    csi.driver_pods.known()?;
    let Presence::Gone(gone) = on_node(cx, csi, placement, &node.name) else {
        return None;
    };
    let unready: Vec<Gone> = (gone.into_iter())
        .filter(|g| g.not_ready.is_some())
        .collect();
    if unready.is_empty() {
        return None;
    }
    Some(gone_finding(
        cx,
        &node.name,
        &unready,
        &[],
        vec![super::node_line(node)],
        String::new(),
        proven,
    ))
}

/// KVC104 from the driver's pods read on a node its DaemonSets are kept off by NoSchedule
/// taints (audit AA3): each kind this chain needs that is missing there, or there and not
/// ready, with the mount error of that kind (FACTS §11: a node without the driver, without the
/// provider), never "its scheduling constraints exclude the node" for a pod that is there.
/// `taints` are the node's taints the DaemonSets do not tolerate (none: a node they admit,
/// [`admitted_but_unready`]); `evidence` what was seen of
/// the node; `fix` the placement fix (for kinds with no pod there); `proven` the pod mounted
/// and running, so what fails is rotation and the next mount on the node (a warning).
pub(super) fn gone_finding(
    cx: &Ctx,
    node: &str,
    gone: &[Gone],
    taints: &[String],
    mut evidence: Vec<String>,
    fix: String,
    proven: bool,
) -> crate::chain::model::Finding {
    use crate::chain::catalog::Code;
    let error = |g: &Gone| match g.provider {
        true => super::NO_PROVIDER,
        false => super::NO_DRIVER,
    };
    let parts: Vec<String> = gone
        .iter()
        .map(|g| match &g.not_ready {
            Some(pod) => format!(
                "its {} pod {pod} is not ready (mounts fail with \"{}\" until it is)",
                g.what(),
                error(g)
            ),
            None => format!(
                "no {} pod runs (mounts fail with \"{}\"), and its taint {} keeps a new one from being placed",
                g.what(),
                error(g),
                taints.join(", ")
            ),
        })
        .collect();
    evidence.extend(gone.iter().map(|g| match &g.not_ready {
        Some(pod) => format!("{} pod {pod} on node {node}: not ready", g.what()),
        None => format!(
            "no {} pod on node {node} among the DaemonSets' pods read",
            g.what()
        ),
    }));
    let unready: Vec<&str> = gone.iter().filter_map(|g| g.not_ready.as_deref()).collect();
    let confirm = match unready.as_slice() {
        [] => {
            format!("kubectl get pods -n kube-system -o wide --field-selector spec.nodeName={node}")
        }
        pods => pods
            .iter()
            .map(|p| format!("kubectl describe pod -n kube-system {}", pod_name(p)))
            .collect::<Vec<_>>()
            .join(" && "),
    };
    // A pod that is there and not ready is repaired where it is: deleting it would not bring
    // a replacement (the taint keeps new pods off the node).
    let fix = match (
        unready.is_empty(),
        gone.iter().all(|g| g.not_ready.is_some()),
    ) {
        (true, _) => fix,
        // No taint keeps them off: the DaemonSet replaces a pod deleted there, so what to
        // repair is why it is not ready, which its log says.
        (false, true) if taints.is_empty() => format!(
            "# see why {} is not ready and repair that: {}",
            unready.join(" and "),
            unready
                .iter()
                .map(|p| format!(
                    "kubectl logs -n kube-system {} --all-containers --tail=50",
                    pod_name(p)
                ))
                .collect::<Vec<_>>()
                .join(" ; ")
        ),
        (false, true) => format!(
            "# see why {} is not ready (kubectl logs -n kube-system POD --all-containers) and repair it in place; do not delete it: taint {} keeps a replacement off the node",
            unready.join(" and "),
            taints.join(", ")
        ),
        (false, false) => crate::chain::rules::remedy::in_turn(&[
            &fix,
            &format!(
                "# and see why {} is not ready (kubectl logs -n kube-system POD --all-containers), without deleting it",
                unready.join(" and ")
            ),
        ]),
    };
    // One cause for a workload's pods on the node: one finding (audit MM5).
    let who = match super::workload_on_node(cx, node, proven, &mut evidence) {
        Some((kind, name)) => super::pods_of(kind, name, "are", "is"),
        None => format!("pod {} is", cx.pod.name),
    };
    let now = if proven {
        "; this pod's volume is mounted and it runs, so what fails is rotation and every new mount on the node"
    } else {
        ""
    };
    let mut f = cx.finding(
        Code::KVC104,
        format!("Node/{node}"),
        format!("{who} on node {node}, where {}{now}", parts.join("; ")),
        evidence,
        confirm,
        fix,
    );
    if proven {
        f.severity = crate::chain::model::Severity::Warning;
    }
    f
}

/// A driver pod's name as kubectl takes it with `-n kube-system`: the snapshot keeps it as
/// `kube-system/<name>`, which kubectl would read as a `TYPE/NAME`.
fn pod_name(pod: &str) -> &str {
    pod.split_once('/').map_or(pod, |(_, name)| name)
}
