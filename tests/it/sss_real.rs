//! Audit SSS-real: `kvchain check -f` on hostile and tricky manifests of our own
//! (tests/fixtures/sss_real/), each expectation written from the Kubernetes API and the
//! upstream documents before kvchain was run on it. Vault values are canaries
//! (`CANARY-sss-re`): never printed.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use super::real_kit::unread;

const CANARY: &str = "CANARY-sss-re";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sss_real")
        .join(name)
}

fn run(paths: &[&Path], format: &str) -> Output {
    super::real_kit::run(paths, format, CANARY)
}

fn check(paths: &[&Path]) -> (i32, Value) {
    super::real_kit::check(paths, CANARY)
}

fn codes(r: &Value) -> Vec<String> {
    let mut c: Vec<String> = r["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["code"].as_str().unwrap_or("").to_string())
        .collect();
    c.sort();
    c.dedup();
    c
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p
}

/// A secret volume's `defaultMode: "0400"`, quoted. The pod spec's `defaultMode` is an int32
/// (Kubernetes API, SecretVolumeSource); kubectl sends the quoted scalar as the JSON string
/// "0400" and the API server refuses the object ("json: cannot unmarshal string into Go struct
/// field SecretVolumeSource…defaultMode of type int32"): no Deployment, no pod. As every
/// document kubectl apply refuses (README "kvchain check"), it is listed as not read naming
/// file, document and field, and the exit status is 1. Written plain (`0400`), it is the
/// octal integer 256 kubectl's YAML 1.1 reads, and the Deployment is read.
#[test]
fn a_quoted_file_mode_is_refused_as_the_api_server_refuses_it() {
    let file = fixture("quoted-mode.yaml");
    let (code, r) = check(&[&file]);
    let unread = unread(&r);
    assert_eq!(unread.len(), 1, "{unread:?}");
    let u = &unread[0];
    assert!(u.contains("quoted-mode.yaml"), "{u}");
    assert!(u.contains("document 3"), "{u}");
    assert!(
        u.contains("spec.template.spec.volumes[0].secret.defaultMode"),
        "{u}"
    );
    assert!(u.contains("string"), "{u}");
    assert_eq!(code, 1, "{r:#}");
    assert!(r["chains"].as_array().expect("chains").is_empty(), "{r:#}");

    // The same file with the mode plain: read, one chain.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    let plain = write(
        dir.path(),
        "plain.yaml",
        &text.replace("defaultMode: \"0400\"", "defaultMode: 0400"),
    );
    let (_, r) = check(&[&plain]);
    assert!(unread_is_empty(&r), "{:?}", r["unread"]);
    assert_eq!(r["chains"].as_array().expect("chains").len(), 1, "{r:#}");
}

fn unread_is_empty(r: &Value) -> bool {
    r["unread"].as_array().is_some_and(Vec::is_empty)
}

/// A kustomize tree: a base (a healthy chain) and an overlay whose patch files hold only what
/// they change (an SPC with `keyvaultName` alone, a Deployment with a container's resources
/// alone, a list of JSON-patch operations). kustomize merges them into the resources it
/// renders (kustomization fields `patches`, `patchesStrategicMerge`, `patchesJson6902`);
/// `kubectl apply -k` never sends a patch as it is. Read as objects they gave errors of a
/// second, broken SecretProviderClass (no provider, no tenant, no objects) that exists nowhere.
/// Each patch is listed as not read naming its kustomization and the command that checks the
/// rendered overlay. The base is what the patches change (its SPC's vault, its Deployment's
/// replicas): read as written it would be diagnosed as it is never applied, so it is not read
/// either, naming the overlay's patches and the same command (audit UUU-real; it was diagnosed
/// as written); exit 1 (documents not read).
#[test]
fn kustomize_patches_are_set_aside_not_read_as_broken_objects() {
    let dir = fixture("kustomize");
    let (code, r) = check(&[&dir]);
    let found = codes(&r);
    for code in ["KVC104", "KVC302", "KVC705", "KVC307"] {
        assert!(!found.contains(&code.to_string()), "{code}: {found:?}");
    }
    let unread = unread(&r);
    for patch in ["vault-patch.yaml", "resources-patch.yaml", "image-ops.yaml"] {
        let u = unread
            .iter()
            .find(|u| u.contains(patch))
            .unwrap_or_else(|| panic!("{patch} not listed: {unread:?}"));
        assert!(u.contains("a kustomize patch"), "{u}");
        assert!(
            u.contains("overlays/prod/kustomization.yaml names it"),
            "{u}"
        );
        assert!(u.contains("kubectl kustomize "), "{u}");
        assert!(u.contains("overlays/prod | kvchain check -f -"), "{u}");
    }
    let base = unread
        .iter()
        .find(|u| u.contains("base/app.yaml: "))
        .unwrap_or_else(|| panic!("base not listed: {unread:?}"));
    assert!(
        base.contains("patches (target Deployment/api)")
            && base.contains("overlays/prod | kvchain check -f -"),
        "{base}"
    );
    assert_eq!(unread.len(), 4, "{unread:?}");
    let chains = r["chains"].as_array().expect("chains");
    assert!(chains.is_empty(), "{r:#}");
    assert!(
        r["spcs"].as_array().is_none_or(Vec::is_empty),
        "{:#}",
        r["spcs"]
    );
    assert_eq!(code, 1);
}

/// envFrom of Secrets whose keys are no C identifier (`1st.db.password` synced by the SPC,
/// `2nd-token` in a Secret read with prefix `9x.`). Before Kubernetes 1.32 the kubelet skipped
/// such keys with an InvalidEnvironmentVariableNames event; RelaxedEnvironmentVariableValidation
/// (beta and on by default in 1.32, GA and locked on in 1.34: kubernetes#132054) admits any
/// printable ASCII name but `=`, and the kubelet sets every key (its makeEnvironmentVariables
/// tests dropped the skipped-keys case). Every Secret key (`[-._a-zA-Z0-9]+`) is such a name,
/// so nothing is to be said about them: only the chain's own finding (KVC902, env readers
/// without a restarter) remains, exit 0, and the Secret's value is never printed.
#[test]
fn env_from_keys_that_are_no_c_identifier_are_not_flagged() {
    let file = fixture("relaxed-env-names.yaml");
    let (code, r) = check(&[&file]);
    assert_eq!(codes(&r), ["KVC902"], "{r:#}");
    assert_eq!(code, 0, "{r:#}");
    let text = String::from_utf8(run(&[&file], "text").stdout).unwrap();
    assert!(
        !text.to_lowercase().contains("environment variable name"),
        "{text}"
    );
    assert!(!text.contains("InvalidEnvironmentVariableNames"), "{text}");
}

/// An apps/v1 Deployment without `spec.selector`, and one whose selector does not select its
/// own template. Kubernetes' apps validation refuses both (`spec.selector: Required value`;
/// `spec.template.metadata.labels: Invalid value: …: `selector` does not match template
/// `labels``), so `kubectl apply` creates no Deployment and no pod mounts anything. They read
/// as a running chain (the typed value takes a missing selector as empty); each is now listed
/// as not read naming the field, and the exit status is 1.
#[test]
fn a_workload_whose_selector_the_api_server_refuses_is_not_diagnosed_as_running() {
    let text = std::fs::read_to_string(fixture("relaxed-env-names.yaml")).unwrap();
    let selector = "  selector:\n    matchLabels: {app: api}\n";
    assert!(text.contains(selector));
    let dir = tempfile::tempdir().unwrap();
    for (name, changed, field) in [
        (
            "none.yaml",
            text.replace(selector, ""),
            "spec.selector: Required value",
        ),
        (
            "other.yaml",
            text.replace(selector, "  selector:\n    matchLabels: {app: web}\n"),
            "spec.template.metadata.labels: Invalid value: `selector` does not match template `labels` (the template's labels lack app=web)",
        ),
    ] {
        let file = write(dir.path(), name, &changed);
        let (code, r) = check(&[&file]);
        let unread = unread(&r);
        assert_eq!(unread.len(), 1, "{unread:?}");
        assert!(
            unread[0].contains(&format!("{name}, document 3")),
            "{unread:?}"
        );
        assert!(unread[0].contains(field), "{unread:?}");
        assert!(r["chains"].as_array().expect("chains").is_empty(), "{r:#}");
        assert_eq!(code, 1);
    }
}

/// In manifests the synced Secret exists only at run time, so whether a reader holds its
/// current value is unknown: a CronJob's Consumers link reads "? Secret unknown". A Job's read
/// "✓ env" only because KVC902's info (a run reads the Secret once) was there: an info is no
/// verdict, so the Job's link reads unknown too, the info kept (audit SSS-real left it).
#[test]
fn an_info_finding_does_not_make_an_unknown_reader_ok() {
    let (_, r) = check(&[&fixture("job-env-reader.yaml")]);
    let chains = r["chains"].as_array().unwrap();
    assert_eq!(chains.len(), 1, "{r}");
    let consumers = (chains[0]["links"].as_array().unwrap().iter())
        .find(|l| l["link"] == "consumers")
        .unwrap();
    assert_eq!(consumers["status"], "unknown", "{consumers:#}");
    assert_eq!(consumers["summary"], "Secret unknown", "{consumers:#}");
    let kvc902: Vec<&Value> = (r["findings"].as_array().unwrap().iter())
        .filter(|f| f["code"] == "KVC902")
        .collect();
    assert_eq!(kvc902.len(), 1, "{r}");
    assert_eq!(kvc902[0]["severity"], "info", "{r}");
}
