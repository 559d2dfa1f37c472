//! Stakater Reloader as the lab runs it: annotated workloads roll out when a Secret they use
//! changes.

use super::*;

impl World {
    /// Stakater Reloader (env-vars strategy): workloads annotated `reloader.stakater.com/auto`
    /// that use the Secret, or naming it in `secret.reloader.stakater.com/reload`, get a
    /// `STAKATER_<NAME>_SECRET` env var with the data's hash, hence a rollout.
    pub(super) fn reload_consumers(&mut self, ns: &str, secret: &str) {
        let Some(found) = self.secrets.get(&(ns.to_string(), secret.to_string())) else {
            return;
        };
        let Some(data) = found.data.clone() else {
            return;
        };
        // The Secret's `reloader.stakater.com/ignore` (FACTS §10) is read as Reloader reads it.
        let resource = found.metadata.annotations.clone().unwrap_or_default();
        let mut h = Sha256::new();
        for (k, v) in &data {
            h.update(k.as_bytes());
            h.update(&v.0);
        }
        let hash = hex::encode(h.finalize());
        let var = format!(
            "STAKATER_{}_SECRET",
            secret.to_uppercase().replace(['-', '.'], "_")
        );
        let keys: Vec<WorkloadKey> = self
            .workloads
            .iter()
            .filter(|(k, w)| k.1 == ns && reloader_watches(w, &resource, secret))
            .map(|(k, _)| k.clone())
            .collect();
        for k in keys {
            let Some(t) = self.workloads.get_mut(&k).and_then(|w| w.template_mut()) else {
                continue;
            };
            for c in t.spec.iter_mut().flat_map(|s| s.containers.iter_mut()) {
                let env = c.env.get_or_insert_with(Vec::new);
                env.retain(|e| e.name != var);
                env.push(k8s_openapi::api::core::v1::EnvVar {
                    name: var.clone(),
                    value: Some(hash.clone()),
                    value_from: None,
                });
            }
            self.reconcile_needed = true;
            self.changed();
        }
    }
}

/// Whether Reloader restarts `w` when `secret` changes: its ShouldReload (the workload's
/// annotations, else the pod template's; `reload` entries as anchored regexes: the chain's
/// own matcher, FACTS §10), and for `auto` a template that references the Secret.
pub(super) fn reloader_watches(
    w: &Workload,
    resource: &std::collections::BTreeMap<String, String>,
    secret: &str,
) -> bool {
    use crate::reloader::{Restart, restart};
    let none = std::collections::BTreeMap::new();
    let own = w.meta().annotations.as_ref().unwrap_or(&none);
    let template = w
        .template()
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.annotations.as_ref())
        .unwrap_or(&none);
    // The lab's Reloader runs with Reloader's defaults (its export says so).
    match restart(&crate::reloader::DEFAULT, own, template, resource, secret) {
        Some(Restart::Named) => true,
        // `search` restarts as `auto` does (Reloader's AutoReload): for a referenced Secret.
        Some(Restart::Auto | Restart::Searched) => {
            w.template().is_some_and(|t| uses_secret(t, secret))
        }
        None => false,
    }
}

pub(super) fn uses_secret(t: &PodTemplateSpec, secret: &str) -> bool {
    let Some(spec) = &t.spec else { return false };
    // A projected volume's secret source references the Secret too ([R] getVolumeMountName).
    let projects = |v: &k8s_openapi::api::core::v1::Volume| {
        let sources = v.projected.iter().flat_map(|p| p.sources.iter().flatten());
        sources
            .filter_map(|src| src.secret.as_ref())
            .any(|x| x.name == secret)
    };
    let in_volumes = spec.volumes.iter().flatten().any(|v| {
        v.secret.as_ref().and_then(|s| s.secret_name.as_deref()) == Some(secret) || projects(v)
    });
    let in_env = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .any(|c| {
            c.env.iter().flatten().any(|e| {
                e.value_from
                    .as_ref()
                    .and_then(|f| f.secret_key_ref.as_ref())
                    .is_some_and(|r| r.name == secret)
            }) || c
                .env_from
                .iter()
                .flatten()
                .any(|e| e.secret_ref.as_ref().is_some_and(|r| r.name == secret))
        });
    in_volumes || in_env
}
