//! Service-principal mode (FACTS §5): the provider reads the credential from the pod volume's
//! nodePublishSecretRef Secret, keys `clientid` and `clientsecret` matched case-insensitively.
//! Only key NAMES are read here (values are fingerprints and are never shown).

use super::remedy;
use super::{set, unknown};
use crate::chain::catalog::Code;
use crate::chain::context::{AuthMode, Ctx};
use crate::chain::model::{Finding, Link, Status};
use crate::fingerprint::Fingerprint;
use crate::snapshot::{EventObs, SourceKind, VolumeSourceObs};

/// The keys the provider looks for, in the order it reports them missing.
const KEYS: [&str; 2] = ["clientid", "clientsecret"];

pub(crate) fn check(cx: &Ctx, link: &mut Link, name: &str) {
    let Some(secret) = cx.snap().secret(cx.ns(), name) else {
        absent(cx, link, name);
        return;
    };
    let has = |want: &str| secret.data.keys().any(|k| k.eq_ignore_ascii_case(want));
    // An empty value counts as missing (FACTS §5, docs/scenarios.md). Told by fingerprint
    // only, and only where this process read the Secret (a replayed snapshot's fingerprints
    // are under another key: there the mount's event says it, `from_event`).
    let blank = Fingerprint::of(b"");
    let empty: Vec<&str> = secret
        .data
        .iter()
        .filter(|(k, fp)| **fp == blank && KEYS.iter().any(|w| k.eq_ignore_ascii_case(w)))
        .map(|(k, _)| k.as_str())
        .collect();
    if !empty.is_empty() && KEYS.iter().all(|k| has(k)) {
        return empty_values(cx, link, name, &empty);
    }
    let missing: Vec<&str> = KEYS.into_iter().filter(|k| !has(k)).collect();
    if missing.is_empty() {
        // The credential's validity is Entra's to judge, which kvchain does not ask.
        unknown(
            link,
            "service principal",
            "the Secret has clientid and clientsecret; whether Entra accepts them is not observed",
        );
        return;
    }
    let keys: Vec<&str> = secret.data.keys().map(String::as_str).collect();
    // A key that reads as the wanted one once case, '-' and '_' are ignored is the one meant.
    let renames: Vec<(&str, &str)> = missing
        .iter()
        .filter_map(|want| {
            keys.iter()
                .find(|k| {
                    k.chars()
                        .filter(|c| *c != '-' && *c != '_')
                        .collect::<String>()
                        .eq_ignore_ascii_case(want)
                })
                .map(|k| (*k, *want))
        })
        .collect();
    // The provider stops at the first key it misses: the second shows once that one is there.
    let mut failure = format!("\"could not find {} in secrets\"", missing[0]);
    if let Some(next) = missing.get(1) {
        failure.push_str(&format!(
            ", then, once that key is there, \"could not find {next} in secrets\""
        ));
    }
    let message = format!(
        "nodePublishSecretRef Secret {name} has no key {} (keys are matched case-insensitively): the provider fails with {failure}",
        missing.join(" and no key "),
    );
    let evidence = vec![format!("Secret {name} keys: {}", keys.join(", "))];
    // One key absent, the other empty: one edit writes both.
    if !empty.is_empty() {
        let message = format!("{message}; and its {} is empty", empty.join(" and "));
        let needed: Vec<&str> = missing.iter().chain(&empty).copied().collect();
        link.findings
            .push(secret_finding(cx, name, message, evidence, &needed));
        return;
    }
    // `describe` lists key names and sizes, never values.
    let confirm = format!(
        "kubectl describe secret {} -n {}",
        remedy::sh_word(name),
        cx.ns()
    );
    let fix = if renames.len() == missing.len() {
        let moves: Vec<String> = renames
            .iter()
            .map(|(from, to)| format!("{from} → {to}"))
            .collect();
        if cx.source().kind == SourceKind::Manifests {
            format!(
                "# in the manifest of Secret {name} (namespace {}), rename its keys, values unchanged: {}",
                cx.ns(),
                moves.join(", ")
            )
        } else {
            // A JSON patch moves each value to its new key without printing it.
            let ops: Vec<String> = renames
                .iter()
                .map(|(from, to)| {
                    format!("{{\"op\":\"move\",\"from\":\"/data/{from}\",\"path\":\"/data/{to}\"}}")
                })
                .collect();
            format!(
                "kubectl patch secret {} -n {} --type=json -p '[{}]'",
                remedy::sh_word(name),
                cx.ns(),
                ops.join(",")
            )
        }
    } else {
        format!(
            "# add key(s) {} to Secret {name} in namespace {} (the service principal's application id and client secret)",
            missing.join(", "),
            cx.ns()
        )
    };
    link.findings.push(cx.finding(
        Code::KVC302,
        format!("Secret/{name}"),
        message,
        evidence,
        confirm,
        fix,
    ));
}

/// Both keys are there but `empty` (as the Secret spells them) hold nothing: the provider
/// reads an empty value as no value and stops at the first.
fn empty_values(cx: &Ctx, link: &mut Link, name: &str, empty: &[&str]) {
    let first = KEYS
        .into_iter()
        .find(|w| empty.iter().any(|k| k.eq_ignore_ascii_case(w)))
        .unwrap_or(KEYS[0]);
    let message = format!(
        "nodePublishSecretRef Secret {name} has an empty {} (an empty value counts as missing): the provider fails with \"could not find {first} in secrets\"",
        empty.join(" and an empty ")
    );
    let keys: Vec<&str> = cx
        .snap()
        .secret(cx.ns(), name)
        .map(|s| s.data.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let evidence = vec![
        format!("Secret {name} keys: {}", keys.join(", ")),
        format!("empty: {}", empty.join(", ")),
    ];
    link.findings
        .push(secret_finding(cx, name, message, evidence, empty));
}

/// A KVC302 on the nodePublishSecretRef Secret: `keys` (as the Secret spells them, or as the
/// provider names them) need a value. `describe` shows key names and sizes, never values; the
/// fix writes the values, which only their owner knows.
fn secret_finding(
    cx: &Ctx,
    name: &str,
    message: String,
    evidence: Vec<String>,
    keys: &[&str],
) -> Finding {
    let confirm = format!(
        "kubectl describe secret {} -n {}",
        remedy::sh_word(name),
        cx.ns()
    );
    let what = |k: &str| {
        if k.eq_ignore_ascii_case("clientid") {
            "the service principal's application (client) id"
        } else {
            "the service principal's client secret"
        }
    };
    let fix = if cx.source().kind == SourceKind::Manifests {
        let sets: Vec<String> = keys.iter().map(|k| format!("{k}: {}", what(k))).collect();
        format!(
            "# in the manifest of Secret {name} (namespace {}), set {}",
            cx.ns(),
            sets.join(", ")
        )
    } else {
        let sets: Vec<String> = keys
            .iter()
            .map(|k| format!("\"{k}\":\"<{}>\"", what(k)))
            .collect();
        format!(
            "kubectl patch secret {} -n {} --type=merge -p '{{\"stringData\":{{{}}}}}'  # then the next mount retry reads it",
            remedy::sh_word(name),
            cx.ns(),
            sets.join(",")
        )
    };
    cx.finding(
        Code::KVC302,
        format!("Secret/{name}"),
        message,
        evidence,
        confirm,
        fix,
    )
}

/// The provider's `could not find <key> in secrets` in service-principal mode (or Entra ID
/// refusing the keys' credential, [`super::sp_entra`]): the
/// nodePublishSecretRef Secret lacks that key or holds it empty (an empty value counts as
/// missing), which its key names alone cannot tell (a replayed snapshot). The Secret is at
/// fault, not the SecretProviderClass.
pub(crate) fn from_event(cx: &Ctx, e: &EventObs, evidence: &str) -> Option<Finding> {
    let AuthMode::ServicePrincipal { secret } = &cx.mode else {
        return None;
    };
    let name = secret.as_str();
    // Entra ID refusing the credential the keys hold (a wrong app id, secret or tenant).
    if let Some(f) = super::sp_entra::from_event(cx, name, e, evidence) {
        return Some(f);
    }
    let key = KEYS.into_iter().find(|k| {
        e.message
            .contains(&format!("could not find {k} in secrets"))
    })?;
    // The key as the Secret spells it, when it has one (patched in place).
    let spelt = cx
        .snap()
        .secret(cx.ns(), name)
        .and_then(|s| s.data.keys().find(|k| k.eq_ignore_ascii_case(key)))
        .map_or(key, String::as_str);
    let message = format!(
        "the provider finds no {key} in nodePublishSecretRef Secret {name}: the key is missing or its value is empty (an empty value counts as missing; keys are matched case-insensitively)"
    );
    Some(secret_finding(
        cx,
        name,
        message,
        vec![evidence.to_string()],
        &[spelt],
    ))
}

/// The Secret is not among what was read: unknown where Secrets cannot be seen (offline, a
/// forbidden namespace); on a cluster where they can, it does not exist and the mount fails.
fn absent(cx: &Ctx, link: &mut Link, name: &str) {
    if cx.source().kind == SourceKind::Manifests {
        unknown(
            link,
            "service principal",
            "the nodePublishSecretRef Secret is not in the given manifests (it is usually created apart, holding the credential)",
        );
        return;
    }
    if let Some(reason) = cx.snap().secrets.unknown_in(cx.ns()) {
        unknown(link, "service principal", reason);
        return;
    }
    set(link, Status::Unknown, "service principal");
    link.findings.push(cx.finding(
        Code::KVC302,
        format!("Secret/{name}"),
        format!(
            "nodePublishSecretRef names Secret {name}, which does not exist in namespace {}: the driver has no credential to pass and the mount fails (NodePublishSecretRefNotFound: \"failed to get node publish secret {}/{name}\")",
            cx.ns(),
            cx.ns()
        ),
        vec![format!("kubectl get secret {name} -n {}: NotFound", cx.ns())],
        format!("kubectl get secret {} -n {}", remedy::sh_word(name), cx.ns()),
        format!(
            "# create Secret {name} in namespace {} with keys clientid and clientsecret (the service principal's application id and client secret), or correct nodePublishSecretRef",
            cx.ns()
        ),
    ));
}

/// A nodePublishSecretRef on the chain's volume while the SPC names another identity (clientID:
/// workload identity or identity binding; a VM identity): the provider never reads it (FACTS
/// §5 auth selection), yet the kubelet fetches the Secret before it calls the driver and fails
/// the mount when it is missing (docs/scenarios.md: `fetching NodePublishSecretRef <ns>/<name>
/// failed`). That Secret, a leftover of service-principal days, is the cause, and the fix is on
/// the pod's volume: the SPC's parameters are right (audit MMM).
pub(crate) fn unread_ref(cx: &Ctx, link: &mut Link) {
    let VolumeSourceObs::Csi {
        node_publish_secret: Some(name),
        ..
    } = &cx.volume.source
    else {
        return;
    };
    // Only a Secret known absent: manifests rarely carry it, and unread Secrets tell nothing.
    if cx.source().kind == SourceKind::Manifests
        || cx.snap().secrets.unknown_in(cx.ns()).is_some()
        || cx.snap().secret(cx.ns(), name).is_some()
    {
        return;
    }
    let (ns, volume) = (cx.ns(), cx.volume.name.as_str());
    link.findings.push(cx.finding(
        Code::KVC302,
        format!("Secret/{name}"),
        format!(
            "volume {volume} names nodePublishSecretRef Secret {name}, which does not exist in namespace {ns}: the kubelet fetches it before it calls the driver and fails the mount, although SecretProviderClass {} does not authenticate as a service principal and the provider never reads it",
            cx.spc_name
        ),
        vec![format!("kubectl get secret {name} -n {ns}: NotFound")],
        format!("kubectl get secret {} -n {ns}", remedy::sh_word(name)),
        remedy::edit_owner(
            cx,
            &format!(
                "volumes[{volume}].csi: remove nodePublishSecretRef {name}, which SecretProviderClass {} does not use (or create Secret {name} in namespace {ns})",
                cx.spc_name
            ),
        ),
    ));
}
