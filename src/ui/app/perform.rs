//! A normal-mode action ([`UiAction`]) carried out: moving, expanding, switching panes and
//! links, copying the fix, and offering the write actions.

use std::time::Duration;

use super::{App, Effect, Level, Mode, Pane};
use crate::chain::{Finding, LinkKind, Status};
use crate::source::{LabControl, SourceCommand};
use crate::ui::keymap::UiAction;
use crate::ui::tree::{Filter, Row};

impl App {
    /// Carry out a key's action in normal mode.
    pub fn perform(&mut self, action: UiAction, fx: &mut Vec<Effect>) {
        if !self.enabled(action) {
            let why = if let Some(f) = &self.frozen
                && Self::frozen_refuses(action)
            {
                // Nothing is read: the data age stays what it is (audit Y5).
                if action == UiAction::Refresh {
                    format!("{f}: nothing to refresh, it is shown as recorded")
                } else {
                    format!("disabled: {f} (nothing to act on)")
                }
            } else if action.lab_only() {
                "only available on the lab".to_string()
            } else if action.reveals() && self.config.no_reveal {
                "disabled by --no-reveal".to_string()
            } else {
                "disabled by --read-only".to_string()
            };
            self.say(format!("{}: {why}", action.description()), Level::Warn);
            return;
        }
        if let Some(why) = self.denied(action) {
            let msg = format!("{}: not permitted: {why}", action.description());
            self.say(msg, Level::Warn);
            return;
        }
        let page = usize::from(self.areas().tree.height.saturating_sub(3)).max(1);
        match action {
            UiAction::Quit => fx.push(Effect::Quit),
            UiAction::Up => self.move_by(-1),
            UiAction::Down => self.move_by(1),
            UiAction::PageUp => self.move_by(-(page as isize)),
            UiAction::PageDown => self.move_by(page as isize),
            UiAction::Top => self.move_to(0),
            UiAction::Bottom => self.move_to(usize::MAX),
            UiAction::Expand => match self.focus {
                Pane::Tree => {
                    let row = self.tree.selected_row();
                    if !self.tree.set_open(row, Some(true), &self.chains)
                        && matches!(row, Row::Chain(..) | Row::Object { .. } | Row::Spc(..))
                    {
                        self.focus = Pane::Detail;
                    }
                    self.selection_changed();
                }
                Pane::Strip => self.focus = Pane::Detail,
                _ => {}
            },
            UiAction::Collapse => match self.focus {
                Pane::Tree => {
                    let row = self.tree.selected_row();
                    if !self.tree.set_open(row, Some(false), &self.chains)
                        && let Some(p) = self.tree.parent_index()
                    {
                        self.tree.select(p, &self.chains);
                    }
                    self.selection_changed();
                }
                Pane::Detail | Pane::Events | Pane::Strip | Pane::Lesson => self.focus = Pane::Tree,
            },
            UiAction::NextPane => self.focus = self.focus.step(true, self.lesson.is_some()),
            UiAction::PrevPane => self.focus = self.focus.step(false, self.lesson.is_some()),
            UiAction::LinkLeft => self.step_link(-1, None),
            UiAction::LinkRight => self.step_link(1, None),
            UiAction::Filter => {
                self.mode = Mode::Filter {
                    input: self.filter.text.clone(),
                    previous: self.filter.text.clone(),
                }
            }
            UiAction::Command => {
                self.mode = Mode::Command {
                    input: String::new(),
                }
            }
            // README Keys: what is open closes first (the verify results or timeline shown
            // in place of the events), then focus returns to the tree, then the filter goes:
            // a filter cleared under an open timeline lost the user's view and left it open.
            UiAction::Back => {
                if self.verified.is_some() {
                    self.verified = None;
                } else if self.timeline.is_some() {
                    self.timeline = None;
                    self.watch = None;
                } else if self.focus != Pane::Tree {
                    self.focus = Pane::Tree;
                } else if self.filter.is_active() {
                    self.filter = Filter::default();
                    self.rebuild_tree();
                    self.say("filter cleared", Level::Info);
                } else {
                    self.message = None;
                }
            }
            UiAction::Help => {
                self.help_scroll = 0;
                self.mode = Mode::Help;
            }
            // The status line names whose fix it is (audit OO4): on a link that is ok or
            // only blocked, `y` copies another link's fix.
            UiAction::CopyFix => match (self.fix_whose(), self.fix_command()) {
                (Some(whose), Some(command)) => {
                    self.say(format!("copied {whose}: {command}"), Level::Info);
                    fx.push(Effect::Copy(command));
                }
                // Prose pasted into a shell is an error: say what to do instead.
                (Some(whose), None) => self.say(
                    format!(
                        "no command to copy: {whose} is a description (read it in the detail pane)"
                    ),
                    Level::Warn,
                ),
                (None, _) if self.selected_spc().is_some() => self.say(
                    "nothing to copy: no fix for this SecretProviderClass",
                    Level::Warn,
                ),
                // A row of no chain (cluster, namespace, workload, a group) has no link to
                // fix: "this link" named none (audit XD-tui).
                (None, _) if self.selected_chain().is_none() => self.say(
                    "nothing to copy: select a pod (or its SPC or object row) first",
                    Level::Warn,
                ),
                (None, _) => self.say("nothing to copy: no fix for this link", Level::Warn),
            },
            UiAction::FullText => {
                self.full_text = !self.full_text;
                let what = if self.full_text {
                    "full event text"
                } else {
                    "decisive line of each event"
                };
                self.say(what, Level::Info);
            }
            UiAction::CycleTheme => {
                let n = self.config.themes.themes.len().max(1);
                self.set_theme((self.config.theme_index + 1) % n);
            }
            UiAction::Refresh => {
                // Permissions may have changed too (a new role binding): ask again.
                self.permissions.clear();
                fx.push(Effect::Command(SourceCommand::Refresh));
                // Say what a refresh does now, not what it would do for a running source.
                match (&self.failed, &self.unreachable) {
                    (Some(e), _) => self.say(
                        format!(
                            "the source has stopped ({e}): nothing to refresh; restart kvchain"
                        ),
                        Level::Error,
                    ),
                    (None, Some(u)) => {
                        let text =
                            format!("retrying the connection now (attempt {})", u.attempt + 1);
                        self.unreachable = Some(super::Unreachable {
                            retry_at: self.now,
                            ..u.clone()
                        });
                        self.say(text, Level::Info);
                    }
                    (None, None) => self.say("refresh requested", Level::Info),
                }
            }
            UiAction::LabMenu => {
                if self.lab.as_ref().is_some_and(|l| !l.faults.is_empty()) {
                    // Always from the top: a remembered position applied the wrong fault.
                    self.mode = Mode::LabMenu { selected: 0 };
                    self.menu_target = self.fault_target();
                    self.menu_passed_over = self.passed_over_target();
                } else {
                    self.say("the lab lists no faults", Level::Warn);
                }
            }
            UiAction::LabPause => {
                let paused = self.lab.as_ref().is_some_and(|l| l.paused);
                let c = if paused {
                    LabControl::Resume
                } else {
                    LabControl::Pause
                };
                fx.push(Effect::Command(SourceCommand::Lab(c)));
            }
            UiAction::LabFaster => fx.push(Effect::Command(SourceCommand::Lab(
                LabControl::ScaleSpeed(2.0),
            ))),
            UiAction::LabSlower => fx.push(Effect::Command(SourceCommand::Lab(
                LabControl::ScaleSpeed(0.5),
            ))),
            UiAction::LabAdvance => fx.push(Effect::Command(SourceCommand::Lab(
                LabControl::Advance(Duration::from_secs(60)),
            ))),
            UiAction::LessonNext => self.next_lesson_step(fx),
            // An SPC no pod mounts has no pod to restart or verify in, nor a mounted object
            // to rotate or reveal: said plainly, not "select a pod first" (audit XC-tui).
            UiAction::Restart | UiAction::Rotate | UiAction::Verify | UiAction::Reveal
                if let Some(why) = self.no_pod_spc() =>
            {
                self.say(format!("{}: {why}", action.description()), Level::Warn)
            }
            UiAction::Restart => self.offer_restart(),
            UiAction::Rotate => self.offer_rotate(false),
            UiAction::RotateMarker if self.restore.is_none() && self.no_pod_spc().is_some() => {
                let why = self.no_pod_spc().unwrap_or_default();
                self.say(format!("{}: {why}", action.description()), Level::Warn)
            }
            UiAction::RotateMarker => {
                if self.restore_applies() {
                    self.offer_restore()
                } else {
                    self.offer_rotate(true)
                }
            }
            UiAction::Verify => self.offer_verify(fx),
            UiAction::Reveal => self.offer_reveal(fx),
        }
    }

    pub(super) fn move_by(&mut self, delta: isize) {
        match self.focus {
            Pane::Tree => {
                let i = self.tree.selected as isize + delta;
                self.move_to(i.max(0) as usize);
            }
            // The strip's links are a row: the moving keys step them as ←/→ do.
            Pane::Strip => self.step_link(delta.signum(), Some((UiAction::Down, UiAction::Up))),
            Pane::Detail => {
                self.detail_scroll = (self.detail_scroll as isize + delta).clamp(0, 10_000) as u16
            }
            Pane::Events => {
                self.events_scroll = (self.events_scroll as isize + delta).clamp(0, 10_000) as u16
            }
            // Bounded to the step's text when drawn.
            Pane::Lesson => {
                self.lesson_scroll = (self.lesson_scroll as isize + delta).clamp(0, 10_000) as u16
            }
        }
    }

    fn move_to(&mut self, index: usize) {
        match self.focus {
            // First / last link, as the moving keys step links there: the tree's first row
            // was selected under the strip's focus, emptying the strip (audit XE-tui).
            Pane::Strip => {
                let links = LinkKind::ALL.len() as isize;
                let delta = if index == 0 { -links } else { links };
                self.step_link(delta, Some((UiAction::Top, UiAction::Bottom)));
            }
            Pane::Tree => {
                self.tree.select(index, &self.chains);
                self.selection_changed();
            }
            Pane::Detail => self.detail_scroll = if index == 0 { 0 } else { 10_000 },
            Pane::Events => self.events_scroll = if index == 0 { 0 } else { 10_000 },
            Pane::Lesson => self.lesson_scroll = if index == 0 { 0 } else { 10_000 },
        }
    }

    /// Select the link `delta` links away. `keys`: the pair of actions pressed when it was not
    /// `←`/`→` (the moving keys while the strip has the focus), which the message names: `j`
    /// on the strip said "←/→ link: select a pod" (audit XE-tui).
    fn step_link(&mut self, delta: isize, keys: Option<(UiAction, UiAction)>) {
        // The links are a chain's: on a row of none the key moved nothing on screen and said
        // nothing (audit XD-tui). An SPC no pod mounts says why, as its pod keys do.
        if self.selected_chain().is_none() {
            let why = match self.selected_spc() {
                Some(v) => format!(
                    "does not apply: SecretProviderClass/{} has no pod, so no chain of links (its findings are in the detail)",
                    crate::shown::shown(&v.name)
                ),
                None => "select a pod (or its SPC or object row) first".into(),
            };
            let text = match keys {
                None => format!("←/→ link: {why}"),
                Some((a, b)) => format!(
                    "{}/{} on the link strip: {why}; {} returns to the tree",
                    self.keymap.hint(a),
                    self.keymap.hint(b),
                    self.keymap.hint(UiAction::Collapse),
                ),
            };
            self.say(text, Level::Warn);
            return;
        }
        let last = LinkKind::ALL.len() as isize - 1;
        let i = (self.link.index() as isize + delta).clamp(0, last) as usize;
        self.link = LinkKind::ALL[i];
        self.detail_scroll = 0;
    }

    /// The finding whose fix `y` copies: the selected link's first cause, else the chain's
    /// root cause (a link that is ok, or only blocked by an earlier one, copies that one's).
    fn fix_finding(&self) -> Option<&Finding> {
        // An SPC no pod mounts: its worst finding with a fix (its findings are worst first).
        if let Some(v) = self.selected_spc() {
            return v.findings.iter().find(|f| !f.fix.trim().is_empty());
        }
        let chain = self.selected_chain()?;
        let link = chain.link(self.link);
        link.findings
            .iter()
            .filter(|f| f.follows.is_none())
            .chain(chain.root_cause())
            .find(|f| !f.fix.trim().is_empty())
    }

    /// The fix of [`App::fix_finding`].
    pub fn fix(&self) -> Option<String> {
        self.fix_finding().map(|f| f.fix.trim().to_string())
    }

    /// Whose fix [`App::fix`] is, for the status line: "the Federation KVC401 fix", and when
    /// it is not the selected link's own, why it is that one ("…, the chain's root cause
    /// (Identity is ok)").
    fn fix_whose(&self) -> Option<String> {
        let f = self.fix_finding()?;
        if let Some(v) = self.selected_spc() {
            let name = crate::shown::shown(&v.name);
            return Some(format!("the {} fix of SecretProviderClass/{name}", f.code));
        }
        let whose = format!("the {} {} fix", f.link.title(), f.code.as_str());
        if f.link == self.link {
            return Some(whose);
        }
        let selected = self.link.title();
        let link = self.selected_chain()?.link(self.link);
        let own_cause = link.findings.iter().any(|g| g.follows.is_none());
        let state = if link.status == Status::Ok {
            "is ok"
        } else if f.link.index() < self.link.index() && !own_cause {
            "is blocked by it"
        } else {
            "has no fix of its own"
        };
        Some(format!(
            "{whose}, the chain's root cause ({selected} {state})"
        ))
    }

    /// What `y` copies: the command of [`App::fix`], without its note; none when the fix is
    /// a description ([`crate::ui::fix_text`]).
    pub fn fix_command(&self) -> Option<String> {
        let fix = self.fix()?;
        crate::ui::fix_text::command(&fix).map(String::from)
    }

    /// Why the pod actions do not apply to the selected row, when it is a SecretProviderClass
    /// no chain mounts.
    fn no_pod_spc(&self) -> Option<String> {
        let v = self.selected_spc()?;
        let name = crate::shown::shown(&v.name);
        Some(match v.pods_unread {
            None => format!(
                "does not apply: SecretProviderClass/{name} is mounted by no pod (nothing to restart, verify, rotate or reveal through it)"
            ),
            Some(_) => format!(
                "does not apply: SecretProviderClass/{name} is not known to be mounted (pods unread): no pod of it to act on"
            ),
        })
    }
}
