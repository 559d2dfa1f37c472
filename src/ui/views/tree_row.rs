//! A pod's tree row fitted to the pane: cut at its end, a row lost what tells it apart — two
//! pods of one ReplicaSet read alike (`checkout-d7jg2fdwwk-` twice at 80 columns) and a code
//! lost its number (`Consumers KVC` at 120) (audit VVV-time).

use ratatui::text::Span;

use super::hang::{cells, split_at_width};

/// The fewest cells a pod's name keeps beside its code; with less, the code goes.
const NAME_LEAST: usize = 12;

/// The spans of a pod's name, its worst link (`  Consumers`) and that link's code or why it
/// waits (` KVC901`), in `room` cells. What does not fit goes in this order: the link's name
/// (the code says it), the middle of the pod's name, then the code.
pub fn pod(
    name: &str,
    link: Option<Span<'static>>,
    code: Option<Span<'static>>,
    room: usize,
) -> Vec<Span<'static>> {
    let width = |s: &Option<Span>| s.as_ref().map_or(0, Span::width);
    let whole = cells(name) + width(&link) + width(&code);
    let mut spans = Vec::new();
    if whole <= room || (link.is_none() && code.is_none() && cells(name) <= room) {
        spans.push(Span::raw(name.to_string()));
        spans.extend(link);
        spans.extend(code);
        return spans;
    }
    // The code alone, two cells off the name as the link's name was.
    let code = code.map(|c| {
        let text = format!("  {}", c.content.trim_start());
        Span::styled(text, c.style)
    });
    let tag = width(&code);
    if code.is_some() && (cells(name) + tag <= room || room >= NAME_LEAST + tag) {
        spans.push(Span::raw(middle_cut(name, room - tag)));
        spans.extend(code);
    } else {
        spans.push(Span::raw(middle_cut(name, room)));
    }
    spans
}

/// `name` in at most `room` cells: whole, else its head and its end with `…` between them. The
/// end kept is its last `-` part (a ReplicaSet pod's suffix, a StatefulSet's ordinal), which
/// tells pods of one workload apart, up to half the room.
pub fn middle_cut(name: &str, room: usize) -> String {
    if cells(name) <= room {
        return name.to_string();
    }
    if room <= 1 {
        return "…".repeat(room);
    }
    let last = name.rfind('-').map_or(name, |i| &name[i..]);
    let tail_room = if cells(last) <= room / 2 {
        cells(last)
    } else {
        room / 2
    };
    // The end of `name` `tail_room` cells wide.
    let mut tail_at = name.len();
    let mut used = 0;
    for (i, c) in name.char_indices().rev() {
        let w = cells(c.encode_utf8(&mut [0; 4]));
        if used + w > tail_room {
            break;
        }
        used += w;
        tail_at = i;
    }
    let (head, _) = split_at_width(name, room - 1 - used);
    format!("{head}…{}", &name[tail_at..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(spans: &[Span]) -> String {
        spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn a_long_name_keeps_its_end() {
        assert_eq!(
            middle_cut("checkout-d7jg2fdwwk-rpk4g", 20),
            "checkout-d7jg…-rpk4g"
        );
        assert_eq!(
            middle_cut("checkout-d7jg2fdwwk-rpk4g", 25),
            "checkout-d7jg2fdwwk-rpk4g"
        );
        assert_eq!(middle_cut("web-0", 3), "w…0");
        assert_eq!(
            cells(&middle_cut("a-very-long-name-without-a-short-end", 10)),
            10
        );
        assert_eq!(middle_cut("x", 0), "");
    }

    #[test]
    fn the_code_stays_and_the_link_name_goes_first() {
        let link = || Some(Span::raw("  Consumers"));
        let code = || Some(Span::raw(" KVC901"));
        let name = "cart-64pnqhpgsw-rpk4g";
        assert_eq!(
            text(&pod(name, link(), code(), 40)),
            "cart-64pnqhpgsw-rpk4g  Consumers KVC901"
        );
        assert_eq!(
            text(&pod(name, link(), code(), 36)),
            "cart-64pnqhpgsw-rpk4g  KVC901"
        );
        assert_eq!(
            text(&pod(name, link(), code(), 24)),
            "cart-64pn…-rpk4g  KVC901"
        );
        assert_eq!(text(&pod(name, link(), code(), 16)), "cart-64pn…-rpk4g");
    }
}
