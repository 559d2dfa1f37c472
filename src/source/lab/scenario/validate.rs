//! Cross-document checks of a parsed scenario.

use std::path::Path;
use std::time::Duration;

use super::*;
use crate::error::InputError;

/// Cross-document checks that serde cannot do.
pub(super) fn validate(sc: &Scenario, origin: &Path) -> Result<(), InputError> {
    let fail = |m: String| Err(InputError::in_file(origin, m));
    if sc.cluster.oidc_issuer_url.is_empty() {
        return fail("Cluster spec.oidcIssuerURL is empty".into());
    }
    if sc.cluster.csi_driver.rotation_poll_interval < Duration::from_secs(1) {
        return fail("Cluster spec.csiDriver.rotationPollInterval must be at least 1s".into());
    }
    pod_count(sc).map_err(|m| InputError::in_file(origin, m))?;
    if sc
        .nodes
        .iter()
        .any(|n| n.metadata.name.as_deref() == Some(sc.cluster.node.as_str()))
    {
        return fail(format!(
            "Node {:?} is the Cluster's spec.node already (a Linux node of the default pool): give the extra node another name",
            sc.cluster.node
        ));
    }
    let mut vaults = std::collections::BTreeSet::new();
    for v in &sc.vaults {
        if !vaults.insert(v.name.as_str()) {
            return fail(format!("KeyVault {:?} is defined twice", v.name));
        }
        for (what, names) in [
            (
                "secret",
                v.spec.secrets.iter().map(|s| &s.name).collect::<Vec<_>>(),
            ),
            ("key", v.spec.keys.iter().map(|k| &k.name).collect()),
            (
                "certificate",
                v.spec.certificates.iter().map(|c| &c.name).collect(),
            ),
        ] {
            let mut seen = std::collections::BTreeSet::new();
            for n in names {
                if !seen.insert(n) {
                    return fail(format!(
                        "KeyVault {:?}: {what} {n:?} is defined twice",
                        v.name
                    ));
                }
            }
        }
        for s in &v.spec.secrets {
            if s.value.is_none() && s.versions.is_empty() {
                return fail(format!(
                    "KeyVault {:?} secret {:?}: set `value` or `versions`",
                    v.name, s.name
                ));
            }
            if s.value.is_some() && !s.versions.is_empty() {
                return fail(format!(
                    "KeyVault {:?} secret {:?}: `value` and `versions` are exclusive",
                    v.name, s.name
                ));
            }
        }
    }
    for ra in &sc.role_assignments {
        if !vaults.contains(ra.spec.scope.vault.as_str()) {
            return fail(format!(
                "RoleAssignment {:?}: spec.scope.vault {:?} is not a KeyVault of this scenario",
                ra.name, ra.spec.scope.vault
            ));
        }
        if let Some(o) = &ra.spec.scope.object {
            let ok = o.split_once('/').is_some_and(|(c, n)| {
                matches!(c, "secrets" | "keys" | "certificates") && !n.is_empty()
            });
            if !ok {
                return fail(format!(
                    "RoleAssignment {:?}: spec.scope.object {o:?} must be secrets/<name>, keys/<name> or certificates/<name>",
                    ra.name
                ));
            }
        }
    }
    for e in &sc.timeline {
        if let LabAction::RotateSecret { vault, .. } = &e.action
            && !vaults.contains(vault.as_str())
        {
            return fail(format!(
                "Timeline event at {}: vault {vault:?} is not a KeyVault of this scenario",
                humantime::format_duration(e.at)
            ));
        }
        if let LabAction::ApplyFault { id } | LabAction::RepairFault { id } = &e.action
            && crate::source::lab::faults::find(id).is_none()
        {
            return fail(format!("Timeline event: unknown fault {id:?}"));
        }
    }
    Ok(())
}

/// Pods the scenario asks for, within the lab's limit (the one `generated:N` has): a
/// Deployment with `replicas: 2147483647` would otherwise exhaust memory.
fn pod_count(sc: &Scenario) -> Result<usize, String> {
    let max = crate::source::lab::generator::MAX_PODS;
    let mut total = sc.pods.len() + sc.daemon_sets.len() + sc.jobs.len();
    let replicas = sc
        .deployments
        .iter()
        .map(|d| {
            (
                "Deployment",
                &d.metadata,
                d.spec.as_ref().and_then(|s| s.replicas),
            )
        })
        .chain(sc.stateful_sets.iter().map(|d| {
            (
                "StatefulSet",
                &d.metadata,
                d.spec.as_ref().and_then(|s| s.replicas),
            )
        }));
    for (kind, meta, r) in replicas {
        let name = meta.name.as_deref().unwrap_or("");
        let r = r.unwrap_or(1);
        if r < 0 {
            return Err(format!(
                "{kind} {name:?}: spec.replicas must not be negative, got {r}"
            ));
        }
        if r as usize > max {
            return Err(format!(
                "{kind} {name:?}: spec.replicas {r} is more than the lab's limit of {max} pods"
            ));
        }
        total += r as usize;
    }
    if total > max {
        return Err(format!(
            "the scenario asks for {total} pods, more than the lab's limit of {max}"
        ));
    }
    Ok(total)
}
