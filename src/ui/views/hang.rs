//! Wrapping with a hanging indent: a line too long for its pane continues under where its
//! text started (`  seen     ` then the event, continued under the event), not at column 0,
//! where it read as a line of its own and the detail pane's blocks (confirm, fix, evidence)
//! ran into each other. Ratatui's own wrap always restarts at column 0.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

/// Display width of `s` in cells.
pub fn cells(s: &str) -> usize {
    Span::raw(s).width()
}

/// `line` wrapped at `width` cells between words, each continuation row starting `hang`
/// blanks in (less when the pane leaves under 16 cells after it). A word longer than a row
/// is cut where the row ends. Styles are kept.
pub fn wrap(line: &Line<'_>, width: usize, hang: usize) -> Vec<Line<'static>> {
    let width = width.max(1);
    let hang = fitting_hang(width, hang);
    let mut rows = Rows::new(width, hang);
    for span in &line.spans {
        let style = line.style.patch(span.style);
        for token in tokens(&span.content) {
            rows.push(token, style);
        }
    }
    rows.finish()
}

/// `hang`, or as much of it as leaves a row 16 cells of text (at the least 0).
pub fn fitting_hang(width: usize, hang: usize) -> usize {
    hang.min(width.saturating_sub(16))
}

/// Runs of blanks and runs of anything else, in order.
fn tokens(s: &str) -> impl Iterator<Item = &str> {
    let mut rest = s;
    std::iter::from_fn(move || {
        let first = rest.chars().next()?;
        let blank = first == ' ';
        let end = rest
            .char_indices()
            .find(|(_, c)| (*c == ' ') != blank)
            .map_or(rest.len(), |(i, _)| i);
        let (token, tail) = rest.split_at(end);
        rest = tail;
        Some(token)
    })
}

/// Rows being filled, greedily.
struct Rows {
    width: usize,
    hang: usize,
    done: Vec<Line<'static>>,
    row: Vec<Span<'static>>,
    used: usize,
    /// Blanks seen after the row's last word (of one span or several): written only if a
    /// word follows on this row.
    pending: Vec<(String, Style)>,
    /// The row holds text beyond its indent (a word may move to the next row).
    has_text: bool,
}

impl Rows {
    fn new(width: usize, hang: usize) -> Rows {
        Rows {
            width,
            hang,
            done: Vec::new(),
            row: Vec::new(),
            used: 0,
            pending: Vec::new(),
            has_text: false,
        }
    }

    fn push(&mut self, token: &str, style: Style) {
        if token.starts_with(' ') {
            // Leading blanks of the line are its indent: kept.
            if !self.has_text && self.done.is_empty() {
                self.put(token, style);
            } else {
                self.pending.push((token.to_string(), style));
            }
            return;
        }
        let w = cells(token);
        let blanks: usize = self.pending.iter().map(|(b, _)| cells(b)).sum();
        if self.has_text && self.used + blanks + w > self.width {
            // A word (a URL, a name) that fits a whole row but not one indented starts at
            // column 0 rather than be cut: whole, it can be read and selected.
            let indent = w <= self.width && w > self.width - self.hang;
            self.break_row();
            if indent {
                self.row.clear();
                self.used = 0;
            }
        } else {
            for (b, s) in std::mem::take(&mut self.pending) {
                self.put(&b, s);
            }
        }
        self.pending.clear();
        // A word wider than a row: cut at the row's end.
        let mut rest = token;
        loop {
            let room = self.width.saturating_sub(self.used);
            let mut head = split_at_width(rest, room).0;
            if head.is_empty() {
                if self.has_text {
                    self.break_row();
                    continue;
                }
                // Not even one character fits an empty row: take it anyway.
                head = &rest[..rest.chars().next().map_or(rest.len(), char::len_utf8)];
            }
            self.put(head, style);
            self.has_text = true;
            rest = &rest[head.len()..];
            if rest.is_empty() {
                break;
            }
            self.break_row();
        }
    }

    fn put(&mut self, s: &str, style: Style) {
        self.used += cells(s);
        self.row.push(Span::styled(s.to_string(), style));
    }

    fn break_row(&mut self) {
        self.done.push(Line::from(std::mem::take(&mut self.row)));
        self.pending.clear();
        self.used = 0;
        self.has_text = false;
        if self.hang > 0 {
            self.put(&" ".repeat(self.hang), Style::default());
        }
    }

    fn finish(mut self) -> Vec<Line<'static>> {
        if !self.row.is_empty() || self.done.is_empty() {
            self.done.push(Line::from(self.row));
        }
        self.done
    }
}

/// The longest head of `s` at most `room` cells wide, and the rest.
pub fn split_at_width(s: &str, room: usize) -> (&str, &str) {
    let mut used = 0;
    for (i, c) in s.char_indices() {
        let w = cells(c.encode_utf8(&mut [0; 4]));
        if used + w > room {
            return s.split_at(i);
        }
        used += w;
    }
    (s, "")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ui::testing::lines_text;

    #[test]
    fn a_continuation_keeps_the_indent_of_its_line() {
        let line = Line::from(vec![
            Span::raw("  seen     "),
            Span::raw("FailedMount (x7, kubelet): RESPONSE 404: 404 Not Found"),
        ]);
        let rows = lines_text(&wrap(&line, 40, 11));
        assert_eq!(
            rows,
            "  seen     FailedMount (x7, kubelet):\n           RESPONSE 404: 404 Not Found"
        );
    }

    #[test]
    fn a_word_wider_than_a_row_is_cut_at_its_end() {
        let line = Line::raw(format!("ab {}", "x".repeat(30)));
        let rows = lines_text(&wrap(&line, 20, 2));
        // It starts a row of its own, as a word that fits would.
        assert_eq!(
            rows,
            format!("ab\n  {}\n  {}", "x".repeat(18), "x".repeat(12))
        );
        for r in rows.lines() {
            assert!(cells(r) <= 20, "{r}");
        }
    }

    #[test]
    fn a_word_that_fits_only_unindented_starts_at_column_0() {
        let url = "https://eastus.oic.prod-aks.azure.com/tid/cid/";
        let line = Line::raw(format!("issuer ✓ {url}"));
        assert_eq!(lines_text(&wrap(&line, 46, 2)), format!("issuer ✓\n{url}"));
    }

    #[test]
    fn blanks_of_several_spans_are_kept_between_words() {
        let line = Line::from(vec![Span::raw("a"), Span::raw("   "), Span::raw(" │ b")]);
        assert_eq!(lines_text(&wrap(&line, 40, 0)), "a    │ b");
    }

    #[test]
    fn a_narrow_pane_keeps_sixteen_cells_of_text() {
        assert_eq!(fitting_hang(20, 11), 4);
        assert_eq!(fitting_hang(10, 11), 0);
        assert_eq!(fitting_hang(80, 11), 11);
    }

    #[test]
    fn styles_survive_the_wrap() {
        let bold = Style::default().add_modifier(ratatui::style::Modifier::BOLD);
        let line = Line::from(vec![Span::raw("aa "), Span::styled("bb cc", bold)]);
        let rows = wrap(&line, 5, 0);
        assert_eq!(lines_text(&rows), "aa bb\ncc");
        assert_eq!(rows[1].spans[0].style, bold);
    }

    /// Text that is not plain ASCII words: long unbreakable names and URLs, wide characters
    /// (CJK, emoji), combining marks, zero-width and non-breaking spaces.
    pub(crate) fn awkward_text() -> impl proptest::strategy::Strategy<Value = String> {
        proptest::collection::vec(
            (
                proptest::sample::select(vec![
                    "k",
                    " ",
                    "kv-shop-lab/checkout-db-password-",
                    "https://x.vault.azure.net/",
                    "é",
                    "e\u{301}",
                    "中",
                    "🔑",
                    "\u{200b}",
                    "\u{a0}",
                    "-",
                    "/",
                    "…",
                ]),
                1..30usize,
            ),
            0..12,
        )
        .prop_map(|parts| parts.iter().map(|(p, n)| p.repeat(*n)).collect())
    }

    use proptest::strategy::Strategy;

    proptest::proptest! {
        /// Audit VVV-time: a long object name or URL in a finding at any width is wrapped,
        /// never lost: the rows hold every character of the line, in order, its end too; no
        /// row is wider than the pane (a character wider than a whole row aside); no panic.
        #[test]
        fn a_wrapped_line_keeps_every_character_of_its_words(
            text in awkward_text(),
            width in 1..100usize,
            hang in 0..20usize,
        ) {
            let line = Line::from(vec![Span::raw("seen "), Span::raw(text.clone())]);
            let rows = wrap(&line, width, hang);
            let kept: String = rows.iter().flat_map(|r| r.spans.iter())
                .flat_map(|s| s.content.chars()).filter(|c| *c != ' ').collect();
            let said: String = format!("seen {text}").chars().filter(|c| *c != ' ').collect();
            proptest::prop_assert_eq!(kept, said);
            for r in &rows {
                proptest::prop_assert!(r.width() <= width.max(2), "{} > {width}: {r:?}", r.width());
            }
        }
    }
}
