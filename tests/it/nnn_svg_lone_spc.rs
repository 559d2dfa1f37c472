//! Audit NNN-out 1: `-o svg` without `--chain` draws the worst chain (README "In CI"), but a
//! SecretProviderClass no pod mounts is checked on its own and its findings fail the run as
//! a chain's do (README: "its findings join `findings` and the summary counts"; audit Y1). A
//! run failing only on such an SPC drew a healthy chain: a green slide of a red run. Mermaid
//! draws each such SPC as a node of its own (check_lone_spc_ci); the SVG names it under the
//! boxes, with its status and codes.

use std::path::Path;

use super::check_lone_spc_ci::{check, healthy};

#[test]
fn svg_of_a_run_failing_on_an_spc_no_pod_mounts_names_that_spc() {
    let more = healthy();
    let (code, svg) = check("svg", &[more.as_path()]);
    assert_eq!(code, Some(1), "the lone SPC fails the run: {svg}");
    assert!(
        svg.contains("✗ Not drawn: SecretProviderClass shop/lone (mounted by no pod): KVC705"),
        "{svg}"
    );
    // The drawn chain is one of the healthy example's, with no broken box: the line is what
    // says the run failed.
    assert!(!svg.contains(r#"data-status="broken""#), "{svg}");
}

/// `--chain` draws the chain asked for, nothing else (README: "one chain as a
/// self-contained SVG").
#[test]
fn svg_of_one_chain_asked_for_names_no_other_spc() {
    let more = healthy();
    let (_, svg) = check(
        "svg",
        &[more.as_path(), Path::new("--chain"), Path::new("web")],
    );
    assert!(svg.starts_with("<svg"), "{svg}");
    assert!(!svg.contains("Not drawn"), "{svg}");
}

/// With no chain at all the SVG is not drawn (exit 2, README "With no chain to draw it exits
/// 2 saying why"), but the run's failing SecretProviderClass is still named in that message:
/// the picture that would have listed it is not there to say the run found something.
#[test]
fn no_chain_to_draw_still_names_the_failing_spc_no_pod_mounts() {
    let dir = tempfile::tempdir().unwrap();
    let lone = dir.path().join("lone.yaml");
    std::fs::write(&lone, super::check_lone_spc_ci::LONE_SPC).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "-o", "svg", "-f"])
        .arg(&lone)
        .env("HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no chain to draw"), "{stderr}");
    assert!(
        stderr.contains("✗ Not drawn: SecretProviderClass shop/lone (mounted by no pod): KVC705"),
        "{stderr}"
    );
}
