//! Commands that read or change the chain's SecretProviderClass: by name, or, when its name
//! or namespace is still a template placeholder (no object can have it), in the manifests
//! that hold it.

use super::{sh_word, unrendered};
use crate::chain::context::Ctx;

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

pub(crate) fn edit_spc(cx: &Ctx, what: &str) -> String {
    match unrendered_spc(cx) {
        Some(("metadata.name", name)) => format!(
            "# in the SecretProviderClass manifest whose metadata.name is {name} (unrendered: no object can have that name), render the template and set: {what}"
        ),
        Some((_, ns)) => format!(
            "# in the SecretProviderClass manifest {} (its metadata.namespace {ns} is unrendered: no namespace can have that name), render the template and set: {what}",
            cx.spc_name
        ),
        None => format!(
            "kubectl edit secretproviderclass {} -n {}  # {what}",
            sh_word(cx.spc_name),
            cx.ns()
        ),
    }
}

/// `kubectl patch` of one SecretProviderClass parameter (a merge patch: the others stay).
pub(crate) fn patch_spc_parameter(cx: &Ctx, key: &str, value: &str) -> String {
    if unrendered_spc(cx).is_some() {
        return edit_spc(cx, &format!("parameters.{key}: {value}"));
    }
    let patch = serde_json::json!({ "spec": { "parameters": { key: value } } }).to_string();
    format!(
        "kubectl patch secretproviderclass {} -n {} --type merge -p {}",
        sh_word(cx.spc_name),
        cx.ns(),
        sh_word(&patch)
    )
}

pub(crate) fn show_spc(cx: &Ctx, jsonpath: &str) -> String {
    get_spc(cx, &format!("-o jsonpath='{jsonpath}'"))
}
