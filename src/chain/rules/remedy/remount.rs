//! Fixes that remount: a pod deleted so that its new mount fetches the latest versions (and
//! the driver makes the synced Secret again), when rotation is off or has not applied what
//! it should.

use super::restart_set::Restarts;
use super::rotation;
use crate::chain::context::Ctx;
use crate::chain::index::pod_address;
use crate::chain::restart_plan::RestartPlan;
use crate::snapshot::SpcObs;

/// The driver's rotation is known to be off.
pub(crate) fn rotation_off(cx: &Ctx) -> bool {
    cx.cluster()
        .csi_driver
        .known()
        .and_then(|c| c.rotation_enabled.known())
        == Some(&false)
}

/// The driver's rotation poll interval, when rotation is known to be on.
pub(crate) fn rotation_poll(cx: &Ctx) -> Option<std::time::Duration> {
    cx.cluster()
        .csi_driver
        .known()
        .filter(|c| c.rotation_enabled.known() == Some(&true))
        .map(|c| c.rotation_poll_interval)
}

/// Rotation is on but has not applied what it should (a new version, KVC703; an SPC edit,
/// KVC805): the remount now, then the repair the driver log names. The repair depends on what
/// the log says, so it is guidance after the command, in its comment (pasted, the command runs).
pub(crate) fn rotation_stuck_fix(cx: &Ctx) -> String {
    let now = remount(cx);
    let sep = if now.contains('#') { "; " } else { "  # " };
    format!("{now}{sep}{}", rotation::repair(cx))
}

/// The names of the synced Secrets `spc` writes, once each (two entries may name one: KVC807).
fn synced_names(spc: &crate::snapshot::SpcObs) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::with_capacity(spc.secret_objects.len());
    for so in &spc.secret_objects {
        if !names.contains(&so.secret_name.as_str()) {
            names.push(&so.secret_name);
        }
    }
    names
}

/// Delete the pod so that its new mount fetches the latest versions. The SPC's synced Secrets
/// go first: a driver before v1.6 never rewrites an existing Secret at mount, only rotation
/// does (v1.6 at its next reconcile), and every version creates a missing one from the new
/// mount (FACTS §2, §4, §11). `--ignore-not-found`, so the fix
/// of each replica pastes after another's. A pod nothing owns is recreated, not deleted
/// ([`pod_step`]).
///
/// With synced Secrets, no pod is remounted alone: the driver builds the Secret again from
/// whichever mounted pod it reconciles (FACTS §2), so one pod's new mount would leave the old
/// files of the others that mount the SPC beside a Secret of the new value (KVC805), each
/// pod's finding printing its own delete (audit MM1), a bare pod's too (audit NN4). Every pod
/// mounting the SPC restarts, with every env reader of the Secrets ([`restart_all`]): one fix,
/// whichever pod's finding prints it.
pub(crate) fn remount(cx: &Ctx) -> String {
    let ns = cx.ns();
    let secrets = cx.spc.map(synced_names).unwrap_or_default();
    if !secrets.is_empty()
        && let Some(fix) = restart_all(cx, true)
    {
        return fix;
    }
    let (pod, recreated) = pod_step(cx);
    let recreated = recreated.map(|n| format!("; {n}")).unwrap_or_default();
    if secrets.is_empty() {
        return format!("{pod}  # its new mount fetches the latest versions{recreated}");
    }
    format!(
        "kubectl delete secret {} -n {ns} --ignore-not-found && {pod}  # the new mount fetches the latest versions and the driver creates the Secret again from it ({}){recreated}",
        secrets.join(" "),
        crate::chain::synced_writes::AT_MOUNT,
    )
}

/// The command that gives the chain's pod a new mount, and a note when it is not a plain
/// delete. A pod with an owner is deleted and its owner makes a new one. A bare pod is
/// recreated from its own spec, as its restart plan does (the KVC902 fix beside it): a plain
/// delete would leave nothing, since nothing owns it, and the SPCPS and a Secret it owns go
/// with it (FACTS §1, §2; audit DD4). The recreated spec holds the env the webhook injected
/// when the pod was first created: the webhook mutates at CREATE only and never overwrites an
/// env var the spec already sets (FACTS §6).
pub(super) fn pod_step(cx: &Ctx) -> (String, Option<&'static str>) {
    let bare = cx.pod.template_of.is_none()
        && cx.workload.is_none()
        && matches!(
            RestartPlan::for_pod_in(cx.snap(), cx.ix, cx.pod),
            RestartPlan::DeleteBarePod { .. }
        );
    if !bare {
        return (
            format!("kubectl delete pod {} -n {}", cx.pod.name, cx.ns()),
            None,
        );
    }
    (recreate_bare(cx), Some(BARE_RECREATE))
}

/// Whether `fix`, a finding's on a chain of pod `pod` (in `ns`, made by `workload`), gives that
/// pod a new mount: the pod step of [`remount`] ([`pod_step`]: a delete, or the recreate of a
/// pod nothing owns) or its restart ([`super::restart_pod`], [`super::restart`]: its owner's
/// rollout, an Argo Rollout's `restartAt`, a Job's pods deleted). Every volume of the new pod is
/// mounted anew, not only the chain's ([`crate::chain::rules::new_mount`]).
pub(crate) fn renews_mount(fix: &str, ns: &str, pod: &str, workload: Option<(&str, &str)>) -> bool {
    let has = |command: String| fix.contains(&command);
    has(format!("kubectl delete pod {pod} -n {ns}"))
        || has(format!("kubectl get pod {pod} -n {ns} -o yaml |"))
        || workload.is_some_and(|(kind, name)| {
            has(format!(
                "kubectl rollout restart {}/{name} -n {ns}",
                kind.to_ascii_lowercase()
            )) || has(format!("rollout.argoproj.io {name} -n {ns} "))
                || has(format!("kubectl delete pod -n {ns} -l job-name={name}"))
                || rolls_template(fix, ns, kind, name)
        })
}

/// Whether `fix` patches the pod template of workload `kind`/`name` (a label or annotation
/// the webhook reads on CREATE, KVC201/KVC205): the controller rolls new pods out from it.
fn rolls_template(fix: &str, ns: &str, kind: &str, name: &str) -> bool {
    let kind = kind.to_ascii_lowercase();
    [
        format!("kubectl patch {kind} {name} -n {ns} -p '{{\"spec\":{{\"template\""),
        format!("kubectl patch {kind}/{name} -n {ns} -p '{{\"spec\":{{\"template\""),
    ]
    .iter()
    .any(|command| fix.contains(command.as_str()))
}

/// The chain's pod, which nothing owns, recreated from its own spec: its restart plan's command
/// ([`RestartPlan::DeleteBarePod`]) without the plan's note, for the caller to say why.
pub(super) fn recreate_bare(cx: &Ctx) -> String {
    let plan = RestartPlan::DeleteBarePod {
        namespace: cx.ns().to_string(),
        pod: cx.pod.name.to_string(),
    };
    let command = plan.command();
    match command.split_once("  # ") {
        Some((c, _)) => c.to_string(),
        None => command,
    }
}

/// What the bare pod's remount says of its recreate.
const BARE_RECREATE: &str = "nothing owns the pod, so it is recreated from its own spec rather than deleted; the recreated pod keeps the env the webhook injected when it was first created";

/// KVC805's remount: the SPC's synced Secrets deleted, then every pod that read them through
/// env at start restarted, not one pod (audit X3). Env is a start-time snapshot, and a restart
/// alone does not refresh an existing Secret (FACTS §4, §11): each reader of the old Secret
/// keeps its value until it restarts after the Secret is made again. The readers' owners are
/// restarted as their restart plan says (`kubectl rollout restart` of a Deployment), each once;
/// with no env reader, the one pod's remount of [`remount`].
pub(super) fn remount_readers(cx: &Ctx) -> String {
    restart_all(cx, false).unwrap_or_else(|| remount(cx))
}

/// The SPC's synced Secrets deleted, then the restarts of every pod that read them through env
/// and, with `own`, of the chain's pod (its owner's, first: every replica of it mounts anew)
/// and of every other running pod mounting the SPC (the driver may build the Secret again from
/// any of their mounts, FACTS §2). Each owner's pods restart in one command, its note said
/// once ([`Restarts`]). None without synced Secrets, or with nothing to restart.
fn restart_all(cx: &Ctx, own: bool) -> Option<String> {
    let spc = cx.spc?;
    let secrets = synced_names(spc);
    if secrets.is_empty() {
        return None;
    }
    let restarts = chain_restarts(cx, spc, own)?;
    // A restart command may end in a comment: each goes on after the previous one's `&&`
    // only when it has none.
    let delete = format!(
        "kubectl delete secret {} -n {} --ignore-not-found",
        secrets.join(" "),
        cx.ns()
    );
    let who = if own {
        "every pod that mounts the SecretProviderClass, and every pod that read the old Secret through env, restarts"
    } else {
        "every pod that read the old Secret through env restarts"
    };
    let why = format!(
        "# {who}: the new mounts fetch the latest versions, the driver creates the Secret again from them ({}), and env is read at container start",
        crate::chain::synced_writes::AT_MOUNT
    );
    let mut parts = vec![delete.as_str(), why.as_str()];
    parts.extend(restarts.iter().map(String::as_str));
    Some(super::in_turn(&parts))
}

/// The restarts of every pod that read the SPC's synced Secrets through env, the Secrets kept:
/// what follows rotation's rewrite of a Secret, since env keeps the value read at container
/// start (FACTS §4). None with no such reader.
pub(crate) fn env_readers_restart(cx: &Ctx) -> Option<String> {
    let restarts = chain_restarts(cx, cx.spc?, false)?;
    let parts: Vec<&str> = restarts.iter().map(String::as_str).collect();
    Some(super::in_turn(&parts))
}

/// The restart commands of [`restart_all`], the chain's own pod's first (with `own`): the
/// SPC's set is built once per pass and shared by its chains (each of n replicas printing the
/// restarts of all n made a mass remount quadratic), then the chain's pod's command is put
/// first. None with nothing to restart.
fn chain_restarts(cx: &Ctx, spc: &SpcObs, own: bool) -> Option<Vec<String>> {
    // A template (manifests) or a pod on its way out is not among the running pods the set
    // holds: its restarts are built for it alone.
    if own && (cx.pod.template_of.is_some() || cx.pod.retired()) {
        let mut restarts = Restarts::default();
        own_first(cx, &mut restarts);
        add_all(cx, spc, own, &mut restarts);
        return Some(restarts.commands(cx));
    }
    let set = cx.ix.remount_restarts(spc, own, || {
        let mut restarts = Restarts::default();
        add_all(cx, spc, own, &mut restarts);
        restarts.shared(cx)
    });
    if !own {
        return (!set.commands.is_empty()).then(|| set.commands.clone());
    }
    let at = set.entry_of.get(&pod_address(cx.pod)).copied();
    let first = match pod_step(cx) {
        // A bare pod's recreate says more than its plan (the env the webhook injected).
        (recreate, Some(note)) => format!("{recreate}  # {note}"),
        _ => match at {
            Some(at) => set.commands[at].clone(),
            None => {
                let mut restarts = Restarts::default();
                restarts.pod(cx, cx.pod);
                restarts.commands(cx).concat()
            }
        },
    };
    let rest = (set.commands.iter().enumerate()).filter(|&(i, _)| Some(i) != at);
    Some(
        std::iter::once(first)
            .chain(rest.map(|(_, c)| c.clone()))
            .collect(),
    )
}

/// The chain's pod's restart, first: a bare pod's recreate with its note, else its plan.
fn own_first(cx: &Ctx, restarts: &mut Restarts) {
    match pod_step(cx) {
        (recreate, Some(note)) => restarts.pod_by(cx.pod, format!("{recreate}  # {note}")),
        _ => restarts.pod(cx, cx.pod),
    }
}

/// With `own`, every running pod mounting the SPC (the driver may build the Secret again from
/// any of their mounts, FACTS §2); then every pod that reads its synced Secrets through env.
fn add_all(cx: &Ctx, spc: &SpcObs, own: bool, restarts: &mut Restarts) {
    if own {
        let mounting = (cx.ix.pods_mounting(cx.ns(), cx.spc_name))
            .filter(|p| p.template_of.is_none() && !p.retired());
        for p in mounting {
            restarts.pod(cx, p);
        }
    }
    for i in 0..spc.secret_objects.len() {
        let Some(readers) = cx.consumers_of(i) else {
            continue;
        };
        for c in readers
            .list
            .iter()
            .filter(|c| crate::chain::rules::sync::is_env(&c.how))
        {
            restarts.pod(cx, c.pod);
        }
    }
}
