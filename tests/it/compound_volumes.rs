//! Pods with more than the one secrets-store chain (audit 17): the kubelet starts no container
//! until every volume of the pod is set up (Kubernetes docs, "Volumes"; FACTS §3: a
//! FailedMount names the volume). A chain whose own mount is fine is therefore not ✓ while
//! another volume of its pod fails: its Pod and Consumers links say which volume blocks them.
//! - another secrets-store volume failing (its own chain names the cause): the healthy chain
//!   is blocked by it, counted as blocked, never a second cause (A17-1);
//! - a CSI volume of another driver (file.csi.azure.com) failing: KVC108, the volume's own
//!   finding, quoting the kubelet's message (A17-1);
//! - a `secret:` volume of the chain's own synced Secret, absent because the chain's mount
//!   fails: a consequence of that cause, blocked by it (A17-3).

use std::process::Command;

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Chain, Code, LinkKind, Severity, Status, diagnose};
use kvchain::snapshot::{
    ContainerStateObs, EventObs, MountObs, Snapshot, VolumeObs, VolumeSourceObs,
};
use serde_json::Value;

use crate::lab_nodes::{CLUSTER, HEALTHY, SHOP, mounted_by_app};

/// The healthy checkout Deployment with `volume` (indented as an entry of `volumes:`) added,
/// and `extra` documents, written as a scenario file.
fn scenario(dir: &std::path::Path, app: &str, extra: &str) -> std::path::PathBuf {
    let path = dir.join("compound.yaml");
    let mut docs = vec![CLUSTER, SHOP, app];
    if !extra.is_empty() {
        docs.push(extra);
    }
    std::fs::write(&path, docs.join("\n---\n")).unwrap();
    path
}

fn with_volume(volume: &str) -> String {
    let app = format!("{}\n{volume}", HEALTHY.trim_end());
    assert!(app.contains("secretProviderClass: checkout-kv\n"), "{app}");
    app
}

/// `check --lab PATH -o json`: (exit status, report).
fn check(path: &std::path::Path) -> (Option<i32>, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "--lab"])
        .arg(path)
        .args(["-o", "json"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let json = String::from_utf8_lossy(&out.stdout).into_owned();
    let report: Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    (out.status.code(), report)
}

fn chains_of<'a>(report: &'a Value, spc: &str) -> Vec<&'a Value> {
    report["chains"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["spc"] == spc)
        .collect()
}

fn link<'a>(chain: &'a Value, name: &str) -> &'a Value {
    chain["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["link"] == name)
        .unwrap()
}

/// [`with_volume`] for volume `extra`, which container app mounts too: the kubelet sets up
/// only the volumes a container uses (a CSI volume none mounts is never mounted, KVC707).
fn with_extra_mounted() -> String {
    let app = mounted_by_app(&with_volume(EXTRA_VOLUME), "extra");
    assert!(
        app.contains("- name: extra\n              mountPath: /mnt/extra"),
        "{app}"
    );
    app
}

const EXTRA_VOLUME: &str = "        - name: extra
          csi:
            driver: secrets-store.csi.k8s.io
            readOnly: true
            volumeAttributes:
              secretProviderClass: extra-kv
";

/// Another SPC of the same identity and vault, asking for an object the vault does not have.
const EXTRA_SPC: &str = "apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: extra-kv
  namespace: shop
spec:
  provider: azure
  parameters:
    clientID: e2ef6ca4-8b82-5fca-9991-b28fc1e02a92
    keyvaultName: kv-shop-lab
    tenantId: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b
    objects: |
      array:
        - |
          objectName: no-such-secret
          objectType: secret
";

/// A17-1: checkout-kv mounts fine, extra-kv fails (KVC601 on its own chain). The kubelet
/// starts no container, so checkout-kv's Pod and Consumers links are blocked by volume extra,
/// and that is counted as blocked: one error (the cause), no warning, one blocked.
#[test]
fn a_second_secrets_store_volume_failing_blocks_the_healthy_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), &with_extra_mounted(), EXTRA_SPC);
    let (code, report) = check(&path);
    assert_eq!(code, Some(1), "{report:#}");
    let healthy = chains_of(&report, "checkout-kv");
    assert_eq!(healthy.len(), 2, "two replicas: {report:#}");
    for c in &healthy {
        assert_eq!(link(c, "mount")["status"], "ok", "{c:#}");
        for name in ["pod", "consumers"] {
            let l = link(c, name);
            assert_eq!(l["status"], "pending", "{name}: {l:#}");
            assert_eq!(l["summary"], "blocked: volume extra", "{name}: {l:#}");
        }
    }
    let findings = report["findings"].as_array().unwrap();
    let blocked: Vec<&Value> = findings.iter().filter(|f| f["code"] == "KVC108").collect();
    assert_eq!(blocked.len(), 1, "one per workload: {report:#}");
    let f = blocked[0];
    assert!(f.get("follows").is_some(), "{f:#}");
    let message = f["message"].as_str().unwrap();
    assert!(
        message.starts_with("blocked by volume extra: ") && message.contains("extra-kv"),
        "{message}"
    );
    let causes: Vec<&str> = findings
        .iter()
        .filter(|f| f.get("follows").is_none())
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(causes, ["KVC601"], "{report:#}");
    let s = &report["summary"];
    assert_eq!(
        (&s["errors"], &s["warnings"], &s["blocked"]),
        (&Value::from(1), &Value::from(0), &Value::from(1)),
        "{s}"
    );
    // Repaired (the object exists): no volume blocks anything, every link of both chains ✓.
    let repaired = EXTRA_SPC.replace("no-such-secret", "orders-api-key");
    let path = scenario(dir.path(), &with_extra_mounted(), &repaired);
    let (code, report) = check(&path);
    assert_eq!(code, Some(0), "{report:#}");
    assert!(
        report["findings"].as_array().unwrap().is_empty(),
        "{report:#}"
    );
}

/// A17-3: the pod also reads checkout-kv's own synced Secret through a `secret:` volume. With
/// objects[0] misspelt the mount fails, so the Secret is never made and that volume fails too
/// (`secret "checkout-db" not found`): an effect of KVC601, not a second cause.
#[test]
fn a_secret_volume_of_the_chains_own_synced_secret_follows_its_cause() {
    let dir = tempfile::tempdir().unwrap();
    let db =
        with_volume("        - name: db\n          secret:\n            secretName: checkout-db\n");
    let app = mounted_by_app(&db, "db").replace(
        "objectName: checkout-db-password",
        "objectName: checkout-db-pasword",
    );
    let path = scenario(dir.path(), &app, "");
    let (code, report) = check(&path);
    assert_eq!(code, Some(1), "{report:#}");
    let findings = report["findings"].as_array().unwrap();
    let f = findings
        .iter()
        .find(|f| f["code"] == "KVC108")
        .unwrap_or_else(|| panic!("KVC108 about volume db: {report:#}"));
    assert_eq!(f["follows"], "vaultObject", "{f:#}");
    let message = f["message"].as_str().unwrap();
    assert!(
        message.starts_with("blocked by Object: volume db reads Secret checkout-db")
            && message.contains("does not exist"),
        "{message}"
    );
    assert!(
        f["fix"]
            .as_str()
            .unwrap()
            .starts_with("# fix KVC601 (Object) first"),
        "{f:#}"
    );
    assert!(
        f["evidence"].as_array().unwrap().iter().any(|e| e
            .as_str()
            .unwrap()
            .contains("secret \"checkout-db\" not found")),
        "{f:#}"
    );
    let s = &report["summary"];
    // KVC601 is the one error; KVC108 and KVC802 follow it.
    assert_eq!(
        (&s["errors"], &s["warnings"], &s["blocked"]),
        (&Value::from(1), &Value::from(0), &Value::from(2)),
        "{s}"
    );
    for c in chains_of(&report, "checkout-kv") {
        let pod = link(c, "pod");
        assert_eq!(pod["status"], "pending", "{pod:#}");
        assert_eq!(pod["summary"], "blocked: Object", "{pod:#}");
    }
}

// ---- a CSI volume of another driver (no chain of its own) ----

/// The kubelet's FailedMount for an inline Azure Files volume whose share cannot be mounted
/// (kubernetes-sigs/azurefile-csi-driver: `volume(<id>) mount "//<account>.file.core.windows
/// .net/<share>" on "<target>" failed with mount failed: exit status 32`).
fn azure_files_failure(pod: &str) -> EventObs {
    EventObs {
        namespace: NS.into(),
        involved_kind: "Pod".into(),
        involved_name: pod.into(),
        involved_uid: String::new(),
        type_: "Warning".into(),
        reason: "FailedMount".into(),
        message: format!(
            "MountVolume.SetUp failed for volume \"files\" : rpc error: code = Internal desc = volume(csi-3f2a) mount \"//stshop.file.core.windows.net/data\" on \"/var/lib/kubelet/pods/uid-pod-{NS}-{pod}/volumes/kubernetes.io~csi/files/mount\" failed with mount failed: exit status 32\nMounting command: mount\nMounting arguments: -t cifs -o dir_mode=0777,file_mode=0777,mfsymlinks,<masked> //stshop.file.core.windows.net/data /var/lib/kubelet/pods/uid-pod-{NS}-{pod}/volumes/kubernetes.io~csi/files/mount\nOutput: mount error(13): Permission denied"
        ),
        count: 4,
        source: "kubelet".into(),
        last_seen: Some(tk::now()),
        first_seen: None,
    }
}

/// The healthy app (its secrets-store volume mounted) with a second volume `volume`, whose
/// setup fails with `event`: the pod waits in ContainerCreating.
fn stuck_on(volume: VolumeObs, event: impl Fn(&str) -> EventObs) -> Snapshot {
    let mut s = tk::healthy();
    let pod = tk::pod_mut(&mut s, APP);
    let name = pod.name.to_string();
    pod.phase = "Pending".into();
    for c in &mut pod.containers {
        c.state = ContainerStateObs::Waiting {
            reason: "ContainerCreating".into(),
            message: String::new(),
        };
        c.mounts.push(MountObs {
            volume: volume.name.clone(),
            path: "/mnt/data".into(),
            sub_path: None,
            read_only: false,
        });
    }
    pod.volumes.push(volume);
    s.events.items.push(event(&name));
    s
}

fn azure_files() -> VolumeObs {
    VolumeObs {
        name: "files".into(),
        source: VolumeSourceObs::Csi {
            driver: "file.csi.azure.com".into(),
            read_only: None,
            attributes: [
                ("shareName".to_string(), "data".to_string()),
                ("secretName".to_string(), "azure-files".to_string()),
            ]
            .into(),
            node_publish_secret: None,
        },
    }
}

fn only(chains: &[Chain]) -> &Chain {
    assert_eq!(
        chains.len(),
        1,
        "the file.csi.azure.com volume has no chain: {chains:#?}"
    );
    &chains[0]
}

/// A17-1: the Azure Files volume has no chain of its own, so KVC108 is its finding: a cause,
/// an error (the pod starts no container: it does not run, as with KVC109), naming the volume
/// and its driver, quoting the kubelet; the Consumers link is blocked by that volume, not ✓.
#[test]
fn a_csi_volume_of_another_driver_failing_is_kvc108_and_blocks_the_consumers() {
    let s = stuck_on(azure_files(), azure_files_failure);
    let chains = diagnose(&s);
    let c = only(&chains);
    let f: Vec<_> = c.findings().collect();
    assert_eq!(f.len(), 1, "{f:#?}");
    let f = f[0];
    assert_eq!(
        (f.code, f.severity, f.link),
        (Code::KVC108, Severity::Error, LinkKind::Pod)
    );
    assert_eq!(f.follows, None, "the volume's own cause");
    assert!(
        f.message
            .starts_with("volume files (CSI driver file.csi.azure.com) fails to mount"),
        "{}",
        f.message
    );
    assert!(
        f.evidence
            .iter()
            .any(|e| e.contains("failed with mount failed: exit status 32")),
        "{:#?}",
        f.evidence
    );
    assert!(
        f.fix
            .contains("volume files (CSI driver file.csi.azure.com)")
            && !f.fix.contains("items key"),
        "{}",
        f.fix
    );
    assert_eq!(c.link(LinkKind::Pod).status, Status::Broken);
    let consumers = c.link(LinkKind::Consumers);
    assert_eq!(consumers.status, Status::Pending);
    assert_eq!(consumers.summary, "blocked: volume files");
    // The pod running has set every volume up: the FailedMount is history.
    let mut s = s;
    let pod = tk::pod_mut(&mut s, APP);
    pod.phase = "Running".into();
    for c in &mut pod.containers {
        c.state = ContainerStateObs::Running {
            started_at: tk::now(),
        };
    }
    let chains = diagnose(&s);
    let c = only(&chains);
    assert!(
        c.findings().next().is_none(),
        "{:#?}",
        c.findings().collect::<Vec<_>>()
    );
    assert_eq!(c.link(LinkKind::Consumers).status, Status::Ok);
}

/// A persistent volume's failure names the PV (`MountVolume.MountDevice failed for volume
/// "pvc-…"`), not the pod's volume; the kubelet's follow-up lists the pod's unmounted
/// volumes (FACTS §3), which is how the blocked volume is named.
#[test]
fn a_persistent_volume_named_by_the_follow_up_is_kvc108() {
    let claim = VolumeObs {
        name: "data".into(),
        source: VolumeSourceObs::Other,
    };
    let s = stuck_on(claim, |pod| {
        let mut e = azure_files_failure(pod);
        e.message = "Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[secrets-store-inline data azure-identity-token]: timed out waiting for the condition".into();
        e
    });
    let chains = diagnose(&s);
    let c = only(&chains);
    let f: Vec<_> = c.findings().filter(|f| f.code == Code::KVC108).collect();
    assert_eq!(f.len(), 1, "{:#?}", c.findings().collect::<Vec<_>>());
    assert!(
        f[0].message.starts_with("volume data fails to mount"),
        "{}",
        f[0].message
    );
    assert_eq!(c.link(LinkKind::Consumers).summary, "blocked: volume data");
}

/// Another volume failing stops the pod, not the chain: the kubelet mounts each volume on its
/// own, so the secrets-store mount and the sync happen, or fail for their own cause, all the
/// same. KVC108 is an error of its own (the check fails on it alone) and never the cause the
/// chain's later links are blocked by: with the object misspelt as well, the Secret is
/// missing because of KVC601, not of the other volume.
#[test]
fn kvc108_fails_the_check_and_blocks_none_of_the_chains_own_links() {
    let proj = "        - name: proj\n          projected:\n            sources:\n              - secret:\n                  name: plain\n                  items:\n                    - {key: nokey, path: u}\n";
    let plain = "apiVersion: v1\nkind: Secret\nmetadata: {name: plain, namespace: shop}\ntype: Opaque\nstringData: {user: x}\n";
    let dir = tempfile::tempdir().unwrap();
    let (code, report) = check(&scenario(
        dir.path(),
        &mounted_by_app(&with_volume(proj), "proj"),
        plain,
    ));
    assert_eq!(
        code,
        Some(1),
        "a pod that cannot start fails the check: {report:#}"
    );
    let s = &report["summary"];
    assert_eq!(
        (&s["errors"], &s["warnings"], s.get("blocked")),
        (&Value::from(1), &Value::from(0), None),
        "{s}"
    );
    for c in chains_of(&report, "checkout-kv") {
        assert_eq!(link(c, "pod")["status"], "broken", "{c:#}");
        assert_eq!(link(c, "sync")["status"], "ok", "{c:#}");
        assert_eq!(
            link(c, "consumers")["summary"],
            "blocked: volume proj",
            "{c:#}"
        );
    }

    let app = mounted_by_app(&with_volume(proj), "proj").replace(
        "objectName: checkout-db-password",
        "objectName: checkout-db-pasword",
    );
    let (code, report) = check(&scenario(dir.path(), &app, plain));
    assert_eq!(code, Some(1), "{report:#}");
    let findings = report["findings"].as_array().unwrap();
    let causes: Vec<&str> = findings
        .iter()
        .filter(|f| f.get("follows").is_none())
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(causes, ["KVC108", "KVC601"], "{report:#}");
    let sync = findings
        .iter()
        .find(|f| f["code"] == "KVC802")
        .unwrap_or_else(|| panic!("no KVC802: {report:#}"));
    assert_eq!(sync["follows"], "vaultObject", "{sync:#}");
    assert!(
        sync["fix"]
            .as_str()
            .unwrap()
            .starts_with("# fix KVC601 (Object) first"),
        "{sync:#}"
    );
    for c in chains_of(&report, "checkout-kv") {
        assert_eq!(link(c, "sync")["summary"], "blocked: Object", "{c:#}");
    }
    let s = &report["summary"];
    assert_eq!(
        (&s["errors"], &s["warnings"], &s["blocked"]),
        (&Value::from(2), &Value::from(0), &Value::from(1)),
        "{s}"
    );
}
