//! The tree pane. Only rows inside the viewport become text.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::chain::Status;
use crate::ui::app::{App, Pane};
use crate::ui::tree::{Counts, Row};

use super::hang::cells;

pub fn draw(f: &mut Frame, area: Rect, app: &mut App) {
    let height = usize::from(area.height.saturating_sub(2));
    app.tree.scroll_into_view(height);
    let t = &app.theme;
    let focused = app.focus == Pane::Tree;
    // Chains no pod starts (an Ingress's) are no pods: counted apart. The SecretProviderClasses
    // no pod mounts, as `check`'s headline counts them: apart from the pods, and "not known"
    // where the pods were unread (audit SS2, XC-tui). Fitted to the border (audit XD-tui).
    let spcs = app.tree.spcs;
    let parts = super::tree_title::TitleParts {
        pods: app.tree.pods(),
        without_pod: app.tree.without_pod,
        unmounted: spcs.shown.saturating_sub(spcs.unread),
        unread: spcs.unread,
        filter: Some(app.filter.text.as_str()).filter(|f| !f.is_empty()),
        namespace: app.filter.namespace.as_deref(),
    };
    let title = super::tree_title::title(&parts, usize::from(area.width.saturating_sub(2)));
    let block = Block::bordered()
        .title(title)
        .border_style(t.border(focused))
        .title_style(t.title());
    let inner_w = usize::from(area.width.saturating_sub(2));
    let end = (app.tree.offset + height).min(app.tree.rows.len());
    let mut lines = Vec::with_capacity(height);
    for i in app.tree.offset..end {
        let row = app.tree.rows[i];
        let mut line = row_line(app, row, inner_w);
        if i == app.tree.selected {
            // Pad so the highlight spans the whole row.
            let w = line.width();
            if w < inner_w {
                line.spans.push(Span::raw(" ".repeat(inner_w - w)));
            }
            line = line.style(t.selection());
        }
        lines.push(line);
    }
    let empty = app.tree.rows.len() <= 1 && app.snapshot.is_some();
    let inner = block.inner(area);
    f.render_widget(Paragraph::new(lines).block(block), area);
    if empty && inner.height > 2 {
        // A namespace chosen with `:ns` is no filter the user typed: say which it is and how
        // it goes (esc clears both, `:ns` alone shows every namespace) (audit EEE12).
        let msg = match (&app.filter.namespace, app.filter.text.is_empty()) {
            (Some(ns), true) => app.empty_namespace_sentence(ns),
            (Some(ns), false) => {
                format!("Nothing in namespace {ns} matches the filter (esc clears both).")
            }
            (None, false) => "Nothing matches the filter (esc clears it).".into(),
            // Unread is not absent (audit W2).
            (None, true) if app.snapshot.as_ref().is_some_and(|s| s.incomplete()) => {
                "No chain seen: pods, SPCs, workloads or Ingresses unread.".into()
            }
            (None, true) => "No pod mounts Key Vault material.".into(),
        };
        let r = Rect {
            y: inner.y + 2,
            height: inner.height - 2,
            ..inner
        };
        f.render_widget(
            Paragraph::new(Line::styled(msg, app.theme.muted())).wrap(Wrap { trim: true }),
            r,
        );
    }
}

/// The counts of a row or of the status bar, worst first: one rule everywhere (audit OO3), a
/// count shows only when it is not zero (`✗2 !1 ✓5`, `✓2`), so the cluster row and the status
/// bar read alike, filtered or not.
pub fn counts_spans(app: &App, c: &Counts) -> Vec<Span<'static>> {
    let t = &app.theme;
    let mut v = Vec::new();
    for s in Status::WORST_FIRST {
        let n = c.get(s);
        if n > 0 {
            v.push(Span::raw(" "));
            v.push(Span::styled(format!("{}{n}", s.symbol()), t.status(s)));
        }
    }
    v
}

/// The cells `spans` take.
fn used(spans: &[Span]) -> usize {
    spans.iter().map(Span::width).sum()
}

/// A tree row at `width` cells (the pane's inside).
fn row_line(app: &App, row: Row, width: usize) -> Line<'static> {
    let t = &app.theme;
    let tree = &app.tree;
    let status = tree.row_status(row, &app.chains);
    let indent = "  ".repeat(row.depth());
    let arrow = match tree.is_row_open(row) {
        Some(true) => "▾ ",
        Some(false) => "▸ ",
        None => "  ",
    };
    let mut spans = vec![
        Span::raw(format!("{indent}{arrow}")),
        Span::styled(format!("{} ", status.symbol()), t.status(status)),
    ];
    match row {
        Row::Cluster => {
            // A long context's name pushed the counts off the edge (audit XD-tui): the name
            // gives way in its middle, the numbers never.
            let counts = counts_spans(app, &tree.counts);
            let room = width.saturating_sub(used(&spans) + used(&counts));
            let label = super::tree_row::middle_cut(&tree.cluster_label, room);
            spans.push(Span::styled(label, t.title()));
            spans.extend(counts);
            if let Some(why) = app.empty_reason() {
                spans.push(Span::styled(format!("  {why}"), t.status(Status::Unknown)));
            }
        }
        Row::Namespace(n) => {
            let ns = &tree.namespaces[n];
            let counts = counts_spans(app, &ns.counts);
            let room = width.saturating_sub(used(&spans) + used(&counts));
            spans.push(Span::raw(super::tree_row::middle_cut(&ns.name, room)));
            spans.extend(counts);
        }
        Row::Workload(n, w) => {
            let wl = &tree.namespaces[n].workloads[w];
            if wl.kind.is_empty() {
                spans.push(Span::styled("(bare pods)", t.muted()));
            } else {
                let kind = format!("{}/", wl.kind);
                let room = width.saturating_sub(used(&spans) + cells(&kind));
                spans.push(Span::styled(kind, t.muted()));
                spans.push(Span::raw(super::tree_row::middle_cut(&wl.name, room)));
            }
        }
        Row::Pod(n, w, p) => {
            let pod = &tree.namespaces[n].workloads[w].pods[p];
            let name = tree.pod_name(n, w, p, &app.chains);
            // The worst link of the pod, and its code: the answer at a glance.
            let mut link = None;
            let mut code = None;
            if pod.worst != Status::Ok
                && let Some(c) = tree
                    .pod_chains(n, w, p)
                    .iter()
                    .filter_map(|i| app.chains.get(*i))
                    .max_by_key(|c| c.worst())
            {
                let worst = c.worst();
                if let Some(l) = c.links.iter().find(|l| l.status == worst) {
                    link = Some(Span::styled(
                        format!("  {}", l.link.title()),
                        t.status(worst),
                    ));
                    code = match l.findings.first() {
                        Some(f) => Some(Span::styled(format!(" {}", f.code), t.muted())),
                        // A pending link no code says why it waits: its summary does ("Job
                        // finished" for a finished pod, not a bare "… Mount" read as a mount
                        // on its way).
                        None if worst == Status::Pending => {
                            Some(Span::styled(format!(" {}", l.summary), t.muted()))
                        }
                        None => None,
                    };
                }
            }
            let room = width.saturating_sub(spans.iter().map(Span::width).sum());
            spans.extend(super::tree_row::pod(&name, link, code, room));
        }
        Row::Chain(..) => {
            if let Some(c) = tree.row_chain(row).and_then(|i| app.chains.get(i)) {
                // Cut at the edge, `spc/cart-kv → kv-s` (audit XD-tui): the vault goes whole
                // first (the detail and strip name it), then the name's middle.
                let room = width.saturating_sub(used(&spans) + 4);
                let vault = c.vault.as_ref().map(|v| format!(" → {v}"));
                let vault_w = vault.as_deref().map_or(0, cells);
                spans.push(Span::styled("spc/", t.muted()));
                if cells(&c.spc) + vault_w <= room {
                    spans.push(Span::raw(c.spc.clone()));
                    spans.extend(vault.map(|v| Span::styled(v, t.muted())));
                } else {
                    spans.push(Span::raw(super::tree_row::middle_cut(&c.spc, room)));
                }
            }
        }
        Row::SpcGroup(n) => {
            // Where they stand, as `check`'s section says it: "mounted by no pod" only where
            // the namespace's pods were read (audit SS2). One reason per namespace.
            // Cut at 80 columns, `(SecretProviderClasses`: a shorter form that fits whole
            // (audit XD-tui).
            let forms: [&str; 3] = match tree.namespaces[n].spcs.iter().any(|s| s.pods_unread) {
                false => [
                    "(SecretProviderClasses mounted by no pod)",
                    "(SPCs mounted by no pod)",
                    "(SPCs no pod mounts)",
                ],
                true => [
                    "(SecretProviderClasses not known to be mounted: pods unread)",
                    "(SPCs not known to be mounted: pods unread)",
                    "(SPCs, pods unread)",
                ],
            };
            let room = width.saturating_sub(used(&spans));
            let label = (forms.iter().find(|l| cells(l) <= room)).unwrap_or(&forms[2]);
            spans.push(Span::styled(*label, t.muted()));
        }
        Row::Spc(..) => {
            if let Some(v) = app.selected_spc_at(row) {
                // Its worst finding's code, as a pod's row shows its worst link's.
                let code = (v.findings.first())
                    .filter(|_| v.shown_status() != Status::Ok)
                    .map(|f| Span::styled(format!("  {}", f.code), t.muted()));
                // `spc/`, as a pod's SPC row; where that cuts the name (`spc/bill…-kv` at 80
                // columns) it goes first: its group's row says what the rows are (audit
                // XD-tui).
                let shown = crate::shown::shown(&v.name);
                let room = width.saturating_sub(used(&spans));
                let code_w = code.as_ref().map_or(0, Span::width);
                let name = match cells(&shown) + 4 + code_w <= room {
                    true => format!("spc/{shown}"),
                    false => shown.to_string(),
                };
                spans.extend(super::tree_row::pod(&name, None, code, room));
            }
        }
        Row::Object { chain, object } => {
            if let Some(o) = app.chains.get(chain).and_then(|c| c.objects.get(object)) {
                // Cut at the edge, `secret/cart-redi` (audit XD-tui): the file name goes whole
                // first (the detail says it), then the name's middle; `pinned` is a warning
                // and stays.
                let kind = format!("{}/", o.object_type);
                let pinned = o.pinned_version.is_some().then_some(" pinned");
                let room =
                    width.saturating_sub(used(&spans) + cells(&kind) + pinned.map_or(0, cells));
                let file = (o.file != o.name).then(|| format!(" as {}", o.file));
                spans.push(Span::styled(kind, t.muted()));
                if cells(&o.name) + file.as_deref().map_or(0, cells) <= room {
                    spans.push(Span::raw(o.name.clone()));
                    spans.extend(file.map(|f| Span::styled(f, t.muted())));
                } else {
                    spans.push(Span::raw(super::tree_row::middle_cut(&o.name, room)));
                }
                if let Some(p) = pinned {
                    spans.push(Span::styled(p, t.status(Status::Warning)));
                }
            }
        }
    }
    Line::from(spans)
}
