//! Audit XD-tenant: tenants in every source and for every unit kvchain judges (FACTS §5, §6,
//! §11 'Tenants'). A user-assigned managed identity exists only in its home tenant: asked at
//! another tenant Entra ID answers AADSTS700016 (the identity exists, the SPC `tenantID` is
//! wrong), and Key Vault refuses a token of another tenant than its own (AKV10032), so a managed
//! identity cannot reach a vault in another tenant. Worlds in tests/fixtures/lab/xd-tenant-*.yaml,
//! each with its expected verdict in its header; vault values are canaries.

use kvchain::chain::testkit::{self as tk, APP, TENANT};
use kvchain::chain::{Code, LinkKind, Status};
use kvchain::snapshot::Snapshot;
use serde_json::Value;

use super::cause_kit::*;
use super::rules_sp_entra::{CREDS, service_principal_failing};

use super::mmm_lab::report;
use super::www_scen::{exit_code, findings};

const CANARY: &str = "CANARY-xdtenant";
/// The tenant the cluster, the identities and kv-xdt live in.
const TENANT_A: &str = "2e4c6a8b-1d3f-4b5a-9c7e-0f2a4c6e8a1b";
/// Another tenant: the lone SPC's tenantId, and kv-xdt-b's.
const TENANT_B: &str = "7b9d1f3a-5c7e-4a9b-8d1f-3a5c7e9b1d2f";

fn world(name: &str) -> Value {
    report(&format!("xd-tenant-{name}.yaml"), CANARY)
}

/// The verdict on the SecretProviderClass no pod mounts, `ns/name`.
fn lone<'a>(r: &'a Value, ns: &str, name: &str) -> &'a Value {
    (r["spcs"].as_array().unwrap().iter())
        .find(|s| s["namespace"] == ns && s["name"] == name)
        .unwrap_or_else(|| panic!("no lone SPC {ns}/{name}: {r}"))
}

/// The lone SPC of the worlds, pay/pay-kv, asserted broken.
fn broken_pay_kv(r: &Value) -> &Value {
    let spc = lone(r, "pay", "pay-kv");
    assert_eq!(spc["status"], "broken", "{spc}");
    spc
}

/// The one finding of `code`, asserted alone.
fn the_one<'a>(r: &'a Value, code: &str) -> &'a Value {
    let f = findings(r, code);
    assert_eq!(f.len(), 1, "{r}");
    f[0]
}

/// KVC404's fix for pay-kv: the identity's tenant, in the key the SPC has (no placeholder).
fn edit_to_tenant_a() -> String {
    format!("kubectl edit secretproviderclass pay-kv -n pay  # parameters.tenantId: {TENANT_A}")
}

fn healthy_shop(r: &Value) {
    let chains = r["chains"].as_array().unwrap();
    assert_eq!(chains.len(), 1, "{r}");
    assert_eq!(chains[0]["namespace"], "shop", "{r}");
    assert_eq!(chains[0]["status"], "ok", "{}", chains[0]);
}

/// FACTS §11 'Tenants': an SPC whose tenantId is a well-formed GUID of another tenant than its
/// identity's fails every mount with AADSTS700016, whichever pod makes it. A mounted SPC says
/// KVC404; one applied before its workload, checked on its own, said nothing (✓, exit 0).
#[test]
fn a_lone_spc_asking_another_tenant_for_its_identity_is_kvc404() {
    let r = world("lone-wrong");
    healthy_shop(&r);
    let spc = broken_pay_kv(&r);
    assert_eq!(spc["codes"], serde_json::json!(["KVC404"]), "{spc}");
    let f = the_one(&r, "KVC404");
    assert_eq!(f["severity"], "error", "{f}");
    assert_eq!(f["resource"], "SecretProviderClass/pay-kv", "{f}");
    let message = f["message"].as_str().unwrap();
    assert!(
        message.contains(TENANT_A) && message.contains(TENANT_B) && message.contains("id-pay"),
        "{message}"
    );
    // The fix names the identity's tenant, in the key the SPC has: no placeholder.
    assert_eq!(f["fix"], edit_to_tenant_a(), "{f}");
    assert_eq!(exit_code("xd-tenant-lone-wrong", &[]), Some(1));
}

/// Identity binding (useAzureTokenProxy, FACTS §5) asks the SPC's tenant for the identity's
/// token as workload identity does: the lone SPC of the world above in that mode is KVC404 too.
#[test]
fn a_lone_identity_binding_spc_asking_another_tenant_is_kvc404() {
    let r = world("lone-binding");
    broken_pay_kv(&r);
    let f = the_one(&r, "KVC404");
    assert_eq!(f["fix"], edit_to_tenant_a(), "{f}");
    assert_eq!(exit_code("xd-tenant-lone-binding", &[]), Some(1));
}

/// FACTS §11 'Tenants': the identity in tenant A, the vault in B, the SPC's tenantId B (the
/// vault's). No tenantId works: B answers AADSTS700016, A's token Key Vault refuses (AKV10032).
/// KVC406, as a mounted SPC says, never KVC404's edit to A; its note names the vault's tenant
/// and the subject of the account the SPC's pods run as (the one annotated with its clientID),
/// not an empty account name.
#[test]
fn a_lone_spc_of_a_vault_in_another_tenant_is_kvc406_not_a_tenant_edit() {
    let r = world("lone-cross");
    healthy_shop(&r);
    let spc = broken_pay_kv(&r);
    assert_eq!(spc["codes"], serde_json::json!(["KVC406"]), "{spc}");
    let f = the_one(&r, "KVC406");
    assert_eq!(f["severity"], "error", "{f}");
    assert_eq!(f["resource"], "KeyVault/kv-xdt-b", "{f}");
    let fix = f["fix"].as_str().unwrap();
    assert!(fix.starts_with("# "), "a note, nothing to run: {fix}");
    assert!(fix.contains(TENANT_B), "{fix}");
    assert!(
        fix.contains("subject system:serviceaccount:pay:pay,"),
        "{fix}"
    );
    assert!(!fix.contains("system:serviceaccount:pay:,"), "{fix}");
    assert!(findings(&r, "KVC404").is_empty(), "{r}");
    assert_eq!(exit_code("xd-tenant-lone-cross", &[]), Some(1));
}

/// FACTS §11 'Tenants': Key Vault refuses a token of another tenant than its own (401 AKV10032),
/// whichever managed identity got it; a node identity's comes from the node's metadata endpoint
/// in its home tenant. kvchain reads both tenants, so the event is a current cause it can name,
/// not "failed, now looks right" with a fix to wait for the next attempt.
#[test]
fn a_node_identity_of_another_tenant_than_the_vault_is_kvc406_now() {
    let r = world("node-identity-vault");
    let chains = r["chains"].as_array().unwrap();
    assert_eq!(chains.len(), 1, "{r}");
    let federation = super::mmm_lab::link(&chains[0], "federation");
    assert_eq!(federation["status"], "broken", "{federation}");
    let f = the_one(&r, "KVC406");
    let message = f["message"].as_str().unwrap();
    assert!(
        message.contains("id-node") && message.contains(TENANT_A) && message.contains(TENANT_B),
        "{message}"
    );
    assert!(!message.contains("looks right now"), "{message}");
    // The event is this finding's evidence (one cause, one finding).
    assert!(
        (f["evidence"].as_array().unwrap().iter())
            .any(|e| e.as_str().unwrap().contains("AKV10032")),
        "{f}"
    );
    let fix = f["fix"].as_str().unwrap();
    assert!(fix.starts_with("# "), "a note: {fix}");
    assert!(!fix.contains("wait for the next attempt"), "{fix}");
    assert!(fix.contains(TENANT_A) && fix.contains(TENANT_B), "{fix}");
    // With useVMManagedIdentity left "true" the provider keeps the node identity (FACTS §5).
    assert!(fix.contains("useVMManagedIdentity: \"false\""), "{fix}");
    let errors: Vec<&str> = (r["findings"].as_array().unwrap().iter())
        .filter(|f| f["severity"] == "error")
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(errors, ["KVC406"], "one cause: {r}");
    assert_eq!(exit_code("xd-tenant-node-identity-vault", &[]), Some(1));
}

/// The same node-identity SPC applied before its workload: every mount of it fails with
/// AKV10032, whichever pod makes it, so checked on its own it is KVC406 too.
#[test]
fn a_lone_node_identity_spc_of_a_vault_in_another_tenant_is_kvc406() {
    let r = world("lone-node-identity");
    let spc = broken_pay_kv(&r);
    assert!(
        (spc["codes"].as_array().unwrap().iter()).any(|c| c == "KVC406"),
        "{spc}"
    );
    assert_eq!(findings(&r, "KVC406")[0]["severity"], "error", "{r}");
    assert_eq!(exit_code("xd-tenant-lone-node-identity", &[]), Some(1));
}

/// Service-principal mode with a vault of tenant B and a tenantId of tenant A, before any mount
/// was tried. FACTS §11 'Tenants': Key Vault rejects a token of another tenant (AKV10032); the
/// application signs in at the tenant tenantId names (FACTS §5), so its token is A's whatever
/// the Secret holds. The Federation link read "does not apply" ✓ and nothing was said. KVC406,
/// its note the service-principal one naming B; a tenantId of the vault's tenant (a
/// multi-tenant application consented there) is healthy.
#[test]
fn a_service_principal_asking_another_tenant_than_the_vaults_is_kvc406_before_a_mount() {
    let mut s = service_principal_pending();
    other_tenant_vault(&mut s);
    let c = one(&s);
    assert_eq!(
        codes(&c),
        [Code::KVC406],
        "{:#?}",
        c.findings().collect::<Vec<_>>()
    );
    assert_eq!(c.link(LinkKind::Federation).status, Status::Broken);
    let f = find(&c, Code::KVC406);
    assert!(f.message.contains(CREDS), "{}", f.message);
    assert!(!f.message.contains("managed identity"), "{}", f.message);
    assert!(
        f.fix.starts_with("# service-principal mode")
            && f.fix
                .ends_with(&format!("# parameters.tenantId: {OTHER_TENANT}")),
        "{}",
        f.fix
    );
    // The vault's tenant in tenantId: its token is the vault's tenant's.
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters
        .insert("tenantId".into(), OTHER_TENANT.into());
    tk::reparse(spc);
    let c = one(&s);
    assert!(
        with(&c, Code::KVC406).is_empty(),
        "{:#?}",
        c.findings().collect::<Vec<_>>()
    );
}

/// The same failing with Key Vault's 401 AKV10032: the event is the finding's evidence, and the
/// message does not call a service principal a managed identity.
#[test]
fn akv10032_in_service_principal_mode_names_no_managed_identity() {
    let mut s = service_principal_failing(&akv10032(OTHER_TENANT, TENANT));
    other_tenant_vault(&mut s);
    let c = one(&s);
    assert_eq!(
        codes(&c),
        [Code::KVC406],
        "{:#?}",
        c.findings().collect::<Vec<_>>()
    );
    let f = find(&c, Code::KVC406);
    assert!(has_event(f), "{f:#?}");
    assert!(!f.message.contains("managed identity"), "{}", f.message);
    // Vault unseen: the message comes from the event alone.
    s.azure.vaults.items.clear();
    let c = one(&s);
    let f = find(&c, Code::KVC406);
    assert!(!f.message.contains("managed identity"), "{}", f.message);
}

/// [`service_principal_failing`] with no event yet: the pod waits, nothing says why.
fn service_principal_pending() -> Snapshot {
    let mut s = service_principal_failing("x");
    s.events.items.clear();
    s
}

fn other_tenant_vault(s: &mut Snapshot) {
    for v in s.azure.vaults.items.iter_mut() {
        v.tenant_id = OTHER_TENANT.into();
    }
}

/// Identity binding (useAzureTokenProxy, FACTS §5) exchanges the token for the identity's in
/// the SPC's tenantID too, and its identity is a managed identity that exists only in its home
/// tenant (FACTS §11 'Tenants'; the lab's Entra answers AADSTS700016 alike). Before any event
/// the Federation link said "identity binding … a mount proves it" and nothing of the tenant.
#[test]
fn identity_binding_asking_another_tenant_is_kvc404_before_a_mount() {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters
        .insert("useAzureTokenProxy".into(), "true".into());
    spc.parameters.remove("tenantID");
    spc.parameters
        .insert("tenantId".into(), OTHER_TENANT.into());
    tk::reparse(spc);
    tk::unmount(&mut s, APP);
    let c = one(&s);
    let f = find(&c, Code::KVC404);
    assert!(
        f.fix.ends_with(&format!("# parameters.tenantId: {TENANT}")),
        "{}",
        f.fix
    );
    assert_eq!(c.link(LinkKind::Federation).status, Status::Broken);
}
