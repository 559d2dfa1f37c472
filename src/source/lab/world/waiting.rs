//! Pods kubelet has yet to start, and when each is next due.
//!
//! A pod whose mount keeps failing waits for good (back-off up to five minutes), and kubelet
//! looks at the waiting pods every tick. Scanning all of them each tick for the few that are
//! due was a fifth of `check --lab generated:100000` (thousands of failing pods, thousands of
//! ticks); a queue ordered by due time hands out only those.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};
use std::sync::Arc;

use jiff::Timestamp;

use super::Key;

/// Keys are shared between the set and the queue (a 100,000-pod world queues them all at
/// once: copies of their names were 6 MB more at the peak).
#[derive(Default)]
pub(super) struct Waiting {
    keys: BTreeSet<Arc<Key>>,
    /// (due, order scheduled, pod) for every attempt scheduled. An entry whose pod has left,
    /// or has been scheduled again since, is dropped when it comes up. The order breaks ties
    /// (a whole world's pods come due at once) without comparing names.
    due: BinaryHeap<Reverse<(Timestamp, u64, Arc<Key>)>>,
    scheduled: u64,
}

impl Waiting {
    /// A new pod, first due at `at`.
    pub fn insert(&mut self, key: Key, at: Timestamp) {
        let key = Arc::new(key);
        self.schedule(at, key.clone());
        self.keys.insert(key);
    }

    pub fn remove(&mut self, key: &Key) {
        self.keys.remove(key);
    }

    /// The waiting pod's next attempt moved to `at`: every change of a pod's `next_attempt`
    /// comes here, or the pod is never due again.
    pub fn retry_at(&mut self, key: &Key, at: Timestamp) {
        if let Some(key) = self.keys.get(key).cloned() {
            self.schedule(at, key);
        }
    }

    fn schedule(&mut self, at: Timestamp, key: Arc<Key>) {
        self.scheduled += 1;
        self.due.push(Reverse((at, self.scheduled, key)));
    }

    /// The waiting pods due by `now`, in key order (the order kubelet starts them in, which
    /// decides the order of their events and uids), given each pod's current next attempt.
    pub fn take_due(
        &mut self,
        now: Timestamp,
        next_attempt: impl Fn(&Key) -> Option<Timestamp>,
    ) -> Vec<Arc<Key>> {
        let mut out = Vec::new();
        while let Some(Reverse((at, _, _))) = self.due.peek() {
            if *at > now {
                break;
            }
            let Some(Reverse((_, _, key))) = self.due.pop() else {
                break;
            };
            if self.keys.contains(&key) && next_attempt(&key).is_some_and(|t| t <= now) {
                out.push(key);
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> Key {
        ("ns".to_string(), name.to_string())
    }

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(secs).unwrap()
    }

    #[test]
    fn hands_out_due_pods_once_in_key_order_and_follows_their_latest_attempt() {
        let mut w = Waiting::default();
        let attempts = std::cell::RefCell::new(std::collections::BTreeMap::new());
        let next = |k: &Key| attempts.borrow().get(k).copied();
        for (name, t) in [("c", 10), ("a", 10), ("b", 30)] {
            w.insert(key(name), at(t));
            attempts.borrow_mut().insert(key(name), at(t));
        }
        assert!(w.take_due(at(5), next).is_empty(), "none due yet");
        let names = |due: Vec<Arc<Key>>| due.iter().map(|k| k.1.clone()).collect::<Vec<_>>();
        assert_eq!(names(w.take_due(at(10), next)), ["a", "c"]);
        assert!(w.take_due(at(10), next).is_empty(), "handed out once");
        // `a` failed and backs off to 40; `c` started (no longer waiting).
        attempts.borrow_mut().insert(key("a"), at(40));
        w.retry_at(&key("a"), at(40));
        w.remove(&key("c"));
        w.retry_at(&key("c"), at(20));
        assert_eq!(names(w.take_due(at(35), next)), ["b"], "c left, a not due");
        // `b` was handed out at 35 and failed again: due once more, at its new time.
        attempts.borrow_mut().insert(key("b"), at(36));
        w.retry_at(&key("b"), at(36));
        assert_eq!(names(w.take_due(at(40), next)), ["a", "b"]);
    }
}
