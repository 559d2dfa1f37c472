//! Typed Secrets the API server validates (Kubernetes `ValidateSecret`): the driver creates
//! the synced Secret with the entry's `type` and exactly its `data[].key`s (FACTS §2), so an
//! entry lacking a key its type requires is refused at create — the driver's
//! FailedToCreateSecret (FACTS §3) — and the Secret is never made (KVC806). `kubernetes.io/tls`
//! is KVC804's (the driver itself allows only tls.key and tls.crt there).

use super::remedy;
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::{Finding, Link};
use crate::chain::rules::params;
use crate::snapshot::SecretObjectSpec;

/// What a refused create's finding says: the SPCPS controller stops at that entry
/// ([`super::stopped_at_refusal`]).
pub(super) const REFUSED: &str = "the API server refuses";

/// What a type requires of the data keys.
enum Needs {
    /// This key (its value must also be valid JSON for the docker types: the mounted file's
    /// content, which manifests cannot show).
    Key(&'static str),
    /// At least one of these: the API server accepts `username` or `password` alone.
    AnyOf(&'static [&'static str]),
}

fn needs(type_: &str) -> Option<Needs> {
    Some(match type_ {
        "kubernetes.io/dockerconfigjson" => Needs::Key(".dockerconfigjson"),
        "kubernetes.io/dockercfg" => Needs::Key(".dockercfg"),
        "kubernetes.io/ssh-auth" => Needs::Key("ssh-privatekey"),
        "kubernetes.io/basic-auth" => Needs::AnyOf(&["username", "password"]),
        _ => return None,
    })
}

/// What a Secret of the type is for, to say when it is not that.
fn holds(type_: &str) -> &'static str {
    match type_ {
        "kubernetes.io/ssh-auth" => "SSH private key",
        "kubernetes.io/basic-auth" => "basic-auth credentials",
        _ => "registry credentials",
    }
}

pub(super) fn check(cx: &Ctx, link: &mut Link, so: &SecretObjectSpec) {
    let Some(needs) = needs(&so.type_) else {
        return;
    };
    // No data is KVC806 already; a placeholder key may render to the one required (KVC306).
    if so.data.is_empty() || super::unrendered_key(so) {
        return;
    }
    let has = |k: &str| so.data.iter().any(|d| d.key == k);
    // What is wanted, said as a key (or keys), and the entry written for it when one differs
    // only by the dot (`dockerconfigjson` for `.dockerconfigjson`).
    let (want, near) = match needs {
        Needs::Key(k) if !has(k) => (
            k.to_string(),
            so.data
                .iter()
                .position(|d| d.key.trim_start_matches('.') == k.trim_start_matches('.')),
        ),
        Needs::AnyOf(ks) if !ks.iter().any(|k| has(k)) => (ks.join(" or "), None),
        _ => return,
    };
    let required = match needs {
        Needs::AnyOf(_) => format!("data key {want} (either suffices)"),
        Needs::Key(_) => format!("data key {want}"),
    };
    let keys: Vec<&str> = so.data.iter().map(|d| d.key.as_str()).collect();
    let hint = near.map_or(String::new(), |i| {
        format!(" ({} is not it: did you mean {want}?)", so.data[i].key)
    });
    // The key to rename: the near miss, or the only one there is.
    let edit = match near.or((so.data.len() == 1).then_some(0)) {
        Some(i) => format!(
            "secretObjects[{}].data[{i}].key: {want} (not {})",
            so.secret_name, so.data[i].key
        ),
        None => format!("secretObjects[{}].data: add key {want}", so.secret_name),
    };
    // Keys nothing like the required one: perhaps the type is what is wrong.
    let edit = match near {
        Some(_) => edit,
        None => format!(
            "{edit}; or type: Opaque if it holds no {}",
            holds(&so.type_)
        ),
    };
    link.findings.push(cx.finding(
        Code::KVC806,
        cx.spc_resource(),
        format!(
            "secretObjects entry {} of SecretProviderClass {} has type {} but no {required}{hint}: {REFUSED} such a Secret (data[…]: Required value), so the driver's create fails (FailedToCreateSecret) and the Secret is never made",
            so.secret_name, cx.spc_name, so.type_
        ),
        vec![format!(
            "secretObjects: {{secretName: {}, type: {}, data keys: {}}}",
            so.secret_name,
            so.type_,
            keys.join(", ")
        )],
        remedy::show_spc(cx, "{.spec.secretObjects}"),
        remedy::edit_spc(cx, &edit),
    ));
}

/// KVC806 for each data key the API server refuses whatever the type (`IsConfigMapKey`: a
/// path-like key copied from an objectAlias, `db/password`): the driver's create fails at
/// every attempt and the Secret is never made (audit CCC4).
pub(super) fn refused_keys(cx: &Ctx, link: &mut Link, so: &SecretObjectSpec) {
    for (i, d) in so.data.iter().enumerate() {
        if params::is_placeholder(&d.key) {
            continue;
        }
        // No key (or blanks, trimmed away): the driver's own data error, before any create
        // (secretutil.GetSecretData), which stops no later entry (audit WWW-real).
        if d.key.is_empty() {
            link.findings.push(cx.finding(
                Code::KVC806,
                cx.spc_resource(),
                format!(
                    "secretObjects entry {} of SecretProviderClass {} has an empty data key (data[{i}]): the driver fails to get its data (FailedToCreateSecret: failed to get data in spc {}/{} for secret {}, err: key in secretObjects.data is empty) and the Secret is never made",
                    so.secret_name, cx.spc_name, cx.ns(), cx.spc_name, so.secret_name
                ),
                vec![format!(
                    "secretObjects[{}].data[{i}]: {{objectName: {}, key: \"\"}}",
                    so.secret_name, d.object_name
                )],
                remedy::show_spc(cx, "{.spec.secretObjects}"),
                remedy::edit_spc(
                    cx,
                    &format!(
                        "secretObjects[{}].data[{i}].key: the key readers ask for (letters, digits, '-', '_' or '.')",
                        so.secret_name
                    ),
                ),
            ));
            continue;
        }
        let Some(why) = crate::snapshot::config_key::invalid_config_key(&d.key) else {
            continue;
        };
        // The last part of a path-like key, when that one is valid.
        let meant = (d.key.rsplit(['/', '\\']).next())
            .filter(|k| crate::snapshot::config_key::invalid_config_key(k).is_none());
        let edit = match meant {
            Some(k) => format!(
                "secretObjects[{}].data[{i}].key: {k} (not {})",
                so.secret_name, d.key
            ),
            None => format!(
                "secretObjects[{}].data[{i}].key: a name of letters, digits, '-', '_' or '.' (not {})",
                so.secret_name, d.key
            ),
        };
        link.findings.push(cx.finding(
            Code::KVC806,
            cx.spc_resource(),
            format!(
                "secretObjects entry {} of SecretProviderClass {} has data key {:?}, which {REFUSED} in any Secret ({why}): the driver's create fails (FailedToCreateSecret) and the Secret is never made",
                so.secret_name, cx.spc_name, d.key
            ),
            vec![format!(
                "secretObjects[{}].data[{i}]: {{objectName: {}, key: {}}}",
                so.secret_name, d.object_name, d.key
            )],
            remedy::show_spc(cx, "{.spec.secretObjects}"),
            remedy::edit_spc(cx, &edit),
        ));
    }
}

/// KVC806 for a docker-config entry (`.dockerconfigjson`, `.dockercfg`) whose key is right but
/// whose Secret the driver fails to create: what the API server refuses is then the value,
/// which must be JSON (Kubernetes `ValidateSecret`). The next mount fetches the same value, so
/// the fix is the vault's value, not a remount (audit CCC6). The value is never shown: the
/// confirm only says whether it parses.
pub(super) fn json_value(
    cx: &Ctx,
    so: &SecretObjectSpec,
    evidence: Vec<String>,
) -> Option<Finding> {
    let then = if remedy::rotation_off(cx) {
        format!("then {}", remedy::remount(cx))
    } else {
        "the next rotation poll mounts it and the driver creates the Secret at its next reconcile (every 5 minutes)".to_string()
    };
    docker_value(cx, so, evidence, &then, |key, object, file| {
        format!(
            "synced Secret {} is missing although SecretProviderClass {} is mounted, and its entry has the key {key} its type {} requires: what {REFUSED} is the value (Key Vault secret {object}, file {file}), which must be JSON (a docker config, {{\"auths\": …}})",
            so.secret_name, cx.spc_name, so.type_
        )
    })
}

/// KVC806 for the rotation reconciler's refused patch (`failed to patch secret <name> with
/// new data`, SecretRotationFailed, FACTS §3) of a docker-config Secret that exists, its entry's
/// key right: the API server refuses the new value, which must be JSON (Kubernetes
/// `ValidateSecret`), and keeps the last one it accepted. A remount fetches the same value and
/// fails again (audit NNN5): the fix is the vault's value. `None` for any other patch.
pub(crate) fn refused_patch(
    cx: &Ctx,
    e: &crate::snapshot::EventObs,
    evidence: String,
) -> Option<Finding> {
    let (_, so) = patched_entry(cx, e)?;
    let then = if remedy::rotation_off(cx) {
        format!("then {}", remedy::remount(cx))
    } else {
        "the next rotation poll fetches it and patches the Secret".to_string()
    };
    let mut f = docker_value(cx, so, vec![evidence], &then, |key, object, file| {
        format!(
            "the rotation's patch of synced Secret {} is refused, and its entry has the key {key} its type {} requires: what {REFUSED} is the new value (Key Vault secret {object}, file {file}), which must be JSON (a docker config, {{\"auths\": …}}); the Secret keeps the last value it accepted",
            so.secret_name, so.type_
        )
    })?;
    // The failure's own event first: the rotation reconciler's, not the controller's create.
    f.confirm = format!(
        "kubectl get events -n {} --field-selector reason=SecretRotationFailed && {}",
        cx.ns(),
        f.confirm
    )
    .into();
    Some(f)
}

/// KVC806 on the value of docker-config entry `so` (its type's key present): `message` of its
/// key, Key Vault object and file; the fix sets the value, then `then`.
/// The `secretObjects` entry (its index) whose existing Secret's rotation patch event `e`
/// reports refused, when the refusal names no other cause (RBAC, an immutable Secret).
fn patched_entry<'a>(
    cx: &Ctx<'a>,
    e: &crate::snapshot::EventObs,
) -> Option<(usize, &'a SecretObjectSpec)> {
    if !super::missing::failed_patch(e)
        || ["forbidden", "immutable"]
            .iter()
            .any(|w| e.message.to_ascii_lowercase().contains(w))
    {
        return None;
    }
    let named = (e.message.strip_prefix("failed to patch secret ")?)
        .split(' ')
        .next()?;
    let spc = cx.spc?;
    let (i, so) =
        (spc.secret_objects.iter().enumerate()).find(|(_, so)| so.secret_name == named)?;
    cx.synced_secret(i)?;
    Some((i, so))
}

/// A refused patch judged on the value (`f`, KVC806 from [`refused_patch`]) is why the Secret
/// holds other values than the mount: KVC805 on that Secret, when that is all it says (no key
/// lacking or left over, no type edited), is its symptom, not a second cause (one symptom,
/// one cause), and its fix (delete the Secret, remount) would delete the last value the API
/// server accepted and fetch the same refused one. Its evidence (the fingerprints that
/// differ) joins `f`'s.
pub(crate) fn absorb_stale_values(
    cx: &Ctx,
    e: &crate::snapshot::EventObs,
    link: &mut Link,
    f: &mut Finding,
) {
    let Some((i, so)) = patched_entry(cx, e) else {
        return;
    };
    let Some(secret) = cx.synced_secret(i) else {
        return;
    };
    let only_values = super::keys_lacking(cx, so, secret).is_empty()
        && super::edited::leftover_keys(so, secret).is_empty()
        && super::edited::retyped(so, secret).is_none();
    let resource = format!("Secret/{}", so.secret_name);
    let stale =
        (link.findings.iter()).position(|s| s.code == Code::KVC805 && *s.resource == *resource);
    // The same entry `refused_patch` judged on its value: a docker type's key, read from a file.
    let judged = docker_source(cx, so).is_some();
    let (true, Some(at)) = (judged && only_values && f.code == Code::KVC806, stale) else {
        return;
    };
    for ev in link.findings.remove(at).evidence {
        if !f.evidence.contains(&ev) {
            f.evidence.push(ev);
        }
    }
}

/// A docker-config entry's required key, the Key Vault object and the file it is read from:
/// the value the API server judges as JSON.
fn docker_source<'a>(
    cx: &'a Ctx,
    so: &'a SecretObjectSpec,
) -> Option<(&'static str, &'a str, &'a str)> {
    let Some(Needs::Key(key)) = needs(&so.type_) else {
        return None;
    };
    if !key.starts_with(".docker") {
        return None;
    }
    let d = so.data.iter().find(|d| d.key == key)?;
    let o = (cx.params.as_deref()?.objects.iter()).find(|o| o.file_name() == d.object_name)?;
    Some((key, &o.object_name, &d.object_name))
}

fn docker_value(
    cx: &Ctx,
    so: &SecretObjectSpec,
    evidence: Vec<String>,
    then: &str,
    message: impl FnOnce(&str, &str, &str) -> String,
) -> Option<Finding> {
    let (key, object, file) = docker_source(cx, so)?;
    let kv = cx.keyvault_arg();
    Some(cx.finding(
        Code::KVC806,
        format!("Secret/{}", so.secret_name),
        message(key, object, file),
        evidence,
        format!(
            "az keyvault secret show --vault-name {kv} --name {object} --query value -o tsv | jq -e . > /dev/null && echo 'valid JSON'"
        ),
        // The file is the user's: a shell variable names it, as `<docker-config.json>` was a
        // redirection to bash, which refused the whole line (audit III5).
        format!(
            "az keyvault secret set --vault-name {kv} --name {object} --file \"$DOCKER_CONFIG_JSON\"  # DOCKER_CONFIG_JSON: a file holding the registry's docker config JSON; {then}"
        ),
    ))
}
