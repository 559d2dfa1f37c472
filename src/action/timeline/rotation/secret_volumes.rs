//! The volumes hop of the synced Secrets: a Secret (or projected) volume follows its Secret,
//! a subPath of it is a copy bound at container start (FACTS §4), in every pod of the
//! namespace, not only those that mount the SPC. A consumer of a synced Secret waits on the
//! Secret's hop: while the Secret does not hold the new value a restart reads the old one
//! again (FACTS §11: only rotation rewrites an existing synced Secret), and Reloader sees no
//! change to roll out (FACTS §10).

use std::collections::BTreeMap;

use super::super::steps::{StepState, Steps, since};
use super::env::{CsiPath, reloader_replaces};
use super::{RotationWatch, followed_file};
use crate::chain::restart_plan::RestartPlan;
use crate::snapshot::{ContainerStateObs, EnvSourceObs, PodObs, Snapshot, SpcObs, VolumeSourceObs};

impl RotationWatch {
    /// The volumes of the Secrets `spc` syncs from the followed file, in each pod of its
    /// namespace.
    pub(super) fn observe_secret_volumes(&mut self, s: &Snapshot, spc: &SpcObs) {
        let Some(object) = self.followed_object(spc) else {
            return;
        };
        let file = followed_file(object);
        let synced: Vec<&str> = (spc.secret_objects.iter())
            .filter(|so| so.data.iter().any(|d| d.object_name == file))
            .map(|so| so.secret_name.as_str())
            .collect();
        if synced.is_empty() {
            return;
        }
        let restamp = self.restamp();
        let pods = (s.pods.items.iter()).filter(|p| p.namespace == spc.namespace);
        for pod in pods.filter(|p| p.template_of.is_none()) {
            // A native sidecar's mount too: it runs beside the app.
            for c in pod.app_and_sidecars() {
                for m in &c.mounts {
                    let Some(vol) = pod.volume(&m.volume) else {
                        continue;
                    };
                    let (secret, kind) = match &vol.source {
                        VolumeSourceObs::Secret { secret_name, .. } => {
                            (secret_name.as_str(), "Secret volume")
                        }
                        VolumeSourceObs::Projected { secrets, .. } => {
                            match secrets.iter().find(|x| synced.contains(&x.as_str())) {
                                Some(x) => (x.as_str(), "projected volume"),
                                None => continue,
                            }
                        }
                        _ => continue,
                    };
                    if !synced.contains(&secret) {
                        continue;
                    }
                    let secret_key = format!("{}/{secret}|secret", pod.namespace);
                    let upstream = (self.steps.by_key.get(&secret_key))
                        .map_or(StepState::Waiting, |st| st.state.clone());
                    let key = format!(
                        "pod:{}/{}|{}|mount:{}",
                        pod.namespace, pod.name, c.name, m.path
                    );
                    let label = format!("pod {} / {}: {kind} at {}", pod.name, c.name, m.path);
                    self.waits_on.insert(key.clone(), (secret_key, None));
                    // A copy taken once the Secret held the new value holds it; one taken
                    // before holds what the Secret held then, a new pod's too (a restart
                    // before the poll copies the old value: FACTS §11).
                    let copied_after = match (&upstream, &c.state) {
                        (StepState::Done(at), ContainerStateObs::Running { started_at })
                            if !restamp && *started_at >= self.started_at + *at =>
                        {
                            Some(since(self.started_at, *started_at))
                        }
                        _ => None,
                    };
                    let state = match m.sub_path.as_deref() {
                        Some(_) if let Some(at) = copied_after => StepState::Done(at),
                        Some(sub) => {
                            let copy = self.sub_path_state(s, pod, c, false, sub, restamp);
                            if !matches!(copy, StepState::Never(_)) || restamp {
                                // A copy that holds the vault's value, one stale before this
                                // test (a re-stamp), or not known: that stands.
                                copy
                            } else {
                                match upstream {
                                    StepState::Done(_) => {
                                        self.reloader_wait(s, pod, secret, true, &key, copy)
                                    }
                                    StepState::Never(why) => StepState::Never(format!(
                                        "the synced Secret {secret} never gets the new value ({why}); on a driver before v1.6 a restart alone does not rewrite an existing synced Secret (a v1.6 driver rewrites it from the new pod's mount)"
                                    )),
                                    _ => StepState::Waiting,
                                }
                            }
                        }
                        // A Secret a re-stamp left as it was: its volume too.
                        None => match upstream {
                            st @ (StepState::Done(_)
                            | StepState::Never(_)
                            | StepState::Unaffected(_)) => st,
                            _ => StepState::Waiting,
                        },
                    };
                    self.steps.set(key, label, state);
                }
            }
        }
    }

    /// A subPath copy of the CSI volume a restart would refresh (`copy`), in a pod Reloader
    /// rolls out when a Secret `spc` syncs from `file` changes: that rollout is waited for.
    pub(super) fn reloader_wait_csi(
        &mut self,
        s: &Snapshot,
        spc: &SpcObs,
        file: &str,
        pod: &PodObs,
        key: &str,
        copy: StepState,
    ) -> StepState {
        let synced = (spc.secret_objects.iter())
            .filter(|so| so.data.iter().any(|d| d.object_name == file))
            .map(|so| so.secret_name.as_str());
        for secret in synced {
            let secret_key = format!("{}/{secret}|secret", pod.namespace);
            let state = self.steps.by_key.get(&secret_key).map(|st| &st.state);
            // A Secret that never gets the new value changes nothing for Reloader.
            if !matches!(state, None | Some(StepState::Waiting | StepState::Done(_))) {
                continue;
            }
            let waiting =
                self.reloader_wait(s, pod, secret, references(pod, secret), key, copy.clone());
            if waiting == StepState::Waiting {
                return waiting;
            }
        }
        // Reloader's CSI path (the SPC annotation, `--enable-csi-integration`, rotation on:
        // KVC902's verdict, as the env hop follows it since XB-left): a restart it makes
        // binds the copy again at the new container's start (FACTS §4, §10; audit XC-left).
        if !matches!(copy, StepState::Never(_)) || self.restamp() {
            return copy;
        }
        let owner = RestartPlan::for_pod(s, pod).replacing_owner();
        let owner = owner.as_ref().map(|(k, n)| (k.as_str(), n.as_str()));
        let found = owner.and_then(|(kind, name)| s.workload(&pod.namespace, kind, name));
        match super::env::csi_restarts(s, pod, owner, found, spc) {
            CsiPath::Restarts => {
                let plan = RestartPlan::for_pod(s, pod);
                let restart = format!("restart needed ({})", RestartPlan::key_advice(&[&plan]));
                // Reloader acts once the pod's mount status shows the new version: the file.
                let file_key = format!("pod:{}/{}|file", pod.namespace, pod.name);
                self.waits_on
                    .insert(key.to_string(), (file_key, Some(restart)));
                StepState::Waiting
            }
            CsiPath::Unknown(why) => StepState::Unknown(format!(
                "a copy bound at container start; whether Reloader restarts this pod is not known: {why}"
            )),
            CsiPath::No => copy,
        }
    }

    /// `copy` (a subPath copy never reached), or waiting when Reloader's rollout replaces
    /// `pod` once Secret `secret` changes with a new value (a re-stamp leaves its data as it
    /// was: Reloader restarts nothing, FACTS §10).
    fn reloader_wait(
        &mut self,
        s: &Snapshot,
        pod: &PodObs,
        secret: &str,
        references: bool,
        key: &str,
        copy: StepState,
    ) -> StepState {
        if !matches!(copy, StepState::Never(_))
            || self.restamp()
            || !reloader_replaces(s, pod, secret, references)
        {
            return copy;
        }
        let plan = RestartPlan::for_pod(s, pod);
        let restart = format!("restart needed ({})", RestartPlan::key_advice(&[&plan]));
        let secret_key = format!("{}/{secret}|secret", pod.namespace);
        // The rollout Reloader began once the Secret changed, not done yet: the verdict
        // names it if the watch ends before it replaces this pod.
        let changed = match self.steps.by_key.get(&secret_key).map(|st| &st.state) {
            Some(StepState::Done(at)) => Some(self.started_at + *at),
            _ => None,
        };
        match changed.and_then(|t| super::rollout::under_way(s, pod, t)) {
            Some(why) => self.rollouts.insert(key.to_string(), why),
            None => self.rollouts.remove(key),
        };
        self.waits_on
            .insert(key.to_string(), (secret_key, Some(restart)));
        StepState::Waiting
    }
}

/// Whether `pod` references Secret `secret`: a volume (a projected one's source too) or an
/// env read — what Reloader's `auto` restarts for (FACTS §10).
fn references(pod: &PodObs, secret: &str) -> bool {
    let volume = pod.volumes.iter().any(|v| match &v.source {
        VolumeSourceObs::Secret { secret_name, .. } => secret_name.as_str() == secret,
        VolumeSourceObs::Projected { secrets, .. } => secrets.iter().any(|x| x.as_str() == secret),
        _ => false,
    });
    volume
        || pod.containers.iter().any(|c| {
            c.env_from_secrets.iter().any(|x| x.as_str() == secret)
                || c.env.iter().any(|e| {
                    matches!(&e.source, EnvSourceObs::SecretKey { secret: x, .. } if x.as_str() == secret)
                })
        })
}

/// What each consumer step still waiting when the watch ends waits for (`waits_on`): the
/// synced Secret, when it did not get the new value (its own reason, `stuck`), or the
/// Reloader rollout that was due (its value: the restart needed instead).
pub(super) fn blocked(
    steps: &Steps,
    waits_on: &BTreeMap<String, (String, Option<String>)>,
    stuck: &impl Fn(&str) -> String,
) -> BTreeMap<String, String> {
    let waiting =
        |key: &str| steps.by_key.get(key).map(|st| &st.state) == Some(&StepState::Waiting);
    (waits_on.iter())
        .filter(|(key, _)| waiting(key.as_str()))
        .filter_map(|(key, (secret_key, reloader))| {
            let name = (secret_key.split_once('/'))
                .map_or(secret_key.as_str(), |(_, n)| n)
                .trim_end_matches("|secret");
            let why = match steps.by_key.get(secret_key).map(|st| &st.state) {
                None | Some(StepState::Waiting) => stuck(secret_key.as_str()),
                Some(StepState::Done(_) | StepState::Unaffected(_)) => {
                    let restart = reloader.as_ref()?;
                    return Some((key.clone(), format!(
                        "Reloader did not roll the pod out after Secret {name} changed (is Reloader running?); {restart}"
                    )));
                }
                Some(StepState::Never(w) | StepState::Stuck(w) | StepState::Unknown(w)) => {
                    w.clone()
                }
            };
            let said = match reloader {
                // A copy of the CSI volume's file: a new mount fetches the new version, but
                // Reloader rolls the pod out only on the Secret's change.
                Some(restart) => format!(
                    "Reloader rolls the pod out only when Secret {name} changes, and it did not get the new value ({why}); {restart}"
                ),
                None => format!(
                    "the synced Secret {name} did not get the new value ({why}); a restart now would read the old value again"
                ),
            };
            Some((key.clone(), said))
        })
        .collect()
}
