//! Audit Z1: older Azure provider builds print the nodePublishSecretRef Secret's whole map in
//! a FailedMount message (`could not find clientsecret in secrets(map[client-secret:<value>
//! …])`, FACTS §5's older provider shape), and the usual cause, a misspelled key, puts the
//! service principal's secret in it. README "Secrets stay secret": no value is printed, logged
//! or stored. A canary planted there reaches no snapshot and no output, read live or from a
//! snapshot file an older kvchain wrote.

use crate::live_support::*;
use kvchain::chain::diagnose;
use kvchain::snapshot::file;
use serde_json::json;

const CANARY: &str = "Zq8~Canary.SP_Secret-7f3e";

/// The FailedMount of `pod` (`namespace/name`) for `volume`, as the older provider words it.
fn leaking_message(pod: &str, volume: &str) -> String {
    format!(
        "MountVolume.SetUp failed for volume \"{volume}\" : rpc error: code = Unknown desc = \
         failed to mount secrets store objects for pod {pod}, err: rpc error: code = Unknown \
         desc = failed to mount objects, error: failed to build auth config for mode None: \
         could not find clientsecret in \
         secrets(map[client-secret:{CANARY} clientid:0b7a1c2d-0000-4000-8000-000000000001])"
    )
}

#[tokio::test]
async fn a_secret_map_in_a_live_event_reaches_no_snapshot_and_no_report() {
    let api = world();
    let mut leaking = event(
        "FailedMount",
        &leaking_message(&format!("{NS}/{POD}"), "secrets-store01-inline"),
    );
    leaking["metadata"]["name"] = serde_json::json!(format!("{POD}.sp-creds"));
    api.add(EVENTS, leaking);
    let snap = snapshot_of(&api).await;
    let failed: Vec<_> = snap
        .events
        .items
        .iter()
        .filter(|e| {
            e.message
                .contains("could not find clientsecret in secrets(map[")
        })
        .collect();
    assert!(!failed.is_empty(), "the event is read, its cause kept");
    let chains = diagnose(&snap);
    let outputs = [
        format!("{snap:?}"),
        file::to_string(&snap, false).unwrap(),
        kvchain::report::text(&snap, &chains, false),
        kvchain::report::json(&snap, &chains),
    ];
    for out in outputs {
        assert!(!out.contains(CANARY), "leaked: {out}");
    }
}

/// The lab's catalog chain switched to service-principal mode (FACTS §5: no clientID, a
/// nodePublishSecretRef Secret whose secret key is misspelled), its FailedMount as the older
/// provider words it, stored as an older kvchain would have.
#[test]
fn a_snapshot_file_holding_the_map_is_read_without_it() {
    let snap = kvchain::source::lab::run_check("object-not-found", None).unwrap();
    let mut v: serde_json::Value =
        serde_json::from_str(&file::to_string(&snap, false).unwrap()).unwrap();
    let s = &mut v["snapshot"];
    s["spcs"]["items"][0]["parameters"]
        .as_object_mut()
        .unwrap()
        .remove("clientID");
    let pod = &mut s["pods"]["items"][0];
    assert_eq!(
        pod["name"].as_str().map(|n| n.starts_with("catalog-")),
        Some(true)
    );
    pod["volumes"][0]["source"]["node_publish_secret"] = json!("kv-creds");
    let failing = format!("shop/{}", pod["name"].as_str().unwrap());
    let volume = pod["volumes"][0]["name"].as_str().unwrap().to_string();
    let mut creds = s["secrets"]["items"][0].clone();
    creds["name"] = json!("kv-creds");
    creds["owners"] = json!([]);
    creds["labels"] = json!({});
    creds["data"] = json!({"clientid": "0".repeat(64), "client-secret": "1".repeat(64)});
    s["secrets"]["items"].as_array_mut().unwrap().push(creds);
    for e in s["events"]["items"].as_array_mut().unwrap() {
        if e["reason"] == "FailedMount" {
            e["message"] = json!(leaking_message(&failing, &volume));
        }
    }
    let written = v.to_string();
    assert!(written.contains(CANARY), "the file holds the planted value");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.json");
    std::fs::write(&path, written).unwrap();
    for format in ["text", "json", "sarif", "junit"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
            .args(["check", "--snapshot", path.to_str().unwrap(), "-o", format])
            .env("XDG_CONFIG_HOME", dir.path())
            .env("KUBECONFIG", dir.path().join("none"))
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.stdout.is_empty(), "{format}: {all}");
        assert!(!all.contains(CANARY), "{format} leaked: {all}");
    }
}
