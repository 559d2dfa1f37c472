//! What the one-cause tests share: the one chain of a snapshot, its cause codes, and the
//! provider's error texts as a failing mount quotes them.

use kvchain::chain::testkit::{self as tk, APP, NS, TENANT};
use kvchain::chain::{Chain, Code, Finding, diagnose};
use kvchain::snapshot::*;

pub(crate) const OTHER_TENANT: &str = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";

pub(crate) fn one(s: &Snapshot) -> Chain {
    let mut chains = diagnose(s);
    assert_eq!(chains.len(), 1);
    chains.remove(0)
}

/// Codes of the findings that are causes (not effects of an earlier broken link).
pub(crate) fn codes(c: &Chain) -> Vec<Code> {
    c.findings()
        .filter(|f| f.follows.is_none())
        .map(|f| f.code)
        .collect()
}

/// The first finding with `code` in any of `chains`.
pub(crate) fn find_any(chains: &[Chain], code: Code) -> &Finding {
    chains
        .iter()
        .flat_map(|c| c.findings())
        .find(|f| f.code == code)
        .unwrap_or_else(|| panic!("{code} missing"))
}

/// Every finding with `code` in `c`.
pub(crate) fn with(c: &Chain, code: Code) -> Vec<&Finding> {
    c.findings().filter(|f| f.code == code).collect()
}

pub(crate) fn find(c: &Chain, code: Code) -> &Finding {
    c.findings()
        .find(|f| f.code == code)
        .unwrap_or_else(|| panic!("{code} missing: {:#?}", c.findings().collect::<Vec<_>>()))
}

pub(crate) fn has_event(f: &Finding) -> bool {
    f.evidence
        .iter()
        .any(|e| e.starts_with("FailedMount") || e.starts_with("FailedToCreateSecret"))
}

/// The provider's error for an AADSTS70021 that presents `issuer` and the app's subject.
pub(crate) fn aadsts70021(issuer: &str) -> String {
    format!(
        "failed to get objectType:secret, objectName:web-db-pass, objectVersion:: ClientAssertionCredential authentication failed. \nPOST https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token\n----\nRESPONSE 400: 400 Bad Request\n----\n{{ \"error\": \"invalid_request\", \"error_description\": \"AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: '{issuer}'. Assertion Subject: 'system:serviceaccount:shop:web'. Assertion Audience: 'api://AzureADTokenExchange'.\", \"error_codes\": [70021] }}"
    )
}

pub(crate) fn aadsts700016(client: &str, tenant: &str) -> String {
    format!(
        "failed to get objectType:secret, objectName:web-db-pass, objectVersion:: ClientAssertionCredential authentication failed. \nPOST https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token\n----\nRESPONSE 400: 400 Bad Request\n----\n{{ \"error\": \"unauthorized_client\", \"error_description\": \"AADSTS700016: Application with identifier '{client}' was not found in the directory '{tenant}'. You may have sent your authentication request to the wrong tenant.\", \"error_codes\": [700016] }}"
    )
}

pub(crate) fn akv10032(vault_tenant: &str, token_tenant: &str) -> String {
    format!(
        "failed to get objectType:secret, objectName:web-db-pass, objectVersion:: GET https://kv-shop.vault.azure.net/secrets/web-db-pass/\n----\nRESPONSE 401: 401 Unauthorized\nERROR CODE: Unauthorized\n----\n{{\"error\":{{\"code\":\"Unauthorized\",\"message\":\"AKV10032: Invalid issuer. Expected one of https://sts.windows.net/{vault_tenant}/, found https://sts.windows.net/{token_tenant}/.\"}}}}"
    )
}

/// The healthy app, not mounted, with one FailedMount carrying `cause`.
pub(crate) fn failing_with(mut s: Snapshot, cause: &str) -> Snapshot {
    tk::unmount(&mut s, APP);
    s.events.items.push(tk::failed_mount(
        NS,
        &tk::pod_name(APP, 0),
        "secrets-store-inline",
        cause,
    ));
    s
}

/// The app's SPC made another provider's (HashiCorp Vault's, with its own parameters): the Azure
/// provider's rules do not judge it.
pub(crate) fn vault_provider(s: &mut Snapshot) {
    let spc = tk::spc_mut(s, APP);
    spc.provider = "vault".into();
    spc.parameters = [
        (
            "vaultAddress".to_string(),
            "http://vault.vault:8200".to_string(),
        ),
        ("roleName".to_string(), "db".to_string()),
    ]
    .into();
    tk::reparse(spc);
}

/// The driver's FailedToCreateSecret on the app's pod when it may not create Secrets (FACTS
/// §11 "Sync needs RBAC": Helm's `syncSecret.enabled=false`).
pub(crate) fn sync_forbidden() -> EventObs {
    EventObs {
        namespace: NS.into(),
        involved_kind: "Pod".into(),
        involved_name: tk::pod_name(APP, 0).into(),
        type_: "Warning".into(),
        reason: "FailedToCreateSecret".into(),
        message: "failed to create Kubernetes secret web-secret: secrets is forbidden: User \"system:serviceaccount:kube-system:secrets-store-csi-driver\" cannot create resource \"secrets\" in API group \"\" in the namespace \"shop\"".into(),
        count: 3,
        source: "csi-secrets-store-controller".into(),
        last_seen: Some(tk::now()),
        ..EventObs::default()
    }
}
