//! The Azure observer against an in-process Azure serving the REST examples
//! (tests/fixtures/azure): what it reads, how it reports what it cannot read, and what it
//! costs in requests.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use crate::azure_support::{self, *};
use azure_core::http::Method;
use jiff::Timestamp;
use kvchain::snapshot::{AzureObs, ObjectType, Observed, VaultObject};
use kvchain::source::azure::{AzureWanted, wanted};

const HOUR: Duration = Duration::from_secs(3600);

fn contoso_wanted() -> AzureWanted {
    let objects = [
        ("kv-rbac", ObjectType::Secret, "db-password"),
        ("kv-rbac", ObjectType::Secret, "api-key"),
        ("kv-rbac", ObjectType::Secret, "old-token"),
        ("kv-rbac", ObjectType::Secret, "missing"),
        ("kv-rbac", ObjectType::Secret, "tls-cert"),
        ("kv-rbac", ObjectType::Key, "signing-key"),
        ("kv-rbac", ObjectType::Cert, "tls-cert"),
        ("kv-policy", ObjectType::Secret, "app-secret"),
    ];
    AzureWanted {
        client_ids: BTreeSet::from([
            CLIENT_ID.to_string(),
            // Nobody has this identity: it must come back absent, not unknown.
            "00000000-1111-2222-3333-444444444444".to_string(),
        ]),
        vaults: BTreeSet::from([
            ("kv-rbac".to_string(), String::new()),
            ("kv-policy".to_string(), "AzurePublicCloud".to_string()),
        ]),
        objects: objects
            .iter()
            .map(|(v, t, n)| (v.to_string(), *t, n.to_string()))
            .collect(),
    }
}

fn object<'a>(
    obs: &'a AzureObs,
    vault: &str,
    t: ObjectType,
    name: &str,
) -> &'a Observed<Option<VaultObject>> {
    &obs.objects
        .iter()
        .find(|o| o.vault == vault && o.object_type == t && o.name == name)
        .unwrap_or_else(|| panic!("no observation for {vault}/{name}"))
        .state
}

fn known(o: &Observed<Option<VaultObject>>) -> &VaultObject {
    match o {
        Observed::Known(Some(v)) => v,
        other => panic!("expected an existing object, got {other:?}"),
    }
}

#[tokio::test]
async fn identity_found_with_its_federated_credentials_and_unknown_client_id_a_gap() {
    let fake = contoso();
    let obs = observer(&fake, HOUR).observe(&contoso_wanted()).await;

    // Resource Graph shows only the subscriptions kvchain may read: a clientId it does not
    // find is not visible, not absent (a gap keyed by the clientId).
    let gaps = &obs.identities.gaps;
    assert!(gaps.all.is_none(), "{gaps:?}");
    let unseen: Vec<&String> = gaps.namespaces.keys().collect();
    assert_eq!(unseen, ["00000000-1111-2222-3333-444444444444"], "{gaps:?}");
    assert!(
        gaps.namespaces[unseen[0].as_str()].contains("in the subscriptions visible to kvchain"),
        "{gaps:?}"
    );
    assert_eq!(
        obs.identities.items.len(),
        1,
        "the unknown clientId is not found"
    );
    let id = &obs.identities.items[0];
    assert_eq!(id.name, "id-app");
    assert_eq!(id.client_id, CLIENT_ID);
    assert_eq!(id.principal_id, PRINCIPAL_ID);
    assert_eq!(id.tenant_id, TENANT);
    let fics = id.federated_credentials.known().expect("FICs listed");
    assert_eq!(fics.len(), 2);
    assert_eq!(fics[0].name, "aks-shop");
    assert_eq!(fics[0].subject, "system:serviceaccount:shop:shop-sa");
    assert!(
        fics[0].issuer.ends_with('/'),
        "issuer kept verbatim: {}",
        fics[0].issuer
    );
    assert_eq!(fics[0].audiences, ["api://AzureADTokenExchange"]);

    // Both client ids went into ONE Resource Graph query.
    assert_eq!(
        fake.count(&format!("POST {ARM}{GRAPH}")),
        2,
        "{:#?}",
        fake.log()
    );
}

#[tokio::test]
async fn role_assignments_at_every_scope_level_are_kept_and_resolved() {
    let fake = contoso();
    let obs = observer(&fake, HOUR).observe(&contoso_wanted()).await;

    let rbac = vault_id("kv-rbac");
    let by_scope: BTreeMap<&str, Vec<&str>> =
        obs.role_assignments
            .items
            .iter()
            .fold(BTreeMap::new(), |mut m, a| {
                m.entry(a.scope.as_str())
                    .or_insert_with(Vec::new)
                    .push(a.role_name.as_str());
                m
            });
    let sub = format!("/subscriptions/{SUB}");
    let rg = format!("/subscriptions/{SUB}/resourceGroups/rg-kv");
    let secret_scope = format!("{rbac}/secrets/db-password");
    assert_eq!(by_scope[sub.as_str()], ["Reader"]);
    assert_eq!(by_scope[rg.as_str()], ["Key Vault Secrets User"]);
    assert_eq!(
        by_scope[secret_scope.as_str()],
        ["Key Vault Secrets Officer"]
    );
    let mut at_vault = by_scope[rbac.as_str()].clone();
    at_vault.sort();
    assert_eq!(
        at_vault,
        ["Key Vault Certificate User", "Shop secret reader"]
    );
    // Another principal's Administrator assignment is not ours to show.
    assert!(
        obs.role_assignments
            .items
            .iter()
            .all(|a| a.principal_id == PRINCIPAL_ID)
    );

    let secrets_user = obs
        .role_assignments
        .items
        .iter()
        .find(|a| a.role_name == "Key Vault Secrets User")
        .unwrap();
    assert_eq!(
        secrets_user.data_actions,
        [
            "Microsoft.KeyVault/vaults/secrets/getSecret/action",
            "Microsoft.KeyVault/vaults/secrets/readMetadata/action"
        ]
    );
    let custom = obs
        .role_assignments
        .items
        .iter()
        .find(|a| a.role_name == "Shop secret reader")
        .unwrap();
    // notDataActions are kept beside the dataActions and taken back by pattern (Azure's
    // effective permissions), not by string equality at parse time.
    assert_eq!(
        custom.not_data_actions,
        ["Microsoft.KeyVault/vaults/secrets/delete"]
    );
    assert!(custom.grants("Microsoft.KeyVault/vaults/secrets/getSecret/action"));
    assert!(!custom.grants("Microsoft.KeyVault/vaults/secrets/delete"));
    // Built-ins cost nothing; the one custom role costs one look-up.
    assert_eq!(fake.count("roleDefinitions/"), 1, "{:#?}", fake.log());
}

#[tokio::test]
async fn forbidden_role_assignments_of_an_access_policy_vault_stay_a_per_vault_gap() {
    let fake = contoso();
    let obs = observer(&fake, HOUR).observe(&contoso_wanted()).await;
    assert_eq!(
        obs.role_assignments.unknown_in("kv-policy"),
        Some("cannot list role assignments on kv-policy: 403 AuthorizationFailed")
    );
    assert_eq!(obs.role_assignments.unknown_in("kv-rbac"), None);
    assert!(obs.role_assignments.gaps.all.is_none());
}

#[tokio::test]
async fn access_policy_vault_and_firewall_are_observed() {
    let fake = contoso();
    let obs = observer(&fake, HOUR).observe(&contoso_wanted()).await;
    assert!(obs.vaults.gaps.is_empty(), "{:?}", obs.vaults.gaps);
    let policy = obs
        .vaults
        .items
        .iter()
        .find(|v| v.name == "kv-policy")
        .unwrap();
    assert!(!policy.rbac);
    assert_eq!(policy.tenant_id, TENANT);
    assert_eq!(policy.resource_id, vault_id("kv-policy"));
    let ours = policy
        .access_policies
        .iter()
        .find(|p| p.object_id == PRINCIPAL_ID)
        .unwrap();
    assert_eq!(ours.secrets, ["get", "list"]);
    assert!(ours.keys.is_empty());
    assert!(policy.network.default_deny);
    assert!(policy.network.public_access);
    assert!(
        policy
            .network
            .cluster_allowed
            .unknown_reason()
            .unwrap()
            .contains("1 IP rule"),
        "{:?}",
        policy.network.cluster_allowed
    );

    let rbac = obs
        .vaults
        .items
        .iter()
        .find(|v| v.name == "kv-rbac")
        .unwrap();
    assert!(rbac.rbac);
    assert_eq!(rbac.network.cluster_allowed, Observed::Known(true));
}

#[tokio::test]
async fn object_states_versions_disabled_expired_missing() {
    let fake = contoso();
    let obs = observer(&fake, HOUR).observe(&contoso_wanted()).await;

    let db = known(object(&obs, "kv-rbac", ObjectType::Secret, "db-password"));
    let versions: Vec<&str> = db.versions.iter().map(|v| v.version.as_str()).collect();
    assert_eq!(
        versions,
        [
            "8f2c1e0b9d7a4c3e8b6a5f4e3d2c1b0a",
            "11a536561da34d6b8b452d880df58f3a",
            "00a536561da34d6b8b452d880df58f00"
        ],
        "newest first, second page followed"
    );
    assert_eq!(db.content_type.as_deref(), Some("text/plain"));
    assert!(!db.versions[2].enabled);

    let api_key = known(object(&obs, "kv-rbac", ObjectType::Secret, "api-key"));
    assert!(
        !api_key.latest().unwrap().enabled,
        "disabled secret seen as disabled"
    );

    let old = known(object(&obs, "kv-rbac", ObjectType::Secret, "old-token"));
    let exp = old.latest().unwrap().expires.unwrap();
    assert_eq!(exp, Timestamp::from_second(1_650_000_000).unwrap());
    assert!(exp < Timestamp::now());

    assert!(
        matches!(
            object(&obs, "kv-rbac", ObjectType::Secret, "missing"),
            Observed::Known(None)
        ),
        "404 SecretNotFound ⇒ known absent"
    );

    let backing = known(object(&obs, "kv-rbac", ObjectType::Secret, "tls-cert"));
    assert!(backing.backs_certificate);
    assert_eq!(
        backing.content_type.as_deref(),
        Some("application/x-pkcs12")
    );

    let key = known(object(&obs, "kv-rbac", ObjectType::Key, "signing-key"));
    assert_eq!(
        key.latest().unwrap().version,
        "78deebed173b48e48f55abf87ed4cf71"
    );
    let cert = known(object(&obs, "kv-rbac", ObjectType::Cert, "tls-cert"));
    assert_eq!(
        cert.latest().unwrap().expires,
        Some(Timestamp::from_second(2_208_988_799).unwrap())
    );
    let app = known(object(&obs, "kv-policy", ObjectType::Secret, "app-secret"));
    assert_eq!(app.versions.len(), 1);
}

#[tokio::test]
async fn never_reads_a_secret_value() {
    let fake = contoso();
    observer(&fake, HOUR).observe(&contoso_wanted()).await;
    for line in fake.log() {
        if line.contains(".vault.azure.net/secrets/") {
            let path = line.split('?').next().unwrap();
            assert!(
                path.ends_with("/versions"),
                "a value-returning call was made: {line}"
            );
        }
    }
}

#[tokio::test]
async fn forbidden_object_is_unknown_with_the_key_vault_reason() {
    let fake = contoso();
    fake.add(
        Route::get("kv-rbac.vault.azure.net", "/secrets/locked/versions").reply(
            403,
            r#"{"error":{"code":"Forbidden","message":"Caller is not authorized to perform action on resource.","innererror":{"code":"ForbiddenByRbac"}}}"#,
        ),
    );
    let mut w = contoso_wanted();
    w.objects
        .insert(("kv-rbac".into(), ObjectType::Secret, "locked".into()));
    let obs = observer(&fake, HOUR).observe(&w).await;
    assert_eq!(
        object(&obs, "kv-rbac", ObjectType::Secret, "locked").unknown_reason(),
        Some("cannot read secret locked in kv-rbac: 403 Forbidden (ForbiddenByRbac)")
    );
}

#[tokio::test]
async fn short_retry_after_is_waited_out_and_the_call_repeated_once() {
    // Matched before the contoso route for the same path: one 429, then the real answer.
    let fake2 = Arc::new(contoso_with_first(
        Route::get("kv-policy.vault.azure.net", "/secrets/app-secret/versions")
            .reply_with(
                429,
                &[("retry-after", "1")],
                fixture("error-throttled.json"),
            )
            .reply(200, fixture("secret-versions-app-secret.json")),
    ));
    let obs = observer(&fake2, HOUR).observe(&contoso_wanted()).await;
    assert!(matches!(
        object(&obs, "kv-policy", ObjectType::Secret, "app-secret"),
        Observed::Known(Some(_))
    ));
    let calls = fake2
        .log()
        .iter()
        .filter(|l| {
            l.contains("kv-policy.vault.azure.net/secrets/app-secret/versions")
                && !l.contains("unauthenticated")
        })
        .count();
    assert_eq!(calls, 2, "one 429, one retry: {:#?}", fake2.log());
    assert_eq!(
        obs.throttled, 1,
        "the 429 is counted (kvchain_azure_throttled_requests_total)"
    );
    assert!(obs.requests > obs.throttled);
}

#[tokio::test]
async fn long_retry_after_leaves_the_vault_alone_until_it_passes() {
    let fake = Arc::new(contoso_with_first(
        Route::get("kv-rbac.vault.azure.net", "/keys/signing-key/versions").reply_with(
            429,
            &[("retry-after", "120")],
            fixture("error-throttled.json"),
        ),
    ));
    let w = AzureWanted {
        client_ids: BTreeSet::new(),
        vaults: BTreeSet::from([("kv-rbac".to_string(), String::new())]),
        objects: BTreeSet::from([(
            "kv-rbac".to_string(),
            ObjectType::Key,
            "signing-key".to_string(),
        )]),
    };
    let o = observer(&fake, Duration::from_secs(60));
    let obs = o.observe(&w).await;
    let reason = object(&obs, "kv-rbac", ObjectType::Key, "signing-key")
        .unknown_reason()
        .expect("throttled object is unknown")
        .to_string();
    assert!(reason.contains("429 Throttled, retry after 2m"), "{reason}");

    // Another object of the same vault is not asked while the vault throttles us.
    let mut w2 = w.clone();
    w2.objects
        .insert(("kv-rbac".into(), ObjectType::Cert, "tls-cert".into()));
    let before = fake.count("kv-rbac.vault.azure.net");
    let obs2 = o.observe(&w2).await;
    assert_eq!(
        fake.count("kv-rbac.vault.azure.net"),
        before,
        "{:#?}",
        fake.log()
    );
    let r2 = object(&obs2, "kv-rbac", ObjectType::Cert, "tls-cert")
        .unknown_reason()
        .unwrap();
    assert!(r2.contains("not asked") && r2.contains("429"), "{r2}");
}

/// contoso() with `first` matched before its routes.
fn contoso_with_first(first: Route) -> FakeAzure {
    let fake = FakeAzure::default();
    fake.add(first);
    azure_support::copy_routes(&contoso(), &fake);
    fake
}

#[tokio::test]
async fn requests_scale_with_objects_not_pods_and_are_cached_for_the_interval() {
    let snap = shared_objects_snapshot();
    assert_eq!(snap.pods.items.len(), 2000);
    let w = wanted(&snap);
    assert_eq!(w.objects.len(), 20);

    let fake = shared_objects_azure();
    let o = observer(&fake, Duration::from_secs(60));
    let obs = o.observe(&w).await;
    assert!(
        obs.objects
            .iter()
            .all(|x| matches!(x.state, Observed::Known(Some(_))))
    );

    let kv_calls = fake.count("kv-rbac.vault.azure.net");
    // 20 version lists + the one Key Vault auth challenge of the vault's client.
    assert_eq!(kv_calls, 21, "{:#?}", fake.log());
    // + 2 Resource Graph queries, 1 FIC list, 1 role assignment list, the identity's own
    // assignments in the vault's subscription, 1 custom role definition.
    assert_eq!(obs.requests, 27, "{:#?}", fake.log());
    assert_eq!(obs.requests as usize, fake.log().len());

    // Within the refresh interval: everything from cache, no request at all.
    let again = o.observe(&w).await;
    assert_eq!(again.requests, 27);
    assert_eq!(fake.log().len(), 27);
    assert_eq!(again.objects.len(), 20);
}

#[tokio::test]
async fn graph_failure_makes_identities_unknown_not_absent() {
    let fake = Arc::new(FakeAzure::default());
    fake.add(
        Route::new(Method::Post, ARM, GRAPH).reply(403, fixture("error-authorization-failed.json")),
    );
    let w = AzureWanted {
        client_ids: BTreeSet::from([CLIENT_ID.to_string()]),
        vaults: BTreeSet::new(),
        objects: BTreeSet::new(),
    };
    let obs = observer(&fake, HOUR).observe(&w).await;
    assert!(obs.identities.items.is_empty());
    let reason = obs
        .identities
        .gaps
        .all
        .as_deref()
        .expect("identities unknown");
    assert!(reason.contains("403 AuthorizationFailed"), "{reason}");
}

#[tokio::test]
async fn unsupported_cloud_and_bad_names_are_refused_before_any_request() {
    let fake = Arc::new(FakeAzure::default());
    let w = AzureWanted {
        client_ids: BTreeSet::from(["x') | project secrets //".to_string()]),
        vaults: BTreeSet::from([
            ("kv-stack".to_string(), "AzureStackCloud".to_string()),
            ("no".to_string(), String::new()),
        ]),
        objects: BTreeSet::from([("kv-stack".to_string(), ObjectType::Secret, "s".to_string())]),
    };
    let obs = observer(&fake, HOUR).observe(&w).await;
    assert_eq!(obs.requests, 0, "{:#?}", fake.log());
    assert!(
        obs.vaults
            .unknown_in("kv-stack")
            .unwrap()
            .contains("AzureStackCloud")
    );
    assert!(
        obs.vaults
            .unknown_in("no")
            .unwrap()
            .contains("not a valid vault name")
    );
    assert!(
        object(&obs, "kv-stack", ObjectType::Secret, "s")
            .unknown_reason()
            .is_some()
    );
}

#[tokio::test]
async fn china_cloud_vaults_use_the_china_endpoints() {
    let fake = Arc::new(FakeAzure::default());
    let cn_vault = r#"{"data": [{"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-cn",
        "name": "kv-cn", "properties": {"tenantId": "t", "enableRbacAuthorization": true}}]}"#;
    fake.add(Route::new(Method::Post, "management.chinacloudapi.cn", GRAPH).reply(200, cn_vault))
        .add(
            Route::get(
                "management.chinacloudapi.cn",
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-cn/providers/Microsoft.Authorization/roleAssignments",
            )
            .reply(200, r#"{"value": []}"#),
        )
        .add(
            Route::get("kv-cn.vault.azure.cn", "/keys/signing-key/versions")
                .reply(200, fixture("key-versions-signing-key.json")),
        );
    let w = AzureWanted {
        client_ids: BTreeSet::new(),
        vaults: BTreeSet::from([("kv-cn".to_string(), "AzureChinaCloud".to_string())]),
        objects: BTreeSet::from([(
            "kv-cn".to_string(),
            ObjectType::Key,
            "signing-key".to_string(),
        )]),
    };
    let obs = observer(&fake, HOUR).observe(&w).await;
    assert_eq!(obs.vaults.items.len(), 1, "{:#?}", fake.log());
    assert!(matches!(
        object(&obs, "kv-cn", ObjectType::Key, "signing-key"),
        Observed::Known(Some(_))
    ));
    assert!(
        fake.log()
            .iter()
            .all(|l| !l.contains("azure.com") && !l.contains("vault.azure.net"))
    );
}

#[tokio::test]
async fn a_planted_secret_value_never_reaches_the_observation() {
    const CANARY: &str = "CANARY-7f3a9c-do-not-print";
    let fake = contoso_with_first(
        Route::get("kv-rbac.vault.azure.net", "/secrets/db-password")
            .reply(200, format!(r#"{{"value": "{CANARY}", "id": "https://kv-rbac.vault.azure.net/secrets/db-password/8f2c"}}"#)),
    );
    fake.add(
        Route::get(
            "kv-rbac.vault.azure.net",
            "/secrets/db-password/8f2c1e0b9d7a4c3e8b6a5f4e3d2c1b0a",
        )
        .reply(200, format!(r#"{{"value": "{CANARY}"}}"#)),
    );
    let fake = Arc::new(fake);
    let obs = observer(&fake, HOUR).observe(&contoso_wanted()).await;
    let json = serde_json::to_string(&obs).unwrap();
    let debug = format!("{obs:?}");
    assert!(!json.contains(CANARY) && !debug.contains(CANARY));
    assert!(
        json.contains("8f2c1e0b9d7a4c3e8b6a5f4e3d2c1b0a"),
        "versions are observed"
    );
}

#[tokio::test]
async fn subscriptions_flag_scopes_the_resource_graph_queries() {
    // Only a query scoped to the subscription is answered.
    let fake = Arc::new(FakeAzure::default());
    fake.add(
        Route::new(Method::Post, ARM, GRAPH)
            .body_has(r#""subscriptions":["11111111-2222-3333-4444-555555555555"]"#)
            .body_has("userassignedidentities")
            .reply(200, fixture("graph-identities.json")),
    );
    let o = kvchain::source::azure::AzureObserver::with_transport(
        fake.clone(),
        Arc::new(FakeCredential::default()),
        kvchain::source::azure::cloud::Endpoints::default(),
        &kvchain::source::args::AzureArgs {
            subscriptions: vec!["11111111-2222-3333-4444-555555555555".into()],
            azure_refresh: HOUR,
            ..Default::default()
        },
    );
    let w = AzureWanted {
        client_ids: BTreeSet::from([CLIENT_ID.to_string()]),
        vaults: BTreeSet::new(),
        objects: BTreeSet::new(),
    };
    let obs = o.observe(&w).await;
    assert_eq!(obs.identities.items.len(), 1, "{:#?}", fake.log());
}

#[tokio::test]
async fn forbidden_role_assignments_are_a_gap_of_that_vault_only() {
    // A missing listing is not "no assignments": each vault whose listing failed says why,
    // and no global gap makes every other vault's access unknown (the engine asks per vault).
    let fake = Arc::new(contoso_with_first(
        Route::get(
            ARM,
            &format!(
                "{}/providers/Microsoft.Authorization/roleAssignments",
                vault_id("kv-rbac")
            ),
        )
        .reply(403, fixture("error-authorization-failed.json")),
    ));
    let obs = observer(&fake, HOUR).observe(&contoso_wanted()).await;
    assert_eq!(obs.role_assignments.gaps.all, None);
    assert_eq!(
        obs.role_assignments.unknown_in("kv-rbac"),
        Some("cannot list role assignments on kv-rbac: 403 AuthorizationFailed")
    );
    assert_eq!(
        obs.role_assignments
            .gaps
            .namespaces
            .get("kv-policy")
            .map(String::as_str),
        Some("cannot list role assignments on kv-policy: 403 AuthorizationFailed")
    );
}

#[tokio::test]
async fn failed_vault_lookup_is_a_gap_not_a_missing_vault() {
    let fake = Arc::new(FakeAzure::default());
    fake.add(
        Route::new(Method::Post, ARM, GRAPH)
            .body_has("keyvault/vaults")
            .reply(403, fixture("error-authorization-failed.json")),
    )
    .add(
        Route::get("kv-rbac.vault.azure.net", "/keys/signing-key/versions")
            .reply(200, fixture("key-versions-signing-key.json")),
    );
    let w = AzureWanted {
        client_ids: BTreeSet::new(),
        vaults: BTreeSet::from([("kv-rbac".to_string(), String::new())]),
        objects: BTreeSet::from([(
            "kv-rbac".to_string(),
            ObjectType::Key,
            "signing-key".to_string(),
        )]),
    };
    let obs = observer(&fake, HOUR).observe(&w).await;
    assert!(obs.vaults.items.is_empty());
    assert_eq!(
        obs.vaults.unknown_in("kv-rbac"),
        Some("cannot look up vault kv-rbac: 403 AuthorizationFailed")
    );
    // Only that vault: others looked up in the same refresh stay known.
    assert_eq!(obs.vaults.gaps.all, None);
    // The data plane may still answer when ARM cannot.
    assert!(matches!(
        object(&obs, "kv-rbac", ObjectType::Key, "signing-key"),
        Observed::Known(Some(_))
    ));
}
