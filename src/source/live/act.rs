//! Carrying out confirmed actions on the live cluster. The UI has already confirmed (and
//! refused writes in `--read-only`); here the permission is checked and the action run. The
//! attempt is recorded by [`crate::source::audited`], as for every source.

use std::sync::Arc;

use kube::Client;

use crate::action::kube::KubeActions;
use crate::action::restart::RestartPlan;
use crate::action::{Action, ActionOutcome};
use crate::snapshot::Snapshot;

fn refused(message: String) -> ActionOutcome {
    ActionOutcome { ok: false, message }
}

async fn carry_out(
    client: Client,
    latest: Option<Arc<Snapshot>>,
    action: &Action,
) -> ActionOutcome {
    match action {
        Action::Restart { namespace, pod } => {
            let Some(snapshot) = latest else {
                return refused("the cluster is still loading; try again in a moment".into());
            };
            let Some(p) = snapshot
                .pods
                .items
                .iter()
                .find(|p| &p.namespace == namespace && &p.name == pod)
            else {
                return refused(format!("pod {namespace}/{pod} is no longer there"));
            };
            let plan = RestartPlan::for_pod(&snapshot, p);
            let kube = KubeActions::new(client);
            if let Err(why) = kube.check_restart_allowed(&plan).await {
                return refused(why);
            }
            kube.restart(&plan, jiff::Timestamp::now()).await
        }
        Action::Verify { .. } => {
            refused("verify in container is not wired to the live source yet".into())
        }
        Action::Rotate { .. } => {
            refused("the rotation test is not wired to the live source yet".into())
        }
    }
}

/// Runs `action` against the cluster.
pub async fn run(client: Client, latest: Option<Arc<Snapshot>>, action: Action) -> ActionOutcome {
    carry_out(client, latest, &action).await
}
