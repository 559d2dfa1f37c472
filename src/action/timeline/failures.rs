//! Why a pod's mount did not move during a rotation or restart test, when its events say: the
//! driver's rotation poll (MountRotationFailed) or the kubelet's mount (FailedMount) fails
//! (FACTS §3) for a cause the diagnosis classifies (a missing grant, a federated credential
//! that does not match…). A timeline that only said "check the driver and provider logs" or
//! "no change observed" beside a strip already showing the broken link sent the user looking
//! in the wrong place (audit D3, D11).
//!
//! The cause is the diagnosis' own where it has one: the finding whose evidence is that event
//! (the rule that read the objects knows which FIC field, which role, which tenant). The
//! event's text alone is the fallback: AADSTS700016 reads as "no such identity" though the
//! identity exists and the SPC's tenant is wrong (FACTS §11), a 403 as any missing grant
//! (audit EEE2).

use std::borrow::Borrow;
use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::chain::chain_events::about_pod_seen;
use crate::chain::events::classify_event;
use crate::chain::rules::history::alike_label;
use crate::chain::rules::is_contradicted;
use crate::chain::{Chain, Code};
use crate::snapshot::{PodObs, Snapshot};

/// The latest failure of one pod: the code that explains it (its event's text is not kept:
/// it quotes the provider's error and Key Vault's answer, which kvchain never shows as a
/// timeline's reason).
#[derive(Clone, Debug)]
struct Failure {
    /// Which pod of its name it is about (the event's `involvedObject.uid`, else when it was
    /// last seen): a pod made again under the name is another pod (FACTS §1, §11).
    uid: String,
    last_seen: Option<Timestamp>,
    /// From the event's text; replaced by the diagnosis' finding citing the event.
    code: Option<Code>,
    /// How the code is said: the code, or every code the event may stand for when nothing
    /// read tells them apart (`history::alike_label`).
    label: Option<String>,
    /// The explaining finding's own words on the chain strip (`catalog::label`: a provider
    /// not ready on the node is "no provider", not its code's "no driver"), where one finding
    /// names the cause.
    words: Option<&'static str>,
}

/// Per pod (`namespace/name`): the latest failure of one event reason seen since the test
/// started, said as "its latest <reason> is <code> (<link> link: <short cause>)". Only the pod now under the name
/// has one: an earlier pod's failure is not the reason the pod re-created under its name
/// (a StatefulSet's) is stuck (audit UUU-time2).
#[derive(Clone, Debug, Default)]
pub(super) struct MountFailures {
    reason: &'static str,
    by_pod: BTreeMap<String, Failure>,
}

impl MountFailures {
    pub fn new(reason: &'static str) -> Self {
        MountFailures {
            reason,
            by_pod: BTreeMap::new(),
        }
    }

    /// Events of this reason about pods, last seen at or after `since`, that are about the
    /// pod now under their name (any, when `s` does not hold one).
    pub fn observe(&mut self, s: &Snapshot, since: Timestamp) {
        let failed: Vec<_> = (s.events.items.iter())
            .filter(|e| {
                e.reason == self.reason
                    && e.type_ == "Warning"
                    && e.involved_kind == "Pod"
                    && e.last_seen.is_some_and(|t| t >= since)
            })
            .collect();
        if failed.is_empty() && self.by_pod.is_empty() {
            return;
        }
        // The pods now under the names concerned, found in one pass over the pods.
        let mut now: BTreeMap<String, &PodObs> = BTreeMap::new();
        let wanted: std::collections::BTreeSet<String> = (failed.iter())
            .map(|e| format!("{}/{}", e.namespace, e.involved_name))
            .chain(self.by_pod.keys().cloned())
            .collect();
        for p in s.pods.items.iter().filter(|p| p.template_of.is_none()) {
            let key = format!("{}/{}", p.namespace, p.name);
            if wanted.contains(&key) {
                now.insert(key, p);
            }
        }
        let current = |pod: &str, uid: &str, seen: Option<Timestamp>| {
            now.get(pod).is_none_or(|p| about_pod_seen(p, uid, seen))
        };
        // A pod made again since its failure was seen: that failure was the earlier pod's.
        (self.by_pod).retain(|pod, f| current(pod, &f.uid, f.last_seen));
        for e in failed {
            let pod = format!("{}/{}", e.namespace, e.involved_name);
            if !current(&pod, &e.involved_uid, e.last_seen) {
                continue;
            }
            // The latest failure, whatever order the events are listed in.
            if (self.by_pod.get(&pod))
                .is_some_and(|f| f.code.is_some() && f.last_seen > e.last_seen)
            {
                continue;
            }
            let (uid, last_seen) = (e.involved_uid.clone(), e.last_seen);
            match classify_event(&e.reason, &e.message) {
                Some(code) => {
                    // The text alone cannot tell a grant missing from one for another type.
                    let label = Some(alike_label(code, &e.message));
                    let code = Some(code);
                    let failure = Failure {
                        uid,
                        last_seen,
                        code,
                        label,
                        words: None,
                    };
                    self.by_pod.insert(pod, failure);
                }
                // A message that names no cause (the kubelet's generic timeout follows the
                // detailed one) never hides one that does.
                None => {
                    (self.by_pod.entry(pod)).or_insert(Failure {
                        uid,
                        last_seen,
                        code: None,
                        label: None,
                        words: None,
                    });
                }
            }
        }
    }

    /// Each failing pod's cause as the diagnosis of the same snapshot names it: the first
    /// finding of the pod's chains that is no downstream effect and cites an event of this
    /// reason as its evidence. A pod no finding explains keeps the event's own code.
    pub fn blame<C: Borrow<Chain>>(&mut self, chains: &[C]) {
        if self.by_pod.is_empty() {
            return;
        }
        let cited = format!("{} (", self.reason);
        for c in chains.iter().map(Borrow::borrow) {
            let cause = c
                .findings()
                .find(|f| f.follows.is_none() && f.evidence.iter().any(|e| e.starts_with(&cited)));
            if let Some(f) = cause
                && let Some(failure) = (self.by_pod).get_mut(&format!("{}/{}", c.namespace, c.pod))
            {
                failure.code = Some(f.code);
                let contradicted = is_contradicted(f);
                failure.words = (!contradicted).then(|| crate::chain::catalog::label(f));
                // A failure over grants that look right now ("failed, now looks right") knows
                // no more than its event: the trainer's repaired wrong-role (KVC502) left a 403
                // its text reads as KVC501 (audit SSS-azure).
                failure.label = Some(match contradicted {
                    true => (f.evidence.iter())
                        .find_map(|e| e.strip_prefix(cited.as_str()))
                        .map_or_else(|| f.code.to_string(), |m| alike_label(f.code, m)),
                    false => f.code.to_string(),
                });
            }
        }
    }

    /// The failure of the pod a step key belongs to in kvchain's words only: its code, link
    /// and short cause (`catalog::short`), never the event's text, which quotes what the
    /// provider and Key Vault answered (audit VVV-time). `None`: no failure of that pod.
    pub fn cause_of_key(&self, key: &str) -> Option<String> {
        let f = self
            .by_pod
            .get(key.strip_prefix("pod:")?.split('|').next()?)?;
        Some(self.cause(f))
    }

    /// The failure of pod `name` in `namespace` in kvchain's words only ([`Self::cause_of_key`]):
    /// the restart timeline's new pod whose mount fails (audit WWW-rules).
    pub fn cause_of_pod(&self, namespace: &str, name: &str) -> Option<String> {
        let f = self.by_pod.get(&format!("{namespace}/{name}"))?;
        Some(self.cause(f))
    }

    /// `its latest <reason> is <code> (<link> link: <short cause>)`, never the event's text.
    fn cause(&self, f: &Failure) -> String {
        let Some(code) = f.code else {
            return format!(
                "its latest {} names no cause kvchain classifies (kubectl describe pod)",
                self.reason
            );
        };
        let label = f.label.clone().unwrap_or_else(|| code.to_string());
        // Every code the label names (`KVC501, KVC502 or KVC503`), each in its own words.
        let causes: Vec<&str> = match f.words {
            // As the strip says it, where one finding names the cause (audit XE-tui).
            Some(words) => vec![words],
            None => (label.split([',', ' ']))
                .filter_map(crate::chain::Code::parse)
                .map(crate::chain::catalog::short)
                .collect(),
        };
        let causes = match causes.split_last() {
            Some((last, [])) => last.to_string(),
            Some((last, first)) => format!("{} or {last}", first.join(", ")),
            None => code.title().to_string(),
        };
        format!(
            "its latest {} is {label} ({} link: {causes})",
            self.reason,
            code.link().title(),
        )
    }

    /// The failure of the pod a step key (`pod:<ns>/<name>|…`) belongs to; for a key of no
    /// pod (the synced Secret, written from whichever mount rotates), the first pod's. In
    /// kvchain's words ([`Self::cause_of_key`]): a failed poll's event quotes the provider's
    /// error and Key Vault's answer (audit WWW-rules).
    pub fn of_key(&self, key: &str) -> Option<String> {
        match key.strip_prefix("pod:") {
            Some(rest) => self.by_pod.get(rest.split('|').next()?),
            None => self.by_pod.values().next(),
        }
        .map(|f| self.cause(f))
    }
}
