//! A pod volume's `volumeAttributes.clientID` that names no identity, while the service
//! account's client-id annotation and the SecretProviderClass's own clientID agree (audit X4).
//! FACTS §5: "The driver merges pod `volumeAttributes` OVER SPC parameters", so the mount
//! authenticates as the override: that is the one cause. FACTS §6: the annotation feeds only
//! the webhook's AZURE_CLIENT_ID, and here it is right. One symptom, one cause: one finding
//! naming the override (its fix removes it), and the ServiceAccount link is not marked.

use std::path::Path;
use std::time::Duration;

use kvchain::chain::{self, Code, LinkKind, Status};
use kvchain::source::lab::world::World;
use kvchain::source::lab::{export, scenario};

use crate::lab_nodes::{CLUSTER, HEALTHY, SHOP};

const STRAY: &str = "0b9c5e1a-7d2f-4c3e-9a8b-1f2e3d4c5b6a";

#[test]
fn a_stray_volume_client_id_is_one_finding_and_the_service_account_is_fine() {
    let healthy = HEALTHY.replace(
        "              secretProviderClass: checkout-kv\n",
        &format!(
            "              secretProviderClass: checkout-kv\n              clientID: {STRAY}\n"
        ),
    );
    assert_ne!(healthy, HEALTHY);
    let docs = [CLUSTER, SHOP, &healthy].join("\n---\n");
    let sc = scenario::parse("override", Path::new("override.yaml"), &docs).expect("loads");
    let mut w = World::new(sc);
    w.advance(Duration::from_secs(60));
    let chains = chain::diagnose(&export::snapshot(&w));
    let checkout: Vec<_> = (chains.iter())
        .filter(|c| c.spc.as_str() == "checkout-kv")
        .collect();
    assert!(!checkout.is_empty());
    for c in checkout {
        let naming: Vec<_> = (c.findings())
            .filter(|f| f.follows.is_none() && f.message.contains(STRAY))
            .collect();
        assert_eq!(
            naming.len(),
            1,
            "one finding for the override: {:#?}",
            naming
                .iter()
                .map(|f| format!("{} {}", f.code, f.message))
                .collect::<Vec<_>>()
        );
        assert!(
            naming[0].fix.contains("volumeAttributes.clientID"),
            "{}",
            naming[0].fix
        );
        assert!(
            !c.findings().any(|f| f.code == Code::KVC204),
            "{:#?}",
            c.links
        );
        let sa = &c.links[LinkKind::ServiceAccount.index()];
        assert_eq!(sa.status, Status::Ok, "{sa:#?}");
    }
}
