//! What waits on each absent synced Secret, worked out once per pass: every chain of a
//! workload whose Secret is missing names the same waiting pods, and listing all n consumers in
//! each of n chains made a mass failure cubic (each line deduplicated against the others).

use std::sync::{Arc, PoisonError};

use super::{HashMap, Index};

pub(super) type Waiting = std::sync::Mutex<HashMap<(String, String), Arc<[String]>>>;

impl Index<'_> {
    /// The evidence lines of pods waiting on absent Secret `secret` of `ns`, made by `build`
    /// the first time a chain asks in this pass.
    pub(crate) fn absent_waiting(
        &self,
        ns: &str,
        secret: &str,
        build: impl FnOnce() -> Vec<String>,
    ) -> Arc<[String]> {
        let key = (ns.to_string(), secret.to_string());
        let lock = || self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = lock().get(&key) {
            return found.clone();
        }
        let built: Arc<[String]> = build().into();
        lock().entry(key).or_insert(built).clone()
    }
}
