//! The lab's object faults as Key Vault behaves:
//! - a certificate's secret and key are Key Vault's, with the certificate's lifetime ("If a
//!   Key Vault certificate expires or is disabled, the corresponding key and secret become
//!   inoperable"; FACTS §5 "secret that backs a certificate"): `delete-object` or
//!   `disable-object` on a certificate takes all three, so the diagnosis never reads a
//!   wrong objectType off a secret left behind (audit S2);
//! - a re-stamp or a restore reads a version first, and Key Vault refuses to read a disabled
//!   one (FACTS §5, 403 SecretDisabled): the lab refuses the rotation test as the live action
//!   does, instead of quietly undoing `disable-object` (audit S3).

use kvchain::action::Action;
use kvchain::chain::Code;
use kvchain::snapshot::ObjectType;
use kvchain::source::lab::faults;

use super::lab_diagnosis::{describe, diagnose, is_app, settled};

const VAULT: &str = "kv-shop-lab";

#[test]
fn a_deleted_or_disabled_certificate_takes_its_secret_and_key_with_it() {
    for fault in ["delete-object", "disable-object"] {
        let mut w = settled("cert-for-tls");
        let gateway = ("Deployment".into(), "shop".into(), "gateway".into());
        faults::apply_to(&mut w, fault, &gateway).unwrap();
        let vault = &w.vaults[VAULT];
        for t in [ObjectType::Cert, ObjectType::Secret, ObjectType::Key] {
            let o = vault.objects.get(&(t, "gateway-tls".to_string()));
            match fault {
                "delete-object" => assert!(o.is_none(), "{fault}: {t:?} left"),
                _ => assert!(
                    o.is_some_and(|o| !o.versions[0].enabled),
                    "{fault}: {t:?} still enabled"
                ),
            }
        }
        w.advance(w.poll_interval() * 3);
        let chains = diagnose(&w);
        let gateway: Vec<_> = chains
            .iter()
            .filter(|c| is_app(c, "gateway"))
            .flat_map(|c| c.findings())
            .collect();
        assert!(
            gateway
                .iter()
                .all(|f| !f.message.contains("wrong objectType")),
            "{fault}: {}",
            describe(&chains)
        );
        faults::repair(&mut w, fault).unwrap();
        let vault = &w.vaults[VAULT];
        for t in [ObjectType::Cert, ObjectType::Secret, ObjectType::Key] {
            let o = vault.objects.get(&(t, "gateway-tls".to_string()));
            assert!(
                o.is_some_and(|o| o.versions[0].enabled),
                "{fault} repaired: {t:?}"
            );
        }
    }
}

#[test]
fn a_rotation_test_refuses_to_read_a_disabled_version() {
    let mut src = super::actions_lab::settled("healthy");
    faults::apply(src.world_mut(), "disable-object").unwrap();
    let out = src.act(&Action::Rotate {
        vault: VAULT.into(),
        object: "checkout-db-password".into(),
        marker: false,
    });
    assert!(!out.ok, "{out:?}");
    assert!(out.message.contains("SecretDisabled"), "{out:?}");
    let disabled = src.world().vaults[VAULT].objects
        [&(ObjectType::Secret, "checkout-db-password".to_string())]
        .versions[0]
        .id
        .clone();
    let out = src.act(&Action::Restore {
        vault: VAULT.into(),
        object: "checkout-db-password".into(),
        version: disabled,
    });
    assert!(!out.ok, "{out:?}");
    // The fault still shows: nothing re-enabled the object behind the trainer's back.
    let chains = diagnose(src.world());
    assert!(
        chains
            .iter()
            .filter(|c| is_app(c, "checkout"))
            .flat_map(|c| c.findings())
            .any(|f| f.code == Code::KVC602),
        "{}",
        describe(&chains)
    );
}

/// EEE1. A secret the pods had mounted, then deleted: it existed under that very name, so the
/// fix recovers it (soft delete keeps it). Another workload's secret a few letters off
/// (`shipping-api-key` beside `billing-api-key`) is no typo to point the SPC at; nor is one
/// for a pod that never mounted (partners, whose mount fails on its vault's tenant).
#[test]
fn a_deleted_secret_the_pod_mounted_is_recovered_not_swapped_for_a_neighbour() {
    for (app, mounted) in [("billing", true), ("reviews", true), ("partners", false)] {
        let mut w = settled("default");
        let target = ("Deployment".into(), "shop".into(), app.into());
        faults::apply_to(&mut w, "delete-object", &target).unwrap();
        w.advance(w.poll_interval() * 2);
        let chains = diagnose(&w);
        let kvc601: Vec<_> = (chains.iter())
            .filter(|c| is_app(c, app))
            .flat_map(|c| c.findings())
            .filter(|f| f.code == Code::KVC601)
            .collect();
        assert!(!kvc601.is_empty(), "{app}: {}", describe(&chains));
        for f in kvc601 {
            assert!(!f.message.contains("did you mean"), "{app}: {f:#?}");
            assert_eq!(
                f.message.contains("it was deleted since"),
                mounted,
                "{app}: {f:#?}"
            );
            assert!(
                f.fix.starts_with("az keyvault secret recover"),
                "{app}: {f:#?}"
            );
        }
    }
}
