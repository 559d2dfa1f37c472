//! KVC204 on the running pod: the service account's annotation agrees with the SPC now, but
//! what the webhook injected at the pod's creation (FACTS §6: CREATE only, never overwriting)
//! holds another client id, or none.

use super::{USE_LABEL, injected_client_id, same};
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::{Finding, Link};
use crate::chain::rules::sa_template::CLIENT_ID;
use crate::chain::rules::{params, remedy};
use crate::snapshot::{EnvSourceObs, ServiceAccountObs, VolumeSourceObs};

/// KVC204 on a pod: the annotation agrees with the SPC now, but the pod holds another client
/// id, injected before the annotation was corrected (the webhook mutates on CREATE only and
/// never overwrites a variable already set, FACTS §6) or written in the pod spec.
/// Causes in the pod template itself (a container's own AZURE_CLIENT_ID, skip-containers
/// naming the app) come first: no restart changes them (`webhook_env`).
pub(super) fn stale_injection(
    cx: &Ctx,
    link: &mut Link,
    sa: &ServiceAccountObs,
    annotated: &str,
    spc_client: &str,
) {
    if cx.pod.labels.get(USE_LABEL).is_none_or(|v| v != "true")
        || crate::chain::rules::webhook_env::check(cx, link, sa, annotated, spc_client)
        || cx.template
    {
        return;
    }
    let Some(held) = injected_client_id(cx.pod) else {
        missed_injection(cx, link, annotated, spc_client);
        return;
    };
    // A placeholder on either side is KVC306's one cause: comparing with it tells nothing.
    if same(held, spc_client)
        || params::is_placeholder(held)
        || params::is_placeholder(spc_client)
        || !same(annotated, spc_client)
    {
        return;
    }
    link.findings.push(on_pod(
        cx,
        format!(
            "pod {} holds AZURE_CLIENT_ID {held} but SecretProviderClass {} uses clientID {spc_client} (as the service account now says): the app and the mount authenticate as different identities until the pod is replaced",
            cx.pod.name, cx.spc_name
        ),
        vec![
            format!("pod {}: env AZURE_CLIENT_ID={held}", cx.pod.name),
            format!("ServiceAccount {}: {CLIENT_ID}: {annotated}", cx.pod.service_account),
        ],
        // The workload's template read shows it sets no AZURE_CLIENT_ID (else `webhook_env`
        // told it): the webhook injected it. Unread, the spec may set it. A bare pod is
        // recreated without it either way (`remedy::reinject`, audit DD3).
        match crate::chain::rules::webhook_env::own_spec(cx) {
            _ if cx.pod.owners.is_empty() => remedy::reinject(cx),
            Some(_) => remedy::restart(cx),
            None => format!(
                "{}  # if the pod spec sets AZURE_CLIENT_ID itself, change it there: the webhook never overwrites it",
                remedy::restart(cx)
            ),
        },
    ));
}

/// KVC204 on a pod the webhook mutated without a client id: the annotation agrees with the
/// SPC now, but the pod was created while its service account had none (the webhook injects
/// AZURE_CLIENT_ID only with a value, on CREATE only: FACTS §6), so the app's own Azure SDK
/// calls have no identity to ask for until the pod is replaced.
fn missed_injection(cx: &Ctx, link: &mut Link, annotated: &str, spc_client: &str) {
    // A variable the spec sets from elsewhere (a Secret, a ConfigMap) is there: the webhook
    // never overwrites it, and its value is not read here.
    let set = cx
        .pod
        .containers
        .iter()
        .any(|c| c.env.iter().any(|e| e.name == "AZURE_CLIENT_ID"));
    if set || !webhook_injected(cx.pod) || !same(annotated, spc_client) {
        return;
    }
    link.findings.push(on_pod(
        cx,
        format!(
            "pod {} has no AZURE_CLIENT_ID although its service account {} now names client id {annotated} (as SecretProviderClass {} does): the webhook mutated the pod when the account had none and injects only on creation, so the app's own Azure SDK calls have no identity until the pod is replaced; the CSI mount is not affected",
            cx.pod.name, cx.pod.service_account, cx.spc_name
        ),
        {
            // What each container holds, not what the webhook would give it.
            let mut evidence = crate::chain::rules::webhook_env::held(cx.pod);
            evidence.push(format!(
                "ServiceAccount {}: {CLIENT_ID}: {annotated}",
                cx.pod.service_account
            ));
            evidence
        },
        remedy::restart(cx),
    ));
}

/// KVC204 on the chain's pod itself: what the running pod holds (the annotation is right).
fn on_pod(cx: &Ctx, message: String, evidence: Vec<String>, fix: String) -> Finding {
    let (confirm, _) = remedy::commands(cx, Code::KVC204);
    cx.finding(
        Code::KVC204,
        format!("Pod/{}", cx.pod.name),
        message,
        evidence,
        confirm,
        fix,
    )
}

/// Whether the workload identity webhook mutated `pod`: its projected token volume or the
/// token file variable, either sign will do (the env of every container is read only without
/// the volume).
pub(super) fn webhook_injected(pod: &crate::snapshot::PodObs) -> bool {
    let token_volume = pod.volumes.iter().any(|v| {
        matches!(&v.source, VolumeSourceObs::Projected { token_audiences, .. }
            if token_audiences.iter().any(|a| a == remedy::AUDIENCE))
    });
    token_volume
        || pod.containers.iter().any(|c| {
            c.env.iter().any(|e| {
                e.name == "AZURE_FEDERATED_TOKEN_FILE" && !matches!(e.source, EnvSourceObs::Other)
            })
        })
}
