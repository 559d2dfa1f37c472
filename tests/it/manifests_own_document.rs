//! Audit TT2: a bare Pod's or a Job's re-create in `check -f` applies the object's own
//! document only. `kubectl apply -f FILE` re-applies every object of the file as written: an
//! SPC still a template (`$KEYVAULT_NAME`, KVC306 in the same run) would overwrite the
//! rendered live one (FACTS §5: the next mount fails, `Invalid vault name`), a ServiceAccount
//! undo another fix's `kubectl annotate --overwrite`. A file holding the object alone is
//! edited and applied; otherwise the live pod is edited and replaced.

use std::path::Path;

use serde_json::Value;

use crate::manifest_run::{ONE_OBJECT, SA, findings_of, spc};
use crate::paste_kit::{paste, sed_editor};

fn check(dir: &Path) -> Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "-f"])
        .arg(dir)
        .args(["-o", "json", "--fail-on", "never"])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).expect("json")
}

/// Bare pod `tool` of team-a with SPC volume kv that no container mounts (KVC707).
const POD: &str = "apiVersion: v1
kind: Pod
metadata: {name: tool, namespace: team-a, labels: {azure.workload.identity/use: 'true'}}
spec:
  serviceAccountName: app-sa
  containers:
  - name: app
    image: busybox
  volumes:
  - {name: kv, csi: {driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {secretProviderClass: app-kv}}}
";

/// Job `migrate` of team-a, the same volume unmounted.
const JOB: &str = "apiVersion: batch/v1
kind: Job
metadata: {name: migrate, namespace: team-a}
spec:
  template:
    metadata: {labels: {azure.workload.identity/use: 'true'}}
    spec:
      serviceAccountName: app-sa
      restartPolicy: Never
      containers:
      - name: app
        image: busybox
      volumes:
      - {name: kv, csi: {driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {secretProviderClass: app-kv}}}
";

/// The pod beside an SPC whose vault name is a placeholder (KVC306): the KVC707 fix, pasted,
/// never applies the file (nor names it): it edits the live pod and replaces it.
#[test]
fn a_pods_recreate_never_applies_a_file_holding_an_unrendered_spc() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("all.yaml");
    let template = spc("app-kv", "", ONE_OBJECT).replace("kv-team-a", "\"$KEYVAULT_NAME\"");
    std::fs::write(&file, [SA, &template, POD].join("---\n")).unwrap();
    let r = check(dir.path());
    assert_eq!(findings_of(&r, "KVC306").len(), 1, "{r:#}");
    let f = findings_of(&r, "KVC707");
    assert_eq!(f.len(), 1, "{r:#}");
    let fix = f[0]["fix"].as_str().unwrap();
    let path = file.display().to_string();
    assert!(!fix.contains(&path), "names the shared file: {fix}");
    // Pasted where the user keeps a file named after the pod (audit UU2: the fix wrote the
    // live pod's YAML over it): that file is left as it was.
    let cwd = tempfile::tempdir().unwrap();
    let mine = cwd.path().join("tool.yaml");
    std::fs::write(&mine, "# the user's own manifest\n").unwrap();
    let run = paste(
        &format!("cd {}\nEDITOR=true\n{fix}", cwd.path().display()),
        "",
        "",
    );
    let calls = run.called("kubectl");
    assert!(
        !calls.iter().any(|c| c.starts_with("kubectl [apply]")),
        "{calls:?}"
    );
    assert_eq!(calls.len(), 2, "{calls:?} {}", run.stderr);
    assert_eq!(
        calls[0],
        "kubectl [get] [pod] [tool] [-n] [team-a] [-o] [yaml]"
    );
    let replaced = calls[1].strip_prefix("kubectl [replace] [--force] [-f] [");
    let replaced = replaced.and_then(|r| r.strip_suffix("/tool.yaml]"));
    assert!(
        replaced
            .is_some_and(|dir| !dir.is_empty() && !dir.starts_with(&*cwd.path().to_string_lossy())),
        "replaced from the working directory: {calls:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&mine).unwrap(),
        "# the user's own manifest\n"
    );
}

/// The pod alone in its file (the SPC and SA in another): the edit is made in the file and the
/// pod re-created from it; pasted with an editor adding the mount, the finding is gone.
#[test]
fn a_pod_alone_in_its_file_is_edited_there() {
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared.yaml");
    let file = dir.path().join("pod.yaml");
    std::fs::write(&shared, [SA, &spc("app-kv", "", ONE_OBJECT)].join("---\n")).unwrap();
    std::fs::write(&file, POD).unwrap();
    let r = check(dir.path());
    let f = findings_of(&r, "KVC707");
    assert_eq!(f.len(), 1, "{r:#}");
    let fix = f[0]["fix"].as_str().unwrap();
    let path = file.display().to_string();
    let tools = tempfile::tempdir().unwrap();
    let editor = sed_editor(
        tools.path(),
        r"s|    image: busybox|    image: busybox\n    volumeMounts: [{name: kv, mountPath: /mnt/kv, readOnly: true}]|",
    );
    let run = paste(&format!("EDITOR={editor}\n{fix}"), "", "");
    assert_eq!(
        run.called("kubectl"),
        [
            "kubectl [delete] [pod] [tool] [-n] [team-a] [--ignore-not-found]".to_string(),
            format!("kubectl [apply] [-n] [team-a] [-f] [{path}]"),
        ],
        "{}",
        run.stderr
    );
    let r = check(dir.path());
    assert!(findings_of(&r, "KVC707").is_empty(), "{r:#}");
}

/// A Job beside other objects: its re-create names no `apply -f` of that file (which would
/// re-apply the SPC template too) but the Job's document alone.
#[test]
fn a_jobs_recreate_never_applies_a_file_holding_other_objects() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("all.yaml");
    let template = spc("app-kv", "", ONE_OBJECT).replace("kv-team-a", "\"$KEYVAULT_NAME\"");
    std::fs::write(&file, [SA, &template, JOB].join("---\n")).unwrap();
    let r = check(dir.path());
    let f = findings_of(&r, "KVC707");
    assert_eq!(f.len(), 1, "{r:#}");
    let fix = f[0]["fix"].as_str().unwrap();
    let path = file.display().to_string();
    assert!(!fix.contains(&format!("-f {path}")), "{fix}");
    assert!(
        fix.contains("re-create the Job from its document alone"),
        "{fix}"
    );
    let run = paste(&format!("EDITOR=true\n{fix}"), "", "");
    assert!(
        !(run.calls.iter()).any(|c| c.starts_with("kubectl [apply]")),
        "{:?}",
        run.calls
    );
}

/// Audit TT2's rule for every fix that edits a manifest file (here KVC104's, spec.provider
/// `Azure`): the file is applied only when it holds that SPC alone. Beside other objects (a
/// pod, a ServiceAccount) the live SPC is patched, the file named for the same change, and
/// pasted nothing applies the file; alone, the edit is made in the file and applied, and
/// with it made the finding is gone.
#[test]
fn an_spcs_file_edit_applies_the_file_only_when_it_holds_the_spc_alone() {
    let cased = spc("app-kv", "", ONE_OBJECT).replace("provider: azure", "provider: Azure");
    let pod = POD.replace(
        "    image: busybox\n",
        "    image: busybox\n    volumeMounts: [{name: kv, mountPath: /mnt/kv, readOnly: true}]\n",
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("all.yaml");
    std::fs::write(&file, [SA, &cased, &pod].join("---\n")).unwrap();
    let f = findings_of(&check(dir.path()), "KVC104");
    assert_eq!(f.len(), 1, "{f:#?}");
    let fix = f[0]["fix"].as_str().unwrap();
    let run = paste(&format!("EDITOR=true\n{fix}"), "", "");
    assert_eq!(
        run.called("kubectl"),
        [
            "kubectl [patch] [secretproviderclass] [app-kv] [-n] [team-a] [--type] [merge] [-p] [{\"spec\":{\"provider\":\"azure\"}}]"
        ],
        "{fix}"
    );
    assert!(
        fix.contains(&format!("the same change in {}", file.display())),
        "{fix}"
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("spc.yaml");
    std::fs::write(dir.path().join("app.yaml"), [SA, &pod].join("---\n")).unwrap();
    std::fs::write(&file, &cased).unwrap();
    let f = findings_of(&check(dir.path()), "KVC104");
    assert_eq!(f.len(), 1, "{f:#?}");
    let fix = f[0]["fix"].as_str().unwrap();
    let path = file.display().to_string();
    let tools = tempfile::tempdir().unwrap();
    let editor = sed_editor(tools.path(), "s|provider: Azure|provider: azure|");
    let run = paste(&format!("EDITOR={editor}\n{fix}"), "", "");
    assert_eq!(
        run.called("kubectl"),
        [format!("kubectl [apply] [-f] [{path}]")],
        "{fix}"
    );
    assert!(findings_of(&check(dir.path()), "KVC104").is_empty());
}
