//! KVC102's fix for a subPath copy of the CSI volume (FACTS §4: a subPath file never sees
//! rotated content) must work when pasted: the API refuses two volumeMounts at one path, so
//! the fix never proposes a mountPath the container already uses; when the volume is mounted
//! whole in the same container, that directory already has the file and the subPath mount
//! simply goes (audit O, noted: it proposed the whole mount's own path).

use kvchain::chain::testkit::{self as tk, APP};
use kvchain::chain::{Code, diagnose};
use kvchain::snapshot::*;

fn with_sub_path(whole_at: &str) -> Snapshot {
    let mut s = tk::healthy();
    let pod = tk::pod_mut(&mut s, APP);
    let csi = pod
        .volumes
        .iter()
        .find(|v| matches!(v.source, VolumeSourceObs::Csi { .. }))
        .expect("the app's CSI volume")
        .name
        .clone();
    let c = &mut pod.containers[0];
    c.mounts.retain(|m| m.volume != csi);
    c.mounts.push(MountObs {
        volume: csi.clone(),
        path: whole_at.into(),
        sub_path: None,
        read_only: true,
    });
    c.mounts.push(MountObs {
        volume: csi,
        path: "/etc/db/password".into(),
        sub_path: Some("db-password".into()),
        read_only: true,
    });
    s
}

fn fix_of_102(s: &Snapshot) -> String {
    let chains = diagnose(s);
    chains
        .iter()
        .flat_map(|c| c.findings())
        .find(|f| f.code == Code::KVC102)
        .unwrap_or_else(|| panic!("{chains:#?}"))
        .fix
        .to_string()
}

#[test]
fn a_sub_path_beside_the_whole_volume_is_removed_and_the_app_pointed_into_it() {
    let fix = fix_of_102(&with_sub_path("/mnt/secrets"));
    assert!(fix.contains("/mnt/secrets/db-password"), "{fix}");
    assert!(fix.contains("remove the volumeMount"), "{fix}");
    assert!(!fix.contains("set mountPath"), "{fix}");
}

#[test]
fn the_directory_proposed_is_one_no_other_mount_of_the_container_uses() {
    // The whole volume is not mounted, but another mount sits at the path the fix would pick.
    let mut s = with_sub_path("/mnt/secrets");
    let pod = tk::pod_mut(&mut s, APP);
    let c = &mut pod.containers[0];
    let volume = c.mounts[c.mounts.len() - 1].volume.clone();
    c.mounts.retain(|m| m.sub_path.is_some());
    c.mounts.push(MountObs {
        volume: "cache".into(),
        path: format!("/mnt/{volume}").as_str().into(),
        sub_path: None,
        read_only: false,
    });
    let fix = fix_of_102(&s);
    assert!(fix.contains(&format!("/mnt/{volume}-files")), "{fix}");
}
