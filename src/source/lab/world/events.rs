//! Events as the API server keeps them: aggregated by (object, reason, message), expired after an
//! hour.

use super::*;

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
        self.events
            .retain(|e| e.last_timestamp.as_ref().is_none_or(|t| t.0 >= cutoff));
        if self.events.len() != before {
            self.event_index = self
                .events
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let key = (
                        e.involved_object.uid.clone().unwrap_or_default(),
                        e.reason.clone().unwrap_or_default(),
                        e.message.clone().unwrap_or_default(),
                    );
                    (key, i)
                })
                .collect();
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
        let now = Time(self.now());
        let idx_key = (uid.clone(), reason.to_string(), message.to_string());
        if let Some(&i) = self.event_index.get(&idx_key) {
            let e = &mut self.events[i];
            e.count = Some(e.count.unwrap_or(1) + 1);
            e.last_timestamp = Some(now);
            self.touched();
            return;
        }
        let name = format!(
            "{}.{}",
            object.1,
            &hex::encode(Sha256::digest(format!("{uid}{reason}{message}").as_bytes()))[..16]
        );
        self.events.push(Event {
            metadata: ObjectMeta {
                name: Some(name),
                namespace: Some(object.0.clone()),
                ..Default::default()
            },
            involved_object: ObjectReference {
                api_version: Some(api_version.into()),
                kind: Some(kind.into()),
                name: Some(object.1.clone()),
                namespace: Some(object.0.clone()),
                uid: Some(uid),
                ..Default::default()
            },
            type_: Some(type_.into()),
            reason: Some(reason.into()),
            message: Some(message.into()),
            count: Some(1),
            first_timestamp: Some(now.clone()),
            last_timestamp: Some(now),
            source: Some(EventSource {
                component: Some(component.into()),
                host: (component == "kubelet").then(|| self.cluster.node.clone()),
            }),
            ..Default::default()
        });
        self.event_index.insert(idx_key, self.events.len() - 1);
        self.changed();
    }
}
