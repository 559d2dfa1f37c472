//! What the source says the user may do: which actions to ask about ahead of time (live
//! clusters only), and the answers that grey or enable keys.

use super::{App, Effect, Permission};
use crate::action::Action;
use crate::action::reveal::RevealTarget;
use crate::chain::restart_plan::RestartPlan;
use crate::snapshot::SourceKind;
use crate::source::PermissionQuestion;
use crate::ui::keymap::UiAction;

impl App {
    /// Actions whose permission the source can judge ahead of time, with the scope the answer
    /// holds for: the object a restart writes, the pod exec runs in; rotating or revealing
    /// secrets of a vault. Only live clusters have access control; the carrying out checks
    /// again in any case.
    pub fn permission_probe(&self, action: UiAction) -> Option<(String, PermissionQuestion)> {
        if self.source.kind != SourceKind::Live {
            return None;
        }
        match action {
            // The reviews name the object written (`resourceName`), so an answer is kept for
            // that object only: the Deployment a rollout restart patches, or the pod deleted.
            UiAction::Restart => {
                let (namespace, pod) = self.selected_pod()?;
                let key = self
                    .snapshot
                    .as_deref()
                    .and_then(|s| Some(RestartPlan::for_pod(s, s.pod(&namespace, &pod)?)))
                    .map(|plan| match plan.review_target() {
                        Some((verb, _, resource, ns, name)) => {
                            format!("restart: {verb} {resource} {ns}/{name}")
                        }
                        // Nothing is written: the source answers with why.
                        None => format!("restart: refused {namespace}/{pod}"),
                    })
                    .unwrap_or_else(|| format!("restart: pod {namespace}/{pod}"));
                Some((key, Action::Restart { namespace, pod }.into()))
            }
            UiAction::Verify => {
                let (namespace, pod) = self.selected_pod()?;
                Some((
                    format!("exec {namespace}/{pod}"),
                    Action::Verify {
                        namespace,
                        pod,
                        container: String::new(),
                    }
                    .into(),
                ))
            }
            // Both write a new version of the same secret: one question per vault.
            UiAction::Rotate | UiAction::RotateMarker => {
                let (chain, object) = self.rotation_pick().ok()?;
                let c = self.chains.get(chain)?;
                let vault = c.vault.as_deref()?.to_string();
                let object = c.objects.get(object)?.name.to_string();
                Some((
                    format!("rotate {vault}"),
                    Action::Rotate {
                        vault,
                        object,
                        marker: false,
                    }
                    .into(),
                ))
            }
            UiAction::Reveal => {
                let target = self.selected_reveal_target()?;
                let RevealTarget::VaultSecret { vault, .. } = &target else {
                    return None;
                };
                let key = format!("reveal {vault}");
                Some((key, PermissionQuestion::Reveal(target)))
            }
            _ => None,
        }
    }

    /// Why the selected row's `action` is not permitted, when the source said so.
    pub fn denied(&self, action: UiAction) -> Option<&str> {
        let (key, _) = self.permission_probe(action)?;
        match self.permissions.get(&key) {
            Some(Permission::Denied(why)) => Some(why),
            _ => None,
        }
    }

    /// Whether a key's action can be used on the selected row: enabled, and not denied.
    pub fn available(&self, action: UiAction) -> bool {
        self.enabled(action) && self.denied(action).is_none()
    }

    /// Ask once per scope, as the selection reaches a new one.
    pub(super) fn ask_permissions(&mut self, fx: &mut Vec<Effect>) {
        for a in [
            UiAction::Restart,
            UiAction::Verify,
            UiAction::Rotate,
            UiAction::RotateMarker,
            UiAction::Reveal,
        ] {
            if !self.enabled(a) {
                continue;
            }
            if let Some((key, question)) = self.permission_probe(a)
                && !self.permissions.contains_key(&key)
            {
                self.permissions.insert(key.clone(), Permission::Asking);
                fx.push(Effect::CheckPermission { key, question });
            }
        }
    }
}
