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
];

/// The words the abbreviations bring in (for tests: every word drawn is one of the summary's
/// or one of these).
pub fn abbreviation_words() -> impl Iterator<Item = &'static str> {
    ABBREVIATIONS
        .iter()
        .flat_map(|(_, to)| to.split_whitespace())
}

/// The summary and its shorter forms, longest first.
pub fn short_forms(summary: &str) -> Vec<String> {
    let mut out = vec![summary.to_string()];
    let mut current = summary.to_string();
    for (from, to) in ABBREVIATIONS {
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
        };
    }
    Shown {
        status: link.status,
        text: link.summary.to_string(),
        code: link.findings.first().map(|f| f.code),
        not_reached: None,
    }
}

fn width(s: &str) -> usize {
    s.chars().count()
}

/// The two body lines of a box `w` cells wide: symbol and the longest form that fits, then
/// the code; when no form fits beside the symbol, a form alone on the second line if there
/// is no code; else the symbol and the code (the full text is in the detail pane).
pub fn body(s: &Shown, w: usize) -> [String; 2] {
    let sym = s.status.symbol();
    let code = s.code.map(|c| c.to_string()).unwrap_or_default();
    let forms = short_forms(&s.text);
    if let Some(f) = forms.iter().find(|f| width(sym) + 1 + width(f) <= w) {
        return [format!("{sym} {f}"), code];
    }
    if code.is_empty()
        && let Some(f) = forms.iter().find(|f| width(f) <= w)
    {
        return [sym.to_string(), f.clone()];
    }
    [sym.to_string(), code]
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
        }
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
        assert_eq!(body(&s, 7), ["✗".to_string(), "KVC401".into()]);
    }
}
