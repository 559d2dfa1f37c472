//! `check -o mermaid`: a Mermaid flowchart per chain (nine links left to right, status colour
//! and symbol, the finding code on the broken link) to paste into wikis and slides.

use std::fmt::Write as _;

use crate::chain::{Chain, Status};

/// Colours readable on light and dark pages: white text on a saturated fill.
const CLASSES: &str = "\
  classDef ok fill:#1a7f37,stroke:#116329,color:#ffffff
  classDef pending fill:#6e7781,stroke:#57606a,color:#ffffff
  classDef unknown fill:#8250df,stroke:#6639ba,color:#ffffff
  classDef warning fill:#bf8700,stroke:#9a6700,color:#ffffff
  classDef broken fill:#cf222e,stroke:#a40e26,color:#ffffff,stroke-width:3px
";

pub fn render(chains: &[&Chain]) -> String {
    let mut s = String::from("flowchart LR\n");
    s.push_str(CLASSES);
    for (i, c) in chains.iter().enumerate() {
        let _ = writeln!(s, "  subgraph c{i}[\"{}\"]", escape(&title(c)));
        s.push_str("    direction LR\n");
        for (j, l) in c.links.iter().enumerate() {
            let st = c.drawn_status(l.link);
            let mut label = format!("{} {}<br/>{}", st.symbol(), l.link.title(), l.summary);
            if let Some(f) = l.findings.first() {
                let _ = write!(label, "<br/><b>{}</b>", f.code);
            }
            let _ = writeln!(s, "    c{i}l{j}[\"{}\"]:::{}", escape(&label), st.as_str());
        }
        let ids: Vec<String> = (0..c.links.len()).map(|j| format!("c{i}l{j}")).collect();
        let _ = writeln!(s, "    {}", ids.join(" --> "));
        s.push_str("  end\n");
    }
    s
}

/// `namespace/pod → spc`, the chain's caption.
pub fn title(c: &Chain) -> String {
    let spc = if c.spc.is_empty() { "(no SPC)" } else { &c.spc };
    let worst = c.worst();
    let mark = if worst == Status::Ok {
        ""
    } else {
        worst.symbol()
    };
    format!("{mark} {}/{} → {spc}", c.namespace, c.pod)
        .trim()
        .to_string()
}

/// Mermaid labels are quoted strings: quotes become entities, `<br/>`/`<b>` we add stay.
fn escape(s: &str) -> String {
    s.replace('"', "#quot;")
}
