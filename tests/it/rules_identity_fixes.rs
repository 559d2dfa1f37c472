//! The identity side's templates, tenants and fixes: placeholders are told once (README,
//! KVC306), a tenant fix names the identity's home tenant (FACTS §11, KVC404), an unread key
//! is named for the mode that ignores it (FACTS §5), and switching away from the node's
//! identity brings what workload identity needs with it (FACTS §7, §8).

use kvchain::chain::testkit::{self as tk, APP, ISSUER, NS, TENANT};
use kvchain::chain::{Chain, Code, LinkKind, Severity};
use kvchain::snapshot::*;

use super::cause_kit::*;

const CLIENT_ANNOTATION: &str = "azure.workload.identity/client-id";
const TENANT_ANNOTATION: &str = "azure.workload.identity/tenant-id";

fn set_param(s: &mut Snapshot, key: &str, value: Option<&str>) {
    let spc = tk::spc_mut(s, APP);
    match value {
        Some(v) => spc.parameters.insert(key.into(), v.into()),
        None => spc.parameters.remove(key),
    };
    tk::reparse(spc);
}

fn annotate(s: &mut Snapshot, key: &str, value: &str) {
    tk::sa_mut(s, APP)
        .annotations
        .insert(key.into(), value.into());
}

fn count(c: &Chain, code: Code) -> usize {
    c.findings().filter(|f| f.code == code).count()
}

/// The node's identity reads the vault (useVMManagedIdentity, no clientID).
pub(crate) fn vm_identity() -> Snapshot {
    let mut s = tk::healthy();
    set_param(&mut s, "clientID", None);
    set_param(&mut s, "useVMManagedIdentity", Some("true"));
    s
}

/// W2: the SA's client-id and the SPC's clientID are the same unrendered `${VAR}` (one
/// heredoc rendered later). They differ from nothing: no KVC204 (codes.yaml: "differs"); the
/// placeholder is reported once, with the SPC's (README), and the SA link reads "template".
#[test]
fn a_placeholder_client_id_on_both_sides_is_one_unrendered_finding() {
    let mut s = tk::healthy();
    set_param(&mut s, "clientID", Some("${USER_ASSIGNED_CLIENT_ID}"));
    annotate(&mut s, CLIENT_ANNOTATION, "${USER_ASSIGNED_CLIENT_ID}");
    let c = one(&s);
    assert_eq!(count(&c, Code::KVC204), 0, "{:#?}", c.links);
    assert_eq!(count(&c, Code::KVC306), 1, "{:#?}", c.links);
    let f = find(&c, Code::KVC306);
    assert!(
        f.evidence
            .iter()
            .any(|e| e.contains(CLIENT_ANNOTATION) && e.contains("${USER_ASSIGNED_CLIENT_ID}")),
        "{:?}",
        f.evidence
    );
    assert_eq!(c.link(LinkKind::ServiceAccount).summary, "template");
}

/// W2: the tenant-id annotation is injected as AZURE_TENANT_ID the same way (FACTS §6): a
/// placeholder there is unrendered too, named once, and its fix names the identity's tenant.
#[test]
fn a_placeholder_tenant_annotation_is_unrendered_not_ignored() {
    let mut s = tk::healthy();
    annotate(&mut s, TENANT_ANNOTATION, "<tenant ID>");
    let c = one(&s);
    assert_eq!(count(&c, Code::KVC306), 1, "{:#?}", c.links);
    let f = find(&c, Code::KVC306);
    assert!(f.message.contains(TENANT_ANNOTATION), "{}", f.message);
    assert!(
        f.fix.contains(&format!("{TENANT_ANNOTATION}={TENANT}")),
        "{}",
        f.fix
    );
    assert_eq!(c.link(LinkKind::ServiceAccount).summary, "template");
}

/// A rendered pair that agrees is clean; one that differs is still KVC204.
#[test]
fn rendered_client_ids_are_still_compared() {
    let c = one(&tk::healthy());
    assert_eq!(count(&c, Code::KVC204) + count(&c, Code::KVC306), 0);
    let mut s = tk::healthy();
    annotate(
        &mut s,
        CLIENT_ANNOTATION,
        "11111111-2222-3333-4444-555555555555",
    );
    let c = one(&s);
    assert_eq!(count(&c, Code::KVC204), 1, "{:#?}", c.links);
    assert_eq!(count(&c, Code::KVC306), 0);
}

/// W3: FACTS §11 / KVC404: the SPC tenant is the identity's home tenant, never "the vault's".
/// An absent key is added as `tenantID` (FACTS §5: `tenantId` is deprecated), filled with the
/// identity's tenant when the identity is visible.
#[test]
fn a_missing_tenant_is_fixed_with_the_identitys_tenant_as_tenant_id() {
    let mut s = tk::healthy();
    set_param(&mut s, "tenantID", None);
    set_param(&mut s, "tenantId", None);
    let c = one(&s);
    let f = find(&c, Code::KVC302);
    assert!(
        f.fix.ends_with(&format!("# tenantID: {TENANT}")),
        "{}",
        f.fix
    );
    assert!(!f.fix.contains("vault"), "{}", f.fix);
}

/// W3: a key the SPC has (even empty) is edited in place, not shadowed by a second one. The
/// node's identity lives in the cluster's tenant, known here from the cluster's issuer.
#[test]
fn an_empty_tenant_key_is_edited_in_place_with_the_clusters_tenant_for_a_node_identity() {
    let mut s = vm_identity();
    set_param(&mut s, "tenantID", None);
    set_param(&mut s, "tenantId", Some(""));
    let c = one(&s);
    let f = find(&c, Code::KVC302);
    assert!(
        f.fix.ends_with(&format!("# tenantId: {TENANT}")),
        "{}",
        f.fix
    );
}

/// W3: with the identity unseen, the fix says whose tenant to look up, not the vault's.
#[test]
fn an_unrendered_tenant_names_the_identitys_home_tenant() {
    let mut s = tk::healthy();
    s.azure = AzureObs::unknown("no Azure credentials");
    set_param(&mut s, "tenantID", None);
    set_param(&mut s, "tenantId", Some("${IDENTITY_TENANT}"));
    let c = one(&s);
    let f = find(&c, Code::KVC306);
    assert!(
        f.fix.contains("tenantId: <the identity's home tenant id"),
        "{}",
        f.fix
    );
    assert!(!f.fix.contains("vault's tenant"), "{}", f.fix);
}

/// W3: a literal that is no tenant ("tid") is an invalid tenant, not a template to render.
/// The node's and pod identity's tokens are not asked in the tenant (provider auth.go): a
/// warning there, since the mount does not fail on it.
#[test]
fn a_junk_tenant_is_invalid_and_harmless_only_where_the_tenant_is_not_asked() {
    let mut s = vm_identity();
    set_param(&mut s, "tenantID", Some("tid"));
    let c = one(&s);
    let f = find(&c, Code::KVC302);
    assert!(f.message.contains("invalid tenant"), "{}", f.message);
    assert_eq!(f.severity, Severity::Warning);
    assert_eq!(count(&c, Code::KVC306), 0);
}

/// W8: in pod-identity mode the AzureIdentityBinding matched by the pod's aadpodidbinding
/// label chooses the identity (aad-pod-identity's NMI), not clientID or nodePublishSecretRef;
/// the key has nothing to be renamed to.
#[test]
fn an_unread_user_assigned_id_in_pod_identity_mode_names_the_binding() {
    let mut s = tk::healthy();
    set_param(&mut s, "clientID", None);
    set_param(&mut s, "usePodIdentity", Some("true"));
    set_param(
        &mut s,
        "userAssignedIdentityID",
        Some("8917dd75-0000-4000-8000-000000000001"),
    );
    let c = one(&s);
    let f = find(&c, Code::KVC305);
    assert!(f.message.contains("aadpodidbinding"), "{}", f.message);
    assert!(!f.message.contains("nodePublishSecretRef"), "{}", f.message);
    assert!(f.fix.contains("remove userAssignedIdentityID"), "{}", f.fix);
    assert!(!f.fix.contains("rename"), "{}", f.fix);
}

/// W9: leaving the node's identity for a workload identity needs, before the SPC switches, a
/// federated credential for the pods' service account at the cluster's issuer (FACTS §7) and
/// a Key Vault role for the object types read (FACTS §8); KVC303's fix carries them.
#[test]
fn the_node_identity_fix_brings_the_workload_identity_prerequisites() {
    // A service account that names no identity, and no identity federated for it: a new one
    // is made (audit LL2: one it names is reused, below; audit XB-facts: so is the one
    // identity federated for it, `a_federated_identity_is_reused_when_nothing_names_it`).
    let mut s = vm_identity();
    tk::sa_mut(&mut s, APP)
        .annotations
        .remove(CLIENT_ANNOTATION);
    tk::identity_mut(&mut s, APP).federated_credentials = Observed::Known(Vec::new());
    let c = one(&s);
    let f = find(&c, Code::KVC303);
    let sa = tk::sa_name(APP);
    for needed in [
        "az identity federated-credential create".to_string(),
        format!("--subject system:serviceaccount:{NS}:{sa}"),
        format!("--issuer {ISSUER}"),
        "--audiences api://AzureADTokenExchange".to_string(),
        "--role \"Key Vault Secrets User\"".to_string(),
        "useVMManagedIdentity\\\":\\\"false".to_string(),
    ] {
        assert!(f.fix.contains(&needed), "{needed} missing: {}", f.fix);
    }
    // The credential and the role come before the switch.
    let fic = f.fix.find("federated-credential").unwrap();
    let switch = f.fix.find("useVMManagedIdentity").unwrap();
    assert!(fic < switch, "{}", f.fix);
}

/// KVC303's move points the SPC at id-web, which the snapshot shows federated for the pods and
/// reading the vault: it creates no identity, credential or grant.
fn moves_to_id_web_creating_nothing(fix: &str) {
    assert!(fix.starts_with("IDENTITY_NAME=id-web && "), "{fix}");
    for absent in [
        "az identity create",
        "federated-credential create",
        "--role ",
    ] {
        assert!(!fix.contains(absent), "{absent}: {fix}");
    }
}

/// Audit XB-facts: no annotation, but id-web is the one identity federated for the pods'
/// account (FACTS §7) and reads the vault: the move points the SPC at it, creating nothing and
/// granting nothing (`"$IDENTITY_NAME"` left unset would make the paste fail).
#[test]
fn a_federated_identity_is_reused_when_nothing_names_it() {
    let mut s = vm_identity();
    tk::sa_mut(&mut s, APP)
        .annotations
        .remove(CLIENT_ANNOTATION);
    let c = one(&s);
    let f = find(&c, Code::KVC303);
    moves_to_id_web_creating_nothing(&f.fix);
}

/// Audit LL2: the pods' service account names identity id-web, which is federated for them
/// and reads the vault: the move points the SPC at it, creating nothing (a new identity would
/// leave the annotation naming another, KVC204).
#[test]
fn the_node_identity_fix_reuses_the_service_accounts_identity() {
    let c = one(&vm_identity());
    let f = find(&c, Code::KVC303);
    moves_to_id_web_creating_nothing(&f.fix);
    assert!(
        f.fix.contains("useVMManagedIdentity\\\":\\\"false"),
        "{}",
        f.fix
    );
}

/// One symptom, one cause: Entra's refusal of the invalid tenant the SPC names (AADSTS900023,
/// "neither a valid DNS name, nor a valid external domain", what it answers for such a name;
/// AADSTS90002 "not found" from older answers) is the proof of KVC302, not a second finding
/// (KVC404) on the federation link.
#[test]
fn aadsts90002_for_an_invalid_tenant_is_evidence_of_it() {
    for answer in [
        "AADSTS90002: Tenant 'tid' not found.\", \"error_codes\": [90002]",
        "AADSTS900023: Specified tenant identifier 'tid' is neither a valid DNS name, nor a valid external domain.\", \"error_codes\": [900023]",
    ] {
        let mut s = tk::healthy();
        set_param(&mut s, "tenantID", Some("tid"));
        let message = format!(
            "failed to get objectType:secret, objectName:web-db-pass, objectVersion:: ClientAssertionCredential authentication failed. \nPOST https://login.microsoftonline.com/tid/oauth2/v2.0/token\n----\nRESPONSE 400: 400 Bad Request\n----\n{{ \"error\": \"invalid_request\", \"error_description\": \"{answer} }}"
        );
        let c = one(&failing_with(s, &message));
        assert_eq!(codes(&c), [Code::KVC302], "{answer}: {:#?}", c.links);
        let f = find(&c, Code::KVC302);
        assert!(has_event(f), "{:?}", f.evidence);
        assert_eq!(f.severity, Severity::Error);
        assert!(f.message.contains("AADSTS900023"), "{}", f.message);
    }
}

/// Audit NN1: a second account (aaa, first by name) mounts the node-identity SPC too and names
/// its own identity, which has no grant on this vault; web's identity reads it. The move keeps
/// the one that already may read the objects (not a new one, not merely the first by name),
/// federates both accounts, annotates aaa's account to it and restarts aaa (FACTS §6: one
/// client-id per account, injected at creation), and never says no annotation is needed.
#[test]
fn the_node_identity_fix_keeps_the_account_identity_that_reads() {
    let s = two_accounts_on_node_identity();
    let chains = kvchain::chain::diagnose(&s);
    let f = find_any(&chains, Code::KVC303);
    let web = tk::client_id(NS, APP);
    assert!(
        f.fix
            .starts_with(&format!("IDENTITY_NAME={} && ", tk::identity_name(APP))),
        "{}",
        f.fix
    );
    assert!(!f.fix.contains("az identity create"), "{}", f.fix);
    assert!(!f.fix.contains("need no label or annotation"), "{}", f.fix);
    assert!(
        f.fix.contains(&format!(
            "--subject system:serviceaccount:{NS}:{} ",
            tk::sa_name("aaa")
        )),
        "{}",
        f.fix
    );
    assert!(
        f.fix.contains(&format!(
            "kubectl annotate serviceaccount {} -n {NS} azure.workload.identity/client-id={web} --overwrite",
            tk::sa_name("aaa")
        )),
        "{}",
        f.fix
    );
    assert!(f.fix.contains("deployment/aaa"), "{}", f.fix);
    assert!(
        !f.fix
            .contains(&format!("serviceaccount {} ", tk::sa_name(APP))),
        "{}",
        f.fix
    );
}

/// [`the_node_identity_fix_keeps_the_account_identity_that_reads`]'s cluster: app aaa (its
/// account annotated with its own identity, which has no grant) mounts web's SPC, which is
/// in node-identity mode.
fn two_accounts_on_node_identity() -> Snapshot {
    let mut s = vm_identity();
    tk::add_app(&mut s, NS, "aaa", 1);
    let aaa = tk::principal_id(NS, "aaa");
    s.azure
        .role_assignments
        .items
        .retain(|r| r.principal_id != aaa);
    let web_spc = tk::spc_name(APP);
    for p in s
        .pods
        .items
        .iter_mut()
        .filter(|p| p.service_account == tk::sa_name("aaa"))
    {
        for v in &mut p.volumes {
            if let VolumeSourceObs::Csi { attributes, .. } = &mut v.source {
                attributes.insert("secretProviderClass".into(), web_spc.clone());
            }
        }
    }
    s
}

/// The engine's dependency index follows NN1's move: a pod that starts running as the moved
/// account (mounting nothing, reading nothing of web's) is restarted by web's KVC303 fix in
/// the incremental diagnosis as in the full one.
#[test]
fn the_node_identity_fix_follows_the_moved_accounts_runners_incrementally() {
    use kvchain::chain::engine::{Change, Engine, Object};
    let mut engine = Engine::new(two_accounts_on_node_identity());
    let mut tool = tk::pod_mut(&mut engine.snapshot(), "aaa").clone();
    tool.name = "tool".into();
    tool.uid = "uid-tool".into();
    tool.owners.clear();
    tool.volumes.clear();
    for c in tool.containers.iter_mut() {
        c.env.clear();
        c.env_from_secrets.clear();
    }
    tool.image_pull_secrets.clear();
    engine.apply([Change::Upsert(Object::Pod(tool.into()))]);
    let fix_of = |chains: Vec<&Chain>| {
        (chains.iter().flat_map(|c| c.findings()))
            .find(|f| f.code == Code::KVC303)
            .map(|f| f.fix.to_string())
            .expect("KVC303")
    };
    let web = tk::pod_name(APP, 0);
    let full = kvchain::chain::diagnose(&engine.snapshot());
    let full = fix_of(full.iter().filter(|c| c.pod == web).collect());
    assert!(full.contains("tool"), "the new runner is restarted: {full}");
    assert_eq!(
        fix_of(engine.chains().filter(|c| c.pod == web).collect()),
        full
    );
}

/// `useManagedIdentity: "true"` beside the clientID workload identity uses (audit UU5): the
/// nearest key, useVMManagedIdentity, set, would take precedence and clientID would no longer
/// be read (FACTS §5), so the fix removes the unread key and never renames it to that flag.
/// The edit the fix names, made, leaves the chain healthy; the rename would not have.
#[test]
fn an_unread_key_near_a_mode_flag_beside_a_client_id_in_use_is_removed_not_renamed() {
    let mut s = tk::healthy();
    set_param(&mut s, "useManagedIdentity", Some("true"));
    let c = one(&s);
    let f = (c.findings())
        .find(|f| f.code == Code::KVC305)
        .unwrap_or_else(|| panic!("{c:#?}"));
    assert!(
        f.fix.contains("remove useManagedIdentity") && !f.fix.contains("rename useManagedIdentity"),
        "{}",
        f.fix
    );
    assert!(!f.message.contains("did you mean"), "{}", f.message);
    // The fix made: the key gone, the chain is healthy.
    set_param(&mut s, "useManagedIdentity", None);
    let fixed = one(&s);
    assert_eq!(fixed.findings().count(), 0, "{fixed:#?}");
    // The rename the fix used to say: clientID unread, the node's identity asked instead.
    set_param(&mut s, "useVMManagedIdentity", Some("true"));
    assert!(one(&s).findings().count() > 0);
}

/// Audit UUU-honest (OOO-time's `tenantId: common`): `common`, `organizations` and
/// `consumers` are Entra ID's tenant-independent aliases, which it knows (so not AADSTS900023,
/// its answer for a name no tenant can have). The provider asks for an app-only token with a
/// client assertion, and the client-credentials request names its tenant "in GUID or domain
/// name format" (Microsoft identity platform, OAuth 2.0 client credentials flow); over
/// /common and /consumers Entra answers AADSTS90010 / AADSTS9001023 ("The grant type is not
/// supported over the /common or /consumers endpoints"). KVC302 says that, and its event is
/// the finding's proof, not a second cause.
#[test]
fn a_tenant_independent_alias_is_named_as_one_and_its_refusal_is_its_proof() {
    for alias in ["common", "organizations", "Consumers"] {
        let mut s = tk::healthy();
        set_param(&mut s, "tenantID", Some(alias));
        let c = one(&s);
        let f = find(&c, Code::KVC302);
        assert!(
            !f.message.contains("AADSTS900023") && f.message.contains("tenant-independent"),
            "{alias}: {}",
            f.message
        );
        assert!(f.fix.contains(TENANT), "{}", f.fix);
    }
    let mut s = tk::healthy();
    set_param(&mut s, "tenantID", Some("common"));
    let message = "failed to get objectType:secret, objectName:web-db-pass, objectVersion:: ClientAssertionCredential authentication failed. \nPOST https://login.microsoftonline.com/common/oauth2/v2.0/token\n----\nRESPONSE 400: 400 Bad Request\n----\n{ \"error\": \"invalid_request\", \"error_description\": \"AADSTS9001023: The grant type is not supported over the /common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint.\", \"error_codes\": [9001023] }";
    let c = one(&failing_with(s, message));
    assert_eq!(codes(&c), [Code::KVC302], "{:#?}", c.links);
    assert!(has_event(find(&c, Code::KVC302)));
}
