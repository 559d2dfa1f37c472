//! The mount's clientID is the one thing wrong while the service account names a real identity
//! (audits DD7, DD2). FACTS §5: the mount "exchanges the token for `clientID`" and "does NOT
//! read the SA annotation"; §6: the annotation only feeds the webhook's AZURE_CLIENT_ID. So the
//! SPC's clientID is the one cause: one finding, on the Identity link (KVC301), whose fix
//! changes it, and no KVC204 telling the service account (the side that is right) anything.
//! FACTS §7: RBAC is granted to an identity's principal and a credential is made on an
//! identity: a client id that names no identity cannot be "completed", so the service
//! account's identity is the one to keep even when it lacks a role or a credential, and
//! KVC301's fix names it and gives it what it lacks (no `<rg>` placeholder to look up).

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Code, LinkKind, Status};
use kvchain::snapshot::*;

use super::cause_kit::*;

/// A client id no managed identity has (a typo of the SPC's).
const NOBODY: &str = "11111111-2222-4333-8444-555555555555";

/// The SPC names `NOBODY`; the service account keeps the app's identity, and its pods hold it.
fn spc_typo() -> Snapshot {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters.insert("clientID".into(), NOBODY.into());
    tk::reparse(spc);
    tk::unmount(&mut s, APP);
    s
}

fn patch_client(id: &str) -> String {
    format!(
        "kubectl patch secretproviderclass {} -n {NS} --type merge -p '{{\"spec\":{{\"parameters\":{{\"clientID\":\"{id}\"}}}}}}'",
        tk::spc_name(APP)
    )
}

/// DD7: the SPC's clientID alone is wrong, the service account's identity works.
#[test]
fn an_spc_client_id_typo_is_one_finding_and_the_service_account_link_is_fine() {
    let c = one(&spc_typo());
    assert!(
        with(&c, Code::KVC204).is_empty(),
        "{:#?}",
        with(&c, Code::KVC204)
    );
    assert_eq!(
        c.link(LinkKind::ServiceAccount).status,
        Status::Ok,
        "{:?}",
        c.link(LinkKind::ServiceAccount)
    );
    let k301 = find(&c, Code::KVC301);
    assert!(
        k301.fix.starts_with(&patch_client(&tk::client_id(NS, APP))),
        "{}",
        k301.fix
    );
}

/// DD2: the same typo, and the service account's identity has no role on the vault. Its
/// credential is for this very service account: it is the identity to use, and KVC301's fix
/// gives it the role the Access link would give it.
#[test]
fn a_typo_beside_an_ungranted_service_account_identity_points_at_that_identity() {
    let mut s = spc_typo();
    let principal = tk::principal_id(NS, APP);
    s.azure
        .role_assignments
        .items
        .retain(|r| r.principal_id != principal);
    let c = one(&s);
    // Never: annotate the service account with a client id no identity has.
    for f in c.findings() {
        assert!(
            !(f.fix.contains("kubectl annotate serviceaccount") && f.fix.contains(NOBODY)),
            "{}: {}",
            f.code,
            f.fix
        );
    }
    assert!(
        with(&c, Code::KVC204).is_empty(),
        "{:#?}",
        with(&c, Code::KVC204)
    );
    let k301 = find(&c, Code::KVC301);
    assert!(
        k301.fix.starts_with(&patch_client(&tk::client_id(NS, APP))),
        "{}",
        k301.fix
    );
    // The role, for the service account identity's principal, on the vault (FACTS §7, §8).
    assert!(
        k301.fix.contains(&format!(
            "az role assignment create --assignee-object-id {principal} --assignee-principal-type ServicePrincipal --role \"Key Vault Secrets User\""
        )),
        "{}",
        k301.fix
    );
    assert!(k301.fix.contains(&tk::identity_name(APP)), "{}", k301.fix);
    assert!(
        !k301.fix.contains("<rg>") && !k301.fix.contains("<name>"),
        "{}",
        k301.fix
    );
    // Pasted, it runs both: the SPC edit, then the grant.
    let run = super::paste_kit::paste(&k301.fix, "", "");
    assert_eq!(run.called("kubectl [patch]").len(), 1, "{:?}", run.calls);
    assert_eq!(
        run.called("az [role] [assignment] [create]").len(),
        1,
        "{:?}",
        run.calls
    );
}

/// DD2, the credential side: the service account's identity has no federated credential for
/// the pod's subject: KVC301's fix creates it (system:serviceaccount:<ns>:<sa>, FACTS §7).
#[test]
fn a_typo_beside_an_unfederated_service_account_identity_gives_it_its_credential() {
    let mut s = spc_typo();
    tk::fic_mut(&mut s, APP).subject = "system:serviceaccount:other:web".into();
    let c = one(&s);
    assert!(
        with(&c, Code::KVC204).is_empty(),
        "{:#?}",
        with(&c, Code::KVC204)
    );
    let k301 = find(&c, Code::KVC301);
    assert!(
        k301.fix.starts_with(&patch_client(&tk::client_id(NS, APP))),
        "{}",
        k301.fix
    );
    assert!(
        k301.fix
            .contains("az identity federated-credential create --name ")
            && k301
                .fix
                .contains(&format!(" --identity-name {} ", tk::identity_name(APP)))
            && k301.fix.contains(&format!(
                "--subject system:serviceaccount:{NS}:{}",
                tk::sa_name(APP)
            )),
        "{}",
        k301.fix
    );
}
