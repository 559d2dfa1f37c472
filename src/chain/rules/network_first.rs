//! The order Key Vault meets a read's causes in ("Authentication in Azure Key Vault", its
//! request flow): the firewall first (network rules, public network access, private
//! endpoints), and only a request it lets through has its token validated (the vault's tenant,
//! AKV10032) and then its caller's permission checked (RBAC or access policy), before the
//! object is read. While the vault's network refuses the cluster (KVC505), every read is
//! answered with that 403 (ForbiddenByFirewall, ForbiddenByConnection) or gets no answer at
//! all, whatever the grants say: a missing or wrong grant, a vault in another tenant, a
//! missing or disabled object are not the current failure. Such a finding stays listed with
//! its own fix (it is real, and met once the network admits the cluster), marked blocked by the
//! firewall, which is the Access link's cause and is shown first (one symptom, one cause: a
//! ForbiddenByFirewall is not also a missing role's 403).
//!
//! Causes met before the request reaches Key Vault (the token exchange with Entra ID: KVC301,
//! KVC401–KVC405) are untouched, and so is everything while the objects do not parse
//! (`parse_first` marks KVC505 itself blocked then).

use crate::chain::catalog::Code;
use crate::chain::model::{Link, LinkKind};

/// Causes Key Vault meets only past its firewall: the token's tenant, the permission, the
/// object.
const AFTER_FIREWALL: [Code; 6] = [
    Code::KVC406,
    Code::KVC501,
    Code::KVC502,
    Code::KVC503,
    Code::KVC601,
    Code::KVC602,
];

/// Mark the causes of `links` Key Vault meets past its firewall as blocked by the Access
/// link's KVC505, when that is a current cause (not one whose rules look open now). Runs before
/// the root cause is picked ([`super::mark_effects`]).
pub(crate) fn mark(links: &mut [Link]) {
    let access = &links[LinkKind::Access.index()];
    if !access.findings.iter().any(|f| {
        f.code == Code::KVC505 && super::is_cause(f) && !super::fold_events::is_contradicted(f)
    }) {
        return; // nearly every chain
    }
    for link in links.iter_mut().filter(|l| {
        matches!(
            l.link,
            LinkKind::Federation | LinkKind::Access | LinkKind::VaultObject
        )
    }) {
        // On the Access link itself "blocked by Access" would name nothing: the code does.
        let by = if link.link == LinkKind::Access {
            Code::KVC505.as_str()
        } else {
            LinkKind::Access.title()
        };
        for f in (link.findings.iter_mut())
            .filter(|f| AFTER_FIREWALL.contains(&f.code) && super::is_cause(f))
        {
            f.follows = Some(LinkKind::Access);
            f.message = format!(
                "blocked by {by}: {} (not met yet: Key Vault checks its firewall before it validates the token, the caller's permission or the object, and refuses the cluster there, {})",
                f.message,
                Code::KVC505
            )
            .into();
        }
    }
}
