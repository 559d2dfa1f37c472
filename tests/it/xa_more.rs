//! Audit XA-more: three small untruths seen on screen. Each test is written from the
//! documented behaviour (README, FACTS), not from what kvchain printed.

use serde_json::Value;

// ---- 3. KVC704 counts each noun with its own number ----

/// The built-in `throttling` world: eight replicas, one object, a vault limited to 3 reads per
/// 10 s. KVC704's message and fix count "8 pods x 1 object", never "1 objects".
#[test]
fn throttling_counts_one_object_in_the_singular() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "--lab", "throttling", "-o", "json"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = (r["findings"].as_array().unwrap().iter())
        .find(|f| f["code"] == "KVC704")
        .unwrap_or_else(|| panic!("KVC704: {r}"));
    let (message, fix) = (f["message"].as_str().unwrap(), f["fix"].as_str().unwrap());
    assert!(message.contains("(8 pods x 1 object)"), "{message}");
    assert!(fix.contains("8 pods x 1 object = 8 objects"), "{fix}");
    for text in [message, fix] {
        for wrong in ["1 objects", "1 pods", "1 reads", "1 polls"] {
            assert!(!text.contains(wrong), "{wrong:?}: {text}");
        }
    }
}
