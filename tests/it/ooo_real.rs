//! Audit OOO-real: `kvchain check -f` on public manifests written by others, each problem
//! reproduced by a fixture of our own under tests/fixtures/manifests/ooo-real-* (the public
//! files are not copied), asserting the documented behaviour (FACTS §2, §5, §6, §7; README).

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/manifests")
        .join(name)
}

/// Exit status and JSON report of `check -f <fixture>`.
fn check(name: &str) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "-f"])
        .arg(fixture(name))
        .args(["-o", "json"])
        .output()
        .expect("run kvchain");
    let r = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), r)
}

/// Each finding of `code` once (a pod's finding is said on each of its chains).
fn findings(r: &Value, code: &str) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for f in r["findings"].as_array().expect("findings") {
        if f["code"] == code && !out.contains(f) {
            out.push(f.clone());
        }
    }
    out
}

/// A container whose env names the synced Secret with a typo (`db-cred` for `db-creds`, which
/// the SecretProviderClass it mounts syncs). The kubelet refuses a container whose required
/// env names a Secret that does not exist (`secret "db-cred" not found`,
/// CreateContainerConfigError: KVC109), and the driver creates only the Secret that
/// secretObjects names (FACTS §2). Offline a Secret the files do not define is unknown (it may
/// be made elsewhere), but one within two edits of a synced Secret of its namespace is the
/// typo the README treats a ServiceAccount or SecretProviderClass name alike for: an error with
/// "did you mean". A name far from every synced one, a short name a couple of edits from a
/// short synced one (`db`, `ca`: two names, not a typo), and an optional reference stay unsaid.
#[test]
fn a_secret_name_one_edit_from_a_synced_secret_is_a_typo() {
    let (code, r) = check("ooo-real-secret-name-typo.yaml");
    let found = findings(&r, "KVC109");
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(f["severity"], "error");
    assert_eq!(f["resource"], "Deployment/api");
    let message = f["message"].as_str().unwrap();
    assert!(
        message.contains("container api (env DB_PASSWORD (key password))")
            && message.contains("names Secret db-cred")
            && message.contains("did you mean db-creds")
            && message.contains("SecretProviderClass shop-kv")
            && message.contains("secret \"db-cred\" not found"),
        "{message}"
    );
    assert!(!message.contains("cache-creds"), "{message}");
    let fix = f["fix"].as_str().unwrap();
    assert_eq!(
        fix,
        "kubectl edit deployment/api -n shop  # container api: env DB_PASSWORD: secretKeyRef.name: db-creds (the Secret SecretProviderClass shop-kv syncs)"
    );
    assert_eq!(code, 1, "an error finding fails the run");
    // Nothing in that container reads the mount: the Consumers link waits on the Secret, as
    // KVC109 documents it ("blocked: Secret <name>").
    let chain = (r["chains"].as_array().unwrap().iter())
        .find(|c| c["workload"] == "Deployment/api")
        .expect("api's chain");
    let consumers = (chain["links"].as_array().unwrap().iter())
        .find(|l| l["link"] == "consumers")
        .expect("consumers link");
    assert_eq!(
        consumers["summary"], "blocked: Secret db-cred",
        "{consumers:#}"
    );
    // The worker reads db-creds itself and db-creds-x only optionally: nothing to say.
    let all = r["findings"].to_string();
    assert!(!all.contains("db-creds-x"), "{all}");
    assert!(!all.contains("Secret db,"), "{all}");
}

/// A workload that reads the synced docker-config Secret only as its imagePullSecrets, while
/// no pod in the files mounts the SecretProviderClass (KVC904). Without the Secret the kubelet
/// pulls the image anonymously ("attempting to pull the image may not succeed"), which a
/// private registry refuses (ErrImagePull): the cause said is the pull, not the
/// CreateContainerConfigError of an env reference nor the FailedMount of a secret volume.
#[test]
fn an_image_pull_secret_never_synced_fails_the_pull_not_the_env() {
    let (_, r) = check("ooo-real-pull-secret.yaml");
    let found = findings(&r, "KVC904");
    assert_eq!(found.len(), 1, "{found:#?}");
    let message = found[0]["message"].as_str().unwrap();
    assert!(
        message.contains("uses Secret regcred (imagePullSecrets)")
            && message.contains("ErrImagePull")
            && !message.contains("CreateContainerConfigError")
            && !message.contains("FailedMount"),
        "{message}"
    );
}
