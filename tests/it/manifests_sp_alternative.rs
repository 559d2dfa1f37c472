//! An SPC naming no credential (no clientID, no identity mode, no nodePublishSecretRef): the
//! provider refuses it (FACTS §5: "failed to get credentials, nodePublishSecretRef secret is
//! not set") and accepts either mode — workload identity (`clientID`) or a service principal
//! (`nodePublishSecretRef` on the pod's csi volume, a Secret with keys `clientid` and
//! `clientsecret`). The two are alternatives: the fix runs one and offers the other in its note,
//! in words, since bash never runs what follows `#` (audit N3). It leads with the mode the
//! inputs point to, and names what they know: the identity the pod's service account can use
//! (FACTS §7: a federated credential for `system:serviceaccount:<ns>:<sa>`), the Secret that
//! holds the service principal's keys.

use kvchain::chain::testkit::{self as tk, APP};
use kvchain::chain::{Chain, Code};
use kvchain::snapshot::*;

use super::cause_kit::*;
use super::paste_kit::paste;

const SPC: &str = "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {name: app-kv, namespace: shop}\nspec:\n  provider: azure\n  parameters: {keyvaultName: kv-shop, tenantId: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b, objects: \"array:\\n  - |\\n    objectName: db\\n    objectType: secret\\n\"}\n";

const APP_DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app, namespace: shop}\nspec:\n  selector: {matchLabels: {app: app}}\n  template:\n    metadata: {labels: {app: app}}\n    spec:\n      containers:\n      - {name: c, image: i, volumeMounts: [{name: kv, mountPath: /mnt/kv, readOnly: true}]}\n      volumes:\n      - {name: kv, csi: {driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {secretProviderClass: app-kv}}}\n";

const SP_SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata: {name: sp-creds, namespace: shop}\nstringData: {clientid: 11111111-2222-3333-4444-555555555555, clientsecret: not-printed}\n";

/// KVC302's one fix in `check -f` of `docs`.
fn fix(docs: &[&str]) -> String {
    let (_, r, _) = crate::manifest_run::check_docs(docs);
    let found = crate::manifest_run::findings_of(&r, "KVC302");
    assert_eq!(found.len(), 1, "{r:#}");
    found[0]["fix"].as_str().unwrap().to_string()
}

/// What bash runs of `line`, and its note.
fn split(line: &str) -> (&str, &str) {
    let at = tk::comment_at(line).unwrap_or(line.len());
    (line[..at].trim_end(), &line[at..])
}

#[test]
fn the_service_principal_alternative_is_offered_in_words_never_as_a_commented_command() {
    let fix = fix(&[SPC, APP_DEPLOYMENT]);
    let (command, note) = split(&fix);
    // Nothing the snapshot knows points to either mode: the SPC edit runs, the note says both.
    assert_eq!(
        command, "kubectl edit secretproviderclass app-kv -n shop",
        "{fix}"
    );
    assert!(note.contains("clientID"), "{fix}");
    assert!(
        note.contains("nodePublishSecretRef") && note.contains("volume kv of deployment/app"),
        "{fix}"
    );
    // One note: no second `#`, no command offered as if bash ran it.
    assert!(
        !note[1..].contains('#') && !note.contains("kubectl "),
        "{fix}"
    );
    // Pasted, it opens the SecretProviderClass, the one object it names.
    let p = paste(&fix, "", "");
    assert_eq!(
        p.calls,
        ["kubectl [edit] [secretproviderclass] [app-kv] [-n] [shop]"]
    );
}

#[test]
fn a_secret_holding_the_service_principals_keys_leads_with_the_volume_edit_naming_it() {
    let fix = fix(&[SPC, APP_DEPLOYMENT, SP_SECRET]);
    let (command, note) = split(&fix);
    assert_eq!(command, "kubectl edit deployment/app -n shop", "{fix}");
    assert!(
        note.contains("volume kv: csi.nodePublishSecretRef: {name: sp-creds}"),
        "{fix}"
    );
    // clientID stays offered, in words, for the SecretProviderClass.
    assert!(
        note.contains("workload identity instead") && note.contains("SecretProviderClass app-kv"),
        "{fix}"
    );
    assert!(
        !note[1..].contains('#') && !fix.contains("<a Secret"),
        "{fix}"
    );
}

/// tk::healthy with no clientID in the SPC: its pods mount it with no nodePublishSecretRef.
fn no_credential() -> Snapshot {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters.remove("clientID");
    tk::reparse(spc);
    s
}

#[test]
fn an_identity_federated_for_the_pods_service_account_fills_the_client_id() {
    let mut s = no_credential();
    // The account names no identity: only the identity's federated credential does.
    tk::sa_mut(&mut s, APP).annotations.clear();
    let client = tk::client_id(tk::NS, APP);
    assert_eq!(
        tk::fic_mut(&mut s, APP).subject,
        format!("system:serviceaccount:{}:{}", tk::NS, tk::sa_name(APP))
    );
    let c: Chain = one(&s);
    let f = find(&c, Code::KVC302);
    assert!(f.fix.contains(&format!("clientID: {client}")), "{}", f.fix);
    assert!(!f.fix.contains("<workload identity clientId>"), "{}", f.fix);
    let (command, _) = split(&f.fix);
    assert_eq!(
        command,
        format!(
            "kubectl edit secretproviderclass {} -n {}",
            tk::spc_name(APP),
            tk::NS
        )
    );
}
