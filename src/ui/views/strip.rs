//! The chain strip: nine boxes, Pod → … → Consumers, each with its status symbol, colour, a
//! one- or two-word reason and the first finding code. ←/→ select the link shown in detail.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph};

use crate::chain::LinkKind;
use crate::ui::app::{App, Pane};

/// Titles short enough for 80 columns (8 cells a box).
fn short(l: LinkKind) -> &'static str {
    match l {
        LinkKind::Pod => "Pod",
        LinkKind::ServiceAccount => "SA",
        LinkKind::Identity => "Ident",
        LinkKind::Federation => "Fed",
        LinkKind::Access => "Access",
        LinkKind::VaultObject => "Object",
        LinkKind::Mount => "Mount",
        LinkKind::Sync => "Sync",
        LinkKind::Consumers => "Consum",
    }
}

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let boxes = Layout::horizontal([Constraint::Ratio(1, 9); 9]).split(area);
    let chain = app.selected_chain();
    let focused = app.focus == Pane::Strip;
    for (i, kind) in LinkKind::ALL.iter().enumerate() {
        let r = boxes[i];
        let title = if r.width >= 14 {
            kind.title()
        } else {
            short(*kind)
        };
        let selected = *kind == app.link && chain.is_some();
        let (style, body) = match chain.map(|c| c.link(*kind)) {
            Some(link) => {
                let st = t.status(link.status);
                let mut lines = vec![Line::from(vec![
                    Span::styled(format!("{} ", link.status.symbol()), st),
                    Span::styled(link.summary.clone(), st),
                ])];
                if let Some(code) = link.findings.first().map(|f| f.code) {
                    lines.push(Line::styled(code.to_string(), t.muted()));
                }
                (st, lines)
            }
            None => (t.muted(), vec![Line::styled("—", t.muted())]),
        };
        let mut block = Block::bordered()
            .title(Span::styled(
                title.to_string(),
                if selected { t.title() } else { style },
            ))
            .border_style(if selected { t.border(true) } else { style });
        if selected {
            block = block.border_type(if focused {
                BorderType::Thick
            } else {
                BorderType::Double
            });
        }
        f.render_widget(Paragraph::new(body).block(block), r);
    }
}
