//! A CSI volume the pod declares but no container mounts. The kubelet sets up only the volumes
//! a container (init, app or ephemeral) names in volumeMounts or volumeDevices ("Volume is not
//! used in the pod, ignore it", kubelet's desired_state_of_world_populator.go): NodePublishVolume
//! is never called, so there are no files, no SecretProviderClassPodStatus (FACTS §1) and no
//! synced Secret (FACTS §2: no mount ⇒ no Secret); a container whose env reads that Secret waits
//! with CreateContainerConfigError. The diagnosis names the unmounted volume on the Mount link
//! as the cause (KVC707), lab and manifests alike, and what follows from it says so.

use std::time::Duration;

use kvchain::chain::{Code, LinkKind, Status, diagnose};
use kvchain::snapshot::ContainerStateObs;
use kvchain::source::lab::world::World;
use kvchain::source::lab::{self, export};
use kvchain::source::manifests;

use crate::lab_container_config::checkout_pods;
use crate::lab_nodes::{CLUSTER, HEALTHY, SHOP};

const MOUNT: &str = "          volumeMounts:\n            - name: secrets-store\n              mountPath: /mnt/secrets-store\n              readOnly: true\n";

/// The healthy checkout app with its container's volumeMounts entry removed.
fn unmounted() -> String {
    let app = HEALTHY.replace(MOUNT, "");
    assert_ne!(app, HEALTHY, "the healthy app mounts its volume");
    app
}

fn world(app: &str) -> World {
    let docs = [CLUSTER, SHOP, app].join("\n---\n");
    let sc = lab::scenario::parse("unused", std::path::Path::new("unused.yaml"), &docs)
        .expect("scenario loads");
    let mut w = World::new(sc);
    w.advance(Duration::from_secs(300));
    w
}

#[test]
fn a_csi_volume_no_container_mounts_is_never_mounted_and_its_secret_never_synced() {
    let s = export::snapshot(&world(&unmounted()));
    assert!(
        !s.spc_statuses
            .items
            .iter()
            .any(|st| st.spc_name == "checkout-kv"),
        "no NodePublishVolume, no SPCPS: {:#?}",
        s.spc_statuses.items
    );
    assert!(
        !s.secrets.items.iter().any(|x| x.name == "checkout-db"),
        "no mount, no synced Secret"
    );
    // The kubelet skips the volume silently: no FailedMount for it.
    assert!(
        !s.events
            .items
            .iter()
            .any(|e| e.involved_name.starts_with("checkout-") && e.reason == "FailedMount"),
        "{:#?}",
        s.events.items
    );
    for p in checkout_pods(&s) {
        let app = p.containers.iter().find(|c| c.name == "app").expect("app");
        assert_eq!(
            app.state,
            ContainerStateObs::Waiting {
                reason: "CreateContainerConfigError".into(),
                message: "secret \"checkout-db\" not found".into(),
            },
            "{p:#?}"
        );
    }
}

/// An init container's volumeMounts entry is a use too: the volume is mounted.
#[test]
fn an_init_container_mounting_the_volume_is_enough() {
    let init = unmounted().replace(
        "      containers:\n",
        &format!(
            "      initContainers:\n        - name: fetch\n          image: busybox\n{MOUNT}      containers:\n"
        ),
    );
    let s = export::snapshot(&world(&init));
    for p in checkout_pods(&s) {
        let name = format!("{}-shop-checkout-kv", p.name);
        assert!(
            s.spc_statuses
                .items
                .iter()
                .any(|st| st.name == name && st.mounted),
            "{name}: {:#?}",
            s.spc_statuses.items
        );
    }
    assert!(s.secrets.items.iter().any(|x| x.name == "checkout-db"));
    let chains = diagnose(&s);
    assert!(
        !chains
            .iter()
            .flat_map(|c| c.findings())
            .any(|f| f.code == Code::KVC707),
        "{chains:#?}"
    );
}

/// The unmounted volume is the chain's cause on the Mount link, naming the volume, the owner
/// and the container that reads the synced Secret; the missing Secret follows from it.
#[test]
fn the_lab_diagnosis_names_the_unmounted_volume_as_the_cause() {
    let s = export::snapshot(&world(&unmounted()));
    let chains = diagnose(&s);
    let c = chains
        .iter()
        .find(|c| c.pod.starts_with("checkout-"))
        .expect("checkout chain");
    let root = c.root_cause().expect("a cause");
    assert_eq!(root.code, Code::KVC707, "{c:#?}");
    assert_eq!(root.link, LinkKind::Mount);
    assert_eq!(&*root.resource, "Deployment/checkout");
    assert!(
        root.message.contains("volume secrets-store")
            && root.message.contains("checkout-kv")
            && root.message.contains("checkout-db"),
        "{}",
        root.message
    );
    assert!(
        root.fix.contains("volumeMounts")
            && root.fix.contains("name: secrets-store")
            && root.fix.contains("container app")
            && root.fix.contains("deployment/checkout"),
        "{}",
        root.fix
    );
    assert_eq!(c.link(LinkKind::Mount).status, Status::Broken);
    for l in [LinkKind::Pod, LinkKind::Identity, LinkKind::Access] {
        assert_eq!(c.link(l).status, Status::Ok, "{l:?}: {c:#?}");
    }
    // Everything after the Mount link that is not a latent advice follows from it.
    for f in c.findings().filter(|f| f.link > LinkKind::Mount) {
        assert!(
            f.follows == Some(LinkKind::Mount) || f.severity < kvchain::chain::Severity::Error,
            "{f:#?}"
        );
    }
    assert_ne!(c.link(LinkKind::Sync).status, Status::Broken, "{c:#?}");
    assert_ne!(c.link(LinkKind::Sync).status, Status::Ok, "{c:#?}");
}

/// `check -f`: the manifests say as much, from the pod template alone.
#[test]
fn manifests_report_the_unmounted_volume() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("app.yaml"),
        [SHOP, &unmounted()].join("\n---\n"),
    )
    .expect("write");
    let snap = manifests::load(&[dir.path().to_path_buf()]).expect("loads");
    let chains = diagnose(&snap);
    let c = chains
        .iter()
        .find(|c| c.spc == "checkout-kv")
        .expect("checkout chain");
    let f = c
        .link(LinkKind::Mount)
        .findings
        .iter()
        .find(|f| f.code == Code::KVC707)
        .unwrap_or_else(|| panic!("{c:#?}"));
    assert_eq!(&*f.resource, "Deployment/checkout");
    assert_eq!(c.link(LinkKind::Mount).status, Status::Broken);
    // The healthy template (its container mounts the volume) has no such finding.
    std::fs::write(dir.path().join("app.yaml"), [SHOP, HEALTHY].join("\n---\n")).expect("write");
    let snap = manifests::load(&[dir.path().to_path_buf()]).expect("loads");
    assert!(
        !diagnose(&snap)
            .iter()
            .flat_map(|c| c.findings())
            .any(|f| f.code == Code::KVC707)
    );
}

/// The kubelet skips an unused volume whatever its type: a secret or configMap volume no
/// container mounts may name an object that does not exist, and the pod still starts. Mounted,
/// the same volume fails the pod (the control).
#[test]
fn an_unused_secret_or_config_map_volume_naming_a_missing_object_does_not_block_the_pod() {
    let extra = "      volumes:\n        - name: legacy-creds\n          secret:\n            secretName: legacy-creds\n        - name: legacy-conf\n          configMap:\n            name: legacy-conf\n";
    let app = HEALTHY.replacen("      volumes:\n", extra, 1);
    assert_ne!(app, HEALTHY, "the healthy app declares volumes");
    let s = export::snapshot(&world(&app));
    assert!(
        !s.events
            .items
            .iter()
            .any(|e| e.reason == "FailedMount" && e.message.contains("legacy-")),
        "{:#?}",
        s.events.items
    );
    let pods = checkout_pods(&s);
    assert!(!pods.is_empty());
    for p in pods {
        let app = p.containers.iter().find(|c| c.name == "app").expect("app");
        assert!(
            matches!(app.state, ContainerStateObs::Running { .. }),
            "{p:#?}"
        );
    }
    let chains = diagnose(&s);
    let errors: Vec<_> = (chains.iter().filter(|c| c.pod.starts_with("checkout-")))
        .flat_map(|c| c.findings())
        .filter(|f| f.severity == kvchain::chain::Severity::Error)
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");

    // Control: the same secret volume mounted by the app container fails its setup.
    let mounted = crate::lab_nodes::mounted_by_app(&app, "legacy-creds");
    let s = export::snapshot(&world(&mounted));
    assert!(
        s.events.items.iter().any(|e| e.reason == "FailedMount"
            && e.message.contains("secret \"legacy-creds\" not found")),
        "{:#?}",
        s.events.items
    );
}
