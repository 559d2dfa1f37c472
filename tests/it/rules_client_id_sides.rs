//! A ServiceAccount client-id that differs from the SPC's clientID (KVC204): codes.yaml's fix
//! is "annotate the ServiceAccount with the SPC clientID … or the reverse". Which one is the
//! snapshot's to say: the identity to keep is the one that exists, has a federated
//! credential for the pod's service account (FACTS §7) and may read the objects (FACTS §8).
//! And the webhook injects the annotation at pod creation only (FACTS §6): every workload
//! running as the account is restarted, not the first one found.

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Code, diagnose};
use kvchain::snapshot::*;

use super::cause_kit::*;

const NOBODY: &str = "11111111-2222-4333-8444-555555555555";
const OTHER_CLIENT: &str = "22222222-3333-4444-8555-666666666666";
const OTHER_PRINCIPAL: &str = "33333333-4444-4555-8666-777777777777";

/// The SPC names `client`; the ServiceAccount keeps the healthy identity's client id.
fn spc_names(client: &str) -> Snapshot {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters.insert("clientID".into(), client.into());
    tk::reparse(spc);
    tk::unmount(&mut s, APP);
    s
}

/// An identity that exists but has no federated credential and no role.
fn add_bare_identity(s: &mut Snapshot) {
    s.azure.identities.items.push(ManagedIdentityObs {
        name: "id-other".into(),
        resource_id: String::new(),
        client_id: OTHER_CLIENT.into(),
        principal_id: OTHER_PRINCIPAL.into(),
        tenant_id: tk::TENANT.into(),
        federated_credentials: Observed::Known(vec![]),
    });
}

fn patch_client(id: &str) -> String {
    format!(
        "kubectl patch secretproviderclass {} -n {NS} --type merge -p '{{\"spec\":{{\"parameters\":{{\"clientID\":\"{id}\"}}}}}}'",
        tk::spc_name(APP)
    )
}

/// Repro A16-1 (1): the SPC's clientID is no identity; the ServiceAccount's is complete.
#[test]
fn a_clientid_of_no_identity_is_fixed_in_the_spc_not_copied_onto_the_service_account() {
    let good = tk::client_id(NS, APP);
    let c = one(&spc_names(NOBODY));
    // One symptom, one cause (audit DD7): the SPC's clientID is KVC301's; the service
    // account, which names the working identity, is not told to change (nor told at all).
    assert!(
        with(&c, Code::KVC204).is_empty(),
        "{:#?}",
        with(&c, Code::KVC204)
    );
    // The identity link's cause gets the same one edit, not a placeholder to look up.
    let k301 = find(&c, Code::KVC301);
    assert!(k301.fix.starts_with(&patch_client(&good)), "{}", k301.fix);
    assert!(!k301.fix.contains("<rg>"), "{}", k301.fix);
}

/// Repro A16-1 (2): the SPC names an identity with no credential and no role; the
/// ServiceAccount's has both. One SPC edit fixes the federation and the access findings.
#[test]
fn an_spc_identity_lacking_credential_and_role_is_replaced_by_the_complete_one() {
    let good = tk::client_id(NS, APP);
    let mut s = spc_names(OTHER_CLIENT);
    add_bare_identity(&mut s);
    let c = one(&s);
    // The federation and access findings are the cause; no KVC204 repeats their edit (DD7).
    assert!(
        with(&c, Code::KVC204).is_empty(),
        "{:#?}",
        with(&c, Code::KVC204)
    );
    for code in [Code::KVC401, Code::KVC501] {
        let f = find(&c, code);
        assert!(f.fix.starts_with(&patch_client(&good)), "{code}: {}", f.fix);
        // Keeping id-other stays possible: its own fix follows as the alternative.
        assert!(f.fix.contains("to keep id-other:"), "{code}: {}", f.fix);
    }
}

/// The SPC's identity is the complete one: the ServiceAccount is annotated (the direction
/// every earlier release gave), with the SPC's client id.
#[test]
fn a_complete_spc_identity_keeps_the_annotate_direction() {
    let good = tk::client_id(NS, APP);
    let mut s = tk::healthy();
    tk::sa_mut(&mut s, APP)
        .annotations
        .insert("azure.workload.identity/client-id".into(), NOBODY.into());
    let c = one(&s);
    let f = find(&c, Code::KVC204);
    let sa = tk::sa_name(APP);
    assert!(
        f.fix.starts_with(&format!(
            "kubectl annotate serviceaccount {sa} -n {NS} azure.workload.identity/client-id={good} --overwrite"
        )),
        "{}",
        f.fix
    );
}

/// Neither identity works: say what each lacks, and give no paste-able copy of either.
#[test]
fn when_neither_identity_is_complete_both_shortfalls_are_said() {
    let mut s = spc_names(OTHER_CLIENT);
    add_bare_identity(&mut s);
    tk::sa_mut(&mut s, APP)
        .annotations
        .insert("azure.workload.identity/client-id".into(), NOBODY.into());
    let c = one(&s);
    let f = find(&c, Code::KVC204);
    assert!(
        f.message.contains("neither works")
            && f.message
                .contains(&format!("clientId {NOBODY} is no managed identity"))
            && f.message.contains("id-other"),
        "{}",
        f.message
    );
    assert!(f.fix.starts_with('#'), "{}", f.fix);
}

/// Unknown is not absent: with the Azure side unread, nothing says which side is broken.
#[test]
fn with_the_azure_side_unknown_the_direction_is_not_guessed_from_it() {
    let mut s = spc_names(NOBODY);
    s.azure = AzureObs::unknown("no Azure credentials");
    let c = one(&s);
    let f = find(&c, Code::KVC204);
    assert!(
        f.fix.starts_with("kubectl annotate serviceaccount"),
        "{}",
        f.fix
    );
    assert!(!f.message.contains("the one to change"), "{}", f.message);
}

/// Repro A14-8: two Deployments run as one ServiceAccount; each holds the injected id until
/// it is recreated, so the fix restarts both (and not an unlabelled bare pod, which the
/// webhook never mutates).
#[test]
fn a_shared_service_account_restarts_every_workload_that_runs_as_it() {
    let mut s = tk::healthy();
    tk::add_app(&mut s, NS, "api", 1);
    let sa = tk::sa_name(APP);
    // Both mount the same SPC as the same account: one KVC204, one fix.
    for p in s
        .pods
        .items
        .iter_mut()
        .filter(|p| p.name.starts_with("api"))
    {
        p.service_account = sa.as_str().into();
        p.volumes[0] = tk::csi_volume("secrets-store-inline", &tk::spc_name(APP));
    }
    let mut bare = s.pods.items.first().cloned().unwrap();
    bare.name = "debug".into();
    bare.owners.clear();
    bare.labels.remove("azure.workload.identity/use");
    s.pods.items.push(bare);
    tk::sa_mut(&mut s, APP)
        .annotations
        .insert("azure.workload.identity/client-id".into(), NOBODY.into());
    // Created under that annotation: every pod holds it (a pod that holds the SPC's id needs
    // no restart, audit X5).
    tk::created_with_client_id(&mut s, NS, NOBODY);
    let chains = diagnose(&s);
    let f = find_any(&chains, Code::KVC204);
    for w in [APP, "api"] {
        assert!(
            f.fix
                .contains(&format!("kubectl rollout restart deployment/{w} -n {NS}")),
            "{w}: {}",
            f.fix
        );
    }
    assert!(!f.fix.contains("debug"), "{}", f.fix);
    // Every chain holding that finding (one key: code, resource, message) carries the same
    // fix, so the report's merged finding does not depend on which chain came first.
    let fixes: std::collections::BTreeSet<&str> = chains
        .iter()
        .flat_map(|c| c.findings())
        .filter(|g| g.code == Code::KVC204 && g.message == f.message)
        .map(|g| g.fix.as_str())
        .collect();
    assert_eq!(fixes.len(), 1, "{fixes:#?}");
}

/// Audit MM3: the ServiceAccount's annotation and the SPC carry the same clientID, which names
/// no identity. The identity this pod is meant to use is still found: the one (and only one)
/// whose federated credential names the pod's subject `system:serviceaccount:<ns>:<sa>`
/// (FACTS §7) and that may read the objects. KVC301's fix patches the SPC to it and annotates
/// the ServiceAccount with it (then restarts the pods holding the old id, FACTS §6), in one go,
/// instead of a placeholder (`az identity show -g <rg> -n <name>`).
#[test]
fn the_same_wrong_clientid_on_both_sides_is_fixed_to_the_federated_identity() {
    let good = tk::client_id(NS, APP);
    let mut s = spc_names(NOBODY);
    tk::sa_mut(&mut s, APP)
        .annotations
        .insert("azure.workload.identity/client-id".into(), NOBODY.into());
    tk::created_with_client_id(&mut s, NS, NOBODY);
    let c = one(&s);
    let k301 = find(&c, Code::KVC301);
    assert!(k301.fix.starts_with(&patch_client(&good)), "{}", k301.fix);
    assert!(!k301.fix.contains("<rg>"), "{}", k301.fix);
    assert!(
        k301.fix.contains(&format!(
            "kubectl annotate serviceaccount {} -n {NS} azure.workload.identity/client-id={good} --overwrite",
            tk::sa_name(APP)
        )),
        "{}",
        k301.fix
    );
    assert!(
        k301.fix
            .contains(&format!("kubectl rollout restart deployment/{APP} -n {NS}")),
        "{}",
        k301.fix
    );
    // Two identities federated for the subject: which one is meant is not the snapshot's to
    // say, so no clientID is guessed.
    let mut twin = (s.azure.identities.items.iter())
        .find(|i| i.client_id == good)
        .expect("the app's identity")
        .clone();
    twin.name = "id-twin".into();
    twin.client_id = OTHER_CLIENT.into();
    s.azure.identities.items.push(twin);
    let c = one(&s);
    let k301 = find(&c, Code::KVC301);
    assert!(!k301.fix.contains(&good), "{}", k301.fix);
}

/// Audit MM3's fix restarts the pods of the account that hold the old id, so the chain reads
/// the account's runners: a pod that starts running as it is in the fix the incremental engine
/// gives, as in a full pass (the engine's dependency index knew runners only for a client-id
/// that differs).
#[test]
fn the_same_wrong_clientid_fix_follows_the_accounts_runners_incrementally() {
    use kvchain::chain::engine::{Change, Engine, Object};
    let mut s = spc_names(NOBODY);
    tk::sa_mut(&mut s, APP)
        .annotations
        .insert("azure.workload.identity/client-id".into(), NOBODY.into());
    tk::created_with_client_id(&mut s, NS, NOBODY);
    let mut engine = Engine::new(s);
    let mut tool = tk::pod_mut(&mut engine.snapshot(), APP).clone();
    tool.name = "tool".into();
    tool.uid = "uid-tool".into();
    tool.owners.clear();
    tool.volumes.clear();
    // Nothing else the app's chain reads: no Secret of its, no SPC.
    for c in tool.containers.iter_mut() {
        c.env.clear();
        c.env_from_secrets.clear();
    }
    tool.image_pull_secrets.clear();
    engine.apply([Change::Upsert(Object::Pod(tool.into()))]);
    let fix_of = |chains: Vec<&kvchain::chain::Chain>| {
        (chains.iter().flat_map(|c| c.findings()))
            .find(|f| f.code == Code::KVC301)
            .map(|f| f.fix.to_string())
            .expect("KVC301")
    };
    let full = diagnose(&engine.snapshot());
    let full = fix_of(full.iter().filter(|c| c.pod != "tool").collect());
    assert!(full.contains("tool"), "the new runner is restarted: {full}");
    assert_eq!(
        fix_of(engine.chains().filter(|c| c.pod != "tool").collect()),
        full
    );
}
