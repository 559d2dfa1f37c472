//! A filter typed with `/`: the tree is rebuilt, a pod it matches is selected (README: the
//! strip shows the broken link when a filter changes, which needs a chain under the cursor),
//! and the status line says what it matched.

use super::{App, Level};
use crate::ui::tree::Row;

impl App {
    /// The filter's text changed (a key while typing, or `esc` restoring the previous one).
    pub(super) fn filter_changed(&mut self) {
        self.rebuild_tree();
        if self.filter.text.is_empty() {
            self.say("filter cleared", Level::Info);
            return;
        }
        // A row with no chain (the cluster, a namespace, a workload) leaves the strip on `—`
        // and the detail on "Select a pod": land on the first pod the filter kept, else the
        // first SecretProviderClass no pod mounts (its findings are its detail).
        if self.selected_chain().is_none()
            && self.selected_spc().is_none()
            && let Some(i) = (self.tree.rows.iter())
                .position(|r| matches!(r, Row::Pod(..)))
                .or_else(|| (self.tree.rows.iter()).position(|r| matches!(r, Row::Spc(..))))
        {
            let chains = self.chains.clone();
            self.tree.select(i, &chains);
            self.selection_changed();
        }
        let spcs = self.tree.spcs.shown;
        let chains = self.tree.counts.total().saturating_sub(spcs);
        let (text, level) = match matched(self.tree.pods(), chains, spcs) {
            Some(what) => (
                format!("filter /{} matches {what}", self.filter.text),
                Level::Info,
            ),
            None => (
                format!(
                    "filter /{} matches nothing (esc clears it)",
                    self.filter.text
                ),
                Level::Warn,
            ),
        };
        self.say(text, level);
    }
}

/// "2 pods", "1 pod and 1 chain without a pod", then the SecretProviderClasses no pod mounts
/// ("1 pod, 1 SPC no pod mounts"), or `None` when nothing matched.
fn matched(pods: usize, chains: usize, spcs: usize) -> Option<String> {
    let rows = matched_chains(pods, chains);
    let spcs = (spcs > 0).then(|| {
        let n = crate::glance::plural(spcs, "SPC");
        format!("{n} no pod mounts")
    });
    match (rows, spcs) {
        (Some(r), Some(s)) => Some(format!("{r}, {s}")),
        (r, s) => r.or(s),
    }
}

/// "2 pods", "1 pod and 1 chain without a pod", or `None` when no chain matched.
fn matched_chains(pods: usize, chains: usize) -> Option<String> {
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let others = chains.saturating_sub(pods);
    match (pods, others) {
        (0, 0) => None,
        (_, 0) => Some(plural(pods, "pod", "pods")),
        (0, _) => Some(plural(
            others,
            "chain without a pod",
            "chains without a pod",
        )),
        _ => Some(format!(
            "{} and {}",
            plural(pods, "pod", "pods"),
            plural(others, "chain without a pod", "chains without a pod")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::matched;

    #[test]
    fn says_pods_and_chains_without_a_pod_apart() {
        assert_eq!(matched(0, 0, 0), None);
        assert_eq!(matched(1, 1, 0).as_deref(), Some("1 pod"));
        assert_eq!(matched(3, 3, 0).as_deref(), Some("3 pods"));
        assert_eq!(matched(0, 1, 0).as_deref(), Some("1 chain without a pod"));
        assert_eq!(
            matched(2, 4, 0).as_deref(),
            Some("2 pods and 2 chains without a pod")
        );
        assert_eq!(matched(0, 0, 1).as_deref(), Some("1 SPC no pod mounts"));
        assert_eq!(
            matched(1, 1, 2).as_deref(),
            Some("1 pod, 2 SPCs no pod mounts")
        );
    }
}
