//! Audit WWW-rules: the rules' truth leftovers, judged against FACTS and the README. The lab
//! scenarios live in tests/fixtures/lab/www_rules/ (written from docs/scenarios.md's format);
//! their vault values are canaries that no output may show.

use std::time::Duration;

use kvchain::chain::{Code, LinkKind, Status, diagnose};
use kvchain::snapshot::Snapshot;
use kvchain::source::lab::{self, export, world::World};
use serde_json::Value;

use super::mmm_lab::{fixture, link, report_after};

const GRANT: &str = "www_rules/www-403-before-grant.yaml";
const GRANT_CANARY: &str = "CANARY-www-rules-4b2e";

/// The lab of `name` run for `secs` seconds, as kvchain observes it.
pub(crate) fn lab_at(name: &str, secs: u64) -> Snapshot {
    let sc = lab::load(fixture(name).to_str().unwrap()).expect("scenario loads");
    let mut w = World::new(sc);
    w.advance(Duration::from_secs(secs));
    export::snapshot(&w)
}

pub(crate) fn codes(r: &Value) -> Vec<String> {
    (r["findings"].as_array().unwrap().iter())
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// FACTS §11 (evidence in time): a 403 recorded before the role assignment that lets the read
/// through now was made (ARM's `createdOn`) was refused for want of that grant: it describes a
/// past state. At 10m05s the role is back (assigned at 10m) and the kubelet has not retried
/// yet: no finding on the Access link (nor the kubelet's timeout that restates the 403s, as
/// KVC701), the 403 kept as history saying it predates the grant, and exit 0.
#[test]
fn a_403_from_before_the_grant_is_history_while_the_retry_is_due() {
    let r = report_after(GRANT, &["--for", "10m05s"], GRANT_CANARY);
    let found = codes(&r);
    for code in ["KVC501", "KVC502", "KVC503", "KVC701"] {
        assert!(!found.iter().any(|c| c == code), "{code}: {r}");
    }
    let chain = &r["chains"][0];
    let access = link(chain, "access");
    assert_eq!(access["status"], "ok", "{access}");
    let history = (access["facts"].as_array().into_iter().flatten())
        .find(|f| f["label"] == "history (KVC501, KVC502 or KVC503)")
        .unwrap_or_else(|| panic!("{access}"));
    let text = history["observed"].as_str().unwrap();
    assert!(
        text.contains("403") && text.contains("predates the grant"),
        "{text}"
    );
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "--lab"])
        .arg(fixture(GRANT))
        .args(["--for", "10m05s", "-o", "json"])
        .output()
        .unwrap()
        .status;
    assert_eq!(status.code(), Some(0), "{r}");
}

/// The other side of FACTS §11: a 403 recorded after the grant was made was refused with the
/// grant in place (Key Vault's message asks to "observe propagation time"), so it stays a
/// current finding. The same snapshot with the assignment's `createdOn` moved before the
/// 403s: KVC501 is still there, saying the attempt failed though the grants look right.
#[test]
fn a_403_after_the_grant_was_made_stays_current() {
    let mut s = lab_at(GRANT, 605);
    let first = (s.events.items.iter())
        .filter(|e| e.reason == "FailedMount")
        .filter_map(|e| e.last_seen)
        .min()
        .expect("a FailedMount");
    for ra in &mut s.azure.role_assignments.items {
        ra.created_on = Some(first - jiff::SignedDuration::from_secs(30));
    }
    let chains = diagnose(&s);
    let access = chains[0].link(LinkKind::Access);
    let f = (access.findings.iter())
        .find(|f| f.code == Code::KVC501)
        .unwrap_or_else(|| panic!("{access:#?}"));
    assert!(f.now_looks_right, "{f:#?}");
    assert_eq!(access.status, Status::Broken, "{access:#?}");
    // Untouched, the same snapshot reads the 403 as history.
    let chains = diagnose(&lab_at(GRANT, 605));
    let access = chains[0].link(LinkKind::Access);
    assert!(access.findings.is_empty(), "{access:#?}");
}

/// The restart timeline of a rollout whose new pod cannot mount (the identity's grant
/// removed): the new pod's waiting hops say why in kvchain's words — the code, its link and
/// short cause, as VVV-time made the rotation timeline say a FailedMount — never the event's
/// text, which quotes what the provider and Key Vault answered (the request URL, the caller's
/// ids, the response body).
#[test]
fn the_restart_timeline_says_a_failed_mount_in_kvchains_words() {
    let why = super::actions_lab::restart_stuck_without_role();
    assert!(
        why.contains("its latest FailedMount is KVC501") && why.contains("(Access link: "),
        "{why}"
    );
    for raw in [
        "RESPONSE",
        "403 Forbidden",
        "Forbidden",
        "https://",
        "Caller",
        "MountVolume",
    ] {
        assert!(!why.contains(raw), "{raw}: {why}");
    }
}

const BROAD: &str = "www_rules/www-wrong-and-broad.yaml";
const BROAD_CANARY: &str = "CANARY-www-rules-9d13";

/// One symptom, one cause (FACTS §8): Secrets Officer reads the secret and may write
/// (KVC504's), Crypto User grants no certificates/read for the cert (KVC502's). The two are
/// one plan: Certificate User granted once (it reads the secret too), Secrets Officer deleted,
/// no second finding granting a read again or deleting what the first keeps. The message says
/// which role writes: "(which may also write…)" after the list named Crypto User, which writes
/// nothing.
#[test]
fn a_wrong_role_beside_a_broad_one_is_one_plan_naming_the_writer() {
    let r = report_after(BROAD, &[], BROAD_CANARY);
    let access: Vec<&Value> = (r["findings"].as_array().unwrap().iter())
        .filter(|f| f["link"] == "access")
        .collect();
    assert_eq!(access.len(), 1, "{r}");
    let f = access[0];
    assert_eq!(f["code"], "KVC502", "{f}");
    let fix = f["fix"].as_str().unwrap();
    assert_eq!(fix.matches("az role assignment create").count(), 1, "{fix}");
    assert!(
        fix.contains("--role \"Key Vault Certificate User\"")
            && fix.contains("az role assignment delete")
            && fix.contains("--role \"Key Vault Secrets Officer\"")
            && !fix.contains("--role \"Key Vault Crypto User\""),
        "{fix}"
    );
    let message = f["message"].as_str().unwrap();
    assert!(
        message.contains("(Key Vault Secrets Officer may also write or delete in the vault")
            && !message.contains("Crypto User (which may also write"),
        "{message}"
    );
}

const OBJECT_BROAD: &str = "www_rules/www-wrong-and-object-broad.yaml";
const OBJECT_BROAD_CANARY: &str = "CANARY-www-rules-51c8";

/// The same two roles with Secrets Officer on the secret object only: KVC502 names Crypto User
/// alone (only it covers the cert) and creates Certificate User at the vault; KVC504 for
/// Secrets Officer needs the secret read kept, which that grant gives. The two fixes pasted
/// together grant once (one symptom, one cause): KVC504's creates nothing and deletes Secrets
/// Officer only once Certificate User is there, so pasted first it takes no read away.
#[test]
fn over_privilege_does_not_grant_again_what_the_wrong_role_fix_grants() {
    let r = report_after(OBJECT_BROAD, &[], OBJECT_BROAD_CANARY);
    let fix = |code: &str| {
        (r["findings"].as_array().unwrap().iter())
            .find(|f| f["code"] == code)
            .unwrap_or_else(|| panic!("{code}: {r}"))["fix"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (wrong, broad) = (fix("KVC502"), fix("KVC504"));
    assert!(
        wrong.contains("az role assignment create")
            && wrong.contains("--role \"Key Vault Certificate User\""),
        "{wrong}"
    );
    assert!(!broad.contains("az role assignment create"), "{broad}");
    let wait = broad
        .find("az role assignment list")
        .unwrap_or_else(|| panic!("{broad}"));
    let delete = broad
        .find("az role assignment delete")
        .unwrap_or_else(|| panic!("{broad}"));
    assert!(
        wait < delete
            && broad.contains("--role \"Key Vault Certificate User\"")
            && broad[delete..].contains("--role \"Key Vault Secrets Officer\""),
        "{broad}"
    );
}

/// The rotation timeline's hops stuck on failing rotation polls (the grant removed: 403s,
/// MountRotationFailed, FACTS §3) say why in kvchain's words, as its FailedMount and the
/// restart timeline do: the code, its link and short cause, never the event's text (the
/// provider's `provider mount err: …` with Key Vault's answer).
#[test]
fn the_rotation_timeline_says_failed_polls_in_kvchains_words() {
    use kvchain::action::timeline::StepState;
    let mut src = super::actions_lab::without_role();
    let tl = super::actions_lab::rotate(&mut src, "checkout-db-password", true);
    let StepState::Stuck(why) = super::actions_lab::state(&tl, "mounted version") else {
        panic!("the mount cannot move: {tl:#?}");
    };
    assert!(
        why.contains("rotation polls fail")
            && why.contains("its latest MountRotationFailed is")
            && why.contains("(Access link: "),
        "{why}"
    );
    for raw in [
        "RESPONSE",
        "Forbidden",
        "https://",
        "Caller",
        "provider mount err",
    ] {
        assert!(!why.contains(raw), "{raw}: {why}");
    }
}

/// KVC401 at the 20-credential limit (FACTS §7) reuses a credential only where the chain's
/// namespace proves it unused: the account it names does not exist there and no pod runs as
/// it. That proof needs the namespace's service accounts read: with them unread (RBAC on some
/// namespaces only), the account may exist (unknown is not absent), so nothing is called
/// unused and the fix lists the credentials instead. A guard of what the audit found right:
/// it passes on the code before this audit.
#[test]
fn kvc401_proves_a_credential_unused_only_from_a_namespace_read_whole() {
    use kvchain::chain::testkit::{self as tk, APP, ISSUER, NS};
    use kvchain::snapshot::{FederatedCredentialObs, Observed};
    let mut s = tk::healthy();
    let fic = tk::fic_mut(&mut s, APP);
    fic.subject = format!("system:serviceaccount:{NS}:gone");
    fic.name = "for-gone".into();
    let Observed::Known(fics) = &mut tk::identity_mut(&mut s, APP).federated_credentials else {
        panic!("testkit credentials are known");
    };
    for i in 1..20 {
        fics.push(FederatedCredentialObs {
            name: format!("other-{i}"),
            issuer: ISSUER.into(),
            subject: format!("system:serviceaccount:other{i}:app"),
            audiences: vec!["api://AzureADTokenExchange".into()],
            modified_at: None,
        });
    }
    let fix = |s: &Snapshot| {
        (diagnose(s).iter())
            .flat_map(|c| c.findings())
            .find(|f| f.code == Code::KVC401)
            .map(|f| f.fix.to_string())
            .unwrap_or_else(|| panic!("no KVC401"))
    };
    let read = fix(&s);
    assert!(
        read.starts_with("az identity federated-credential update --name for-gone"),
        "{read}"
    );
    s.service_accounts.gaps.namespaces.insert(
        NS.into(),
        "serviceaccounts is forbidden: cannot list resource \"serviceaccounts\"".into(),
    );
    let unread = fix(&s);
    assert!(
        !unread.contains("update --name for-gone")
            && unread.contains("none of them is proven unused"),
        "{unread}"
    );
}
