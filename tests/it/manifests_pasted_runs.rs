//! `check -f` fixes run as pasted (bash, `kubectl` a stand-in that logs its calls, `$EDITOR` a
//! script making the edit the fix says), then the manifests checked again as the fix left
//! them: a Job's re-create from its file runs (audit PP5), and KVC103's rename beside an inline
//! key the SecretProviderClass lacks but the provider requires adds that key to the SPC first
//! (audit PP2).

use std::path::Path;

use serde_json::Value;

use crate::manifest_run::{ONE_OBJECT, SA, findings_of, spc};
use crate::paste_kit::{paste, sed_editor};

/// `check -f dir -n team-a -o json` (a document without metadata.namespace is team-a's).
fn check(dir: &Path) -> Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "-f"])
        .arg(dir)
        .args(["-n", "team-a", "-o", "json", "--fail-on", "never"])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).expect("json")
}

/// Job `migrate` of team-a whose volume kv has `attributes`, without metadata.namespace.
fn job(attributes: &str) -> String {
    format!(
        "apiVersion: batch/v1
kind: Job
metadata: {{name: migrate}}
spec:
  template:
    metadata: {{labels: {{app: w, azure.workload.identity/use: 'true'}}}}
    spec:
      serviceAccountName: app-sa
      restartPolicy: Never
      containers:
      - name: app
        image: busybox
        volumeMounts: [{{name: kv, mountPath: /mnt/kv, readOnly: true}}]
      volumes:
      - {{name: kv, csi: {{driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {{{attributes}}}}}}}
"
    )
}

/// Audit PP5: a Job's pod template is immutable, so its fix edits the file it came from and
/// re-creates the Job from it, as one command (a bare pod's shape), not a `#` note that runs
/// nothing when pasted. Pasted with an editor making the rename: the Job is deleted and
/// applied from its file with -n, and the file then gives no KVC103.
#[test]
fn a_jobs_re_create_from_its_file_runs_when_pasted() {
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared.yaml");
    let file = dir.path().join("job.yaml");
    std::fs::write(&shared, [SA, &spc("app-kv", "", ONE_OBJECT)].join("---\n")).unwrap();
    // Alone in its file: a file holding more is never applied whole (audit TT2).
    std::fs::write(&file, job("secretproviderclass: app-kv")).unwrap();
    let r = check(dir.path());
    let f = findings_of(&r, "KVC103");
    assert_eq!(f.len(), 1, "{r:#}");
    let fix = f[0]["fix"].as_str().unwrap();
    assert!(
        !fix.starts_with('#'),
        "a note runs nothing when pasted: {fix}"
    );
    let path = file.display().to_string();
    let tools = tempfile::tempdir().unwrap();
    let editor = sed_editor(tools.path(), "s/secretproviderclass:/secretProviderClass:/");
    let run = paste(&format!("EDITOR={editor}\n{fix}"), "", "");
    assert_eq!(
        run.called("kubectl"),
        [
            "kubectl [delete] [job] [migrate] [-n] [team-a] [--ignore-not-found]".to_string(),
            format!("kubectl [apply] [-n] [team-a] [-f] [{path}]"),
        ],
        "{}",
        run.stderr
    );
    let edited = std::fs::read_to_string(&file).unwrap();
    assert!(edited.contains("secretProviderClass: app-kv"), "{edited}");
    let r = check(dir.path());
    assert!(findings_of(&r, "KVC103").is_empty(), "{r:#}");
}

/// Bare pod `tool` (no metadata.namespace, alone in its file: one holding more is never
/// applied whole, audit TT2) whose volume kv has `attributes`.
fn bare_pod(attributes: &str) -> String {
    format!(
        "apiVersion: v1
kind: Pod
metadata:
  name: tool
  labels: {{app: tool, azure.workload.identity/use: 'true'}}
spec:
  serviceAccountName: app-sa
  containers:
  - name: app
    image: busybox
    volumeMounts: [{{name: kv, mountPath: /mnt/kv, readOnly: true}}]
  volumes:
  - {{name: kv, csi: {{driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {{{attributes}}}}}}}
"
    )
}

/// Audit PP2: the mis-cased secretProviderClass key names an SPC that exists but lacks
/// keyvaultName, which only the volume's inline key gives. Once the key is renamed the
/// inline keys go (the driver merges them over the SPC's parameters, FACTS §5), and without
/// keyvaultName the provider refuses the mount ("keyvaultName is not provided", FACTS §5:
/// required): the fix adds the volume's value to the SPC as a command, before the edit, not
/// as an option. An optional key (cloudName) keeps its offered patch. Pasted, the SPC patched
/// as kubectl would and the pod's file edited as the fix says: no finding is left.
#[test]
fn kvc103_adds_a_required_key_the_spc_lacks_before_the_volume_loses_it() {
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared.yaml");
    let file = dir.path().join("pod.yaml");
    let lacking = spc("app-kv", "", ONE_OBJECT).replace("    keyvaultName: kv-team-a\n", "");
    std::fs::write(&shared, [SA, &lacking].join("---\n")).unwrap();
    let inline =
        "SecretProviderClass: app-kv, keyvaultName: kv-team-a, cloudName: AzurePublicCloud";
    std::fs::write(&file, bare_pod(inline)).unwrap();
    let r = check(dir.path());
    let f = findings_of(&r, "KVC103");
    assert_eq!(f.len(), 1, "{r:#}");
    let fix = f[0]["fix"].as_str().unwrap();
    // The optional key is still offered, for when the volume's value is meant.
    assert!(
        fix.contains("app-kv does not set cloudName: if the volume's value is meant"),
        "{fix}"
    );
    let tools = tempfile::tempdir().unwrap();
    let editor = sed_editor(
        tools.path(),
        &format!("s/{inline}/secretProviderClass: app-kv/"),
    );
    let run = paste(&format!("EDITOR={editor}\n{fix}"), "", "");
    let calls = run.called("kubectl");
    let path = file.display().to_string();
    let patch = "{\"spec\":{\"parameters\":{\"keyvaultName\":\"kv-team-a\"}}}";
    assert_eq!(
        calls,
        [
            format!(
                "kubectl [patch] [secretproviderclass] [app-kv] [-n] [team-a] [--type] [merge] [-p] [{patch}]"
            ),
            "kubectl [delete] [pod] [tool] [-n] [team-a] [--ignore-not-found]".to_string(),
            format!("kubectl [apply] [-n] [team-a] [-f] [{path}]"),
        ],
        "{}",
        run.stderr
    );
    // The merge patch applied to the SPC's manifest, as the API server would.
    let body: Value = serde_json::from_str(patch).unwrap();
    let mut added = String::new();
    for (k, v) in body["spec"]["parameters"].as_object().unwrap() {
        added.push_str(&format!("    {k}: {v}\n"));
    }
    let patched = lacking.replace("  parameters:\n", &format!("  parameters:\n{added}"));
    std::fs::write(&shared, [SA, &patched].join("---\n")).unwrap();
    let edited = std::fs::read_to_string(&file).unwrap();
    assert!(
        edited.contains("volumeAttributes: {secretProviderClass: app-kv}"),
        "{edited}"
    );
    let r = check(dir.path());
    let codes: Vec<&str> = (r["findings"].as_array().unwrap().iter())
        .filter(|f| f["severity"] == "error")
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert!(codes.is_empty(), "{r:#}");
}
