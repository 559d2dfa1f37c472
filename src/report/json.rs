//! The JSON report, streamed: chains, links and findings are serialised one at a time.

use std::borrow::{Borrow, Cow};

use serde::Serialize;

use super::{Counts, all_findings, counts};
use crate::chain::{Chain, Fact, Finding, SpcVerdict};
use crate::snapshot::{Gap, Snapshot};

#[derive(Serialize)]
#[serde(bound = "")]
struct JsonReport<'a, C> {
    source: &'static str,
    label: &'a str,
    /// `check --snapshot`: when the recording was made (the data is that old).
    #[serde(skip_serializing_if = "Option::is_none")]
    recorded_at: Option<jiff::Timestamp>,
    summary: Counts,
    /// What could not be seen (kind, namespace or null for everywhere, reason).
    gaps: Vec<JsonGap>,
    chains: Each<'a, C, JsonChain<'a>>,
    /// SecretProviderClasses no chain mounts, checked on their own (details in `findings`).
    spcs: Each<'a, SpcVerdict, JsonSpc<'a>>,
    findings: Vec<JsonFinding<'a>>,
    /// Inputs that could not be read (`file, document N: reason`); the rest was diagnosed.
    unread: &'a [String],
    /// `check -f`: run-time objects among the manifests, not used (`events.yaml: 3 Events`).
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    not_used: &'a [String],
}

/// A gap, and whether whole chains may be missing behind it (pods or SPCs unread), as SARIF's
/// notifications say (audit FFF11).
#[derive(Serialize)]
struct JsonGap {
    #[serde(flatten)]
    gap: Gap,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    hides_chains: bool,
}

/// A de-duplicated finding with the ids of every chain it was found on (`chain` is the first)
/// and the evidence all of them saw.
#[derive(Serialize)]
struct JsonFinding<'a> {
    #[serde(flatten)]
    finding: Cow<'a, Finding>,
    chains: Vec<&'a str>,
}

#[derive(Serialize)]
struct JsonSpc<'a> {
    namespace: &'a str,
    name: &'a str,
    vault: Option<&'a str>,
    status: &'static str,
    codes: Vec<&'static str>,
    /// Why the pods of its namespace were unread: then it is not known to be mounted by no
    /// pod (audit SS2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pods_unread: Option<&'a str>,
    /// Other pods mount it (their chains check it): listed for a StatefulSet's volume of it
    /// that its claim template replaces (KVC710).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    mounted_by_others: bool,
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
    links: JsonLinks<'a>,
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

fn codes<'a>(findings: impl Iterator<Item = &'a Finding>) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = findings.map(|f| f.code.as_str()).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// The JSON report; checks the SecretProviderClasses no chain mounts itself.
pub fn json(snapshot: &Snapshot, chains: &[Chain]) -> String {
    json_with(
        snapshot,
        chains,
        &crate::chain::unmounted_spcs(snapshot, chains),
    )
}

/// The JSON report, with the verdicts on SecretProviderClasses no chain mounts.
pub fn json_with(snapshot: &Snapshot, chains: &[Chain], spcs: &[SpcVerdict]) -> String {
    let mut out = Vec::new();
    match write_json(&mut out, snapshot, chains, spcs) {
        // Only plain strings and numbers go in: the text is UTF-8.
        Ok(()) => String::from_utf8(out).unwrap_or_default(),
        // Writing to memory cannot fail; keep the contract if it ever does.
        Err(e) => format!("{{\"error\": {:?}}}\n", e.to_string()),
    }
}

/// Writes the JSON report to `w` as it is serialised: chains, links and findings are turned
/// into JSON one at a time, so no document (string or `serde_json::Value`) is ever built.
/// The bytes are those of `serde_json::to_string_pretty` plus a final newline.
pub fn write_json<C: Borrow<Chain>>(
    mut w: impl std::io::Write,
    snapshot: &Snapshot,
    chains: &[C],
    spcs: &[SpcVerdict],
) -> std::io::Result<()> {
    let findings = all_findings(chains, spcs);
    let summary = counts(snapshot, chains, spcs, &findings);
    let findings = findings
        .into_iter()
        .map(|m| JsonFinding {
            finding: m.finding,
            chains: m.chains,
        })
        .collect();
    let report = JsonReport {
        source: snapshot.source.kind.as_str(),
        label: &snapshot.source.label,
        recorded_at: snapshot
            .source
            .recorded
            .then_some(snapshot.source.observed_at),
        summary,
        gaps: (snapshot.gaps().into_iter())
            .map(|gap| JsonGap {
                hides_chains: gap.hides_chains(),
                gap,
            })
            .collect(),
        chains: Each(chains, json_chain),
        spcs: Each(spcs, json_spc),
        findings,
        unread: &snapshot.source.unread,
        not_used: &snapshot.source.not_used,
    };
    serde_json::to_writer_pretty(&mut w, &report)?;
    w.write_all(b"\n")
}

/// A sequence serialised item by item through `to_json`, never collected.
struct Each<'a, T, J>(&'a [T], fn(&'a T) -> J);

impl<'a, T, J: Serialize> Serialize for Each<'a, T, J> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(self.1))
    }
}

/// A chain's links as text, Mermaid and SVG draw them: a link an earlier break kept from
/// being tried reads pending, so the one broken link is the cause.
struct JsonLinks<'a>(&'a Chain);

impl Serialize for JsonLinks<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = self.0;
        s.collect_seq(c.links.iter().map(|l| JsonLink {
            link: l.link.as_str(),
            status: c.shown_status(l.link).as_str(),
            summary: &l.summary,
            facts: &l.facts,
        }))
    }
}

fn json_chain<C: Borrow<Chain>>(c: &C) -> JsonChain<'_> {
    let c = c.borrow();
    JsonChain {
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
        status: c.shown_worst().as_str(),
        links: JsonLinks(c),
        codes: codes(c.findings()),
    }
}

fn json_spc(s: &SpcVerdict) -> JsonSpc<'_> {
    JsonSpc {
        namespace: &s.namespace,
        name: &s.name,
        vault: s.vault.as_deref(),
        status: s.shown_status().as_str(),
        codes: codes(s.findings.iter()),
        pods_unread: s.pods_unread.as_deref(),
        mounted_by_others: s.mounted_by_others,
    }
}
