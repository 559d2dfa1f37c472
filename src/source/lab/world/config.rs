//! The kubelet's own work besides the CSI driver: Secret and ConfigMap volumes (and projected
//! sources) set up or failing in the volume plugins' words, and containers created as
//! kuberuntime creates them. Init containers run first, in order: one whose config fails keeps
//! every later container waiting. Then each app container on its own: one whose config fails
//! waits with CreateContainerConfigError and is retried, the others start (Kubernetes reports
//! the error only for the container whose config fails). A container's env is built once, at
//! its start, as makeEnvironmentVariables builds it: `envFrom` in order, then `env`, a later
//! definition of a name replacing an earlier one; a Secret or ConfigMap (or key) that does not
//! exist fails it unless the reference is optional.

use k8s_openapi::api::core::v1::Container;

use super::*;
use crate::source::lab::config_map;

/// The CSI drivers an AKS node registers: the Secrets Store driver (the add-on's, whose
/// presence per node the mount itself checks) and AKS's own Azure Disk and Azure Files drivers.
const REGISTERED: [&str; 3] = [
    crate::source::lab::mount::DRIVER,
    "disk.csi.azure.com",
    "file.csi.azure.com",
];

/// Fingerprints by container, then by variable (or subPath mount path).
type ByContainer = BTreeMap<String, BTreeMap<String, Fingerprint>>;

impl World {
    /// The pod's secret, configMap and projected volumes whose setup fails: (volume, the
    /// kubelet's FailedMount message). An optional source never fails, nor does a volume no
    /// container uses (the kubelet never sets it up).
    pub(super) fn plain_volume_failures(&self, key: &Key) -> Vec<(String, String)> {
        let Some(p) = self.pods.get(key) else {
            return Vec::new();
        };
        let ns = key.0.as_str();
        let mut out = Vec::new();
        for v in p.used_volumes() {
            let mut errors: Vec<String> = Vec::new();
            if let Some(s) = v.secret.as_ref().filter(|s| s.optional != Some(true)) {
                let name = s.secret_name.as_deref().unwrap_or_default();
                errors.extend(self.secret_payload(ns, name, s.items.iter().flatten()));
            }
            if let Some(c) = v.config_map.as_ref().filter(|c| c.optional != Some(true)) {
                errors.extend(self.config_map_payload(ns, &c.name, c.items.iter().flatten()));
            }
            let sources = v.projected.iter().flat_map(|p| p.sources.iter().flatten());
            for src in sources {
                // The projected plugin reads each source as the secret and configMap plugins
                // do, with the same errors (one per source, aggregated).
                if let Some(s) = src.secret.as_ref().filter(|s| s.optional != Some(true)) {
                    errors.extend(self.secret_payload(ns, &s.name, s.items.iter().flatten()));
                }
                if let Some(c) = src.config_map.as_ref().filter(|c| c.optional != Some(true)) {
                    errors.extend(self.config_map_payload(ns, &c.name, c.items.iter().flatten()));
                }
            }
            if let Some(msg) = aggregate(errors) {
                let setup = format!("MountVolume.SetUp failed for volume \"{}\" : ", v.name);
                out.push((v.name.clone(), setup + &msg));
            }
            // A CSI volume naming a driver no plugin on the node registered as (a typo such as
            // the CRD group secrets-store.csi.x-k8s.io): the kubelet fails its setup before
            // any driver is called (FACTS §3), as it does where the Secrets Store driver does
            // not run (audit XB-facts). AKS nodes register the Azure Disk and Azure Files CSI
            // drivers too; the lab does not simulate their volumes, which it leaves be.
            if let Some(c) = v.csi.as_ref()
                && !REGISTERED.contains(&c.driver.as_str())
            {
                let msg =
                    crate::source::lab::messages::driver_name_not_registered(&v.name, &c.driver);
                out.push((v.name.clone(), msg));
            }
        }
        out
    }

    /// The secret volume plugin's error for a required source: the Secret is missing (the
    /// kubelet's secret manager: `secret "NAME" not found`), or lacks an `items[].key`.
    fn secret_payload<'a>(
        &self,
        ns: &str,
        name: &str,
        mut items: impl Iterator<Item = &'a k8s_openapi::api::core::v1::KeyToPath>,
    ) -> Option<String> {
        let Some(secret) = self.secrets.get(&(ns.to_string(), name.to_string())) else {
            return Some(format!("secret \"{name}\" not found"));
        };
        let has = |k: &str| secret.data.as_ref().is_some_and(|d| d.contains_key(k));
        items
            .find(|i| !has(&i.key))
            .map(|i| format!("references non-existent secret key: {}", i.key))
    }

    /// The configMap volume plugin's error for a required source: the ConfigMap is missing,
    /// or lacks an `items[].key` (in `data` or `binaryData`).
    fn config_map_payload<'a>(
        &self,
        ns: &str,
        name: &str,
        mut items: impl Iterator<Item = &'a k8s_openapi::api::core::v1::KeyToPath>,
    ) -> Option<String> {
        match self.config_maps.get(&(ns.to_string(), name.to_string())) {
            None => Some(config_map::not_found(name)),
            Some(cm) => items
                .find(|i| !cm.projects(&i.key))
                .map(|i| config_map::volume_key_missing(&i.key)),
        }
    }

    /// Container `c`'s env as the kubelet builds it at the container's start: what Secrets
    /// gave, by variable, as fingerprints. Err: the kubelet's message (its first failure).
    fn container_env(
        &self,
        ns: &str,
        c: &Container,
    ) -> Result<BTreeMap<String, Fingerprint>, String> {
        let key = |name: &str| (ns.to_string(), name.to_string());
        let mut vars = BTreeMap::new();
        for ef in c.env_from.iter().flatten() {
            let prefix = ef.prefix.as_deref().unwrap_or("");
            if let Some(r) = &ef.config_map_ref {
                match self.config_maps.get(&key(&r.name)) {
                    None if r.optional == Some(true) => {}
                    None => return Err(config_map::not_found(&r.name)),
                    // A ConfigMap's value replaces what a Secret gave under the same name.
                    Some(cm) => {
                        for k in &cm.data {
                            vars.remove(&format!("{prefix}{k}"));
                        }
                    }
                }
            }
            if let Some(r) = &ef.secret_ref {
                match self.secrets.get(&key(&r.name)) {
                    None if r.optional == Some(true) => {}
                    None => return Err(format!("secret \"{}\" not found", r.name)),
                    Some(s) => {
                        for (k, v) in s.data.iter().flatten() {
                            vars.insert(format!("{prefix}{k}"), Fingerprint::of(&v.0));
                        }
                    }
                }
            }
        }
        for e in c.env.iter().flatten() {
            let from = e.value_from.as_ref();
            if let Some(r) = from.and_then(|f| f.secret_key_ref.as_ref()) {
                let optional = r.optional == Some(true);
                let secret = self.secrets.get(&key(&r.name));
                match secret.map(|s| s.data.as_ref().and_then(|d| d.get(&r.key))) {
                    Some(Some(v)) => {
                        vars.insert(e.name.clone(), Fingerprint::of(&v.0));
                    }
                    // An optional reference left unset keeps what envFrom gave the name.
                    _ if optional => {}
                    None => return Err(format!("secret \"{}\" not found", r.name)),
                    Some(None) => {
                        return Err(format!(
                            "couldn't find key {} in Secret {ns}/{}",
                            r.key, r.name
                        ));
                    }
                }
                continue;
            }
            if let Some(r) = from.and_then(|f| f.config_map_key_ref.as_ref()) {
                let optional = r.optional == Some(true);
                // Env reads `data` only: a key in `binaryData` is not found.
                match self.config_maps.get(&key(&r.name)) {
                    Some(cm) if cm.data.contains(&r.key) => {}
                    _ if optional => continue,
                    None => return Err(config_map::not_found(&r.name)),
                    Some(_) => return Err(config_map::env_key_missing(&r.key, ns, &r.name)),
                }
            }
            // A literal, a ConfigMap's value or the downward API replaces what envFrom took
            // from a Secret under the same name.
            vars.remove(&e.name);
        }
        Ok(vars)
    }

    /// Creates the pod's containers once its volumes are set up (see the module's note).
    /// Retried every [`CONFIG_RETRY`] while a container's config fails; a container already
    /// started keeps what it took.
    pub(super) fn start_containers(&mut self, key: &Key) {
        let now = self.now();
        let Some(p) = self.pods.get(key) else {
            return;
        };
        let ns = key.0.as_str();
        // Past the init containers: only the app containers still held are created again.
        let resumed = p.waiting.is_none() && !p.config_errors.is_empty();
        let (mut env, mut files): (ByContainer, ByContainer) = match resumed {
            true => (p.env.by_container(), p.subpath_files.by_container()),
            false => Default::default(),
        };
        let mut start = |c: &Container, env: &mut ByContainer| {
            let vars = self.container_env(ns, c)?;
            env.insert(c.name.clone(), vars);
            let f = self.subpath_files(ns, p, c);
            if !f.is_empty() {
                files.insert(c.name.clone(), f);
            }
            Ok::<(), String>(())
        };
        let spec = p.spec.as_deref();
        let mut init_error = None;
        if !resumed {
            for c in spec.iter().flat_map(|s| s.init_containers.iter().flatten()) {
                if let Err(e) = start(c, &mut env) {
                    init_error = Some((c.name.clone(), e));
                    break;
                }
            }
        }
        let mut errors: Vec<(String, String)> = Vec::new();
        let mut started: Vec<String> = Vec::new();
        if init_error.is_none() {
            let app = spec.iter().flat_map(|s| s.containers.iter());
            for c in app.filter(|c| !resumed || p.config_error(&c.name).is_some()) {
                match start(c, &mut env) {
                    Ok(()) => started.push(c.name.clone()),
                    Err(e) => errors.push((c.name.clone(), e)),
                }
            }
        }
        let Some(p) = self.pods.get_mut(key) else {
            return;
        };
        let failed: Vec<(String, String)> = match init_error {
            // An init container's error keeps every container after it waiting.
            Some((init, e)) => {
                let first = p.stage != Stage::Configuring || p.waiting_init.as_ref() != Some(&init);
                set_status(p, Some(("CreateContainerConfigError", &e)));
                p.waiting_init = Some(init.clone());
                p.stage = Stage::Configuring;
                if first {
                    self.changed();
                }
                vec![(init, e)]
            }
            None => {
                let changed = !started.is_empty()
                    || p.stage != Stage::Configuring
                    || *p.config_errors != *errors;
                set_status(p, None);
                p.env = Held::new(env);
                p.subpath_files = Held::new(files);
                // A container held until now shows its own start, not the pod's first.
                p.started(&started, now);
                p.config_errors = errors.clone().into();
                p.stage = match errors.is_empty() {
                    true => Stage::Running,
                    false => Stage::Configuring,
                };
                if errors.is_empty() {
                    p.failing_since = None;
                    self.waiting.remove(key);
                    self.reconcile_needed = true;
                    self.job_pod_started(key);
                }
                if changed {
                    self.changed();
                }
                errors
            }
        };
        if let Some(p) = self.pods.get_mut(key)
            && !failed.is_empty()
        {
            p.next_attempt = now.checked_add(CONFIG_RETRY).unwrap_or(now);
            self.waiting.retry_at(key, p.next_attempt);
        }
        for (_, e) in failed {
            self.record(key, "Warning", "Failed", &format!("Error: {e}"), "kubelet");
        }
    }
}

/// Several errors of one volume's setup as apimachinery's aggregate prints them: one alone,
/// else `[a, b]` (duplicates once).
fn aggregate(errors: Vec<String>) -> Option<String> {
    let mut seen: Vec<String> = Vec::new();
    for e in errors {
        if !seen.contains(&e) {
            seen.push(e);
        }
    }
    match seen.len() {
        0 => None,
        1 => seen.pop(),
        _ => Some(format!("[{}]", seen.join(", "))),
    }
}
