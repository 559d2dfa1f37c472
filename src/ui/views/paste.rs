//! A confirm or fix command too long for the detail pane, wrapped so that its rows, selected
//! as a block from the command's first character and pasted, are still that command. A
//! terminal copies each screen row as a line of its own: a command cut at a blank and
//! continued at column 0 pasted as two commands, the first run without the arguments after
//! the cut (`az keyvault secret show … -n` without the name). Here every row after the first
//! starts under the command's first character; a row cut between words ends with ` \` (bash
//! joins the next line to it; the blanks before the next row's text are outside the block),
//! a word too long for a row is cut where bash joins it back ([`Cut`]: `\` inside a word,
//! `'\` and a `'` reopening a single-quoted one), and a note that does not fit after the
//! command goes on rows of its own, each a `# ` comment, so no word of it runs. `y` copies
//! the command from the finding itself, never from these rows.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::hang::{cells, fitting_hang, split_at_width};
use crate::chain::rules::remedy::{Cut, cuts};

/// The row(s) of `label` then `$ command` (and `  # note`), at most `width` cells each.
pub fn rows(
    label: Span<'static>,
    command: &str,
    note: Option<&str>,
    styles: (Style, Style),
    width: usize,
) -> Vec<Line<'static>> {
    let (command_style, note_style) = styles;
    let width = width.max(1);
    let indent = fitting_hang(width, cells(&label.content) + 2);
    let mut rows = Rows {
        width,
        indent,
        style: command_style,
        done: Vec::new(),
        row: vec![label, Span::styled("$ ", command_style)],
        used: 0,
    };
    rows.used = rows.row.iter().map(|s| cells(&s.content)).sum();
    let kinds = cuts(command);
    let words = words(command, &kinds);
    for (k, &(start, word)) in words.iter().enumerate() {
        let last = k + 1 == words.len();
        let sep = usize::from(k > 0 && !rows.fresh());
        // A row the command goes on past keeps two cells for its ` \`.
        let room = width.saturating_sub(if last { 0 } else { 2 });
        if k > 0 && !rows.fresh() && rows.used + sep + cells(word) > room {
            rows.put(" \\");
            rows.next_row(true);
        } else if sep == 1 {
            rows.put(" ");
        }
        rows.word(word, &kinds[start..start + word.len()], room);
    }
    let Rows {
        mut done,
        mut row,
        used,
        ..
    } = rows;
    if let Some(note) = note {
        let after = format!("  # {note}");
        if used + cells(&after) <= width {
            row.push(Span::styled(after, note_style));
        } else {
            done.push(std::mem::take(&mut row));
            // `# ` then the note's words, every continuation a comment of its own.
            let text_w = width.saturating_sub(indent + 2).max(1);
            for line in super::hang::wrap(&Line::raw(note.to_string()), text_w, 0) {
                let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
                done.push(vec![
                    Span::raw(" ".repeat(indent)),
                    Span::styled(format!("# {text}"), note_style),
                ]);
            }
        }
    }
    if !row.is_empty() {
        done.push(row);
    }
    done.into_iter().map(Line::from).collect()
}

/// The command's rows as they are filled.
struct Rows {
    width: usize,
    indent: usize,
    style: Style,
    done: Vec<Vec<Span<'static>>>,
    row: Vec<Span<'static>>,
    used: usize,
}

impl Rows {
    /// Nothing of the command on this row yet beyond its indent (or its prompt).
    fn fresh(&self) -> bool {
        self.row
            .last()
            .is_none_or(|s| s.content.trim().is_empty() || s.content == "$ ")
    }

    fn put(&mut self, s: &str) {
        self.used += cells(s);
        self.row.push(Span::styled(s.to_string(), self.style));
    }

    /// Starts a row under the command's first character.
    fn next_row(&mut self, indented: bool) {
        self.done.push(std::mem::take(&mut self.row));
        self.used = 0;
        if indented && self.indent > 0 {
            self.used = self.indent;
            self.row.push(Span::raw(" ".repeat(self.indent)));
        }
    }

    /// `word` (its bytes' [`Cut`]s in `kinds`) on this row, and on the next ones, cut where
    /// bash joins it back, when it is wider than `room` allows.
    fn word(&mut self, word: &str, kinds: &[Cut], room: usize) {
        let mut rest = word;
        let mut at = 0;
        while self.used + cells(rest) > room {
            match self.cut(rest, &kinds[at..]) {
                Some((head, Cut::Requote)) => {
                    self.put(&format!("{head}'\\"));
                    self.next_row(true);
                    self.put("'");
                    at += head.len();
                    rest = &rest[head.len()..];
                }
                Some((head, _)) => {
                    self.put(&format!("{head}\\"));
                    self.next_row(true);
                    at += head.len();
                    rest = &rest[head.len()..];
                }
                None => break,
            }
        }
        // What is left, or a word no cut fits: cut where the row ends (`y` copies it whole).
        loop {
            if self.used >= self.width {
                self.next_row(false);
            }
            let mut head = split_at_width(rest, self.width - self.used).0;
            if head.is_empty() {
                head = &rest[..rest.chars().next().map_or(rest.len(), char::len_utf8)];
            }
            self.put(head);
            rest = &rest[head.len()..];
            if rest.is_empty() {
                return;
            }
            self.used = self.width;
        }
    }

    /// The longest head of `word` that fits this row with the mark its cut needs, and that
    /// cut; none when no head of at least one character does.
    fn cut<'w>(&self, word: &'w str, kinds: &[Cut]) -> Option<(&'w str, Cut)> {
        let room = self.width.saturating_sub(self.used);
        let mut best = None;
        // Cells of word[..i].
        let mut w = 0;
        for (i, c) in word.char_indices() {
            let mark = match kinds[i] {
                Cut::Join => 1,
                Cut::Requote => 2,
                Cut::Never | Cut::Blank => usize::MAX / 2,
            };
            if i > 0 && w + mark <= room {
                best = Some((&word[..i], kinds[i]));
            }
            w += cells(c.encode_utf8(&mut [0; 4]));
            if w > room {
                break;
            }
        }
        best
    }
}

/// `command`'s words: the pieces between the blanks it may be cut at ([`Cut::Blank`]), each
/// with the byte it starts at.
fn words<'c>(command: &'c str, kinds: &[Cut]) -> Vec<(usize, &'c str)> {
    let mut out = Vec::new();
    let mut from = 0;
    for (i, k) in kinds.iter().enumerate() {
        if *k == Cut::Blank {
            if i > from {
                out.push((from, &command[from..i]));
            }
            from = i + 1;
        }
    }
    if from < command.len() {
        out.push((from, &command[from..]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::testing::lines_text;

    fn shown(command: &str, note: Option<&str>, width: usize) -> String {
        let label = Span::raw("  fix      ");
        lines_text(&rows(
            label,
            command,
            note,
            (Style::default(), Style::default()),
            width,
        ))
    }

    #[test]
    fn a_command_that_fits_is_one_row_as_before() {
        assert_eq!(
            shown("kubectl get pod p", Some("look"), 80),
            "  fix      $ kubectl get pod p  # look"
        );
    }

    #[test]
    fn a_long_command_continues_with_a_backslash_under_itself() {
        let rows = shown(
            "az keyvault secret show --vault-name kv-shop-lab -n catalog-api-key",
            None,
            48,
        );
        assert_eq!(
            rows,
            [
                "  fix      $ az keyvault secret show \\",
                "             --vault-name kv-shop-lab -n \\",
                "             catalog-api-key",
            ]
            .join("\n")
        );
        for r in rows.lines() {
            assert!(cells(r) <= 48, "{r}");
        }
    }

    #[test]
    fn a_quoted_value_is_never_split() {
        let rows = shown(
            "az role assignment create --role \"Key Vault Secrets User\" --scope x",
            None,
            44,
        );
        assert!(rows.contains("\"Key Vault Secrets User\""), "{rows}");
    }

    #[test]
    fn a_note_that_does_not_fit_is_comment_rows() {
        let rows = shown(
            "kubectl edit secretproviderclass catalog-kv -n shop",
            Some("objects[0].objectName: catalog-apikey and a few more words"),
            48,
        );
        assert_eq!(
            rows,
            [
                "  fix      $ kubectl edit secretproviderclass \\",
                "             catalog-kv -n shop",
                "             # objects[0].objectName:",
                "             # catalog-apikey and a few more",
                "             # words",
            ]
            .join("\n")
        );
    }
}
