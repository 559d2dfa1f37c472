//! The first Azure call's token (audit CC5). FACTS §5: every cloud has its own Entra endpoint
//! (`https://login.microsoftonline.us/`, `https://login.chinacloudapi.cn/`), and ARM its own
//! resource; Azure/azure-cli#22831: a China login asked for `https://management.azure.com/.default`
//! answers "AADSTS500011: The resource principal named https://management.azure.com was not
//! found in the tenant". Such a login is no missing credential: the probe finds the cloud
//! whose ARM token it gets, and reports the public cloud's error only when none does. A read in
//! another cloud than the login's then names both before that error.

use std::collections::BTreeSet;
use std::pin::Pin;
use std::sync::Arc;

use crate::azure_support;
use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use azure_core::error::ErrorKind;
use kvchain::source::args::AzureArgs;
use kvchain::source::azure::cloud::{Cloud, Endpoints};
use kvchain::source::azure::login_cloud::InCloud;
use kvchain::source::azure::{AzureObserver, AzureWanted, probe};

/// A login in one cloud: a token for that cloud's ARM resource, AADSTS500011 for any other.
#[derive(Debug)]
struct LoggedInTo(&'static str);

impl TokenCredential for LoggedInTo {
    fn get_token<'a, 'b, 'c, 'd, 'f>(
        &'a self,
        scopes: &'b [&'c str],
        _options: Option<TokenRequestOptions<'d>>,
    ) -> Pin<Box<dyn Future<Output = azure_core::Result<AccessToken>> + Send + 'f>>
    where
        'a: 'f,
        'b: 'f,
        'c: 'f,
        'd: 'f,
        Self: 'f,
    {
        let ok = scopes == [self.0];
        let asked = scopes.join(" ");
        Box::pin(async move {
            if ok {
                Ok(AccessToken::new(
                    "fake-token",
                    azure_core::time::OffsetDateTime::now_utc()
                        + azure_core::time::Duration::hours(1),
                ))
            } else {
                Err(azure_core::Error::with_message(
                    azure_core::error::ErrorKind::Credential,
                    format!(
                        "AADSTS500011: The resource principal named {asked} was not found in the tenant"
                    ),
                ))
            }
        })
    }
}

#[tokio::test]
async fn a_us_government_login_is_a_credential() {
    let e = Endpoints::default();
    let cred = LoggedInTo("https://management.usgovcloudapi.net/.default");
    assert!(probe(&cred, &e).await.is_ok());
}

#[tokio::test]
async fn a_china_login_is_a_credential() {
    let e = Endpoints::default();
    let cred = LoggedInTo("https://management.chinacloudapi.cn/.default");
    assert!(probe(&cred, &e).await.is_ok());
}

#[tokio::test]
async fn no_cloud_s_token_reports_the_public_cloud_s_error() {
    let e = Endpoints::default();
    let cred = LoggedInTo("https://nowhere.example/.default");
    let err = probe(&cred, &e).await.expect_err("no cloud grants a token");
    assert!(
        err.to_string()
            .contains("https://management.azure.com/.default"),
        "{err}"
    );
}

#[tokio::test]
async fn the_probe_names_the_cloud_that_answered() {
    let e = Endpoints::default();
    let gov = LoggedInTo("https://management.usgovcloudapi.net/.default");
    assert_eq!(probe(&gov, &e).await.ok(), Some(Cloud::UsGovernment));
    let china = LoggedInTo("https://management.chinacloudapi.cn/.default");
    assert_eq!(probe(&china, &e).await.ok(), Some(Cloud::China));
    let public = LoggedInTo("https://management.azure.com/.default");
    assert_eq!(probe(&public, &e).await.ok(), Some(Cloud::Public));
}

/// A US Government login reading a vault of an SPC without cloudName (the public cloud, FACTS
/// §5): the refusal says which cloud the login is in, which one the read needs and what to do,
/// before the raw AADSTS500011 (audit CC5, FF2-c).
#[tokio::test]
async fn a_token_another_cloud_refuses_names_both_clouds() {
    let e = Endpoints::default();
    let gov = Arc::new(LoggedInTo("https://management.usgovcloudapi.net/.default"));
    let cred = InCloud::new(gov, Cloud::UsGovernment, e.clone());
    let err = cred
        .get_token(&["https://vault.azure.net/.default"], None)
        .await
        .expect_err("the public cloud refuses a US Government login");
    let said = err.to_string();
    assert!(
        said.starts_with(
            "login is in AzureUSGovernmentCloud, read is in AzurePublicCloud (no cloudName means AzurePublicCloud): set the SPC's cloudName or az cloud set -n AzureCloud && az login"
        ),
        "{said}"
    );
    assert!(said.contains("AADSTS500011"), "{said}");
    assert!(matches!(err.kind(), ErrorKind::Credential), "{err:?}");
}

#[tokio::test]
async fn a_china_read_refused_to_a_public_login_names_no_default() {
    let e = Endpoints::default();
    let public = Arc::new(LoggedInTo("https://management.azure.com/.default"));
    let cred = InCloud::new(public, Cloud::Public, e.clone());
    let said = cred
        .get_token(&["https://management.chinacloudapi.cn/.default"], None)
        .await
        .expect_err("China refuses a public login")
        .to_string();
    assert!(
        said.starts_with(
            "login is in AzurePublicCloud, read is in AzureChinaCloud: set the SPC's cloudName or az cloud set -n AzureChinaCloud && az login"
        ),
        "{said}"
    );
}

/// A refusal in the login's own cloud is the credential's own error, untouched: nothing
/// about clouds explains it.
#[tokio::test]
async fn a_refusal_in_the_login_s_own_cloud_is_left_as_it_is() {
    let e = Endpoints::default();
    let gov = Arc::new(LoggedInTo("https://management.usgovcloudapi.net/.default"));
    let cred = InCloud::new(gov, Cloud::UsGovernment, e.clone());
    let said = cred
        .get_token(&["https://vault.usgovcloudapi.net/.default"], None)
        .await
        .expect_err("only the ARM scope is granted")
        .to_string();
    assert!(said.starts_with("AADSTS500011"), "{said}");
    let ok = cred
        .get_token(&["https://management.usgovcloudapi.net/.default"], None)
        .await;
    assert!(ok.is_ok());
}

/// Through the observer: with a US Government login, the public cloud's Resource Graph read is
/// a gap whose reason says so (the reason a user sees as "unknown (why)").
#[tokio::test]
async fn the_observer_s_gap_names_the_login_s_cloud() {
    let e = Endpoints::default();
    let gov = Arc::new(LoggedInTo("https://management.usgovcloudapi.net/.default"));
    let cred = Arc::new(InCloud::new(gov, Cloud::UsGovernment, e.clone()));
    let o = AzureObserver::with_transport(
        azure_support::contoso(),
        cred,
        e,
        &AzureArgs {
            azure_refresh: std::time::Duration::from_secs(3600),
            ..Default::default()
        },
    );
    let w = AzureWanted {
        client_ids: BTreeSet::from([azure_support::CLIENT_ID.to_string()]),
        vaults: BTreeSet::new(),
        objects: BTreeSet::new(),
    };
    let obs = o.observe(&w).await;
    let why = format!("{:?}", obs.identities.gaps);
    assert!(
        why.contains("login is in AzureUSGovernmentCloud, read is in AzurePublicCloud"),
        "{why}"
    );
}
