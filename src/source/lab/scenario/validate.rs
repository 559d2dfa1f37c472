//! Cross-document checks of a parsed scenario. Each error names the document it is about
//! (docs/scenarios.md: "Every error names the file, the document (1-based) and the field
//! path"): the parser records where each item came from in [`Places`].

use std::path::Path;

use super::*;
use crate::input::InputError;

/// The document (1-based) each item of a scenario was written in, as the parser met them.
#[derive(Default)]
pub(super) struct Places {
    /// The `kind: Cluster` document.
    pub cluster: usize,
    /// One per [`Scenario::role_assignments`], in order.
    pub role_assignments: Vec<usize>,
    /// One per [`Scenario::timeline`] event before sorting: its document and its index in
    /// that document's `spec.events`.
    pub timeline: Vec<(usize, usize)>,
    /// One per [`Scenario::nodes`], in order.
    pub nodes: Vec<usize>,
    /// Each document that makes pods, with how many (`replicas`, or 1).
    pub pods: Vec<(usize, usize)>,
}

/// Cross-document checks that serde cannot do. Called before the timeline is sorted.
pub(super) fn validate(sc: &Scenario, origin: &Path, places: &Places) -> Result<(), InputError> {
    let at = |doc: usize, kind: &str, m: String| {
        Err(InputError::in_document(origin, doc, format!("{kind}: {m}")))
    };
    let max = crate::source::lab::generator::MAX_PODS;
    let mut total = 0usize;
    for &(doc, pods) in &places.pods {
        total += pods;
        if total > max {
            return Err(InputError::in_document(
                origin,
                doc,
                format!(
                    "the scenario's pods reach {total} with this document, more than the lab's limit of {max}"
                ),
            ));
        }
    }
    for (n, doc) in sc.nodes.iter().zip(&places.nodes) {
        if n.metadata.name.as_deref() == Some(sc.cluster.node.as_str()) {
            return at(
                *doc,
                "Node",
                format!(
                    "metadata.name: {:?} is the Cluster's spec.node already (document {}, a Linux node of the default pool): give the extra node another name",
                    sc.cluster.node, places.cluster
                ),
            );
        }
    }
    // A provider pod not ready is one the DaemonSet placed: on a node of the lab where the
    // driver runs.
    let nodes = crate::source::lab::nodes::lab_nodes(&sc.cluster, &sc.nodes);
    for name in &sc.cluster.csi_driver.provider_not_ready_on {
        let placed = (nodes.iter())
            .find(|n| n.name == *name)
            .is_some_and(crate::source::lab::nodes::driver_runs_on);
        if !placed {
            return at(
                places.cluster,
                "Cluster",
                format!(
                    "spec.csiDriver.providerNotReadyOn: {name:?} is no node of this scenario where the add-on's DaemonSets run"
                ),
            );
        }
    }
    if !sc.cluster.reloader_args.is_empty() {
        let refused = if !sc.cluster.reloader {
            Some("Reloader's args need a Reloader: set spec.reloader: true".to_string())
        } else {
            crate::source::lab::reloader::unsimulated(&sc.cluster.reloader_args)
        };
        if let Some(why) = refused {
            return at(
                places.cluster,
                "Cluster",
                format!("spec.reloaderArgs: {why}"),
            );
        }
    }
    // Vault names are DNS labels, one vault in any case (FACTS §5): compared lower-cased.
    let vaults: std::collections::BTreeSet<String> = sc
        .vaults
        .iter()
        .map(|v| v.name.to_ascii_lowercase())
        .collect();
    for (ra, doc) in sc.role_assignments.iter().zip(&places.role_assignments) {
        if !ra.spec.scope.vault.is_empty()
            && !vaults.contains(&ra.spec.scope.vault.to_ascii_lowercase())
        {
            return at(
                *doc,
                "RoleAssignment",
                format!(
                    "spec.scope.vault: {:?} is not a KeyVault of this scenario",
                    ra.spec.scope.vault
                ),
            );
        }
    }
    for (e, (doc, i)) in sc.timeline.iter().zip(&places.timeline) {
        if let LabAction::RotateSecret { vault, .. } = &e.action
            && !vaults.contains(&vault.to_ascii_lowercase())
        {
            return at(
                *doc,
                "Timeline",
                format!(
                    "spec.events[{i}].rotateSecret.vault: {vault:?} is not a KeyVault of this scenario"
                ),
            );
        }
    }
    Ok(())
}
