//! Trainer actions on the Azure side and inside containers: new secret versions, in-container
//! verify.

use super::*;
use crate::action::keyvault::{self, NewValue};
use crate::chain::restart_plan::RestartPlan;

impl World {
    /// The one-key restart, as the live source does it: the plan the confirmation showed
    /// (from the same view, the lab's snapshot), carried out — a rollout restart of the
    /// owner, the pod deleted for its controller to replace, a bare pod deleted, or nothing
    /// with the reason (a mirror pod, a finished Job's pod). The lab has no Argo Rollouts.
    pub fn restart_pod(&mut self, ns: &str, name: &str) -> Result<String, String> {
        let snapshot = crate::source::lab::export::snapshot(self);
        let pod = snapshot
            .pod(ns, name)
            .ok_or_else(|| format!("pods \"{name}\" not found in namespace {ns}"))?;
        match RestartPlan::for_pod(&snapshot, pod) {
            RestartPlan::RolloutRestart {
                namespace,
                kind,
                name,
                ..
            } => self.rollout_restart(&kind, &namespace, &name),
            RestartPlan::DeleteOwnedPod { owner, .. } => self
                .delete_pod(ns, name)
                .map(|m| format!("{m}; {owner} makes a new one")),
            RestartPlan::DeleteBarePod { .. } => self
                .delete_pod(ns, name)
                .map(|m| format!("{m} (bare pod: nothing recreates it)")),
            RestartPlan::ArgoRestart { name, .. } => Err(format!(
                "Rollout {ns}/{name}: the lab runs no Argo Rollouts controller"
            )),
            plan @ RestartPlan::Refused { .. } => Err(plan.confirmation()),
        }
    }

    /// Writes a new version of a Key Vault secret.
    pub fn rotate_secret(
        &mut self,
        vault: &str,
        name: &str,
        value: Option<&[u8]>,
    ) -> Result<String, String> {
        let id = self.new_secret_version(vault, name, value)?;
        Ok(format!(
            "new version {id} of secret {name} in vault {vault}"
        ))
    }

    /// A rotation test's new version (`r`, `M`, a restore), said as the live source says it
    /// (`keyvault::written_outcome`): the version ids cut on the status line, where whole they
    /// took three rows at 80 columns (audit UUU-time2), and whole in the audit log.
    pub fn write_test_version(
        &mut self,
        vault: &str,
        name: &str,
        value: Option<&[u8]>,
        how: &NewValue,
    ) -> Result<crate::action::ActionOutcome, String> {
        let id = self.new_secret_version(vault, name, value)?;
        Ok(keyvault::written_outcome(&id, vault, name, how))
    }

    /// Writes a new version of a Key Vault secret (`value: None` re-stamps the current one);
    /// returns its id.
    pub fn new_secret_version(
        &mut self,
        vault: &str,
        name: &str,
        value: Option<&[u8]>,
    ) -> Result<String, String> {
        let now = self.now();
        let v = self
            .vaults
            .get_mut(vault)
            .ok_or_else(|| format!("vault {vault} not found"))?;
        let id = v.new_version(crate::snapshot::ObjectType::Secret, name, value, now)?;
        self.changed();
        Ok(id)
    }

    /// In-container verify: compares what the container holds (files, env captured at start,
    /// subPath files) with the vault version the SPC asks for and the synced Secret, by
    /// fingerprint only.
    pub fn verify(&self, ns: &str, pod: &str, container: &str) -> Result<String, String> {
        let p = self
            .pods
            .get(&(ns.to_string(), pod.to_string()))
            .ok_or_else(|| format!("pods \"{pod}\" not found in namespace {ns}"))?;
        if !p.runs(container) {
            return Err(format!(
                "cannot verify: container {container} is not running"
            ));
        }
        let mut lines = Vec::new();
        for v in &p.csi {
            let Some(m) = &v.mounted else { continue };
            let spc = self.spcs.get(&(ns.to_string(), v.spc.clone()));
            let parsed = crate::spc::parse(
                &spc.and_then(|s| s.spec.parameters.clone())
                    .unwrap_or_default(),
            );
            let vault = parsed
                .keyvault_name
                .as_deref()
                .and_then(|n| self.vaults.get(n));
            for o in &parsed.objects {
                let Some(file) = m.files.get(o.file_name()) else {
                    continue;
                };
                // The file holds the version the SPC asks for (FACTS §5): a pinned
                // objectVersion, else the latest.
                let object = o
                    .object_type
                    .and_then(|t| vault?.objects.get(&(t, o.object_name.clone())));
                let (want, what) = match &o.object_version {
                    Some(v) => (
                        object.and_then(|obj| obj.versions.iter().find(|x| x.id == *v)),
                        format!("the pinned version {}", &v[..v.len().min(8)]),
                    ),
                    None => (
                        object.and_then(|obj| obj.latest()),
                        "the vault's latest version".to_string(),
                    ),
                };
                let verdict = match want {
                    Some(l) if Fingerprint::of(&l.content) == Fingerprint::of(file) => {
                        format!("matches {what}")
                    }
                    Some(_) => format!("differs from {what}"),
                    None => "cannot compare: object not readable".to_string(),
                };
                lines.push(format!("file {}: {verdict}", o.file_name()));
            }
        }
        let spec = p.spec.as_deref();
        let c = spec
            .into_iter()
            .flat_map(|s| {
                s.init_containers
                    .iter()
                    .flatten()
                    .chain(s.containers.iter())
            })
            .find(|c| c.name == container)
            .ok_or_else(|| format!("container {container} not found in pod {ns}/{pod}"))?;
        // The variables it took at start, envFrom's included: the notion the live verify and
        // the timelines share (audit VV1), read from the lab's own snapshot of the pod.
        let snapshot = crate::source::lab::export::snapshot(self);
        let obs = snapshot
            .pod(ns, pod)
            .and_then(|o| o.containers.iter().find(|x| x.name == container));
        let keys_of = |secret: &str| {
            (snapshot.secret(ns, secret)).map(|s| s.data.keys().map(String::as_str).collect())
        };
        for r in obs
            .map(|o| o.secret_env_reads(keys_of).reads)
            .unwrap_or_default()
        {
            let held = p.env.get(container, r.var);
            let current = self
                .secrets
                .get(&(ns.to_string(), r.secret.to_string()))
                .and_then(|s| s.data.as_ref()?.get(r.key))
                .map(|v| Fingerprint::of(&v.0));
            let verdict = match (held, current) {
                (Some(h), Some(c)) if *h == c => match self.mounted_for_key(p, ns, r.secret, r.key)
                {
                    // The Secret itself is behind what this pod mounted: the lab's driver, as
                    // drivers before v1.6, rewrites an existing synced Secret only at rotation
                    // (FACTS §11); the verdict says both, as kvchain reads no version.
                    Some((file, f)) if f != c => format!(
                        "matches Secret {}, but that Secret is stale: key {} differs from file {file} this pod mounted (a driver before v1.6 rewrites a synced Secret only at rotation, a v1.6 one at its next reconcile)",
                        r.secret, r.key
                    ),
                    _ => "matches Secret ".to_string() + r.secret,
                },
                (Some(_), Some(_)) => format!(
                    "stale: Secret {} changed after the container started (restart needed)",
                    r.secret
                ),
                (_, None) => format!("Secret {} or key {} is gone", r.secret, r.key),
                (None, _) => "not set".to_string(),
            };
            let how = match r.env_from {
                true => format!(" (envFrom Secret {})", r.secret),
                false => String::new(),
            };
            lines.push(format!("env {}{how}: {verdict}", r.var));
        }
        // Each subPath copy (of the CSI volume or of a Secret volume), judged as the kubelet
        // made it: bound at the container's start (FACTS §4).
        for (path, held) in p.subpath_files.of(container) {
            lines.push(self.sub_path_verdict(ns, p, c, path, *held));
        }
        if lines.is_empty() {
            lines.push("nothing from Key Vault is mounted or referenced in this container".into());
        }
        Ok(lines.join("\n"))
    }

    /// The file pod `p` mounted for key `key` of synced Secret `secret` (by its SPCs'
    /// `secretObjects`) and its fingerprint. TLS Secrets hold parts of a PEM file, never the
    /// whole file, so they are not compared here.
    pub(super) fn mounted_for_key(
        &self,
        p: &LabPod,
        ns: &str,
        secret: &str,
        key: &str,
    ) -> Option<(String, Fingerprint)> {
        p.csi.iter().find_map(|v| {
            let files = &v.mounted.as_ref()?.files;
            let spc = self.spcs.get(&(ns.to_string(), v.spc.clone()))?;
            spc.spec
                .secret_objects
                .iter()
                .flatten()
                .filter(|so| so.secret_name.as_deref() == Some(secret))
                .filter(|so| so.type_.as_deref() != Some("kubernetes.io/tls"))
                .flat_map(|so| so.data.iter().flatten())
                .filter(|d| d.key.as_deref() == Some(key))
                .find_map(|d| {
                    let file = d.object_name.as_deref()?;
                    Some((file.to_string(), Fingerprint::of(files.get(file)?)))
                })
        })
    }
}
