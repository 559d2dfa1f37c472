//! A small TTL cache: the "at most one fetch per distinct object per refresh interval" rule.
//! Errors are cached too (a 403 stays a 403 until the next interval; a 429 until its
//! Retry-After), so a broken object never turns into a retry storm.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

use tokio::time::{Duration, Instant};

pub struct TtlCache<K, V> {
    entries: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    pub fn new() -> Self {
        TtlCache {
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The cached value if it has not expired.
    pub fn fresh(&self, key: &K) -> Option<V> {
        let now = Instant::now();
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|(until, _)| *until > now)
            .map(|(_, v)| v.clone())
    }

    /// Drop `key` so the next look-up fetches again (after kvchain itself changed it).
    pub fn forget(&self, key: &K) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(key);
    }

    /// Store `value` for `ttl`.
    pub fn put(&self, key: K, value: V, ttl: Duration) {
        let until = Instant::now() + ttl;
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        // Drop expired entries while we hold the lock: the cache never outgrows what the
        // cluster currently asks for by more than one interval.
        let now = Instant::now();
        entries.retain(|_, (u, _)| *u > now);
        entries.insert(key, (until, value));
    }
}

impl<K: Eq + Hash + Clone, V: Clone> Default for TtlCache<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_after_their_ttl() {
        let c = TtlCache::new();
        c.put("a", 1, Duration::from_secs(3600));
        c.put("b", 2, Duration::ZERO);
        assert_eq!(c.fresh(&"a"), Some(1));
        assert_eq!(c.fresh(&"b"), None, "a zero TTL is expired at once");
        assert_eq!(c.fresh(&"c"), None);
        c.forget(&"a");
        assert_eq!(c.fresh(&"a"), None, "forgotten entries are fetched again");
    }
}
