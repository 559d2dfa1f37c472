//! The env of a new pod that read a synced Secret behind the file the pod mounted: stale at
//! its start, and what refreshes it (FACTS §4, §11).

use jiff::Timestamp;

use super::super::steps::{StepState, short_duration};
use crate::chain::synced_writes::{BEFORE_V16, V16_REWRITES};
use crate::snapshot::{PodObs, Snapshot};

/// The env step's state when the synced Secret's `key`, as a container that `started` took
/// it, differs from the file `pod` mounted for it: stale, settled at the start (FACTS §4),
/// whatever rotation does next. A driver before v1.6 does not rewrite an existing Secret at
/// mount (FACTS §11), a v1.6 one only at its next reconcile: with rotation on its next poll does, and then a second restart reads the
/// new value (audit VV3: it was left waiting with no reason). None when they agree or the
/// source cannot see the pod's files.
pub(super) fn stale_secret(
    s: &Snapshot,
    pod: &PodObs,
    secret: &str,
    key: &str,
    started: Timestamp,
) -> Option<StepState> {
    let (file, mounted) = s.mounted_for_key(pod, secret, key)?;
    let held = s.secret(&pod.namespace, secret)?.data.get(key)?;
    if *held == mounted {
        return None;
    }
    let driver = s.cluster.csi_driver.known();
    let rotation = driver.and_then(|d| d.rotation_enabled.known().copied());
    let stale = format!(
        "stale: env read at container start ({}) from Secret {secret}, whose key {key} differs from file {file} this pod mounted",
        crate::glance::clock(started)
    );
    Some(StepState::Never(match (rotation, driver) {
        (Some(true), Some(d)) => {
            let poll = d.rotation_poll_interval;
            // Each mount is re-fetched one poll interval after its last fetch (a minimum on
            // driver v1.6+, FACTS §4): this pod's, made before its start, by about then.
            let due = jiff::SignedDuration::try_from(poll)
                .ok()
                .and_then(|p| started.checked_add(p).ok())
                .map_or_else(String::new, |t| {
                    format!(", due by about {}", crate::glance::clock(t))
                });
            format!(
                "{stale}; {BEFORE_V16}, only rotation does ({V16_REWRITES}): restart again once rotation's next poll (every {}{due}) has updated the Secret",
                short_duration(poll)
            )
        }
        // Without rotation the driver makes the Secret again only when it is missing (FACTS
        // §4: delete the synced Secret, then restart).
        (Some(false), _) => format!(
            "{stale}; {BEFORE_V16} — only rotation does, and it is off (the driver's and provider's issue trackers; {V16_REWRITES}): `kubectl delete secret {secret} -n {}`, then restart again, so that a new mount makes it again from the files (KVC805's fix on the Sync link)",
            pod.namespace
        ),
        _ => format!(
            "{stale}; {BEFORE_V16} — only rotation does, if it is on (the driver's and provider's issue trackers; {V16_REWRITES})"
        ),
    }))
}
