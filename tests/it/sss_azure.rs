//! Audit SSS-azure: the Azure side of the chain judged from the documents — grants at each
//! scope and of each built-in or custom role against each objectType (FACTS §5, §8), the
//! permission models, the object's own state, the vault's network stacked with a grant, and
//! the identity. The lab worlds are tests/fixtures/lab/sss_azure/*.yaml; their vault values are
//! canaries (`CANARY-sss-az`) that no output may show.

use serde_json::Value;

use super::mmm_lab::{link, report};
use kvchain::chain::{Code, diagnose};
use kvchain::snapshot::Snapshot;

const CANARY: &str = "CANARY-sss-az";

/// The JSON report of world `name` (tests/fixtures/lab/sss_azure/), its text and JSON checked
/// for the canary.
fn world(name: &str) -> Value {
    report(&format!("sss_azure/{name}"), CANARY)
}

fn findings<'a>(r: &'a Value, code: &str) -> Vec<&'a Value> {
    (r["findings"].as_array().unwrap().iter())
        .filter(|f| f["code"] == code)
        .collect()
}

fn chain(r: &Value) -> &Value {
    let chains = r["chains"].as_array().unwrap();
    assert_eq!(chains.len(), 1, "{r}");
    &chains[0]
}

/// The exit status `check` gives world `name` (README, `check`: 0 nothing counted, 1 an error).
fn exit_code(name: &str) -> Option<i32> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "--lab"])
        .arg(super::mmm_lab::fixture(&format!("sss_azure/{name}")))
        .output()
        .unwrap();
    out.status.code()
}

/// Which finding codes are causes (not blocked by a cause above) and which are blocked.
pub(crate) fn causes(r: &Value) -> (Vec<&str>, Vec<&str>) {
    let all = r["findings"].as_array().unwrap();
    let pick = |blocked: bool| {
        (all.iter())
            .filter(|f| f.get("follows").is_some() == blocked)
            .map(|f| f["code"].as_str().unwrap())
            .collect::<Vec<_>>()
    };
    (pick(false), pick(true))
}

/// Key Vault's request flow ("Authentication in Azure Key Vault", Microsoft Learn): its
/// firewall is checked first, and only a request it allows has its token validated and then
/// its caller's permission checked. A vault that denies the cluster (default action Deny, no
/// rule) answers every read with 403 ForbiddenByFirewall whatever the grants say, so the
/// identity's missing role is not this failure: one symptom, one cause — KVC505 the one error
/// (its evidence the FailedMount), KVC501 kept with its own fix (needed once the firewall
/// admits the cluster) but blocked by KVC505. Before, both were errors on the Access link.
#[test]
fn behind_a_firewall_the_missing_role_is_not_met_yet() {
    let r = world("sss-az-firewall-no-role.yaml");
    let (own, blocked) = causes(&r);
    assert_eq!(own, ["KVC505"], "{r}");
    assert!(blocked.contains(&"KVC501"), "{r}");
    assert_eq!(r["summary"]["errors"], 1, "{r}");
    let kvc505 = findings(&r, "KVC505");
    assert!(
        (kvc505[0]["evidence"].as_array().unwrap().iter())
            .any(|e| e.as_str().unwrap().contains("ForbiddenByFirewall")),
        "{:#}",
        kvc505[0]
    );
    let kvc501 = findings(&r, "KVC501");
    let message = kvc501[0]["message"].as_str().unwrap();
    assert!(message.starts_with("blocked by KVC505: "), "{message}");
    // Its fix is still the grant, for the principal, at the vault.
    let fix = kvc501[0]["fix"].as_str().unwrap();
    assert!(
        fix.starts_with(
            "az role assignment create --assignee-object-id 7e6d5c4b-3a2f-4e1d-8c9b-0a1b2c3d4e5f"
        ) && fix.contains("--role \"Key Vault Secrets User\""),
        "{fix}"
    );
    let c = chain(&r);
    assert_eq!(link(c, "access")["status"], "broken", "{c}");
    assert_eq!(link(c, "mount")["summary"], "blocked: Access", "{c}");
    assert_eq!(exit_code("sss-az-firewall-no-role.yaml"), Some(1));
}

/// Public network access disabled without a private endpoint for the cluster: Key Vault answers
/// ForbiddenByConnection at the same first step, so the missing role is blocked by KVC505 too,
/// whose fix is the private endpoint (its IP and VNet rules are ignored while public access is
/// off).
#[test]
fn with_public_access_off_the_missing_role_is_not_met_yet() {
    let r = world("sss-az-private-no-role.yaml");
    let (own, blocked) = causes(&r);
    assert_eq!(own, ["KVC505"], "{r}");
    assert!(blocked.contains(&"KVC501"), "{r}");
    let fix = findings(&r, "KVC505")[0]["fix"].as_str().unwrap();
    assert!(fix.contains("private-endpoint"), "{fix}");
}

/// The trainer's vault-firewall (2m) and remove-role-assignment (3m) stacked on a mounted chain
/// with rotation on: every later poll fails with ForbiddenByFirewall (the lab's Key Vault
/// checks its network first, as Key Vault does), so KVC505 is the one current cause, with the
/// rotation failure as its evidence; the removed role is blocked by it.
#[test]
fn stacked_firewall_and_removed_role_read_one_cause() {
    let r = world("sss-az-firewall-role-faults.yaml");
    let (own, blocked) = causes(&r);
    assert_eq!(own, ["KVC505"], "{r}");
    assert_eq!(blocked, ["KVC501"], "{r}");
    let kvc505 = findings(&r, "KVC505");
    assert!(
        (kvc505[0]["evidence"].as_array().unwrap().iter())
            .any(|e| e.as_str().unwrap().starts_with("MountRotationFailed")),
        "{:#}",
        kvc505[0]
    );
}

/// A vault in another tenant behind a firewall that denies the cluster: Key Vault validates
/// the token (AKV10032 for a foreign issuer, FACTS §11) only after its firewall let the request
/// through, so the FailedMount is ForbiddenByFirewall and KVC406 is not met yet; every link
/// after reads blocked by the one root, Access (before, the Mount link read blocked by Access
/// and the Sync link blocked by Federation).
#[test]
fn behind_a_firewall_the_foreign_tenant_is_not_met_yet() {
    let r = world("sss-az-firewall-other-tenant.yaml");
    let (own, blocked) = causes(&r);
    assert_eq!(own, ["KVC505"], "{r}");
    assert!(blocked.contains(&"KVC406"), "{r}");
    let c = chain(&r);
    for l in ["mount", "sync", "consumers"] {
        assert_eq!(link(c, l)["summary"], "blocked: Access", "{l}: {c}");
    }
    let message = findings(&r, "KVC406")[0]["message"].as_str().unwrap();
    assert!(message.starts_with("blocked by Access: "), "{message}");
}

/// A cert object is read with certificates/read (FACTS §5: the provider's GetCertificate; §8),
/// which Key Vault Secrets User lacks: KVC502 names the role held, and its fix assigns
/// Certificate User at the vault (AKS docs: Certificate User for cert), never Secrets User,
/// which the identity already holds.
#[test]
fn a_cert_read_with_secrets_user_needs_certificate_user() {
    let r = world("sss-az-cert-secrets-user.yaml");
    let (own, _) = causes(&r);
    assert_eq!(own, ["KVC502"], "{r}");
    let f = findings(&r, "KVC502")[0];
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("Microsoft.KeyVault/vaults/certificates/read"),
        "{f:#}"
    );
    let fix = f["fix"].as_str().unwrap();
    assert!(
        fix.contains("--role \"Key Vault Certificate User\""),
        "{fix}"
    );
    assert!(!fix.contains("Secrets User"), "{fix}");
}

/// Key Vault Reader's dataActions are `vaults/*/read` and secrets/readMetadata/action (FACTS
/// §8): the wildcard covers keys/read and certificates/read, the reads of a key and a cert
/// object, never getSecret. One KVC502 for the secret alone, its fix Secrets User; Reader may
/// write nothing, so no KVC504.
#[test]
fn reader_reads_the_key_and_the_cert_but_not_the_secret() {
    let r = world("sss-az-reader-three-types.yaml");
    let (own, _) = causes(&r);
    assert_eq!(own, ["KVC502"], "{r}");
    let f = findings(&r, "KVC502")[0];
    let message = f["message"].as_str().unwrap();
    assert!(
        message.contains("Key Vault Reader") && message.contains("for secret db-password"),
        "{message}"
    );
    assert!(
        !message.contains("web-tls") && !message.contains("signing"),
        "{message}"
    );
    assert!(
        f["fix"]
            .as_str()
            .unwrap()
            .contains("--role \"Key Vault Secrets User\""),
        "{f:#}"
    );
}

/// Key Vault Administrator beside Secrets User at the vault: the read works, the Administrator
/// may write (KVC504, a warning); the fix deletes it and creates nothing, as the identity holds
/// Secrets User already. Administrator alone: Secrets User is created first, then the
/// Administrator deleted.
#[test]
fn over_privilege_never_grants_a_role_already_held() {
    let r = world("sss-az-admin-and-user.yaml");
    let kvc504 = findings(&r, "KVC504");
    assert_eq!(kvc504.len(), 1, "{r}");
    let fix = kvc504[0]["fix"].as_str().unwrap();
    assert!(fix.starts_with("az role assignment delete"), "{fix}");
    assert!(!fix.contains("create"), "{fix}");
    assert_eq!(r["summary"]["errors"], 0, "{r}");
    assert_eq!(exit_code("sss-az-admin-and-user.yaml"), Some(0));

    let r = world("sss-az-admin-only.yaml");
    let fix = findings(&r, "KVC504")[0]["fix"].as_str().unwrap();
    let (create, delete) = fix.split_once(" && az role assignment delete").unwrap();
    assert!(
        create.contains("--role \"Key Vault Secrets User\""),
        "{fix}"
    );
    assert!(
        delete.contains("--role \"Key Vault Administrator\""),
        "{fix}"
    );
}

/// An access-policy vault ignores role assignments (FACTS §8), and an RBAC vault ignores
/// access policies: each grant in the model the vault does not enforce is KVC503, one error,
/// whose fix grants in the enforced model (set-policy, a role assignment), never a switch of
/// the vault's model.
#[test]
fn a_grant_in_the_model_the_vault_ignores_is_kvc503() {
    let r = world("sss-az-policy-vault-role-only.yaml");
    assert_eq!(causes(&r).0, ["KVC503"], "{r}");
    let fix = findings(&r, "KVC503")[0]["fix"].as_str().unwrap();
    assert_eq!(
        fix,
        "az keyvault set-policy -n kv-sss --object-id 7e6d5c4b-3a2f-4e1d-8c9b-0a1b2c3d4e5f --secret-permissions get"
    );
    let r = world("sss-az-rbac-vault-policy-only.yaml");
    assert_eq!(causes(&r).0, ["KVC503"], "{r}");
    let fix = findings(&r, "KVC503")[0]["fix"].as_str().unwrap();
    assert!(fix.starts_with("az role assignment create"), "{fix}");
    assert!(!fix.contains("enable-rbac-authorization"), "{fix}");
}

/// Worlds the documents call healthy: Certificate User reads a key and a cert (FACTS §8,
/// AKS docs), an access policy with keys get and certificates get reads them, a private
/// endpoint admits the cluster with public access off.
#[test]
fn documented_grants_and_paths_read_healthy() {
    for name in [
        "sss-az-key-cert-certificate-user.yaml",
        "sss-az-policy-key-cert-get.yaml",
        "sss-az-private-endpoint-ok.yaml",
    ] {
        let r = world(name);
        assert!(r["findings"].as_array().unwrap().is_empty(), "{name}: {r}");
        let c = chain(&r);
        for l in c["links"].as_array().unwrap() {
            assert_eq!(l["status"], "ok", "{name}: {l}");
        }
        assert_eq!(exit_code(name), Some(0), "{name}");
    }
}

/// Key Vault's get works for a secret outside its nbf/exp window ("About Azure Key Vault
/// secrets", date-time controlled operations): an expired secret still mounts. KVC604 is a
/// warning, the chain is not broken, the exit 0.
#[test]
fn an_expired_secret_still_mounts() {
    let r = world("sss-az-expired-secret.yaml");
    assert_eq!(causes(&r).0, ["KVC604"], "{r}");
    assert_eq!(findings(&r, "KVC604")[0]["severity"], "warning");
    let c = chain(&r);
    assert_eq!(link(c, "mount")["status"], "ok", "{c}");
    assert_eq!(exit_code("sss-az-expired-secret.yaml"), Some(0));
}

/// The trainer's wrong-role applied at 2m and repaired at 6m with rotation on: the refused
/// polls are history once a poll succeeds (FACTS §11), and the history says what the 403
/// alone cannot tell apart (a grant missing, for another type, or in the other model).
#[test]
fn a_repaired_wrong_role_is_history_told_as_any_refused_grant() {
    let r = world("sss-az-wrong-role-repaired.yaml");
    assert!(r["findings"].as_array().unwrap().is_empty(), "{r}");
    let c = chain(&r);
    let access = link(c, "access");
    let facts = access["facts"].as_array().unwrap();
    assert!(
        facts
            .iter()
            .any(|f| f["label"] == "history (KVC501, KVC502 or KVC503)"),
        "{access}"
    );
    // Left in place, the same fault reads KVC502: Crypto User held, getSecret not granted.
    let r = world("sss-az-wrong-role-now.yaml");
    assert_eq!(causes(&r).0, ["KVC502"], "{r}");
    let message = findings(&r, "KVC502")[0]["message"].as_str().unwrap();
    assert!(message.contains("Key Vault Crypto User"), "{message}");
}

/// The other worlds, each with its one documented cause and the fix that works when pasted
/// (FACTS §5, §7, §8, §11; docs/codes.yaml): the role each object type needs, granted where
/// the identity has none, at the scope it already uses, for the principal (not a recreated
/// identity's old one), in the model the vault enforces.
#[test]
fn each_world_names_its_one_cause_and_a_fix_that_works() {
    const PID: &str = "7e6d5c4b-3a2f-4e1d-8c9b-0a1b2c3d4e5f";
    let cases: [(&str, &str, &str); 8] = [
        (
            "sss-az-latest-disabled.yaml",
            "KVC602",
            "az keyvault secret set-attributes --vault-name kv-sss -n db-password --version ",
        ),
        (
            "sss-az-object-scope-one-of-two.yaml",
            "KVC501",
            "/providers/Microsoft.KeyVault/vaults/kv-sss/secrets/api-key",
        ),
        (
            "sss-az-certs-officer-secret.yaml",
            "KVC502",
            "--role \"Key Vault Secrets User\"",
        ),
        (
            "sss-az-secrets-officer-key.yaml",
            "KVC502",
            "--role \"Key Vault Certificate User\"",
        ),
        (
            "sss-az-policy-secret-get-cert.yaml",
            "KVC502",
            "az keyvault set-policy -n kv-sss --object-id 7e6d5c4b-3a2f-4e1d-8c9b-0a1b2c3d4e5f --certificate-permissions get",
        ),
        (
            "sss-az-recreated-identity.yaml",
            "KVC501",
            "az role assignment create --assignee-object-id 7e6d5c4b-3a2f-4e1d-8c9b-0a1b2c3d4e5f ",
        ),
        (
            "sss-az-client-id-no-identity.yaml",
            "KVC301",
            r#"{"clientID":"0b9c5e1a-7d2f-4c3e-9a8b-1f2e3d4c5b6a"}"#,
        ),
        (
            "sss-az-sa-spc-differ.yaml",
            "KVC501",
            r#"kubectl patch secretproviderclass api-kv -n demo --type merge -p '{"spec":{"parameters":{"clientID":"0b9c5e1a-7d2f-4c3e-9a8b-1f2e3d4c5b6a"}}}'"#,
        ),
    ];
    for (name, code, fix) in cases {
        let r = world(name);
        assert_eq!(causes(&r).0, [code], "{name}: {r}");
        let f = findings(&r, code)[0];
        assert!(f["fix"].as_str().unwrap().contains(fix), "{name}: {f:#}");
        assert_eq!(exit_code(name), Some(1), "{name}");
    }
    // Recreated: the old principal's assignment grants nothing, the fix is for the new one.
    let r = world("sss-az-recreated-identity.yaml");
    let message = findings(&r, "KVC501")[0]["message"].as_str().unwrap();
    assert!(message.contains(PID), "{message}");
    // The account's identity is the complete one: no KVC204 beside the SPC's missing grant.
    assert!(findings(&world("sss-az-sa-spc-differ.yaml"), "KVC204").is_empty());
}

/// A SecretProviderClass reads every object from its one keyvaultName (FACTS §5): db-password
/// is missing from kv-sss (404 SecretNotFound) while kv-other, which the identity may read,
/// holds it. KVC601 said only "recover it, else create it" in kv-sss — a recover that finds
/// nothing and a create that copies a value living elsewhere. It names kv-other, and its fix
/// points keyvaultName there, the create kept as the alternative in its note.
#[test]
fn a_missing_object_another_vault_holds_points_keyvault_name_there() {
    let r = world("sss-az-object-other-vault.yaml");
    assert_eq!(causes(&r).0, ["KVC601"], "{r}");
    let f = findings(&r, "KVC601")[0];
    let message = f["message"].as_str().unwrap();
    assert!(
        message.contains("Key Vault kv-other holds a secret db-password"),
        "{message}"
    );
    let fix = f["fix"].as_str().unwrap();
    assert!(
        fix.starts_with(
            r#"kubectl patch secretproviderclass api-kv -n demo --type merge -p '{"spec":{"parameters":{"keyvaultName":"kv-other"}}}'  #"#
        ),
        "{fix}"
    );
}

/// The trainer's wrong-role (Crypto User for a secret: KVC502) repaired between two polls.
/// The roles given back are new assignments (ARM's `createdOn` 5m) that the 4m poll's 403
/// predates: history (audit WWW-rules). Had Key Vault refused after them (the same snapshot
/// with the grants' `createdOn` moved before the 403s), the 403 would be current while the
/// roles look right now ("failed, now looks right"). Key Vault's RBAC 403 reads the same for a
/// grant missing, one for another object type and one in the model the vault ignores (FACTS
/// §5: `Assignment: (not found)`), so the finding coded from the event alone (KVC501) says
/// which codes it may stand for, as its history label does once it is past — it named none,
/// and the fault was KVC502.
#[test]
fn a_failure_over_roles_that_look_right_names_every_code_it_may_be() {
    let r = super::mmm_lab::report_after(
        "sss_azure/sss-az-wrong-role-between-polls.yaml",
        &["--for", "5m30s"],
        CANARY,
    );
    assert!(findings(&r, "KVC501").is_empty(), "{r}");
    use kvchain::source::lab::{self, export, world::World};
    let path = super::mmm_lab::fixture("sss_azure/sss-az-wrong-role-between-polls.yaml");
    let mut w = World::new(lab::load(path.to_str().unwrap()).unwrap());
    w.advance(std::time::Duration::from_secs(330));
    let mut s = export::snapshot(&w);
    let first = (s.events.items.iter())
        .filter_map(|e| e.last_seen)
        .min()
        .unwrap();
    (s.azure.role_assignments.items.iter_mut())
        .for_each(|r| r.created_on = Some(first - jiff::SignedDuration::from_secs(1)));
    let chains = diagnose(&s);
    let f: Vec<_> = (chains.iter())
        .flat_map(|c| c.findings())
        .filter(|f| f.code == Code::KVC501)
        .collect();
    assert!(!f.is_empty(), "{chains:#?}");
    let message = f[0].message.as_str();
    assert!(message.contains("looks right now"), "{message}");
    assert!(
        message.contains("may stand for KVC501, KVC502 or KVC503"),
        "{message}"
    );
}

/// The rotation timeline says a stuck pod's cause as the diagnosis does (audit EEE2); a
/// failure over grants that look right now knows no more than its 403, which reads the same
/// for the wrong-role that caused it (KVC502) as for a missing grant: "KVC501, KVC502 or
/// KVC503 (Access link)", not "KVC501" alone.
#[test]
fn a_timeline_stuck_on_a_repaired_wrong_role_does_not_say_kvc501_alone() {
    use kvchain::action::timeline::{RotationWatch, StepState};
    use kvchain::source::lab::world::World;
    use kvchain::source::lab::{export, faults, scenario};
    use std::time::Duration;

    use crate::lab_nodes::{CLUSTER, HEALTHY, SHOP};
    let docs = [CLUSTER, SHOP, HEALTHY].join("\n---\n");
    let sc = scenario::parse("sss", std::path::Path::new("sss.yaml"), &docs).expect("parses");
    let mut w = World::new(sc);
    w.run_until_stable(Duration::from_secs(3600));
    faults::apply(&mut w, "wrong-role").expect("applies");
    w.advance(Duration::from_secs(30));
    let before = export::snapshot(&w);
    let mut watch = RotationWatch::new(&before, "kv-shop-lab", "checkout-db-password")
        .starting_at(before.source.observed_at);
    w.rotate_secret(
        "kv-shop-lab",
        "checkout-db-password",
        Some(b"checkout-pass-9"),
    )
    .unwrap();
    // Until a poll is refused.
    let refused = |s: &Snapshot| {
        (s.events.items.iter()).any(|e| {
            e.reason == "MountRotationFailed"
                && e.last_seen.is_some_and(|t| t >= before.source.observed_at)
        })
    };
    for _ in 0..30 {
        w.advance(Duration::from_secs(10));
        let s = export::snapshot(&w);
        watch.observe_diagnosed(&s, &diagnose(&s));
        if refused(&s) {
            break;
        }
    }
    faults::repair(&mut w, "wrong-role").expect("repairs");
    w.advance(Duration::from_secs(5));
    let s = export::snapshot(&w);
    assert!(refused(&s), "a poll was refused");
    let chains = diagnose(&s);
    assert!(
        (chains.iter().flat_map(|c| c.findings()))
            .any(|f| f.code == Code::KVC501 && f.message.contains("looks right now")),
        "{chains:#?}"
    );
    watch.observe_diagnosed(&s, &chains);
    watch.tick(s.source.observed_at + jiff::SignedDuration::from_hours(1));
    let tl = watch.timeline();
    assert!(tl.finished, "{tl:#?}");
    let why: Vec<String> = (tl.steps.iter())
        .filter_map(|st| match &st.state {
            StepState::Stuck(why) => Some(why.clone()),
            _ => None,
        })
        .collect();
    assert!(
        why.iter()
            .any(|w| w.contains("KVC501, KVC502 or KVC503 (Access link: ")),
        "{why:#?}"
    );
}
