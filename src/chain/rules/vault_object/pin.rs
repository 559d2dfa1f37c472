//! KVC603: an SPC object pinned to one version with objectVersion, which rotation never
//! moves past (FACTS §5).

use super::{cli_kind, remedy};
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::Link;
use crate::snapshot::ObjectType;
use crate::spc::SpcObject;

/// Takes back the KVC603 of the pin on `name` to `version` when a refused mount (the
/// provider's per-object wrapper naming that version, the vault unread) is KVC601's evidence
/// that the version is not there: one cause, whose fix is the same objectVersion edit (audit
/// XC-left).
pub(crate) fn drop_pin(link: &mut Link, name: &str, version: &str) {
    let marker = format!("] {name} pins objectVersion {version}:");
    link.findings
        .retain(|f| f.code != Code::KVC603 || !f.message.contains(&marker));
}

pub(super) fn pinned(cx: &Ctx, link: &mut Link, o: &SpcObject, version: &str) {
    let t = o.object_type.unwrap_or(ObjectType::Secret);
    let confirm = format!(
        "az keyvault {} list-versions --vault-name {} -n {} -o table",
        cli_kind(t),
        cx.keyvault_arg(),
        o.object_name
    );
    let pin = format!("objects[{}].objectVersion: {version}", o.index);
    // Unpinned, the provider fetches the latest version (FACTS §5); a disabled one answers
    // 403, so unpinning a mount that works would break it. With objectVersionHistory the
    // newest enabled version is fetched instead, and the disabled one is skipped.
    let history = o.object_version_history.unwrap_or(0) > 1;
    let disabled_latest = cx
        .params
        .as_deref()
        .and_then(|p| p.keyvault_name.as_deref())
        .and_then(|vault| cx.ix.object(vault, t, &o.object_name))
        .and_then(|found| found.state.known()?.as_ref()?.latest())
        .filter(|latest| {
            // Version ids compare without case (`VaultObject::version`).
            !latest.enabled && !latest.version.eq_ignore_ascii_case(version) && !history
        });
    let f = match disabled_latest {
        Some(latest) => cx.finding(
            Code::KVC603,
            cx.spc_resource(),
            format!(
                "objects[{}] {} pins objectVersion {version}: rotation never picks up a newer version; the latest version {} is disabled, so unpinning now would make the mount fail (Key Vault refuses a disabled version)",
                o.index, o.object_name, latest.version
            ),
            vec![pin, format!("latest version {}: enabled: false", latest.version)],
            confirm,
            format!(
                "# keep objects[{}].objectVersion while the latest version is disabled; unpin (objectVersion: \"\") once a newer, enabled version exists",
                o.index
            ),
        ),
        None => cx.finding(
            Code::KVC603,
            cx.spc_resource(),
            format!(
                "objects[{}] {} pins objectVersion {version}: rotation never picks up a newer version",
                o.index, o.object_name
            ),
            vec![pin],
            confirm,
            remedy::edit_spc(
                cx,
                &format!("objects[{}].objectVersion: \"\" (latest)", o.index),
            ),
        ),
    };
    link.findings.push(f);
}

/// The objectVersion edit of `objects[index]`, whose pinned version the vault lacks, when the
/// vault's versions of the object were read: the enabled ones it has, named, the newest first,
/// and "" (the latest) when the latest is one of them; a disabled version is refused as the
/// missing one is (FACTS §5), "" too when the latest is disabled. So the edit needs no look-up
/// of its own (audit XD-paste).
pub(super) fn unpin_to(index: usize, versions: &[crate::snapshot::ObjectVersion]) -> String {
    const NAMED: usize = 3;
    let mut newest_first: Vec<_> = versions.iter().collect();
    // Listed newest first by the sources; the creation time, where read, decides (a total
    // order: the sort may panic on one that is not; a version of unread time after the rest,
    // in the sources' order, the sort being stable).
    newest_first.sort_by_key(|v| std::cmp::Reverse(v.created));
    let enabled: Vec<&str> = (newest_first.iter())
        .filter(|v| v.enabled)
        .map(|v| v.version.as_str())
        .collect();
    let at = format!("objects[{index}].objectVersion");
    if enabled.is_empty() {
        return format!("{at}: a version once one is enabled (none of it is, so \"\" fails too)");
    }
    let more = enabled.len().saturating_sub(NAMED);
    let named = format!(
        "{}{}",
        enabled[..enabled.len().min(NAMED)].join(", "),
        if more > 0 {
            format!(" and {more} older")
        } else {
            String::new()
        }
    );
    match newest_first.first().filter(|v| !v.enabled) {
        None => {
            format!("{at}: \"\" (the latest) or an enabled version it has: {named} (newest first)")
        }
        Some(latest) => format!(
            "{at}: an enabled version it has: {named} (newest first; the latest, {}, is disabled, so \"\" fails too)",
            latest.version
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::ObjectVersion;

    fn v(version: &str, created: Option<i64>) -> ObjectVersion {
        ObjectVersion {
            version: version.into(),
            enabled: true,
            created: created.map(|s| jiff::Timestamp::from_second(s).unwrap()),
            ..ObjectVersion::default()
        }
    }

    /// Versions of read and unread creation times mixed: the read ones newest first, the rest
    /// after them in the order listed, and no panic (an order that called any pair with an
    /// unread time equal is no total order, which the standard sort may refuse by panicking).
    #[test]
    fn versions_of_unread_time_follow_the_dated_ones() {
        let mut versions = vec![v("u1", None), v("old", Some(100)), v("u2", None)];
        for i in 0..40 {
            versions.push(v(&format!("d{i}"), Some(200 + (i * 7919) % 97)));
            versions.push(v(&format!("n{i}"), None));
        }
        versions.push(v("new", Some(10_000)));
        let edit = unpin_to(0, &versions);
        assert!(edit.contains(": new, d"), "{edit}");
    }
}
