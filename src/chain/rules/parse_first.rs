//! The order the Azure provider meets a mount's causes in (FACTS §5): it parses `objects`
//! before it asks Entra ID for a token (acquired lazily, inside the per-object loop) or Key
//! Vault for anything. While `objects` does not parse, or an item of it is refused (KVC705),
//! every mount fails there, and a cause the provider would meet only at the token exchange or
//! the vault (a wrong tenant, a credential that does not match, a missing grant or object) is
//! not the current failure: it waits behind the YAML (audit HHH4). Such a finding stays listed
//! with its own fix (it is real, and needed once the YAML parses), marked blocked by the Mount
//! link's cause, which is the chain's root cause and is shown first.
//!
//! KVC302 is met after the objects too when what it names is a vault name the provider's
//! getVaultURL refuses (the URL is built once the objects are read) or a tenant the exchange
//! refuses; its other parameters (modes, booleans, a missing key) are read before them.
//!
//! One refusal is not met before the token: an unknown `objectType`. The provider checks the
//! items' format, encoding and file name before its fetch loop (`validate`), but the type only
//! when it fetches that item, so every item before it has been fetched, token and all. Only
//! an unknown type on the first item fails before any token.

use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::{Finding, Link, LinkKind};
use crate::spc::AzureSpc;

/// Causes met only once the provider exchanges the token or calls Key Vault: the identity
/// Entra ID cannot find, the federated credential and tenant, the grant and the vault's
/// network, the object itself (every cause of one read, in its order).
const AFTER_PARSE: [Code; 14] = super::request_order::READ;

/// Mark the causes of `links` the provider meets after parsing `objects` as blocked by the
/// Mount link's KVC705, when it holds one that is a cause. Runs before the root cause is
/// picked ([`super::mark_effects`]), so KVC705 is that root.
pub(crate) fn mark(cx: &Ctx, links: &mut [Link]) {
    let mount = &links[LinkKind::Mount.index()];
    if !mount
        .findings
        .iter()
        .any(|f| f.code == Code::KVC705 && super::is_cause(f))
    {
        return; // nearly every chain
    }
    wait_for_objects(links);
    if behind_no_driver(links) {
        return; // `request_order` blocks the read's causes behind the same KVC104 or KVC103
    }
    if cx
        .params
        .as_deref()
        .is_some_and(|p| !refused_before_token(p))
    {
        met_first_after(links);
        return;
    }
    for link in &mut links[LinkKind::Identity.index()..LinkKind::Mount.index()] {
        let mut marked = false;
        for f in link
            .findings
            .iter_mut()
            .filter(|f| met_after_objects(f) && super::is_cause(f))
        {
            f.follows = Some(LinkKind::Mount);
            f.message = format!(
                "blocked by {}: {} (not met yet: the provider parses objects, {}, before it asks for a token or reads the vault)",
                LinkKind::Mount.title(),
                f.message,
                Code::KVC705
            )
            .into();
            marked = true;
        }
        if marked {
            super::drawn_as_followed(link);
        }
    }
}

/// The Access and Vault object links left unjudged because the objects do not parse (which
/// permissions and which objects they need is what the YAML says) wait on the Mount link's
/// KVC705: "blocked: Mount", renamed to the chain's root cause by `effects_of` as every
/// blocked link is, instead of reading unknown, which says a read failed (audit TTT-honest
/// left it). Nothing went unread, and fixing the YAML is what lets them be judged.
fn wait_for_objects(links: &mut [Link]) {
    for (kind, unjudged) in [
        (LinkKind::Access, super::access::OBJECTS_UNKNOWN),
        (LinkKind::VaultObject, super::vault_object::NO_OBJECTS),
    ] {
        super::request_order::wait_on(&mut links[kind.index()], unjudged, LinkKind::Mount);
    }
}

/// The other way round: objects that parse now (a KVC705 from a past attempt's event, or an
/// unknown `objectType` past the first item, which the provider meets only when it fetches
/// that item, token and all) wait behind the first cause the provider meets at the token or
/// the vault, which is the chain's root cause: the Mount link's KVC705 is marked blocked by it.
fn met_first_after(links: &mut [Link]) {
    let first = links[LinkKind::Identity.index()..LinkKind::Mount.index()]
        .iter()
        .find_map(|l| {
            let f = (l.findings.iter()).find(|f| met_after_objects(f) && super::is_cause(f))?;
            Some((l.link, f.code))
        });
    let Some((link, code)) = first else {
        return;
    };
    let mount = &mut links[LinkKind::Mount.index()];
    for f in (mount.findings.iter_mut()).filter(|f| f.code == Code::KVC705 && super::is_cause(f)) {
        f.follows = Some(link);
        f.message = format!(
            "blocked by {}: {} (the next attempt meets {code} first: the provider parses the objects, which parse now, then asks for a token or reads the vault)",
            link.title(),
            f.message
        )
        .into();
    }
    super::drawn_as_followed(mount);
}

/// Whether the provider meets finding `f`'s cause only once the objects parse: a code of
/// [`AFTER_PARSE`], or KVC302 when every parameter it names is one the provider reads after
/// them (a vault name getVaultURL refuses, a tenant the token exchange refuses).
fn met_after_objects(f: &Finding) -> bool {
    AFTER_PARSE.contains(&f.code)
        || (f.code == Code::KVC302
            && !f.evidence.is_empty()
            && (f.evidence.iter()).all(|e| super::auth_params::met_after_objects(e)))
}

/// Whether the provider refuses `p`'s objects before it asks for any token: a problem its
/// parse or `validate` meets, or an unknown type on the first item. Objects that parse and
/// validate now refuse nothing: a KVC705 read from an event alone is a past attempt's
/// ("failed, now looks right": the SPC changed after it, FACTS §11), and the next attempt
/// gets past the objects to the causes after them, which are then current, not blocked by a
/// cause that is gone (audit RRR-faults: `break-objects-yaml` repaired on top of
/// `spc-wrong-tenant` read "KVC404 blocked by Mount" until the next poll).
fn refused_before_token(p: &AzureSpc) -> bool {
    let fetch_time = |field: &str, message: &str| {
        message.starts_with(crate::spc::UNKNOWN_OBJECT_TYPE)
            && !field.starts_with("objects.array[0].")
    };
    (p.problems.iter())
        .filter(|pr| pr.field.starts_with("objects"))
        .any(|pr| !fetch_time(&pr.field, &pr.message))
}

/// The provider parses `objects` only when the driver calls it, which the kubelet does not do
/// while the pod's node has no driver or provider for it (KVC104, FACTS §11 "Nodes"), nor while
/// the kubelet or the driver refuses the volume (KVC103, FACTS §3): the Mount link's KVC705 is
/// then not met yet, blocked by the Pod link's cause, keeping its fix. True when one is current.
fn behind_no_driver(links: &mut [Link]) -> bool {
    use super::request_order::{BEFORE_PROVIDER, before_provider, current};
    let Some((_, code)) = current(links, &[LinkKind::Pod], BEFORE_PROVIDER) else {
        return false;
    };
    let mount = &mut links[LinkKind::Mount.index()];
    for f in (mount.findings.iter_mut()).filter(|f| f.code == Code::KVC705 && super::is_cause(f)) {
        f.follows = Some(LinkKind::Pod);
        f.message = if code == Code::KVC104 {
            format!(
                "blocked by {}: {} (not met yet: the mount fails on the pod's node before the provider, which parses objects, runs, {code})",
                LinkKind::Pod.title(),
                f.message,
            )
        } else {
            format!(
                "blocked by {}: {} (not met yet: {}, {code})",
                LinkKind::Pod.title(),
                f.message,
                before_provider(code)
            )
        }
        .into();
    }
    true
}
