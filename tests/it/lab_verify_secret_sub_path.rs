//! The lab's in-container verify (`x`) of a container that mounts the synced Secret's volume
//! with subPath: the kubelet binds that one file as it is when the container starts, and a
//! subPath mount never sees later updates (FACTS §4: "subPath mounts never see rotated
//! content", atomic-writer symlinks; §11: only rotation rewrites the synced Secret). So the
//! container holds the value the Secret had at its start: verify compares that copy with the
//! Secret now, by fingerprint, and says stale once rotation has rewritten the Secret.

use std::time::Duration;

use kvchain::source::lab::world::World;
use kvchain::source::lab::{export, scenario};

use crate::lab_nodes::{CLUSTER, HEALTHY, SHOP};

/// The new value written: it must never show in verify's output.
const CANARY: &str = "canary-subpath-copy-3a9c";
/// The value the Secret holds before the rotation (shop.yaml's latest version).
const BEFORE: &str = "checkout-pass-v2";

/// A bare pod (nothing restarts it) reading checkout's synced Secret `checkout-db` through a
/// Secret volume: key `password` through subPath, and the same key renamed by `items` at a
/// second subPath.
const READER: &str = r#"apiVersion: v1
kind: Pod
metadata: {name: reader, namespace: shop}
spec:
  containers:
    - name: app
      image: mcr.microsoft.com/azurelinux/busybox:1.36
      volumeMounts:
        - {name: db, mountPath: /etc/app/db-password, subPath: password, readOnly: true}
        - {name: renamed, mountPath: /etc/app/pw, subPath: pw.txt, readOnly: true}
  volumes:
    - name: db
      secret: {secretName: checkout-db}
    - name: renamed
      secret:
        secretName: checkout-db
        items: [{key: password, path: pw.txt}]
"#;

fn world() -> World {
    let docs = [CLUSTER, SHOP, HEALTHY, READER].join("\n---\n");
    let sc = scenario::parse("reader", std::path::Path::new("reader.yaml"), &docs).expect("loads");
    let mut w = World::new(sc);
    w.run_until_stable(Duration::from_secs(3600));
    let s = export::snapshot(&w);
    assert!(
        s.pod("shop", "reader")
            .is_some_and(|p| p.phase == "Running"),
        "the reader runs once the synced Secret exists"
    );
    w
}

fn line<'a>(verify: &'a str, path: &str) -> &'a str {
    verify
        .lines()
        .find(|l| l.starts_with(&format!("subPath {path}:")))
        .unwrap_or_else(|| panic!("no line for subPath {path}: {verify}"))
}

#[test]
fn a_sub_path_copy_of_the_synced_secret_matches_it_before_a_rotation() {
    let w = world();
    let verify = w.verify("shop", "reader", "app").unwrap();
    for path in ["/etc/app/db-password", "/etc/app/pw"] {
        let l = line(&verify, path);
        assert!(
            l.contains("matches Secret checkout-db") && l.contains("key password"),
            "{l}"
        );
    }
    assert!(!verify.contains(BEFORE), "a value leaked: {verify}");
}

#[test]
fn a_sub_path_copy_of_the_synced_secret_is_stale_after_rotation_rewrote_it() {
    let mut w = world();
    w.rotate_secret(
        "kv-shop-lab",
        "checkout-db-password",
        Some(CANARY.as_bytes()),
    )
    .unwrap();
    // One poll (2m) rewrites the mount and then the synced Secret.
    w.advance(Duration::from_secs(180));
    let s = export::snapshot(&w);
    assert_ne!(
        s.secret("shop", "checkout-db").map(|x| x.data.clone()),
        None,
        "the Secret is there"
    );
    let verify = w.verify("shop", "reader", "app").unwrap();
    for path in ["/etc/app/db-password", "/etc/app/pw"] {
        let l = line(&verify, path);
        assert!(
            l.contains("stale") && l.contains("Secret checkout-db") && l.contains("restart"),
            "{l}"
        );
    }
    for value in [CANARY, BEFORE] {
        assert!(!verify.contains(value), "a value leaked: {verify}");
    }
}
