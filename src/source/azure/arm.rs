//! Azure Resource Manager reads: Resource Graph look-ups (identities by clientId, vaults by
//! name — one query for all of them), federated identity credentials, role assignments and
//! custom role definitions. Parsing is split from fetching so it is tested on its own.

use azure_core::http::Method;
use serde_json::{Value, json};

use super::cloud::CloudEndpoints;
use super::http::{FetchError, Http};
use super::roles::RoleDef;
use crate::snapshot::{AccessPolicyObs, FederatedCredentialObs, NetworkObs, Observed};

pub const RESOURCE_GRAPH_API: &str = "2022-10-01";
pub const MSI_API: &str = "2023-01-31";
pub const AUTHORIZATION_API: &str = "2022-04-01";
/// Resource Graph returns at most 1000 rows a page; 5 pages cover any realistic cluster.
const GRAPH_MAX_PAGES: usize = 5;
/// ARM list pages (FICs: max 20 per identity; role assignments on one vault).
pub const ARM_MAX_PAGES: usize = 10;

/// Values interpolated into a Resource Graph query: GUIDs and vault names only, so a hostile
/// SPC cannot inject KQL. Anything else is refused before a request is made.
pub fn is_safe_token(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

fn kql_list<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    values
        .into_iter()
        .map(|v| format!("'{v}'"))
        .collect::<Vec<_>>()
        .join(",")
}

pub fn identities_query<'a>(client_ids: impl IntoIterator<Item = &'a str>) -> String {
    format!(
        "resources | where type =~ 'microsoft.managedidentity/userassignedidentities' \
         | where tostring(properties.clientId) in~ ({}) | project id, name, properties",
        kql_list(client_ids)
    )
}

pub fn vaults_query<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    format!(
        "resources | where type =~ 'microsoft.keyvault/vaults' | where name in~ ({}) \
         | project id, name, properties",
        kql_list(names)
    )
}

/// Run a Resource Graph query over `subscriptions` (empty ⇒ every subscription the
/// credential can see) and return its rows.
pub async fn graph(
    http: &Http,
    ep: &CloudEndpoints,
    subscriptions: &[String],
    query: &str,
) -> Result<Vec<Value>, FetchError> {
    let url = format!(
        "{}/providers/Microsoft.ResourceGraph/resources?api-version={RESOURCE_GRAPH_API}",
        ep.arm
    );
    let mut rows = Vec::new();
    let mut skip: Option<String> = None;
    for _ in 0..GRAPH_MAX_PAGES {
        let mut options = json!({"resultFormat": "objectArray", "$top": 1000});
        if let Some(s) = &skip {
            options["$skipToken"] = Value::String(s.clone());
        }
        let mut body = json!({"query": query, "options": options});
        if !subscriptions.is_empty() {
            body["subscriptions"] = json!(subscriptions);
        }
        let page = http
            .json(&ep.arm_scope, Method::Post, &url, Some(&body))
            .await?;
        if let Some(data) = page.get("data").and_then(Value::as_array) {
            rows.extend(data.iter().cloned());
        }
        skip = page
            .get("$skipToken")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        if skip.is_none() {
            return Ok(rows);
        }
    }
    // Rows left unread: what they hold would look absent.
    Err(FetchError::other(format!(
        "Resource Graph: more than {GRAPH_MAX_PAGES} pages, not all read"
    )))
}

fn s(v: &Value, path: &[&str]) -> String {
    let mut cur = v;
    for p in path {
        match cur.get(p) {
            Some(n) => cur = n,
            None => return String::new(),
        }
    }
    cur.as_str().unwrap_or_default().to_string()
}

/// The strings of a JSON array (`actions`, `dataActions`…); anything else is empty.
pub(super) fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// A managed identity row (Resource Graph or UserAssignedIdentities_Get).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityRow {
    pub id: String,
    pub name: String,
    pub client_id: String,
    pub principal_id: String,
    pub tenant_id: String,
}

pub fn parse_identity(v: &Value) -> Option<IdentityRow> {
    let client_id = s(v, &["properties", "clientId"]);
    if client_id.is_empty() {
        return None;
    }
    Some(IdentityRow {
        id: s(v, &["id"]),
        name: s(v, &["name"]),
        client_id,
        principal_id: s(v, &["properties", "principalId"]),
        tenant_id: s(v, &["properties", "tenantId"]),
    })
}

pub fn parse_fic(v: &Value) -> FederatedCredentialObs {
    // ARM's `systemData` on the credential (REST spec from 2023-01-31, MSI_API): the last
    // change, else the creation (no change can come before it). Unparsed: not known.
    let at = |field: &str| s(v, &["systemData", field]).parse().ok();
    FederatedCredentialObs {
        name: s(v, &["name"]),
        issuer: s(v, &["properties", "issuer"]),
        subject: s(v, &["properties", "subject"]),
        audiences: strings(v.get("properties").and_then(|p| p.get("audiences"))),
        modified_at: at("lastModifiedAt").or_else(|| at("createdAt")),
    }
}

pub async fn federated_credentials(
    http: &Http,
    ep: &CloudEndpoints,
    identity_id: &str,
) -> Result<Vec<FederatedCredentialObs>, FetchError> {
    let url = format!(
        "{}{identity_id}/federatedIdentityCredentials?api-version={MSI_API}",
        ep.arm
    );
    let items = http.list(&ep.arm_scope, &url, ARM_MAX_PAGES).await?;
    Ok(items.iter().map(parse_fic).collect())
}

pub const KEYVAULT_API: &str = "2023-07-01";

/// Whether any vault holds the name `name`: Key Vault names are globally unique (they are DNS
/// names), and `Vaults - Check Name Availability` answers for every subscription and tenant,
/// so it tells a name no vault has from a vault Resource Graph could not see (audit EE4). Asked
/// in any subscription the credential may use. `nameAvailable: false` is "in use" (a vault,
/// possibly soft-deleted, holds it); an answer without the field is no answer.
pub async fn vault_name_in_use(
    http: &Http,
    ep: &CloudEndpoints,
    subscription: &str,
    name: &str,
) -> Result<bool, FetchError> {
    let url = format!(
        "{}/subscriptions/{subscription}/providers/Microsoft.KeyVault/checkNameAvailability?api-version={KEYVAULT_API}",
        ep.arm
    );
    let body = json!({"name": name, "type": "Microsoft.KeyVault/vaults"});
    let v = http
        .json(&ep.arm_scope, Method::Post, &url, Some(&body))
        .await?;
    v.get("nameAvailable")
        .and_then(Value::as_bool)
        .map(|available| !available)
        .ok_or_else(|| FetchError::other("checkNameAvailability answered without nameAvailable"))
}

/// The subscription GUID of an ARM id (`/subscriptions/<guid>/…`).
pub fn subscription_of(id: &str) -> Option<&str> {
    let rest = id.strip_prefix("/subscriptions/")?;
    let sub = rest.split('/').next()?;
    is_safe_token(sub).then_some(sub)
}

/// A vault as Resource Graph returns it, already reduced to the observation.
#[derive(Clone, Debug)]
pub struct VaultRow {
    pub id: String,
    pub name: String,
    pub tenant_id: String,
    pub rbac: bool,
    pub access_policies: Vec<AccessPolicyObs>,
    pub network: NetworkObs,
    /// `enablePurgeProtection`: ARM writes it only once it is on (it cannot be turned off).
    pub purge_protection: bool,
}

pub fn parse_vault(v: &Value) -> Option<VaultRow> {
    let name = s(v, &["name"]);
    let props = v.get("properties")?;
    if name.is_empty() {
        return None;
    }
    let access_policies = props
        .get("accessPolicies")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|p| {
                    let perms = p.get("permissions");
                    AccessPolicyObs {
                        object_id: s(p, &["objectId"]),
                        tenant_id: s(p, &["tenantId"]),
                        secrets: strings(perms.and_then(|x| x.get("secrets"))),
                        keys: strings(perms.and_then(|x| x.get("keys"))),
                        certificates: strings(perms.and_then(|x| x.get("certificates"))),
                        // kvchain live reads no directory: not known.
                        principal_exists: None,
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    Some(VaultRow {
        id: s(v, &["id"]),
        name,
        tenant_id: s(props, &["tenantId"]),
        // Absent ⇒ access policies: the ARM default for vaults created before RBAC became
        // the portal default.
        rbac: props
            .get("enableRbacAuthorization")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        access_policies,
        network: parse_network(props),
        purge_protection: props.get("enablePurgeProtection").and_then(Value::as_bool) == Some(true),
    })
}

/// The vault firewall as far as kvchain can judge it. It cannot see the cluster's egress IPs
/// or subnet from here, so a default-deny firewall with rules stays unknown rather than guessed.
pub fn parse_network(props: &Value) -> NetworkObs {
    let public_access = !s(props, &["publicNetworkAccess"]).eq_ignore_ascii_case("disabled");
    let acls = props.get("networkAcls");
    let default_deny = acls
        .map(|a| s(a, &["defaultAction"]).eq_ignore_ascii_case("deny"))
        .unwrap_or(false);
    let count = |k: &str| {
        acls.and_then(|a| a.get(k))
            .and_then(Value::as_array)
            .map_or(0, Vec::len)
    };
    let (ip_rules, vnet_rules) = (count("ipRules"), count("virtualNetworkRules"));
    let private_endpoints = props
        .get("privateEndpointConnections")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let cluster_allowed = if !public_access {
        if private_endpoints == 0 {
            Observed::Known(false)
        } else {
            Observed::unknown(format!(
                "public network access is disabled; reachable only through {private_endpoints} private endpoint(s), which kvchain cannot match to the cluster"
            ))
        }
    } else if !default_deny {
        Observed::Known(true)
    } else if ip_rules + vnet_rules + private_endpoints == 0 {
        Observed::Known(false)
    } else {
        Observed::unknown(format!(
            "vault firewall denies by default with {ip_rules} IP rule(s), {vnet_rules} virtual network rule(s) and {private_endpoints} private endpoint(s); kvchain cannot match the cluster's egress against them"
        ))
    };
    NetworkObs {
        public_access,
        default_deny,
        cluster_allowed,
    }
}

/// A role assignment before its definition is resolved.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AssignmentRow {
    pub principal_id: String,
    pub role_definition_id: String,
    pub scope: String,
    /// ARM's `principalType` (`Group` grants through a membership kvchain cannot read).
    pub principal_type: String,
    /// ARM's `createdOn` (when the assignment was made), when it parses.
    pub created_on: Option<jiff::Timestamp>,
}

pub fn parse_assignment(v: &Value) -> Option<AssignmentRow> {
    let principal_id = s(v, &["properties", "principalId"]);
    let role_definition_id = s(v, &["properties", "roleDefinitionId"]);
    if principal_id.is_empty() || role_definition_id.is_empty() {
        return None;
    }
    Some(AssignmentRow {
        principal_id,
        role_definition_id,
        scope: s(v, &["properties", "scope"]),
        principal_type: s(v, &["properties", "principalType"]),
        created_on: s(v, &["properties", "createdOn"]).parse().ok(),
    })
}

/// Role assignments that apply at `vault_id`: without a filter ARM returns those at, above
/// (resource group, subscription, management group) and below (object scopes) the vault —
/// exactly the inherited and object-level ones the access rules need, in one call per vault.
pub async fn role_assignments(
    http: &Http,
    ep: &CloudEndpoints,
    vault_id: &str,
) -> Result<Vec<AssignmentRow>, FetchError> {
    let url = format!(
        "{}{vault_id}/providers/Microsoft.Authorization/roleAssignments?api-version={AUTHORIZATION_API}",
        ep.arm
    );
    let items = http.list(&ep.arm_scope, &url, ARM_MAX_PAGES).await?;
    Ok(items.iter().filter_map(parse_assignment).collect())
}

/// The principal's role assignments anywhere in `subscription` (ARM's `principalId eq`
/// filter returns those "at, above or below the scope for the specified principal", Microsoft
/// Learn, Role Assignments - List For Scope): a grant made at another resource group than
/// the vault's, which no vault listing returns, is found here (KVC501 names it).
pub async fn principal_role_assignments(
    http: &Http,
    ep: &CloudEndpoints,
    subscription: &str,
    principal_id: &str,
) -> Result<Vec<AssignmentRow>, FetchError> {
    if !is_safe_token(subscription) || !is_safe_token(principal_id) {
        return Err(FetchError::other("not a subscription and principal id"));
    }
    let url = format!(
        "{}/subscriptions/{subscription}/providers/Microsoft.Authorization/roleAssignments?api-version={AUTHORIZATION_API}&$filter=principalId%20eq%20'{principal_id}'",
        ep.arm
    );
    let items = http.list(&ep.arm_scope, &url, ARM_MAX_PAGES).await?;
    Ok(items.iter().filter_map(parse_assignment).collect())
}

pub fn parse_role_definition(v: &Value) -> RoleDef {
    let props = v.get("properties").unwrap_or(v);
    let mut data_actions = Vec::new();
    let mut not_data_actions = Vec::new();
    for p in props
        .get("permissions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        data_actions.extend(strings(p.get("dataActions")));
        not_data_actions.extend(strings(p.get("notDataActions")));
    }
    RoleDef {
        name: s(props, &["roleName"]),
        data_actions,
        not_data_actions,
    }
}

/// A custom role's definition (built-ins are resolved from the fixed table).
pub async fn role_definition(
    http: &Http,
    ep: &CloudEndpoints,
    role_definition_id: &str,
) -> Result<RoleDef, FetchError> {
    let url = format!(
        "{}{role_definition_id}?api-version={AUTHORIZATION_API}",
        ep.arm
    );
    let v = http.json(&ep.arm_scope, Method::Get, &url, None).await?;
    Ok(parse_role_definition(&v))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 403 older than the grant that lets the read through now is history (FACTS §11):
    /// when the assignment was made is ARM's `properties.createdOn`, kept as read.
    #[test]
    fn an_assignment_keeps_when_it_was_made() {
        let v = json!({"properties": {
            "principalId": "p", "roleDefinitionId": "r", "scope": "/subscriptions/s",
            "principalType": "ServicePrincipal", "createdOn": "2026-01-15T09:10:00.1234567Z"
        }});
        let row = parse_assignment(&v).unwrap();
        assert_eq!(
            row.created_on,
            Some("2026-01-15T09:10:00.1234567Z".parse().unwrap())
        );
        let bare = json!({"properties": {"principalId": "p", "roleDefinitionId": "r"}});
        assert_eq!(parse_assignment(&bare).unwrap().created_on, None);
    }

    /// A federated credential corrected in place is judged against its last change (FACTS
    /// §11): ARM's `systemData.lastModifiedAt` (bicep-types-az, Microsoft.ManagedIdentity
    /// 2023-01-31: systemData on federatedIdentityCredentials), else `createdAt`, else unknown.
    #[test]
    fn a_credential_keeps_when_it_last_changed() {
        let props = json!({"issuer": "i", "subject": "s", "audiences": ["a"]});
        let v = json!({"name": "f", "properties": props, "systemData": {
            "createdAt": "2026-01-15T09:00:00Z", "lastModifiedAt": "2026-01-15T09:10:00.1234567Z"}});
        assert_eq!(
            parse_fic(&v).modified_at,
            Some("2026-01-15T09:10:00.1234567Z".parse().unwrap())
        );
        let created = json!({"name": "f", "properties": props,
            "systemData": {"createdAt": "2026-01-15T09:00:00Z"}});
        assert_eq!(
            parse_fic(&created).modified_at,
            Some("2026-01-15T09:00:00Z".parse().unwrap())
        );
        let bare = json!({"name": "f", "properties": props});
        assert_eq!(parse_fic(&bare).modified_at, None);
    }

    #[test]
    fn queries_only_take_plain_tokens() {
        assert!(is_safe_token("4024ab25-56a8-4370-aea6-6389221caf29"));
        assert!(!is_safe_token("x') | project secrets //"));
        assert!(!is_safe_token(""));
        let q = identities_query(["a-1", "b-2"]);
        assert!(q.contains("in~ ('a-1','b-2')"), "{q}");
    }

    #[test]
    fn firewall_default_deny_with_rules_is_unknown() {
        let n = parse_network(&json!({
            "publicNetworkAccess": "Enabled",
            "networkAcls": {"defaultAction": "Deny", "ipRules": [{"value": "1.2.3.4/32"}]}
        }));
        assert!(n.default_deny && n.public_access);
        assert!(
            n.cluster_allowed
                .unknown_reason()
                .unwrap()
                .contains("1 IP rule")
        );
        let open = parse_network(&json!({}));
        assert_eq!(open.cluster_allowed, Observed::Known(true));
        let closed = parse_network(&json!({"publicNetworkAccess": "Disabled"}));
        assert_eq!(closed.cluster_allowed, Observed::Known(false));
    }
}
