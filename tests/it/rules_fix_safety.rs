//! Fixes that must not break what works, nor fail when pasted: a federated credential created
//! under a name the identity already has replaces that credential (the ARM PUT is "create or
//! update"), and an identity holds at most 20 (FACTS §7); an access policy grants only what
//! the SPC reads and switching a vault's permission model drops every access policy (FACTS
//! §8); the driver is installed with the installer the cluster uses (docs/scenarios.md,
//! `csiDriver.install`).

use kvchain::chain::testkit::{self as tk, APP, ISSUER, NS};
use kvchain::chain::{Code, Finding};
use kvchain::snapshot::*;

use super::rules_runtime::{csi, run};

fn finding(s: &Snapshot, code: Code) -> Finding {
    run(s)
        .iter()
        .flat_map(|c| c.findings())
        .find(|f| f.code == code)
        .cloned()
        .unwrap_or_else(|| panic!("no {code:?}"))
}

fn base_name() -> String {
    format!("{NS}-{}", tk::sa_name(APP))
}

fn credential(name: &str, subject: &str) -> FederatedCredentialObs {
    FederatedCredentialObs {
        name: name.into(),
        issuer: ISSUER.into(),
        subject: subject.into(),
        audiences: vec!["api://AzureADTokenExchange".into()],
        modified_at: None,
    }
}

fn credentials(s: &mut Snapshot) -> &mut Vec<FederatedCredentialObs> {
    match &mut tk::identity_mut(s, APP).federated_credentials {
        Observed::Known(f) => f,
        Observed::Unknown(_) => panic!("testkit credentials are known"),
    }
}

/// The app's credential serves another namespace's workload under the name `<ns>-<sa>`.
fn name_taken_by_another_workload() -> Snapshot {
    let mut s = tk::healthy();
    let fic = tk::fic_mut(&mut s, APP);
    fic.name = base_name();
    fic.subject = "system:serviceaccount:other:app".into();
    s
}

#[test]
fn kvc401_creates_under_a_name_no_credential_of_the_identity_has() {
    let s = name_taken_by_another_workload();
    let f = finding(&s, Code::KVC401);
    assert!(
        !f.fix.contains(&format!("--name {} ", base_name())),
        "would overwrite the other workload's credential: {}",
        f.fix
    );
    assert!(
        f.fix.starts_with(&format!(
            "az identity federated-credential create --name {}-2 ",
            base_name()
        )),
        "{}",
        f.fix
    );
    assert!(f.fix.contains(&format!(
        "--subject system:serviceaccount:{NS}:{}",
        tk::sa_name(APP)
    )));
}

#[test]
fn kvc401_at_twenty_credentials_says_so_instead_of_a_create_that_fails() {
    let mut s = name_taken_by_another_workload();
    for i in 1..20 {
        credentials(&mut s).push(credential(
            &format!("other-{i}"),
            &format!("system:serviceaccount:other{i}:app"),
        ));
    }
    let f = finding(&s, Code::KVC401);
    assert!(f.fix.contains("20 federated credentials"), "{}", f.fix);
    assert!(
        !f.fix.starts_with("az identity federated-credential create"),
        "a 21st create fails: {}",
        f.fix
    );
    assert!(f.fix.contains("federated-credential delete"), "{}", f.fix);
    // What it creates once one is freed still takes no name in use.
    assert!(
        f.fix.contains(&format!("--name {}-2 ", base_name())),
        "{}",
        f.fix
    );
}

#[test]
fn kvc401_at_twenty_credentials_reuses_one_this_namespace_proves_unused() {
    let mut s = name_taken_by_another_workload();
    for i in 1..19 {
        credentials(&mut s).push(credential(
            &format!("other-{i}"),
            &format!("system:serviceaccount:other{i}:app"),
        ));
    }
    // No service account `gone` in the namespace, and no pod runs as it.
    credentials(&mut s).push(credential(
        "old-job",
        &format!("system:serviceaccount:{NS}:gone"),
    ));
    let f = finding(&s, Code::KVC401);
    assert!(
        f.fix
            .starts_with("az identity federated-credential update --name old-job "),
        "{}",
        f.fix
    );
    assert!(f.fix.contains(&format!(
        "--subject system:serviceaccount:{NS}:{}",
        tk::sa_name(APP)
    )));
    // A credential of an existing service account is never reused, even if no pod runs now.
    tk::add_app(&mut s, NS, "gone-app", 0);
    tk::sa_mut(&mut s, "gone-app").name = "gone".into();
    let f = finding(&s, Code::KVC401);
    assert!(!f.fix.contains("--name old-job"), "{}", f.fix);
}

#[test]
fn kvc503_on_an_access_policy_vault_grants_the_read_type_only_and_keeps_the_model() {
    let mut s = tk::healthy();
    tk::vault_mut(&mut s, NS).rbac = false;
    // The app reads one secret and holds only a Secrets User role, which this vault ignores.
    let f = finding(&s, Code::KVC503);
    let pid = tk::principal_id(NS, APP);
    assert_eq!(
        f.fix,
        format!(
            "az keyvault set-policy -n {} --object-id {pid} --secret-permissions get",
            tk::vault_name(NS)
        )
    );
    assert!(!f.fix.contains("enable-rbac-authorization"), "{}", f.fix);
    assert!(f.confirm.contains("accessPolicies"), "{}", f.confirm);
}

#[test]
fn kvc104_helm_cluster_installs_with_helm() {
    let mut s = tk::healthy();
    tk::unmount(&mut s, APP);
    csi(&mut s).installed = false;
    csi(&mut s).install = Some(DriverInstall::Helm);
    let f = finding(&s, Code::KVC104);
    assert!(!f.fix.contains("az aks"), "{}", f.fix);
    assert!(
        f.fix.contains("helm upgrade --install csi-secrets-store secrets-store-csi-driver/secrets-store-csi-driver -n kube-system")
            && f.fix.contains("tokenRequests[0].audience=api://AzureADTokenExchange"),
        "{}",
        f.fix
    );
    // The add-on on an add-on cluster; both when the installer is not known.
    csi(&mut s).install = Some(DriverInstall::AksAddon);
    let f = finding(&s, Code::KVC104);
    assert!(
        crate::xd_paste::after_guards(&f.fix).starts_with("az aks enable-addons")
            && !f.fix.contains("helm"),
        "{}",
        f.fix
    );
    csi(&mut s).install = None;
    let f = finding(&s, Code::KVC104);
    assert!(
        f.fix.contains("az aks enable-addons") && f.fix.contains("helm upgrade --install"),
        "{}",
        f.fix
    );
}
