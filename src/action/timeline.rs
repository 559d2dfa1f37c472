//! Watching a rotation or a restart propagate, hop by hop.
//!
//! Pure: a watch is fed successive [`Snapshot`]s and reports a [`Timeline`] of steps with
//! times relative to the action. It sees only observations, so it works the same on the lab
//! and on live clusters (where file contents are unknown until verified in the container).
//! Between snapshots it is fed the source's clock ([`RotationWatch::tick`]): a quiet lab or
//! cluster sends no new snapshot, yet the deadline still passes and the verdict is due.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use jiff::Timestamp;

use crate::fingerprint::Fingerprint;
use crate::snapshot::{
    ContainerStateObs, EnvSourceObs, ObjectType, PodObs, Snapshot, SpcObs, VolumeSourceObs,
};

/// Where one hop stands.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum StepState {
    #[default]
    Waiting,
    /// Reached, this long after the action.
    Done(Duration),
    /// Nothing had to move here (a re-stamp keeps the value env already holds).
    Unaffected(String),
    /// Will never be reached without another action (env read at start, subPath, rotation off).
    Never(String),
    /// Cannot be observed from here (e.g. file contents on a live cluster).
    Unknown(String),
    /// The deadline passed and the hop did not move.
    Stuck(String),
}

impl StepState {
    pub fn is_terminal(&self) -> bool {
        !matches!(self, StepState::Waiting)
    }
    /// `✓ +1m52s`, `✗ never: …` — what a person reads.
    pub fn describe(&self) -> String {
        match self {
            StepState::Waiting => "… waiting".into(),
            StepState::Done(d) => format!("✓ at +{}", short_duration(*d)),
            StepState::Unaffected(why) => format!("✓ unaffected — {why}"),
            StepState::Never(why) => format!("✗ never — {why}"),
            StepState::Unknown(why) => format!("? {why}"),
            StepState::Stuck(why) => format!("✗ did not move — {why}"),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Step {
    pub label: String,
    pub state: StepState,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Timeline {
    pub title: String,
    pub started_at: Timestamp,
    /// Source time elapsed since the action.
    pub elapsed: Duration,
    pub deadline: Duration,
    pub steps: Vec<Step>,
    pub finished: bool,
    /// Once finished: one line per hop (vault version → mounted file → synced Secret →
    /// consumers; or created → mounted → running → env), the worst of its steps.
    pub verdict: Vec<Step>,
    /// Once finished, what the user may want to do next (e.g. restore after a marker).
    pub follow_up: Option<String>,
}

/// `1m52s`, `45s`, `2h3m`.
pub fn short_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{}m", s / 3600, (s % 3600) / 60),
    }
}

fn since(start: Timestamp, t: Timestamp) -> Duration {
    t.duration_since(start).try_into().unwrap_or(Duration::ZERO)
}

/// Ordered steps by stable key, so re-observing updates in place.
#[derive(Clone, Debug, Default)]
struct Steps {
    order: Vec<String>,
    by_key: BTreeMap<String, Step>,
}

impl Steps {
    /// Set a step unless it already reached a terminal state (a hop never un-happens).
    fn set(&mut self, key: String, label: String, state: StepState) {
        match self.by_key.get_mut(&key) {
            Some(step)
                if step.state.is_terminal() && !matches!(step.state, StepState::Unknown(_)) => {}
            Some(step) => {
                step.label = label;
                step.state = state;
            }
            None => {
                self.order.push(key.clone());
                self.by_key.insert(key, Step { label, state });
            }
        }
    }
    /// Set a step whatever its state: for hops judged afresh on every snapshot (env follows
    /// the workload's current pods through a rollout).
    fn put(&mut self, key: String, label: String, state: StepState) {
        match self.by_key.get_mut(&key) {
            Some(step) => *step = Step { label, state },
            None => {
                self.order.push(key.clone());
                self.by_key.insert(key, Step { label, state });
            }
        }
    }
    fn remove(&mut self, key: &str) {
        if self.by_key.remove(key).is_some() {
            self.order.retain(|k| k != key);
        }
    }
    /// Drop the steps whose key `keep` rejects (pods that no longer exist).
    fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        self.order.retain(|k| keep(k));
        self.by_key.retain(|k, _| keep(k));
    }
    fn all(&self) -> Vec<Step> {
        self.order.iter().map(|k| self.by_key[k].clone()).collect()
    }
    fn keyed(&self) -> impl Iterator<Item = (&str, &Step)> {
        self.order.iter().map(|k| (k.as_str(), &self.by_key[k]))
    }
    fn stick_waiting(&mut self, why: impl Fn(&str) -> String) {
        for (key, step) in self.by_key.iter_mut() {
            if step.state == StepState::Waiting {
                step.state = StepState::Stuck(why(key));
            }
        }
    }
}

/// The hops of a verdict: a name, and which step keys belong to it.
type Hop = (&'static str, fn(&str) -> bool);

/// One line per hop: the worst state among its steps, with how many reached it.
fn verdict(steps: &Steps, hops: &[Hop]) -> Vec<Step> {
    hops.iter()
        .filter_map(|(hop, belongs)| {
            let of: Vec<(&str, &Step)> = steps.keyed().filter(|(k, _)| belongs(k)).collect();
            hop_verdict(hop, &of)
        })
        .collect()
}

/// The worst step of a hop, and how many of its subjects (a pod's file, a container's
/// volume, a workload's variable: the key before its last `|`) reached it.
fn hop_verdict(hop: &str, keyed: &[(&str, &Step)]) -> Option<Step> {
    let subject = |k: &str| k.rsplit_once('|').map_or(k, |(s, _)| s).to_string();
    let steps: Vec<&Step> = keyed.iter().map(|(_, s)| *s).collect();
    let mut subjects: BTreeMap<String, bool> = BTreeMap::new();
    for (k, s) in keyed {
        let ok = matches!(s.state, StepState::Done(_) | StepState::Unaffected(_));
        *subjects.entry(subject(k)).or_insert(true) &= ok;
    }
    let rank = |st: &StepState| match st {
        StepState::Stuck(_) => 0,
        StepState::Never(_) => 1,
        StepState::Waiting => 2,
        StepState::Unknown(_) => 3,
        StepState::Unaffected(_) => 4,
        StepState::Done(_) => 5,
    };
    let worst = steps.iter().min_by_key(|s| rank(&s.state))?;
    let n = subjects.len();
    let reached = subjects.values().filter(|ok| **ok).count();
    let state = match &worst.state {
        StepState::Done(_) => StepState::Done(
            steps
                .iter()
                .map(|s| step_time(&s.state))
                .max()
                .unwrap_or_default(),
        ),
        other => other.clone(),
    };
    let label = if n > 1 {
        format!("{hop} ({reached} of {n})")
    } else {
        hop.to_string()
    };
    Some(Step { label, state })
}

const ROTATION_HOPS: &[Hop] = &[
    ("Key Vault: new version", |k| k == "vault"),
    ("mounted file", |k| {
        k.ends_with("|mount") || k.ends_with("|file")
    }),
    ("synced Secret", |k| k.ends_with("|secret")),
    ("volumes", |k| k.contains("|mount:")),
    ("env / restart", |k| k.contains("|env:")),
];

const RESTART_HOPS: &[Hop] = &[
    ("new pods created", |k| k.ends_with("|created")),
    ("replacement pods", |k| k == "count" || k == "new"),
    ("secrets mounted", |k| k.ends_with("|mounted")),
    ("containers running", |k| k.ends_with("|running")),
    ("env fresh", |k| k.contains("|env:")),
    ("old pod gone", |k| k == "old"),
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
    /// Pods that existed before the action (`namespace/name`): any other pod is new.
    before_pods: BTreeSet<String>,
    poll: Duration,
    elapsed: Duration,
    steps: Steps,
    finished: bool,
    verdict: Vec<Step>,
    follow_up: Option<String>,
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
            before_pods: pod_names(before),
            poll,
            elapsed: Duration::ZERO,
            steps: Steps::default(),
            finished: false,
            verdict: Vec::new(),
            follow_up: None,
        }
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
        if self.finished {
            return;
        }
        self.elapsed = self
            .elapsed
            .max(since(self.started_at, s.source.observed_at));
        self.observe_vault(s);
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
        for spc in &spcs {
            for pod in s.pods.items.iter().filter(|p| {
                p.namespace == spc.namespace && p.template_of.is_none() && p.mounts_spc(&spc.name)
            }) {
                self.observe_pod(s, spc, pod, rotation_off);
            }
        }
        for spc in &spcs {
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
        self.steps.stick_waiting(|key| match key.rsplit('|').next() {
            Some("vault") => "the vault shows no new version".to_string(),
            Some("mount") => format!("the mounted version (SecretProviderClassPodStatus) did not change within two rotation polls ({poll}); check the driver and provider logs"),
            Some("file") => "the mounted file content did not change".to_string(),
            Some("secret") => "the synced Secret was not updated; check FailedToCreateSecret events".to_string(),
            Some(k) if k.starts_with("env:") => "the running pods still hold the old value: nothing restarted them (is Reloader running?)".to_string(),
            _ => "no change observed".to_string(),
        });
        self.verdict = verdict(&self.steps, ROTATION_HOPS);
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

    fn uses_object(&self, spc: &SpcObs) -> bool {
        spc.parsed.keyvault_name.as_deref() == Some(self.vault.as_str())
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

    fn observe_pod(&mut self, s: &Snapshot, spc: &SpcObs, pod: &PodObs, rotation_off: bool) {
        let Some(object) = spc
            .parsed
            .objects
            .iter()
            .find(|o| o.object_name == self.object)
        else {
            return;
        };
        let file = object.file_name().to_string();
        let pod_key = format!("pod:{}/{}", pod.namespace, pod.name);
        let now = self.elapsed;
        let created_after = !self
            .before_pods
            .contains(&format!("{}/{}", pod.namespace, pod.name));
        let status = s.spc_statuses.items.iter().find(|st| {
            st.namespace == pod.namespace && st.pod_name == pod.name && st.spc_name == spc.name
        });

        // Mounted version (SPCPS).
        let mount_key = format!("{pod_key}|mount");
        let mount_label = format!("pod {}: mounted version", pod.name);
        let mounted = status.and_then(|st| {
            st.objects
                .iter()
                .find(|o| o.id == object.status_id())
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
            _ if rotation_off && !created_after => StepState::Never(
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
            (Some(files), Some(fp)) if files.get(&file) == Some(&fp) => {
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
        self.steps.set(file_key, file_label, file_state.clone());

        // Synced Secrets fed by this file, and their update time.
        let mut secret_states: BTreeMap<&str, StepState> = BTreeMap::new();
        for so in &spc.secret_objects {
            for d in so.data.iter().filter(|d| d.object_name == file) {
                let key = format!("{}/{}|secret", pod.namespace, so.secret_name);
                let label = format!("Secret {}[{}]: synced", so.secret_name, d.key);
                let secret = s.secret(&pod.namespace, &so.secret_name);
                let state = match secret {
                    Some(sec) => {
                        let fresh = match new_content {
                            Some(fp) => sec.data.get(&d.key) == Some(&fp),
                            None if self.new_fingerprint.is_some() => false,
                            None => {
                                self.new_version.is_some()
                                    && sec.updated_at.is_some_and(|t| t >= self.started_at)
                            }
                        };
                        if fresh {
                            StepState::Done(
                                sec.updated_at
                                    .map_or(now, |t| since(self.started_at, t).min(now)),
                            )
                        } else if new_content.is_none()
                            && self.new_version.is_some()
                            && (self.new_fingerprint.is_some() || self.restamp())
                            && mount_done
                        {
                            // Re-stamp: the synced value is already the vault's value; the
                            // driver has nothing to write once the new version is mounted.
                            StepState::Done(step_time(&mount_state))
                        } else if let StepState::Never(why) = &mount_state {
                            StepState::Never(why.clone())
                        } else {
                            StepState::Waiting
                        }
                    }
                    None => StepState::Waiting,
                };
                secret_states.insert(so.secret_name.as_str(), state.clone());
                self.steps.set(key, label, state);
            }
        }

        // Volume consumers in this pod (env is judged per workload, see `observe_env`).
        for c in pod.containers.iter().filter(|c| !c.init) {
            for m in &c.mounts {
                let Some(vol) = pod.volume(&m.volume) else {
                    continue;
                };
                let via = match &vol.source {
                    VolumeSourceObs::Csi { attributes, .. }
                        if attributes.get("secretProviderClass") == Some(&spc.name) =>
                    {
                        Some((file_done, file_state.clone(), "CSI volume"))
                    }
                    VolumeSourceObs::Secret { secret_name, .. } => {
                        secret_states.get(secret_name.as_str()).map(|st| {
                            (
                                matches!(st, StepState::Done(_)),
                                st.clone(),
                                "Secret volume",
                            )
                        })
                    }
                    _ => None,
                };
                let Some((done, upstream, kind)) = via else {
                    continue;
                };
                let key = format!("{pod_key}|{}|mount:{}", c.name, m.path);
                let label = format!("pod {} / {}: {kind} at {}", pod.name, c.name, m.path);
                let state = if m.sub_path.is_some() && !created_after {
                    StepState::Never(format!(
                        "subPath {} never sees rotated content",
                        m.sub_path.as_deref().unwrap_or_default()
                    ))
                } else if done {
                    StepState::Done(step_time(&upstream))
                } else {
                    match upstream {
                        StepState::Unknown(_) if kind == "CSI volume" => upstream,
                        StepState::Never(why) => StepState::Never(why),
                        _ => StepState::Waiting,
                    }
                };
                self.steps.set(key, label, state);
            }
        }
    }

    /// Env consumers of the Secrets this SPC syncs, one step per workload and variable,
    /// judged afresh on every snapshot from the workload's current pods: a rollout (a
    /// restart, Reloader) replaces the pods that read the old value.
    fn observe_env(&mut self, s: &Snapshot, spc: &SpcObs) {
        let Some(object) = spc
            .parsed
            .objects
            .iter()
            .find(|o| o.object_name == self.object)
        else {
            return;
        };
        let file = object.file_name();
        let restamp = self.restamp() && self.new_version.is_some();
        for so in &spc.secret_objects {
            if !so.data.iter().any(|d| d.object_name == file) {
                continue;
            }
            let secret_key = format!("{}/{}|secret", spc.namespace, so.secret_name);
            let secret_state = self
                .steps
                .by_key
                .get(&secret_key)
                .map(|st| st.state.clone())
                .unwrap_or(StepState::Waiting);
            // (workload, container, variable) → the containers currently reading it.
            let mut readers: BTreeMap<(String, String, String), Vec<Option<Timestamp>>> =
                BTreeMap::new();
            let mut reloaded: BTreeMap<String, bool> = BTreeMap::new();
            for p in
                s.pods.items.iter().filter(|p| {
                    p.namespace == spc.namespace && p.template_of.is_none() && !p.deleting
                })
            {
                let owner = crate::action::restart::RestartPlan::for_pod(s, p)
                    .replacing_owner()
                    .map_or(format!("Pod/{}", p.name), |(k, n)| format!("{k}/{n}"));
                for c in p.containers.iter().filter(|c| !c.init) {
                    for e in &c.env {
                        let EnvSourceObs::SecretKey { secret, key, .. } = &e.source else {
                            continue;
                        };
                        if *secret != so.secret_name
                            || !so
                                .data
                                .iter()
                                .any(|d| d.key == *key && d.object_name == file)
                        {
                            continue;
                        }
                        let started = match &c.state {
                            ContainerStateObs::Running { started_at } => Some(*started_at),
                            _ => None,
                        };
                        reloaded
                            .entry(owner.clone())
                            .or_insert_with(|| reloader_restarts(s, p, &so.secret_name));
                        readers
                            .entry((owner.clone(), c.name.clone(), e.name.clone()))
                            .or_default()
                            .push(started);
                    }
                }
            }
            for ((owner, container, var), pods) in readers {
                let key = format!("wl:{}/{owner}|{container}|env:{var}", spc.namespace);
                let label = format!("{owner} / {container}: env {var}");
                let state = if restamp {
                    StepState::Unaffected(
                        "same value re-stamped: the env already holds it (a new value would need a restart)".into(),
                    )
                } else {
                    match &secret_state {
                        StepState::Done(at) => {
                            let changed = self.started_at + *at;
                            env_state(&pods, changed, self.started_at, reloaded[&owner], &owner)
                        }
                        StepState::Never(why) => StepState::Never(format!(
                            "the synced Secret never gets the new value ({why}); a restart alone does not rewrite an existing synced Secret"
                        )),
                        _ => StepState::Waiting,
                    }
                };
                self.steps.put(key, label, state);
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

/// The env hop of one workload: fresh when every current container started after the
/// Secret changed; while some still hold the old value, waiting for Reloader's rollout when
/// it watches the workload, else stale until someone restarts it.
fn env_state(
    pods: &[Option<Timestamp>],
    changed: Timestamp,
    watch_start: Timestamp,
    reloader: bool,
    owner: &str,
) -> StepState {
    if pods.iter().any(Option::is_none) {
        return StepState::Waiting;
    }
    let stale: Vec<Timestamp> = pods
        .iter()
        .flatten()
        .copied()
        .filter(|t| *t < changed)
        .collect();
    match stale.iter().min() {
        None => StepState::Done(
            pods.iter()
                .flatten()
                .max()
                .map_or(Duration::ZERO, |t| since(watch_start, *t)),
        ),
        Some(_) if reloader => StepState::Waiting,
        Some(first) => StepState::Never(format!(
            "stale: env read at container start ({}), restart needed (R restarts {owner})",
            crate::glance::clock(*first)
        )),
    }
}

/// Whether Stakater Reloader restarts `pod`'s workload when `secret` changes (its annotations).
fn reloader_restarts(s: &Snapshot, pod: &PodObs, secret: &str) -> bool {
    let owner = crate::action::restart::RestartPlan::for_pod(s, pod).replacing_owner();
    let ann = match &owner {
        Some((kind, name)) => s
            .workloads
            .items
            .iter()
            .find(|w| w.namespace == pod.namespace && w.kind == *kind && w.name == *name)
            .map(|w| &w.annotations),
        None => Some(&pod.annotations),
    };
    ann.is_some_and(|a| crate::chain::rules::consumers::reloader_restarts(a, secret, None))
}

/// `namespace/name` of every pod in `s`.
fn pod_names(s: &Snapshot) -> BTreeSet<String> {
    s.pods
        .items
        .iter()
        .map(|p| format!("{}/{}", p.namespace, p.name))
        .collect()
}

fn step_time(state: &StepState) -> Duration {
    match state {
        StepState::Done(d) => *d,
        _ => Duration::ZERO,
    }
}

/// The observed Key Vault secret `vault/object`, when the Azure side saw it.
pub(crate) fn vault_object<'a>(
    s: &'a Snapshot,
    vault: &str,
    object: &str,
) -> Option<&'a crate::snapshot::VaultObject> {
    s.azure
        .objects
        .iter()
        .find(|o| o.vault == vault && o.name == object && o.object_type == ObjectType::Secret)
        .and_then(|o| o.state.known())
        .and_then(|o| o.as_ref())
}

/// Follows a restart: the new pods being created, mounting, running and reading fresh env
/// (in that causal order: containers start only after every volume is ready), and the old
/// pod going away.
#[derive(Clone, Debug)]
pub struct RestartWatch {
    namespace: String,
    pod: String,
    /// The owner whose new pods replace the old one (None for a bare pod: nothing will).
    owner: Option<(String, String)>,
    /// Pods that existed before the action: the new pods are the others.
    before_pods: BTreeSet<String>,
    started_at: Timestamp,
    elapsed: Duration,
    deadline: Duration,
    steps: Steps,
    finished: bool,
    verdict: Vec<Step>,
}

impl RestartWatch {
    /// `owner` is the top-level workload (kind, name) being restarted, if any.
    pub fn new(
        before: &Snapshot,
        namespace: &str,
        pod: &str,
        owner: Option<(String, String)>,
    ) -> Self {
        RestartWatch {
            namespace: namespace.into(),
            pod: pod.into(),
            owner,
            before_pods: pod_names(before),
            started_at: before.source.observed_at,
            elapsed: Duration::ZERO,
            deadline: Duration::from_secs(300),
            steps: Steps::default(),
            finished: false,
            verdict: Vec::new(),
        }
    }

    /// The action happened at `at` on the source's clock (see [`RotationWatch::starting_at`]).
    pub fn starting_at(mut self, at: Timestamp) -> Self {
        self.started_at = self.started_at.max(at);
        self
    }

    /// The source's clock moved without a new snapshot.
    pub fn tick(&mut self, now: Timestamp) {
        if self.finished {
            return;
        }
        self.elapsed = self.elapsed.max(since(self.started_at, now));
        if self.elapsed >= self.deadline {
            self.finish_if_done();
        }
    }

    pub fn observe(&mut self, s: &Snapshot) {
        if self.finished {
            return;
        }
        self.elapsed = self
            .elapsed
            .max(since(self.started_at, s.source.observed_at));
        let now = self.elapsed;
        let old = s.pod(&self.namespace, &self.pod);
        let old_label = match old {
            Some(p) if p.deleting => format!("old pod {}: terminating", self.pod),
            _ => format!("old pod {}: gone", self.pod),
        };
        let old_state = match old {
            None => StepState::Done(now),
            Some(_) => StepState::Waiting,
        };
        self.steps.set("old".into(), old_label, old_state);

        let Some((kind, name)) = self.owner.clone() else {
            self.steps.set(
                "new".into(),
                "replacement pod".into(),
                StepState::Never("bare pod: nothing recreates it".into()),
            );
            self.finish_if_done();
            return;
        };
        let new_pods: Vec<&PodObs> = s
            .pods
            .items
            .iter()
            .filter(|p| {
                p.namespace == self.namespace
                    && p.name != self.pod
                    && !p.deleting
                    && !self
                        .before_pods
                        .contains(&format!("{}/{}", p.namespace, p.name))
                    && owned_by(s, p, &kind, &name)
            })
            .collect();
        // The restart happened no later than the first pod it created.
        if let Some(first) = new_pods
            .iter()
            .filter_map(|p| p.created_at)
            .min()
            .filter(|c| *c < self.started_at)
        {
            self.started_at = first;
            self.elapsed = self
                .elapsed
                .max(since(self.started_at, s.source.observed_at));
        }
        let now = self.elapsed;
        // The placeholder stands only until the first new pod is seen: after that the new
        // pods' own steps say where the rollout is.
        if new_pods.is_empty() {
            self.steps.set(
                "new".into(),
                format!("new pod of {kind}/{name}: created"),
                StepState::Waiting,
            );
        } else {
            self.steps.remove("new");
        }
        let want = s
            .workloads
            .items
            .iter()
            .find(|w| w.namespace == self.namespace && w.kind == kind && w.name == name)
            .and_then(|w| w.replicas)
            .map(|r| r.max(0) as usize);
        if let Some(want) = want.filter(|w| *w > 1) {
            let have = new_pods.len();
            let last = new_pods.iter().filter_map(|p| p.created_at).max();
            self.steps.set(
                "count".into(),
                format!("new pods of {kind}/{name}: {} of {want}", have.min(want)),
                match last {
                    Some(t) if have >= want => StepState::Done(since(self.started_at, t)),
                    _ => StepState::Waiting,
                },
            );
        }
        for p in new_pods {
            self.observe_new_pod(s, p, now);
        }
        self.finish_if_done();
    }

    fn observe_new_pod(&mut self, s: &Snapshot, p: &PodObs, now: Duration) {
        let key = format!("new:{}", p.name);
        let created = p.created_at.map_or(now, |c| since(self.started_at, c));
        self.steps.set(
            format!("{key}|created"),
            format!("new pod {}: created", p.name),
            StepState::Done(created),
        );
        let containers: Vec<_> = p.containers.iter().filter(|c| !c.init).collect();
        let started = |c: &crate::snapshot::ContainerObs| match &c.state {
            ContainerStateObs::Running { started_at } => Some(since(self.started_at, *started_at)),
            _ => None,
        };
        // A running container proves its volumes were ready before it started.
        let first_start = containers.iter().filter_map(|c| started(c)).min();
        let needs_mount = p
            .volumes
            .iter()
            .any(|v| matches!(v.source, VolumeSourceObs::Csi { .. }));
        let mut mounted_at = None;
        if needs_mount {
            let status = s
                .spc_statuses
                .items
                .iter()
                .find(|st| st.namespace == p.namespace && st.pod_name == p.name && st.mounted);
            mounted_at = status
                .map(|st| st.updated_at.map_or(now, |t| since(self.started_at, t)))
                .or(first_start)
                .map(|t| {
                    let t = first_start.map_or(t, |f| t.min(f));
                    t.max(created)
                });
            self.steps.set(
                format!("{key}|mounted"),
                format!("new pod {}: secrets mounted", p.name),
                mounted_at.map_or(StepState::Waiting, StepState::Done),
            );
        }
        let ready = mounted_at.unwrap_or(created);
        for c in containers {
            let running = started(c).map(|t| t.max(ready));
            self.steps.set(
                format!("{key}|{}|running", c.name),
                format!("new pod {} / {}: running", p.name, c.name),
                running.map_or(StepState::Waiting, StepState::Done),
            );
            for e in &c.env {
                let EnvSourceObs::SecretKey { secret, .. } = &e.source else {
                    continue;
                };
                let Some(sec) = s.secret(&p.namespace, secret) else {
                    continue;
                };
                let state = match (running, sec.updated_at) {
                    (Some(at), Some(updated)) if self.started_at + at >= updated => {
                        StepState::Done(at)
                    }
                    (Some(_), Some(_)) => StepState::Never(
                        "stale: the Secret changed after this container started".into(),
                    ),
                    (Some(at), None) => StepState::Done(at),
                    _ => StepState::Waiting,
                };
                self.steps.set(
                    format!("{key}|{}|env:{}", c.name, e.name),
                    format!("new pod {} / {}: env {} fresh", p.name, c.name, e.name),
                    state,
                );
            }
        }
    }

    fn finish_if_done(&mut self) {
        let resolved = !self.steps.order.is_empty()
            && self.steps.by_key.values().all(|s| s.state.is_terminal());
        if resolved || self.elapsed >= self.deadline {
            let limit = short_duration(self.deadline);
            self.steps
                .stick_waiting(|_| format!("no change observed within {limit}"));
            self.verdict = verdict(&self.steps, RESTART_HOPS);
            self.finished = true;
        }
    }

    pub fn timeline(&self) -> Timeline {
        let target = match &self.owner {
            Some((kind, name)) => format!("rollout restart of {kind}/{name}"),
            None => format!("delete of bare pod {}", self.pod),
        };
        // Causal order: what happened first comes first; what has not happened yet, last.
        let mut steps = self.steps.all();
        steps.sort_by_key(|s| match s.state {
            StepState::Done(d) => (0, d),
            _ => (1, Duration::ZERO),
        });
        Timeline {
            title: target,
            started_at: self.started_at,
            elapsed: self.elapsed,
            deadline: self.deadline,
            steps,
            finished: self.finished,
            verdict: self.verdict.clone(),
            follow_up: None,
        }
    }
}

/// Whether `pod` belongs to workload `kind/name` (directly, or through its ReplicaSet).
fn owned_by(s: &Snapshot, pod: &PodObs, kind: &str, name: &str) -> bool {
    pod.owners.iter().any(|o| {
        (o.kind == kind && o.name == name)
            || s.workloads.items.iter().any(|w| {
                w.namespace == pod.namespace
                    && w.kind == o.kind
                    && w.name == o.name
                    && w.owners.iter().any(|wo| wo.kind == kind && wo.name == name)
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::*;
    use std::collections::BTreeMap;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    fn spc() -> SpcObs {
        let mut params = BTreeMap::new();
        params.insert("keyvaultName".to_string(), "kv-pay".to_string());
        params.insert("tenantId".to_string(), "tenant".to_string());
        params.insert(
            "objects".to_string(),
            "array:\n  - |\n    objectName: db-pass\n    objectType: secret\n".to_string(),
        );
        SpcObs {
            namespace: "pay".into(),
            name: "spc".into(),
            annotations: Default::default(),
            provider: "azure".into(),
            parsed: crate::spc::parse(&params),
            parameters: params,
            secret_objects: vec![SecretObjectSpec {
                secret_name: "app-secrets".into(),
                type_: "Opaque".into(),
                labels: BTreeMap::new(),
                data: vec![SecretObjectData {
                    object_name: "db-pass".into(),
                    key: "password".into(),
                }],
            }],
        }
    }

    fn pod(name: &str, created: i64, started: i64, owner: &str) -> PodObs {
        let csi = VolumeObs {
            name: "kv".into(),
            source: VolumeSourceObs::Csi {
                driver: "secrets-store.csi.k8s.io".into(),
                read_only: Some(true),
                attributes: [("secretProviderClass".to_string(), "spc".to_string())].into(),
                node_publish_secret: None,
            },
        };
        let mount = |sub: Option<&str>| MountObs {
            volume: "kv".into(),
            path: "/mnt/kv".into(),
            sub_path: sub.map(String::from),
            read_only: true,
        };
        PodObs {
            namespace: "pay".into(),
            name: name.into(),
            service_account: "app".into(),
            owners: vec![OwnerRef {
                kind: "ReplicaSet".into(),
                name: owner.into(),
                uid: String::new(),
                controller: true,
            }],
            phase: "Running".into(),
            created_at: Some(t(created)),
            volumes: vec![csi],
            containers: vec![
                ContainerObs {
                    name: "app".into(),
                    mounts: vec![mount(None)],
                    env: vec![EnvObs {
                        name: "DB_PASS".into(),
                        source: EnvSourceObs::SecretKey {
                            secret: "app-secrets".into(),
                            key: "password".into(),
                            optional: false,
                        },
                    }],
                    state: ContainerStateObs::Running {
                        started_at: t(started),
                    },
                    ..Default::default()
                },
                ContainerObs {
                    name: "legacy".into(),
                    mounts: vec![mount(Some("db-pass"))],
                    state: ContainerStateObs::Running {
                        started_at: t(started),
                    },
                    ..Default::default()
                },
            ],
            ..Default::default()
        }
    }

    /// The world at `now` with the vault at `vault_v`, the pod mounted at `mounted_v`
    /// (written at `mount_t`) and the synced Secret at `secret_v` (written at `secret_t`).
    fn world(
        now: i64,
        vault_v: u8,
        mounted_v: u8,
        mount_t: i64,
        secret_v: u8,
        secret_t: i64,
    ) -> Snapshot {
        let fp = |v: u8| Fingerprint::of(&[b'v', v]);
        let ver = |v: u8| format!("{v:0>32}");
        let mut s = Snapshot::default();
        s.source.observed_at = t(now);
        s.cluster.csi_driver = Observed::Known(CsiDriverFacts {
            rotation_enabled: Observed::Known(true),
            ..Default::default()
        });
        s.spcs = Coll::known(vec![spc()]);
        s.pods = Coll::known(vec![pod("web-1", -3600, -3500, "web-6d9")]);
        s.spc_statuses = Coll::known(vec![SpcPodStatusObs {
            namespace: "pay".into(),
            name: "web-1-pay-spc".into(),
            pod_name: "web-1".into(),
            spc_name: "spc".into(),
            mounted: true,
            objects: vec![SpcpsObject {
                id: "secret/db-pass".into(),
                version: ver(mounted_v),
            }],
            updated_at: Some(t(mount_t)),
            files: Some([("db-pass".to_string(), fp(mounted_v))].into()),
            ..Default::default()
        }]);
        s.secrets = Coll::known(vec![SecretObs {
            namespace: "pay".into(),
            name: "app-secrets".into(),
            type_: "Opaque".into(),
            data: [("password".to_string(), fp(secret_v))].into(),
            updated_at: Some(t(secret_t)),
            ..Default::default()
        }]);
        s.azure.objects = vec![VaultObjectObs {
            vault: "kv-pay".into(),
            object_type: ObjectType::Secret,
            name: "db-pass".into(),
            state: Observed::Known(Some(VaultObject {
                versions: (1..=vault_v)
                    .rev()
                    .map(|v| ObjectVersion {
                        version: ver(v),
                        enabled: true,
                        created: Some(t(if v == 2 { 5 } else { -7200 })),
                        ..Default::default()
                    })
                    .collect(),
                latest_fingerprint: Some(fp(vault_v)),
                ..Default::default()
            })),
        }];
        s
    }

    fn state_of<'a>(tl: &'a Timeline, needle: &str) -> &'a StepState {
        &tl.steps
            .iter()
            .find(|s| s.label.contains(needle))
            .unwrap_or_else(|| panic!("no step {needle}: {tl:#?}"))
            .state
    }

    #[test]
    fn rotation_reaches_file_and_secret_but_not_env_or_subpath() {
        let mut w = RotationWatch::new(&world(0, 1, 1, -3000, 1, -3000), "kv-pay", "db-pass");
        w.observe(&world(30, 2, 1, -3000, 1, -3000));
        let tl = w.timeline();
        assert_eq!(
            *state_of(&tl, "new version"),
            StepState::Done(Duration::from_secs(5))
        );
        assert_eq!(*state_of(&tl, "mounted version"), StepState::Waiting);
        assert!(!tl.finished);

        w.observe(&world(115, 2, 2, 112, 2, 113));
        let tl = w.timeline();
        assert_eq!(
            *state_of(&tl, "mounted version"),
            StepState::Done(Duration::from_secs(112))
        );
        assert_eq!(
            *state_of(&tl, "file db-pass"),
            StepState::Done(Duration::from_secs(112))
        );
        assert_eq!(
            *state_of(&tl, "Secret app-secrets[password]"),
            StepState::Done(Duration::from_secs(113))
        );
        assert_eq!(
            *state_of(&tl, "app: CSI volume"),
            StepState::Done(Duration::from_secs(112))
        );
        assert!(
            matches!(state_of(&tl, "env DB_PASS"), StepState::Never(w) if w.contains("restart needed"))
        );
        assert!(
            matches!(state_of(&tl, "legacy: CSI volume"), StepState::Never(w) if w.contains("subPath"))
        );
        assert!(tl.finished, "every hop resolved: {tl:#?}");
        assert_eq!(state_of(&tl, "file db-pass").describe(), "✓ at +1m52s");
    }

    /// A re-stamp writes the same value: the file and the synced Secret already match it, so
    /// they must wait for the mounted version rather than resolve at once by content.
    #[test]
    fn restamp_follows_the_mounted_version_not_the_unchanged_content() {
        let restamped = |now, mounted_v, mount_t| {
            let mut s = world(now, 2, mounted_v, mount_t, 1, -3000);
            let same = Fingerprint::of(&[b'v', 1]);
            if let Observed::Known(Some(o)) = &mut s.azure.objects[0].state {
                o.latest_fingerprint = Some(same);
            }
            s.spc_statuses.items[0].files = Some([("db-pass".to_string(), same)].into());
            s
        };
        let mut w = RotationWatch::new(&world(0, 1, 1, -3000, 1, -3000), "kv-pay", "db-pass");
        w.observe(&restamped(30, 1, -3000));
        let tl = w.timeline();
        assert!(matches!(state_of(&tl, "new version"), StepState::Done(_)));
        assert_eq!(*state_of(&tl, "file db-pass"), StepState::Waiting);
        assert_eq!(
            *state_of(&tl, "Secret app-secrets[password]"),
            StepState::Waiting
        );

        w.observe(&restamped(115, 2, 112));
        let tl = w.timeline();
        let at_mount = StepState::Done(Duration::from_secs(112));
        assert_eq!(*state_of(&tl, "mounted version"), at_mount);
        assert_eq!(*state_of(&tl, "file db-pass"), at_mount);
        assert_eq!(*state_of(&tl, "Secret app-secrets[password]"), at_mount);
    }

    #[test]
    fn rotation_that_never_moves_is_stuck_after_two_polls_and_a_minute() {
        let mut w = RotationWatch::new(&world(0, 1, 1, -3000, 1, -3000), "kv-pay", "db-pass");
        w.observe(&world(60, 2, 1, -3000, 1, -3000));
        assert!(!w.timeline().finished);
        w.observe(&world(300, 2, 1, -3000, 1, -3000));
        let tl = w.timeline();
        assert!(tl.finished);
        assert!(
            matches!(state_of(&tl, "mounted version"), StepState::Stuck(w) if w.contains("two rotation polls"))
        );
    }

    #[test]
    fn rotation_disabled_is_never_with_the_reason() {
        let before = world(0, 1, 1, -3000, 1, -3000);
        let mut w = RotationWatch::new(&before, "kv-pay", "db-pass");
        let mut later = world(30, 2, 1, -3000, 1, -3000);
        later.cluster.csi_driver = Observed::Known(CsiDriverFacts {
            rotation_enabled: Observed::Known(false),
            ..Default::default()
        });
        w.observe(&later);
        let tl = w.timeline();
        assert!(
            matches!(state_of(&tl, "mounted version"), StepState::Never(w) if w.contains("rotation is disabled"))
        );
        assert!(matches!(
            state_of(&tl, "env DB_PASS"),
            StepState::Waiting | StepState::Never(_)
        ));
    }

    #[test]
    fn restart_of_a_deployment_ends_with_fresh_env() {
        let before = world(0, 2, 2, -10, 2, -10);
        let mut w = RestartWatch::new(
            &before,
            "pay",
            "web-1",
            Some(("Deployment".into(), "web".into())),
        );
        let mut after = world(40, 2, 2, -10, 2, -10);
        after.pods.items = vec![pod("web-2", 5, 30, "web-7aa")];
        after.spc_statuses.items[0].pod_name = "web-2".into();
        after.workloads = Coll::known(vec![WorkloadObs {
            kind: "ReplicaSet".into(),
            namespace: "pay".into(),
            name: "web-7aa".into(),
            owners: vec![OwnerRef {
                kind: "Deployment".into(),
                name: "web".into(),
                uid: String::new(),
                controller: true,
            }],
            ..Default::default()
        }]);
        w.observe(&after);
        let tl = w.timeline();
        assert_eq!(
            *state_of(&tl, "old pod web-1"),
            StepState::Done(Duration::from_secs(40))
        );
        assert_eq!(
            *state_of(&tl, "web-2 / app: env DB_PASS fresh"),
            StepState::Done(Duration::from_secs(30))
        );
        assert!(tl.finished, "{tl:#?}");
    }

    #[test]
    fn deleting_a_bare_pod_says_nothing_recreates_it() {
        let before = world(0, 1, 1, -10, 1, -10);
        let mut w = RestartWatch::new(&before, "pay", "web-1", None);
        let mut after = world(10, 1, 1, -10, 1, -10);
        after.pods.items.clear();
        w.observe(&after);
        let tl = w.timeline();
        assert!(
            matches!(state_of(&tl, "replacement"), StepState::Never(w) if w.contains("nothing recreates"))
        );
        assert!(tl.finished);
    }

    /// The Deployment `web` owning ReplicaSet `rs`, with Reloader watching it when `reloader`.
    fn deployment(rs: &str, reloader: bool) -> Vec<WorkloadObs> {
        let annotations = if reloader {
            [("reloader.stakater.com/auto".to_string(), "true".to_string())].into()
        } else {
            BTreeMap::new()
        };
        vec![
            WorkloadObs {
                kind: "Deployment".into(),
                namespace: "pay".into(),
                name: "web".into(),
                annotations,
                replicas: Some(1),
                ..Default::default()
            },
            WorkloadObs {
                kind: "ReplicaSet".into(),
                namespace: "pay".into(),
                name: rs.into(),
                owners: vec![OwnerRef {
                    kind: "Deployment".into(),
                    name: "web".into(),
                    uid: String::new(),
                    controller: true,
                }],
                ..Default::default()
            },
        ]
    }

    /// Issue 14: a quiet source sends no snapshot, yet its clock runs; the watch must end on
    /// that clock, with one verdict per hop.
    #[test]
    fn a_quiet_source_clock_ends_the_watch_with_a_verdict_per_hop() {
        let mut w = RotationWatch::new(&world(0, 1, 1, -3000, 1, -3000), "kv-pay", "db-pass");
        w.observe(&world(30, 2, 1, -3000, 1, -3000));
        w.tick(t(120));
        let tl = w.timeline();
        assert_eq!(tl.elapsed, Duration::from_secs(120), "follows the clock");
        assert!(!tl.finished);
        assert!(tl.verdict.is_empty(), "no verdict while watching");
        w.tick(t(300));
        let tl = w.timeline();
        assert!(tl.finished, "{tl:#?}");
        assert_eq!(tl.elapsed, Duration::from_secs(300));
        let hops: Vec<&str> = tl.verdict.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(
            hops,
            [
                "Key Vault: new version",
                "mounted file",
                "synced Secret",
                "volumes (0 of 2)",
                "env / restart"
            ],
            "{tl:#?}"
        );
        assert_eq!(tl.verdict[0].state, StepState::Done(Duration::from_secs(5)));
        assert!(
            matches!(&tl.verdict[1].state, StepState::Stuck(w) if w.contains("two rotation polls")),
            "{tl:#?}"
        );
    }

    /// The action time is the source's clock at the action, not the last (older) snapshot.
    #[test]
    fn times_count_from_the_action_on_the_source_clock() {
        let before = world(0, 1, 1, -3000, 1, -3000);
        let mut w = RotationWatch::new(&before, "kv-pay", "db-pass").starting_at(t(4));
        w.observe(&world(30, 2, 1, -3000, 1, -3000));
        assert_eq!(
            *state_of(&w.timeline(), "new version"),
            StepState::Done(Duration::from_secs(1))
        );
    }

    /// Reloader rolls the Deployment when the Secret changes: the old pod is not judged stale
    /// once it is gone, and env ends fresh in the new pod.
    #[test]
    fn reloader_rollout_is_followed_to_fresh_env_in_the_new_pods() {
        let mut w = RotationWatch::new(&world(0, 1, 1, -3000, 1, -3000), "kv-pay", "db-pass");
        // The poll updated file and Secret; Reloader has not rolled the Deployment yet.
        let mut polled = world(115, 2, 2, 112, 2, 113);
        polled.workloads = Coll::known(deployment("web-6d9", true));
        w.observe(&polled);
        let tl = w.timeline();
        assert_eq!(
            *state_of(&tl, "Deployment/web / app: env DB_PASS"),
            StepState::Waiting,
            "Reloader is expected to roll it: {tl:#?}"
        );
        assert!(!tl.finished);

        // Rolled: the old pod is gone, the new one started after the Secret changed.
        let mut rolled = world(150, 2, 2, 140, 2, 113);
        let mut workloads = deployment("web-6d9", true);
        workloads.extend(deployment("web-7aa", true).into_iter().skip(1));
        rolled.workloads = Coll::known(workloads);
        rolled.pods.items = vec![pod("web-2", 130, 140, "web-7aa")];
        rolled.pods.items[0].containers.truncate(1);
        rolled.spc_statuses.items[0].pod_name = "web-2".into();
        w.observe(&rolled);
        let tl = w.timeline();
        assert!(tl.finished, "{tl:#?}");
        assert_eq!(
            *state_of(&tl, "Deployment/web / app: env DB_PASS"),
            StepState::Done(Duration::from_secs(140))
        );
        assert!(
            !tl.steps.iter().any(|s| s.label.contains("web-1")),
            "no step for a pod that no longer exists: {tl:#?}"
        );
        assert!(
            !tl.steps
                .iter()
                .chain(&tl.verdict)
                .any(|s| matches!(s.state, StepState::Never(_) | StepState::Stuck(_))),
            "{tl:#?}"
        );
    }

    /// Without Reloader nothing restarts the pods: stale, with the remedy.
    #[test]
    fn without_reloader_env_is_stale_until_a_restart() {
        let mut w = RotationWatch::new(&world(0, 1, 1, -3000, 1, -3000), "kv-pay", "db-pass");
        let mut polled = world(115, 2, 2, 112, 2, 113);
        polled.workloads = Coll::known(deployment("web-6d9", false));
        w.observe(&polled);
        assert!(matches!(
            state_of(&w.timeline(), "Deployment/web / app: env DB_PASS"),
            StepState::Never(why) if why.contains("restart needed (R restarts Deployment/web)")
        ));
    }

    /// A re-stamp writes the value env already holds: env is never stale because of it.
    #[test]
    fn a_restamp_never_makes_env_stale() {
        for same_value in [Some(true), None] {
            let restamped = |now, mounted_v, mount_t| {
                let mut s = world(now, 2, mounted_v, mount_t, 1, -3000);
                let same = Fingerprint::of(&[b'v', 1]);
                if let Observed::Known(Some(o)) = &mut s.azure.objects[0].state {
                    o.latest_fingerprint = Some(same);
                }
                s.spc_statuses.items[0].files = Some([("db-pass".to_string(), same)].into());
                s.workloads = Coll::known(deployment("web-6d9", false));
                s
            };
            let w = RotationWatch::new(&world(0, 1, 1, -3000, 1, -3000), "kv-pay", "db-pass");
            let mut w = match same_value {
                Some(v) => w.same_value(v),
                None => w,
            };
            w.observe(&restamped(30, 1, -3000));
            w.observe(&restamped(115, 2, 112));
            let tl = w.timeline();
            assert!(
                matches!(state_of(&tl, "env DB_PASS"), StepState::Unaffected(_)),
                "{same_value:?}: {tl:#?}"
            );
            assert!(tl.finished, "{tl:#?}");
            assert!(
                !tl.verdict.iter().any(|s| matches!(
                    s.state,
                    StepState::Never(_) | StepState::Stuck(_)
                ) && s.label.contains("env")),
                "{tl:#?}"
            );
        }
    }

    /// Issue 14: created → secrets mounted → running → env fresh, in that order and with
    /// times that agree; no "did not move" once the new pod exists.
    #[test]
    fn restart_steps_are_causal_and_end_when_the_new_pod_runs_with_fresh_env() {
        let before = world(0, 2, 2, -10, 2, -10);
        let mut w = RestartWatch::new(
            &before,
            "pay",
            "web-1",
            Some(("Deployment".into(), "web".into())),
        );
        let mut rolling = world(3, 2, 2, -10, 2, -10);
        rolling.workloads = Coll::known(deployment("web-7aa", false));
        w.observe(&rolling);
        assert_eq!(
            *state_of(&w.timeline(), "new pod of Deployment/web"),
            StepState::Waiting
        );

        // The new pod was created at +5 and its container started at +7; its
        // SecretProviderClassPodStatus was only seen written at +9.
        let mut after = world(40, 2, 2, 9, 2, -10);
        after.workloads = Coll::known(deployment("web-7aa", false));
        let mut new_pod = pod("web-2", 5, 7, "web-7aa");
        new_pod.containers.truncate(1);
        after.pods.items = vec![new_pod];
        after.spc_statuses.items[0].pod_name = "web-2".into();
        w.observe(&after);
        let tl = w.timeline();
        assert!(tl.finished, "{tl:#?}");
        let order: Vec<&str> = tl
            .steps
            .iter()
            .map(|s| s.label.rsplit(": ").next().unwrap_or_default())
            .collect();
        assert_eq!(
            order,
            [
                "created",
                "secrets mounted",
                "running",
                "env DB_PASS fresh",
                "gone"
            ],
            "{tl:#?}"
        );
        let times: Vec<Duration> = tl.steps.iter().map(|s| step_time(&s.state)).collect();
        assert!(times.windows(2).all(|p| p[0] <= p[1]), "{tl:#?}");
        assert!(
            times[1] <= Duration::from_secs(7),
            "mounted before the container started: {tl:#?}"
        );
        assert!(
            !tl.steps
                .iter()
                .any(|s| matches!(s.state, StepState::Stuck(_))),
            "{tl:#?}"
        );
        let hops: Vec<&str> = tl.verdict.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(
            hops,
            [
                "new pods created",
                "secrets mounted",
                "containers running",
                "env fresh",
                "old pod gone"
            ]
        );
    }

    /// The caller's estimate of the source clock may run a few seconds ahead of the real
    /// action: a pod created "before" that estimate is still new, and times start at it.
    #[test]
    fn a_clock_estimate_ahead_of_the_source_still_finds_the_new_pods() {
        let before = world(0, 2, 2, -10, 2, -10);
        let mut w = RestartWatch::new(
            &before,
            "pay",
            "web-1",
            Some(("Deployment".into(), "web".into())),
        )
        .starting_at(t(10));
        let mut after = world(40, 2, 2, 5, 2, -10);
        after.workloads = Coll::known(deployment("web-7aa", false));
        let mut new_pod = pod("web-2", 5, 6, "web-7aa");
        new_pod.containers.truncate(1);
        after.pods.items = vec![new_pod];
        after.spc_statuses.items[0].pod_name = "web-2".into();
        w.observe(&after);
        let tl = w.timeline();
        assert!(tl.finished, "{tl:#?}");
        assert_eq!(
            *state_of(&tl, "web-2: created"),
            StepState::Done(Duration::ZERO)
        );
        assert_eq!(
            *state_of(&tl, "web-2 / app: running"),
            StepState::Done(Duration::from_secs(1))
        );

        let mut r = RotationWatch::new(&world(0, 1, 1, -3000, 1, -3000), "kv-pay", "db-pass")
            .starting_at(t(9));
        r.observe(&world(30, 2, 1, -3000, 1, -3000));
        assert_eq!(
            *state_of(&r.timeline(), "new version"),
            StepState::Done(Duration::ZERO),
            "the write happened no later than its version"
        );
        assert_eq!(r.timeline().started_at, t(5));
    }
}
