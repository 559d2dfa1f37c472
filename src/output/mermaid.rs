//! `check -o mermaid`: a Mermaid flowchart per chain (nine links left to right, status colour
//! and symbol, the finding code on the broken link) to paste into wikis and slides. What could
//! not be read is a node of its own above them: a picture with no chain in it must not read
//! as "nothing to see" when the pods were never seen.

use std::fmt::Write as _;

use crate::chain::{Chain, SpcVerdict, Status};
// A label is one line of the flowchart text: a line break in a value is escaped too (BB2).
use crate::shown::shown_line as shown;
use crate::snapshot::Gap;

/// At most this many gaps are spelled out in the note; the rest are counted.
const MAX_GAPS: usize = 8;

/// Colours readable on light and dark pages: white text on a saturated fill.
const CLASSES: &str = "\
  classDef ok fill:#1a7f37,stroke:#116329,color:#ffffff
  classDef pending fill:#6e7781,stroke:#57606a,color:#ffffff
  classDef suppressed fill:#0969da,stroke:#0550ae,color:#ffffff
  classDef unknown fill:#8250df,stroke:#6639ba,color:#ffffff
  classDef warning fill:#bf8700,stroke:#9a6700,color:#ffffff
  classDef broken fill:#cf222e,stroke:#a40e26,color:#ffffff,stroke-width:3px
";

/// The note of what could not be read: the unknown colour (it is what is unknown), dashed; a
/// red border when chains may be missing behind it.
const GAP_CLASSES: &str = "\
  classDef incomplete fill:#8250df,stroke:#cf222e,color:#ffffff,stroke-width:3px,stroke-dasharray:6 3
  classDef unseen fill:#8250df,stroke:#6639ba,color:#ffffff,stroke-dasharray:6 3
";

/// Why a flowchart has nothing to draw when nothing failed to be read either.
pub const NO_CHAIN: &str = "No chain: no pod mounts a Secrets Store CSI volume";

pub fn render(chains: &[&Chain]) -> String {
    render_with_gaps(chains, &[], &[], &[])
}

/// [`render`] with a note naming `gaps` (kind, where, why) and the `unread` input documents
/// above the chains: a picture of green chains must not hide that a document was left out.
/// Each SecretProviderClass no chain mounts (`spcs`) is a node of its own with its codes: its
/// findings fail the run as a chain's do (audit Y1). A picture with none of these says why.
pub fn render_with_gaps(
    chains: &[&Chain],
    spcs: &[SpcVerdict],
    gaps: &[Gap],
    unread: &[String],
) -> String {
    let mut s = String::from("flowchart LR\n");
    s.push_str(CLASSES);
    if !gaps.is_empty() || !unread.is_empty() {
        s.push_str(GAP_CLASSES);
        note(&mut s, gaps, unread);
    } else if chains.is_empty() && spcs.is_empty() {
        s.push_str(GAP_CLASSES);
        let _ = writeln!(s, "  none[\"{NO_CHAIN}\"]:::unseen");
    }
    for (i, v) in spcs.iter().enumerate() {
        let mut label = format!(
            "{} SecretProviderClass {}/{} ({})",
            v.shown_status().symbol(),
            escape_text(&shown(&v.namespace)),
            escape_text(&shown(&v.name)),
            v.unmounted_label()
        );
        if let Some(vault) = &v.vault {
            let _ = write!(label, "<br/>→ vault {}", escape_text(&shown(vault)));
        }
        // An accepted code is marked, as the reports mark it (audit MMM-out).
        let codes = super::spc_codes(v);
        if !codes.is_empty() {
            let _ = write!(label, "<br/><b>{}</b>", codes.join(", "));
        }
        let _ = writeln!(
            s,
            "  spc{i}[\"{}\"]:::{}",
            escape(&label),
            v.shown_status().as_str()
        );
    }
    for (i, c) in chains.iter().enumerate() {
        let _ = writeln!(s, "  subgraph c{i}[\"{}\"]", escape_text(&title(c)));
        s.push_str("    direction LR\n");
        for (j, l) in c.links.iter().enumerate() {
            let st = c.shown_status(l.link);
            let mut label = format!(
                "{} {}<br/>{}",
                c.shown_symbol(l.link),
                l.link.title(),
                escape_text(&shown(&l.summary))
            );
            if let Some((code, suppressed)) = super::drawn_code(&l.findings) {
                let _ = write!(label, "<br/><b>{code}</b>");
                if suppressed {
                    label.push_str(" suppressed");
                }
            }
            let _ = writeln!(s, "    c{i}l{j}[\"{}\"]:::{}", escape(&label), st.as_str());
        }
        let ids: Vec<String> = (0..c.links.len()).map(|j| format!("c{i}l{j}")).collect();
        let _ = writeln!(s, "    {}", ids.join(" --> "));
        s.push_str("  end\n");
    }
    s
}

fn note(s: &mut String, gaps: &[Gap], unread: &[String]) {
    // An unread document may define chains of its own: as incomplete as unread pods.
    let hidden = gaps.iter().any(Gap::hides_chains) || !unread.is_empty();
    let mut label = String::new();
    if !gaps.is_empty() {
        label.push_str(if hidden {
            "<b>? Not visible — incomplete: chains behind these may be missing</b>"
        } else {
            "<b>? Not visible — links that depend on these are unknown</b>"
        });
        for g in gaps.iter().take(MAX_GAPS) {
            let _ = write!(label, "<br/>{}", escape_text(&g.describe()));
        }
        if gaps.len() > MAX_GAPS {
            let _ = write!(label, "<br/>+{} more", gaps.len() - MAX_GAPS);
        }
    }
    if !unread.is_empty() {
        if !label.is_empty() {
            label.push_str("<br/>");
        }
        label.push_str("<b>✗ Not read — left out of every verdict</b>");
        for u in unread.iter().take(MAX_GAPS) {
            let _ = write!(label, "<br/>{}", escape_text(&shown(u)));
        }
        if unread.len() > MAX_GAPS {
            let _ = write!(label, "<br/>+{} more", unread.len() - MAX_GAPS);
        }
    }
    let _ = writeln!(
        s,
        "  gaps[\"{label}\"]:::{}",
        if hidden { "incomplete" } else { "unseen" }
    );
}

/// `namespace/pod → spc`, the chain's caption; names shown capped and escaped.
pub fn title(c: &Chain) -> String {
    let spc = if c.spc.is_empty() { "(no SPC)" } else { &c.spc };
    let worst = c.shown_worst();
    let mark = if worst == Status::Ok {
        ""
    } else {
        worst.symbol()
    };
    format!(
        "{mark} {}/{} → {}",
        shown(&c.namespace),
        shown(&c.pod),
        shown(spc)
    )
    .trim()
    .to_string()
}

/// Mermaid labels are quoted strings: quotes become entities, `<br/>`/`<b>` we add stay.
fn escape(s: &str) -> String {
    s.replace('"', "#quot;")
}

/// Text from outside (an API server's reason) in a label: no markup of its own either.
fn escape_text(s: &str) -> String {
    escape(s).replace('<', "#lt;").replace('>', "#gt;")
}
