//! The lab world on its own: webhook, mounts and FailedMount shapes, SPCPS, synced Secrets and
//! their owners, GC, env snapshots, rotation, throttling, Reloader, faults, clock. These assert
//! what the simulated AKS does, independent of diagnosis.

use std::time::Duration;

use kvchain::fingerprint::Fingerprint;
use kvchain::snapshot::{ContainerStateObs, EnvSourceObs, Snapshot, VolumeSourceObs};
use kvchain::source::lab::world::{LabPod, Stage, World};
use kvchain::source::lab::{self, export, faults};

pub(crate) fn world(name: &str) -> World {
    World::new(lab::load(name).expect("built-in scenario loads"))
}

pub(crate) fn settled(name: &str) -> World {
    let mut w = world(name);
    w.run_until_stable(Duration::from_secs(3600));
    w
}

pub(crate) fn pods<'a>(w: &'a World, app: &str) -> Vec<&'a LabPod> {
    let prefix = format!("{app}-");
    w.pods
        .values()
        .filter(|p| p.name().starts_with(&prefix) && p.stage != Stage::Terminating)
        .map(|p| &**p)
        .collect()
}

pub(crate) fn events<'a>(
    s: &'a Snapshot,
    app: &str,
    reason: &str,
) -> Vec<&'a kvchain::snapshot::EventObs> {
    let prefix = format!("{app}-");
    s.events
        .items
        .iter()
        .filter(|e| e.involved_name.starts_with(&prefix) && e.reason == reason)
        .collect()
}

pub(crate) fn fp(v: &str) -> Fingerprint {
    Fingerprint::of(v.as_bytes())
}

pub(crate) fn secret_fp(s: &Snapshot, name: &str, key: &str) -> Option<Fingerprint> {
    s.secrets
        .items
        .iter()
        .find(|x| x.name == name)
        .and_then(|x| x.data.get(key).copied())
}

pub(crate) fn minutes(m: u64) -> Duration {
    Duration::from_secs(60 * m)
}

#[test]
fn healthy_chain_mounts_writes_spcps_syncs_secret_and_starts() {
    let w = settled("healthy");
    let s = export::snapshot(&w);
    let running = pods(&w, "checkout");
    assert_eq!(running.len(), 2);
    let latest = w.vaults["kv-shop-lab"].objects[&(
        kvchain::snapshot::ObjectType::Secret,
        "checkout-db-password".into(),
    )]
        .latest()
        .unwrap()
        .id
        .clone();
    for p in running {
        assert_eq!(p.stage, Stage::Running);
        let spcps_name = format!("{}-shop-checkout-kv", p.name());
        let st = s
            .spc_statuses
            .items
            .iter()
            .find(|x| x.name == spcps_name)
            .expect("SPCPS named <pod>-<ns>-<spc>");
        assert!(st.mounted);
        assert_eq!(st.objects.len(), 1);
        assert_eq!(st.objects[0].id, "secret/checkout-db-password");
        assert_eq!(st.objects[0].version, latest);
        assert!(
            st.target_path.contains(p.uid())
                && st
                    .target_path
                    .ends_with("/volumes/kubernetes.io~csi/secrets-store/mount")
        );
        // the file is written under the alias, with the latest version's value
        assert_eq!(
            st.files.as_ref().unwrap().get("db-password"),
            Some(&fp("checkout-pass-v2"))
        );
        assert_eq!(
            p.env.get("app", "DB_PASSWORD").copied().unwrap(),
            fp("checkout-pass-v2")
        );
    }
    let secret = s
        .secrets
        .items
        .iter()
        .find(|x| x.name == "checkout-db")
        .unwrap();
    assert!(secret.driver_managed());
    assert_eq!(secret.data["password"], fp("checkout-pass-v2"));
    assert_eq!(secret.owners.len(), 1);
    assert_eq!(secret.owners[0].kind, "ReplicaSet");
    assert!(
        !secret.owners[0].controller,
        "driver copies owners without the controller flag"
    );
    assert!(
        s.events.items.iter().all(|e| e.type_ != "Warning"),
        "{:#?}",
        s.events.items
    );
    // Deployment → ReplicaSet named like the controller does
    let rs = s
        .workloads
        .items
        .iter()
        .find(|x| x.kind == "ReplicaSet")
        .unwrap();
    assert!(rs.name.starts_with("checkout-") && rs.name.len() == "checkout-".len() + 10);
}

#[test]
fn webhook_mutates_labelled_pods_only_and_at_create_only() {
    let w = settled("missing-label");
    let s = export::snapshot(&w);
    let checkout = s
        .pods
        .items
        .iter()
        .find(|p| p.name.starts_with("checkout-"))
        .unwrap();
    let env: Vec<(&str, Option<&str>)> = checkout.containers[0]
        .env
        .iter()
        .filter_map(|e| match &e.source {
            EnvSourceObs::Literal { value } => Some((e.name.as_str(), value.as_deref())),
            _ => None,
        })
        .collect();
    let names: Vec<&str> = env.iter().map(|e| e.0).collect();
    assert_eq!(
        names,
        [
            "AZURE_CLIENT_ID",
            "AZURE_TENANT_ID",
            "AZURE_FEDERATED_TOKEN_FILE",
            "AZURE_AUTHORITY_HOST"
        ]
    );
    assert!(checkout.volumes.iter().any(|v| matches!(&v.source,
        VolumeSourceObs::Projected { token_audiences, .. } if token_audiences == &["api://AzureADTokenExchange"])));
    let reviews = s
        .pods
        .items
        .iter()
        .find(|p| p.name.starts_with("reviews-"))
        .unwrap();
    assert!(
        reviews.containers[0]
            .env
            .iter()
            .all(|e| !e.name.starts_with("AZURE_"))
    );
    assert!(
        reviews
            .volumes
            .iter()
            .all(|v| v.name != "azure-identity-token")
    );
    // ...but the mount does not depend on the webhook
    assert_eq!(pods(&w, "reviews")[0].stage, Stage::Running);
}

#[test]
fn failed_mounts_carry_the_real_message_shapes() {
    let w = settled("default");
    let s = export::snapshot(&w);
    let cases = [
        (
            "orders",
            vec![
                "AADSTS70021",
                "Assertion Subject: 'system:serviceaccount:shop:orders'",
                "ClientAssertionCredential authentication failed",
            ],
        ),
        (
            "payments",
            vec![
                "AADSTS70021",
                "Assertion Issuer: 'https://westeurope.oic.prod-aks.azure.com/",
            ],
        ),
        (
            "invoices",
            vec![
                "RESPONSE 403: 403 Forbidden",
                "ForbiddenByRbac",
                "Action: 'Microsoft.KeyVault/vaults/certificates/read'",
            ],
        ),
        (
            "catalog",
            vec!["RESPONSE 404", "SecretNotFound", "catalog-api-key"],
        ),
        (
            "partners",
            vec!["AADSTS700016", "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"],
        ),
        (
            "shipping",
            vec!["failed to yaml unmarshal objects, error: "],
        ),
    ];
    for (app, needles) in cases {
        let p = pods(&w, app);
        assert_eq!(p.len(), 1, "{app}");
        assert_eq!(p[0].stage, Stage::Mounting, "{app}");
        let evs = events(&s, app, "FailedMount");
        let first = evs
            .iter()
            .find(|e| e.message.starts_with("MountVolume.SetUp failed for volume \"secrets-store\" : rpc error: code = Unknown desc = failed to mount secrets store objects for pod shop/"))
            .unwrap_or_else(|| panic!("{app}: no FailedMount: {evs:#?}"));
        for n in needles {
            assert!(
                first.message.contains(n),
                "{app}: {n:?} not in {}",
                first.message
            );
        }
        assert!(first.count > 3, "{app}: retried with back-off");
        assert_eq!(first.source, "kubelet");
        assert!(
            evs.iter().any(|e| e.message.starts_with(
                "Unable to attach or mount volumes: unmounted volumes=[secrets-store]"
            )),
            "{app}"
        );
        // no SPCPS without a successful mount
        assert!(
            !s.spc_statuses
                .items
                .iter()
                .any(|x| x.pod_name == p[0].name()),
            "{app}"
        );
        let pod = s.pods.items.iter().find(|x| x.name == p[0].name()).unwrap();
        assert_eq!(pod.phase, "Pending");
        assert!(
            matches!(&pod.containers[0].state, ContainerStateObs::Waiting { reason, .. } if reason == "ContainerCreating")
        );
    }
}

#[test]
fn mount_back_off_doubles_up_to_two_minutes() {
    let mut w = world("object-not-found");
    w.advance(minutes(30));
    let s = export::snapshot(&w);
    let count = events(&s, "catalog", "FailedMount")
        .iter()
        .find(|e| e.message.contains("SecretNotFound"))
        .unwrap()
        .count;
    // 1,2,4…64 s then every 122 s: ~8 + 28/2 ≈ 21 attempts in 30 minutes, not 1800.
    assert!((15..=25).contains(&count), "{count}");
}

#[test]
fn alias_mismatch_syncs_nothing_and_env_consumer_cannot_start() {
    let w = settled("alias-mismatch");
    let s = export::snapshot(&w);
    assert!(s.secrets.items.iter().all(|x| x.name != "search-secrets"));
    let ev = &events(&s, "search", "FailedToCreateSecret")[0];
    assert_eq!(
        ev.message,
        "failed to get data in spc shop/search-kv for secret search-secrets, err: file matching objectName search-es-password not found in the pod"
    );
    assert_eq!(ev.source, "csi-secrets-store-controller");
    let pod = s
        .pods
        .items
        .iter()
        .find(|p| p.name.starts_with("search-"))
        .unwrap();
    assert_eq!(
        pod.containers[0].state,
        ContainerStateObs::Waiting {
            reason: "CreateContainerConfigError".into(),
            message: "secret \"search-secrets\" not found".into()
        }
    );
    // the mount itself succeeded: SPCPS with the alias file
    let st = s
        .spc_statuses
        .items
        .iter()
        .find(|x| x.pod_name == pod.name)
        .unwrap();
    assert!(st.files.as_ref().unwrap().contains_key("es-password"));
}

#[test]
fn every_fault_breaks_then_repairs_the_observable_configuration() {
    for f in faults::CATALOGUE {
        let mut w = settled("healthy");
        let before = config_view(&export::snapshot(&w));
        faults::apply(&mut w, f.id).unwrap_or_else(|e| panic!("{}: {e}", f.id));
        assert!(
            faults::apply(&mut w, f.id).is_err(),
            "{}: applied twice",
            f.id
        );
        w.advance(minutes(5));
        let broken = config_view(&export::snapshot(&w));
        assert_ne!(before, broken, "{}: no visible change", f.id);
        faults::repair(&mut w, f.id).unwrap();
        w.run_until_stable(minutes(30));
        let after = export::snapshot(&w);
        assert_eq!(before, config_view(&after), "{}: not repaired", f.id);
        assert_eq!(pods(&w, "checkout").len(), 2, "{}", f.id);
        assert!(
            pods(&w, "checkout")
                .iter()
                .all(|p| p.stage == Stage::Running),
            "{}",
            f.id
        );
    }
}

/// The configuration a fault may touch (not versions or runtime state).
fn config_view(s: &Snapshot) -> String {
    // A grant given back is a new assignment, made when the repair ran (ARM's createdOn): the
    // same configuration otherwise (audit WWW-rules).
    let mut ras = s.azure.role_assignments.clone();
    (ras.items.iter_mut()).for_each(|r| r.created_on = None);
    // Likewise a credential corrected in place is written again (ARM's lastModifiedAt, audit
    // XB-left).
    let mut identities = s.azure.identities.clone();
    for i in &mut identities.items {
        if let kvchain::snapshot::Observed::Known(fics) = &mut i.federated_credentials {
            fics.iter_mut().for_each(|f| f.modified_at = None);
        }
    }
    let mut v = serde_json::json!({
        "identities": identities,
        "ras": ras,
        "vaults": s.azure.vaults,
        "spcs": s.spcs.items.iter().map(|x| &x.parameters).collect::<Vec<_>>(),
        "sas": s.service_accounts,
        "rotation": s.cluster.csi_driver.known().map(|c| c.rotation_enabled.clone()),
        // The Reloader Deployments seen, with their replicas (`stop-reloader`).
        "reloader": s.cluster.reloader,
        "objects": s.azure.objects.iter().map(|o| (o.name.clone(), o.state.known().map(|x| x.as_ref().map(|x| x.versions.iter().map(|v| v.enabled).collect::<Vec<_>>())))).collect::<Vec<_>>(),
        "workloads": s.workloads.items.iter().filter(|w| w.kind == "Deployment").map(|w| &w.name).collect::<Vec<_>>(),
        "labels": s.pods.items.iter().filter(|p| !p.deleting).map(|p| p.labels.get("azure.workload.identity/use").cloned()).collect::<Vec<_>>(),
    });
    v.as_object_mut().unwrap().retain(|_, x| !x.is_null());
    v.to_string()
}

#[test]
fn same_scenario_same_world_deterministically() {
    let a = serde_json::to_string(&export::snapshot(&settled("default"))).unwrap();
    let b = serde_json::to_string(&export::snapshot(&settled("default"))).unwrap();
    assert_eq!(a, b);
}

/// Audit OO2: the TUI's ticker advances the lab by a fraction of a second (100 ms of real time
/// × the speed), `check --lab` by whole seconds. The lab is deterministic (README §Lab), so the
/// same scenario at the same lab time is the same world whatever the caller's steps: pods
/// start, rotate and expire events at the same lab times.
#[test]
fn the_same_lab_time_gives_the_same_world_whatever_the_steps() {
    let end = minutes(10);
    let mut whole = world("default");
    while whole.clock.elapsed() < end {
        whole.advance(Duration::from_secs(1));
    }
    // Uneven sub-second and over-a-second steps, like the TUI's at ×0.1 … ×30.
    let steps = [10, 30, 3_000, 270, 990, 1_700, 10, 5];
    let mut small = world("default");
    for ms in steps.iter().cycle() {
        let left = end - small.clock.elapsed();
        if left.is_zero() {
            break;
        }
        small.advance(Duration::from_millis(*ms).min(left));
    }
    assert_eq!(small.clock.elapsed(), whole.clock.elapsed());
    let a = serde_json::to_string_pretty(&export::snapshot(&whole)).unwrap();
    let b = serde_json::to_string_pretty(&export::snapshot(&small)).unwrap();
    // The first pods start at the first tick, one lab second in, in both.
    assert!(
        a.contains("2026-01-15T09:00:01Z"),
        "no start at the first tick"
    );
    if a != b {
        let first = a
            .lines()
            .zip(b.lines())
            .position(|(x, y)| x != y)
            .unwrap_or(0);
        panic!(
            "1-s steps and small steps differ at line {first}:\n  1-s:   {}\n  small: {}",
            a.lines().nth(first).unwrap_or(""),
            b.lines().nth(first).unwrap_or("")
        );
    }
}

#[test]
fn run_until_stable_waits_two_quiet_polls_after_the_timeline() {
    let mut w = world("env-stale");
    let ran = w.run_until_stable(Duration::from_secs(3600));
    // last change: rotation at the 2m poll; then two quiet 2m polls
    assert!(ran >= minutes(6) && ran < minutes(8), "{ran:?}");
    let mut g = World::new(lab::load("generated:50").unwrap());
    let ran = g.run_until_stable(Duration::from_secs(3600));
    assert!(ran < minutes(10), "{ran:?}");
}

#[test]
fn generated_world_has_n_pods_and_its_planted_faults() {
    let w = settled("generated:100");
    let s = export::snapshot(&w);
    assert_eq!(s.pods.items.len(), 100);
    let running = w
        .pods
        .values()
        .filter(|p| p.stage == Stage::Running)
        .count();
    // every tenth workload (5 pods) is broken: 2 of 20 workloads
    assert_eq!(running, 90);
}

/// Faults stack (docs/scenarios.md): rotation can be turned off while the SPC's objects are
/// unreadable (it needs no object). A timeline event the world refuses (the same fault
/// twice) did not happen, and the snapshot says so as unread input instead of a trainer
/// wondering why the lab ignored it.
#[test]
fn faults_stack_on_a_broken_spc_and_a_refused_timeline_event_is_reported() {
    use kvchain::source::lab::scenario::{LabAction, TimedEvent};
    let mut sc = lab::load("healthy").expect("built-in scenario loads");
    for (secs, id) in [
        (60, "break-objects-yaml"),
        (80, "disable-rotation"),
        (90, "disable-rotation"),
    ] {
        sc.timeline.push(TimedEvent {
            at: Duration::from_secs(secs),
            action: LabAction::ApplyFault { id: id.into() },
        });
    }
    let mut w = World::new(sc);
    w.advance(minutes(2));
    let s = export::snapshot(&w);
    let csi = s.cluster.csi_driver.known().expect("driver known");
    assert_eq!(csi.rotation_enabled.known(), Some(&false));
    assert_eq!(s.source.unread.len(), 1, "{:#?}", s.source.unread);
    let why = &s.source.unread[0];
    assert!(
        why.contains("1m 30s") && why.contains("disable-rotation"),
        "{why}"
    );
    assert!(why.contains("already applied"), "{why}");
}
