//! Service-principal mode's half of the fix for an SPC that names no credential (FACTS §5:
//! no clientID and no identity mode ⇒ a service principal from `nodePublishSecretRef`).
//! `nodePublishSecretRef` is a field of the pod's `csi` volume, not of the SecretProviderClass
//! (its CRD has none): it is set where each mounting pod's owner keeps that volume.
//!
//! The two modes are alternatives, never steps: a fix runs one of them and offers the other in
//! its note, in words (bash never runs a note, so a command written there would only look
//! like a step; audit N3). It leads with service-principal mode when the namespace holds the
//! Secret that mode reads and no identity is known for workload identity, else with clientID.

use super::{edit_pod_owner, in_turn};
use crate::chain::context::Ctx;
use crate::chain::index::{DRIVER, SPC_ATTRIBUTE};
use crate::snapshot::{PodObs, VolumeSourceObs};

/// What a volume's reference names when no Secret of the namespace holds the keys.
const ANY_SECRET: &str = "<a Secret with clientid and clientsecret>";

/// The volumes that lack `nodePublishSecretRef`: each mounting pod's owner (this chain's
/// first, one per owner) and the names of its volumes mounting the chain's SPC.
pub(crate) struct Unreferenced<'a> {
    owners: Vec<Owner<'a>>,
}

/// A mounting pod, its owner (kind, name) and its volumes without the reference.
type Owner<'a> = (&'a PodObs, Option<(&'a str, &'a str)>, Vec<&'a str>);

/// The volumes of the pods mounting the chain's SPC without `nodePublishSecretRef`, `None`
/// when there is none.
pub(crate) fn unreferenced<'a>(cx: &Ctx<'a>) -> Option<Unreferenced<'a>> {
    let mut seen: Vec<String> = Vec::new();
    let mut owners = Vec::new();
    let others = (cx.ix.pods_mounting(cx.ns(), cx.spc_name))
        .filter(|p| !std::ptr::eq(*p, cx.pod))
        .map(|p| (p, cx.ix.workload_of(p)));
    for (pod, workload) in std::iter::once((cx.pod, cx.workload)).chain(others) {
        let owner = owner_name(pod, workload);
        if seen.contains(&owner) {
            continue;
        }
        seen.push(owner);
        let volumes: Vec<&str> = unreferenced_volumes(pod, cx.spc_name).collect();
        if !volumes.is_empty() {
            owners.push((pod, workload, volumes));
        }
    }
    (!owners.is_empty()).then_some(Unreferenced { owners })
}

impl Unreferenced<'_> {
    /// The fix of an SPC naming no credential. `spc_edit`: the SPC edit whose note says what
    /// clientID to set (`client_hint`, the same in words); `sole`: the missing credential is
    /// the SPC's only problem; `wi_known`: the snapshot knows the identity meant (the
    /// service account's annotation, a federated credential for it) or workload identity was
    /// meant. Service-principal mode leads only when the namespace has its Secret, and then
    /// the volumes name it.
    pub(crate) fn fix(
        &self,
        cx: &Ctx,
        spc_edit: &str,
        client_hint: &str,
        sole: bool,
        wi_known: bool,
    ) -> String {
        let secret = credential_secret(cx);
        if let Some(s) = secret.filter(|_| sole && !wi_known) {
            let mut parts = self.edits(cx, s);
            parts.push(format!(
                "# service-principal mode, with Secret {s} of namespace {}; or, for workload identity instead, set in SecretProviderClass {}: {client_hint}",
                cx.ns(),
                cx.spc_name
            ));
            let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
            return in_turn(&parts);
        }
        let reference = secret.unwrap_or(ANY_SECRET);
        let alternative = format!(
            "# or, for service-principal mode instead of clientID: nodePublishSecretRef: {{name: {reference}}} on {} (a field of the pod's csi volume, not of the SecretProviderClass)",
            self.in_words()
        );
        in_turn(&[spc_edit, &alternative])
    }

    /// The owner edit of each volume, naming Secret `secret`.
    fn edits(&self, cx: &Ctx, secret: &str) -> Vec<String> {
        let mut edits = Vec::new();
        for (pod, workload, volumes) in &self.owners {
            for volume in volumes {
                edits.push(edit_pod_owner(
                    cx,
                    pod,
                    *workload,
                    &format!("volume {volume}: csi.nodePublishSecretRef: {{name: {secret}}}"),
                ));
            }
        }
        edits
    }

    /// `volume kv of deployment/app and volume store of pod/web (recreated: …)`.
    fn in_words(&self) -> String {
        let each: Vec<String> = (self.owners.iter())
            .flat_map(|(pod, workload, volumes)| {
                let owner = match workload {
                    Some(("Node", n)) => {
                        format!("static pod {} (its manifest file on node {n})", pod.name)
                    }
                    Some(("Job", n)) => format!("job/{n} (re-created from its manifest)"),
                    Some(_) => owner_name(pod, *workload),
                    None => format!(
                        "pod/{} (recreated: a pod's spec cannot be edited in place)",
                        pod.name
                    ),
                };
                volumes
                    .iter()
                    .map(move |v| format!("volume {v} of {owner}"))
            })
            .collect();
        each.join(" and ")
    }
}

/// `deployment/app`, or `pod/web` for a pod nothing owns.
fn owner_name(pod: &PodObs, workload: Option<(&str, &str)>) -> String {
    workload.map_or_else(
        || format!("pod/{}", pod.name),
        |(k, n)| format!("{}/{n}", k.to_ascii_lowercase()),
    )
}

/// The one Secret of the chain's namespace holding both keys service-principal mode reads
/// (`clientid`, `clientsecret`, matched case-insensitively, FACTS §5), if exactly one does.
fn credential_secret<'a>(cx: &Ctx<'a>) -> Option<&'a str> {
    let has = |s: &crate::snapshot::SecretObs, key: &str| {
        s.data.keys().any(|k| k.eq_ignore_ascii_case(key))
    };
    let mut found = (cx.snap().secrets.items.iter())
        .filter(|s| s.namespace == cx.ns() && has(s, "clientid") && has(s, "clientsecret"))
        .map(|s| s.name.as_str());
    let first = found.next();
    found.next().is_none().then_some(first).flatten()
}

/// The names of `pod`'s Secrets Store CSI volumes that mount `spc` with no
/// `nodePublishSecretRef`.
fn unreferenced_volumes<'p>(pod: &'p PodObs, spc: &'p str) -> impl Iterator<Item = &'p str> {
    pod.volumes.iter().filter_map(move |v| match &v.source {
        VolumeSourceObs::Csi {
            driver,
            attributes,
            node_publish_secret: None,
            ..
        } if driver.as_str() == DRIVER
            && attributes.get(SPC_ATTRIBUTE).map(|s| s.as_str()) == Some(spc) =>
        {
            Some(v.name.as_str())
        }
        _ => None,
    })
}
