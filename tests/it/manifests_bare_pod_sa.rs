//! KVC204 once per ServiceAccount when a bare Pod manifest is among its workloads (audit
//! LL14): a Pod read from a file was never created, so the webhook injected nothing into it
//! (FACTS §6: at admission) and "running pods hold no AZURE_CLIENT_ID" is no finding of its
//! own; it says what the templates say, and the one fix re-creates it with the others.

const SA: &str = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app-sa, namespace: team-a, annotations: {azure.workload.identity/client-id: 99999999-2222-4333-8444-555555555555}}\n";

const SPC: &str = "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {name: app-kv, namespace: team-a}\nspec:\n  provider: azure\n  parameters: {clientID: 11111111-2222-4333-8444-555555555555, keyvaultName: kv-team-a, tenantID: 72f988bf-86f1-41af-91ab-2d7cd011db47, objects: \"array:\\n  - |\\n    objectName: db\\n    objectType: secret\\n\"}\n";

const SPEC: &str = "serviceAccountName: app-sa\n  containers:\n  - name: app\n    image: i\n    volumeMounts: [{name: kv, mountPath: /mnt/kv, readOnly: true}]\n  volumes:\n  - name: kv\n    csi: {driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {secretProviderClass: app-kv}}\n";

#[test]
fn a_bare_pod_manifest_adds_no_second_kvc204() {
    let pod = format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: lonely, namespace: team-a, labels: {{azure.workload.identity/use: 'true'}}}}\nspec:\n  {SPEC}"
    );
    let spec = SPEC.replace("\n  ", "\n      ");
    let deploy = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: team-a}}\nspec:\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web, azure.workload.identity/use: 'true'}}}}\n    spec:\n      {spec}"
    );
    let (_, r, _) = crate::manifest_run::check_docs(&[SA, SPC, &pod, &deploy]);
    let found = crate::manifest_run::findings_of(&r, "KVC204");
    assert_eq!(found.len(), 1, "{r:#}");
    let f = &found[0];
    let message = f["message"].as_str().unwrap();
    assert!(!message.contains("no AZURE_CLIENT_ID seen"), "{message}");
    // The one fix covers both: the Deployment restarted, the bare Pod re-created.
    let fix = f["fix"].as_str().unwrap();
    assert!(fix.contains("rollout restart deployment/web"), "{fix}");
    assert!(fix.contains("pod lonely"), "{fix}");
}

/// Audit PP3: after the account's annotation changes, a bare Pod of it is re-created without
/// the AZURE_* variables, not as a plain `kubectl get pod -o yaml | kubectl replace --force`:
/// the running pod's spec holds the AZURE_CLIENT_ID injected at its creation (a manifest does
/// not show it), which the webhook never overwrites (FACTS §6: CREATE only, only where the name
/// is absent), so the new annotation would never reach it. Not re-created by applying its file
/// either: that file may hold the ServiceAccount the fix just re-annotated. Both the KVC204
/// restart and KVC303's multi-account move (the bare pod's account re-annotated with the
/// identity kept) share that restart.
#[test]
fn a_re_annotated_account_re_creates_its_bare_pod_without_injected_env() {
    // No metadata.namespace, beside a ConfigMap: deleted and applied with -n, not replaced.
    let pod = |sa: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cfg}}\ndata: {{a: b}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {{name: lonely, labels: {{azure.workload.identity/use: 'true'}}}}\nspec:\n  {}",
            SPEC.replace("app-sa", sa)
        )
    };
    let vm = SPC.replace(
        "clientID: 11111111-2222-4333-8444-555555555555",
        "useVMManagedIdentity: 'true', userAssignedIdentityID: 7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918",
    );
    // KVC303: app-sa (Deployment web) and zz-tools (the bare pod) name different identities;
    // app-sa's, the first account's by name, is kept and zz-tools is re-annotated.
    let tools = SA
        .replace("app-sa", "zz-tools")
        .replace("99999999", "33333333");
    let spec = SPEC.replace("\n  ", "\n      ");
    let web = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: team-a}}\nspec:\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web, azure.workload.identity/use: 'true'}}}}\n    spec:\n      {spec}"
    );
    let cases = [
        ("KVC204", vec![SA, SPC], pod("app-sa")),
        ("KVC303", vec![SA, &tools, &vm, &web], pod("zz-tools")),
    ];
    for (code, objects, pod) in cases {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pod.yaml");
        // One file, as the audit's: the objects and the pod.
        std::fs::write(&file, [objects.join("---\n"), pod].join("---\n")).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
            .args(["check", "-n", "team-a", "-o", "json", "-f"])
            .arg(dir.path())
            .output()
            .unwrap();
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        let found = crate::manifest_run::findings_of(&r, code);
        let fix = (found.iter())
            .filter_map(|f| f["fix"].as_str())
            .find(|f| f.contains("pod lonely"))
            .unwrap_or_else(|| panic!("{code} restarts lonely: {r:#}"));
        assert!(
            fix.contains("kubectl get pod lonely -n team-a -o yaml | kubectl set env -f - --local -o yaml AZURE_CLIENT_ID- AZURE_TENANT_ID- AZURE_FEDERATED_TOKEN_FILE- AZURE_AUTHORITY_HOST- | kubectl replace --force -f -"),
            "{code}: {fix}"
        );
        // Never its file applied: it holds the ServiceAccount this fix re-annotates.
        assert!(
            !fix.contains(&format!("-f {}", file.display())),
            "{code}: {fix}"
        );
    }
}

/// Audit TT3: KVC204 for a bare Pod NOT labelled azure.workload.identity/use (the label put on
/// the ServiceAccount, where the webhook does not read it). The webhook mutates labelled pods
/// only (FACTS §6): nothing was injected into it, so its fix is the annotate alone, with no
/// recreate and no claim of injected variables. Labelled, the recreate stripping the AZURE_*
/// variables stays (audit PP3).
#[test]
fn an_unlabelled_bare_pod_is_not_recreated_for_a_client_id_it_never_got() {
    let sa = SA.replace(
        "metadata: {",
        "metadata: {labels: {azure.workload.identity/use: 'true'}, ",
    );
    let pod = |labels: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: lonely, namespace: team-a{labels}}}\nspec:\n  {SPEC}"
        )
    };
    let annotate = "kubectl annotate serviceaccount app-sa -n team-a azure.workload.identity/client-id=11111111-2222-4333-8444-555555555555 --overwrite";
    // Unlabelled: the annotate only.
    let (_, r, _) = crate::manifest_run::check_docs(&[&sa, SPC, &pod("")]);
    let found = crate::manifest_run::findings_of(&r, "KVC204");
    assert_eq!(found.len(), 1, "{r:#}");
    let fix = found[0]["fix"].as_str().unwrap();
    assert!(!fix.contains("injected when it was created"), "{fix}");
    let run = crate::paste_kit::paste(fix, "", "");
    let calls = run.called("kubectl");
    assert_eq!(calls.len(), 1, "the annotate alone: {calls:?}\n{fix}");
    assert!(calls[0].starts_with("kubectl [annotate]"), "{calls:?}");
    assert!(fix.starts_with(&format!("{annotate}  # ")), "{fix}");
    // Labelled: re-created without the variables the webhook injected at its creation.
    let labelled = pod(", labels: {azure.workload.identity/use: 'true'}");
    let (_, r, _) = crate::manifest_run::check_docs(&[&sa, SPC, &labelled]);
    let found = crate::manifest_run::findings_of(&r, "KVC204");
    assert_eq!(found.len(), 1, "{r:#}");
    let fix = found[0]["fix"].as_str().unwrap();
    assert!(
        fix.starts_with(&format!("{annotate} && kubectl get pod lonely -n team-a -o yaml | kubectl set env -f - --local -o yaml AZURE_CLIENT_ID- AZURE_TENANT_ID- AZURE_FEDERATED_TOKEN_FILE- AZURE_AUTHORITY_HOST- | kubectl replace --force -f -")),
        "{fix}"
    );
}
