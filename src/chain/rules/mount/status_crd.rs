//! Mount link: the SecretProviderClassPodStatus CRD is not installed (KVC709, audit
//! UUU-honest). The driver writes a pod's status inside NodePublishVolume, right after the
//! provider's files, and a first mount whose write fails returns that error and unmounts
//! (kubernetes-sigs/secrets-store-csi-driver `pkg/secrets-store/nodeserver.go`: "failed to
//! create secret provider class pod status for pod <ns>/<pod>, err: …"; FACTS §1). Without the
//! CRD the API server serves no such kind, so every new mount fails; and the driver's
//! controller builds the synced Secrets from those statuses (FACTS §2), so none is created or
//! updated. The gap alone read as "none exists, known" (audit TTT-honest), which is true of
//! the statuses but hid that nothing can mount.

use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::{Finding, Link, Severity};
use crate::snapshot::EventObs;

/// The driver's own manifest of the CRD, as its kubectl install applies it.
const CRD_APPLY: &str = "kubectl apply -f https://raw.githubusercontent.com/kubernetes-sigs/secrets-store-csi-driver/main/deploy/secrets-store.csi.x-k8s.io_secretproviderclasspodstatuses.yaml";
const CRD: &str = "secretproviderclasspodstatuses.secrets-store.csi.x-k8s.io";

/// KVC709 when the statuses' gap in the pod's namespace says their CRD is missing. True when
/// the chain's mount can be judged no further: a template or a pod not mounted cannot mount.
/// A pod that started its containers mounted before the CRD went (deleting a CRD deletes its
/// objects): its files stay, so it is told as a warning and the link goes on to say it mounted.
/// A finished or retired pod mounts nothing again: no finding.
pub(crate) fn missing(cx: &Ctx, link: &mut Link, started: bool) -> bool {
    let Some(reason) = (cx.snap().spc_statuses.unknown_in(cx.ns()))
        .filter(|r| crate::snapshot::gaps::is_not_installed(r))
    else {
        return false;
    };
    if !cx.template && (cx.retired() || cx.pod.finished()) {
        return false;
    }
    let mounted = !cx.template && started;
    let mut f = finding(cx, reason.to_string(), mounted);
    if mounted {
        f.severity = Severity::Warning;
    }
    link.findings.push(f);
    !mounted
}

/// The finding, from the gap or from the driver's event (`evidence`); `mounted` when the
/// pod's containers started before the CRD went.
pub(crate) fn finding(cx: &Ctx, evidence: String, mounted: bool) -> Finding {
    let (ns, spc) = (cx.ns(), cx.spc_name);
    let what = if cx.template {
        format!(
            "no pod of {} can mount SecretProviderClass {spc}",
            cx.owner_resource()
        )
    } else if mounted {
        format!(
            "the next mount of SecretProviderClass {spc} (pod {} restarted, a new replica) fails; this pod mounted before the CRD went and keeps its files",
            cx.pod.name
        )
    } else {
        format!("pod {} cannot mount SecretProviderClass {spc}", cx.pod.name)
    };
    let message = format!(
        "the SecretProviderClassPodStatus CRD is not installed in this cluster, so {what}: the driver writes a pod's status right after its first mount and fails the mount when it cannot (\"failed to create secret provider class pod status for pod {ns}/<pod>\"), and without the statuses it creates and updates no synced Secret"
    );
    cx.finding(
        Code::KVC709,
        format!("CustomResourceDefinition/{CRD}"),
        message,
        vec![evidence],
        commands().0,
        commands().1,
    )
}

/// KVC709's confirm and fix: the CRD is the driver's, cluster-wide; the kubelet retries a
/// waiting mount on its own once it is served.
pub(crate) fn commands() -> (String, String) {
    (
        format!("kubectl get crd {CRD}"),
        format!(
            "{CRD_APPLY}  # the driver's CRD; the kubelet retries the mounts on its own (kubectl get pods -A shows ContainerCreating ending)"
        ),
    )
}

/// KVC709 from the driver's event alone (the gap not read as a missing CRD).
pub(crate) fn from_event(cx: &Ctx, _e: &EventObs, evidence: String) -> Finding {
    finding(cx, evidence, false)
}
