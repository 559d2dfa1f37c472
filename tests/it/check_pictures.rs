//! `check -o mermaid` and `-o svg`: pictures of the built-in `default` scenario's chains.

use kvchain::chain::{Chain, LinkKind, Status, diagnose};
use kvchain::output::{mermaid, svg};

fn default_chains() -> Vec<Chain> {
    let snapshot = kvchain::source::lab::run_check("default", None).expect("lab runs");
    diagnose(&snapshot)
}

/// Parse strictly; return the text content and the `data-link` attributes in order.
fn parse_svg(doc: &str) -> (String, Vec<(String, String)>) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(doc);
    reader.config_mut().check_end_names = true;
    let (mut text, mut links, mut root) = (String::new(), Vec::new(), None);
    loop {
        match reader
            .read_event()
            .unwrap_or_else(|e| panic!("not well-formed: {e}\n{doc}"))
        {
            Event::Start(e) | Event::Empty(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                root.get_or_insert(name);
                if let (Ok(Some(l)), Ok(Some(s))) = (
                    e.try_get_attribute("data-link"),
                    e.try_get_attribute("data-status"),
                ) {
                    links.push((
                        String::from_utf8(l.value.to_vec()).unwrap(),
                        String::from_utf8(s.value.to_vec()).unwrap(),
                    ));
                }
            }
            Event::Text(t) => text.push_str(&t.decode().unwrap()),
            Event::GeneralRef(r) => text.push_str(&format!("&{};", String::from_utf8_lossy(&r))),
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(root.as_deref(), Some("svg"));
    (text, links)
}

#[test]
fn every_default_chain_renders_a_well_formed_svg_naming_every_link() {
    let chains = default_chains();
    assert!(
        chains.iter().any(|c| c.worst() == Status::Broken),
        "default has broken chains"
    );
    for c in &chains {
        let doc = svg::render(c);
        assert!(
            !doc.contains("href") && !doc.contains("<script"),
            "self-contained"
        );
        assert!(
            doc.contains("prefers-color-scheme: dark"),
            "dark-mode colours"
        );
        let (text, links) = parse_svg(&doc);
        // Drawn as the TUI strip draws them: a link the break kept from being tried is pending.
        let expected: Vec<(String, String)> = c
            .links
            .iter()
            .map(|l| {
                let st = c.drawn_status(l.link);
                (l.link.as_str().to_string(), st.as_str().to_string())
            })
            .collect();
        assert_eq!(links, expected, "{}", c.id);
        for kind in LinkKind::ALL {
            assert!(
                text.contains(kind.title()),
                "{}: {} missing",
                c.id,
                kind.title()
            );
        }
        for l in &c.links {
            let st = c.drawn_status(l.link);
            // A link that does not apply is drawn `–`, no ✓ (audit VVV-honest).
            let sym = match st == Status::Ok && !l.applies() {
                true => kvchain::chain::model::NOT_APPLICABLE_SYMBOL,
                false => st.symbol(),
            };
            assert!(text.contains(&format!("{sym} {}", l.link.title())));
            if let Some(f) = l.findings.first() {
                assert!(
                    text.contains(f.code.as_str()),
                    "{}: code {} not drawn",
                    c.id,
                    f.code
                );
            }
        }
    }
}

#[test]
fn mermaid_draws_nine_links_per_chain_with_the_code_on_the_broken_link() {
    let chains = default_chains();
    let refs: Vec<&Chain> = chains.iter().collect();
    let doc = mermaid::render(&refs);
    assert!(doc.starts_with("flowchart LR\n"));
    assert_eq!(doc.matches("  subgraph ").count(), chains.len());
    for (i, c) in chains.iter().enumerate() {
        for (j, l) in c.links.iter().enumerate() {
            let node = format!("c{i}l{j}[\"");
            let at = doc.find(&node).unwrap_or_else(|| panic!("{node} missing"));
            let line = doc[at..].lines().next().unwrap();
            assert!(line.contains(l.link.title()), "{line}");
            assert!(
                line.ends_with(&format!(":::{}", c.drawn_status(l.link).as_str())),
                "{line}"
            );
            if l.status == Status::Broken
                && let Some(f) = l.findings.first()
            {
                assert!(line.contains(f.code.as_str()), "{line}");
            }
        }
        assert_eq!(doc.matches(&format!("c{i}l0 --> c{i}l1")).count(), 1);
    }
}

#[test]
fn check_svg_picks_the_named_chain_and_refuses_an_unknown_one() {
    let chains = default_chains();
    let broken = chains.iter().find(|c| c.worst() == Status::Broken).unwrap();
    let run = |chain: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
            .args([
                "check",
                "--lab",
                "default",
                "-o",
                "svg",
                "--chain",
                chain,
                "--fail-on",
                "never",
            ])
            .env("XDG_CONFIG_HOME", env!("CARGO_TARGET_TMPDIR"))
            .output()
            .unwrap()
    };
    let out = run(&broken.id);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = String::from_utf8(out.stdout).unwrap();
    assert!(
        doc.contains(broken.pod.as_str()),
        "the picture names its pod"
    );
    let out = run("no-such-chain");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--chain no-such-chain"));
}

/// README: the one red box is the cause. With the object missing (KVC601) the mount fails
/// because of it: the text, Mermaid and SVG outputs draw the mount pending (not reached),
/// and the engine keeps its own status.
#[test]
fn a_link_the_break_kept_from_being_tried_is_drawn_pending_everywhere() {
    let chains = default_chains();
    let c = chains
        .iter()
        .find(|c| {
            c.link(LinkKind::VaultObject).status == Status::Broken
                && c.link(LinkKind::Mount).status == Status::Broken
                && c.link(LinkKind::Mount).findings.is_empty()
        })
        .expect("a chain whose mount fails for a missing object");
    assert_eq!(c.drawn_status(LinkKind::Mount), Status::Pending);
    assert_eq!(c.drawn_status(LinkKind::VaultObject), Status::Broken);
    let doc = svg::render(c);
    assert!(
        doc.contains(r#"data-link="mount" data-status="pending""#),
        "{doc}"
    );
    let m = mermaid::render(&[c]);
    assert_eq!(m.matches(":::broken").count(), 1, "{m}");
    // JSON says what the pictures draw (audit 10, V6: it kept `mount: broken`).
    let snapshot = kvchain::source::lab::run_check("default", None).expect("lab runs");
    let report: serde_json::Value =
        serde_json::from_str(&kvchain::report::json(&snapshot, &chains)).unwrap();
    let links = &report["chains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["id"] == c.id.as_str())
        .expect("the chain in the JSON report")["links"];
    let status = |link: &str| {
        links
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["link"] == link)
            .map(|l| l["status"].as_str().unwrap().to_string())
    };
    assert_eq!(status("mount").as_deref(), Some("pending"), "{links}");
    assert_eq!(status("vaultObject").as_deref(), Some("broken"), "{links}");
}

fn check_snapshot(path: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "--snapshot", path])
        .args(args)
        .env("XDG_CONFIG_HOME", env!("CARGO_TARGET_TMPDIR"))
        .output()
        .unwrap()
}

/// Audit: with pods forbidden `-o mermaid` was an empty flowchart. The picture names what it
/// could not see (kind, where, why) in a node of its own; a complete view has no such node.
#[test]
fn mermaid_names_what_could_not_be_read() {
    let (_dir, path) = crate::check_ci_gaps::gapped_snapshot(crate::check_ci_gaps::pods_forbidden);
    let out = check_snapshot(&path, &["-o", "mermaid"]);
    assert_eq!(out.status.code(), Some(3));
    let doc = String::from_utf8(out.stdout).unwrap();
    let note = doc
        .lines()
        .find(|l| l.trim_start().starts_with("gaps[\""))
        .unwrap_or_else(|| panic!("no note of the gap: {doc}"));
    assert!(note.contains("incomplete"), "{note}");
    assert!(
        note.contains(&format!(
            "pods (all namespaces): {}",
            crate::check_ci_gaps::PODS_FORBIDDEN
        )),
        "{note}"
    );
    assert!(note.ends_with(":::incomplete"), "{note}");

    let (_dir, path) = crate::check_ci_gaps::gapped_snapshot(|_| {});
    let doc = String::from_utf8(check_snapshot(&path, &["-o", "mermaid"]).stdout).unwrap();
    assert!(!doc.contains("gaps[\""), "{doc}");
    assert!(doc.contains("subgraph c0"), "{doc}");
}

/// Audit: `-o svg` said "no pod mounts a Secrets Store CSI volume" when the pods could not be
/// read. It says what could not be read, where and why.
#[test]
fn svg_without_a_chain_says_the_pods_could_not_be_read() {
    let (_dir, path) = crate::check_ci_gaps::gapped_snapshot(crate::check_ci_gaps::pods_forbidden);
    let out = check_snapshot(&path, &["-o", "svg"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(out.stdout.is_empty());
    assert!(!err.contains("no pod mounts"), "{err}");
    assert!(
        err.contains(&format!(
            "could not read pods (all namespaces): {}",
            crate::check_ci_gaps::PODS_FORBIDDEN
        )),
        "{err}"
    );
    // A named chain that is not there may be behind the gap: the error says so too.
    let out = check_snapshot(&path, &["-o", "svg", "--chain", "checkout"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--chain checkout") && err.contains(crate::check_ci_gaps::PODS_FORBIDDEN),
        "{err}"
    );
}

/// A chain drawn over a gap in its namespace (SPCs forbidden: its links are unknown) says why
/// under its boxes; a complete view's picture has no such line.
#[test]
fn svg_of_a_chain_behind_a_gap_says_what_could_not_be_read() {
    let reason = "cannot list secretproviderclasses in shop: forbidden";
    let (_dir, path) = crate::check_ci_gaps::gapped_snapshot(|s| {
        s.spcs.gaps.namespaces.insert("shop".into(), reason.into());
    });
    let out = check_snapshot(&path, &["-o", "svg"]);
    assert_eq!(out.status.code(), Some(3));
    let doc = String::from_utf8(out.stdout).unwrap();
    let (text, _) = parse_svg(&doc);
    assert!(
        text.contains(&format!(
            "? Not visible (incomplete): secretproviderclasses in shop: {reason}"
        )),
        "{text}"
    );
    let (_dir, path) = crate::check_ci_gaps::gapped_snapshot(|_| {});
    let doc = String::from_utf8(check_snapshot(&path, &["-o", "svg"]).stdout).unwrap();
    assert!(!doc.contains("data-gap"), "{doc}");
}
