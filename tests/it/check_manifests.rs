//! `kvchain check -f`: the binary's exit codes and output contract on the shipped examples,
//! the upstream example manifests, bad input and a planted canary secret.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kvchain::chain::{Code, LinkKind, Status, diagnose};
use kvchain::source::manifests;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn kvchain(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("run kvchain")
}

fn json(args: &[&str]) -> (i32, serde_json::Value) {
    let out = kvchain(args);
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), v)
}

fn codes(report: &serde_json::Value) -> BTreeSet<String> {
    report["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| f["code"].as_str().expect("code").to_string())
        .collect()
}

#[test]
fn healthy_examples_exit_0_with_no_findings() {
    let (code, report) = json(&["check", "-f", "assets/examples/healthy", "-o", "json"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["source"], "manifests");
    assert!(codes(&report).is_empty(), "{:#}", report["findings"]);
    let chains = report["chains"].as_array().expect("chains");
    assert_eq!(chains.len(), 2);
    for c in chains {
        for key in ["id", "namespace", "pod", "workload", "spc", "links"] {
            assert!(c.get(key).is_some(), "chain lacks {key}: {c:#}");
        }
        let links: Vec<&str> = c["links"]
            .as_array()
            .expect("links")
            .iter()
            .map(|l| l["link"].as_str().expect("link"))
            .collect();
        let expected: Vec<&str> = LinkKind::ALL.iter().map(|l| l.as_str()).collect();
        assert_eq!(links, expected);
        // Runtime and Azure links are not knowable from files: never "broken", never "ok".
        for l in c["links"].as_array().expect("links") {
            let name = l["link"].as_str().expect("link");
            if ["identity", "federation", "access", "vaultObject", "mount"].contains(&name) {
                let st = l["status"].as_str().expect("status");
                assert!(st == "unknown" || st == "pending", "{name}: {l}");
                assert!(!l["summary"].as_str().expect("summary").is_empty());
            }
        }
    }
}

#[test]
fn broken_examples_exit_1_and_name_every_planted_mistake() {
    let (code, report) = json(&["check", "-f", "assets/examples/broken", "-o", "json"]);
    assert_eq!(code, 1);
    let expected: BTreeSet<String> = [
        "KVC101", "KVC102", "KVC103", "KVC201", "KVC202", "KVC203", "KVC204", "KVC302", "KVC303",
        "KVC603", "KVC705", "KVC706", "KVC801", "KVC803", "KVC804", "KVC806", "KVC902", "KVC903",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(codes(&report), expected);
    for f in report["findings"].as_array().expect("findings") {
        for key in [
            "code",
            "severity",
            "link",
            "namespace",
            "resource",
            "message",
            "evidence",
            "confirm",
            "fix",
        ] {
            assert!(f.get(key).is_some(), "finding lacks {key}: {f:#}");
        }
        let code = Code::parse(f["code"].as_str().expect("code")).expect("known code");
        assert_eq!(f["link"], code.link().as_str());
        assert!(!f["confirm"].as_str().expect("confirm").is_empty());
        assert!(!f["fix"].as_str().expect("fix").is_empty());
        assert!(
            !f["evidence"].as_array().expect("evidence").is_empty(),
            "{f:#}"
        );
    }
}

#[test]
fn findings_name_the_real_objects() {
    let (_, report) = json(&["check", "-f", "assets/examples/broken", "-o", "json"]);
    let find = |code: &str| {
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| f["code"] == code)
            .unwrap_or_else(|| panic!("{code} missing"))
            .clone()
    };
    let f = find("KVC101");
    assert_eq!(f["resource"], "SecretProviderClass/order-kv");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("did you mean orders-kv")
    );
    assert!(
        f["fix"]
            .as_str()
            .unwrap()
            .contains("kubectl edit deployment/orders -n shop")
    );
    let f = find("KVC801");
    assert!(
        f["fix"]
            .as_str()
            .unwrap()
            .contains("objectName: signing-key"),
        "{f:#}"
    );
    let f = find("KVC204");
    assert!(
        f["fix"]
            .as_str()
            .unwrap()
            .contains("client-id=0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4e"),
        "{f:#}"
    );
    let f = find("KVC903");
    assert_eq!(f["resource"], "CronJob/exporter");
}

#[test]
fn text_output_groups_by_namespace_and_workload_without_colour_when_asked() {
    let out = kvchain(&["check", "-f", "assets/examples/broken", "--no-color"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(!text.contains('\x1b'), "no ANSI escapes with --no-color");
    assert!(text.contains("namespace shop"));
    assert!(text.contains("Deployment/orders"));
    assert!(text.contains("StatefulSet/ledger"));
    assert!(text.contains("KVC101 error"));
    assert!(text.contains("confirm:"));
}

#[test]
fn invalid_yaml_is_reported_naming_file_document_and_line_and_the_rest_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: ok\n---\nkind: Pod\nmetadata: {name: [\n",
    )
    .expect("write");
    // Document 1 was read: not an input error (issue 18), but the verdict is incomplete.
    let (code, report) = json(&[
        "check",
        "-f",
        bad.to_str().expect("utf-8 path"),
        "-o",
        "json",
    ]);
    assert_eq!(code, 1);
    let unread = report["unread"][0].as_str().expect("unread entry");
    assert!(unread.contains("bad.yaml"), "{unread}");
    assert!(unread.contains("document 2"), "{unread}");
    assert!(unread.contains("line "), "{unread}");
}

#[test]
fn wrong_field_type_exits_2_naming_the_object() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("deploy.yaml");
    std::fs::write(
        &bad,
        "# comment\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: many\n",
    )
    .expect("write");
    let out = kvchain(&["check", "-f", bad.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("deploy.yaml, document 1"), "{err}");
    assert!(err.contains("Deployment/web"), "{err}");
}

#[test]
fn missing_path_exits_2() {
    let out = kvchain(&["check", "-f", "does/not/exist.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does/not/exist.yaml"));
}

#[test]
fn canary_secret_value_never_appears_in_any_output() {
    let canary = "CANARY-kvchain-7f3a9c";
    let b64 = "Q0FOQVJZLWt2Y2hhaW4tN2YzYTlj"; // base64 of the canary
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("secret.yaml"),
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: reports-db\n  namespace: shop\ntype: Opaque\ndata:\n  password: {b64}\nstringData:\n  other: {canary}\n"
        ),
    )
    .expect("write");
    let examples = root().join("assets/examples/broken");
    let secret_dir = dir.path().to_str().expect("utf-8");
    for output in ["text", "json"] {
        let out = kvchain(&[
            "check",
            "-f",
            examples.to_str().expect("utf-8"),
            "-f",
            secret_dir,
            "-o",
            output,
        ]);
        assert_eq!(out.status.code(), Some(1));
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains(canary), "{output} output leaks the canary");
        assert!(
            !all.contains(b64),
            "{output} output leaks the encoded canary"
        );
    }
}

#[test]
fn lists_json_files_and_unknown_kinds() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("list.json"),
        r#"{"apiVersion":"v1","kind":"List","items":[
            {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}},
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"a"},
             "spec":{"containers":[{"name":"c","image":"i"}],
                     "volumes":[{"name":"v","csi":{"driver":"secrets-store.csi.k8s.io","readOnly":true,
                                 "volumeAttributes":{"secretProviderClass":"missing"}}}]}}]}"#,
    )
    .expect("write");
    std::fs::write(dir.path().join("notes.txt"), "not yaml: [").expect("write");
    let snap = manifests::load(&[dir.path().to_path_buf()]).expect("loads");
    assert_eq!(snap.pods.items.len(), 1);
    let chains = diagnose(&snap);
    assert_eq!(chains.len(), 1);
    let c = &chains[0];
    // No SPC of that name in any given file: unknown offline, a warning (issue 18).
    assert_eq!(c.link(LinkKind::Pod).status, Status::Warning);
    assert!(c.findings().any(|f| f.code == Code::KVC101));
    // A bare Pod manifest: no runtime state, the mount is unknown, not broken.
    assert_eq!(c.link(LinkKind::Mount).status, Status::Pending);
}

#[test]
fn upstream_example_manifests_load_and_never_report_runtime_objects_missing() {
    let upstream = root().join("../shared/upstream/examples/k8s");
    if !Path::new(&upstream).exists() {
        panic!("CI runs with ../shared beside the project");
    }
    let snap = manifests::load(&[upstream]).expect("upstream examples load");
    // Six SecretProviderClass documents; spc-azure-wi-synck8s.yaml keeps the driver's e2e
    // `apiVersion: $API_VERSION`, which kubectl apply cannot map to a served version: it is
    // listed as not read (README `check -f`), naming apiVersion.
    assert_eq!(snap.spcs.items.len(), 5);
    assert!(
        snap.source
            .unread
            .iter()
            .any(|u| u.contains("spc-azure-wi-synck8s.yaml")
                && u.contains("apiVersion: \"$API_VERSION\"")),
        "{:?}",
        snap.source.unread
    );
    let chains = diagnose(&snap);
    assert!(!chains.is_empty());
    for c in &chains {
        for f in c.findings() {
            assert!(
                !matches!(
                    f.code,
                    Code::KVC802 | Code::KVC701 | Code::KVC703 | Code::KVC901
                ),
                "runtime-only code from manifests: {f:#?}"
            );
        }
        assert_ne!(c.link(LinkKind::Mount).status, Status::Ok);
    }
}

#[test]
fn upstream_csidriver_without_token_requests_breaks_workload_identity_mounts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let shared = root().join("../shared/upstream");
    for f in [
        "crds/csidriver.yaml",
        "examples/k8s/pod-azure-wi-aks-doc.yaml",
        "examples/k8s/spc-azure-wi.yaml",
    ] {
        let src = shared.join(f);
        let name = src.file_name().expect("file name").to_owned();
        std::fs::copy(&src, dir.path().join(name)).expect("copy upstream example");
    }
    std::fs::write(
        dir.path().join("sa.yaml"),
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: workload-identity-sa\n  annotations:\n    azure.workload.identity/client-id: \"<client id of the Azure AD Application or user-assigned managed identity to use for workload identity>\"\n",
    )
    .expect("write");
    let snap = manifests::load(&[dir.path().to_path_buf()]).expect("loads");
    let chains = diagnose(&snap);
    assert_eq!(chains.len(), 1);
    let f = chains[0]
        .findings()
        .find(|f| f.code == Code::KVC105)
        .expect("the plain driver CSIDriver requests no token for api://AzureADTokenExchange");
    assert_eq!(f.resource, "CSIDriver/secrets-store.csi.k8s.io");
    // With the token requested (as the Azure provider's chart does) it is fine.
    let with_tokens = std::fs::read_to_string(dir.path().join("csidriver.yaml")).expect("read")
        + "  tokenRequests:\n  - audience: api://AzureADTokenExchange\n";
    std::fs::write(dir.path().join("csidriver.yaml"), with_tokens).expect("write");
    let snap = manifests::load(&[dir.path().to_path_buf()]).expect("loads");
    assert!(
        !diagnose(&snap)[0]
            .findings()
            .any(|f| f.code == Code::KVC105)
    );
}

/// The healthy examples moved to namespace `other`, in a directory of their own.
fn healthy_in_other_namespace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(root().join("assets/examples/healthy")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let moved = text
            .replace("namespace: shop", "namespace: other")
            .replace("\"namespace\": \"shop\"", "\"namespace\": \"other\"");
        std::fs::write(dir.path().join(path.file_name().unwrap()), moved).unwrap();
    }
    dir
}

fn namespaces(report: &serde_json::Value) -> BTreeSet<String> {
    report["chains"]
        .as_array()
        .expect("chains")
        .iter()
        .map(|c| c["namespace"].as_str().expect("namespace").to_string())
        .collect()
}

#[test]
fn namespace_flag_keeps_only_that_namespace_of_the_manifests() {
    let other = healthy_in_other_namespace();
    let other = other.path().to_str().unwrap();
    let both = [
        "check",
        "-f",
        "assets/examples/broken",
        "-f",
        other,
        "-o",
        "json",
    ];
    let (code, all) = json(&both);
    assert_eq!(code, 1);
    assert_eq!(namespaces(&all), ["other", "shop"].map(String::from).into());

    let (code, only) = json(&[&both[..], &["-n", "other"]].concat());
    assert_eq!(
        code, 0,
        "the broken ones are in shop: {:#}",
        only["findings"]
    );
    assert_eq!(namespaces(&only), ["other".to_string()].into());
    assert_eq!(only["chains"].as_array().unwrap().len(), 2);
    assert_eq!(only["summary"]["chains"], 2);
}

#[test]
fn namespace_flag_naming_nothing_in_the_input_exits_2() {
    let out = kvchain(&["check", "-f", "assets/examples/broken", "-n", "payments"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no object in namespace payments") && stderr.contains("shop"),
        "names the namespaces there are: {stderr}"
    );
}

#[test]
fn namespace_flag_filters_the_lab_too() {
    let (code, shop) = json(&["check", "--lab", "default", "-n", "shop", "-o", "json"]);
    assert_eq!(code, 1);
    assert_eq!(namespaces(&shop), ["shop".to_string()].into());
    let out = kvchain(&["check", "--lab", "default", "-n", "payments"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("namespace payments"), "{stderr}");
}

#[test]
fn demo_refuses_a_namespace_flag_and_says_how_to_filter() {
    let (code, stderr) = refused(&["demo", "-n", "shop"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains(":ns shop"), "{stderr}");
}

/// Run a TUI command line that must be refused before the TUI starts: its exit code and
/// stderr. One that started anyway is killed after 30 s, so it cannot hang the suite.
pub(crate) fn refused(args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(args)
        .current_dir(root())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run kvchain");
    let mut waited = 0;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        waited += 1;
        if waited > 300 {
            child.kill().unwrap();
            panic!("kvchain {args:?} started instead of refusing");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let out = child.wait_with_output().unwrap();
    (
        status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn json_says_what_manifests_cannot_show() {
    let (_, report) = json(&["check", "-f", "assets/examples/healthy", "-o", "json"]);
    let gaps = report["gaps"].as_array().expect("a gaps array");
    let kinds: BTreeSet<&str> = gaps.iter().map(|g| g["kind"].as_str().unwrap()).collect();
    // Run-time objects and the Azure side, never the pods or SPCs the files hold.
    assert!(
        kinds.contains("events") && kinds.contains("azure.vaults"),
        "{kinds:?}"
    );
    assert!(!kinds.contains("pods") && !kinds.contains("secretproviderclasses"));
    for g in gaps {
        assert!(
            g.get("namespace").is_some() && g["reason"].is_string(),
            "{g}"
        );
    }
}

/// A directory is one apply set: an SPC written in two files is what the later one says (as
/// after `kubectl apply -f dir`), the earlier is listed as not read, and a Deployment written
/// without a namespace beside a namespaced ServiceAccount and SPC is diagnosed in theirs (a
/// consumer of the SPC's synced Secret that mounts nothing is then named: KVC904: no pod in the files mounts the SPC).
#[test]
fn a_directory_is_one_apply_set_where_the_last_definition_wins() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spc = |vault: &str| {
        format!(
            "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {{name: kv, namespace: apps}}\nspec:\n  provider: azure\n  secretObjects: [{{secretName: app-secrets, type: Opaque, data: [{{objectName: db, key: db}}]}}]\n  parameters:\n    clientID: 2b4d6f8a-1c3e-4a5b-9d7f-0e2c4a6b8d0f\n    keyvaultName: {vault}\n    tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47\n    objects: |\n      array:\n        - |\n          objectName: db\n          objectType: secret\n"
        )
    };
    std::fs::write(dir.path().join("a-old.yaml"), spc("kv-old")).expect("write");
    std::fs::write(dir.path().join("b-new.yaml"), spc("kv-new")).expect("write");
    std::fs::write(
        dir.path().join("c-app.yaml"),
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app, namespace: apps}\n---\n\
apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\nspec:\n  selector: {matchLabels: {app: app}}\n  template:\n    metadata: {labels: {app: app}}\n    spec:\n      serviceAccountName: app\n      containers:\n      - name: app\n        image: app:1\n        env:\n        - name: DB\n          valueFrom: {secretKeyRef: {name: app-secrets, key: db}}\n",
    )
    .expect("write");
    let (code, r) = json(&["check", "-f", dir.path().to_str().unwrap(), "-o", "json"]);
    let unread: Vec<&str> = r["unread"]
        .as_array()
        .expect("unread")
        .iter()
        .filter_map(|u| u.as_str())
        .collect();
    assert_eq!(unread.len(), 1, "{unread:?}");
    assert!(
        unread[0].contains("a-old.yaml, document 1: SecretProviderClass apps/kv")
            && unread[0].contains("b-new.yaml, document 1"),
        "{}",
        unread[0]
    );
    assert_eq!(code, 1, "an unread definition fails the check");
    let spcs = r["spcs"].as_array().expect("spcs");
    assert_eq!(spcs.len(), 1, "{spcs:?}");
    assert_eq!(spcs[0]["vault"], "kv-new");
    let chains = r["chains"].as_array().expect("chains");
    assert_eq!(chains.len(), 1, "{chains:?}");
    assert_eq!(chains[0]["namespace"], "apps");
    let codes = codes(&r);
    assert!(codes.contains("KVC904"), "{codes:?}");
    let consumer = r["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["code"] == "KVC904")
        .expect("KVC904");
    assert!(
        consumer["message"]
            .as_str()
            .unwrap()
            .contains("no pod in the given manifests mounts it"),
        "{consumer}"
    );
}

const MOUNTING_POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: NAME}\nspec:\n  containers: [{name: c, image: i}]\n  volumes:\n  - name: v\n    csi: {driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {secretProviderClass: SPC}}\n---\n";

fn mounting(pod: &str, spc: &str) -> String {
    MOUNTING_POD.replace("NAME", pod).replace("SPC", spc)
}

/// The files define the SecretProviderClass, but its document could not be read (a parameter
/// of the wrong type; no `kind`): KVC101 says so, naming the file and why, and the fix is to
/// correct that document, not to apply "the file defining" it from elsewhere.
#[test]
fn an_unread_spc_document_is_what_kvc101_names_and_fixes() {
    let text = mounting("p", "kv")
        + &mounting("q", "kv2")
        + "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {name: kv}\nspec:\n  provider: azure\n  parameters: {keyvaultName: kv1, tenantID: t, usePodIdentity: false}\n---\n"
        + "apiVersion: secrets-store.csi.x-k8s.io/v1\nmetadata: {name: kv2}\nspec: {provider: azure}\n";
    let snap = manifests::load_str("one.yaml", &text).expect("loads");
    assert_eq!(snap.source.unread.len(), 2, "{:?}", snap.source.unread);
    assert!(
        snap.source.unread[1].contains("one.yaml, document 4")
            && snap.source.unread[1].contains("kind: missing"),
        "{:?}",
        snap.source.unread
    );
    let chains = diagnose(&snap);
    for (pod, why) in [
        (
            "p",
            "spec.parameters.usePodIdentity: the API server refuses the document (kubectl apply says: The SecretProviderClass \"kv\" is invalid: spec.parameters.usePodIdentity: Invalid value: \"boolean\": spec.parameters.usePodIdentity in body must be of type string: \"boolean\")",
        ),
        ("q", "kind: missing"),
    ] {
        let c = chains
            .iter()
            .find(|c| &*c.pod == pod)
            .unwrap_or_else(|| panic!("a chain for {pod}"));
        let f = c
            .findings()
            .find(|f| f.code == Code::KVC101)
            .unwrap_or_else(|| panic!("{pod}: KVC101"));
        assert!(
            f.message.contains("could not be read") && f.message.contains(why),
            "{pod}: {}",
            f.message
        );
        assert!(
            !f.message.contains("not in the given manifests"),
            "{}",
            f.message
        );
        assert!(
            // one.yaml holds other objects: the document applied alone (audit TT2).
            f.fix.starts_with("# correct one.yaml, document ")
                && f.fix.contains("apply that document alone")
                && !f.fix.contains("-f one.yaml"),
            "{pod}: {}",
            f.fix
        );
    }
    assert!(
        !snap.source.unread.iter().any(|u| u.contains("false")),
        "the wrong-typed value is echoed: {:?}",
        snap.source.unread
    );
}

/// Documents the API server would refuse are listed under "Not read" with the field instead of
/// vanishing (a misspelt kind, a List whose items are no sequence) or yielding `Deployment/`.
#[test]
fn refused_documents_are_listed_as_unread_with_the_field() {
    let text = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app, namespace: shop}\n---\n\
        apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: \"\"}\nspec: {selector: {}, template: {spec: {containers: [{name: c}]}}}\n---\n\
        apiVersion: apps/v1\nkind: Deploymnet\nmetadata: {name: web}\n---\n\
        apiVersion: v1\nkind: List\nitems: nope\n";
    let snap = manifests::load_str("m.yaml", text).expect("loads");
    assert!(
        snap.workloads.items.is_empty(),
        "{:?}",
        snap.workloads.items
    );
    let unread = &snap.source.unread;
    assert_eq!(unread.len(), 3, "{unread:?}");
    assert!(
        unread[0].contains("m.yaml, document 2") && unread[0].contains("metadata.name"),
        "{unread:?}"
    );
    assert!(
        unread[1].contains("m.yaml, document 3") && unread[1].contains("did you mean Deployment?"),
        "{unread:?}"
    );
    assert!(
        unread[2].contains("m.yaml, document 4") && unread[2].contains("items: invalid type"),
        "{unread:?}"
    );
}
