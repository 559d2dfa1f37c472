//! Audit XC-left: the leftovers the last session's note named, each made true. Lab scenarios
//! are tests/fixtures/lab/xc-left-*.yaml (written from docs/scenarios.md's format); their
//! vault values are canaries (`CANARY-xcleft-`) that no output may show.

use kvchain::chain::testkit::{self as tk, APP};
use kvchain::chain::{Code, diagnose};
use serde_json::Value;

use super::mmm_lab::report_after;
use super::rules_event_objects::{failing, not_found};

use crate::www_scen::findings;

const CANARY: &str = "CANARY-xcleft";
const PIN: &str = "xc-left-pin-missing.yaml";
const MISSING: &str = "0123456789abcdef0123456789abcdef";
const HELD: &str = "587ec93b07b19301173cdb945d773fe6";

/// FACTS §5 (objectVersion: that version is fetched, "" or latest the latest), §9 (a version
/// the vault does not hold answers 404), codes.yaml KVC601 (a pinned version not there: the
/// objectVersion edit is its fix) and KVC603 (a pin: rotation never picks up a new version).
/// A pin to a version the vault lacks fails the mount: one cause, KVC601, whose message names
/// the pin and whose fix is the edit; KVC603's "remove objectVersion" for the same pin would be
/// a second voice of it. Before, KVC603 stood beside KVC601 for db-password.
#[test]
fn a_pin_to_a_missing_version_is_one_cause_and_a_held_pin_keeps_kvc603() {
    let r = report_after(PIN, &[], CANARY);
    let missing = findings(&r, "KVC601");
    assert_eq!(missing.len(), 1, "{r:#}");
    let f = missing[0];
    let message = f["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("db-password has no version {MISSING}"))
            && message.contains("objects[0] pins it with objectVersion"),
        "{message}"
    );
    assert!(
        f["fix"]
            .as_str()
            .unwrap()
            .contains("objects[0].objectVersion"),
        "{f}"
    );
    // The pin that resolves (api-key's) is still said; the missing one is not said twice.
    let pins = findings(&r, "KVC603");
    assert_eq!(pins.len(), 1, "{r:#}");
    let pin = pins[0]["message"].as_str().unwrap();
    assert!(
        pin.contains(&format!("objects[1] api-key pins objectVersion {HELD}")),
        "{pin}"
    );
    assert!(
        !r.to_string()
            .contains(&format!("pins objectVersion {MISSING}")),
        "{r:#}"
    );
}

/// The same pin known only from the refused mount (the Azure side unread): the provider's
/// per-object wrapper names the version asked (FACTS §5), KVC601 says it is not there and
/// edits the pin; KVC603 for that pin is not said beside it. Before, it was.
#[test]
fn a_pin_a_refused_mount_names_is_one_cause_with_the_vault_unread() {
    let name = tk::object_name(APP);
    let s = failing(
        "secret",
        Some(tk::V2),
        404,
        "SecretNotFound",
        &not_found("secret", &format!("{name}/{}", tk::V2)),
    );
    let chains = diagnose(&s);
    let all: Vec<_> = chains.iter().flat_map(|c| c.findings()).collect();
    assert!(
        all.iter()
            .any(|f| f.code == Code::KVC601 && f.message.contains(tk::V2)),
        "{all:#?}"
    );
    assert!(!all.iter().any(|f| f.code == Code::KVC603), "{all:#?}");
}

/// The other direction, the vault unread and no mount refused: the pin is all that is known,
/// and KVC603 says it (unknown is not absent).
#[test]
fn a_pin_with_the_vault_unread_and_no_refusal_keeps_kvc603() {
    let mut s = tk::healthy();
    let name = tk::object_name(APP);
    let item = vec![
        ("objectName", name.as_str()),
        ("objectType", "secret"),
        ("objectVersion", tk::V2),
    ];
    tk::set_objects(tk::spc_mut(&mut s, APP), tk::objects_yaml(&[&item]));
    s.azure = kvchain::snapshot::AzureObs::unknown("no Azure credentials");
    let chains = diagnose(&s);
    let all: Vec<_> = chains.iter().flat_map(|c| c.findings()).collect();
    assert!(all.iter().any(|f| f.code == Code::KVC603), "{all:#?}");
}

// ---------------------------------------------------------------- KVC303's new identity

/// Runs `fix` in bash with `az` and `kubectl` stubbed (each call logged, each printing a
/// stand-in value): (exit status, stderr, the logged calls). `-u` makes an unset variable an
/// error, as a reader pasting into a strict shell gets.
fn run_stubbed(fix: &str, strict: bool) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("calls.log");
    for tool in ["az", "kubectl"] {
        let path = dir.path().join(tool);
        std::fs::write(
            &path,
            format!(
                "#!/bin/sh\necho \"{tool} $*\" >> '{}'\necho stand-in\n",
                log.display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = std::process::Command::new("bash");
    if strict {
        cmd.arg("-u");
    }
    let out = cmd
        .args(["-c", fix])
        .env("PATH", path)
        .env_remove("IDENTITY_NAME")
        .env_remove("IDENTITY_RG")
        // What the cluster's guards ask for (audit XD-paste): the identity's are the test.
        .env("CLUSTER_RG", "rg-aks")
        .env("CLUSTER", "aks")
        .output()
        .unwrap();
    let calls = std::fs::read_to_string(&log).unwrap_or_default();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        calls,
    )
}

/// The node identity in use, the service account naming no identity and none federated for
/// it: KVC303's move creates one. README ("a fix works when pasted") and the AKS guide
/// (az identity create in the cluster's resource group): with the cluster's resource group
/// known, the paste names the identity (from the pods' account) and its group, and the create
/// runs with them even under `bash -u`. Before, `"$IDENTITY_RG"` and `"$IDENTITY_NAME"` were
/// set by nothing: `bash -u` stopped at "unbound variable", plain bash ran
/// `az identity create -g "" -n ""`.
#[test]
fn the_move_to_a_new_identity_names_it_and_its_group_when_the_snapshot_knows_them() {
    let mut s = crate::rules_identity_fixes::vm_identity();
    tk::sa_mut(&mut s, APP)
        .annotations
        .remove("azure.workload.identity/client-id");
    tk::identity_mut(&mut s, APP).federated_credentials =
        kvchain::snapshot::Observed::Known(Vec::new());
    s.cluster.resource_group = Some("rg-aks".into());
    s.cluster.name = Some("aks-xcleft".into());
    let c = super::cause_kit::one(&s);
    let f = super::cause_kit::find(&c, Code::KVC303);
    super::iii_paste::assert_parses(&f.fix);
    if !super::iii_paste::bash_present() {
        return;
    }
    let (_, stderr, calls) = run_stubbed(&f.fix, true);
    assert!(!stderr.contains("unbound variable"), "{stderr}\n{}", f.fix);
    let want = format!(
        "az identity create -g rg-aks -n id-{}-{}",
        tk::NS,
        tk::sa_name(APP)
    );
    assert_eq!(
        calls.lines().next(),
        Some(want.as_str()),
        "{calls}\n{}",
        f.fix
    );
}

/// The same move from manifests (`check -f`): the cluster's resource group is not in them, so
/// the paste stops at a guard that says what to set, before anything is created (the house
/// style of `: "${VAR:?…}"`). Before, `az identity create -g "" -n ""` ran.
#[test]
fn the_move_to_a_new_identity_stops_at_a_guard_when_its_group_is_unknown() {
    let spc = "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {name: app-kv, namespace: shop}\nspec:\n  provider: azure\n  parameters: {useVMManagedIdentity: 'true', userAssignedIdentityID: 7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918, keyvaultName: kv-shop, tenantId: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b, objects: \"array:\\n  - |\\n    objectName: db\\n    objectType: secret\\n\"}\n";
    let app = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app, namespace: shop}\nspec:\n  selector: {matchLabels: {app: app}}\n  template:\n    metadata: {labels: {app: app}}\n    spec:\n      serviceAccountName: app\n      containers:\n      - name: c\n        image: i\n        volumeMounts: [{name: kv, mountPath: /mnt/kv, readOnly: true}]\n      volumes:\n      - name: kv\n        csi: {driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {secretProviderClass: app-kv}}\n";
    let (_, r, _) = crate::manifest_run::check_docs(&[spc, app]);
    let fixes = crate::manifest_run::findings_of(&r, "KVC303");
    assert!(!fixes.is_empty(), "{r:#}");
    for f in fixes {
        let fix = f["fix"].as_str().unwrap();
        super::iii_paste::assert_parses(fix);
        assert!(
            crate::xd_paste::after_guards(fix).starts_with("IDENTITY_NAME=id-shop-app && "),
            "{fix}"
        );
        if !super::iii_paste::bash_present() {
            continue;
        }
        let (ok, stderr, calls) = run_stubbed(fix, false);
        assert!(!ok, "{fix}");
        assert!(
            stderr.contains("IDENTITY_RG: set IDENTITY_RG to"),
            "{stderr}"
        );
        assert!(calls.is_empty(), "ran before the guard: {calls}");
    }
}

// ---------------------------------------------------------------- KVC710 beside a mount

/// Kubernetes' StatefulSet controller (updateStorage: "If pod has conflicting local Volumes
/// these are replaced with Volumes that conform to the set's templates"): the set's pods get
/// the claim where its CSI volume of api-kv was meant, while a Deployment's pods mount api-kv.
/// The set's pods have no chain of api-kv and the Deployment's chain is not theirs, so KVC710
/// is said once, on the SPC's side (`spcs`, marked mounted by others), with its rename fix,
/// in text and JSON; exit 1. Before, KVC710 was said only for an SPC no pod mounts: here,
/// nothing (exit 0 over the error).
#[test]
fn a_claim_replaced_volume_is_said_when_another_workload_mounts_the_spc() {
    let file = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/xc_left/claim-beside-deployment.yaml");
    let file = file.to_str().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "-f", file, "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "an error finding: exit 1");
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let said = findings(&r, "KVC710");
    assert_eq!(said.len(), 1, "{r:#}");
    let f = said[0];
    assert_eq!(f["resource"], "StatefulSet/db", "{f:#}");
    let message = f["message"].as_str().unwrap();
    assert!(
        message.contains("volumeClaimTemplates[data] has the same name")
            && message.contains("pods of other workloads mount it")
            && !message.contains("no pod mounts"),
        "{message}"
    );
    assert!(
        f["fix"].as_str().unwrap().starts_with(
            "kubectl edit statefulset/db -n shop  # in spec.template.spec: rename the CSI volume data to secrets-store,"
        ),
        "{f:#}"
    );
    let spc = (r["spcs"].as_array().unwrap().iter())
        .find(|s| s["name"] == "api-kv")
        .unwrap_or_else(|| panic!("{:#}", r["spcs"]));
    assert_eq!(spc["codes"], serde_json::json!(["KVC710"]), "{spc:#}");
    assert_eq!(spc["mounted_by_others"], true, "{spc:#}");
    // The Deployment's chain is healthy as to the mount: not flagged with the set's error.
    for c in r["chains"].as_array().unwrap() {
        let codes = c["codes"].as_array().unwrap();
        assert!(!codes.iter().any(|x| x == "KVC710"), "{c:#}");
    }
    let text = std::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "-f", file, "-o", "text"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert_eq!(text.matches("KVC710 error").count(), 1, "{text}");
    assert!(
        text.contains("which a StatefulSet means to mount too")
            && !text.contains("mounted by no pod"),
        "{text}"
    );
}

// ---------------------------------------------------------------- the help overlay's wheel

fn wheel(a: &mut kvchain::ui::app::App, kind: crossterm::event::MouseEventKind) {
    a.update(kvchain::ui::app::AppEvent::Mouse(
        crossterm::event::MouseEvent {
            kind,
            column: 40,
            row: 12,
            modifiers: crossterm::event::KeyModifiers::NONE,
        },
    ));
}

fn drawn(a: &mut kvchain::ui::app::App) -> String {
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(
        a.size.width,
        a.size.height,
    ))
    .unwrap();
    t.draw(|f| kvchain::ui::views::draw(f, a)).unwrap();
    t.backend().to_string()
}

/// README's keys: the wheel scrolls the pane under it; the help overlay, open over the panes,
/// is the one thing to scroll then (j/k and the page keys scroll it). A notch down moves the
/// help's text (not the tree under it), a notch up brings it back. Before, the wheel did
/// nothing while the help was open.
#[test]
fn the_wheel_scrolls_the_help_overlay_while_it_is_open() {
    use crossterm::event::{KeyCode, MouseEventKind};
    use kvchain::ui::app::Mode;
    // At 80×24 the help just fits; a long config path (wrapped on the right) and read-only's
    // line make it longer than the overlay, as more bindings or a narrow column do.
    let config = kvchain::ui::config::UiConfig {
        file: Some(std::path::PathBuf::from(
            "/home/operator/.config/kvchain/clusters/production-westeurope/config.yaml",
        )),
        no_reveal: true,
        ..Default::default()
    };
    let mut a = super::ui_app::app(kvchain::ui::testing::demo_chains(), config);
    a.update(kvchain::ui::app::AppEvent::Resize(80, 24));
    let selected = a.tree.selected;
    super::ui_app::key(&mut a, KeyCode::Char('?'));
    assert_eq!(a.mode, Mode::Help);
    let top = drawn(&mut a);
    wheel(&mut a, MouseEventKind::ScrollDown);
    let down = drawn(&mut a);
    assert!(a.help_scroll > 0, "the wheel did not scroll the help");
    assert_ne!(top, down, "the help's text did not move:\n{down}");
    assert_eq!(a.mode, Mode::Help);
    assert_eq!(a.tree.selected, selected, "the tree under the help moved");
    wheel(&mut a, MouseEventKind::ScrollUp);
    assert_eq!(a.help_scroll, 0);
    assert_eq!(drawn(&mut a), top);
}

// ---------------------------------------------------------------- six-hops, step 4

/// The lesson pane's text (inside its border), its wrapped rows joined by spaces.
fn lesson_pane(a: &mut kvchain::ui::app::App) -> String {
    let rows = crate::rrr_users::rows_in(a, |a| a.areas().lesson);
    rows.join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The six-hops lesson with step 3 (the federated credential's subject typo) skipped: the
/// typo stays applied, so at step 4 the token exchange fails before Key Vault is asked, and
/// KVC501 follows Federation's cause (one symptom, one cause: FACTS §11, AADSTS70021). The
/// step's check (Access broken with KVC501) cannot pass; the pane says so where it says what
/// it waits for: blocked by the Federation link, the fault by name, and the keys that repair
/// it. Before, only the general "still applied from skipped steps" line hinted at it.
#[test]
fn step_four_says_the_skipped_federation_fault_blocks_it_and_how_to_repair_it() {
    use crossterm::event::KeyCode;
    use kvchain::source::lab::{self, export};
    use kvchain::source::{LabControl, SourceCommand, SourceEvent};
    use kvchain::ui::app::{AppEvent, Effect};
    let mut src = lab::open("lesson-six-hops", None).unwrap();
    src.world_mut()
        .run_until_stable(std::time::Duration::from_secs(600));
    let (lesson, target) = lab::find_lesson(&src, "six-hops").unwrap();
    let snapshot = export::snapshot(src.world());
    let mut a = kvchain::ui::app::App::new(
        snapshot.source.clone(),
        kvchain::ui::config::UiConfig::default(),
    );
    a.update(AppEvent::Resize(160, 45));
    let faults = |fx: Vec<Effect>| -> Vec<LabControl> {
        fx.into_iter()
            .filter_map(|e| match e {
                Effect::Command(SourceCommand::Lab(c @ LabControl::Fault { .. })) => Some(c),
                _ => None,
            })
            .collect()
    };
    let mut sent = faults(a.start_lesson(lab::lesson::LessonRun::new(lesson, target)));
    a.update(AppEvent::Source(SourceEvent::Snapshot(
        std::sync::Arc::new(snapshot),
    )));
    // Step 1 reads out; step 2 (the account) and step 3 (the credential) are skipped.
    for _ in 0..3 {
        sent.extend(faults(super::ui_app::key(&mut a, KeyCode::Char('n'))));
    }
    // Step 4: the class breaks the role, as the step asks.
    sent.push(LabControl::Fault {
        id: "remove-role-assignment".into(),
        apply: true,
        target: Some(kvchain::source::FaultTarget {
            kind: "Deployment".into(),
            namespace: "shop".into(),
            name: "checkout".into(),
        }),
    });
    for c in &sent {
        src.control(c).expect("applies");
    }
    src.world_mut().advance(std::time::Duration::from_secs(300));
    a.update(AppEvent::Source(SourceEvent::Lab(src.status())));
    a.update(AppEvent::Source(SourceEvent::Snapshot(
        std::sync::Arc::new(export::snapshot(src.world())),
    )));
    assert_eq!(
        a.lesson.as_ref().map(|r| r.step),
        Some(3),
        "still at step 4"
    );
    let pane = lesson_pane(&mut a);
    assert!(
        pane.contains("the Access link is broken with KVC501 — blocked: the Federation link breaks first, as fic-subject-typo (a skipped step's) is still applied; b, fic-subject-typo, enter repairs it"),
        "{pane}"
    );
}
