//! Steps and their states, the timeline a watch reports, and the verdict: one line per hop,
//! the worst of its steps.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;

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

pub(super) fn since(start: Timestamp, t: Timestamp) -> Duration {
    t.duration_since(start).try_into().unwrap_or(Duration::ZERO)
}

/// Ordered steps by stable key, so re-observing updates in place.
#[derive(Clone, Debug, Default)]
pub(super) struct Steps {
    pub(super) order: Vec<String>,
    pub(super) by_key: BTreeMap<String, Step>,
}

impl Steps {
    /// Set a step unless it already reached a terminal state (a hop never un-happens).
    pub(super) fn set(&mut self, key: String, label: String, state: StepState) {
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
    pub(super) fn put(&mut self, key: String, label: String, state: StepState) {
        match self.by_key.get_mut(&key) {
            Some(step) => *step = Step { label, state },
            None => {
                self.order.push(key.clone());
                self.by_key.insert(key, Step { label, state });
            }
        }
    }
    pub(super) fn remove(&mut self, key: &str) {
        if self.by_key.remove(key).is_some() {
            self.order.retain(|k| k != key);
        }
    }
    /// Drop the steps whose key `keep` rejects (pods that no longer exist).
    pub(super) fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        self.order.retain(|k| keep(k));
        self.by_key.retain(|k, _| keep(k));
    }
    pub(super) fn all(&self) -> Vec<Step> {
        self.order.iter().map(|k| self.by_key[k].clone()).collect()
    }
    pub(super) fn keyed(&self) -> impl Iterator<Item = (&str, &Step)> {
        self.order.iter().map(|k| (k.as_str(), &self.by_key[k]))
    }
    pub(super) fn stick_waiting(&mut self, why: impl Fn(&str) -> String) {
        for (key, step) in self.by_key.iter_mut() {
            if step.state == StepState::Waiting {
                step.state = StepState::Stuck(why(key));
            }
        }
    }
}

/// The hops of a verdict: a name, and which step keys belong to it.
pub(super) type Hop = (&'static str, fn(&str) -> bool);

/// One line per hop: the worst state among its steps, with how many reached it.
pub(super) fn verdict(steps: &Steps, hops: &[Hop]) -> Vec<Step> {
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
    let (worst_key, worst) = keyed.iter().min_by_key(|(_, s)| rank(&s.state))?;
    let n = subjects.len();
    let reached = subjects.values().filter(|ok| **ok).count();
    // The worst step speaks for its subject; others not reached may need something else (a
    // DaemonSet's restart is not a Job's), which their own steps say (audit EEE5). When every
    // step not reached gives the worst's very reason (rotation off in the driver: each pod
    // keeps its version), the line says so rather than send the reader to look for other
    // reasons and restarts that the steps do not hold (audit XA-users).
    let others = n - reached;
    let why_of = |st: &StepState| match st {
        StepState::Never(w) | StepState::Stuck(w) => Some(w.clone()),
        _ => None,
    };
    let one_reason = steps
        .iter()
        .filter(|s| !matches!(s.state, StepState::Done(_) | StepState::Unaffected(_)))
        .all(|s| why_of(&s.state).is_some() && why_of(&s.state) == why_of(&worst.state));
    // Which subjects have not the new value, by name (`pod pinned`, as its steps are
    // labelled): "(0 of 2) ✗ never — …; 1 more of the 2 not reached" read as one pod where
    // two had not, and named neither (audit XE-tui).
    let name = |key: &str| {
        let of = subject(key);
        (keyed.iter())
            .find(|(k, _)| subject(k) == of)
            .map(|(_, s)| s.label.split_once(": ").map_or(&*s.label, |(a, _)| a))
            .unwrap_or(key)
            .to_string()
    };
    let more = |why: &String| match others {
        _ if n == 1 => why.clone(),
        0 | 1 => format!("{}: {why}", name(worst_key)),
        k if one_reason && k == n => format!("none of the {n}: {why}"),
        k if one_reason => format!("{k} of the {n}: {why}"),
        // A pod's mount needs no restart: only consumers' steps name one.
        k => format!(
            "{}: {why}; {} more of the {n} not reached, each with its own reason{} in the steps",
            name(worst_key),
            k - 1,
            if hop == "mounted file" {
                ""
            } else {
                " and restart"
            }
        ),
    };
    let state = match &worst.state {
        StepState::Done(_) => StepState::Done(
            steps
                .iter()
                .map(|s| step_time(&s.state))
                .max()
                .unwrap_or_default(),
        ),
        StepState::Never(why) => StepState::Never(more(why)),
        StepState::Stuck(why) => StepState::Stuck(more(why)),
        other => other.clone(),
    };
    let label = if n > 1 {
        format!("{hop} ({reached} of {n})")
    } else {
        hop.to_string()
    };
    Some(Step { label, state })
}

pub(super) fn step_time(state: &StepState) -> Duration {
    match state {
        StepState::Done(d) => *d,
        _ => Duration::ZERO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Audit EEE5: the hop's line speaks for its worst subject; the others not reached are
    /// counted, their own steps saying what each needs.
    #[test]
    fn a_hop_line_counts_the_other_subjects_not_reached() {
        let mut steps = Steps::default();
        for (wl, why) in [("a", "restart A"), ("b", "restart B"), ("c", "delete C")] {
            let key = format!("wl:{wl}|app|env:X");
            steps.put(key, wl.into(), StepState::Never(why.into()));
        }
        steps.put(
            "wl:d|app|env:X".into(),
            "d".into(),
            StepState::Done(Duration::ZERO),
        );
        let hops: &[Hop] = &[("env / restart", |k| k.contains("|env:"))];
        let [line] = verdict(&steps, hops).try_into().unwrap();
        assert_eq!(line.label, "env / restart (1 of 4)");
        let StepState::Never(why) = &line.state else {
            panic!("{line:?}")
        };
        assert!(
            why.ends_with(
                "; 2 more of the 4 not reached, each with its own reason and restart in the steps"
            ),
            "{why}"
        );
        // One subject not reached: its reason is the whole story.
        let mut one = Steps::default();
        one.put(
            "wl:a|app|env:X".into(),
            "a".into(),
            StepState::Never("restart A".into()),
        );
        let [line] = verdict(&one, hops).try_into().unwrap();
        assert_eq!(line.state, StepState::Never("restart A".into()));
    }
}
