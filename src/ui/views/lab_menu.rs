//! The lab's break/repair menu. It names the workload a break acts on (the selected one, else
//! the lab's default target), shows each fault's id (lessons and docs/scenarios.md name faults
//! by id: `b, sa-client-id-mismatch, enter`), fits the terminal (long descriptions wrap, never
//! cut), and in read-only mode is a view of the catalogue only.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::overlay::centered;
use crate::chain::Status;
use crate::ui::app::App;

/// Mark and link title; then the id column, then the description.
const LEAD: usize = 2 + 11;
/// The description always keeps this many columns, however long the ids.
const MIN_DESCRIPTION: usize = 24;

/// Greedy word wrap; a word longer than the width is split (it cannot be kept whole).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word = word.to_string();
        loop {
            let used = line.chars().count();
            let need = word.chars().count() + usize::from(used > 0);
            if used + need <= width {
                if used > 0 {
                    line.push(' ');
                }
                line.push_str(&word);
                break;
            }
            if used > 0 {
                out.push(std::mem::take(&mut line));
                continue;
            }
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            out.push(head);
            if word.is_empty() {
                break;
            }
        }
    }
    if !line.is_empty() || out.is_empty() {
        out.push(line);
    }
    out
}

/// Where an applied fault acts: its target, or what its change reaches beyond it (a
/// cluster-wide flag, a vault every chain reads) and the target it was applied through.
fn applied_on(fault: &crate::source::FaultInfo) -> Option<String> {
    let target = fault.target.as_ref()?;
    Some(match &fault.reach {
        Some(reach) => format!(" — on {reach} (applied through {target})"),
        None => format!(" — on {target}"),
    })
}

pub fn draw(f: &mut Frame, app: &App, selected: usize) {
    let t = &app.theme;
    let Some(lab) = &app.lab else { return };
    // Above the status bar: it says what a break or repair did (the owner's controller, the
    // Secret it takes, the lesson's step) in as many rows as that needs, and a menu centred on
    // the whole screen covered its first row at 80×24 — the clock, the counts and how the
    // message begins (audit UUU-time).
    let full = f.area();
    let area = Rect {
        height: full.height.saturating_sub(app.areas().status.height),
        ..full
    };
    let target = app.break_target();
    let faults_n = lab.faults.len();
    let id_w = lab
        .faults
        .iter()
        .map(|f| f.id.chars().count() + 1)
        .max()
        .unwrap_or(0);
    let widest = lab
        .faults
        .iter()
        .map(|f| {
            let on = applied_on(f).map_or(0, |on| on.chars().count());
            LEAD + id_w + f.title.chars().count() + on
        })
        .max()
        .unwrap_or(40);
    let target_line = match (&target, &app.menu_passed_over) {
        (Some(t), Some(other)) => {
            format!("break acts on: {t} (the lab's default: {other} is no workload)")
        }
        (Some(t), None) => format!("break acts on: {t}"),
        (None, _) => "break acts on: (no workload or pod mounts a SecretProviderClass)".into(),
    };
    let w = (widest.max(target_line.chars().count()).max(60) as u16 + 2)
        .min(area.width.saturating_sub(2));
    let inner_w = usize::from(w.saturating_sub(2));
    // Narrow terminals: the id goes on a line of its own rather than squeezing the text.
    let id_inline = inner_w >= LEAD + id_w + MIN_DESCRIPTION;
    let indent = if id_inline { LEAD + id_w } else { LEAD };
    // Every row, wrapped: (fault index, line).
    let mut rows: Vec<(usize, Line)> = Vec::new();
    for (i, fault) in lab.faults.iter().enumerate() {
        let (mark, st) = if fault.active {
            ("✗ ", t.status(Status::Broken))
        } else {
            ("✓ ", t.status(Status::Ok))
        };
        let mut text = fault.title.clone();
        if let Some(on) = applied_on(fault).filter(|_| fault.active) {
            text.push_str(&on);
        }
        let id = Span::styled(format!("{:<id_w$}", fault.id), t.accent());
        let mut lines: Vec<Vec<Span>> = Vec::new();
        if !id_inline {
            lines.push(vec![
                Span::styled(mark, st),
                Span::styled(format!("{:<10} ", fault.link.title()), t.muted()),
                id.clone(),
            ]);
        }
        for (n, part) in wrap(&text, inner_w.saturating_sub(indent))
            .into_iter()
            .enumerate()
        {
            let mut spans = if n == 0 && id_inline {
                vec![
                    Span::styled(mark, st),
                    Span::styled(format!("{:<10} ", fault.link.title()), t.muted()),
                    id.clone(),
                ]
            } else {
                vec![Span::raw(" ".repeat(indent))]
            };
            spans.push(Span::raw(part));
            lines.push(spans);
        }
        for spans in lines {
            let line = Line::from(spans);
            rows.push((
                i,
                if i == selected {
                    line.style(t.selection())
                } else {
                    line
                },
            ));
        }
    }
    // The target line wraps too: what a break acts on is never cut.
    let header: Vec<String> = wrap(&target_line, inner_w);
    let h = (rows.len() as u16 + 3 + header.len() as u16).min(area.height.saturating_sub(2));
    let r = centered(area, w, h);
    f.render_widget(Clear, r);
    // Inside the border, under the target line: the rows that show. The selected fault's
    // last line stays in view.
    let visible = usize::from(h.saturating_sub(2)).saturating_sub(header.len());
    let last_of_selected = rows.iter().rposition(|(i, _)| *i == selected).unwrap_or(0);
    let offset = (last_of_selected + 1).saturating_sub(visible);
    // A list cut at the screen's edge says which faults show, as a confirmation taller than
    // the screen says its lines: the trainer looks for an id the lesson names.
    // Counted whole: a fault whose description runs past the bottom edge is not "shown" (the
    // count named it while its second line was cut off, audit XB-users).
    let end = (offset + visible).min(rows.len());
    let whole_last = match rows.get(end) {
        Some((next, _)) if end > 0 && rows[end - 1].0 == *next => next.checked_sub(1),
        _ => end
            .checked_sub(1)
            .and_then(|e| rows.get(e))
            .map(|(i, _)| *i),
    };
    let whole_first = match rows.get(offset) {
        Some((i, _)) if offset > 0 && rows[offset - 1].0 == *i => Some(i + 1),
        other => other.map(|(i, _)| *i),
    };
    let shown = whole_first
        .zip(whole_last)
        // Only pieces of faults in view (a tiny terminal): the selected one is what shows.
        .map(|(first, last)| {
            if first > last {
                (selected, selected)
            } else {
                (first, last)
            }
        });
    let scrolled = match shown {
        Some((first, last)) if first > 0 || last + 1 < faults_n => {
            format!("· j/k: faults {}–{} of {faults_n} ", first + 1, last + 1)
        }
        _ => String::new(),
    };
    // `enter` toggles: the hint says which it does to the selected fault before it is
    // pressed (a lesson's "repair it" on a fault not applied would break it, audit XB-users).
    let verb = match lab.faults.get(selected) {
        Some(f) if f.active => "enter repairs it",
        _ => "enter breaks it",
    };
    let hint = if app.read_only() {
        format!(" view-only (--read-only) {scrolled}· esc close ")
    } else {
        format!(" {verb} · g/G first/last {scrolled}· esc close ")
    };
    let block = Block::bordered()
        .title(format!(
            " Break / repair · clock {} ×{}{} ",
            crate::glance::clock(app.lab_clock().unwrap_or(lab.time)),
            crate::glance::speed(lab.speed),
            if lab.paused { " paused" } else { "" }
        ))
        .title_bottom(Line::styled(hint, t.muted()))
        .title_style(t.title())
        .border_style(t.border(true))
        .style(t.base());
    let inner = block.inner(r);
    f.render_widget(block, r);
    let mut lines: Vec<Line> = (header.into_iter())
        .map(|l| Line::styled(l, t.accent()))
        .collect();
    lines.extend(rows.into_iter().skip(offset).take(visible).map(|(_, l)| l));
    f.render_widget(Paragraph::new(lines), inner);
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrap_keeps_words_whole() {
        assert_eq!(
            wrap("Delete the last workload that mounts the SPC", 16),
            ["Delete the last", "workload that", "mounts the SPC"]
        );
        assert_eq!(wrap("", 10), [""]);
    }
}
