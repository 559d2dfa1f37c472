//! The detail pane on a SecretProviderClass no chain mounts ([`crate::chain::unmounted_spcs`]):
//! where it stands, its findings, then what was checked; the findings with the renderer a chain's link uses
//! ([`super::detail::finding_rows`]): cause, confirm, fix, evidence. Its findings were made
//! safe to show where they were made ([`crate::chain::Finding::show_safely`]); names and the
//! reason the pods were unread pass [`crate::shown::shown`], as `check`'s text does.

use ratatui::text::{Line, Span};

use super::detail::{Flow, finding_rows, wrap};
use crate::chain::SpcVerdict;
use crate::shown::shown;
use crate::ui::theme::Theme;

/// The pane's title: ` SecretProviderClass · NAMESPACE/NAME `.
pub fn title(v: &SpcVerdict) -> String {
    format!(
        " SecretProviderClass · {}/{} ",
        shown(&v.namespace),
        shown(&v.name)
    )
}

/// The pane's lines at `width`, evidence in full (`full`) or its decisive line.
pub fn lines(t: &Theme, v: &SpcVerdict, width: usize, full: bool) -> Vec<Line<'static>> {
    let status = v.shown_status();
    let st = t.status(status);
    let mut head = vec![
        Span::styled(format!("{} {}", status.symbol(), status.as_str()), st),
        Span::raw(" · "),
        Span::styled(v.unmounted_label(), st),
    ];
    if let Some(vault) = &v.vault {
        head.push(Span::styled(
            format!(" · vault {}", shown(vault)),
            t.muted(),
        ));
    }
    let mut rows = vec![(Line::from(head), Flow::Hang(2))];
    // The findings first: at 80×24 the pane shows ten lines, and the cause must be in them.
    for f in &v.findings {
        finding_rows(t, f, full, &mut rows);
    }
    rows.push((Line::raw(""), Flow::Hang(0)));
    if v.findings.is_empty() {
        rows.push((
            Line::styled("Its own fields: checked, no finding.", t.muted()),
            Flow::Hang(0),
        ));
    }
    // What was checked, as `check` says it (audit SS2, DDD10): a pod's chain checks the rest.
    let checked = match &v.pods_unread {
        None => "No pod mounts it: its own fields are checked (parameters, objects, secretObjects); identity, access and objects are checked on a mounting pod's chain.".to_string(),
        Some(why) => format!(
            "Pods unread ({}): a pod may mount it. Its own fields are checked; identity, access and objects are checked on a mounting pod's chain.",
            shown(why)
        ),
    };
    rows.push((Line::styled(checked, t.muted()), Flow::Hang(0)));
    wrap(t, rows, width)
}
