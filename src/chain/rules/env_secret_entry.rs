//! KVC109 for a Secret the pod's own SecretProviderClass could sync: the pod mounts an SPC
//! whose files are the very keys the container asks the missing Secret for, and no
//! `secretObjects` entry names that Secret. The driver makes a Kubernetes Secret only for a
//! `secretObjects` entry (FACTS §2), so the entry is what is missing: a Secret made by hand
//! would hold a copy of the vault's value nothing updates, and one without the driver's label
//! is never taken over by it (FACTS §11; audit WWW-scen).

use crate::chain::context::Ctx;
use crate::chain::rules::remedy::{restart, sh_word, unless_spc_controlled};
use crate::snapshot::SpcObs;

/// The first SecretProviderClass the pod mounts (in its volumes' order) whose mounted files
/// (alias or name) hold every key in `keys`. None without keys (an `envFrom` alone asks for
/// none) or for an SPC whose name is still a template placeholder (no object has it).
pub(super) fn spc_with_files<'a>(cx: &Ctx<'a>, keys: &[&str]) -> Option<&'a SpcObs> {
    if keys.is_empty() {
        return None;
    }
    let ix = cx.ix;
    cx.pod.volumes.iter().find_map(|v| {
        let name = crate::chain::build::wired_spc(v)?;
        if crate::chain::rules::params::is_placeholder(name) {
            return None;
        }
        let spc = ix.spcs.get(&(cx.ns(), name))?;
        let files: Vec<&str> = (spc.parsed.objects.iter()).map(|o| o.file_name()).collect();
        keys.iter().all(|k| files.contains(k)).then_some(*spc)
    })
}

/// What KVC109 adds to its message for `spc`.
pub(super) fn said(spc: &SpcObs, keys: &[&str]) -> String {
    format!(
        "; SecretProviderClass {}, mounted by this pod, has no secretObjects entry for it (its files {} are the keys asked for)",
        spc.name,
        keys.join(", ")
    )
}

/// The JSON patch that adds Secret `secret` to `spc`'s `secretObjects`, one data item per key
/// from the file of that name (an Opaque Secret: env reads any type's keys), then the pod's
/// restart; or the owner to change for a controller-owned SPC. The driver's pod-status
/// controller writes synced Secrets when it reconciles a mount, reading `secretObjects` then,
/// and does not requeue a mount whose SPC had none ("no secret objects defined for spc,
/// nothing to reconcile", Secrets Store CSI driver, secretproviderclasspodstatus_controller.go;
/// it watches pod statuses, not SPCs): the patch alone never writes the Secret for the pod
/// mounted already, a new mount does.
pub(super) fn fix(cx: &Ctx, spc: &SpcObs, secret: &str, keys: &[&str]) -> String {
    let mut data: Vec<serde_json::Value> = Vec::new();
    for k in keys {
        if !data.iter().any(|d| d["key"] == *k) {
            data.push(serde_json::json!({ "objectName": k, "key": k }));
        }
    }
    let entry = serde_json::json!({ "secretName": secret, "type": "Opaque", "data": data });
    // `add` at /spec/secretObjects replaces the list: with entries already there, append.
    let op = match spc.secret_objects.is_empty() {
        true => {
            serde_json::json!([{ "op": "add", "path": "/spec/secretObjects", "value": [entry] }])
        }
        false => {
            serde_json::json!([{ "op": "add", "path": "/spec/secretObjects/-", "value": entry }])
        }
    };
    let patch = format!(
        "kubectl patch secretproviderclass {} -n {} --type json -p {}",
        sh_word(&spc.name),
        spc.namespace,
        sh_word(&op.to_string())
    );
    let why = format!(
        "the driver writes Secret {secret} when a pod mounts SecretProviderClass {} (it reads secretObjects then, and never comes back to a mount made while there was no entry): the new pod's mount writes it and its containers start with it",
        spc.name
    );
    let restart = restart(cx);
    let fix = match restart.split_once("  # ") {
        _ if restart.starts_with('#') => format!("{patch}  # {why}; {}", &restart[1..].trim()),
        Some((command, note)) => format!("{patch} && {command}  # {why}; {note}"),
        None => format!("{patch} && {restart}  # {why}"),
    };
    unless_spc_controlled(spc, fix)
}
