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
