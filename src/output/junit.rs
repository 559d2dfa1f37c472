//! `check -o junit`: JUnit XML (quick-junit) for CI test views.
//!
//! One test suite per namespace, one test case per chain (`Kind/name · pod → spc`). A chain
//! fails when it has an unsuppressed finding `--fail-on` counts (errors by default) that is a
//! cause: one that only follows an earlier link's cause ("blocked by Sync") decides nothing,
//! as it decides no exit status (README "Finding codes", audit FF2). The failure message lists
//! the failing codes and its body has one block per failing finding (code, message, resource,
//! confirm, fix). Other findings, suppressed and blocked ones included, go to the case's
//! system-out so nothing is silently gone. The strip draws each link as the text report does
//! (a link the break kept from being tried is `…`, audit FF4).
//!
//! What could not be read is never a quiet pass: every gap that is a failure to read (not the
//! source's nature or `--no-azure`) is a test case of the suite [`GAP_SUITE`] — `<error>` when
//! chains may be missing behind it (pods or SecretProviderClasses), `<skipped>` when only links
//! that depend on it are unknown — and a chain with nothing failing that sits behind such a
//! gap (its links unknown for it) is `<skipped>` with the reason, not passed: JUnit viewers
//! (GitHub, GitLab, Jenkins) count skipped and errored cases apart from passes. A chain with
//! no verdict (its pod stuck with the events that would say why unread: `check` exits 3,
//! UNDETERMINED) is an `<error type="undetermined">`, as an incomplete read is.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::{Context, FailOn};
use crate::chain::{Chain, Finding, Link, LinkKind, SpcVerdict, Status};
use crate::shown::{shown, shown_string};
use crate::snapshot::{Gap, Snapshot};

/// The suite of what could not be read, named so it sorts apart from namespaces.
pub const GAP_SUITE: &str = "kvchain: not visible";
/// The suite of findings `--min-severity` hid that still fail the run.
pub const HIDDEN_SUITE: &str = "kvchain: hidden";

pub fn render(snapshot: &Snapshot, chains: &[Chain], cx: &Context) -> String {
    let mut report = Report::new(format!("kvchain {}", snapshot.source.kind.as_str()));
    let mut suites: BTreeMap<&str, Vec<TestCase>> = BTreeMap::new();
    // Gaps first: the first thing a reader of the report sees is what it could not see.
    let gaps = snapshot.gaps();
    let mut unseen = TestSuite::new(GAP_SUITE);
    unseen.add_test_cases(gaps.iter().filter(|g| !g.chosen).map(gap_case));
    // Documents that could not be read fail the run (exit 1): an error each, never a pass.
    unseen.add_test_cases(snapshot.source.unread.iter().map(|u| unread_case(u)));
    if !unseen.test_cases.is_empty() {
        report.add_test_suite(unseen);
    }
    // Findings --min-severity hides that still fail the run: the report says so, or a
    // failing job would show nothing but passes.
    let hidden = &snapshot.source.hidden;
    if hidden.failing > 0 {
        let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
        s.set_message(format!(
            "{} hidden by --min-severity {} fail this run (--fail-on counts them); run without --min-severity to see them",
            crate::glance::plural(hidden.failing, "finding"),
            hidden.below
        ));
        let mut tc = TestCase::new("findings hidden by --min-severity", s);
        tc.set_classname("hidden");
        let mut suite = TestSuite::new(HIDDEN_SUITE);
        suite.add_test_case(tc);
        report.add_test_suite(suite);
    }
    for c in chains {
        let case = case(c, cx.fail_on, &gaps);
        suites.entry(&c.namespace).or_default().push(case);
    }
    // SecretProviderClasses no chain mounts fail like a chain: their findings decide the exit
    // status, and a failed job with only passing cases shows nothing (audit Y1). One with
    // nothing found adds no case: with the pods unread it is not even known to be mounted by
    // no pod (audit SS2), and a passing case would say nothing.
    for v in cx.spcs.iter().filter(|v| !v.findings.is_empty()) {
        let case = spc_case(v, cx.fail_on);
        suites.entry(&v.namespace).or_default().push(case);
    }
    for (ns, cases) in suites {
        let mut suite = TestSuite::new(shown(ns).as_ref());
        suite.add_test_cases(cases);
        report.add_test_suite(suite);
    }
    report
        .to_string()
        .unwrap_or_else(|e| format!("<!-- kvchain: cannot write JUnit: {e} -->\n"))
}

/// One gap that is a failure to read: an error when chains may be missing behind it (the
/// run's verdict does not cover them), else skipped (links depending on it went unchecked).
fn gap_case(g: &Gap) -> TestCase {
    let status = if g.hides_chains() {
        let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
        s.set_message(format!(
            "{}: chains behind it may be missing (no failure there means unknown, not healthy)",
            g.describe()
        ));
        s.set_type("incomplete");
        s
    } else {
        let mut s = TestCaseStatus::skipped();
        s.set_message(format!(
            "{}: links that depend on it are unknown, not ok",
            g.describe()
        ));
        s
    };
    let mut tc = TestCase::new(format!("read {}", g.what_where()), status);
    tc.set_classname(format!("not-visible.{}", g.kind));
    tc
}

/// An input document that could not be read (`file, document N: why`, or a refused lab
/// Timeline event): left out of every verdict, so an error case named by where it is.
fn unread_case(u: &str) -> TestCase {
    let u = shown(u);
    let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
    s.set_message(format!("not read: {u}: left out of every verdict"));
    s.set_type("unread");
    let place = u.split_once(": ").map_or(u.as_ref(), |(place, _)| place);
    let mut tc = TestCase::new(format!("read {place}"), s);
    tc.set_classname("not-visible.input");
    tc
}

/// Why a chain with nothing failing is still no pass: the gaps that failed (not chosen) which
/// it sits behind — chains may be missing in its namespace, or a link of it is unknown for
/// that very reason. Each unknown link names its own gap ("Federation unknown: could not read
/// azure.federatedCredentials of identity id-app: 403 …"), never another's. `None` when all
/// it needed was read, or left unread by choice.
fn unverified(c: &Chain, gaps: &[Gap]) -> Option<String> {
    let failed: Vec<&Gap> = gaps
        .iter()
        .filter(|g| !g.chosen && g.covers(&c.namespace))
        .collect();
    let mut parts: Vec<String> = Vec::new();
    // One part per gap, naming the links unknown for it, in link order.
    let mut by_gap: Vec<(&Gap, Vec<&str>)> = Vec::new();
    for l in &c.links {
        for g in failed
            .iter()
            .filter(|g| crate::report::left_unverified(l, g))
        {
            match by_gap.iter_mut().find(|(seen, _)| std::ptr::eq(*seen, *g)) {
                Some((_, links)) => links.push(l.link.title()),
                None => by_gap.push((g, vec![l.link.title()])),
            }
        }
    }
    for (g, links) in by_gap {
        parts.push(format!(
            "{} unknown: could not read {}",
            links.join(", "),
            g.describe()
        ));
    }
    for g in failed.iter().filter(|g| g.hides_chains()) {
        parts.push(format!(
            "chains may be missing: could not read {}",
            g.describe()
        ));
    }
    if parts.is_empty() {
        return None;
    }
    Some(format!("not verified: {}", parts.join("; ")))
}

/// The reasons a link records for what it could not read (its "unknown" facts).
fn unknown_reasons(l: &Link) -> impl Iterator<Item = &str> {
    l.facts
        .iter()
        .filter(|f| f.label == "unknown")
        .map(|f| f.observed.as_str())
}

fn case(c: &Chain, fail_on: FailOn, gaps: &[Gap]) -> TestCase {
    let owner = shown_string(c.workload.as_ref().map_or_else(
        || format!("Pod/{}", c.pod),
        |w| format!("{}/{}", w.kind, w.name),
    ));
    let name = format!(
        "{owner} · {} → {}",
        shown(&c.pod),
        shown(display_spc(&c.spc))
    );
    let (failing, other) = partition(c.findings(), fail_on);
    let status = if failing.is_empty() && crate::chain::waits_unexplained(c) {
        // No verdict (check exits 3, UNDETERMINED): an error case, as an incomplete read is,
        // never a skip or a pass.
        let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
        let reasons: Vec<&str> = unknown_reasons(c.link(LinkKind::Mount)).collect();
        s.set_message(format!(
            "undetermined: the pod has not started long after its mount was due, and no event that could be read says why ({}): no verdict",
            shown(&reasons.join("; "))
        ));
        s.set_type("undetermined");
        s
    } else if failing.is_empty() {
        match unverified(c, gaps) {
            Some(why) => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(why);
                s
            }
            None => TestCaseStatus::success(),
        }
    } else {
        failure(&failing)
    };
    let mut tc = TestCase::new(name, status);
    tc.set_classname(format!("{}.{}", shown(&c.namespace), owner));
    let strip: Vec<String> = c
        .links
        .iter()
        .map(|l| format!("{} {}", c.shown_symbol(l.link), l.link.title()))
        .collect();
    let mut out = format!("{}\n", strip.join("  "));
    // Why the unknown links are unknown, one line per reason: "unknown" never reads as "fine".
    let mut why: Vec<(&str, Vec<&str>)> = Vec::new();
    for l in c.links.iter().filter(|l| l.status == Status::Unknown) {
        for r in unknown_reasons(l) {
            match why.iter_mut().find(|(w, _)| *w == r) {
                Some((_, links)) => links.push(l.link.title()),
                None => why.push((r, vec![l.link.title()])),
            }
        }
    }
    for (reason, links) in why {
        let _ = writeln!(out, "? {}: {}", links.join(", "), shown(reason));
    }
    for f in other {
        out.push_str(&block(f));
    }
    tc.set_system_out(out);
    tc
}

/// A SecretProviderClass no chain mounts, checked on its own: fails as a chain does when an
/// unsuppressed finding `--fail-on` counts is on it; its other findings are in `system-out`.
fn spc_case(v: &SpcVerdict, fail_on: FailOn) -> TestCase {
    let (failing, other) = partition(v.findings.iter(), fail_on);
    let status = if failing.is_empty() {
        TestCaseStatus::success()
    } else {
        failure(&failing)
    };
    let owner = format!("SecretProviderClass/{}", shown(&v.name));
    let mut tc = TestCase::new(format!("{owner} ({})", v.unmounted_label()), status);
    tc.set_classname(format!("{}.{owner}", shown(&v.namespace)));
    let out: String = other.iter().map(|f| block(f)).collect();
    if !out.is_empty() {
        tc.set_system_out(out);
    }
    tc
}

/// The findings that fail the case (unsuppressed causes `--fail-on` counts, as the exit
/// status decides), and the others.
fn partition<'a>(
    findings: impl Iterator<Item = &'a Finding>,
    fail_on: FailOn,
) -> (Vec<&'a Finding>, Vec<&'a Finding>) {
    findings
        .partition(|f| f.suppressed.is_none() && f.follows.is_none() && fail_on.fails(f.severity))
}

/// The failure of a case: the codes and the first message, one block per finding below.
fn failure(failing: &[&Finding]) -> TestCaseStatus {
    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
    let codes: Vec<&str> = failing.iter().map(|f| f.code.as_str()).collect();
    s.set_message(format!("{}: {}", codes.join(", "), failing[0].message));
    s.set_type(failing[0].code.as_str());
    s.set_description(
        failing
            .iter()
            .map(|f| block(f))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    s
}

fn display_spc(spc: &str) -> &str {
    if spc.is_empty() { "(no SPC)" } else { spc }
}

fn block(f: &Finding) -> String {
    let mut s = format!(
        "{} {} [{}] {}: {}\n",
        f.code,
        f.severity.as_str(),
        f.link.as_str(),
        f.resource,
        f.message
    );
    if let Some(sup) = &f.suppressed {
        let _ = writeln!(
            s,
            "  suppressed: {}{}",
            shown(&sup.by),
            sup.reason
                .as_deref()
                .map(|r| format!(" ({})", shown(r)))
                .unwrap_or_default()
        );
    }
    let _ = writeln!(s, "  confirm: {}\n  fix:     {}", f.confirm, f.fix);
    s
}
