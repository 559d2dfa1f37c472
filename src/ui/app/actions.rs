//! Write and read actions offered to the user (restart, rotate, restore, verify, reveal):
//! their confirmations, and the propagation watch that follows one once it is started.

use std::time::Instant;

use super::{App, Effect, Level, Mode, Watch, reveal_label};
use crate::action::Action;
use crate::action::reveal::{RevealTarget, UNMASK_FOR};
use crate::action::timeline::{RestartWatch, RotationWatch};
use crate::chain::restart_plan::RestartPlan;
use crate::snapshot::ObjectType;
use crate::ui::keymap::UiAction;
use crate::ui::tree::Row;

impl App {
    pub(super) fn offer_restart(&mut self) {
        let Some((namespace, pod)) = self.selected_pod() else {
            self.say("restart: select a pod first", Level::Warn);
            return;
        };
        // The confirmation says what the source will do: the same plan, from the same kind of
        // view (the owner and its update strategy decide it, not the chain's workload).
        let plan = self
            .snapshot
            .as_deref()
            .and_then(|s| Some(RestartPlan::for_pod(s, s.pod(&namespace, &pod)?)));
        let (prompt, typed) = match &plan {
            None => {
                self.say(
                    format!("restart: pod {namespace}/{pod} is not in the current view"),
                    Level::Warn,
                );
                return;
            }
            Some(RestartPlan::Refused { why, .. }) => {
                self.say(
                    format!("restart {namespace}/{pod}: refused: {why}"),
                    Level::Warn,
                );
                return;
            }
            // The pod is lost for good: the name typed, not a single key.
            Some(p @ RestartPlan::DeleteBarePod { .. }) => (
                format!(
                    "{} Type the pod name and press enter to confirm:",
                    p.confirmation()
                ),
                Some(String::new()),
            ),
            Some(p) => (format!("{} y to confirm", p.confirmation()), None),
        };
        self.mode = Mode::Confirm {
            action: Action::Restart { namespace, pod },
            prompt,
            typed,
            scroll: 0,
        };
    }

    /// `r` (re-stamp) and `M` (marker value): on an object row, or on a pod/SPC whose
    /// SecretProviderClass mounts exactly one secret.
    pub(super) fn offer_rotate(&mut self, marker: bool) {
        let (vault, name) = match self.rotation_plan() {
            Ok(plan) => plan,
            Err(why) => {
                self.say(why, Level::Warn);
                return;
            }
        };
        let (prompt, typed) = if marker {
            (
                format!(
                    "Write a MARKER value as a new version of secret {name} in vault {vault}. Every consumer will read the marker instead of the real value until the old value is written again: {restore} again on this object writes it back (offered when the timeline ends). Type the object name and press enter to confirm:",
                    restore = self.keymap.hint(UiAction::RotateMarker),
                ),
                Some(String::new()),
            )
        } else {
            (
                format!(
                    "Write a new version of secret {name} in vault {vault} (same value, re-stamped). y to confirm"
                ),
                None,
            )
        };
        self.mode = Mode::Confirm {
            action: Action::Rotate {
                vault,
                object: name,
                marker,
            },
            prompt,
            typed,
            scroll: 0,
        };
    }

    /// The vault and secret a rotation test on the selected row writes, or the status line's
    /// words for why `r` cannot act there. The status bar offers `r` where this is `Ok` (audit
    /// XE-tui: it offered it on object rows only, though a pod whose SPC mounts one secret
    /// rotates it, and on a key's row, which is refused); `--read-only` greys it instead.
    pub fn rotation_plan(&self) -> Result<(String, String), String> {
        let (chain, object) = self
            .rotation_pick()
            .map_err(|why| format!("rotate: {why}"))?;
        let c = (self.chains.get(chain)).ok_or("rotate: the chain is no longer shown")?;
        let o = (c.objects.get(object)).ok_or("rotate: the object is no longer shown")?;
        let vault = (c.vault.clone()).ok_or("rotate: the SecretProviderClass names no vault")?;
        let backs_certificate = self
            .snapshot
            .as_deref()
            .and_then(|s| crate::action::timeline::vault_object(s, &vault, &o.name))
            .is_some_and(|v| v.backs_certificate);
        if let Some(why) = crate::action::keyvault::refusal(
            ObjectType::parse(&o.object_type),
            o.pinned_version.as_deref(),
            backs_certificate,
            // `--read-only` is refused before this (the key is greyed, and says so).
            false,
        ) {
            return Err(format!("rotate {}: refused: {why}", o.name));
        }
        Ok((vault.to_string(), o.name.to_string()))
    }

    /// The (chain, object) a rotation applies to: the selected object row, or the only secret
    /// object of the selected pod's or SPC's SecretProviderClass.
    pub(super) fn rotation_pick(&self) -> Result<(usize, usize), &'static str> {
        let row = self.tree.selected_row();
        if let Row::Object { chain, object } = row {
            return Ok((chain, object));
        }
        let i = self
            .tree
            .row_chain(row)
            .ok_or("select a pod or one of its Key Vault objects")?;
        let c = self
            .chains
            .get(i)
            .ok_or("select a pod or one of its Key Vault objects")?;
        let secrets: Vec<usize> = (c.objects.iter().enumerate())
            .filter(|(_, o)| o.object_type == "secret")
            .map(|(n, _)| n)
            .collect();
        match secrets.as_slice() {
            [only] => Ok((i, *only)),
            [] => Err("its SecretProviderClass mounts no secret object"),
            _ => Err("several objects: open the SPC (l) and select one"),
        }
    }

    /// After a marker rotation, `M` on the same object (or on nothing rotatable) undoes it.
    pub(super) fn restore_applies(&self) -> bool {
        let Some(Action::Restore { vault, object, .. }) = &self.restore else {
            return false;
        };
        let Ok((chain, o)) = self.rotation_pick() else {
            return true;
        };
        // The same vault in any case (a DNS label, FACTS §5), as `r` and its timeline match it.
        self.chains.get(chain).is_some_and(|c| {
            (c.vault.as_deref()).is_some_and(|v| v.eq_ignore_ascii_case(vault))
                && c.objects.get(o).is_some_and(|x| x.name == *object)
        })
    }

    /// `M` again: write the value a marker rotation replaced, after `y`.
    pub(super) fn offer_restore(&mut self) {
        let Some(action) = self.restore.clone() else {
            return;
        };
        let Action::Restore {
            vault,
            object,
            version,
        } = &action
        else {
            return;
        };
        let prompt = format!(
            "Write the value of version {version} of secret {object} in vault {vault} again, as a new version (undoes the marker). y to confirm"
        );
        self.mode = Mode::Confirm {
            action,
            prompt,
            typed: None,
            scroll: 0,
        };
    }

    /// Runs a confirmed action and starts watching it propagate.
    pub(super) fn start(&mut self, action: Action, fx: &mut Vec<Effect>) {
        self.say(format!("{}: started", action_title(&action)), Level::Info);
        self.pending_watch = self.watch_for(&action);
        self.pending_restore = match (&action, &self.pending_watch) {
            (
                Action::Rotate {
                    vault,
                    object,
                    marker: true,
                },
                Some(Watch::Rotation(w)),
            ) => w.old_version().map(|v| Action::Restore {
                vault: vault.clone(),
                object: object.clone(),
                version: v.to_string(),
            }),
            _ => None,
        };
        if matches!(action, Action::Restore { .. }) {
            self.restore = None;
        }
        fx.push(Effect::Act(action));
    }

    pub(super) fn offer_verify(&mut self, fx: &mut Vec<Effect>) {
        let Some((namespace, pod)) = self.selected_pod() else {
            self.say("verify: select a pod first", Level::Warn);
            return;
        };
        let container = self
            .snapshot
            .as_deref()
            .and_then(|s| s.pod(&namespace, &pod))
            .and_then(|p| p.containers.iter().find(|c| !c.init))
            .map(|c| c.name.clone());
        match container {
            Some(container) => {
                let title = format!("verify {namespace}/{pod} [{container}]");
                self.say(format!("{title}: started"), Level::Info);
                self.verifying = Some(title);
                fx.push(Effect::Act(Action::Verify {
                    namespace,
                    pod,
                    container: container.to_string(),
                }));
            }
            None => self.say("verify: the pod has no observed container", Level::Warn),
        }
    }

    /// `v`: ask for the selected secret object's value; `v` again on the same object unmasks
    /// it for [`UNMASK_FOR`].
    pub(super) fn offer_reveal(&mut self, fx: &mut Vec<Effect>) {
        let target = self.selected_reveal_target();
        let Some(target) = target else {
            self.say(
                "reveal: select a Key Vault secret object (open the pod's SPC)",
                Level::Warn,
            );
            return;
        };
        if let Some(r) = &mut self.revealed
            && r.target == target
        {
            r.unmasked_until = Some(self.now + UNMASK_FOR);
            let label = r.label.clone();
            self.say(
                format!("{label}: unmasked for {}s", UNMASK_FOR.as_secs()),
                Level::Warn,
            );
            return;
        }
        self.revealed = None;
        self.say(
            format!("{}: asking the source…", reveal_label(&target)),
            Level::Info,
        );
        fx.push(Effect::Reveal(target));
    }

    /// The Key Vault secret of the selected object row, if it is one.
    pub(super) fn selected_reveal_target(&self) -> Option<RevealTarget> {
        let Row::Object { chain, object } = self.tree.selected_row() else {
            return None;
        };
        let c = self.chains.get(chain)?;
        let o = c.objects.get(object)?;
        if o.object_type != "secret" {
            return None;
        }
        // The row is the SPC's object: show the version its pods mount.
        Some(RevealTarget::VaultSecret {
            vault: c.vault.as_deref()?.to_string(),
            object: o.name.to_string(),
            version: o.pinned_version.as_deref().map(str::to_string),
        })
    }

    /// The watch that follows `action` from the current snapshot, if it has one.
    fn watch_for(&self, action: &Action) -> Option<Watch> {
        let s = self.snapshot.as_deref()?;
        let now = self.source_clock().unwrap_or(s.source.observed_at);
        match action {
            Action::Rotate {
                vault,
                object,
                marker,
            } => {
                let w = RotationWatch::new(s, vault, object)
                    .starting_at(now)
                    .same_value(!marker);
                let w = match (marker, w.old_version().map(str::to_string)) {
                    (true, Some(old)) => w.follow_up(format!(
                        "{} restores the value of version {} (before the marker) as a new version",
                        self.keymap.hint(UiAction::RotateMarker),
                        &old[..old.len().min(8)]
                    )),
                    _ => w,
                };
                Some(Watch::Rotation(w))
            }
            Action::Restore { vault, object, .. } => Some(Watch::Rotation(
                RotationWatch::new(s, vault, object)
                    .starting_at(now)
                    .same_value(false),
            )),
            Action::Restart { namespace, pod } => {
                let plan = RestartPlan::for_pod(s, s.pod(namespace, pod)?);
                if matches!(plan, RestartPlan::Refused { .. }) {
                    return None;
                }
                let w = RestartWatch::for_plan(s, namespace, pod, &plan).starting_at(now);
                Some(Watch::Restart(w))
            }
            Action::Verify { .. } => None,
        }
    }

    /// The source's clock now: the lab's, run on from its last status at its speed; else
    /// the last snapshot's time plus its age.
    pub fn source_clock(&self) -> Option<jiff::Timestamp> {
        let run_on = |at: jiff::Timestamp, since: Instant, speed: f64| {
            let d = self.now.saturating_duration_since(since).mul_f64(speed);
            jiff::SignedDuration::try_from(d)
                .ok()
                .and_then(|d| at.checked_add(d).ok())
                .unwrap_or(at)
        };
        match (&self.lab, self.lab_received) {
            (Some(l), Some(at)) if !l.paused => Some(run_on(l.time, at, l.speed)),
            (Some(l), _) => Some(l.time),
            _ => {
                let s = self.snapshot.as_deref()?;
                Some(run_on(s.source.observed_at, self.received_at?, 1.0))
            }
        }
    }

    /// Feed the source's clock to the running watch: a quiet source still ends it.
    pub(super) fn tick_watch(&mut self) {
        let Some(now) = self.source_clock() else {
            return;
        };
        if let Some(w) = &mut self.watch {
            let before = w.timeline();
            w.tick(now);
            let after = w.timeline();
            if after != before {
                self.timeline = Some(after);
                self.dirty = true;
            }
        }
    }
}

fn action_title(a: &Action) -> String {
    match a {
        Action::Rotate { vault, object, .. } => format!("rotate {vault}/{object}"),
        Action::Restore { vault, object, .. } => format!("restore {vault}/{object}"),
        Action::Restart { namespace, pod } => format!("restart {namespace}/{pod}"),
        Action::Verify { namespace, pod, .. } => format!("verify {namespace}/{pod}"),
    }
}
