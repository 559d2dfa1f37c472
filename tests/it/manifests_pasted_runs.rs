//! `check -f` fixes run as pasted (bash, `kubectl` a stand-in that logs its calls, `$EDITOR` a
//! script making the edit the fix says), then the manifests checked again as the fix left
//! them: a Job's re-create from its file runs (audit PP5).

use std::path::Path;

use serde_json::Value;

use crate::manifest_run::{ONE_OBJECT, SA, findings_of, spc};
use crate::paste_kit::paste;

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

/// An executable `$EDITOR` in `dir` that runs `sed -i <script>` on the file it is given.
fn sed_editor(dir: &Path, script: &str) -> String {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join("editor.sh");
    std::fs::write(&p, format!("#!/bin/bash\nsed -i '{script}' \"$1\"\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p.display().to_string()
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
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: b}\n";
    std::fs::write(
        &file,
        [cm, &job("secretproviderclass: app-kv")].join("---\n"),
    )
    .unwrap();
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
