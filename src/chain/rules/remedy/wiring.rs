//! KVC103's fix: the CSI volume wired as the driver reads it — `csi: {driver:
//! secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {secretProviderClass: <name>}}`
//! (codes.yaml KVC103) — with the keys written inline in the volume (the 2020 form) carried
//! into a SecretProviderClass, or, when the SPC the mis-cased key names exists, removed.

use std::collections::BTreeMap;

use super::{edit_owner, sh_word};
use crate::chain::context::Ctx;

/// Provider booleans whose absence reads as "false" (FACTS §5).
const FALSE_BY_DEFAULT: [&str; 3] = [
    "usePodIdentity",
    "useVMManagedIdentity",
    "useAzureTokenProxy",
];

pub(super) fn kvc103_fix(cx: &Ctx) -> String {
    // Keys written inline in the volume (the 2020 form): they belong in a
    // SecretProviderClass, and left in the volume they override its parameters
    // (the driver merges volumeAttributes over them, FACTS §5).
    let inline: Vec<&str> = cx
        .attributes
        .keys()
        .map(String::as_str)
        .filter(|k| *k != crate::chain::index::SPC_ATTRIBUTE)
        // The mis-cased secretProviderClass key is the SPC's name, not an inline
        // parameter: it is renamed, not carried into a new SPC (audit LL8).
        .filter(|k| Some(*k) != cx.spc_key_typo)
        .collect();
    // What to carry over: keys the provider reads, with a value; an empty
    // required one is to be filled, an unread one dropped (KVC305's keys).
    let unread: Vec<&str> = crate::chain::rules::params::unknown(inline.iter().copied())
        .into_iter()
        .map(|u| u.key)
        .collect();
    let empty: Vec<&str> = inline
        .iter()
        .copied()
        .filter(|k| !unread.contains(k))
        .filter(|k| cx.attributes.get(*k).is_some_and(|v| v.trim().is_empty()))
        .collect();
    let carried: Vec<&str> = inline
        .iter()
        .copied()
        .filter(|k| !unread.contains(k) && !empty.contains(k))
        .collect();
    let mut parts = vec![format!("parameters {}", carried.join(", "))];
    let required_empty: Vec<&str> = empty
        .iter()
        .copied()
        .filter(|k| matches!(*k, "keyvaultName" | "tenantId" | "tenantID" | "objects"))
        .collect();
    if !required_empty.is_empty() {
        parts.push(format!(
            "{} set (empty in the volume)",
            required_empty.join(", ")
        ));
    }
    if !unread.is_empty() {
        parts.push(format!(
            "without {} (the provider does not read them)",
            unread.join(", ")
        ));
    }
    let spc_name = if cx.spc_name.is_empty() {
        format!(
            "{}-kv",
            cx.owner_resource().rsplit('/').next().unwrap_or("app")
        )
    } else {
        cx.spc_name.to_string()
    };
    let nps = cx
        .node_publish_secret
        .map(|s| format!(", nodePublishSecretRef: {{name: {s}}}"))
        .unwrap_or_default();
    let volume = format!(
        "volume {}: csi: {{driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {{secretProviderClass: {}}}{nps}}}",
        cx.volume.name, spc_name
    );
    // The mis-cased key names an SPC that exists (audit NN6): nothing is created. The key
    // is renamed and every inline key removed: once renamed, the driver merges the volume's
    // attributes over the SPC's parameters (FACTS §5), so one left there overrides them.
    if let (Some(typo), Some(spc), false) = (cx.spc_key_typo, cx.spc, inline.is_empty()) {
        let why: Vec<String> = inline
            .iter()
            .map(|k| inline_key_fate(cx, &spc.parameters, k, &unread, &empty))
            .collect();
        // A key the provider needs that only the volume gives: removed from the volume, the
        // mount fails ("keyvaultName is not provided", FACTS §5), so the fix first adds the
        // volume's value to the SPC, as a command, not an option (audit PP2).
        let needed: serde_json::Map<String, serde_json::Value> = inline
            .iter()
            .filter(|k| !unread.contains(k) && !empty.contains(k))
            .filter(|k| needed_and_unset(cx, &spc.parameters, k))
            .map(|k| {
                let v = cx.attributes.get(*k).map(|v| v.trim()).unwrap_or_default();
                (k.to_string(), serde_json::Value::from(v))
            })
            .collect();
        let patch = (!needed.is_empty()).then(|| {
            let body = serde_json::json!({"spec": {"parameters": needed}}).to_string();
            format!(
                "kubectl patch secretproviderclass {} -n {} --type merge -p {}",
                sh_word(cx.spc_name),
                cx.ns(),
                sh_word(&body)
            )
        });
        let keys: Vec<String> = inline.iter().map(|k| k.to_string()).collect();
        let (the_keys, them) = match inline.len() {
            1 => ("the inline key", "it overrides"),
            _ => ("the inline keys", "they override"),
        };
        let edit = edit_owner(
            cx,
            &format!(
                "in volume {}'s volumeAttributes rename the key {typo} to secretProviderClass (keys are case-sensitive; SecretProviderClass {spc_name} exists) and remove {the_keys} {}: once the key is renamed the driver merges volumeAttributes over {spc_name}'s parameters, so left there {them} them ({}): {volume}",
                cx.volume.name,
                and_list(&keys),
                why.join("; ")
            ),
        );
        // The SPC patched before the volume loses the key: no new pod mounts without it. A
        // controller-owned SPC is changed through its owner (audit TT6), and the volume's
        // edit must wait for that: the whole chain is then the owner's note.
        return match patch {
            Some(patch) => super::unless_controlled(cx, super::in_turn(&[&patch, &edit])),
            None => edit,
        };
    }
    // The kubelet passes volumeAttributes with their keys as written, and the
    // driver looks up only the exact key "secretProviderClass".
    let volume = match cx.spc_key_typo {
        Some(typo) => format!(
            "in volume {}'s volumeAttributes rename the key {typo} to secretProviderClass (keys are case-sensitive): {volume}",
            cx.volume.name
        ),
        None => volume,
    };
    let what = if inline.is_empty() {
        volume
    } else {
        format!(
            "create SecretProviderClass {spc_name} (provider: azure) with this volume's {}, then {volume} (remove the inline keys: left there they override the SecretProviderClass)",
            parts.join("; ")
        )
    };
    edit_owner(cx, &what)
}

/// Why inline key `k` can go once the mis-cased key is renamed, said against the SPC's
/// `parameters`: the SPC's own value then holds (the same, or another the volume's would
/// override); a key the SPC lacks either reads as the provider's default, is added to it by
/// the fix when the provider needs it ([`needed_and_unset`]), or is added to it (the patch,
/// offered) when the volume's value is meant.
fn inline_key_fate(
    cx: &Ctx,
    parameters: &BTreeMap<String, String>,
    k: &str,
    unread: &[&str],
    empty: &[&str],
) -> String {
    let spc = cx.spc_name;
    if unread.contains(&k) {
        return format!("the provider does not read {k}");
    }
    if empty.contains(&k) {
        return format!("{k} is empty");
    }
    let inline = cx.attributes.get(k).map(|v| v.trim()).unwrap_or_default();
    match parameters.get(k).map(|v| v.trim()) {
        Some(v) if v == inline => format!("{spc} sets {k} to the same value"),
        Some(_) => format!(
            "{spc} sets {k} to another value, which the volume's would override; set it in {spc} if the volume's is meant"
        ),
        None if FALSE_BY_DEFAULT.contains(&k) && inline.eq_ignore_ascii_case("false") => {
            format!("{spc} does not set {k}, and false is the provider's default")
        }
        None if needed_and_unset(cx, parameters, k) => format!(
            "{spc} does not set {k}, which the provider requires, so the fix first adds the volume's value to {spc}"
        ),
        None => {
            let patch = serde_json::json!({"spec": {"parameters": {k: inline}}}).to_string();
            format!(
                "{spc} does not set {k}: if the volume's value is meant, add it there with kubectl patch secretproviderclass {} -n {} --type merge -p {}",
                sh_word(spc),
                cx.ns(),
                sh_word(&patch)
            )
        }
    }
}

/// Whether provider key `k` is one the mount needs and SPC `parameters` gives no value for:
/// keyvaultName, the tenant (tenantID, or the deprecated tenantId: either serves) and objects,
/// which the provider refuses to go without (FACTS §5: "keyvaultName is not provided"), and
/// clientID unless the SPC names another identity mode or the volume a nodePublishSecretRef
/// (service-principal mode): without it no credential is left (KVC302/KVC307).
fn needed_and_unset(cx: &Ctx, parameters: &BTreeMap<String, String>, k: &str) -> bool {
    let set = |key: &str| parameters.get(key).is_some_and(|v| !v.trim().is_empty());
    let on = |key: &str| {
        parameters
            .get(key)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    };
    match k {
        "keyvaultName" | "objects" => !set(k),
        "tenantID" | "tenantId" => !set("tenantID") && !set("tenantId"),
        "clientID" => {
            let other = on("usePodIdentity") || on("useVMManagedIdentity");
            !set(k) && !other && cx.node_publish_secret.is_none()
        }
        _ => false,
    }
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => items.join(""),
    }
}
