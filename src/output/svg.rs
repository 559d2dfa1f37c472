//! `check -o svg --chain ID`: one chain as a self-contained SVG (no fonts, images or scripts
//! fetched) for slides. Nine boxes left to right, status colour and symbol, the link's
//! summary and, on a link with findings, the first code. Readable on light and dark
//! backgrounds: the page colours follow `prefers-color-scheme`, the status boxes carry white
//! text on saturated fills that hold contrast on both. What could not be read in the chain's
//! namespace is written under the boxes, one line per gap: a box that reads `?` says why.

use std::fmt::Write as _;

use quick_xml::escape::escape;

use super::mermaid::title;
use crate::chain::{Chain, SpcVerdict, Status};
use crate::shown::{shown, shown_line};
use crate::snapshot::Gap;

const BOX_W: usize = 128;
const BOX_H: usize = 84;
const GAP: usize = 22;
const PAD: usize = 16;
const TOP: usize = 48;
/// Gap lines under the legend; more are counted in one last line.
const MAX_GAPS: usize = 4;
const LINE: usize = 18;

fn fill(s: Status) -> &'static str {
    match s {
        Status::Ok => "#1a7f37",
        Status::Pending => "#6e7781",
        Status::Suppressed => "#0969da",
        Status::Unknown => "#8250df",
        Status::Warning => "#9a6700",
        Status::Broken => "#cf222e",
    }
}

pub fn render(c: &Chain) -> String {
    render_with_gaps(c, &[], &[], &[])
}

/// [`render`] with a line per gap (kind, where, why) and per `unread` input document under
/// the legend: a green chain must not hide that a document was left out. Likewise each
/// SecretProviderClass no chain mounts in `lonely` that is not ok gets a line with its
/// status and codes: its findings fail the run as a chain's do (audit Y1), and a picture of
/// the worst chain alone read healthy over a run that failed on one (audit NNN-out).
pub fn render_with_gaps(
    c: &Chain,
    gaps: &[Gap],
    unread: &[String],
    lonely: &[SpcVerdict],
) -> String {
    let n = c.links.len();
    let width = PAD * 2 + n * BOX_W + n.saturating_sub(1) * GAP;
    let mut notes = spc_lines(lonely);
    notes.extend(gap_lines(gaps, unread));
    let height = TOP + BOX_H + PAD + 24 + notes.len() * LINE;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="{}">"#,
        escape(format!("kvchain chain {}", shown(&c.id)).as_str())
    );
    let _ = writeln!(s, "<title>{}</title>", escape(title(c).as_str()));
    s.push_str(
        "<style>\n\
         .bg{fill:#ffffff}.fg{fill:#1f2328}.muted{fill:#59636e}.arrow{stroke:#59636e}\n\
         @media (prefers-color-scheme: dark){.bg{fill:#0d1117}.fg{fill:#e6edf3}.muted{fill:#9198a1}.arrow{stroke:#9198a1}}\n\
         text{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif}\n\
         .box text{fill:#ffffff}\n\
         </style>\n",
    );
    let _ = writeln!(
        s,
        r#"<rect class="bg" x="0" y="0" width="{width}" height="{height}" rx="8"/>"#
    );
    let _ = writeln!(
        s,
        r#"<text class="fg" x="{PAD}" y="30" font-size="16" font-weight="bold">{}</text>"#,
        escape(title(c).as_str())
    );
    for (i, l) in c.links.iter().enumerate() {
        let x = PAD + i * (BOX_W + GAP);
        let cx = x + BOX_W / 2;
        let st = c.shown_status(l.link);
        let broken = st == Status::Broken;
        let _ = writeln!(
            s,
            r#"<g class="box" data-link="{}" data-status="{}">"#,
            l.link.as_str(),
            st.as_str()
        );
        let _ = writeln!(
            s,
            r#"<rect x="{x}" y="{TOP}" width="{BOX_W}" height="{BOX_H}" rx="8" fill="{}" stroke="{}" stroke-width="{}"/>"#,
            fill(st),
            if broken { "#ffffff" } else { fill(st) },
            if broken { 3 } else { 1 }
        );
        let _ = writeln!(
            s,
            r#"<text x="{cx}" y="{}" font-size="15" font-weight="bold" text-anchor="middle">{} {}</text>"#,
            TOP + 24,
            c.shown_symbol(l.link),
            escape(l.link.title())
        );
        let _ = writeln!(
            s,
            r#"<text x="{cx}" y="{}" font-size="12" text-anchor="middle">{}</text>"#,
            TOP + 46,
            escape(clip(&shown(&l.summary), 18).as_str())
        );
        if let Some((code, suppressed)) = super::drawn_code(&l.findings) {
            // "KVC401 suppressed" fits the box at a smaller size.
            let (size, text) = match suppressed {
                true => (12, format!("{code} suppressed")),
                false => (13, code.to_string()),
            };
            let _ = writeln!(
                s,
                r#"<text x="{cx}" y="{}" font-size="{size}" font-weight="bold" text-anchor="middle">{text}</text>"#,
                TOP + 68,
            );
        }
        s.push_str("</g>\n");
        if i + 1 < n {
            let y = TOP + BOX_H / 2;
            let (x1, x2) = (x + BOX_W + 2, x + BOX_W + GAP - 2);
            let _ = writeln!(
                s,
                r#"<line class="arrow" x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke-width="2"/><path class="muted" d="M{x2} {y} l-6 -4 v8 z"/>"#
            );
        }
    }
    let _ = writeln!(
        s,
        r#"<text class="muted" x="{PAD}" y="{}" font-size="11">✓ ok  … pending  ⊘ suppressed  ? unknown  ! warning  ✗ broken · kvchain</text>"#,
        TOP + BOX_H + 24
    );
    for (i, line) in notes.iter().enumerate() {
        let _ = writeln!(
            s,
            r#"<text class="fg" x="{PAD}" y="{}" font-size="12" data-gap="true">{}</text>"#,
            TOP + BOX_H + 24 + (i + 1) * LINE,
            escape(line.as_str())
        );
    }
    s.push_str("</svg>\n");
    s
}

/// "✗ Not drawn: SecretProviderClass shop/lone (mounted by no pod): KVC705", one line per
/// SPC no chain mounts that is not ok, at most [`MAX_GAPS`] and a count of the rest.
pub(crate) fn spc_lines(lonely: &[SpcVerdict]) -> Vec<String> {
    let shown: Vec<&SpcVerdict> = (lonely.iter()).filter(|v| v.status != Status::Ok).collect();
    let mut lines: Vec<String> = (shown.iter().take(MAX_GAPS))
        .map(|v| {
            let codes = super::spc_codes(v);
            let codes = match codes.is_empty() {
                true => String::new(),
                false => format!(": {}", codes.join(", ")),
            };
            format!(
                "{} Not drawn: SecretProviderClass {}/{} ({}){codes}",
                v.shown_status().symbol(),
                clip(&shown_line(&v.namespace), 63),
                clip(&shown_line(&v.name), 63),
                v.unmounted_label()
            )
        })
        .collect();
    if shown.len() > MAX_GAPS {
        lines.push(format!(
            "✗ and {} more SecretProviderClasses not drawn",
            shown.len() - MAX_GAPS
        ));
    }
    lines
}

/// "? Not visible (incomplete): pods in shop: cannot list …", at most [`MAX_GAPS`] lines and
/// a count of the rest.
fn gap_lines(gaps: &[Gap], unread: &[String]) -> Vec<String> {
    let mut lines: Vec<String> = gaps
        .iter()
        .take(MAX_GAPS)
        .map(|g| {
            let what = if g.hides_chains() {
                "Not visible (incomplete)"
            } else {
                "Not visible"
            };
            format!("? {what}: {}", clip(&g.describe(), 160))
        })
        .collect();
    if gaps.len() > MAX_GAPS {
        lines.push(format!("? and {} more not visible", gaps.len() - MAX_GAPS));
    }
    for u in unread.iter().take(MAX_GAPS) {
        lines.push(format!(
            "✗ Not read (left out of every verdict): {}",
            clip(&shown(u), 160)
        ));
    }
    if unread.len() > MAX_GAPS {
        lines.push(format!(
            "✗ and {} more documents not read",
            unread.len() - MAX_GAPS
        ));
    }
    lines
}

/// Shorten to `max` characters with an ellipsis (boxes have a fixed width).
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}
