//! One ServiceAccount run by two workloads whose SPCs name different identities (audit LL1).
//! The account holds one `azure.workload.identity/client-id` (FACTS §6): when it is one SPC's
//! identity, annotating it with the other's only moves KVC204 to the first SPC, and the next
//! run's fix moves it back. The fix never flips the annotation, restarts no workload, and
//! points the disagreeing SPC at the account's identity instead (or says to split the
//! account): applied, no KVC204 is left.

const ONE: &str = "11111111-2222-4333-8444-555555555555";
const TWO: &str = "aaaaaaaa-2222-4333-8444-555555555555";

fn spc(name: &str, client: &str) -> String {
    format!(
        "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {{name: {name}, namespace: team-a}}\nspec:\n  provider: azure\n  parameters: {{clientID: '{client}', keyvaultName: kv-team-a, tenantID: 72f988bf-86f1-41af-91ab-2d7cd011db47, objects: \"array:\\n  - |\\n    objectName: db\\n    objectType: secret\\n\"}}\n"
    )
}

fn sa(client: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app-sa\n  namespace: team-a\n  annotations: {{azure.workload.identity/client-id: '{client}'}}\n"
    )
}

fn deploy(name: &str, spc: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: team-a}}\nspec:\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}, azure.workload.identity/use: 'true'}}}}\n    spec:\n      serviceAccountName: app-sa\n      containers:\n      - name: c\n        image: i\n        volumeMounts: [{{name: kv, mountPath: /mnt/kv, readOnly: true}}]\n      volumes:\n      - name: kv\n        csi: {{driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {{secretProviderClass: {spc}}}}}\n"
    )
}

fn run(annotated: &str, other_kv: &str) -> serde_json::Value {
    let docs = [
        sa(annotated),
        spc("app-kv", ONE),
        spc("other-kv", other_kv),
        deploy("one", "app-kv"),
        deploy("two", "other-kv"),
    ];
    let docs: Vec<&str> = docs.iter().map(String::as_str).collect();
    crate::manifest_run::check_docs(&docs).1
}

#[test]
fn the_annotation_another_spc_agrees_with_is_never_flipped() {
    // Either annotation: the SPC that disagrees with it is the one to move.
    for (annotated, moved, kept) in [(ONE, "other-kv", "app-kv"), (TWO, "app-kv", "other-kv")] {
        let r = run(annotated, TWO);
        let found = crate::manifest_run::findings_of(&r, "KVC204");
        assert_eq!(found.len(), 1, "{r:#}");
        let f = &found[0];
        assert!(
            f["chain"].as_str().unwrap().ends_with(&format!("/{moved}")),
            "{f:#}"
        );
        let fix = f["fix"].as_str().unwrap();
        assert!(!fix.contains("kubectl annotate"), "{fix}");
        assert!(!fix.contains("rollout restart"), "{fix}");
        assert!(
            fix.contains(&format!(
                "kubectl patch secretproviderclass {moved} -n team-a"
            )) && fix.contains(&format!("\"clientID\":\"{annotated}\"")),
            "{fix}"
        );
        assert!(fix.contains(kept), "names the SPC that agrees: {fix}");
    }
    // The patch applied: both SPCs on the account's identity, nothing left to flip.
    let r = run(ONE, ONE);
    assert!(
        crate::manifest_run::findings_of(&r, "KVC204").is_empty(),
        "{r:#}"
    );
}

/// Audit NN2: the account's annotation names neither SPC's identity. Per SPC, "annotate it with
/// this SPC's clientID" gave the one account two contradictory values. Every chain now prints
/// one plan for the account (FACTS §6: one identity per account): one annotation value, and
/// every other SPC moved onto that identity. The plan applied as printed leaves no KVC204.
#[test]
fn an_annotation_neither_spc_uses_gets_one_plan_for_the_account() {
    const NINE: &str = "99999999-2222-4333-8444-555555555555";
    let r = run(NINE, TWO);
    let found = crate::manifest_run::findings_of(&r, "KVC204");
    assert!(!found.is_empty(), "{r:#}");
    let mut values = std::collections::BTreeSet::new();
    let mut patched = std::collections::BTreeMap::new();
    for f in &found {
        let fix = f["fix"].as_str().unwrap();
        for part in fix.split("kubectl annotate serviceaccount app-sa -n team-a azure.workload.identity/client-id=").skip(1) {
            values.insert(part.split(' ').next().unwrap().to_string());
        }
        for part in fix.split("kubectl patch secretproviderclass ").skip(1) {
            let name = part.split(' ').next().unwrap().to_string();
            let id = part
                .split("\"clientID\":\"")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .unwrap()
                .to_string();
            patched.insert(name, id);
        }
    }
    // One account, one value, said once for the account (both chains).
    assert_eq!(values.len(), 1, "{r:#}");
    assert_eq!(found.len(), 1, "{r:#}");
    let chains = found[0]["chains"].as_array().map_or(0, Vec::len);
    assert_eq!(chains, 2, "{r:#}");
    let id = values.into_iter().next().unwrap();
    assert!([ONE, TWO].contains(&id.as_str()), "{id}");
    assert!(patched.values().all(|v| *v == id), "{patched:?}");
    // Applied: the annotation and the patches as printed.
    let client = |spc: &str, own: &str| patched.get(spc).cloned().unwrap_or(own.to_string());
    let docs = [
        sa(&id),
        spc("app-kv", &client("app-kv", ONE)),
        spc("other-kv", &client("other-kv", TWO)),
        deploy("one", "app-kv"),
        deploy("two", "other-kv"),
    ];
    let docs: Vec<&str> = docs.iter().map(String::as_str).collect();
    let r = crate::manifest_run::check_docs(&docs).1;
    assert!(
        crate::manifest_run::findings_of(&r, "KVC204").is_empty(),
        "{r:#}"
    );
}

/// Bare Pod `tool` of the account, mounting SecretProviderClasses `a` and `b` (two volumes).
fn tool(a: &str, b: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: tool, namespace: team-a, labels: {{azure.workload.identity/use: 'true'}}}}\nspec:\n  serviceAccountName: app-sa\n  containers:\n  - name: c\n    image: i\n    volumeMounts: [{{name: a, mountPath: /mnt/a, readOnly: true}}, {{name: b, mountPath: /mnt/b, readOnly: true}}]\n  volumes:\n  - name: a\n    csi: {{driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {{secretProviderClass: {a}}}}}\n  - name: b\n    csi: {{driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {{secretProviderClass: {b}}}}}\n"
    )
}

/// Audit PP1: a workload of the account that mounts two SPCs (neither the first by name, so
/// its own "first SPC" is not the one the account plan keeps) went through the per-pod path
/// and annotated its own first SPC's identity, contradicting the account plan (FACTS §6: one
/// client-id per account). Every KVC204 of the account now names one value, the account
/// finding names every workload its fix restarts, and the plan applied leaves no KVC204.
#[test]
fn a_workload_mounting_two_spcs_follows_the_account_plan() {
    const NINE: &str = "99999999-2222-4333-8444-555555555555";
    const BEE: &str = "bbbbbbbb-2222-4333-8444-555555555555";
    let docs = |annotated: &str, ids: [&str; 3]| {
        [
            sa(annotated),
            spc("app-kv", ids[0]),
            spc("other-kv", ids[1]),
            spc("b.kv", ids[2]),
            deploy("one", "app-kv"),
            deploy("two", "other-kv"),
            tool("b.kv", "other-kv"),
        ]
    };
    let run = |d: [String; 7]| {
        let d: Vec<&str> = d.iter().map(String::as_str).collect();
        crate::manifest_run::check_docs(&d).1
    };
    let r = run(docs(NINE, [ONE, TWO, BEE]));
    let found = crate::manifest_run::findings_of(&r, "KVC204");
    assert!(!found.is_empty(), "{r:#}");
    let mut values = std::collections::BTreeSet::new();
    let mut patched = std::collections::BTreeMap::new();
    for f in &found {
        let fix = f["fix"].as_str().unwrap();
        for part in fix.split("azure.workload.identity/client-id=").skip(1) {
            values.insert(part.split(' ').next().unwrap().to_string());
        }
        for part in fix.split("kubectl patch secretproviderclass ").skip(1) {
            let name = part.split(' ').next().unwrap().to_string();
            let id = part.split("\"clientID\":\"").nth(1).unwrap();
            patched.insert(name, id.split('"').next().unwrap().to_string());
        }
    }
    // One account, one value, in one finding for the account (tool's chains folded in).
    assert_eq!(values.len(), 1, "{values:?} {r:#}");
    assert_eq!(found.len(), 1, "{r:#}");
    let f = &found[0];
    let chains: Vec<&str> = (f["chains"].as_array().unwrap().iter())
        .filter_map(|c| c.as_str())
        .collect();
    assert!(chains.iter().any(|c| c.contains("/tool/")), "{chains:?}");
    // The message names every workload the fix restarts, the bare pod among them.
    let message = f["message"].as_str().unwrap();
    for w in ["Deployment/one", "Deployment/two", "Pod/tool"] {
        assert!(message.contains(w), "{w}: {message}");
    }
    assert!(f["fix"].as_str().unwrap().contains("tool"), "{f:#}");
    // Applied as printed: the annotation and each SPC patched.
    let id = values.into_iter().next().unwrap();
    let client = |spc: &str, own: &str| patched.get(spc).cloned().unwrap_or(own.to_string());
    let r = run(docs(
        &id,
        [
            &client("app-kv", ONE),
            &client("other-kv", TWO),
            &client("b.kv", BEE),
        ],
    ));
    assert!(
        crate::manifest_run::findings_of(&r, "KVC204").is_empty(),
        "{r:#}"
    );
}

/// Audit PP1, the LL1 shape: the annotation is another workload's SPC's identity, and `tool`
/// mounts two SPCs neither of which uses it. Its chains must not annotate its own first SPC's
/// (that flips the account away from Deployment one's mount): each of its SPCs moves onto the
/// account's identity, and applied, no KVC204 is left.
#[test]
fn a_workload_mounting_two_spcs_never_flips_an_annotation_another_workload_uses() {
    const BEE: &str = "bbbbbbbb-2222-4333-8444-555555555555";
    let run = |ids: [&str; 3]| {
        let d = [
            sa(ONE),
            spc("app-kv", ids[0]),
            spc("other-kv", ids[1]),
            spc("b.kv", ids[2]),
            deploy("one", "app-kv"),
            tool("b.kv", "other-kv"),
        ];
        let d: Vec<&str> = d.iter().map(String::as_str).collect();
        crate::manifest_run::check_docs(&d).1
    };
    let r = run([ONE, TWO, BEE]);
    let found = crate::manifest_run::findings_of(&r, "KVC204");
    assert!(!found.is_empty(), "{r:#}");
    let mut patched = std::collections::BTreeMap::new();
    for f in &found {
        let fix = f["fix"].as_str().unwrap();
        assert!(!fix.contains("kubectl annotate"), "{fix}");
        for part in fix.split("kubectl patch secretproviderclass ").skip(1) {
            let name = part.split(' ').next().unwrap().to_string();
            let id = part.split("\"clientID\":\"").nth(1).unwrap();
            patched.insert(name, id.split('"').next().unwrap().to_string());
        }
    }
    let client = |spc: &str, own: &str| patched.get(spc).cloned().unwrap_or(own.to_string());
    let r = run([
        &client("app-kv", ONE),
        &client("other-kv", TWO),
        &client("b.kv", BEE),
    ]);
    assert!(
        crate::manifest_run::findings_of(&r, "KVC204").is_empty(),
        "{r:#}"
    );
}
