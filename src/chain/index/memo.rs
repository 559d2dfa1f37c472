//! Texts and pod lists every chain of a group asks for alike, worked out once per pass: the
//! service account's pods that lack its client-id (KVC204's message and fix, on each of the
//! account's n replicas, each once scanning every pod of the snapshot).

use std::sync::{Arc, PoisonError};

use super::{HashMap, Index};
use crate::snapshot::PodObs;

/// (what, key) → a text.
pub(super) type Texts = std::sync::Mutex<HashMap<(&'static str, String), Arc<str>>>;
/// (what, key) → positions in `snap.pods`.
pub(super) type PodLists = std::sync::Mutex<HashMap<(&'static str, String), Arc<[u32]>>>;

impl<'a> Index<'a> {
    /// The text `what` of `key`, made by `build` the first time a chain asks in this pass.
    pub(crate) fn memo_text(
        &self,
        what: &'static str,
        key: String,
        build: impl FnOnce() -> String,
    ) -> Arc<str> {
        let lock = || self.texts.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = lock().get(&(what, key.clone())) {
            return found.clone();
        }
        let built: Arc<str> = build().into();
        lock().entry((what, key)).or_insert(built).clone()
    }

    /// The pods `what` of `key`, made by `build` (positions in `snap.pods`) the first time a
    /// chain asks in this pass.
    pub(crate) fn memo_pods(
        &self,
        what: &'static str,
        key: String,
        build: impl FnOnce() -> Vec<u32>,
    ) -> Vec<&'a PodObs> {
        let positions = self.memo_positions(what, key, build);
        let pods = &self.snap.pods.items;
        // Positions taken from these very pods: the lookup never misses.
        (positions.iter())
            .filter_map(|&i| pods.get(i as usize))
            .collect()
    }

    /// The numbers `what` of `key` (positions in the snapshot's lists), made by `build` the
    /// first time a chain asks in this pass.
    pub(crate) fn memo_positions(
        &self,
        what: &'static str,
        key: String,
        build: impl FnOnce() -> Vec<u32>,
    ) -> Arc<[u32]> {
        let lock = || {
            self.pod_lists
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
        };
        let found = lock().get(&(what, key.clone())).cloned();
        found.unwrap_or_else(|| {
            let built: Arc<[u32]> = build().into();
            lock().entry((what, key)).or_insert(built).clone()
        })
    }
}
