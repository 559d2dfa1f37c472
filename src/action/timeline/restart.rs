//! Following a restart: the new pods created, mounted, running with fresh env, and the old
//! pod gone.

use std::collections::BTreeSet;
use std::time::Duration;

use jiff::Timestamp;

use crate::chain::Chain;
use crate::chain::restart_plan::RestartPlan;
use crate::snapshot::{ContainerStateObs, PodObs, RolloutObs, Snapshot, VolumeSourceObs};

use super::failures::MountFailures;
use super::steps::{Hop, Step, StepState, Steps, Timeline, short_duration, since, verdict};
use old_pods::OldPods;
use stale::stale_secret;

const RESTART_HOPS: &[Hop] = &[
    ("new pods created", |k| k.ends_with("|created")),
    ("replacement pods", |k| k == "count" || k == "new"),
    ("secrets mounted", |k| k.ends_with("|mounted")),
    ("containers running", |k| k.ends_with("|running")),
    ("env fresh", |k| k.contains("|env:")),
    ("old pod gone", |k| k == "old"),
];

/// How long a restart is followed per pod it replaces. A StatefulSet replaces its pods one at
/// a time, each new one ready before the next old one goes, and a DaemonSet node by node
/// (maxUnavailable 1 by default): a rollout takes about as many pod starts (image pull,
/// secrets fetched, probes passed) as it has pods, so a fixed limit gave up on long ones
/// that were still moving.
const PER_POD: Duration = Duration::from_secs(120);
/// Never less: what one pod's replacement had before the limit grew with the pods.
const MIN_DEADLINE: Duration = Duration::from_secs(300);
/// Nor more: a rollout that has stalled is better told than waited on for an hour.
const MAX_DEADLINE: Duration = Duration::from_secs(30 * 60);

/// How long the restart of `pods` pods is followed before the watch gives up.
fn deadline_for(pods: usize) -> Duration {
    let pods = u32::try_from(pods).unwrap_or(u32::MAX);
    PER_POD
        .saturating_mul(pods)
        .clamp(MIN_DEADLINE, MAX_DEADLINE)
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
    /// Pods that existed before the action, by uid (`namespace/name` when the source gives
    /// none): the new pods are the others. A StatefulSet's replacement keeps the old name.
    before_pods: BTreeSet<String>,
    /// The uid of the pod restarted, when known: a pod of the same name with another uid is
    /// its replacement, not the pod itself.
    old_uid: Option<String>,
    /// Only the restarted pod is replaced (it was deleted), not every replica.
    one: bool,
    /// The DaemonSet's generation before the restart: its status counts the new template
    /// only once it has observed a later one.
    before_generation: Option<i64>,
    /// The owner's pods before the restart: how many a DaemonSet replaces when its status
    /// is not read.
    before_owned: usize,
    /// The owner's replicas before the restart: a rollout is done when all of them are gone.
    old_pods: OldPods,
    /// Old replicas gone of those, once the rollout replaces more than one.
    old_gone: Option<(usize, usize)>,
    title: Option<String>,
    started_at: Timestamp,
    elapsed: Duration,
    deadline: Duration,
    steps: Steps,
    /// New pods seen of the replicas the workload wants, when it wants more than one.
    count: Option<(usize, usize)>,
    /// New pods running (every app container started): the pods replaced so far, as the
    /// watch says when it gives up.
    replaced: usize,
    /// New pods whose mount fails since the restart, and why (their FailedMount events).
    failures: MountFailures,
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
        let old_uid = before
            .pod(namespace, pod)
            .map(|p| p.uid.to_string())
            .filter(|u| !u.is_empty());
        let old_pods = owner
            .as_ref()
            .map_or_else(OldPods::default, |(kind, name)| {
                OldPods::of(before, |p| {
                    p.namespace == namespace && owned_by(before, p, kind, name)
                })
            });
        let before_owned = old_pods.len();
        let before_generation = owner
            .as_ref()
            .and_then(|(kind, name)| before.workload(namespace, kind, name))
            .and_then(|w| w.rollout.as_ref()?.generation);
        RestartWatch {
            namespace: namespace.into(),
            pod: pod.into(),
            owner,
            before_pods: before.pods.items.iter().map(pod_key).collect(),
            old_uid,
            one: false,
            before_generation,
            before_owned,
            old_pods,
            old_gone: None,
            title: None,
            started_at: before.source.observed_at,
            elapsed: Duration::ZERO,
            // The owner's pods are what a rollout replaces, until its replicas are read.
            deadline: deadline_for(before_owned),
            steps: Steps::default(),
            count: None,
            replaced: 0,
            failures: MountFailures::new("FailedMount"),
            finished: false,
            verdict: Vec::new(),
        }
    }

    /// Follows `plan`, the restart of `namespace/pod` carried out: a deleted pod's one
    /// replacement, or the owner's rollout.
    pub fn for_plan(before: &Snapshot, namespace: &str, pod: &str, plan: &RestartPlan) -> Self {
        let mut w = RestartWatch::new(before, namespace, pod, plan.replacing_owner());
        w.one = plan.replaces_one_pod();
        if w.one {
            w.deadline = deadline_for(1);
        }
        w.title = Some(plan.title());
        w
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
        let now = self.elapsed;
        (self.failures).observe(s, self.started_at);
        self.failures.blame(chains);
        let old = s.pods.items.iter().find(|p| {
            p.namespace == self.namespace
                && p.name == self.pod
                && self.old_uid.as_ref().is_none_or(|u| p.uid == u.as_str())
        });
        let old_label = match old {
            Some(p) if p.deleting => format!("old pod {}: terminating", self.pod),
            _ => format!("old pod {}: gone", self.pod),
        };
        let old_state = match old {
            None => StepState::Done(now),
            Some(_) => StepState::Waiting,
        };

        let Some((kind, name)) = self.owner.clone() else {
            self.steps.set("old".into(), old_label, old_state);
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
                    // Without uids a pod of the old name cannot be told from the old pod.
                    && (p.name != self.pod || self.old_uid.is_some())
                    && !p.deleting
                    && !self.before_pods.contains(&pod_key(p))
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
        // Seen gone in this snapshot, it went no later than now; and a pod of its name (a
        // StatefulSet's replacement, another uid) can be created only once it is gone from
        // the API: no later than that creation either (audit VV4: "created" shown before
        // "gone"). Stamped after the start moved to the first new pod, as the others are.
        let old_state = match old_state {
            StepState::Done(_) => StepState::Done(
                (new_pods.iter())
                    .filter(|p| p.name == self.pod)
                    .filter_map(|p| p.created_at)
                    .map(|c| since(self.started_at, c))
                    .fold(now, Duration::min),
            ),
            other => other,
        };
        let object = s.workload(&self.namespace, &kind, &name);
        // A partition keeps the ordinals below it: only the one pod is followed there.
        let partitioned = kind == "StatefulSet"
            && object
                .and_then(|w| w.update.as_ref()?.partition)
                .unwrap_or(0)
                > 0;
        let n = self.old_pods.len();
        let (old_label, old_state) = match () {
            // A rollout replaces every replica: the old ones gone, not only the one `R` was
            // pressed on, say it is done.
            _ if !self.one && !partitioned && n > 1 => {
                let (gone, terminating) = self.old_pods.gone(s);
                self.old_gone = Some((gone, n));
                let leaving = match terminating {
                    0 => String::new(),
                    k => format!(", {k} terminating"),
                };
                (
                    format!("old pods of {kind}/{name}: {gone} of {n} gone{leaving}"),
                    match gone >= n {
                        true => StepState::Done(now),
                        false => StepState::Waiting,
                    },
                )
            }
            _ => (old_label, old_state),
        };
        self.steps.set("old".into(), old_label, old_state);
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
        let (want, counted) = match kind.as_str() {
            // A deleted pod is replaced by one pod; its siblings are not touched.
            _ if self.one => (None, None),
            "DaemonSet" => {
                let (want, counted) =
                    self.daemon_set_count(object.and_then(|w| w.rollout.as_ref()));
                (Some(want), counted)
            }
            // A partition keeps the ordinals below it: they are not replaced. It counts
            // replicas from ordinals.start (UpdateObs::updated_from), so replicas - partition
            // are replaced whatever the start.
            "StatefulSet" => {
                let partition = object
                    .and_then(|w| w.update.as_ref()?.partition)
                    .unwrap_or(0);
                (
                    object
                        .and_then(|w| w.replicas)
                        .map(|r| (r - partition).max(0) as usize),
                    None,
                )
            }
            // An Argo Rollout is not read: it replaces every pod it ran before the restart.
            "Rollout" => (Some(self.before_owned), None),
            _ => (
                object.and_then(|w| w.replicas).map(|r| r.max(0) as usize),
                None,
            ),
        };
        // The limit grows with the pods to replace (never shrinks: a watch already granted
        // the time keeps it).
        if let Some(want) = want {
            self.deadline = self.deadline.max(deadline_for(want));
        }
        if let Some(want) = want.filter(|w| *w > 1) {
            let (have, label, complete) = match counted {
                Some((have, label, complete)) => (have, label, complete),
                None => {
                    let have = new_pods.len().min(want);
                    (have, format!("{have} of {want}"), new_pods.len() >= want)
                }
            };
            self.count = Some((have, want));
            let last = new_pods.iter().filter_map(|p| p.created_at).max();
            self.steps.set(
                "count".into(),
                format!("new pods of {kind}/{name}: {label}"),
                match last {
                    Some(t) if complete => StepState::Done(since(self.started_at, t)),
                    _ if complete => StepState::Done(now),
                    _ => StepState::Waiting,
                },
            );
        }
        self.replaced = new_pods.iter().filter(|p| running(p)).count();
        for p in new_pods {
            self.observe_new_pod(s, p, now);
        }
        self.finish_if_done();
    }

    /// How many pods a DaemonSet's rollout replaces and, once its status has seen the
    /// restart (`observedGeneration` past the generation before it), how far it got by that
    /// status: (updated, label, complete) as `kubectl rollout status` judges it.
    fn daemon_set_count(
        &self,
        status: Option<&RolloutObs>,
    ) -> (usize, Option<(usize, String, bool)>) {
        let Some(st) = status else {
            return (self.before_owned, None);
        };
        let want = st.desired.max(0) as usize;
        let seen = match (
            st.generation,
            st.observed_generation,
            self.before_generation,
        ) {
            (Some(g), Some(o), Some(before)) => g > before && o >= g,
            _ => false,
        };
        if !seen {
            return (want, None);
        }
        let updated = (st.updated.max(0) as usize).min(want);
        let available = (st.available.max(0) as usize).min(want);
        let label = format!("{updated} of {want} updated, {available} available");
        (
            want,
            Some((updated, label, updated >= want && available >= want)),
        )
    }

    fn observe_new_pod(&mut self, s: &Snapshot, p: &PodObs, now: Duration) {
        let key = format!("new:{}", p.name);
        let created = p.created_at.map_or(now, |c| since(self.started_at, c));
        self.steps.set(
            format!("{key}|created"),
            format!("new pod {}: created", p.name),
            StepState::Done(created),
        );
        // A native sidecar may be the one that read the Secret: followed too.
        let containers: Vec<_> = p.app_and_sidecars().collect();
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
            let start = match &c.state {
                ContainerStateObs::Running { started_at } => Some(*started_at),
                _ => None,
            };
            // Every variable it took from a Secret at start, envFrom's included (the notion
            // the verify shares, audit VV1).
            let keys_of = |secret: &str| {
                (s.secret(&p.namespace, secret))
                    .map(|x| x.data.keys().map(String::as_str).collect())
            };
            for e in c.secret_env_reads(keys_of).reads {
                let Some(sec) = s.secret(&p.namespace, e.secret) else {
                    continue;
                };
                // Settled when the container starts: env is a start-time snapshot (FACTS
                // §4). It took the Secret as it was then: stale when the Secret changed
                // since, or when the Secret itself was behind the file this pod mounted (a
                // driver before v1.6 never rewrites an existing synced Secret at a restart,
                // only rotation does, FACTS §11; v1.6 may do so after the container read it).
                let state = match (running, start) {
                    (Some(_), Some(t)) if sec.updated_at.is_some_and(|u| u > t) => {
                        StepState::Never(
                            "stale: the Secret changed after this container started; restart it again to read the new value".into(),
                        )
                    }
                    (Some(at), Some(t)) => {
                        stale_secret(s, p, e.secret, e.key, t).unwrap_or(StepState::Done(at))
                    }
                    (Some(at), None) => StepState::Done(at),
                    _ => StepState::Waiting,
                };
                let from = if e.env_from { " (envFrom)" } else { "" };
                self.steps.set(
                    format!("{key}|{}|env:{}", c.name, e.var),
                    format!("new pod {} / {}: env {}{from} fresh", p.name, c.name, e.var),
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
            // How far a rollout of several pods got: new pods running, of those it replaces.
            let so_far = self.count.map(|(_, want)| (self.replaced.min(want), want));
            let (ns, failures) = (&self.namespace, &self.failures);
            // A new pod whose mount fails: what fails, on each of its hops still waiting, in
            // kvchain's words (code, link, short cause): the event's text quotes what the
            // provider and Key Vault answered (audit WWW-rules, as VVV-time's rotation).
            let failing = |key: &str| {
                let pod = key.strip_prefix("new:")?.split('|').next()?;
                failures.cause_of_pod(ns, pod)
            };
            self.steps.stick_waiting(|key| match (key, so_far) {
                (_, _) if let Some(why) = failing(key) => {
                    format!("its volume does not mount: {why}")
                }
                // A rolling update creates the next new pod only when one became ready.
                ("count", Some((replaced, want))) => format!(
                    "the rollout stalled: {replaced} of {want} pods replaced (a new one running) when the watch gave up after {limit}; a rolling update replaces the next old pod only once a new one is ready"
                ),
                (_, Some((replaced, want))) => format!(
                    "no change observed within {limit} ({replaced} of {want} pods replaced)"
                ),
                (_, None) => format!("no change observed within {limit}"),
            });
            self.verdict = verdict(&self.steps, RESTART_HOPS);
            self.count_in_verdict();
            if let Some((gone, n)) = self.old_gone
                && let Some(line) = (self.verdict.iter_mut()).find(|l| l.label == "old pod gone")
            {
                line.label = format!("old pods gone ({gone} of {n})");
            }
            self.finished = true;
        }
    }

    /// "new pods created (N of M)" counts the replicas the workload wants, not only the pods
    /// that exist: a stalled rolling update shows `1 of 2`, with why.
    fn count_in_verdict(&mut self) {
        let (Some((have, want)), Some(count)) = (self.count, self.steps.by_key.get("count")) else {
            return;
        };
        let state = match &count.state {
            StepState::Done(_) => None,
            other => Some(other.clone()),
        };
        self.verdict
            .retain(|v| !v.label.starts_with("replacement pods"));
        let label = format!("new pods created ({have} of {want})");
        match self
            .verdict
            .iter_mut()
            .find(|v| v.label.starts_with("new pods created"))
        {
            Some(v) => {
                v.label = label;
                if let Some(st) = state {
                    v.state = st;
                }
            }
            None => self.verdict.insert(
                0,
                Step {
                    label,
                    state: state.unwrap_or_default(),
                },
            ),
        }
    }

    pub fn timeline(&self) -> Timeline {
        let target = match (&self.title, &self.owner) {
            (Some(title), _) => title.clone(),
            (None, Some((kind, name))) => format!("rollout restart of {kind}/{name}"),
            (None, None) => format!("delete of bare pod {}", self.pod),
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

/// Every app container of `p` has started: the pod has replaced the old one.
fn running(p: &PodObs) -> bool {
    let mut app = p.containers.iter().filter(|c| !c.init).peekable();
    app.peek().is_some() && app.all(|c| matches!(c.state, ContainerStateObs::Running { .. }))
}

/// A pod's identity across a restart: its uid, else `namespace/name`.
fn pod_key(p: &PodObs) -> String {
    match p.uid.is_empty() {
        true => format!("{}/{}", p.namespace, p.name),
        false => p.uid.to_string(),
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

mod old_pods;
mod stale;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_old_pods;
