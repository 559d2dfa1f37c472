//! Audit QQQ-users: the TUI and CLI as a trainer and an operator meet them, checked against
//! README, docs/ and FACTS.

use kvchain::chain::{LinkKind, diagnose};

/// The trainer breaks `wrong-role` (Key Vault Crypto User for a secret: KVC502, docs/codes.yaml
/// "a grant exists, but it fits another object type") and repairs it. The rotation's 403 stays
/// on the Access link as history, labelled `history (KVC501)`: a missing grant, which is not
/// what happened. Key Vault answers a missing grant, a grant for another object type and a
/// grant in the model the vault does not enforce with the same 403 (KVC501, KVC502, KVC503),
/// so the label names the three and claims none of them alone.
#[test]
fn a_past_403_is_labelled_with_every_code_its_message_may_be() {
    let labels = history_labels(&["wrong-role"], "RESPONSE 403");
    assert!(!labels.is_empty(), "the 403 kept as history");
    for label in labels {
        assert_eq!(label, "history (KVC501, KVC502 or KVC503)");
    }
}

/// README "Keys": `--read-only` leaves the lab's break menu view-only (`enter` says so) and
/// disables `R` and `M`; docs/scenarios.md "Lesson": the built-in lessons' steps break a link
/// and ask the class to repair it from the break menu (six-hops), or to restart with `R`
/// (rotation). `demo --lesson six-hops --read-only` opened anyway: the lesson applied its fault
/// and then waited for a repair nobody could make. The combination is refused at the command
/// line, naming where read-only came from and what to do instead.
#[test]
fn a_lesson_is_refused_read_only_before_the_tui_starts() {
    use crate::check_manifests::refused;
    let (code, stderr) = refused(&["demo", "--lesson", "six-hops", "--read-only"]);
    assert_eq!(code, Some(2), "{stderr}");
    for said in [
        "--lesson six-hops",
        "--read-only",
        "break menu (b)",
        "without --read-only",
    ] {
        assert!(stderr.contains(said), "{said:?} in {stderr}");
    }
    // From the config file: the file is named, and the way out is another config.
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("config.yaml");
    std::fs::write(&config, "read_only: true\n").expect("config");
    let config = config.to_str().expect("utf-8 path");
    let (code, stderr) = refused(&["demo", "--lesson", "rotation", "--config", config]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("read_only: true in {config}")),
        "{stderr}"
    );
    // A lesson on a frozen snapshot was dropped without a word.
    let (code, stderr) = refused(&["demo", "--snapshot", "x.json", "--lesson", "six-hops"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--lesson"), "{stderr}");
}

/// README "TUI", chain strip: each box has the link's status symbol and colour and the code
/// of the finding that gives it that colour; an ok pod's tree row shows no code. After `M`
/// and its restore on `demo subpath`, billing's subPath copy holds the same value: KVC901 as
/// an info (the link stays ✓). Its box read `✓ files only` / `KVC901` in green, a code whose
/// catalog line is "the process holds the old value" beside a box that says all is well.
#[test]
fn an_info_finding_puts_no_code_in_an_ok_strip_box() {
    use crate::lab_restamp_copies::{marker, restore};
    use kvchain::chain::{Severity, Status};
    use kvchain::ui::strip_text::{body, shown};
    let mut src = crate::actions_lab::settled("subpath");
    let (_, old) = marker(&mut src, "billing-api-key");
    let _ = restore(&mut src, "billing-api-key", old);
    let chains = diagnose(&crate::actions_lab::snapshot(&src));
    let chain = (chains.iter())
        .find(|c| {
            let l = c.link(LinkKind::Consumers);
            l.status == Status::Ok && l.findings.iter().any(|f| f.severity == Severity::Info)
        })
        .expect("an ok Consumers link with an info finding");
    let box_ = shown(chain, LinkKind::Consumers);
    assert_eq!(box_.status, Status::Ok);
    assert_eq!(box_.code, None, "{box_:?}");
    for w in [7, 14, 20] {
        let drawn = body(&box_, w).join(" ");
        assert!(!drawn.contains("KVC"), "{drawn:?} at {w}");
    }
}

/// README "Snapshots": on `demo --snapshot` "the data age is the recording's". The status bar
/// read `data 7810h` for a snapshot recorded 325 days before: hours past a day are read in
/// days, as the events' ages are (`4d ago`), and the bar says the age is the recording's. A
/// recording of the lab carries lab-clock times (docs/scenarios.md: lab time starts at
/// 2026-01-15T09:00:00Z), so its age on the wall clock means nothing: the bar says the lab
/// time it shows.
#[test]
fn a_replayed_snapshot_says_its_age_readably_and_whose_it_is() {
    use crate::ui_frozen_age::status_of_frozen_from;
    use kvchain::snapshot::SourceKind;
    let live = status_of_frozen_from(SourceKind::Live, 325 * 86_400 + 3_600, None);
    assert!(live.contains("snapshot data 325d old"), "{live}");
    let lab = status_of_frozen_from(SourceKind::Lab, 325 * 86_400, None);
    assert!(lab.contains("snapshot at lab time "), "{lab}");
    assert!(
        !lab.contains("data 7800h") && !lab.contains("325d"),
        "{lab}"
    );
}

/// README "TUI": works from 80×24 up; the detail pane shows each finding's message, confirm,
/// fix and evidence; `kvchain explain CODE` is the code's page. On `demo env-stale` at 80×24
/// the detail pane (44 columns) ended KVC901 with its whole page's first paragraph, 2,684
/// characters: some sixty rows under a message that had said the same in its first line.
/// The pane gives the code's first sentence and points to `kvchain explain` for the rest.
#[test]
fn a_findings_about_is_one_sentence_and_names_explain_for_the_rest() {
    use kvchain::chain::Code;
    use kvchain::ui::testing::lines_text;
    use kvchain::ui::views::detail::link_lines;
    let snapshot = kvchain::source::lab::run_check("env-stale", None).expect("built-in scenario");
    let chains = diagnose(&snapshot);
    let chain = (chains.iter())
        .find(|c| c.findings().any(|f| f.code == Code::KVC901))
        .expect("a KVC901 chain");
    let t = kvchain::ui::theme::Theme::default_theme();
    let shown = lines_text(&link_lines(&t, chain, chain.link(LinkKind::Consumers), 44));
    let about = (shown.lines())
        .find(|l| l.trim_start().starts_with("about "))
        .expect("an about line");
    assert!(about.ends_with("More: kvchain explain KVC901"), "{about}");
    assert!(
        about.chars().count() < 300,
        "{} chars: {about}",
        about.len()
    );
    assert!(about.contains("still holds the old value."), "{about}");
}

/// The same for Entra's AADSTS700016 ("application … was not found in the directory"), which
/// docs/codes.yaml gives as the upstream text of both KVC301 (no identity has the clientID)
/// and KVC404 (the identity asked of another tenant): after `spc-wrong-tenant` and its
/// repair, the past event was labelled `history (KVC301)`, the cause it was not.
#[test]
fn a_past_aadsts700016_is_labelled_kvc301_or_kvc404() {
    let labels = history_labels(&["spc-wrong-tenant"], "AADSTS700016");
    assert!(!labels.is_empty(), "the AADSTS700016 kept as history");
    for label in labels {
        assert_eq!(label, "history (KVC301 or KVC404)");
    }
}

/// README "TUI": works from 80×24 up; the lesson pane shows "the step's text and what its
/// check waits for". At 80×24 the pane above the detail had four lines for six-hops' step 2,
/// whose thirteen end with what the class must do ("Repair it: b, sa-client-id-mismatch,
/// enter") and the check it waits for: neither was on screen, and the pane cannot scroll.
/// A step that does not fit above the detail spans the body's width. Since audit VVV-time the
/// detail below keeps room for its finding, which each step asks to read: the lesson keeps
/// three lines or more and scrolls to the rest (README, Lesson).
#[test]
fn a_lesson_step_is_read_whole_at_80x24() {
    use crate::lessons::tui::{key, screen, six_hops_started, tick};
    use crossterm::event::KeyCode;
    use kvchain::ui::app::AppEvent;
    let (mut app, mut src, mut rev) = six_hops_started();
    app.update(AppEvent::Resize(80, 24));
    key(&mut app, &mut src, KeyCode::Char('n'));
    for _ in 0..3 {
        tick(&mut app, &mut src, &mut rev);
    }
    let shown = screen(&mut app);
    assert!(shown.contains("Hop 1, the service account."), "{shown}");
    // The tree and the detail keep rows of their own.
    assert!(shown.contains("Chains · 2 pods"), "{shown}");
    assert!(shown.contains("client-id differs"), "{shown}");
    let mut read = shown.clone();
    key(&mut app, &mut src, KeyCode::BackTab);
    for _ in 0..8 {
        key(&mut app, &mut src, KeyCode::Char('j'));
        read += &screen(&mut app);
    }
    for said in [
        "Repair it: b, sa-client-id-mismatch,",
        "… waiting for: the SA link is ok",
    ] {
        assert!(read.contains(said), "{said:?} in\n{read}");
    }
}

/// The labels of the history facts whose event text holds `text`, on any link of the healthy
/// lab after each of `faults` was applied and repaired.
fn history_labels(faults: &[&str], text: &str) -> Vec<String> {
    let steps: Vec<(&str, bool)> = (faults.iter())
        .flat_map(|f| [(*f, true), (*f, false)])
        .collect();
    let snapshot = super::ui_event_tags::healthy_after(&steps);
    (diagnose(&snapshot).iter())
        .flat_map(|c| c.links.iter().flat_map(|l| l.facts.clone()))
        .filter(|f| f.observed.contains(text) && f.label.starts_with("history"))
        .map(|f| f.label.to_string())
        .collect()
}
