//! Azure clouds and their endpoints, chosen by the SPC `cloudName` the way the Azure provider
//! does (case-insensitive, "" ⇒ public). See FACTS §5.

/// The clouds kvchain can talk to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cloud {
    Public,
    UsGovernment,
    China,
}

impl Cloud {
    /// Parse an SPC `cloudName`. `Err` carries the reason the vault cannot be looked up.
    pub fn from_spc(cloud_name: &str) -> Result<Cloud, String> {
        match cloud_name.trim().to_ascii_lowercase().as_str() {
            "" | "azurepubliccloud" => Ok(Cloud::Public),
            "azureusgovernmentcloud" => Ok(Cloud::UsGovernment),
            "azurechinacloud" => Ok(Cloud::China),
            "azuregermancloud" | "azurestackcloud" => Err(format!(
                "cloudName {cloud_name} is not supported by kvchain (public, US Government and China only)"
            )),
            _ => Err(format!(
                "cloudName {cloud_name} is not valid: the Azure provider rejects it too"
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Cloud::Public => "AzurePublicCloud",
            Cloud::UsGovernment => "AzureUSGovernmentCloud",
            Cloud::China => "AzureChinaCloud",
        }
    }

    /// The name `az cloud set --name` takes for it (`az cloud list`).
    pub fn az_cli_name(self) -> &'static str {
        match self {
            Cloud::Public => "AzureCloud",
            Cloud::UsGovernment => "AzureUSGovernment",
            Cloud::China => "AzureChinaCloud",
        }
    }
}

/// Where one cloud's services live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloudEndpoints {
    /// Resource Manager base URL, no trailing slash (`https://management.azure.com`).
    pub arm: String,
    /// Token scope for ARM.
    pub arm_scope: String,
    /// Key Vault DNS suffix (`vault.azure.net`): vault URL = `https://<name>.<suffix>`.
    pub vault_suffix: String,
    /// Token scope for the Key Vault data plane.
    pub vault_scope: String,
}

impl CloudEndpoints {
    pub fn vault_url(&self, vault: &str) -> String {
        format!("https://{vault}.{}", self.vault_suffix)
    }
}

/// The endpoint table. Tests replace entries; production uses [`Endpoints::default`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoints {
    pub public: CloudEndpoints,
    pub us_government: CloudEndpoints,
    pub china: CloudEndpoints,
}

impl Default for Endpoints {
    fn default() -> Self {
        let e = |arm: &str, vault: &str| CloudEndpoints {
            arm: format!("https://{arm}"),
            arm_scope: format!("https://{arm}/.default"),
            vault_suffix: vault.to_string(),
            vault_scope: format!("https://{vault}/.default"),
        };
        Endpoints {
            public: e("management.azure.com", "vault.azure.net"),
            us_government: e("management.usgovcloudapi.net", "vault.usgovcloudapi.net"),
            china: e("management.chinacloudapi.cn", "vault.azure.cn"),
        }
    }
}

impl Endpoints {
    pub fn get(&self, cloud: Cloud) -> &CloudEndpoints {
        match cloud {
            Cloud::Public => &self.public,
            Cloud::UsGovernment => &self.us_government,
            Cloud::China => &self.china,
        }
    }

    /// The cloud whose ARM or Key Vault token `scope` asks for.
    pub fn cloud_of_scope(&self, scope: &str) -> Option<Cloud> {
        [Cloud::Public, Cloud::UsGovernment, Cloud::China]
            .into_iter()
            .find(|c| {
                let e = self.get(*c);
                e.arm_scope == scope || e.vault_scope == scope
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloud_names_match_the_provider() {
        assert_eq!(Cloud::from_spc(""), Ok(Cloud::Public));
        assert_eq!(Cloud::from_spc("AzurePublicCloud"), Ok(Cloud::Public));
        assert_eq!(
            Cloud::from_spc("azureusgovernmentcloud"),
            Ok(Cloud::UsGovernment)
        );
        assert_eq!(Cloud::from_spc(" AzureChinaCloud "), Ok(Cloud::China));
        assert!(Cloud::from_spc("Mars").unwrap_err().contains("Mars"));
        assert!(Cloud::from_spc("AzureStackCloud").is_err());
    }

    #[test]
    fn vault_urls_use_the_cloud_suffix() {
        let e = Endpoints::default();
        assert_eq!(
            e.get(Cloud::China).vault_url("kv1"),
            "https://kv1.vault.azure.cn"
        );
        assert_eq!(
            e.get(Cloud::UsGovernment).arm_scope,
            "https://management.usgovcloudapi.net/.default"
        );
    }
}
