//! Following a restart: the new pods created, mounted, running with fresh env, and the old
//! pod gone.

use std::collections::BTreeSet;
use std::time::Duration;

use jiff::Timestamp;

use crate::snapshot::{ContainerStateObs, EnvSourceObs, PodObs, Snapshot, VolumeSourceObs};

use super::steps::{
    Hop, Step, StepState, Steps, Timeline, pod_names, short_duration, since, verdict,
};

const RESTART_HOPS: &[Hop] = &[
    ("new pods created", |k| k.ends_with("|created")),
    ("replacement pods", |k| k == "count" || k == "new"),
    ("secrets mounted", |k| k.ends_with("|mounted")),
    ("containers running", |k| k.ends_with("|running")),
    ("env fresh", |k| k.contains("|env:")),
    ("old pod gone", |k| k == "old"),
];

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
    /// New pods seen of the replicas the workload wants, when it wants more than one.
    count: Option<(usize, usize)>,
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
            count: None,
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
            self.count = Some((have.min(want), want));
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
                let EnvSourceObs::SecretKey {
                    secret,
                    key: secret_key,
                    ..
                } = &e.source
                else {
                    continue;
                };
                let Some(sec) = s.secret(&p.namespace, secret) else {
                    continue;
                };
                // Fresh from the Secret is not fresh when the Secret itself is behind the
                // file this pod mounted: a restart never rewrites an existing synced Secret,
                // only rotation does (FACTS §11).
                if let (Some(_), Some(stale)) = (running, stale_secret(s, p, secret, secret_key)) {
                    self.steps.set(
                        format!("{key}|{}|env:{}", c.name, e.name),
                        format!("new pod {} / {}: env {} fresh", p.name, c.name, e.name),
                        stale,
                    );
                    continue;
                }
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
            self.steps.stick_waiting(|key| match key {
                // A rolling update creates the next new pod only when one became ready.
                "count" => format!(
                    "the rollout stalled: a rolling update replaces old pods only as new ones become ready, and none did within {limit}"
                ),
                _ => format!("no change observed within {limit}"),
            });
            self.verdict = verdict(&self.steps, RESTART_HOPS);
            self.count_in_verdict();
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
/// The env step's state when the synced Secret's `key` differs from the file `pod` mounted
/// for it: waiting for rotation's next poll when rotation is on, never otherwise (the driver
/// does not rewrite an existing Secret at mount; FACTS §11). None when they agree or the
/// source cannot see the pod's files.
fn stale_secret(s: &Snapshot, pod: &PodObs, secret: &str, key: &str) -> Option<StepState> {
    let (file, mounted) = s.mounted_for_key(pod, secret, key)?;
    let held = s.secret(&pod.namespace, secret)?.data.get(key)?;
    if *held == mounted {
        return None;
    }
    let rotation = s
        .cluster
        .csi_driver
        .known()
        .and_then(|d| d.rotation_enabled.known().copied());
    Some(match rotation {
        Some(true) => StepState::Waiting,
        Some(false) => StepState::Never(format!(
            "Secret {secret} is stale: key {key} differs from file {file} this pod mounted, and a restart never rewrites an existing synced Secret — only rotation does, and it is off (FACTS §11)"
        )),
        None => StepState::Never(format!(
            "Secret {secret} is stale: key {key} differs from file {file} this pod mounted; a restart never rewrites an existing synced Secret — only rotation does, if it is on (FACTS §11)"
        )),
    })
}

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
    use super::super::RotationWatch;
    use super::super::steps::step_time;
    use super::super::testkit::*;
    use super::*;
    use crate::snapshot::*;

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
        after.pods.items = vec![pod("web-2", 5, 30, "web-7aa")].into();
        after.spc_statuses.items[0].pod_name = "web-2".into();
        after.workloads = Coll::known(vec![WorkloadObs {
            kind: "ReplicaSet".into(),
            namespace: "pay".into(),
            name: "web-7aa".into(),
            owners: vec![OwnerRef {
                kind: "Deployment".into(),
                name: "web".into(),
                uid: Default::default(),
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

    /// FACTS §11: a restart does not rewrite an existing synced Secret; with rotation off the
    /// new pod's env comes from a Secret behind the file it mounted, which is not fresh.
    #[test]
    fn env_from_a_secret_behind_the_mounted_file_is_not_fresh() {
        let restart = |rotation: Observed<bool>| {
            let before = world(0, 2, 1, -10, 1, -10);
            let mut w = RestartWatch::new(
                &before,
                "pay",
                "web-1",
                Some(("Deployment".into(), "web".into())),
            );
            // The new pod mounted version 2; the Secret still holds version 1.
            let mut after = world(40, 2, 2, 20, 1, -3600);
            after.cluster.csi_driver = Observed::Known(CsiDriverFacts {
                rotation_enabled: rotation,
                ..Default::default()
            });
            after.pods.items = vec![pod("web-2", 5, 30, "web-7aa")].into();
            after.spc_statuses.items[0].pod_name = "web-2".into();
            after.workloads = Coll::known(deployment("web-7aa", false));
            w.observe(&after);
            w.timeline()
        };
        let off = restart(Observed::Known(false));
        let StepState::Never(why) = state_of(&off, "web-2 / app: env DB_PASS fresh") else {
            panic!("{off:#?}");
        };
        assert!(
            why.contains("app-secrets") && why.contains("password") && why.contains("db-pass"),
            "{why}"
        );
        assert!(why.contains("rotation") && why.contains("off"), "{why}");
        let on = restart(Observed::Known(true));
        assert_eq!(
            *state_of(&on, "web-2 / app: env DB_PASS fresh"),
            StepState::Waiting,
            "rotation's next poll rewrites it"
        );
        // The same Secret agreeing with the file is fresh.
        let before = world(0, 2, 2, -10, 2, -10);
        let mut w = RestartWatch::new(
            &before,
            "pay",
            "web-1",
            Some(("Deployment".into(), "web".into())),
        );
        let mut after = world(40, 2, 2, 20, 2, -10);
        after.pods.items = vec![pod("web-2", 5, 30, "web-7aa")].into();
        after.spc_statuses.items[0].pod_name = "web-2".into();
        after.workloads = Coll::known(deployment("web-7aa", false));
        w.observe(&after);
        assert!(matches!(
            state_of(&w.timeline(), "web-2 / app: env DB_PASS fresh"),
            StepState::Done(_)
        ));
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
        after.pods.items = vec![new_pod].into();
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
        after.pods.items = vec![new_pod].into();
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
