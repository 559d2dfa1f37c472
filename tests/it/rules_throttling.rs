//! KVC704's fix by what Key Vault throttles (requests per vault per 10 s): each rotation poll
//! reads every mounted object of a node's pods at once (FACTS §4, §5). When the average load
//! per 10-s window is below one node's burst, the bursts are what is throttled and a longer
//! poll interval cannot help: fewer reads per poll can. Only when the load is spread (the
//! average per window reaches a burst) does a longer interval lower what the vault sees.

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Code, Finding};
use kvchain::snapshot::*;

use super::rules_runtime::{csi, run};

/// A rotation that the vault throttles: the pod stays mounted, each poll fails with 429.
pub(crate) fn throttled_rotation(s: &mut Snapshot) {
    let pod = tk::pod_name(APP, 0);
    s.events.items.push(EventObs {
        reason: "MountRotationFailed".into(),
        source: "csi-secrets-store-rotation".into(),
        message: format!(
            "provider mount err: failed to mount objects, error: failed to get objectType:secret, objectName:web-db-pass, objectVersion:: GET https://kv-shop.vault.azure.net/secrets/web-db-pass/\n--------\nRESPONSE 429: 429 Too Many Requests for spc {NS}/{}",
            tk::spc_name(APP)
        ),
        ..tk::failed_mount(NS, &pod, "secrets-store-inline", "")
    });
}

/// `pods` replicas of the app, each on a node of its own, rotation on, one poll throttled.
fn spread(pods: usize, poll_secs: u64) -> Finding {
    let mut s = tk::empty();
    tk::add_app(&mut s, NS, APP, pods);
    for (i, p) in s.pods.items.iter_mut().enumerate() {
        p.node = Some(format!("aks-nodepool1-12345678-vmss{i:06}").into());
    }
    csi(&mut s).rotation_enabled = Observed::Known(true);
    csi(&mut s).rotation_poll_interval = std::time::Duration::from_secs(poll_secs);
    throttled_rotation(&mut s);
    let chains = run(&s);
    chains
        .iter()
        .flat_map(|c| c.findings())
        .find(|f| f.code == Code::KVC704)
        .cloned()
        .expect("KVC704")
}

#[test]
fn kvc704_bursts_get_fewer_reads_not_a_longer_interval() {
    // 3 pods x 1 object every 120 s: 0.25 reads per 10 s on average, bursts of 1 per node.
    for poll in [120, 600, 3600] {
        let f = spread(3, poll);
        assert!(
            !f.fix.contains("rotation-poll-interval"),
            "{poll}: {}",
            f.fix
        );
        assert!(!f.fix.contains("rotationPollInterval"), "{poll}: {}", f.fix);
        assert!(
            f.fix.contains("3 pods x 1 object = 3 objects")
                && f.fix.contains(&format!(
                    "fewer pods mounting SecretProviderClass {}",
                    tk::spc_name(APP)
                ))
                && f.fix.contains("another vault"),
            "{poll}: {}",
            f.fix
        );
    }
}

#[test]
fn kvc704_spread_load_gets_a_longer_interval_than_the_one_set() {
    // 24 pods on 24 nodes every 120 s: 2 reads per 10 s on average, bursts of 1.
    let f = spread(24, 120);
    assert!(f.fix.contains("--rotation-poll-interval 10m"), "{}", f.fix);
    assert!(f.fix.contains("fewer pods mounting"), "{}", f.fix);
    // Already at 10 m (still 24 x 10 >= 600 s x 1? no: 240 < 600): bursts again.
    let f = spread(24, 600);
    assert!(!f.fix.contains("rotation-poll-interval"), "{}", f.fix);
    // 120 pods every 10 m: 2 per 10 s: a longer one than 10 m, never the interval set.
    let f = spread(120, 600);
    assert!(f.fix.contains("--rotation-poll-interval 20m"), "{}", f.fix);
}

#[test]
fn kvc704_confirm_lists_the_events_that_showed_the_429() {
    let f = spread(1, 120);
    assert!(
        f.confirm
            .ends_with("--field-selector reason=MountRotationFailed"),
        "{}",
        f.confirm
    );
}

/// The app (3 pods, one per node) with rotation off now and a rotation that was throttled
/// while it was on (audit RR2).
fn throttled_then_rotation_off() -> Snapshot {
    let mut s = tk::empty();
    tk::add_app(&mut s, NS, APP, 3);
    for (i, p) in s.pods.items.iter_mut().enumerate() {
        p.node = Some(format!("aks-nodepool1-12345678-vmss{i:06}").into());
    }
    csi(&mut s).rotation_enabled = Observed::Known(false);
    throttled_rotation(&mut s);
    s
}

/// With rotation off nothing polls (FACTS §4): a rotation 429 on a mounted pod is history,
/// even beside KVC702 (rotation disabled) on the same link, and no poll arithmetic is told.
#[test]
fn kvc704_rotation_429s_once_rotation_is_off_are_history_on_a_mounted_pod() {
    let chains = run(&throttled_then_rotation_off());
    let all: Vec<&Finding> = chains.iter().flat_map(|c| c.findings()).collect();
    assert!(all.iter().any(|f| f.code == Code::KVC702), "{all:#?}");
    assert!(!all.iter().any(|f| f.code == Code::KVC704), "{all:#?}");
    let c = chains
        .iter()
        .find(|c| c.pod.as_str() == tk::pod_name(APP, 0))
        .expect("chain");
    let mount = c.link(kvchain::chain::LinkKind::Mount);
    assert!(
        (mount.facts.iter())
            .any(|f| f.label == "history (KVC704)" && f.observed.contains("rotation is off")),
        "{mount:#?}"
    );
}

/// Where it stays a finding (the pod's SPCPS does not say mounted), rotation off still runs
/// no poll: KVC704 claims no polls per day and proposes no poll interval.
#[test]
fn kvc704_with_rotation_off_claims_no_polls() {
    let mut s = throttled_then_rotation_off();
    let pod = tk::pod_name(APP, 0);
    s.spc_statuses.items.retain(|st| st.pod_name != pod);
    let f = run(&s)
        .iter()
        .flat_map(|c| c.findings())
        .find(|f| f.code == Code::KVC704)
        .cloned()
        .expect("KVC704");
    assert!(
        !f.message.contains("polls/day") && !f.message.contains("per poll"),
        "{}",
        f.message
    );
    assert!(f.message.contains("rotation is off"), "{}", f.message);
    for poll_words in [
        "poll interval",
        "rotation-poll-interval",
        "rotationPollInterval",
    ] {
        assert!(!f.fix.contains(poll_words), "{poll_words}: {}", f.fix);
    }
    assert!(f.fix.contains("3 pods x 1 object = 3 objects"), "{}", f.fix);
}
