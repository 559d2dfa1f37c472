//! Drawing: a pure function of [`App`] (it only adjusts the tree's scroll offset to keep the
//! selection visible). Nothing here waits on IO.

pub mod detail;
pub mod diff;
pub mod events;
pub mod lesson;
pub mod overlay;
pub mod status;
pub mod strip;
pub mod timeline;
pub mod tree;

use ratatui::Frame;
use ratatui::widgets::Block;

use super::app::{App, Mode};
use super::layout::layout;

pub fn draw(f: &mut Frame, app: &mut App) {
    let area = f.area();
    app.size = area;
    f.render_widget(Block::default().style(app.theme.base()), area);
    let a = layout(area);
    if a.too_small {
        overlay::too_small(f, app);
        return;
    }
    strip::draw(f, a.strip, app);
    tree::draw(f, a.tree, app);
    match app.lesson.clone() {
        Some(run) => {
            let (lesson_area, detail_area) = lesson::split(a.detail);
            lesson::draw(f, lesson_area, app, &run);
            detail::draw(f, detail_area, app);
        }
        None => detail::draw(f, a.detail, app),
    }
    events::draw(f, a.events, app);
    status::draw(f, a.status, app);
    if app.loading() {
        overlay::loading(f, app);
    }
    match &app.mode {
        Mode::Help => overlay::help(f, app),
        Mode::LabMenu { selected } => overlay::lab_menu(f, app, *selected),
        Mode::Confirm { prompt, typed, .. } => overlay::confirm(f, app, prompt, typed.as_deref()),
        _ => {}
    }
}
