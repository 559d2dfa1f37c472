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
