//! What an event message names: the volume, what an AADSTS message says was presented, the
//! tenant, the Secret, the object and the token audience (FACTS §3 and §5 message shapes).

use super::after;

/// The volume a kubelet message names (`for volume "<name>"`), if any.
pub fn volume_of(message: &str) -> Option<&str> {
    let rest = after(message, phrase!("for volume \""))?;
    Some(&rest[..rest.find('"')?])
}

/// The pod volumes a kubelet follow-up lists as not mounted (`Unable to attach or mount
/// volumes: unmounted volumes=[a b], unattached volumes=[…]: timed out waiting for the
/// condition`, FACTS §3); empty for any other message.
pub fn unmounted_volumes(message: &str) -> Vec<&str> {
    if !super::is_followup(message) {
        return Vec::new();
    }
    message
        .split_once("unmounted volumes=[")
        .and_then(|(_, rest)| rest.split_once(']'))
        .map_or_else(Vec::new, |(list, _)| list.split_whitespace().collect())
}

/// The `Assertion Subject: '<...>'` of an AADSTS message, if any.
pub fn assertion(message: &str, what: &str) -> Option<String> {
    let key = format!("Assertion {what}: '");
    let rest = &message[message.find(&key)? + key.len()..];
    Some(rest[..rest.find('\'')?].to_string())
}

/// What a token exchange presented, as AADSTS70021 prints it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Presented {
    pub issuer: String,
    pub subject: String,
    pub audience: String,
}

/// The issuer, subject and audience an AADSTS70021 message says were presented.
pub fn presented(message: &str) -> Option<Presented> {
    Some(Presented {
        issuer: assertion(message, "Issuer")?,
        subject: assertion(message, "Subject")?,
        audience: assertion(message, "Audience")?,
    })
}

/// The first Entra error code a message carries (`AADSTS70021`, `AADSTS700211`, …).
pub fn aadsts(message: &str) -> Option<&str> {
    let at = message.find("AADSTS")?;
    let digits = message[at + 6..]
        .bytes()
        .take_while(u8::is_ascii_digit)
        .count();
    (digits > 0).then(|| &message[at..at + 6 + digits])
}

/// The `'<tenant>'` of `… was not found in the directory '<tenant>'` (AADSTS700016).
pub fn directory(message: &str) -> Option<&str> {
    let key = "was not found in the directory '";
    let rest = &message[message.find(key)? + key.len()..];
    Some(&rest[..rest.find('\'')?])
}

/// The tenant of the first `https://sts.windows.net/<tenant>/` after `after` (AKV10032).
pub fn sts_tenant<'m>(message: &'m str, after: &str) -> Option<&'m str> {
    const STS: &str = "https://sts.windows.net/";
    let rest = &message[message.find(after)? + after.len()..];
    let rest = rest.strip_prefix(STS)?;
    Some(&rest[..rest.find('/')?])
}

/// The Secret a driver FailedToCreateSecret names (`failed to get data in spc <ns>/<spc> for
/// secret <name>, err: …`, FACTS §3); `None` for the shapes that name none (`failed to get
/// mounted files, err: …`), which concern every Secret of the SPC. A refused write that names
/// its Secret (`failed to create Kubernetes secret <name>: secrets is forbidden …`) is that
/// Secret's only, not every Secret's (audit UU4); `… secret: …` names none, and neither does
/// the rotation reconciler's `failed validation for secret object in spc <ns>/<spc>, err: …`
/// (an entry without name, type or data), whose "object" is no Secret's name (audit XB-facts).
pub fn secret_name(message: &str) -> Option<&str> {
    let rest = after(message, phrase!(" for secret "))
        .filter(|rest| !rest.starts_with("object in spc "))
        .or_else(|| after(message, phrase!("failed to create Kubernetes secret ")))?;
    let name = rest.split([',', ' ', ':']).next()?;
    (!name.is_empty()).then_some(name)
}

/// The object name of the provider's per-object wrapper (`…, objectName:<name>, …`).
pub fn object_name(message: &str) -> Option<&str> {
    let at = message.find("objectName:")? + "objectName:".len();
    let name = message[at..].split(',').next()?.trim();
    (!name.is_empty()).then_some(name)
}

/// The object version of the provider's per-object wrapper (`…, objectVersion:<v>: <cause>`):
/// `None` when empty (the latest). A version is hex (FACTS §5), so it ends at the `:`.
pub fn object_version(message: &str) -> Option<&str> {
    let rest = after(message, phrase!(", objectVersion:"))?;
    let v = &rest[..rest.find(':').unwrap_or(rest.len())];
    (!v.is_empty() && v.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(v)
}

/// The object type of the provider's per-object wrapper (`failed to get objectType:<t>, …`).
pub fn object_type(message: &str) -> Option<crate::snapshot::ObjectType> {
    let rest = after(message, phrase!("failed to get objectType:"))?;
    crate::snapshot::ObjectType::parse(rest.split(',').next()?)
}

/// The permission model a Key Vault 403 was refused in (FACTS §5): `Some(true)` for Azure
/// RBAC (`ForbiddenByRbac`, "Caller is not authorized to perform action", reason
/// `DeniedWithNoValidRBAC`), `Some(false)` for access policies (`AccessDenied`, "… does not
/// have secrets get permission on key vault '…'"), `None` when the message says neither.
pub fn denied_by_rbac(message: &str) -> Option<bool> {
    let has = |p: &str| message.contains(p);
    if has("ForbiddenByRbac")
        || has("Caller is not authorized to perform action")
        || has("DeniedWithNoValidRBAC")
    {
        Some(true)
    } else if has("AccessDenied") || (has(" does not have ") && has(" permission on key vault '")) {
        Some(false)
    } else {
        None
    }
}

/// The deny assignment a Key Vault RBAC 403 names (FACTS §5: the body's `DenyAssignmentId:`
/// field, `null` when no deny assignment refused): its resource id, only when it is one (path
/// characters only, so it can be pasted into a command).
pub fn deny_assignment(message: &str) -> Option<&str> {
    let rest = after(message, phrase!("DenyAssignmentId: "))?;
    let end = (rest.find(|c: char| !(c.is_ascii_alphanumeric() || "/-._".contains(c))))
        .unwrap_or(rest.len());
    let id = &rest[..end];
    (id.starts_with('/') && id.to_ascii_lowercase().contains("/denyassignments/")).then_some(id)
}

/// The caller a Key Vault 403 names (FACTS §5: the RBAC deny's `Caller: appid=…;oid=…;iss=…`,
/// the access-policy deny's `'appid=…;oid=…;iss=…' does not have …`): its application id and
/// its object id, each only when it is a GUID (the message's own words, never a guess).
pub fn caller(message: &str) -> (Option<&str>, Option<&str>) {
    // A GUID runs of hex digits and dashes; what follows it (`;`, `'`, `\r\n`) ends it.
    let id = |rest: &str| -> (usize, bool) {
        let end = (rest.find(|c: char| !(c.is_ascii_hexdigit() || c == '-'))).unwrap_or(rest.len());
        (end, crate::snapshot::is_guid(&rest[..end]))
    };
    let Some(rest) = after(message, phrase!("appid=")) else {
        return (None, None);
    };
    let (end, app_ok) = id(rest);
    let appid = app_ok.then(|| &rest[..end]);
    let oid = rest[end..].strip_prefix(";oid=").and_then(|r| {
        let (end, ok) = id(r);
        ok.then(|| &r[..end])
    });
    (appid, oid)
}

/// The audience of "token for audience <audience> not found" (KVC105).
pub fn token_audience(message: &str) -> Option<&str> {
    let key = "token for audience ";
    let rest = &message[message.find(key)? + key.len()..];
    rest.split(' ').next().filter(|a| !a.is_empty())
}

/// The driver name of the kubelet's `driver name <name> not found in the list of registered CSI
/// drivers` (FACTS §3): the name the volume asks for, whatever it is.
pub fn unregistered_driver(message: &str) -> Option<&str> {
    let (before, _) = message.split_once(" not found in the list of registered CSI drivers")?;
    let name = before.rsplit_once("driver name ")?.1;
    (!name.is_empty() && !name.contains(' ')).then_some(name)
}
