//! The chain strip: nine boxes, Pod → … → Consumers, each with its status symbol, colour, a
//! one- or two-word reason that fits whole ([`strip_text`]) and the first finding code. Links a
//! break upstream kept from being tried are drawn "… not reached". ←/→ select the link shown
//! in detail.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph};

use crate::chain::LinkKind;
use crate::ui::app::{App, Pane};
use crate::ui::strip_text;

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

/// The nine boxes' areas in `area`, for drawing and for mouse clicks alike: the boxes are not
/// all as wide (80 columns make eight of 9 cells and one of 8), so a click mapped by a width of
/// its own (`width / 9`) selected the next link from a box's right edge on.
pub fn boxes(area: Rect) -> std::rc::Rc<[Rect]> {
    Layout::horizontal([Constraint::Ratio(1, 9); 9]).split(area)
}

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let boxes = boxes(area);
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
        let inner = usize::from(r.width.saturating_sub(2));
        let (style, body) = match chain {
            Some(c) => {
                let shown = strip_text::shown(c, *kind);
                let st = match shown.applies {
                    true => t.status(shown.status),
                    false => t.muted(),
                };
                let [first, second] = strip_text::body(&shown, inner);
                let second_style = if shown.code.is_some() { t.muted() } else { st };
                (
                    st,
                    vec![Line::styled(first, st), Line::styled(second, second_style)],
                )
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
