//! Reloader's SecretProviderClass annotations (`secretproviderclass.reloader.stakater.com/
//! auto`, `…/reload: "<spc>"`): they act only when the Reloader runs with
//! `--enable-csi-integration=true` (default false), and then on changes of the
//! SecretProviderClassPodStatus of the pods mounting the SPC, which the driver makes only with
//! secret rotation on (FACTS §10, §1; [R] `internal/pkg/cmd/reloader.go`
//! shouldRunCSIController). The verdict follows the Reloader seen acting on the namespace
//! (audit XA-left: KVC902 named the flag even where a Reloader ran with it).

use crate::chain::context::Ctx;
use crate::snapshot::{ClusterFacts, Runs, Watched, reloader_acting_for, reloader_runs_for};

/// What the SecretProviderClass annotations do for the chain's workload.
pub(crate) enum Csi {
    /// The Reloader acting on the namespace runs with the flag, and rotation is on: it
    /// restarts the workload when the mounted objects rotate.
    Restarts,
    /// Not known, for this reason (no Reloader read, rotation not read): no finding.
    Unknown(String),
    /// No Reloader acts on the namespace (why).
    NoReloader(String),
    /// One does, but what the annotation needs is off.
    Off(Off),
}

/// What keeps a Reloader seen from acting on the SecretProviderClass annotation.
pub(crate) enum Off {
    /// It runs without `--enable-csi-integration=true`: `who`.
    Flag(String),
    /// It runs with it, but the driver's rotation is off, so no status changes.
    Rotation(String),
}

/// The verdict for the chain's namespace, from the Reloader seen.
pub(super) fn verdict(cx: &Ctx) -> Csi {
    verdict_in(cx.cluster(), cx.ns())
}

/// [`verdict`] for namespace `ns` of a cluster: the rotation timeline reads the same one
/// (audit XB-left), so `r` and KVC902 cannot disagree. The Reloader that counts is one whose
/// pod status controller would act on the namespace: `--resources-to-ignore=secrets` stops
/// its Secrets' controller, not that one ([R] `internal/pkg/cmd/reloader.go`).
pub(crate) fn verdict_in(cluster: &ClusterFacts, ns: &str) -> Csi {
    let facts = cluster.reloader.as_ref();
    match reloader_runs_for(facts, ns, Watched::PodStatuses) {
        Runs::No(why) => return Csi::NoReloader(why),
        Runs::Unknown(why) => {
            return Csi::Unknown(format!("whether a Reloader with it runs is unknown: {why}"));
        }
        Runs::Yes => {}
    }
    let Some(r) = reloader_acting_for(facts, ns, Watched::PodStatuses) else {
        return Csi::Unknown(
            "no Reloader's flags were read (its --enable-csi-integration is not known)".into(),
        );
    };
    let who = format!("Reloader ({}/{})", r.namespace, r.name);
    if !r.run.csi_integration {
        return Csi::Off(Off::Flag(who));
    }
    let rotation = (cluster.csi_driver.known()).and_then(|c| c.rotation_enabled.known());
    match rotation {
        Some(true) => Csi::Restarts,
        Some(false) => Csi::Off(Off::Rotation(who)),
        None => Csi::Unknown(format!(
            "{who} runs with --enable-csi-integration=true, but whether the driver's secret rotation, which makes the pod status changes it acts on, is on is not known"
        )),
    }
}

impl Off {
    /// KVC902's "why" for annotation `key`.
    pub(super) fn why(&self, key: &str) -> String {
        match self {
            Off::Flag(who) => format!(
                "its annotation {key} acts only when Reloader runs with --enable-csi-integration=true, and {who} runs without it (the flag defaults to false)"
            ),
            Off::Rotation(who) => format!(
                "its annotation {key} acts through {who}'s CSI integration on SecretProviderClass pod status changes, which the driver makes only with secret rotation on, and it is off"
            ),
        }
    }

    /// What to add to KVC902's fix (after its annotation, which restarts the workload on this
    /// Reloader as it runs): what turns on what the SPC annotation needs.
    pub(super) fn fix(&self, cx: &Ctx) -> String {
        match self {
            // The flag alone is not enough: the chart grants Reloader read access to
            // SecretProviderClassPodStatus and SecretProviderClass only with this value
            // ([R] chart templates/clusterrole.yaml), without which it cannot watch them.
            Off::Flag(who) => format!(
                "or turn on {who}'s CSI integration for the SecretProviderClass annotation: its Helm value reloader.enableCSIIntegration=true, which passes --enable-csi-integration=true and grants it read access to secretproviderclasspodstatuses and secretproviderclasses"
            ),
            Off::Rotation(who) => format!(
                "or turn on the driver's secret rotation, whose pod status changes {who} acts on: {}",
                crate::chain::rules::remedy::driver_setting(
                    cx,
                    "--enable-secret-rotation",
                    &["enableSecretRotation=true"]
                )
            ),
        }
    }
}
