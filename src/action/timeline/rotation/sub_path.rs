//! The volumes hop of a file mounted with subPath: a copy bound at container start.

use super::super::steps::StepState;
use super::env::{Held, value_taken};
use super::{RotationWatch, vault_object};
use crate::snapshot::{ContainerObs, ContainerStateObs, PodObs, Snapshot};

impl RotationWatch {
    /// A file container `c` of `pod` mounts with subPath `sub` (from the CSI volume: `csi`,
    /// else from a synced Secret's volume): bound at container start, it never sees rotated
    /// content (FACTS §4). Nothing reaches it; what it holds is judged by fingerprint against
    /// the value the vault holds after the action, as the env hop judges env: the same value
    /// (a re-stamp of the value it took, a restore of it) is unaffected; another value after
    /// a re-stamp was stale before this test.
    pub(super) fn sub_path_state(
        &self,
        s: &Snapshot,
        pod: &PodObs,
        c: &ContainerObs,
        csi: bool,
        sub: &str,
        restamp: bool,
    ) -> StepState {
        let never = format!("subPath {sub} never sees rotated content");
        // What `R` does on this pod, as the env hop says it (audit EEE6): only a new
        // container binds the copy again (FACTS §4).
        let restart = || {
            let plan = crate::chain::restart_plan::RestartPlan::for_pod(s, pod);
            format!(
                "restart needed ({})",
                crate::chain::restart_plan::RestartPlan::key_advice(&[&plan])
            )
        };
        let Some(wanted) = self.new_fingerprint.filter(|_| self.new_version.is_some()) else {
            return if self.new_version.is_some() && !restamp {
                StepState::Never(format!("{never}; {}", restart()))
            } else {
                StepState::Waiting
            };
        };
        let ContainerStateObs::Running { started_at } = &c.state else {
            return StepState::Waiting;
        };
        // The pod's own mount read the vault after the pod was created; a synced Secret is
        // not rewritten at mount (FACTS §11): only its following of the vault bounds it.
        let followed = (s.cluster.csi_driver.known()).and_then(|d| d.followed_since(*started_at));
        let since = if csi {
            pod.created_at.max(followed)
        } else {
            followed
        };
        let took = vault_object(s, &self.vault, &self.object)
            .and_then(|o| value_taken(o, since, *started_at));
        let start = crate::glance::clock(*started_at);
        match (Held::of(took, Some(wanted)), restamp) {
            (Held::Same, true) => StepState::Unaffected(format!(
                "a re-stamp keeps the value, and this copy holds it (read at container start ({start}), compared by fingerprint; {never})"
            )),
            (Held::Same, false) => StepState::Unaffected(format!(
                "this copy already holds the vault's value (read at container start ({start}), compared by fingerprint; {never})"
            )),
            (Held::Other, true) => StepState::Never(format!(
                "stale since container start ({start}), not caused by this test: this copy holds another value than the one re-stamped ({never}); {}",
                restart()
            )),
            (Held::Unknown, true) => StepState::Unknown(format!(
                "whether this copy (read at container start ({start})) holds the re-stamped value is not known; verify in the container (x)"
            )),
            (_, false) => StepState::Never(format!("{never}; {}", restart())),
        }
    }
}
