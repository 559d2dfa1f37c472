//! A native sidecar is an init container with `restartPolicy: Always` (Kubernetes docs,
//! "Sidecar Containers"): it keeps running beside the app containers, where a classic init
//! container runs to completion before any of them starts ("Init Containers"). Only the spec
//! tells the two apart before they run, and in a workload's template (`check -f`) always.

use std::path::PathBuf;

use kvchain::chain::{Chain, Code, LinkKind, diagnose};
use kvchain::source::manifests;

fn chain_of<'c>(chains: &'c [Chain], deployment: &str) -> &'c Chain {
    (chains.iter())
        .find(|c| c.workload.as_ref().is_some_and(|w| w.name == deployment))
        .unwrap_or_else(|| panic!("a chain for Deployment/{deployment}"))
}

/// README (Consumers): a classic init container reads its env once, at the pod's start, and
/// runs to completion before the app containers start, so its env read is a fact of the
/// Consumers link, not a restart finding, in a workload's template as on a pod; a native
/// sidecar keeps running and reads as an app container does: nothing restarts it at a
/// rotation (KVC902, no Reloader annotation).
#[test]
fn a_templates_init_container_is_told_from_a_sidecar_by_its_spec() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/manifests/sidecar-spec.yaml");
    let snap = manifests::load(&[path]).expect("loads");
    let chains = diagnose(&snap);

    let migrate = chain_of(&chains, "migrate").link(LinkKind::Consumers);
    assert!(
        !migrate.findings.iter().any(|f| f.code == Code::KVC902),
        "a classic init container holds no env copy to restart: {:#?}",
        migrate.findings
    );
    let said = format!("{:?}", migrate.facts);
    assert!(
        said.contains("read at init") && said.contains("migrate-db"),
        "the link says the init container reads it at the pod's start: {said}"
    );

    let proxied = chain_of(&chains, "proxied").link(LinkKind::Consumers);
    let kvc902: Vec<_> = (proxied.findings.iter())
        .filter(|f| f.code == Code::KVC902)
        .collect();
    assert_eq!(
        kvc902.len(),
        1,
        "the sidecar's env: {:#?}",
        proxied.findings
    );
    assert!(
        !format!("{:?}", proxied.facts).contains("read at init"),
        "{:#?}",
        proxied.facts
    );
}

/// The containers that run for a pod's life (the restart and rotation timelines follow them):
/// a sidecar its spec names is one before it runs (a pod still waiting for its mount); a
/// classic init container never is; where the spec was not read (a snapshot saved before it
/// was), an init container counts as a sidecar only while it runs beside a running app
/// container.
#[test]
fn the_containers_a_pod_runs_for_its_life_include_a_sidecar_its_spec_names() {
    use kvchain::snapshot::{ContainerObs, ContainerStateObs, PodObs};
    let container = |name: &str, init: bool, sidecar: Option<bool>, running: bool| ContainerObs {
        name: name.into(),
        init,
        sidecar,
        state: if running {
            ContainerStateObs::Running {
                started_at: "2026-12-06T10:00:00Z".parse().unwrap(),
            }
        } else {
            ContainerStateObs::Waiting {
                reason: "PodInitializing".into(),
                message: String::new(),
            }
        },
        ..ContainerObs::default()
    };
    let names = |pod: &PodObs| -> Vec<String> {
        pod.app_and_sidecars().map(|c| c.name.to_string()).collect()
    };
    let mut pod = PodObs {
        containers: vec![
            container("proxy", true, Some(true), false),
            container("migrate", true, Some(false), false),
            container("old-snapshot-init", true, None, false),
            container("app", false, None, false),
        ],
        ..PodObs::default()
    };
    assert_eq!(names(&pod), ["proxy", "app"]);
    // Running beside the running app: the unread one is taken for a sidecar, the classic one
    // (which the API never runs then) still is not.
    for c in &mut pod.containers {
        *c = container(&c.name, c.init, c.sidecar, true);
    }
    assert_eq!(names(&pod), ["proxy", "old-snapshot-init", "app"]);
}
