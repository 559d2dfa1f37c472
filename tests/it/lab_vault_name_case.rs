//! Key Vault names are DNS names: the provider builds the vault URL from `keyvaultName` as
//! written (`https://<keyvaultName>.<KeyVaultDNSSuffix>/`, FACTS §5) and DNS resolves a
//! host name in any case, so `KV-Shop-Lab` reaches vault `kv-shop-lab`. The lab mounts such
//! an SPC as AKS does, and the rotation timeline (`r`) follows the vault whichever way the
//! SPC, the action or the vault spell it — as `r`'s own eligibility check already matches it.

use std::time::Duration;

use kvchain::action::timeline::{RotationWatch, StepState, Timeline};
use kvchain::source::lab::world::World;
use kvchain::source::lab::{export, scenario};

use crate::lab_nodes::{CLUSTER, HEALTHY, SHOP};

/// The new value the tests write: it must never show in any output.
const CANARY: &str = "canary-vault-case-5e1d";

/// The healthy checkout chain with its SPC's `keyvaultName` spelled `spelled`, settled.
fn world(spelled: &str) -> World {
    world_granted(spelled, "kv-shop-lab")
}

/// [`world`] with its role assignment's `scope.vault` spelled `granted`.
fn world_granted(spelled: &str, granted: &str) -> World {
    let healthy = HEALTHY
        .replace(
            "keyvaultName: kv-shop-lab",
            &format!("keyvaultName: {spelled}"),
        )
        .replace(
            "    vault: kv-shop-lab\n",
            &format!("    vault: {granted}\n"),
        );
    assert!(healthy.contains(&format!("keyvaultName: {spelled}\n")));
    assert!(healthy.contains(&format!("    vault: {granted}\n")));
    let docs = [CLUSTER, SHOP, &healthy].join("\n---\n");
    let sc = scenario::parse("case", std::path::Path::new("case.yaml"), &docs).expect("loads");
    let mut w = World::new(sc);
    w.run_until_stable(Duration::from_secs(3600));
    w
}

fn checkout_pods(w: &World) -> Vec<String> {
    let s = export::snapshot(w);
    let pods: Vec<String> = (s.pods.items.iter())
        .filter(|p| p.namespace == "shop" && p.name.starts_with("checkout-"))
        .map(|p| p.name.to_string())
        .collect();
    assert_eq!(pods.len(), 2, "{pods:?}");
    pods
}

#[test]
fn a_mixed_case_keyvault_name_mounts_in_the_lab() {
    // The grant's scope names the vault in a third spelling: still the same vault.
    let w = world_granted("KV-Shop-Lab", "KV-SHOP-LAB");
    let s = export::snapshot(&w);
    let failed: Vec<_> = (s.events.items.iter())
        .filter(|e| e.reason == "FailedMount")
        .map(|e| e.message.to_string())
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    for pod in checkout_pods(&w) {
        assert!(
            (s.spc_statuses.items.iter())
                .any(|st| st.pod_name == pod && st.spc_name == "checkout-kv" && st.mounted),
            "{pod} has mounted checkout-kv: {:#?}",
            s.spc_statuses.items
        );
    }
    assert!(
        s.secret("shop", "checkout-db").is_some(),
        "synced Secret made"
    );
}

/// The rotation timeline's steps for each checkout pod, and whether the watch ended.
fn followed(spc: &str, action: &str) -> Timeline {
    let mut w = world(spc);
    let before = export::snapshot(&w);
    let mut watch = RotationWatch::new(&before, action, "checkout-db-password")
        .starting_at(before.source.observed_at);
    w.rotate_secret(action, "checkout-db-password", Some(CANARY.as_bytes()))
        .unwrap_or_else(|e| panic!("SPC {spc}, action {action}: {e}"));
    for _ in 0..60 {
        w.advance(Duration::from_secs(10));
        watch.observe(&export::snapshot(&w));
        if watch.timeline().finished {
            break;
        }
    }
    watch.timeline()
}

#[test]
fn the_rotation_timeline_follows_a_vault_spelled_in_another_case() {
    for (spc, action) in [
        ("KV-Shop-Lab", "KV-Shop-Lab"),
        ("KV-Shop-Lab", "kv-shop-lab"),
        ("kv-shop-lab", "KV-SHOP-LAB"),
    ] {
        let tl = followed(spc, action);
        let what = format!("SPC {spc}, action {action}");
        let shown = format!("{tl:?}");
        assert!(!shown.contains(CANARY), "{what}: a value leaked: {shown}");
        // Every step of the hop reached (the pods Reloader's rollout made too).
        let done = |needle: &str| {
            let states: Vec<&StepState> = (tl.steps.iter())
                .filter(|s| s.label.contains(needle))
                .map(|s| &s.state)
                .collect();
            !states.is_empty() && states.iter().all(|s| matches!(s, StepState::Done(_)))
        };
        for hop in [
            "new version",
            "mounted version",
            "Secret checkout-db[password]",
        ] {
            assert!(done(hop), "{what}: {hop}: {tl:#?}");
        }
    }
}
