//! KVC902 for a workload whose Reloader annotation would restart it, where no Reloader runs
//! that watches its namespace's Secrets ([`crate::snapshot::ReloaderFacts`]): the annotation asks, and
//! nothing answers (audit PPP-seeds' "Reloader never observed live").

use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::Finding;
use crate::chain::rules::remedy;
use crate::snapshot::{ClusterFacts, Runs, StrMap, reloader_runs};

/// Why no Reloader restarts the chain's workload, when the snapshot says none does. Not
/// known (a namespace not read, manifests) is not "none": the annotation is then taken to
/// act, as the Consumers link's fact says.
pub(crate) fn no_reloader(cx: &Ctx) -> Option<String> {
    match reloader_runs(cx.cluster().reloader.as_ref(), cx.ns()) {
        Runs::No(why) => Some(why),
        Runs::Yes | Runs::Unknown(_) => None,
    }
}

/// The Consumers link's fact for a Reloader annotation that restarts the reader.
pub(super) fn reloader_fact(cluster: &ClusterFacts, ns: &str) -> String {
    match (
        &cluster.reloader,
        reloader_runs(cluster.reloader.as_ref(), ns),
    ) {
        (None, _) => {
            "Reloader annotation (that a Reloader controller runs in the cluster is not read)"
                .into()
        }
        (Some(_), Runs::Unknown(why)) => {
            format!("Reloader annotation (whether a Reloader restarts it is unknown: {why})")
        }
        (Some(_), _) => format!("Reloader annotation, and a Reloader that watches namespace {ns}"),
    }
}

/// KVC902: the reader's workload is annotated for Reloader but no Reloader acts on it (`why`).
/// The fix runs one (or corrects the one seen), and restarts the pods meanwhile.
pub(super) fn not_running(cx: &Ctx, secrets: &[&str], ann: &StrMap, why: String) -> Finding {
    let who = cx.owner_resource();
    let ns = cx.ns();
    let seen = cx
        .cluster()
        .reloader
        .as_ref()
        .map_or(&[][..], |r| &r.seen[..]);
    let run_one = match seen.first() {
        None => "helm upgrade --install reloader reloader --repo https://stakater.github.io/stakater-charts -n reloader --create-namespace".to_string(),
        // Scaled to 0: scaling it back is the whole change.
        Some(r) if r.replicas == Some(0) => format!(
            "kubectl scale deployment/{} -n {} --replicas=1",
            r.name, r.namespace
        ),
        Some(r) => format!(
            "kubectl edit deployment/{} -n {}  # let Reloader watch namespace {ns}'s Secrets ({why})",
            r.name, r.namespace
        ),
    };
    cx.finding(
        Code::KVC902,
        who.clone(),
        format!(
            "{who} reads synced Secret {} through env, and its Reloader annotation asks for a restart when it changes, but no Reloader acts on it: {why}; env keeps the value from container start",
            secrets.join(", ")
        ),
        vec![
            format!("reloader: {why}"),
            format!("annotations: {:?}", ann.keys().collect::<Vec<_>>()),
        ],
        "kubectl get deployments -A -o 'custom-columns=NAMESPACE:.metadata.namespace,NAME:.metadata.name,READY:.status.readyReplicas,IMAGE:.spec.template.spec.containers[*].image,ARGS:.spec.template.spec.containers[*].args' | grep -E 'NAMESPACE|stakater/reloader'".to_string(),
        format!(
            "{run_one}  # until one acts, after each rotation: {}",
            remedy::restart(cx)
        ),
    )
}
