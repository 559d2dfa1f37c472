//! The vault's firewall, on the Access link: whether its network rules let the cluster's
//! requests through, and KVC505 when they are known not to.

use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::{Fact, Link};
use crate::snapshot::{Observed, VaultObs};

/// Whether the vault's network rules, as read now, let the cluster's requests through: open to
/// all (public access, default Allow) or a rule that admits the cluster's egress. Unknown is
/// not admitted.
pub(crate) fn network_admits(vault: &VaultObs) -> bool {
    let n = &vault.network;
    (n.public_access && !n.default_deny) || n.cluster_allowed == Observed::Known(true)
}

pub(super) fn firewall(cx: &Ctx, link: &mut Link, vault: &VaultObs) {
    let n = &vault.network;
    if n.public_access && !n.default_deny {
        return;
    }
    match &n.cluster_allowed {
        Observed::Known(true) => {}
        Observed::Known(false) => {
            link.findings.push(cx.remedied(
                Code::KVC505,
                format!("KeyVault/{}", vault.name),
                if n.public_access {
                    format!(
                        "Key Vault {} denies by default and no rule admits the cluster's egress: reads fail with 403 ForbiddenByFirewall",
                        vault.name
                    )
                } else {
                    // Its IP and VNet rules are ignored then: only a private endpoint admits.
                    format!(
                        "Key Vault {} has public network access disabled and no private endpoint the cluster reaches it through (its network rules are ignored while public access is off): reads fail with 403",
                        vault.name
                    )
                },
                vec![format!(
                    "publicNetworkAccess: {}, networkAcls.defaultAction: {}",
                    if n.public_access { "Enabled" } else { "Disabled" },
                    if n.default_deny { "Deny" } else { "Allow" }
                )],
            ));
        }
        Observed::Unknown(reason) => {
            link.facts.push(Fact::new(
                "firewall",
                format!("restricted; cluster egress match unknown: {reason}"),
            ));
        }
    }
}
