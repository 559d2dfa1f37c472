//! One cause per symptom (issue 12 §1–§2): an event's message and the rule that reads the
//! objects name the same cause once, the field / grant / tenant that is actually wrong, with a
//! fix that works.

use kvchain::chain::testkit::{self as tk, APP, ISSUER, NS, TENANT};
use kvchain::chain::{Chain, Code, Finding, LinkKind, Severity, Status, diagnose};
use kvchain::snapshot::*;

const OTHER_TENANT: &str = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";

fn one(s: &Snapshot) -> Chain {
    let mut chains = diagnose(s);
    assert_eq!(chains.len(), 1);
    chains.remove(0)
}

/// Codes of the findings that are causes (not effects of an earlier broken link).
fn codes(c: &Chain) -> Vec<Code> {
    c.findings()
        .filter(|f| f.follows.is_none())
        .map(|f| f.code)
        .collect()
}

/// The first finding with `code` in any of `chains`.
fn find_any(chains: &[Chain], code: Code) -> &Finding {
    chains
        .iter()
        .flat_map(|c| c.findings())
        .find(|f| f.code == code)
        .unwrap_or_else(|| panic!("{code} missing"))
}

fn find(c: &Chain, code: Code) -> &Finding {
    c.findings()
        .find(|f| f.code == code)
        .unwrap_or_else(|| panic!("{code} missing: {:#?}", c.findings().collect::<Vec<_>>()))
}

fn has_event(f: &Finding) -> bool {
    f.evidence
        .iter()
        .any(|e| e.starts_with("FailedMount") || e.starts_with("FailedToCreateSecret"))
}

/// The provider's error for an AADSTS70021 that presents `issuer` and the app's subject.
fn aadsts70021(issuer: &str) -> String {
    format!(
        "failed to get objectType:secret, objectName:web-db-pass, objectVersion:: ClientAssertionCredential authentication failed. \nPOST https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token\n----\nRESPONSE 400: 400 Bad Request\n----\n{{ \"error\": \"invalid_request\", \"error_description\": \"AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: '{issuer}'. Assertion Subject: 'system:serviceaccount:shop:web'. Assertion Audience: 'api://AzureADTokenExchange'.\", \"error_codes\": [70021] }}"
    )
}

fn aadsts700016(client: &str, tenant: &str) -> String {
    format!(
        "failed to get objectType:secret, objectName:web-db-pass, objectVersion:: ClientAssertionCredential authentication failed. \nPOST https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token\n----\nRESPONSE 400: 400 Bad Request\n----\n{{ \"error\": \"unauthorized_client\", \"error_description\": \"AADSTS700016: Application with identifier '{client}' was not found in the directory '{tenant}'. You may have sent your authentication request to the wrong tenant.\", \"error_codes\": [700016] }}"
    )
}

fn akv10032(vault_tenant: &str, token_tenant: &str) -> String {
    format!(
        "failed to get objectType:secret, objectName:web-db-pass, objectVersion:: GET https://kv-shop.vault.azure.net/secrets/web-db-pass/\n----\nRESPONSE 401: 401 Unauthorized\nERROR CODE: Unauthorized\n----\n{{\"error\":{{\"code\":\"Unauthorized\",\"message\":\"AKV10032: Invalid issuer. Expected one of https://sts.windows.net/{vault_tenant}/, found https://sts.windows.net/{token_tenant}/.\"}}}}"
    )
}

/// The healthy app, not mounted, with one FailedMount carrying `cause`.
fn failing_with(mut s: Snapshot, cause: &str) -> Snapshot {
    tk::unmount(&mut s, APP);
    s.events.items.push(tk::failed_mount(
        NS,
        &tk::pod_name(APP, 0),
        "secrets-store-inline",
        cause,
    ));
    s
}

#[test]
fn aadsts70021_for_an_issuer_without_trailing_slash_is_only_the_issuer() {
    let mut s = tk::healthy();
    tk::fic_mut(&mut s, APP).issuer = ISSUER.trim_end_matches('/').into();
    let c = one(&failing_with(s, &aadsts70021(ISSUER)));
    assert_eq!(
        codes(&c),
        [Code::KVC402],
        "{:#?}",
        c.findings().collect::<Vec<_>>()
    );
    assert!(
        has_event(find(&c, Code::KVC402)),
        "the event corroborates it"
    );
    assert_eq!(c.link(LinkKind::Federation).summary, "issuer mismatch");
}

#[test]
fn aadsts70021_for_a_wrong_audience_is_only_the_audience() {
    let mut s = tk::healthy();
    tk::fic_mut(&mut s, APP).audiences = vec!["api://AzureADTokenExchange/".into()];
    let c = one(&failing_with(s, &aadsts70021(ISSUER)));
    assert_eq!(codes(&c), [Code::KVC403]);
    assert!(has_event(find(&c, Code::KVC403)));
}

#[test]
fn aadsts70021_proves_the_issuer_when_the_cluster_issuer_is_unreadable() {
    let mut s = tk::healthy();
    s.cluster.oidc_issuer = Observed::unknown("forbidden");
    tk::fic_mut(&mut s, APP).issuer = ISSUER.trim_end_matches('/').into();
    let c = one(&failing_with(s, &aadsts70021(ISSUER)));
    assert_eq!(codes(&c), [Code::KVC402]);
    let f = find(&c, Code::KVC402);
    assert!(f.fix.ends_with(&format!("--issuer {ISSUER}")), "{}", f.fix);
}

#[test]
fn a_403_beside_a_wrong_role_is_the_wrong_role_only() {
    let mut s = tk::healthy();
    // A role that reads certificates, not secrets: the object is a secret.
    let r = tk::role_mut(&mut s, NS, APP);
    r.role_name = "Key Vault Certificate Reader".into();
    r.data_actions = vec!["Microsoft.KeyVault/vaults/certificates/read".into()];
    let rbac = "failed to get objectType:secret, objectName:web-db-pass, objectVersion:: GET https://kv-shop.vault.azure.net/secrets/web-db-pass/\n----\nRESPONSE 403: 403 Forbidden\nERROR CODE: Forbidden\n----\n{\"error\":{\"code\":\"Forbidden\",\"message\":\"Caller is not authorized to perform action on resource.\\r\\nAction: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'\",\"innererror\":{\"code\":\"ForbiddenByRbac\"}}}";
    let c = one(&failing_with(s, rbac));
    assert_eq!(codes(&c), [Code::KVC502]);
    let f = find(&c, Code::KVC502);
    assert!(has_event(f));
    assert!(f.fix.contains("\"Key Vault Secrets User\""), "{}", f.fix);
}

#[test]
fn a_403_with_grants_unseen_grants_the_role_the_object_type_needs() {
    let mut s = tk::healthy();
    s.azure = AzureObs::unknown("no Azure credentials");
    let cert = "failed to get objectType:cert, objectName:signing, objectVersion:: GET https://kv-shop.vault.azure.net/certificates/signing/\n----\nRESPONSE 403: 403 Forbidden\n{\"error\":{\"code\":\"Forbidden\",\"message\":\"Caller is not authorized to perform action on resource.\\r\\nAction: 'Microsoft.KeyVault/vaults/certificates/read'\",\"innererror\":{\"code\":\"ForbiddenByRbac\"}}}";
    let c = one(&failing_with(s, cert));
    let f = find(&c, Code::KVC501);
    assert!(
        f.fix.contains("\"Key Vault Certificate User\""),
        "{}",
        f.fix
    );
    assert!(!f.fix.contains("Secrets User"), "{}", f.fix);
}

/// The healthy app's synced Secret as `kubernetes.io/tls`, both keys from its one object,
/// mounted as `object_type`.
fn tls_secret_from(object_type: &str) -> Snapshot {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    let so = &mut spc.secret_objects[0];
    so.type_ = "kubernetes.io/tls".into();
    so.data = ["tls.key", "tls.crt"]
        .map(|key| SecretObjectData {
            object_name: "password".into(),
            key: key.into(),
        })
        .into();
    let objects = tk::objects_yaml(&[&[
        ("objectName", &tk::object_name(APP)),
        ("objectType", object_type),
        ("objectAlias", "password"),
    ]]);
    spc.parameters.insert("objects".into(), objects);
    tk::reparse(spc);
    s
}

/// FACTS §5: objectType key mounts the PUBLIC KEY PEM: neither the private key nor the
/// certificate a kubernetes.io/tls Secret needs; the fix names the object to change.
#[test]
fn a_tls_secret_built_from_a_key_object_has_no_private_key() {
    let c = one(&tls_secret_from("key"));
    let f = find(&c, Code::KVC804);
    assert!(f.message.contains("objectType key"), "{}", f.message);
    assert!(f.message.contains("PUBLIC KEY"), "{}", f.message);
    assert!(
        f.fix.ends_with(&format!(
            "objects[0] ({}).objectType: secret",
            tk::object_name(APP)
        )),
        "{}",
        f.fix
    );
    assert!(!tk::codes(std::slice::from_ref(&c)).contains(&Code::KVC801));
}

#[test]
fn a_tls_secret_without_key_is_not_a_missing_file_nor_a_sync_permission_problem() {
    let mut s = tls_secret_from("cert");
    s.secrets.items.retain(|x| x.name != tk::secret_name(APP));
    s.events.items.push(EventObs {
        namespace: NS.into(),
        involved_kind: "Pod".into(),
        involved_name: tk::pod_name(APP, 0).into(),
        type_: "Warning".into(),
        reason: "FailedToCreateSecret".into(),
        message: "failed to get data in spc shop/web-kv for secret web-secret, err: failed to get private key from file matching objectName password: no private key found".into(),
        count: 4,
        source: "csi-secrets-store-controller".into(),
        ..EventObs::default()
    });
    let c = one(&s);
    let sync: Vec<Code> = c
        .link(LinkKind::Sync)
        .findings
        .iter()
        .map(|f| f.code)
        .collect();
    assert_eq!(sync, [Code::KVC804], "{:#?}", c.link(LinkKind::Sync));
    let f = find(&c, Code::KVC804);
    assert!(has_event(f), "{f:#?}");
    assert!(
        f.evidence.iter().any(|e| e.contains("not found")),
        "the missing Secret is its effect"
    );
}

#[test]
fn secret_objects_naming_the_object_not_the_alias_is_not_a_helm_problem() {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    spc.secret_objects[0].data[0].object_name = tk::object_name(APP);
    s.secrets.items.retain(|x| x.name != tk::secret_name(APP));
    let c = one(&s);
    let sync: Vec<Code> = c
        .link(LinkKind::Sync)
        .findings
        .iter()
        .map(|f| f.code)
        .collect();
    assert_eq!(sync, [Code::KVC801]);
    assert!(!c.findings().any(|f| f.fix.contains("helm")));
}

// ------------------------------------------------------------------------------ tenants

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

#[test]
fn aadsts700016_with_identities_unseen_says_what_remains_possible() {
    let mut s = tk::healthy();
    s.azure = AzureObs::unknown("no Azure credentials");
    let client = tk::client_id(NS, APP);
    let c = one(&failing_with(s, &aadsts700016(&client, OTHER_TENANT)));
    let f = find(&c, Code::KVC301);
    assert!(f.message.contains(OTHER_TENANT), "{}", f.message);
    assert!(f.message.contains("tenantID"), "{}", f.message);
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

// ------------------------------------------------------------------------------ order

#[test]
fn downstream_effects_follow_the_root_cause_and_say_so() {
    let mut s = tk::healthy();
    tk::fic_mut(&mut s, APP).subject = "system:serviceaccount:shop:Web".into();
    let s = failing_with(s, &aadsts70021(ISSUER));
    let c = one(&s);
    // No pod mounts the SPC, so no synced Secret: an effect of the federation failure.
    let effect = find(&c, Code::KVC802);
    assert_eq!(effect.follows, Some(LinkKind::Federation));
    assert!(
        effect.message.starts_with("blocked by Federation"),
        "{}",
        effect.message
    );
    assert_eq!(c.link(LinkKind::Sync).summary, "blocked: Federation");
    // Its own fix (remount) cannot work while federation fails: it points at the cause.
    assert_eq!(
        &*effect.fix,
        "# fix KVC401 (Federation) first: the next rotation poll or mount then refreshes this"
    );
    let root = c.root_cause().expect("a root cause");
    assert_eq!(root.code, Code::KVC401);
    // `check` prints the root cause first.
    let text = kvchain::report::text(&s, std::slice::from_ref(&c), false);
    let first = text.find("KVC401 error").expect("401 printed");
    let after = text.find("KVC802 warning").expect("802 printed");
    assert!(first < after, "{text}");
}

#[test]
fn an_unrelated_warning_upstream_is_not_the_root_cause() {
    let mut s = tk::healthy();
    // A warning on the pod link (subPath) beside an error on the access link.
    if let Some(m) = tk::pod_mut(&mut s, APP).containers[0].mounts.first_mut() {
        m.sub_path = Some("password".into());
    }
    tk::role_mut(&mut s, NS, APP).data_actions.clear();
    let c = one(&s);
    assert!(
        c.findings().any(|f| f.code == Code::KVC102),
        "{:#?}",
        c.findings().collect::<Vec<_>>()
    );
    assert_eq!(c.root_cause().map(|f| f.code), Some(Code::KVC501));
    let text = kvchain::report::text(&s, std::slice::from_ref(&c), false);
    assert!(
        text.find("KVC501 error").expect("501") < text.find("KVC102 warning").expect("102"),
        "{text}"
    );
}

// ------------------------------------------------------------------------------ fixes

#[test]
fn a_missing_object_suggests_the_vaults_nearest_name() {
    let mut s = tk::healthy();
    tk::object_mut(&mut s, APP).state = Observed::Known(None);
    tk::vault_mut(&mut s, NS).object_names = Some(vec![
        (ObjectType::Secret, "web_db_pass".into()),
        (ObjectType::Secret, "unrelated".into()),
        (ObjectType::Key, "web-db-pas".into()),
    ]);
    let c = one(&s);
    let f = find(&c, Code::KVC601);
    assert!(
        f.message.contains("did you mean web_db_pass?"),
        "{}",
        f.message
    );
    assert!(
        f.fix.ends_with("objects[0].objectName: web_db_pass"),
        "{}",
        f.fix
    );
}

#[test]
fn a_missing_object_without_a_near_name_gets_a_command_that_runs() {
    let mut s = tk::healthy();
    tk::object_mut(&mut s, APP).state = Observed::Known(None);
    let c = one(&s);
    let f = find(&c, Code::KVC601);
    assert!(
        f.fix
            .starts_with("az keyvault secret set --vault-name kv-shop -n web-db-pass --file"),
        "{}",
        f.fix
    );
    assert!(
        !f.fix.contains('…') && !f.fix.contains("create/set"),
        "{}",
        f.fix
    );
}

#[test]
fn malformed_objects_state_the_format_once() {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters.insert(
        "objects".into(),
        "array:\n  - |\n    objectName: a\n    objectType: secret\n   - |\n    objectName: b\n"
            .into(),
    );
    tk::reparse(spc);
    let c = one(&s);
    let f = find(&c, Code::KVC705);
    assert!(!f.message.contains("objects: objects"), "{}", f.message);
    assert!(
        f.message.contains("`array:`") && f.message.contains("`- |`"),
        "{}",
        f.message
    );
}

/// One cause, one finding: with `objects` unreadable the provider mounts nothing (KVC705), so
/// the files a synced Secret's keys name are unknown (no KVC801 "matches no mounted file"),
/// and the permissions the objects need are unknown too (Access is not "granted").
#[test]
fn unreadable_objects_leave_sync_keys_and_access_unknown_not_broken_or_granted() {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters.insert(
        "objects".into(),
        "array:\n  - |\n    objectName: a\n   - |\n".into(),
    );
    tk::reparse(spc);
    let c = one(&s);
    find(&c, Code::KVC705);
    let codes: Vec<Code> = c.findings().map(|f| f.code).collect();
    assert!(!codes.contains(&Code::KVC801), "{codes:?}");
    let access = c.link(LinkKind::Access);
    assert_eq!(access.status, Status::Unknown, "{access:?}");
    assert_eq!(access.summary, "objects unknown");
}

/// A pod that reads a synced Secret the driver cannot build cannot start (env from a missing
/// Secret: CreateContainerConfigError): its Consumers link waits on the root cause instead of
/// reading "ok", and a key marked optional does not hold it back.
#[test]
fn consumers_of_a_secret_never_synced_are_blocked_by_the_root_cause() {
    let mut s = tk::healthy();
    tk::spc_mut(&mut s, APP).secret_objects[0].data[0].object_name = "passwd".into();
    s.secrets.items.clear();
    let c = one(&s);
    find(&c, Code::KVC801);
    let consumers = c.link(LinkKind::Consumers);
    assert_eq!(consumers.status, Status::Pending, "{consumers:?}");
    assert_eq!(consumers.summary, "blocked: Sync");
    // Upstream of the sync, the root cause is named: the identity's credential is gone.
    let mut federation = s.clone();
    tk::fic_mut(&mut federation, APP).subject = "system:serviceaccount:shop:other".into();
    tk::unmount(&mut federation, APP);
    let c = one(&federation);
    assert_eq!(c.link(LinkKind::Consumers).summary, "blocked: Federation");
    for pod in s.pods.items.iter_mut() {
        for e in pod.containers[0].env.iter_mut() {
            if let EnvSourceObs::SecretKey { optional, .. } = &mut e.source {
                *optional = true;
            }
        }
    }
    let c = one(&s);
    assert_eq!(
        c.link(LinkKind::Consumers).status,
        Status::Ok,
        "{:?}",
        c.link(LinkKind::Consumers)
    );
}

/// A consumer whose CSI volume names an unrendered SecretProviderClass (`${SPC}`, KVC101 on its
/// own chain) may mount this SPC once rendered: it is not reported as reading the synced
/// Secret without mounting it (KVC903), nor given an orphan chain when no pod mounts the SPC.
#[test]
fn a_consumer_naming_an_unrendered_spc_is_not_said_to_mount_none() {
    let mut s = tk::healthy();
    let mut reader = s.pods.items[0].clone();
    reader.name = "reader".into();
    reader.uid = "uid-reader".into();
    reader.owners.clear();
    reader.volumes = vec![tk::csi_volume("secrets", "${SPC}")];
    s.pods.items.push(reader.clone());
    let chains = diagnose(&s);
    let codes: Vec<Code> = chains
        .iter()
        .flat_map(|c| c.findings())
        .map(|f| f.code)
        .collect();
    assert!(codes.contains(&Code::KVC101), "{codes:?}");
    assert!(!codes.contains(&Code::KVC903), "{codes:?}");
    // The same reader with a real, other SPC is a consumer that mounts none of this one.
    let mut real = s.clone();
    real.pods.items.retain(|p| p.name != "reader");
    reader.volumes = vec![tk::csi_volume("secrets", "other-kv")];
    real.pods.items.push(reader);
    let codes: Vec<Code> = diagnose(&real)
        .iter()
        .flat_map(|c| c.findings())
        .map(|f| f.code)
        .collect();
    assert!(codes.contains(&Code::KVC903), "{codes:?}");
    // No pod mounts the SPC: the unrendered reader gets no orphan chain.
    s.pods.items.retain(|p| p.name == "reader");
    s.spc_statuses.items.clear();
    let chains = diagnose(&s);
    assert!(
        chains.iter().all(|c| c.pod == "reader"),
        "{:?}",
        chains.iter().map(|c| &c.id).collect::<Vec<_>>()
    );
}

/// FACTS §5: the CSI mount's workload identity reads neither the service account's client-id
/// nor the pod label. A pod with neither (the app does not use workload identity itself) gets
/// one note, not two warnings; one of the two without the other is the app's misconfiguration.
#[test]
fn an_app_without_any_workload_identity_sign_gets_one_note_not_two_warnings() {
    let mut s = tk::healthy();
    tk::sa_mut(&mut s, APP).annotations.clear();
    for p in s.pods.items.iter_mut() {
        p.labels.remove("azure.workload.identity/use");
    }
    let c = one(&s);
    let sa: Vec<(Code, Severity)> = c
        .link(LinkKind::ServiceAccount)
        .findings
        .iter()
        .map(|f| (f.code, f.severity))
        .collect();
    assert_eq!(sa, [(Code::KVC203, Severity::Info)]);
    assert_eq!(c.link(LinkKind::ServiceAccount).status, Status::Ok);
    // Nothing is needed for the mount: pasted, the fix changes nothing (a comment).
    let note = find(&c, Code::KVC203);
    assert!(
        note.fix.starts_with("# nothing for the mount"),
        "{}",
        note.fix
    );
    // The label alone says the app means to use it: the missing client-id is a warning.
    let mut labelled = s.clone();
    for p in labelled.pods.items.iter_mut() {
        p.labels
            .insert("azure.workload.identity/use".into(), "true".into());
    }
    let c = one(&labelled);
    let f = find(&c, Code::KVC203);
    assert_eq!(f.severity, Severity::Warning);
    assert!(c.findings().all(|f| f.code != Code::KVC201));
}

/// FACTS §7: the identity has a client id and a principal (object) id; the service account's
/// annotation takes the client id. Given the principal id, the finding says so, and its fix
/// replaces the pods too: the webhook sets AZURE_CLIENT_ID on CREATE only (FACTS §6).
#[test]
fn a_principal_id_in_the_client_id_annotation_is_named_and_the_fix_restarts_the_pods() {
    let mut s = tk::healthy();
    let principal = s.azure.identities.items[0].principal_id.clone();
    let name = s.azure.identities.items[0].name.clone();
    tk::sa_mut(&mut s, APP).annotations.insert(
        "azure.workload.identity/client-id".into(),
        principal.clone(),
    );
    let c = one(&s);
    let f = find(&c, Code::KVC204);
    assert!(
        f.message.contains(&format!(
            "{principal}, which is the principal (object) id of identity {name}"
        )),
        "{}",
        f.message
    );
    assert!(
        f.fix.ends_with(&format!(
            "--overwrite && kubectl rollout restart deployment/{APP} -n {NS}"
        )),
        "{}",
        f.fix
    );
}

/// `useVMManagedIdentity` without `userAssignedIdentityID`: the provider asks the node's
/// metadata endpoint for a token with no client id, which is the scale set's system-assigned
/// identity (not the kubelet's, a user-assigned one). kvchain cannot see it: the link is
/// unknown, and the confirm command lists the scale sets' own identities.
#[test]
fn vm_identity_without_a_user_assigned_id_is_the_scale_sets_own_and_unknown() {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters.remove("clientID");
    spc.parameters
        .insert("useVMManagedIdentity".into(), "true".into());
    tk::reparse(spc);
    let c = one(&s);
    let identity = c.link(LinkKind::Identity);
    assert_eq!(identity.status, Status::Unknown, "{identity:?}");
    let f = find(&c, Code::KVC303);
    assert!(
        f.message
            .contains("the node scale set's system-assigned identity"),
        "{}",
        f.message
    );
    assert!(!f.message.contains("kubelet"), "{}", f.message);
    assert!(f.confirm.starts_with("az vmss list -g "), "{}", f.confirm);
}

/// FACTS §5: the provider reads objectAlias; any other key is ignored, so `alias: password`
/// leaves the file named after objectName and the synced key finds no file. The finding names
/// the misspelt field and the fix renames it (not the secretObjects entry, which is right).
#[test]
fn a_misspelt_object_alias_is_named_as_the_cause_of_the_missing_file() {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    let objects = tk::objects_yaml(&[&[
        ("objectName", &tk::object_name(APP)),
        ("objectType", "secret"),
        ("alias", "password"),
    ]]);
    spc.parameters.insert("objects".into(), objects);
    tk::reparse(spc);
    let c = one(&s);
    let f = find(&c, Code::KVC801);
    assert!(
        f.message
            .contains("objects[0] sets it as `alias`, a field the provider does not read"),
        "{}",
        f.message
    );
    assert!(
        f.fix.ends_with("# objects[0]: rename alias to objectAlias"),
        "{}",
        f.fix
    );
    assert!(
        f.confirm.contains("{.spec.parameters.objects}"),
        "{}",
        f.confirm
    );
}

#[test]
fn driver_fixes_follow_the_install_method() {
    for (install, expect, never) in [
        (DriverInstall::AksAddon, "az aks addon update", "helm"),
        (DriverInstall::Helm, "helm upgrade", "az aks"),
    ] {
        let mut s = tk::healthy();
        if let Observed::Known(csi) = &mut s.cluster.csi_driver {
            csi.install = Some(install);
            csi.rotation_enabled = Observed::Known(false);
        }
        let c = one(&s);
        let f = find(&c, Code::KVC702);
        assert!(
            f.fix.starts_with(expect) && !f.fix.contains(never),
            "{install:?}: {}",
            f.fix
        );
        // A synced Secret missing while mounted, the driver failing to create it
        // (FACTS §11: without sync RBAC, FailedToCreateSecret … forbidden): sync RBAC is
        // Helm's switch only.
        s.secrets.items.clear();
        s.events.items.push(EventObs {
            namespace: NS.into(),
            involved_kind: "Pod".into(),
            involved_name: tk::pod_name(APP, 0).into(),
            type_: "Warning".into(),
            reason: "FailedToCreateSecret".into(),
            message: "failed to create Kubernetes secret web-secret: secrets is forbidden: User \"system:serviceaccount:kube-system:secrets-store-csi-driver\" cannot create resource \"secrets\" in API group \"\" in the namespace \"shop\"".into(),
            count: 3,
            source: "csi-secrets-store-controller".into(),
            last_seen: Some(tk::now()),
            ..EventObs::default()
        });
        let c = one(&s);
        let f = find(&c, Code::KVC806);
        assert_eq!(f.severity, Severity::Error);
        assert_eq!(
            f.fix.contains("syncSecret.enabled=true"),
            install == DriverInstall::Helm,
            "{}",
            f.fix
        );
    }
}

/// FACTS §2: the SPCPS controller re-checks every 5 minutes that the synced Secret exists and
/// creates it. A Secret missing while mounted with no FailedToCreateSecret event was deleted
/// and comes back by itself: no driver failure is claimed and no pod is deleted.
#[test]
fn a_synced_secret_deleted_while_mounted_is_recreated_not_a_driver_failure() {
    let mut s = tk::healthy();
    s.secrets.items.clear();
    let c = one(&s);
    let f = find(&c, Code::KVC806);
    assert_eq!(f.severity, Severity::Warning, "{f:#?}");
    assert!(!f.message.contains("failed to create"), "{}", f.message);
    assert!(f.message.contains("recreated"), "{}", f.message);
    assert!(!f.fix.contains("delete pod"), "{}", f.fix);
    assert!(f.fix.starts_with("# nothing to delete"), "{}", f.fix);
}

#[test]
fn fixes_fill_what_the_snapshot_knows() {
    // The pod runs as a service account that does not exist, while one of its namespace
    // already carries the SPC's clientID: use that one.
    let mut s = tk::healthy();
    tk::pod_mut(&mut s, APP).service_account = "web-typo".into();
    let c = one(&s);
    let f = find(&c, Code::KVC202);
    assert!(f.fix.ends_with("serviceAccountName: web"), "{}", f.fix);
    // The vault firewall: the node pool comes from the pod's node name.
    let mut s = tk::healthy();
    tk::vault_mut(&mut s, NS).network = NetworkObs {
        public_access: true,
        default_deny: true,
        cluster_allowed: Observed::Known(false),
    };
    let c = one(&s);
    let f = find(&c, Code::KVC505);
    assert!(
        f.fix.contains("-n nodepool1 --query vnetSubnetId"),
        "{}",
        f.fix
    );
    assert!(!f.fix.contains('<'), "{}", f.fix);
}

/// KVC202's fix creates the missing account; it annotates a client id only where someone
/// reads it (FACTS §5: the CSI mount reads no annotation; §6: the webhook injects it into
/// pods labelled azure.workload.identity/use), and never with a placeholder the SPC fills.
#[test]
fn a_missing_service_account_is_created_annotated_only_for_a_labelled_pod() {
    let annotate = "kubectl annotate serviceaccount";
    for (labelled, vm_identity, expect_annotation) in [
        (true, false, true),
        (false, false, false),
        (true, true, false),
    ] {
        let mut s = tk::healthy();
        s.service_accounts.items.clear();
        for p in s.pods.items.iter_mut() {
            if !labelled {
                p.labels.remove("azure.workload.identity/use");
            }
        }
        if vm_identity {
            let spc = tk::spc_mut(&mut s, APP);
            spc.parameters.remove("clientID");
            spc.parameters
                .insert("useVMManagedIdentity".into(), "true".into());
            tk::reparse(spc);
        }
        let c = one(&s);
        let f = find(&c, Code::KVC202);
        let case = format!("labelled {labelled}, VM identity {vm_identity}: {}", f.fix);
        assert!(
            f.fix.starts_with("kubectl create serviceaccount "),
            "{case}"
        );
        assert!(!f.fix.contains("<clientID>"), "{case}");
        assert_eq!(f.fix.contains(annotate), expect_annotation, "{case}");
        if expect_annotation {
            let client = tk::client_id(NS, APP);
            assert!(
                f.fix
                    .ends_with(&format!("azure.workload.identity/client-id={client}")),
                "{case}"
            );
        }
    }
}

/// FACTS §2–§3: the driver builds a synced Secret whole or not at all (FailedToCreateSecret
/// "failed to get data in spc … file matching objectName <x> not found in the pod"). Two keys
/// naming no file are one cause, one finding for the Secret, naming both keys and both edits;
/// the pods that read the Secret through env wait on it (Consumers blocked) and get no advice
/// about restarting on a rotation of a Secret that never exists.
#[test]
fn a_synced_secret_with_keys_naming_no_file_is_one_cause_and_blocks_its_readers() {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    let so = &mut spc.secret_objects[0];
    so.data[0].object_name = "passwrd".into();
    so.data.push(SecretObjectData {
        object_name: "user-name".into(),
        key: "user".into(),
    });
    s.secrets.items.retain(|x| x.name != tk::secret_name(APP));
    for w in s.workloads.items.iter_mut() {
        w.annotations.clear(); // no Reloader: KVC902 would fire for a Secret that exists
    }
    let c = one(&s);
    let sync: Vec<&Finding> = c.link(LinkKind::Sync).findings.iter().collect();
    assert_eq!(sync.len(), 1, "{sync:#?}");
    let f = sync[0];
    assert_eq!(f.code, Code::KVC801);
    let secret = tk::secret_name(APP);
    assert!(
        f.message
            .starts_with(&format!("Secret {secret} is never created: ")),
        "{}",
        f.message
    );
    assert!(
        f.message.contains("key password: objectName passwrd")
            && f.message.contains("key user: objectName user-name"),
        "{}",
        f.message
    );
    assert!(
        f.fix.contains(&format!(
            "secretObjects[{secret}].data[key=password].objectName: password"
        )) && f
            .fix
            .contains(&format!("secretObjects[{secret}].data[key=user]")),
        "{}",
        f.fix
    );
    let consumers = c.link(LinkKind::Consumers);
    assert!(
        consumers.findings.iter().all(|f| f.code != Code::KVC902),
        "{:#?}",
        consumers.findings
    );
    assert_eq!(consumers.status, Status::Pending);
    assert_eq!(consumers.summary, "blocked: Sync");
}

/// One pod reading two synced Secrets through env, with nothing to restart it: one KVC902 for
/// the pod naming both Secrets (one restart problem, one finding).
#[test]
fn env_readers_of_two_synced_secrets_get_one_restart_finding() {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    let mut second = spc.secret_objects[0].clone();
    second.secret_name = "web-extra".into();
    spc.secret_objects.push(second);
    let mut extra = s
        .secrets
        .items
        .iter()
        .find(|x| x.name == tk::secret_name(APP))
        .cloned()
        .expect("synced Secret");
    extra.name = "web-extra".into();
    s.secrets.items.push(extra);
    for p in s.pods.items.iter_mut() {
        let mut env = p.containers[0].env[0].clone();
        if let EnvSourceObs::SecretKey { secret, .. } = &mut env.source {
            *secret = "web-extra".into();
        }
        env.name = "EXTRA".into();
        p.containers[0].env.push(env);
    }
    for w in s.workloads.items.iter_mut() {
        w.annotations.clear();
    }
    let chains = diagnose(&s);
    for c in &chains {
        let restart: Vec<&Finding> = c.findings().filter(|f| f.code == Code::KVC902).collect();
        assert_eq!(restart.len(), 1, "{restart:#?}");
        assert!(
            restart[0].message.contains(&format!(
                "synced Secret {}, web-extra ",
                tk::secret_name(APP)
            )),
            "{}",
            restart[0].message
        );
    }
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

/// FACTS §6: the webhook injects AZURE_CLIENT_ID from the service account's annotation into
/// labelled pods at CREATE only, and never overwrites a variable already set. What a running
/// pod holds is the truth about its app: a stale wrong id is named on the pod even when the
/// annotation is right again; a wrong annotation that running pods have not received yet is
/// worded as what new pods will get; unlabelled pods read no annotation at all (an info).
#[test]
fn the_client_id_a_pod_holds_is_what_its_app_uses() {
    const WRONG: &str = "00000000-dead-beef-0000-000000000000";
    let client = tk::client_id(NS, APP);
    let hold = |s: &mut Snapshot, id: &str| {
        for p in s.pods.items.iter_mut() {
            p.containers[0].env.push(EnvObs {
                name: "AZURE_CLIENT_ID".into(),
                source: EnvSourceObs::Literal {
                    value: Some(id.into()),
                },
            });
        }
    };
    // The annotation was fixed, the pod still holds the wrong id.
    let mut s = tk::healthy();
    hold(&mut s, WRONG);
    let c = one(&s);
    let f = find(&c, Code::KVC204);
    assert_eq!(f.resource, format!("Pod/{}", c.pod));
    assert!(
        f.message
            .contains(&format!("holds AZURE_CLIENT_ID {WRONG}")),
        "{}",
        f.message
    );
    assert!(
        f.fix.starts_with("kubectl rollout restart deployment/"),
        "{}",
        f.fix
    );
    // The pod holds the right id, the annotation was just changed: latent, said so.
    let mut s = tk::healthy();
    hold(&mut s, &client);
    tk::sa_mut(&mut s, APP)
        .annotations
        .insert("azure.workload.identity/client-id".into(), WRONG.into());
    let c = one(&s);
    let f = find(&c, Code::KVC204);
    assert!(
        f.message
            .contains(&format!("running pods still hold {client}"))
            && f.message
                .contains(&format!("pods created from now on get {WRONG}")),
        "{}",
        f.message
    );
    // Unlabelled pods: nothing injects the annotation; an info, not a claim about the app.
    for p in s.pods.items.iter_mut() {
        p.labels.remove("azure.workload.identity/use");
        p.containers[0].env.retain(|e| e.name != "AZURE_CLIENT_ID");
    }
    let c = one(&s);
    let f = find(&c, Code::KVC204);
    assert_eq!(f.severity, Severity::Info, "{}", f.message);
    assert!(
        f.message.contains("nothing reads the annotation now"),
        "{}",
        f.message
    );
}

/// FACTS §5: userAssignedIdentityID is read with useVMManagedIdentity only; beside a clientID
/// (workload identity) it changes nothing, though it looks like it picks the identity.
#[test]
fn a_user_assigned_identity_id_outside_vm_identity_mode_is_named_unread() {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters.insert(
        "userAssignedIdentityID".into(),
        "7017a6e5-0000-4000-8000-000000000001".into(),
    );
    tk::reparse(spc);
    let c = one(&s);
    let f = find(&c, Code::KVC305);
    assert!(
        f.message
            .contains("userAssignedIdentityID (read only with useVMManagedIdentity"),
        "{}",
        f.message
    );
    // In VM identity mode it is the identity: not unread.
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters.remove("clientID");
    spc.parameters
        .insert("useVMManagedIdentity".into(), "true".into());
    spc.parameters.insert(
        "userAssignedIdentityID".into(),
        "7017a6e5-0000-4000-8000-000000000001".into(),
    );
    tk::reparse(spc);
    let c = one(&s);
    assert!(
        c.findings().all(|f| f.code != Code::KVC305),
        "{:#?}",
        c.findings().collect::<Vec<_>>()
    );
}

/// FACTS §11: which field differs is found only by comparing the presented issuer, subject and
/// audience with each credential; AADSTS70021 names none. A credential wrong in two fields
/// has both named, so fixing the subject alone is not mistaken for the whole repair.
#[test]
fn a_credential_wrong_in_subject_and_issuer_is_named_for_both() {
    let mut s = tk::healthy();
    let fic = tk::fic_mut(&mut s, APP);
    fic.subject = "system:serviceaccount:shop:Web".into();
    fic.issuer = ISSUER.replace("oic.prod-aks", "oic.staging-aks");
    let c = one(&failing_with(s, &aadsts70021(ISSUER)));
    let f = find(&c, Code::KVC401);
    assert!(f.message.contains("differs only in case"), "{}", f.message);
    assert!(
        f.message
            .contains("and its issuer https://westeurope.oic.staging-aks"),
        "{}",
        f.message
    );
}

/// FACTS §5: the driver merges a volume's attributes over the SPC's parameters. A volume
/// written in the inline form (keyvaultName, objects… in volumeAttributes, no
/// secretProviderClass) is fixed by moving those keys into a SecretProviderClass and naming
/// it; the fix says to remove them (left, they override it) and keeps nodePublishSecretRef.
#[test]
fn an_inline_volume_is_fixed_by_a_spc_made_of_its_attributes() {
    let mut s = tk::healthy();
    for p in s.pods.items.iter_mut() {
        if let VolumeSourceObs::Csi {
            attributes,
            node_publish_secret,
            ..
        } = &mut p.volumes[0].source
        {
            attributes.clear();
            attributes.insert("keyvaultName".into(), "kv-inline".into());
            attributes.insert("usePodIdentity".into(), "false".into());
            // The 2020 examples: required keys left empty, keys the provider never read.
            attributes.insert("tenantId".into(), "".into());
            attributes.insert("resourceGroup".into(), "rg".into());
            *node_publish_secret = Some("secrets-store-creds".into());
        }
    }
    let chains = diagnose(&s);
    let f = find_any(&chains, Code::KVC103);
    // FACTS §5: an empty required key is "not provided"; unread keys change nothing. The SPC
    // made from the volume carries what the provider reads, asks for what is empty, and
    // drops the rest; its name is one the fix chooses, not a placeholder.
    assert!(
        f.fix.contains(&format!(
            "create SecretProviderClass {APP}-kv (provider: azure) with this volume's parameters keyvaultName, usePodIdentity; tenantId set (empty in the volume); without resourceGroup"
        )),
        "{}",
        f.fix
    );
    assert!(!f.fix.contains('<'), "{}", f.fix);
    assert!(f.fix.contains("remove the inline keys"), "{}", f.fix);
    assert!(
        f.fix
            .contains("nodePublishSecretRef: {name: secrets-store-creds}"),
        "{}",
        f.fix
    );
}

/// A command must work when pasted: an SPC still named by a placeholder (`<keyvault-name>`)
/// is no object the API server can hold, so no kubectl command names it; the confirm finds
/// the templates holding it (the value quoted as one shell word, never read as a redirection)
/// and the fix is to render them.
#[test]
fn a_placeholder_spc_name_is_one_quoted_shell_word_in_commands() {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    spc.name = "<keyvault-name>".into();
    spc.parameters
        .insert("keyvaultName".into(), "<keyvault-name>".into());
    tk::reparse(spc);
    for p in s.pods.items.iter_mut() {
        if let VolumeSourceObs::Csi { attributes, .. } = &mut p.volumes[0].source {
            attributes.insert("secretProviderClass".into(), "<keyvault-name>".into());
        }
    }
    let chains = diagnose(&s);
    let f = find_any(&chains, Code::KVC306);
    assert!(
        f.message.contains("metadata.name: <keyvault-name>"),
        "{}",
        f.message
    );
    assert_eq!(f.confirm, "grep -rn -F '<keyvault-name>' .");
    assert!(f.fix.starts_with("# "), "{}", f.fix);
    for f in chains.iter().flat_map(|c| c.findings()) {
        for cmd in [&f.confirm, &f.fix] {
            assert!(
                !cmd.contains("secretproviderclass '<keyvault-name>'"),
                "{}: {cmd}",
                f.code
            );
        }
    }
}

/// FACTS §5: the provider selects workload identity by clientID; `useWorkloadIdentity` is no
/// parameter of it. A pod mounting such an SPC without clientID fails for want of a
/// credential: one cause (KVC302), whose fix removes the flag and names the service
/// account's own client id, not a second KVC305 for the same flag.
#[test]
fn use_workload_identity_without_client_id_is_one_cause_with_the_flag_named() {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters.remove("clientID");
    spc.parameters
        .insert("useWorkloadIdentity".into(), "true".into());
    spc.parameters
        .insert("cloudNme".into(), "AzurePublicCloud".into());
    tk::reparse(spc);
    let chains = diagnose(&s);
    let f = find_any(&chains, Code::KVC302);
    assert!(f.message.contains("useWorkloadIdentity"), "{}", f.message);
    assert!(f.fix.contains("remove useWorkloadIdentity"), "{}", f.fix);
    assert!(f.fix.contains(&tk::client_id(NS, APP)), "{}", f.fix);
    // The other unread key is still told, without the flag named twice.
    let ignored = find_any(&chains, Code::KVC305);
    assert!(ignored.message.contains("cloudNme"), "{}", ignored.message);
    assert!(
        !ignored.message.contains("useWorkloadIdentity"),
        "{}",
        ignored.message
    );
}

/// FACTS §8: a role assignment may be scoped to one object (`<vault>/secrets/<name>`); Key
/// Vault Secrets User grants getSecret wherever it is assigned. An identity granted object by
/// object, one object short, lacks a grant for that object only (KVC501), not the wrong role
/// (KVC502) for all of them; the fix grants the missing object the same way.
#[test]
fn a_grant_scoped_to_other_objects_is_a_missing_grant_for_the_uncovered_one() {
    let mut s = tk::healthy();
    let first = tk::object_name(APP);
    let mut other = tk::object_mut(&mut s, APP).clone();
    other.name = "web-api-token".into();
    s.azure.objects.push(other);
    let spc = tk::spc_mut(&mut s, APP);
    let objects = tk::objects_yaml(&[
        &[("objectName", &first), ("objectType", "secret")],
        &[("objectName", "web-api-token"), ("objectType", "secret")],
    ]);
    spc.parameters.insert("objects".into(), objects);
    spc.secret_objects.clear();
    tk::reparse(spc);
    let vault = tk::vault_id(NS);
    tk::role_mut(&mut s, NS, APP).scope = format!("{vault}/secrets/{first}");
    let chains = diagnose(&s);
    assert!(
        !tk::codes(&chains).contains(&Code::KVC502),
        "{:#?}",
        chains[0].links
    );
    let f = find_any(&chains, Code::KVC501);
    assert!(f.message.contains("secret web-api-token"), "{}", f.message);
    assert!(!f.message.contains(&first), "{}", f.message);
    assert!(
        f.fix
            .ends_with(&format!("--scope {vault}/secrets/web-api-token")),
        "{}",
        f.fix
    );
    assert!(
        f.evidence
            .iter()
            .any(|e| e.contains(&format!("secrets/{first} only"))),
        "{:#?}",
        f.evidence
    );
    // Granted on the vault, both objects are covered.
    tk::role_mut(&mut s, NS, APP).scope = vault;
    assert!(!tk::codes(&diagnose(&s)).contains(&Code::KVC501));
}

/// FACTS §5: the vault URL is built from keyvaultName, which must be 3–24 characters of
/// `[-A-Za-z0-9]`. A vault URL or host is named as such and its first label proposed; a name
/// that is no URL and no valid name gets the provider's own objection, never a proposal that
/// is itself invalid.
#[test]
fn a_vault_name_is_a_url_only_when_it_looks_like_one() {
    let verdict = |name: &str| {
        let mut s = tk::healthy();
        let spc = tk::spc_mut(&mut s, APP);
        spc.parameters.insert("keyvaultName".into(), name.into());
        tk::reparse(spc);
        find_any(&diagnose(&s), Code::KVC302).clone()
    };
    let url = verdict("https://kv-shop.vault.azure.net/");
    assert!(url.message.contains("URL/host name"), "{}", url.message);
    assert!(url.fix.ends_with("keyvaultName: kv-shop"), "{}", url.fix);
    let host = verdict("kv-shop.vault.azure.net");
    assert!(host.fix.ends_with("keyvaultName: kv-shop"), "{}", host.fix);
    let bad = verdict("kv_shop.prod");
    assert!(!bad.message.contains("URL"), "{}", bad.message);
    assert!(
        bad.message.contains("Invalid vault name"),
        "{}",
        bad.message
    );
    assert!(!bad.fix.contains("kv_shop"), "{}", bad.fix);
}

/// FACTS §5: identity binding (useAzureTokenProxy) exchanges through the binding's one
/// federated credential per identity, which kvchain does not read: the Federation link is
/// proven by a mount or unknown with the reason, never "ok" on its own say.
#[test]
fn identity_binding_federation_is_proven_by_a_mount_or_unknown() {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters
        .insert("useAzureTokenProxy".into(), "true".into());
    tk::reparse(spc);
    let c = one(&s);
    let fed = c.link(LinkKind::Federation);
    assert_eq!(
        (fed.status, fed.summary.as_str()),
        (Status::Ok, "proven by mount")
    );
    tk::unmount(&mut s, APP);
    let c = one(&s);
    let fed = c.link(LinkKind::Federation);
    assert_eq!(fed.status, Status::Unknown, "{fed:#?}");
    assert!(
        fed.facts.iter().any(|f| f.observed.contains("not checked")),
        "{fed:#?}"
    );
}

/// FACTS §5/§11: the tenant names where the sign-in happens; Entra knows a tenant by its id
/// (a GUID) or a domain. A variable's name left in place, or any other value that is neither
/// ("tid" in the upstream examples), is a value still to fill in (KVC306); a GUID or a domain
/// passes.
#[test]
fn a_tenant_that_is_neither_an_id_nor_a_domain_is_named() {
    let codes = |tenant: &str| {
        let mut s = tk::healthy();
        let spc = tk::spc_mut(&mut s, APP);
        spc.parameters.remove("tenantID");
        spc.parameters.insert("tenantId".into(), tenant.into());
        tk::reparse(spc);
        tk::codes(&diagnose(&s))
    };
    assert!(codes("YOUR_TENANT_ID").contains(&Code::KVC306));
    let tid = codes("tid");
    assert!(tid.contains(&Code::KVC306), "{tid:?}");
    for fine in ["contoso.onmicrosoft.com", TENANT] {
        let got = codes(fine);
        assert!(
            !got.contains(&Code::KVC306) && !got.contains(&Code::KVC302),
            "{fine}: {got:?}"
        );
    }
}

/// FACTS §6: the webhook copies the client-id annotation into AZURE_CLIENT_ID of labelled
/// pods as it is. An unrendered `${VAR}` there is what the app gets: named on the
/// ServiceAccount, and fixed with the SPC's client id when that one is a real value.
#[test]
fn an_unrendered_client_id_annotation_is_what_labelled_pods_get() {
    let mut s = tk::healthy();
    tk::sa_mut(&mut s, APP).annotations.insert(
        "azure.workload.identity/client-id".into(),
        "${USER_ASSIGNED_CLIENT_ID}".into(),
    );
    let c = one(&s);
    let f = find(&c, Code::KVC204);
    assert!(f.message.contains("unrendered"), "{}", f.message);
    assert!(f.fix.contains(&tk::client_id(NS, APP)), "{}", f.fix);
}

/// FACTS §6: the webhook's object selector matches `azure.workload.identity/use: "true"`
/// exactly, and AKS excludes kube-system from admission webhooks. A "True" label is named as
/// the value it is; a labelled pod in kube-system gets nothing injected, and relabelling is
/// no fix there.
#[test]
fn the_webhook_label_is_exact_and_kube_system_is_never_mutated() {
    let mut s = tk::healthy();
    tk::pod_mut(&mut s, APP)
        .labels
        .insert("azure.workload.identity/use".into(), "True".into());
    let f = find(&one(&s), Code::KVC201).clone();
    assert!(f.message.contains("\"True\""), "{}", f.message);
    assert!(!f.message.contains("lack label"), "{}", f.message);

    let mut s = tk::empty();
    tk::add_app(&mut s, "kube-system", APP, 1);
    let pod = tk::pod_mut(&mut s, APP);
    pod.volumes.retain(|v| v.name != "azure-identity-token");
    pod.containers[0]
        .env
        .retain(|e| e.name != "AZURE_FEDERATED_TOKEN_FILE");
    let c = one(&s);
    let f = find(&c, Code::KVC205);
    assert!(f.message.contains("kube-system"), "{}", f.message);
    assert!(!f.fix.contains("kubectl patch"), "{}", f.fix);
}

/// FACTS §2: the driver writes a synced Secret from the SecretProviderClass of each mount
/// that names it. Two SPCs of a namespace writing one Secret name is one conflict (KVC807,
/// told once), and a reader mounting either writer is no reader "without the SPC" (KVC903).
#[test]
fn two_spcs_syncing_one_secret_are_one_conflict_not_two_unmounted_readers() {
    let mut s = tk::empty();
    tk::add_app(&mut s, NS, APP, 1);
    tk::add_app(&mut s, NS, "api", 1);
    let shared = tk::secret_name(APP);
    tk::spc_mut(&mut s, "api").secret_objects[0].secret_name = shared.as_str().into();
    // api's pods read the shared name (the add_app env names its own Secret).
    for c in &mut tk::pod_mut(&mut s, "api").containers {
        for e in &mut c.env {
            if let EnvSourceObs::SecretKey { secret, .. } = &mut e.source {
                *secret = shared.as_str().into();
            }
        }
    }
    let chains = diagnose(&s);
    let codes = tk::codes(&chains);
    assert!(codes.contains(&Code::KVC807), "{codes:?}");
    assert!(!codes.contains(&Code::KVC903), "{codes:?}");
    let told: std::collections::BTreeSet<_> = chains
        .iter()
        .flat_map(|c| c.findings())
        .filter(|f| f.code == Code::KVC807)
        .map(|f| f.message.to_string())
        .collect();
    assert_eq!(told.len(), 1, "{told:#?}");
    let msg = told.first().unwrap();
    assert!(
        msg.contains(&tk::spc_name(APP)) && msg.contains(&tk::spc_name("api")),
        "{msg}"
    );
}

/// FACTS §6: the webhook injects AZURE_TENANT_ID from the service account's tenant-id
/// annotation, else its default (the cluster's tenant); FACTS §11: a managed identity lives
/// in one tenant. A pod holding another tenant is named, with the annotation that fixes it.
#[test]
fn a_pod_holding_another_tenant_than_its_identity_is_named() {
    let mut s = tk::healthy();
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

/// FACTS §5: each objects item is a YAML mapping; a key written twice is invalid YAML. Two
/// objectName keys in one item are a name and a file name written with the wrong key: the
/// fix names the item and renames the second to objectAlias.
#[test]
fn a_duplicate_object_name_key_is_fixed_as_the_alias_it_was_meant_to_be() {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters.insert(
        "objects".into(),
        "array:\n  - |\n    objectName: web-db-pass\n    objectType: secret\n    objectName: DB_PASS\n"
            .into(),
    );
    tk::reparse(spc);
    let f = find_any(&diagnose(&s), Code::KVC705).clone();
    assert!(
        f.message.contains("duplicate key \"objectName\""),
        "{}",
        f.message
    );
    assert!(
        f.fix.ends_with(
            "objects.array[0]: rename the second objectName to objectAlias (the file name)"
        ),
        "{}",
        f.fix
    );
}

/// The healthy app with no pod left: its Deployment's template is all there is (as a live
/// cluster keeps it for a workload whose pods cannot be created), with `annotations` on it, and
/// the ReplicaSet's FailedCreate carrying `message`.
fn uncreated_with(annotations: &[(&str, &str)], message: &str) -> Snapshot {
    let mut s = tk::healthy();
    let mut template = s.pods.items[0].clone();
    s.pods.items.clear();
    s.spc_statuses.items.clear();
    template.name = APP.into();
    template.uid = Default::default();
    template.owners.clear();
    template.node = None;
    template.phase = Default::default();
    template.template_of = Some(tk::owner("Deployment", APP));
    let mut pod_annotations = std::collections::BTreeMap::new();
    for (k, v) in annotations {
        pod_annotations.insert(k.to_string(), v.to_string());
    }
    template.annotations = pod_annotations.into();
    let deployment = s
        .workloads
        .items
        .iter_mut()
        .find(|w| w.kind == "Deployment" && w.name == APP)
        .expect("testkit Deployment");
    deployment.template = Some(Box::new(template));
    s.events.items.push(EventObs {
        namespace: NS.into(),
        involved_kind: "ReplicaSet".into(),
        involved_name: tk::replica_set(APP).into(),
        type_: "Warning".into(),
        reason: "FailedCreate".into(),
        message: message.into(),
        count: 12,
        source: "replicaset-controller".into(),
        last_seen: Some(tk::now()),
        ..EventObs::default()
    });
    s
}

/// FACTS §6 on a cluster: the template says why the webhook refuses the pods, and the
/// FailedCreate that reports the refusal corroborates that one finding (one symptom, one
/// cause), which names the annotation to change.
#[test]
fn a_webhook_refusal_read_from_the_template_absorbs_its_failed_create() {
    let refusal = "Error creating: admission webhook \"mutation.azure-workload-identity.io\" denied the request: token expiration 600 not valid. Expected value to be between 3600 and 86400";
    let s = uncreated_with(
        &[(
            "azure.workload.identity/service-account-token-expiration",
            "600",
        )],
        refusal,
    );
    let chains = diagnose(&s);
    let all: Vec<&Finding> = chains
        .iter()
        .flat_map(|c| c.findings())
        .filter(|f| f.code == Code::KVC106)
        .collect();
    assert_eq!(all.len(), 1, "{all:#?}");
    let f = all[0];
    assert!(
        f.message.contains(
            "token expiration 600 not valid. Expected value to be between 3600 and 86400"
        ),
        "{}",
        f.message
    );
    assert!(
        f.evidence.iter().any(|e| e.contains("pod annotation")),
        "{f:#?}"
    );
    assert!(
        f.evidence.iter().any(|e| e.starts_with("FailedCreate")),
        "the event corroborates: {f:#?}"
    );
    assert!(
        f.fix.contains("service-account-token-expiration: \"3600\""),
        "{}",
        f.fix
    );
}

/// The healthy app switched to service-principal mode (FACTS §5): no clientID in its SPC, its
/// pods' volume naming nodePublishSecretRef `creds`.
fn service_principal() -> Snapshot {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters.remove("clientID");
    tk::reparse(spc);
    for p in &mut s.pods.items {
        for v in &mut p.volumes {
            if let VolumeSourceObs::Csi {
                node_publish_secret,
                ..
            } = &mut v.source
            {
                *node_publish_secret = Some("creds".into());
            }
        }
    }
    s
}

fn sp_secret(keys: &[&str]) -> SecretObs {
    SecretObs {
        namespace: NS.into(),
        name: "creds".into(),
        type_: "Opaque".into(),
        data: keys
            .iter()
            .map(|k| (k.to_string(), Fingerprint::of(b"not shown")))
            .collect(),
        ..SecretObs::default()
    }
}

/// On a cluster the Secret is read by name: a missing one fails the mount, wrong key names
/// fail in the provider with its own message, and the fix moves the values without showing
/// them.
#[test]
fn a_service_principal_secret_is_checked_by_its_key_names() {
    let s = service_principal();
    let f = find_any(&diagnose(&s), Code::KVC302).clone();
    assert_eq!(f.resource, "Secret/creds");
    assert!(f.message.contains("does not exist"), "{}", f.message);
    assert!(
        f.message
            .contains("failed to get node publish secret shop/creds"),
        "{}",
        f.message
    );

    let mut s = service_principal();
    s.secrets
        .items
        .push(sp_secret(&["client-id", "ClientSecret"]));
    let chains = diagnose(&s);
    let f = find_any(&chains, Code::KVC302);
    assert!(
        f.message.contains("\"could not find clientid in secrets\""),
        "{}",
        f.message
    );
    assert!(
        !f.message.contains("clientsecret in secrets"),
        "{}",
        f.message
    );
    assert_eq!(
        f.fix,
        "kubectl patch secret creds -n shop --type=json -p '[{\"op\":\"move\",\"from\":\"/data/client-id\",\"path\":\"/data/clientid\"}]'"
    );

    let mut s = service_principal();
    s.secrets
        .items
        .push(sp_secret(&["CLIENTID", "clientsecret"]));
    let chains = diagnose(&s);
    assert!(
        chains
            .iter()
            .flat_map(|c| c.findings())
            .all(|f| f.code != Code::KVC302),
        "{:#?}",
        chains.iter().flat_map(|c| c.findings()).collect::<Vec<_>>()
    );
}

/// FACTS §2: with two SPCs writing one Secret its content follows whichever wrote last: it
/// matching neither mount (KVC805) or changing after a reader started (KVC901) are that
/// conflict's effects, not causes of their own, and the conflict is an error.
#[test]
fn a_secret_two_spcs_write_has_one_cause_whatever_its_content_or_write_time() {
    let mut s = tk::empty();
    tk::add_app(&mut s, NS, APP, 1);
    tk::add_app(&mut s, NS, "api", 1);
    tk::spc_mut(&mut s, "api").secret_objects[0].secret_name = tk::secret_name(APP).as_str().into();
    let secret = tk::secret_mut(&mut s, APP);
    secret.updated_at = Some(tk::now());
    secret.data.insert(
        "password".into(),
        kvchain::fingerprint::Fingerprint::of(b"the other vault's"),
    );
    let chains = diagnose(&s);
    let codes = tk::codes(&chains);
    assert!(codes.contains(&Code::KVC807), "{codes:?}");
    assert!(
        !codes.contains(&Code::KVC805) && !codes.contains(&Code::KVC901),
        "{codes:?}"
    );
    let f = find_any(&chains, Code::KVC807);
    assert_eq!(f.severity, Severity::Error);
}
