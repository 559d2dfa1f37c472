//! The objects of one kind in a snapshot, each behind its own `Arc`.
//!
//! Long-running modes hold several snapshots' worth of the same objects at once: the store
//! a source keeps between snapshots, the snapshot the UI shows, the incremental engine's
//! objects sorted by namespace, and for a moment the next snapshot. Sharing each object
//! makes all of those one copy: cloning [`Items`] (or moving an object from one to another)
//! costs a reference count, and comparing two snapshots' objects is a pointer test for the
//! objects neither changed. Reads look like a `Vec<T>`'s; a write to a shared object copies
//! it first (`Arc::make_mut`), so no holder ever sees another's change.

use std::fmt;
use std::ops::{Index, IndexMut};
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub struct Items<T>(Vec<Arc<T>>);

/// The objects in order (`&T`, as a `Vec<T>`'s iterator gives them).
pub type Iter<'a, T> = std::iter::Map<std::slice::Iter<'a, Arc<T>>, fn(&'a Arc<T>) -> &'a T>;

impl<T> Items<T> {
    pub const fn new() -> Self {
        Items(Vec::new())
    }

    pub fn with_capacity(n: usize) -> Self {
        Items(Vec::with_capacity(n))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> Iter<'_, T> {
        self.0.iter().map(|a| &**a)
    }

    pub fn get(&self, i: usize) -> Option<&T> {
        self.0.get(i).map(|a| &**a)
    }

    pub fn first(&self) -> Option<&T> {
        self.get(0)
    }

    pub fn push(&mut self, item: T) {
        self.0.push(Arc::new(item));
    }

    /// The objects as shared handles: to hand one to another holder without copying it.
    pub fn shared(&self) -> &[Arc<T>] {
        &self.0
    }

    /// Append an object another holder shares.
    pub fn push_shared(&mut self, item: Arc<T>) {
        self.0.push(item);
    }

    /// The shared handles, in order, without copying an object.
    pub fn into_shared(self) -> Vec<Arc<T>> {
        self.0
    }

    /// Replace object `i` by an object another holder shares; returns the one it replaced.
    pub fn replace_shared(&mut self, i: usize, item: Arc<T>) -> Arc<T> {
        std::mem::replace(&mut self.0[i], item)
    }

    /// Remove object `i`, the last one taking its place.
    pub fn swap_remove_shared(&mut self, i: usize) -> Arc<T> {
        self.0.swap_remove(i)
    }

    pub fn remove_shared(&mut self, i: usize) -> Arc<T> {
        self.0.remove(i)
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        self.0.retain(|a| keep(a));
    }

    pub fn sort_by(&mut self, mut order: impl FnMut(&T, &T) -> std::cmp::Ordering) {
        self.0.sort_by(|a, b| order(a, b));
    }

    pub fn reverse(&mut self) {
        self.0.reverse();
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }
}

impl<T: Clone> Items<T> {
    /// Each object to change: an object another holder shares is copied first.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.0.iter_mut().map(Arc::make_mut)
    }

    pub fn remove(&mut self, i: usize) -> T {
        Arc::unwrap_or_clone(self.0.remove(i))
    }
}

impl<T> Default for Items<T> {
    fn default() -> Self {
        Items::new()
    }
}

impl<T> Clone for Items<T> {
    /// A reference count per object, no object copied.
    fn clone(&self) -> Self {
        Items(self.0.clone())
    }
}

impl<T: PartialEq> PartialEq for Items<T> {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len()
            && self
                .0
                .iter()
                .zip(&other.0)
                .all(|(a, b)| Arc::ptr_eq(a, b) || a == b)
    }
}

impl<T: fmt::Debug> fmt::Debug for Items<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T> Index<usize> for Items<T> {
    type Output = T;
    fn index(&self, i: usize) -> &T {
        &self.0[i]
    }
}

impl<T: Clone> IndexMut<usize> for Items<T> {
    fn index_mut(&mut self, i: usize) -> &mut T {
        Arc::make_mut(&mut self.0[i])
    }
}

impl<T> From<Vec<T>> for Items<T> {
    fn from(items: Vec<T>) -> Self {
        items.into_iter().collect()
    }
}

impl<T> From<Vec<Arc<T>>> for Items<T> {
    fn from(items: Vec<Arc<T>>) -> Self {
        Items(items)
    }
}

impl<T> FromIterator<T> for Items<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Items(iter.into_iter().map(Arc::new).collect())
    }
}

impl<T> Extend<T> for Items<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        self.0.extend(iter.into_iter().map(Arc::new));
    }
}

impl<'a, T> IntoIterator for &'a Items<T> {
    type Item = &'a T;
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

impl<'a, T: Clone> IntoIterator for &'a mut Items<T> {
    type Item = &'a mut T;
    type IntoIter =
        std::iter::Map<std::slice::IterMut<'a, Arc<T>>, fn(&'a mut Arc<T>) -> &'a mut T>;
    /// Each object to change: one another holder shares is copied first.
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter_mut().map(Arc::make_mut)
    }
}

impl<T: Serialize> Serialize for Items<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Items<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::<T>::deserialize(d).map(Items::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clone_shares_every_object_and_a_write_copies_only_the_written_one() {
        let mut a: Items<String> = vec!["x".to_string(), "y".to_string()].into();
        let b = a.clone();
        assert!(Arc::ptr_eq(&a.shared()[0], &b.shared()[0]));
        a[1].push('!');
        assert_eq!(
            b.iter().collect::<Vec<_>>(),
            ["x", "y"],
            "the other holder sees no change"
        );
        assert_eq!(a.iter().collect::<Vec<_>>(), ["x", "y!"]);
        assert!(
            Arc::ptr_eq(&a.shared()[0], &b.shared()[0]),
            "the unwritten one stays shared"
        );
        assert!(!Arc::ptr_eq(&a.shared()[1], &b.shared()[1]));
        assert_ne!(a, b);
    }

    #[test]
    fn equal_objects_compare_equal_whether_shared_or_not() {
        let a: Items<u32> = vec![1, 2].into();
        let b: Items<u32> = vec![1, 2].into();
        assert_eq!(a, b);
        assert_eq!(a, a.clone());
        assert_ne!(a, Items::from(vec![1]));
    }

    #[test]
    fn serialized_as_a_plain_list() {
        let a: Items<u32> = vec![3, 1].into();
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(json, "[3,1]");
        let back: Items<u32> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, a);
    }
}
