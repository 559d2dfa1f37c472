//! `snapshot save` / `check --snapshot`: a live (fake API server) snapshot written, read back
//! and diagnosed the same; `--anonymize` leaves no original name in the file and keeps the
//! diagnosis.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::live_support::*;
use kvchain::chain::{Chain, diagnose};
use kvchain::snapshot::{Snapshot, anonymize, file};
use kvchain::source::live::{LiveSource, Scope};

async fn live_snapshot() -> Snapshot {
    let api = world();
    let server = api.serve().await;
    let live = LiveSource::new(client(&server), "aks-prod-westeu", Scope::All, no_azure())
        .with_options(options());
    tokio::time::timeout(Duration::from_secs(30), live.snapshot())
        .await
        .expect("snapshot within 30s")
}

/// What diagnosis says, without names: per chain its link statuses and codes, sorted.
fn shape(chains: &[Chain]) -> Vec<(Vec<&'static str>, Vec<&'static str>)> {
    let mut v: Vec<_> = chains
        .iter()
        .map(|c| {
            let mut codes: Vec<&'static str> = c.findings().map(|f| f.code.as_str()).collect();
            codes.sort_unstable();
            (c.links.iter().map(|l| l.status.as_str()).collect(), codes)
        })
        .collect();
    v.sort();
    v
}

/// Every name and id an operator would not want in a bug report.
fn originals(s: &Snapshot) -> BTreeSet<String> {
    let mut o = BTreeSet::new();
    o.insert(s.source.label.clone());
    for p in &s.pods.items {
        o.extend([
            p.namespace.to_string(),
            p.name.to_string(),
            p.uid.to_string(),
            p.service_account.to_string(),
        ]);
        o.extend(p.node.as_ref().map(|n| n.to_string()));
    }
    for sa in &s.service_accounts.items {
        o.insert(sa.name.to_string());
        o.extend(sa.annotations.values().cloned());
    }
    for spc in &s.spcs.items {
        o.insert(spc.name.to_string());
        o.extend(spc.parsed.keyvault_name.clone());
        o.extend(spc.parsed.tenant_id.clone());
        o.extend(spc.parsed.client_id.clone());
        o.extend(spc.parsed.objects.iter().map(|x| x.object_name.clone()));
        o.extend(spc.secret_objects.iter().map(|x| x.secret_name.to_string()));
    }
    for sec in &s.secrets.items {
        o.insert(sec.name.to_string());
    }
    for w in &s.workloads.items {
        o.insert(w.name.to_string());
    }
    o.extend(s.cluster.oidc_issuer.known().cloned());
    o.retain(|x| x.len() >= 4 && x != "default");
    o
}

#[tokio::test]
async fn a_live_snapshot_round_trips_through_a_file() {
    let snap = live_snapshot().await;
    assert!(!snap.pods.items.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snap.json");
    std::fs::write(&path, file::to_string(&snap, false).unwrap()).unwrap();
    let back = file::load(&path).unwrap();
    assert_eq!(back.source.label, "aks-prod-westeu");
    assert_eq!(diagnose(&back), diagnose(&snap));
    // No secret bytes: the fake server's Secret values never reach the file.
    let text = std::fs::read_to_string(&path).unwrap();
    for value in [CANARY, CANARY_NAMED, CANARY_LAST_APPLIED, CANARY_UNRELATED] {
        assert!(
            !text.contains(value),
            "a secret value is in the snapshot file"
        );
    }
}

#[tokio::test]
async fn anonymized_snapshots_keep_the_diagnosis_and_drop_every_name() {
    let snap = live_snapshot().await;
    let anon = anonymize::anonymize(&snap).unwrap();
    let text = file::to_string(&anon, true).unwrap();
    let names = originals(&snap);
    assert!(names.len() > 10, "{names:?}");
    for name in &names {
        assert!(
            !text.contains(name.as_str()),
            "{name:?} is still in the anonymized file"
        );
    }
    assert_eq!(shape(&diagnose(&anon)), shape(&diagnose(&snap)));
    assert_eq!(anon.source.label, "anonymized");
}

/// A management group names an organisation's structure as a resource group does: the
/// anonymized file keeps neither, and the vault's management group and the scope of a grant
/// made there keep one pseudonym, so the grant still reaches the vault (audit FF2-a's note).
#[test]
fn anonymizing_replaces_management_group_names_and_keeps_their_grants() {
    let mut snap = kvchain::source::lab::run_check("default", None).unwrap();
    let mg = "/providers/Microsoft.Management/managementGroups/mg-contoso-finance";
    let vault = snap.azure.vaults.items[0].clone();
    snap.azure.vaults.items[0].management_groups = Some(vec![mg.to_string()]);
    // Every grant at the vault moves to its management group: the same grants, inherited.
    for r in &mut snap.azure.role_assignments.items {
        if r.scope.eq_ignore_ascii_case(&vault.resource_id) {
            r.scope = mg.to_string();
        }
    }
    let a = anonymize::anonymize_with(&snap, b"salt").unwrap();
    let text = file::to_string(&a, true).unwrap();
    assert!(
        !text.contains("mg-contoso-finance"),
        "the management group is left in"
    );
    let moved = a
        .azure
        .role_assignments
        .items
        .iter()
        .filter(|r| r.scope.contains("managementGroups/mg-"));
    assert!(
        moved.count() > 0,
        "no grant at the pseudonymous management group"
    );
    assert_eq!(
        a.azure.vaults.items[0]
            .management_groups
            .as_ref()
            .map(|g| g.len()),
        Some(1)
    );
    assert_eq!(shape(&diagnose(&a)), shape(&diagnose(&snap)));
}

#[test]
fn anonymizing_the_lab_is_consistent_and_keeps_the_diagnosis() {
    let snap = kvchain::source::lab::run_check("default", None).unwrap();
    let a = anonymize::anonymize_with(&snap, b"salt").unwrap();
    let b = anonymize::anonymize_with(&snap, b"salt").unwrap();
    assert_eq!(
        file::to_string(&a, true).unwrap(),
        file::to_string(&b, true).unwrap(),
        "same input, same pseudonyms"
    );
    let text = file::to_string(&a, true).unwrap();
    for name in originals(&snap) {
        assert!(!text.contains(name.as_str()), "{name:?} left in");
    }
    for v in &snap.azure.vaults.items {
        assert!(!text.contains(&v.name), "vault {} left in", v.name);
    }
    for i in &snap.azure.identities.items {
        assert!(
            !text.contains(&i.name) && !text.contains(&i.client_id),
            "identity {} left in",
            i.name
        );
    }
    // One namespace maps to one pseudonym everywhere: chains keep their grouping.
    let ns: BTreeSet<_> = diagnose(&a).iter().map(|c| c.namespace.clone()).collect();
    let orig: BTreeSet<_> = diagnose(&snap)
        .iter()
        .map(|c| c.namespace.clone())
        .collect();
    assert_eq!(ns.len(), orig.len());
    assert_eq!(shape(&diagnose(&a)), shape(&diagnose(&snap)));
}

#[test]
fn check_reads_a_snapshot_file_offline() {
    let snap = kvchain::source::lab::run_check("default", None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lab.json");
    std::fs::write(&path, file::to_string(&snap, false).unwrap()).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "--snapshot", path.to_str().unwrap(), "-o", "json"])
        .env("XDG_CONFIG_HOME", dir.path())
        .env("KUBECONFIG", dir.path().join("none"))
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["chains"].as_array().unwrap().len(),
        diagnose(&snap).len()
    );
    assert_eq!(out.status.code(), Some(1), "the lab has error findings");
    std::fs::write(&path, "{\"kvchain_snapshot\": 7}").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "--snapshot", path.to_str().unwrap()])
        .env("XDG_CONFIG_HOME", dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("lab.json") && err.contains("newer"), "{err}");
}

/// FACTS §5: the provider reads `parameters`. A snapshot's `parsed` is the copy the writing
/// kvchain derived from them, so a hand-edited parameter (or a file from an older parser)
/// is diagnosed as the parameters say, and a file without `parsed` loads (audit L5).
#[test]
fn a_snapshot_is_diagnosed_from_its_parameters_not_the_stored_parse() {
    let snap = kvchain::source::lab::run_check("default", None).unwrap();
    let mut v: serde_json::Value =
        serde_json::from_str(&file::to_string(&snap, false).unwrap()).expect("snapshot JSON");
    let spcs = v["snapshot"]["spcs"]["items"].as_array_mut().unwrap();
    let spc = &mut spcs[0];
    let name = spc["name"].as_str().unwrap().to_string();
    spc["parameters"]["keyvaultName"] = "x".into();
    let edited = v.to_string();
    let s = file::from_str(&edited).expect("loads");
    let chains = diagnose(&s);
    let refused = (chains.iter().filter(|c| c.spc == name.as_str()))
        .flat_map(|c| c.findings())
        .find(|f| f.code == kvchain::chain::Code::KVC302 && f.message.contains("\"x\""));
    assert!(refused.is_some(), "{chains:#?}");

    // Without `parsed` at all, the same.
    v["snapshot"]["spcs"]["items"][0]
        .as_object_mut()
        .unwrap()
        .remove("parsed");
    let s = file::from_str(&v.to_string()).expect("loads without parsed");
    assert_eq!(
        s.spcs.items[0].parsed.keyvault_name.as_deref(),
        Some("x"),
        "parsed from parameters"
    );
}
