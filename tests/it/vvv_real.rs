//! Audit VVV-real: `kvchain check -f` on manifests of our own (tests/fixtures/vvv_real/), each
//! expectation written from the API server's and kubectl's sources before kvchain was run on
//! it: Go's encoding/json (sigs.k8s.io/json) for type errors, sigs.k8s.io/yaml for keys,
//! apiextensions-apiserver for a custom resource's metadata, the core and batch validation for
//! required fields and names. Values are canaries (`CANARY-vvv-real`): never printed.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::real_kit::unread;

const CANARY: &str = "CANARY-vvv-real";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/vvv_real")
        .join(name)
}

fn check(paths: &[&Path]) -> (i32, Value) {
    super::real_kit::check(paths, CANARY)
}

/// kubectl's YAML-to-JSON (sigs.k8s.io/yaml over go-yaml v2) resolves a plain key as any
/// scalar and writes a boolean key as `"true"`/`"false"`, a number as its decimal text. So a
/// template labelled `yes: web` is labelled `"true": web`, which a `matchLabels` of `"true":
/// web` selects, and a label key `1` is the string `"1"`: both Deployments are applied and read.
#[test]
fn boolean_and_number_keys_are_the_strings_kubectl_sends() {
    let (code, r) = check(&[&fixture("keys.yaml")]);
    let unread = unread(&r);
    assert!(unread.is_empty(), "{unread:#?}");
    assert_eq!(code, 0, "{r:#}");
}
