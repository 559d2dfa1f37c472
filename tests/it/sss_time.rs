//! Audit SSS-time: evidence in time — events of an earlier pod of the same name, a rotation
//! that fails halfway — judged against FACTS §1, §3, §4 and §11. The worlds are
//! tests/fixtures/lab/sss_time/*.yaml (written from docs/scenarios.md's format); their vault
//! values are canaries (`CANARY-sss-ti`) that no output may show.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use kvchain::chain::diagnose;
use kvchain::source::lab;
use kvchain::ui::app::{App, AppEvent};
use kvchain::ui::config::UiConfig;

use super::mmm_lab::{fixture, link, report_after};

const CANARY: &str = "CANARY-sss-ti";

/// The JSON report of world `name` (tests/fixtures/lab/sss_time/) after `for_` of lab time,
/// its text and JSON checked for the canary.
fn world_at(name: &str, for_: &str) -> Value {
    report_after(&format!("sss_time/{name}"), &["--for", for_], CANARY)
}

fn codes(r: &Value) -> Vec<&str> {
    (r["findings"].as_array().unwrap().iter())
        .map(|f| f["code"].as_str().unwrap())
        .collect()
}

/// The TUI at `w`×`h` on world `name` after `for_` of lab time, the pod whose name starts
/// with `pod` selected.
pub(crate) fn tui_at(name: &str, for_: Duration, pod: &str, (w, h): (u16, u16)) -> App {
    let path = fixture(&format!("sss_time/{name}"));
    let snap = lab::run_check(path.to_str().unwrap(), Some(for_)).expect("scenario");
    let chains = diagnose(&snap);
    let mut app = App::new(snap.source.clone(), UiConfig::default());
    app.update(AppEvent::Resize(w, h));
    app.apply(Arc::new(snap), chains);
    crate::ui_no_data::type_keys(&mut app, &format!("/{pod}"));
    let (_, selected) = app.selected_pod().expect("a pod is selected");
    assert!(selected.starts_with(pod), "{selected}");
    app
}

pub(crate) fn screen(app: &mut App, (w, h): (u16, u16)) -> String {
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).unwrap();
    t.draw(|f| kvchain::ui::views::draw(f, app)).unwrap();
    let buf = t.backend().buffer();
    (0..h)
        .map(|y| (0..w).map(|x| buf[(x, y)].symbol()).collect::<String>() + "\n")
        .collect()
}

/// FACTS §1, §11 ("Evidence ages"): web-0 fails to mount (403, no role) from the start; the
/// role is back at 3m and web-0 is deleted at 3m05s, before the kubelet's next retry, so the
/// StatefulSet's new web-0 (same name, another uid) mounts at once and never fails. The old
/// pod's FailedMount events stay an hour on the name web-0 with the old `involvedObject.uid`:
/// the report is healthy, and the events pane, which lists "the pod's events" (README TUI),
/// must not show them as this pod's — `kubectl describe pod` selects events by
/// `involvedObject.uid` too. It showed `! FailedMount ×8 [Access] 2m ago RESPONSE 403` beside
/// an all-✓ strip; now it leaves them out and says so (left out, not absent).
#[test]
fn an_earlier_pods_events_are_not_the_new_pods_in_the_events_pane() {
    let r = world_at("sss-time-same-name-events.yaml", "4m");
    assert_eq!(r["summary"]["errors"], 0, "{r}");
    assert!(codes(&r).is_empty(), "{r}");
    let chain = &r["chains"][0];
    assert_eq!(link(chain, "access")["status"], "ok", "{chain}");
    assert_eq!(link(chain, "mount")["status"], "ok", "{chain}");

    let size = (120, 40);
    let mut app = tui_at(
        "sss-time-same-name-events.yaml",
        Duration::from_secs(240),
        "web-0",
        size,
    );
    assert!(app.pod_events.is_empty(), "{:#?}", app.pod_events);
    assert!(app.earlier_pod_events > 0);
    let s = screen(&mut app, size);
    assert!(!s.contains("FailedMount"), "{s}");
    assert!(s.contains("no events for this pod"), "{s}");
    assert!(
        s.contains("of an earlier pod of this name (another uid) left out"),
        "{s}"
    );
}

/// FACTS §4, §5, §11: one SPC mounts db-password and api-key and syncs both into api-db; the
/// api container reads api-key through env. api-key gets a new value at 3m, db-password's
/// latest version is disabled at 3m30s: the provider fetches the objects of a mount together,
/// so every poll fails and api-key's new value stays in the vault. One cause: KVC602 on the
/// object; the mount behind the vault (KVC703, past one poll + 60 s) reads blocked by it. Once
/// the version is enabled again (7m) the 8m poll brings api-key to the file and the synced
/// Secret, never to env: KVC901, and the failures are history.
#[test]
fn a_rotation_stuck_behind_another_objects_failure_goes_through_once_it_is_repaired() {
    let name = "sss-time-rotation-halfway.yaml";
    let r = world_at(name, "5m");
    assert_eq!(codes(&r), ["KVC602", "KVC902"], "{r}");
    let chain = &r["chains"][0];
    assert_eq!(link(chain, "vaultObject")["status"], "broken", "{chain}");
    assert_eq!(link(chain, "mount")["status"], "ok", "{chain}");
    assert_eq!(link(chain, "consumers")["status"], "warning", "{chain}");

    let r = world_at(name, "6m30s");
    assert_eq!(r["summary"]["errors"], 1, "{r}");
    let kvc703 = (r["findings"].as_array().unwrap().iter())
        .find(|f| f["code"] == "KVC703")
        .unwrap_or_else(|| panic!("{r}"));
    assert!(
        kvc703["message"]
            .as_str()
            .unwrap()
            .starts_with("blocked by Object"),
        "{kvc703}"
    );
    assert!(
        kvc703["fix"].as_str().unwrap().starts_with("# fix KVC602"),
        "{kvc703}"
    );

    let r = world_at(name, "8m30s");
    assert_eq!(codes(&r), ["KVC901", "KVC902"], "{r}");
    let chain = &r["chains"][0];
    for l in ["vaultObject", "mount", "sync"] {
        assert_eq!(link(chain, l)["status"], "ok", "{l}: {chain}");
    }
    // The failed polls are kept on the link they broke, as history.
    let facts = link(chain, "vaultObject")["facts"].to_string();
    let history = facts.contains("history (KVC602)") && facts.contains("MountRotationFailed");
    assert!(history, "{chain}");
}

/// FACTS §11 (events are history): once the 8m poll went through, the rotation failures of
/// 3m30s–7m are kept as `history` facts, not findings. The events pane listed them as current
/// warnings (`! MountRotationFailed [Object]`, in the warning colour, beside a strip whose
/// Object and Mount links read ✓; audit SSS-time left it); it now tags them `history` and draws
/// them muted, as the chain does.
#[test]
fn the_events_pane_tags_failures_the_diagnosis_keeps_as_history() {
    let size = (160, 40);
    let mut app = tui_at(
        "sss-time-rotation-halfway.yaml",
        Duration::from_secs(510),
        "api",
        size,
    );
    let failures: Vec<_> = (app.pod_events.iter()).filter(|e| e.warning).collect();
    assert!(!failures.is_empty(), "{:#?}", app.pod_events);
    assert!(failures.iter().all(|e| e.history), "{failures:#?}");
    let s = screen(&mut app, size);
    let rows: Vec<&str> = s.lines().filter(|l| l.contains("RotationFailed")).collect();
    assert!(!rows.is_empty(), "{s}");
    assert!(rows.iter().all(|l| l.contains(", history]")), "{s}");
}
