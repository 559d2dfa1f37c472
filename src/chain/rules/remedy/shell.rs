//! Joining commands that may carry notes. A fix is one shell line: `command  # note`. Bash
//! reads everything after an unquoted `#` that starts a word as a comment, so `a  # note && b`
//! never runs `b` (audit P2). [`in_turn`] joins commands with `&&` and moves every note to the
//! end of the line, where it stays a note.

/// Byte index of the `#` where bash's comment starts in `line`, if any: the first `#` that
/// begins a word outside quotes. A `#` inside a word (`a#b`, `${#x}`), in `'…'` or `"…"`, or
/// within a command substitution (`$(…)`, quoted or not) starts none.
pub(crate) fn comment_at(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    walk(line, |i, ctx, depth| {
        ctx == Ctx::Bare
            && depth == 1
            && b[i] == b'#'
            && (i == 0 || b" \t\n;&|()<>".contains(&b[i - 1]))
    })
}

/// How `line` may be cut before a byte and go on on the next line, for bash to read the
/// same command: what [`cuts`] gives each byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cut {
    /// Not here: an escaped character, the `(` of `$(`, or the middle of a character.
    Never,
    /// A blank between words read unquoted (outside quotes, or in `$(…)` outside its own):
    /// ` \` ends the row, and the next may be indented (blanks between words are nothing).
    Blank,
    /// Inside a word, outside `'…'`: `\` ends the row and the next goes on with no indent
    /// (bash drops a backslash-newline there, also within `"…"`).
    Join,
    /// Inside `'…'`, where a backslash is literal: `'\` ends the row and the next starts
    /// with `'` (the quote closed, the line continued, the quote opened again).
    Requote,
}

/// [`Cut`] of each byte of `line`: how it may be cut before that byte.
pub(crate) fn cuts(line: &str) -> Vec<Cut> {
    let b = line.as_bytes();
    let mut out = vec![Cut::Never; b.len()];
    walk(line, |i, ctx, _| {
        out[i] = match ctx {
            _ if !line.is_char_boundary(i) => Cut::Never,
            Ctx::Bare | Ctx::Subst if matches!(b[i], b' ' | b'\t') => Cut::Blank,
            Ctx::Single => Cut::Requote,
            _ => Cut::Join,
        };
        false
    });
    out
}

/// Where a byte of a shell line stands: outside quotes, in `'…'`, in `"…"`, or in `$(…)`.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Ctx {
    Bare,
    Single,
    Double,
    Subst,
}

/// Walks `line` as bash quotes it, calling `at(index, context, nesting)` on each byte not
/// escaped by a backslash, before that byte opens or closes anything; stops at the first
/// index `at` accepts and returns it.
pub(super) fn walk(line: &str, mut at: impl FnMut(usize, Ctx, usize) -> bool) -> Option<usize> {
    let b = line.as_bytes();
    let mut stack = vec![Ctx::Bare];
    let mut i = 0;
    while i < b.len() {
        let here = *stack.last().unwrap_or(&Ctx::Bare);
        let c = b[i];
        if at(i, here, stack.len()) {
            return Some(i);
        }
        match here {
            Ctx::Single => {
                if c == b'\'' {
                    stack.pop();
                }
            }
            Ctx::Double => match c {
                b'\\' => i += 1,
                b'"' => {
                    stack.pop();
                }
                b'$' if b.get(i + 1) == Some(&b'(') => {
                    stack.push(Ctx::Subst);
                    i += 1;
                }
                _ => {}
            },
            Ctx::Bare | Ctx::Subst => match c {
                b'\\' => i += 1,
                b'\'' => stack.push(Ctx::Single),
                b'"' => stack.push(Ctx::Double),
                b'$' if b.get(i + 1) == Some(&b'(') => {
                    stack.push(Ctx::Subst);
                    i += 1;
                }
                b'(' if here == Ctx::Subst => stack.push(Ctx::Subst),
                b')' if here == Ctx::Subst => {
                    stack.pop();
                }
                _ => {}
            },
        }
        i += 1;
    }
    None
}

/// `line` as the command bash runs (trailing blanks trimmed; empty for a line that is all
/// note) and its note (the text after the `#`, trimmed), if it has one.
pub(crate) fn split_note(line: &str) -> (&str, Option<&str>) {
    match comment_at(line) {
        Some(at) => (line[..at].trim_end(), Some(line[at + 1..].trim())),
        None => (line.trim_end(), None),
    }
}

/// The commands of `parts` run one after another (`&&`: each only if the one before
/// succeeded), their notes after all of them, in order (`a && b  # note of a; note of b`).
pub(crate) fn in_turn(parts: &[&str]) -> String {
    let mut commands = Vec::new();
    let mut notes = Vec::new();
    for part in parts {
        let (command, note) = split_note(part);
        if !command.is_empty() {
            commands.push(command);
        }
        notes.extend(note.filter(|n| !n.is_empty()));
    }
    let commands = commands.join(" && ");
    match (commands.is_empty(), notes.is_empty()) {
        (_, true) => commands,
        (true, false) => format!("# {}", notes_joined(&notes)),
        (false, false) => format!("{commands}  # {}", notes_joined(&notes)),
    }
}

/// Notes said one after another in one comment, as clauses of one sentence (`a; b`): a note
/// written as a sentence of its own (a restart plan's, for the confirmation dialog) loses its
/// closing full stop, and after the first its opening word is no longer capitalised when it is
/// a plain word ("Only pods …", not a kind or a name): no ".;" and no capital mid-sentence
/// (audit NN7).
pub(crate) fn notes_joined<S: AsRef<str>>(notes: &[S]) -> String {
    let mut out = String::new();
    for (i, note) in notes.iter().enumerate() {
        let note = note.as_ref().trim();
        let note = note.strip_suffix('.').unwrap_or(note);
        if note.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push_str("; ");
        }
        let first = note.split(' ').next().unwrap_or_default();
        match i > 0 && SENTENCE_WORDS.contains(&first) {
            true => {
                out.push_str(&first.to_ascii_lowercase());
                out.push_str(&note[first.len()..]);
            }
            false => out.push_str(note),
        }
    }
    out
}

/// The plain words the restart plans' notes open a sentence with (not a kind, not a name).
const SENTENCE_WORDS: [&str; 8] = [
    "Only", "Every", "Whether", "No", "Under", "Its", "Once", "Deleting",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comment_starts_only_at_an_unquoted_word() {
        assert_eq!(comment_at("a  # b"), Some(3));
        assert_eq!(comment_at("# all note"), Some(0));
        assert_eq!(comment_at("a#b"), None);
        assert_eq!(comment_at("echo ${#x}"), None);
        assert_eq!(comment_at("grep -F '# x' f"), None);
        assert_eq!(comment_at("grep -F \"# x\" f"), None);
        assert_eq!(
            comment_at("az x --id \"$(az y --query \"[?a=='#'].b\" -o tsv)\"  # n"),
            Some(50)
        );
        assert_eq!(comment_at("a $(b # c\n) d"), None);
        assert_eq!(comment_at("a;# b"), Some(2));
    }

    #[test]
    fn a_line_is_cut_as_bash_reads_it() {
        let line = "P=\"$(az x)\" 'a b' e\\ f";
        let kinds: String = cuts(line)
            .iter()
            .map(|c| match c {
                Cut::Never => '.',
                Cut::Blank => ' ',
                Cut::Join => 'j',
                Cut::Requote => 'q',
            })
            .collect();
        // Not after `$` (its `(`) or a backslash; a blank only outside quotes or in $(…).
        assert_eq!(kinds, "jjjj.jj jjj jqqqq jj.j");
    }

    #[test]
    fn in_turn_moves_the_notes_after_every_command() {
        assert_eq!(in_turn(&["a  # one", "b  # two"]), "a && b  # one; two");
        assert_eq!(in_turn(&["a", "b"]), "a && b");
        assert_eq!(in_turn(&["a  # one", "b"]), "a && b  # one");
        assert_eq!(in_turn(&["# only prose", "b"]), "b  # only prose");
        assert_eq!(in_turn(&["# one", "# two"]), "# one; two");
        assert_eq!(
            in_turn(&["a  # Only these.", "b  # Only those."]),
            "a && b  # Only these; only those"
        );
        assert_eq!(
            in_turn(&["a  # one", "b  # StatefulSet x."]),
            "a && b  # one; StatefulSet x"
        );
    }
}
