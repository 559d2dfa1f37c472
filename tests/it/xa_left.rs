//! Audit XA-left: the leftovers the last audits named.
//!
//! Reloader's flags, read from the Reloader Deployment seen ([R] stakater/Reloader
//! `internal/pkg/util/util.go` ConfigureReloaderFlags, `pkg/common/common.go` ShouldReload,
//! `internal/pkg/cmd/reloader.go` shouldRunCSIController; FACTS §10):
//! - the SecretProviderClass annotations act only under `--enable-csi-integration=true`
//!   (default false), on the pods' SecretProviderClassPodStatus changes, which the driver
//!   makes only with rotation on;
//! - `--auto-reload-all` restarts a workload that has no `auto` annotation with a value;
//! - `--auto-annotation`, `--secret-annotation`, … rename the keys Reloader reads: the
//!   renamed key is what counts.

use super::reloader_runs::reloader;
use crate::live_support::*;
use kvchain::chain::Code;
use serde_json::{Value, json};

const CANARY_XAL: &str = "CANARY-xal-reloader-synced";

/// The world's pod as a replica of Deployment busybox-deployment (annotated `annotations`),
/// reading synced Secret foosecret through env, with no failure event; the driver's rotation
/// `rotation` (the world's DaemonSet runs it on).
fn env_reader(annotations: Value, rotation: bool) -> FakeApi {
    let api = super::reloader_runs::env_reader_world(annotations, CANARY_XAL);
    if !rotation {
        // The add-on's DaemonSets as the world has them, the driver's without its rotation
        // flag (off, its default: FACTS §4).
        api.replace_silently(DAEMON_SETS, add_on_daemon_sets(false));
    }
    api
}

/// `check` of `api` (JSON): its KVC902 findings and the whole output.
async fn kvc902(api: &FakeApi, scope: &[&str]) -> (Vec<Value>, String) {
    super::reloader_runs::kvc902_with(api, scope, CANARY_XAL).await
}

const SPC_RELOAD: &str = "secretproviderclass.reloader.stakater.com/reload";
const SPC_AUTO: &str = "secretproviderclass.reloader.stakater.com/auto";

/// Flag on and rotation on: the SPC annotation restarts the reader (no KVC902), for either key.
#[tokio::test]
async fn an_spc_annotation_under_a_reloader_with_csi_integration_restarts_the_reader() {
    for ann in [json!({SPC_RELOAD: "azure-sync"}), json!({SPC_AUTO: "true"})] {
        let api = env_reader(ann.clone(), true);
        api.add(DEPLOYMENTS, reloader(&["--enable-csi-integration=true"]));
        let (found, _) = kvc902(&api, &["-A"]).await;
        assert!(found.is_empty(), "{ann}: {found:#?}");
        // `--enable-csi-integration` alone is a pflag bool: true.
        let api = env_reader(ann.clone(), true);
        api.add(DEPLOYMENTS, reloader(&["--enable-csi-integration"]));
        assert!(kvc902(&api, &["-A"]).await.0.is_empty(), "{ann}");
    }
}

/// Flag off on the Reloader seen: KVC902 names that Reloader and the flag; the fix's command
/// is the Secret's annotation (which that Reloader acts on), then how to turn the flag on.
#[tokio::test]
async fn an_spc_annotation_under_a_reloader_without_the_flag_names_it() {
    for args in [&[][..], &["--enable-csi-integration=false"][..]] {
        let api = env_reader(json!({SPC_RELOAD: "azure-sync"}), true);
        api.add(DEPLOYMENTS, reloader(args));
        let (found, _) = kvc902(&api, &["-A"]).await;
        assert_eq!(found.len(), 1, "{args:?}: {found:#?}");
        let message = found[0]["message"].as_str().unwrap();
        assert!(
            message.contains(SPC_RELOAD)
                && message.contains("Reloader (reloader/reloader-reloader) runs without it"),
            "{message}"
        );
        let fix = found[0]["fix"].as_str().unwrap();
        assert!(
            fix.starts_with(&format!(
                "kubectl annotate deployment/busybox-deployment -n {NS} reloader.stakater.com/auto=true"
            )) && fix.contains("reloader.enableCSIIntegration=true"),
            "{fix}"
        );
    }
}

/// Flag on, rotation off: no status changes, so nothing restarts the reader; KVC902 says
/// rotation is what the annotation waits on.
#[tokio::test]
async fn an_spc_annotation_with_rotation_off_is_kvc902_naming_rotation() {
    let api = env_reader(json!({SPC_AUTO: "true"}), false);
    api.add(DEPLOYMENTS, reloader(&["--enable-csi-integration=true"]));
    let (found, _) = kvc902(&api, &["-A"]).await;
    assert_eq!(found.len(), 1, "{found:#?}");
    let message = found[0]["message"].as_str().unwrap();
    assert!(
        message.contains("only with secret rotation on") && !message.contains("runs without it"),
        "{message}"
    );
    let fix = found[0]["fix"].as_str().unwrap();
    assert!(fix.contains("enable-secret-rotation"), "{fix}");
}

/// One namespace read: a Reloader may run elsewhere, with the flag or not: unknown, no finding.
#[tokio::test]
async fn an_spc_annotation_with_no_reloader_read_is_unknown_not_kvc902() {
    let api = env_reader(json!({SPC_RELOAD: "azure-sync"}), true);
    let (found, _) = kvc902(&api, &["-n", NS]).await;
    assert!(found.is_empty(), "{found:#?}");
}

/// `--auto-reload-all`: an unannotated env reader is restarted; `auto: "false"` keeps one out.
#[tokio::test]
async fn auto_reload_all_restarts_an_unannotated_reader() {
    let api = env_reader(json!({}), true);
    api.add(DEPLOYMENTS, reloader(&["--auto-reload-all=true"]));
    let (found, _) = kvc902(&api, &["-A"]).await;
    assert!(found.is_empty(), "{found:#?}");
    let api = env_reader(json!({"reloader.stakater.com/auto": "false"}), true);
    api.add(DEPLOYMENTS, reloader(&["--auto-reload-all"]));
    let (found, _) = kvc902(&api, &["-A"]).await;
    assert_eq!(found.len(), 1, "{found:#?}");
    // A Reloader without it: an unannotated reader still gets KVC902.
    let api = env_reader(json!({}), true);
    api.add(DEPLOYMENTS, reloader(&[]));
    assert_eq!(kvc902(&api, &["-A"]).await.0.len(), 1);
}

/// Renamed annotations: the renamed key restarts, the default one no longer does, and the
/// fix writes the renamed key.
#[tokio::test]
async fn a_renamed_annotation_is_what_counts() {
    let renamed = [
        "--auto-annotation=example.com/auto",
        "--secret-annotation",
        "example.com/secrets",
    ];
    for ann in [
        json!({"example.com/auto": "true"}),
        json!({"example.com/secrets": "foosecret"}),
    ] {
        let api = env_reader(ann.clone(), true);
        api.add(DEPLOYMENTS, reloader(&renamed));
        let (found, _) = kvc902(&api, &["-A"]).await;
        assert!(found.is_empty(), "{ann}: {found:#?}");
    }
    let api = env_reader(json!({"reloader.stakater.com/auto": "true"}), true);
    api.add(DEPLOYMENTS, reloader(&renamed));
    let (found, _) = kvc902(&api, &["-A"]).await;
    assert_eq!(found.len(), 1, "{found:#?}");
    let fix = found[0]["fix"].as_str().unwrap();
    assert!(
        fix.starts_with(&format!(
            "kubectl annotate deployment/busybox-deployment -n {NS} example.com/auto=true"
        )),
        "{fix}"
    );
}

/// The lab's trainer fault that stops Reloader: its Deployment scaled to 0 replicas. The
/// annotated env reader gets KVC902 naming why (README "Lab", docs/scenarios.md), a value
/// rotated meanwhile restarts nothing, and the repair (scaled back) reads healthy again.
#[test]
fn stop_reloader_is_named_restarts_nothing_and_its_repair_reads_healthy() {
    use super::lab_diagnosis::{describe, diagnose, is_app, settled};
    use kvchain::chain::Severity;
    use kvchain::source::lab::faults;

    let mut w = settled("healthy");
    let poll = w.poll_interval();
    let applied = faults::apply(&mut w, "stop-reloader").unwrap();
    assert!(
        applied.contains("Scale Stakater Reloader to 0 replicas"),
        "{applied}"
    );
    w.advance(poll);
    let chains = diagnose(&w);
    let f = (chains.iter().filter(|c| is_app(c, "checkout")))
        .flat_map(|c| c.findings())
        .find(|f| f.code == Code::KVC902)
        .unwrap_or_else(|| panic!("no KVC902\n{}", describe(&chains)))
        .clone();
    assert!(
        f.message.contains("no Reloader acts on it")
            && f.message
                .contains("Reloader (reloader/reloader) is scaled to 0 replicas"),
        "{}",
        f.message
    );
    assert!(
        f.fix
            .starts_with("kubectl scale deployment/reloader -n reloader --replicas=1"),
        "{}",
        f.fix
    );
    // A rotation while it is down: no rollout, so the old pods keep the old env.
    let before: Vec<String> = pods_of(&w, "checkout");
    w.rotate_secret(
        "kv-shop-lab",
        "checkout-db-password",
        Some(b"CANARY-xal-rotated"),
    )
    .unwrap();
    w.advance(poll * 2);
    assert_eq!(
        pods_of(&w, "checkout"),
        before,
        "something restarted checkout"
    );
    // Beside it, the same rotation with Reloader running rolls checkout out.
    let mut running = settled("healthy");
    running.advance(poll);
    let first = pods_of(&running, "checkout");
    running
        .rotate_secret(
            "kv-shop-lab",
            "checkout-db-password",
            Some(b"CANARY-xal-rotated"),
        )
        .unwrap();
    running.advance(poll * 2);
    assert_ne!(
        pods_of(&running, "checkout"),
        first,
        "Reloader rolled nothing"
    );
    // Repaired, before any rotation: healthy within one poll.
    let mut w = settled("healthy");
    faults::apply(&mut w, "stop-reloader").unwrap();
    w.advance(poll);
    let note = faults::repair(&mut w, "stop-reloader").unwrap();
    assert!(note.contains("not replayed"), "{note}");
    w.advance(poll);
    let chains = diagnose(&w);
    let left: Vec<_> = (chains.iter().filter(|c| is_app(c, "checkout")))
        .flat_map(|c| c.findings())
        .filter(|f| f.severity >= Severity::Warning)
        .map(|f| f.code)
        .collect();
    assert!(left.is_empty(), "{left:?}\n{}", describe(&chains));
    // Where no Reloader runs, there is nothing to stop: refused, with why.
    let mut w = settled("healthy");
    w.cluster.reloader = false;
    let err = faults::apply(&mut w, "stop-reloader").unwrap_err();
    assert!(err.contains("no Reloader runs"), "{err}");
}

/// The names of the running pods of Deployment `app` in the lab world.
fn pods_of(w: &kvchain::source::lab::world::World, app: &str) -> Vec<String> {
    let mut names: Vec<String> = (w.pods.values())
        .filter(|p| p.name().starts_with(&format!("{app}-")))
        .map(|p| p.name().to_string())
        .collect();
    names.sort();
    names
}

/// A FailedToCreateSecret whose cause the SPC no longer has: the driver's controller retries
/// that failed reconcile with controller-runtime's backoff (`Requeue: true`: 5 ms doubling at
/// each failure, capped at 1000 s), not at the 5-minute requeue of a reconcile that succeeded
/// (secrets-store-csi-driver `controllers/secretproviderclasspodstatus_controller.go`): the
/// wait said is up to 16m40s, never "every 5 minutes".
#[test]
fn a_corrected_sync_failure_waits_for_the_controllers_backoff_not_five_minutes() {
    let s = super::rules_sync_settled::after_edit("secret type is empty");
    let chains = kvchain::chain::diagnose(&s);
    let f = (chains.iter().flat_map(|c| c.findings()))
        .find(|f| f.link == kvchain::chain::LinkKind::Sync)
        .expect("the Sync failure is shown");
    assert!(
        !f.message.contains("every 5 minutes") && !f.fix.contains("5 minutes"),
        "{f:#?}"
    );
    assert!(f.fix.contains("wait up to 16m40s"), "{}", f.fix);
}
