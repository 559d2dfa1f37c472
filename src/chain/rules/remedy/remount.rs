//! Fixes that remount: a pod deleted so that its new mount fetches the latest versions (and
//! the driver makes the synced Secret again), when rotation is off or has not applied what
//! it should.

use super::rotation;
use crate::chain::context::Ctx;

/// The driver's rotation is known to be off.
pub(super) fn rotation_off(cx: &Ctx) -> bool {
    cx.cluster()
        .csi_driver
        .known()
        .and_then(|c| c.rotation_enabled.known())
        == Some(&false)
}

/// Rotation is on but has not applied what it should (a new version, KVC703; an SPC edit,
/// KVC805): the remount now, then the repair the driver log names. The repair depends on what
/// the log says, so it is guidance after the command, in its comment (pasted, the command runs).
pub(crate) fn rotation_stuck_fix(cx: &Ctx) -> String {
    let now = remount(cx);
    let sep = if now.contains('#') { "; " } else { "  # " };
    format!("{now}{sep}{}", rotation::repair(cx))
}

/// Delete the pod so that its new mount fetches the latest versions. The SPC's synced Secrets
/// go first: the driver never rewrites an existing Secret at mount, only rotation does, and it
/// creates a missing one from the new mount (FACTS §4, §11). `--ignore-not-found`, so the fix
/// of each replica pastes after another's.
pub(super) fn remount(cx: &Ctx) -> String {
    let ns = cx.ns();
    let secrets: Vec<&str> = cx
        .spc
        .map(|spc| {
            spc.secret_objects
                .iter()
                .map(|so| so.secret_name.as_str())
                .collect()
        })
        .unwrap_or_default();
    if secrets.is_empty() {
        return format!(
            "kubectl delete pod {} -n {ns}  # its new mount fetches the latest versions",
            cx.pod.name
        );
    }
    format!(
        "kubectl delete secret {} -n {ns} --ignore-not-found && kubectl delete pod {} -n {ns}  # the new mount fetches the latest versions and the driver creates the Secret again from it (it never rewrites an existing one at mount)",
        secrets.join(" "),
        cx.pod.name
    )
}

/// KVC805's remount: the SPC's synced Secrets deleted, then every pod that read them through
/// env at start restarted, not one pod (audit X3). Env is a start-time snapshot, and a restart
/// alone does not refresh an existing Secret (FACTS §4, §11): each reader of the old Secret
/// keeps its value until it restarts after the Secret is made again. The readers' owners are
/// restarted as their restart plan says (`kubectl rollout restart` of a Deployment), each once;
/// with no env reader, the one pod's remount of [`remount`].
pub(super) fn remount_readers(cx: &Ctx) -> String {
    let Some(spc) = cx.spc else {
        return remount(cx);
    };
    let mut restarts: Vec<String> = Vec::new();
    for i in 0..spc.secret_objects.len() {
        let Some((list, _)) = cx.consumers_of(i) else {
            continue;
        };
        for c in list
            .iter()
            .filter(|c| crate::chain::rules::sync::is_env(&c.how))
        {
            let r = super::restart::restart_pod(cx, c.pod);
            if !restarts.contains(&r) {
                restarts.push(r);
            }
        }
    }
    if restarts.is_empty() {
        return remount(cx);
    }
    let secrets: Vec<&str> = (spc.secret_objects.iter())
        .map(|so| so.secret_name.as_str())
        .collect();
    // A restart command may end in a comment: each goes on after the previous one's `&&`
    // only when it has none.
    let mut fix = format!(
        "kubectl delete secret {} -n {} --ignore-not-found",
        secrets.join(" "),
        cx.ns()
    );
    let mut notes: Vec<String> = Vec::new();
    for r in restarts {
        let (cmd, note) = match r.split_once("  # ") {
            Some((c, n)) => (c.to_string(), Some(n.to_string())),
            None => (r, None),
        };
        fix.push_str(" && ");
        fix.push_str(&cmd);
        notes.extend(note);
    }
    notes.insert(
        0,
        "every pod that read the old Secret through env restarts: the new mounts fetch the latest versions, the driver creates the Secret again from them (it never rewrites an existing one at mount), and env is read at container start".to_string(),
    );
    format!("{fix}  # {}", notes.join("; "))
}
