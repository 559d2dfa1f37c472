//! The order one read of the provider meets its causes in, so that the first a mount fails on
//! is the one cause and the others read "not met yet" (one symptom, one cause):
//! 1. the token exchange with Entra ID (the federated credential, the identity, the tenant
//!    asked: KVC301, KVC401–KVC405), done by the SDK before any request is sent to the vault;
//! 2. Key Vault's firewall ("Authentication in Azure Key Vault", its request flow: network
//!    rules, public network access, private endpoints: KVC505), and before it the vault's
//!    name resolving (KVC506);
//! 3. the token's validation (the vault's tenant, AKV10032: KVC406), then the caller's
//!    permission (RBAC or access policy: KVC501–KVC503), then the object (KVC601, KVC602):
//!    Key Vault authorizes each request before it reads the object, so an object the identity
//!    may not read answers 403 whatever its state.
//!
//! Before all of them the kubelet must reach the driver and the driver the provider on the
//! pod's node: while one is missing there (KVC104 on the Pod link, FACTS §11 "Nodes"), or the
//! volume names a driver no node registered or is not readOnly (KVC103, FACTS §3), no read
//! is made, and every cause of it waits behind that. So it does while the provider refuses
//! its parameters (KVC302, FACTS §5), which it reads before it asks for a token.
//!
//! While an earlier step is a current cause, every read ends there (AADSTS70021 from Entra ID,
//! 403 ForbiddenByFirewall from the vault), whatever the later steps would say: their findings
//! stay listed with their own fixes (they are real, and met once the earlier step passes),
//! marked blocked by the earlier step's link. A finding for a failure over objects that now
//! look right ("failed, now looks right") blocks nothing. Everything while the objects do
//! not parse is `parse_first`'s (it runs first and marks KVC505 itself blocked then).

use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::{Link, LinkKind, Severity, Status};
use crate::snapshot::ObjectType;

/// Every cause one read meets once `objects` has parsed, in the order it meets them (module
/// doc): the token exchange's six, then the vault's name and firewall, then the token's
/// tenant, the permission and the object. `parse_first` blocks them all behind KVC705.
pub(super) const READ: [Code; 14] = [
    Code::KVC301,
    Code::KVC401,
    Code::KVC402,
    Code::KVC403,
    Code::KVC404,
    Code::KVC405,
    Code::KVC506,
    Code::KVC505,
    Code::KVC406,
    Code::KVC501,
    Code::KVC502,
    Code::KVC503,
    Code::KVC601,
    Code::KVC602,
];

/// Every cause the Azure provider meets, in its order: its parameters (KVC302, read before the
/// objects or, for a vault name or tenant, as the read starts: `parse_first`), then the read.
/// None is met while the kubelet cannot reach the provider on the pod's node (KVC104).
const PROVIDER: [Code; 15] = {
    let mut all = [Code::KVC302; 15];
    let mut i = 0;
    while i < READ.len() {
        all[i + 1] = READ[i];
        i += 1;
    }
    all
};

/// Pod-link causes that fail the mount before the Azure provider runs: no driver or provider
/// on the pod's node (KVC104), a volume wired wrong (KVC103: the kubelet finds no driver of
/// that name, the driver refuses a volume that is not readOnly or names no SPC).
pub(super) const BEFORE_PROVIDER: &[Code] = &[Code::KVC104, Code::KVC103];

/// Why `code` (one of [`BEFORE_PROVIDER`]) leaves the provider's causes not met yet.
pub(super) fn before_provider(code: Code) -> &'static str {
    if code == Code::KVC104 {
        "the mount fails on the pod's node before the Azure provider runs, so it reads no parameter, asks Entra ID for no token and Key Vault for nothing"
    } else {
        "the kubelet or the driver refuses the volume before the Azure provider runs, so it reads no parameter, asks Entra ID for no token and Key Vault for nothing"
    }
}

/// Causes met at the token exchange, before the vault is called.
const EXCHANGE: &[Code] = READ.split_at(6).0;
/// Causes met at the vault: its name, its firewall, then past the firewall.
const AT_THE_VAULT: &[Code] = READ.split_at(6).1;
/// Causes Key Vault meets only past its firewall: the token's tenant, the permission, the
/// object.
const AFTER_FIREWALL: &[Code] = READ.split_at(8).1;

/// Mark the causes of `links` that a read meets after a current earlier one as blocked by it
/// (module doc). Runs before the root cause is picked ([`super::mark_effects`]).
pub(crate) fn mark(cx: &Ctx, links: &mut [Link]) {
    wait_for_principal(links);
    // No driver (or provider) on the pod's node, or a volume the kubelet or the driver refuses
    // (a driver name no driver registered, readOnly not true: FACTS §3): the mount fails
    // before any provider runs (FACTS §11 "Nodes", §3), so the whole read is never made.
    if let Some((link, code)) = current(links, &[LinkKind::Pod], BEFORE_PROVIDER) {
        block(links, link, code, &PROVIDER, before_provider(code));
        return;
    }
    // Parameters the provider refuses (FACTS §5: `tenantId is not provided`, two identity
    // modes, …): it fails before it asks Entra ID for a token or Key Vault for anything (audit
    // XB-facts). Refused only once the objects are read (a vault name, a tenant the exchange
    // refuses), KVC302 behind a KVC705 is `parse_first`'s and no cause here.
    if let Some((link, code)) = current(links, &[LinkKind::Identity], &[Code::KVC302]) {
        // No mode the provider takes, so no principal to judge a grant of: the Access link
        // waits on the parameters, it does not read unknown (no read failed).
        wait_on(
            &mut links[LinkKind::Access.index()],
            super::access::NO_PRINCIPAL,
            link,
        );
        block(
            links,
            link,
            code,
            &READ,
            "the Azure provider refuses its parameters before it asks Entra ID for a token or Key Vault for anything",
        );
        return;
    }
    // A credential mended on a managed identity that cannot reach the vault's tenant changes
    // nothing: KVC406 first (audit XE-ident).
    super::cross_tenant_first::mark(cx, links);
    if let Some((link, code)) =
        current(links, &[LinkKind::Identity, LinkKind::Federation], EXCHANGE)
    {
        block(
            links,
            link,
            code,
            AT_THE_VAULT,
            "the token exchange with Entra ID fails first, and no request reaches the vault",
        );
        return;
    }
    if let Some((link, code)) = current(links, &[LinkKind::Access], &[Code::KVC505]) {
        block(
            links,
            link,
            code,
            AFTER_FIREWALL,
            "Key Vault checks its firewall before it validates the token, the caller's permission or the object, and refuses the cluster there",
        );
        return;
    }
    if let Some((link, code)) = current(
        links,
        &[LinkKind::Federation, LinkKind::Access],
        &[Code::KVC406],
    ) {
        block(
            links,
            link,
            code,
            AFTER_TOKEN,
            "Key Vault validates the token's issuer before it checks the caller's permission or reads the object, and refuses the token there (401 AKV10032)",
        );
        return;
    }
    if let Some((_, code)) = current(links, &[LinkKind::Access], GRANT) {
        unpermitted_objects(cx, links, code);
    }
}

/// Causes Key Vault meets only once it accepted the token: the permission, the object.
const AFTER_TOKEN: &[Code] = READ.split_at(9).1;

/// Causes of a grant missing: Key Vault authorizes each request before it reads the object.
const GRANT: &[Code] = &[Code::KVC501, Code::KVC502, Code::KVC503];

/// An object cause (KVC601, KVC602) for an object the chain's identity is known not to be
/// allowed to read: the request for it is refused 403 before Key Vault looks at the object, so
/// the object's state is not met yet, blocked by the Access link's `grant` cause. An object it
/// may read (another object's grant missing, an object-scoped role) keeps its own cause.
fn unpermitted_objects(cx: &Ctx, links: &mut [Link], grant: Code) {
    let object = &mut links[LinkKind::VaultObject.index()];
    for f in (object.findings.iter_mut())
        .filter(|f| matches!(f.code, Code::KVC601 | Code::KVC602) && super::is_cause(f))
    {
        // Every KVC601/KVC602 message starts with the object's type and name.
        let mut words = f.message.split_whitespace();
        let (Some(t), Some(name)) = (words.next().and_then(ObjectType::parse), words.next()) else {
            continue;
        };
        if super::access::may_read(cx, t, name) != Some(false) {
            continue;
        }
        f.follows = Some(LinkKind::Access);
        f.message = format!(
            "blocked by {}: {} (not met yet: Key Vault checks the caller's permission on each request before it reads the object, and refuses it there, {grant})",
            LinkKind::Access.title(),
            f.message
        )
        .into();
    }
}

/// The first current cause among `codes` on `kinds`' links (nearly every chain has none).
pub(super) fn current(
    links: &[Link],
    kinds: &[LinkKind],
    codes: &[Code],
) -> Option<(LinkKind, Code)> {
    kinds.iter().find_map(|kind| {
        links[kind.index()]
            .findings
            .iter()
            .find(|f| {
                codes.contains(&f.code)
                    && super::is_cause(f)
                    && !super::fold_events::is_contradicted(f)
            })
            .map(|f| (*kind, f.code))
    })
}

/// The Access link left without a principal to judge because the SPC's clientID names no
/// identity (KVC301 on the Identity link, current or itself blocked): no grant is asked about
/// until the exchange finds the identity, so the link waits ("blocked: Identity", renamed to
/// the chain's root cause by `effects_of`) instead of reading unknown, which says a read
/// failed. Without a KVC301 (identities unread, another mode) it stays unknown.
fn wait_for_principal(links: &mut [Link]) {
    let kvc301 = links[LinkKind::Identity.index()].findings.iter().any(|f| {
        f.code == Code::KVC301
            && f.severity == Severity::Error
            && !super::fold_events::is_contradicted(f)
    });
    if kvc301 {
        wait_on(
            &mut links[LinkKind::Access.index()],
            super::access::NO_PRINCIPAL,
            LinkKind::Identity,
        );
    }
}

/// `link`, left unjudged (`unjudged`, an unknown's summary) for want of what `by`'s cause
/// withholds, drawn waiting on it: "blocked: <by>", renamed to the chain's root cause by
/// `effects_of` as every blocked link is. Unknown says a read failed, and none did.
pub(super) fn wait_on(link: &mut Link, unjudged: &str, by: LinkKind) {
    if link.status == Status::Unknown && link.summary == unjudged {
        link.status = Status::Pending;
        link.summary = compact_str::format_compact!("blocked: {}", by.title());
    }
}

/// Every cause among `later` on the Identity, Federation, Access and Vault object links, the
/// `earlier` cause itself aside, blocked by `by`'s link, saying why it is not met yet.
fn block(links: &mut [Link], by: LinkKind, earlier: Code, later: &[Code], why: &str) {
    for link in links.iter_mut().filter(|l| {
        matches!(
            l.link,
            LinkKind::Identity | LinkKind::Federation | LinkKind::Access | LinkKind::VaultObject
        )
    }) {
        // On the blocking link itself "blocked by <link>" would name nothing: the code does.
        let name = if link.link == by {
            earlier.as_str()
        } else {
            by.title()
        };
        for f in (link.findings.iter_mut())
            .filter(|f| f.code != earlier && later.contains(&f.code) && super::is_cause(f))
        {
            f.follows = Some(by);
            f.message = format!(
                "blocked by {name}: {} (not met yet: {why}, {earlier})",
                f.message
            )
            .into();
        }
    }
}
