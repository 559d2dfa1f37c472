//! Drawing: a pure function of [`App`] (it only adjusts the tree's scroll offset to keep the
//! selection visible, and bounds the detail and events panes' offsets to their content).
//! Nothing here waits on IO.

pub mod confirm;
pub mod detail;
pub mod diff;
pub mod events;
pub mod hang;
pub mod lab_menu;
pub mod lesson;
pub mod notice;
pub mod overlay;
pub mod paste;
pub mod scroll;
pub mod spc_detail;
pub mod status;
pub mod strip;
pub mod timeline;
pub mod tree;
mod tree_row;
pub mod tree_title;

use ratatui::Frame;
use ratatui::widgets::Block;

use super::app::{App, Mode};

pub fn draw(f: &mut Frame, app: &mut App) {
    let area = f.area();
    app.size = area;
    f.render_widget(Block::default().style(app.theme.base()), area);
    let a = app.areas();
    if a.too_small {
        overlay::too_small(f, app);
        return;
    }
    strip::draw(f, a.strip, app);
    tree::draw(f, a.tree, app);
    if let Some(run) = app.lesson.clone() {
        app.lesson_scroll = lesson::draw(f, a.lesson, app, &run);
    }
    app.detail_scroll = detail::draw(f, a.detail, app);
    // Kept bounded, so `k` after `G` moves at once.
    app.events_scroll = events::draw(f, a.events, app);
    status::draw(f, a.status, app);
    notice::gap_banner(f, a.banner, app);
    if app.loading() {
        overlay::loading(f, app);
    }
    if app.fallback_open {
        notice::lab_fallback(f, app);
    }
    match &app.mode {
        Mode::Help => app.help_scroll = overlay::help(f, app),
        Mode::LabMenu { selected } => lab_menu::draw(f, app, *selected),
        Mode::Confirm {
            prompt,
            typed,
            scroll,
            ..
        } => confirm::draw(f, app, prompt, typed.as_deref(), *scroll),
        _ => {}
    }
}
