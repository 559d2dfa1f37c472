//! Keys and mouse: what a key press or a click means in each mode (normal, filter, command,
//! confirmations, menus); normal-mode actions are carried out by [`App::perform`].

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Position;

use super::{App, Effect, Level, Mode, Pane};
use crate::action::Action;
use crate::chain::LinkKind;
use crate::source::{LabControl, SourceCommand};
use crate::ui::keymap::UiAction;
use crate::ui::tree::Row;

impl App {
    pub(super) fn on_key(&mut self, key: KeyEvent, fx: &mut Vec<Effect>) {
        // ctrl-c always quits, whatever the mode or the bindings.
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            fx.push(Effect::Quit);
            return;
        }
        // ctrl-z suspends, as a terminal's job control would if raw mode did not turn it into
        // a key (vim, htop and less do the same); a fixed key like ctrl-c, in every mode.
        if key.code == KeyCode::Char('z') && key.modifiers.contains(KeyModifiers::CONTROL) {
            fx.push(Effect::Suspend);
            return;
        }
        // Below 80×24 only "terminal too small" is drawn: no confirmation, menu or row a key
        // would act on is in view (README "Actions": a write is confirmed with the operation
        // spelled out), so only quitting works. What was open stays, for when it fits.
        if self.areas().too_small {
            if self.keymap.action(&key) == Some(UiAction::Quit) {
                fx.push(Effect::Quit);
            }
            return;
        }
        // The lab-fallback notice takes the first key, whatever it is.
        if std::mem::take(&mut self.fallback_open) {
            return;
        }
        match self.mode.clone() {
            Mode::Filter {
                mut input,
                previous,
            } => {
                match key.code {
                    KeyCode::Esc => {
                        self.filter.text = previous;
                        self.mode = Mode::Normal;
                    }
                    KeyCode::Enter => {
                        self.mode = Mode::Normal;
                        return;
                    }
                    KeyCode::Backspace => {
                        input.pop();
                        self.filter.text.clone_from(&input);
                        self.mode = Mode::Filter { input, previous };
                    }
                    KeyCode::Char(c) if key.modifiers.contains(KeyModifiers::CONTROL) => {
                        match c {
                            'u' => input.clear(),
                            'w' => erase_word(&mut input),
                            _ => return,
                        }
                        self.filter.text.clone_from(&input);
                        self.mode = Mode::Filter { input, previous };
                    }
                    KeyCode::Char(c) => {
                        input.push(c);
                        self.filter.text.clone_from(&input);
                        self.mode = Mode::Filter { input, previous };
                    }
                    _ => return,
                }
                self.filter_changed();
            }
            Mode::Command { mut input } => match key.code {
                KeyCode::Esc => self.mode = Mode::Normal,
                KeyCode::Enter => {
                    self.mode = Mode::Normal;
                    self.run_command(&input, fx);
                }
                KeyCode::Backspace => {
                    if input.pop().is_none() {
                        self.mode = Mode::Normal;
                    } else {
                        self.mode = Mode::Command { input };
                    }
                }
                KeyCode::Char(c) if key.modifiers.contains(KeyModifiers::CONTROL) => {
                    match c {
                        'u' => input.clear(),
                        'w' => erase_word(&mut input),
                        _ => {}
                    }
                    self.mode = Mode::Command { input };
                }
                KeyCode::Char(c) => {
                    input.push(c);
                    self.mode = Mode::Command { input };
                }
                _ => {}
            },
            // The moving keys scroll a help taller than the screen (bounded when drawn).
            Mode::Help => match self.keymap.action(&key) {
                Some(UiAction::Back | UiAction::Help | UiAction::Quit) => self.mode = Mode::Normal,
                Some(UiAction::Down) => self.help_scroll = self.help_scroll.saturating_add(1),
                Some(UiAction::Up) => self.help_scroll = self.help_scroll.saturating_sub(1),
                Some(UiAction::PageDown) => self.help_scroll = self.help_scroll.saturating_add(10),
                Some(UiAction::PageUp) => self.help_scroll = self.help_scroll.saturating_sub(10),
                Some(UiAction::Top) => self.help_scroll = 0,
                Some(UiAction::Bottom) => self.help_scroll = 10_000,
                _ => {}
            },
            Mode::LabMenu { selected } => self.lab_menu_key(key, selected, fx),
            Mode::Confirm {
                action,
                prompt,
                typed: Some(mut typed),
                scroll,
            } => match key.code {
                KeyCode::Up | KeyCode::Down | KeyCode::PageUp | KeyCode::PageDown => {
                    if let Some(scroll) = self.confirm_scroll(&key, &prompt, true, scroll) {
                        self.mode = Mode::Confirm {
                            action,
                            prompt,
                            typed: Some(typed),
                            scroll,
                        };
                    }
                }
                KeyCode::Enter => {
                    self.mode = Mode::Normal;
                    let expected = match &action {
                        Action::Rotate { object, .. } => object.as_str(),
                        Action::Restart { pod, .. } => pod.as_str(),
                        _ => "",
                    };
                    if typed == expected {
                        self.start(action, fx);
                    } else {
                        self.say("cancelled: the name typed does not match", Level::Warn);
                    }
                }
                KeyCode::Esc => {
                    self.mode = Mode::Normal;
                    self.say("cancelled", Level::Info);
                }
                KeyCode::Backspace => {
                    typed.pop();
                    self.mode = Mode::Confirm {
                        action,
                        prompt,
                        typed: Some(typed),
                        scroll,
                    };
                }
                KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                    typed.push(c);
                    self.mode = Mode::Confirm {
                        action,
                        prompt,
                        typed: Some(typed),
                        scroll,
                    };
                }
                _ => {}
            },
            Mode::Confirm {
                action,
                prompt,
                typed: None,
                scroll,
            } => {
                // `y` confirms whatever else it may be bound to; a text taller than the
                // screen takes the scroll keys its border names; any other key cancels.
                let scrolled = (key.code != KeyCode::Char('y'))
                    .then(|| self.confirm_scroll(&key, &prompt, false, scroll))
                    .flatten();
                if let Some(scroll) = scrolled {
                    self.mode = Mode::Confirm {
                        action,
                        prompt,
                        typed: None,
                        scroll,
                    };
                    return;
                }
                self.mode = Mode::Normal;
                if key.code == KeyCode::Char('y') {
                    self.start(action, fx);
                } else {
                    self.say("cancelled", Level::Info);
                }
            }
            Mode::Normal => {
                if let Some(a) = self.keymap.action(&key) {
                    self.perform(a, fx);
                }
            }
        }
    }

    /// The offset `key` scrolls an open confirmation to, when its text is taller than the
    /// screen and `key` scrolls it: the arrows and page keys, and while no name is typed the
    /// keys bound to moving the selection (j/k by default). None otherwise, the text fitting
    /// included: then every key keeps its meaning.
    fn confirm_scroll(
        &self,
        key: &KeyEvent,
        prompt: &str,
        typed: bool,
        scroll: u16,
    ) -> Option<u16> {
        let g = crate::ui::views::confirm::geometry(self.size, prompt, typed);
        let max = i32::from(g.max_scroll());
        if max == 0 {
            return None;
        }
        let page = i32::from(g.shown.saturating_sub(1).max(1));
        let step = match key.code {
            KeyCode::Down => 1,
            KeyCode::Up => -1,
            KeyCode::PageDown => page,
            KeyCode::PageUp => -page,
            _ if typed => return None,
            _ => match self.keymap.action(key) {
                Some(UiAction::Down) => 1,
                Some(UiAction::Up) => -1,
                Some(UiAction::PageDown) => page,
                Some(UiAction::PageUp) => -page,
                _ => return None,
            },
        };
        u16::try_from((i32::from(scroll) + step).clamp(0, max)).ok()
    }

    fn lab_menu_key(&mut self, key: KeyEvent, selected: usize, fx: &mut Vec<Effect>) {
        let n = self.lab.as_ref().map_or(0, |l| l.faults.len());
        match self.keymap.action(&key) {
            Some(UiAction::Top) => self.mode = Mode::LabMenu { selected: 0 },
            Some(UiAction::Bottom) => {
                self.mode = Mode::LabMenu {
                    selected: n.saturating_sub(1),
                }
            }
            Some(UiAction::Expand) if self.read_only() => self.say(
                "lab: the break menu is view-only with --read-only",
                Level::Warn,
            ),
            Some(UiAction::Up) => {
                self.mode = Mode::LabMenu {
                    selected: selected.saturating_sub(1),
                }
            }
            Some(UiAction::Down) => {
                self.mode = Mode::LabMenu {
                    selected: (selected + 1).min(n.saturating_sub(1)),
                }
            }
            Some(UiAction::Expand) => {
                if let Some(f) = self
                    .lab
                    .as_ref()
                    .and_then(|l| l.faults.get(selected))
                    .cloned()
                {
                    let target = if f.active {
                        f.target.clone()
                    } else {
                        self.break_target()
                    };
                    let verb = if f.active { "repair" } else { "break" };
                    let on = target
                        .as_ref()
                        .map(|t| format!(" on {t}"))
                        .unwrap_or_default();
                    self.say(format!("lab: {verb} {}{on}", f.id), Level::Info);
                    // A repair names the workload the fault broke too: the audit record
                    // says where it acted (README "Actions").
                    fx.push(Effect::Command(SourceCommand::Lab(LabControl::Fault {
                        id: f.id,
                        apply: !f.active,
                        target,
                    })));
                }
            }
            Some(UiAction::Back | UiAction::LabMenu | UiAction::Quit) => {
                self.mode = Mode::Normal;
                self.menu_target = None;
                self.menu_passed_over = None;
            }
            _ => {}
        }
    }

    /// What the open break menu acts on: the target pinned when it opened.
    pub fn break_target(&self) -> Option<crate::source::FaultTarget> {
        self.menu_target.clone().or_else(|| self.fault_target())
    }

    /// The workload a break acts on: the selected row's, else the lab's default target. A
    /// row naming something no fault acts on (an Ingress chain, its group) falls back to the
    /// default too, as README "Keys" `b` says: the lab refused it as "not found" (audit EEE8).
    pub fn fault_target(&self) -> Option<crate::source::FaultTarget> {
        match self.selected_target().filter(is_fault_target) {
            Some(t) => Some(t),
            None => self.lab.as_ref().and_then(|l| l.default_target.clone()),
        }
    }

    /// What the selected row names when no fault can act on it (`Ingress shop/edge`): the
    /// break menu says the default target stands in for it.
    pub fn passed_over_target(&self) -> Option<crate::source::FaultTarget> {
        self.selected_target().filter(|t| !is_fault_target(t))
    }

    /// The workload (or other owner, for a chain no pod starts) the selected row names.
    fn selected_target(&self) -> Option<crate::source::FaultTarget> {
        let selected = match self.tree.selected_row() {
            Row::Workload(n, w) => {
                let ns = &self.tree.namespaces[n];
                let wl = &ns.workloads[w];
                // The "bare pods" group has no kind: nothing to roll out or re-wire.
                (!wl.kind.is_empty()).then(|| {
                    let r = crate::chain::WorkloadRef {
                        kind: wl.kind.as_str().into(),
                        name: wl.name.as_str().into(),
                    };
                    (ns.name.clone(), r)
                })
            }
            // A bare pod's chain: the pod is its own target (its spec names the chain).
            _ => self.selected_chain().map(|c| {
                let w = c
                    .workload
                    .clone()
                    .unwrap_or_else(|| crate::chain::WorkloadRef {
                        kind: "Pod".into(),
                        name: c.pod.to_string().into(),
                    });
                (c.namespace.to_string(), w)
            }),
        };
        selected.map(|(namespace, w)| crate::source::FaultTarget {
            kind: w.kind.to_string(),
            namespace,
            name: w.name.to_string(),
        })
    }

    fn run_command(&mut self, input: &str, fx: &mut Vec<Effect>) {
        let mut words = input.split_whitespace();
        match (words.next(), words.next()) {
            (Some("q" | "quit" | "q!"), _) => fx.push(Effect::Quit),
            (Some("ns" | "namespace"), arg) => {
                self.filter.namespace = arg.filter(|a| *a != "all" && *a != "-").map(String::from);
                self.rebuild_tree();
                match &self.filter.namespace {
                    Some(ns) if self.tree.namespaces.is_empty() => {
                        let ns = ns.clone();
                        self.say_empty_namespace(&ns)
                    }
                    Some(ns) => self.say(format!("namespace {ns}"), Level::Info),
                    None => self.say("all namespaces", Level::Info),
                }
            }
            (Some("theme"), Some(name)) => match self.config.themes.position(name) {
                Some(i) => self.set_theme(i),
                None => {
                    let text = match self.config.themes.skipped.iter().find(|s| s.name == name) {
                        Some(s) => format!("theme {name} was skipped: {}", s.error),
                        None => format!("unknown theme {name} ({})", self.themes_line()),
                    };
                    self.say(text, Level::Error)
                }
            },
            (Some("theme"), None) => {
                let text = self.themes_line();
                self.say(text, Level::Info)
            }
            (Some("help"), _) => {
                self.help_scroll = 0;
                self.mode = Mode::Help;
            }
            (Some("ctx" | "context"), arg) => {
                match crate::ui::contexts::command(self.source.kind, arg) {
                    Ok((effect, text, level)) => {
                        fx.push(effect);
                        self.say(text, level);
                    }
                    Err(why) => self.say(why, Level::Error),
                }
            }
            (None, _) => {}
            (Some(other), _) => self.say(
                format!(
                    "unknown command :{other} (try :ns NAME, :ns, :theme [NAME], :ctx [NAME], :q)"
                ),
                Level::Error,
            ),
        }
    }

    /// "themes: default, light, … · skipped (broken): badcol" for `:theme`.
    fn themes_line(&self) -> String {
        let set = &self.config.themes;
        let mut text = format!("themes: {}", set.names().join(", "));
        if !set.skipped.is_empty() {
            let names: Vec<&str> = set.skipped.iter().map(|s| s.name.as_str()).collect();
            text.push_str(&format!(
                " · skipped (broken, :theme NAME says why): {}",
                names.join(", ")
            ));
        }
        text
    }

    pub(super) fn set_theme(&mut self, index: usize) {
        self.config.theme_index = index;
        self.theme = self.config.theme();
        self.say(format!("theme: {}", self.theme.name), Level::Info);
    }

    pub(super) fn on_mouse(&mut self, m: MouseEvent) -> bool {
        // The help overlay covers the panes: the wheel scrolls it as j/k do, three lines a
        // notch as in the detail panes (the drawing clamps it to the text; audit XC-left).
        if self.mode == Mode::Help {
            match m.kind {
                MouseEventKind::ScrollDown => self.help_scroll = self.help_scroll.saturating_add(3),
                MouseEventKind::ScrollUp => self.help_scroll = self.help_scroll.saturating_sub(3),
                _ => return false,
            }
            return true;
        }
        if self.mode != Mode::Normal {
            return false;
        }
        let a = self.areas();
        let pos = Position::new(m.column, m.row);
        let pane = if a.lesson.contains(pos) {
            Pane::Lesson
        } else if a.tree.contains(pos) {
            Pane::Tree
        } else if a.strip.contains(pos) {
            Pane::Strip
        } else if a.detail.contains(pos) {
            Pane::Detail
        } else if a.events.contains(pos) {
            Pane::Events
        } else {
            return false;
        };
        match m.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                self.focus = pane;
                match pane {
                    Pane::Tree => {
                        let inner_y = a.tree.y + 1;
                        if m.row >= inner_y {
                            let i = self.tree.offset + usize::from(m.row - inner_y);
                            if i < self.tree.rows.len() {
                                if i == self.tree.selected {
                                    let row = self.tree.selected_row();
                                    self.tree.set_open(row, None, &self.chains);
                                } else {
                                    self.tree.select(i, &self.chains);
                                }
                                self.selection_changed();
                            }
                        }
                    }
                    Pane::Strip => {
                        let boxes = crate::ui::views::strip::boxes(a.strip);
                        if let Some(i) = boxes.iter().position(|b| b.contains(pos)) {
                            self.link = LinkKind::ALL[i.min(8)];
                            self.detail_scroll = 0;
                        }
                    }
                    _ => {}
                }
                true
            }
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                let d = if m.kind == MouseEventKind::ScrollDown {
                    1
                } else {
                    -1
                };
                let saved = self.focus;
                self.focus = pane;
                self.move_by(if pane == Pane::Tree { d } else { 3 * d });
                self.focus = saved;
                true
            }
            _ => false,
        }
    }
}

/// ctrl-w in a text input: drop the last word and the spaces before it.
fn erase_word(input: &mut String) {
    let kept = input.trim_end().len();
    input.truncate(kept);
    let start = input.rfind(' ').map_or(0, |i| i + 1);
    input.truncate(start);
}

/// Whether a lab fault can act on `t`: one of the lab's workload kinds.
fn is_fault_target(t: &crate::source::FaultTarget) -> bool {
    crate::source::lab::faults::TARGET_KINDS.contains(&t.kind.as_str())
}
