//! A lesson in the TUI (`kvchain demo --lesson NAME`): the step's text in its own pane, the
//! link it talks about selected on the target's pod, its fault applied when it starts, and
//! the next step when its check passes (or on `n`).

use crate::chain::{Chain, Status};
use crate::source::lab::lesson::{LessonEffect, LessonRun};
use crate::source::{LabControl, SourceCommand};
use crate::ui::app::{App, Effect, Level};
use crate::ui::tree::Row;

impl App {
    /// Start `run` at its first step.
    pub fn start_lesson(&mut self, mut run: LessonRun) -> Vec<Effect> {
        let fx = run.enter(self.snapshots_applied);
        self.lesson = Some(run);
        self.lesson_seen = self.snapshots_applied;
        self.focus_lesson_step();
        self.lesson_effects(fx)
    }

    /// `n`: the trainer moves the class on.
    pub(crate) fn next_lesson_step(&mut self, fx: &mut Vec<Effect>) {
        let seen = self.snapshots_applied;
        let Some(run) = &mut self.lesson else {
            self.say(
                "no lesson is running (kvchain demo --lesson NAME)",
                Level::Warn,
            );
            return;
        };
        if run.finished() {
            self.lesson = None;
            // Its pane is gone, and with it its place in the pane cycle.
            if self.focus == crate::ui::app::Pane::Lesson {
                self.focus = crate::ui::app::Pane::Tree;
            }
            self.say("lesson closed", Level::Info);
            return;
        }
        let step = run.step + 1;
        // A step without a check ends with `n` (its text says so): that is no skip.
        let checked = run.current().is_some_and(|s| s.check.is_some());
        let (fault, effects) = run.skip(seen);
        let finished = run.finished();
        let effects = self.lesson_effects(effects);
        fx.extend(effects);
        // Skipping repairs nothing: say what stays broken under the next steps.
        let skipped = match fault.filter(|id| self.fault_active(id)) {
            Some(id) => Some((
                format!("skipped step {step} — fault {id} still applied"),
                Level::Warn,
            )),
            None if checked => Some((format!("skipped step {step}"), Level::Info)),
            None => None,
        };
        let (text, level) = match (skipped, finished) {
            (Some((skip, level)), true) => (format!("{skip} · {}", self.lesson_done()), level),
            (Some(said), false) => said,
            (None, true) => (self.lesson_done(), Level::Info),
            (None, false) => (self.lesson_step_reached(), Level::Info),
        };
        self.say(text, level);
        self.focus_lesson_step();
    }

    /// "lesson: done — n closes it", or the faults it leaves applied.
    fn lesson_done(&self) -> String {
        let left = self.active_faults();
        if left.is_empty() {
            "lesson: done — n closes it".to_string()
        } else {
            format!("lesson: done — still applied: {}", left.join(", "))
        }
    }

    /// "lesson: step 3 of 8".
    fn lesson_step_reached(&self) -> String {
        self.lesson.as_ref().map_or_else(String::new, |run| {
            format!(
                "lesson: step {} of {}",
                run.step + 1,
                run.lesson.steps.len()
            )
        })
    }

    /// The faults a step applies, as lab commands; their answers are awaited
    /// ([`App::lesson_reply`]).
    fn lesson_effects(&mut self, effects: Vec<LessonEffect>) -> Vec<Effect> {
        let fx = lab_effects(effects, &self.lesson);
        self.lesson_replies += fx.len();
        fx
    }

    /// A status line from the source. The lab answers each fault a lesson step applied
    /// ("applied: …"): that answer goes after the lesson's own message (the skip's warning
    /// that a fault stays applied, the step reached), which it used to replace at once.
    pub(crate) fn source_status(&mut self, text: String) {
        if self.lesson_replies > 0 {
            self.lesson_replies -= 1;
            if let Some((said, level)) = self.message.clone() {
                self.say(format!("{said} · {text}"), level);
                return;
            }
        }
        self.say(text, Level::Warn);
    }

    /// Whether the lab reports fault `id` applied.
    pub fn fault_active(&self, id: &str) -> bool {
        self.lab
            .as_ref()
            .is_some_and(|l| l.faults.iter().any(|f| f.id == id && f.active))
    }

    /// The lab's faults applied now, by id (what a finished lesson leaves behind).
    pub fn active_faults(&self) -> Vec<String> {
        self.lab.as_ref().map_or_else(Vec::new, |l| {
            l.faults
                .iter()
                .filter(|f| f.active)
                .map(|f| f.id.clone())
                .collect()
        })
    }

    /// The faults of skipped lesson steps that are still applied.
    pub fn skipped_still_applied(&self) -> Vec<String> {
        self.lesson.as_ref().map_or_else(Vec::new, |run| {
            run.skipped_faults
                .iter()
                .filter(|id| self.fault_active(id))
                .cloned()
                .collect()
        })
    }

    /// After each new diagnosed snapshot: move on when the step's check passes.
    pub(crate) fn drive_lesson(&mut self, fx: &mut Vec<Effect>) {
        if self.lesson_seen == self.snapshots_applied {
            return;
        }
        self.lesson_seen = self.snapshots_applied;
        let Some(run) = &mut self.lesson else {
            return;
        };
        let before = run.step;
        // Lessons run on small lab worlds: a copy of the chains is cheap there.
        let chains: Vec<Chain> = self.chains.iter().map(|c| Chain::clone(c)).collect();
        let effects = run.observe(self.snapshots_applied, &chains);
        if self.snapshots_applied == 1 && run.step == before {
            // The lesson started before any data: show its target now.
            self.focus_lesson_step();
        } else if run.step != before {
            let msg = if run.finished() {
                self.lesson_done()
            } else {
                self.lesson_step_reached()
            };
            self.say(msg, Level::Info);
            let effects = self.lesson_effects(effects);
            fx.extend(effects);
            self.focus_lesson_step();
        }
    }

    /// Select the target's pod (its worst one) and the link the step talks about.
    fn focus_lesson_step(&mut self) {
        let Some(run) = &self.lesson else {
            return;
        };
        let (ns, workload) = run.target.clone();
        let link = run.current().and_then(|s| s.link);
        let chains = self.chains.clone();
        let row = (0..self.tree.rows.len()).find(|i| {
            matches!(self.tree.rows[*i], Row::Pod(..))
                && self.tree.row_chain(self.tree.rows[*i]).is_some_and(|c| {
                    chains.get(c).is_some_and(|c| {
                        c.namespace == ns
                            && c.workload.as_ref().is_some_and(|w| w.name == workload)
                            && c.worst() != Status::Ok
                    })
                })
        });
        let row = row.or_else(|| {
            (0..self.tree.rows.len()).find(|i| {
                matches!(self.tree.rows[*i], Row::Pod(..))
                    && self.tree.row_chain(self.tree.rows[*i]).is_some_and(|c| {
                        chains.get(c).is_some_and(|c| {
                            c.namespace == ns
                                && c.workload.as_ref().is_some_and(|w| w.name == workload)
                        })
                    })
            })
        });
        if let Some(i) = row {
            self.tree.select(i, &chains);
            self.selection_changed();
        }
        if let Some(l) = link {
            self.link = l;
            self.detail_scroll = 0;
        }
        // A new step is read from its first line.
        self.lesson_scroll = 0;
    }
}

/// A lesson's faults land on the workload its checks look at, of its own kind, named in the
/// command so the audit record says where (README "Actions": `fault ID on KIND NS/NAME`).
pub(crate) fn lab_effects(fx: Vec<LessonEffect>, run: &Option<LessonRun>) -> Vec<Effect> {
    let target = run.as_ref().and_then(|r| {
        let (namespace, name) = &r.target;
        (!namespace.is_empty() && !name.is_empty()).then(|| crate::source::FaultTarget {
            kind: r.kind.clone(),
            namespace: namespace.clone(),
            name: name.clone(),
        })
    });
    fx.into_iter()
        .map(|LessonEffect::ApplyFault(id)| {
            Effect::Command(SourceCommand::Lab(LabControl::Fault {
                id,
                apply: true,
                target: target.clone(),
            }))
        })
        .collect()
}
