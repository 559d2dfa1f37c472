//! Vault-object link: each SPC object exists, the version the provider will fetch (latest or
//! pinned) is enabled and not expired; pinned versions never rotate.

mod absent;
mod back_now;
mod elsewhere;
mod event_only;
mod not_before;
mod pin;
mod soft_deleted;

pub(crate) use absent::{WRONG_TYPE, under_other_type};
pub(crate) use back_now::back_now;
pub(crate) use event_only::from_event;

use absent::{create, nearest_name, of_certificate, renamed, whose, wrong_type};
use jiff::SignedDuration;
pub(crate) use pin::drop_pin;
use pin::pinned;

use super::remedy;
use super::{set, unknown};
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::{ChainObject, Fact, Link, Status, Text, VersionText};
use crate::glance;
use crate::snapshot::{ObjectType, ObjectVersion, Observed, VaultObject};
use crate::spc::SpcObject;

/// The summary of the link when the SPC names no object it can read: with KVC705 on the Mount
/// link it waits on that (`parse_first::wait_for_objects`).
pub(crate) const NO_OBJECTS: &str = "no objects";

const EXPIRY_WARNING: SignedDuration = SignedDuration::from_hours(7 * 24);

pub(crate) fn check(cx: &mut Ctx, link: &mut Link) -> Vec<ChainObject> {
    let Some(p) = cx.params.clone() else {
        super::no_spc(cx, link);
        return Vec::new();
    };
    let vault = p.keyvault_name.clone().unwrap_or_default();
    // A name the provider refuses before any request (KVC302 or KVC306 on Identity): no
    // object was looked up, and none could be.
    let unreachable = crate::spc::invalid_vault_name(&vault).is_some();
    let clock = cx.ix.clock();
    let mut out = Vec::with_capacity(p.objects.len());
    let mut unknown_reason: Option<String> = None;
    let mut latest_summary = None;
    // Objects whose objectType is none of secret, key, cert: the provider refuses them before
    // any Key Vault call (FACTS §5), so nothing says whether they exist.
    let mut untyped: Vec<String> = Vec::new();
    // Objects the vault cannot serve now (KVC601, KVC602): history for a retired pod that
    // mounts no more (audit JJ1).
    let mut gone: Vec<String> = Vec::new();
    for o in &p.objects {
        let mounted_version = mounted_version(cx, o);
        let mut co = ChainObject {
            name: o.object_name.as_str().into(),
            object_type: o.object_type_raw.as_str().into(),
            file: o.file_name().into(),
            pinned_version: o.object_version.as_deref().map(Text::from),
            mounted_version,
            vault_version: None,
            status: Status::Ok,
        };
        // A `$VERSION` placeholder is an unrendered template (KVC306), not a pin.
        // The index of its KVC603, taken back below when the pin names no version the vault
        // holds: that pin is then KVC601's one cause (audit XC-left).
        let pin_at = o
            .object_version
            .as_deref()
            .filter(|v| !super::params::is_placeholder(v))
            .map(|v| {
                pinned(cx, link, o, v);
                link.findings.len() - 1
            });
        let Some(t) = o.object_type else {
            co.status = Status::Broken; // KVC705 on the mount link says why
            untyped.push(format!("objects[{}] {}", o.index, o.object_name));
            out.push(co);
            continue;
        };
        let found = cx.ix.object(&vault, t, &o.object_name);
        let state = match found.map(|f| &f.state) {
            Some(Observed::Known(s)) => s.as_ref(),
            Some(Observed::Unknown(r)) => {
                co.status = if cx.mounted() {
                    Status::Ok
                } else {
                    Status::Unknown
                };
                unknown_reason.get_or_insert_with(|| r.clone());
                out.push(co);
                continue;
            }
            None if unreachable => {
                co.status = Status::Pending;
                out.push(co);
                continue;
            }
            None => {
                co.status = if cx.mounted() {
                    Status::Ok
                } else {
                    Status::Unknown
                };
                unknown_reason.get_or_insert_with(|| {
                    match super::access::vault_gap(&cx.azure().vaults.gaps, &vault) {
                        Some(reason) => reason.to_string(),
                        None => {
                            format!("{} {} in {vault} not looked up", t.as_str(), o.object_name)
                        }
                    }
                });
                out.push(co);
                continue;
            }
        };
        let Some(obj) = state else {
            co.status = Status::Broken;
            // An absolute objectName is refused as the file's name (FACTS §5): KVC705 on the
            // Mount link names the name to use, which is the vault's too (audit O5).
            if p.absolute_object_name(o.index) {
                untyped.push(format!("objects[{}] {}", o.index, o.object_name));
                out.push(co);
                continue;
            }
            gone.push(format!("{} {}", t.as_str(), o.object_name));
            let mounted = co.mounted_version.as_ref().map(|v| v.as_str());
            if let Some(listed) = cx.ix.vault(&vault)
                && soft_deleted::soft_deleted(cx, link, o, t, listed, mounted)
            {
                out.push(co);
                continue;
            }
            if let Some(other) = under_other_type(cx, &vault, t, &o.object_name) {
                wrong_type(cx, link, o, t, other);
                out.push(co);
                continue;
            }
            let (confirm, _) = show(cx, t, &o.object_name, None);
            // An object this pod has mounted existed under this very name: it was deleted
            // since, and the fix recovers it; a name a few letters off is then no typo but
            // another object, maybe another service's secret (audit EEE1).
            let near = match &co.mounted_version {
                Some(_) => None,
                None => nearest_name(cx, &vault, t, &o.object_name),
            };
            let made_again = || {
                let managed = of_certificate(cx, t, &o.object_name);
                create(&vault, t, &o.object_name, managed)
            };
            // No slip, but a secretObjects entry reads a name the vault holds that no item
            // lists: the one rename the snapshot proves (one side was renamed).
            let renamed_side = (near.is_none() && co.mounted_version.is_none())
                .then(|| super::sync::proven_rename(cx))
                .flatten()
                .filter(|r| r.item.index == o.index);
            let (hint, fix) = match (near, &co.mounted_version) {
                (Some(n), _) => (
                    format!(" (did you mean {n}?)"),
                    remedy::edit_spc(cx, &renamed(cx, o, n)),
                ),
                (None, None) if let Some(r) = &renamed_side => (
                    format!(
                        "; secretObjects[{}] reads {}, which Key Vault {vault} holds as a {} and no item of objects lists: one side of the name was renamed",
                        r.secret,
                        r.name,
                        t.as_str()
                    ),
                    remedy::edit_spc(cx, &format!("objects[{}].objectName: {}", o.index, r.name)),
                ),
                // Said of the mount, not of one pod: replicas share this link.
                (None, Some(v)) => (
                    format!(
                        ", though its version {} is mounted: it was deleted since",
                        v.as_str()
                    ),
                    made_again(),
                ),
                // Another vault holds it: keyvaultName may name the wrong one.
                (None, None) => {
                    elsewhere::other_vault(cx, &vault, t, &o.object_name, &made_again())
                        .unwrap_or_else(|| (String::new(), made_again()))
                }
            };
            let whose = whose(cx);
            link.findings.push(cx.finding(
                Code::KVC601,
                format!("KeyVault/{vault}"),
                format!(
                    "{} {} (objects[{}] of {whose}) does not exist in Key Vault {vault}{hint}",
                    t.as_str(),
                    o.object_name,
                    o.index,
                ),
                vec![format!(
                    "GET https://{}/{}/{}: 404",
                    super::remedy::network::vault_host(cx, &vault),
                    t.collection(),
                    o.object_name
                )],
                confirm,
                fix,
            ));
            out.push(co);
            continue;
        };
        // With objectVersionHistory the provider lists the versions and skips disabled ones
        // (FACTS §5): `/0` is the newest enabled version, and a disabled latest fails no GET.
        let history = o.object_version_history.unwrap_or(0) > 1;
        let newest_enabled = obj.versions.iter().find(|v| v.enabled);
        let target: Option<&ObjectVersion> = match &o.object_version {
            Some(v) => obj.version(v),
            None if history => newest_enabled.or(obj.latest()),
            None => obj.latest(),
        };
        co.vault_version = match (history, target) {
            (true, Some(tv)) => Some(tv.version.as_str().into()),
            _ => obj.latest().map(|v| v.version.as_str().into()),
        };
        if history
            && o.object_version.is_none()
            && let (Some(latest), Some(tv)) = (obj.latest(), target)
            && !latest.enabled
            && tv.enabled
        {
            let enabled = obj.versions.iter().filter(|v| v.enabled).count();
            let want = o.object_version_history.unwrap_or(0) as usize;
            let short = if enabled < want {
                format!(
                    "; only {enabled} enabled version(s): {}/{}..{}/{} are not written",
                    o.file_name(),
                    enabled,
                    o.file_name(),
                    want - 1
                )
            } else {
                String::new()
            };
            link.facts.push(Fact::new(
                "history",
                format!(
                    "latest version {} of {} {} is disabled: the provider skips it (objectVersionHistory), so {}/0 is version {}{short}",
                    latest.version,
                    t.as_str(),
                    o.object_name,
                    o.file_name(),
                    tv.version
                ),
            ));
        }
        let Some(target) = target else {
            co.status = Status::Broken;
            gone.push(format!("{} {}", t.as_str(), o.object_name));
            // The versions the object has, among which the pinned one is missing: `show`
            // would print the latest version's attributes, which say nothing of the pin
            // (audit GGG-A3).
            let confirm = list_versions(cx, t, &o.object_name);
            // The pin that fails the mount is this finding's cause, and its edit this fix:
            // KVC603 ("pinned, remove objectVersion") would say the same edit a second time,
            // for a reason (rotation) that does not apply to a version that is not there.
            if let Some(i) = pin_at {
                debug_assert_eq!(link.findings[i].code, Code::KVC603, "the pin's finding");
                link.findings.remove(i);
            }
            link.findings.push(cx.finding(
                Code::KVC601,
                format!("KeyVault/{vault}"),
                match &o.object_version {
                    Some(v) => format!(
                        "{} {} has no version {v} in Key Vault {vault}: objects[{}] pins it with objectVersion, so the provider asks for that version alone and the mount fails",
                        t.as_str(),
                        o.object_name,
                        o.index
                    ),
                    None => format!(
                        "{} {} has no version (latest) in Key Vault {vault}",
                        t.as_str(),
                        o.object_name
                    ),
                },
                vec![format!(
                        "versions: {}",
                        obj.versions
                            .iter()
                            .map(|v| v.version.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )],
                confirm,
                remedy::edit_spc(cx, &pin::unpin_to(o.index, &obj.versions)),
            ));
            out.push(co);
            continue;
        };
        if !target.enabled {
            co.status = Status::Broken;
            gone.push(format!("{} {}", t.as_str(), o.object_name));
            let (confirm, _) = show(cx, t, &o.object_name, Some(&target.version));
            link.findings.push(cx.finding(
                Code::KVC602,
                format!("KeyVault/{vault}"),
                format!(
                    "{} {} version {} ({}) is disabled in Key Vault {vault}: \"Operation get is not allowed on a disabled {}.\"",
                    t.as_str(),
                    o.object_name,
                    target.version,
                    if o.object_version.is_some() { "pinned" } else { "latest" },
                    // Key Vault's words name the collection in full (`certificate`), not
                    // the SPC's objectType token (`cert`): FACTS §5, audit WW6.
                    cli_kind(t)
                ),
                vec![format!("attributes.enabled: false (version {})", target.version)],
                confirm,
                enable(cx, &vault, t, obj, &o.object_name, &target.version),
            ));
            out.push(co);
            continue;
        }
        // Within the warning once the clock is past `exp - EXPIRY_WARNING`; the message then
        // names the time itself.
        if let Some(exp) = target.expires
            && exp.checked_sub(EXPIRY_WARNING).map_or_else(
                |_| exp < clock.now() + EXPIRY_WARNING,
                |from| clock.after(from),
            )
        {
            let now = clock.now();
            co.status = co.status.max(Status::Warning);
            let state = if exp <= now { "expired" } else { "expires" };
            let (confirm, _) = show(cx, t, &o.object_name, Some(&target.version));
            link.findings.push(cx.finding(
                Code::KVC604,
                format!("KeyVault/{vault}"),
                format!(
                    "{} {} version {} {state} at {} (observed at {})",
                    t.as_str(),
                    o.object_name,
                    target.version,
                    glance::time(exp),
                    glance::time(now)
                ),
                vec![format!("attributes.exp: {}", glance::time(exp))],
                confirm,
                renew(t, &vault, &o.object_name, &target.version),
            ));
        }
        if let Some(f) = not_before::not_yet_valid(cx, clock, &vault, t, o, obj, target) {
            co.status = co.status.max(Status::Warning);
            link.findings.push(f);
        }
        latest_summary.get_or_insert(o.object_name.clone());
        out.push(co);
    }
    let history = !gone.is_empty() && untyped.is_empty() && !unreachable && {
        let what = format!("a readable {} in Key Vault {vault}", gone.join(", "));
        super::read_gone_for_retired(cx, link, &what)
    };
    if history {
        // Deleted (or disabled) since a retired pod that mounts no more last mounted it: no
        // object to recover, none to enable again. Its other findings stand.
        link.findings
            .retain(|f| !matches!(f.code, Code::KVC601 | Code::KVC602));
        for co in out.iter_mut().filter(|co| co.status == Status::Broken) {
            co.status = Status::Pending;
        }
    } else if unreachable && unknown_reason.is_none() {
        set(
            link,
            Status::Pending,
            super::access::unreached_vault(&vault),
        );
    } else if !untyped.is_empty() && unknown_reason.is_none() {
        // Never looked up, never fetched: not ok, whatever the other objects are. The mount
        // link's KVC705 is the cause; this link was not tried.
        set(link, Status::Pending, "not fetched");
        link.facts.push(Fact::new(
            "not fetched",
            format!(
                "{}: objectType is not secret, key or cert, or objectName is an absolute path, so the provider writes nothing (KVC705 on Mount)",
                untyped.join(", ")
            ),
        ));
    } else if let Some(reason) = unknown_reason {
        if cx.mounted() {
            // The mount proves the objects existed and could be read when it was made; what
            // only the vault says is not known: an expiry on its way (KVC604), a version made
            // since that the mount lags (KVC703), the version disabled since (audit Q4).
            super::unknown_check(
                link,
                "versions unknown",
                "the mount proves the objects existed and could be read when it was made; whether one expires soon (KVC604), was disabled since, or has a newer version the mount lags (KVC703) is known only from the vault".into(),
                &reason,
            );
        } else {
            unknown(link, "Azure unknown", &reason);
        }
    } else if p.objects.is_empty() {
        set(link, Status::Unknown, NO_OBJECTS);
    } else {
        let n = p.objects.len();
        set(
            link,
            Status::Ok,
            if n == 1 {
                latest_summary.unwrap_or_else(|| "1 object".into())
            } else {
                format!("{n} objects")
            },
        );
    }
    if !p.objects.is_empty() && cx.detail {
        link.facts.push(Fact::new(
            "objects",
            p.objects
                .iter()
                .map(|o| format!("{}/{}", o.object_type_raw, o.object_name))
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    out
}

/// Give objects computed for another pod of the same group this pod's mounted versions
/// (`objects` is what [`check`] returned: one entry per SPC object, in order).
pub(crate) fn set_mounted_versions(cx: &Ctx, objects: &mut [ChainObject]) {
    let Some(p) = cx.params.as_deref() else {
        return;
    };
    for (co, o) in objects.iter_mut().zip(&p.objects) {
        co.mounted_version = mounted_version(cx, o);
    }
}

/// Whether the pod has mounted the versions `objects` (another pod's, computed for the same
/// SPC objects in order) name.
pub(crate) fn mounts_versions_of(cx: &Ctx, objects: &[ChainObject]) -> bool {
    let Some(p) = cx.params.as_deref() else {
        return true; // no objects to mount
    };
    objects
        .iter()
        .zip(&p.objects)
        .all(|(co, o)| mounted(cx, o) == co.mounted_version.as_deref())
}

/// The version the pod has mounted, from SPCPS `status.objects` (`<type>/<objectName>`).
fn mounted<'a>(cx: &Ctx<'a>, o: &SpcObject) -> Option<&'a str> {
    let st = cx.status?;
    st.objects
        .iter()
        .find(|so| o.is_status_id(&so.id))
        .map(|so| so.version.as_str())
}

fn mounted_version(cx: &Ctx, o: &SpcObject) -> Option<VersionText> {
    mounted(cx, o).map(VersionText::from)
}

/// KVC604's fix: a later expiry on the mounted version, whose date no source shows (a quoted
/// variable: `<new date>` pasted into a shell is a redirection from a file named `new`). A
/// certificate's expiry is the certificate's own and no attribute extends it: a new version
/// under its own policy renews it.
fn renew(t: ObjectType, vault: &str, name: &str, version: &str) -> String {
    match t {
        ObjectType::Cert => format!(
            "az keyvault certificate create --vault-name {vault} -n {name} -p \"$(az keyvault certificate show --vault-name {vault} -n {name} --query policy -o json)\"  # a new version under the certificate's own policy"
        ),
        _ => format!(
            "az keyvault {} set-attributes --vault-name {vault} -n {name} --version {version} --expires \"$NEW_EXPIRY\"  # NEW_EXPIRY=2027-12-31T00:00:00Z, say; or store a new version",
            cli_kind(t)
        ),
    }
}

/// KVC602's fix: enable `version` of object `name`. A secret that backs a certificate is
/// managed by it: Key Vault refuses operations on the secret itself (403
/// `SecretManagedByKeyVault`, "Perform the operation on the corresponding certificate"), so
/// the certificate's version, which has the same id, is enabled, and its key and secret with
/// it (audit HHH2; docs/scenarios.md: `disable-object` disables a certificate's secret and key
/// with it). A key is the certificate's when the vault lists a certificate of its name (a
/// certificate's key and secret take its name).
fn enable(
    cx: &Ctx,
    vault: &str,
    t: ObjectType,
    obj: &VaultObject,
    name: &str,
    version: &str,
) -> String {
    let listed = cx.ix.vault(vault).and_then(|v| v.object_names.as_deref());
    let certificate =
        listed.is_some_and(|l| l.iter().any(|(ty, n)| *ty == ObjectType::Cert && n == name));
    let managed = match t {
        ObjectType::Secret => obj.backs_certificate || certificate,
        ObjectType::Key => certificate,
        ObjectType::Cert => false,
    };
    if managed {
        return format!(
            "az keyvault certificate set-attributes --vault-name {vault} -n {name} --version {version} --enabled true  # {} {name} backs certificate {name}: Key Vault refuses operations on it (managed by the certificate), and enabling the certificate's version enables its key and secret",
            t.as_str()
        );
    }
    format!(
        "az keyvault {} set-attributes --vault-name {vault} -n {name} --version {version} --enabled true",
        cli_kind(t)
    )
}

fn cli_kind(t: ObjectType) -> &'static str {
    match t {
        ObjectType::Secret => "secret",
        ObjectType::Key => "key",
        ObjectType::Cert => "certificate",
    }
}

/// The ids of every version of object `name` (keys list theirs as `kid`).
fn list_versions(cx: &Ctx, t: ObjectType, name: &str) -> String {
    format!(
        "az keyvault {} list-versions --vault-name {} -n {name} --query \"[].{}\" -o tsv",
        cli_kind(t),
        cx.keyvault_arg(),
        if t == ObjectType::Key { "kid" } else { "id" }
    )
}

fn show(cx: &Ctx, t: ObjectType, name: &str, version: Option<&str>) -> (String, String) {
    let (kind, kv) = (cli_kind(t), cx.keyvault_arg());
    let confirm = match version {
        // A version's attributes from the listing, which returns ids and attributes only
        // (FACTS §9): `show` is the GET Key Vault refuses for a disabled version (FACTS §5),
        // so it would print a 403 and never `enabled: false`. Keys list theirs as `kid`.
        Some(v) => format!(
            "az keyvault {kind} list-versions --vault-name {kv} -n {name} --query \"[?ends_with({}, '/{v}')].attributes\"",
            if t == ObjectType::Key { "kid" } else { "id" }
        ),
        None => format!("az keyvault {kind} show --vault-name {kv} -n {name} --query attributes"),
    };
    (confirm, String::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `az keyvault certificate set-attributes` has no `--expires`: a certificate is renewed by
    /// a new version under its own policy.
    #[test]
    fn an_expiring_certificate_is_renewed_not_given_a_later_date() {
        let fix = renew(ObjectType::Cert, "kv", "tls", "v1");
        assert!(
            fix.starts_with("az keyvault certificate create --vault-name kv -n tls -p \"$(az keyvault certificate show --vault-name kv -n tls --query policy -o json)\""),
            "{fix}"
        );
        assert!(!fix.contains("--expires"), "{fix}");
        let key = renew(ObjectType::Key, "kv", "k", "v1");
        assert!(key.starts_with("az keyvault key set-attributes --vault-name kv -n k --version v1 --expires \"$NEW_EXPIRY\""), "{key}");
    }
}
