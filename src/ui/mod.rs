//! The TUI: browse chains, see broken links live, act with one key.
//!
//! Shape (television / oxker style): the source runs in its own task and sends events; a
//! diagnoser task keeps only the newest pending snapshot, diagnoses off the UI task what
//! changed since the last one ([`Feed`]) and forwards the chains; the UI loop turns key, mouse, tick and source events into
//! state changes ([`app::App::update`]) and redraws from state only when something changed.
//! Idle, the loop sleeps on its inputs (a one-second tick for the data age): no busy redraw.

pub mod app;
pub mod config;
pub mod contexts;
pub mod fix_text;
pub mod gaps;
pub mod keymap;
pub mod layout;
pub mod lesson;
pub mod strip_text;
pub mod subject;
pub mod testing;
pub mod theme;
pub mod ticks;
pub mod tree;
pub mod verified;
pub mod views;

use std::io::{self, IsTerminal, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use base64::Engine;
use crossterm::event::{DisableMouseCapture, EnableMouseCapture, Event, EventStream};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use futures::StreamExt;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::layout::{Position, Rect};
use tokio::sync::mpsc;

use crate::action::ActionOutcome;
use crate::chain::engine::{Feed, Finish};
use crate::cli::UiArgs;
use crate::source::{Source, SourceCommand, SourceEvent, Unanswered, request};
use app::{App, AppEvent, Effect};

const SOURCE_STOPPED: &str = "the source has stopped";

pub async fn run(source: Box<dyn Source>, ui: &UiArgs) -> anyhow::Result<()> {
    run_full(source, ui, None, None).await
}

/// The TUI, with a lesson's pane when `lesson` is given (`demo --lesson`).
pub async fn run_with_lesson(
    source: Box<dyn Source>,
    ui: &UiArgs,
    lesson: Option<crate::source::lab::lesson::LessonRun>,
) -> anyhow::Result<()> {
    run_full(source, ui, None, lesson).await
}

/// [`run`], saying first why the lab opened instead of a cluster (`fallback`), with a lesson's
/// pane when `lesson` is given.
pub async fn run_full(
    source: Box<dyn Source>,
    ui: &UiArgs,
    fallback: Option<String>,
    lesson: Option<crate::source::lab::lesson::LessonRun>,
) -> anyhow::Result<()> {
    let config = config::load(ui)?;
    // Said before the TUI takes the terminal (and the screen would hide them).
    for w in config.themes.warnings() {
        crate::say!("{w}");
    }
    if !io::stdout().is_terminal() {
        anyhow::bail!(
            "the TUI needs a terminal; for text or JSON output use `kvchain check` (--lab, -f)"
        );
    }
    let ignore = config.ignore.clone();
    let mut app = App::new(source.info(), config);
    app.frozen = source.frozen();
    if let Some(why) = fallback {
        app.lab_fallback(why);
    }

    let (source_tx, source_rx) = mpsc::unbounded_channel();
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let (app_tx, mut app_rx) = mpsc::unbounded_channel();
    let source_task = tokio::spawn(source.run(source_tx, cmd_rx));
    let diagnoser_task = tokio::spawn(diagnoser_with(source_rx, app_tx.clone(), ignore));

    // The lesson's first fault waits in the command queue until the source runs.
    if let Some(run) = lesson {
        for effect in app.start_lesson(run) {
            if let Effect::Command(c) = effect {
                let _ = cmd_tx.send(c);
            }
        }
    }
    let mut terminal = TerminalGuard::enter()?;
    if let Ok(size) = terminal.terminal.size() {
        app.update(AppEvent::Resize(size.width, size.height));
    }
    let mut signalled = None;
    let result = event_loop(
        &mut terminal,
        &mut app,
        &mut app_rx,
        &app_tx,
        &cmd_tx,
        &mut signalled,
    )
    .await;
    drop(terminal);

    // Closing the command channel tells the source to stop; give it a moment, then abort.
    drop(cmd_tx);
    if tokio::time::timeout(Duration::from_secs(2), source_task)
        .await
        .is_err()
    {
        tracing::warn!("source did not stop within 2s");
    }
    diagnoser_task.abort();
    // Ended by a signal: not 0 as if the user had quit (a supervisor or a script
    // `kvchain demo && …` read a kill as success). The terminal is restored by now.
    if let (Ok(()), Some(signo)) = (&result, signalled) {
        die_of(signo);
    }
    result
}

/// End the process by `signo` itself, its handler put back to the default, once the terminal
/// is restored: the parent then sees a process the signal ended, not one that chose to exit.
/// The shell reports either as 128 + the number (143 for SIGTERM), but a shell loop stops on
/// ctrl-c only when its child died of SIGINT, and systemd counts death by SIGTERM, SIGINT or
/// SIGHUP as a clean stop where it counts exit status 143 as a failure. SIGQUIT's default
/// action dumps core, which could hold a revealed value: it exits 131 instead.
fn die_of(signo: i32) -> ! {
    #[cfg(unix)]
    if signo != nix::libc::SIGQUIT
        && let Ok(signal) = nix::sys::signal::Signal::try_from(signo)
    {
        use nix::sys::signal::{SigHandler, SigSet, raise};
        // SAFETY: the default disposition runs no code of ours in the handler.
        let _ = unsafe { nix::sys::signal::signal(signal, SigHandler::SigDfl) };
        let mut only = SigSet::empty();
        only.add(signal);
        let _ = only.thread_unblock();
        let _ = raise(signal);
    }
    // Not ended (the signal could not be raised): the status the shell would have shown.
    std::process::exit(128 + signo)
}

/// Every terminating signal a terminal user or a supervisor sends: each ends the loop like
/// `q`, so the guard restores the terminal (SIGINT and SIGQUIT come from `kill`, since raw
/// mode turns ctrl-c and ctrl-\ into keys; SIGHUP when the terminal window closes).
struct Signals {
    #[cfg(unix)]
    listeners: Vec<((&'static str, i32), tokio::signal::unix::Signal)>,
}

impl Signals {
    fn new() -> anyhow::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let mut listeners = Vec::new();
            // The numbers POSIX gives them (the same on Linux and macOS).
            for (name, signo, kind) in [
                ("SIGTERM", 15, SignalKind::terminate()),
                ("SIGINT", 2, SignalKind::interrupt()),
                ("SIGHUP", 1, SignalKind::hangup()),
                ("SIGQUIT", 3, SignalKind::quit()),
            ] {
                let s = signal(kind).with_context(|| format!("cannot listen for {name}"))?;
                listeners.push(((name, signo), s));
            }
            Ok(Signals { listeners })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    /// The name and number of the next signal received.
    async fn recv(&mut self) -> (&'static str, i32) {
        #[cfg(unix)]
        {
            let waits = self.listeners.iter_mut().map(|(name, s)| {
                Box::pin(async move {
                    s.recv().await;
                    *name
                })
            });
            futures::future::select_all(waits).await.0
        }
        #[cfg(not(unix))]
        std::future::pending().await
    }
}

/// Raw mode + alternate screen + mouse, undone on drop, on panic (hook) and therefore on
/// every exit path: quit, error, and each terminating signal ([`Signals`]).
struct TerminalGuard {
    terminal: Terminal<CrosstermBackend<io::Stdout>>,
}

fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

impl TerminalGuard {
    fn enter() -> anyhow::Result<Self> {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore_terminal();
            previous(info);
        }));
        enable_raw_mode().context("cannot switch the terminal to raw mode")?;
        let mut stdout = io::stdout();
        if let Err(e) = execute!(stdout, EnterAlternateScreen, EnableMouseCapture) {
            restore_terminal();
            return Err(e).context("cannot enter the alternate screen");
        }
        let terminal = Terminal::new(CrosstermBackend::new(stdout)).inspect_err(|_| {
            restore_terminal();
        })?;
        Ok(TerminalGuard { terminal })
    }
}

impl TerminalGuard {
    /// ctrl-z: the terminal handed back as the shell had it, the process stopped (SIGTSTP,
    /// whose default action stops it: no handler is installed for it), and on `fg` (SIGCONT)
    /// raw mode, the alternate screen and the mouse taken again and the whole screen redrawn.
    #[cfg(unix)]
    fn suspend(&mut self) -> Result<(), String> {
        restore_terminal();
        let stopped = nix::sys::signal::raise(nix::sys::signal::Signal::SIGTSTP);
        // Returns once resumed, or at once where job control cannot stop us (the kernel
        // discards SIGTSTP for an orphaned process group: no shell to resume it).
        enable_raw_mode().map_err(|e| format!("cannot switch the terminal to raw mode: {e}"))?;
        execute!(io::stdout(), EnterAlternateScreen, EnableMouseCapture)
            .map_err(|e| format!("cannot enter the alternate screen: {e}"))?;
        // What the shell drew while we were stopped is on the main screen, but the terminal
        // may have been resized or cleared: draw every cell again. Not `Terminal::clear`: it
        // first asks the terminal where its cursor is and, unanswered within 2 s, fails before
        // forgetting the last frame, so only changed cells would be drawn on a blank screen.
        let size = self
            .terminal
            .size()
            .map_err(|e| format!("cannot read the terminal's size: {e}"))?;
        self.terminal
            .resize(Rect::from((Position::ORIGIN, size)))
            .map_err(|e| format!("cannot clear the screen: {e}"))?;
        stopped.map_err(|e| format!("cannot suspend: {e}"))
    }

    #[cfg(not(unix))]
    fn suspend(&mut self) -> Result<(), String> {
        Err("ctrl-z: suspending is not supported on this platform".into())
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
        let _ = self.terminal.show_cursor();
    }
}

/// Draws and handles events until quit; a terminating signal ends it too, its number left
/// in `signalled`.
async fn event_loop(
    guard: &mut TerminalGuard,
    app: &mut App,
    app_rx: &mut mpsc::UnboundedReceiver<AppEvent>,
    app_tx: &mpsc::UnboundedSender<AppEvent>,
    cmd_tx: &mpsc::UnboundedSender<SourceCommand>,
    signalled: &mut Option<i32>,
) -> anyhow::Result<()> {
    let mut input = EventStream::new();
    let mut ticks = ticks::Ticks::new();
    let mut signals = Signals::new()?;
    loop {
        if app.dirty {
            guard.terminal.draw(|f| views::draw(f, app))?;
            app.dirty = false;
        }
        let hide_at = app.reveal_deadline().map(|until| {
            tokio::time::Instant::now() + until.saturating_duration_since(Instant::now())
        });
        let event = tokio::select! {
            e = input.next() => match e {
                Some(Ok(Event::Key(k))) => AppEvent::Key(k),
                Some(Ok(Event::Mouse(m))) => AppEvent::Mouse(m),
                Some(Ok(Event::Resize(w, h))) => AppEvent::Resize(w, h),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e).context("reading terminal input"),
                None => return Ok(()),
            },
            Some(e) = app_rx.recv() => e,
            (name, signo) = signals.recv() => {
                tracing::info!("{name}: restoring the terminal and quitting");
                *signalled = Some(signo);
                return Ok(());
            }
            _ = ticks.next(app.loading(), hide_at) => AppEvent::Tick,
        };
        app.now = Instant::now();
        for effect in app.update(event) {
            match effect {
                Effect::Quit => return Ok(()),
                Effect::Suspend => {
                    if let Err(why) = guard.suspend() {
                        app.message = Some((why, app::Level::Warn));
                    }
                    app.dirty = true;
                }
                Effect::Copy(text) => {
                    let out = guard.terminal.backend_mut();
                    out.write_all(osc52(&text).as_bytes())?;
                    out.flush()?;
                }
                Effect::Command(c) => {
                    if cmd_tx.send(c).is_err() {
                        app.message = Some((SOURCE_STOPPED.into(), app::Level::Error));
                    }
                }
                Effect::Discard(old) => {
                    tokio::task::spawn_blocking(move || drop(old));
                }
                Effect::Reveal(target) => {
                    let asked = target.clone();
                    let Some(wait) =
                        request(cmd_tx, |reply| SourceCommand::Reveal { target, reply })
                    else {
                        app.message = Some((SOURCE_STOPPED.into(), app::Level::Error));
                        continue;
                    };
                    let tx = app_tx.clone();
                    tokio::spawn(async move {
                        let result = match wait.within(Duration::from_secs(30)).await {
                            Ok(r) => r,
                            Err(Unanswered::Refused) => {
                                Err("this source cannot reveal values".into())
                            }
                            Err(Unanswered::Late) => {
                                Err("no answer from the source after 30s".into())
                            }
                        };
                        let _ = tx.send(AppEvent::Revealed {
                            target: asked,
                            result,
                        });
                    });
                }
                Effect::CheckPermission { key, question } => {
                    let Some(wait) = request(cmd_tx, |reply| SourceCommand::Permission {
                        question,
                        reply,
                    }) else {
                        continue;
                    };
                    let tx = app_tx.clone();
                    tokio::spawn(async move {
                        // No answer is no verdict: the key stays usable and the action itself
                        // checks again.
                        let result = wait.within(Duration::from_secs(30)).await.unwrap_or(Ok(()));
                        let _ = tx.send(AppEvent::Permission { key, result });
                    });
                }
                Effect::Act(action) => {
                    let verify = matches!(action, crate::action::Action::Verify { .. });
                    let Some(wait) = request(cmd_tx, |reply| SourceCommand::Act { action, reply })
                    else {
                        app.message = Some((SOURCE_STOPPED.into(), app::Level::Error));
                        continue;
                    };
                    let tx = app_tx.clone();
                    tokio::spawn(async move {
                        let outcome = match wait.within(Duration::from_secs(300)).await {
                            Ok(o) => o,
                            Err(Unanswered::Refused) => ActionOutcome {
                                ok: false,
                                message: "this source does not carry out actions".into(),
                                audit: None,
                            },
                            Err(Unanswered::Late) => ActionOutcome {
                                ok: false,
                                message: "no answer from the source after 5 minutes".into(),
                                audit: None,
                            },
                        };
                        let _ = tx.send(if verify {
                            AppEvent::Verified(outcome)
                        } else {
                            AppEvent::ActionDone(outcome)
                        });
                    });
                }
            }
        }
    }
}

/// OSC 52 "set clipboard" sequence: works over SSH and inside tmux (with set-clipboard on).
pub fn osc52(text: &str) -> String {
    format!(
        "\x1b]52;c;{}\x07",
        base64::engine::general_purpose::STANDARD.encode(text)
    )
}

/// Forwards source events to the UI, diagnosing snapshots on the blocking pool. When
/// snapshots pile up (slow diagnosis, fast lab clock) only the newest is diagnosed.
pub async fn diagnoser(
    rx: mpsc::UnboundedReceiver<SourceEvent>,
    tx: mpsc::UnboundedSender<AppEvent>,
) {
    diagnoser_with(rx, tx, crate::suppress::Rules::default()).await;
}

/// [`diagnoser`] marking the findings the config's `ignore:` rules and the objects'
/// `kvchain.dev/ignore` annotations suppress (the tree and detail show them dimmed).
pub async fn diagnoser_with(
    mut rx: mpsc::UnboundedReceiver<SourceEvent>,
    tx: mpsc::UnboundedSender<AppEvent>,
    ignore: crate::suppress::Rules,
) {
    // Suppressions are marked as each chain is built: a kept chain keeps its marks, and what
    // they read (the pod, its workload, its SPC) re-diagnoses the chain when it changes.
    let ignore = Arc::new(ignore);
    let rules = ignore.clone();
    let finish: Arc<Finish> = Arc::new(move |kube, chains| {
        crate::suppress::apply(kube, &Default::default(), &rules, chains);
    });
    let mut feed: Option<Feed> = None;
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while let Ok(e) = rx.try_recv() {
            batch.push(e);
        }
        let newest = batch
            .iter()
            .rposition(|e| matches!(e, SourceEvent::Snapshot(_)));
        let mut snapshot = None;
        for (i, e) in batch.into_iter().enumerate() {
            match e {
                SourceEvent::Snapshot(s) => {
                    if Some(i) == newest {
                        snapshot = Some(s);
                    }
                }
                other => {
                    if tx.send(AppEvent::Source(other)).is_err() {
                        return;
                    }
                }
            }
        }
        if let Some(s) = snapshot {
            // The feed goes to the blocking pool and comes back; a panic loses it, and the
            // next snapshot is diagnosed whole.
            let mut taken = feed
                .take()
                .unwrap_or_else(|| Feed::new(Some(finish.clone())));
            let ignore = ignore.clone();
            let diagnosed = tokio::task::spawn_blocking(move || {
                let started = Instant::now();
                let pods = s.pods.items.len();
                let fed = taken.update(s);
                let chains = taken.chains();
                let spcs = (taken.snapshot())
                    .map(|s| crate::suppress::unmounted_spcs(s, &chains, &ignore))
                    .unwrap_or_default();
                tracing::debug!(
                    pods,
                    rebuilt = fed.work.chains,
                    namespaces = fed.work.namespaces,
                    whole = fed.whole,
                    ms = started.elapsed().as_millis() as u64,
                    "diagnosed"
                );
                (taken, chains, spcs)
            });
            let event = match diagnosed.await {
                Ok((kept, chains, spcs)) => {
                    let snapshot = kept.snapshot().cloned();
                    feed = Some(kept);
                    match snapshot {
                        Some(snapshot) => AppEvent::Diagnosed {
                            snapshot,
                            chains,
                            spcs,
                        },
                        None => continue,
                    }
                }
                Err(_) => AppEvent::Source(SourceEvent::Failed(
                    "diagnosis failed unexpectedly (panic); see the log".into(),
                )),
            };
            if tx.send(event).is_err() {
                return;
            }
        }
    }
}
