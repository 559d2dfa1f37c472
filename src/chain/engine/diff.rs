//! What changed between two snapshots of one source, as [`Change`]s for the engine.
//!
//! Sources send whole snapshots (the live store assembles one per burst of watch events, the
//! lab exports its world on every change), so the changes are found here, in one place, for
//! every consumer. Objects are matched by the key the engine replaces them by (namespace and
//! name; kind too for workloads; for events, which have no name here, what makes two reports
//! the same report) and compared by value. Sources keep their order from one snapshot to the
//! next, so both are walked side by side; where that loses its way, the rest is matched
//! through a hash map.

use std::sync::Arc;

use crate::chain::index::HashMap;

use super::{Change, Object};
use crate::snapshot::*;

/// The changes that turn `old`'s Kubernetes objects into `new`'s, deletions first, or `None`
/// when they cannot be said as changes: a kind's gaps differ (they shape every namespace), or
/// a kind holds two objects under one key (an upsert could not say which one it replaces).
/// The globals (source, cluster, Azure) are not compared here: see `Engine::set_globals`.
pub fn diff(old: &Snapshot, new: &Snapshot) -> Option<Vec<Change>> {
    let rest = |d: &mut Diff| -> Option<()> {
        d.kind(&old.service_accounts, &new.service_accounts)?;
        d.kind(&old.spcs, &new.spcs)?;
        d.kind(&old.spc_statuses, &new.spc_statuses)?;
        d.kind(&old.secrets, &new.secrets)?;
        d.kind(&old.events, &new.events)?;
        d.kind(&old.workloads, &new.workloads)?;
        d.kind(&old.ingresses, &new.ingresses)
    };
    let pods = |d: &mut Diff| d.kind(&old.pods, &new.pods);
    let run = |f: &dyn Fn(&mut Diff) -> Option<()>| {
        let mut d = Diff::default();
        f(&mut d).map(|()| d)
    };
    // Comparing equal objects is the whole cost: pods (the largest) on another thread when
    // there are enough of them to pay for it.
    let (pods, rest) = if crate::chain::build::threads_for(new.pods.items.len()) > 1 {
        std::thread::scope(|scope| {
            let pods = scope.spawn(|| run(&pods));
            let rest = run(&rest);
            match pods.join() {
                Ok(pods) => (pods, rest),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    } else {
        (run(&pods), run(&rest))
    };
    let (pods, rest) = (pods?, rest?);
    let mut changes = pods.deletes;
    changes.extend(rest.deletes);
    changes.extend(pods.upserts);
    changes.extend(rest.upserts);
    Some(changes)
}

/// An observation the engine holds: the key it replaces it by, and the object it is.
trait Keyed: PartialEq {
    fn key(&self) -> Key<'_>;
    fn object(this: Arc<Self>) -> Object;
}

/// The same object: shared by both snapshots, or equal.
fn same<T: PartialEq>(a: &Arc<T>, b: &Arc<T>) -> bool {
    Arc::ptr_eq(a, b) || a == b
}

/// Namespace first, so a collection in (namespace, name) order is in key order.
fn named<'a>(namespace: &'a str, name: &'a str, kind: &'a str) -> Key<'a> {
    ([namespace, name, kind, "", "", ""], "")
}

macro_rules! keyed_by_name {
    ($($t:ty => $variant:ident),* $(,)?) => {$(
        impl Keyed for $t {
            fn key(&self) -> Key<'_> {
                named(&self.namespace, &self.name, "")
            }
            fn object(this: Arc<Self>) -> Object {
                Object::$variant(this)
            }
        }
    )*};
}

keyed_by_name!(
    PodObs => Pod,
    ServiceAccountObs => ServiceAccount,
    SpcObs => Spc,
    SpcPodStatusObs => SpcStatus,
    SecretObs => Secret,
    IngressObs => Ingress,
);

impl Keyed for WorkloadObs {
    fn key(&self) -> Key<'_> {
        named(&self.namespace, &self.name, &self.kind)
    }
    fn object(this: Arc<Self>) -> Object {
        Object::Workload(this)
    }
}

/// Events have no name here: the engine's `same_event`, as a key.
impl Keyed for EventObs {
    fn key(&self) -> Key<'_> {
        (
            [
                &self.namespace,
                &self.involved_kind,
                &self.involved_name,
                &self.involved_uid,
                &self.reason,
                &self.message,
            ],
            &self.source,
        )
    }
    fn object(this: Arc<Self>) -> Object {
        Object::Event(this)
    }
}

type Key<'a> = ([&'a str; 6], &'a str);

#[derive(Default)]
struct Diff {
    deletes: Vec<Change>,
    upserts: Vec<Change>,
}

impl Diff {
    fn kind<T: Keyed>(&mut self, old: &Coll<T>, new: &Coll<T>) -> Option<()> {
        if old.gaps != new.gaps {
            return None;
        }
        let (old, new) = (old.items.shared(), new.items.shared());
        let marks = (self.deletes.len(), self.upserts.len());
        let (i, j) = self.walk(old, new);
        self.hashed(&old[i..], &new[j..])?;
        if marks == (self.deletes.len(), self.upserts.len()) {
            // Nothing changed: the engine already holds both objects as they are.
            return Some(());
        }
        // A repeated key would make an upsert or delete ambiguous. Collections walked whole
        // in strict key order (the live store's, by namespace and name) cannot repeat one.
        let walked = i == old.len() && j == new.len() && ascending(old) && ascending(new);
        (walked || (unique(old) && unique(new))).then_some(())
    }

    /// Sources keep their order from one snapshot to the next: walk both collections side by
    /// side while their keys line up, stepping over one object added or removed. Returns
    /// where the walk stopped (the rest is matched through a map). An object both snapshots
    /// share is passed without reading it (the usual case: a source hands unchanged objects
    /// on), so a walk over unchanged objects compares pointers only.
    ///
    /// Pairing only ever matches equal keys, and every object is paired, deleted or upserted,
    /// so even a wrong guess only costs a delete and an upsert of one key (deletes go first).
    fn walk<T: Keyed>(&mut self, old: &[Arc<T>], new: &[Arc<T>]) -> (usize, usize) {
        let (mut i, mut j) = (0, 0);
        while i < old.len() && j < new.len() {
            if Arc::ptr_eq(&old[i], &new[j]) {
                i += 1;
                j += 1;
                continue;
            }
            let (a, b) = (old[i].key(), new[j].key());
            if a == b {
                if *old[i] != *new[j] {
                    self.upserts.push(upsert(&new[j]));
                }
                i += 1;
                j += 1;
            } else if old.get(i + 1).is_some_and(|o| o.key() == b) {
                self.deletes.push(delete(&old[i]));
                i += 1;
            } else if new.get(j + 1).is_some_and(|n| n.key() == a) {
                self.upserts.push(upsert(&new[j]));
                j += 1;
            } else {
                break;
            }
        }
        (i, j)
    }

    /// Any order: match by key through a map of `old`.
    fn hashed<T: Keyed>(&mut self, old: &[Arc<T>], new: &[Arc<T>]) -> Option<()> {
        let mut before: HashMap<Key<'_>, (usize, bool)> = map(old.len());
        for (at, t) in old.iter().enumerate() {
            if before.insert(t.key(), (at, false)).is_some() {
                return None;
            }
        }
        for b in new {
            match before.get_mut(&b.key()) {
                Some((_, true)) => return None,
                Some((at, matched)) => {
                    *matched = true;
                    if !same(&old[*at], b) {
                        self.upserts.push(upsert(b));
                    }
                }
                None => self.upserts.push(upsert(b)),
            }
        }
        let mut gone: Vec<usize> = before
            .into_values()
            .filter(|(_, matched)| !matched)
            .map(|(at, _)| at)
            .collect();
        gone.sort_unstable();
        self.deletes
            .extend(gone.into_iter().map(|at| delete(&old[at])));
        Some(())
    }
}

fn upsert<T: Keyed>(o: &Arc<T>) -> Change {
    Change::Upsert(T::object(o.clone()))
}

fn delete<T: Keyed>(o: &Arc<T>) -> Change {
    Change::Delete(T::object(o.clone()))
}

fn map<K, V>(n: usize) -> HashMap<K, V> {
    HashMap::with_capacity_and_hasher(n, Default::default())
}

/// Every key is greater than the one before it.
fn ascending<T: Keyed>(items: &[Arc<T>]) -> bool {
    items.windows(2).all(|w| w[0].key() < w[1].key())
}

/// No key repeats in `items`.
fn unique<T: Keyed>(items: &[Arc<T>]) -> bool {
    let mut seen: HashMap<Key<'_>, ()> = map(items.len());
    items.iter().all(|t| seen.insert(t.key(), ()).is_none())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::testkit;

    /// What a change says: its kind, object kind and name.
    fn said(changes: &[Change]) -> Vec<String> {
        changes
            .iter()
            .map(|c| {
                let (what, o) = match c {
                    Change::Upsert(o) => ("upsert", o),
                    Change::Delete(o) => ("delete", o),
                };
                let name = match o {
                    Object::Pod(p) => format!("pod {}", p.name),
                    Object::Secret(s) => format!("secret {}", s.name),
                    Object::Event(e) => format!("event {} {}", e.involved_name, e.reason),
                    Object::Workload(w) => format!("{} {}", w.kind, w.name),
                    other => format!("{other:?}"),
                };
                format!("{what} {name}")
            })
            .collect()
    }

    fn world() -> Snapshot {
        let mut s = testkit::empty();
        testkit::add_app(&mut s, "a", "one", 2);
        testkit::add_app(&mut s, "b", "two", 2);
        s
    }

    fn edited(s: &Snapshot) -> Snapshot {
        let mut s = s.clone();
        s.pods.items[0].phase = "Pending".into();
        let gone = s.pods.items.remove(3).name;
        assert_eq!(gone, testkit::pod_name("two", 1));
        let mut copy = s.pods.items[1].clone();
        copy.name = "zz-new".into();
        s.pods.items.push(copy);
        s.secrets.items.clear();
        s
    }

    #[test]
    fn same_snapshot_no_changes_in_any_order() {
        let s = world();
        assert!(diff(&s, &s).unwrap().is_empty());
        let mut shuffled = s.clone();
        shuffled.pods.items.reverse();
        shuffled.workloads.items.reverse();
        assert!(diff(&s, &shuffled).unwrap().is_empty());
    }

    #[test]
    fn sorted_and_unsorted_collections_give_the_same_changes() {
        let s = world();
        let after = edited(&s);
        let expected = [
            "delete pod two-rs-1".to_string(),
            "delete secret one-synced".into(),
            "delete secret two-synced".into(),
            "upsert pod one-rs-0".into(),
            "upsert pod zz-new".into(),
        ];
        let sort = |s: &mut Snapshot| {
            s.pods
                .items
                .sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)))
        };
        let (mut a, mut b) = (s.clone(), after.clone());
        sort(&mut a);
        sort(&mut b);
        let in_order = said(&diff(&a, &b).unwrap());
        let (mut a, mut b) = (s, after);
        a.pods.items.reverse();
        b.pods.items.reverse();
        let any_order = said(&diff(&a, &b).unwrap());
        let mut want: Vec<String> = expected
            .iter()
            .map(|e| {
                e.replace("one-rs-0", &testkit::pod_name("one", 0))
                    .replace("two-rs-1", &testkit::pod_name("two", 1))
                    .replace("one-synced", &testkit::secret_name("one"))
                    .replace("two-synced", &testkit::secret_name("two"))
            })
            .collect();
        want.sort();
        let sorted = |mut v: Vec<String>| {
            v.sort();
            v
        };
        assert_eq!(sorted(in_order.clone()), want);
        assert_eq!(sorted(any_order), want);
        // Deletions come first: a delete after an upsert of one key would undo it.
        let first_upsert = in_order.iter().position(|c| c.starts_with("upsert"));
        assert!(
            in_order[first_upsert.unwrap()..]
                .iter()
                .all(|c| c.starts_with("upsert"))
        );
    }

    #[test]
    fn a_repeated_key_or_a_moved_gap_cannot_be_said_as_changes() {
        let s = world();
        let mut twice = s.clone();
        let again = twice.pods.items[0].clone();
        twice.pods.items.push(again);
        assert!(diff(&s, &twice).is_none());
        let mut event = s.clone();
        let e = testkit::failed_mount("a", "p", "v", "cause");
        event.events.items.extend([e.clone(), e]);
        assert!(diff(&s, &event).is_none(), "two reports under one key");
        let mut gap = s.clone();
        gap.pods.gaps.all = Some("forbidden".into());
        assert!(diff(&s, &gap).is_none());
    }

    #[test]
    fn workloads_are_told_apart_by_kind() {
        let s = world();
        let mut after = s.clone();
        let mut twin = after.workloads.items[0].clone();
        twin.kind = if twin.kind == "Deployment" {
            "StatefulSet".into()
        } else {
            "Deployment".into()
        };
        after.workloads.items.push(twin.clone());
        let changes = said(&diff(&s, &after).unwrap());
        assert_eq!(changes, [format!("upsert {} {}", twin.kind, twin.name)]);
    }
}
