//! `check -n NS` on a live cluster: an API server answers a list in a namespace that does not
//! exist with an empty list, so a typo read as a clean namespace, "0 chains", exit 0, for ever
//! in a CI step (audit FFF3). Every namespace holds the `default` ServiceAccount Kubernetes
//! makes: not even that is a namespace that does not exist, an input error (exit 2) as `-n`
//! naming nothing is for `-f`, `--lab` and `--snapshot`. A namespace that exists with nothing
//! of the chain in it still reads "0 chains".

use crate::live_gaps::check_in_context;
use crate::live_support::*;
use serde_json::json;

#[tokio::test]
async fn a_namespace_that_does_not_exist_is_an_input_error() {
    let api = world();
    let run = check_in_context(&api, &["-n", "paymnets"]).await;
    assert_eq!(run.code, Some(2), "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("namespace paymnets does not exist"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn an_empty_namespace_that_exists_reads_as_one_and_an_unread_one_is_not_judged() {
    let api = world();
    api.add(
        SERVICE_ACCOUNTS,
        json!({"apiVersion": "v1", "kind": "ServiceAccount",
               "metadata": {"name": "default", "namespace": "quiet"}}),
    );
    let run = check_in_context(&api, &["-n", "quiet"]).await;
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("0 chains"), "{}", run.stdout);
    // ServiceAccounts refused: whether it exists cannot be said, so it is not called missing.
    api.deny(SERVICE_ACCOUNTS, Some("paymnets"));
    let run = check_in_context(&api, &["-n", "paymnets"]).await;
    assert_ne!(run.code, Some(2), "{}\n{}", run.stdout, run.stderr);
    assert!(!run.stderr.contains("does not exist"), "{}", run.stderr);
}
