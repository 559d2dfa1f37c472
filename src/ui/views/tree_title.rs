//! The tree pane's title fitted to its border: cut at the edge, 80 columns read `Chains · 1 pod
//! · 1 SPC mounte` (audit XD-tui). What goes first is what says least: the word `Chains`, then
//! the long phrasing of a count, then the filter and namespace shown elsewhere (the `/` prompt,
//! the empty tree's sentence); a count and its number never go.

use crate::glance::plural;

use super::hang::cells;

/// What the title counts and names.
#[derive(Clone, Copy, Debug, Default)]
pub struct TitleParts<'a> {
    /// Pods in the (filtered) tree.
    pub pods: usize,
    /// Chains no pod starts (an Ingress's).
    pub without_pod: usize,
    /// SecretProviderClasses no pod mounts, the namespace's pods read.
    pub unmounted: usize,
    /// SecretProviderClasses not known to be mounted: their namespace's pods unread.
    pub unread: usize,
    /// The filter's text, when one is kept.
    pub filter: Option<&'a str>,
    /// The namespace chosen with `:ns`.
    pub namespace: Option<&'a str>,
}

/// The title in at most `room` cells (the border between its corners), spaced as a title: its
/// longest form that fits, else its shortest with the filter and namespace left out for `…`.
/// The counts are kept whole even where they do not fit (a narrower border cuts them; 80
/// columns never does).
pub fn title(p: &TitleParts, room: usize) -> String {
    let mut last = String::new();
    for level in 0..4 {
        let t = form(p, level, true);
        if cells(&t) <= room {
            return t;
        }
        last = t;
    }
    if p.filter.is_some() || p.namespace.is_some() {
        let t = form(p, 3, false);
        if cells(&t) <= room {
            return t;
        }
        last = t;
    }
    last
}

/// The title at `level` of shortening: 0 whole, 1 without `Chains ·`, 2 and 3 the SPC and
/// pod-less counts in fewer words. `named` keeps the filter and namespace, else `…` says
/// something was left out.
fn form(p: &TitleParts, level: usize, named: bool) -> String {
    let mut parts = Vec::new();
    if level == 0 {
        parts.push("Chains".to_string());
    }
    parts.push(plural(p.pods, "pod"));
    if p.without_pod > 0 {
        parts.push(match level {
            0..=2 => format!("{} without a pod", p.without_pod),
            _ => format!("{} no pod", p.without_pod),
        });
    }
    if p.unmounted > 0 {
        let n = plural(p.unmounted, "SPC");
        parts.push(match level {
            0 | 1 => format!("{n} mounted by no pod"),
            2 => format!("{n} no pod mounts"),
            _ => format!("{n} unmounted"),
        });
    }
    if p.unread > 0 {
        let n = plural(p.unread, "SPC");
        parts.push(match level {
            0 | 1 => format!("{n} not known to be mounted"),
            _ => format!("{n}, pods unread"),
        });
    }
    if named {
        if let Some(f) = p.filter {
            parts.push(format!("/{f}"));
        }
        if let Some(ns) = p.namespace {
            parts.push(format!("ns {ns}"));
        }
    } else {
        parts.push("…".into());
    }
    format!(" {} ", parts.join(" · "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_word_goes_before_the_phrasing_and_no_number_is_cut() {
        let p = TitleParts {
            pods: 1,
            unmounted: 1,
            ..TitleParts::default()
        };
        assert_eq!(title(&p, 200), " Chains · 1 pod · 1 SPC mounted by no pod ");
        assert_eq!(title(&p, 35), " 1 pod · 1 SPC mounted by no pod ");
        assert_eq!(title(&p, 30), " 1 pod · 1 SPC no pod mounts ");
        assert_eq!(title(&p, 25), " 1 pod · 1 SPC unmounted ");
        let p = TitleParts {
            pods: 24,
            filter: Some("KVC302"),
            namespace: Some("billing"),
            unread: 2,
            ..TitleParts::default()
        };
        assert_eq!(title(&p, 40), " 24 pods · 2 SPCs, pods unread · … ");
        assert!(title(&p, 10).contains("2 SPCs"));
    }
}
