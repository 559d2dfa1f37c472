//! Audit Z3, Z4: KVC303's move to workload identity must leave mounts working when pasted.
//! - FACTS §5: the driver hands the pod's token to the provider only through a CSIDriver
//!   whose `tokenRequests` list `api://AzureADTokenExchange`; without it every new mount fails
//!   with "service account tokens not found". A fix that switches the SPC on a CSIDriver known
//!   to lack it must add the audience first, and one that could not read the CSIDriver must
//!   not claim it has it.
//! - FACTS §7: a managed identity holds at most 20 federated credentials, so a paste that
//!   needs more stops at the 21st create, before the grant and the SPC switch.

use crate::manifest_run::{check_docs, findings_of};

const SPC: &str = "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {name: app-kv, namespace: shop}\nspec:\n  provider: azure\n  parameters: {useVMManagedIdentity: 'true', userAssignedIdentityID: 7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918, keyvaultName: kv-shop, tenantId: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b, objects: \"array:\\n  - |\\n    objectName: db\\n    objectType: secret\\n\"}\n";

/// A Deployment `name` running as service account `name`, mounting `app-kv`.
fn deployment(name: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: shop}}\nspec:\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n      serviceAccountName: {name}\n      containers:\n      - name: c\n        image: i\n        volumeMounts: [{{name: kv, mountPath: /mnt/kv, readOnly: true}}]\n      volumes:\n      - name: kv\n        csi: {{driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {{secretProviderClass: app-kv}}}}\n"
    )
}

/// The driver's CSIDriver as its deploy YAML ships it: no tokenRequests (FACTS §4).
const CSIDRIVER: &str = "apiVersion: storage.k8s.io/v1\nkind: CSIDriver\nmetadata: {name: secrets-store.csi.k8s.io}\nspec:\n  podInfoOnMount: true\n  attachRequired: false\n  volumeLifecycleModes: [Ephemeral]\n";

/// The one KVC303 fix of the run, as bash would split it: the commands, and the note.
fn kvc303(docs: &[&str]) -> (String, String) {
    let (_, r, _) = check_docs(docs);
    let found = findings_of(&r, "KVC303");
    assert_eq!(found.len(), 1, "{r:#}");
    let fix = found[0]["fix"].as_str().unwrap().to_string();
    match fix.split_once("  # ") {
        Some((commands, note)) => (commands.to_string(), note.to_string()),
        None if fix.starts_with("# ") => (String::new(), fix[2..].to_string()),
        None => (fix, String::new()),
    }
}

#[test]
fn a_csidriver_without_the_exchange_audience_gets_it_before_the_spc_is_switched() {
    let app = deployment("app");
    let (commands, note) = kvc303(&[SPC, &app, CSIDRIVER]);
    // The CSIDriver shares its file with the app: the live one is edited, never the file
    // applied whole (audit TT2).
    let tokens = commands
        .find("kubectl edit csidriver secrets-store.csi.k8s.io")
        .unwrap_or_else(|| panic!("the CSIDriver is changed: {commands}"));
    assert!(!commands.contains("kubectl apply -f"), "{commands}");
    let switch = commands
        .find("kubectl patch secretproviderclass app-kv")
        .unwrap_or_else(|| panic!("the SPC is switched: {commands}"));
    assert!(tokens < switch, "the audience comes first: {commands}");
    assert!(
        note.contains("tokenRequests: [{audience: api://AzureADTokenExchange}]"),
        "{note}"
    );
    assert!(!note.contains("the AKS add-on's has it"), "{note}");
}

/// Audit AA1: a note was not enough — pasted, the line switched the SPC whatever the
/// CSIDriver said. It reads the CSIDriver's audiences and stops before the switch when they
/// lack the exchange audience. Audit VVV-real: the check is the step before the switch, not
/// the line's first: only the switch breaks a mount without the audience (the provider asks
/// the token for the SPC's clientID), so the identity, its federated credential and its read
/// access come first, and pasting the line again once the CSIDriver is fixed takes them as
/// they are.
#[test]
fn a_csidriver_not_read_is_checked_before_the_switch_not_assumed() {
    let app = deployment("app");
    let (_, r, _) = check_docs(&[SPC, &app]);
    let fix = findings_of(&r, "KVC303")[0]["fix"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!fix.contains("the AKS add-on's has it"), "{fix}");
    // Its name set and its group guarded first (audit XC-left: none set by the paste).
    assert!(
        crate::xd_paste::after_guards(&fix)
            .starts_with("IDENTITY_NAME=id-shop-app && : \"${IDENTITY_RG:?")
            && fix.contains("}\" && az identity create "),
        "{fix}"
    );
    let guard = fix
        .find("{ kubectl get csidriver secrets-store.csi.k8s.io -o jsonpath='{.spec.tokenRequests[*].audience}'")
        .expect("the CSIDriver is checked");
    let patch = fix
        .find("kubectl patch secretproviderclass app-kv")
        .expect("the switch");
    assert!(guard < patch, "{fix}");
    assert!(
        fix.find("az identity federated-credential")
            .is_some_and(|f| f < guard),
        "{fix}"
    );
    let switched = |p: &crate::paste_kit::Pasted| {
        !p.called("kubectl [patch] [secretproviderclass] [app-kv]")
            .is_empty()
    };
    let az = "*principalId*) echo 0f0e0d0c-0000-4000-8000-000000000001 ;;\n\
              *enableRbacAuthorization*) echo true ;;\n\
              *\"keyvault show\"*) echo /subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-shop ;;";
    // No audience requested: the SPC is not switched, and the line says why.
    let none = crate::paste_kit::paste_kube(&fix, az, "", "");
    assert!(!switched(&none), "{:#?}", none.calls);
    assert!(
        none.stderr
            .contains("requests no token for api://AzureADTokenExchange")
    );
    // Another audience only: the same.
    let other = crate::paste_kit::paste_kube(&fix, az, "api://AKSIdentityBinding", "");
    assert!(!switched(&other), "{:#?}", other.calls);
    // The exchange audience among others: the move runs to the switch.
    let present = crate::paste_kit::paste_kube(
        &fix,
        az,
        "api://AKSIdentityBinding api://AzureADTokenExchange",
        "",
    );
    assert!(switched(&present), "{:#?}", present.calls);
}

#[test]
fn more_accounts_than_one_identity_can_federate_get_a_plan_not_a_paste_that_stops_half_way() {
    let deployments: Vec<String> = (0..21).map(|i| deployment(&format!("app{i}"))).collect();
    let mut docs: Vec<&str> = vec![SPC];
    docs.extend(deployments.iter().map(String::as_str));
    let (commands, note) = kvc303(&docs);
    assert_eq!(
        commands, "",
        "nothing to paste that fails at the 21st create"
    );
    assert!(
        note.starts_with("21 service accounts mount SecretProviderClass app-kv in namespace shop"),
        "{note}"
    );
    assert!(note.contains("at most 20 federated credentials"), "{note}");

    // Twenty fit: every credential is created, then the switch.
    let (commands, _) = kvc303(&docs[..21]);
    assert_eq!(
        commands
            .matches("az identity federated-credential create")
            .count(),
        20,
        "{commands}"
    );
    assert!(
        commands.contains("kubectl patch secretproviderclass app-kv"),
        "{commands}"
    );
}
