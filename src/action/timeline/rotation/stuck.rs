//! Why a step of the rotation watch still waiting when the watch ends did not move.

use super::MountFailures;

/// Why a step still waiting when the watch ends did not move: the rotation polls of its pod
/// that failed (`failures`), else what was not seen to change within the deadline.
/// `secret`: whether a synced Secret step's Secret was there when last seen (None: not read).
/// `new_pod`: the step's pod was made after the action (a rollout's, or one re-created under
/// an earlier pod's name): its mount at creation reads the vault's latest version, no
/// rotation poll brings it (FACTS §1, §4, §11), and an earlier pod's failed polls are not its
/// own (`MountFailures` keeps only the current pod's); its latest FailedMount since the write
/// (`failed_mounts`, FACTS §3) says why, in kvchain's words.
/// `(new_pod, unmounted)`: `unmounted`, a pod there before the action whose volume never
/// mounted (no SecretProviderClassPodStatus, FACTS §1): no rotation poll is its either, and its
/// failing mount, not the driver's polls nor rotation off, is why it lacks the new version;
/// its CSI volume's readers wait on that mount (audit XE-tui: "check the driver and provider
/// logs", "no change observed", and with rotation off "never — rotation is disabled").
pub(super) fn stuck_reason(
    failures: &MountFailures,
    failed_mounts: &MountFailures,
    poll: &str,
    key: &str,
    secret: Option<bool>,
    (new_pod, unmounted): (bool, bool),
) -> String {
    const NEW_POD: &str = "made after the write, its mount reads the vault's latest version when it succeeds (no rotation poll needed), yet no SecretProviderClassPodStatus of this pod shows it";
    const UNMOUNTED: &str = "its volume has not mounted since before the write (no SecretProviderClassPodStatus); its mount reads the vault's latest version when it succeeds (no rotation poll needed)";
    let mount_cause = || {
        (failed_mounts.cause_of_key(key)).unwrap_or_else(|| {
            "check the pod's FailedMount events and the driver and provider logs".into()
        })
    };
    let last = key.rsplit('|').next().unwrap_or_default();
    if unmounted && (matches!(last, "mount" | "file") || last.starts_with("mount:")) {
        return format!("{UNMOUNTED}: {}", mount_cause());
    }
    match (key.rsplit('|').next(), failures.of_key(key)) {
        (Some("mount" | "file"), None) if new_pod => format!("{NEW_POD}: {}", mount_cause()),
        (Some("vault"), _) => "the vault shows no new version".to_string(),
        (Some("mount" | "file"), Some(why)) => format!("its rotation polls fail: {why}"),
        (Some("secret"), Some(why)) => format!("the synced Secret is written from the mount, whose rotation polls fail: {why}"),
        (Some("mount"), None) => format!("the mounted version (SecretProviderClassPodStatus) did not change within two rotation polls of {poll} each; check the driver and provider logs"),
        (Some("file"), None) => "the mounted file content did not change".to_string(),
        (Some("secret"), None) => synced_secret_stuck(secret).to_string(),
        (Some(k), Some(why)) if k.starts_with("mount:") => format!("the mount's rotation polls fail: {why}"),
        (Some(k), _) if k.starts_with("env:") => "the running pods still hold the old value: nothing restarted them (is Reloader running?)".to_string(),
        _ => "no change observed".to_string(),
    }
}

/// Why a synced Secret did not take the new value, and the driver event that says so (FACTS
/// §2, §3): an existing Secret is patched by the ≤v1.5 rotation reconciler, whose failure is
/// `SecretRotationFailed` (a v1.6 driver updates it from its controller, whose failures are
/// `FailedToCreateSecret`); a missing one is the controller's to create, at its next
/// reconcile (every 5 minutes), its failure `FailedToCreateSecret`.
fn synced_secret_stuck(exists: Option<bool>) -> &'static str {
    match exists {
        Some(true) => {
            "the synced Secret exists but was not updated; check SecretRotationFailed events on the pods (the rotation reconciler's patch, drivers ≤v1.5; a v1.6 driver's controller reports a failed update as FailedToCreateSecret) and the driver log"
        }
        Some(false) => {
            "the synced Secret does not exist; the driver's controller creates it at its next reconcile (every 5 minutes): check FailedToCreateSecret events on the pods and the driver log"
        }
        None => {
            "the synced Secret was not read; check SecretRotationFailed events (a failed patch of an existing Secret, drivers ≤v1.5) and FailedToCreateSecret events (a failed create, or a v1.6 driver's failed update) on the pods, and the driver log"
        }
    }
}
