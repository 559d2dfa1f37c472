//! The rooms of `src/` (the crate's top-level modules) import one way: no room reaches back
//! into a room that reaches it, directly or round a longer circle (DESIGN.md: source →
//! snapshot → chain::diagnose → views, actions carried back by the sources). A circle makes
//! two rooms one: neither can be read, tested or moved without the other.
//!
//! Test code is left out (a test may build its fixture with any room): a `#[cfg(test)]`
//! module, inline (to the end of its file, where this crate keeps them) or in a file of its
//! own. Comments are left out too: a doc link is not a dependency.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `crate::ROOM` a room's code names, with one place that names it.
type Edges = BTreeMap<(String, String), String>;

#[test]
fn no_two_rooms_of_src_reach_each_other() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let rooms = rooms(&src);
    assert!(
        ["chain", "snapshot", "source", "ui"]
            .iter()
            .all(|r| rooms.contains(*r)),
        "the rooms were not found: {rooms:?}"
    );
    let edges = edges(&src, &rooms);
    let circles = circles(&rooms, &edges);
    assert!(
        circles.is_empty(),
        "rooms that reach each other (move the shared piece to the lower room):\n{}",
        circles.join("\n")
    );
}

/// The guard sees what it guards: a circle planted in the edges is reported with its places.
#[test]
fn a_circle_between_two_rooms_is_reported_with_its_places() {
    let rooms: BTreeSet<String> = ["a", "b", "c"].map(String::from).into();
    let mut edges = Edges::new();
    edges.insert(("a".into(), "b".into()), "src/a.rs:3".into());
    edges.insert(("b".into(), "c".into()), "src/b/x.rs:9".into());
    assert!(circles(&rooms, &edges).is_empty());
    edges.insert(("c".into(), "a".into()), "src/c.rs:1".into());
    let found = circles(&rooms, &edges);
    assert_eq!(found.len(), 1, "{found:?}");
    for place in [
        "a -> b (src/a.rs:3)",
        "b -> c (src/b/x.rs:9)",
        "c -> a (src/c.rs:1)",
    ] {
        assert!(found[0].contains(place), "{found:?}");
    }
}

#[test]
fn test_modules_and_comments_are_not_dependencies() {
    let code = "use crate::snapshot::X;\n/// [`crate::ui`] draws it\nfn f() { crate::chain::g(); } // crate::report\n#[cfg(test)]\nuse crate::source::lab;\nfn h() {}\n#[cfg(test)]\nmod tests {\n    use crate::source::lab;\n}\n";
    let (named, test_children) = named_rooms(code);
    let names: Vec<&str> = named.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(names, ["snapshot", "chain"]);
    assert!(test_children.is_empty());
    let (_, test_children) = named_rooms("fn a() {}\n#[cfg(test)]\nmod ready_tests;\nmod b;\n");
    assert_eq!(test_children, ["ready_tests"]);
}

fn rooms(src: &Path) -> BTreeSet<String> {
    std::fs::read_dir(src)
        .unwrap()
        .filter_map(|e| {
            let e = e.ok()?;
            let name = e.file_name().into_string().ok()?;
            let room = name.strip_suffix(".rs").unwrap_or(&name).to_string();
            (!matches!(room.as_str(), "lib" | "main")).then_some(room)
        })
        .collect()
}

fn edges(src: &Path, rooms: &BTreeSet<String>) -> Edges {
    let mut edges = Edges::new();
    let mut test_files = BTreeSet::new();
    let mut files = Vec::new();
    collect(src, &mut files);
    files.sort();
    // Parents before children (`a.rs` < `a/…`), so a test module's file is known as one
    // before it is read.
    for file in files {
        let rel = file.strip_prefix(src).unwrap();
        let room = room_of(rel);
        if room.is_empty() || test_files.contains(&file) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let (named, test_children) = named_rooms(&text);
        for child in test_children {
            let dir = child_dir(&file);
            test_files.insert(dir.join(format!("{child}.rs")));
            mark_tree(&dir.join(&child), &mut test_files);
        }
        for (to, line) in named {
            if to != room && rooms.contains(&to) {
                edges
                    .entry((room.clone(), to))
                    .or_insert_with(|| format!("src/{}:{line}", rel.display()));
            }
        }
    }
    edges
}

/// The room a file belongs to: its first path component, `.rs` dropped; none for the root.
fn room_of(rel: &Path) -> String {
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    let room = first.strip_suffix(".rs").unwrap_or(&first);
    if matches!(room, "lib" | "main") {
        String::new()
    } else {
        room.to_string()
    }
}

/// Where the files of `file`'s child modules live (`a/b.rs` → `a/b/`, `a/b/mod.rs` → `a/b/`).
fn child_dir(file: &Path) -> PathBuf {
    if file.file_name().is_some_and(|n| n == "mod.rs") {
        file.parent().unwrap().to_path_buf()
    } else {
        file.with_extension("")
    }
}

fn mark_tree(dir: &Path, out: &mut BTreeSet<PathBuf>) {
    let mut files = Vec::new();
    if dir.is_dir() {
        collect(dir, &mut files);
    }
    out.extend(files);
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The rooms a file's code names (`crate::ROOM`, with its line), and the names of its child
/// modules declared test-only (`#[cfg(test)] mod NAME;`). An inline test module ends the
/// file's code; a `#[cfg(test)]` before any other item drops that one line.
fn named_rooms(text: &str) -> (Vec<(String, usize)>, Vec<String>) {
    let mut named = Vec::new();
    let mut test_children = Vec::new();
    let mut lines = text.lines().enumerate().peekable();
    while let Some((i, line)) = lines.next() {
        let code = line.trim();
        if code == "#[cfg(test)]" {
            let next = lines.peek().map(|(_, l)| l.trim()).unwrap_or_default();
            let decl = next.strip_prefix("pub ").unwrap_or(next);
            match decl.strip_prefix("mod ") {
                Some(rest) if rest.ends_with(';') => {
                    test_children.push(rest.trim_end_matches(';').trim().to_string());
                }
                Some(_) => break,
                None => {}
            }
            lines.next();
            continue;
        }
        let code = match code.find("//") {
            Some(0) => continue,
            Some(at) if !code[..at].ends_with(':') => &code[..at],
            _ => code,
        };
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            if end > 0 {
                named.push((rest[..end].to_string(), i + 1));
            }
        }
    }
    (named, test_children)
}

/// Each group of rooms that reach one another, with the edges between them and a place that
/// names each.
fn circles(rooms: &BTreeSet<String>, edges: &Edges) -> Vec<String> {
    let reach = |from: &str| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_string()];
        while let Some(r) = todo.pop() {
            for ((a, b), _) in edges.range((r.clone(), String::new())..) {
                if *a != r {
                    break;
                }
                if seen.insert(b.clone()) {
                    todo.push(b.clone());
                }
            }
        }
        seen
    };
    let reached: BTreeMap<&String, BTreeSet<String>> =
        rooms.iter().map(|r| (r, reach(r))).collect();
    let mut done = BTreeSet::new();
    let mut out = Vec::new();
    for r in rooms {
        if done.contains(r) || !reached[r].contains(r) {
            continue;
        }
        let group: BTreeSet<&String> = rooms
            .iter()
            .filter(|o| reached[r].contains(*o) && reached[*o].contains(r))
            .collect();
        done.extend(group.iter().map(|g| (*g).clone()));
        let inside: Vec<String> = edges
            .iter()
            .filter(|((a, b), _)| group.contains(a) && group.contains(b))
            .map(|((a, b), place)| format!("{a} -> {b} ({place})"))
            .collect();
        out.push(inside.join(", "));
    }
    out
}
