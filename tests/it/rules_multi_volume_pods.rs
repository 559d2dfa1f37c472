//! Audit II5, II6: pods with several CSI volumes. FACTS §1: the driver keeps one
//! SecretProviderClassPodStatus per pod and SPC (`<podName>-<podNamespace>-<spcName>`),
//! however many volumes name it: the same SPC mounted twice is one pod, not two, and one
//! cause on it is one finding. FACTS §5: a mount uses its own SPC's clientID and never reads
//! the ServiceAccount's annotation, so the annotation decides no mount; whether a mount
//! works is its own chain's to say (AADSTS70021 on one, FACTS §5, §11).

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Code, diagnose};
use kvchain::snapshot::*;
use kvchain::source::manifests;

/// The healthy app with two pods, each mounting its SPC through a second volume too.
fn same_spc_twice() -> Snapshot {
    let mut s = tk::empty();
    tk::add_app(&mut s, NS, APP, 2);
    for p in s.pods.items.iter_mut() {
        p.volumes
            .push(tk::csi_volume("secrets-store-2", &tk::spc_name(APP)));
    }
    s
}

/// II5: the text report's "(N pods)" counts pods, not chains.
#[test]
fn the_text_report_counts_pods_not_volumes() {
    let s = same_spc_twice();
    let chains = diagnose(&s);
    assert_eq!(chains.len(), 4, "one chain per pod and volume");
    let text = kvchain::report::text(&s, &chains, false);
    assert!(
        text.contains(&format!("Deployment/{APP} (2 pods)")),
        "{text}"
    );
    assert!(!text.contains("(4 pods)"), "{text}");
}

const WINDOWS_TWICE: &str = r#"
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata: {name: app-kv, namespace: shop}
spec:
  provider: azure
  parameters:
    clientID: 3f2c9a1e-7b4d-4e8a-9c1f-2a6b5d8e0f13
    keyvaultName: kv-shop
    tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47
    objects: |
      array:
        - |
          objectName: db-password
          objectType: secret
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: shop}
spec:
  replicas: 3
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      nodeSelector: {kubernetes.io/os: windows}
      containers:
      - name: app
        image: nginx
        volumeMounts:
        - {name: a, mountPath: /mnt/a, readOnly: true}
        - {name: b, mountPath: /mnt/b, readOnly: true}
      volumes:
      - name: a
        csi: {driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {secretProviderClass: app-kv}}
      - name: b
        csi: {driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {secretProviderClass: app-kv}}
"#;

/// II5: a template (one "pod", whatever its replicas) pinned to Windows and mounting the SPC
/// through two volumes: one KVC104, and no "(2 pods)" for its two chains.
#[test]
fn a_windows_template_mounting_one_spc_twice_is_one_finding_and_no_pod_count() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.yaml"), WINDOWS_TWICE).unwrap();
    let snap = manifests::load(&[dir.path().to_path_buf()]).expect("loads");
    let chains = diagnose(&snap);
    assert_eq!(chains.len(), 2);
    let mut kvc104: Vec<_> = (chains.iter().flat_map(|c| c.findings()))
        .filter(|f| f.code == Code::KVC104)
        .map(|f| f.key())
        .collect();
    kvc104.sort();
    kvc104.dedup();
    assert_eq!(kvc104.len(), 1, "{kvc104:#?}");
    let text = kvchain::report::text(&snap, &chains, false);
    assert!(!text.contains("pods)"), "{text}");
    assert_eq!(text.matches("KVC104").count(), 1, "{text}");
}

/// The app's two pods mount a second SPC, `search-kv`, with another identity that has no
/// federated credential for the pods' ServiceAccount: that mount fails (AADSTS70021).
fn second_identity_unfederated() -> Snapshot {
    let mut s = tk::empty();
    tk::add_app(&mut s, NS, APP, 2);
    tk::add_app(&mut s, NS, "search", 0);
    if let Observed::Known(fics) = &mut tk::identity_mut(&mut s, "search").federated_credentials {
        fics.retain(|f| !f.subject.ends_with(&format!(":{}", tk::sa_name(APP))));
    }
    for p in s.pods.items.iter_mut() {
        if p.name.starts_with(&tk::replica_set(APP)) {
            p.volumes
                .push(tk::csi_volume("search-inline", &tk::spc_name("search")));
        }
    }
    s
}

/// II6: KVC204 never says "both mounts work" beside the chain whose mount fails, and is said
/// once for the Deployment's pods, not once per pod.
#[test]
fn kvc204_beside_a_failing_mount_claims_no_mount_works_and_is_said_once() {
    let chains = diagnose(&second_identity_unfederated());
    let all: Vec<_> = chains.iter().flat_map(|c| c.findings()).collect();
    assert!(
        all.iter().any(|f| f.code == Code::KVC401),
        "the search mount's own cause: {all:#?}"
    );
    let mut kvc204: Vec<_> = all.iter().filter(|f| f.code == Code::KVC204).collect();
    assert!(!kvc204.is_empty(), "{all:#?}");
    for f in &kvc204 {
        assert!(!f.message.contains("mounts work"), "{}", f.message);
    }
    kvc204.sort_by_key(|f| f.key());
    kvc204.dedup_by_key(|f| f.key());
    assert_eq!(kvc204.len(), 1, "one per workload: {kvc204:#?}");
}
