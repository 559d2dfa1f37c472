//! Audit OOO-left: leftovers earlier audits named but did not fix, each checked against the
//! documented behaviour (FACTS, the Kubernetes docs, the README).

use crate::exec_support::Exec;
use crate::live_actions::{start_on, verify_busybox};
use crate::live_support::*;
use crate::nnn_live_verify_volumes::world_with_secret_volume;
use serde_json::json;

/// A value the renamed file held when its container started: never shown either.
const BEFORE: &str = "CANARY-ooo-left-items-before-5c1a";

/// Leftover 1: A Secret volume's `items` write key `username` to file `user.txt` (the secret volume
/// plugin's payload: "the key is projected to the path", Kubernetes docs, Secrets / "Projection
/// of Secret keys to specific paths"). The live snapshot keeps those paths as the lab's world
/// does, so the live verify judges such files as the lab's does (`action::copy_verdict`):
/// the whole volume's `user.txt` follows the Secret, a subPath copy of it is stale once the
/// Secret changed (FACTS §4). No value shows.
#[tokio::test]
async fn live_verify_judges_a_secret_volume_mounted_through_items() {
    // The subPath names the item's path, not its key.
    let api = world_with_secret_volume(
        json!({"secretName": "foosecret", "items": [{"key": "username", "path": "user.txt"}]}),
        "user.txt",
    );
    let mut run = start_on(
        &api,
        None,
        Some(|cmd| match cmd {
            [c, p] if c == "cat" && p == "/mnt/secrets-store/secretalias" => {
                Exec::Prints(CANARY.as_bytes().to_vec())
            }
            [c, p] if c == "cat" && p == "/etc/synced/user.txt" => {
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
    let lines: Vec<&str> = out.message.lines().collect();
    assert!(
        lines.contains(&"file /etc/synced/user.txt: matches Secret foosecret (key username)"),
        "{}",
        out.message
    );
    assert!(
        lines.contains(&"subPath /etc/app/username: stale: Secret foosecret (key username) changed after the container started, and a subPath copy never sees updates (restart needed)"),
        "{}",
        out.message
    );
    assert!(!out.message.contains("not verified"), "{}", out.message);
    for value in [CANARY, BEFORE] {
        assert!(!out.message.contains(value), "{}", out.message);
    }
    run.assert_no_canary();
}
