//! Why a pod's mount did not move during a rotation test, when its events say: the driver's
//! rotation poll fails (MountRotationFailed, FACTS §3) for a cause the diagnosis classifies
//! (a missing grant, a federated credential that does not match…). A timeline that only said
//! "check the driver and provider logs" beside a strip already showing the broken link sent
//! the user looking in the wrong place (audit D3).

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::chain::events::classify_event;
use crate::snapshot::Snapshot;

/// Per pod (`namespace/name`): the latest rotation failure seen since the test started, as
/// "<code> (<link> link): <decisive line>".
#[derive(Clone, Debug, Default)]
pub(super) struct RotationFailures(BTreeMap<String, String>);

impl RotationFailures {
    pub fn observe(&mut self, s: &Snapshot, since: Timestamp) {
        let failed = (s.events.items.iter()).filter(|e| {
            e.reason == "MountRotationFailed"
                && e.type_ == "Warning"
                && e.involved_kind == "Pod"
                && e.last_seen.is_some_and(|t| t >= since)
        });
        for e in failed {
            let line = crate::glance::decisive(&e.message);
            let said = match classify_event(&e.reason, &e.message) {
                Some(code) => format!("{code} ({} link): {line}", code.link().title()),
                None => line,
            };
            self.0
                .insert(format!("{}/{}", e.namespace, e.involved_name), said);
        }
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
