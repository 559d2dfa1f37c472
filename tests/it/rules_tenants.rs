//! Tenants (FACTS §5, §11): a wrong tenant is named for what it is — in the SPC, the
//! identity or the vault — before the credential it keeps from being compared.

use kvchain::chain::testkit::{self as tk, APP, NS, TENANT};
use kvchain::chain::{Code, LinkKind, Severity, Status, diagnose};
use kvchain::snapshot::*;

use super::cause_kit::*;

/// FACTS §5: the provider reads `tenantID`, else the deprecated `tenantId`. The evidence
/// quotes the key the SPC has and the fix edits that key (adding `tenantID` beside a wrong
/// `tenantId` would work, but leave the wrong value in place to mislead the next reader).
#[test]
fn aadsts700016_for_a_known_identity_names_both_tenants() {
    for key in ["tenantId", "tenantID"] {
        let mut s = tk::healthy();
        let spc = tk::spc_mut(&mut s, APP);
        spc.parameters.remove("tenantId");
        spc.parameters.remove("tenantID");
        spc.parameters.insert(key.into(), OTHER_TENANT.into());
        tk::reparse(spc);
        let client = tk::client_id(NS, APP);
        let c = one(&failing_with(s, &aadsts700016(&client, OTHER_TENANT)));
        assert_eq!(
            codes(&c),
            [Code::KVC404],
            "not 'no application with clientID'"
        );
        let f = find(&c, Code::KVC404);
        assert!(
            f.message.contains(OTHER_TENANT) && f.message.contains(TENANT),
            "{}",
            f.message
        );
        assert!(has_event(f));
        assert!(
            f.evidence
                .iter()
                .any(|e| **e == format!("parameters.{key}: {OTHER_TENANT}")),
            "{:?}",
            f.evidence
        );
        assert!(
            f.fix.ends_with(&format!("# parameters.{key}: {TENANT}")),
            "{}",
            f.fix
        );
        assert!(!f.fix.contains("clientID"), "{}", f.fix);
        assert_eq!(c.link(LinkKind::Identity).status, Status::Ok);
        assert_eq!(c.link(LinkKind::Mount).summary, "blocked: Federation");
    }
}

/// FACTS §11: AADSTS700016 for a clientID asked at another tenant's endpoint — the identity
/// exists, the SPC tenantID is wrong. With the identities unseen, a tenant asked that is not
/// the cluster's (where its managed identities live) says so: KVC404 leading with the
/// cluster's tenant, in the key the SPC uses, not a clientID to change.
#[test]
fn aadsts700016_with_identities_unseen_and_another_tenant_than_the_clusters_is_the_tenant() {
    for key in ["tenantId", "tenantID"] {
        let mut s = tk::healthy();
        s.azure = AzureObs::unknown("no Azure credentials");
        let spc = tk::spc_mut(&mut s, APP);
        spc.parameters.remove("tenantId");
        spc.parameters.remove("tenantID");
        spc.parameters.insert(key.into(), OTHER_TENANT.into());
        tk::reparse(spc);
        let client = tk::client_id(NS, APP);
        let c = one(&failing_with(s, &aadsts700016(&client, OTHER_TENANT)));
        assert_eq!(codes(&c), [Code::KVC404], "not 'no identity'");
        let f = find(&c, Code::KVC404);
        assert!(has_event(f));
        assert!(
            f.message.contains(OTHER_TENANT) && f.message.contains(TENANT),
            "{}",
            f.message
        );
        assert!(
            f.fix.ends_with(&format!("# parameters.{key}: {TENANT}")),
            "{}",
            f.fix
        );
        assert!(!f.fix.contains("clientID"), "{}", f.fix);
        assert_ne!(c.link(LinkKind::Identity).status, Status::Broken);
    }
}

/// The cluster's tenant is known from its OIDC issuer too (FACTS §7: AKS issuers carry it).
#[test]
fn the_clusters_tenant_is_read_from_its_issuer_when_not_observed() {
    let mut s = tk::healthy();
    s.azure = AzureObs::unknown("no Azure credentials");
    s.cluster.tenant_id = Observed::unknown("not observed");
    s.cluster.oidc_issuer = Observed::Known(format!(
        "https://westeurope.oic.prod-aks.azure.com/{TENANT}/6d8f2a3b-4c5e-4f70-9b1c-2d3e4f5a6b7c/"
    ));
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters
        .insert("tenantID".into(), OTHER_TENANT.into());
    tk::reparse(spc);
    let client = tk::client_id(NS, APP);
    let c = one(&failing_with(s, &aadsts700016(&client, OTHER_TENANT)));
    let f = find(&c, Code::KVC404);
    assert!(f.fix.ends_with(&format!(": {TENANT}")), "{}", f.fix);
}

/// When neither the identities nor the cluster's tenant are known, which of clientID and
/// tenantID is wrong cannot be told: both edits are offered, clientID first (KVC301).
#[test]
fn aadsts700016_with_no_tenant_to_compare_offers_both_edits() {
    let mut s = tk::healthy();
    s.azure = AzureObs::unknown("no Azure credentials");
    s.cluster.tenant_id = Observed::unknown("not observed");
    s.cluster.oidc_issuer = Observed::unknown("not observed");
    let client = tk::client_id(NS, APP);
    let c = one(&failing_with(s, &aadsts700016(&client, OTHER_TENANT)));
    let f = find(&c, Code::KVC301);
    assert!(f.message.contains(OTHER_TENANT), "{}", f.message);
    assert!(f.message.contains("tenantID"), "{}", f.message);
    let (client_edit, tenant_edit) = (
        f.fix.find("parameters.clientID").expect("clientID edit"),
        f.fix.find("parameters.tenant").expect("tenant edit"),
    );
    assert!(client_edit < tenant_edit, "{}", f.fix);
}

/// The tenant asked is the cluster's: the clientID is what names no identity (KVC301).
#[test]
fn aadsts700016_in_the_clusters_tenant_is_the_client_id() {
    let mut s = tk::healthy();
    s.azure = AzureObs::unknown("no Azure credentials");
    let c = one(&failing_with(
        s,
        &aadsts700016("11111111-2222-4333-8444-555555555555", TENANT),
    ));
    assert_eq!(codes(&c), [Code::KVC301]);
    let f = find(&c, Code::KVC301);
    assert!(f.fix.contains("parameters.clientID"), "{}", f.fix);
}

#[test]
fn a_vault_in_another_tenant_explains_that_a_managed_identity_cannot_cross() {
    let mut s = tk::healthy();
    tk::vault_mut(&mut s, NS).tenant_id = OTHER_TENANT.into();
    let c = one(&failing_with(s, &akv10032(OTHER_TENANT, TENANT)));
    assert_eq!(
        codes(&c),
        [Code::KVC406],
        "{:#?}",
        c.findings().collect::<Vec<_>>()
    );
    let f = find(&c, Code::KVC406);
    assert!(has_event(f));
    assert!(f.message.contains(OTHER_TENANT) && f.message.contains(TENANT));
    assert!(f.fix.contains("multi-tenant app registration"), "{}", f.fix);
    // Not the fix that leads to the next failure (AADSTS700016 in the vault's tenant).
    assert!(
        !f.fix
            .contains(&format!("parameters.tenantID: {OTHER_TENANT}"))
    );
    // Nor a fact that says so: no "expected" tenantID on the link (audit D8).
    let link = c.link(kvchain::chain::LinkKind::Federation);
    assert!(
        !link
            .facts
            .iter()
            .any(|x| x.label == "tenantID" && x.expected.is_some()),
        "{:#?}",
        link.facts
    );
}

/// AKV10032 names the vault's tenant (FACTS §11): with the vault unseen, the fix's consent
/// and tenantID name it, not a phrase in its place.
#[test]
fn akv10032_alone_fills_the_vaults_tenant_into_the_fix() {
    let mut s = tk::healthy();
    s.azure = AzureObs::unknown("no Azure credentials");
    let c = one(&failing_with(s, &akv10032(OTHER_TENANT, TENANT)));
    let f = find(&c, Code::KVC406);
    assert!(
        f.fix
            .contains(&format!("consent it in tenant {OTHER_TENANT}")),
        "{}",
        f.fix
    );
    assert!(!f.fix.contains("the vault's tenant"), "{}", f.fix);
}

#[test]
fn akv10032_alone_is_recognised() {
    let mut s = tk::healthy();
    s.azure = AzureObs::unknown("no Azure credentials");
    let c = one(&failing_with(s, &akv10032(OTHER_TENANT, TENANT)));
    assert!(!c.findings().any(|f| f.code == Code::KVC701));
    let f = find(&c, Code::KVC406);
    assert!(f.message.contains("AKV10032"), "{}", f.message);
    assert!(
        f.message.contains(&format!("vault tenant {OTHER_TENANT}"))
            && f.message.contains(&format!("token from tenant {TENANT}")),
        "{}",
        f.message
    );
}

/// FACTS §11: the token is asked of the SPC's tenant first; a wrong tenant fails there
/// (AADSTS700016) before any federated credential is compared. With both wrong, the link
/// names the tenant (summary, first finding, first printed) and the subject after it.
#[test]
fn a_wrong_tenant_is_named_before_a_credential_it_keeps_from_being_compared() {
    let mut s = tk::healthy();
    tk::fic_mut(&mut s, APP).subject = "system:serviceaccount:shop:Web".into();
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters
        .insert("tenantId".into(), OTHER_TENANT.into());
    tk::reparse(spc);
    let client = tk::client_id(NS, APP);
    let s = failing_with(s, &aadsts700016(&client, OTHER_TENANT));
    let c = one(&s);
    let fed = c.link(LinkKind::Federation);
    let order: Vec<Code> = fed.findings.iter().map(|f| f.code).collect();
    assert_eq!(order, [Code::KVC404, Code::KVC401], "{fed:#?}");
    assert_eq!(fed.summary, "wrong tenant");
    assert_eq!(c.root_cause().map(|f| f.code), Some(Code::KVC404));
    let text = kvchain::report::text(&s, std::slice::from_ref(&c), false);
    let tenant = text.find("KVC404 error").expect("404 printed");
    let subject = text.find("KVC401 error").expect("401 printed");
    assert!(tenant < subject, "{text}");
}

/// FACTS §5/§11: the tenant names where the sign-in happens; Entra knows a tenant by its id
/// (a GUID) or a domain. A variable's name left in place is a value still to fill in
/// (KVC306); any other value that is neither ("tid" in the upstream examples) is no template
/// but an invalid tenant (KVC302), an error where the token is asked in it (workload
/// identity here); a GUID or a domain passes.
#[test]
fn a_tenant_that_is_neither_an_id_nor_a_domain_is_named() {
    let diagnosed = |tenant: &str| {
        let mut s = tk::healthy();
        let spc = tk::spc_mut(&mut s, APP);
        spc.parameters.remove("tenantID");
        spc.parameters.insert("tenantId".into(), tenant.into());
        tk::reparse(spc);
        diagnose(&s)
    };
    let codes = |tenant: &str| tk::codes(&diagnosed(tenant));
    assert!(codes("YOUR_TENANT_ID").contains(&Code::KVC306));
    let tid = diagnosed("tid");
    let c = &tid[0];
    let f = find(c, Code::KVC302);
    assert!(f.message.contains("invalid tenant"), "{}", f.message);
    assert!(
        !f.message.contains("render"),
        "not a template: {}",
        f.message
    );
    assert_eq!(f.severity, Severity::Error);
    assert!(
        c.findings().all(|f| f.code != Code::KVC306),
        "{:#?}",
        c.links
    );
    for fine in ["contoso.onmicrosoft.com", TENANT] {
        let got = codes(fine);
        assert!(
            !got.contains(&Code::KVC306) && !got.contains(&Code::KVC302),
            "{fine}: {got:?}"
        );
    }
}

/// FACTS §6: the webhook injects AZURE_TENANT_ID from the service account's tenant-id
/// annotation, else its default (the cluster's tenant); FACTS §11: a managed identity lives
/// in one tenant. A pod holding another tenant is named, with the annotation that fixes it.
/// (The annotation says the other tenant: that is where a webhook-injected value comes from.)
#[test]
fn a_pod_holding_another_tenant_than_its_identity_is_named() {
    let mut s = tk::healthy();
    tk::sa_mut(&mut s, APP).annotations.insert(
        "azure.workload.identity/tenant-id".into(),
        OTHER_TENANT.into(),
    );
    tk::pod_mut(&mut s, APP).containers[0].env.push(EnvObs {
        name: "AZURE_TENANT_ID".into(),
        source: EnvSourceObs::Literal {
            value: Some(OTHER_TENANT.into()),
        },
    });
    let c = one(&s);
    let f = find(&c, Code::KVC206);
    assert!(
        f.message.contains(OTHER_TENANT) && f.message.contains(TENANT),
        "{}",
        f.message
    );
    assert!(
        f.fix
            .contains(&format!("azure.workload.identity/tenant-id={TENANT}")),
        "{}",
        f.fix
    );
    // Holding the identity's own tenant is fine.
    if let EnvSourceObs::Literal { value } = &mut tk::pod_mut(&mut s, APP).containers[0]
        .env
        .last_mut()
        .unwrap()
        .source
    {
        *value = Some(TENANT.into());
    }
    assert!(!tk::codes(&diagnose(&s)).contains(&Code::KVC206));
}

fn tenant_env(value: &str) -> EnvObs {
    EnvObs {
        name: "AZURE_TENANT_ID".into(),
        source: EnvSourceObs::Literal {
            value: Some(value.into()),
        },
    }
}

/// FACTS §6: the webhook injects a variable only if the container does not set it already.
/// A container setting AZURE_TENANT_ID to another tenant than its identity's keeps it,
/// whatever the service account says: the cause is the container's own env entry, not "the
/// webhook injected its default", and no annotation fixes it. Known from the workload's pod
/// template, or, without it, from a value the webhook would not inject (neither the
/// annotation, absent here, nor the cluster's tenant).
#[test]
fn a_container_setting_another_tenant_itself_is_fixed_in_its_own_env() {
    for template_known in [true, false] {
        let mut s = tk::healthy();
        tk::pod_mut(&mut s, APP).containers[0]
            .env
            .insert(0, tenant_env(OTHER_TENANT));
        if template_known {
            let mut template = tk::pod_mut(&mut s, APP).clone();
            template.template_of = Some(tk::owner("Deployment", APP));
            template.containers[0]
                .env
                .retain(|e| e.name == "AZURE_TENANT_ID");
            tk::workload_mut(&mut s, "Deployment", APP).template = Some(Box::new(template));
        }
        let c = one(&s);
        let f = find(&c, Code::KVC206);
        let case = format!("template known {template_known}: {} / {}", f.message, f.fix);
        let container = &tk::pod_mut(&mut s, APP).containers[0].name.clone();
        assert!(
            f.message.contains(OTHER_TENANT) && f.message.contains(TENANT),
            "{case}"
        );
        assert!(
            f.message.contains(&format!("container {container}")),
            "{case}"
        );
        assert!(!f.message.contains("injected its default"), "{case}");
        assert!(!f.fix.contains("annotate serviceaccount"), "{case}");
        assert_eq!(
            f.fix,
            format!(
                "kubectl set env deployment/{APP} -n {NS} -c {container} AZURE_TENANT_ID={TENANT}"
            ),
            "{case}"
        );
    }
}

/// The template decides which it is: a template that does not set AZURE_TENANT_ID means the
/// webhook injected it, so the annotation it read is the fix.
#[test]
fn a_template_without_the_variable_means_the_webhook_injected_it() {
    let mut s = tk::healthy();
    tk::sa_mut(&mut s, APP).annotations.insert(
        "azure.workload.identity/tenant-id".into(),
        OTHER_TENANT.into(),
    );
    tk::pod_mut(&mut s, APP).containers[0]
        .env
        .push(tenant_env(OTHER_TENANT));
    let mut template = tk::pod_mut(&mut s, APP).clone();
    template.template_of = Some(tk::owner("Deployment", APP));
    template.containers[0].env.clear();
    tk::workload_mut(&mut s, "Deployment", APP).template = Some(Box::new(template));
    let f = find(&one(&s), Code::KVC206).clone();
    assert!(f.message.contains("service account"), "{}", f.message);
    assert!(!f.message.contains("itself"), "{}", f.message);
    assert!(
        f.fix.starts_with("kubectl annotate serviceaccount "),
        "{}",
        f.fix
    );
}

/// Audit DDD6. A vault in another tenant is one kvchain cannot see (not in the visible
/// subscriptions): the vault's tenant, half of what Key Vault's 401 AKV10032 is about, is
/// unread, so the Federation link does not "look right now" — the event's own diagnosis
/// stands (FACTS §11: a managed identity cannot reach a vault in another tenant).
#[test]
fn akv10032_with_the_vault_unseen_is_the_cross_tenant_cause_not_a_wait() {
    let mut s = tk::healthy();
    let vault = tk::vault_name(NS);
    s.azure.vaults.items.clear();
    s.azure.vaults.gaps.namespaces.insert(
        vault.clone(),
        format!("vault {vault} not found in the subscriptions visible to kvchain (a vault holds that name: it is in another subscription or tenant, or soft-deleted)"),
    );
    let c = one(&failing_with(s, &akv10032(OTHER_TENANT, TENANT)));
    let f = find(&c, Code::KVC406);
    assert!(!f.message.contains("looks right now"), "{}", f.message);
    assert!(!f.fix.contains("nothing to change"), "{}", f.fix);
    assert!(
        f.message.contains(&format!("vault tenant {OTHER_TENANT}")),
        "{}",
        f.message
    );
    assert_ne!(
        c.link(LinkKind::Federation).summary,
        "failed, now looks right"
    );
}

/// Audit DDD7. The identity unseen, the vault seen in another tenant than the SPC asks, and
/// Key Vault's 401 AKV10032: Entra issued the token in the tenant asked, so the identity lives
/// there and no tenantID works (KVC406). Pointing tenantID at the vault's tenant would end in
/// AADSTS700016: no such fix.
#[test]
fn akv10032_with_the_identity_unseen_is_no_tenant_id_to_change() {
    let mut s = tk::healthy();
    tk::vault_mut(&mut s, NS).tenant_id = OTHER_TENANT.into();
    let client = tk::client_id(NS, APP);
    s.azure.identities.items.clear();
    s.azure.identities.gaps.namespaces.insert(
        client.clone(),
        format!(
            "no managed identity with clientId {client} in the subscriptions visible to kvchain"
        ),
    );
    let c = one(&failing_with(s, &akv10032(OTHER_TENANT, TENANT)));
    assert!(
        !c.findings().any(|f| f.code == Code::KVC404),
        "{:#?}",
        c.findings().collect::<Vec<_>>()
    );
    let f = find(&c, Code::KVC406);
    assert!(
        f.message.contains(&format!(
            "the identity of clientID {client} is in tenant {TENANT}"
        )),
        "{}",
        f.message
    );
    // Nothing says the identity was read: its tenant is the token's issuer's.
    assert!(
        !f.evidence.iter().any(|e| e.starts_with("identity ")),
        "{:?}",
        f.evidence
    );
    assert!(
        !f.fix.contains(&format!("tenantId: {OTHER_TENANT}")) || f.fix.contains("app registration"),
        "{}",
        f.fix
    );
    assert!(
        f.fix.contains("a managed identity cannot do this"),
        "{}",
        f.fix
    );
}

/// Audit DDD9. With the SecretProviderClasses unread, the clientId is still known to the
/// snapshot — the AADSTS700016 message names it, the ServiceAccount is annotated with it — so
/// no finding or command carries a `<clientID>` placeholder (a lookup of it finds nothing and
/// reads as "no such identity").
#[test]
fn with_the_spcs_unread_the_client_id_comes_from_the_event_not_a_placeholder() {
    let mut s = tk::healthy();
    s.spcs.items.clear();
    s.spcs.gaps.namespaces.insert(
        NS.into(),
        "cannot list secretproviderclasses in shop: forbidden".into(),
    );
    let client = tk::client_id(NS, APP);
    let c = one(&failing_with(s, &aadsts700016(&client, OTHER_TENANT)));
    let texts: Vec<String> = c
        .findings()
        .flat_map(|f| {
            [
                f.message.to_string(),
                f.confirm.to_string(),
                f.fix.to_string(),
                f.resource.to_string(),
            ]
        })
        .collect();
    assert!(!texts.is_empty(), "{c:#?}");
    assert!(
        !texts.iter().any(|t| t.contains("<clientID>")),
        "{texts:#?}"
    );
    assert!(texts.iter().any(|t| t.contains(&client)), "{texts:#?}");
}

/// `tenantID` set to a verified domain of the tenant (`contoso.onmicrosoft.com`): Entra ID
/// takes a tenant's domain name where it takes its id (Microsoft identity platform, the
/// `{tenant}` of `login.microsoftonline.com/{tenant}`: a GUID or a domain name; kvchain's own
/// KVC302 says so). Which tenant a domain names is not read, so it is compared with no tenant
/// id: a healthy mount proves it, and before one the link is unknown, not KVC404.
const DOMAIN: &str = "contoso.onmicrosoft.com";

fn with_domain_tenant(mut s: Snapshot) -> Snapshot {
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters.remove("tenantID");
    spc.parameters.insert("tenantId".into(), DOMAIN.into());
    tk::reparse(spc);
    s
}

#[test]
fn a_tenant_given_as_its_domain_is_proven_by_a_mount_not_called_wrong() {
    let c = one(&with_domain_tenant(tk::healthy()));
    assert!(
        codes(&c).is_empty(),
        "{:#?}",
        c.findings().collect::<Vec<_>>()
    );
    assert_eq!(c.link(LinkKind::Federation).status, Status::Ok);
}

#[test]
fn a_tenant_given_as_its_domain_is_unknown_until_a_mount_proves_it() {
    let mut s = with_domain_tenant(tk::healthy());
    tk::unmount(&mut s, APP);
    let c = one(&s);
    assert!(
        !codes(&c).contains(&Code::KVC404),
        "{:#?}",
        c.findings().collect::<Vec<_>>()
    );
    let link = c.link(LinkKind::Federation);
    assert_eq!(link.status, Status::Unknown, "{:#?}", link);
    assert!(
        link.facts
            .iter()
            .any(|f| f.label == "unknown" && f.observed.contains(DOMAIN)),
        "{:#?}",
        link.facts
    );
}

/// The domain names another tenant than the identity's: Entra's AADSTS700016 at that
/// endpoint is the proof, and the fix is the identity's tenant id.
#[test]
fn a_tenant_domain_refused_with_aadsts700016_is_the_tenant() {
    let client = tk::client_id(NS, APP);
    let c = one(&failing_with(
        with_domain_tenant(tk::healthy()),
        &aadsts700016(&client, DOMAIN),
    ));
    assert_eq!(
        codes(&c),
        [Code::KVC404],
        "not 'no application with clientID'"
    );
    let f = find(&c, Code::KVC404);
    assert!(has_event(f));
    assert!(
        f.fix.ends_with(&format!("# parameters.tenantId: {TENANT}")),
        "{}",
        f.fix
    );
}

/// The identity in another tenant than the vault: no tenantID reaches across (FACTS §11),
/// whichever tenant the domain names.
#[test]
fn a_tenant_domain_beside_an_identity_and_vault_in_two_tenants_is_kvc406() {
    let mut s = with_domain_tenant(tk::healthy());
    tk::vault_mut(&mut s, NS).tenant_id = OTHER_TENANT.into();
    tk::unmount(&mut s, APP);
    let c = one(&s);
    assert_eq!(
        codes(&c),
        [Code::KVC406],
        "{:#?}",
        c.findings().collect::<Vec<_>>()
    );
    let f = find(&c, Code::KVC406);
    assert!(
        f.message.contains(DOMAIN) && f.message.contains("AKV10032"),
        "{}",
        f.message
    );
}
