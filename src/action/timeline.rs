//! Watching a rotation or a restart propagate, hop by hop.
//!
//! Pure: a watch is fed successive [`Snapshot`]s and reports a [`Timeline`] of steps with
//! times relative to the action. It sees only observations, so it works the same on the lab
//! and on live clusters (where file contents are unknown until verified in the container).

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;

use crate::fingerprint::Fingerprint;
use crate::snapshot::{
    ContainerStateObs, EnvSourceObs, ObjectType, PodObs, Snapshot, SpcObs, VolumeSourceObs,
};

/// Where one hop stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepState {
    Waiting,
    /// Reached, this long after the action.
    Done(Duration),
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
            StepState::Never(why) => format!("✗ never — {why}"),
            StepState::Unknown(why) => format!("? {why}"),
            StepState::Stuck(why) => format!("✗ did not move — {why}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub label: String,
    pub state: StepState,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timeline {
    pub title: String,
    pub started_at: Timestamp,
    /// Source time elapsed since the action.
    pub elapsed: Duration,
    pub deadline: Duration,
    pub steps: Vec<Step>,
    pub finished: bool,
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
    fn all(&self) -> Vec<Step> {
        self.order.iter().map(|k| self.by_key[k].clone()).collect()
    }
    fn stick_waiting(&mut self, why: impl Fn(&str) -> String) {
        for (key, step) in self.by_key.iter_mut() {
            if step.state == StepState::Waiting {
                step.state = StepState::Stuck(why(key));
            }
        }
    }
}

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
    poll: Duration,
    elapsed: Duration,
    steps: Steps,
    finished: bool,
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
            poll,
            elapsed: Duration::ZERO,
            steps: Steps::default(),
            finished: false,
        }
    }

    /// Two poll intervals plus a minute: long enough for any healthy chain to move.
    pub fn deadline(&self) -> Duration {
        self.poll * 2 + Duration::from_secs(60)
    }

    pub fn observe(&mut self, s: &Snapshot) {
        if self.finished {
            return;
        }
        self.elapsed = since(self.started_at, s.source.observed_at);
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
        for spc in spcs {
            for pod in s.pods.items.iter().filter(|p| {
                p.namespace == spc.namespace && p.template_of.is_none() && p.mounts_spc(&spc.name)
            }) {
                self.observe_pod(s, spc, pod, rotation_off);
            }
        }
        let resolved = self.steps.by_key.values().all(|st| st.state.is_terminal());
        if (resolved && self.new_version.is_some() && !self.steps.order.is_empty())
            || self.elapsed >= self.deadline()
        {
            let poll = short_duration(self.poll);
            self.steps.stick_waiting(|key| match key.rsplit('|').next() {
                Some("vault") => "the vault shows no new version".to_string(),
                Some("mount") => format!("the mounted version (SecretProviderClassPodStatus) did not change within two rotation polls ({poll}); check the driver and provider logs"),
                Some("file") => "the mounted file content did not change".to_string(),
                Some("secret") => "the synced Secret was not updated; check FailedToCreateSecret events".to_string(),
                _ => "no change observed".to_string(),
            });
            self.finished = true;
        }
    }

    /// The content to look for downstream, when the new version carries a new value. A
    /// re-stamp (same value, new version) leaves every file and synced Secret byte-identical,
    /// so content proves nothing there: those hops follow the mounted version instead.
    fn new_content(&self) -> Option<Fingerprint> {
        self.new_fingerprint
            .filter(|fp| self.old_fingerprint.is_none_or(|old| old != *fp))
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
        let pod_key = format!("{}/{}", pod.namespace, pod.name);
        let now = self.elapsed;
        let created_after = pod.created_at.is_some_and(|c| c >= self.started_at);
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
        let mut secret_updates: BTreeMap<&str, Option<Duration>> = BTreeMap::new();
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
                            && self.new_fingerprint.is_some()
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
                let done_at = match &state {
                    StepState::Done(d) => Some(*d),
                    _ => None,
                };
                secret_updates.insert(so.secret_name.as_str(), done_at);
                self.steps.set(key, label, state);
            }
        }

        // Consumers in this pod.
        for c in pod.containers.iter().filter(|c| !c.init) {
            for m in &c.mounts {
                let Some(vol) = pod.volume(&m.volume) else {
                    continue;
                };
                let via = match &vol.source {
                    VolumeSourceObs::Csi { attributes, .. }
                        if attributes.get("secretProviderClass") == Some(&spc.name) =>
                    {
                        Some((file_done, step_time(&file_state), "CSI volume"))
                    }
                    VolumeSourceObs::Secret { secret_name, .. } => secret_updates
                        .get(secret_name.as_str())
                        .map(|d| (d.is_some(), d.unwrap_or_default(), "Secret volume")),
                    _ => None,
                };
                let Some((done, at, kind)) = via else {
                    continue;
                };
                let key = format!("{pod_key}|{}|mount:{}", c.name, m.path);
                let label = format!("pod {} / {}: {kind} at {}", pod.name, c.name, m.path);
                let state = if m.sub_path.is_some() {
                    StepState::Never(format!(
                        "subPath {} never sees rotated content",
                        m.sub_path.as_deref().unwrap_or_default()
                    ))
                } else if done {
                    StepState::Done(at)
                } else if matches!(file_state, StepState::Unknown(_)) && kind == "CSI volume" {
                    file_state.clone()
                } else {
                    StepState::Waiting
                };
                self.steps.set(key, label, state);
            }
            for e in &c.env {
                let EnvSourceObs::SecretKey { secret, .. } = &e.source else {
                    continue;
                };
                let Some(update) = secret_updates.get(secret.as_str()) else {
                    continue;
                };
                let key = format!("{pod_key}|{}|env:{}", c.name, e.name);
                let label = format!("pod {} / {}: env {}", pod.name, c.name, e.name);
                let started = match &c.state {
                    ContainerStateObs::Running { started_at } => Some(*started_at),
                    _ => None,
                };
                let state = match (update, started) {
                    (Some(at), Some(started)) => {
                        let secret_time = self.started_at + *at;
                        if started >= secret_time {
                            StepState::Done(since(self.started_at, started))
                        } else {
                            StepState::Never(format!(
                                "stale: env read at container start ({}), restart needed",
                                started.strftime("%H:%M:%S")
                            ))
                        }
                    }
                    _ => StepState::Waiting,
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
        }
    }
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

/// Follows a restart: the old pod going away, its replacement mounting and running, and the
/// env consumers of synced Secrets reading fresh values.
#[derive(Clone, Debug)]
pub struct RestartWatch {
    namespace: String,
    pod: String,
    /// The owner whose new pods replace the old one (None for a bare pod: nothing will).
    owner: Option<(String, String)>,
    started_at: Timestamp,
    elapsed: Duration,
    deadline: Duration,
    steps: Steps,
    finished: bool,
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
            started_at: before.source.observed_at,
            elapsed: Duration::ZERO,
            deadline: Duration::from_secs(300),
            steps: Steps::default(),
            finished: false,
        }
    }

    pub fn observe(&mut self, s: &Snapshot) {
        if self.finished {
            return;
        }
        self.elapsed = since(self.started_at, s.source.observed_at);
        let now = self.elapsed;
        let old = s.pod(&self.namespace, &self.pod);
        let old_state = match old {
            None => StepState::Done(now),
            Some(p) if p.deleting => StepState::Waiting,
            Some(_) => StepState::Waiting,
        };
        let old_label = match old {
            Some(p) if p.deleting => format!("old pod {}: terminating", self.pod),
            _ => format!("old pod {}: gone", self.pod),
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
                    && p.created_at.is_some_and(|c| c >= self.started_at)
                    && owned_by(s, p, &kind, &name)
            })
            .collect();
        if new_pods.is_empty() {
            self.steps.set(
                "new".into(),
                format!("new pod of {kind}/{name}: created"),
                StepState::Waiting,
            );
        }
        for p in new_pods {
            let key = format!("new:{}", p.name);
            let created = p.created_at.map_or(now, |c| since(self.started_at, c));
            self.steps.set(
                format!("{key}|created"),
                format!("new pod {}: created", p.name),
                StepState::Done(created),
            );
            let mounted = s
                .spc_statuses
                .items
                .iter()
                .any(|st| st.namespace == p.namespace && st.pod_name == p.name && st.mounted);
            let needs_mount = p
                .volumes
                .iter()
                .any(|v| matches!(v.source, VolumeSourceObs::Csi { .. }));
            if needs_mount {
                self.steps.set(
                    format!("{key}|mounted"),
                    format!("new pod {}: secrets mounted", p.name),
                    if mounted {
                        StepState::Done(now)
                    } else {
                        StepState::Waiting
                    },
                );
            }
            for c in p.containers.iter().filter(|c| !c.init) {
                let running = match &c.state {
                    ContainerStateObs::Running { started_at } => Some(*started_at),
                    _ => None,
                };
                self.steps.set(
                    format!("{key}|{}|running", c.name),
                    format!("new pod {} / {}: running", p.name, c.name),
                    running.map_or(StepState::Waiting, |t| {
                        StepState::Done(since(self.started_at, t))
                    }),
                );
                for e in &c.env {
                    let EnvSourceObs::SecretKey { secret, .. } = &e.source else {
                        continue;
                    };
                    let Some(sec) = s.secret(&p.namespace, secret) else {
                        continue;
                    };
                    let state = match (running, sec.updated_at) {
                        (Some(started), Some(updated)) if started >= updated => {
                            StepState::Done(since(self.started_at, started))
                        }
                        (Some(_), Some(_)) => StepState::Never(
                            "stale: the Secret changed after this container started".into(),
                        ),
                        (Some(started), None) => StepState::Done(since(self.started_at, started)),
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
        self.finish_if_done();
    }

    fn finish_if_done(&mut self) {
        let resolved = self.steps.by_key.values().all(|s| s.state.is_terminal());
        if resolved || self.elapsed >= self.deadline {
            self.steps
                .stick_waiting(|_| "no change observed within 5 minutes".into());
            self.finished = true;
        }
    }

    pub fn timeline(&self) -> Timeline {
        let target = match &self.owner {
            Some((kind, name)) => format!("rollout restart of {kind}/{name}"),
            None => format!("delete of bare pod {}", self.pod),
        };
        Timeline {
            title: target,
            started_at: self.started_at,
            elapsed: self.elapsed,
            deadline: self.deadline,
            steps: self.steps.all(),
            finished: self.finished,
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
}
