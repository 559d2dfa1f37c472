//! One watched kind's objects, keyed by (namespace, name), and what could not be seen of it;
//! and several kinds merged into one collection of the snapshot.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;

use super::super::connect::Scope;
use crate::snapshot::{Coll, Gaps, Items, Name};

pub type Key = (Name, Name);

/// One kind's objects and what could not be seen of it.
#[derive(Debug)]
pub struct Kind<T> {
    pub(super) items: BTreeMap<Key, Arc<T>>,
    pub gaps: Gaps,
    /// The first complete list arrived (or failed for good): startup can stop waiting.
    pub synced: bool,
    /// The newest transient failure, for the reason when startup gives up waiting.
    pub last_error: Option<String>,
    /// The list was read but its `watch` is refused (a list-only role): what was listed stands
    /// and is diagnosed, only not kept current. Not a gap — a one-shot check needs no watch —
    /// but the TUI says so (README "Degrading, not failing"), and `serve` counts it a gap:
    /// since when (the refusal) and why (audit FFF2).
    pub not_live: Option<(Timestamp, String)>,
    /// Since when its watch has failed without recovering (a transient failure: the data
    /// stands, as read then). Audit W3: one kind failing while the others answer is as stale
    /// as a silent server, for that kind.
    pub failing_since: Option<Timestamp>,
}

impl<T> Default for Kind<T> {
    fn default() -> Self {
        Kind {
            items: BTreeMap::new(),
            gaps: Gaps::default(),
            synced: false,
            last_error: None,
            not_live: None,
            failing_since: None,
        }
    }
}

/// What a kind's watch says of it, for the snapshot's notes ([`LiveState::watches`]).
pub(super) struct Watched<'a> {
    pub(super) plural: &'static str,
    pub(super) not_live: &'a Option<(Timestamp, String)>,
    pub(super) failing_since: Option<Timestamp>,
    pub(super) last_error: &'a Option<String>,
}

impl<T> Kind<T> {
    pub(super) fn watched(&self, plural: &'static str) -> Watched<'_> {
        Watched {
            plural,
            not_live: &self.not_live,
            failing_since: self.failing_since,
            last_error: &self.last_error,
        }
    }

    /// How many objects are stored.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The stored objects in key order.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.items.values().map(|t| &**t)
    }

    /// The object stored under `key`.
    pub fn get(&self, key: &Key) -> Option<&T> {
        self.items.get(key).map(|t| &**t)
    }

    /// Replaces every stored object (by-name reads: the newest reads are the whole truth).
    pub fn set_items(&mut self, items: BTreeMap<Key, T>) {
        self.items = here(items);
    }

    /// A complete list for `scope` replaces what was there (objects deleted while the watch was
    /// down disappear) and clears the scope's gap.
    pub fn replace(&mut self, scope: &Scope, items: BTreeMap<Key, T>) {
        match scope {
            Scope::All => self.items = here(items),
            Scope::Namespace(ns) => {
                self.items.retain(|(n, _), _| n != ns);
                self.items.extend(here(items));
            }
        }
        self.clear_gap(scope);
        self.synced = true;
        self.last_error = None;
        self.failing_since = None;
    }

    /// Startup stops waiting: an unlisted kind becomes a gap naming the last failure.
    pub(super) fn give_up(&mut self, scope: &Scope, why: &str) {
        if !self.synced {
            let reason = match &self.last_error {
                Some(e) => format!("{why}: {e}"),
                None => why.to_string(),
            };
            self.set_gap(scope, reason);
        }
    }

    /// Returns whether anything changed (an object kvchain does not read changes nothing).
    pub fn apply(&mut self, key: Key, item: Option<T>) -> bool {
        match item {
            Some(t) => {
                self.items.insert(key, Arc::new(t));
                true
            }
            // The converter filtered it out (e.g. an event kvchain does not read).
            None => self.items.remove(&key).is_some(),
        }
    }

    pub fn delete(&mut self, key: &Key) -> bool {
        self.items.remove(key).is_some()
    }

    /// What is behind a gap cannot be trusted: drop it rather than show stale objects as known.
    /// (A refused `watch` after a list is no gap: see [`Kind::not_live`].)
    pub fn set_gap(&mut self, scope: &Scope, reason: String) {
        self.not_live = None;
        match scope {
            Scope::All => {
                self.items.clear();
                self.gaps.all = Some(reason);
            }
            Scope::Namespace(ns) => {
                self.items.retain(|(n, _), _| n != ns);
                self.gaps.namespaces.insert(ns.clone(), reason);
            }
        }
        self.synced = true;
    }

    pub fn clear_gap(&mut self, scope: &Scope) {
        match scope {
            Scope::All => self.gaps.all = None,
            Scope::Namespace(ns) => {
                self.gaps.namespaces.remove(ns);
            }
        }
    }

    /// Shares every object with `out` in key order; with `take` (one-shot checks) keeps
    /// nothing. An object whose `key_of` is already in `seen` (merged kinds: the first wins)
    /// is left out.
    pub(super) fn share_into(
        &mut self,
        out: &mut Items<T>,
        seen: &mut Option<Seen<T>>,
        take: bool,
    ) {
        let items = if take {
            std::mem::take(&mut self.items)
        } else {
            self.items.clone()
        };
        for item in items.into_values() {
            let repeated = match seen {
                Some((seen, key_of)) => !seen.insert(key_of(&item)),
                None => false,
            };
            if !repeated {
                out.push_shared(item);
            }
        }
    }

    /// The collection, every object shared with it.
    pub(super) fn coll(&mut self, take: bool) -> Coll<T> {
        let mut items = Items::with_capacity(self.items.len());
        self.share_into(&mut items, &mut None, take);
        Coll {
            items,
            gaps: self.gaps.clone(),
        }
    }
}

/// Merged kinds: the keys already in the collection, and how to key an object.
type Seen<T> = (std::collections::BTreeSet<String>, fn(&T) -> String);

fn here<T>(items: BTreeMap<Key, T>) -> BTreeMap<Key, Arc<T>> {
    items.into_iter().map(|(k, t)| (k, Arc::new(t))).collect()
}

/// Merges several kinds into one collection (workloads come from six watchers, secrets from
/// the label watch plus by-name reads). The first kind wins on duplicate keys; a gap names
/// every part's reason (audit Q5: each refused kind is a permission to ask for, so naming only
/// the first hid the others until that one was granted).
pub(super) fn merged<T>(
    parts: &mut [&mut Kind<T>],
    take: bool,
    key_of: fn(&T) -> String,
) -> Coll<T> {
    let mut seen = Some((std::collections::BTreeSet::new(), key_of));
    let mut items = Items::with_capacity(parts.iter().map(|p| p.items.len()).sum());
    let mut gaps = Gaps::default();
    for part in parts.iter_mut() {
        part.share_into(&mut items, &mut seen, take);
        if let Some(why) = &part.gaps.all {
            add_reason(gaps.all.get_or_insert_with(String::new), why);
        }
        for (ns, why) in &part.gaps.namespaces {
            add_reason(gaps.namespaces.entry(ns.clone()).or_default(), why);
        }
    }
    Coll { items, gaps }
}

/// `why` joined to `reasons` ("; " between), unless it is already there.
pub(super) fn add_reason(reasons: &mut String, why: &str) {
    if reasons.split(REASONS_SEP).any(|r| r == why) {
        return;
    }
    if !reasons.is_empty() {
        reasons.push_str(REASONS_SEP);
    }
    reasons.push_str(why);
}

const REASONS_SEP: &str = "; ";
