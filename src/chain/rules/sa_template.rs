//! Unrendered workload-identity annotations on the pod's service account (`${VAR}` in
//! `azure.workload.identity/client-id` or `tenant-id`). The webhook copies them as they are
//! into AZURE_CLIENT_ID / AZURE_TENANT_ID of labelled pods (FACTS §6), so they are template
//! values like the SPC's: reported once, with KVC306 (README), never as a client id that
//! "differs" (KVC204) — a placeholder differs from nothing until it is rendered.

use super::{params, remedy};
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::Finding;

pub(crate) const CLIENT_ID: &str = "azure.workload.identity/client-id";
pub(crate) const TENANT_ID: &str = "azure.workload.identity/tenant-id";

/// One placeholder annotation of the pod's service account.
pub(crate) struct Unrendered {
    annotation: &'static str,
    value: String,
}

/// The pod's service account's identity annotations that are still placeholders.
pub(crate) fn unrendered(cx: &Ctx) -> Vec<Unrendered> {
    let Some(sa) = cx
        .ix
        .service_accounts
        .get(&(cx.ns(), cx.pod.service_account.as_str()))
    else {
        return Vec::new();
    };
    [CLIENT_ID, TENANT_ID]
        .into_iter()
        .filter_map(|annotation| {
            let v = sa.annotations.get(annotation)?;
            params::is_placeholder(v).then(|| Unrendered {
                annotation,
                value: v.clone(),
            })
        })
        .collect()
}

/// `annotation: value, …` for a message.
fn pairs(items: &[Unrendered]) -> String {
    items
        .iter()
        .map(|u| format!("{}: {}", u.annotation, u.value))
        .collect::<Vec<_>>()
        .join(", ")
}

fn evidence(cx: &Ctx, items: &[Unrendered]) -> Vec<String> {
    items
        .iter()
        .map(|u| {
            format!(
                "ServiceAccount {}: {}: {}",
                cx.pod.service_account, u.annotation, u.value
            )
        })
        .collect()
}

/// The value each annotation should get, when the snapshot knows it: the SPC's clientID
/// (the mount's identity, which the app should share) and that identity's home tenant.
fn rendered_value(cx: &Ctx, annotation: &str) -> Option<String> {
    let v = match annotation {
        CLIENT_ID => cx.params.as_deref()?.client_id.clone()?,
        _ => remedy::home_tenant(cx),
    };
    (!params::is_placeholder(&v)).then_some(v)
}

/// `kubectl annotate` with every value known, else `None` (the template is to be rendered).
fn annotate(cx: &Ctx, items: &[Unrendered]) -> Option<String> {
    let pairs: Option<Vec<String>> = items
        .iter()
        .map(|u| rendered_value(cx, u.annotation).map(|v| format!("{}={v}", u.annotation)))
        .collect();
    Some(format!(
        "kubectl annotate serviceaccount {} -n {} {} --overwrite",
        remedy::sh_word(&cx.pod.service_account),
        cx.ns(),
        pairs?.join(" ")
    ))
}

/// What the webhook does with `items` for the chain's pod, and whether anything receives them
/// (FACTS §6): it mutates only a pod labelled `azure.workload.identity/use: "true"`, and gives
/// each container and init container not named in `skip-containers` each variable only when
/// that container does not set it itself. So a placeholder fails the app's token requests only
/// where it lands; an unlabelled pod gets it once labelled (KVC201's fix), and a pod whose
/// containers set the variables themselves gets none (audits AAA3, AAA4).
fn injected(cx: &Ctx, items: &[Unrendered]) -> (String, bool) {
    let vars: Vec<&str> = (items.iter())
        .map(|u| match u.annotation {
            CLIENT_ID => "AZURE_CLIENT_ID",
            _ => "AZURE_TENANT_ID",
        })
        .collect();
    let into = vars.join(" / ");
    let fails = "the app's own token requests fail (the CSI mount does not read them)";
    let labelled =
        (cx.pod.labels.get(super::service_account::USE_LABEL)).is_some_and(|v| v == "true");
    if !labelled {
        return (
            format!(
                "no pod of it here is labelled azure.workload.identity/use: \"true\", so the webhook injects nothing now; once labelled, it injects them as they are into {into}, and {fails}"
            ),
            true,
        );
    }
    let skipped: Vec<&str> = (cx.pod.annotations.get(SKIP_CONTAINERS))
        .map(|s| s.split(';').map(str::trim).collect())
        .unwrap_or_default();
    let receives = |c: &&crate::snapshot::ContainerObs| {
        !skipped.contains(&c.name.as_str())
            && vars.iter().any(|v| !c.env.iter().any(|e| e.name == *v))
    };
    let receiving: Vec<&str> = (cx.pod.containers.iter())
        .filter(receives)
        .map(|c| c.name.as_str())
        .collect();
    if receiving.is_empty() {
        return (
            format!(
                "the webhook injects them into no container of pod {}: each sets {into} itself or is skipped, and the webhook never overwrites a variable; a container added without them would get them as they are",
                cx.pod.name
            ),
            false,
        );
    }
    if receiving.len() < cx.pod.containers.len() {
        // Some containers set the variables themselves (or are skipped): those that do not
        // get the placeholder, and only their requests fail.
        return (
            format!(
                "the webhook injects them as they are into {into} of container{} {} of pod {} (the others set it themselves or are skipped), so the token requests made there fail (the CSI mount does not read them)",
                if receiving.len() == 1 { "" } else { "s" },
                receiving.join(", "),
                cx.pod.name
            ),
            true,
        );
    }
    (
        format!(
            "the webhook injects them as they are into {into} of pods labelled azure.workload.identity/use: \"true\", so {fails}"
        ),
        true,
    )
}

/// The pod annotation naming the containers the webhook leaves alone (`c1;c2`, FACTS §6).
const SKIP_CONTAINERS: &str = "azure.workload.identity/skip-containers";

/// Pods get the annotations at creation only (FACTS §6).
const RECREATE: &str =
    "then recreate the pods that run as it: the webhook injects at creation only";

/// KVC306 on the service account alone: the SPC holds no placeholder.
pub(crate) fn finding(cx: &Ctx, items: &[Unrendered]) -> Finding {
    let evidence = evidence(cx, items);
    let sa = &cx.pod.service_account;
    let (injected, lands) = injected(cx, items);
    let message = format!(
        "service account {sa} holds unrendered template values ({}): {injected}; render the template before applying",
        pairs(items)
    );
    let confirm = format!(
        "kubectl get serviceaccount {} -n {} -o jsonpath='{{.metadata.annotations}}'",
        remedy::sh_word(sa),
        cx.ns()
    );
    let fix = match annotate(cx, items) {
        Some(cmd) => format!("{cmd}  # {RECREATE}"),
        None => {
            remedy::unrendered(
                &format!("ServiceAccount {sa}'s identity annotation"),
                &items[0].value,
            )
            .1
        }
    };
    let mut f = cx.finding(
        Code::KVC306,
        format!("ServiceAccount/{sa}"),
        message,
        evidence,
        confirm,
        fix,
    );
    if !lands {
        f.severity = crate::chain::model::Severity::Info;
    }
    f
}

/// KVC306 for the service account of a pod that reads a synced Secret without mounting its SPC
/// (a chain that starts at the consumer, whose Identity link waits on a mount): the webhook
/// injects the placeholder into that pod all the same when it is labelled (FACTS §6: selection
/// by the pod's label alone, every container and init container, mount or none), so it is
/// reported there too (audit TT4). An unlabelled pod is never mutated: nothing to say.
pub(crate) fn for_consumer(cx: &Ctx) -> Option<Finding> {
    let labelled = cx
        .pod
        .labels
        .get(super::service_account::USE_LABEL)
        .is_some_and(|v| v == "true");
    let items = unrendered(cx);
    (labelled && !items.is_empty()).then(|| finding(cx, &items))
}

/// The parts of the SPC's KVC306 (before it is made a finding) with the service account's
/// placeholders named too: one template, one finding.
pub(crate) struct Parts<'a> {
    pub message: &'a mut String,
    pub evidence: &'a mut Vec<String>,
    pub confirm: &'a mut String,
    pub fix: &'a mut String,
}

pub(crate) fn fold_into(cx: &Ctx, parts: Parts<'_>, items: &[Unrendered]) {
    if items.is_empty() {
        return;
    }
    let evidence = evidence(cx, items);
    let sa = &cx.pod.service_account;
    *parts.message = format!(
        "{}; so does service account {sa} ({}): {}",
        parts.message,
        pairs(items),
        injected(cx, items).0
    );
    parts.evidence.extend(evidence);
    *parts.confirm = format!(
        "{} && kubectl get serviceaccount {} -n {} -o jsonpath='{{.metadata.annotations}}'",
        parts.confirm,
        remedy::sh_word(sa),
        cx.ns()
    );
    // The SPC's edit ends in a comment (or is one, for an unrendered name): the annotation
    // goes before it as a command, or into it as words.
    *parts.fix = match annotate(cx, items) {
        Some(cmd) if !parts.fix.starts_with('#') => format!("{cmd} && {}; {RECREATE}", parts.fix),
        Some(cmd) => format!("{}; and {cmd}; {RECREATE}", parts.fix),
        None => {
            let wanted: Vec<String> = items
                .iter()
                .map(|u| format!("{}: <{}>", u.annotation, what(u.annotation)))
                .collect();
            format!(
                "{}; and in ServiceAccount {sa}: {}",
                parts.fix,
                wanted.join(", ")
            )
        }
    };
}

fn what(annotation: &str) -> &'static str {
    match annotation {
        CLIENT_ID => "the same clientId as the SecretProviderClass",
        _ => "the identity's home tenant id",
    }
}
