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
        // and the detail on "Select a pod": land on the first pod the filter kept.
        if self.selected_chain().is_none()
            && let Some(i) = self
                .tree
                .rows
                .iter()
                .position(|r| matches!(r, Row::Pod(..)))
        {
            let chains = self.chains.clone();
            self.tree.select(i, &chains);
            self.selection_changed();
        }
        let (text, level) = match matched(self.tree.pods(), self.tree.counts.total()) {
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

/// "2 pods", "1 pod and 1 chain without a pod", or `None` when nothing matched.
fn matched(pods: usize, chains: usize) -> Option<String> {
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
        assert_eq!(matched(0, 0), None);
        assert_eq!(matched(1, 1).as_deref(), Some("1 pod"));
        assert_eq!(matched(3, 3).as_deref(), Some("3 pods"));
        assert_eq!(matched(0, 1).as_deref(), Some("1 chain without a pod"));
        assert_eq!(
            matched(2, 4).as_deref(),
            Some("2 pods and 2 chains without a pod")
        );
    }
}
