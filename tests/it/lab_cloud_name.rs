//! The SPC `cloudName` picks the Key Vault DNS suffix and the AAD login endpoint (FACTS §5):
//! AzureUSGovernmentCloud is `vault.usgovcloudapi.net` / `login.microsoftonline.us`,
//! AzureChinaCloud `vault.azure.cn` / `login.chinacloudapi.cn`. Named on a cluster whose
//! identities and vault live in the public cloud, the provider calls
//! `https://<vault>.vault.usgovcloudapi.net/`, which does not resolve: the mount fails as a
//! vault no name resolves to does (FACTS §11 Network), and the diagnosis names the cloudName
//! as the cause (KVC302 on the Identity link, the FailedMount its evidence), where the
//! cluster's cloud is known (its OIDC issuer host, or the AZURE_AUTHORITY_HOST the webhook
//! injected); where it is not known, the link says so and nothing is guessed.

use std::time::Duration;

use kvchain::chain::{Chain, Code, LinkKind, Status, diagnose};
use kvchain::snapshot::Snapshot;
use kvchain::source::lab::world::World;
use kvchain::source::lab::{self, export};
use kvchain::source::manifests;

use crate::lab_nodes::{CLUSTER, HEALTHY, SHOP};

/// The healthy checkout app with `cloudName: <cloud>` in its SecretProviderClass.
fn with_cloud(cloud: &str) -> String {
    let at = "    keyvaultName: kv-shop-lab\n";
    let app = HEALTHY.replacen(at, &format!("{at}    cloudName: {cloud}\n"), 1);
    assert_ne!(app, HEALTHY);
    app
}

fn snapshot(docs: &[&str]) -> Snapshot {
    let sc = lab::scenario::parse(
        "cloud",
        std::path::Path::new("cloud.yaml"),
        &docs.join("\n---\n"),
    )
    .expect("scenario loads");
    let mut w = World::new(sc);
    w.advance(Duration::from_secs(300));
    export::snapshot(&w)
}

fn checkout(chains: &[Chain]) -> &Chain {
    chains
        .iter()
        .find(|c| c.pod.starts_with("checkout-"))
        .expect("checkout chain")
}

fn mounted(s: &Snapshot) -> bool {
    s.spc_statuses
        .items
        .iter()
        .any(|st| st.spc_name == "checkout-kv" && st.mounted)
}

#[test]
fn a_cloud_name_of_another_cloud_fails_the_mount_on_its_vault_host() {
    for (cloud, suffix) in [
        ("AzureUSGovernmentCloud", "vault.usgovcloudapi.net"),
        ("azurechinacloud", "vault.azure.cn"),
    ] {
        let s = snapshot(&[CLUSTER, SHOP, &with_cloud(cloud)]);
        assert!(!mounted(&s), "{cloud}: no SPCPS");
        assert!(
            !s.secrets.items.iter().any(|x| x.name == "checkout-db"),
            "{cloud}"
        );
        let host = format!("kv-shop-lab.{suffix}");
        let want = format!(
            "failed to mount objects, error: failed to get objectType:secret, objectName:checkout-db-password, objectVersion:: GET https://{host}/secrets/checkout-db-password/\nRESPONSE: dial tcp: lookup {host}: no such host"
        );
        assert!(
            s.events
                .items
                .iter()
                .any(|e| e.reason == "FailedMount" && e.message.ends_with(&want)),
            "{cloud}: {:#?}",
            s.events.items
        );
    }
}

/// The public cloud's own names, in any case, change nothing.
#[test]
fn the_cluster_s_own_cloud_mounts() {
    for cloud in ["AzurePublicCloud", "azurepubliccloud", "AzureCloud"] {
        let s = snapshot(&[CLUSTER, SHOP, &with_cloud(cloud)]);
        assert!(mounted(&s), "{cloud}");
        let chains = diagnose(&s);
        assert_eq!(
            checkout(&chains).link(LinkKind::Identity).status,
            Status::Ok
        );
    }
}

#[test]
fn the_diagnosis_names_the_cloud_name_not_the_network() {
    let s = snapshot(&[CLUSTER, SHOP, &with_cloud("AzureUSGovernmentCloud")]);
    let chains = diagnose(&s);
    let c = checkout(&chains);
    let root = c.root_cause().expect("a cause");
    assert_eq!(root.code, Code::KVC302, "{c:#?}");
    assert_eq!(root.link, LinkKind::Identity);
    assert!(
        root.message.contains("cloudName AzureUSGovernmentCloud")
            && root.message.contains("is not the cloud the cluster is in")
            && root.message.contains("the public cloud")
            && root.message.contains("oic.prod-aks.azure.com"),
        "{}",
        root.message
    );
    assert!(
        root.fix.contains("cloudName: AzurePublicCloud"),
        "{}",
        root.fix
    );
    assert!(
        root.evidence
            .iter()
            .any(|e| e.contains("lookup kv-shop-lab.vault.usgovcloudapi.net: no such host")),
        "the FailedMount is its evidence: {:#?}",
        root.evidence
    );
    assert!(
        !c.findings()
            .any(|f| matches!(f.code, Code::KVC505 | Code::KVC506 | Code::KVC701)),
        "one cause: {c:#?}"
    );
    assert_ne!(c.link(LinkKind::Mount).status, Status::Ok);
}

/// A cluster of the US Government cloud (its issuer host) whose SPC says so mounts and reads
/// healthy; the same cluster with the public cloud named is the mismatch.
#[test]
fn a_government_cluster_is_told_by_its_issuer_host() {
    let gov = |doc: &str| {
        doc.replace(
            "westeurope.oic.prod-aks.azure.com",
            "usgovvirginia.oic.prod-aks.azure.us",
        )
    };
    let (cluster, app) = (gov(CLUSTER), gov(&with_cloud("AzureUSGovernmentCloud")));
    let s = snapshot(&[&cluster, SHOP, &app]);
    assert!(mounted(&s));
    let chains = diagnose(&s);
    assert!(
        !checkout(&chains).findings().any(|f| f.code == Code::KVC302),
        "{chains:#?}"
    );
    let public = gov(&with_cloud("AzurePublicCloud"));
    let s = snapshot(&[&cluster, SHOP, &public]);
    assert!(!mounted(&s));
    let chains = diagnose(&s);
    let root = checkout(&chains).root_cause().expect("a cause");
    assert_eq!(root.code, Code::KVC302);
    assert!(
        root.fix.contains("cloudName: AzureUSGovernmentCloud"),
        "{}",
        root.fix
    );
}

fn manifests_chain(app: &str) -> Chain {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("app.yaml"), [SHOP, app].join("\n---\n")).expect("write");
    let snap = manifests::load(&[dir.path().to_path_buf()]).expect("loads");
    let chains = diagnose(&snap);
    chains
        .into_iter()
        .find(|c| c.spc == "checkout-kv")
        .expect("checkout chain")
}

/// `check -f`: the cluster's issuer is not in manifests. A pod template that carries the AAD
/// authority its cloud uses (AZURE_AUTHORITY_HOST) tells the cloud; without it nothing is
/// compared, and the Identity link says so rather than guessing.
#[test]
fn manifests_compare_only_when_they_tell_the_cluster_s_cloud() {
    let gov = with_cloud("AzureUSGovernmentCloud");
    let told = gov.replacen(
        "          env:\n",
        "          env:\n            - name: AZURE_AUTHORITY_HOST\n              value: https://login.microsoftonline.com/\n",
        1,
    );
    assert_ne!(told, gov);
    let c = manifests_chain(&told);
    let f = c
        .findings()
        .find(|f| f.code == Code::KVC302)
        .unwrap_or_else(|| panic!("{c:#?}"));
    assert!(
        f.message.contains("is not the cloud the cluster is in")
            && f.message.contains("AZURE_AUTHORITY_HOST"),
        "{}",
        f.message
    );
    let c = manifests_chain(&gov);
    assert!(!c.findings().any(|f| f.code == Code::KVC302), "{c:#?}");
    let facts: Vec<String> = c
        .link(LinkKind::Identity)
        .facts
        .iter()
        .map(|f| f.observed.to_string())
        .collect();
    assert!(
        facts
            .iter()
            .any(|f| f.contains("AzureUSGovernmentCloud") && f.contains("not known")),
        "{facts:#?}"
    );
}
