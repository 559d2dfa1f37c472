//! Hostile input (issue 13 §2): every file kvchain reads ends in a clear error — file,
//! document, field path, never the value — or a warning, never a panic, a hang or a
//! memory blow-up. The hostile files are generated here into a temporary directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use kvchain::source::lab::{self, scenario};
use kvchain::source::manifests;
use kvchain::ui::config;

use crate::kkk_hostile::kvchain;

const CLUSTER: &str = include_str!("../../assets/scenarios/cluster.yaml");

fn parse(text: &str) -> Result<scenario::Scenario, String> {
    scenario::parse("t", Path::new("t.yaml"), text).map_err(|e| e.to_string())
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(ok.success(), "mkfifo {path:?}");
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const SA: &str =
    "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app\n  namespace: shop\n";

// ------------------------------------------------------------------ FIFOs and special files

#[test]
fn fifo_given_to_check_f_is_an_error_naming_it_not_a_hang() {
    let d = tempfile::tempdir().unwrap();
    mkfifo(&d.path().join("pipe.yaml"));
    let out = kvchain(&["check", "-f", "pipe.yaml"], d.path());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let e = stderr(&out);
    assert!(e.contains("pipe.yaml") && e.contains("FIFO"), "{e}");
}

#[test]
fn fifo_inside_a_directory_is_skipped_with_a_warning() {
    let d = tempfile::tempdir().unwrap();
    let m = d.path().join("manifests");
    std::fs::create_dir(&m).unwrap();
    mkfifo(&m.join("pipe.yaml"));
    write(&m, "sa.yaml", SA);
    let out = kvchain(&["check", "-f", "manifests", "-o", "json"], d.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let e = stderr(&out);
    assert!(e.contains("warning") && e.contains("pipe.yaml"), "{e}");
}

#[test]
fn fifo_as_lab_scenario_or_config_is_an_error_and_in_themes_is_skipped() {
    let d = tempfile::tempdir().unwrap();
    let fifo = d.path().join("scenario.yaml");
    mkfifo(&fifo);
    let e = lab::load(fifo.to_str().unwrap()).unwrap_err().to_string();
    assert!(e.contains("scenario.yaml") && e.contains("FIFO"), "{e}");
    let out = kvchain(&["check", "--lab", "scenario.yaml"], d.path());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    let e = config::load_from(Some(&fifo), true, None, false, false, None, true)
        .unwrap_err()
        .to_string();
    assert!(e.contains("FIFO"), "{e}");

    // A config directory whose themes/ holds a FIFO: the config loads, the FIFO is skipped.
    let cfg = write(d.path(), "config.yaml", "theme: light\n");
    std::fs::create_dir(d.path().join("themes")).unwrap();
    mkfifo(&d.path().join("themes").join("dark.yaml"));
    let ui = config::load_from(Some(&cfg), true, None, false, false, None, true).unwrap();
    assert!(!ui.themes.names().contains(&"dark"));
}

#[test]
fn symlinks_looping_back_into_a_directory_are_listed_once() {
    // Two links back to the parent: followed blindly, 2^40 paths before ELOOP.
    let d = tempfile::tempdir().unwrap();
    let m = d.path().join("m");
    std::fs::create_dir(&m).unwrap();
    write(&m, "sa.yaml", SA);
    std::os::unix::fs::symlink(&m, m.join("a")).unwrap();
    std::os::unix::fs::symlink(&m, m.join("b")).unwrap();
    let out = kvchain(&["check", "-f", "m", "-o", "json"], d.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn a_reader_closing_the_pipe_is_not_a_panic() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "--lab", "default", "-o", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // like `| head -c 0`
    let out = child.wait_with_output().unwrap();
    let e = stderr(&out);
    assert!(!e.contains("panicked"), "{e}");
    assert!(matches!(out.status.code(), Some(0 | 1)), "{e}");
}

#[test]
fn a_device_is_not_read_forever() {
    let out = kvchain(&["check", "-f", "/dev/zero"], Path::new("/"));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("character device"),
        "{}",
        stderr(&out)
    );
}

// ------------------------------------------------------------------ durations and counts

#[test]
fn huge_rotation_poll_interval_is_an_error_not_an_overflow_panic() {
    let text = CLUSTER.replace(
        "rotationPollInterval: 2m",
        "rotationPollInterval: 10000000000000000000s",
    );
    assert_ne!(
        text, CLUSTER,
        "the cluster fixture sets rotationPollInterval"
    );
    let e = parse(&text).unwrap_err();
    assert!(
        e.contains("spec.csiDriver.rotationPollInterval") && e.contains("limit"),
        "{e}"
    );
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "poll.yaml", &text);
    let out = kvchain(&["check", "--lab", "poll.yaml"], d.path());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn check_for_is_capped_and_says_the_cap() {
    let out = kvchain(
        &["check", "--lab", "default", "--for", "1000000h"],
        Path::new("."),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("168h"), "{}", stderr(&out));
    // Said in the limit's unit, not "7days 1h".
    let out = kvchain(
        &["check", "--lab", "default", "--for", "169h"],
        Path::new("."),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--for: 169h is longer than the limit of 168h"),
        "{}",
        stderr(&out)
    );
    // A mistyped scenario name is the --lab argument's error.
    let out = kvchain(&["check", "--lab", "nosuch"], Path::new("."));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with("kvchain: --lab: unknown scenario nosuch"),
        "{}",
        stderr(&out)
    );
}

fn deployment(replicas: &str) -> String {
    format!(
        "{CLUSTER}---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: default\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n      containers: [{{name: c, image: x}}]\n"
    )
}

#[test]
fn replicas_are_capped_like_generated_n() {
    let e = parse(&deployment("2147483647")).unwrap_err();
    assert!(e.contains("spec.replicas") && e.contains("200000"), "{e}");
    let e = parse(&deployment("-1")).unwrap_err();
    assert!(e.contains("negative"), "{e}");
    parse(&deployment("3")).unwrap();
}

// ------------------------------------------------------------------ alias bombs and BOM

/// `n` aliases of one `kib` KiB string: small on disk, `n × kib` KiB expanded.
fn alias_bomb(kib: usize, n: usize) -> String {
    let mut s = format!("big: &b \"{}\"\nmany:\n", "x".repeat(kib * 1024));
    for _ in 0..n {
        s.push_str("- *b\n");
    }
    s
}

#[test]
fn alias_bomb_in_a_manifest_is_rejected() {
    // 64 KiB × 2,000 = 125 MiB expanded from a 76 KiB file.
    let text = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\ndata:\n  {}",
        alias_bomb(64, 2000).replace('\n', "\n  ")
    );
    let e = manifests::load_str("bomb.yaml", &text)
        .unwrap_err()
        .to_string();
    assert!(e.contains("bomb.yaml") && e.contains("aliases"), "{e}");
}

#[test]
fn alias_bomb_in_a_scenario_is_rejected() {
    let text = format!(
        "{CLUSTER}---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n  annotations:\n    {}",
        alias_bomb(64, 2000).replace('\n', "\n    ")
    );
    let e = parse(&text).unwrap_err();
    assert!(e.contains("aliases"), "{e}");
}

#[test]
fn alias_bomb_in_spc_objects_is_a_problem() {
    let objects = format!("{}array: []\n", alias_bomb(64, 2000));
    let mut params = std::collections::BTreeMap::new();
    params.insert("objects".to_string(), objects);
    let spc = kvchain::spc::parse(&params);
    assert!(
        spc.problems.iter().any(|p| p.message.contains("aliases")),
        "{:?}",
        spc.problems
    );
}

#[test]
fn utf8_bom_is_accepted_in_manifests_and_scenarios() {
    let two = format!("\u{feff}{SA}---\n{}", SA.replace("app", "other"));
    let snap = manifests::load_str("bom.yaml", &two).unwrap();
    assert_eq!(snap.service_accounts.items.len(), 2);
    parse(&format!("\u{feff}{CLUSTER}")).unwrap();
}

// ------------------------------------------------------------------ messages

fn check_f(text: &str) -> (Option<i32>, String) {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "m.yaml", text);
    let out = kvchain(&["check", "-f", "m.yaml"], d.path());
    (out.status.code(), stderr(&out))
}

#[test]
fn wrong_type_in_a_manifest_names_file_document_and_field_path() {
    // The ServiceAccount is read, so the bad Deployment is listed as unread (exit 1, stdout).
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "m.yaml",
        &format!(
            "{SA}---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web}}\nspec:\n  replicas: two\n  selector: {{}}\n  template: {{spec: {{containers: [{{name: c}}]}}}}\n"
        ),
    );
    let out = kvchain(&["check", "-f", "m.yaml"], d.path());
    let code = out.status.code();
    let e = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert_eq!(code, Some(1), "{e}");
    assert!(
        e.contains("m.yaml, document 2") && e.contains("spec.replicas"),
        "{e}"
    );
    assert!(!e.contains("\"two\""), "the value is echoed: {e}");
}

#[test]
fn wrong_type_of_secret_fields_never_echoes_the_value() {
    let (code, e) = check_f(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: \"hunter2-canary\"\n",
    );
    assert_eq!(code, Some(2), "{e}");
    assert!(e.contains("stringData"), "{e}");
    assert!(!e.contains("hunter2-canary"), "secret echoed: {e}");

    let kv = "---\napiVersion: lab.kvchain.dev/v1\nkind: KeyVault\nmetadata: {name: kv1}\nspec:\n  tenantID: t\n  secrets:\n    - name: a\n";
    let e = parse(&format!(
        "{CLUSTER}{kv}      versions: \"hunter2-canary\"\n"
    ))
    .unwrap_err();
    assert!(e.contains("spec.secrets[0].versions"), "{e}");
    assert!(!e.contains("hunter2-canary"), "secret echoed: {e}");

    let tl = format!(
        "{CLUSTER}{kv}      value: x\n---\napiVersion: lab.kvchain.dev/v1\nkind: Timeline\nspec:\n  events:\n    - at: 1m\n      rotateSecret: \"hunter2-canary\"\n"
    );
    let e = parse(&tl).unwrap_err();
    assert!(e.contains("spec.events[0]"), "{e}");
    assert!(!e.contains("hunter2-canary"), "secret echoed: {e}");
}

/// `Invalid symbol 45, offset 6.` is what the base64 decoder says of a Secret's `data` value:
/// it gives away a byte of the secret and where it sits. Only "not valid base64" may be said,
/// by `check -f` and by a lab scenario alike; a boolean in `stringData` is not echoed either.
#[test]
fn undecodable_secret_data_names_the_field_and_no_byte_of_the_value() {
    let secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: shop}\ndata:\n  token: \"CANARY-9f3b-notbase64!!\"\n";
    let (code, e) = check_f(secret);
    assert_eq!(code, Some(2), "{e}");
    assert!(
        e.contains("m.yaml, document 1") && e.contains("data.token: not valid base64"),
        "{e}"
    );
    for leak in ["CANARY", "symbol", "offset", "45"] {
        assert!(!e.contains(leak), "{leak:?} leaks the value: {e}");
    }

    let e = parse(&format!("{CLUSTER}---\n{secret}")).unwrap_err();
    assert!(e.contains("data.token: not valid base64"), "{e}");
    for leak in ["CANARY", "symbol", "offset", "45"] {
        assert!(!e.contains(leak), "{leak:?} leaks the value: {e}");
    }

    let (code, e) =
        check_f("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {flag: false}\n");
    assert_eq!(code, Some(2), "{e}");
    assert!(
        e.contains("stringData.flag: the API server refuses the document (kubectl apply says: Secret in version \"v1\" cannot be handled as a Secret: json: cannot unmarshal bool into Go struct field Secret.stringData of type string)"),
        "{e}"
    );
    assert!(!e.contains("false"), "the value is echoed: {e}");
}

/// serde_yaml refuses nesting beyond 128 levels only after libyaml has scanned the whole
/// document in quadratic time (100,000 `[` took about 50 s): such a file is rejected before it
/// is parsed, naming the file, the document and the line; the documents before it are read.
#[test]
fn deeply_nested_yaml_is_rejected_naming_file_document_and_line() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "deep.yaml", &"[".repeat(100_000));
    let out = kvchain(&["check", "-f", "deep.yaml"], d.path());
    let e = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert!(
        e.contains("deep.yaml, document 1")
            && e.contains("nested more than 128 levels deep (line 1, column 129)"),
        "{e}"
    );

    let blocks: String = (0..300).map(|i| " ".repeat(i) + "a:\n").collect();
    write(d.path(), "m.yaml", &format!("{SA}---\n{blocks}"));
    let out = kvchain(&["check", "-f", "m.yaml", "-o", "json"], d.path());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(out.status.code(), Some(1), "{report:#}");
    let unread = report["unread"].to_string();
    assert!(
        unread.contains("m.yaml, document 2") && unread.contains("nested more than 128 levels"),
        "{unread}"
    );
    assert_eq!(report["summary"]["unread"], 1, "{report:#}");

    let e = parse(&format!("{CLUSTER}---\nkind: {}", "{a: ".repeat(50_000))).unwrap_err();
    assert!(e.contains("nested more than 128 levels deep"), "{e}");
}

/// serde_yaml holds a whole document's parser events and values at once, ~260 bytes a value:
/// a 60 MB `a: [0,0,…]` took 6.4 GB and a minute. A document of more than 4,000,000 values is
/// rejected before it is parsed, naming the file, the document and the line; the file's other
/// documents are read.
#[test]
fn a_document_of_millions_of_values_is_rejected_before_it_is_parsed() {
    let d = tempfile::tempdir().unwrap();
    let dense = format!("a: [{}]\n", "0,".repeat(4_100_000));
    write(d.path(), "dense.yaml", &format!("{SA}---\n{dense}"));
    let out = kvchain(&["check", "-f", "dense.yaml", "-o", "json"], d.path());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let unread = report["unread"].to_string();
    assert!(
        unread.contains("dense.yaml, document 2")
            && unread.contains("more than 4000000 values in one YAML document")
            && unread.contains(", column 8000001): rejected before parsing"),
        "{unread}"
    );
    assert_eq!(report["summary"]["unread"], 1, "{report:#}");
}

/// A 5 MB `keyvaultName` was printed whole, in the message and again under `seen:` (10 MB of
/// report); a right-to-left override in a name was printed raw and reordered the line. Echoed
/// input is capped (its head and its size) and such characters are escaped like zero-width
/// ones, in text and JSON alike.
#[test]
fn echoed_values_are_capped_and_bidi_controls_escaped() {
    let d = tempfile::tempdir().unwrap();
    let pod = |name: &str, sa: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: a}}\nspec:\n  serviceAccountName: \"{sa}\"\n  containers: [{{name: c, image: i}}]\n  volumes:\n  - name: v\n    csi: {{driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {{secretProviderClass: kv}}}}\n---\n"
        )
    };
    let text = pod("p", "w\u{f6}rkload-sa\u{202e}")
        + &pod("q", "w\u{f6}rkload-sa\u{200b}")
        + "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: w\u{f6}rkload-sa, namespace: a}\n---\n"
        + "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {name: kv, namespace: a}\nspec:\n  provider: azure\n  parameters:\n    tenantID: t\n    keyvaultName: "
        + &"v".repeat(5_000_000)
        + "\n";
    write(d.path(), "m.yaml", &text);
    for format in ["text", "json"] {
        let out = kvchain(&["check", "-f", "m.yaml", "-o", format], d.path());
        let o = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(o.len() < 100_000, "{format}: {} bytes of report", o.len());
        assert!(o.contains("… (500000"), "{format}: the size is not said");
        assert!(
            !o.contains('\u{202e}'),
            "{format}: a raw right-to-left override"
        );
        // JSON writes the backslash of `\u{202e}` escaped once more.
        let slash = if format == "json" { "\\\\" } else { "\\" };
        assert!(
            o.contains(&format!("rkload-sa{slash}u{{202e}}"))
                && o.contains(&format!("rkload-sa{slash}u{{200b}}")),
            "{format}: {o}"
        );
    }
}

#[test]
fn bad_duration_names_the_field() {
    let text = CLUSTER.replace("rotationPollInterval: 2m", "rotationPollInterval: soon");
    assert_ne!(text, CLUSTER);
    let e = parse(&text).unwrap_err();
    assert!(e.contains("spec.csiDriver.rotationPollInterval"), "{e}");
}

fn timeline(events: &str) -> String {
    format!(
        "{CLUSTER}---\napiVersion: lab.kvchain.dev/v1\nkind: Timeline\nspec:\n  events:\n{events}"
    )
}

#[test]
fn timeline_event_needs_exactly_one_known_action() {
    let two = "    - at: 1m\n      deletePod: {namespace: a, name: b}\n      applyFault: {id: x}\n";
    let e = parse(&timeline(two)).unwrap_err();
    assert!(
        e.contains("spec.events[0]") && e.contains("more than one action"),
        "{e}"
    );

    let unknown = "    - at: 1m\n      reboot: {}\n";
    let e = parse(&timeline(unknown)).unwrap_err();
    assert!(e.contains("`reboot`"), "{e}");

    let bad = "    - at: 1m\n    - at: 2m\n      deletePod: {namespace: a}\n";
    let e = parse(&timeline(bad)).unwrap_err();
    assert!(
        e.contains("spec.events[0]") && e.contains("no action"),
        "{e}"
    );
    let bad = "    - at: 2m\n      deletePod: {namespace: a}\n";
    let e = parse(&timeline(bad)).unwrap_err();
    assert!(
        e.contains("spec.events[0].deletePod") && e.contains("name"),
        "{e}"
    );

    let ok = "    - at: 1m\n      deletePod: {namespace: a, name: b}\n";
    assert_eq!(parse(&timeline(ok)).unwrap().timeline.len(), 1);
}

#[test]
fn unknown_top_level_fields_are_rejected() {
    let e = parse(&CLUSTER.replace("spec:", "extra: 1\nspec:")).unwrap_err();
    assert!(e.contains("`extra`"), "{e}");
    let e = parse(&format!("{CLUSTER}---\n{SA}automount: true\n")).unwrap_err();
    assert!(e.contains("`automount`"), "{e}");
}

#[test]
fn duplicate_definitions_are_rejected() {
    let mi = "---\napiVersion: lab.kvchain.dev/v1\nkind: ManagedIdentity\nmetadata: {name: id1}\nspec: {clientID: c, principalID: p, tenantID: t}\n";
    let e = parse(&format!("{CLUSTER}{mi}{mi}")).unwrap_err();
    assert!(e.contains("ManagedIdentity") && e.contains("twice"), "{e}");

    let kv = "---\napiVersion: lab.kvchain.dev/v1\nkind: KeyVault\nmetadata: {name: kv1}\nspec:\n  tenantID: t\n  secrets:\n    - {name: a, value: x}\n";
    // `z`, not `y`: a plain `y` is a YAML 1.1 boolean, as kubectl reads it (audit UUU-real).
    let e = parse(&format!("{CLUSTER}{kv}    - {{name: a, value: z}}\n")).unwrap_err();
    assert!(e.contains("secret \"a\"") && e.contains("twice"), "{e}");

    let ra = "---\napiVersion: lab.kvchain.dev/v1\nkind: RoleAssignment\nspec:\n  principalID: p\n  role: Key Vault Secrets User\n  scope: {vault: kv1}\n";
    let e = parse(&format!("{CLUSTER}{kv}{ra}{ra}")).unwrap_err();
    assert!(e.contains("RoleAssignment") && e.contains("twice"), "{e}");

    let secret = "---\napiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: shop}\n";
    let e = parse(&format!("{CLUSTER}{secret}{secret}")).unwrap_err();
    assert!(
        e.contains("Secret \"shop/s\"") && e.contains("twice"),
        "{e}"
    );

    let dep = deployment("1");
    let again = &dep[CLUSTER.len()..];
    let e = parse(&format!("{dep}{again}")).unwrap_err();
    assert!(
        e.contains("Deployment \"default/web\"") && e.contains("twice"),
        "{e}"
    );
}

// ------------------------------------------------------------------ stress (manual)

/// The worst inputs at full size, through the binary. Run with
/// `cargo test --release --test it -- --ignored hostile_input::` (and `/usr/bin/time -v` on the
/// printed commands for memory).
#[test]
#[ignore = "stress: seconds and ~100 MB; run by hand"]
fn stress_full_size_alias_bomb_and_long_objects_list() {
    let d = tempfile::tempdir().unwrap();
    // A 1 MiB string aliased 4,000 times: 4 GiB if expanded.
    write(
        d.path(),
        "bomb.yaml",
        &format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\ndata:\n  {}",
            alias_bomb(1024, 4000).replace('\n', "\n  ")
        ),
    );
    let t = Instant::now();
    let out = kvchain(&["check", "-f", "bomb.yaml"], d.path());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    eprintln!("alias bomb: {:?}", t.elapsed());

    // An SPC with 100,000 objects mounted by one pod.
    let mut items = String::new();
    for i in 0..100_000 {
        items.push_str(&format!(
            "        - |\n          objectName: s{i}\n          objectType: secret\n"
        ));
    }
    write(
        d.path(),
        "spc.yaml",
        &format!(
            "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {{name: big, namespace: default}}\nspec:\n  provider: azure\n  parameters:\n    keyvaultName: kv1\n    tenantId: t\n    clientID: c\n    objects: |\n      array:\n{items}---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: default}}\nspec:\n  containers: [{{name: c, image: x}}]\n  volumes:\n  - name: v\n    csi: {{driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {{secretProviderClass: big}}}}\n"
        ),
    );
    let t = Instant::now();
    let out = kvchain(&["check", "-f", "spc.yaml", "-o", "json"], d.path());
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    eprintln!("100k objects: {:?}", t.elapsed());
    assert!(t.elapsed() < Duration::from_secs(30), "{:?}", t.elapsed());
}
