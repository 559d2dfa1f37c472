//! KVC106 decided by the pod spec alone: the workload-identity webhook refuses to admit a
//! labelled pod (FACTS §6), and with its `failurePolicy: Fail` the pod is never created. The
//! checks run in the webhook's order (proxy sidecar, then token expiration); each is told with
//! the webhook's own message. On a cluster the FailedCreate event carrying that message folds
//! into this finding as evidence (`rules::apply_events`: same code, one cause).

use super::remedy;
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::Link;
use crate::snapshot::SourceKind;

const USE_LABEL: &str = "azure.workload.identity/use";
const PROXY: &str = "azure.workload.identity/inject-proxy-sidecar";
const EXPIRATION: &str = "azure.workload.identity/service-account-token-expiration";
/// The webhook's bounds and default for the projected token's lifetime, in seconds.
const MIN_EXPIRATION: i64 = 3600;
const MAX_EXPIRATION: i64 = 86400;

pub(crate) fn check(cx: &Ctx, link: &mut Link) {
    // A pod that exists went through admission already; only a pod still to be created (a
    // manifest, or a workload's template whose pods are missing) can be refused.
    if !cx.template && cx.source().kind != SourceKind::Manifests {
        return;
    }
    // The webhook's objectSelector matches this label value exactly; AKS keeps kube-system
    // out of admission webhooks; and without the webhook nothing refuses.
    if cx.pod.labels.get(USE_LABEL).is_none_or(|v| v != "true")
        || cx.ns() == "kube-system"
        || cx.cluster().workload_identity_webhook.known() == Some(&false)
    {
        return;
    }
    let mut refusals = Vec::new();
    let mut evidence = Vec::new();
    // Edits of the pod template, and a command for the service account's annotation.
    let mut fixes = Vec::new();
    let mut sa_fix = None;
    // The webhook asks only whether the annotation is there: "false" injects the proxy too.
    if let Some(v) = cx.pod.annotations.get(PROXY)
        && cx.pod.host_network
    {
        refusals.push("hostNetwork is set to true, cannot inject proxy sidecar".to_string());
        evidence.push(format!(
            "pod annotation {PROXY}: {v:?}; spec.hostNetwork: true"
        ));
        let presence = if v == "true" {
            ""
        } else {
            " (its presence asks for the proxy, whatever its value)"
        };
        fixes.push(format!(
            "remove annotation {PROXY} from the pod template{presence}, or hostNetwork: true"
        ));
    }
    if let Some((refusal, seen, fix)) = expiration(cx) {
        refusals.push(refusal);
        evidence.push(seen);
        match fix {
            Fix::Template(f) => fixes.push(f),
            Fix::Command(c) => sa_fix = Some(c),
        }
    }
    if refusals.is_empty() {
        return;
    }
    let quoted: Vec<String> = refusals.iter().map(|r| format!("\"{r}\"")).collect();
    let message = format!(
        "the workload-identity webhook (failurePolicy: Fail) refuses to admit pods of {}: {}; no pod is created",
        cx.owner_resource(),
        // It stops at the first refusal: the next one shows once that is fixed.
        quoted.join(", then, once that is fixed, ")
    );
    let (confirm, _) = remedy::commands(cx, Code::KVC106);
    // The command first: the template edit ends in a comment.
    let fix = [
        sa_fix,
        (!fixes.is_empty()).then(|| remedy::edit_owner(cx, &fixes.join("; "))),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" && ");
    link.findings.push(cx.finding(
        Code::KVC106,
        cx.owner_resource(),
        message,
        evidence,
        confirm,
        fix,
    ));
}

/// Where the repair goes: the pod template, or the service account (a command).
enum Fix {
    Template(String),
    Command(String),
}

/// The token expiration the webhook would use (the pod's annotation wins over the service
/// account's, an empty one counts as unset) when it refuses it: (refusal, evidence, fix).
fn expiration(cx: &Ctx) -> Option<(String, String, Fix)> {
    let sa_name = cx.pod.service_account.as_str();
    let pod_value = cx.pod.annotations.get(EXPIRATION).filter(|v| !v.is_empty());
    let (value, whose, on_sa) = match pod_value {
        Some(v) => (v.as_str(), "pod annotation".to_string(), false),
        None => {
            let sa = cx.ix.service_accounts.get(&(cx.ns(), sa_name))?;
            let v = sa.annotations.get(EXPIRATION).filter(|v| !v.is_empty())?;
            (
                v.as_str(),
                format!("ServiceAccount {sa_name} annotation"),
                true,
            )
        }
    };
    // Unrendered: no value to judge yet.
    if super::params::is_placeholder(value) {
        return None;
    }
    // Go's strconv.ParseInt(value, 10, 64): an optional sign and decimal digits only.
    let (refusal, suggested) = match value.parse::<i64>() {
        Ok(n) if (MIN_EXPIRATION..=MAX_EXPIRATION).contains(&n) => return None,
        Ok(n) => (
            format!(
                "token expiration {n} not valid. Expected value to be between {MIN_EXPIRATION} and {MAX_EXPIRATION}"
            ),
            n.clamp(MIN_EXPIRATION, MAX_EXPIRATION),
        ),
        Err(e) => {
            let why = match e.kind() {
                std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow => {
                    "value out of range"
                }
                _ => "invalid syntax",
            };
            (
                format!("strconv.ParseInt: parsing {value:?}: {why}"),
                MIN_EXPIRATION,
            )
        }
    };
    let seen = format!("{whose} {EXPIRATION}: {value:?}");
    let fix = if on_sa {
        Fix::Command(format!(
            "kubectl annotate serviceaccount {} -n {} {EXPIRATION}={suggested} --overwrite",
            remedy::sh_word(sa_name),
            cx.ns()
        ))
    } else {
        Fix::Template(format!(
            "annotation {EXPIRATION}: \"{suggested}\" in the pod template (seconds, {MIN_EXPIRATION}-{MAX_EXPIRATION})"
        ))
    };
    Some((refusal, seen, fix))
}
