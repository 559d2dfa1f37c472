//! What every fuzz target does once it has a snapshot: what `kvchain check` does with one
//! (diagnose, judge, then every report format), so a panic anywhere on that path is found.

use std::sync::OnceLock;

use clap::Parser;
use kvchain::chain;
use kvchain::cli::{CheckArgs, Cli, Command};
use kvchain::commands::check::{Judged, judge};
use kvchain::output::{self, Context};
use kvchain::report;
use kvchain::snapshot::Snapshot;
use kvchain::source::manifest_scan::Scan;
use kvchain::suppress::Rules;

/// `kvchain check` with no flag: its defaults (`--fail-on`, `--min-severity`, no `-n`).
fn args() -> &'static CheckArgs {
    static ARGS: OnceLock<CheckArgs> = OnceLock::new();
    ARGS.get_or_init(|| match Cli::try_parse_from(["kvchain", "check"]) {
        Ok(Cli {
            command: Some(Command::Check(c)),
            ..
        }) => c,
        other => panic!("`kvchain check` does not parse: {other:?}"),
    })
}

/// Diagnose `snapshot` and render text, JSON, SARIF, JUnit, Mermaid and SVG, as `check` does.
pub fn check(mut snapshot: Snapshot, scan: Option<&Scan>) {
    let chains = chain::diagnose(&snapshot);
    let none = Default::default();
    let namespaces = scan.map_or(&none, |s| &s.namespaces);
    let Judged { chains, spcs, .. } =
        judge(args(), &mut snapshot, chains, namespaces, &Rules::default());
    let mut sink = Vec::new();
    report::write_text(&mut sink, &snapshot, &chains, &spcs, true).unwrap();
    sink.clear();
    report::write_json(&mut sink, &snapshot, &chains, &spcs).unwrap();
    let json = std::str::from_utf8(&sink).expect("the JSON report is UTF-8");
    let _: serde_json::Value = serde_json::from_str(json).expect("the JSON report is JSON");
    let cx = Context {
        scan,
        base: None,
        fail_on: args().fail_on,
        spcs: &spcs,
    };
    let _ = output::sarif::render(&snapshot, &chains, &cx);
    let _ = output::junit::render(&snapshot, &chains, &cx);
    let gaps = snapshot.gaps();
    let drawn: Vec<_> = chains.iter().collect();
    let _ = output::mermaid::render_with_gaps(&drawn, &spcs, &gaps, &snapshot.source.unread);
    if let Some(c) = chains.iter().max_by_key(|c| c.worst()) {
        let _ = output::svg::render_with_gaps(c, &gaps, &snapshot.source.unread);
    }
}
