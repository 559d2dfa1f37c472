//! KVC506 from what was read, before any mount fails: the SPC's keyvaultName is known absent
//! (the lab's Azure holds no vault of that name; live, Resource Graph found none and Check Name
//! Availability says the name is free: Key Vault names are global, FACTS §5). Only events said
//! it before, so a chain none had failed yet (a pod not started, a workload scaled to zero)
//! read "vault unknown", not verified, with the cause in hand (audits XA-scen, XA-more). A
//! failing request's event is the same cause, seen from the node (`fold_events`).

use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::Finding;
use crate::chain::rules::remedy::network;

/// Whether KVC506 is said of `vault` from what was read: no vault holds the name, and
/// nothing says more. A failed request to the vault (an event) is the event's to judge: a
/// timeout shows the name resolved, so the vault exists somewhere (KVC505), and a DNS failure
/// is this cause with the node's words (`fold_events::resolve`). A pod mounted from a vault of
/// that name shows it existed then: deleted since, which the event path says.
pub(super) fn said_before_any_event(cx: &Ctx, vault: &str) -> bool {
    network::names_no_vault(cx, vault)
        && !(cx.events.iter()).any(|(code, _)| matches!(code, Some(Code::KVC505 | Code::KVC506)))
        && !network::ever_mounted_from(cx, vault)
}

/// KVC506 for `vault`, which no vault holds.
pub(super) fn no_such_vault(cx: &Ctx, vault: &str) -> Finding {
    let near = network::nearest_vault(cx, vault);
    let mean = near.map_or_else(String::new, |n| format!(" (did you mean {n}?)"));
    cx.finding(
        Code::KVC506,
        format!("KeyVault/{vault}"),
        format!(
            "SecretProviderClass {} names Key Vault {vault}{mean}, and {}: every mount of it fails (its host name does not resolve)",
            cx.spc_name,
            crate::snapshot::no_vault_named(vault)
        ),
        vec![format!("keyvaultName: {vault}")],
        format!(
            "nslookup {} ; az keyvault list --query \"[].name\" -o tsv",
            network::vault_host(cx, vault)
        ),
        network::rename_vault(cx, near),
    )
}
