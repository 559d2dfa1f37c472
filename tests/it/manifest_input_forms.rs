//! Input forms `kubectl apply -f` takes, read as kubectl reads them, and the ones it refuses
//! named as it names them (audit XX): an unread document that may mount an SPC leaves it "not
//! known to be mounted" (XX1); JSON objects back to back are a stream of documents (XX2); a
//! typed List's items take their kind from the List, a kind-less object is "kind: missing"
//! (XX3); a built-in kind at a version no longer served names `apiVersion` and says kubectl's
//! "no matches for kind" (XX4); a file named on the command line holding no object exits 2
//! (XX7).

use std::process::{Command, Stdio};

const WEB: &str = include_str!("../../assets/examples/healthy/web.yaml");

/// The `web` ServiceAccount the healthy example's Deployment runs as, as one JSON object.
fn sa_json(name: &str) -> String {
    format!(
        r#"{{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {{"name": "{name}", "namespace": "shop", "annotations": {{"azure.workload.identity/client-id": "3f2c9a1e-7b4d-4e8a-9c1f-2a6b5d8e0f13"}}}}}}"#
    )
}

/// `kvchain check -f` over `files` written in a temporary directory, each named on the
/// command line (or the directory alone with `dir`): exit code, stdout, stderr.
fn check(files: &[(&str, &str)], format: &str, dir: bool) -> (Option<i32>, String, String) {
    let tmp = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(tmp.path().join(name), text).unwrap();
    }
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kvchain"));
    cmd.arg("check").current_dir(tmp.path());
    if dir {
        cmd.args(["-f", "."]);
    } else {
        for (name, _) in files {
            cmd.args(["-f", name]);
        }
    }
    let out = cmd
        .args(["-o", format])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run kvchain");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(files: &[(&str, &str)]) -> (Option<i32>, serde_json::Value) {
    let (code, out, err) = check(files, "json", false);
    let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    (code, v)
}

fn unread(v: &serde_json::Value) -> Vec<String> {
    v["unread"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|u| u.as_str().unwrap_or_default().to_string())
        .collect()
}

fn codes(v: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    for c in v["chains"].as_array().into_iter().flatten() {
        for l in c["links"].as_array().into_iter().flatten() {
            for f in l["findings"].as_array().into_iter().flatten() {
                out.push(f["code"].as_str().unwrap_or_default().to_string());
            }
        }
    }
    out
}

/// The healthy example with its Deployment broken (`replicas: "2"`, a string): kvchain still
/// tells its kind, name and namespace, and it mounts `web-kv`.
fn unread_deployment() -> String {
    let broken = WEB.replace("replicas: 2", "replicas: \"2\"");
    assert_ne!(broken, WEB);
    broken
}

/// Audit XX1: a Deployment document that could not be read may mount the SPC: the report says
/// the SPC is not known to be mounted, in text, JSON, JUnit and Mermaid alike, never "mounted
/// by no pod" nor "No pod mounts".
#[test]
fn an_spc_an_unread_workload_may_mount_is_not_said_mounted_by_no_pod() {
    let files = [("web.yaml", unread_deployment())];
    let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let (code, text, _) = check(&files, "text", false);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("Deployment/web"), "the unread one: {text}");
    assert!(!text.contains("mounted by no pod"), "{text}");
    assert!(
        !text.contains("No pod mounts (or means to mount)"),
        "{text}"
    );
    assert!(text.contains("not known to be mounted"), "{text}");
    let (_, v) = json(&files);
    let spc = &v["spcs"][0];
    assert_eq!(spc["name"], "web-kv", "{v:#}");
    assert!(
        spc["pods_unread"]
            .as_str()
            .is_some_and(|w| w.contains("not read")),
        "{v:#}"
    );
    // JUnit names an SPC only with a finding on it (KVC302 here).
    let odd = files[0].1.replace(
        "    keyvaultName: \"kv-shop\"\n",
        "    keyvaultName: \"kv-shop\"\n    usePodIdentity: \"nope\"\n",
    );
    assert_ne!(odd, files[0].1);
    for format in ["junit", "mermaid"] {
        let (_, doc, _) = check(&[("web.yaml", &odd)], format, false);
        assert!(!doc.contains("mounted by no pod"), "{format}: {doc}");
        assert!(doc.contains("not known to be mounted"), "{format}: {doc}");
    }
}

/// XX1's other side: an unread document that holds no pod (a ServiceAccount) cannot mount the
/// SPC, so with no workload in the input the SPC is still mounted by no pod.
#[test]
fn an_unread_service_account_leaves_the_spc_mounted_by_no_pod() {
    let spc = WEB.split("\n---\n").next().unwrap();
    let sa = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: web\n  namespace: shop\n  annotations:\n    azure.workload.identity/client-id: 123\n";
    let (code, text, _) = check(&[("spc.yaml", spc), ("sa.yaml", sa)], "text", false);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("sa.yaml, document 1"), "{text}");
    assert!(text.contains("mounted by no pod"), "{text}");
}

/// Audit XX2: `cat *.json | kubectl apply -f -` reads JSON objects written back to back (one
/// per line, no `---`) as a stream of values (kubectl's JSON decoder). Each is a document:
/// the ServiceAccount written second is read, so no KVC202 and nothing unread.
#[test]
fn json_objects_back_to_back_are_each_read() {
    let sas = format!("{}\n{}\n", sa_json("other"), sa_json("web"));
    let (code, v) = json(&[("web.yaml", WEB), ("sas.json", &sas)]);
    assert_eq!(unread(&v), Vec::<String>::new(), "{v:#}");
    assert!(!codes(&v).contains(&"KVC202".to_string()), "{v:#}");
    assert_eq!(code, Some(0), "{v:#}");

    // A broken third value costs that document only, named by its number and line.
    let broken = format!(
        "{}\n{}\n{{\"apiVersion\" \"v1\"}}\n",
        sa_json("web"),
        sa_json("x")
    );
    let (_, v) = json(&[("web.yaml", WEB), ("sas.json", &broken)]);
    let u = unread(&v);
    assert_eq!(u.len(), 1, "{v:#}");
    assert!(
        u[0].starts_with("sas.json, document 3: invalid JSON at line 3, column 15"),
        "{u:?}"
    );
    assert!(!codes(&v).contains(&"KVC202".to_string()), "{v:#}");
}

/// Audit XX3 a), b): a typed List as the API writes it (`kubectl get --raw …`) carries no
/// kind on its items: kubectl gives each the List's kind without `List` and its apiVersion.
#[test]
fn a_typed_lists_items_take_the_lists_kind() {
    let (spc, dep) = WEB.split_once("\n---\n").unwrap();
    let dep: serde_yaml::Value = serde_yaml::from_str(dep).unwrap();
    let mut item = dep.clone();
    let m = item.as_mapping_mut().unwrap();
    m.remove("apiVersion");
    m.remove("kind");
    let list = serde_json::json!({
        "apiVersion": "apps/v1", "kind": "DeploymentList",
        "metadata": {"resourceVersion": "1"}, "items": [item],
    });
    let sa: serde_json::Value = serde_json::from_str(&sa_json("web")).unwrap();
    let mut sa_item = sa.clone();
    sa_item.as_object_mut().unwrap().remove("kind");
    sa_item.as_object_mut().unwrap().remove("apiVersion");
    let sas =
        serde_json::json!({"apiVersion": "v1", "kind": "ServiceAccountList", "items": [sa_item]});
    let (code, v) = json(&[
        ("spc.yaml", spc),
        ("deps.json", &list.to_string()),
        ("sas.json", &sas.to_string()),
    ]);
    assert_eq!(unread(&v), Vec::<String>::new(), "{v:#}");
    assert_eq!(v["chains"].as_array().map(Vec::len), Some(1), "{v:#}");
    assert_eq!(
        v["chains"][0]["pod"], "web",
        "the Deployment's template: {v:#}"
    );
    assert!(!codes(&v).contains(&"KVC202".to_string()), "{v:#}");
    assert_eq!(code, Some(0), "{v:#}");
}

/// Audit XX3 c), d): a Deployment that lost its apiVersion and kind, and a plain `List` item
/// with no kind, are refused by kubectl ("Object 'Kind' is missing"): listed as unread with
/// `kind: missing`, not as a custom kind whose pod template is "its operator's business".
#[test]
fn a_kindless_object_is_kind_missing() {
    let (spc, dep) = WEB.split_once("\n---\n").unwrap();
    let lost = dep
        .replace("apiVersion: apps/v1\n", "")
        .replace("kind: Deployment\n", "");
    assert_ne!(lost, dep);
    let (_, v) = json(&[("spc.yaml", spc), ("dep.yaml", &lost)]);
    let u = unread(&v);
    assert_eq!(u.len(), 1, "{v:#}");
    assert!(u[0].contains("dep.yaml, document 1"), "{u:?}");
    assert!(u[0].contains("kind: missing"), "{u:?}");
    assert!(u[0].contains("Object 'Kind' is missing"), "{u:?}");
    assert!(
        !u[0].contains("does not read") && !u[0].contains("operator"),
        "{u:?}"
    );

    let list = "apiVersion: v1\nkind: List\nitems:\n- metadata: {name: web, namespace: shop}\n  spec: {}\n";
    let (_, v) = json(&[("web.yaml", WEB), ("list.yaml", list)]);
    let u = unread(&v);
    assert_eq!(u.len(), 1, "{v:#}");
    assert!(u[0].contains("list.yaml, document 1"), "{u:?}");
    assert!(u[0].contains("items[0]: kind: missing"), "{u:?}");
}

/// Audit XX4: a built-in kind at a version the API server no longer serves is refused by
/// kubectl ("no matches for kind \"Deployment\" in version \"apps/v1beta1\""): the error names
/// `apiVersion` and says so, with the served version.
#[test]
fn a_removed_api_version_names_api_version() {
    let dep = WEB.replace("apiVersion: apps/v1\n", "apiVersion: apps/v1beta1\n");
    let ing = "apiVersion: networking.k8s.io/v1beta1\nkind: Ingress\nmetadata:\n  name: web\n  namespace: shop\n";
    let (_, v) = json(&[("web.yaml", &dep), ("ing.yaml", ing)]);
    let u = unread(&v);
    assert_eq!(u.len(), 2, "{v:#}");
    assert!(
        u[0].contains(
            r#"apiVersion: "apps/v1beta1" is not served: kubectl apply refuses it (no matches for kind "Deployment" in version "apps/v1beta1")"#
        ) && u[0].contains("serves Deployment as apps/v1"),
        "{u:?}"
    );
    assert!(
        u[1].contains(r#"no matches for kind "Ingress" in version "networking.k8s.io/v1beta1""#)
            && u[1].contains("serves Ingress as networking.k8s.io/v1"),
        "{u:?}"
    );
    for u in &u {
        assert!(!u.contains(": : "), "no empty field path: {u}");
    }
}

/// Audit XX7: a file named on the command line whose only documents have neither kind nor
/// apiVersion holds no object: kubectl refuses it ("Object 'Kind' is missing"), and kvchain
/// exits 2 naming the input, never "0 chains, 0 errors". Inside a directory, such files
/// (Helm values, Chart.yaml) are skipped as before.
#[test]
fn a_named_file_holding_no_object_exits_2() {
    for (name, text) in [
        ("empty-object.json", "{}\n"),
        ("foo.yaml", "foo: bar\n"),
        (
            "fragment.yaml",
            "metadata: {name: web, namespace: shop}\nspec: {serviceAccountName: web}\n",
        ),
    ] {
        let (code, out, err) = check(&[(name, text)], "text", false);
        assert_eq!(code, Some(2), "{name}: {out}{err}");
        assert!(err.contains(name) && err.contains("kind"), "{name}: {err}");
    }
    let (code, out, err) = check(
        &[("web.yaml", WEB), ("values.yaml", "foo: bar\n")],
        "text",
        true,
    );
    assert!(
        !out.contains("values.yaml"),
        "skipped in a directory: {out}"
    );
    assert!(
        out.starts_with("kvchain check manifests (.): 1 chain,"),
        "{out}"
    );
    assert_eq!(
        code,
        Some(0),
        "a warning (KVC202) does not fail: {out}{err}"
    );
}

/// Audit WW5: Events (and the driver's pod statuses) passed beside the manifests, as
/// `kubectl get events -o yaml` writes them, are a cluster's history, which `check -f` does not
/// judge: the report says they were not used, per file, in text and JSON, and they cost
/// nothing else (not unread, exit status unchanged). Before, they vanished without a word.
#[test]
fn events_among_manifests_are_said_not_used() {
    let event = |name: &str| {
        format!(
            "- apiVersion: v1\n  kind: Event\n  metadata: {{name: {name}, namespace: shop}}\n  involvedObject: {{kind: Pod, name: web-7d9f-abcde, namespace: shop}}\n  type: Warning\n  reason: FailedMount\n  message: 'MountVolume.SetUp failed for volume \"secrets\"'\n"
        )
    };
    let events = format!(
        "apiVersion: v1\nkind: List\nitems:\n{}{}",
        event("e1"),
        event("e2")
    );
    let status = "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClassPodStatus\nmetadata: {name: web-shop-web-kv, namespace: shop}\nstatus: {podName: web, secretProviderClassName: web-kv, mounted: true}\n";
    let files = [
        ("web.yaml", WEB),
        ("events.yaml", events.as_str()),
        ("status.yaml", status),
    ];
    let (code, text, _) = check(&files, "text", false);
    assert_eq!(code, Some(0), "{text}");
    let at = text
        .find("Not used (written by a running cluster")
        .expect(&text);
    let section = &text[at..];
    assert!(section.contains("  events.yaml: 2 Events\n"), "{text}");
    assert!(
        section.contains("  status.yaml: 1 SecretProviderClassPodStatus\n"),
        "{text}"
    );
    assert!(!text.contains("Not read"), "{text}");
    let (code, v) = json(&files);
    assert_eq!(code, Some(0), "{v:#}");
    assert_eq!(
        v["not_used"],
        serde_json::json!([
            "events.yaml: 2 Events",
            "status.yaml: 1 SecretProviderClassPodStatus"
        ]),
        "{v:#}"
    );
    assert_eq!(unread(&v), Vec::<String>::new(), "{v:#}");
    // Without such objects the key is absent, not an empty list.
    let (_, v) = json(&[("web.yaml", WEB)]);
    assert!(v.get("not_used").is_none(), "{v:#}");
}
