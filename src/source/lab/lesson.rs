//! Lessons: a scenario's `kind: Lesson` is a guided walk through the chain for a class.
//! Each step has text, the link to look at, a trainer fault to apply when the step starts
//! and a check that the class did what the step asks ("the Federation link is broken with
//! KVC401", "the chain is healthy again"); the step ends when its check passes, or when the
//! trainer moves on.
//!
//! Pure: [`LessonRun`] is fed diagnosed chains and says which fault to apply; the UI draws
//! it and sends the faults to the lab.

use serde::Deserialize;

use crate::chain::{Chain, Code, LinkKind, Status};

/// `kind: Lesson`, as written in a scenario.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LessonSpec {
    pub title: String,
    /// `namespace/deployment` the steps speak about (default: the Cluster's `faultTarget`).
    #[serde(default)]
    pub target: Option<String>,
    pub steps: Vec<StepSpec>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StepSpec {
    pub text: String,
    /// The link the step talks about: selected in the strip and the detail pane.
    #[serde(default)]
    pub link: Option<LinkKind>,
    /// A trainer fault (see the faults table) applied when the step starts.
    #[serde(default)]
    pub fault: Option<String>,
    /// The fault the step's text asks the class to repair from the break menu (default: the
    /// step's own `fault`). The menu toggles a fault, so the same keys break it when it is
    /// not applied: the pane says so then (audit XA-more).
    #[serde(default)]
    pub repairs: Option<String>,
    /// The fault the step's text asks the class to break from the break menu (its mirror:
    /// while it is applied already, the same keys would repair it; the pane says so then,
    /// audit XB-users).
    #[serde(default)]
    pub breaks: Option<String>,
    /// When the step is done; without one, the trainer moves on with `n`.
    #[serde(default)]
    pub check: Option<CheckSpec>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CheckSpec {
    /// A link of the target's chains…
    #[serde(default)]
    pub link: Option<LinkKind>,
    /// …has this status (default: any)…
    #[serde(default)]
    pub status: Option<Status>,
    /// …and a finding with this code (e.g. `KVC401`).
    #[serde(default)]
    pub code: Option<String>,
    /// Every chain of the target is there and none has a broken link.
    #[serde(default)]
    pub healthy: bool,
}

/// A lesson ready to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lesson {
    pub name: String,
    pub title: String,
    pub target: Option<(String, String)>,
    pub steps: Vec<LessonStep>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LessonStep {
    pub text: String,
    pub link: Option<LinkKind>,
    pub fault: Option<String>,
    /// The fault the step asks to repair: `repairs`, else `fault`.
    pub repairs: Option<String>,
    /// The fault the step asks the class to break.
    pub breaks: Option<String>,
    pub check: Option<Check>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    Link {
        link: LinkKind,
        status: Option<Status>,
        code: Option<Code>,
    },
    Healthy,
}

impl Check {
    /// What the step waits for, in words (shown under the step text).
    pub fn describe(&self) -> String {
        match self {
            Check::Healthy => "the chain is healthy again (no broken link)".into(),
            Check::Link { link, status, code } => {
                let mut s = format!("the {} link", link.title());
                if let Some(st) = status {
                    s.push_str(&format!(" is {}", st.as_str()));
                }
                if let Some(c) = code {
                    s.push_str(&format!(" with {}", c.as_str()));
                }
                s
            }
        }
    }

    /// Whether the target's chains (`namespace`, workload `name`) show it.
    pub fn passes(&self, chains: &[Chain], target: &(String, String)) -> bool {
        let mine: Vec<&Chain> = chains
            .iter()
            .filter(|c| {
                c.namespace == target.0 && c.workload.as_ref().is_some_and(|w| w.name == target.1)
            })
            .collect();
        match self {
            Check::Healthy => {
                !mine.is_empty()
                    && mine
                        .iter()
                        .all(|c| c.links.iter().all(|l| l.status != Status::Broken))
            }
            Check::Link { link, status, code } => mine.iter().any(|c| {
                let l = c.link(*link);
                status.is_none_or(|s| l.status == s)
                    && code.is_none_or(|code| l.findings.iter().any(|f| f.code == code))
            }),
        }
    }
}

impl Check {
    /// The earlier link a link check waits behind on the target's chains: its finding follows
    /// that link's cause, or the link reads `blocked: <link>` (one symptom, one cause). A
    /// fault left applied there (a skipped step's) keeps the check from passing, which the
    /// lesson pane then says (audit XC-left). `None` for a health check (any broken link
    /// fails it, and the pane lists what skipped steps left applied).
    pub fn blocked_by<'a>(
        &self,
        chains: impl IntoIterator<Item = &'a Chain>,
        target: &(String, String),
    ) -> Option<LinkKind> {
        let Check::Link { link, code, .. } = self else {
            return None;
        };
        let mine = chains.into_iter().filter(|c| {
            c.namespace == target.0 && c.workload.as_ref().is_some_and(|w| w.name == target.1)
        });
        for c in mine {
            let l = c.link(*link);
            let followed = (l.findings.iter())
                .filter(|f| code.is_none_or(|code| f.code == code))
                .find_map(|f| f.follows);
            let named = (l.summary.strip_prefix("blocked: "))
                .and_then(|t| LinkKind::ALL.iter().copied().find(|k| k.title() == t));
            if let Some(b) = followed.or(named).filter(|b| b < link) {
                return Some(b);
            }
        }
        None
    }
}

impl LessonSpec {
    /// Checks what serde cannot: fault ids, codes, non-empty checks. `err` names the field.
    pub fn build(self, name: String) -> Result<Lesson, String> {
        if self.steps.is_empty() {
            return Err("spec.steps: a lesson needs at least one step".into());
        }
        let target = match self.target {
            None => None,
            Some(t) => match t.split_once('/') {
                Some((ns, w)) if !ns.is_empty() && !w.is_empty() => {
                    Some((ns.to_string(), w.to_string()))
                }
                _ => return Err(format!("spec.target: {t:?} is not namespace/deployment")),
            },
        };
        let mut steps = Vec::new();
        for (i, s) in self.steps.into_iter().enumerate() {
            if let Some(f) = &s.fault
                && super::faults::find(f).is_none()
            {
                return Err(format!("spec.steps[{i}].fault: unknown fault {f:?}"));
            }
            if let Some(f) = &s.repairs
                && super::faults::find(f).is_none()
            {
                return Err(format!("spec.steps[{i}].repairs: unknown fault {f:?}"));
            }
            if let Some(f) = &s.breaks
                && super::faults::find(f).is_none()
            {
                return Err(format!("spec.steps[{i}].breaks: unknown fault {f:?}"));
            }
            let check = match s.check {
                None => None,
                Some(c) if c.healthy => {
                    if c.link.is_some() || c.status.is_some() || c.code.is_some() {
                        return Err(format!(
                            "spec.steps[{i}].check: `healthy` stands alone (no link, status or code)"
                        ));
                    }
                    Some(Check::Healthy)
                }
                Some(c) => {
                    let Some(link) = c.link else {
                        return Err(format!(
                            "spec.steps[{i}].check: set `link` (with `status` and/or `code`) or `healthy: true`"
                        ));
                    };
                    let code = match c.code {
                        None => None,
                        Some(code) => Some(Code::parse(&code).ok_or_else(|| {
                            format!("spec.steps[{i}].check.code: unknown finding code {code:?}")
                        })?),
                    };
                    if c.status.is_none() && code.is_none() {
                        return Err(format!(
                            "spec.steps[{i}].check: `link` needs a `status` or a `code`"
                        ));
                    }
                    Some(Check::Link {
                        link,
                        status: c.status,
                        code,
                    })
                }
            };
            steps.push(LessonStep {
                text: s.text.trim().to_string(),
                link: s.link,
                repairs: s.repairs.or_else(|| s.fault.clone()),
                breaks: s.breaks,
                fault: s.fault,
                check,
            });
        }
        Ok(Lesson {
            name,
            title: self.title,
            target,
            steps,
        })
    }
}

/// What running a lesson asks the lab to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LessonEffect {
    ApplyFault(String),
}

/// A lesson being run: the current step and what its check is waiting for.
#[derive(Clone, Debug)]
pub struct LessonRun {
    pub lesson: Lesson,
    /// `namespace`, `workload` the checks look at.
    pub target: (String, String),
    /// The target's kind, named in the faults the steps apply (a lesson may teach on a
    /// StatefulSet, DaemonSet or Job: the fault must act on that, audit NNN-lab).
    pub kind: String,
    /// Index of the current step; `steps.len()` once every step is done.
    pub step: usize,
    /// A check only counts on a diagnosed snapshot applied after its step started: the
    /// sequence number of the last one applied before (the UI counts the snapshots it
    /// applies). Not the lab time: with the clock paused, every snapshot has the same one,
    /// and a fault applied and repaired then was never counted (audit EEE3)…
    not_before: u64,
    /// …and, for a step that applies a fault, once a snapshot showed the check not holding:
    /// the fault has landed, so "repaired" cannot pass on a view from before it.
    armed: bool,
    /// Faults of the steps skipped with `n`, in order: skipping repairs nothing, so later
    /// steps run on top of them (the pane and the last line say which are still applied).
    pub skipped_faults: Vec<String>,
}

impl LessonRun {
    pub fn new(lesson: Lesson, default_target: (String, String)) -> LessonRun {
        let target = lesson.target.clone().unwrap_or(default_target);
        LessonRun {
            lesson,
            target,
            kind: "Deployment".into(),
            step: 0,
            not_before: 0,
            armed: false,
            skipped_faults: Vec::new(),
        }
    }

    pub fn current(&self) -> Option<&LessonStep> {
        self.lesson.steps.get(self.step)
    }

    pub fn finished(&self) -> bool {
        self.step >= self.lesson.steps.len()
    }

    /// What the current step's "repair it" keys do when its fault is not applied (`active`
    /// says which are): the break menu toggles, so `menu`, the fault, enter would break it
    /// (a skipped break, or a repair done already). None while it is applied, and for the
    /// step's own fault until a snapshot showed it landed (it is being applied).
    pub fn repair_note(
        &self,
        active: impl Fn(&str) -> bool,
        menu: &str,
        next: &str,
    ) -> Option<String> {
        let step = self.current()?;
        let f = step.repairs.as_deref()?;
        let landing = step.fault.as_deref() == Some(f) && !self.armed;
        if active(f) || landing {
            return None;
        }
        Some(format!(
            "{f} is not applied now (its break was skipped, or it is repaired already): nothing to repair, and {menu}, {f}, enter would break it; {next} moves on"
        ))
    }

    /// What the current step's "break it" keys do when its fault is applied already (by the
    /// trainer, or left by a skipped step): the menu toggles, so `menu`, the fault, enter
    /// would repair it, and the step's check may wait on something else broken first.
    pub fn break_note(
        &self,
        active: impl Fn(&str) -> bool,
        menu: &str,
        next: &str,
    ) -> Option<String> {
        let f = self.current()?.breaks.as_deref()?;
        active(f).then(|| format!(
            "{f} is applied already: nothing to break, and {menu}, {f}, enter would repair it; {next} moves on"
        ))
    }

    /// Enter the current step: its fault, if any. `seen`: the sequence number of the latest
    /// snapshot applied (0 before any).
    pub fn enter(&mut self, seen: u64) -> Vec<LessonEffect> {
        self.not_before = seen;
        self.armed = self.current().is_none_or(|s| s.fault.is_none());
        match self.current().and_then(|s| s.fault.clone()) {
            Some(f) => vec![LessonEffect::ApplyFault(f)],
            None => Vec::new(),
        }
    }

    /// Move on (the check passed, or the trainer pressed `n`).
    pub fn advance(&mut self, seen: u64) -> Vec<LessonEffect> {
        if self.finished() {
            return Vec::new();
        }
        self.step += 1;
        self.enter(seen)
    }

    /// The trainer skips the current step (`n`): move on without its check, remembering its
    /// fault (which stays applied). Returns the skipped step's fault, if it had one.
    pub fn skip(&mut self, seen: u64) -> (Option<String>, Vec<LessonEffect>) {
        let fault = self.current().and_then(|s| s.fault.clone());
        if let Some(f) = &fault
            && !self.skipped_faults.contains(f)
        {
            self.skipped_faults.push(f.clone());
        }
        (fault, self.advance(seen))
    }

    /// The diagnosed snapshot numbered `seq` (counted from 1 as they are applied): if the
    /// current step's check passes, move on (possibly over several steps whose checks
    /// already hold). Returns the faults to apply.
    pub fn observe(&mut self, seq: u64, chains: &[Chain]) -> Vec<LessonEffect> {
        let mut effects = Vec::new();
        while let Some(step) = self.current() {
            // A step with a fault waits for the next snapshot: this one was taken before
            // its fault was asked for.
            let fresh = step.fault.is_none() || seq > self.not_before;
            let Some(check) = step.check.as_ref().filter(|_| fresh) else {
                break;
            };
            let holds = check.passes(chains, &self.target);
            if !self.armed {
                self.armed = !holds;
                break;
            }
            if !holds {
                break;
            }
            effects.extend(self.advance(seq));
            if !effects.is_empty() {
                // A fault was asked for: the next check waits for a snapshot that shows it.
                break;
            }
        }
        effects
    }
}

/// Lesson `name` of `src` ready to run: its faults name the target's own kind (a lesson may
/// teach on a StatefulSet, DaemonSet or Job, and a fault named for a Deployment would not
/// find it: audit NNN-lab).
pub fn start(src: &super::LabSource, name: &str) -> Result<LessonRun, String> {
    let (l, target) = super::find_lesson(src, name)?;
    let mut run = LessonRun::new(l, target);
    if let Some((kind, ..)) = super::faults::named(src.world(), &run.target.0, &run.target.1) {
        run.kind = kind;
    }
    Ok(run)
}

/// Lesson `name` of `lessons` (the scenario's), with the workload its checks look at by
/// default (`world`'s fault target); `builtin`: the built-in lessons' names, for the error.
pub fn find(
    lessons: &[Lesson],
    w: &super::world::World,
    name: &str,
    builtin: &[&str],
) -> Result<(Lesson, (String, String)), String> {
    let l = lessons.iter().find(|l| l.name == name).ok_or_else(|| {
        let here: Vec<&str> = lessons.iter().map(|l| l.name.as_str()).collect();
        format!(
            "no lesson {name:?} in scenario {} (its lessons: {}; built-in lessons: {})",
            w.name,
            if here.is_empty() {
                "none".to_string()
            } else {
                here.join(", ")
            },
            builtin.join(", ")
        )
    })?;
    let target = super::faults::default_target(w)
        .map(|(_, ns, name)| (ns, name))
        .unwrap_or_default();
    // A target no workload has would leave every check unmet and the class stuck on step 1
    // with nothing selected: said before the TUI opens.
    let (ns, workload) = l.target.as_ref().unwrap_or(&target);
    if !w.workloads.keys().any(|(_, n, w)| (n, w) == (ns, workload)) {
        let have: Vec<String> = w
            .workloads
            .keys()
            .map(|(kind, n, w)| format!("{kind} {n}/{w}"))
            .collect();
        return Err(format!(
            "lesson {name:?}: spec.target {ns}/{workload}: no workload of that name in scenario {} (its workloads: {})",
            w.name,
            if have.is_empty() {
                "none".into()
            } else {
                have.join(", ")
            }
        ));
    }
    Ok((l.clone(), target))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: &str) -> Result<Lesson, String> {
        let s: LessonSpec = serde_yaml::from_str(yaml).map_err(|e| e.to_string())?;
        s.build("l".into())
    }

    #[test]
    fn bad_lessons_name_the_field() {
        let e = spec("title: t\nsteps:\n  - text: a\n    fault: nope\n").unwrap_err();
        assert_eq!(e, "spec.steps[0].fault: unknown fault \"nope\"");
        let e =
            spec("title: t\nsteps:\n  - text: a\n    check: {link: federation, code: KVC999}\n")
                .unwrap_err();
        assert!(e.starts_with("spec.steps[0].check.code"), "{e}");
        let e = spec("title: t\nsteps:\n  - text: a\n    check: {link: federation}\n").unwrap_err();
        assert!(e.contains("needs a `status` or a `code`"), "{e}");
        let e = spec("title: t\nsteps:\n  - text: a\n    repairs: nope\n").unwrap_err();
        assert_eq!(e, "spec.steps[0].repairs: unknown fault \"nope\"");
        let e = spec("title: t\nsteps: []\n").unwrap_err();
        assert!(e.contains("at least one step"), "{e}");
        assert!(spec("title: t\nsteps:\n  - text: a\n    linq: pod\n").is_err());
    }

    #[test]
    fn checks_read_as_sentences() {
        let l = spec(
            "title: t\nsteps:\n  - text: a\n    check: {link: federation, status: broken, code: KVC401}\n  - text: b\n    check: {healthy: true}\n",
        )
        .unwrap();
        assert_eq!(
            l.steps[0].check.as_ref().unwrap().describe(),
            "the Federation link is broken with KVC401"
        );
        assert_eq!(
            l.steps[1].check.as_ref().unwrap().describe(),
            "the chain is healthy again (no broken link)"
        );
    }

    /// Audit XA-more: the "repair it" note speaks only of a fault not applied: never of the
    /// step's own fault before a snapshot showed it land, nor of one that is applied.
    #[test]
    fn the_repair_note_waits_for_the_steps_own_fault_to_land() {
        use crate::chain::{diagnose, testkit};
        let lesson = spec(
            "title: t\nsteps:\n  - text: repair it\n    fault: fic-subject-typo\n    check: {healthy: true}\n  - text: and this\n    repairs: wrong-role\n",
        )
        .unwrap();
        let mut run = LessonRun::new(lesson, (testkit::NS.into(), testkit::APP.into()));
        run.enter(1);
        let note = |run: &LessonRun, on: bool| run.repair_note(|_| on, "b", "n");
        assert_eq!(note(&run, false), None, "being applied");
        let mut broken = diagnose(&testkit::healthy());
        for c in &mut broken {
            c.link_mut(LinkKind::Federation).status = Status::Broken;
        }
        run.observe(2, &broken);
        assert_eq!(note(&run, true), None, "applied");
        let said = note(&run, false).expect("repaired already");
        assert!(
            said.contains("b, fic-subject-typo, enter would break it"),
            "{said}"
        );
        run.advance(3);
        assert!(
            note(&run, false)
                .unwrap()
                .starts_with("wrong-role is not applied")
        );
    }

    /// A step that breaks something and asks for the repair must not pass on a view from
    /// before its fault landed, even a newer one.
    #[test]
    fn a_repair_check_waits_until_the_fault_was_seen() {
        use crate::chain::{diagnose, testkit};
        let lesson = spec(
            "title: t\nsteps:\n  - text: repair it\n    fault: fic-subject-typo\n    check: {healthy: true}\n  - text: end\n",
        )
        .unwrap();
        let healthy = diagnose(&testkit::healthy());
        let mut run = LessonRun::new(lesson, (testkit::NS.into(), testkit::APP.into()));
        assert_eq!(
            run.enter(1),
            [LessonEffect::ApplyFault("fic-subject-typo".into())]
        );
        assert!(run.observe(1, &healthy).is_empty());
        run.observe(2, &healthy);
        assert_eq!(run.step, 0, "the fault has not shown yet");
        let mut broken = healthy.clone();
        for c in &mut broken {
            c.link_mut(LinkKind::Federation).status = Status::Broken;
        }
        run.observe(3, &broken);
        assert_eq!(run.step, 0);
        run.observe(4, &healthy);
        assert_eq!(run.step, 1, "repaired after it was seen broken");
    }
}
