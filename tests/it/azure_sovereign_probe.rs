//! The first Azure call's token (audit CC5). FACTS §5: every cloud has its own Entra endpoint
//! (`https://login.microsoftonline.us/`, `https://login.chinacloudapi.cn/`), and ARM its own
//! resource; Azure/azure-cli#22831: a China login asked for `https://management.azure.com/.default`
//! answers "AADSTS500011: The resource principal named https://management.azure.com was not
//! found in the tenant". Such a login is no missing credential: the probe finds the cloud
//! whose ARM token it gets, and reports the public cloud's error only when none does.

use std::pin::Pin;

use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use kvchain::source::azure::cloud::Endpoints;
use kvchain::source::azure::probe;

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
