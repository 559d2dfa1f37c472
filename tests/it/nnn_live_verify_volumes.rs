//! Audit NNN-out 5: the live in-container verify (`x`) judged the CSI volume's files and env
//! only: a container reading the synced Secret through a Secret volume — whole, or one key
//! through subPath — got nothing said about it, while the lab's verify judges such a subPath
//! copy (README `x`: "a subPath copy of the synced Secret's volume … matches the Secret, or
//! is stale once rotation rewrote the Secret (restart needed)"). FACTS §4: subPath mounts
//! never see rotated content; a Secret volume follows its Secret. The live verify now judges
//! them with the lab's judgement (`action::copy_verdict`), by fingerprint: no value shows.

use crate::exec_support::Exec;
use crate::live_actions::{start_on, verify_busybox};
use crate::live_support::*;
use serde_json::json;

/// The value the subPath copy took before the Secret changed: never shown either.
const BEFORE: &str = "CANARY-copy-before-rotation-8d2e";

/// `world()` with the pod also mounting its synced Secret `foosecret` through a Secret
/// volume (`volume`): its file `sub_path` (key `username` unless `items` rename it) through
/// subPath at /etc/app/username, and the whole volume at /etc/synced.
pub(crate) fn world_with_secret_volume(volume: serde_json::Value, sub_path: &str) -> FakeApi {
    let api = world();
    let mut p = pod("azure-sync", "Running");
    p["spec"]["volumes"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "synced", "secret": volume}));
    let mounts = p["spec"]["containers"][0]["volumeMounts"]
        .as_array_mut()
        .unwrap();
    mounts.push(json!({"name": "synced", "mountPath": "/etc/app/username", "subPath": sub_path, "readOnly": true}));
    mounts.push(json!({"name": "synced", "mountPath": "/etc/synced", "readOnly": true}));
    api.replace_silently(PODS, vec![p]);
    api
}

#[tokio::test]
async fn verify_judges_a_secret_volume_and_its_stale_sub_path_copy() {
    let mut run = start_on(
        &world_with_secret_volume(json!({"secretName": "foosecret"}), "username"),
        None,
        Some(|cmd| match cmd {
            [c, p] if c == "cat" && p == "/mnt/secrets-store/secretalias" => {
                Exec::Prints(CANARY.as_bytes().to_vec())
            }
            [c, p] if c == "cat" && p == "/etc/synced/username" => {
                Exec::Prints(CANARY.as_bytes().to_vec())
            }
            [c, p] if c == "cat" && p == "/etc/app/username" => {
                Exec::Prints(BEFORE.as_bytes().to_vec())
            }
            [c, p] if c == "cat" && p == "/proc/1/environ" => Exec::Prints(b"PATH=/bin\0".to_vec()),
            _ => Exec::Fails("command terminated with non-zero exit code: exit code 1"),
        }),
    )
    .await;
    let out = run.act(verify_busybox()).await;
    assert!(out.ok, "{}", out.message);
    let line = |prefix: &str| {
        (out.message.lines().find(|l| l.starts_with(prefix)))
            .unwrap_or_else(|| panic!("no line {prefix}: {}", out.message))
            .to_string()
    };
    assert_eq!(
        line("subPath /etc/app/username:"),
        "subPath /etc/app/username: stale: Secret foosecret (key username) changed after the container started, and a subPath copy never sees updates (restart needed)"
    );
    assert_eq!(
        line("file /etc/synced/username:"),
        "file /etc/synced/username: matches Secret foosecret (key username)"
    );
    for value in [CANARY, BEFORE] {
        assert!(!out.message.contains(value), "{}", out.message);
    }
    assert!(run.audit_lines().is_empty(), "verify is not a write");
    run.assert_no_canary();
}
