//! Input text as it may be shown: in a finding's message, evidence and commands, and in the
//! report's vault names. A value from a file is echoed where it is the evidence, but:
//! - an absurdly long one (a 5 MB `keyvaultName`) would be printed whole, several times: a run
//!   of non-blank text over [`MAX_RUN`] bytes keeps its first [`KEPT`] characters and says how
//!   long it was;
//! - control, zero-width and bidirectional characters are written as `\u{…}`: a right-to-left
//!   override (U+202E) would otherwise reorder the line on the reader's terminal, so that what
//!   is shown is not what the file says.

use std::borrow::Cow;

/// Longest run of non-blank text shown whole (ARM ids of Key Vault objects reach ~350 bytes).
pub const MAX_RUN: usize = 512;
/// Characters kept of a longer run.
pub const KEPT: usize = 200;

/// `s` with long runs cut and invisible or reordering characters escaped; borrowed when
/// nothing needs to change (the common case).
pub fn shown(s: &str) -> Cow<'_, str> {
    // Every finding's texts pass here: plain printable ASCII no longer than a run can be is
    // the usual case. A text no longer than a run has no run to cut: one branch-free scan
    // settles it (the compiler vectorises it; the char-wise test took 9% of a diagnosis, a byte
    // loop still ~3%).
    if s.len() <= MAX_RUN && printable_ascii(s.as_bytes()) {
        return Cow::Borrowed(s);
    }
    if unchanged(s) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len().min(4 * MAX_RUN));
    let mut run_start = 0;
    for (i, c) in s.char_indices() {
        if c.is_whitespace() && !hidden(c) {
            push_run(&mut out, &s[run_start..i]);
            out.push(c);
            run_start = i + c.len_utf8();
        }
    }
    push_run(&mut out, &s[run_start..]);
    Cow::Owned(out)
}

/// No character is [`hidden`] and no run between whitespace (`char::is_whitespace`) is longer
/// than [`MAX_RUN`] bytes: what [`shown`] leaves as it is. Decoding, testing and splitting
/// every character took ~56,000 instructions for a remedy of ~700 bytes with one `…` in it
/// (KVC703's fix, once per stuck chain): a branch-free scan per 64 bytes settles it instead,
/// decoding only chunks with text that is not ASCII. A run can only be too long across seven
/// chunks in a row without a space, line break or tab: only then is each byte followed.
fn unchanged(s: &str) -> bool {
    let mut without_break = 0;
    for (n, chunk) in s.as_bytes().chunks(64).enumerate() {
        let (mut shown_as_is, mut wide, mut breaks) = (true, false, false);
        for &b in chunk {
            let space = (b == b' ') | (b == b'\n') | (b == b'\t');
            shown_as_is &= (b >= 0x80) | (0x21..0x7f).contains(&b) | space;
            wide |= b >= 0x80;
            breaks |= space;
        }
        if !shown_as_is {
            return false;
        }
        // A lead byte starts a char: decoding from it may read past the chunk, which is fine.
        if wide
            && chunk
                .iter()
                .enumerate()
                .any(|(i, &b)| b >= 0xc0 && s[n * 64 + i..].chars().next().is_some_and(hidden))
        {
            return false;
        }
        without_break = if breaks { 0 } else { without_break + 1 };
        // Up to six such chunks and the ends of their neighbours hold at most 510 bytes.
        if without_break > 6 {
            return unchanged_bytewise(s);
        }
    }
    true
}

/// [`unchanged`] byte by byte, decoding what is not ASCII.
fn unchanged_bytewise(s: &str) -> bool {
    let bytes = s.as_bytes();
    let mut run = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii() {
            match b {
                b' ' | b'\n' | b'\t' => run = 0,
                0x21..0x7f => run += 1,
                // Controls, carriage returns, vertical tabs, form feeds and DEL are hidden.
                _ => return false,
            }
            i += 1;
        } else {
            let Some(c) = s[i..].chars().next() else {
                return false;
            };
            if hidden(c) {
                return false;
            }
            run = if c.is_whitespace() {
                0
            } else {
                run + c.len_utf8()
            };
            i += c.len_utf8();
        }
        if run > MAX_RUN {
            return false;
        }
    }
    true
}

/// Every byte is printable ASCII, a space or a tab: no line break.
fn printable_ascii_line(bytes: &[u8]) -> bool {
    bytes.chunks(64).all(|chunk| {
        (chunk.iter()).fold(true, |ok, &b| {
            ok & ((0x20..0x7f).contains(&b) | (b == b'\t'))
        })
    })
}

/// Every byte is printable ASCII, a space, a line break or a tab.
fn printable_ascii(bytes: &[u8]) -> bool {
    bytes.chunks(64).all(|chunk| {
        chunk.iter().fold(true, |ok, &b| {
            ok & ((0x20..0x7f).contains(&b) | (b == b'\n') | (b == b'\t'))
        })
    })
}

/// [`shown`] for a one-line text (a finding's message, confirm and fix): line breaks too are
/// written as `\u{…}`. kvchain writes these on one line; a line feed, U+2028 or U+2029 in them
/// came from an input value (a secretObjects key, a clientID: free strings, audit BB2) and
/// would forge a line of the report (`    fix:  curl … | sh`) or end a fix's `# note`, so that
/// what follows runs when pasted. (Carriage returns, NEL, vertical tabs and form feeds are
/// controls, escaped by [`shown`] everywhere.) [`shown`] keeps line feeds for the texts that
/// hold several lines as written: an event's HTTP dump in evidence.
pub fn shown_line(s: &str) -> Cow<'_, str> {
    // Every finding's one-line texts pass here at each chain's stamp: a char-wise search for
    // the three breaks decoded every character (a seventh of a 10,000-pod pass's
    // instructions, callgrind). A short line of printable ASCII is settled by one vectorised
    // scan; otherwise only line feeds and 0xE2 bytes are looked at: U+2028 and U+2029 are
    // E2 80 A8 and E2 80 A9 in UTF-8 (texts hold other E2 characters: `…`, `—`, `→`).
    if s.len() <= MAX_RUN && printable_ascii_line(s.as_bytes()) {
        return Cow::Borrowed(s);
    }
    let bytes = s.as_bytes();
    let breaks = memchr::memchr2_iter(b'\n', 0xe2, bytes)
        .any(|i| bytes[i] == b'\n' || matches!(bytes.get(i + 1..i + 3), Some([0x80, 0xa8 | 0xa9])));
    if !breaks {
        return shown(s);
    }
    let mut one = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' | '\u{2028}' | '\u{2029}' => one.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => one.push(c),
        }
    }
    Cow::Owned(shown_string(one))
}

/// [`shown`] as an owned string.
pub fn shown_string(s: String) -> String {
    match shown(&s) {
        Cow::Borrowed(_) => s,
        Cow::Owned(o) => o,
    }
}

fn push_run(out: &mut String, run: &str) {
    let cut = run.len() > MAX_RUN;
    for c in run.chars().take(if cut { KEPT } else { usize::MAX }) {
        if hidden(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    if cut {
        out.push_str(&format!("… ({} bytes)", run.len()));
    }
}

/// Characters a reader cannot see or that reorder what follows: controls other than line
/// breaks and tabs, zero-width and joiner characters, bidirectional marks, embeddings,
/// overrides and isolates, the byte-order mark.
fn hidden(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c,
            '\u{00ad}' | '\u{061c}' | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{feff}'
            // Noncharacters XML 1.0 refuses: an SVG or JUnit file holding one is not XML.
            | '\u{fffe}' | '\u{ffff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed() {
        assert!(matches!(shown("vault kv-shop: ok"), Cow::Borrowed(_)));
    }

    #[test]
    fn bidi_and_zero_width_characters_are_escaped_alike() {
        assert_eq!(
            shown("did you mean wörkload-sa\u{202e}? or a\u{200b}b\u{2066}"),
            "did you mean wörkload-sa\\u{202e}? or a\\u{200b}b\\u{2066}"
        );
        assert_eq!(shown("a\x1b[31mb\nc"), "a\\u{1b}[31mb\nc");
    }

    #[test]
    fn a_long_run_keeps_its_head_and_says_its_size() {
        let long = "k".repeat(5_000_000);
        let text = format!("name: {long} is invalid");
        let s = shown(&text);
        assert_eq!(
            s,
            format!("name: {}… (5000000 bytes) is invalid", "k".repeat(KEPT))
        );
        let id = "/subscriptions/x".repeat(30);
        assert_eq!(shown(&id), id, "an ARM id of 480 bytes is shown whole");
    }

    /// [`unchanged`] says what the char-wise test it replaced said: no hidden character and
    /// no whitespace-separated word over a run's length.
    #[test]
    fn unchanged_agrees_with_the_char_wise_test() {
        fn char_wise(s: &str) -> bool {
            !s.chars().any(hidden) && !s.split(char::is_whitespace).any(|w| w.len() > MAX_RUN)
        }
        let word = "k".repeat(MAX_RUN);
        let parts = [
            "a", " ", "\n", "\t", "\r", "\u{0b}", "\u{0c}", "\u{7f}", "\u{1f}", "…", "é", "\u{a0}",
            "\u{85}", "\u{3000}", "\u{2028}", "\u{200b}", "\u{202e}", "\u{feff}", "\u{1680}",
            "\u{180e}", "🔑", &word,
        ];
        for a in parts {
            for b in parts {
                for c in parts {
                    let s = format!("{a}{b}{c}");
                    assert_eq!(unchanged(&s), char_wise(&s), "{s:?}");
                }
            }
        }
    }

    proptest::proptest! {
        /// Long texts mixing every kind of character: runs near the limit, breaks that are
        /// not ASCII, hidden characters at chunk edges.
        #[test]
        fn unchanged_agrees_on_long_texts(
            parts in proptest::collection::vec(
                (
                    proptest::sample::select(vec![
                        "k", "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk", " ", "\n", "\r", "…", "é",
                        "\u{a0}", "\u{3000}", "\u{85}", "\u{200b}", "\u{202e}", "🔑",
                    ]),
                    1..40usize,
                ),
                0..16,
            )
        ) {
            let s: String = parts.iter().map(|(p, n)| p.repeat(*n)).collect();
            let char_wise = !s.chars().any(hidden)
                && !s.split(char::is_whitespace).any(|w| w.len() > MAX_RUN);
            proptest::prop_assert_eq!(unchanged(&s), char_wise, "{:?}", s);
        }

        /// [`shown_line`]'s byte scans say what the char-wise search they front said: each
        /// line break escaped, the rest as [`shown`] shows it, and a text needing nothing
        /// borrowed.
        #[test]
        fn shown_line_agrees_with_the_char_wise_search(
            parts in proptest::collection::vec(
                (
                    proptest::sample::select(vec![
                        "k", "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk", " ", "\n", "\t", "\r", "…",
                        "\u{2028}", "\u{2029}", "\u{2026}", "\u{202e}", "\u{7f}", "é", "🔑",
                    ]),
                    1..40usize,
                ),
                0..16,
            )
        ) {
            let s: String = parts.iter().map(|(p, n)| p.repeat(*n)).collect();
            let char_wise: String = s
                .chars()
                .map(|c| match c {
                    '\n' | '\u{2028}' | '\u{2029}' => format!("\\u{{{:x}}}", c as u32),
                    c => c.to_string(),
                })
                .collect();
            let line = shown_line(&s);
            let expected = shown(&char_wise);
            proptest::prop_assert_eq!(line.as_ref(), expected.as_ref(), "{:?}", s);
            proptest::prop_assert_eq!(matches!(line, Cow::Borrowed(_)), char_wise == s && matches!(shown(&s), Cow::Borrowed(_)));
        }
    }
}
