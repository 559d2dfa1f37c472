//! A Key Vault request that got no answer (FACTS §11, Network): a vault name that exists
//! nowhere (KVC506, with the nearest visible vault), or an existing vault the nodes cannot
//! reach — behind a private endpoint, its private DNS zone not linked to the cluster's VNet
//! (KVC505).

use super::{aks_name, aks_rg, edit_spc, node_rg, pod_node_pool};
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::events::{Unreached, VaultUnreached};
use crate::chain::rules::access::vault_gap;
use crate::glance;
use crate::snapshot::EventObs;
use crate::spc::cloud::AzureCloud;
use jiff::Timestamp;

/// The private DNS zone of the Key Vault private endpoints of `host`'s cloud:
/// `privatelink.vaultcore.<cloud suffix>` (`…vault.azure.net` → `privatelink.vaultcore.azure.net`).
fn private_zone(host: &str) -> String {
    let cloud = host.split_once(".vault.").map_or("azure.net", |(_, c)| c);
    format!("privatelink.vaultcore.{cloud}")
}

/// Whether `vault` is a name no vault has, as far as kvchain can tell: the vaults were read
/// for it (no gap: live, Azure's Check Name Availability found the name free, FACTS §5 — Key
/// Vault names are global) and none has it. Unreadable vaults tell nothing (audit CC2). A pod
/// mounted from a vault of that name proves only that it existed when it mounted (FACTS §1,
/// §11: evidence ages): with the name free now, it was deleted since (audit EE7).
pub(crate) fn names_no_vault(cx: &Ctx, vault: &str) -> bool {
    cx.ix.vault(vault).is_none() && vault_gap(&cx.azure().vaults.gaps, vault).is_none()
}

/// A pod mounted from a SecretProviderClass that names `vault`, and when its status was last
/// written: the provider read that vault for it then (FACTS §1: the SPCPS is created only
/// after a successful provider mount). That proves the vault existed at `at`, not now.
struct Mounted {
    pod: String,
    at: Option<Timestamp>,
}

impl Mounted {
    /// Written after `since` (the failing event's first time): the vault existed while the
    /// request failed, so it exists under that name (audit EE7).
    fn after(&self, since: Option<Timestamp>) -> bool {
        matches!((self.at, since), (Some(at), Some(since)) if at > since)
    }

    /// "pod P mounted from it at T" (without T when the status's write time is unknown).
    fn said(&self) -> String {
        let at = self
            .at
            .map_or_else(String::new, |t| format!(" at {}", glance::time(t)));
        format!("pod {} mounted from it{at}", self.pod)
    }
}

/// The latest mount from a SecretProviderClass that names `vault`.
/// Whether a pod mounted from a SecretProviderClass that names `vault` (the vault existed then).
pub(crate) fn ever_mounted_from(cx: &Ctx, vault: &str) -> bool {
    mounted_from(cx, vault).is_some()
}

fn mounted_from(cx: &Ctx, vault: &str) -> Option<Mounted> {
    let names_vault = |ns: &str, spc: &str| {
        (cx.ix.spcs.get(&(ns, spc)))
            .and_then(|s| s.parsed.keyvault_name.as_deref())
            .is_some_and(|k| k.eq_ignore_ascii_case(vault))
    };
    (cx.snap().spc_statuses.items.iter())
        .filter(|st| st.mounted && names_vault(&st.namespace, &st.spc_name))
        .max_by_key(|st| st.updated_at)
        .map(|st| Mounted {
            pod: format!("{}/{}", st.namespace, st.pod_name),
            at: st.updated_at,
        })
}

/// The failing event's first time; its last when the first is not known (an older snapshot),
/// which a mount must then follow.
pub(crate) fn failing_since(e: &EventObs) -> Option<Timestamp> {
    e.first_seen.or(e.last_seen)
}

/// The vault the SecretProviderClass names and its host (`<name>.vault.<cloud suffix>`): where
/// a mount that got no answer and names no host (the kubelet's deadline, FACTS §11) went.
pub(crate) fn spc_vault_host(cx: &Ctx) -> Option<(String, String)> {
    let vault = cx.params.as_deref()?.keyvault_name.clone()?;
    let host = vault_host(cx, &vault);
    Some((vault, host))
}

/// The visible vault whose name is nearest to `vault` (a typo: at most 3 edits away, any case).
pub(crate) fn nearest_vault<'a>(cx: &Ctx<'a>, vault: &str) -> Option<&'a str> {
    cx.azure()
        .vaults
        .items
        .iter()
        .map(|v| {
            let d = strsim::levenshtein(&v.name.to_ascii_lowercase(), &vault.to_ascii_lowercase());
            (d, v.name.as_str())
        })
        .filter(|&(d, _)| d <= 3)
        .min()
        .map(|(_, name)| name)
}

/// The fix of a keyvaultName no vault has, with the name the snapshot can fill: `near` (a
/// typo's nearest visible vault); else, where the pod volume's override is the name, the
/// SecretProviderClass's own keyvaultName when it names a vault kvchain read (the override
/// goes); else the one visible vault whose listing holds every object the SPC reads. When
/// none is known, the vaults' listing runs first, a step of its own, and the edit says in
/// words which name to take: never a name to fill inside a command (audit NNN2).
pub(crate) fn rename_vault(cx: &Ctx, near: Option<&str>) -> String {
    if let Some(n) = near {
        return edit_spc(cx, &format!("parameters.keyvaultName: {n}"));
    }
    let own = (cx.spc)
        .and_then(|s| s.parameters.get("keyvaultName"))
        .map(|k| k.trim())
        .filter(|k| cx.ix.vault(k).is_some());
    let overridden = super::spc::overridden(cx).any(|(k, _)| k == "keyvaultName");
    if overridden && let Some(own) = own {
        return super::edit_owner(
            cx,
            &format!(
                "volume {}: remove volumeAttributes.keyvaultName, so that the SecretProviderClass's keyvaultName {own}, a vault kvchain read, applies",
                cx.volume.name
            ),
        );
    }
    if let [holder] = holders(cx).as_slice() {
        return edit_spc(
            cx,
            &format!(
                "parameters.keyvaultName: {holder} (the one vault kvchain read that holds every object the SecretProviderClass reads)"
            ),
        );
    }
    let objects: Vec<&str> = (cx.params.as_deref().into_iter())
        .flat_map(|p| p.objects.iter().map(|o| o.object_name.as_str()))
        .collect();
    let edit = edit_spc(
        cx,
        &format!(
            "parameters.keyvaultName: the vault of that list that holds {}",
            match objects.as_slice() {
                [] => "the objects".to_string(),
                names => names.join(", "),
            }
        ),
    );
    super::in_turn(&["az keyvault list --query \"[].name\" -o tsv", &edit])
}

/// The visible vaults whose object listing holds every object of the SPC (names compared in
/// any case, as Key Vault compares them); none when the SPC reads none.
fn holders<'a>(cx: &Ctx<'a>) -> Vec<&'a str> {
    let Some(params) = cx.params.as_deref() else {
        return Vec::new();
    };
    if params.objects.is_empty() {
        return Vec::new();
    }
    (cx.azure().vaults.items.iter())
        .filter(|v| {
            v.object_names.as_ref().is_some_and(|names| {
                params.objects.iter().all(|o| {
                    names.iter().any(|(t, n)| {
                        Some(*t) == o.object_type && n.eq_ignore_ascii_case(&o.object_name)
                    })
                })
            })
        })
        .map(|v| v.name.as_str())
        .collect()
}

/// `nslookup <host>` run on a node (the pod's, else the first): what the nodes resolve.
fn nslookup_from_node(cx: &Ctx, host: &str) -> String {
    let node = cx.pod.node.as_deref().map_or_else(
        || "$(kubectl get nodes -o name | head -1)".to_string(),
        |n| format!("node/{n}"),
    );
    format!("kubectl debug {node} -it --image=busybox -- nslookup {host}")
}

/// (resource, message, confirm, fix) of a KVC505 or KVC506 an unanswered request shows;
/// `since`: when the failure began ([`failing_since`]).
pub(crate) fn unreached(
    cx: &Ctx,
    code: Code,
    u: VaultUnreached,
    since: Option<Timestamp>,
) -> (String, String, String, String) {
    let resource = format!("KeyVault/{}", u.vault);
    if code == Code::KVC506 {
        let near = nearest_vault(cx, u.vault);
        let mean = near.map_or_else(String::new, |n| format!(" (did you mean {n}?)"));
        let confirm = format!(
            "nslookup {} ; az keyvault list --query \"[].name\" -o tsv",
            u.host
        );
        let fix = rename_vault(cx, near);
        // The name is free now, and a pod mounted from a vault of that name: deleted since
        // (purged too: a soft-deleted vault keeps its name), unless the SPC was edited after
        // that mount (audit EE7).
        if let Some(m) = mounted_from(cx, u.vault) {
            let message = format!(
                "SecretProviderClass {} names Key Vault {}, which no vault holds now, and {} {}; {}, so it was deleted (and purged: a soft-deleted vault keeps its name) since then, unless keyvaultName was edited after that mount{mean}",
                cx.spc_name,
                u.vault,
                u.host,
                u.how.as_str(),
                m.said()
            );
            let fix = format!(
                "# Key Vault {} no longer exists and its objects went with it: create it again with its objects, or name the vault that holds them now: {fix}",
                u.vault
            );
            return (resource, message, confirm, fix);
        }
        let message = format!(
            "SecretProviderClass {} names Key Vault {}, which no vault visible to kvchain is called{mean}, and {} {}: no vault exists under that name",
            cx.spc_name,
            u.vault,
            u.host,
            u.how.as_str()
        );
        return (resource, message, confirm, fix);
    }
    let vault = cx.ix.vault(u.vault);
    let private = vault.is_some_and(|v| !v.network.public_access);
    let zone = private_zone(u.host);
    let mounted = vault.is_none().then(|| mounted_from(cx, u.vault)).flatten();
    // Only a mount written after the failure began proves the vault exists now (audit EE7).
    let (proof, then) = match mounted {
        Some(m) if m.after(since) => (Some(m), None),
        m => (None, m),
    };
    if vault.is_none() && proof.is_none() && u.how == Unreached::Dns {
        return unresolved_unseen(cx, u, &zone, resource, then.as_ref());
    }
    // An older mount: the vault may have been deleted since, which fails the same way.
    let deleted = then.as_ref().map_or_else(String::new, |m| {
        format!(
            "; it existed when {}, and a vault deleted since fails this way too",
            m.said()
        )
    });
    let why = match (vault, private) {
        (None, _) if let Some(m) = &proof => format!(
            "kvchain cannot see the vault, but {}, after this failure began, so it exists under that name: the request from this pod's node does not reach it — a private endpoint whose private DNS zone {zone} is not linked to the node's VNet (or lacks the vault's record) shows this way (the driver's and provider's issue trackers)",
            m.said()
        ),
        (Some(_), true) => format!(
            "the vault denies public access, so the nodes must resolve {} to its private endpoint: the private DNS zone {zone} is not linked to the cluster's VNet (or the endpoint is missing)",
            u.host
        ),
        (Some(_), false) => format!(
            "the vault exists, so the nodes' DNS or egress (a firewall, a proxy, a route) stops the request to {}",
            u.host
        ),
        (None, _) if u.how == Unreached::MountDeadline => format!(
            "kvchain cannot see the vault; a private endpoint whose private DNS zone {zone} is not linked to the cluster's VNet shows this way, and so does a mistyped vault name{deleted}"
        ),
        (None, _) => format!(
            "kvchain cannot see the vault; a private endpoint whose private DNS zone {zone} is not linked to the cluster's VNet shows this way (a mistyped name shows as a DNS failure){deleted}"
        ),
    };
    let message = format!(
        "the nodes cannot reach Key Vault {}: {} {}; {why}",
        u.vault,
        u.host,
        u.how.as_str()
    );
    let confirm = format!(
        "{}  # from a node: a private endpoint answers a private address (via {zone})",
        nslookup_from_node(cx, u.host)
    );
    let link = private_link(cx, u, &zone);
    let fix = if vault.is_some() && !private {
        format!(
            "# let the nodes reach {}:443 (DNS, egress firewall or proxy rules); with a private endpoint instead: {link}",
            u.host
        )
    } else {
        link
    };
    (resource, message, confirm, fix)
}

/// KVC505 for a host that does not resolve while the vaults cannot be read: kvchain cannot
/// tell a name no vault has (KVC506's case) from a private endpoint whose DNS zone is not
/// linked (FACTS §11: both show as a DNS failure), so it says both and how to tell them apart —
/// an existing vault's public name resolves from anywhere, even behind a private endpoint.
fn unresolved_unseen(
    cx: &Ctx,
    u: VaultUnreached,
    zone: &str,
    resource: String,
    then: Option<&Mounted>,
) -> (String, String, String, String) {
    let unseen = vault_gap(&cx.azure().vaults.gaps, u.vault).map_or_else(
        || "kvchain cannot read the vaults".to_string(),
        |why| format!("kvchain cannot see it ({why})"),
    );
    // The visible vault a typo would have meant (audit EE4): the typo branch's fix names it.
    let near = nearest_vault(cx, u.vault);
    let mean = near.map_or_else(String::new, |n| format!(", did you mean {n}?"));
    let fix = format!(
        "# if az keyvault list has no {}: {}; if it has it: {}",
        u.vault,
        rename_vault(cx, near),
        private_link(cx, u, zone)
    );
    let confirm = format!(
        "nslookup {} ; az keyvault list --query \"[].name\" -o tsv  # an existing vault's public name resolves from anywhere, also behind a private endpoint; then from a node: {}",
        u.host,
        nslookup_from_node(cx, u.host)
    );
    // A mount older than the failure: the vault existed then, and may be deleted now (audit
    // EE7; a soft-deleted vault keeps its name, so the name check cannot tell).
    if let Some(m) = then {
        let message = format!(
            "{} does not resolve from the nodes and {unseen}; it existed when {}, before this failure began: either it was deleted since (a soft-deleted vault keeps its name), keyvaultName was edited since (a typo{mean}), or it sits behind a private endpoint whose private DNS zone {zone} is not linked to the cluster's VNet",
            u.host,
            m.said()
        );
        let confirm = format!(
            "az keyvault list-deleted --query \"[?name=='{}'].properties.deletionDate\" -o tsv ; {confirm}",
            u.vault
        );
        let fix = format!(
            "# if az keyvault list-deleted lists {0}: az keyvault recover -n {0}; {1}",
            u.vault,
            fix.trim_start_matches("# ")
        );
        return (resource, message, confirm, fix);
    }
    let message = format!(
        "{} does not resolve from the nodes and {unseen}: either no Key Vault is named {} (a typo in keyvaultName{mean}), or it sits behind a private endpoint whose private DNS zone {zone} is not linked to the cluster's VNet",
        u.host, u.vault
    );
    (resource, message, confirm, fix)
}

/// The command that links the private DNS zone `zone` to the VNet of the pod's node pool
/// (the node resource group's VNet when the pool is on the AKS-managed one: [`node_subnet`]).
fn private_link(cx: &Ctx, u: VaultUnreached, zone: &str) -> String {
    format!(
        "{} && az network private-dns link vnet create -g \"$DNS_ZONE_RG\" -z {zone} -n {}-link -v \"${{SUBNET%/subnets/*}}\" -e false",
        node_subnet(cx),
        u.vault
    )
}

/// The Key Vault DNS suffix of the SPC's `cloudName` without its `vault.` (FACTS §5; public
/// cloud when unset or not a cloud the provider knows by name).
fn vault_suffix(cx: &Ctx) -> &'static str {
    spc_cloud(cx).vault_suffix().trim_start_matches("vault.")
}

fn spc_cloud(cx: &Ctx) -> AzureCloud {
    (cx.params.as_deref())
        .and_then(|p| p.cloud_name.as_deref())
        .and_then(AzureCloud::of_cloud_name)
        .unwrap_or(AzureCloud::Public)
}

/// `vault`'s Key Vault host in the SPC's cloud, `<vault>.<KeyVaultDNSSuffix>` (FACTS §5): the
/// host the provider asked (audit CC4: `vault.azure.net` was said for every cloud).
pub(crate) fn vault_host(cx: &Ctx, vault: &str) -> String {
    format!("{vault}.{}", spc_cloud(cx).vault_suffix())
}

/// Sets `SUBNET` to the id of the subnet of the pod's node pool. A pool on the AKS-managed
/// VNet has no `vnetSubnetId` (it is empty, not an error): its subnet is then the one of the
/// VNet AKS made in the node resource group ([`node_rg`]: from the nodes, else looked up
/// there). Stopped when both print nothing: the commands after it would run with `""` for
/// the subnet (audit XE-paste).
fn node_subnet(cx: &Ctx) -> String {
    let (rg, name) = (aks_rg(cx), aks_name(cx));
    let pool = pod_node_pool(cx).unwrap_or("nodepool1");
    let nodes = node_rg(cx);
    let managed = nodes.before(&format!(
        "SUBNET=\"$(az network vnet list {} --query \"[0].subnets[0].id\" -o tsv)\"",
        nodes.args
    ));
    format!(
        "SUBNET=\"$(az aks nodepool show -g {rg} --cluster-name {name} -n {pool} --query vnetSubnetId -o tsv)\" && {{ [ -n \"$SUBNET\" ] || {{ {managed}; }}; }} && : \"${{SUBNET:?az printed no subnet of node pool {pool}: neither its vnetSubnetId nor a VNet in the node resource group}}\""
    )
}

/// Admits the subnet in `SUBNET` through the vault's firewall. A virtual-network rule needs
/// the subnet's `Microsoft.KeyVault` service endpoint (the rule's
/// `ignoreMissingVnetServiceEndpoint` is off by default, so the rule is refused without it);
/// the endpoint is added to those the subnet has (`--service-endpoints` replaces the list).
fn allow_subnet(kv: &str) -> String {
    format!(
        "az network vnet subnet update --ids \"$SUBNET\" --service-endpoints $(az network vnet subnet show --ids \"$SUBNET\" --query \"serviceEndpoints[].service\" -o tsv | grep -vx Microsoft.KeyVault) Microsoft.KeyVault -o none && az keyvault network-rule add -n {kv} --subnet \"$SUBNET\""
    )
}

/// (confirm, fix) of KVC505 when the vault refuses the cluster's requests (a 403 from its
/// network rules). With publicNetworkAccess Disabled, Key Vault admits only private-endpoint
/// traffic (and trusted services) and ignores its IP and virtual-network rules altogether
/// (the ARM `publicNetworkAccess` property: "even if the firewall rules are present we will
/// not honor the rules"), so a network rule changes nothing there: the fix is a private
/// endpoint in the cluster's VNet with its DNS zone linked, or public access turned back on
/// with the node subnet allowed. Otherwise (public, default Deny) the node subnet's rule.
pub(crate) fn firewall_commands(cx: &Ctx) -> (String, String) {
    let kv = &*cx.keyvault_arg();
    let subnet = node_subnet(cx);
    let allow = allow_subnet(kv);
    let vault = cx.vault.or_else(|| cx.ix.vault(cx.keyvault()));
    if public_access_on(cx) {
        return (
            format!(
                "az keyvault show -n {kv} --query \"{{public:properties.publicNetworkAccess,acls:properties.networkAcls}}\""
            ),
            format!("{subnet} && {allow}  # or a private endpoint reachable from the cluster"),
        );
    }
    // The vault's resource group and id, from the snapshot when it has them.
    let id = vault
        .map(|v| v.resource_id.as_str())
        .filter(|id| !id.is_empty());
    let rg = id
        .and_then(|id| {
            let mut parts = id.split('/');
            parts.find(|p| p.eq_ignore_ascii_case("resourceGroups"))?;
            parts.next().filter(|rg| !rg.is_empty())
        })
        .map_or_else(
            || format!("\"$(az keyvault show -n {kv} --query resourceGroup -o tsv)\""),
            str::to_string,
        );
    let id = id.map_or_else(
        || format!("\"$(az keyvault show -n {kv} --query id -o tsv)\""),
        str::to_string,
    );
    let zone = format!("privatelink.vaultcore.{}", vault_suffix(cx));
    let confirm = format!(
        "az keyvault show -n {kv} --query \"{{public:properties.publicNetworkAccess,privateEndpoints:properties.privateEndpointConnections[].privateEndpoint.id}}\""
    );
    let fix = format!(
        "{subnet} && az network private-endpoint create -g {rg} -n {kv}-pe --subnet \"$SUBNET\" --private-connection-resource-id {id} --group-id vault --connection-name {kv}-pe && {{ az network private-dns zone show -g {rg} -n {zone} -o none 2>/dev/null || az network private-dns zone create -g {rg} -n {zone}; }} && az network private-dns link vnet create -g {rg} -z {zone} -n {kv}-link -v \"${{SUBNET%/subnets/*}}\" -e false && az network private-endpoint dns-zone-group create -g {rg} --endpoint-name {kv}-pe -n default --private-dns-zone {zone} --zone-name vault  # public network access is disabled, so Key Vault ignores network rules and admits only private endpoints (where a central {zone} already serves the cluster's VNet, stop after the endpoint and add its record there); or turn public access back on and allow the node subnet: az keyvault update -n {kv} --public-network-access Enabled --default-action Deny && {allow}"
    );
    (confirm, fix)
}

/// Whether the chain's vault takes public traffic at all: as observed; the vault unread, unless
/// its own 403 says that public access is off (ForbiddenByConnection, "Public network access
/// is disabled"), where network rules are ignored too (audit R5).
pub(crate) fn public_access_on(cx: &Ctx) -> bool {
    match cx.vault.or_else(|| cx.ix.vault(cx.keyvault())) {
        Some(v) => v.network.public_access,
        None => !cx
            .events
            .iter()
            .any(|(_, e)| public_access_refused(&e.message)),
    }
}

/// Whether Key Vault's 403 says it admits no public traffic at all (its error code and
/// message for a request from outside a private endpoint while publicNetworkAccess is
/// Disabled), as opposed to a firewall rule that does not admit the caller.
fn public_access_refused(message: &str) -> bool {
    message.contains("ForbiddenByConnection")
        || message.contains("Public network access is disabled")
}

/// Whether an event is a request that never got an answer: what its link's objects say
/// cannot contradict it (the DNS zone and the route are not read).
pub(crate) fn is_unanswered(message: &str) -> bool {
    crate::chain::events::unanswered(message)
}
