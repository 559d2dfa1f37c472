//! What the source could not see, read from the snapshot: every collection's gaps (kind,
//! cluster or namespace scope, reason), for the banner above the panes and the status bar.
//! A chain built over a gap is partial; the user must know before trusting a green box.

use crate::snapshot::Snapshot;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gap {
    /// What could not be seen, and where: "pods in payments", "events (all namespaces)",
    /// "cluster.csiDriver", "azure.vaults for vault kv-x".
    pub what: String,
    pub reason: String,
}

impl Gap {
    pub fn describe(&self) -> String {
        format!("{}: {}", self.what, self.reason)
    }
}

/// Every gap of the snapshot, in the order of the chain: its collections, the cluster facts
/// and the Azure side — the same list `check` prints under "Not visible" (audit W1: the TUI
/// kept its own list of the Kubernetes kinds and left the others unsaid). What was left unread
/// by choice (`--no-azure`) is no warning, nor a cluster fact or an Azure side no source
/// tried to read (a hand-made or older snapshot): every live and lab source reads them.
pub fn gaps(s: &Snapshot) -> Vec<Gap> {
    s.gaps()
        .into_iter()
        .filter(|g| {
            !g.chosen
                && g.reason != crate::snapshot::NOT_OBSERVED
                && g.reason != crate::snapshot::AZURE_NOT_OBSERVED
        })
        .map(|g| Gap {
            what: g.what_where(),
            reason: crate::shown::shown(&g.reason).into_owned(),
        })
        .collect()
}

/// "1 gap" / "3 gaps".
pub fn count_label(n: usize) -> String {
    crate::glance::plural(n, "gap")
}

/// One line for the banner: the gaps, then the kinds listed but not kept current (`not_live`:
/// their `watch` was refused, so what is shown is as listed) when they fit.
pub fn banner(gaps: &[Gap], not_live: &[String], width: usize) -> String {
    if gaps.is_empty() {
        return not_live_note(not_live, width);
    }
    let line = gaps_banner(gaps, width);
    if not_live.is_empty() {
        return line;
    }
    let more = format!(
        " · {}",
        not_live_note(not_live, width).trim_start_matches("⚠ ")
    );
    if line.chars().count() + more.chars().count() <= width {
        line + &more
    } else {
        line
    }
}

/// `⚠ not live-updated (listed once): cannot watch pods at the cluster scope: forbidden`, or
/// the count of such kinds when their reasons do not fit `width`.
fn not_live_note(not_live: &[String], width: usize) -> String {
    let full = format!("⚠ not live-updated (listed once): {}", not_live.join(" · "));
    if full.chars().count() <= width {
        return full;
    }
    format!(
        "⚠ not live-updated (listed once, watch refused): {}",
        crate::glance::plural(not_live.len(), "kind")
    )
}

/// As many whole gap descriptions as fit in `width`, then how many more there are; when not
/// even one fits with its reason, the kinds and scopes alone.
fn gaps_banner(gaps: &[Gap], width: usize) -> String {
    let with_reason = |g: &Gap| g.describe();
    let scope_only = |g: &Gap| g.what.clone();
    fit(gaps, width, &with_reason).unwrap_or_else(|| {
        fit(gaps, width, &scope_only)
            .unwrap_or_else(|| format!("⚠ not seen: {}", count_label(gaps.len())))
    })
}

fn fit(gaps: &[Gap], width: usize, describe: &dyn Fn(&Gap) -> String) -> Option<String> {
    let mut line = format!("⚠ not seen ({}): ", count_label(gaps.len()));
    for (i, g) in gaps.iter().enumerate() {
        let sep = if i == 0 { "" } else { " · " };
        let rest = gaps.len() - i - 1;
        let more = if rest > 0 {
            format!(" · +{rest} more")
        } else {
            String::new()
        };
        let piece = format!("{sep}{}", describe(g));
        if line.chars().count() + piece.chars().count() + more.chars().count() > width {
            if i == 0 {
                return None;
            }
            line.push_str(&format!(" · +{} more", gaps.len() - i));
            return Some(line);
        }
        line.push_str(&piece);
    }
    Some(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{Coll, PodObs, SourceKind};

    /// A live source's snapshot: manifests leave run-time state unread by nature (no gap).
    fn live(mut s: Snapshot) -> Snapshot {
        s.source.kind = SourceKind::Live;
        s
    }

    /// The gaps of the Kubernetes collections (the testkit's world leaves cluster facts such
    /// as the driver's placement unobserved).
    fn collection_gaps(s: &Snapshot) -> Vec<Gap> {
        gaps(s)
            .into_iter()
            .filter(|g| !g.what.starts_with("cluster."))
            .collect()
    }

    #[test]
    fn a_view_narrowed_to_one_namespace_shows_in_the_banner() {
        let mut pods: Coll<PodObs> = Coll::default();
        pods.gaps.outside = Some(crate::snapshot::Outside {
            namespace: "shop".into(),
            reason:
                "cannot list pods at the cluster scope: forbidden; only namespace shop is watched"
                    .into(),
        });
        let s = live(Snapshot {
            pods,
            ..crate::chain::testkit::healthy()
        });
        let b = banner(&collection_gaps(&s), &[], 200);
        assert!(b.starts_with("⚠ not seen (1 gap): pods"), "{b}");
        assert!(b.contains("only namespace shop is watched"), "{b}");
    }

    #[test]
    fn every_collection_gap_is_listed_with_its_scope() {
        let mut pods: Coll<PodObs> = Coll::default();
        pods.gaps
            .namespaces
            .insert("payments".into(), "pods is forbidden".into());
        let s = live(Snapshot {
            events: Coll::unknown("events: forbidden at the cluster scope"),
            pods,
            ..crate::chain::testkit::healthy()
        });
        let g = collection_gaps(&s);
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].describe(), "pods in payments: pods is forbidden");
        assert_eq!(
            g[1].describe(),
            "events (all namespaces): events: forbidden at the cluster scope"
        );
        let b = banner(&g, &[], 200);
        assert!(
            b.starts_with("⚠ not seen (2 gaps): pods in payments"),
            "{b}"
        );
        let narrow = banner(&g, &[], 60);
        assert!(narrow.ends_with("+1 more"), "{narrow}");
        assert!(narrow.chars().count() <= 60, "{narrow}");
    }

    /// Audit W1: the banner and the count name every gap `check` lists — the cluster facts
    /// and the Azure side too — but not what was left unread by choice (`--no-azure`).
    #[test]
    fn cluster_facts_and_azure_gaps_are_gaps_too_but_not_a_choice() {
        let mut s = live(crate::chain::testkit::healthy());
        s.cluster.csi_driver = crate::snapshot::Observed::unknown(
            "cannot get csidrivers at the cluster scope: forbidden",
        );
        s.azure.vaults.gaps.all = Some("cannot list vaults: 403 AuthorizationFailed".into());
        s.azure.identities.gaps.all = Some(crate::snapshot::gaps::AZURE_DISABLED.into());
        let g = gaps(&s);
        let described: Vec<String> = g.iter().map(Gap::describe).collect();
        assert!(
            described
                .iter()
                .any(|d| d.starts_with("cluster.csiDriver: cannot get csidrivers")),
            "{described:?}"
        );
        assert!(
            described
                .iter()
                .any(|d| d.contains("403 AuthorizationFailed")),
            "{described:?}"
        );
        assert!(
            !described.iter().any(|d| d.contains("--no-azure")),
            "{described:?}"
        );
    }

    #[test]
    fn kinds_listed_but_not_watched_are_said_after_the_gaps_when_they_fit() {
        let refused = ["cannot watch pods at the cluster scope: forbidden".to_string()];
        assert_eq!(
            banner(&[], &refused, 200),
            "⚠ not live-updated (listed once): cannot watch pods at the cluster scope: forbidden"
        );
        assert_eq!(
            banner(&[], &refused, 40),
            "⚠ not live-updated (listed once, watch refused): 1 kind"
        );
        let g = [Gap {
            what: "events (all namespaces)".into(),
            reason: "cannot list events at the cluster scope: forbidden".into(),
        }];
        let both = banner(&g, &refused, 200);
        assert!(both.starts_with("⚠ not seen (1 gap): events"), "{both}");
        assert!(both.ends_with(" · not live-updated (listed once): cannot watch pods at the cluster scope: forbidden"), "{both}");
        assert_eq!(banner(&g, &refused, 80), banner(&g, &[], 80));
    }
}
