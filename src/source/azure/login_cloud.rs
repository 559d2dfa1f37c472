//! The cloud the Azure login answered in, said beside a token another cloud refused.
//!
//! Each cloud has its own Entra endpoint and resources (FACTS §5), and a SecretProviderClass
//! without `cloudName` reads the public cloud. A US Government or China login asked for a
//! public resource answers only "AADSTS500011: The resource principal … was not found in the
//! tenant", which names neither the login's cloud nor the one to use (audit CC5): the start-up
//! probe learns the login's cloud, and this credential puts both in front of such an error.

use std::pin::Pin;
use std::sync::Arc;

use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use azure_core::error::ErrorKind;

use super::cloud::{Cloud, Endpoints};

/// `inner`, whose login answered in `login`.
#[derive(Debug)]
pub struct InCloud {
    inner: Arc<dyn TokenCredential>,
    login: Cloud,
    endpoints: Endpoints,
}

impl InCloud {
    pub fn new(inner: Arc<dyn TokenCredential>, login: Cloud, endpoints: Endpoints) -> Self {
        InCloud {
            inner,
            login,
            endpoints,
        }
    }

    /// Why a token for `asked` failed, when the login is in another cloud: first, since a
    /// credential error is shown by its first line.
    fn other_cloud(&self, asked: Cloud) -> Option<String> {
        (asked != self.login).then(|| {
            let default = if asked == Cloud::Public {
                " (no cloudName means AzurePublicCloud)"
            } else {
                ""
            };
            format!(
                "login is in {}, read is in {}{default}: set the SPC's cloudName or az cloud set -n {} && az login",
                self.login.as_str(),
                asked.as_str(),
                asked.az_cli_name()
            )
        })
    }
}

impl TokenCredential for InCloud {
    fn get_token<'a, 'b, 'c, 'd, 'f>(
        &'a self,
        scopes: &'b [&'c str],
        options: Option<TokenRequestOptions<'d>>,
    ) -> Pin<Box<dyn Future<Output = azure_core::Result<AccessToken>> + Send + 'f>>
    where
        'a: 'f,
        'b: 'f,
        'c: 'f,
        'd: 'f,
        Self: 'f,
    {
        Box::pin(async move {
            let e = match self.inner.get_token(scopes, options).await {
                Ok(token) => return Ok(token),
                Err(e) => e,
            };
            let asked = scopes.iter().find_map(|s| self.endpoints.cloud_of_scope(s));
            match asked.and_then(|c| self.other_cloud(c)) {
                Some(why) if matches!(e.kind(), ErrorKind::Credential) => Err(
                    azure_core::Error::with_message(ErrorKind::Credential, format!("{why}; {e}")),
                ),
                _ => Err(e),
            }
        })
    }
}
