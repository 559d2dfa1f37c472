//! The restarts a remount gives every pod of a SecretProviderClass, worked out once per pass:
//! each of a workload's n replicas prints the same restarts in its fix, and building them per
//! chain made a mass failure (every replica behind the vault) quadratic in the replicas.

use std::sync::{Arc, PoisonError};

use super::{HashMap, Index};
use crate::snapshot::SpcObs;

/// Restart commands of a set of pods, one per owner (or per pod nothing owns), in the order
/// they were added, and the command each pod's restart is in (by [`super::pod_address`]).
#[derive(Debug, Default)]
pub(crate) struct PodRestarts {
    pub commands: Vec<String>,
    pub entry_of: HashMap<usize, usize>,
}

/// What a remount of an SPC restarts: with `mounting`, every pod mounting it and every env
/// reader of its synced Secrets; without, the env readers alone.
pub(super) type RemountKey = (usize, bool);

pub(super) type Remounts = std::sync::Mutex<HashMap<RemountKey, Arc<PodRestarts>>>;

impl Index<'_> {
    /// The restarts of a remount of `spc` ([`RemountKey`]), made by `build` the first time a
    /// chain asks in this pass.
    pub(crate) fn remount_restarts(
        &self,
        spc: &SpcObs,
        mounting: bool,
        build: impl FnOnce() -> PodRestarts,
    ) -> Arc<PodRestarts> {
        let key = (std::ptr::from_ref(spc) as usize, mounting);
        let lock = || self.remounts.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = lock().get(&key) {
            return found.clone();
        }
        // Built outside the lock: two threads may build the same set once each, and agree.
        let built = Arc::new(build());
        lock().entry(key).or_insert(built).clone()
    }
}
