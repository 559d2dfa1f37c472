//! KVC206: a labelled pod holds an AZURE_TENANT_ID other than its identity's home tenant.
//! The webhook injects the service account's tenant-id annotation, else its own default, the
//! cluster's tenant — at CREATE only, and never over a variable a container already sets
//! (FACTS §6). A managed identity exists only in its home tenant (FACTS §11), so the app's
//! own token requests fail, whatever the mount (which uses the SPC's tenantID) does.
//!
//! The app asks for the identity its AZURE_CLIENT_ID names. Where that is another identity than
//! the SPC's, the client id is the cause (KVC204), and its fix sets the tenant beside the client
//! id ([`to_annotate`]): a second finding would judge the app's tenant against an identity the
//! app does not use (audit XE-ident).

use super::remedy;
use super::service_account::{USE_LABEL, injected_env, same};
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::Link;
use crate::snapshot::{EnvSourceObs, PodObs, ServiceAccountObs};

use super::sa_template::TENANT_ID as TENANT_ANNOTATION;

pub(super) fn check(cx: &Ctx, link: &mut Link, sa: &ServiceAccountObs, spc_client: &str) {
    if cx.template || cx.pod.labels.get(USE_LABEL).is_none_or(|v| v != "true") {
        return;
    }
    let Some(held) = injected_env(cx.pod, "AZURE_TENANT_ID") else {
        return;
    };
    let app_client = injected_env(cx.pod, "AZURE_CLIENT_ID");
    if app_client.is_some_and(|c| !same(c, spc_client)) {
        return;
    }
    let Some(identity) = cx.ix.identity(spc_client) else {
        return;
    };
    let home = identity.tenant_id.as_str();
    if home.is_empty() || same(held, home) || super::params::is_placeholder(held) {
        return;
    }
    let sa_name = sa.name.as_str();
    let annotated = sa.annotations.get(TENANT_ANNOTATION).map(String::as_str);
    let setters = own_setters(cx, held, annotated, home);
    let (why, fix) = if setters.is_empty() {
        injected(cx, sa_name, annotated, home)
    } else {
        set_by_containers(cx, &setters, home)
    };
    let mut evidence = vec![
        format!("pod {}: env AZURE_TENANT_ID={held}", cx.pod.name),
        format!("ManagedIdentity {}: tenantId {home}", identity.name),
    ];
    if !setters.is_empty() {
        evidence.push(format!(
            "{} container {}: env AZURE_TENANT_ID={held} in its own spec",
            cx.owner_resource(),
            setters.join(", ")
        ));
    }
    let mut f = cx.remedied(
        Code::KVC206,
        format!("Pod/{}", cx.pod.name),
        format!(
            "pod {} holds AZURE_TENANT_ID {held} but identity {} lives in tenant {home}: {why}; the app's own token requests fail (AADSTS700016), the CSI mount does not use it",
            cx.pod.name, identity.name
        ),
        evidence,
    );
    f.fix = fix.into();
    link.findings.push(f);
}

/// ` azure.workload.identity/tenant-id=<home>` to annotate beside the client id of identity
/// `client` (KVC204's fix), where the tenant pods created now would hold is not its home: the
/// account's annotation, else the webhook's default, the cluster's tenant (FACTS §6). Annotated
/// with the client id alone, the app would ask for that identity at another tenant
/// (AADSTS700016, FACTS §11). Empty where the tenant agrees or a side is unknown.
pub(crate) fn to_annotate(cx: &Ctx, sa: Option<&ServiceAccountObs>, client: &str) -> String {
    let Some(home) = cx.ix.identity(client).map(|i| i.tenant_id.as_str()) else {
        return String::new();
    };
    let annotated = sa.and_then(|sa| sa.annotations.get(TENANT_ANNOTATION));
    let injected = annotated
        .map(String::as_str)
        .or_else(|| remedy::cluster_tenant(cx));
    match injected {
        Some(t) if !home.is_empty() && !same(t, home) => format!(" {TENANT_ANNOTATION}={home}"),
        _ => String::new(),
    }
}

/// The containers whose own spec sets AZURE_TENANT_ID to the value the pod holds: the
/// workload's pod template says so when it was read; else a value the webhook would not
/// inject now (neither the annotation nor the cluster's tenant) is the container's own,
/// unless the annotation now says the right tenant (then the pod predates it).
fn own_setters<'a>(cx: &Ctx<'a>, held: &str, annotated: Option<&str>, home: &str) -> Vec<&'a str> {
    let setting = |pod: &'a PodObs| -> Vec<&'a str> {
        pod.containers
            .iter()
            .filter(|c| {
                c.env.iter().any(|e| {
                    e.name == "AZURE_TENANT_ID"
                        && matches!(&e.source, EnvSourceObs::Literal { value: Some(v) } if same(v, held))
                })
            })
            .map(|c| c.name.as_str())
            .collect()
    };
    if let Some(template) = cx.workload_object.and_then(|w| w.template.as_deref()) {
        return setting(template);
    }
    let webhook_value = annotated.or_else(|| remedy::cluster_tenant(cx));
    match webhook_value {
        Some(v) if !same(v, held) && !annotated.is_some_and(|t| same(t, home)) => setting(cx.pod),
        _ => Vec::new(),
    }
}

/// Why and fix when the webhook injected the value: the annotation, or its default.
fn injected(cx: &Ctx, sa_name: &str, annotated: Option<&str>, home: &str) -> (String, String) {
    let why = match annotated {
        Some(t) if same(t, home) => format!(
            "service account {sa_name} now says {home}, but the pod was created before (injected at CREATE only)"
        ),
        Some(t) => format!("service account {sa_name} says {TENANT_ANNOTATION}: {t}"),
        None => format!(
            "service account {sa_name} has no {TENANT_ANNOTATION} annotation, so the webhook injected its default, the cluster's tenant"
        ),
    };
    // Pods get the annotation at creation: annotate where it is wrong, then replace them.
    let fix = match annotated {
        Some(t) if same(t, home) => remedy::reinject(cx),
        _ => format!(
            "kubectl annotate serviceaccount {} -n {} {TENANT_ANNOTATION}={home} --overwrite && {}",
            remedy::sh_word(sa_name),
            cx.ns(),
            remedy::reinject(cx)
        ),
    };
    (why, fix)
}

/// Why and fix when containers set the variable themselves: the webhook keeps their value,
/// so no annotation helps; the entry in the pod template is what to change.
fn set_by_containers(cx: &Ctx, setters: &[&str], home: &str) -> (String, String) {
    let why = format!(
        "container {} of {} sets AZURE_TENANT_ID itself, and the webhook never overwrites a variable already set (no service account annotation changes it)",
        setters.join(", "),
        cx.owner_resource()
    );
    // The template's entry, set where `kubectl set env` reaches it (`remedy::set_env`).
    let entries: Vec<(&str, String)> = (setters.iter())
        .map(|c| (*c, format!("AZURE_TENANT_ID={home}")))
        .collect();
    let fix = remedy::set_env(cx, &entries, "").unwrap_or_else(|| {
        remedy::edit_owner(
            cx,
            &format!(
                "in container {}: env AZURE_TENANT_ID: {home}",
                setters.join(", ")
            ),
        )
    });
    (why, fix)
}
