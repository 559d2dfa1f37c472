//! Audit RRR-users: the TUI as a trainer, an operator and a developer meet it, at 80×24 and
//! smaller, checked against README "TUI" and "Keys".

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kvchain::chain::{Chain, LinkKind, diagnose};
use kvchain::ui::app::{App, AppEvent};
use kvchain::ui::config::UiConfig;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;

/// The TUI on the lab's `default` scenario showing `chains` only, at `w`×`h`.
fn app_on(chains: Vec<Chain>, w: u16, h: u16) -> App {
    let snapshot = lab_default();
    let mut app = App::new(snapshot.source.clone(), UiConfig::default());
    app.update(AppEvent::Resize(w, h));
    app.apply(Arc::new(snapshot), chains);
    app
}

fn press(app: &mut App, code: KeyCode) {
    app.update(AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

/// The rows inside `area`'s border, as drawn.
pub(crate) fn rows_in(app: &mut App, area: impl Fn(&App) -> Rect) -> Vec<String> {
    let mut t = Terminal::new(TestBackend::new(app.size.width, app.size.height)).unwrap();
    t.draw(|f| kvchain::ui::views::draw(f, app)).unwrap();
    let r = area(app);
    let buf = t.backend().buffer();
    (r.y + 1..r.y + r.height.saturating_sub(1))
        .map(|y| {
            (r.x + 1..r.x + r.width.saturating_sub(1))
                .map(|x| buf[(x, y)].symbol())
                .collect()
        })
        .collect()
}

/// The lab's `default` scenario as `demo` opens it.
fn lab_default() -> kvchain::snapshot::Snapshot {
    kvchain::source::lab::run_check("default", None).expect("built-in scenario")
}

/// The chains of the lab's `default` scenario.
fn lab_chains() -> Vec<Chain> {
    diagnose(&lab_default())
}

/// README "TUI", Detail: a line too long for the pane goes on under where its text started.
/// At 80 columns the detail pane of `demo`'s catalog chain (KVC601, a secret not in the vault)
/// continued its evidence and its `about` at column 0, under the labels `seen` and `about`,
/// where they read as lines of their own.
#[test]
fn a_wrapped_detail_line_goes_on_under_its_text_at_80_columns() {
    let catalog = (lab_chains().into_iter())
        .find(|c| c.pod.starts_with("catalog-"))
        .expect("the catalog chain");
    // 80 columns, tall enough for the whole pane.
    let mut app = app_on(vec![catalog], 80, 100);
    assert_eq!(
        app.link,
        LinkKind::VaultObject,
        "it opens on its worst link"
    );
    let rows = rows_in(&mut app, |a| a.areas().detail);
    let labelled = |r: &str| {
        ["  seen     ", "  about    "]
            .iter()
            .any(|l| r.starts_with(l))
    };
    let mut continued = 0;
    for pair in rows.windows(2) {
        let [row, next] = [&pair[0], &pair[1]];
        if labelled(row) && !next.trim().is_empty() && !next.starts_with("  ") {
            panic!(
                "{next:?} continues {row:?} at column 0:\n{}",
                rows.join("\n")
            );
        }
        if labelled(row) && next.starts_with(&" ".repeat(11)) {
            continued += 1;
        }
    }
    assert!(continued >= 2, "some evidence wraps:\n{}", rows.join("\n"));
}

/// README "TUI", Detail: a command too long for the pane, selected as a block from its first
/// character and pasted, is the same command. Every confirm and fix command of `demo`, on
/// every link, at 80 and 120 columns: bash reads the pasted rows as it reads the command
/// (`declare -f` prints both the same). The pane cut a command at a blank and went on at
/// column 0: pasted, `az keyvault secret show --vault-name kv-shop-lab -n` ran alone, and
/// a block selection lost the start of every continued row.
#[test]
fn a_wrapped_command_pastes_as_the_same_command() {
    use kvchain::ui::fix_text::{Fix, parse};
    let mut commands = Vec::new();
    let mut pasted = Vec::new();
    for width in [80, 120] {
        for chain in lab_chains() {
            for kind in LinkKind::ALL {
                let link = chain.link(kind);
                if link.findings.is_empty() {
                    continue;
                }
                for f in &link.findings {
                    for text in [&f.confirm, &f.fix] {
                        if let Fix::Command { command, .. } = parse(text) {
                            commands.push(command.to_string());
                        }
                    }
                }
                let mut app = app_on(vec![chain.clone()], width, 150);
                app.link = kind;
                let rows = rows_in(&mut app, |a| a.areas().detail);
                pasted.extend(command_blocks(&rows));
            }
        }
    }
    assert!(commands.len() > 20, "{} commands", commands.len());
    assert_eq!(pasted.len(), commands.len(), "{pasted:#?}");
    let wrapped = pasted.iter().filter(|p| p.contains('\n')).count();
    assert!(wrapped > 10, "{wrapped} commands wrap");
    // A single-quoted word cut as `'ab'\` then `'cd'` reads back as `'ab''cd'`: the same
    // word as `'abcd'` (two quoted strings side by side are one word).
    let same = |s: String| s.replace("''", "");
    assert_eq!(same(bash_reads(&pasted)), same(bash_reads(&commands)));
    for p in &pasted {
        assert!(
            p.lines().skip(1).all(|l| !l.starts_with(' ')),
            "each row starts under the command's first character: {p}"
        );
    }
}

/// What a block selection from each `$ `'s command to its last row pastes: the rows from
/// where the command starts, their trailing blanks dropped (terminals drop them), one per line.
fn command_blocks(rows: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < rows.len() {
        let prompt = ["  confirm  $ ", "  fix      $ "]
            .iter()
            .any(|p| rows[i].starts_with(p));
        if !prompt {
            i += 1;
            continue;
        }
        let from = 13;
        let cut = |r: &str| -> String {
            r.chars()
                .skip(from)
                .collect::<String>()
                .trim_end()
                .to_string()
        };
        let mut block = vec![cut(&rows[i])];
        while block.last().is_some_and(|l| l.ends_with('\\')) && i + 1 < rows.len() {
            i += 1;
            block.push(cut(&rows[i]));
        }
        out.push(block.join("\n"));
        i += 1;
    }
    out
}

/// Each of `commands` as bash reads it: the body of a function, printed back by `declare -f`.
fn bash_reads(commands: &[String]) -> String {
    let mut script = String::new();
    for (i, c) in commands.iter().enumerate() {
        script.push_str(&format!("f{i}() {{\n{c}\n}}\ndeclare -f f{i}\n"));
    }
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .output()
        .expect("bash");
    assert!(
        out.status.success(),
        "{}\n{script}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// README "TUI", Lesson and "Keys", `tab`: a step too tall for its pane says on its border
/// which lines show and how to scroll them; the pane takes the focus (`shift-tab` from the
/// tree) and the moving keys scroll it. At 80×24 six-hops' step 7 (a broken `objects` YAML,
/// with the skipped steps' faults still applied) needs more lines than the seven the pane
/// across the body gets: what the check waits for was below the border, out of reach.
#[test]
fn a_lesson_step_taller_than_its_pane_scrolls_at_80x24() {
    use crate::lessons::tui::{key, screen, six_hops_started, tick};
    let (mut app, mut src, mut rev) = six_hops_started();
    app.update(AppEvent::Resize(80, 24));
    for _ in 0..6 {
        key(&mut app, &mut src, KeyCode::Char('n'));
        tick(&mut app, &mut src, &mut rev);
    }
    let waits = "… waiting for: the chain is healthy again";
    let shown = screen(&mut app);
    assert!(shown.contains("step 7 of 8"), "{shown}");
    assert!(!shown.contains(waits), "the step is cut at 80×24:\n{shown}");
    assert!(shown.contains("shift-tab then j/k: lines 1–"), "{shown}");
    key(&mut app, &mut src, KeyCode::BackTab);
    assert!(screen(&mut app).contains(" j/k: lines 1–"));
    key(&mut app, &mut src, KeyCode::Char('G'));
    let shown = screen(&mut app);
    assert!(shown.contains(waits), "scrolled to its end:\n{shown}");
    assert!(!shown.contains("Hop 4, the mounted file."), "{shown}");
    let end = app.lesson_scroll;
    key(&mut app, &mut src, KeyCode::Char('k'));
    assert_eq!(
        app.lesson_scroll,
        end - 1,
        "k scrolls back up, from the end"
    );
    // The next step starts at its first line; tab leaves the pane for the tree.
    key(&mut app, &mut src, KeyCode::Char('n'));
    tick(&mut app, &mut src, &mut rev);
    assert!(screen(&mut app).contains("step 8 of 8"));
    assert_eq!(app.lesson_scroll, 0);
    key(&mut app, &mut src, KeyCode::Tab);
    assert_eq!(app.focus, kvchain::ui::app::Pane::Tree);
    // Smaller than 80×24: the notice, and no key scrolls anything or panics.
    for (w, h) in [(60, 15), (20, 5), (1, 1)] {
        app.update(AppEvent::Resize(w, h));
        key(&mut app, &mut src, KeyCode::BackTab);
        key(&mut app, &mut src, KeyCode::Char('j'));
        let shown = screen(&mut app);
        assert!(shown.contains("small") || w < 20, "{w}×{h}: {shown}");
    }
}

/// Without a lesson the pane cycle is the four panes README "Keys" names.
#[test]
fn without_a_lesson_tab_cycles_four_panes() {
    let mut app = app_on(lab_chains(), 80, 24);
    let mut seen = Vec::new();
    for _ in 0..4 {
        press(&mut app, KeyCode::Tab);
        seen.push(app.focus);
    }
    use kvchain::ui::app::Pane;
    assert_eq!(seen, [Pane::Strip, Pane::Detail, Pane::Events, Pane::Tree]);
    press(&mut app, KeyCode::BackTab);
    assert_eq!(app.focus, Pane::Events);
}

/// README "Keys", Mouse: "a click on a strip box selects that link". The click was mapped by
/// `width / 9` while the boxes are laid out by ratio, some a cell wider: at 80 columns a click
/// on the right edge of the Pod box selected SA, and the further right the more columns of a
/// box selected the next link. Each column of the strip selects the box drawn there.
#[test]
fn a_click_on_a_strip_box_selects_that_link() {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    for width in [80, 100, 120, 157] {
        let mut app = app_on(lab_chains(), width, 30);
        let mut t = Terminal::new(TestBackend::new(width, 30)).unwrap();
        t.draw(|f| kvchain::ui::views::draw(f, &mut app)).unwrap();
        let buf = t.backend().buffer().clone();
        // A box starts where its top-left corner is drawn (┌, or ╔/┏ when selected).
        let starts: Vec<u16> = (0..width)
            .filter(|&x| ["┌", "╔", "┏"].contains(&buf[(x, 0)].symbol()))
            .collect();
        assert_eq!(starts.len(), 9, "{width}: {starts:?}");
        for x in 0..width {
            let drawn = starts.iter().rposition(|&s| s <= x).unwrap();
            app.update(AppEvent::Mouse(MouseEvent {
                kind: MouseEventKind::Down(MouseButton::Left),
                column: x,
                row: 1,
                modifiers: KeyModifiers::NONE,
            }));
            assert_eq!(app.link, LinkKind::ALL[drawn], "{width} columns, x={x}");
        }
    }
}

/// README "Keys": disabled actions stay in the help, greyed and marked ⊘, and the help says
/// why (`⊘ disabled: --read-only`). A replayed recording (`demo --snapshot FILE`, README:
/// "frozen: … actions disabled") greyed the actions and the lab's keys of a lab recording with
/// no reason given: neither read-only, nor lab only applied.
#[test]
fn the_help_says_why_a_replay_greys_its_actions() {
    use kvchain::ui::app::Mode;
    for (w, h) in [(80, 24), (120, 40)] {
        let mut app = app_on(lab_chains(), w, h);
        app.frozen = Some("frozen snapshot lab.json".into());
        app.mode = Mode::Help;
        let rows = rows_in(&mut app, |a| {
            ratatui::layout::Rect::new(0, 0, a.size.width, a.size.height)
        });
        let help = rows.join("\n");
        assert!(help.contains("⊘R"), "{help}");
        // Nothing is re-read from a recording (`ctrl-r` says so): its key is greyed too.
        assert!(help.contains("⊘ctrl-r"), "{w}×{h}:\n{help}");
        assert!(
            help.contains("⊘ disabled: frozen snapshot"),
            "{w}×{h}:\n{help}"
        );
    }
}

/// README "TUI": the terminal is restored on every terminating signal, and the exit status is
/// the shell's for a process the signal ended, 128 + its number. kvchain first exited 0, as if
/// the user had quit (a supervisor, or a script's `kvchain demo && …`, read `kill -TERM` as
/// success), then exited 143 by choice: the shell printed the same `$?`, but systemd counts
/// only death by SIGTERM, SIGINT or SIGHUP as a clean stop (exit 143 is a failure), and a
/// shell loop stops on ctrl-c only when its child died of SIGINT. So the process ends by the
/// signal itself once the terminal is restored. SIGQUIT's default would dump core, which may
/// hold a revealed value: it exits 131 instead.
#[test]
fn a_terminating_signal_ends_the_process_as_that_signal() {
    use crate::ui_pty::Pty;
    // The signal's name as strsignal(3) gives it, which is what portable_pty reports.
    for (signal, ended_by, code) in [
        ("TERM", Some("Terminated"), 1),
        ("HUP", Some("Hangup"), 1),
        ("INT", Some("Interrupt"), 1),
        ("QUIT", None, 131),
    ] {
        let mut pty = Pty::spawn_env(&["demo"], &[]);
        pty.wait_for("the chains to load", |s| {
            s.contains("Chains ·") && !s.contains("Loading")
        });
        let pid = pty.pid();
        let sent = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success());
        let status = pty.exit_within_20s();
        assert_eq!(status.signal(), ended_by, "SIG{signal}: {status:?}");
        // portable_pty gives a process a signal ended exit code 1; the shell says 128 + n.
        assert_eq!(status.exit_code(), code, "SIG{signal}: {status:?}");
        assert!(!status.success(), "SIG{signal}: {status:?}");
    }
}
