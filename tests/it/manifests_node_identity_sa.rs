//! KVC303's move when the SPC names no identity but the mounting pods' ServiceAccount does
//! (`azure.workload.identity/client-id`, FACTS §6): that identity is federated (FACTS §7) and
//! the SPC pointed at it, as the SPC's own clientID is (audit LL2). A new identity would
//! leave the annotation naming another one, and the switched SPC would meet KVC204. The
//! credential's name keeps within Azure's 120 characters (FACTS §7, audit LL10).

const SA_ID: &str = "11111111-2222-4333-8444-555555555555";

fn spc(params: &str) -> String {
    format!(
        "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {{name: app-kv, namespace: team-a}}\nspec:\n  provider: azure\n  parameters: {{{params}keyvaultName: kv-team-a, tenantID: 72f988bf-86f1-41af-91ab-2d7cd011db47, objects: \"array:\\n  - |\\n    objectName: db\\n    objectType: secret\\n\"}}\n"
    )
}

fn sa(name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {name}\n  namespace: team-a\n  annotations: {{azure.workload.identity/client-id: '{SA_ID}'}}\n"
    )
}

fn deploy(sa: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: one, namespace: team-a}}\nspec:\n  selector: {{matchLabels: {{app: one}}}}\n  template:\n    metadata: {{labels: {{app: one, azure.workload.identity/use: 'true'}}}}\n    spec:\n      serviceAccountName: {sa}\n      containers:\n      - name: c\n        image: i\n        volumeMounts: [{{name: kv, mountPath: /mnt/kv, readOnly: true}}]\n      volumes:\n      - name: kv\n        csi: {{driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {{secretProviderClass: app-kv}}}}\n"
    )
}

const NODE: &str =
    "useVMManagedIdentity: 'true', userAssignedIdentityID: 7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918, ";

#[test]
fn the_service_accounts_identity_is_federated_not_a_new_one() {
    let docs = [spc(NODE), sa("app-sa"), deploy("app-sa")];
    let docs: Vec<&str> = docs.iter().map(String::as_str).collect();
    let (_, r, _) = crate::manifest_run::check_docs(&docs);
    let found = crate::manifest_run::findings_of(&r, "KVC303");
    assert!(!found.is_empty(), "{r:#}");
    for f in found {
        let fix = f["fix"].as_str().unwrap();
        assert!(!fix.contains("az identity create"), "{fix}");
        assert!(
            fix.contains(&format!(
                "IDENTITY_NAME=\"$(az identity list --query \"[?clientId=='{SA_ID}'].name\" -o tsv)\""
            )),
            "{fix}"
        );
        assert!(
            fix.contains("--subject system:serviceaccount:team-a:app-sa "),
            "{fix}"
        );
    }
    // The fix applied: the SPC on the account's identity. Nothing about the identity is left.
    let fixed = spc(&format!(
        "useVMManagedIdentity: 'false', clientID: '{SA_ID}', "
    ));
    let (_, r, _) = crate::manifest_run::check_docs(&[&fixed, &sa("app-sa"), &deploy("app-sa")]);
    for code in ["KVC303", "KVC204"] {
        assert!(
            crate::manifest_run::findings_of(&r, code).is_empty(),
            "{code}: {r:#}"
        );
    }
}

#[test]
fn the_credential_name_keeps_within_120_characters() {
    let long = format!("svc.payments.backend-worker-{}", "x".repeat(90));
    let docs = [spc(NODE), sa(&long), deploy(&long)];
    let docs: Vec<&str> = docs.iter().map(String::as_str).collect();
    let (_, r, _) = crate::manifest_run::check_docs(&docs);
    let found = crate::manifest_run::findings_of(&r, "KVC303");
    assert!(!found.is_empty(), "{r:#}");
    for f in found {
        let fix = f["fix"].as_str().unwrap();
        let name = fix
            .split("federated-credential create --name ")
            .nth(1)
            .and_then(|s| s.split(' ').next())
            .unwrap_or_else(|| panic!("no create: {fix}"));
        assert!(name.len() <= 120, "{} chars: {name}", name.len());
        assert!(
            // A credential's name takes no dot (the MSI API's pattern, audit XC-paste).
            name.starts_with("team-a-svc-payments-backend-worker-"),
            "{name}"
        );
        // The subject is the account's full name (FACTS §7): only the name is cut.
        assert!(
            fix.contains(&format!("--subject system:serviceaccount:team-a:{long} ")),
            "{fix}"
        );
    }
}

/// A ServiceAccount annotated with `id` (any name).
fn sa_with(name: &str, id: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {name}\n  namespace: team-a\n  annotations: {{azure.workload.identity/client-id: '{id}'}}\n"
    )
}

/// A StatefulSet `db` (partition 2) mounting app-kv as `sa`.
fn statefulset(sa: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: db, namespace: team-a}}\nspec:\n  serviceName: db\n  replicas: 3\n  updateStrategy: {{type: RollingUpdate, rollingUpdate: {{partition: 2}}}}\n  selector: {{matchLabels: {{app: db}}}}\n  template:\n    metadata: {{labels: {{app: db, azure.workload.identity/use: 'true'}}}}\n    spec:\n      serviceAccountName: {sa}\n      containers:\n      - name: c\n        image: i\n        volumeMounts: [{{name: kv, mountPath: /mnt/kv, readOnly: true}}]\n      volumes:\n      - name: kv\n        csi: {{driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {{secretProviderClass: app-kv}}}}\n"
    )
}

/// Audit NN1: the mounting pods' ServiceAccounts name *different* identities. An account holds
/// one client-id (FACTS §6) and the switched SPC one clientID, so the move reuses one of them
/// and annotates the other account to it in the same fix (with a federated credential for each
/// account, FACTS §7), and never says the pods need no annotation. The fix applied as printed
/// (the identity it reuses, the annotations it sets) leaves neither KVC303 nor KVC204.
#[test]
fn accounts_naming_different_identities_are_moved_onto_one() {
    const OTHER: &str = "22222222-2222-4333-8444-555555555555";
    let docs = [
        spc(NODE),
        sa_with("app-sa", SA_ID),
        sa_with("batch.runner", OTHER),
        deploy("app-sa"),
        statefulset("batch.runner"),
    ];
    let docs: Vec<&str> = docs.iter().map(String::as_str).collect();
    let (_, r, _) = crate::manifest_run::check_docs(&docs);
    let found = crate::manifest_run::findings_of(&r, "KVC303");
    assert_eq!(found.len(), 1, "{r:#}");
    let fix = found[0]["fix"].as_str().unwrap();
    assert!(!fix.contains("az identity create"), "{fix}");
    assert!(!fix.contains("need no label or annotation"), "{fix}");
    for sa in ["app-sa", "batch.runner"] {
        assert!(
            fix.contains(&format!("--subject system:serviceaccount:team-a:{sa} ")),
            "{fix}"
        );
    }
    // The identity reused, as the fix looks it up.
    let reused = fix
        .split("IDENTITY_NAME=\"$(az identity list --query \"[?clientId=='")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .unwrap_or_else(|| panic!("no identity reused: {fix}"));
    assert!([SA_ID, OTHER].contains(&reused), "{reused}: {fix}");
    // The annotations the fix sets, applied over the accounts' own.
    let mut annotation =
        std::collections::BTreeMap::from([("app-sa", SA_ID), ("batch.runner", OTHER)]);
    for part in fix.split("kubectl annotate serviceaccount ").skip(1) {
        let name = part.split(' ').next().unwrap();
        let value = part
            .split("azure.workload.identity/client-id=")
            .nth(1)
            .and_then(|s| s.split(' ').next())
            .unwrap();
        assert!(part.contains(" -n team-a "), "{fix}");
        *annotation
            .get_mut(name)
            .unwrap_or_else(|| panic!("{name}: {fix}")) = value;
    }
    assert!(
        annotation.values().all(|v| *v == reused),
        "{annotation:?}: {fix}"
    );
    // The account moved restarts its labelled pods (the webhook injects at creation only,
    // FACTS §6): the StatefulSet's, or the Deployment's, whichever runs as the moved one.
    let moved = annotation
        .keys()
        .find(|sa| {
            [("app-sa", SA_ID), ("batch.runner", OTHER)]
                .iter()
                .any(|(n, id)| n == *sa && *id != reused)
        })
        .unwrap();
    let restart = match *moved {
        "app-sa" => "deployment/one",
        _ => "statefulset/db",
    };
    assert!(fix.contains(restart), "{restart}: {fix}");
    // Applied: the SPC on the reused identity, every account annotated with it.
    let fixed = spc(&format!(
        "useVMManagedIdentity: 'false', clientID: '{reused}', "
    ));
    let docs = [
        fixed,
        sa_with("app-sa", annotation["app-sa"]),
        sa_with("batch.runner", annotation["batch.runner"]),
        deploy("app-sa"),
        statefulset("batch.runner"),
    ];
    let docs: Vec<&str> = docs.iter().map(String::as_str).collect();
    let (_, r, _) = crate::manifest_run::check_docs(&docs);
    for code in ["KVC303", "KVC204"] {
        assert!(
            crate::manifest_run::findings_of(&r, code).is_empty(),
            "{code}: {r:#}"
        );
    }
}
