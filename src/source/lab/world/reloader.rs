//! Stakater Reloader as the lab runs it, by the Cluster's `reloaderArgs`
//! ([`crate::source::lab::reloader`]): annotated workloads roll out when a Secret they use
//! changes, and under `--enable-csi-integration` when a pod status of their
//! SecretProviderClass does.

use super::*;
use crate::reloader::{self as upstream, Config};
use crate::snapshot::Watched;
use crate::source::lab::reloader::{acts_in, run};

impl World {
    /// Stakater Reloader (env-vars strategy): workloads annotated `reloader.stakater.com/auto`
    /// that use the Secret, or naming it in `secret.reloader.stakater.com/reload`, get a
    /// `STAKATER_<NAME>_SECRET` env var with the data's hash, hence a rollout.
    pub(super) fn reload_consumers(&mut self, ns: &str, secret: &str) {
        if !acts_in(&self.cluster, ns, Watched::Secrets) {
            return;
        }
        let flags = run(&self.cluster);
        let cfg = flags.config();
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
        let var = format!("STAKATER_{}_SECRET", upstream::env_var_name(secret));
        let asking: Vec<(WorkloadKey, bool)> = (self.workloads.iter())
            .filter(|(k, _)| k.1 == ns)
            .filter_map(|(k, w)| Some((k.clone(), secret_asks(&cfg, w, &resource, secret)?)))
            .collect();
        self.roll(asking, Used::Secret(secret), &var, &hash);
    }

    /// Reloader's CSI integration ([R] `internal/pkg/handler/upgrade.go`, FACTS §10): a pod's
    /// SecretProviderClassPodStatus of `spc` whose objects changed to `objects` (a rotation;
    /// a status created at a mount restarts nothing, [R] `controller.go`) restarts each
    /// workload of `ns` whose annotations ask for the SPC, read with the SPC's own `ignore` and
    /// `match` ([`upstream::spc_asked`]): the status's SHA goes into
    /// `STAKATER_<SPC>_SECRETPROVIDERCLASS` of the container that mounts the CSI volume, once
    /// (a workload already holding it is left alone, so its replicas' statuses, changing one
    /// after another to the same versions, roll it out once).
    pub(super) fn reload_for_pod_status(
        &mut self,
        ns: &str,
        spc: &str,
        objects: &[(String, String)],
    ) {
        let flags = run(&self.cluster);
        if !flags.csi_integration || !acts_in(&self.cluster, ns, Watched::PodStatuses) {
            return;
        }
        let cfg = flags.config();
        let resource = (self.spcs.get(&(ns.to_string(), spc.to_string())))
            .and_then(|s| s.metadata.annotations.clone())
            .unwrap_or_default();
        // [R] util.go GetSHAfromSecretProviderClassPodStatus: ids and versions, never values.
        let mut values: Vec<String> = (objects.iter())
            .map(|(id, version)| format!("{id}={version}"))
            .collect();
        values.push(format!("SecretProviderClassName={spc}"));
        values.sort();
        let sha = hex::encode(Sha256::digest(values.join(";")));
        let var = format!(
            "STAKATER_{}_SECRETPROVIDERCLASS",
            upstream::env_var_name(spc)
        );
        let asking: Vec<(WorkloadKey, bool)> = (self.workloads.iter())
            .filter(|(k, _)| k.1 == ns)
            .filter_map(|(k, w)| {
                let key = spc_asks(&cfg, w, &resource, spc)?;
                Some((k.clone(), key != upstream::SPC_RELOAD))
            })
            .collect();
        self.roll(asking, Used::Spc(spc), &var, &sha);
    }

    /// Reloader's env-vars strategy on each workload `asking` (with whether it asked through
    /// `auto`): `var` set to `value` in the container [`container_for`] picks, a rollout where
    /// that changed the template.
    fn roll(&mut self, asking: Vec<(WorkloadKey, bool)>, used: Used, var: &str, value: &str) {
        use k8s_openapi::api::core::v1::Container;
        for (k, auto) in asking {
            let Some(spec) = (self.workloads.get_mut(&k))
                .and_then(|w| w.template_mut())
                .and_then(|t| t.spec.as_mut())
            else {
                continue;
            };
            // [R] secretProviderClassEnvReloaded: for an SPC, any container holding this SHA
            // already.
            let holds = |c: &Container| {
                (c.env.iter().flatten()).any(|e| e.name == var && e.value.as_deref() == Some(value))
            };
            if matches!(used, Used::Spc(_)) && spec.containers.iter().any(holds) {
                continue;
            }
            let Some(i) = container_for(spec, used, auto) else {
                continue;
            };
            // [R] updateEnvVar: the same value already there changes nothing.
            if set_env(&mut spec.containers[i], var, value) {
                self.reconcile_needed = true;
                self.changed();
            }
        }
    }
}

/// Reloader's variable `var` set to `value` in container `c` (its env-vars strategy: the
/// template changes, hence a rollout); false when it already held that value.
fn set_env(c: &mut k8s_openapi::api::core::v1::Container, var: &str, value: &str) -> bool {
    let env = c.env.get_or_insert_with(Vec::new);
    if let Some(e) = env.iter_mut().find(|e| e.name == var) {
        if e.value.as_deref() == Some(value) {
            return false;
        }
        e.value = Some(value.to_string());
        return true;
    }
    env.push(k8s_openapi::api::core::v1::EnvVar {
        name: var.to_string(),
        value: Some(value.to_string()),
        value_from: None,
    });
    true
}

/// Which of `w`'s annotations asks Reloader to restart it for a pod status of `spc`
/// (annotated `resource`), as Reloader reads them.
fn spc_asks<'c>(
    cfg: &Config<'c>,
    w: &Workload,
    resource: &Annotations,
    spc: &str,
) -> Option<&'c str> {
    let (own, template) = annotations(w);
    upstream::spc_asked(cfg, own, template, resource, spc)
}

/// The annotations Reloader reads on `w`: its own and its pod template's (none where absent).
fn annotations(w: &Workload) -> (&Annotations, &Annotations) {
    static NONE: Annotations = Annotations::new();
    let own = w.meta().annotations.as_ref().unwrap_or(&NONE);
    let template = (w.template())
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.annotations.as_ref())
        .unwrap_or(&NONE);
    (own, template)
}

type Annotations = std::collections::BTreeMap<String, String>;

/// What Reloader's variable stands for: a Secret, or a SecretProviderClass's pod status.
#[derive(Clone, Copy)]
enum Used<'a> {
    Secret(&'a str),
    Spc(&'a str),
}

/// The container Reloader writes its variable into ([R] upgrade.go getContainerUsingResource):
/// the one mounting the volume of `used` (a Secret's volume or projected source, the SPC's CSI
/// volume), else the one reading the Secret through env or envFrom; the first container when
/// only an init container does either, or when the workload names it (`!auto`) and none uses
/// it; none otherwise (an `auto` workload that uses it nowhere is not restarted).
fn container_for(spec: &PodSpec, used: Used, auto: bool) -> Option<usize> {
    use k8s_openapi::api::core::v1::{Container, Volume};
    let holds = |v: &Volume| match used {
        Used::Secret(name) => {
            v.secret.as_ref().and_then(|s| s.secret_name.as_deref()) == Some(name)
                || (v.projected.iter().flat_map(|p| p.sources.iter().flatten()))
                    .filter_map(|src| src.secret.as_ref())
                    .any(|x| x.name == name)
        }
        Used::Spc(name) => (v.csi.as_ref())
            .and_then(|c| c.volume_attributes.as_ref())
            .and_then(|a| a.get("secretProviderClass"))
            .is_some_and(|s| s == name),
    };
    let volume = (spec.volumes.iter().flatten())
        .find(|v| holds(v))
        .map(|v| v.name.as_str());
    let mounts =
        |c: &Container| (c.volume_mounts.iter().flatten()).any(|m| Some(m.name.as_str()) == volume);
    let reads = |c: &Container| {
        let Used::Secret(name) = used else {
            return false;
        };
        (c.env.iter().flatten())
            .filter_map(|e| e.value_from.as_ref()?.secret_key_ref.as_ref())
            .any(|r| r.name == name)
            || (c.env_from.iter().flatten())
                .filter_map(|e| e.secret_ref.as_ref())
                .any(|r| r.name == name)
    };
    let first = (!spec.containers.is_empty()).then_some(0);
    let inits = spec.init_containers.iter().flatten();
    for uses in [&mounts as &dyn Fn(&Container) -> bool, &reads] {
        if let Some(i) = spec.containers.iter().position(uses) {
            return Some(i);
        }
        if inits.clone().any(uses) {
            return first;
        }
    }
    if auto { None } else { first }
}

/// Whether Reloader restarts `w` when `secret` (annotated `resource`) changes, by its
/// ShouldReload (the workload's annotations, else the pod template's; `reload` entries as
/// anchored regexes: the chain's own matcher, FACTS §10): Some(true) through `auto` or
/// `search`, which then need a container using the Secret, Some(false) when it is named.
fn secret_asks(cfg: &Config, w: &Workload, resource: &Annotations, secret: &str) -> Option<bool> {
    use crate::reloader::{Restart, restart};
    let (own, template) = annotations(w);
    match restart(cfg, own, template, resource, secret)? {
        Restart::Named => Some(false),
        // `search` restarts as `auto` does (Reloader's AutoReload).
        Restart::Auto | Restart::Searched => Some(true),
    }
}
