//! What a link says in the chain strip, where a box is 6 to 20 cells wide: a form of its
//! summary that fits whole (never a cut word), and "not reached" for the links a break
//! upstream keeps from being tried, so the one red box is the cause. Pure: the strip draws
//! it, the tests check it for every built-in scenario at 80 and 160 columns.

use crate::chain::{Chain, Code, LinkKind, Status};

/// Shorter spellings, applied in turn: each one that changes the text adds a candidate.
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("Key Vault ", "KV "),
    (" mismatch", " ≠"),
    (" differs", " ≠"),
    ("not found", "missing"),
    ("proven by mount", "by mount"),
    ("identity binding", "id binding"),
    ("kubelet identity", "kubelet id"),
    ("over-privileged", "too broad"),
    ("access policy", "policy"),
    ("Azure unknown", "unknown"),
    ("Azure unseen", "unseen"),
    ("KV Secrets ", "Secrets "),
    ("KV Certificate ", "Cert "),
];

/// Spellings for boxes of 6 or 7 cells (80 columns), tried only when no form above fits in
/// any layout, so a reason still shows: `sub`/`iss` are the token's own claim names, `429` the
/// status of a throttled request, `←` points at the upstream link that blocks this one.
const NARROW: &[(&str, &str)] = &[
    ("blocked: ", "← "),
    ("Federation", "Fed"),
    ("subject ≠", "sub ≠"),
    ("issuer ≠", "iss ≠"),
    ("client-id ≠", "id ≠"),
    ("cross-tenant", "other tenant"),
    ("wrong grant", "bad role"),
    ("no such file", "no file"),
    ("no rotation", "no rotate"),
    ("throttled", "429"),
    ("objects unknown", "objs ?"),
    ("not reached", "not tried"),
    // "Job finished", "pod finished": a finished pod's link, which waits on nothing.
    ("finished", "done"),
];

/// The words the abbreviations bring in (for tests: every word drawn is one of the summary's
/// or one of these).
pub fn abbreviation_words() -> impl Iterator<Item = &'static str> {
    ABBREVIATIONS
        .iter()
        .chain(NARROW)
        .flat_map(|(_, to)| to.split_whitespace())
}

/// The summary and its shorter forms, longest first.
pub fn short_forms(summary: &str) -> Vec<String> {
    let mut out = vec![summary.to_string()];
    out.extend(shortened(summary, ABBREVIATIONS));
    out
}

/// The narrow-box forms of `summary`, after all of [`short_forms`].
fn narrow_forms(summary: &str) -> Vec<String> {
    let last = short_forms(summary).pop().unwrap_or_default();
    shortened(&last, NARROW)
}

fn shortened(text: &str, table: &[(&str, &str)]) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = text.to_string();
    for (from, to) in table {
        if current.contains(from) {
            current = current.replace(from, to);
            out.push(current.clone());
        }
    }
    out
}

/// How a link is drawn in the strip: its status, its text and its first finding code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shown {
    pub status: Status,
    pub text: String,
    pub code: Option<Code>,
    /// Not tried because an earlier link is broken: that link is the cause.
    pub not_reached: Option<LinkKind>,
    /// The link plays no part in the chain's auth mode ([`crate::chain::model::NOT_APPLICABLE`]):
    /// drawn `–` and muted, never ✓.
    pub applies: bool,
}

impl Shown {
    /// The box's symbol: the status's, `–` for a link that does not apply.
    pub fn symbol(&self) -> &'static str {
        match self.applies {
            true => self.status.symbol(),
            false => crate::chain::model::NOT_APPLICABLE_SYMBOL,
        }
    }
}

/// The link to show first: the cause of a break, else the first link of the worst status.
pub fn focus_link(chain: &Chain) -> LinkKind {
    if let Some(c) = chain.broken_cause() {
        return c.link;
    }
    let worst = chain.worst();
    chain
        .links
        .iter()
        .find(|l| l.status == worst)
        .map_or(LinkKind::Pod, |l| l.link)
}

pub fn shown(chain: &Chain, kind: LinkKind) -> Shown {
    let link = chain.link(kind);
    // A broken link with no finding of its own after the cause ("blocked: Object", a mount
    // that failed because the object is missing) is a consequence, not a second cause.
    if let Some(c) = chain.broken_cause()
        && chain.drawn_status(kind) != link.status
    {
        return Shown {
            status: Status::Pending,
            text: "not reached".into(),
            code: None,
            not_reached: Some(c.link),
            applies: true,
        };
    }
    // As the check outputs show it: a break or warning only suppressed findings give
    // reads suppressed (README "Suppressing findings").
    let status = crate::chain::shown(link.status, &link.findings);
    Shown {
        status,
        text: link.summary.to_string(),
        // The code of the finding that gives the box its colour, as the pictures draw it: no
        // info finding's (it leaves a link ok; KVC901's "holds the same value" beside a green
        // box read as a stale value), which is read in the detail pane, as the tree row of an
        // ok pod shows no code; an open finding's before a suppressed one's.
        code: crate::output::drawn_finding(&link.findings).map(|f| f.code),
        not_reached: None,
        applies: status != Status::Ok || link.applies(),
    }
}

fn width(s: &str) -> usize {
    s.chars().count()
}

/// The two body lines of a box `w` cells wide. The reason never goes missing while some form
/// of it fits: the symbol and the longest form that fits, then the code; else the symbol and
/// the code, a form alone below; else the symbol, a form alone below (the code is in the tree
/// row and the detail); else a form over both lines, broken between words or after a hyphen.
/// Only a name too long for both lines leaves the symbol and the code.
pub fn body(s: &Shown, w: usize) -> [String; 2] {
    let sym = s.symbol();
    let code = s.code.map(|c| c.to_string()).unwrap_or_default();
    let beside = w.saturating_sub(width(sym) + 1);
    for forms in [short_forms(&s.text), narrow_forms(&s.text)] {
        if let Some(f) = forms.iter().find(|f| width(f) <= beside) {
            return [format!("{sym} {f}"), code];
        }
        if let Some(f) = forms.iter().find(|f| width(f) <= w) {
            if !code.is_empty() && width(&code) <= beside {
                return [format!("{sym} {code}"), f.clone()];
            }
            return [sym.to_string(), f.clone()];
        }
        if let Some((head, tail)) = forms.iter().find_map(|f| split_in_two(f, beside, w)) {
            return [format!("{sym} {head}"), tail];
        }
    }
    [sym.to_string(), code]
}

/// `text` on two lines of at most `first` and `second` cells, broken at a space (dropped) or
/// after a hyphen (kept), the first line as long as it can be.
fn split_in_two(text: &str, first: usize, second: usize) -> Option<(String, String)> {
    let mut best = None;
    for (i, c) in text.char_indices() {
        let (head, tail) = match c {
            ' ' => (&text[..i], &text[i + 1..]),
            '-' => (&text[..i + 1], &text[i + 1..]),
            _ => continue,
        };
        if !head.is_empty() && !tail.is_empty() && width(head) <= first && width(tail) <= second {
            best = Some((head.to_string(), tail.to_string()));
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(status: Status, text: &str, code: Option<Code>) -> Shown {
        Shown {
            status,
            text: text.into(),
            code,
            not_reached: None,
            applies: true,
        }
    }

    /// A finished pod's Mount link ("Job finished", pending) reads as finished in a box of an
    /// 80-column strip too, not as a bare "…" that reads as waiting (audit RRR-jobs).
    #[test]
    fn a_finished_pods_link_reads_done_in_a_narrow_box() {
        let s = shown(Status::Pending, "Job finished", None);
        assert_eq!(body(&s, 7), ["… Job".to_string(), "done".into()]);
        assert_eq!(body(&s, 14)[0], "… Job finished");
    }

    #[test]
    fn long_role_names_shorten_to_a_whole_form() {
        let s = shown(Status::Ok, "Key Vault Secrets User", None);
        assert_eq!(body(&s, 22)[0], "✓ KV Secrets User");
        assert_eq!(body(&s, 15)[0], "✓ Secrets User");
        assert_eq!(body(&s, 13), ["✓".to_string(), "Secrets User".into()]);
        assert_eq!(body(&s, 7), ["✓".to_string(), String::new()]);
    }

    #[test]
    fn a_finding_keeps_its_code_on_the_second_line() {
        let s = shown(Status::Broken, "subject mismatch", Some(Code::KVC401));
        assert_eq!(body(&s, 16), ["✗ subject ≠".to_string(), "KVC401".into()]);
        assert_eq!(body(&s, 9), ["✗ KVC401".to_string(), "subject ≠".into()]);
        assert_eq!(body(&s, 6), ["✗".to_string(), "sub ≠".into()]);
    }

    /// README §TUI: a reason too long for its box is shortened to a form that fits whole —
    /// at 80 columns (6 or 7 cells) too, never only the symbol and the code.
    #[test]
    fn a_reason_survives_the_narrowest_box() {
        let broken = Status::Broken;
        // 80 columns: the Access box has 6 cells inside, the others 7.
        for (w, status, text, code, want) in [
            (
                7,
                broken,
                "subject mismatch",
                Some(Code::KVC401),
                ["✗ sub ≠", "KVC401"],
            ),
            (7, broken, "not found", Some(Code::KVC601), ["✗", "missing"]),
            (
                7,
                broken,
                "bad objects",
                Some(Code::KVC705),
                ["✗ bad", "objects"],
            ),
            (
                6,
                broken,
                "wrong grant",
                Some(Code::KVC502),
                ["✗ bad", "role"],
            ),
            (6, Status::Pending, "not reached", None, ["… not", "tried"]),
        ] {
            let got = body(&shown(status, text, code), w);
            assert_eq!(got, want.map(String::from), "{text}");
        }
        // A name breaks after a hyphen rather than disappear.
        let s = shown(Status::Ok, "checkout-db-password", None);
        assert_eq!(
            body(&s, 13),
            ["✓ checkout-".to_string(), "db-password".into()]
        );
    }
}
