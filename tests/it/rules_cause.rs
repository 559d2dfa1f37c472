//! One cause per symptom (issue 12 §1–§2): an event's message and the rule that reads the
//! objects name the same cause once, the field / grant / tenant that is actually wrong, with a
//! fix that works.

use kvchain::chain::testkit::{self as tk, APP, ISSUER, NS};
use kvchain::chain::{Code, Finding, LinkKind, Severity, Status, diagnose};
use kvchain::snapshot::*;

use super::cause_kit::*;

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
    // The issuer shown is the token's, and the texts say so: the cluster's was not read
    // (audit DDD11). The text report shows the whole line.
    assert!(
        f.message
            .contains("the issuer the cluster's tokens carry is"),
        "{}",
        f.message
    );
    for e in &f.evidence {
        if e.starts_with("issuer of the token presented") {
            assert!(kvchain::glance::evidence(e).ends_with(ISSUER), "{e}");
        }
    }
    assert!(
        !f.evidence
            .iter()
            .any(|e| e.starts_with("cluster oidcIssuerProfile")),
        "{:?}",
        f.evidence
    );
    assert!(
        f.evidence
            .iter()
            .any(|e| e.starts_with("issuer of the token presented") && e.ends_with(ISSUER)),
        "{:?}",
        f.evidence
    );
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
    tk::sync_tls_from(tk::spc_mut(&mut s, APP), APP, object_type);
    s
}

/// FACTS §5: objectType key mounts the PUBLIC KEY PEM: neither the private key nor the
/// certificate a kubernetes.io/tls Secret needs; the fix names the object to change.
#[test]
fn a_tls_secret_built_from_a_key_object_has_no_private_key() {
    // Nothing else reads the key object's file (the app does not mount the volume): it can
    // change in place (rules_compound_sync has the reader that keeps it).
    let mut s = tls_secret_from("key");
    tk::pod_mut(&mut s, APP).containers[0].mounts.clear();
    let c = one(&s);
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

/// One cause, one finding: the live Secret lacking tls.key is what the entry's KVC804 says
/// (its keys are that finding's evidence), not a second KVC804 whose fix changes nothing.
#[test]
fn a_tls_secret_the_entry_cannot_build_is_told_once() {
    let mut s = tls_secret_from("cert");
    let secret = tk::secret_mut(&mut s, APP);
    secret.type_ = "kubernetes.io/tls".into();
    secret.data.retain(|k, _| k == "tls.crt");
    secret.data.insert(
        "tls.crt".into(),
        kvchain::fingerprint::Fingerprint::of(b"cert"),
    );
    let c = one(&s);
    let tls = with(&c, Code::KVC804);
    assert_eq!(tls.len(), 1, "{:#?}", c.link(LinkKind::Sync));
    let f = tls[0];
    assert!(f.fix.contains("objectType: secret"), "{}", f.fix);
    assert!(!f.fix.contains("mounted file name"), "{}", f.fix);
    assert!(
        f.evidence.iter().any(|e| e.contains("keys: tls.crt")),
        "{f:#?}"
    );
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

/// A pod that reads a synced Secret the driver cannot build cannot start (env from a missing
/// Secret: CreateContainerConfigError): its Consumers link waits on the root cause instead of
/// reading "ok", and a key marked optional does not hold it back (it runs with it unset).
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
    // Optional: the container starts, with the variable unset (Kubernetes docs, "Optional
    // Secrets"): not blocked, and not ok either — it runs without the value, behind the
    // Sync cause (audit PPP-work).
    let c = one(&s);
    let consumers = c.link(LinkKind::Consumers);
    assert_eq!(consumers.summary, "unset: Sync", "{consumers:?}");
    assert!(
        consumers.facts.iter().any(|f| f.label == "unset"),
        "{consumers:?}"
    );
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
