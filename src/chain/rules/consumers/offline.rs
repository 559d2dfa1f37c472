//! `check -f`: a consumer of a synced Secret whose SecretProviderClass no pod in the given
//! manifests mounts. The driver creates the Secret only for a mounting pod (FACTS §2 "No mount
//! ⇒ no Secret"); what is outside the files is unknown (README), so this is said as a gap in
//! the files: unless something else mounts the SPC the Secret never exists, and a consumer
//! that cannot start without it is KVC904's error (optional: an info, the pods start with it unset). The fix is the CSI
//! volume in that workload's own pod template, so its pods make the Secret they read.

use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::{Finding, Severity};
use crate::chain::rules::remedy::{free_mount_path, free_volume_name};
use crate::snapshot::PodObs;

/// KVC904 for `who` (`Deployment/web`), reading `secret` of SPC `cx.spc_name` as `uses`
/// (each `(how, required, what a missing Secret does to it)`), from manifests in which no pod
/// mounts the SPC.
pub(crate) fn never_mounted(
    cx: &Ctx,
    who: &str,
    pod: &PodObs,
    secret: &str,
    uses: &[(String, bool, &str)],
) -> Finding {
    let spc = cx.spc_name;
    let how: Vec<&str> = uses.iter().map(|(h, ..)| h.as_str()).collect();
    // What stops the pods is what their required uses meet, each said once.
    let mut stops: Vec<&str> = Vec::new();
    for (_, _, stop) in uses.iter().filter(|(_, required, _)| *required) {
        if !stops.contains(stop) {
            stops.push(stop);
        }
    }
    let outcome = if stops.is_empty() {
        "its pods start without it (every use is optional) and never see its values".to_string()
    } else {
        format!("its pods cannot start ({})", stops.join(", "))
    };
    let mut evidence: Vec<String> = how.iter().map(|h| format!("{who}: {h}")).collect();
    evidence.push(format!(
        "no pod in the given manifests mounts SecretProviderClass {spc}"
    ));
    let mut f = cx.finding(
        Code::KVC904,
        who.to_string(),
        format!(
            "{who} uses Secret {secret} ({}{}), which only a pod mounting SecretProviderClass {spc} makes the driver create, and no pod in the given manifests mounts it: unless something outside these files does, the Secret never exists and {outcome}",
            how.first().copied().unwrap_or_default(),
            match how.len() {
                0 | 1 => String::new(),
                n => format!(" and {} more", n - 1),
            }
        ),
        evidence,
        format!("kubectl get secret {secret} -n {}", cx.ns()),
        add_volume(
            (who, template_spec(pod.template_of.as_ref().map(|o| o.kind.as_str()))),
            pod,
            spc,
            names_no_identity(cx),
            "its pods then make the driver create the Secret",
        ),
    );
    if stops.is_empty() {
        f.severity = Severity::Info;
    }
    f
}

/// A KVC904 whose every use is optional: the pods start with the variables unset (an
/// optional volume empty), as Kubernetes documents for optional Secret references. What is
/// lost is the values, not the pod: an info, never an error.
pub(crate) fn optional_unset(f: &mut Finding) {
    f.severity = Severity::Info;
    f.message = format!(
        "{}; every use is optional, so its pods start with it unset (optional, unset)",
        f.message
    )
    .into();
}

/// Whether the SPC names no identity (no clientID, no identity mode: KVC307): a volume that
/// mounts it then needs a nodePublishSecretRef, or the mount fails (FACTS §5).
pub(super) fn names_no_identity(cx: &Ctx) -> bool {
    cx.params.as_deref().is_some_and(|p| {
        let (mode, _) = crate::chain::rules::auth_params::auth_mode(p, None, "tenantId");
        matches!(mode, crate::chain::context::AuthMode::Unknown)
    })
}

/// Where the pod spec is in an object of `kind` (None: a pod's own): a CronJob keeps its pod
/// template in its job template.
pub(super) fn template_spec(kind: Option<&str>) -> &'static str {
    match kind {
        Some("CronJob") => "spec.jobTemplate.spec.template.spec",
        Some(_) => "spec.template.spec",
        None => "spec",
    }
}

/// The CSI volume (and its mount: the kubelet sets up only volumes a container mounts) that
/// makes `who`'s own pods (their spec at `spec` in it) mount `spc`; for an SPC that names no
/// identity, what the mount needs besides (the volume alone would fail on "nodePublishSecretRef
/// secret is not set"). `then`: what its pods then do for the Secret.
pub(super) fn add_volume(
    (who, spec): (&str, &str),
    pod: &PodObs,
    spc: &str,
    no_identity: bool,
    then: &str,
) -> String {
    let found = pod.containers.iter().find(|c| !c.init);
    let container = found.map_or("the one that reads it", |c| c.name.as_str());
    // A volume name the pod and a mountPath the container do not use yet (the API refuses
    // duplicates), added to the lists, not replacing them (audit LL4).
    // (secrets-store-2, … past it: an SPC's name may hold dots, a volume's may not).
    let volume = free_volume_name(pod, &["secrets-store".to_string()]);
    let path = free_mount_path(
        found,
        &["/mnt/secrets-store".to_string(), format!("/mnt/{spc}")],
        &[],
    );
    format!(
        "# in {who}'s {spec}: add to volumes the entry {{name: {volume}, csi: {{driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {{secretProviderClass: {spc}}}}}}}; and add to container {container}'s volumeMounts the entry {{name: {volume}, mountPath: {path}, readOnly: true}}  # {then}{}",
        if no_identity {
            format!(
                "; SecretProviderClass {spc} names no identity (no clientID, no identity mode: KVC307), so that mount fails until it has one: set its parameters.clientID (workload identity, with a federated credential for the pods' service account), or add nodePublishSecretRef: {{name: <a Secret with clientid and clientsecret>}} to the volume"
            )
        } else {
            String::new()
        }
    )
}
