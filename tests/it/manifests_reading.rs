//! How `kvchain check -f` reads manifests, as README "kvchain check" and the shipped pre-commit
//! hook describe it: `-f PATH…` (several paths after one `-f`, `-` for stdin), one bad document
//! costing only itself (kubectl decodes each `---` document on its own), YAML merge keys as
//! Kubernetes' YAML expands them, a directory's unreadable entries listed as not read, and
//! documents `kubectl apply` would refuse (an invalid namespace, a name that is no string, an
//! unquoted `{{ … }}`) listed naming the field and what it is.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn healthy(file: &str) -> String {
    std::fs::read_to_string(root().join("assets/examples/healthy").join(file)).expect("example")
}

/// The healthy `web` example cut at its `---`: (SecretProviderClass, Deployment).
fn web_documents() -> (String, String) {
    let web = healthy("web.yaml");
    let (spc, deployment) = web.split_once("\n---\n").expect("two documents");
    (format!("{spc}\n"), deployment.to_string())
}

fn kvchain_in(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kvchain");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("write stdin");
    }
    child.wait_with_output().expect("kvchain output")
}

/// Exit status and JSON report of `check … -o json` run in `dir`.
fn json_in(dir: &Path, args: &[&str], stdin: Option<&str>) -> (i32, serde_json::Value) {
    let mut all = args.to_vec();
    all.extend(["-o", "json"]);
    let out = kvchain_in(dir, &all, stdin);
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), report)
}

fn unread(report: &serde_json::Value) -> Vec<String> {
    report["unread"]
        .as_array()
        .expect("unread")
        .iter()
        .map(|u| u.as_str().expect("string").to_string())
        .collect()
}

fn codes(report: &serde_json::Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["code"].as_str().expect("code").to_string())
        .collect()
}

/// A directory holding `files` and the healthy example's ServiceAccounts.
fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("serviceaccounts.json"),
        healthy("serviceaccounts.json"),
    )
    .unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

/// README: "A document that cannot be read (invalid YAML, …) does not hide the verdicts on
/// the others: it is listed under `unread`". kubectl splits a stream on `---` lines and decodes
/// each document on its own, so the Deployment after a broken Secret is still applied — and
/// must still be diagnosed, whatever the YAML mistake.
#[test]
fn a_yaml_error_in_one_document_leaves_the_later_documents_read() {
    let (spc, deployment) = web_documents();
    let mistakes = [
        (
            "duplicate key",
            "stringData:\n  password: a\n  password: b\n",
        ),
        ("unclosed quote", "stringData:\n  password: 'abc\n"),
        ("unclosed flow", "stringData: {password: abc\n"),
        (
            "bad indent",
            "stringData:\n  password: abc\n    other: x: y\n",
        ),
        ("tab", "stringData:\n\tpassword: abc\n"),
    ];
    for (what, mistake) in mistakes {
        let secret = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s2\n  namespace: shop\n{mistake}"
        );
        let text = format!("{spc}---\n{secret}---\n{deployment}");
        let dir = dir_with(&[("app.yaml", &text)]);
        let (code, report) = json_in(dir.path(), &["check", "-f", "."], None);
        assert_eq!(report["summary"]["chains"], 1, "{what}: {report:#}");
        assert_eq!(report["chains"][0]["pod"], "web", "{what}");
        let left = unread(&report);
        assert_eq!(left.len(), 1, "{what}: exactly the bad document: {left:?}");
        assert!(
            left[0].starts_with("./app.yaml, document 2: invalid YAML at line "),
            "{what}: {}",
            left[0]
        );
        assert_eq!(
            code, 1,
            "{what}: an unread document makes the exit status 1"
        );
    }
}

/// The documents after a broken one are judged, not only read: a Deployment naming a
/// SecretProviderClass no file defines still gets its KVC101.
#[test]
fn a_broken_chain_after_a_bad_document_is_still_found() {
    let (spc, deployment) = web_documents();
    let other = deployment
        .replace("name: web\n", "name: api\n")
        .replace("\"web-kv\"", "\"api-kv\"");
    let text = format!("{spc}---\nkind: [unclosed\n---\n{other}");
    let dir = dir_with(&[("app.yaml", &text)]);
    let (code, report) = json_in(dir.path(), &["check", "-f", "."], None);
    assert!(codes(&report).contains(&"KVC101".to_string()), "{report:#}");
    assert_eq!(unread(&report).len(), 1, "{report:#}");
    assert_eq!(code, 1);
}

/// Kubernetes' YAML (go-yaml) expands `<<` merge keys, so `kubectl apply` gives the driver
/// `driver: secrets-store.csi.k8s.io, readOnly: true`: the healthy example written with
/// merge keys is as healthy, and an explicit key beats a merged one.
#[test]
fn merge_keys_are_expanded_as_kubernetes_yaml_does() {
    let (spc, deployment) = web_documents();
    let with_merges = deployment
        .replace(
            "  labels:\n    app: web\n  annotations:",
            "  labels: &lbl\n    app: web\n  annotations:",
        )
        .replace(
            "      labels:\n        app: web\n        azure.workload.identity/use: \"true\"",
            "      labels:\n        <<: *lbl\n        azure.workload.identity/use: \"true\"",
        )
        .replace(
            "        csi:\n          driver: secrets-store.csi.k8s.io\n          readOnly: true\n",
            "        csi:\n          <<: [{readOnly: true}, {driver: secrets-store.csi.k8s.io, readOnly: false}]\n",
        );
    assert_ne!(with_merges, deployment, "the test rewrote the example");
    assert!(with_merges.matches("<<:").count() == 2, "{with_merges}");
    let dir = dir_with(&[("app.yaml", &format!("{spc}---\n{with_merges}"))]);
    let (code, report) = json_in(dir.path(), &["check", "-f", "."], None);
    assert!(unread(&report).is_empty(), "{report:#}");
    assert!(codes(&report).is_empty(), "{report:#}");
    assert_eq!(report["summary"]["chains"], 1);
    assert_eq!(code, 0);
}

/// README limits: entries "met inside a directory" do not stop the run; "2 … when nothing
/// could be read". A stale symlink in `deploy/` is one unreadable file: listed as not read
/// (exit 1), the chains of the others still diagnosed.
#[test]
fn a_dangling_symlink_inside_a_directory_is_listed_not_fatal() {
    let dir = dir_with(&[("web.yaml", &healthy("web.yaml"))]);
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::os::unix::fs::symlink("/nonexistent/x.yaml", dir.path().join("old-link.yaml")).unwrap();
    std::os::unix::fs::symlink("missing.yml", dir.path().join("sub/l.yml")).unwrap();
    let (code, report) = json_in(dir.path(), &["check", "-f", "."], None);
    assert_eq!(report["summary"]["chains"], 1, "{report:#}");
    let left = unread(&report);
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(
        left.iter().any(|u| u.contains("old-link.yaml"))
            && left.iter().any(|u| u.contains("l.yml")),
        "{left:?}"
    );
    assert_eq!(code, 1);
}

/// A subdirectory kvchain may not list is not "nothing could be read" either. (Skipped when
/// run as root, who may list it anyway.)
#[test]
fn an_unlistable_subdirectory_is_listed_not_fatal() {
    use std::os::unix::fs::PermissionsExt;
    let dir = dir_with(&[("web.yaml", &healthy("web.yaml"))]);
    let sub = dir.path().join("locked");
    std::fs::create_dir(&sub).unwrap();
    std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o000)).unwrap();
    let listable = std::fs::read_dir(&sub).is_ok();
    let result = (!listable).then(|| json_in(dir.path(), &["check", "-f", "."], None));
    std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o755)).unwrap();
    let Some((code, report)) = result else {
        eprintln!("skipped: this user may list a mode-000 directory");
        return;
    };
    assert_eq!(report["summary"]["chains"], 1, "{report:#}");
    let left = unread(&report);
    assert!(
        left.len() == 1 && left[0].contains("locked") && left[0].contains("cannot list"),
        "{left:?}"
    );
    assert_eq!(code, 1);
}

/// README: a FIFO inside a directory "is skipped with `kvchain: warning: skipping PATH: a FIFO`"
/// — one warning, however many passes the run makes over the files.
#[test]
fn a_fifo_inside_a_directory_is_warned_about_once() {
    let dir = dir_with(&[("web.yaml", &healthy("web.yaml"))]);
    let made = Command::new("mkfifo")
        .arg(dir.path().join("pipe.yaml"))
        .status()
        .is_ok_and(|s| s.success());
    if !made {
        eprintln!("skipped: no mkfifo");
        return;
    }
    let out = kvchain_in(dir.path(), &["check", "-f", "."], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.matches("skipping ./pipe.yaml").count(),
        1,
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

/// `assets/ci/pre-commit-config.yaml` runs its `entry` with the changed files appended
/// (`pass_filenames: true`), and "kvchain reads every file it is given together": the
/// Deployment and its SecretProviderClass in two files are joined into one chain.
#[test]
fn the_shipped_pre_commit_hook_checks_several_files_together() {
    let config = std::fs::read_to_string(root().join("assets/ci/pre-commit-config.yaml")).unwrap();
    let entry = config
        .lines()
        .find_map(|l| l.trim().strip_prefix("entry: "))
        .expect("the hook's entry");
    assert!(config.contains("pass_filenames: true"));
    let (spc, deployment) = web_documents();
    let dir = dir_with(&[("spc.yaml", &spc), ("web.yaml", &deployment)]);
    let mut args: Vec<&str> = entry.split_whitespace().skip(1).collect(); // without `kvchain`
    args.extend(["spc.yaml", "web.yaml", "serviceaccounts.json"]);
    let out = kvchain_in(dir.path(), &args, None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("1 chain,"), "{stdout}");
}

/// README: `-f -` reads standard input, as kubectl does, joined with the other paths.
#[test]
fn dash_reads_standard_input() {
    let dir = dir_with(&[]);
    let (code, report) = json_in(
        dir.path(),
        &["check", "-f", "-", "serviceaccounts.json"],
        Some(&healthy("web.yaml")),
    );
    assert_eq!(report["summary"]["chains"], 1, "{report:#}");
    assert!(codes(&report).is_empty(), "{report:#}");
    assert_eq!(code, 0);
    // A bad document on stdin is named as stdin's.
    let (code, report) = json_in(
        dir.path(),
        &["check", "-f", "-", "serviceaccounts.json"],
        Some(&format!("{}---\nkind: [\n", healthy("web.yaml"))),
    );
    let left = unread(&report);
    assert!(
        left.len() == 1 && left[0].starts_with("<stdin>, document 3: invalid YAML"),
        "{left:?}"
    );
    assert_eq!(code, 1);
}

/// `--for` is lab time (help: "With --lab"): with manifests nothing runs, so it is a usage
/// error that says why, not a flag silently ignored.
#[test]
fn for_with_manifests_is_a_usage_error_saying_why() {
    let dir = dir_with(&[("web.yaml", &healthy("web.yaml"))]);
    let out = kvchain_in(dir.path(), &["check", "--for", "3m", "-f", "."], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--for") && stderr.contains("--lab") && stderr.contains("-f"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

/// README: "Documents `kubectl apply` would refuse are listed as not read, naming the field".
/// A namespace is a DNS-1123 label: `Shop_Prod` (or one holding an escape code) cannot exist,
/// so nothing placed in it is applied and no fix naming it can work. Never a healthy verdict.
#[test]
fn an_invalid_namespace_is_listed_as_not_read_naming_the_field() {
    let (spc, deployment) = web_documents();
    // (as written in YAML, as said in the report)
    for (ns, shown) in [
        ("Shop_Prod", "\"Shop_Prod\""),
        ("sh\\x1b[5mop", "\"sh\\u{1b}[5mop\""),
    ] {
        let bad = format!("{spc}---\n{deployment}")
            .replace("namespace: shop", &format!("namespace: \"{ns}\""));
        // A valid second app beside it keeps the run going (exit 1, not 2).
        let dir = dir_with(&[("bad.yaml", &bad), ("good.yaml", &healthy("web.yaml"))]);
        let (code, report) = json_in(
            dir.path(),
            &[
                "check",
                "-f",
                "bad.yaml",
                "good.yaml",
                "serviceaccounts.json",
            ],
            None,
        );
        let left = unread(&report);
        assert_eq!(left.len(), 2, "{ns:?}: both documents refused: {left:?}");
        for u in &left {
            assert!(
                u.contains(&format!(
                    "metadata.namespace: {shown} is no valid namespace"
                )),
                "{u}"
            );
            assert!(!u.contains('\u{1b}'), "no raw escape: {u:?}");
        }
        assert_eq!(
            report["summary"]["chains"], 1,
            "only the valid app: {report:#}"
        );
        assert!(
            report["chains"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["namespace"] == "shop"),
            "{report:#}"
        );
        assert_eq!(code, 1);
    }
}

/// README: a namespace still a template placeholder (`$SA_NAMESPACE`, a guide's heredoc saved
/// before envsubst) is reported once as unrendered (KVC306, with the SPC's other template
/// values), and the files that all say it are still read as one namespace; no kubectl command
/// names the SecretProviderClass in a namespace that cannot exist.
#[test]
fn a_placeholder_namespace_is_said_unrendered_and_still_read_as_one() {
    let (spc, deployment) = web_documents();
    let unrendered =
        format!("{spc}---\n{deployment}").replace("namespace: shop", "namespace: $SA_NAMESPACE");
    let sas = healthy("serviceaccounts.json").replace("\"shop\"", "\"$SA_NAMESPACE\"");
    let dir = dir_with(&[("web.yaml", &unrendered), ("serviceaccounts.json", &sas)]);
    let (_, report) = json_in(dir.path(), &["check", "-f", "."], None);
    assert!(unread(&report).is_empty(), "{report:#}");
    let f = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "KVC306")
        .unwrap_or_else(|| panic!("no KVC306: {report:#}"));
    assert!(
        f["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == "metadata.namespace: $SA_NAMESPACE"),
        "{f:#}"
    );
    assert_eq!(f["confirm"], "grep -rn -F '$SA_NAMESPACE' .");
    assert!(f["fix"].as_str().unwrap().starts_with("# "), "{f:#}");
    // The SA and the SPC are found in the namespace the Deployment names: no KVC101/KVC202.
    let found = codes(&report);
    assert!(
        !found.iter().any(|c| c == "KVC101" || c == "KVC202"),
        "{found:?}"
    );
}

/// README: input errors name the field path, and a wrong-typed value is never echoed. A name
/// that is a number, or an unquoted `{{ … }}` (YAML reads it as a nested mapping; kubectl
/// refuses the document), is said as what it is — not "missing or empty" — and a typed field
/// holding an unquoted template says it is an unrendered Helm template.
#[test]
fn a_name_or_field_of_the_wrong_kind_is_said_as_what_it_is() {
    let (spc, deployment) = web_documents();
    let cases = [
        (
            spc.replace("name: web-kv", "name: 12345"),
            "metadata.name: is a number, not a string",
        ),
        (
            spc.replace("name: web-kv", "name: {{ .Values.spcName }}"),
            "metadata.name: is an unrendered template",
        ),
        (
            deployment
                .replace("name: web\n", "name: api\n")
                .replace("replicas: 2", "replicas: {{ .Values.replicas }}"),
            "spec.replicas: is an unrendered template",
        ),
    ];
    for (doc, said) in cases {
        // Beside the healthy app (another object of the same kind and name would replace it).
        let dir = dir_with(&[("bad.yaml", &doc), ("good.yaml", &healthy("web.yaml"))]);
        let (code, report) = json_in(dir.path(), &["check", "-f", "."], None);
        let left = unread(&report);
        assert_eq!(left.len(), 1, "{left:?}");
        assert!(left[0].contains(said), "{said}: {}", left[0]);
        assert!(!left[0].contains("missing or empty"), "{}", left[0]);
        assert!(
            !left[0].contains("12345") && !left[0].contains(".Values"),
            "{}",
            left[0]
        );
        if said.contains("template") {
            assert!(left[0].contains("Helm"), "{}", left[0]);
        }
        assert_eq!(code, 1);
    }
}
