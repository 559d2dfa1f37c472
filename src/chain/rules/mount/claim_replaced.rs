//! Mount, for a SecretProviderClass no pod mounts: a StatefulSet names it in a pod-template
//! volume that one of its `volumeClaimTemplates` of the same name replaces (KVC710). The
//! controller builds each pod's volumes from the claim templates first and keeps a template
//! volume only when no claim template has its name (kubernetes
//! `pkg/controller/statefulset/stateful_set_utils.go` updateStorage: "If pod has conflicting
//! local Volumes these are replaced with Volumes that conform to the set's templates"), and
//! the API server accepts the clash (apps validation leaves the pod spec to the pods). Every
//! pod then mounts a PersistentVolumeClaim where the CSI volume was meant: the driver is never
//! called, so no files, no SecretProviderClassPodStatus and no synced Secret (FACTS §1, §2).

use std::collections::BTreeMap;

use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::index::{DRIVER, SPC_ATTRIBUTE};
use crate::chain::model::Finding;
use crate::snapshot::{PodObs, Snapshot, SpcObs, VolumeObs, VolumeSourceObs, WorkloadObs};

/// (namespace, SPC name) → each StatefulSet whose claim templates replace a CSI volume naming
/// that SPC, with the volume. Built once per report: a clash is rare, and a scan of the
/// workloads per unmounted SPC would make a report of many of them quadratic.
pub(crate) type Replaced<'a> = BTreeMap<(&'a str, &'a str), Vec<Clash<'a>>>;

/// One StatefulSet's CSI volume replaced by its claim template of the same name.
pub(crate) struct Clash<'a> {
    set: &'a WorkloadObs,
    volume: &'a VolumeObs,
    /// The set's pod template as a pod (kept on the workload, or a manifest's template pod):
    /// its volume names, which the fix's new name must not take.
    template: Option<&'a PodObs>,
}

pub(crate) fn replaced(snap: &Snapshot) -> Replaced<'_> {
    let mut out: Replaced<'_> = BTreeMap::new();
    for w in &snap.workloads.items {
        if w.claim_replaced.is_empty() {
            continue;
        }
        let template = w.template.as_deref().or_else(|| {
            (snap.pods.items.iter()).find(|p| {
                p.namespace == w.namespace
                    && p.template_of
                        .as_ref()
                        .is_some_and(|o| o.kind == "StatefulSet" && o.name == w.name)
            })
        });
        for v in &w.claim_replaced {
            if let VolumeSourceObs::Csi {
                driver, attributes, ..
            } = &v.source
                && driver == DRIVER
                && let Some(spc) = attributes.get(SPC_ATTRIBUTE)
            {
                let key = (w.namespace.as_str(), spc.as_str());
                out.entry(key).or_default().push(Clash {
                    set: w,
                    volume: v,
                    template,
                });
            }
        }
    }
    out
}

/// KVC710 for each StatefulSet of `replaced` that names `spc` in a volume its claim templates
/// replace. `others`: pods of other workloads mount `spc` (so it is made, and its Secrets
/// synced, by them; only the set's pods lack it).
pub(crate) fn check(cx: &Ctx, spc: &SpcObs, replaced: &Replaced<'_>, others: bool) -> Vec<Finding> {
    let key = (spc.namespace.as_str(), spc.name.as_str());
    let Some(sets) = replaced.get(&key) else {
        return Vec::new();
    };
    sets.iter().map(|c| finding(cx, spc, c, others)).collect()
}

/// A finding downstream of KVC710 (a synced Secret of `spc` no pod makes, KVC904): says which
/// StatefulSet's claim template keeps the SPC unmounted, and its fix waits for KVC710's, as
/// adding another CSI volume beside the replaced one would leave two volumes meant as one.
pub(crate) fn blocks(f: &mut Finding, spc: &SpcObs, replaced: &Replaced<'_>) {
    let key = (spc.namespace.as_str(), spc.name.as_str());
    let Some(first) = replaced.get(&key).and_then(|c| c.first()) else {
        return;
    };
    let (set, volume) = (first.set.name.as_str(), first.volume.name.as_str());
    f.message = format!(
        "{}; StatefulSet/{set} means to mount it, but its volumeClaimTemplates[{volume}] takes the place of its CSI volume {volume} in every pod (KVC710)",
        f.message
    )
    .into();
    f.fix = format!(
        "# fix KVC710 (StatefulSet/{set}: rename its CSI volume {volume}) first: its pods then mount SecretProviderClass {} and the driver creates the Secret",
        spc.name
    )
    .into();
    f.show_safely();
}

fn finding(cx: &Ctx, spc: &SpcObs, clash: &Clash<'_>, others: bool) -> Finding {
    let (w, v) = (clash.set, clash.volume);
    let (ns, set, volume) = (spc.namespace.as_str(), w.name.as_str(), v.name.as_str());
    let synced: Vec<&str> = (spc.secret_objects.iter())
        .map(|o| o.secret_name.as_str())
        .filter(|n| !n.is_empty())
        .collect();
    let products = match synced.as_slice() {
        [] => String::new(),
        names => format!(" and never syncs its Secrets ({})", names.join(", ")),
    };
    // Other workloads' pods mount it: the files and the synced Secrets are theirs, only this
    // set's pods go without (audit XC-left).
    let whose = match others {
        true => "none of its pods mounts the SecretProviderClass (no Key Vault files in them; pods of other workloads mount it)".to_string(),
        false => format!("no pod mounts the SecretProviderClass (no files, no SecretProviderClassPodStatus){products}"),
    };
    let message = format!(
        "StatefulSet/{set} names SecretProviderClass {} in its pod template's volume {volume}, and its volumeClaimTemplates[{volume}] has the same name: the StatefulSet controller gives every pod it makes the claim's PersistentVolumeClaim there in place of the CSI volume, so {whose}; the containers' volumeMounts of {volume} get the claim's disk",
        spc.name
    );
    let evidence = vec![
        format!(
            "StatefulSet/{set} spec.template.spec.volumes[{volume}]: csi {{driver: {DRIVER}, secretProviderClass: {}}}",
            spc.name
        ),
        format!("StatefulSet/{set} spec.volumeClaimTemplates[{volume}]"),
    ];
    let confirm = format!(
        "kubectl get statefulset/{set} -n {ns} -o jsonpath='{{.spec.volumeClaimTemplates[*].metadata.name}}{{\"\\n\"}}{{.spec.template.spec.volumes[*].name}}'"
    );
    let free = free_name(clash);
    let fix = format!(
        "kubectl edit statefulset/{set} -n {ns}  # in spec.template.spec: rename the CSI volume {volume} to {free}, and name {free} in the volumeMounts that should hold the Key Vault files (keep {volume} in those that should hold the claim's disk); the claim template keeps its name, as a StatefulSet's volumeClaimTemplates cannot be changed. The new pods then mount SecretProviderClass {}",
        spc.name
    );
    // Made safe to show with the SPC's other findings (`standalone::verdict`).
    cx.finding(
        Code::KVC710,
        format!("StatefulSet/{set}"),
        message,
        evidence,
        confirm,
        fix,
    )
}

/// A volume name the set's template and claims do not use: `secrets-store`, else numbered.
fn free_name(clash: &Clash<'_>) -> String {
    let taken = |n: &str| {
        (clash.template.iter()).any(|t| t.volumes.iter().any(|x| x.name == n))
            || clash.set.claim_replaced.iter().any(|x| x.name == n)
    };
    (1..)
        .map(|i| match i {
            1 => "secrets-store".to_string(),
            i => format!("secrets-store-{i}"),
        })
        .find(|n| !taken(n))
        .unwrap_or_default()
}
