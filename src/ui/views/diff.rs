//! Observed-vs-expected character diff, for the detail pane.

use ratatui::style::Style;
use ratatui::text::Span;
use similar::{ChangeTag, TextDiff};

/// The observed and expected values as spans, the characters that differ styled: characters
/// only in `observed` get `observed_style`, characters only in `expected` get `expected_style`.
pub fn diff_spans(
    observed: &str,
    expected: &str,
    base: Style,
    observed_style: Style,
    expected_style: Style,
) -> (Vec<Span<'static>>, Vec<Span<'static>>) {
    let diff = TextDiff::from_chars(observed, expected);
    let mut obs: Vec<(bool, String)> = Vec::new();
    let mut exp: Vec<(bool, String)> = Vec::new();
    let push = |v: &mut Vec<(bool, String)>, marked: bool, s: &str| match v.last_mut() {
        Some((m, text)) if *m == marked => text.push_str(s),
        _ => v.push((marked, s.to_string())),
    };
    for change in diff.iter_all_changes() {
        let s = change.value();
        match change.tag() {
            ChangeTag::Equal => {
                push(&mut obs, false, s);
                push(&mut exp, false, s);
            }
            ChangeTag::Delete => push(&mut obs, true, s),
            ChangeTag::Insert => push(&mut exp, true, s),
        }
    }
    let to_spans = |v: Vec<(bool, String)>, mark: Style| {
        v.into_iter()
            .map(|(m, s)| Span::styled(s, if m { base.patch(mark) } else { base }))
            .collect()
    };
    (to_spans(obs, observed_style), to_spans(exp, expected_style))
}

/// Which characters of `observed` differ from `expected` (true = differs), for tests and for
/// callers that need positions rather than spans.
pub fn differing_chars(observed: &str, expected: &str) -> Vec<bool> {
    let diff = TextDiff::from_chars(observed, expected);
    diff.iter_all_changes()
        .filter(|c| c.tag() != ChangeTag::Insert)
        .map(|c| c.tag() == ChangeTag::Delete)
        .collect()
}
