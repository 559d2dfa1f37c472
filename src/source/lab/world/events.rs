//! Events as the API server keeps them: aggregated by (object, reason, message), expired after an
//! hour.

use std::hash::{Hash, Hasher};

use super::*;
use crate::snapshot::Name;

/// An aggregated event as the lab keeps it: the fields the API server would return, without
/// k8s-openapi's 1 KB `Event` each (a 100,000-pod world holds over 100,000 of them).
/// [`LabEvent::to_event`] is the Event itself. What every event has is held without an
/// allocation: short words and names inline, the uid as its 16 bytes, the name's digest as a
/// number (a 10,000-pod lab keeps 11,000 events at its peak).
#[derive(Clone, Debug, PartialEq)]
pub struct LabEvent {
    /// The event's name is `<object>.<digest as 16 hex digits>`.
    digest: u64,
    pub namespace: Name,
    pub api_version: Name,
    pub kind: Name,
    /// The involved object's name and uid.
    pub object: Name,
    uid: Uid,
    pub type_: Name,
    pub reason: Name,
    pub message: String,
    pub count: i32,
    pub first: Timestamp,
    pub last: Timestamp,
    pub component: Name,
    pub host: Option<Name>,
}

/// An object's uid: the lab's own are UUIDs, kept as their bytes; anything else as written.
#[derive(Clone, Debug, PartialEq)]
enum Uid {
    Uuid([u8; 16]),
    Text(Box<str>),
}

impl Uid {
    /// Read without allocating: `record_on` makes one for every event recorded, and every
    /// rotation poll records one per pod.
    fn new(uid: &str) -> Uid {
        let b = uid.as_bytes();
        let layout = b.len() == 36
            && [8, 13, 18, 23].iter().all(|&i| b[i] == b'-')
            // Lower case only: upper case would not read back as written.
            && b.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f' | b'-'));
        let mut bytes = [0u8; 16];
        let decoded = layout
            && [
                (0, 8, 0),
                (9, 13, 4),
                (14, 18, 6),
                (19, 23, 8),
                (24, 36, 10),
            ]
            .iter()
            .all(|&(from, to, at)| {
                hex::decode_to_slice(&uid[from..to], &mut bytes[at..at + (to - from) / 2]).is_ok()
            });
        if decoded {
            Uid::Uuid(bytes)
        } else {
            Uid::Text(uid.into())
        }
    }
}

impl std::fmt::Display for Uid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Uid::Text(t) => f.write_str(t),
            Uid::Uuid(b) => {
                let x = hex::encode(b);
                write!(
                    f,
                    "{}-{}-{}-{}-{}",
                    &x[..8],
                    &x[8..12],
                    &x[12..16],
                    &x[16..20],
                    &x[20..]
                )
            }
        }
    }
}

impl LabEvent {
    pub fn to_event(&self) -> Event {
        Event {
            metadata: ObjectMeta {
                name: Some(format!("{}.{:016x}", self.object, self.digest)),
                namespace: Some(self.namespace.to_string()),
                ..Default::default()
            },
            involved_object: ObjectReference {
                api_version: Some(self.api_version.to_string()),
                kind: Some(self.kind.to_string()),
                name: Some(self.object.to_string()),
                namespace: Some(self.namespace.to_string()),
                uid: Some(self.uid.to_string()),
                ..Default::default()
            },
            type_: Some(self.type_.to_string()),
            reason: Some(self.reason.to_string()),
            message: Some(self.message.clone()),
            count: Some(self.count),
            first_timestamp: Some(Time(self.first)),
            last_timestamp: Some(Time(self.last)),
            source: Some(EventSource {
                component: Some(self.component.to_string()),
                host: self.host.as_ref().map(Name::to_string),
            }),
            ..Default::default()
        }
    }
}

/// What aggregates events, hashed: the index holds no copy of the strings, and a repeated
/// event (every rotation poll records one per pod) allocates nothing to be found.
fn aggregation_key(uid: &str, reason: &str, message: &str) -> u64 {
    // FxHash: repeated events (every rotation poll reports on every pod) hash messages of up
    // to a kilobyte; candidates are compared field by field, so a weaker hash only costs a
    // rare extra comparison.
    let mut h = rustc_hash::FxHasher::default();
    (uid, reason, message).hash(&mut h);
    h.finish()
}

impl World {
    /// The API server keeps events for an hour (`--event-ttl`).
    pub(super) fn expire_events(&mut self) {
        let Some(cutoff) = self
            .now()
            .checked_sub(jiff::SignedDuration::from_hours(1))
            .ok()
        else {
            return;
        };
        let before = self.events.len();
        self.events.retain(|e| e.last >= cutoff);
        if self.events.len() != before {
            self.event_index.clear();
            for (i, e) in self.events.iter().enumerate() {
                self.event_index
                    .entry(aggregation_key(&e.uid.to_string(), &e.reason, &e.message))
                    .or_default()
                    .push(i);
            }
            self.changed();
        }
    }

    /// Records an event on a pod like the API server aggregates them: same (object, reason,
    /// message) bumps the count.
    pub fn record(&mut self, pod: &Key, type_: &str, reason: &str, message: &str, component: &str) {
        let Some(p) = self.pods.get(pod) else { return };
        let uid = p.uid().to_string();
        let involved = ("v1", "Pod", uid);
        self.record_on(involved, pod, type_, reason, message, component);
    }

    /// [`World::record`] on any object: (apiVersion, kind, uid) and its (namespace, name).
    pub(super) fn record_on(
        &mut self,
        (api_version, kind, uid): (&str, &str, String),
        object: &Key,
        type_: &str,
        reason: &str,
        message: &str,
        component: &str,
    ) {
        let now = self.now();
        let key = aggregation_key(&uid, reason, message);
        let uid_read = Uid::new(&uid);
        let same = self.event_index.get(&key).and_then(|candidates| {
            candidates.iter().copied().find(|&i| {
                let e = &self.events[i];
                e.uid == uid_read && e.reason == reason && e.message == message
            })
        });
        if let Some(i) = same {
            let e = &mut self.events[i];
            e.count += 1;
            e.last = now;
            self.touched();
            return;
        }
        let sum = Sha256::digest(format!("{uid}{reason}{message}").as_bytes());
        let digest = u64::from_be_bytes(sum[..8].try_into().expect("a SHA-256 has 32 bytes"));
        self.events.push(LabEvent {
            digest,
            namespace: object.0.as_str().into(),
            api_version: api_version.into(),
            kind: kind.into(),
            object: object.1.as_str().into(),
            uid: uid_read,
            type_: type_.into(),
            reason: reason.into(),
            message: message.into(),
            count: 1,
            first: now,
            last: now,
            component: component.into(),
            // kubelet reports from the pod's node.
            host: (component == "kubelet").then(|| {
                self.pods
                    .get(object)
                    .and_then(|p| p.spec.as_ref()?.node_name.as_deref().map(Name::from))
                    .unwrap_or_else(|| self.cluster.node.as_str().into())
            }),
        });
        self.event_index
            .entry(key)
            .or_default()
            .push(self.events.len() - 1);
        self.changed();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::lab::load;

    /// Same (object, reason, message) bumps one event; another message is another event; the
    /// Event handed out carries what was recorded.
    #[test]
    fn repeated_events_aggregate_and_read_back_as_events() {
        let mut w = World::new(load("generated:1").unwrap());
        let pod = w.pods.keys().next().unwrap().clone();
        let before = w.events.len();
        w.record(&pod, "Warning", "FailedMount", "first", "kubelet");
        w.advance(Duration::from_secs(5));
        w.record(&pod, "Warning", "FailedMount", "first", "kubelet");
        w.record(&pod, "Warning", "FailedMount", "second", "kubelet");
        assert_eq!(w.events.len(), before + 2);
        let e = w.events[before].to_event();
        assert_eq!(e.count, Some(2));
        assert_eq!(e.message.as_deref(), Some("first"));
        assert_eq!(e.involved_object.kind.as_deref(), Some("Pod"));
        assert_eq!(e.involved_object.name.as_deref(), Some(pod.1.as_str()));
        assert_eq!(e.source.and_then(|s| s.host), Some(w.cluster.node.clone()));
        let (first, last) = (e.first_timestamp.unwrap().0, e.last_timestamp.unwrap().0);
        assert_eq!(last.duration_since(first).as_secs(), 5);
        assert_eq!(w.events[before + 1].count, 1);
        // The name and uid read back as the API server's: `<object>.<16 hex digits>`.
        let uid = w.pods[&pod].uid().to_string();
        assert_eq!(e.involved_object.uid.as_deref(), Some(uid.as_str()));
        let sum = hex::encode(Sha256::digest(format!("{uid}FailedMountfirst").as_bytes()));
        let name = format!("{}.{}", pod.1, &sum[..16]);
        assert_eq!(e.metadata.name.as_deref(), Some(name.as_str()));
    }

    /// A UUID is kept as its bytes only when it reads back as written; anything else as text.
    #[test]
    fn uids_read_back_as_written() {
        for uid in [
            "0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b",
            "0F1E2D3C-4B5A-4978-8A6B-5C4D3E2F1A0B",
            "0f1e2d3c4b5a49788a6b5c4d3e2f1a0b",
            "not-a-uid",
            "",
            "0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0g",
        ] {
            assert_eq!(Uid::new(uid).to_string(), uid);
        }
        assert!(matches!(
            Uid::new("0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b"),
            Uid::Uuid(_)
        ));
        assert!(matches!(
            Uid::new("0F1E2D3C-4B5A-4978-8A6B-5C4D3E2F1A0B"),
            Uid::Text(_)
        ));
    }
}
