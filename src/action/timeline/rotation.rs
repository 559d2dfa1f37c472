//! Following a new version of a Key Vault secret: vault → mounted files → synced Secret →
//! consumers (volumes, env), each pod judged from observations only.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use jiff::Timestamp;

use crate::chain::Chain;
use crate::fingerprint::Fingerprint;
use crate::snapshot::{ObjectType, PodObs, Snapshot, SpcObs, VolumeSourceObs};

use super::failures::MountFailures;
use super::pods::PodsByName;
use super::steps::{
    Hop, Step, StepState, Steps, Timeline, short_duration, since, step_time, verdict,
};
use replaced::Replaced;
use stuck::stuck_reason;

const ROTATION_HOPS: &[Hop] = &[
    ("Key Vault: new version", |k| k == "vault"),
    ("mounted file", |k| {
        k.ends_with("|mount") || k.ends_with("|file")
    }),
    ("synced Secret", |k| k.ends_with("|secret")),
    ("volumes", |k| k.contains("|mount:")),
    ("env / restart", |k| k.contains("|env:")),
];

/// Follows a new version of one Key Vault secret from the vault to every consumer.
#[derive(Clone, Debug)]
pub struct RotationWatch {
    vault: String,
    object: String,
    started_at: Timestamp,
    old_version: Option<String>,
    old_fingerprint: Option<Fingerprint>,
    new_version: Option<String>,
    new_fingerprint: Option<Fingerprint>,
    /// What the action wrote, when the caller knows: a re-stamp (`r`) keeps the value.
    same_value: Option<bool>,
    /// Pods that existed before the action, told apart from a pod re-created under one of
    /// their names (`pods`): any other pod is new.
    before_pods: PodsByName,
    /// The pod last seen under each name: a new one under an old name drops the old one's
    /// steps, which a hop that never un-happens would otherwise keep for it.
    pods_seen: PodsByName,
    poll: Duration,
    elapsed: Duration,
    steps: Steps,
    finished: bool,
    verdict: Vec<Step>,
    follow_up: Option<String>,
    /// Pods whose rotation polls failed since the start, and why.
    failures: MountFailures,
    /// Pods whose mount failed since the start (FailedMount), and why: a pod made since the
    /// write is stuck on its mount, not on a rotation poll.
    failed_mounts: MountFailures,
    /// Consumer steps (env, a Secret's volume, a subPath copy) and the synced Secret step
    /// they wait on, with the restart they need when it was Reloader's rollout they waited
    /// for (FACTS §10): told when the watch ends with them still waiting.
    waits_on: BTreeMap<String, (String, Option<String>)>,
    /// Each synced Secret step's Secret as last seen: `Some(true)` there, `Some(false)` not
    /// there, `None` not read. Who writes it, and so which event tells a failure, differs
    /// (FACTS §2, §3): the controller creates a missing one, rotation patches one that exists.
    secrets_seen: BTreeMap<String, Option<bool>>,
    /// Consumer steps waiting on a rollout that started after their synced Secret changed and
    /// is not done (`rollout::under_way`): told as such when the watch ends with them waiting.
    rollouts: BTreeMap<String, String>,
    /// What each synced Secret key fed by the followed file held before the action
    /// (`ns/secret|key`): a write since that left it as it was (the driver re-stamping labels
    /// or annotations, a re-stamped value) rewrote no data (FACTS §2, §11).
    secret_data_before: BTreeMap<String, Option<Fingerprint>>,
    /// When rotation brought the new version to each pod that existed before the action
    /// (its mount and file steps), kept once the pod is gone: the mounted file hop's time. A
    /// pod created since (a rollout the change set off) mounts the latest version at its
    /// creation, which says nothing of when rotation reached the pods it followed.
    followed_mounts: BTreeMap<String, Duration>,
    /// Pods (`pod:<ns>/<name>`) made since the action, a pod re-created under an earlier
    /// one's name among them: their mount reads the latest version at creation, so no
    /// rotation poll is why it did not (FACTS §1, §11).
    made_after: BTreeSet<String>,
    /// Pods there before the action with no SecretProviderClassPodStatus: never mounted, no
    /// rotation poll is theirs; their mount reads the latest version when it succeeds.
    unmounted: BTreeSet<String>,
    /// The pods rotation followed that a rollout has replaced: not counted on the hops.
    replaced: Replaced,
}

impl RotationWatch {
    /// Start watching; `before` is the last snapshot taken before the write.
    pub fn new(before: &Snapshot, vault: &str, object: &str) -> Self {
        let old = vault_object(before, vault, object);
        let old_version = old.and_then(|o| o.latest().map(|v| v.version.clone()));
        let old_fingerprint = old.and_then(|o| o.latest_fingerprint);
        let poll = before
            .cluster
            .csi_driver
            .known()
            .map(|d| d.rotation_poll_interval)
            .unwrap_or(Duration::from_secs(120));
        RotationWatch {
            vault: vault.into(),
            object: object.into(),
            started_at: before.source.observed_at,
            old_version,
            old_fingerprint,
            new_version: None,
            new_fingerprint: None,
            same_value: None,
            before_pods: PodsByName::of(before),
            pods_seen: PodsByName::of(before),
            poll,
            elapsed: Duration::ZERO,
            steps: Steps::default(),
            finished: false,
            verdict: Vec::new(),
            follow_up: None,
            failures: MountFailures::new("MountRotationFailed"),
            failed_mounts: MountFailures::new("FailedMount"),
            waits_on: BTreeMap::new(),
            secrets_seen: BTreeMap::new(),
            rollouts: BTreeMap::new(),
            secret_data_before: BTreeMap::new(),
            followed_mounts: BTreeMap::new(),
            made_after: BTreeSet::new(),
            unmounted: BTreeSet::new(),
            replaced: Replaced::default(),
        }
        .with_secret_data(before)
    }

    /// Notes what each synced Secret key fed by the followed object holds in `before`.
    fn with_secret_data(mut self, before: &Snapshot) -> Self {
        let mut held_before = BTreeMap::new();
        for spc in before.spcs.items.iter().filter(|spc| self.uses_object(spc)) {
            let Some(object) = self.followed_object(spc) else {
                continue;
            };
            let file = followed_file(object);
            for so in &spc.secret_objects {
                let secret = before.secret(&spc.namespace, &so.secret_name);
                for d in so.data.iter().filter(|d| d.object_name == file) {
                    let held = secret.and_then(|x| x.data.get(&d.key).copied());
                    let key = format!("{}/{}|{}", spc.namespace, so.secret_name, d.key);
                    held_before.insert(key, held);
                }
            }
        }
        self.secret_data_before = held_before;
        self
    }

    /// The action happened at `at` on the source's clock (later than the last snapshot when
    /// the source was quiet): times are counted from there.
    pub fn starting_at(mut self, at: Timestamp) -> Self {
        self.started_at = self.started_at.max(at);
        self
    }

    /// The caller knows what it wrote: `true` for a re-stamp of the current value.
    pub fn same_value(mut self, same: bool) -> Self {
        self.same_value = Some(same);
        self
    }

    /// What to offer when the timeline ends (a marker rotation offers the restore).
    pub fn follow_up(mut self, text: String) -> Self {
        self.follow_up = Some(text);
        self
    }

    /// The version that was latest before the write (what a restore writes again).
    pub fn old_version(&self) -> Option<&str> {
        self.old_version.as_deref()
    }

    /// Two poll intervals plus a minute: long enough for any healthy chain to move.
    pub fn deadline(&self) -> Duration {
        self.poll * 2 + Duration::from_secs(60)
    }

    /// The source's clock moved without a new snapshot (a quiet lab or cluster).
    pub fn tick(&mut self, now: Timestamp) {
        if self.finished {
            return;
        }
        self.elapsed = self.elapsed.max(since(self.started_at, now));
        if self.elapsed >= self.deadline() {
            self.finish();
        }
    }

    pub fn observe(&mut self, s: &Snapshot) {
        self.observe_diagnosed::<Chain>(s, &[]);
    }

    /// [`Self::observe`] with the diagnosis of the same snapshot, which names the cause of a
    /// failing mount where its rules know it better than the event's text (audit EEE2).
    pub fn observe_diagnosed<C: std::borrow::Borrow<Chain>>(&mut self, s: &Snapshot, chains: &[C]) {
        if self.finished {
            return;
        }
        self.elapsed = self
            .elapsed
            .max(since(self.started_at, s.source.observed_at));
        self.observe_vault(s);
        (self.failures).observe(s, self.started_at);
        self.failures.blame(chains);
        (self.failed_mounts).observe(s, self.started_at);
        self.failed_mounts.blame(chains);
        let rotation_off = s
            .cluster
            .csi_driver
            .known()
            .and_then(|d| d.rotation_enabled.known().copied())
            == Some(false);
        let spcs: Vec<&SpcObs> = s
            .spcs
            .items
            .iter()
            .filter(|spc| self.uses_object(spc))
            .collect();
        // A pod that went away (rolled out, deleted) has no hop left to reach: its steps go.
        let live: Vec<String> = s
            .pods
            .items
            .iter()
            .filter(|p| p.template_of.is_none())
            .map(|p| format!("{}/{}|", p.namespace, p.name))
            .collect();
        self.steps.retain(|k| {
            !k.starts_with("pod:") || live.iter().any(|p| k[4..].starts_with(p.as_str()))
        });
        self.replaced.observe(s, &self.before_pods);
        for p in s.pods.items.iter().filter(|p| p.template_of.is_none()) {
            if self.pods_seen.replaced(p) {
                let of = format!("pod:{}/{}|", p.namespace, p.name);
                self.steps.retain(|k| !k.starts_with(&of));
            }
        }
        for spc in &spcs {
            for pod in s.pods.items.iter().filter(|p| {
                p.namespace == spc.namespace && p.template_of.is_none() && p.mounts_spc(&spc.name)
            }) {
                self.observe_pod(s, spc, pod, rotation_off);
            }
        }
        for spc in &spcs {
            self.observe_secret_volumes(s, spc);
            self.observe_env(s, spc);
        }
        let resolved = self.steps.by_key.values().all(|st| st.state.is_terminal());
        if (resolved && self.new_version.is_some() && !self.steps.order.is_empty())
            || self.elapsed >= self.deadline()
        {
            self.finish();
        }
    }

    fn finish(&mut self) {
        let poll = short_duration(self.poll);
        let (failures, failed_mounts) = (&self.failures, &self.failed_mounts);
        let (seen, made_after) = (&self.secrets_seen, &self.made_after);
        let stuck = |key: &str| {
            let of =
                |set: &BTreeSet<String>| key.split('|').next().is_some_and(|p| set.contains(p));
            let secret = seen.get(key).copied().flatten();
            let pod = (of(made_after), of(&self.unmounted));
            stuck_reason(failures, failed_mounts, &poll, key, secret, pod)
        };
        // A consumer waiting on a synced Secret that never got the new value waits on that
        // hop: a restart reads the Secret as it is (FACTS §4, §11), Reloader sees no change.
        let blocked = secret_volumes::blocked(&self.steps, &self.waits_on, &stuck);
        // A rollout under way is why a consumer still waits: not Reloader (it acted), nor
        // the Secret (it changed, or no rollout would have started).
        let rollouts = &self.rollouts;
        (self.steps).stick_waiting(|key| {
            (rollouts.get(key).or_else(|| blocked.get(key)).cloned()).unwrap_or_else(|| stuck(key))
        });
        // Terminating pods hold nothing the new ones do not: the hops count the pods there.
        let current = self.replaced.current(&self.steps);
        let all = if current.order.iter().any(|k| k.starts_with("pod:")) {
            &current
        } else {
            &self.steps
        };
        self.verdict = verdict(all, ROTATION_HOPS);
        if let Some(line) =
            (self.verdict.iter_mut()).find(|l| l.label.starts_with(ROTATION_HOPS[1].0))
        {
            self.replaced.say(line);
        }
        // The mounted file hop is reached when rotation brought the version to the pods it
        // followed, not when the last pod a rollout made since mounted it (that came after the
        // synced Secret changed, and would read as if the Secret had moved first).
        if let Some(at) = self.followed_mounts.values().max()
            && let Some(line) =
                (self.verdict.iter_mut()).find(|l| l.label.starts_with(ROTATION_HOPS[1].0))
            && matches!(line.state, StepState::Done(_))
        {
            line.state = StepState::Done(*at);
        }
        self.finished = true;
    }

    /// The content to look for downstream, when the new version carries a new value. A
    /// re-stamp (same value, new version) leaves every file and synced Secret byte-identical,
    /// so content proves nothing there: those hops follow the mounted version instead.
    fn new_content(&self) -> Option<Fingerprint> {
        if self.same_value == Some(true) {
            return None;
        }
        self.new_fingerprint
            .filter(|fp| self.old_fingerprint.is_none_or(|old| old != *fp))
    }

    /// Whether the new version holds the value consumers already have.
    fn restamp(&self) -> bool {
        self.same_value
            .unwrap_or(self.new_fingerprint.is_some() && self.new_content().is_none())
    }

    /// Whether `spc` mounts the followed secret. Vault names are DNS labels, one vault in any
    /// case (FACTS §5), as `r`'s eligibility check (`rotation_target`) matches them.
    fn uses_object(&self, spc: &SpcObs) -> bool {
        (spc.parsed.keyvault_name.as_deref()).is_some_and(|k| k.eq_ignore_ascii_case(&self.vault))
            && spc
                .parsed
                .objects
                .iter()
                .any(|o| o.object_name == self.object && o.object_type == Some(ObjectType::Secret))
    }

    fn observe_vault(&mut self, s: &Snapshot) {
        let latest = vault_object(s, &self.vault, &self.object).and_then(|o| {
            o.latest()
                .map(|v| (v.version.clone(), v.created, o.latest_fingerprint))
        });
        let label = format!("Key Vault {}/{}: new version", self.vault, self.object);
        match latest {
            Some((version, created, fp)) if Some(&version) != self.old_version.as_ref() => {
                // The caller's clock may run ahead of the source's: the write happened no
                // later than the version it created.
                if let Some(c) = created.filter(|c| *c < self.started_at) {
                    self.started_at = c;
                }
                let at = created.map_or(self.elapsed, |c| since(self.started_at, c));
                self.steps.set(
                    "vault".into(),
                    format!("{label} {}", &version[..version.len().min(8)]),
                    StepState::Done(at),
                );
                self.new_version = Some(version);
                self.new_fingerprint = fp;
            }
            _ => self.steps.set("vault".into(), label, StepState::Waiting),
        }
    }

    /// The followed object among `spc`'s parameters, if it still names it.
    fn followed_object<'s>(&self, spc: &'s SpcObs) -> Option<&'s crate::spc::SpcObject> {
        (spc.parsed.objects.iter()).find(|o| o.object_name == self.object)
    }

    fn observe_pod(&mut self, s: &Snapshot, spc: &SpcObs, pod: &PodObs, rotation_off: bool) {
        let Some(object) = self.followed_object(spc) else {
            return;
        };
        let file = followed_file(object);
        let pod_key = format!("pod:{}/{}", pod.namespace, pod.name);
        let now = self.elapsed;
        let restamp = self.restamp();
        let created_after = !self.before_pods.holds(pod);
        match created_after {
            true => self.made_after.insert(pod_key.clone()),
            false => self.made_after.remove(&pod_key),
        };
        // An earlier pod's status under this name says nothing of this pod's mount.
        let status = s.spc_statuses.items.iter().find(|st| {
            st.namespace == pod.namespace
                && st.pod_name == pod.name
                && st.spc_name == spc.name
                && st.earlier_pod(pod).is_none()
        });
        // No status: this pod's volume never mounted (FACTS §1), so no rotation poll is its.
        match status.is_none() && !created_after {
            true => self.unmounted.insert(pod_key.clone()),
            false => self.unmounted.remove(&pod_key),
        };

        // Mounted version (SPCPS).
        let mount_key = format!("{pod_key}|mount");
        let mount_label = format!("pod {}: mounted version", pod.name);
        let mounted = status.and_then(|st| {
            st.objects
                .iter()
                .find(|o| object.is_status_id(&o.id))
                .map(|o| o.version.clone())
        });
        let mount_state = match (&self.new_version, mounted) {
            (Some(new), Some(m)) if *new == m => StepState::Done(
                status
                    .and_then(|st| st.updated_at)
                    .map_or(now, |t| since(self.started_at, t).min(now)),
            ),
            _ if object.object_version.is_some() => StepState::Never(format!(
                "objectVersion pinned to {}",
                object.object_version.as_deref().unwrap_or_default()
            )),
            _ if rotation_off && !created_after && status.is_some() => StepState::Never(
                "secret rotation is disabled in the driver (--enable-secret-rotation=false)".into(),
            ),
            _ => StepState::Waiting,
        };
        let mount_done = matches!(mount_state, StepState::Done(_));
        self.steps.set(mount_key, mount_label, mount_state.clone());

        // File content.
        let file_key = format!("{pod_key}|file");
        let file_label = format!("pod {}: file {file}", pod.name);
        let new_content = self.new_content();
        let file_state = match (status.and_then(|st| st.files.as_ref()), new_content) {
            (Some(files), Some(fp)) if files.get(file.as_str()) == Some(&fp) => {
                StepState::Done(if mount_done {
                    step_time(&mount_state)
                } else {
                    now
                })
            }
            // Same value re-stamped: the driver rewrites the file when it mounts the version.
            (Some(_), None) if mount_done && self.new_version.is_some() => {
                StepState::Done(step_time(&mount_state))
            }
            (None, _) if mount_done => StepState::Unknown(
                "file content not visible from the API; verify in the container (x)".into(),
            ),
            _ => match &mount_state {
                StepState::Never(why) => StepState::Never(why.clone()),
                _ => StepState::Waiting,
            },
        };
        let file_done = matches!(file_state, StepState::Done(_));
        self.steps
            .set(file_key.clone(), file_label, file_state.clone());
        if !created_after {
            self.replaced.follow(&pod_key);
            let reached = [format!("{pod_key}|mount"), file_key]
                .iter()
                .filter_map(|k| match self.steps.by_key.get(k).map(|st| &st.state) {
                    Some(StepState::Done(at)) => Some(*at),
                    _ => None,
                })
                .max();
            if let Some(at) = reached {
                self.followed_mounts.insert(pod_key.clone(), at);
            }
        }

        // Synced Secrets fed by this file, and their update time.
        for so in &spc.secret_objects {
            for d in so.data.iter().filter(|d| d.object_name == file) {
                let key = format!("{}/{}|secret", pod.namespace, so.secret_name);
                let label = format!("Secret {}[{}]: synced", so.secret_name, d.key);
                let secret = s.secret(&pod.namespace, &so.secret_name);
                let seen = (secret.is_some() || s.secrets.unknown_in(&pod.namespace).is_none())
                    .then_some(secret.is_some());
                self.secrets_seen.insert(key.clone(), seen);
                let state = match secret {
                    Some(sec) => {
                        let held = sec.data.get(&d.key).copied();
                        let before = (self.secret_data_before)
                            .get(&format!("{}/{}|{}", pod.namespace, so.secret_name, d.key))
                            .copied()
                            .flatten();
                        // Its data changed since the action: a write of labels or annotations
                        // alone (the driver re-stamping its metadata) is no new value.
                        let rewritten = held.is_some() && held != before;
                        let holds_value = self.new_fingerprint.is_none_or(|fp| held == Some(fp));
                        let fresh = self.new_version.is_some()
                            && match new_content {
                                Some(fp) => held == Some(fp),
                                // A re-stamp: rewritten only where the Secret was behind the
                                // file and the poll brought it to the vault's value.
                                None if restamp => mount_done && rewritten && holds_value,
                                None if self.new_fingerprint.is_some() => false,
                                // The value is not known: its data changed since.
                                None => rewritten,
                            };
                        if fresh {
                            StepState::Done(
                                sec.updated_at
                                    .map_or(now, |t| since(self.started_at, t).min(now)),
                            )
                        } else if restamp
                            && self.new_version.is_some()
                            && mount_done
                            && holds_value
                            && !rewritten
                        {
                            // Re-stamp: the Secret already holds the vault's value; once the
                            // new version is mounted the driver has no data to write (the
                            // rotation reconciler skips a patch whose data is unchanged, FACTS
                            // §2): not rewritten, so nothing downstream sees a change.
                            StepState::Unaffected(
                                "holds the re-stamped value: its data is unchanged, the driver rewrites nothing".into(),
                            )
                        } else if let StepState::Never(why) = &mount_state {
                            StepState::Never(why.clone())
                        } else {
                            StepState::Waiting
                        }
                    }
                    None => StepState::Waiting,
                };
                self.steps.set(key, label, state);
            }
        }

        // The CSI volume's consumers in this pod (a synced Secret's volumes: see
        // `observe_secret_volumes`; env is judged per workload, see `observe_env`).
        // A native sidecar's mount too: it runs beside the app (a subPath copy goes old).
        for c in pod.app_and_sidecars() {
            for m in &c.mounts {
                let csi = pod.volume(&m.volume).is_some_and(|v| {
                    matches!(&v.source, VolumeSourceObs::Csi { attributes, .. }
                        if attributes.get("secretProviderClass").map(String::as_str)
                            == Some(spc.name.as_str()))
                });
                if !csi {
                    continue;
                }
                let key = format!("{pod_key}|{}|mount:{}", c.name, m.path);
                let label = format!("pod {} / {}: CSI volume at {}", pod.name, c.name, m.path);
                let state = match m.sub_path.as_deref().filter(|_| !created_after) {
                    Some(sub) => {
                        let copy = self.sub_path_state(s, pod, c, true, sub, restamp);
                        self.reloader_wait_csi(s, spc, &file, pod, &key, copy)
                    }
                    None if file_done => StepState::Done(step_time(&file_state)),
                    None => match &file_state {
                        StepState::Unknown(_) | StepState::Never(_) => file_state.clone(),
                        _ => StepState::Waiting,
                    },
                };
                self.steps.set(key, label, state);
            }
        }
    }

    pub fn timeline(&self) -> Timeline {
        Timeline {
            title: format!("rotation of {}/{}", self.vault, self.object),
            started_at: self.started_at,
            elapsed: self.elapsed,
            deadline: self.deadline(),
            steps: self.steps.all(),
            finished: self.finished,
            verdict: self.verdict.clone(),
            follow_up: self.follow_up.clone().filter(|_| self.finished),
        }
    }
}

/// The observed Key Vault secret `vault/object`, when the Azure side saw it: under the name
/// as an SPC spelled it, in any case (a DNS label, FACTS §5).
pub(crate) fn vault_object<'a>(
    s: &'a Snapshot,
    vault: &str,
    object: &str,
) -> Option<&'a crate::snapshot::VaultObject> {
    s.azure
        .objects
        .iter()
        .find(|o| {
            o.vault.eq_ignore_ascii_case(vault)
                && o.name == object
                && o.object_type == ObjectType::Secret
        })
        .and_then(|o| o.state.known())
        .and_then(|o| o.as_ref())
}

/// The file that holds the newest version of `object`: `<file>/0` when the provider writes
/// its history (`objectVersionHistory` > 1, FACTS §5; a synced Secret reads `alias/0`, §2).
fn followed_file(object: &crate::spc::SpcObject) -> String {
    match object.writes_versions() {
        true => format!("{}/0", object.file_name()),
        false => object.file_name().to_string(),
    }
}

mod env;
mod replaced;
mod rollout;
mod secret_volumes;
mod stuck;
mod sub_path;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_csi;
#[cfg(test)]
mod tests_made_again;
#[cfg(test)]
mod tests_replaced;
