//! What the user must know before trusting the screen: the gaps of the source and the kinds
//! it listed but may not watch (a banner under the strip) and that the lab, a simulation, opened because no cluster is configured.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::overlay::centered;
use crate::chain::Status;
use crate::ui::app::App;
use crate::ui::gaps;

pub fn gap_banner(f: &mut Frame, area: Rect, app: &App) {
    if area.height == 0 || !app.banner_shown() {
        return;
    }
    let text = gaps::banner(&app.gaps, &app.source.not_live, usize::from(area.width));
    f.render_widget(
        Paragraph::new(Line::styled(text, app.theme.status(Status::Warning))),
        area,
    );
}

pub const FALLBACK_TITLE: &str = "No cluster configured — this is the built-in lab, a simulation";

pub fn lab_fallback(f: &mut Frame, app: &App) {
    let t = &app.theme;
    let Some(why) = &app.fallback else { return };
    let area = f.area();
    let w = area.width.saturating_sub(4).min(76);
    let looked = format!("Looked for: {why}.");
    let hint = "Point --kubeconfig/--context at a cluster, or run `kvchain demo` for the lab.";
    // The box fits its text as wrapped at this width: no last line lost under the border.
    let inner_w = usize::from(w.saturating_sub(2));
    let rows = |s: &str| super::lab_menu::wrap(s, inner_w).len();
    let h = rows(FALLBACK_TITLE) + 1 + rows(&looked) + 1 + rows(hint) + 2;
    let r = centered(area, w, u16::try_from(h).unwrap_or(u16::MAX));
    f.render_widget(Clear, r);
    let block = Block::bordered()
        .title(" kvchain ")
        .title_bottom(Line::styled(" any key continues in the lab ", t.muted()))
        .title_style(t.title())
        .border_style(t.status(Status::Warning))
        .style(t.base());
    let text = vec![
        Line::styled(FALLBACK_TITLE, t.status(Status::Warning)),
        Line::raw(""),
        Line::raw(looked),
        Line::raw(""),
        Line::styled(hint, t.muted()),
    ];
    f.render_widget(
        Paragraph::new(text).wrap(Wrap { trim: true }).block(block),
        r,
    );
}
