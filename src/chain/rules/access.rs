//! Access link: does the identity's principal hold a grant, in the permission model the vault
//! enforces, for the data action each object type needs? Decided from the roles' dataActions,
//! never from role names (FACTS §8). Also over-privilege and the vault firewall.

use super::remedy;
use super::{set, unknown};
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::{Fact, Link, Status};
use crate::snapshot::{Gaps, ObjectType, Observed, RoleAssignmentObs};

mod deleted_principal;
mod firewall;
mod granted;
mod held;
mod history_list;
mod on_client_id;
mod one_fix;
mod over_privilege;
mod scope;
mod since;
mod undetermined;
use firewall::firewall;
pub(crate) use firewall::network_admits;
use granted::granted_actions;
pub(crate) use granted::{chain_identity, chain_vault, may_read, reads_granted};
pub(crate) use held::held_on_vault;
use history_list::{history_unlisted, history_unlisted_rbac};
use on_client_id::{on_client_id, policy_on_client_id};
use one_fix::{FAILS, Plan, one_per_fix};
use over_privilege::{Planned, over_privilege, unchecked};
pub(crate) use scope::under;

mod absent;
use scope::{above, beside, covers, maybe_above, not_above, touches};
pub(crate) use since::granted_after;
use undetermined::undetermined;

/// The data action the provider's read of each object type needs.
pub(crate) fn needed_action(t: ObjectType) -> &'static str {
    match t {
        ObjectType::Secret => "Microsoft.KeyVault/vaults/secrets/getSecret/action",
        ObjectType::Key => "Microsoft.KeyVault/vaults/keys/read",
        ObjectType::Cert => "Microsoft.KeyVault/vaults/certificates/read",
    }
}

/// Write actions whose presence makes a read identity over-privileged.
const WRITES: [&str; 6] = [
    "Microsoft.KeyVault/vaults/secrets/setSecret/action",
    "Microsoft.KeyVault/vaults/secrets/delete",
    "Microsoft.KeyVault/vaults/keys/delete",
    "Microsoft.KeyVault/vaults/certificates/delete",
    "Microsoft.KeyVault/vaults/certificates/write",
    "Microsoft.KeyVault/vaults/keys/write",
];

fn grants(r: &RoleAssignmentObs, action: &str) -> bool {
    r.grants(action)
}

fn policy_allows(perms: &[String]) -> bool {
    perms
        .iter()
        .any(|p| p.eq_ignore_ascii_case("get") || p.eq_ignore_ascii_case("all"))
}

/// Why `vault` (named as the SPC wrote it) could not be observed: a failure for every vault
/// (`gaps.all`), or for that one (keyed by vault name; Key Vault names ignore case).
pub(crate) fn vault_gap<'g>(gaps: &'g Gaps, vault: &str) -> Option<&'g str> {
    gaps.reason_for(vault).or_else(|| {
        gaps.namespaces
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(vault))
            .map(|(_, reason)| reason.as_str())
    })
}

/// What Access and Object read when the provider would refuse the vault name before any
/// request. A name that is still a template placeholder (KVC306, a warning while nothing is
/// seen failing on it) is not validated and breaks nothing: the links were not checked, and
/// "blocked" would name a break upstream there is not (README; audit TT9). Any other such
/// name is KVC302, an error on Identity: a break, which blocks them. A real break upstream
/// still renames the placeholder's summary to itself (`rules::effects_of`).
pub(crate) fn unreached_vault(name: &str) -> &'static str {
    if super::params::is_placeholder(name) {
        VAULT_UNRENDERED
    } else {
        "blocked: Identity"
    }
}

/// The summary of the link when no identity (so no principal) was found for the chain: with
/// KVC301 on the Identity link it waits on that (`request_order::wait_for_principal`).
pub(crate) const NO_PRINCIPAL: &str = "no principal";

/// The summary of the link when the SPC's objects cannot be read: with KVC705 on the Mount
/// link it waits on that (`parse_first::wait_for_objects`).
pub(crate) const OBJECTS_UNKNOWN: &str = "objects unknown";

/// The summary of a link not checked because the vault name is an unrendered placeholder.
pub(crate) const VAULT_UNRENDERED: &str = "vault unrendered";

pub(crate) fn check(cx: &mut Ctx, link: &mut Link) {
    let Some(p) = cx.params.clone() else {
        super::no_spc(cx, link);
        return;
    };
    let vault_name = p.keyvault_name.clone().unwrap_or_default();
    if crate::spc::invalid_vault_name(&vault_name).is_some() {
        // The provider refuses the name before it asks for a token (KVC302 or KVC306 on the
        // Identity link says why): no vault is reached, so there is no grant to judge.
        set(link, Status::Pending, unreached_vault(&vault_name));
        return;
    }
    match cx.ix.vault(&vault_name) {
        Some(v) => cx.vault = Some(v),
        None => {
            if cx.mounted() {
                set(link, Status::Ok, super::PROVEN_BY_MOUNT);
            } else {
                // No gap: the vaults were read for that name and none has it (audit XA-more).
                let reason = vault_gap(&cx.azure().vaults.gaps, &vault_name).map_or_else(
                    || crate::snapshot::no_vault_named(&vault_name),
                    str::to_string,
                );
                unknown(link, "vault unknown", &reason);
                if absent::said_before_any_event(cx, &vault_name) {
                    link.findings.push(absent::no_such_vault(cx, &vault_name));
                }
            }
            return;
        }
    }
    let Some(vault) = cx.vault else { return };
    super::note(cx, link, || {
        Fact::new(
            "permission model",
            if vault.rbac {
                "Azure RBAC"
            } else {
                "access policies"
            },
        )
    });
    firewall(cx, link, vault);
    let Some(identity) = cx.identity else {
        if cx.mounted() {
            set(link, Status::Ok, super::PROVEN_BY_MOUNT);
        } else {
            unknown(
                link,
                NO_PRINCIPAL,
                "the identity's principalId is not known",
            );
        }
        return;
    };
    let principal = identity.principal_id.as_str();
    super::note(cx, link, || Fact::new("principalId", principal));
    let assignments: Vec<&RoleAssignmentObs> = cx
        .ix
        .assignments(principal)
        .filter(|r| touches(&r.scope, vault))
        .collect();
    // Only this vault's listing matters: another vault's failure leaves this verdict known.
    let assignments_known = match vault_gap(&cx.azure().role_assignments.gaps, &vault_name) {
        Some(reason) => {
            if vault.rbac {
                // Mounted, the read is proven, but a role that also writes (KVC504) shows only
                // in the assignments: unknown, not ok (audit VVV-honest).
                match cx.mounted() {
                    true => super::unknown_check(link, "roles unknown", unchecked(), reason),
                    false => unknown(link, "roles unknown", reason),
                }
                return;
            }
            false
        }
        None => true,
    };
    let policies: Vec<_> = vault
        .access_policies
        .iter()
        .filter(|a| a.object_id.eq_ignore_ascii_case(principal))
        .collect();
    if !p.problems.is_empty() || p.objects.is_empty() {
        // The permissions needed depend on the objects' types (FACTS §8): not known here.
        over_privilege(cx, link, vault, &assignments, &policies, &[], &[]);
        unknown(
            link,
            OBJECTS_UNKNOWN,
            "the SecretProviderClass objects cannot be read, so the permissions they need are unknown",
        );
        return;
    }
    // An object the vault holds under another type than the SPC's objectType is the Object
    // link's cause (KVC601: the objectType is wrong), and a 403 or 404 for the type asked is
    // its evidence (one typo, one error). It is judged as the type the SPC asks for when that
    // read is granted (the SPC's read is allowed; only the object is missing, audit WW3), else
    // as the type it exists under, the read the corrected SPC will need: never blamed for a
    // grant the read it makes does not lack.
    let objects: Vec<(ObjectType, &str)> = p
        .objects
        .iter()
        .filter_map(|o| {
            let t = o.object_type?;
            let name = o.object_name.as_str();
            let judged = match super::vault_object::under_other_type(cx, &vault_name, t, name) {
                Some(other)
                    if granted::may_read_from(cx, vault, principal, t, name) != Some(true) =>
                {
                    other
                }
                _ => t,
            };
            Some((judged, name))
        })
        .collect();
    let objects = &objects;
    let mut ok_summary = String::new();
    // Assignments a KVC502 already names as the wrong grant: told once, there.
    let mut wrong: Vec<&RoleAssignmentObs> = Vec::new();
    // Why a read no grant of the principal's own allows may still be granted (a group's
    // grant, a role whose definition is unreadable): unknown, not refused.
    let mut unsure: Vec<String> = Vec::new();
    let first = link.findings.len();
    // What each KVC501 and KVC502 says and grants, as data (`one_per_fix`).
    let mut plans: Vec<Option<Plan>> = Vec::new();
    for t in [ObjectType::Secret, ObjectType::Key, ObjectType::Cert] {
        if !objects.iter().any(|(ty, _)| *ty == t) {
            continue;
        }
        let action = needed_action(t);
        let names = || {
            objects
                .iter()
                .filter(move |(ty, _)| *ty == t)
                .map(|(_, name)| *name)
        };
        // A role may be scoped to single objects (FACTS §8): each object needs its own cover.
        let granted_for = |n: &str| {
            assignments
                .iter()
                .find(|r| grants(r, action) && covers(&r.scope, vault, t, n))
        };
        let uncovered: Vec<&str> = names().filter(|n| granted_for(n).is_none()).collect();
        let by_rbac = names()
            .find_map(granted_for)
            .filter(|_| uncovered.is_empty());
        let by_policy = policies.iter().any(|a| policy_allows(a.permissions(t)));
        let (enforced, ignored) = if vault.rbac {
            (by_rbac.is_some(), by_policy)
        } else {
            (by_policy, by_rbac.is_some())
        };
        if enforced {
            if !vault.rbac
                && let Some(f) = history_unlisted(cx, vault, principal, &policies, &p, t)
            {
                link.findings.push(f);
                continue;
            }
            if vault.rbac
                && let Some(f) = history_unlisted_rbac(cx, vault, principal, &assignments, &p, t)
            {
                link.findings.push(f);
                continue;
            }
            if ok_summary.is_empty() {
                ok_summary = by_rbac
                    .filter(|_| vault.rbac)
                    .map_or("access policy".to_string(), |r| r.role_name.clone());
            }
            continue;
        }
        let (mut confirm, _) = remedy::commands(cx, Code::KVC501);
        let mut fix;
        let what = format!("{} {}", t.as_str(), names().collect::<Vec<_>>().join(", "));
        if ignored {
            let model = if vault.rbac {
                "Azure RBAC"
            } else {
                "access policies"
            };
            let other = if vault.rbac {
                "an access policy"
            } else {
                "a role assignment"
            };
            // Grant what the enforced model needs, for this object type only. Switching the
            // vault's permission model is no fix: under RBAC the access policies stop counting
            // (FACTS §8), so every principal that reads through one loses access.
            (confirm, fix) = if vault.rbac {
                (confirm, remedy::grant_roles(cx, &[remedy::role_for(t)]))
            } else {
                (
                    remedy::policy_confirm(&vault.name, principal),
                    remedy::set_policy(cx, &vault.name, principal, &[t]),
                )
            };
            link.findings.push(cx.finding(
                Code::KVC503,
                format!("KeyVault/{}", vault.name),
                format!(
                    "{} may read {what} only through {other}, but Key Vault {} enforces {model}: that grant is ignored",
                    identity.name, vault.name
                ),
                vec![format!("vault {}: enableRbacAuthorization: {}", vault.name, vault.rbac)],
                confirm,
                fix,
            ));
            continue;
        }
        let missing: Vec<&str> = if vault.rbac {
            uncovered.clone()
        } else {
            names().collect()
        };
        if let Some(why) = undetermined(cx, vault, principal, &assignments, t, &missing) {
            unsure.push(why);
            continue;
        }
        // Under RBAC only the objects no grant covers are missing, and a role is "wrong" only
        // where it covers one of them without the action.
        let what = if vault.rbac {
            format!("{} {}", t.as_str(), uncovered.join(", "))
        } else {
            what
        };
        let wrong_type: Vec<&&RoleAssignmentObs> = if vault.rbac {
            assignments
                .iter()
                .filter(|r| !r.data_actions.is_empty() && !grants(r, action))
                .filter(|r| uncovered.iter().any(|n| covers(&r.scope, vault, t, n)))
                .collect()
        } else {
            Vec::new()
        };
        // Grants of the action scoped to other objects: what the identity does hold.
        let elsewhere: Vec<&&RoleAssignmentObs> = assignments
            .iter()
            .filter(|r| grants(r, action) && !above(&r.scope, vault))
            .collect();
        let wrong_policy = !vault.rbac && !policies.is_empty();
        let mut created: Vec<(&'static str, String)> = Vec::new();
        if vault.rbac {
            let role = remedy::role_for(t);
            let scope = remedy::vault_scope(cx);
            // Granted object by object so far: keep to that, one grant per missing object.
            let scopes: Vec<String> = if elsewhere.is_empty() {
                vec![scope]
            } else {
                uncovered
                    .iter()
                    .map(|n| format!("{scope}/{}/{n}", t.collection()))
                    .collect()
            };
            fix = scopes
                .iter()
                .map(|scope| format!(
                    "az role assignment create --assignee-object-id {principal} --assignee-principal-type ServicePrincipal --role \"{role}\" --scope {scope}"
                ))
                .collect::<Vec<_>>()
                .join(" && ");
            created = scopes.into_iter().map(|s| (role, s)).collect();
        } else {
            fix = remedy::set_policy(cx, &vault.name, principal, &[t]);
            confirm = remedy::policy_confirm(&vault.name, principal);
        }
        let plain = fix.clone();
        wrong.extend(wrong_type.iter().map(|r| **r));
        plans.resize(link.findings.len() - first, None);
        if !wrong_type.is_empty() || wrong_policy {
            let named: Vec<&RoleAssignmentObs> = wrong_type.iter().map(|r| **r).collect();
            let replaced = over_privilege::replace_writers(cx, vault, &assignments, &named);
            let held = if vault.rbac {
                over_privilege::held_roles(&named, replaced.is_some())
            } else {
                "an access policy without get on this object type".to_string()
            };
            let plan = Plan {
                head: format!(
                    "{} holds {held} on Key Vault {}, which does not grant ",
                    identity.name, vault.name
                ),
                missing: vec![format!("{action} needed for {what}")],
                tail: String::new(),
                grants: if replaced.is_none() {
                    created
                } else {
                    Vec::new()
                },
            };
            link.findings.push(cx.finding(
                Code::KVC502,
                format!("KeyVault/{}", vault.name),
                plan.message(),
                wrong_type.iter().map(|r| granted_actions(r)).collect(),
                confirm,
                replaced.unwrap_or(fix),
            ));
            plans.push(Some(plan));
        } else if assignments_known || !vault.rbac {
            // codes.yaml KVC501: a role "assigned to the clientId instead of the principal
            // (object) id" — RBAC matches the principal only (FACTS §7), so it grants nothing.
            let on_client: Vec<&RoleAssignmentObs> = if vault.rbac {
                (cx.ix.assignments(&identity.client_id))
                    .filter(|r| {
                        grants(r, action) && uncovered.iter().any(|n| covers(&r.scope, vault, t, n))
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let (mut misassigned, deletes) = on_client_id(identity, &on_client);
            policy_on_client_id(identity, vault, t, &mut misassigned, &mut fix);
            if !deletes.is_empty() {
                // Re-made for the principal as they were meant: same roles, same scopes, when
                // they cover every object still missing.
                let all = uncovered
                    .iter()
                    .all(|n| on_client.iter().any(|r| covers(&r.scope, vault, t, n)));
                if all {
                    fix = on_client
                        .iter()
                        .map(|r| format!(
                            "az role assignment create --assignee-object-id {principal} --assignee-principal-type ServicePrincipal --role \"{}\" --scope {}",
                            r.role_name, r.scope
                        ))
                        .collect::<Vec<_>>()
                        .join(" && ");
                }
                fix = format!("{fix} && {deletes}");
            }
            // A grant left on a deleted principal (the identity recreated under its name has
            // a new principalId): named, re-made for the principal at its scope, and deleted.
            let left: Vec<&RoleAssignmentObs> = if vault.rbac {
                (cx.ix.deleted_principal_assignments())
                    .filter(|r| {
                        grants(r, action) && uncovered.iter().any(|n| covers(&r.scope, vault, t, n))
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let mut left_seen = Vec::new();
            if let Some(l) = deleted_principal::left_on_deleted(identity, &left) {
                misassigned.push_str(&l.message);
                let all = uncovered
                    .iter()
                    .all(|n| left.iter().any(|r| covers(&r.scope, vault, t, n)));
                if all && deletes.is_empty() {
                    // The same scopes; the role for the object type where the old one could
                    // also write (KVC504 would follow a copy of it).
                    let mut made: Vec<(&str, &str)> = left
                        .iter()
                        .map(|r| {
                            let broad = WRITES.iter().any(|w| grants(r, w));
                            let role = if broad {
                                remedy::role_for(t)
                            } else {
                                r.role_name.as_str()
                            };
                            (role, r.scope.as_str())
                        })
                        .collect();
                    made.sort_unstable();
                    made.dedup();
                    fix = made
                        .iter()
                        .map(|(role, scope)| format!(
                            "az role assignment create --assignee-object-id {principal} --assignee-principal-type ServicePrincipal --role \"{role}\" --scope {scope}"
                        ))
                        .collect::<Vec<_>>()
                        .join(" && ");
                }
                fix = format!("{fix} && {}", l.deletes);
                confirm = format!("{confirm} ; {}", l.confirm);
                left_seen = l.seen;
            }
            if let Some(l) = deleted_principal::policies_left_on_deleted(identity, vault, t) {
                misassigned.push_str(&l.message);
                fix = format!("{fix} && {}", l.deletes);
                confirm = format!("{confirm} ; {}", l.confirm);
                left_seen = l.seen;
            }
            let plan = Plan {
                head: format!(
                    "no role assignment or access policy lets {} (principal {principal}) perform ",
                    identity.name
                ),
                missing: vec![format!("{action} on Key Vault {} for {what}", vault.name)],
                tail: format!("{FAILS}{misassigned}"),
                // Only the roles created, when the fix is still just that.
                grants: if fix == plain { created } else { Vec::new() },
            };
            link.findings.push(cx.finding(
                Code::KVC501,
                format!("KeyVault/{}", vault.name),
                plan.message(),
                std::iter::once(format!(
                    "{} role assignments and {} access policies for principal {principal} on {}",
                    assignments.len(),
                    policies.len(),
                    vault.name
                ))
                .chain((cx.ix.assignments(principal))
                    .filter(|r| grants(r, action))
                    .filter_map(|r| Some(format!("{} at {} {}", r.role_name, r.scope, beside(&r.scope, vault)?))))
                .chain(elsewhere.iter().map(|r| {
                    let inside = r.scope.get(vault.resource_id.len()..).unwrap_or(&r.scope);
                    format!("{} on {} only", r.role_name, inside.trim_start_matches('/'))
                }))
                .chain(on_client.iter().map(|r| {
                    format!(
                        "{} at {} assigned to principalId {} = the clientId of {}",
                        r.role_name, r.scope, r.principal_id, identity.name
                    )
                }))
                .chain(left_seen)
                .chain((cx.ix.assignments(principal))
                    .filter(|r| not_above(&r.scope, vault))
                    .map(|r| format!(
                        "{} at {}: ARM's listing at the vault omits it, so it does not reach it",
                        r.role_name, r.scope
                    )))
                .collect(),
                confirm,
                fix,
            ));
            plans.push(Some(plan));
        }
    }
    // Revoked since a retired pod that mounts no more last read the vault (a one-off Job's role
    // removed once it ran): history, no grant to make again (audit JJ1, as II3).
    if link.findings.len() > first {
        let read: Vec<String> = (objects.iter())
            .map(|(t, name)| format!("{} {name}", t.as_str()))
            .collect();
        let what = format!(
            "a grant letting {} read {} on Key Vault {}",
            identity.name,
            read.join(", "),
            vault.name
        );
        if super::read_gone_for_retired(cx, link, &what) {
            link.findings.truncate(first);
            over_privilege(cx, link, vault, &assignments, &policies, &[], &[]);
            return;
        }
    }
    // The roles the KVC501 and KVC502 fixes create: KVC504's fix does not create them again.
    let planned: Vec<Planned> = (plans.iter().zip(&link.findings[first..]))
        .filter_map(|(p, f)| Some((f.code, p.as_ref()?)))
        .flat_map(|(code, p)| {
            (p.grants.iter()).map(move |(role, scope)| (code, *role, scope.clone()))
        })
        .collect();
    one_per_fix(link, first, plans);
    // A broad role a KVC502 names (it grants none of the reads) is told there, not twice.
    over_privilege(cx, link, vault, &assignments, &policies, &wrong, &planned);
    if !unsure.is_empty() {
        link.facts
            .extend(unsure.iter().map(|why| Fact::new("unknown", why.as_str())));
        if cx.mounted() {
            set(link, Status::Ok, super::PROVEN_BY_MOUNT);
        } else {
            set(link, Status::Unknown, "grant unknown");
        }
        return;
    }
    if ok_summary.is_empty() {
        ok_summary = "granted".into();
    }
    // Granted, but behind a firewall whose rules kvchain cannot match to the cluster's egress
    // (IP or virtual-network rules, private endpoints): whether the read gets through is not
    // known, so the link is not said to work (README: what kvchain cannot see leaves its link
    // unknown; audit GGG-A2). A mount proves the path.
    if let Observed::Unknown(reason) = &vault.network.cluster_allowed
        && !network_admits(vault)
    {
        if cx.mounted() {
            set(link, Status::Ok, super::PROVEN_BY_MOUNT);
        } else {
            unknown(link, "network unknown", reason);
        }
        return;
    }
    set(link, Status::Ok, ok_summary);
}
