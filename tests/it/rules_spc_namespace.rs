//! KVC101 for a SecretProviderClass that exists in another namespace (FACTS §11: "the SPC
//! must be in the pod's namespace"). The finding names where it is, and its fix works when
//! pasted (README: "a fix command with the real names filled in"): `kubectl apply -n <ns>`
//! on a document naming another namespace is refused, and a file kvchain read is named.

use std::io::Write;
use std::process::{Command, Stdio};

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Code, diagnose};

use super::cause_kit::*;

const SHARED: &str = "shared";

/// In a cluster a chain reads its own namespace only (the incremental engine's contract), so
/// the fix finds the SPC itself: a copy from whichever namespace has it, no placeholder, and
/// the confirm lists it across namespaces.
#[test]
fn in_a_cluster_the_fix_copies_it_from_the_namespace_that_has_it() {
    let mut s = tk::healthy();
    tk::unmount(&mut s, APP);
    tk::spc_mut(&mut s, APP).namespace = SHARED.into();
    let c = one(&s);
    let f = find(&c, Code::KVC101);
    let spc = &s.spcs.items[0].name;
    assert!(
        f.fix.starts_with(&format!(
            "kubectl get secretproviderclass -A --field-selector metadata.name={spc} -o yaml | sed "
        )) && f.fix.contains("| kubectl apply -f -"),
        "{}",
        f.fix
    );
    assert!(!f.fix.contains('<'), "no placeholder: {}", f.fix);
    assert!(!f.fix.contains(&format!("apply -n {NS}")), "{}", f.fix);
    assert!(
        f.confirm
            .contains(&format!("-A --field-selector metadata.name={spc}")),
        "{}",
        f.confirm
    );
}

/// The fix's `sed` run on what `kubectl get -A -o yaml` prints (a List): only the item's
/// metadata.namespace moves (a parameter named `namespace` stays), and the fields that make
/// `kubectl apply` refuse a new object (uid, resourceVersion) are gone.
#[test]
fn the_copy_commands_sed_rewrites_only_the_objects_own_namespace() {
    let mut s = tk::healthy();
    tk::unmount(&mut s, APP);
    tk::spc_mut(&mut s, APP).namespace = SHARED.into();
    let c = one(&s);
    let fix = find(&c, Code::KVC101).fix.to_string();
    let sed = fix
        .split(" | ")
        .find(|part| part.starts_with("sed "))
        .expect("a sed step");
    let yaml = format!(
        "apiVersion: v1\nitems:\n- apiVersion: secrets-store.csi.x-k8s.io/v1\n  kind: SecretProviderClass\n  metadata:\n    creationTimestamp: \"2026-01-15T09:00:00Z\"\n    generation: 1\n    name: app-kv\n    namespace: {SHARED}\n    resourceVersion: \"12345\"\n    uid: 5141ba22-9a3d-4f9b-84f4-f9c834df9285\n  spec:\n    parameters:\n      keyvaultName: kv-demo\n      namespace: {SHARED}\n    provider: azure\nkind: List\nmetadata:\n  resourceVersion: \"\"\n"
    );
    let mut child = Command::new("sh")
        .args(["-c", sed])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sh runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(yaml.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let out = String::from_utf8(out.stdout).unwrap();
    assert!(out.contains(&format!("\n    namespace: {NS}\n")), "{out}");
    assert!(
        out.contains(&format!("\n      namespace: {SHARED}\n")),
        "{out}"
    );
    for gone in ["uid:", "    resourceVersion:", "creationTimestamp:"] {
        assert!(!out.contains(gone), "{gone} left in {out}");
    }
}

/// `check -f`: the file that defines the SPC is known, so the fix names it.
#[test]
fn offline_the_fix_names_the_file_that_defines_it() {
    let text = r#"apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata: {name: app-kv, namespace: shared}
spec:
  provider: azure
  parameters:
    keyvaultName: kv-demo
    tenantID: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b
    clientID: 0b9c5e1a-7d2f-4c3e-9a8b-1f2e3d4c5b6a
    objects: |
      array:
        - |
          objectName: db-password
          objectType: secret
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: demo}
spec:
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      containers: [{name: app, image: busybox}]
      volumes:
        - name: secrets-store
          csi:
            driver: secrets-store.csi.k8s.io
            readOnly: true
            volumeAttributes: {secretProviderClass: app-kv}
"#;
    let snap = kvchain::source::manifests::load_str("deploy/app.yaml", text).expect("loads");
    let chains = diagnose(&snap);
    let f = find_any(&chains, Code::KVC101);
    assert_eq!(f.severity, kvchain::chain::Severity::Error);
    assert!(f.message.contains("namespace shared"), "{}", f.message);
    // The file holds the Deployment too: named for the same change, never applied whole
    // (audit TT2); the live object is copied.
    assert!(
        f.fix.contains("deploy/app.yaml")
            && !f.fix.contains("kubectl apply -f deploy/app.yaml")
            && f.fix.contains("metadata.namespace: demo"),
        "{}",
        f.fix
    );
    assert!(!f.fix.contains("<file"), "{}", f.fix);
}
