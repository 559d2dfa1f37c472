//! The restart half of a fix: what restarts a pod (or a workload's pods) for real, as a
//! command. A running pod's restart is the one-key restart's plan ([`RestartPlan`]), so the
//! fix and the action never disagree: `kubectl rollout restart` only where it replaces the
//! pod (never for a paused Deployment, which kubectl refuses), an Argo Rollout's `restartAt`,
//! a delete for any other owner (with what it costs a Job), nothing for a mirror pod. A pod
//! template (manifests, a workload that creates no pod) names no pod: its workload's pods are
//! restarted as its update strategy (or pause) allows.

use super::restart_set::Restarts;
use crate::chain::context::Ctx;
use crate::chain::restart_plan::{Lookup, RestartPlan, SetPods, daemon_rollout};
use crate::snapshot::{PodObs, UpdateObs};

/// Restart the chain's pods so that they read the synced Secret again (or are admitted again
/// by the webhook).
pub(crate) fn restart(cx: &Ctx) -> String {
    restart_of(cx, cx.ns(), cx.pod, cx.workload)
}

/// [`restart_pod`] for a pod or, for a workload's pod template (manifests, a CronJob between
/// runs), for the pods made from it: a template is named after its workload, no pod is.
fn restart_of(cx: &Ctx, ns: &str, pod: &PodObs, workload: Option<(&str, &str)>) -> String {
    if pod.template_of.is_none() {
        return restart_pod(cx, pod);
    }
    match workload {
        // Its next run creates new pods, which are given the change; a run in progress
        // keeps its pods (a pasted command must still succeed: a look, not a restart).
        Some(("CronJob", name)) => format!(
            "kubectl get cronjob {name} -n {ns}  # nothing to restart: its next run creates new pods, which get the change"
        ),
        // The Job controller labels its pods with the Job's name and replaces a deleted one
        // while the Job runs.
        Some(("Job", name)) => format!(
            "kubectl delete pod -n {ns} -l job-name={name}  # pods of Job {name} still running are replaced, each counting as a failure against its backoffLimit; a finished Job runs no more"
        ),
        Some((kind @ ("Deployment" | "StatefulSet" | "DaemonSet"), name)) => {
            // Through the index: a template's chain (a manifest's workload) asks for each of
            // its fixes.
            let update = cx.ix.workload(ns, kind, name);
            if update.is_some_and(|w| w.paused) {
                return paused_template_restart(ns, name, pod);
            }
            if update.is_some_and(|w| w.recreate) {
                return format!(
                    "kubectl rollout restart deployment/{name} -n {ns}  # {}",
                    crate::chain::restart_plan::recreate_note(name)
                );
            }
            // A DaemonSet's rollout says how it goes, naming a pod of it that would stop it,
            // as its pods' restart plan does (the set's pods worked out once per pass).
            let pods = (kind == "DaemonSet").then(|| cx.ix.set_pods(ns, kind, name));
            template_restart(
                ns,
                kind,
                name,
                pod,
                update.and_then(|w| Some((w.update.as_ref()?, w.replicas.unwrap_or(1)))),
                pods.as_deref(),
            )
        }
        Some((kind, name)) => format!(
            "# restart the pods of {kind} {name} in namespace {ns} the way its controller replaces them (kvchain knows no restart for a {kind})"
        ),
        None => restart_pod(cx, pod),
    }
}

/// The pods of workload `kind/name` restarted, from its template: a rollout restart, unless
/// its update strategy (`update`, with the replicas) keeps it from replacing them. A
/// DaemonSet's (`daemon`: its pods) says it replaces them node by node and where a pod not
/// Running and Ready would stop it, in the words of its pods' restart plan (the strategy not
/// observed: under RollingUpdate, the default).
fn template_restart(
    ns: &str,
    kind: &str,
    name: &str,
    template: &PodObs,
    update: Option<(&UpdateObs, i32)>,
    daemon: Option<&SetPods>,
) -> String {
    let command = format!(
        "kubectl rollout restart {}/{name} -n {ns}",
        kind.to_ascii_lowercase()
    );
    let rolled = |known: bool| match daemon {
        Some(pods) => format!(
            "{command}  # {}",
            daemon_rollout(name, pods, known).join(" ")
        ),
        None => command.clone(),
    };
    let Some((update, replicas)) = update else {
        return rolled(false);
    };
    let rollout = command.as_str();
    match (kind, update.on_delete, update.partition) {
        ("StatefulSet" | "DaemonSet", true, _) => {
            match delete_template_pods(ns, kind, name, template, replicas, update.start) {
                Some(delete) => format!(
                    "{delete}  # {kind} {name} has updateStrategy OnDelete: a rollout restart replaces no pod; each deleted pod comes back from the current template"
                ),
                None => format!(
                    "kubectl get pods -n {ns} -o wide  # {kind} {name} has updateStrategy OnDelete: a rollout restart replaces no pod; delete each of its pods for it to make them again"
                ),
            }
        }
        // The partition counts replicas from ordinals.start (UpdateObs::updated_from).
        ("StatefulSet", false, Some(p)) if p > 0 => format!(
            "{rollout} && kubectl delete pod {} -n {ns} --ignore-not-found  # {}: the rollout replaces ordinals {} and up only; the pods below are deleted to restart them (they come back at the StatefulSet's current revision)",
            ordinals(name, update.start, p.min(replicas.max(1))),
            crate::chain::restart_plan::partition_said(p, update.start),
            update.updated_from(),
        ),
        _ => rolled(true),
    }
}

/// StatefulSet `name`'s first `n` pods from ordinal `start` (its pods are `<name>-<ordinal>`),
/// as a command's arguments: by name up to [`NAMED_PODS`] of them, else made when pasted
/// (`seq`), as [`delete_owner_pods`] does. `n` is the workload's own count (replicas, a
/// partition: up to 2^31 - 1): listed whole it made one fix gigabytes (a 60-line manifest
/// aborted `check -f` on a 51 GB allocation).
pub(crate) fn ordinals(name: &str, start: i32, n: i32) -> String {
    let Some((first, last)) = ordinal_range(start, n) else {
        return String::new();
    };
    if last - first >= NAMED_PODS as i64 {
        return format!("$(seq {first} {last} | sed 's/^/{name}-/')");
    }
    named(name, first, last, " ")
}

/// [`ordinals`] in a sentence: "db-0, db-1", or "db-0 to db-999 (1000 pods)" over
/// [`NAMED_PODS`] of them.
pub(crate) fn ordinals_said(name: &str, start: i32, n: i32) -> String {
    let Some((first, last)) = ordinal_range(start, n) else {
        return String::new();
    };
    if last - first >= NAMED_PODS as i64 {
        return format!(
            "{name}-{first} to {name}-{last} ({} pods)",
            last - first + 1
        );
    }
    named(name, first, last, ", ")
}

/// The pods `<name>-<first>` to `<name>-<last>`, each named, joined by `sep`.
fn named(name: &str, first: i64, last: i64, sep: &str) -> String {
    (first..=last)
        .map(|i| format!("{name}-{i}"))
        .collect::<Vec<_>>()
        .join(sep)
}

/// The first and last of `n` ordinals from `start`, the last at most `i32::MAX` (the largest
/// ordinal); None for no pod.
fn ordinal_range(start: i32, n: i32) -> Option<(i64, i64)> {
    let last = (i64::from(start) + i64::from(n) - 1).min(i64::from(i32::MAX));
    (n > 0 && last >= i64::from(start)).then_some((i64::from(start), last))
}

/// The delete of every pod made from the template of StatefulSet or DaemonSet `kind/name`
/// when no pod of it is known by name: a StatefulSet's by ordinal (`replicas` of them from
/// `start`, its `ordinals.start`), a DaemonSet's by its template's labels. None when a
/// DaemonSet's template has no label.
fn delete_template_pods(
    ns: &str,
    kind: &str,
    name: &str,
    template: &PodObs,
    replicas: i32,
    start: i32,
) -> Option<String> {
    if kind == "StatefulSet" {
        return Some(format!(
            "kubectl delete pod {} -n {ns} --ignore-not-found",
            ordinals(name, start, replicas.max(1))
        ));
    }
    if template.labels.is_empty() {
        return None;
    }
    let selector: Vec<String> = template
        .labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    Some(format!(
        "kubectl delete pod -n {ns} -l {}",
        selector.join(",")
    ))
}

/// Most pods a delete names one by one.
pub(super) const NAMED_PODS: usize = 10;

/// The delete of every pod of StatefulSet or DaemonSet `kind/name` of `pod`'s namespace, for
/// an `OnDelete` owner (a deleted pod is made again from the current template): the pods of
/// it the snapshot holds, by name and in name order, as the restart plan deletes one (over
/// [`NAMED_PODS`] of them, selected by their owner reference when pasted)
/// ([`RestartPlan`]); else, for a template (`pod`) whose pods are not known, those its
/// template restart deletes. Also how many pods it deletes (0: not known by name). None when
/// neither names one.
/// `look`: the diagnosis's index (each set's pods worked out once per pass: every broken pod
/// of a big DaemonSet carries this fix), or the snapshot searched ([`Scan`]).
///
/// [`Scan`]: crate::chain::restart_plan::Scan
pub(crate) fn delete_owner_pods<'s>(
    look: &impl Lookup<'s>,
    pod: &PodObs,
    kind: &str,
    name: &str,
) -> Option<(String, usize)> {
    let ns = pod.namespace.as_str();
    let pods = look.owned_pods(ns, kind, name);
    if pods.len() > NAMED_PODS {
        // Every finding of a big owner carries its fix: thousands of names in each would be
        // megabytes per pod. The owner's pods are selected when pasted instead (a
        // StatefulSet's or DaemonSet's pods have it as their one owner).
        return Some((
            format!(
                "kubectl delete pod -n {ns} $(kubectl get pods -n {ns} -o jsonpath='{{.items[?(@.metadata.ownerReferences[0].name==\"{name}\")].metadata.name}}')"
            ),
            pods.len(),
        ));
    }
    if !pods.is_empty() {
        // In name order (the lookup's).
        return Some((
            format!("kubectl delete pod {} -n {ns}", pods.join(" ")),
            pods.len(),
        ));
    }
    // A running pod of another owner names no pod of this one.
    pod.template_of.as_ref()?;
    let object = look.workload(ns, kind, name);
    let replicas = object.and_then(|w| w.replicas).unwrap_or(1);
    let start = object
        .and_then(|w| Some(w.update.as_ref()?.start))
        .unwrap_or(0);
    delete_template_pods(ns, kind, name, pod, replicas, start).map(|d| (d, 0))
}

/// The pods of paused Deployment `name`, restarted from its template: kubectl refuses a
/// rollout restart of a paused Deployment, and the deployment controller rolls out no
/// template change until it is resumed; its ReplicaSets still make a deleted pod again.
fn paused_template_restart(ns: &str, name: &str, template: &PodObs) -> String {
    let why = format!(
        "Deployment {name} is paused (spec.paused): kubectl rollout restart refuses it; its ReplicaSets make each deleted pod again. Or restart it rolling: kubectl rollout resume deployment/{name} -n {ns} && kubectl rollout restart deployment/{name} -n {ns} (resuming also rolls out whatever template change the pause held back)"
    );
    if template.labels.is_empty() {
        return format!("kubectl get pods -n {ns} -o wide  # {why}; delete each of its pods");
    }
    let selector: Vec<String> = template
        .labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    format!(
        "kubectl delete pod -n {ns} -l {}  # {why}. The delete takes them all at once: to keep serving, delete them one at a time",
        selector.join(",")
    )
}

/// Restart every workload running as the chain's service account: the webhook injects its
/// annotations at pod creation only (FACTS §6), so each keeps the old AZURE_CLIENT_ID until
/// replaced. Only those labelled for workload identity: the webhook mutates no other pod (a
/// database sharing `default` is left alone). The chain's own workload is always among them
/// (unlabelled, the fix says to label it first; a template whose pods cannot be created runs
/// none). Every running labelled pod of the account is given its restart, not one per workload:
/// a controller that replaces pods only when deleted (OnDelete, below a partition) needs each
/// of its pods deleted (audit RRR-facts: KVC203's fix deleted web-0 and left web-1 without
/// AZURE_CLIENT_ID). The same for every chain of the account whose pod is among them: once per
/// pass.
pub(crate) fn restart_sa_runners(cx: &Ctx) -> String {
    let among = cx.pod.template_of.is_none() && !cx.pod.retired() && labelled(cx.pod);
    if !among {
        return sa_runners_restart(cx);
    }
    let key = format!("{}/{}", cx.ns(), cx.pod.service_account);
    (cx.ix
        .memo_text("restart_sa_runners", key, || sa_runners_restart(cx)))
    .to_string()
}

/// [`restart_sa_runners`], worked out.
fn sa_runners_restart(cx: &Ctx) -> String {
    let ns = cx.ns();
    let runners = cx.ix.runners_of(ns, &cx.pod.service_account);
    let running = cx.ix.memo_pods(
        "sa_labelled_running",
        format!("{ns}/{}", cx.pod.service_account),
        || sa_labelled_running(cx).map(|(i, _)| i).collect(),
    );
    // A running pod's restart through its owner, once per owner ([`Restarts`], audit NN7).
    let mut restarts = Restarts::default();
    // A bare pod is re-created without the env the webhook injected, which it would keep
    // otherwise and never overwrite ([`reinject_pod`], audit PP3).
    let mut add = |p: &PodObs, workload: Option<(&str, &str)>| match p.template_of {
        None if p.owners.is_empty() => restarts.pod_by(p, reinject_pod(cx, p)),
        None => restarts.pod(cx, p),
        Some(_) => {
            restarts.command(restart_of(cx, ns, p, workload));
        }
    };
    for p in (runners.into_iter().filter(|p| labelled(p))).chain(running) {
        add(p, cx.ix.workload_of(p));
    }
    add(cx.pod, cx.workload);
    joined(restarts.commands(cx))
}

/// Whether the webhook mutates `pod` (FACTS §6: the pod's `azure.workload.identity/use` label).
fn labelled(pod: &PodObs) -> bool {
    (pod.labels.get("azure.workload.identity/use")).is_some_and(|v| v == "true")
}

/// In name order (the same fix whichever chain, and pod order, it is built from), a command's
/// trailing comment last so it swallows none after it; a restart that is only a comment (a
/// mirror pod) runs nothing: all of it is a note.
fn joined(mut commands: Vec<String>) -> String {
    commands.sort_unstable();
    let parts: Vec<&str> = commands.iter().map(String::as_str).collect();
    super::in_turn(&parts)
}

/// The running pods of the chain's service account, labelled for the webhook, that do not hold
/// AZURE_CLIENT_ID `id` (another id, or none seen): once the annotation says `id`, only they
/// need the restart, the webhook injecting at creation only (FACTS §6; audit X5). In name order.
pub(crate) fn sa_pods_not_holding<'a>(cx: &Ctx<'a>, id: &str) -> Vec<&'a PodObs> {
    // The same for every chain of the account: worked out once per pass.
    let (ns, sa) = (cx.ns(), cx.pod.service_account.as_str());
    cx.ix
        .memo_pods("sa_pods_not_holding", format!("{ns}/{sa}/{id}"), || {
            let pods = &cx.snap().pods.items;
            let mut found: Vec<u32> = (sa_labelled_running(cx).map(|(i, _)| i))
                .filter(|&i| {
                    pods.get(i as usize)
                        .and_then(crate::chain::rules::service_account::injected_client_id)
                        .is_none_or(|v| !v.trim().eq_ignore_ascii_case(id.trim()))
                })
                .collect();
            found.sort_by(|a, b| {
                let name = |i: &u32| pods.get(*i as usize).map(|p| p.name.as_str());
                name(a).cmp(&name(b))
            });
            found
        })
}

/// Whether no pod of the chain's service account runs now but a labelled one was seen that
/// finished or is going (a Job's, say): none holds anything, and the next one is created with
/// the annotation's id (audit ZZ4).
pub(crate) fn sa_only_finished(cx: &Ctx) -> bool {
    // The same for every chain of the account: worked out once per pass (the finished
    // labelled pods when none of the account's runs, else none).
    let (ns, sa) = (cx.ns(), cx.pod.service_account.as_str());
    let finished = cx
        .ix
        .memo_pods("sa_only_finished", format!("{ns}/{sa}"), || {
            let of_sa = |(_, p): &(usize, &PodObs)| {
                p.namespace == ns && p.service_account == sa && p.template_of.is_none()
            };
            let pods = cx.snap().pods.items.iter().enumerate();
            if pods.clone().filter(of_sa).any(|(_, p)| !p.retired()) {
                return Vec::new();
            }
            (pods.filter(of_sa))
                .filter(|(_, p)| labelled(p))
                .map(|(i, _)| i as u32)
                .collect()
        });
    !finished.is_empty()
}

/// Whether a pod of the chain's service account labelled for the webhook was seen, running
/// or finished: what the account's pods hold can then be said of a template's chain too, in
/// the words its pods' chains use (one cause, one finding: audit ZZ4).
pub(crate) fn sa_labelled_seen(cx: &Ctx) -> bool {
    let (ns, sa) = (cx.ns(), cx.pod.service_account.as_str());
    let running = cx
        .ix
        .memo_pods("sa_labelled_running", format!("{ns}/{sa}"), || {
            sa_labelled_running(cx).map(|(i, _)| i).collect()
        });
    !running.is_empty() || sa_only_finished(cx)
}

/// The running pods of the chain's service account labelled for the webhook (FACTS §6: the
/// only ones it mutates), with their positions in `snap.pods`.
fn sa_labelled_running<'a>(cx: &Ctx<'a>) -> impl Iterator<Item = (u32, &'a PodObs)> {
    let ns = cx.ns();
    let sa = cx.pod.service_account.as_str();
    (cx.snap().pods.items.iter().enumerate())
        .filter(move |(_, p)| {
            p.namespace == ns && p.service_account == sa && p.template_of.is_none()
        })
        .filter(|(_, p)| !p.retired() && labelled(p))
        .map(|(i, p)| (i as u32, p))
}

/// After the service account's annotation is set to `id`: the restart of the workloads whose
/// running pods do not hold it ([`sa_pods_not_holding`]), or, when every running pod holds it,
/// a note that none is needed. A template (manifests) names no running pod: every workload of
/// the account restarts ([`restart_sa_runners`]).
pub(crate) fn restart_sa_pods_not_holding(cx: &Ctx, id: &str) -> String {
    // Manifests: no pod was created, so none holds anything; every workload of the account
    // is restarted, a bare Pod's chain giving the templates' fix (audit LL14). Unless none of
    // them is labelled: the webhook mutates labelled pods only (FACTS §6), so nothing reads
    // the annotation and no restart changes anything (audit TT3).
    if cx.template || cx.source().kind == crate::snapshot::SourceKind::Manifests {
        let runners = cx.ix.runners_of(cx.ns(), &cx.pod.service_account);
        if !labelled(cx.pod) && !runners.into_iter().any(labelled) {
            return format!(
                "# no restart needed for it: no pod of service account {} is labelled azure.workload.identity/use, so the webhook injects nothing into them; the pods the label fix (KVC201) makes get {id}",
                cx.pod.service_account
            );
        }
        return restart_sa_runners(cx);
    }
    // The same for every chain of the account (in name order): once per pass.
    let key = format!("{}/{}/{id}", cx.ns(), cx.pod.service_account);
    let text = cx.ix.memo_text("restart_sa_pods_not_holding", key, || {
        restart_not_holding(cx, id)
    });
    text.to_string()
}

/// [`restart_sa_pods_not_holding`] on a running cluster, worked out.
fn restart_not_holding(cx: &Ctx, id: &str) -> String {
    let mut restarts = Restarts::default();
    let mut any = false;
    for p in sa_pods_not_holding(cx, id) {
        // Its owner makes an owned pod from the template, which holds no injected env: its
        // restart plan, once per owner ([`Restarts`], audit NN7). A bare pod is recreated
        // without the injected env ([`reinject_pod`]).
        match p.owners.is_empty() {
            true => restarts.pod_by(p, reinject_pod(cx, p)),
            false => restarts.pod(cx, p),
        }
        any = true;
    }
    if any {
        return joined(restarts.commands(cx));
    }
    // No labelled running pod lacks the id: either they hold it, or none is labelled, and an
    // unlabelled pod holds nothing the webhook gave (it mutates labelled pods only, FACTS §6;
    // audit DD6).
    let sa = cx.pod.service_account.as_str();
    if sa_only_finished(cx) {
        return format!(
            "# no restart needed: no pod of service account {sa} runs now (those seen have finished), and the next one is created with AZURE_CLIENT_ID {id} (the webhook injects at pod creation only)"
        );
    }
    if sa_labelled_running(cx).next().is_some() {
        format!(
            "# no restart needed: the running pods of service account {sa} already hold AZURE_CLIENT_ID {id} (the webhook injects at pod creation only)"
        )
    } else {
        format!(
            "# no restart needed for it: no running pod of service account {sa} is labelled azure.workload.identity/use, so none holds an injected AZURE_CLIENT_ID; the pods the label fix (KVC201) makes get {id}"
        )
    }
}

/// The restart of running pod `pod` (a consumer of the chain's Secret need not be the chain's
/// pod): the one-key restart's plan, as a command, looked up through the diagnosis's index.
pub(crate) fn restart_pod(cx: &Ctx, pod: &PodObs) -> String {
    RestartPlan::for_pod_in(cx.snap(), cx.ix, pod).command()
}

/// The variables the workload-identity webhook injects (FACTS §6).
const INJECTED: [&str; 4] = [
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_AUTHORITY_HOST",
];

/// The restart of the chain's pod that has the webhook inject it again ([`reinject_pod`]).
pub(crate) fn reinject(cx: &Ctx) -> String {
    if cx.pod.template_of.is_some() {
        return restart(cx);
    }
    reinject_pod(cx, cx.pod)
}

/// The restart of running pod `pod` that has the webhook inject it again (KVC204, KVC206: the
/// service account's annotation changed). A bare pod is recreated from its own spec, which
/// holds the env the webhook injected when it was created, and the webhook injects a variable
/// only where the name is absent (FACTS §6): `-o yaml | replace --force` alone would bring the
/// old value back (audit DD3). So the injected variables it holds are removed on the way
/// (`kubectl set env --local`, which edits containers) and the webhook injects them anew from
/// the service account; its token volume and mount it replaces in place (same name). Where an
/// init container holds one (`set env` leaves init containers alone), the pod is edited by
/// hand. From a manifest (`check -f`), the running pod is not seen: every variable the webhook
/// injects is removed (audit PP3). Any other pod is restarted as
/// [`restart_pod`] does: its owner makes it from the template, which holds no injected env.
pub(crate) fn reinject_pod(cx: &Ctx, pod: &PodObs) -> String {
    let plan = RestartPlan::for_pod_in(cx.snap(), cx.ix, pod);
    let RestartPlan::DeleteBarePod {
        namespace,
        pod: name,
    } = &plan
    else {
        return plan.command();
    };
    let holds = |c: &crate::snapshot::ContainerObs, n: &str| c.env.iter().any(|e| e.name == n);
    let sets = |n: &str| pod.containers.iter().any(|c| holds(c, n));
    // `check -f` reads the manifest, not the running pod, which holds whatever the webhook
    // injected at its creation: every variable it injects is removed but those the manifest
    // sets itself (audit PP3). Not re-created from the file: it may hold other objects, the
    // ServiceAccount or SecretProviderClass this very fix changed, which apply would revert.
    // (The source, not `pod.file`: a pod sharing its file with other objects has none, TT2.)
    let manifest = cx.source().kind == crate::snapshot::SourceKind::Manifests;
    // A pod without the label was never mutated (FACTS §6: the webhook selects pods by it),
    // so from a manifest it holds nothing injected (audit TT3). A running pod is judged by
    // the env it holds: a label removed after its creation leaves what was injected.
    let injected = !manifest || labelled(pod);
    let held: Vec<&str> = (INJECTED.iter().copied())
        .filter(|n| injected && sets(n) != manifest)
        .collect();
    if held.is_empty() {
        return plan.command();
    }
    let why = match manifest {
        true => {
            "the running pod holds those the webhook injected when it was created (its manifest does not show them), and the webhook never overwrites a variable already set; without them it injects them anew from the service account"
        }
        false => {
            "the webhook injected them when the pod was created and never overwrites a variable already set; without them it injects them anew from the service account"
        }
    };
    if (pod.containers.iter().filter(|c| c.init)).any(|c| held.iter().any(|n| holds(c, n))) {
        return super::edit_pod_owner(
            cx,
            pod,
            None,
            &format!(
                "remove the env entries {} from every container and init container ({why})",
                held.join(", ")
            ),
        );
    }
    let unset: Vec<String> = held.iter().map(|n| format!("{n}-")).collect();
    format!(
        "kubectl get pod {name} -n {namespace} -o yaml | kubectl set env -f - --local -o yaml {} | kubectl replace --force -f -  # recreates the pod (nothing owns it) without {}: {why}",
        unset.join(" "),
        held.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A few ordinals are named; more are made when pasted, or said as a range: a partition
    /// or replicas of 2^31 - 1 is one short text, not two billion names.
    #[test]
    fn ordinals_are_named_up_to_ten_then_a_range() {
        assert_eq!(ordinals("db", 5, 3), "db-5 db-6 db-7");
        assert_eq!(ordinals_said("db", 5, 3), "db-5, db-6, db-7");
        assert_eq!(ordinals("db", 0, 10).split(' ').count(), 10);
        assert_eq!(ordinals("db", 0, 11), "$(seq 0 10 | sed 's/^/db-/')");
        assert_eq!(
            ordinals("db", 0, i32::MAX),
            "$(seq 0 2147483646 | sed 's/^/db-/')"
        );
        assert_eq!(
            ordinals_said("db", 0, i32::MAX),
            "db-0 to db-2147483646 (2147483647 pods)"
        );
        // No ordinal past the largest, none for no pod.
        assert_eq!(ordinals("db", i32::MAX, 5), "db-2147483647");
        assert_eq!(ordinals("db", 3, 0), "");
    }
}
