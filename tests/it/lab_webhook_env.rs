//! FACTS §6: the workload-identity webhook injects the AZURE_* variables and the token mount
//! into every container the pod's `azure.workload.identity/skip-containers` annotation does
//! not name, and never overwrites a variable a container already sets. Two causes that live in
//! the pod template, so a restart reproduces them: a container's own AZURE_CLIENT_ID (KVC204)
//! and the annotation naming the app's containers (KVC205). The CSI mount uses the SPC's
//! clientID and is not affected. The lab says it from the pods it made, `check -f` from the
//! same template (no webhook ran there).

use std::time::Duration;

use kvchain::chain::{Chain, Code, Finding, LinkKind, Status, diagnose};
use kvchain::snapshot::{EnvSourceObs, Snapshot};
use kvchain::source::lab::{self, export};
use kvchain::source::manifests;

use super::lab_nodes::{CLUSTER, HEALTHY, SHOP};

/// The healthy scenario's identity: the service account and the SPC both name it.
const CLIENT: &str = "e2ef6ca4-8b82-5fca-9991-b28fc1e02a92";
/// The id the container sets itself.
const OWN: &str = "99999999-2222-4333-8444-555555555555";

const LABELS: &str =
    "      labels:\n        app: checkout\n        azure.workload.identity/use: \"true\"\n";
const ENV: &str = "          env:\n";

/// healthy.yaml with `annotations` on the pod template and `env` entries first in container app.
fn healthy(annotations: &str, env: &str) -> String {
    assert!(HEALTHY.contains(LABELS) && HEALTHY.contains(ENV));
    HEALTHY
        .replacen(
            LABELS,
            &format!("{LABELS}      annotations: {{{annotations}}}\n"),
            1,
        )
        .replacen(ENV, &format!("{ENV}{env}"), 1)
}

fn lab_run(healthy: &str) -> Snapshot {
    let sc = lab::scenario::parse(
        "webhook-env",
        std::path::Path::new("webhook-env.yaml"),
        &[CLUSTER, SHOP, healthy].join("\n---\n"),
    )
    .expect("scenario loads");
    let mut w = lab::world::World::new(sc);
    w.advance(Duration::from_secs(60));
    export::snapshot(&w)
}

/// The same documents read as `check -f` reads them (the lab's own kinds are skipped).
fn manifests_of(healthy: &str) -> Snapshot {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("all.yaml"), [SHOP, healthy].join("\n---\n")).unwrap();
    manifests::load(&[dir.path().to_path_buf()]).expect("loads")
}

fn checkout(chains: &[Chain]) -> Vec<&Finding> {
    chains
        .iter()
        .filter(|c| c.spc == "checkout-kv")
        .flat_map(|c| c.findings())
        .collect()
}

fn only(chains: &[Chain], code: Code) -> &Finding {
    let all = checkout(chains);
    let found: Vec<_> = all.iter().filter(|f| f.code == code).collect();
    assert!(!found.is_empty(), "no {code:?} in {all:#?}");
    found[0]
}

const OWN_ENV: &str = "            - name: AZURE_CLIENT_ID\n              value: 99999999-2222-4333-8444-555555555555\n";

#[test]
fn a_container_setting_its_own_client_id_is_fixed_in_the_template_not_by_a_restart() {
    let yaml = healthy("", OWN_ENV);
    let s = lab_run(&yaml);
    // The lab's webhook kept the container's own value.
    let pod = s
        .pods
        .items
        .iter()
        .find(|p| p.name.starts_with("checkout-"))
        .expect("a pod");
    let held: Vec<_> = pod.containers[0]
        .env
        .iter()
        .filter(|e| e.name == "AZURE_CLIENT_ID")
        .map(|e| e.source.clone())
        .collect();
    assert_eq!(
        held,
        [EnvSourceObs::Literal {
            value: Some(OWN.into())
        }]
    );
    for (source, s) in [("lab", s), ("manifests", manifests_of(&yaml))] {
        let chains = diagnose(&s);
        let f = only(&chains, Code::KVC204);
        let case = format!("{source}: {} / {}", f.message, f.fix);
        assert_eq!(f.resource, "Deployment/checkout", "{case}");
        assert!(
            f.message.contains(&format!(
                "container app of Deployment/checkout sets AZURE_CLIENT_ID {OWN} itself in its pod template"
            )) && f.message.contains(&format!("uses clientID {CLIENT}")),
            "{case}"
        );
        assert!(f.message.contains("never overwrites"), "{case}");
        assert!(!f.message.contains("until the pod is replaced"), "{case}");
        assert!(
            f.fix.starts_with(
                "kubectl set env deployment/checkout -n shop -c app AZURE_CLIENT_ID-  # the webhook then injects e2ef6ca4"
            ),
            "{case}"
        );
        assert!(!f.fix.contains("rollout restart"), "{case}");
        assert!(
            f.evidence
                .iter()
                .any(|e| e.contains(&format!("container app: env AZURE_CLIENT_ID={OWN}"))),
            "{case}"
        );
        // Said once, and the mount is fine.
        assert_eq!(
            checkout(&chains)
                .iter()
                .filter(|f| f.code == Code::KVC204)
                .count(),
            if source == "lab" { 2 } else { 1 },
            "one per chain (two pods in the lab): {case}"
        );
        assert!(
            chains
                .iter()
                .all(|c| c.link(LinkKind::Mount).status != Status::Broken)
        );
    }
    // The container setting the id both agree on is fine.
    let agreed = healthy(
        "",
        &format!("            - name: AZURE_CLIENT_ID\n              value: {CLIENT}\n"),
    );
    for s in [lab_run(&agreed), manifests_of(&agreed)] {
        assert!(
            checkout(&diagnose(&s))
                .iter()
                .all(|f| f.code != Code::KVC204)
        );
    }
}

#[test]
fn skip_containers_naming_the_app_is_the_cause_not_the_accounts_history() {
    let yaml = healthy("azure.workload.identity/skip-containers: \"app\"", "");
    let s = lab_run(&yaml);
    // FACTS §6: the skipped container gets no variable and no token mount; the pod gets the
    // token volume all the same.
    let pod = s
        .pods
        .items
        .iter()
        .find(|p| p.name.starts_with("checkout-"))
        .expect("a pod");
    assert!(
        pod.containers[0]
            .env
            .iter()
            .all(|e| !e.name.starts_with("AZURE_"))
    );
    assert!(
        pod.containers[0]
            .mounts
            .iter()
            .all(|m| m.volume != "azure-identity-token")
    );
    assert!(pod.volumes.iter().any(|v| v.name == "azure-identity-token"));
    for (source, s) in [("lab", s), ("manifests", manifests_of(&yaml))] {
        let chains = diagnose(&s);
        let all = checkout(&chains);
        assert!(
            all.iter().all(|f| f.code != Code::KVC204),
            "{source}: {all:#?}"
        );
        let f = only(&chains, Code::KVC205);
        let case = format!("{source}: {} / {:?} / {}", f.message, f.evidence, f.fix);
        assert!(
            f.message
                .contains("azure.workload.identity/skip-containers: \"app\""),
            "{case}"
        );
        assert!(f.message.contains("no AZURE_* variable"), "{case}");
        assert!(f.message.contains("CSI mount is not affected"), "{case}");
        assert!(!f.message.contains("the account had none"), "{case}");
        assert_eq!(
            f.fix,
            "kubectl patch deployment/checkout -n shop -p '{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"azure.workload.identity/skip-containers\":null}}}}}'  # only if the app calls Azure itself: the CSI mount needs no injection",
            "{case}"
        );
        // The evidence says what the pod holds: no injected token file.
        assert!(
            f.evidence
                .iter()
                .all(|e| !e.contains("AZURE_FEDERATED_TOKEN_FILE injected")),
            "{case}"
        );
        if source == "lab" {
            assert!(
                f.evidence
                    .iter()
                    .any(|e| e.contains("container app: no AZURE_* variable; no token mount")),
                "{case}"
            );
        }
        assert!(
            chains
                .iter()
                .all(|c| c.link(LinkKind::Mount).status != Status::Broken)
        );
    }
}

/// A skip list naming another container only (a sidecar) is a choice: the app is injected.
#[test]
fn skip_containers_naming_only_a_sidecar_is_no_finding() {
    let yaml = healthy(
        "azure.workload.identity/skip-containers: \" log ; other\"",
        "",
    )
    .replacen(
        "      containers:\n",
        "      containers:\n        - name: log\n          image: busybox\n",
        1,
    );
    for s in [lab_run(&yaml), manifests_of(&yaml)] {
        let chains = diagnose(&s);
        let all = checkout(&chains);
        assert!(
            all.iter()
                .all(|f| f.code != Code::KVC204 && f.code != Code::KVC205),
            "{all:#?}"
        );
    }
}
