//! Commands that read or change the chain's SecretProviderClass: by name, or, when its name
//! or namespace is still a template placeholder (no object can have it), in the manifests
//! that hold it.

use super::{sh_word, unrendered};
use crate::chain::context::Ctx;
use crate::chain::index::SPC_ATTRIBUTE;
use crate::snapshot::SpcObs;

/// An SPC whose metadata.name (or namespace) is still a template placeholder: no object of
/// that name can exist (the API server refuses it), so no kubectl command can name it; the
/// field and its value.
fn unrendered_spc<'a>(cx: &Ctx<'a>) -> Option<(&'static str, &'a str)> {
    use crate::chain::rules::params::is_placeholder;
    if is_placeholder(cx.spc_name) {
        Some(("metadata.name", cx.spc_name))
    } else if is_placeholder(cx.ns()) {
        Some(("metadata.namespace", cx.ns()))
    } else {
        None
    }
}

/// `kubectl get secretproviderclass <name> -n <ns> <tail>`; for an unrendered name or
/// namespace, where the templates hold it.
pub(crate) fn get_spc(cx: &Ctx, tail: &str) -> String {
    if let Some((field, value)) = unrendered_spc(cx) {
        return unrendered(field, value).0;
    }
    format!(
        "kubectl get secretproviderclass {} -n {} {tail}",
        sh_word(cx.spc_name),
        cx.ns()
    )
}

/// The SPC parameters the chain's pod volume sets to another value: the driver merges
/// `volumeAttributes` over the SPC's parameters (FACTS §5), so for those the volume is what the
/// mount uses, and editing the SPC changes nothing.
pub(crate) fn overridden<'a>(cx: &Ctx<'a>) -> impl Iterator<Item = (&'a str, &'a str)> {
    let spc = cx.spc;
    cx.attributes
        .iter()
        .filter(move |(k, v)| {
            k.as_str() != SPC_ATTRIBUTE && spc.is_some_and(|s| s.parameters.get(*k) != Some(v))
        })
        .map(|(k, v)| (k.as_str(), v.as_str()))
}

/// Whether the edit `what` sets parameter `key` (`keyvaultName: …`, `parameters.tenantId: …`,
/// `objects[0].objectName: …`).
fn sets(what: &str, key: &str) -> bool {
    what.match_indices(key).any(|(at, _)| {
        let before = what[..at].chars().next_back();
        let after = what[at + key.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric())
            && matches!(after, Some(':' | '[' | '.' | ' ') | None)
    })
}

/// `fix`, a change of the chain's SecretProviderClass, when a controller owns that SPC (an
/// ownerReference with `controller: true`, e.g. the AKS app routing operator's SPC owned by
/// an Ingress): the controller reconciles the object back to what its owner says, so a patch
/// here does not last. The fix names the owner to change, the change kept as a note (audit
/// TT6); an SPC no controller owns keeps `fix` as it is.
pub(crate) fn unless_controlled(cx: &Ctx, fix: String) -> String {
    match cx.spc {
        Some(spc) => unless_spc_controlled(spc, fix),
        None => fix,
    }
}

/// [`unless_controlled`] for SecretProviderClass `spc`, the chain's or another (the one whose
/// secretObjects write a Secret the consumers read). The result is a `#` note: a fix that
/// chains it with other commands puts it last ([`super::in_turn`]) or makes the whole chain
/// the note when the commands after it need the change made first.
pub(crate) fn unless_spc_controlled(spc: &SpcObs, fix: String) -> String {
    let Some(owner) = spc.controller.as_ref() else {
        return fix;
    };
    let change = fix.strip_prefix("# ").unwrap_or(&fix);
    format!(
        "# SecretProviderClass {} is managed by {}/{} (its controller): change that, a patch here is reconciled back; the change it needs: {change}",
        spc.name, owner.kind, owner.name
    )
}

/// Change `what` in the chain's SecretProviderClass; where the pod's volume overrides a
/// parameter `what` sets, on that volume instead (its owner's template), or the override
/// removed so that the SPC's value applies. A controller-owned SPC's edit names the owner
/// instead ([`unless_controlled`]).
pub(crate) fn edit_spc(cx: &Ctx, what: &str) -> String {
    let keys: Vec<&str> = overridden(cx)
        .map(|(k, _)| k)
        .filter(|k| sets(what, k))
        .collect();
    if !keys.is_empty() {
        let what = what.replace("parameters.", "");
        return super::edit_owner(
            cx,
            &format!(
                "volume {}: volumeAttributes.{what} (the volume's {} overrides the SecretProviderClass's; or remove the override if the SecretProviderClass's value is right)",
                cx.volume.name,
                keys.join(", ")
            ),
        );
    }
    match unrendered_spc(cx) {
        Some(("metadata.name", name)) => format!(
            "# in the SecretProviderClass manifest whose metadata.name is {name} (unrendered: no object can have that name), render the template and set: {what}"
        ),
        Some((_, ns)) => format!(
            "# in the SecretProviderClass manifest {} (its metadata.namespace {ns} is unrendered: no namespace can have that name), render the template and set: {what}",
            cx.spc_name
        ),
        None => unless_controlled(
            cx,
            format!(
                "kubectl edit secretproviderclass {} -n {}  # {what}",
                sh_word(cx.spc_name),
                cx.ns()
            ),
        ),
    }
}

/// `kubectl patch` of one SecretProviderClass parameter (a merge patch: the others stay); a
/// controller-owned SPC's names the owner instead (audit TT6).
pub(crate) fn patch_spc_parameter(cx: &Ctx, key: &str, value: &str) -> String {
    if unrendered_spc(cx).is_some() || overridden(cx).any(|(k, _)| k == key) {
        return edit_spc(cx, &format!("parameters.{key}: {value}"));
    }
    let patch = serde_json::json!({ "spec": { "parameters": { key: value } } }).to_string();
    unless_controlled(
        cx,
        format!(
            "kubectl patch secretproviderclass {} -n {} --type merge -p {}",
            sh_word(cx.spc_name),
            cx.ns(),
            sh_word(&patch)
        ),
    )
}

pub(crate) fn show_spc(cx: &Ctx, jsonpath: &str) -> String {
    get_spc(cx, &format!("-o jsonpath='{jsonpath}'"))
}

/// Each finding whose fix edits the pod volume's override ([`edit_spc`]) says what the volume
/// sets, beside the SPC's own value: its message speaks of the SPC's merged parameters, which
/// the volume is where they come from.
pub(crate) fn note_overrides(cx: &Ctx, links: &mut [crate::chain::model::Link]) {
    let overrides: Vec<(&str, &str)> = overridden(cx).collect();
    if overrides.is_empty() {
        return;
    }
    let spc = cx.spc;
    for f in links.iter_mut().flat_map(|l| l.findings.iter_mut()) {
        for (key, value) in &overrides {
            let on_volume = format!("volumeAttributes.{key}");
            if !f.fix.contains(&on_volume) || f.evidence.iter().any(|e| e.contains(&on_volume)) {
                continue;
            }
            let own = spc
                .and_then(|s| s.parameters.get(*key))
                .map_or("(not set)".into(), |v| crate::shown::shown(v).into_owned());
            f.evidence.push(
                format!(
                    "volume {}: {on_volume}: {} (SecretProviderClass {}: {key}: {own})",
                    cx.volume.name,
                    crate::shown::shown(value),
                    cx.spc_name
                )
                .into(),
            );
        }
    }
}
