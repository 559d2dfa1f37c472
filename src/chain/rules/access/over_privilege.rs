//! KVC504: an identity that only reads for the mount but may also write or delete in the
//! vault. The fix takes the writes away and keeps (or grants) only the reads the
//! SecretProviderClass makes: role assignments deleted on an RBAC vault, the access policy
//! replaced on an access-policy vault.

use super::{WRITES, above, covers, granted_actions, grants, needed_action};
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::Link;
use crate::chain::rules::remedy;
use crate::snapshot::{AccessPolicyObs, ObjectType, RoleAssignmentObs, VaultObs};

/// A role assignment another Access finding's fix creates: that finding's code, the role and
/// the scope.
pub(super) type Planned = (Code, &'static str, String);

/// `planned`: the role assignments the link's KVC501 and KVC502 fixes create. A read they give
/// is not granted again (one symptom, one cause: the two fixes pasted together grant once);
/// the deletes then wait for it, so that pasted first they take no read away.
pub(super) fn over_privilege(
    cx: &Ctx,
    link: &mut Link,
    vault: &VaultObs,
    assignments: &[&RoleAssignmentObs],
    policies: &[&AccessPolicyObs],
    told: &[&RoleAssignmentObs],
    planned: &[Planned],
) {
    let identity = cx.identity.map_or("", |i| i.name.as_str());
    let mut evidence = Vec::new();
    // The assignments to remove, named as the snapshot shows them.
    let mut deletes = Vec::new();
    // The broad roles assigned above the vault (its resource group, subscription, a management
    // group): RBAC inherits them to every vault there (FACTS §8), so deleting one takes it from
    // each of them, reads of other vaults' mounts included (audit TTT-azure).
    let mut wider: Vec<&str> = Vec::new();
    if vault.rbac {
        for r in assignments
            .iter()
            .filter(|r| !told.iter().any(|t| std::ptr::eq(*t, **r)))
        {
            if writes(r) {
                evidence.push(granted_actions(r));
                widen(&mut wider, vault, r);
                deletes.push(delete(r));
            }
        }
    } else {
        for a in policies {
            let writes = |perms: &[String]| {
                perms.iter().any(|p| {
                    matches!(
                        p.to_ascii_lowercase().as_str(),
                        "set" | "delete" | "purge" | "all" | "create" | "update" | "import"
                    )
                })
            };
            if writes(&a.secrets) || writes(&a.keys) || writes(&a.certificates) {
                evidence.push(format!(
                    "access policy: secrets {:?}, keys {:?}, certificates {:?}",
                    a.secrets, a.keys, a.certificates
                ));
            }
        }
    }
    if evidence.is_empty() {
        return;
    }
    let named = others_named(cx, vault, &wider);
    let wide = match wider.as_slice() {
        [] => String::new(),
        scopes => format!(
            "; the broad role is assigned at {}, above the vault, so it reaches every vault there{named} and deleting it takes it from each: the identity's mounts from other vaults under it need their own read role first",
            scopes.join(", ")
        ),
    };
    let mut f = cx.remedied(
        Code::KVC504,
        format!("KeyVault/{}", vault.name),
        format!(
            "{identity} only reads Key Vault {} for the mount but may also write or delete: a leaked pod token can change the vault{wide}",
            vault.name
        ),
        evidence,
    );
    if !vault.rbac {
        // An access-policy vault ignores role assignments (FACTS §8): the write permissions
        // sit in the principal's access policy, which is replaced by one holding only the
        // reads the SecretProviderClass makes (get, and list with objectVersionHistory).
        // azure-cli's `set_policy` replaces the permissions of each type it is given and keeps
        // those of a type it is not (`keys = policy.permissions.keys if key_permissions is
        // None else key_permissions`), and its `--*-permissions` flags take zero or more
        // values (nargs='*'), an empty list replacing the type with none. So one set-policy
        // naming every type (the types the mount does not read with no permissions) replaces
        // the whole policy in one vault write. Deleting the policy first, as this fix did
        // (audit GGG-A1), left a window without the reads in which a mount failed once (audit
        // HHH).
        let principal = cx.identity.map_or("", |i| i.principal_id.as_str());
        let needed = remedy::types_needed(cx, None);
        let flags: Vec<String> = [ObjectType::Secret, ObjectType::Key, ObjectType::Cert]
            .into_iter()
            .map(|t| {
                if needed.contains(&t) {
                    read_only_policy_flag(cx, t)
                } else {
                    remedy::permissions_flag(t, &[]).trim_end().to_string()
                }
            })
            .chain(std::iter::once("--storage-permissions".to_string()))
            .collect();
        f.confirm = remedy::policy_confirm(&vault.name, principal).into();
        f.fix = format!(
            "az keyvault set-policy -n {v} --object-id {principal} {}  # every permission type is given (an empty flag: none), so the principal's access policy is replaced in one write by one with only the reads the mount makes",
            flags.join(" "),
            v = vault.name,
        )
        .into();
        link.findings.push(f);
        return;
    }
    if !deletes.is_empty() {
        f.fix = grant_then_delete(cx, vault, assignments, &deletes, &wider, &named, planned).into();
    }
    link.findings.push(f);
}

/// What a mount cannot tell when the vault's role assignments could not be read: it proves
/// the identity reads the objects, not that it reads only (the link's "not checked").
pub(super) fn unchecked() -> String {
    "the mount proves the identity reads the objects; whether a role of it may also write or delete in the vault (KVC504) is known only from the vault's role assignments".to_string()
}

/// A role KVC502 names as the wrong grant (`wrong`) that may also write or delete — a custom
/// role whose notDataActions take getSecret back from `secrets/*`, Certificates Officer for a
/// secret — is one assignment with one fix (audit VVV-honest): a grant of the read beside it
/// would leave the writes, and KVC504 would say so only once that fix was pasted. KVC502's fix
/// grants the reads the identity's other roles do not give, then deletes each such writer.
/// `None` when no wrong role writes (Key Vault Reader for a secret: nothing to take back).
pub(super) fn replace_writers(
    cx: &Ctx,
    vault: &VaultObs,
    assignments: &[&RoleAssignmentObs],
    wrong: &[&RoleAssignmentObs],
) -> Option<String> {
    let writers: Vec<&RoleAssignmentObs> = (wrong.iter().copied()).filter(|r| writes(r)).collect();
    if !vault.rbac || writers.is_empty() {
        return None;
    }
    let mut wider = Vec::new();
    (writers.iter()).for_each(|r| widen(&mut wider, vault, r));
    let deletes: Vec<String> = writers.iter().map(|r| delete(r)).collect();
    let named = others_named(cx, vault, &wider);
    Some(grant_then_delete(
        cx,
        vault,
        assignments,
        &deletes,
        &wider,
        &named,
        &[],
    ))
}

/// The roles KVC502 names as held, with those that may also write or delete said by name when
/// its fix replaces them (`replaced`): beside a role that writes nothing, "(which may also
/// write…)" after the list named the last one, whichever wrote.
pub(super) fn held_roles(named: &[&RoleAssignmentObs], replaced: bool) -> String {
    let roles: Vec<&str> = named.iter().map(|r| r.role_name.as_str()).collect();
    let writers: Vec<&str> = (named.iter())
        .filter(|r| replaced && writes(r))
        .map(|r| r.role_name.as_str())
        .collect();
    let also = match (roles.as_slice(), writers.as_slice()) {
        (_, []) => String::new(),
        ([_], _) => " (which may also write or delete in the vault: the fix replaces it)".into(),
        (_, [one]) => {
            format!(" ({one} may also write or delete in the vault: the fix replaces it)")
        }
        (_, many) => format!(
            " ({} may also write or delete in the vault: the fix replaces them)",
            many.join(", ")
        ),
    };
    format!("{}{also}", roles.join(", "))
}

/// The role may write or delete in the vault.
fn writes(r: &RoleAssignmentObs) -> bool {
    WRITES.iter().any(|w| grants(r, w))
}

fn delete(r: &RoleAssignmentObs) -> String {
    format!(
        "az role assignment delete --assignee {} --role \"{}\" --scope {}",
        r.principal_id, r.role_name, r.scope
    )
}

/// Notes `r`'s scope when it lies above the vault (its resource group, subscription, a
/// management group): RBAC inherits it to every vault there (FACTS §8), so deleting it takes
/// it from each of them.
fn widen<'a>(wider: &mut Vec<&'a str>, vault: &VaultObs, r: &'a RoleAssignmentObs) {
    let own = (r.scope.trim_end_matches('/'))
        .eq_ignore_ascii_case(vault.resource_id.trim_end_matches('/'));
    if !own && above(&r.scope, vault) && !wider.contains(&r.scope.as_str()) {
        wider.push(&r.scope);
    }
}

/// The other vaults the snapshot lists under those scopes, by name (audit UUU-azure: the
/// note said "other vaults" without naming one). Looked up only for a role assigned above
/// the vault, among the vaults read (a few per subscription), never the pods.
fn others_named(cx: &Ctx, vault: &VaultObs, wider: &[&str]) -> String {
    if wider.is_empty() {
        return String::new();
    }
    let others: Vec<&str> = (cx.azure().vaults.items.iter())
        .filter(|v| !v.name.eq_ignore_ascii_case(&vault.name) && !v.resource_id.is_empty())
        .filter(|v| wider.iter().any(|s| above(s, v)))
        .map(|v| v.name.as_str())
        .collect();
    match others.as_slice() {
        [] => String::new(),
        names => format!(" (Key Vault {})", names.join(", ")),
    }
}

/// Grant only the reads the assignments left after the deletes do not give (never a role the
/// identity already holds, nor one another finding's fix creates: `planned`), then the
/// deletes, which wait for the planned roles they rely on.
fn grant_then_delete(
    cx: &Ctx,
    vault: &VaultObs,
    assignments: &[&RoleAssignmentObs],
    deletes: &[String],
    wider: &[&str],
    named: &str,
    planned: &[Planned],
) -> String {
    let kept: Vec<&&RoleAssignmentObs> = assignments.iter().filter(|r| !writes(r)).collect();
    let objects: Vec<(ObjectType, &str)> = cx
        .params
        .as_deref()
        .map(|p| {
            p.objects
                .iter()
                .filter_map(|o| Some((o.object_type?, o.object_name.as_str())))
                .collect()
        })
        .unwrap_or_default();
    let read = |t: ObjectType, name: &str| {
        kept.iter()
            .any(|r| grants(r, needed_action(t)) && covers(&r.scope, vault, t, name))
    };
    // Certificate User reads what Secrets User reads, and keys and certificates (FACTS §8).
    let reads = |role: &str, t: ObjectType| {
        role == remedy::role_for(ObjectType::Cert) || role == remedy::role_for(t)
    };
    let mut relied: Vec<&Planned> = Vec::new();
    let mut roles: Vec<&str> = if objects.is_empty() {
        remedy::roles_needed(cx, None)
    } else {
        objects
            .into_iter()
            .filter(|(t, name)| !read(*t, name))
            .filter(|(t, name)| {
                let by = (planned.iter())
                    .find(|(_, role, scope)| reads(role, *t) && covers(scope, vault, *t, name));
                if let Some(p) = by.filter(|p| !relied.contains(p)) {
                    relied.push(p);
                }
                by.is_none()
            })
            .map(|(t, _)| remedy::role_for(t))
            .collect()
    };
    remedy::fewest_roles(&mut roles);
    let grant = remedy::grant_roles(cx, &roles);
    let note = match wider {
        [] => String::new(),
        scopes => format!(
            "  # {} covers every vault under it: first grant the identity's reads on its other vaults there{named}",
            scopes.join(", ")
        ),
    };
    let principal = cx.identity.map_or("", |i| i.principal_id.as_str());
    let waits: Vec<String> = (relied.iter())
        .map(|(code, role, scope)| {
            format!(
                "{{ az role assignment list --assignee {principal} --role \"{role}\" --scope {scope} --query \"[0].id\" -o tsv | grep -q . || {{ echo \"{role} at {scope} is not assigned yet: paste the fix of {code} first, as until then the role deleted here gives the read\" >&2; false; }}; }}"
            )
        })
        .collect();
    let steps: Vec<String> = (!grant.is_empty())
        .then_some(grant)
        .into_iter()
        .chain(waits)
        .chain(std::iter::once(deletes.join(" && ")))
        .collect();
    format!("{}{note}", steps.join(" && "))
}

/// `--<type>-permissions get` for `set-policy`, with `list` when the SecretProviderClass reads
/// an object of type `t` with objectVersionHistory (the provider lists its versions, FACTS §5):
/// the read-only permissions of one type, none of those held kept.
fn read_only_policy_flag(cx: &Ctx, t: ObjectType) -> String {
    let list = remedy::lists_versions(cx, t);
    remedy::permissions_flag(t, if list { &["get", "list"] } else { &["get"] })
}
