//! `snapshot save --anonymize` round trips (audit QQ): the anonymized file holds no name of
//! the original (QQ2), never rewrites the fixed vocabulary a name may equal (QQ1), and
//! diagnoses the same — codes, severities, links, and the same message and fix up to the
//! names (QQ3: the "did you mean" and case-only branches survive).

use std::collections::{BTreeMap, BTreeSet};

use kvchain::chain::{Chain, diagnose};
use kvchain::snapshot::{Snapshot, anonymize, file};
use regex::Regex;

fn scenarios() -> Vec<&'static str> {
    kvchain::source::lab::builtin_scenarios()
        .into_iter()
        .map(|(n, _)| n)
        .filter(|n| !n.contains(':'))
        .collect()
}

/// The namespaces, Key Vault object names, service accounts and vault names of a snapshot,
/// wherever it names them (vault listings and FIC subjects included).
fn names(s: &Snapshot) -> BTreeSet<String> {
    let mut o = BTreeSet::new();
    for p in &s.pods.items {
        o.insert(p.namespace.to_string());
        o.insert(p.service_account.to_string());
    }
    for sa in &s.service_accounts.items {
        o.insert(sa.namespace.to_string());
        o.insert(sa.name.to_string());
    }
    for spc in &s.spcs.items {
        o.insert(spc.namespace.to_string());
        o.extend(spc.parsed.keyvault_name.clone());
        o.extend(spc.parsed.objects.iter().map(|x| x.object_name.clone()));
    }
    for v in &s.azure.vaults.items {
        o.insert(v.name.clone());
        o.extend(v.object_names.iter().flatten().map(|(_, n)| n.clone()));
    }
    for x in &s.azure.objects {
        o.insert(x.vault.clone());
        o.insert(x.name.clone());
    }
    for i in &s.azure.identities.items {
        for f in i.federated_credentials.known().into_iter().flatten() {
            let parts: Vec<&str> = f.subject.split(':').collect();
            if let [_, _, ns, sa] = parts[..] {
                o.extend([ns.to_string(), sa.to_string()]);
            }
        }
    }
    // Structure, not identity (kept by design), and names too short to be one.
    o.retain(|n| n.len() >= 3 && n != "default" && !n.starts_with("kube-") && n != "cert");
    o
}

/// Whether `name` stands in `text` as a whole token (not glued to a letter, digit, `-`, `_`).
fn has_token(text: &str, name: &str) -> bool {
    let re = Regex::new(&format!(
        r"(^|[^A-Za-z0-9_-]){}($|[^A-Za-z0-9_-])",
        regex::escape(name)
    ))
    .unwrap();
    re.is_match(text)
}

/// Audit QQ2: object names no SPC names, half-replaced names and the namespace and account
/// of a FIC subject stayed verbatim.
#[test]
fn anonymized_builtin_scenarios_hold_none_of_their_names() {
    for sc in scenarios() {
        let snap = kvchain::source::lab::run_check(sc, None).unwrap();
        let text =
            file::to_string(&anonymize::anonymize_with(&snap, b"salt").unwrap(), true).unwrap();
        let left: Vec<_> = names(&snap)
            .into_iter()
            .filter(|n| has_token(&text, n))
            .collect();
        assert!(
            left.is_empty(),
            "{sc}: {left:?} left in the anonymized file"
        );
    }
}

/// A finding as the user reads it.
fn findings(chains: &[Chain]) -> Vec<(String, String, String, String, String)> {
    let mut v: Vec<_> = chains
        .iter()
        .flat_map(|c| c.findings())
        .map(|f| {
            (
                f.code.as_str().to_string(),
                format!("{:?}", f.severity),
                format!("{:?}", f.link),
                f.message.to_string(),
                f.fix.to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

/// The text's tokens: runs of name characters, and every other character on its own.
fn tokens(s: &str) -> Vec<String> {
    let re = Regex::new(r"[A-Za-z0-9._-]+|.").unwrap();
    re.find_iter(s).map(|m| m.as_str().to_string()).collect()
}

/// A token of the anonymized text that is (or holds) a pseudonym or GUID.
fn pseudonymous(t: &str) -> bool {
    let re = Regex::new(
        r"(^|[^A-Za-z])(ns|app|sa|pod|node|secret|ctr|spc|kv|obj|ing|id|fic|rg|mg|aks)-[A-Za-z]{8,}|[0-9a-f]{8}-[0-9a-f]{4}-",
    )
    .unwrap();
    re.is_match(t)
}

/// `plain` and `anon` say the same up to the names: token by token equal, except where the
/// anonymized token is a pseudonym, each original token always standing for the same one.
fn same_up_to_names(
    plain: &str,
    anon: &str,
    map: &mut BTreeMap<String, String>,
) -> Result<(), String> {
    let (p, a) = (tokens(plain), tokens(anon));
    if p.len() != a.len() {
        return Err(format!("{plain:?}\n   vs {anon:?}"));
    }
    for (x, y) in p.iter().zip(&a) {
        if x == y {
            continue;
        }
        if !pseudonymous(y) || map.get(x).is_some_and(|m| m != y) {
            return Err(format!(
                "{x:?} became {y:?} in\n   {plain:?}\n   vs {anon:?}"
            ));
        }
        map.insert(x.clone(), y.clone());
    }
    Ok(())
}

fn assert_same_diagnosis(label: &str, snap: &Snapshot) {
    let anon = anonymize::anonymize_with(snap, b"salt").unwrap();
    let (p, a) = (findings(&diagnose(snap)), findings(&diagnose(&anon)));
    let key = |v: &[(String, String, String, String, String)]| {
        let mut k: Vec<_> = v
            .iter()
            .map(|f| (f.0.clone(), f.1.clone(), f.2.clone()))
            .collect();
        k.sort();
        k
    };
    assert_eq!(
        key(&p),
        key(&a),
        "{label}: codes, severities or links differ"
    );
    // Each original finding has its own anonymized one saying the same.
    let mut left: Vec<_> = a.clone();
    for f in &p {
        let i = left.iter().position(|g| {
            let mut m = BTreeMap::new();
            (&g.0, &g.1, &g.2) == (&f.0, &f.1, &f.2)
                && same_up_to_names(&f.3, &g.3, &mut m).is_ok()
                && same_up_to_names(&f.4, &g.4, &mut m).is_ok()
        });
        match i {
            Some(i) => {
                left.remove(i);
            }
            None => {
                let why: Vec<_> = left
                    .iter()
                    .filter(|g| g.0 == f.0)
                    .map(|g| {
                        let mut m = BTreeMap::new();
                        same_up_to_names(&f.3, &g.3, &mut m)
                            .and_then(|_| same_up_to_names(&f.4, &g.4, &mut m))
                            .unwrap_err()
                    })
                    .collect();
                panic!(
                    "{label}: {} says something else once anonymized:\n{why:#?}",
                    f.0
                );
            }
        }
    }
}

/// Audit QQ3: a near miss ("did you mean catalog-apikey?") and a case-only FIC subject
/// (AADSTS7002138) were pseudonymized apart, so the anonymized file named another cause and
/// fix.
#[test]
fn anonymized_builtin_scenarios_say_the_same_up_to_names() {
    for sc in scenarios() {
        let snap = kvchain::source::lab::run_check(sc, None).unwrap();
        assert_same_diagnosis(sc, &snap);
    }
}

/// docs/scenarios.md's "Complete example", whose workload, account and container are `api`.
fn complete_example() -> String {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/scenarios.md")).unwrap();
    let start = doc.find("## Complete example").expect("the section");
    let body = &doc[start..];
    let open = body.find("```yaml\n").unwrap() + 8;
    let close = body[open..].find("```").unwrap();
    body[open..open + close].to_string()
}

fn lab(yaml: &str) -> Snapshot {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("example.yaml");
    std::fs::write(&path, yaml).unwrap();
    kvchain::source::lab::run_check(path.to_str().unwrap(), None).unwrap()
}

/// Audit QQ1: a Deployment `api` turned `api://AzureADTokenExchange` into `app-…://…`
/// (KVC105, KVC403); one named `secrets` rewrote the CSI driver's name and the
/// `vaults/secrets/getSecret` data action (KVC103, KVC502).
#[test]
fn a_name_equal_to_a_vocabulary_word_leaves_the_vocabulary_alone() {
    let api = complete_example();
    assert!(
        api.contains("serviceAccountName: api"),
        "the example names its app api"
    );
    // Every `api` that is a name (not the audience's scheme) renamed `secrets`.
    let name = Regex::new(r"(^|[^A-Za-z0-9_.])api($|[^A-Za-z0-9_:])").unwrap();
    let mut secrets = api.clone();
    while name.is_match(&secrets) {
        secrets = name.replace_all(&secrets, "${1}secrets${2}").into_owned();
    }
    assert!(secrets.contains("serviceAccountName: secrets"));
    for (label, yaml) in [("api", api), ("secrets", secrets)] {
        let snap = lab(&yaml);
        let text =
            file::to_string(&anonymize::anonymize_with(&snap, b"salt").unwrap(), true).unwrap();
        for word in [
            "api://AzureADTokenExchange",
            "secrets-store.csi.k8s.io",
            "Microsoft.KeyVault/vaults/secrets/getSecret/action",
        ] {
            assert!(text.contains(word), "{label}: {word} rewritten");
        }
        assert_same_diagnosis(label, &snap);
    }
}

/// A StatefulSet's CSI volume its claim template replaces is kept on the workload as written
/// (KVC710 names it): the SecretProviderClass it names is a name, anonymized there too, even
/// where no SecretProviderClass object of that name was read.
#[test]
fn a_claim_replaced_volume_s_spc_name_is_anonymized() {
    use kvchain::snapshot::{VolumeObs, VolumeSourceObs, WorkloadObs};
    let mut snap = lab(&complete_example());
    let attributes = [("secretProviderClass".to_string(), "zqledger".to_string())].into();
    snap.workloads.items.push(WorkloadObs {
        kind: "StatefulSet".into(),
        namespace: "shop".into(),
        name: "orders".into(),
        claim_replaced: vec![VolumeObs {
            name: "data".into(),
            source: VolumeSourceObs::Csi {
                driver: "secrets-store.csi.k8s.io".into(),
                read_only: Some(true),
                attributes,
                node_publish_secret: None,
            },
        }],
        ..Default::default()
    });
    let text = file::to_string(&anonymize::anonymize_with(&snap, b"salt").unwrap(), true).unwrap();
    assert!(text.contains("claim_replaced"), "the volume is kept");
    let at = text.find("claim_replaced").unwrap();
    assert!(!text.contains("zqledger"), "{}", &text[at..at + 600]);
}

/// A node's providerID names the node resource group and its scale set (audit XE-paste): names
/// of the user's Azure estate, anonymized like the cluster's resource group and the node's
/// name; the fixes the snapshot gives name the pseudonyms, the same up to the names.
#[test]
fn a_nodes_resource_group_and_scale_set_are_anonymized() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/lab/xe-paste-node-rg-from-provider-id.yaml"
    );
    let snap = kvchain::source::lab::run_check(path, None).unwrap();
    let text = file::to_string(&anonymize::anonymize_with(&snap, b"salt").unwrap(), true).unwrap();
    for name in ["nodes-xep-custom", "aks-nodepool1-31415926-vmss"] {
        assert!(text.contains("providerID") || text.contains("provider_id"));
        assert!(!has_token(&text, name), "{name} left in:\n{text}");
    }
    assert_same_diagnosis("node resource group", &snap);
}
