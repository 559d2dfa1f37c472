//! Why a pod's mount did not move during a rotation or restart test, when its events say: the
//! driver's rotation poll (MountRotationFailed) or the kubelet's mount (FailedMount) fails
//! (FACTS §3) for a cause the diagnosis classifies (a missing grant, a federated credential
//! that does not match…). A timeline that only said "check the driver and provider logs" or
//! "no change observed" beside a strip already showing the broken link sent the user looking
//! in the wrong place (audit D3, D11).

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::chain::events::classify_event;
use crate::snapshot::Snapshot;

/// Per pod (`namespace/name`): the latest failure of one event reason seen since the test
/// started, as "<code> (<link> link): <decisive line>".
#[derive(Clone, Debug, Default)]
pub(super) struct MountFailures(BTreeMap<String, String>);

impl MountFailures {
    /// Events of `reason` about pods, last seen at or after `since`.
    pub fn observe(&mut self, s: &Snapshot, since: Timestamp, reason: &str) {
        let failed = (s.events.items.iter()).filter(|e| {
            e.reason == reason
                && e.type_ == "Warning"
                && e.involved_kind == "Pod"
                && e.last_seen.is_some_and(|t| t >= since)
        });
        for e in failed {
            let line = crate::glance::decisive(&e.message);
            let pod = format!("{}/{}", e.namespace, e.involved_name);
            match classify_event(&e.reason, &e.message) {
                Some(code) => {
                    let said = format!("{code} ({} link): {line}", code.link().title());
                    self.0.insert(pod, said);
                }
                // A message that names no cause (the kubelet's generic timeout follows the
                // detailed one) never hides one that does.
                None => {
                    self.0.entry(pod).or_insert(line);
                }
            }
        }
    }

    /// The failure of pod `name` in `namespace`.
    pub fn of_pod(&self, namespace: &str, name: &str) -> Option<&str> {
        self.0
            .get(&format!("{namespace}/{name}"))
            .map(String::as_str)
    }

    /// The failure of the pod a step key (`pod:<ns>/<name>|…`) belongs to; for a key of no
    /// pod (the synced Secret, written from whichever mount rotates), the first pod's.
    pub fn of_key(&self, key: &str) -> Option<&str> {
        match key.strip_prefix("pod:") {
            Some(rest) => self.0.get(rest.split('|').next()?),
            None => self.0.values().next(),
        }
        .map(String::as_str)
    }
}
