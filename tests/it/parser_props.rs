//! The scenario and manifest parsers answer Ok or a clear error — never a panic — for any
//! text: mutations of real scenario and manifest files and arbitrary YAML-ish fragments.
//! The case count is bounded so `cargo test` stays fast; raise PROPTEST_CASES to fuzz longer.

use std::path::Path;

use kvchain::source::lab::scenario;
use kvchain::source::manifests;
use proptest::prelude::*;

const SEEDS: &[&str] = &[
    include_str!("../../assets/scenarios/cluster.yaml"),
    include_str!("../../assets/scenarios/shop.yaml"),
    include_str!("../../assets/scenarios/healthy.yaml"),
    include_str!("../../assets/scenarios/env-stale.yaml"),
    include_str!("../../assets/examples/healthy/web.yaml"),
    include_str!("../../assets/examples/broken/orders.yaml"),
];

/// Edits that keep the text YAML-like most of the time, so mutations reach the typed layers.
#[derive(Clone, Debug)]
enum Edit {
    Insert(usize, String),
    Delete(usize, usize),
    DuplicateLine(usize),
    ReplaceScalar(usize, String),
}

fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("---\n".to_string()),
        Just("\u{feff}".to_string()),
        Just("&a ".to_string()),
        Just("*a".to_string()),
        Just("<<: *a\n".to_string()),
        Just("!Tag ".to_string()),
        Just(": ".to_string()),
        Just("- ".to_string()),
        Just("\n  ".to_string()),
        Just("[".to_string()),
        Just("{".to_string()),
        Just("\"".to_string()),
        Just("10000000000000000000s".to_string()),
        Just("2147483647".to_string()),
        Just("-1".to_string()),
        Just("null".to_string()),
        Just("~".to_string()),
        "\\PC{0,8}",
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), fragment()).prop_map(|(i, s)| Edit::Insert(i, s)),
        (any::<usize>(), 0usize..40).prop_map(|(i, n)| Edit::Delete(i, n)),
        any::<usize>().prop_map(Edit::DuplicateLine),
        (any::<usize>(), fragment()).prop_map(|(i, s)| Edit::ReplaceScalar(i, s)),
    ]
}

fn char_boundary(s: &str, i: usize) -> usize {
    let mut i = i % (s.len() + 1);
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(mut text: String, edits: &[Edit]) -> String {
    for e in edits {
        match e {
            Edit::Insert(i, s) => {
                let at = char_boundary(&text, *i);
                text.insert_str(at, s);
            }
            Edit::Delete(i, n) => {
                let a = char_boundary(&text, *i);
                let b = char_boundary(&text, a.saturating_add(*n).min(text.len()));
                text.replace_range(a..b.max(a), "");
            }
            Edit::DuplicateLine(i) => {
                let lines: Vec<&str> = text.lines().collect();
                if !lines.is_empty() {
                    let l = lines[i % lines.len()].to_string();
                    let mut out: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
                    out.insert(i % lines.len(), l);
                    text = out.join("\n");
                }
            }
            Edit::ReplaceScalar(i, s) => {
                // Replace what follows the n-th `: ` up to the end of its line.
                let spots: Vec<usize> = text.match_indices(": ").map(|(p, _)| p + 2).collect();
                if !spots.is_empty() {
                    let a = spots[i % spots.len()];
                    let b = text[a..].find('\n').map_or(text.len(), |e| a + e);
                    text.replace_range(a..b, s);
                }
            }
        }
    }
    text
}

fn mutated() -> impl Strategy<Value = String> {
    (
        0..SEEDS.len(),
        prop::collection::vec(edit(), 1..6),
        any::<bool>(),
    )
        .prop_map(|(seed, edits, with_cluster)| {
            let base = if with_cluster && seed != 0 {
                format!("{}---\n{}", SEEDS[0], SEEDS[seed])
            } else {
                SEEDS[seed].to_string()
            };
            apply(base, &edits)
        })
}

fn arbitrary_yamlish() -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 0..24).prop_map(|v| v.concat())
}

/// A clear error names where it happened and says something.
fn assert_clear(e: &kvchain::input::InputError) {
    assert!(!e.location.is_empty(), "error without a location: {e:?}");
    assert!(
        !e.message.trim().is_empty(),
        "error without a message: {e:?}"
    );
}

/// 96 cases by default; `PROPTEST_CASES=5000 cargo test --test it parser_props::` fuzzes longer.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(96)))]

    #[test]
    fn scenario_parser_never_panics_on_mutated_scenarios(text in mutated()) {
        if let Err(e) = scenario::parse("p", Path::new("p.yaml"), &text) {
            assert_clear(&e);
        }
    }

    #[test]
    fn manifest_parser_never_panics_on_mutated_manifests(text in mutated()) {
        if let Err(e) = manifests::load_str("p.yaml", &text) {
            assert_clear(&e);
        }
    }

    #[test]
    fn both_parsers_never_panic_on_arbitrary_yamlish_text(text in arbitrary_yamlish()) {
        if let Err(e) = scenario::parse("p", Path::new("p.yaml"), &text) {
            assert_clear(&e);
        }
        if let Err(e) = manifests::load_str("p.yaml", &text) {
            assert_clear(&e);
        }
    }
}

/// Parsed scenarios also run: a lab world built from a mutated scenario must not panic
/// either (durations and counts that passed the parser are within the lab's limits).
#[test]
fn mutated_scenarios_that_parse_also_run() {
    use proptest::test_runner::{Config, TestRunner};
    let mut runner = TestRunner::new(Config::with_cases(cases(96) / 4));
    runner
        .run(&mutated(), |text| {
            if let Ok(sc) = scenario::parse("p", Path::new("p.yaml"), &text) {
                let mut w = kvchain::source::lab::world::World::new(sc);
                w.advance(std::time::Duration::from_secs(5));
            }
            Ok(())
        })
        .unwrap();
}
