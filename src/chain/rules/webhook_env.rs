//! What the workload-identity webhook gives a labelled pod's containers, and what it cannot
//! change (FACTS §6): it injects the AZURE_* variables and the token mount into every
//! container its `azure.workload.identity/skip-containers` annotation does not name, and never
//! overwrites a variable a container already sets. Two causes no restart changes, both in the
//! pod template: a container's own AZURE_CLIENT_ID (KVC204) and the annotation naming every
//! container of the app (KVC205). The CSI mount reads neither: the driver requests its token
//! for the SPC's clientID itself (FACTS §5).

use super::remedy;
use super::service_account::same;
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::{Finding, Link};
use crate::snapshot::{EnvSourceObs, PodObs, ServiceAccountObs, SourceKind, VolumeSourceObs};

use super::sa_template::{CLIENT_ID, TENANT_ID};

pub(super) const SKIP_CONTAINERS: &str = "azure.workload.identity/skip-containers";
const VAR: &str = "AZURE_CLIENT_ID";

/// The names the pod's skip-containers annotation lists, split on `;` and trimmed as the
/// webhook reads them.
pub(super) fn skip_list(pod: &PodObs) -> Vec<&str> {
    (pod.annotations.get(SKIP_CONTAINERS))
        .map(|v| v.split(';').map(str::trim).filter(|n| !n.is_empty()))
        .into_iter()
        .flatten()
        .collect()
}

/// The causes in the pod template, for a labelled pod whose service account names the SPC's
/// client id (`annotated`): a container's own AZURE_CLIENT_ID, or every container skipped.
/// From manifests, where no webhook ran, the template (or Pod manifest) is what the pods will
/// hold. Whether a finding was told (then nothing else is said of the pod's client id).
pub(super) fn check(
    cx: &Ctx,
    link: &mut Link,
    sa: &ServiceAccountObs,
    annotated: &str,
    spc_client: &str,
) -> bool {
    if !same(annotated, spc_client) || super::params::is_placeholder(spc_client) {
        return false;
    }
    own_client_id(cx, link, annotated, spc_client) || all_skipped(cx, link, annotated, sa)
}

/// The identity's home tenant when the tenant the webhook would inject into an unskipped
/// container differs from it: the account's tenant-id annotation, else the webhook's default,
/// the cluster's tenant (FACTS §6). A managed identity answers only in its home tenant (FACTS
/// §11), so a fix that lets the webhook inject must correct the annotation first (audit
/// XA-scen). None when it is right or not known.
fn wrong_tenant<'a>(cx: &Ctx<'a>, sa: &ServiceAccountObs, spc_client: &str) -> Option<&'a str> {
    let home = cx.ix.identity(spc_client)?.tenant_id.as_str();
    let injected = (sa.annotations.get(TENANT_ID).map(String::as_str))
        .or_else(|| remedy::cluster_tenant(cx))?;
    let known = |t: &str| !t.trim().is_empty() && !super::params::is_placeholder(t);
    (known(home) && known(injected) && !same(injected, home)).then_some(home)
}

/// The command that sets the account's tenant-id annotation to `home`, ahead of `&&`.
fn annotate_tenant(cx: &Ctx, sa_name: &str, home: &str) -> String {
    format!(
        "kubectl annotate serviceaccount {} -n {} {TENANT_ID}={home} --overwrite && ",
        remedy::sh_word(sa_name),
        cx.ns()
    )
}

/// A fix that has the webhook inject into the app's pods from now on (KVC201 puts the label
/// on, KVC205 recreates them unmutated): where the tenant it would inject is not the
/// identity's home tenant ([`wrong_tenant`]), the account's tenant-id is corrected first, so
/// the new pods are admitted with the right one (FACTS §6, §11; audit XA-scen). A fix that is
/// only words (`# …`) is left as it is.
pub(super) fn tenant_first(cx: &Ctx, sa: &ServiceAccountObs, spc_client: &str, f: &mut Finding) {
    let Some(home) = wrong_tenant(cx, sa, spc_client) else {
        return;
    };
    if f.fix.trim_start().starts_with('#') {
        return;
    }
    f.message = format!(
        "{}; the pods the fix makes would get the tenant service account {} gives them ({TENANT_ID}, else the cluster's), not {home}, where the identity lives: the annotation is set first",
        f.message, sa.name
    )
    .into();
    f.evidence
        .push(format!("ManagedIdentity with clientId {spc_client}: tenantId {home}").into());
    f.fix = format!("{}{}", annotate_tenant(cx, &sa.name, home), f.fix).into();
}

/// The pod spec that says what the containers set themselves: a template or a manifest is
/// that spec (nothing was injected into it); a running pod's is its workload's template, when
/// it was read. None when nothing read tells an injected variable from the spec's own.
pub(super) fn own_spec<'a>(cx: &Ctx<'a>) -> Option<&'a PodObs> {
    if cx.template || cx.source().kind == SourceKind::Manifests {
        return Some(cx.pod);
    }
    cx.workload_object.and_then(|w| w.template.as_deref())
}

/// The literal AZURE_CLIENT_ID a container of `pod` named `name` sets.
fn literal<'p>(pod: &'p PodObs, name: &str) -> Option<&'p str> {
    let c = pod.containers.iter().find(|c| c.name == name)?;
    c.env.iter().find_map(|e| match &e.source {
        EnvSourceObs::Literal { value: Some(v) } if e.name == VAR => Some(v.as_str()),
        _ => None,
    })
}

/// KVC204: containers whose own spec sets AZURE_CLIENT_ID to another id than the one the
/// service account and the SPC agree on (the running pod holds it too).
fn own_client_id(cx: &Ctx, link: &mut Link, annotated: &str, spc_client: &str) -> bool {
    let Some(spec) = own_spec(cx) else {
        return false;
    };
    let setters: Vec<(&str, &str)> = (spec.containers.iter())
        .filter_map(|c| Some((c.name.as_str(), literal(spec, &c.name)?)))
        .filter(|(name, v)| {
            !same(v, spc_client)
                && !super::params::is_placeholder(v)
                && literal(cx.pod, name).is_some_and(|held| same(held, v))
        })
        .collect();
    if setters.is_empty() {
        return false;
    }
    let owner = cx.owner_resource();
    let sa = cx.pod.service_account.as_str();
    let names = setters
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ");
    let values = setters.iter().map(|(_, v)| *v).collect::<Vec<_>>();
    let mut held = values.clone();
    held.dedup();
    let spec_of = if spec.template_of.is_some() || cx.workload.is_some() {
        "pod template"
    } else {
        "pod spec"
    };
    let message = format!(
        "container {names} of {owner} sets {VAR} {} itself in its {spec_of}, but SecretProviderClass {} uses clientID {spc_client} (as service account {sa} says): the webhook never overwrites a variable a container sets, so every pod made from it holds {} however often it is replaced, and the app's own Azure SDK calls authenticate as another identity than the mount; the CSI mount uses the SPC's clientID and is not affected",
        held.join(", "),
        cx.spc_name,
        held.join(", "),
    );
    let mut evidence: Vec<String> = setters
        .iter()
        .map(|(n, v)| format!("{owner} container {n}: env {VAR}={v} (a literal in its {spec_of})"))
        .collect();
    if !std::ptr::eq(spec, cx.pod) {
        evidence.extend(
            setters
                .iter()
                .map(|(n, v)| format!("pod {} container {n}: env {VAR}={v}", cx.pod.name)),
        );
    }
    evidence.push(format!("ServiceAccount {sa}: {CLIENT_ID}: {annotated}"));
    evidence.push(format!(
        "SecretProviderClass {}: clientID: {spc_client}",
        cx.spc_name
    ));
    let skipped = skip_list(cx.pod);
    let finding = cx.finding(
        Code::KVC204,
        owner,
        message,
        evidence,
        env_confirm(cx, spec, &setters),
        env_fix(cx, &setters, &skipped, spc_client),
    );
    link.findings.push(finding);
    true
}

/// The template's AZURE_CLIENT_ID entries, as the API server holds them.
fn env_confirm(cx: &Ctx, spec: &PodObs, setters: &[(&str, &str)]) -> String {
    let init = setters
        .iter()
        .any(|(n, _)| (spec.containers.iter()).any(|c| c.init && c.name == *n));
    let path = cx.pod_spec_path();
    let select = format!("env[?(@.name==\"{VAR}\")]");
    let mut jsonpath = format!("{{{path}.containers[*].{select}}}");
    if init {
        jsonpath = format!("{{{path}.initContainers[*].{select}}}{jsonpath}");
    }
    format!(
        "kubectl get {} -n {} -o jsonpath='{jsonpath}'",
        cx.owner_kubectl(),
        cx.ns()
    )
}

/// Remove the containers' own entries (the webhook then injects the service account's id);
/// a skipped container gets no injection, so its entry is set to the SPC's id instead.
fn env_fix(cx: &Ctx, setters: &[(&str, &str)], skipped: &[&str], spc_client: &str) -> String {
    let sa = cx.pod.service_account.as_str();
    let entry = |name: &str| {
        if skipped.contains(&name) {
            format!("{VAR}={spc_client}")
        } else {
            format!("{VAR}-")
        }
    };
    let note = format!(
        "the webhook then injects {spc_client}, service account {sa}'s {CLIENT_ID}, into the new pods"
    );
    let entries: Vec<(&str, String)> = setters.iter().map(|(c, _)| (*c, entry(c))).collect();
    remedy::set_env(cx, &entries, &note).unwrap_or_else(|| {
        let edits = setters
            .iter()
            .map(|(c, _)| match entry(c).strip_suffix('-') {
                Some(_) => format!("in container {c}, remove the env entry {VAR}"),
                None => format!("in container {c}, set env {VAR}: {spc_client}"),
            })
            .collect::<Vec<_>>()
            .join("; ");
        remedy::edit_owner(cx, &format!("{edits} ({note})"))
    })
}

/// KVC205: the skip-containers annotation names every container of the pod (init containers
/// aside), and none sets AZURE_CLIENT_ID itself: the webhook injects nothing the app can use.
/// A running pod shows it mutated the pod (the token volume is there), so neither a missing
/// webhook nor the account's history is the cause.
fn all_skipped(cx: &Ctx, link: &mut Link, annotated: &str, sa: &ServiceAccountObs) -> bool {
    let pod = cx.pod;
    let listed = skip_list(pod);
    let app: Vec<&str> = (pod.containers.iter())
        .filter(|c| !c.init)
        .map(|c| c.name.as_str())
        .collect();
    // A template or manifest shows what the webhook will do; a running pod what it did.
    let running = !(cx.template || cx.source().kind == SourceKind::Manifests);
    if app.is_empty()
        || !app.iter().all(|n| listed.contains(n))
        || (pod.containers.iter()).any(|c| c.env.iter().any(|e| e.name == VAR))
        || (running && token_volume(pod).is_none())
    {
        return false;
    }
    // Asked only of a pod the finding is made for: every labelled chain comes here.
    let tenant = wrong_tenant(cx, sa, annotated);
    let owner = cx.owner_resource();
    let value = pod
        .annotations
        .get(SKIP_CONTAINERS)
        .map_or("", String::as_str);
    let whose = if running {
        format!("pod {} of {owner} carries", pod.name)
    } else {
        format!("the pod template of {owner} carries")
    };
    let mut message = format!(
        "{whose} {SKIP_CONTAINERS}: {value:?}, which names every container of the app ({}): the webhook injects no AZURE_* variable and no token mount into a skipped container, so the app's own Azure SDK calls have no workload identity (service account {} names client id {annotated}), and every pod made from the same template is skipped the same way (a restart changes nothing); the CSI mount is not affected (the driver requests its token itself)",
        app.join(", "),
        pod.service_account
    );
    if let Some(home) = tenant {
        message.push_str(&format!(
            "; once unskipped, the webhook would give it the tenant the service account's {TENANT_ID} names (else the cluster's), not {home}, where the identity lives"
        ));
    }
    let annotation = format!("annotation {SKIP_CONTAINERS}: {value:?}");
    let mut evidence = vec![if running {
        format!("pod {}: {annotation}", pod.name)
    } else {
        format!("{owner} pod template: {annotation}")
    }];
    if running {
        evidence.extend(held(pod));
    }
    evidence.push(format!(
        "ServiceAccount {}: {CLIENT_ID}: {annotated}",
        pod.service_account
    ));
    if let Some(home) = tenant {
        let name = cx
            .ix
            .identity(annotated)
            .map_or(annotated, |i| i.name.as_str());
        evidence.push(format!("ManagedIdentity {name}: tenantId {home}"));
    }
    let keep: Vec<&str> = listed.into_iter().filter(|n| !app.contains(n)).collect();
    let finding = cx.finding(
        Code::KVC205,
        owner,
        message,
        evidence,
        skip_confirm(cx),
        skip_fix(cx, &keep, &app, tenant),
    );
    link.findings.push(finding);
    true
}

/// The name of the pod's projected token volume (audience api://AzureADTokenExchange): the
/// webhook adds it to the pod whatever containers it skips.
fn token_volume(pod: &PodObs) -> Option<&str> {
    pod.volumes.iter().find_map(|v| match &v.source {
        VolumeSourceObs::Projected {
            token_audiences, ..
        } if token_audiences.iter().any(|a| a == remedy::AUDIENCE) => Some(v.name.as_str()),
        _ => None,
    })
}

/// What each container of a running pod holds from the webhook: its AZURE_* variables and
/// whether it mounts the token volume (evidence, so it says what is there, not what should be).
pub(super) fn held(pod: &PodObs) -> Vec<String> {
    let token = token_volume(pod);
    let skipped = skip_list(pod);
    let mut lines = Vec::new();
    if let Some(v) = token {
        lines.push(format!(
            "pod {}: projected token volume {v} (the webhook mutated the pod)",
            pod.name
        ));
    }
    for c in &pod.containers {
        let vars: Vec<&str> = (c.env.iter())
            .filter(|e| e.name.starts_with("AZURE_"))
            .map(|e| e.name.as_str())
            .collect();
        let vars = if vars.is_empty() {
            "no AZURE_* variable".to_string()
        } else if vars.contains(&VAR) {
            vars.join(", ")
        } else {
            format!("{}, no {VAR}", vars.join(", "))
        };
        let mounted = token.is_some_and(|t| c.mounts.iter().any(|m| m.volume == t));
        let mount = if mounted {
            "token mounted"
        } else {
            "no token mount"
        };
        let why = if skipped.contains(&c.name.as_str()) {
            format!(" (named by {SKIP_CONTAINERS})")
        } else {
            String::new()
        };
        lines.push(format!("container {}: {vars}; {mount}{why}", c.name));
    }
    lines
}

fn skip_confirm(cx: &Ctx) -> String {
    let path = cx.pod_template_path().unwrap_or("");
    format!(
        "kubectl get {} -n {} -o jsonpath='{{{path}.metadata.annotations}}'",
        cx.owner_kubectl(),
        cx.ns()
    )
}

/// The annotation without the app's containers (`keep`: the names it lists that are not
/// theirs, init containers): removed when nothing is left, on the owner's pod template.
fn skip_fix(cx: &Ctx, keep: &[&str], app: &[&str], tenant: Option<&str>) -> String {
    let note = "only if the app calls Azure itself: the CSI mount needs no injection";
    // The annotation first: the pods the patch makes are admitted with it (FACTS §6).
    let annotate = tenant.map_or(String::new(), |home| {
        annotate_tenant(cx, &cx.pod.service_account, home)
    });
    let value = if keep.is_empty() {
        "null".to_string()
    } else {
        format!("\"{}\"", keep.join(";"))
    };
    let patch = format!("{{\"metadata\":{{\"annotations\":{{\"{SKIP_CONTAINERS}\":{value}}}}}}}");
    let body = match cx.workload {
        Some(("Deployment" | "StatefulSet" | "DaemonSet", _)) => {
            format!("{{\"spec\":{{\"template\":{patch}}}}}")
        }
        Some(("CronJob", _)) => {
            format!("{{\"spec\":{{\"jobTemplate\":{{\"spec\":{{\"template\":{patch}}}}}}}}}")
        }
        _ => {
            let what = if keep.is_empty() {
                format!("remove the pod annotation {SKIP_CONTAINERS}")
            } else {
                format!(
                    "set the pod annotation {SKIP_CONTAINERS}: \"{}\" (without {})",
                    keep.join(";"),
                    app.join(", ")
                )
            };
            return annotate + &remedy::edit_owner(cx, &format!("{what}; {note}"));
        }
    };
    let command = format!(
        "{annotate}kubectl patch {} -n {} -p '{body}'  # {note}",
        cx.owner_kubectl(),
        cx.ns()
    );
    remedy::rolled_in(cx, cx.pod, cx.workload, command, "the patched template")
}
