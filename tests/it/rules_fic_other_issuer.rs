//! KVC402 when the credential for the chain's subject names another issuer (audit LL11).
//! Issuer and subject are unique per identity (FACTS §7), so an identity serving two clusters
//! holds one credential per cluster: a credential at a well-formed issuer unlike this
//! cluster's (not a trailing '/' or a slip of it) may be another cluster's, in use where
//! kvchain does not look. The fix creates this cluster's credential under a free name (the
//! KVC401 path) and leaves that one alone; only a slip of this cluster's issuer is updated.

use crate::rules_runtime::{only, run};
use kvchain::chain::Code;
use kvchain::chain::testkit::{self as tk, APP};
use kvchain::snapshot::Observed;

const OTHER: &str = "https://northeurope.oic.prod-aks.azure.com/72f988bf-86f1-41af-91ab-2d7cd011db47/11111111-4c5e-4f70-9b1c-2d3e4f5a6b7c/";

#[test]
fn another_clusters_credential_is_left_alone_and_one_created() {
    let mut s = tk::healthy();
    tk::fic_mut(&mut s, APP).issuer = OTHER.into();
    let old = tk::fic_mut(&mut s, APP).name.clone();
    let f = only(&run(&s), Code::KVC402);
    assert!(!f.fix.contains("federated-credential update"), "{}", f.fix);
    assert!(f.fix.contains("federated-credential create"), "{}", f.fix);
    assert!(
        f.fix.contains(&format!("--issuer {}", tk::ISSUER)),
        "{}",
        f.fix
    );
    let name = f
        .fix
        .split("create --name ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .unwrap();
    assert!(!name.eq_ignore_ascii_case(&old), "{name}: {}", f.fix);
    // The fix applied: the create adds a credential beside the other cluster's.
    let mut fixed = tk::fic_mut(&mut s, APP).clone();
    fixed.name = name.into();
    fixed.issuer = tk::ISSUER.into();
    match &mut tk::identity_mut(&mut s, APP).federated_credentials {
        Observed::Known(v) => v.push(fixed),
        Observed::Unknown(_) => unreachable!(),
    }
    let chains = run(&s);
    for code in [Code::KVC401, Code::KVC402, Code::KVC405] {
        assert!(
            chains
                .iter()
                .flat_map(|c| c.findings())
                .all(|f| f.code != code),
            "{code}"
        );
    }
}

#[test]
fn a_slip_of_this_clusters_issuer_is_updated() {
    for slip in [
        tk::ISSUER.trim_end_matches('/').to_string(),
        tk::ISSUER.replace("westeurope", "WestEurope"),
        tk::ISSUER.replace("prod-aks", "prod-ask"),
    ] {
        let mut s = tk::healthy();
        tk::fic_mut(&mut s, APP).issuer = slip.clone();
        let name = tk::fic_mut(&mut s, APP).name.clone();
        let f = only(&run(&s), Code::KVC402);
        assert!(
            f.fix
                .contains(&format!("federated-credential update --name {name} ")),
            "{slip}: {}",
            f.fix
        );
    }
}
