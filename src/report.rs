//! Text and JSON reports of a diagnosis (the `kvchain check` contract).
//!
//! JSON: `{"source", "label", "summary", "chains": [...], "findings": [...]}` where findings are
//! de-duplicated across chains (same code + resource + message: ten replicas of one broken
//! Deployment are one finding). Text: grouped by namespace, then workload and SPC.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use serde::Serialize;

use crate::chain::{Chain, Fact, Finding, LinkKind, Severity, Status};
use crate::snapshot::Snapshot;

/// All findings of all chains, de-duplicated, worst first (then code, namespace, resource).
pub fn findings(chains: &[Chain]) -> Vec<&Finding> {
    let mut seen: HashSet<(crate::chain::Code, &str, &str)> = HashSet::new();
    let mut out: Vec<&Finding> = chains
        .iter()
        .flat_map(|c| c.findings())
        .filter(|f| seen.insert((f.code, f.resource.as_str(), f.message.as_str())))
        .collect();
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.code.cmp(&b.code))
            .then(a.namespace.cmp(&b.namespace))
            .then(a.resource.cmp(&b.resource))
    });
    out
}

#[derive(Serialize)]
struct JsonReport<'a> {
    source: &'static str,
    label: &'a str,
    summary: Counts,
    chains: Vec<JsonChain<'a>>,
    findings: Vec<&'a Finding>,
}

#[derive(Serialize, Default)]
struct Counts {
    chains: usize,
    errors: usize,
    warnings: usize,
    info: usize,
}

#[derive(Serialize)]
struct JsonChain<'a> {
    id: &'a str,
    namespace: &'a str,
    pod: &'a str,
    /// `Kind/name` of the top-level owner, or null for a bare pod.
    workload: Option<String>,
    spc: &'a str,
    volume: &'a str,
    vault: Option<&'a str>,
    status: &'static str,
    links: Vec<JsonLink<'a>>,
    /// Codes of this chain's findings (details in the top-level `findings`).
    codes: Vec<&'static str>,
}

#[derive(Serialize)]
struct JsonLink<'a> {
    link: &'static str,
    status: &'static str,
    summary: &'a str,
    #[serde(skip_serializing_if = "<[Fact]>::is_empty")]
    facts: &'a [Fact],
}

fn counts(chains: &[Chain], findings: &[&Finding]) -> Counts {
    let mut c = Counts {
        chains: chains.len(),
        ..Counts::default()
    };
    for f in findings {
        match f.severity {
            Severity::Error => c.errors += 1,
            Severity::Warning => c.warnings += 1,
            Severity::Info => c.info += 1,
        }
    }
    c
}

pub fn json(snapshot: &Snapshot, chains: &[Chain]) -> String {
    let findings = findings(chains);
    let report = JsonReport {
        source: snapshot.source.kind.as_str(),
        label: &snapshot.source.label,
        summary: counts(chains, &findings),
        chains: chains
            .iter()
            .map(|c| JsonChain {
                id: &c.id,
                namespace: &c.namespace,
                pod: &c.pod,
                workload: c
                    .workload
                    .as_ref()
                    .map(|w| format!("{}/{}", w.kind, w.name)),
                spc: &c.spc,
                volume: &c.volume,
                vault: c.vault.as_deref(),
                status: c.worst().as_str(),
                links: c
                    .links
                    .iter()
                    .map(|l| JsonLink {
                        link: l.link.as_str(),
                        status: l.status.as_str(),
                        summary: &l.summary,
                        facts: &l.facts,
                    })
                    .collect(),
                codes: {
                    let mut v: Vec<&'static str> = c.findings().map(|f| f.code.as_str()).collect();
                    v.sort_unstable();
                    v.dedup();
                    v
                },
            })
            .collect(),
        findings,
    };
    let mut out = serde_json::to_string_pretty(&report).unwrap_or_else(|e| {
        // Serialising plain strings and numbers cannot fail; keep the contract if it ever does.
        format!("{{\"error\": {:?}}}", e.to_string())
    });
    out.push('\n');
    out
}

pub fn has_errors(chains: &[Chain]) -> bool {
    chains
        .iter()
        .flat_map(|c| c.findings())
        .any(|f| f.severity == Severity::Error)
}

// ------------------------------------------------------------------------------------ text

struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn status(&self, st: Status, s: &str) -> String {
        self.wrap(
            match st {
                Status::Ok => "32",
                Status::Pending | Status::Unknown => "2",
                Status::Warning => "33",
                Status::Broken => "31;1",
            },
            s,
        )
    }
    fn severity(&self, sev: Severity, s: &str) -> String {
        self.wrap(
            match sev {
                Severity::Error => "31;1",
                Severity::Warning => "33",
                Severity::Info => "36",
            },
            s,
        )
    }
    fn bold(&self, s: &str) -> String {
        self.wrap("1", s)
    }
    fn dim(&self, s: &str) -> String {
        self.wrap("2", s)
    }
}

/// Human report: per namespace, per workload (or bare pod) and SPC, the chain strip, the
/// non-ok links' reasons, then each finding with evidence, confirm and fix.
pub fn text(snapshot: &Snapshot, chains: &[Chain], color: bool) -> String {
    let p = Paint(color);
    let mut out = String::new();
    let all = findings(chains);
    let n = counts(chains, &all);
    let label = if snapshot.source.label.is_empty() {
        String::new()
    } else {
        format!(" ({})", snapshot.source.label)
    };
    let _ = writeln!(
        out,
        "{} {}{label}: {}, {}, {}, {} info",
        p.bold("kvchain check"),
        snapshot.source.kind.as_str(),
        crate::glance::plural(n.chains, "chain"),
        crate::glance::plural(n.errors, "error"),
        crate::glance::plural(n.warnings, "warning"),
        n.info
    );
    if snapshot.source.kind == crate::snapshot::SourceKind::Live {
        let _ = writeln!(out, "{} Azure requests made", snapshot.azure.requests);
    }
    if chains.is_empty() {
        let _ = writeln!(
            out,
            "\nNo pod mounts (or means to mount) a Secrets Store CSI volume."
        );
        return out;
    }

    // namespace → (owner, spc) → chains; BTreeMap keeps the output stable.
    let mut groups: BTreeMap<&str, BTreeMap<(String, &str), Vec<&Chain>>> = BTreeMap::new();
    for c in chains {
        let owner = c.workload.as_ref().map_or_else(
            || format!("Pod/{}", c.pod),
            |w| format!("{}/{}", w.kind, w.name),
        );
        groups
            .entry(&c.namespace)
            .or_default()
            .entry((owner, &c.spc))
            .or_default()
            .push(c);
    }
    let mut printed: HashSet<(crate::chain::Code, &str, &str)> = HashSet::new();
    for (ns, owners) in &groups {
        let _ = writeln!(out, "\n{} {}", p.dim("namespace"), p.bold(ns));
        for ((owner, spc), group) in owners {
            let worst = group.iter().map(|c| c.worst()).max().unwrap_or(Status::Ok);
            let pods = if group.len() > 1 {
                format!(" ({} pods)", group.len())
            } else {
                String::new()
            };
            let spc = if spc.is_empty() { "(no SPC)" } else { spc };
            let vault = group[0]
                .vault
                .as_deref()
                .map_or(String::new(), |v| format!(" → vault {v}"));
            let _ = writeln!(
                out,
                "  {} {}{pods}  spc {spc}{vault}",
                p.status(worst, worst.symbol()),
                p.bold(owner)
            );
            // The strip of the worst chain in the group stands for the group.
            let rep = group
                .iter()
                .max_by_key(|c| c.worst())
                .copied()
                .unwrap_or(group[0]);
            let strip: Vec<String> = rep
                .links
                .iter()
                .map(|l| {
                    p.status(
                        l.status,
                        &format!("{} {}", l.status.symbol(), l.link.title()),
                    )
                })
                .collect();
            let _ = writeln!(out, "    {}", strip.join("  "));
            let reasons: Vec<String> = rep
                .links
                .iter()
                .filter(|l| l.status != Status::Ok)
                .map(|l| format!("{}: {}", l.link.title(), l.summary))
                .collect();
            if !reasons.is_empty() {
                let _ = writeln!(out, "    {}", p.dim(&reasons.join(" · ")));
            }
            let mut fs: Vec<&Finding> = group
                .iter()
                .flat_map(|c| c.findings())
                .filter(|f| printed.insert((f.code, f.resource.as_str(), f.message.as_str())))
                .collect();
            fs.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.code.cmp(&b.code)));
            for f in fs {
                write_finding(&mut out, &p, f);
            }
        }
    }
    let _ = writeln!(
        out,
        "\n{}",
        p.dim("Links: ✓ ok  … pending  ? unknown (not observable here)  ! warning  ✗ broken")
    );
    out
}

fn write_finding(out: &mut String, p: &Paint, f: &Finding) {
    let _ = writeln!(
        out,
        "    {} {} {}  {}",
        p.severity(f.severity, f.code.as_str()),
        p.severity(f.severity, f.severity.as_str()),
        p.dim(&format!("[{}] {}", link_name(f.link), f.resource)),
        f.message
    );
    for e in &f.evidence {
        // Event messages carry whole HTTP dumps: the decisive line here, all of it in JSON.
        let one = crate::glance::evidence(e);
        let _ = writeln!(out, "        {} {}", p.dim("seen:   "), one);
    }
    let _ = writeln!(out, "        {} {}", p.dim("confirm:"), f.confirm);
    let _ = writeln!(out, "        {} {}", p.dim("fix:    "), f.fix);
}

fn link_name(l: LinkKind) -> &'static str {
    l.as_str()
}
