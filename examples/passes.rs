//! N passes of `chain::diagnose` over the bench's generated world (10,000 pods, 2,000 SPCs),
//! for deterministic counts: callgrind's instructions for N = 4 minus those for N = 2, halved,
//! are one pass's, with the world's generation cancelled out (docs/performance.md).
//!
//! `taskset -c 0 valgrind --tool=callgrind target/release/examples/passes 4` (optionally
//! followed by the number of pods and of SPCs: `passes 4 2000 2000` is a world where no two
//! pods share a group, which tells a group's first pod's cost from a replica's).
//! `PASSES_TIMED=1` prints each pass's wall time and minor page faults; `PASSES_CODES=1` the
//! last pass's findings by code (which rules a figure pays for); `PASSES_DUMP=FILE` writes
//! one more pass's chains, whole, to compare two builds on this world.

use std::hint::black_box;

use kvchain::chain::{diagnose, testkit};

fn main() {
    let passes: usize = std::env::args()
        .nth(1)
        .map_or(2, |n| n.parse().expect("the number of passes"));
    let arg = |i: usize, default: usize| {
        std::env::args()
            .nth(i)
            .map_or(default, |n| n.parse().expect("a count"))
    };
    let snapshot = testkit::generated_snapshot(arg(2, 10_000), arg(3, 2_000));
    let mut findings = 0;
    let timed = std::env::var_os("PASSES_TIMED").is_some();
    for _ in 0..passes {
        let (start, faults) = (std::time::Instant::now(), minor_faults());
        let chains = diagnose(black_box(&snapshot));
        findings = chains.iter().map(|c| c.findings().count()).sum::<usize>();
        black_box(chains);
        if timed {
            let faults = minor_faults() - faults;
            eprintln!("pass: {:.1?}, {faults} minor faults", start.elapsed());
        }
    }
    eprintln!("{passes} passes, {findings} findings per pass");
    // Every chain of a pass as its debug text, to compare two builds' outputs on this world
    // (the built-in lab and manifests go through `check`; this world has findings they lack).
    if let Some(path) = std::env::var_os("PASSES_DUMP") {
        let chains = diagnose(&snapshot);
        std::fs::write(path, format!("{chains:#?}")).expect("the dump written");
    }
    if std::env::var_os("PASSES_CODES").is_some() {
        let mut codes = std::collections::BTreeMap::<String, usize>::new();
        for chain in diagnose(&snapshot) {
            for finding in chain.findings() {
                *codes.entry(format!("{:?}", finding.code)).or_default() += 1;
            }
        }
        for (code, n) in codes {
            eprintln!("{code}: {n}");
        }
    }
}

/// This process's minor page faults so far (`/proc/self/stat`, field 10), 0 where unread.
fn minor_faults() -> u64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = &s[s.rfind(')')? + 2..];
            rest.split_whitespace().nth(7)?.parse().ok()
        })
        .unwrap_or(0)
}
