//! A request that got no answer is attributed to the host that did not answer (FACTS §11,
//! Network, is about the vault's host). An adal-era token refresh "for request to
//! https://<vault>…" that timed out at "Post https://login.microsoftonline.com/…: dial tcp:
//! i/o timeout" (AKV#186) is Entra ID's login endpoint not answering: no vault network
//! finding (KVC505) blames the vault for it.

use kvchain::chain::Code;
use kvchain::chain::events::{classify, unreached_vault};

const WRAP: &str = "MountVolume.SetUp failed for volume \"secrets-store\" : rpc error: code = Unknown desc = failed to mount secrets store objects for pod shop/catalog-1, err: rpc error: code = Unknown desc = failed to mount objects, error: ";

#[test]
fn an_entra_login_timeout_is_not_the_vault_unreached() {
    let m = format!(
        "{WRAP}keyvault.BaseClient#GetSecret: Failure preparing request: StatusCode=0 -- Original Error: azure.BearerAuthorizer#WithAuthorization: Failed to refresh the Token for request to https://kv-shop-lab.vault.azure.net/secrets/catalog-api-key/?api-version=2016-10-01: StatusCode=0 -- Original Error: adal: Failed to execute the refresh request. Error = 'Post https://login.microsoftonline.com/5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b/oauth2/token?api-version=1.0: dial tcp: i/o timeout'"
    );
    assert_eq!(unreached_vault(&m), None);
    assert_ne!(classify(&m), Some(Code::KVC505));
}

#[test]
fn a_vault_request_that_timed_out_is_still_the_vault() {
    let m = format!(
        "{WRAP}keyvault.BaseClient#GetSecret: Failure sending request: StatusCode=0 -- Original Error: Get https://kv-shop-lab.vault.azure.net/secrets/catalog-api-key/?api-version=2016-10-01: dial tcp 10.1.2.3:443: i/o timeout"
    );
    let u = unreached_vault(&m).expect("the vault did not answer");
    assert_eq!(u.vault, "kv-shop-lab");
    assert_eq!(classify(&m), Some(Code::KVC505));
}
