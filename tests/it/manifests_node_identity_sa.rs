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
            name.starts_with("team-a-svc.payments.backend-worker-"),
            "{name}"
        );
        // The subject is the account's full name (FACTS §7): only the name is cut.
        assert!(
            fix.contains(&format!("--subject system:serviceaccount:team-a:{long} ")),
            "{fix}"
        );
    }
}
