//! The driver's SecretProviderClassPodStatus controller requeues each status every 5 minutes
//! ("check if secret and ownerRef exists", FACTS §2): a synced Secret deleted by hand is made
//! again at the next reconcile of a mounted pod's status whose SPC writes it, from that pod's
//! mounted files, whether rotation is on or not (audit YY2: the lab never made it again, so
//! KVC806's "recreated within 5 minutes" was a wait that never ended). So is one whose create
//! was refused (a value the API server rejects, fixed in the vault since): the controller
//! tries it again at each reconcile, and the one after the fix's rotation makes it (audit
//! OOO-time: a docker config fixed in the vault never became a Secret).

use super::*;

/// The controller's requeue period (FACTS §2).
const REQUEUE: i64 = 5 * 60;

impl World {
    /// A synced Secret (the driver's `managed` label) deleted: to be made again.
    pub(super) fn requeue_deleted(&mut self, ns: &str, name: &str, secret: &Secret) {
        if sync::driver_managed(secret) {
            self.requeue_missing(ns, name);
        }
    }

    /// Synced Secret `name` of `ns` is missing: the next requeue of a mounted pod's status
    /// whose SPC writes it tries to make it.
    pub(super) fn requeue_missing(&mut self, ns: &str, name: &str) {
        let entry = (ns.to_string(), name.to_string());
        if !self.deleted_synced.contains(&entry) {
            self.deleted_synced.push(entry);
        }
    }

    /// The reconciles due between the last tick (`since`) and now: each deleted synced Secret
    /// is made again by the first mounted pod's status, of an SPC that writes it, whose 5-minute
    /// requeue falls in that span. One made again by a new mount meanwhile is dropped.
    pub(super) fn run_requeues(&mut self, since: Timestamp) {
        let now = self.now();
        let mut pending = std::mem::take(&mut self.deleted_synced);
        pending.retain(|(ns, name)| !self.secrets.contains_key(&(ns.clone(), name.clone())));
        for (ns, name) in &pending {
            if let Some((key, spc)) = self.requeued_writer(ns, name, since, now) {
                let Some(m) = (self.pods.get(&key))
                    .and_then(|p| p.csi.iter().find(|v| v.spc == spc))
                    .and_then(|v| v.mounted.clone())
                else {
                    continue;
                };
                let owners = self.owners_for_key(&key, &spc);
                self.sync_secrets(&key, &spc, &m, &owners, false);
            }
        }
        pending.retain(|(ns, name)| !self.secrets.contains_key(&(ns.clone(), name.clone())));
        // A create refused again has queued its Secret already.
        for (ns, name) in pending {
            self.requeue_missing(&ns, &name);
        }
    }

    /// The pod and SPC of a status reconciled in `(since, now]` that writes Secret `name`.
    fn requeued_writer(
        &self,
        ns: &str,
        name: &str,
        since: Timestamp,
        now: Timestamp,
    ) -> Option<(Key, String)> {
        let period =
            |t: Timestamp, created: Timestamp| t.duration_since(created).as_secs() / REQUEUE;
        self.spcps.values().find_map(|s| {
            if s.namespace != ns || period(now, s.created) <= period(since, s.created) {
                return None;
            }
            let spc = self.spcs.get(&(ns.to_string(), s.spc.clone()))?;
            let writes = (spc.spec.secret_objects.iter().flatten())
                .any(|o| o.secret_name.as_deref() == Some(name));
            let key = (ns.to_string(), s.pod_name.clone());
            let mounted = self.pods.get(&key).is_some_and(|p| {
                p.stage != Stage::Terminating
                    && p.csi.iter().any(|v| v.spc == s.spc && v.mounted.is_some())
            });
            (writes && mounted).then(|| (key, s.spc.clone()))
        })
    }
}
