//! Which Azure cloud a name belongs to: the SPC `cloudName`, which picks the Key Vault DNS
//! suffix and the AAD login endpoint the provider uses (FACTS §5), and the hosts that tell the
//! cloud a cluster lives in (its OIDC issuer, the AAD authority the webhook injects). One
//! table for the lab's provider and the chain's rules, so the two cannot disagree.

/// The clouds the provider's `cloudName` names (AzureStackCloud, whose endpoints come from a
/// file, is none of them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AzureCloud {
    Public,
    UsGovernment,
    China,
    Germany,
}

impl AzureCloud {
    const ALL: [AzureCloud; 4] = [
        AzureCloud::Public,
        AzureCloud::UsGovernment,
        AzureCloud::China,
        AzureCloud::Germany,
    ];

    /// The `cloudName` that picks it.
    pub fn name(self) -> &'static str {
        match self {
            AzureCloud::Public => "AzurePublicCloud",
            AzureCloud::UsGovernment => "AzureUSGovernmentCloud",
            AzureCloud::China => "AzureChinaCloud",
            AzureCloud::Germany => "AzureGermanCloud",
        }
    }

    /// In words, for a finding.
    pub fn describe(self) -> &'static str {
        match self {
            AzureCloud::Public => "the public cloud",
            AzureCloud::UsGovernment => "the US Government cloud",
            AzureCloud::China => "Azure China",
            AzureCloud::Germany => "Azure Germany",
        }
    }

    /// Key Vault DNS suffix: vault URL = `https://<keyvaultName>.<suffix>/` (FACTS §5).
    pub fn vault_suffix(self) -> &'static str {
        match self {
            AzureCloud::Public => "vault.azure.net",
            AzureCloud::UsGovernment => "vault.usgovcloudapi.net",
            AzureCloud::China => "vault.azure.cn",
            AzureCloud::Germany => "vault.microsoftazure.de",
        }
    }

    /// The AAD endpoint tokens are asked at (FACTS §5).
    pub fn login(self) -> &'static str {
        match self {
            AzureCloud::Public => "https://login.microsoftonline.com/",
            AzureCloud::UsGovernment => "https://login.microsoftonline.us/",
            AzureCloud::China => "https://login.chinacloudapi.cn/",
            AzureCloud::Germany => "https://login.microsoftonline.de/",
        }
    }

    /// The cloud a `cloudName` picks (trimmed, case-insensitive, with go-autorest's Azure CLI
    /// spellings `AzureCloud` and `AzureUSGovernment`, see [`super::known_cloud`]). None for
    /// an empty value (the provider's `--cloud-name` flag decides), AzureStackCloud (its
    /// endpoints come from `cloudEnvFileName`) and a name the provider refuses (KVC302).
    pub fn of_cloud_name(name: &str) -> Option<AzureCloud> {
        match name.trim().to_ascii_lowercase().as_str() {
            "azurepubliccloud" | "azurecloud" => Some(AzureCloud::Public),
            "azureusgovernmentcloud" | "azureusgovernment" => Some(AzureCloud::UsGovernment),
            "azurechinacloud" => Some(AzureCloud::China),
            "azuregermancloud" => Some(AzureCloud::Germany),
            _ => None,
        }
    }

    /// The cloud of an AKS OIDC issuer URL, by its host: `<region>.oic.prod-aks.azure.com`
    /// is the public cloud's (FACTS §7). `.oic.prod-aks.azure.us` (US Government) and
    /// `.oic.prod-aks.azure.cn` (China) are the hosts AKS clusters of those clouds report
    /// (`https://usgovvirginia.oic.prod-aks.azure.us/…`, `https://chinanorth2.oic.prod-aks.azure.cn/…`
    /// in public deployment files; not in FACTS). None for any other issuer: its cloud is not
    /// known, and kvchain does not guess it.
    pub fn of_issuer(issuer: &str) -> Option<AzureCloud> {
        let host = host(issuer)?;
        let (_, tail) = host.split_once(".oic.prod-aks.")?;
        match tail {
            "azure.com" => Some(AzureCloud::Public),
            "azure.us" => Some(AzureCloud::UsGovernment),
            "azure.cn" => Some(AzureCloud::China),
            _ => None,
        }
    }

    /// The cloud of an AAD authority (`AZURE_AUTHORITY_HOST`, which the workload-identity
    /// webhook injects as its cloud's endpoint, FACTS §6), by the login hosts of FACTS §5.
    pub fn of_authority(authority: &str) -> Option<AzureCloud> {
        let host = host(authority)?;
        AzureCloud::ALL.into_iter().find(|c| {
            host == c
                .login()
                .trim_start_matches("https://")
                .trim_end_matches('/')
        })
    }
}

/// The lower-cased host of an `https://` URL.
fn host(url: &str) -> Option<String> {
    let rest = url.trim().strip_prefix("https://")?;
    let end = rest.find(['/', ':', '?']).unwrap_or(rest.len());
    Some(rest[..end].to_ascii_lowercase()).filter(|h| !h.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloud_names_pick_the_provider_endpoints() {
        let gov = AzureCloud::of_cloud_name(" azureUSGovernmentCloud ").unwrap();
        assert_eq!(gov.vault_suffix(), "vault.usgovcloudapi.net");
        assert_eq!(gov.login(), "https://login.microsoftonline.us/");
        assert_eq!(
            AzureCloud::of_cloud_name("AzureChinaCloud").map(AzureCloud::vault_suffix),
            Some("vault.azure.cn")
        );
        assert_eq!(
            AzureCloud::of_cloud_name("AzureCloud"),
            Some(AzureCloud::Public)
        );
        for none in ["", "AzureStackCloud", "Mars"] {
            assert_eq!(AzureCloud::of_cloud_name(none), None, "{none}");
        }
    }

    #[test]
    fn issuer_and_authority_hosts_tell_the_cloud_or_nothing() {
        let of = AzureCloud::of_issuer;
        assert_eq!(
            of("https://westeurope.oic.prod-aks.azure.com/t/g/"),
            Some(AzureCloud::Public)
        );
        assert_eq!(
            of("https://usgovvirginia.oic.prod-aks.azure.us/t/g/"),
            Some(AzureCloud::UsGovernment)
        );
        assert_eq!(
            of("https://chinanorth2.oic.prod-aks.azure.cn/t/g/"),
            Some(AzureCloud::China)
        );
        for none in [
            "https://westeurope.oic.staging-aks.azure.com/t/g/",
            "https://token.actions.githubusercontent.com",
            "oic.prod-aks.azure.com",
            "",
        ] {
            assert_eq!(of(none), None, "{none}");
        }
        assert_eq!(
            AzureCloud::of_authority("https://login.microsoftonline.com/"),
            Some(AzureCloud::Public)
        );
        assert_eq!(
            AzureCloud::of_authority("https://LOGIN.microsoftonline.us"),
            Some(AzureCloud::UsGovernment)
        );
        assert_eq!(AzureCloud::of_authority("https://example.com/"), None);
    }
}
