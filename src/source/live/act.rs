//! Carrying out confirmed actions on the live cluster. The UI has already confirmed (and
//! refused writes in `--read-only`); here the permission is checked, the action run, and the
//! attempt written to the audit log.

use std::path::PathBuf;
use std::sync::Arc;

use kube::Client;

use crate::action::audit::AuditLog;
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

/// Runs `action` and records the attempt; an audit failure is added to the message.
pub async fn run(
    client: Client,
    latest: Option<Arc<Snapshot>>,
    label: String,
    audit_path: Option<PathBuf>,
    action: Action,
) -> ActionOutcome {
    let mut outcome = carry_out(client, latest, &action).await;
    if action.writes() {
        match audit_path.or_else(AuditLog::default_path) {
            Some(path) => {
                if let Err(e) = AuditLog::new(path.clone(), &label).record(&action, &outcome) {
                    outcome.message =
                        format!("{} (audit log {}: {e})", outcome.message, path.display());
                }
            }
            None => {
                outcome.message = format!("{} (no audit log: no data directory)", outcome.message)
            }
        }
    }
    outcome
}
