//! AADSTS70021 under identity binding (audit O6). FACTS §5: identity binding
//! (`useAzureTokenProxy: "true"`) presents the service-account token for audience
//! api://AKSIdentityBinding and needs one federated credential per identity for any number of
//! workloads; §11: which field differs is found by comparing the presented values with each
//! credential of the identity — a known list is compared, never called "not visible". The lab
//! teaches the same (docs/scenarios.md): its binding mount presents the binding audience and
//! is served by the identity's one binding credential.

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Code, Severity};
use kvchain::snapshot::*;

use super::lab_diagnosis::{describe, diagnose};
use super::lab_nodes::{CLUSTER, HEALTHY, SHOP};
use super::rules_runtime::{only, run};

pub(super) const BINDING: &str = "api://AKSIdentityBinding";

pub(super) fn binding_rejected(s: &mut Snapshot, audience: &str) {
    let spc = tk::spc_mut(s, APP);
    spc.parameters
        .insert("useAzureTokenProxy".into(), "true".into());
    tk::reparse(spc);
    tk::unmount(s, APP);
    let pod = tk::pod_name(APP, 0);
    let sa = tk::sa_name(APP);
    s.events.items.push(tk::failed_mount(
        NS,
        &pod,
        "secrets-store-inline",
        &format!(
            "failed to get objectType:secret, objectName:{}, objectVersion:: ClientAssertionCredential authentication failed. \nPOST https://login.microsoftonline.com/{}/oauth2/v2.0/token\n--------\nRESPONSE 400: 400 Bad Request\n--------\n{{ \"error\": \"invalid_request\", \"error_description\": \"AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: '{}'. Assertion Subject: 'system:serviceaccount:{NS}:{sa}'. Assertion Audience: '{audience}'.\", \"error_codes\": [70021] }}",
            tk::object_name(APP),
            tk::TENANT,
            tk::ISSUER
        ),
    ));
}

#[test]
fn a_known_credential_list_is_compared_and_the_fix_is_the_identitys_binding() {
    let mut s = tk::healthy();
    binding_rejected(&mut s, BINDING);
    let f = only(&run(&s), Code::KVC405);
    assert!(!f.message.contains("not visible"), "{}", f.message);
    // The identity's one credential is a workload-identity one: none has the binding audience.
    let fic = tk::fic_mut(&mut s, APP).name.clone();
    assert!(
        f.message.contains("identity binding")
            && f.message.contains(&fic)
            && f.message.contains(&format!("has audience {BINDING}")),
        "{}",
        f.message
    );
    // One credential per identity (the binding's), never one per service account, and never
    // an audience other than the presented one.
    assert!(
        crate::xd_paste::after_guards(&f.fix).starts_with("az aks identity-binding create ")
            && !f.fix.contains("federated-credential create")
            && !f.fix.contains("api://AzureADTokenExchange"),
        "{}",
        f.fix
    );
}

#[test]
fn an_empty_credential_list_is_said_to_be_empty() {
    let mut s = tk::healthy();
    binding_rejected(&mut s, BINDING);
    tk::identity_mut(&mut s, APP).federated_credentials = Observed::Known(vec![]);
    let f = only(&run(&s), Code::KVC405);
    assert!(
        f.message.contains("no federated credential at all") && !f.message.contains("not visible"),
        "{}",
        f.message
    );
}

fn lab(fic_audience: &str, fic_subject: &str) -> Vec<kvchain::chain::Chain> {
    let cluster = CLUSTER.replace(
        "tokenAudiences: [api://AzureADTokenExchange]",
        "tokenAudiences: [api://AzureADTokenExchange, api://AKSIdentityBinding]",
    );
    let healthy = HEALTHY
        .replace(
            "    keyvaultName: kv-shop-lab\n",
            "    keyvaultName: kv-shop-lab\n    useAzureTokenProxy: \"true\"\n",
        )
        .replace(
            "      subject: system:serviceaccount:shop:checkout\n      audiences: [api://AzureADTokenExchange]",
            &format!("      subject: {fic_subject}\n      audiences: [{fic_audience}]"),
        );
    assert_ne!(cluster, CLUSTER);
    assert!(healthy.contains("useAzureTokenProxy") && healthy.contains(fic_subject));
    let sc = kvchain::source::lab::scenario::parse(
        "binding",
        std::path::Path::new("binding.yaml"),
        &[cluster.as_str(), SHOP, healthy.as_str()].join("\n---\n"),
    )
    .expect("scenario loads");
    let mut w = kvchain::source::lab::world::World::new(sc);
    w.run_until_stable(kvchain::source::lab::MAX_SETTLE);
    diagnose(&w)
}

#[test]
fn the_lab_serves_a_binding_mount_from_the_identitys_one_binding_credential() {
    // Not the service account's subject: the binding's credential serves any workload.
    let chains = lab(
        BINDING,
        "system:serviceaccount:kube-system:identity-binding",
    );
    let errors: Vec<_> = chains
        .iter()
        .flat_map(|c| c.findings())
        .filter(|f| f.severity == Severity::Error)
        .collect();
    assert!(errors.is_empty(), "{}", describe(&chains));
}

#[test]
fn the_lab_refuses_a_binding_mount_a_workload_identity_credential_and_teaches_the_binding() {
    let chains = lab(
        "api://AzureADTokenExchange",
        "system:serviceaccount:shop:checkout",
    );
    let f = chains
        .iter()
        .flat_map(|c| c.findings())
        .find(|f| f.code == Code::KVC405)
        .unwrap_or_else(|| panic!("{}", describe(&chains)));
    assert!(
        f.message.contains(&format!("audience {BINDING}")),
        "{}",
        f.message
    );
    assert!(
        f.fix.starts_with("az aks identity-binding create "),
        "{}",
        f.fix
    );
}
