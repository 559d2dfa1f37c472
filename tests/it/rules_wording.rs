//! Wording that must agree with itself and with the evidence: a message says what the
//! install method makes true, quotes the Entra code the event carries, and a code's title
//! does not claim what the report shows to be otherwise.

use kvchain::chain::testkit::{self as tk, APP, ISSUER};
use kvchain::chain::{CONTRADICTED, Code, LinkKind};
use kvchain::snapshot::*;

use super::cause_kit::*;
use super::rules_runtime::csi;

/// FACTS §11: with Helm the driver may write Secrets only with `syncSecret.enabled=true`;
/// the AKS add-on always grants it. A message naming the Helm value on an add-on install
/// contradicts its own fix.
#[test]
fn sync_disabled_is_worded_by_install_method() {
    let message = |install| {
        let mut s = tk::healthy();
        let c = csi(&mut s);
        c.sync_secret_enabled = Observed::Known(false);
        c.install = Some(install);
        s.secrets.items.clear();
        find(&one(&s), Code::KVC806).message.to_string()
    };
    let helm = message(DriverInstall::Helm);
    assert!(helm.contains("syncSecret.enabled=false"), "{helm}");
    let addon = message(DriverInstall::AksAddon);
    assert!(!addon.contains("syncSecret"), "{addon}");
    assert!(
        addon.contains("AKS add-on grants it the RBAC to write Secrets"),
        "{addon}"
    );
}

/// An issuer that differs only by the trailing '/' (FACTS §7): the structural finding quotes
/// the code the event shows (AADSTS70021, FACTS §5/§11), not the newer AADSTS700211 it did
/// not carry; with no event, it names both.
#[test]
fn an_issuer_mismatch_quotes_the_entra_code_the_event_has() {
    let mut s = tk::healthy();
    tk::fic_mut(&mut s, APP).issuer = ISSUER.trim_end_matches('/').into();
    let quiet = find(&one(&s), Code::KVC402).message.to_string();
    assert!(
        quiet.contains("AADSTS70021") && quiet.contains("AADSTS700211"),
        "{quiet}"
    );
    let failing = failing_with(s, &aadsts70021(ISSUER));
    let m = find(&one(&failing), Code::KVC402).message.to_string();
    assert!(m.contains("(AADSTS70021)"), "{m}");
    assert!(!m.contains("AADSTS700211"), "{m}");
}

/// A token-exchange failure over credentials kvchain reads and finds right (a repair not yet
/// retried): the code the finding carries must not say the credentials are not visible.
#[test]
fn a_contradicted_aadsts70021_does_not_claim_the_credentials_unseen() {
    let s = failing_with(tk::healthy(), &aadsts70021(ISSUER));
    let c = one(&s);
    let f = find(&c, Code::KVC405);
    assert_eq!(c.link(LinkKind::Federation).summary, CONTRADICTED);
    for text in [f.code.title(), &*f.message] {
        assert!(!text.contains("not visible"), "{text}");
    }
    assert!(f.code.title().contains("AADSTS70021"), "{}", f.code.title());
}
