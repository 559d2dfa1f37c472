//! Two `secretObjects` entries of one SecretProviderClass naming the same Secret (audit FF6,
//! KVC807). The driver's SPCPS controller builds each entry on its own, from that entry's
//! data alone (kubernetes-sigs/secrets-store-csi-driver `controllers/
//! secretproviderclasspodstatus_controller.go`: v1.6.0 creates or updates the Secret per entry,
//! so the last entry's data replaces the first's; v1.5.6 creates it from the first and the
//! rotation reconciler patches it to each entry's data in turn). FACTS §2: the driver writes
//! exactly an entry's `data` keys. So the Secret holds one entry's keys at a time, never both:
//! a real clash, said once, naming both entries, by the manifests door as by the live one;
//! and nothing claims "no entry makes" a key one of them makes, or deletes the Secret and the
//! pods to rebuild what the driver would rebuild the same way.

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Chain, Code, Finding};
use kvchain::snapshot::*;

use super::rules_runtime::{all, csi, only, run};
use super::rules_runtime_objects::newer_version_30_minutes_ago;

/// The SPC gains a second entry for its one synced Secret, making key `other` from the same
/// file. The live Secret still holds the first entry's keys only.
fn twin_entry(s: &mut Snapshot) {
    let spc = tk::spc_mut(s, APP);
    let mut twin = spc.secret_objects[0].clone();
    twin.data = vec![SecretObjectData {
        object_name: twin.data[0].object_name.clone(),
        key: "other".into(),
    }];
    spc.secret_objects.push(twin);
}

fn twin_finding(chains: &[Chain]) -> Finding {
    let f = only(chains, Code::KVC807);
    let secret = tk::secret_name(APP);
    assert!(
        f.message.contains("secretObjects[0]")
            && f.message.contains("secretObjects[1]")
            && f.message.contains(&format!("Secret {secret}")),
        "{}",
        f.message
    );
    assert_eq!(f.resource, format!("Secret/{secret}"));
    // The edit merges the entries; it deletes nothing.
    assert!(
        f.fix.contains("kubectl edit secretproviderclass"),
        "{}",
        f.fix
    );
    assert!(f.fix.contains("secretObjects[1]"), "{}", f.fix);
    f
}

#[test]
fn two_entries_naming_one_secret_are_kvc807_and_no_stale_secret_claim() {
    let mut s = tk::healthy();
    twin_entry(&mut s);
    let chains = run(&s);
    twin_finding(&chains);
    let found = all(&chains);
    assert!(!found.iter().any(|(c, _)| *c == Code::KVC805), "{found:#?}");
    for (code, message) in &found {
        assert!(!message.contains("any more"), "{code}: {message}");
    }
    for f in chains.iter().flat_map(|c| c.findings()) {
        assert!(!f.fix.contains("kubectl delete"), "{}: {}", f.code, f.fix);
    }
}

/// The manifests door sees the same SPC: the same finding, from the SPC alone.
#[test]
fn manifests_two_entries_naming_one_secret_are_kvc807() {
    let text = r#"apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata: {name: app-kv, namespace: demo}
spec:
  provider: azure
  parameters:
    clientID: 0b9c5e1a-7d2f-4c3e-9a8b-1f2e3d4c5b6a
    keyvaultName: kv-demo
    tenantID: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b
    objects: |
      array:
        - |
          objectName: db-password
          objectType: secret
  secretObjects:
    - secretName: app-db
      type: Opaque
      data:
        - {objectName: db-password, key: username}
    - secretName: app-db
      type: Opaque
      data:
        - {objectName: db-password, key: other}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: app
  namespace: demo
  annotations: {azure.workload.identity/client-id: 0b9c5e1a-7d2f-4c3e-9a8b-1f2e3d4c5b6a}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: demo}
spec:
  selector: {matchLabels: {app: app}}
  template:
    metadata:
      labels: {app: app, azure.workload.identity/use: "true"}
    spec:
      serviceAccountName: app
      containers:
        - {name: c, image: busybox}
      volumes:
        - name: s
          csi:
            driver: secrets-store.csi.k8s.io
            readOnly: true
            volumeAttributes: {secretProviderClass: app-kv}
"#;
    let chains = kvchain::chain::diagnose(
        &kvchain::source::manifests::load_str("m.yaml", text).expect("loads"),
    );
    let f = chains
        .iter()
        .flat_map(|c| c.findings())
        .find(|f| f.code == Code::KVC807)
        .unwrap_or_else(|| panic!("no KVC807: {:#?}", all(&chains)));
    assert!(f.fix.contains("secretObjects[1]"), "{}", f.fix);
    assert!(
        f.message.contains("secretObjects[0] (keys username)")
            && f.message.contains("secretObjects[1] (keys other)")
            && f.message.contains("Secret app-db"),
        "{}",
        f.message
    );
}

/// A remount (KVC703's fix, rotation off) deletes the SPC's synced Secrets: each once.
#[test]
fn a_remount_deletes_a_secret_two_entries_name_once() {
    let mut s = tk::healthy();
    csi(&mut s).rotation_enabled = Observed::Known(false);
    newer_version_30_minutes_ago(&mut s);
    twin_entry(&mut s);
    let f = only(&run(&s), Code::KVC703);
    let secret = tk::secret_name(APP);
    assert!(
        f.fix
            .contains(&format!("kubectl delete secret {secret} -n {NS} ")),
        "{}",
        f.fix
    );
}

/// A reader of the key only the second entry makes, while the Secret holds the first entry's:
/// KVC905 follows KVC807, and its fix is the merge, not another Secret to point at (no other
/// SecretProviderClass writes one).
#[test]
fn a_reader_of_the_second_entry_s_key_waits_on_the_merge() {
    let mut s = tk::healthy();
    twin_entry(&mut s);
    for c in &mut tk::pod_mut(&mut s, APP).containers {
        for e in &mut c.env {
            if let EnvSourceObs::SecretKey { key, .. } = &mut e.source {
                *key = "other".into();
            }
        }
    }
    let chains = run(&s);
    // Blocked: its link waits on Sync (`only` asks a link as bad as the finding).
    let f = (chains.iter().flat_map(|c| c.findings()))
        .find(|f| f.code == Code::KVC905)
        .unwrap_or_else(|| panic!("no KVC905 in {:#?}", all(&chains)));
    assert_eq!(f.follows, Some(kvchain::chain::LinkKind::Sync), "{f:#?}");
    assert!(f.fix.contains("KVC807"), "{}", f.fix);
    assert!(
        f.fix.contains("this reader needs no change") && !f.fix.contains("point this reader"),
        "{}",
        f.fix
    );
}
