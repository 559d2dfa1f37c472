//! Event messages and reasons, the text the driver, kubelet and provider write (`FailedMount`
//! and its decisive line, AADSTS codes, 403s): the classifiers and field readers alone, then
//! in place of one event of the lab's default world (every failure class side by side),
//! diagnosed and reported, so every rule that reads an event reads the fuzzed one.
#![no_main]

use std::sync::OnceLock;

use kvchain::chain::events;
use kvchain::snapshot::Snapshot;
use libfuzzer_sys::fuzz_target;

const REASONS: &[&str] = &[
    "FailedMount",
    "FailedCreate",
    "FailedToCreateSecret",
    "MountRotationFailed",
    "MountRotationComplete",
    "SecretRotationComplete",
    "FailedScheduling",
    "BackOff",
    "Failed",
    "Warning",
];

fn world() -> &'static Snapshot {
    static WORLD: OnceLock<Snapshot> = OnceLock::new();
    WORLD.get_or_init(|| {
        let mut s =
            kvchain::source::lab::run_check("default", None).expect("the lab's default world");
        assert!(!s.events.items.is_empty(), "the default world has events");
        s.source.recorded = true;
        s
    })
}

fuzz_target!(|data: &[u8]| {
    let [which, reason, rest @ ..] = data else {
        return;
    };
    let Ok(message) = std::str::from_utf8(rest) else {
        return;
    };
    let reason = REASONS[usize::from(*reason) % REASONS.len()];
    let _ = events::classify(message);
    let _ = events::classify_event(reason, message);
    let _ = events::is_followup(message);
    let _ = events::volume_of(message);
    let _ = events::unmounted_volumes(message);
    let _ = events::assertion(message, "Subject");
    let _ = events::presented(message);
    let _ = events::aadsts(message);
    let _ = events::directory(message);
    let _ = events::sts_tenant(message, "Expected one of ");
    let _ = events::sts_tenant(message, "found ");
    let _ = events::secret_name(message);
    let _ = events::object_name(message);
    let _ = events::object_version(message);
    let _ = events::object_type(message);
    let _ = events::denied_by_rbac(message);
    let _ = events::deny_assignment(message);
    let _ = events::caller(message);
    let _ = events::token_audience(message);
    let _ = events::unreached_vault(message);
    let _ = events::mount_deadline(message);
    let _ = events::unanswered(message);
    let _ = events::vault_named(message);
    let _ = kvchain::snapshot::event_text::without_secrets(message);

    let mut snapshot = world().clone();
    let i = usize::from(*which) % snapshot.events.items.len();
    if let Some(event) = snapshot.events.items.iter_mut().nth(i) {
        event.reason = reason.to_string();
        event.message = kvchain::snapshot::event_text::without_secrets(message).into_owned();
    }
    kvchain_fuzz::check(snapshot, None);
});
