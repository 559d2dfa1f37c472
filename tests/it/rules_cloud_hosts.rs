//! The Key Vault host a finding says was asked is the one of the SPC's cloud (audit CC4).
//! FACTS §5: "Vault URL = `https://<keyvaultName>.<KeyVaultDNSSuffix>/`", the suffix picked
//! by `cloudName`: AzureUSGovernmentCloud `vault.usgovcloudapi.net`, AzureChinaCloud
//! `vault.azure.cn`. A `seen:` line naming `vault.azure.net` there claims a request that was
//! never made.

use kvchain::chain::Code;
use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::snapshot::*;

use super::cause_kit::*;

/// The healthy app in `cloud` (its SPC's cloudName and the cluster's issuer on that cloud's
/// host, so the cloudName is the cluster's own), with its object asked as `object_type`.
fn in_cloud(cloud: &str, issuer_host: &str, object_type: ObjectType) -> Snapshot {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters.insert("cloudName".into(), cloud.into());
    let objects = tk::objects_yaml(&[&[
        ("objectName", &tk::object_name(APP)),
        ("objectType", object_type.as_str()),
        ("objectAlias", "password"),
    ]]);
    tk::set_objects(spc, objects);
    let issuer = tk::ISSUER.replace("oic.prod-aks.azure.com", issuer_host);
    s.cluster.oidc_issuer = Observed::Known(issuer.clone());
    for i in &mut s.azure.identities.items {
        if let Observed::Known(fics) = &mut i.federated_credentials {
            for f in fics {
                f.issuer = issuer.clone();
            }
        }
    }
    s
}

fn seen_get(c: &kvchain::chain::Chain) -> String {
    let f = find(c, Code::KVC601);
    f.evidence
        .iter()
        .find(|e| e.starts_with("GET "))
        .map(ToString::to_string)
        .unwrap_or_else(|| panic!("{f:#?}"))
}

#[test]
fn a_missing_object_in_the_us_government_cloud_names_its_vault_host() {
    let mut s = in_cloud(
        "AzureUSGovernmentCloud",
        "oic.prod-aks.azure.us",
        ObjectType::Secret,
    );
    tk::object_mut(&mut s, APP).state = Observed::Known(None);
    let c = one(&s);
    assert_eq!(
        seen_get(&c),
        format!(
            "GET https://{}.vault.usgovcloudapi.net/secrets/{}: 404",
            tk::vault_name(NS),
            tk::object_name(APP)
        )
    );
}

/// The object exists as a secret and is asked as a key: the 404 was for the key, in China.
#[test]
fn an_object_of_another_type_in_azure_china_names_its_vault_host() {
    let mut s = in_cloud("AzureChinaCloud", "oic.prod-aks.azure.cn", ObjectType::Key);
    s.azure.objects.push(VaultObjectObs {
        vault: tk::vault_name(NS),
        object_type: ObjectType::Key,
        name: tk::object_name(APP),
        state: Observed::Known(None),
    });
    let c = one(&s);
    assert_eq!(
        seen_get(&c),
        format!(
            "GET https://{}.vault.azure.cn/keys/{}: 404",
            tk::vault_name(NS),
            tk::object_name(APP)
        )
    );
}
