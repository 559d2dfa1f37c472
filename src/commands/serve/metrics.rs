//! The Prometheus exposition of one diagnosis (pure: a diagnosis in, OpenMetrics text out).
//!
//! Cardinality is bounded by the cluster's shape, never by its churn: one
//! `kvchain_chain_status` series per chain (namespace, workload, SPC) and link, the replicas
//! of a workload folded into it, no pod name or uid; one `kvchain_link_finding` series per
//! code present on such a link (none for a healthy one); the other families are keyed by codes,
//! severities, statuses and gap kinds, all fixed sets. A registry is built per scrape from
//! the latest diagnosis, so a chain that is gone is gone from the scrape too.
//!
//! Suppressions (`serve --config`'s `ignore:` rules, `kvchain.dev/ignore` annotations) weigh
//! here as they weigh on `check`'s exit status: a suppressed finding is in no family an alert
//! reads (`chain_status`, `link_finding`, `findings`), and a link broken only by suppressed
//! findings is ok there. It stays visible in `suppressed_finding`/`suppressed_findings` and in
//! `/report.json`, marked as the check report marks it.
//!
//! A finding that only follows from an earlier link's cause ("blocked by Sync") is counted apart
//! as `check` counts it (README "Finding codes": `summary.blocked`, no exit status of its own):
//! it is in `blocked_finding`/`blocked_findings`, not in `link_finding` or `findings`, so one
//! cause is one alert (audit FF2). The chains are counted by the status `chain_status` gives
//! their links (drawn as the reports draw them, suppressed-aware: audit FF5), and the findings
//! of SecretProviderClasses no chain mounts are in the finding families, as in the check
//! report (audit FF3).

use std::collections::BTreeMap;
use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};

use crate::chain::{Chain, Finding, Link, SpcVerdict, Status};
use crate::report;
use crate::snapshot::Snapshot;

/// What one scrape reports on.
pub struct Diagnosis<'a> {
    pub snapshot: &'a Snapshot,
    /// Shared with the engine (not copied per scrape).
    pub chains: &'a [Arc<Chain>],
    /// The SecretProviderClasses no chain mounts, suppressions applied, as `/report.json`
    /// lists them ([`crate::chain::unmounted_spcs`]).
    pub spcs: &'a [SpcVerdict],
    /// When the diagnosis finished (Unix seconds).
    pub finished_at: f64,
    pub duration_seconds: f64,
    /// Diagnoses since the exporter started.
    pub diagnoses: u64,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LinkLabels {
    namespace: String,
    workload: String,
    spc: String,
    link: String,
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabels {
    code: String,
    severity: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

/// The numeric value of a link status in `kvchain_chain_status` (worse is higher).
pub fn status_value(s: Status) -> i64 {
    match s {
        // Alerts read a link only suppressed findings break as ok (README "Suppressing
        // findings"); `for_alerts` never gives this status, the check outputs do.
        Status::Ok | Status::Suppressed => 0,
        Status::Pending => 1,
        Status::Unknown => 2,
        Status::Warning => 3,
        Status::Broken => 4,
    }
}

/// A link's status as alerts read it: a warning or break that only suppressed findings give
/// (no open finding of warning or error severity beside them) is ok, as such a link no longer
/// fails `check`.
fn for_alerts(status: Status, l: &Link) -> Status {
    // The check outputs' judgement, read as ok here: no alert fires on it.
    match crate::chain::shown(status, &l.findings) {
        Status::Suppressed => Status::Ok,
        st => st,
    }
}

/// (namespace, workload, spc, link, code).
type LinkCode<'c> = (&'c str, String, &'c str, &'static str, &'static str);

/// A family with a series at 1 for each (chain, link, code).
fn per_code(codes: std::collections::BTreeSet<LinkCode<'_>>) -> Family<LinkLabels, Gauge> {
    let family = Family::<LinkLabels, Gauge>::default();
    for (ns, w, spc, link, code) in codes {
        family
            .get_or_create(&LinkLabels {
                namespace: ns.to_string(),
                workload: w,
                spc: spc.to_string(),
                link: link.to_string(),
                code: code.to_string(),
            })
            .set(1);
    }
    family
}

/// `Deployment/api`, or `Pod/name` for a bare pod (whose name is as stable as its chain).
fn workload(c: &Chain) -> String {
    c.workload.as_ref().map_or_else(
        || format!("Pod/{}", c.pod),
        |w| format!("{}/{}", w.kind, w.name),
    )
}

/// The exposition text (OpenMetrics, which Prometheus reads natively).
pub fn render(d: &Diagnosis<'_>) -> String {
    let mut registry = Registry::with_prefix("kvchain");

    // (namespace, workload, spc, link) → (worst status, worst finding)
    type ChainLink<'c> = (&'c str, String, &'c str, &'static str);
    let mut links: BTreeMap<ChainLink<'_>, (Status, Option<&Finding>)> = BTreeMap::new();
    // Every code a link carries over the chain's pods, so an alert on one code fires whatever
    // else sits on the link (audit Y2).
    let mut link_codes: std::collections::BTreeSet<LinkCode<'_>> = Default::default();
    let mut suppressed_codes: std::collections::BTreeSet<LinkCode<'_>> = Default::default();
    let mut blocked_codes: std::collections::BTreeSet<LinkCode<'_>> = Default::default();
    let mut by_status: BTreeMap<&'static str, i64> = BTreeMap::new();
    for c in d.chains {
        // Drawn as the reports draw it (a link only blocked by an earlier break is pending),
        // and as alerts read it (broken only by suppressed findings is ok): the status its
        // `chain_status` series get, so a chain counted broken has a series at 4 (audit FF5).
        let status_of = |l: &Link| for_alerts(c.drawn_status(l.link), l);
        let worst = c.links.iter().map(status_of).max().unwrap_or(Status::Ok);
        *by_status.entry(worst.as_str()).or_default() += 1;
        let w = workload(c);
        for l in &c.links {
            // A cause before an effect of the same severity ("blocked by …" names the cause's
            // link, whose own series carries the cause).
            let worst_finding =
                l.findings
                    .iter()
                    .filter(|f| f.suppressed.is_none())
                    .max_by(|a, b| {
                        (a.follows.is_none(), a.severity)
                            .cmp(&(b.follows.is_none(), b.severity))
                            .then(b.code.cmp(&a.code))
                    });
            let status = status_of(l);
            for f in &l.findings {
                let key = (
                    c.namespace.as_str(),
                    w.clone(),
                    c.spc.as_str(),
                    l.link.as_str(),
                    f.code.as_str(),
                );
                match (&f.suppressed, f.follows) {
                    (Some(_), _) => suppressed_codes.insert(key),
                    (None, Some(_)) => blocked_codes.insert(key),
                    (None, None) => link_codes.insert(key),
                };
            }
            let e = links
                .entry((&c.namespace, w.clone(), &c.spc, l.link.as_str()))
                .or_insert((status, None));
            e.0 = e.0.max(status);
            if let Some(f) = worst_finding
                && e.1
                    .is_none_or(|g| (f.severity, g.code) > (g.severity, f.code))
            {
                e.1 = Some(f);
            }
        }
    }
    // A code open on some pod of the chain is not "only suppressed" (or blocked) there; one
    // blocked on some pod is not "only suppressed" either.
    suppressed_codes.retain(|k| !link_codes.contains(k) && !blocked_codes.contains(k));
    blocked_codes.retain(|k| !link_codes.contains(k));
    let chain_status = Family::<LinkLabels, Gauge>::default();
    registry.register(
        "chain_status",
        "Worst status of a link over the pods of a chain (namespace, workload, SPC): 0 ok, 1 pending, 2 unknown, 3 warning, 4 broken; code names its worst finding (the lowest code among equally severe ones; kvchain_link_finding has them all)",
        chain_status.clone(),
    );
    for ((ns, w, spc, link), (status, finding)) in links {
        chain_status
            .get_or_create(&LinkLabels {
                namespace: ns.to_string(),
                workload: w,
                spc: spc.to_string(),
                link: link.to_string(),
                code: finding.map_or(String::new(), |f| f.code.as_str().to_string()),
            })
            .set(status_value(status));
    }

    registry.register(
        "link_finding",
        "1 for each finding code on a link of a chain (namespace, workload, SPC), over its pods, that is neither suppressed nor only blocked by a cause above: a series per code present, none for a link without findings",
        per_code(link_codes),
    );
    registry.register(
        "suppressed_finding",
        "1 for each finding code on a link of a chain that a kvchain.dev/ignore annotation or an ignore rule suppresses on every pod of the chain (it is in no other per-link family)",
        per_code(suppressed_codes),
    );
    registry.register(
        "blocked_finding",
        "1 for each finding code on a link of a chain that only follows from an earlier link's cause (blocked by a cause above) on every pod of the chain where it is open: the cause is in kvchain_link_finding; this code is in no other per-link family",
        per_code(blocked_codes),
    );

    let chains = Family::<StatusLabels, Gauge>::default();
    registry.register(
        "chains",
        "Chains (one per pod and SecretProviderClass volume) by their worst link status",
        chains.clone(),
    );
    for s in ["ok", "pending", "unknown", "warning", "broken"] {
        chains
            .get_or_create(&StatusLabels {
                status: s.to_string(),
            })
            .set(by_status.get(s).copied().unwrap_or(0));
    }

    let findings = Family::<CodeLabels, Gauge>::default();
    registry.register(
        "findings",
        "Findings neither suppressed nor blocked by a cause above (de-duplicated as in the check report, SecretProviderClasses no pod mounts included: its errors, warnings and info) by code and severity",
        findings.clone(),
    );
    let suppressed = Family::<CodeLabels, Gauge>::default();
    registry.register(
        "suppressed_findings",
        "Findings a kvchain.dev/ignore annotation or an ignore rule suppresses (de-duplicated as in the check report) by code and severity",
        suppressed.clone(),
    );
    let blocked = Family::<CodeLabels, Gauge>::default();
    registry.register(
        "blocked_findings",
        "Findings that only follow from an earlier link's cause, counted apart as the check report counts them (summary.blocked; they decide no exit status) by code and severity",
        blocked.clone(),
    );
    for m in report::all_findings(d.chains, d.spcs) {
        let f = &m.finding;
        // As the check report's summary counts them: suppressed first, then blocked.
        let family = if f.suppressed.is_some() {
            &suppressed
        } else if f.follows.is_some() {
            &blocked
        } else {
            &findings
        };
        family
            .get_or_create(&CodeLabels {
                code: f.code.as_str().to_string(),
                severity: f.severity.as_str().to_string(),
            })
            .inc();
    }

    let gaps = Family::<KindLabels, Gauge>::default();
    registry.register(
        "gaps",
        "Things that could not be seen (unreadable collections, unknown cluster facts, Azure) by kind",
        gaps.clone(),
    );
    for g in d.snapshot.gaps() {
        gaps.get_or_create(&KindLabels {
            kind: g.kind.to_string(),
        })
        .inc();
    }
    // A cluster that stopped answering leaves its last data standing: what changed since is
    // unread, so the view is incomplete as surely as under a refused list (audit W4).
    let incomplete = Gauge::<i64>::default();
    incomplete.set(i64::from(
        d.snapshot.incomplete() || d.snapshot.source.unanswered.is_some(),
    ));
    registry.register(
        "incomplete",
        "1 when pods, SecretProviderClasses, workloads or Ingresses could not be read somewhere (chains may be missing), a kind is not kept current (its watch refused), or the API server has not answered for 2 minutes",
        incomplete,
    );
    // The data time, apart from the diagnosis time: the clock tick re-diagnoses the same
    // objects every 10 s, so `last_diagnosis_timestamp` advances through an outage.
    if let Some(read) = d.snapshot.source.read_at {
        let last_read = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        last_read.set(read.as_millisecond() as f64 / 1000.0);
        registry.register_with_unit(
            "last_read_timestamp",
            "When the API server last answered a read (a list, a watch opening or event or bookmark, a read by name; Unix time)",
            Unit::Seconds,
            last_read,
        );
    }

    // A pod stuck past its mount's two minutes with its events unread has no verdict (the
    // check exits 3, `summary.unexplained`): an alert must be able to fire on it, since its
    // chain reads only "unknown" and the view may be otherwise complete.
    let unexplained = Gauge::<i64>::default();
    unexplained.set(
        d.chains
            .iter()
            .filter(|c| crate::chain::waits_unexplained(c))
            .count() as i64,
    );
    registry.register(
        "unexplained",
        "Chains whose pod waits for its mount past the two minutes a mount takes while no event that could be read says why (no verdict)",
        unexplained,
    );

    let last = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
    last.set(d.finished_at);
    registry.register_with_unit(
        "last_diagnosis_timestamp",
        "When the latest diagnosis finished (Unix time)",
        Unit::Seconds,
        last,
    );
    let took = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
    took.set(d.duration_seconds);
    registry.register_with_unit(
        "diagnosis_duration",
        "How long the latest diagnosis took",
        Unit::Seconds,
        took,
    );
    let diagnoses = Counter::<u64>::default();
    diagnoses.inc_by(d.diagnoses);
    registry.register(
        "diagnoses",
        "Diagnoses since the exporter started",
        diagnoses,
    );
    let azure = Counter::<u64>::default();
    azure.inc_by(d.snapshot.azure.requests);
    registry.register(
        "azure_requests",
        "Azure requests sent since the exporter started",
        azure,
    );

    let throttled = Counter::<u64>::default();
    throttled.inc_by(d.snapshot.azure.throttled);
    registry.register(
        "azure_throttled_requests",
        "Azure requests answered 429 (throttled) since the exporter started",
        throttled,
    );

    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = encode(&mut out, &registry);
    out
}

/// The same exposition in Prometheus' classic text format (0.0.4), for clients that do not
/// ask for OpenMetrics (curl, `promtool check metrics`). The encoder writes OpenMetrics only;
/// for what [`render`] emits the two differ in three places: a counter family is named with
/// its `_total` suffix, and there is no `# UNIT` line and no `# EOF`.
pub fn classic(openmetrics: &str) -> String {
    let counters: Vec<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE ")?.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line.starts_with("# UNIT ") || line == "# EOF" {
            continue;
        }
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|p| {
            let rest = line.strip_prefix(p)?;
            let (name, tail) = rest.split_once(' ')?;
            counters
                .contains(&name)
                .then(|| format!("{p}{name}_total {tail}"))
        });
        out.push_str(renamed.as_deref().unwrap_or(line));
        out.push('\n');
    }
    out
}

#[cfg(test)]
#[path = "metrics_tests.rs"]
mod tests;
