//! A subPath of the CSI volume after a real rotation (audit A, item 1; FACTS §4: "subPath
//! mounts never see rotated content"): once the driver has mounted a version newer than the
//! one the container's copy was taken from, the copy is old now. That is a current fault
//! (KVC901, as for a subPath of the synced Secret's volume), whose cause is the subPath: the
//! latent KVC102 is not said beside it (one symptom, one cause).

use std::time::Duration;

use kvchain::chain::{self, Chain, Code, LinkKind, Severity};
use kvchain::source::lab::world::World;
use kvchain::source::lab::{self, export};

fn billing(w: &World) -> Chain {
    chain::diagnose(&export::snapshot(w))
        .into_iter()
        .find(|c| c.pod.starts_with("billing-"))
        .expect("billing chain")
}

fn settled() -> World {
    let mut w = World::new(lab::load("subpath").expect("built-in scenario loads"));
    w.run_until_stable(Duration::from_secs(3600));
    w
}

#[test]
fn subpath_of_the_csi_volume_before_any_rotation_is_the_latent_warning_only() {
    let c = billing(&settled());
    let codes: Vec<_> = c
        .findings()
        .filter(|f| f.severity > Severity::Info)
        .map(|f| (f.code, f.severity))
        .collect();
    assert_eq!(codes, vec![(Code::KVC102, Severity::Warning)]);
}

#[test]
fn subpath_of_the_csi_volume_after_a_rotation_is_one_current_error() {
    let mut w = settled();
    w.rotate_secret("kv-shop-lab", "billing-api-key", Some(b"billing-key-2"))
        .unwrap();
    w.advance(Duration::from_secs(180));
    let snap = export::snapshot(&w);
    let c = billing(&w);
    let problems: Vec<_> = c
        .findings()
        .filter(|f| f.severity > Severity::Info)
        .collect();
    assert_eq!(
        problems
            .iter()
            .map(|f| (f.code, f.severity, f.link))
            .collect::<Vec<_>>(),
        vec![(Code::KVC901, Severity::Error, LinkKind::Consumers)],
        "{c:#?}"
    );
    let f = problems[0];
    // Which file, which version it holds against the one mounted, and since when.
    let st = snap
        .spc_statuses
        .items
        .iter()
        .find(|s| s.pod_name == *c.pod)
        .expect("status");
    let now = &st.objects[0].version;
    assert!(f.message.contains("/etc/billing/api-key"), "{}", f.message);
    assert!(
        f.message.contains("subPath billing-api-key"),
        "{}",
        f.message
    );
    assert!(
        f.message.contains(&format!("{now} mounted now")),
        "{}",
        f.message
    );
    assert!(f.message.contains("holds the old value"), "{}", f.message);
    let updated = kvchain::glance::time(st.updated_at.expect("updated"));
    assert!(f.message.contains(&updated), "{}", f.message);
    // The fix restarts the pod and removes the subPath, with the real names.
    assert!(
        f.fix
            .contains("kubectl rollout restart deployment/billing -n shop"),
        "{}",
        f.fix
    );
    assert!(
        f.fix.contains("remove subPath billing-api-key"),
        "{}",
        f.fix
    );
    assert!(!f.fix.contains('<'), "{}", f.fix);
    assert!(c.findings().all(|f| f.code != Code::KVC102), "{c:#?}");
    // No secret value, only versions.
    assert!(!f.message.contains("billing-key-"), "{}", f.message);
    // The strip names a file copy, not an env var the pod does not have (audit D4).
    assert_eq!(c.link(LinkKind::Consumers).summary, "stale file");
}
