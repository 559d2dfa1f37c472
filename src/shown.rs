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
    // settles it (the compiler vectorises it; the char-wise test took 9% of a diagnosis, the
    // byte loop below still ~3%).
    if s.len() <= MAX_RUN && printable_ascii(s.as_bytes()) {
        return Cow::Borrowed(s);
    }
    let mut run = 0usize;
    let plain = s.bytes().all(|b| match b {
        b' ' | b'\n' | b'\t' => {
            run = 0;
            true
        }
        0x21..0x7f => {
            run += 1;
            run <= MAX_RUN
        }
        _ => false,
    });
    if plain {
        return Cow::Borrowed(s);
    }
    if !s.chars().any(hidden) && !s.split(char::is_whitespace).any(|w| w.len() > MAX_RUN) {
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

/// Every byte is printable ASCII, a space, a line break or a tab.
fn printable_ascii(bytes: &[u8]) -> bool {
    bytes.chunks(64).all(|chunk| {
        chunk.iter().fold(true, |ok, &b| {
            ok & ((0x20..0x7f).contains(&b) | (b == b'\n') | (b == b'\t'))
        })
    })
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
}
