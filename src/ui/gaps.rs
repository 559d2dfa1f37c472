//! What the source could not see, read from the snapshot: every collection's gaps (kind,
//! cluster or namespace scope, reason), for the banner above the panes and the status bar.
//! A chain built over a gap is partial; the user must know before trusting a green box.

use crate::snapshot::{Coll, Snapshot};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gap {
    pub kind: &'static str,
    /// `None`: the cluster scope (nothing of this kind was seen).
    pub namespace: Option<String>,
    pub reason: String,
}

impl Gap {
    pub fn describe(&self) -> String {
        match &self.namespace {
            None => format!("{} (all namespaces): {}", self.kind, self.reason),
            Some(ns) => format!("{} in {ns}: {}", self.kind, self.reason),
        }
    }
}

fn push<T>(out: &mut Vec<Gap>, kind: &'static str, c: &Coll<T>) {
    if let Some(reason) = &c.gaps.all {
        out.push(Gap {
            kind,
            namespace: None,
            reason: reason.clone(),
        });
    }
    // The view narrowed to one namespace (pods forbidden cluster-wide): every other one is
    // unread, and its reason says which namespace is watched.
    if let Some(o) = &c.gaps.outside {
        out.push(Gap {
            kind,
            namespace: None,
            reason: o.reason.clone(),
        });
    }
    for (ns, reason) in &c.gaps.namespaces {
        out.push(Gap {
            kind,
            namespace: Some(ns.clone()),
            reason: reason.clone(),
        });
    }
}

/// Every gap of the snapshot, in the order of the chain.
pub fn gaps(s: &Snapshot) -> Vec<Gap> {
    let mut out = Vec::new();
    push(&mut out, "pods", &s.pods);
    push(&mut out, "service accounts", &s.service_accounts);
    push(&mut out, "SecretProviderClasses", &s.spcs);
    push(&mut out, "SecretProviderClassPodStatuses", &s.spc_statuses);
    push(&mut out, "secrets", &s.secrets);
    push(&mut out, "events", &s.events);
    push(&mut out, "workloads", &s.workloads);
    push(&mut out, "ingresses", &s.ingresses);
    out
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
    let scope_only = |g: &Gap| match &g.namespace {
        None => format!("{} (all namespaces)", g.kind),
        Some(ns) => format!("{} in {ns}", g.kind),
    };
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
    use crate::snapshot::PodObs;

    #[test]
    fn a_view_narrowed_to_one_namespace_shows_in_the_banner() {
        let mut pods: Coll<PodObs> = Coll::default();
        pods.gaps.outside = Some(crate::snapshot::Outside {
            namespace: "shop".into(),
            reason:
                "cannot list pods at the cluster scope: forbidden; only namespace shop is watched"
                    .into(),
        });
        let s = Snapshot {
            pods,
            ..Snapshot::default()
        };
        let b = banner(&gaps(&s), &[], 200);
        assert!(b.starts_with("⚠ not seen (1 gap): pods"), "{b}");
        assert!(b.contains("only namespace shop is watched"), "{b}");
    }

    #[test]
    fn every_collection_gap_is_listed_with_its_scope() {
        let mut pods: Coll<PodObs> = Coll::default();
        pods.gaps
            .namespaces
            .insert("payments".into(), "pods is forbidden".into());
        let s = Snapshot {
            events: Coll::unknown("events: forbidden at the cluster scope"),
            pods,
            ..Snapshot::default()
        };
        let g = gaps(&s);
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
            kind: "events",
            namespace: None,
            reason: "cannot list events at the cluster scope: forbidden".into(),
        }];
        let both = banner(&g, &refused, 200);
        assert!(both.starts_with("⚠ not seen (1 gap): events"), "{both}");
        assert!(both.ends_with(" · not live-updated (listed once): cannot watch pods at the cluster scope: forbidden"), "{both}");
        assert_eq!(banner(&g, &refused, 80), banner(&g, &[], 80));
    }
}
