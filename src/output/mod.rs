//! `check` outputs beyond text and JSON (those stay in [`crate::report`]): SARIF and JUnit for
//! CI, Mermaid and SVG pictures of a chain. Plus what every format shares: the exit status
//! per `--fail-on` and the `--min-severity` filter. Pure: strings in, strings out.

mod invocation;
pub mod junit;
pub mod mermaid;
pub mod sarif;
pub mod svg;

use std::borrow::Cow;
use std::collections::HashMap;

use crate::chain::{Chain, Finding, Severity, SpcVerdict};
use crate::source::manifest_scan::Scan;

/// When `check` exits 1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// An unsuppressed error finding (the default).
    #[default]
    Error,
    /// An unsuppressed error or warning finding.
    Warning,
    /// Never: findings do not change the exit status.
    Never,
}

impl FailOn {
    /// Whether a finding of this severity fails the run.
    pub fn fails(self, s: Severity) -> bool {
        match self {
            FailOn::Error => s == Severity::Error,
            FailOn::Warning => s >= Severity::Warning,
            FailOn::Never => false,
        }
    }
}

/// The lowest severity printed (`--min-severity`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum MinSeverity {
    #[default]
    Info,
    Warning,
    Error,
}

impl MinSeverity {
    pub fn severity(self) -> Severity {
        match self {
            MinSeverity::Info => Severity::Info,
            MinSeverity::Warning => Severity::Warning,
            MinSeverity::Error => Severity::Error,
        }
    }
}

/// Whether the run fails: an unsuppressed cause `fail_on` counts. Decided on every finding,
/// whatever `--min-severity` hides from the output; a finding that only follows from an
/// earlier link's cause ("blocked by …") is that cause's effect and decides nothing itself.
pub fn fails(chains: &[Chain], fail_on: FailOn) -> bool {
    chains
        .iter()
        .flat_map(|c| c.findings())
        .any(|f| f.suppressed.is_none() && f.follows.is_none() && fail_on.fails(f.severity))
}

/// What [`filter_min_severity`] is about to hide from `chains` and `spcs`, counted as the
/// report counts (merged, suppressed ones apart), with those `fail_on` counts.
pub fn hidden(
    chains: &[Chain],
    spcs: &[crate::chain::SpcVerdict],
    min: MinSeverity,
    fail_on: FailOn,
) -> crate::snapshot::Hidden {
    let min = min.severity();
    let mut h = crate::snapshot::Hidden::default();
    if min == Severity::Info {
        return h;
    }
    h.below = min.as_str().to_string();
    for f in crate::report::all_findings(chains, spcs)
        .iter()
        .map(|m| &m.finding)
        .filter(|f| f.severity < min)
    {
        // A suppressed finding is counted as suppressed, hidden or not, and decides nothing.
        if f.suppressed.is_some() {
            h.suppressed += 1;
            continue;
        }
        // A finding blocked by a cause above is counted apart, whatever its severity
        // (README "blocked by a cause above"), and decides no exit status.
        match f.severity {
            _ if f.follows.is_some() => h.blocked += 1,
            Severity::Warning => h.warnings += 1,
            _ => h.info += 1,
        }
        if f.follows.is_none() && fail_on.fails(f.severity) {
            h.failing += 1;
        }
    }
    h
}

/// Drop findings below `min` from what is printed (link statuses stay: the chain is what it is).
pub fn filter_min_severity(chains: &mut [Chain], min: MinSeverity) {
    let min = min.severity();
    if min == Severity::Info {
        return;
    }
    for c in chains {
        for l in &mut c.links {
            l.findings.retain(|f| f.severity >= min);
        }
    }
}

/// The finding code a picture writes on a link: [`drawn_finding`]'s, marked when suppressed
/// (README "Suppressing findings": a suppressed finding is never shown as an open one; audit
/// MMM-out).
pub fn drawn_code(findings: &[Finding]) -> Option<(&'static str, bool)> {
    let f = drawn_finding(findings)?;
    Some((f.code.as_str(), f.suppressed.is_some()))
}

/// The finding whose code a link is drawn with, the one that gives it its colour: its first
/// open warning or error, else its first suppressed one. An info finding (nothing to fix)
/// colours nothing, so it is read in the findings, not beside the box: a code beside a green
/// box read as a fault (README, chain strip; audit QQQ-users). The TUI's strip box and the
/// pictures alike.
pub fn drawn_finding(findings: &[Finding]) -> Option<&Finding> {
    let colours = |f: &&Finding| f.severity > Severity::Info;
    let mut coloured = findings.iter().filter(colours);
    let first = coloured.clone().next();
    coloured.find(|f| f.suppressed.is_none()).or(first)
}

/// The codes a picture writes for a SecretProviderClass no chain mounts, once each, an
/// accepted one marked `suppressed` as the reports mark it (audit MMM-out).
pub fn spc_codes(v: &SpcVerdict) -> Vec<String> {
    let mut codes: Vec<String> = (v.findings.iter())
        .map(|f| match f.suppressed {
            Some(_) => format!("{} suppressed", f.code.as_str()),
            None => f.code.as_str().to_string(),
        })
        .collect();
    codes.dedup();
    codes
}

/// What the file-aware formats need besides the chains.
#[derive(Default)]
pub struct Context<'a> {
    /// Manifest origins (`check -f`); `None` for the lab and live sources.
    pub scan: Option<&'a Scan>,
    /// Base directory SARIF URIs are made relative to (the working directory).
    pub base: Option<&'a std::path::Path>,
    pub fail_on: FailOn,
    /// The SecretProviderClasses no chain mounts ([`crate::chain::unmounted_spcs`]), with
    /// their own findings: they decide the exit status, so every format shows them (audit Y1).
    pub spcs: &'a [SpcVerdict],
}

/// Every finding once (same code, resource and message as the text and JSON reports'
/// `findings`), with the first chain it was found in (`None` for a finding of a
/// SecretProviderClass no chain mounts), in report order (worst first).
pub fn findings_with_chain<'a>(
    chains: &'a [Chain],
    spcs: &'a [SpcVerdict],
) -> Vec<(Cow<'a, Finding>, Option<&'a Chain>)> {
    let by_id: HashMap<&str, &Chain> = chains.iter().map(|c| (c.id.as_str(), c)).collect();
    crate::report::all_findings(chains, spcs)
        .into_iter()
        .map(|m| {
            let chain = m.chains.first().and_then(|id| by_id.get(id).copied());
            (m.finding, chain)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::Suppressed;

    fn chains() -> Vec<Chain> {
        crate::ui::testing::demo_chains()
    }

    fn severities(chains: &[Chain]) -> Vec<Severity> {
        chains
            .iter()
            .flat_map(|c| c.findings())
            .map(|f| f.severity)
            .collect()
    }

    #[test]
    fn fail_on_decides_per_severity_and_ignores_suppressed() {
        let mut cs = chains();
        assert!(severities(&cs).contains(&Severity::Error));
        assert!(fails(&cs, FailOn::Error));
        assert!(fails(&cs, FailOn::Warning));
        assert!(!fails(&cs, FailOn::Never));
        for c in &mut cs {
            for l in &mut c.links {
                for f in &mut l.findings {
                    if f.severity == Severity::Error {
                        f.suppressed = Some(Suppressed {
                            by: "test".into(),
                            reason: None,
                        });
                    }
                }
            }
        }
        assert!(!fails(&cs, FailOn::Error));
        assert_eq!(
            fails(&cs, FailOn::Warning),
            severities(&cs).contains(&Severity::Warning)
        );
    }

    #[test]
    fn min_severity_hides_lower_findings_but_not_link_status() {
        let mut cs = chains();
        let before: Vec<_> = cs.iter().map(|c| c.worst()).collect();
        filter_min_severity(&mut cs, MinSeverity::Error);
        assert!(severities(&cs).iter().all(|s| *s == Severity::Error));
        assert_eq!(before, cs.iter().map(|c| c.worst()).collect::<Vec<_>>());
    }
}
