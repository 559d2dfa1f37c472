//! `check -o junit`: JUnit XML (quick-junit) for CI test views.
//!
//! One test suite per namespace, one test case per chain (`Kind/name · pod → spc`). A chain
//! fails when it has an unsuppressed finding `--fail-on` counts (errors by default); the
//! failure message lists those codes and its body has one block per failing finding (code,
//! message, resource, confirm, fix). Other findings, suppressed ones included, go to the
//! case's system-out so nothing is silently gone.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::{Context, FailOn};
use crate::chain::{Chain, Finding};
use crate::snapshot::Snapshot;

pub fn render(snapshot: &Snapshot, chains: &[Chain], cx: &Context) -> String {
    let mut report = Report::new(format!("kvchain {}", snapshot.source.kind.as_str()));
    let mut suites: BTreeMap<&str, Vec<&Chain>> = BTreeMap::new();
    for c in chains {
        suites.entry(&c.namespace).or_default().push(c);
    }
    for (ns, group) in suites {
        let mut suite = TestSuite::new(ns);
        for c in group {
            suite.add_test_case(case(c, cx.fail_on));
        }
        report.add_test_suite(suite);
    }
    report
        .to_string()
        .unwrap_or_else(|e| format!("<!-- kvchain: cannot write JUnit: {e} -->\n"))
}

fn case(c: &Chain, fail_on: FailOn) -> TestCase {
    let owner = c.workload.as_ref().map_or_else(
        || format!("Pod/{}", c.pod),
        |w| format!("{}/{}", w.kind, w.name),
    );
    let name = format!("{owner} · {} → {}", c.pod, display_spc(&c.spc));
    let (failing, other): (Vec<&Finding>, Vec<&Finding>) = c
        .findings()
        .partition(|f| f.suppressed.is_none() && fail_on.fails(f.severity));
    let status = if failing.is_empty() {
        TestCaseStatus::success()
    } else {
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
    };
    let mut tc = TestCase::new(name, status);
    tc.set_classname(format!("{}.{}", c.namespace, owner));
    let strip: Vec<String> = c
        .links
        .iter()
        .map(|l| format!("{} {}", l.status.symbol(), l.link.title()))
        .collect();
    let mut out = format!("{}\n", strip.join("  "));
    for f in other {
        out.push_str(&block(f));
    }
    tc.set_system_out(out);
    tc
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
            sup.by,
            sup.reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        );
    }
    let _ = writeln!(s, "  confirm: {}\n  fix:     {}", f.confirm, f.fix);
    s
}
