//! A service-account fix whose next check would show a second cause that was readable from
//! the start (audits DD5, DD6): it is shown now, and no fix claims what the snapshot says is
//! not so.
//! - FACTS §6: "SA = `spec.serviceAccountName` or `default`"; §7: "subject =
//!   `system:serviceaccount:<ns>:<sa>`". The subject is fixed by the pod spec: a missing
//!   account (KVC202), created under that name, needs a credential for exactly it.
//! - FACTS §6: the webhook selects pods by their `azure.workload.identity/use: "true"` label,
//!   on CREATE only: with no webhook installed the label mutates nothing, and an unlabelled
//!   pod holds nothing the webhook injected.

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Code, LinkKind, Status};
use kvchain::snapshot::*;

use super::cause_kit::*;

const LABEL: &str = "azure.workload.identity/use";
const WRONG: &str = "11111111-2222-4333-8444-555555555555";

/// DD5: the pod's service account is missing and the identity's only credential is for the
/// same name in another namespace. KVC202's fix creates the account under the pod's name, so
/// the credential it needs is known now: KVC401 stands beside KVC202.
#[test]
fn a_missing_service_account_does_not_hide_the_credential_its_creation_needs() {
    let mut s = tk::healthy();
    s.service_accounts.items.clear();
    let sa = tk::sa_name(APP);
    tk::fic_mut(&mut s, APP).subject = format!("system:serviceaccount:default:{sa}");
    let c = one(&s);
    let k202 = find(&c, Code::KVC202);
    assert!(
        k202.fix
            .starts_with(&format!("kubectl create serviceaccount {sa} -n {NS}")),
        "{}",
        k202.fix
    );
    let k401 = find(&c, Code::KVC401);
    assert!(
        k401.fix
            .contains(&format!("--subject system:serviceaccount:{NS}:{sa} ")),
        "{}",
        k401.fix
    );
    assert_eq!(c.link(LinkKind::Federation).status, Status::Broken);
}

/// DD5's limit: another account of the namespace already carries the SPC's clientID, and
/// KVC202's fix moves the pod to it: the subject then follows that choice, and the Federation
/// link waits for it rather than judge the pod's current name.
#[test]
fn a_missing_service_account_whose_fix_moves_the_pod_keeps_federation_waiting() {
    let mut s = tk::healthy();
    let sa = tk::sa_mut(&mut s, APP);
    sa.name = "web-identity".into();
    let c = one(&s);
    let k202 = find(&c, Code::KVC202);
    assert!(
        k202.fix.contains("serviceAccountName: web-identity"),
        "{}",
        k202.fix
    );
    assert!(
        with(&c, Code::KVC401).is_empty(),
        "{:#?}",
        with(&c, Code::KVC401)
    );
    assert_eq!(c.link(LinkKind::Federation).status, Status::Pending);
}

/// DD6: no webhook installed and the pods unlabelled. The label alone rolls the pods out with
/// nothing to mutate them: the fix installs the webhook first, in the same paste.
#[test]
fn the_label_fix_installs_a_webhook_known_absent_first() {
    let mut s = tk::healthy();
    s.cluster.workload_identity_webhook = Observed::Known(false);
    tk::pod_mut(&mut s, APP).labels.remove(LABEL);
    let c = one(&s);
    let f = find(&c, Code::KVC201);
    let fix = crate::xd_paste::after_guards(&f.fix);
    let (commands, _) = fix.split_once("  # ").unwrap_or((fix, ""));
    let parts: Vec<&str> = commands.split(" && ").collect();
    assert!(
        parts[0].starts_with("az aks update ") && parts[0].ends_with(" --enable-workload-identity"),
        "{}",
        f.fix
    );
    assert!(
        parts[1].starts_with(&format!("kubectl patch deployment {APP} -n {NS}")),
        "{}",
        f.fix
    );
}

/// DD6's other half: the webhook's presence not known (or known present), the label fix is
/// the patch alone.
#[test]
fn the_label_fix_installs_nothing_when_the_webhook_is_not_known_absent() {
    for webhook in [Observed::Known(true), Observed::unknown("not observed")] {
        let mut s = tk::healthy();
        s.cluster.workload_identity_webhook = webhook;
        tk::pod_mut(&mut s, APP).labels.remove(LABEL);
        let c = one(&s);
        let f = find(&c, Code::KVC201);
        assert!(f.fix.starts_with("kubectl patch deployment"), "{}", f.fix);
    }
}

/// DD6: the pods are unlabelled and hold no injected env; the annotation is a typo. KVC204's
/// fix must not say the running pods "already hold" the SPC's id: they hold nothing.
#[test]
fn unlabelled_pods_are_not_said_to_hold_an_injected_client_id() {
    let mut s = tk::healthy();
    tk::sa_mut(&mut s, APP)
        .annotations
        .insert("azure.workload.identity/client-id".into(), WRONG.into());
    let pod = tk::pod_mut(&mut s, APP);
    pod.labels.remove(LABEL);
    for c in &mut pod.containers {
        c.env.retain(|e| !e.name.starts_with("AZURE_"));
    }
    let c = one(&s);
    let f = find(&c, Code::KVC204);
    assert!(!f.fix.contains("already hold"), "{}", f.fix);
    assert!(f.fix.contains("KVC201"), "{}", f.fix);
}
