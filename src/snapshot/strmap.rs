//! String maps many objects carry identically (labels, annotations, CSI volume attributes):
//! the replicas of one template have the same ones, so a snapshot keeps one copy of each.
//!
//! At 10,000 pods the maps were more than half of the observations' memory (one B-tree node of
//! ~540 bytes per map plus its strings, per pod). [`StrMap::shared`] looks a map up in a
//! process-wide table of the maps alive and hands out the copy already there; the table forgets
//! maps no observation holds any more, so a long-running watch does not grow it forever.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, OnceLock};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

type Map = BTreeMap<String, String>;

static EMPTY: Map = BTreeMap::new();

/// A string→string map, shared by every holder of an equal one. Reads as a `BTreeMap`; a write
/// copies it first when it is shared (the others keep theirs).
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StrMap(Option<Arc<Map>>);

impl StrMap {
    /// The shared copy of `map` (an empty map allocates nothing).
    pub fn shared(map: Map) -> Self {
        if map.is_empty() {
            return StrMap(None);
        }
        StrMap(Some(table().intern(map)))
    }

    /// The shared copy of a borrowed map: cloned only when no equal map is alive.
    pub fn shared_from(map: Option<&Map>) -> Self {
        match map {
            Some(m) if !m.is_empty() => StrMap(Some(table().intern_ref(m))),
            _ => StrMap(None),
        }
    }
}

impl StrMap {
    /// Removes `key`, keeping the map shared: a map without it is left as it is (a write through
    /// `DerefMut` would copy it), one with it becomes the shared copy of the rest.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        if !self.contains_key(key) {
            return None;
        }
        let mut rest: Map = (**self).clone();
        let value = rest.remove(key);
        *self = StrMap::shared(rest);
        value
    }
}

impl Deref for StrMap {
    type Target = Map;
    fn deref(&self) -> &Map {
        self.0.as_deref().unwrap_or(&EMPTY)
    }
}

impl DerefMut for StrMap {
    fn deref_mut(&mut self) -> &mut Map {
        Arc::make_mut(self.0.get_or_insert_with(Default::default))
    }
}

impl From<Map> for StrMap {
    fn from(map: Map) -> Self {
        StrMap::shared(map)
    }
}

impl<const N: usize> From<[(String, String); N]> for StrMap {
    fn from(pairs: [(String, String); N]) -> Self {
        StrMap::shared(Map::from(pairs))
    }
}

impl FromIterator<(String, String)> for StrMap {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        StrMap::shared(iter.into_iter().collect())
    }
}

impl<'a> IntoIterator for &'a StrMap {
    type Item = (&'a String, &'a String);
    type IntoIter = std::collections::btree_map::Iter<'a, String, String>;
    fn into_iter(self) -> Self::IntoIter {
        self.deref().iter()
    }
}

impl PartialEq<Map> for StrMap {
    fn eq(&self, other: &Map) -> bool {
        self.deref() == other
    }
}

impl fmt::Debug for StrMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.deref().fmt(f)
    }
}

impl Serialize for StrMap {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.deref().serialize(s)
    }
}

impl<'de> Deserialize<'de> for StrMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Map::deserialize(d).map(StrMap::shared)
    }
}

/// The maps alive, by content.
struct Table {
    inner: Mutex<Inner>,
}

struct Inner {
    maps: HashSet<Arc<Map>>,
    /// Size after the last sweep: sweeping when it doubles keeps the cost per insert constant.
    swept_at: usize,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| Table {
        inner: Mutex::new(Inner {
            maps: HashSet::new(),
            swept_at: 0,
        }),
    })
}

impl Table {
    fn intern(&self, map: Map) -> Arc<Map> {
        let mut inner = self.lock();
        if let Some(found) = inner.maps.get(&map) {
            return Arc::clone(found);
        }
        inner.insert(Arc::new(map))
    }

    fn intern_ref(&self, map: &Map) -> Arc<Map> {
        let mut inner = self.lock();
        if let Some(found) = inner.maps.get(map) {
            return Arc::clone(found);
        }
        inner.insert(Arc::new(map.clone()))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the set inconsistent (each operation
        // is one insert or one retain), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Inner {
    fn insert(&mut self, map: Arc<Map>) -> Arc<Map> {
        if self.maps.len() >= 1024 && self.maps.len() >= 2 * self.swept_at {
            // Only the table holds these: no observation carries them any more.
            self.maps.retain(|m| Arc::strong_count(m) > 1);
            self.swept_at = self.maps.len();
        }
        self.maps.insert(Arc::clone(&map));
        map
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> Map {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn equal_maps_are_one_copy() {
        let a = StrMap::shared(map(&[("app", "strmap-test-one"), ("tier", "web")]));
        let b = StrMap::shared_from(Some(&map(&[("app", "strmap-test-one"), ("tier", "web")])));
        assert!(Arc::ptr_eq(a.0.as_ref().unwrap(), b.0.as_ref().unwrap()));
        let c = StrMap::shared(map(&[("app", "strmap-test-two")]));
        assert!(!Arc::ptr_eq(a.0.as_ref().unwrap(), c.0.as_ref().unwrap()));
    }

    #[test]
    fn a_write_changes_only_the_writer() {
        let a = StrMap::shared(map(&[("app", "strmap-test-write")]));
        let mut b = a.clone();
        b.insert("extra".into(), "1".into());
        assert_eq!(a.len(), 1);
        assert_eq!(b.get("extra").map(String::as_str), Some("1"));
        b.remove("extra");
        assert_eq!(a, b);
    }

    #[test]
    fn removing_keeps_the_map_shared() {
        let pairs = [("app", "strmap-test-remove"), ("drop-me", "x")];
        let mut a = StrMap::shared(map(&pairs));
        let mut b = StrMap::shared(map(&pairs));
        assert_eq!(a.remove("absent"), None);
        assert!(Arc::ptr_eq(a.0.as_ref().unwrap(), b.0.as_ref().unwrap()));
        assert_eq!(a.remove("drop-me").as_deref(), Some("x"));
        assert_eq!(b.remove("drop-me").as_deref(), Some("x"));
        assert_eq!(a.len(), 1);
        assert!(
            Arc::ptr_eq(a.0.as_ref().unwrap(), b.0.as_ref().unwrap()),
            "what is left is one shared copy"
        );
    }

    #[test]
    fn empty_maps_allocate_nothing_and_read_empty() {
        let e = StrMap::shared(Map::new());
        assert!(e.0.is_none());
        assert!(e.is_empty());
        assert_eq!(e, StrMap::default());
        assert_eq!(format!("{e:?}"), "{}");
    }

    #[test]
    fn reads_and_writes_as_the_map_it_holds() {
        let m = map(&[("b", "2"), ("a", "1")]);
        let s = StrMap::from(m.clone());
        assert_eq!(format!("{s:?}"), format!("{m:?}"));
        assert_eq!(serde_json::to_string(&s).unwrap(), r#"{"a":"1","b":"2"}"#);
        let back: StrMap = serde_json::from_str(r#"{"a":"1","b":"2"}"#).unwrap();
        assert_eq!(back, s);
        assert_eq!(s.iter().count(), 2);
    }

    #[test]
    fn maps_nobody_holds_are_forgotten() {
        // Enough distinct maps to pass the sweep threshold, all dropped at once.
        for i in 0..3000 {
            drop(StrMap::shared(map(&[("strmap-sweep", &i.to_string())])));
        }
        let kept = StrMap::shared(map(&[("strmap-sweep", "kept")]));
        for i in 3000..6000 {
            drop(StrMap::shared(map(&[("strmap-sweep", &i.to_string())])));
        }
        let alive = table()
            .lock()
            .maps
            .iter()
            .filter(|m| m.contains_key("strmap-sweep"))
            .count();
        assert!(alive < 3000, "{alive} dropped maps still in the table");
        assert_eq!(
            StrMap::shared(map(&[("strmap-sweep", "kept")])),
            kept,
            "a map still held survives the sweep"
        );
    }
}
