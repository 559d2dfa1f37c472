//! The text report: what could not be seen or read first, then grouped by namespace,
//! workload and SPC; streamed to its writer.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use super::{all_findings, counts};
use crate::chain::{Chain, Finding, LinkKind, Severity, SpcVerdict, Status};
// Each value lands on a line of the report: a line break in it is escaped too (audit BB2).
use crate::shown::shown_line as shown;
use crate::snapshot::{Gap, Snapshot};

/// The heading of `check -f`'s run-time objects: why they are left out, and where they count.
const NOT_USED: &str = "Not used (written by a running cluster; check -f judges manifests: `kvchain check` on the cluster reads its events, or `kvchain snapshot save` there and `kvchain check --snapshot FILE`)";

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
                Status::Suppressed => "34",
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

/// Human report; checks the SecretProviderClasses no chain mounts itself.
pub fn text(snapshot: &Snapshot, chains: &[Chain], color: bool) -> String {
    text_with(
        snapshot,
        chains,
        &crate::chain::unmounted_spcs(snapshot, chains),
        color,
    )
}

/// Human report: per namespace, per workload (or bare pod) and SPC, the chain strip, the
/// non-ok links' reasons, then each finding with evidence, confirm and fix; then the
/// SecretProviderClasses no chain mounts, with their own findings.
pub fn text_with(
    snapshot: &Snapshot,
    chains: &[Chain],
    spcs: &[SpcVerdict],
    color: bool,
) -> String {
    let mut out = String::new();
    write_text_to(&mut out, snapshot, chains, spcs, color);
    out
}

/// [`text_with`] written to `w` as it is made: a 10,000-pod report is megabytes, never held
/// whole. Returns the first write error.
pub fn write_text(
    w: impl std::io::Write,
    snapshot: &Snapshot,
    chains: &[Chain],
    spcs: &[SpcVerdict],
    color: bool,
) -> std::io::Result<()> {
    let mut out = IoText {
        inner: w,
        error: None,
    };
    write_text_to(&mut out, snapshot, chains, spcs, color);
    out.error.map_or(Ok(()), Err)
}

/// Formatted text into an `io::Write`, keeping the first I/O error (`fmt::Error` carries none).
struct IoText<W> {
    inner: W,
    error: Option<std::io::Error>,
}

impl<W: std::io::Write> std::fmt::Write for IoText<W> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if self.error.is_some() {
            return Err(std::fmt::Error);
        }
        self.inner.write_all(s.as_bytes()).map_err(|e| {
            self.error = Some(e);
            std::fmt::Error
        })
    }
}

fn write_text_to(
    out: &mut impl std::fmt::Write,
    snapshot: &Snapshot,
    chains: &[Chain],
    spcs: &[SpcVerdict],
    color: bool,
) {
    let p = Paint(color);
    let all = all_findings(chains, spcs);
    let n = counts(snapshot, chains, spcs, &all);
    // An SPC no chain mounts is "mounted by no pod" only where the pods were read; where they
    // were not, the unread pods may mount it (audit SS2: unknown is not absent).
    let unknown = spcs.iter().filter(|s| s.pods_unread.is_some()).count();
    // Listed for a StatefulSet's replaced volume alone: other pods mount them (KVC710).
    let claimed = spcs.iter().filter(|s| s.mounted_by_others).count();
    let mut lonely = String::new();
    if n.spcs > unknown + claimed {
        let none = crate::glance::plural(n.spcs - unknown - claimed, "SPC");
        lonely.push_str(&format!(", {none} mounted by no pod"));
    }
    if unknown > 0 {
        let some = crate::glance::plural(unknown, "SPC");
        lonely.push_str(&format!(", {some} not known to be mounted (pods unread)"));
    }
    let mut label = if snapshot.source.label.is_empty() {
        String::new()
    } else {
        format!(" ({})", shown(&snapshot.source.label))
    };
    // A recording is not the cluster now: its headline says when it was made (audit FFF7).
    if snapshot.source.recorded {
        label.push_str(&format!(
            ", a snapshot recorded {}",
            crate::glance::time(snapshot.source.observed_at)
        ));
    }
    let gaps = snapshot.gaps();
    // An incomplete view says so before its counts: "0 errors" over unread pods is no verdict,
    // and a reader (or a CI log's first line) may stop at the headline.
    if let Some(hidden) = crate::snapshot::gaps::hiding_chains(&gaps, 3, Gap::what_where) {
        let _ = write!(
            out,
            "{} {hidden} could not be read — ",
            p.severity(Severity::Error, "INCOMPLETE:")
        );
    }
    // A pod stuck with its cause unread has no verdict either: said before "0 errors".
    if n.unexplained > 0 {
        let _ = write!(
            out,
            "{} {} not started, and no event that could be read says why — ",
            p.severity(Severity::Error, "UNDETERMINED:"),
            crate::glance::plural(n.unexplained, "pod"),
        );
    }
    // A chain whose check a failed read left undone has no verdict either (exit 3 unless
    // something fails, audit VVV-honest): the headline's first word says so, as above, and its
    // count follows the findings'.
    if n.unverified > 0 {
        let _ = write!(
            out,
            "{} a read failed — ",
            p.severity(Severity::Error, "UNVERIFIED:")
        );
    }
    let _ = write!(
        out,
        "{} {}{label}: {}{lonely}, {}, {}, {} info",
        p.bold("kvchain check"),
        snapshot.source.kind.as_str(),
        crate::glance::plural(n.chains, "chain"),
        crate::glance::plural(n.errors, "error"),
        crate::glance::plural(n.warnings, "warning"),
        n.info
    );
    // Unknown is not ok: links a failed read left unchecked are counted here, or "0 errors"
    // over them would read as healthy (the gaps are listed below the headline).
    if n.unverified > 0 {
        let _ = write!(
            out,
            ", {} not verified ({} unknown: a read failed, listed below)",
            crate::glance::plural(n.unverified, "chain"),
            crate::glance::plural(n.unknown_links, "link")
        );
    }
    if n.blocked > 0 {
        let _ = write!(out, ", {} blocked by a cause above", n.blocked);
    }
    if n.suppressed > 0 {
        let _ = write!(out, ", {} suppressed", n.suppressed);
    }
    let hidden = &snapshot.source.hidden;
    if hidden.total() > 0 {
        let mut what = Vec::new();
        if hidden.warnings > 0 {
            what.push(crate::glance::plural(hidden.warnings, "warning"));
        }
        if hidden.info > 0 {
            what.push(format!("{} info", hidden.info));
        }
        let _ = write!(
            out,
            " ({} hidden by --min-severity {}{})",
            what.join(", "),
            hidden.below,
            if hidden.failing > 0 {
                format!("; the exit status counts {} of them", hidden.failing)
            } else {
                String::new()
            }
        );
    }
    let _ = writeln!(out);
    if snapshot.source.kind == crate::snapshot::SourceKind::Live {
        let _ = writeln!(out, "{} Azure requests made", snapshot.azure.requests);
    }
    write_gaps(out, &p, &gaps);
    if !snapshot.source.unread.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            p.severity(
                Severity::Error,
                "Not read (left out of every verdict below):"
            )
        );
        for u in &snapshot.source.unread {
            let _ = writeln!(out, "  {}", shown(u));
        }
    }
    if !snapshot.source.not_used.is_empty() {
        let _ = writeln!(out, "\n{NOT_USED}:");
        for u in &snapshot.source.not_used {
            let _ = writeln!(out, "  {}", shown(u));
        }
    }
    if chains.is_empty() {
        // Unread pods (a gap) or unread documents that may define some (`check -f`, XX1).
        let _ = if gaps.iter().any(Gap::hides_chains)
            || snapshot.source.unread_pods_in(None).is_some()
        {
            writeln!(
                out,
                "\nNo pod that could be read mounts a Secrets Store CSI volume; the unread ones above may."
            )
        } else {
            writeln!(
                out,
                "\nNo pod mounts (or means to mount) a Secrets Store CSI volume."
            )
        };
        write_spcs(out, &p, spcs);
        return;
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
    // Whether a strip drew a link that does not apply (`–`): the legend then says what it is.
    let mut not_applicable = false;
    // Each finding printed, with the group it was printed under.
    let mut printed: HashMap<crate::chain::FindingKey, String> = HashMap::new();
    // A finding is printed once, on its first group, with what all its chains saw: the
    // merged copies by key (only those a duplicate added evidence to differ from the chain's).
    let merged: HashMap<crate::chain::FindingKey, &Finding> = all
        .iter()
        .filter(|m| matches!(m.finding, Cow::Owned(_)))
        .map(|m| (m.finding.key(), m.finding.as_ref()))
        .collect();
    for (ns, owners) in &groups {
        let _ = writeln!(out, "\n{} {}", p.dim("namespace"), p.bold(&shown(ns)));
        for ((owner, spc), group) in owners {
            let worst = (group.iter().map(|c| c.shown_worst()).max()).unwrap_or(Status::Ok);
            // Pods, not chains: a pod mounting the SPC through two volumes has two chains and
            // one SecretProviderClassPodStatus (FACTS §1) (II5). A template is no pod: beside
            // pods (all being deleted) it is named as what it is; alone it is the group (JJ4).
            let template = group.iter().any(|c| c.is_template());
            let pods = match (distinct_pods(group), template) {
                (0, _) | (1, false) => String::new(),
                (1, true) => " (1 pod and the template)".to_string(),
                (n, true) => format!(" ({n} pods and the template)"),
                (n, false) => format!(" ({n} pods)"),
            };
            let spc = if spc.is_empty() { "(no SPC)" } else { spc };
            let vault = group[0]
                .vault
                .as_deref()
                .map_or(String::new(), |v| format!(" → vault {}", shown(v)));
            let _ = writeln!(
                out,
                "  {} {}{pods}  spc {}{vault}",
                p.status(worst, worst.symbol()),
                p.bold(&shown(owner)),
                shown(spc)
            );
            // The strip of the worst chain in the group stands for the group.
            let rep = group
                .iter()
                .max_by_key(|c| c.shown_worst())
                .copied()
                .unwrap_or(group[0]);
            let na = crate::chain::model::NOT_APPLICABLE_SYMBOL;
            not_applicable |= (rep.links.iter()).any(|l| rep.shown_symbol(l.link) == na);
            let strip: Vec<String> = rep
                .links
                .iter()
                .map(|l| {
                    // As the TUI strip draws it: a link the break kept from being tried is
                    // pending, so the one red box is the cause.
                    let st = rep.shown_status(l.link);
                    p.status(
                        st,
                        &format!("{} {}", rep.shown_symbol(l.link), l.link.title()),
                    )
                })
                .collect();
            let _ = writeln!(out, "    {}", strip.join("  "));
            let reasons: Vec<String> = rep
                .links
                .iter()
                .filter(|l| l.status != Status::Ok)
                .map(|l| {
                    // A link drawn for its finding that also left a check undone (a read
                    // failed, listed under Not visible) says so (audit DDD3).
                    let undone = l.status != Status::Unknown
                        && l.facts.iter().any(|f| f.label == "not checked");
                    let and = if undone { " + a check not made" } else { "" };
                    format!("{}: {}{and}", l.link.title(), l.summary)
                })
                .collect();
            if !reasons.is_empty() {
                let _ = writeln!(out, "    {}", p.dim(&reasons.join(" · ")));
            }
            // A finding several groups share is printed once, under the first; the others
            // point at it (`Some(where)`), or their broken link would stand with nothing under
            // it (audit ZZ8).
            let here = format!("{} {}", shown(ns), shown(owner));
            let mut fs: Vec<(&Finding, Option<String>)> = Vec::new();
            for f in group.iter().flat_map(|c| c.findings()) {
                match printed.get(&f.key()) {
                    None => {
                        printed.insert(f.key(), here.clone());
                        fs.push((merged.get(&f.key()).copied().unwrap_or(f), None));
                    }
                    Some(at) if *at != here && !fs.iter().any(|(e, _)| e.key() == f.key()) => {
                        fs.push((f, Some(at.clone())));
                    }
                    Some(_) => {}
                }
            }
            // Root cause first: causes before the effects that follow from them, then worst
            // first, then in chain order: by link, and within a link as the rules found them
            // (the order the service meets them: a wrong tenant fails before any credential
            // is compared). The sort is stable.
            fs.sort_by(|(a, _), (b, _)| {
                a.follows
                    .is_some()
                    .cmp(&b.follows.is_some())
                    .then(b.severity.cmp(&a.severity))
                    .then(a.link.cmp(&b.link))
            });
            for (f, at) in fs {
                match at {
                    None => write_finding(out, &p, f),
                    Some(at) => write_head(
                        out,
                        &p,
                        f,
                        &p.dim(&format!("the same finding as under {at} above")),
                    ),
                }
            }
        }
    }
    write_spcs(out, &p, spcs);
    let legend = "Links: ✓ ok  … pending  ⊘ suppressed  ? unknown (not observable here)  ! warning  ✗ broken";
    let _ = match not_applicable {
        true => writeln!(out, "\n{}", p.dim(&format!("{legend}  – does not apply"))),
        false => writeln!(out, "\n{}", p.dim(legend)),
    };
}

/// The "Not visible" section for `gaps`, without colour (`snapshot save` says it on stderr).
pub fn not_visible(gaps: &[Gap]) -> String {
    let mut out = String::new();
    write_gaps(&mut out, &Paint(false), gaps);
    out
}

/// "Not visible": one line per reason, naming every kind and place it hides, so a cluster
/// that forbids everything in a namespace reads as a short list, not a wall.
fn write_gaps(out: &mut impl std::fmt::Write, p: &Paint, gaps: &[Gap]) {
    if gaps.is_empty() {
        return;
    }
    let hidden = gaps.iter().any(Gap::hides_chains);
    let _ = writeln!(
        out,
        "\n{} {}",
        p.severity(
            if hidden {
                Severity::Error
            } else {
                Severity::Warning
            },
            "Not visible"
        ),
        p.dim(if hidden {
            "(incomplete: chains behind these are missing, links that depend on them are unknown)"
        } else {
            "(links that depend on these are unknown, not ok)"
        })
    );
    // Gaps of one reason share its `kubectl auth can-i` lines (they are spelled from it).
    let mut by_reason: Vec<(&str, &[String], Vec<String>)> = Vec::new();
    for g in gaps {
        // "cannot list pods in payments: forbidden" says it all; "Azure disabled" needs the what.
        let what = if g.reason_says_what() {
            None
        } else {
            Some(g.what())
        };
        match by_reason.iter_mut().find(|(r, ..)| *r == g.reason) {
            Some((.., whats)) => whats.extend(what),
            None => by_reason.push((&g.reason, &g.confirm, what.into_iter().collect())),
        }
    }
    for (reason, confirm, whats) in by_reason {
        let reason = shown(reason);
        let _ = if whats.is_empty() {
            writeln!(out, "  {reason}")
        } else {
            writeln!(out, "  {}: {reason}", p.bold(&shown(&whats.join(", "))))
        };
        for c in confirm {
            let _ = writeln!(out, "    {} {c}", p.dim("confirm:"));
        }
    }
}

/// The group key of the SPCs other pods mount ([`SpcVerdict::mounted_by_others`]).
const CLAIMED: &str = "\0claimed";

/// SecretProviderClasses no chain mounts: each with its own findings.
fn write_spcs(out: &mut impl std::fmt::Write, p: &Paint, spcs: &[SpcVerdict]) {
    // Those whose pods were read, then those of namespaces whose pods were not, by reason:
    // the unread pods may mount them (audit SS2).
    let mut groups: Vec<(Option<&str>, Vec<&SpcVerdict>)> = Vec::new();
    // Those other pods mount, listed for a StatefulSet's replaced volume (KVC710), come last.
    let (claimed, spcs): (Vec<&SpcVerdict>, Vec<&SpcVerdict>) =
        spcs.iter().partition(|s| s.mounted_by_others);
    for s in spcs {
        let why = s.pods_unread.as_deref();
        match groups.iter_mut().find(|(w, _)| *w == why) {
            Some((_, g)) => g.push(s),
            None => groups.push((why, vec![s])),
        }
    }
    groups.sort_by_key(|(why, _)| *why);
    if !claimed.is_empty() {
        groups.push((Some(CLAIMED), claimed));
    }
    for (why, spcs) in groups {
        let title = match why {
            Some(CLAIMED) => "SecretProviderClasses mounted by the pods above, which a StatefulSet means to mount too (its claim template takes the volume's place)".into(),
            None => "SecretProviderClasses mounted by no pod here (checked on their own)".into(),
            Some(why) => format!(
                "SecretProviderClasses not known to be mounted (pods unread: {}) (their own fields checked; identity, access and objects are checked on a mounting pod's chain)",
                shown(why)
            ),
        };
        let _ = writeln!(out, "\n{}", p.bold(&title));
        write_spc_group(out, p, &spcs);
    }
}

fn write_spc_group(out: &mut impl std::fmt::Write, p: &Paint, spcs: &[&SpcVerdict]) {
    for s in spcs {
        let vault = s
            .vault
            .as_deref()
            .map_or(String::new(), |v| format!(" → vault {}", shown(v)));
        let _ = writeln!(
            out,
            "  {} {} {}{vault}",
            p.status(s.shown_status(), s.shown_status().symbol()),
            p.dim(&format!("namespace {}", shown(&s.namespace))),
            p.bold(&format!("SecretProviderClass/{}", shown(&s.name)))
        );
        for f in &s.findings {
            write_finding(out, p, f);
        }
    }
}

/// A finding's first line: code, severity, link and resource, then `text` (its message, or a
/// pointer to where it is printed).
fn write_head(out: &mut impl std::fmt::Write, p: &Paint, f: &Finding, text: &str) {
    let _ = writeln!(
        out,
        "    {} {} {}  {text}",
        p.severity(f.severity, f.code.as_str()),
        p.severity(f.severity, f.severity.as_str()),
        p.dim(&format!("[{}] {}", link_name(f.link), f.resource)),
    );
}

fn write_finding(out: &mut impl std::fmt::Write, p: &Paint, f: &Finding) {
    if let Some(s) = &f.suppressed {
        // Still shown, dimmed and labelled: a suppression never hides a finding.
        let reason = s
            .reason
            .as_deref()
            .map(|r| format!(" — {}", shown(r)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "    {}",
            p.dim(&format!(
                "{} {} suppressed [{}] {}  {}  (by {}{reason})",
                f.code,
                f.severity.as_str(),
                link_name(f.link),
                f.resource,
                f.message,
                s.by
            ))
        );
        return;
    }
    write_head(out, p, f, &f.message);
    let mut shown: Vec<String> = Vec::with_capacity(f.evidence.len());
    for e in &f.evidence {
        // Event messages carry whole HTTP dumps: the decisive line here, all of it in JSON.
        // Replicas' events differ in the pod they name, not in that line: shown once.
        let one = crate::glance::evidence(e);
        if !shown.contains(&one) {
            let _ = writeln!(out, "        {} {}", p.dim("seen:   "), one);
            shown.push(one);
        }
    }
    let _ = writeln!(out, "        {} {}", p.dim("confirm:"), f.confirm);
    // A fix of several commands (one per line) keeps them under the first.
    let fix = f.fix.replace('\n', "\n                 ");
    let _ = writeln!(out, "        {} {}", p.dim("fix:    "), fix);
}

/// The pods a group's chains come from (a group is one owner and SPC: a pod is in it once
/// per volume naming the SPC).
fn distinct_pods(group: &[&Chain]) -> usize {
    let mut pods: Vec<&str> = (group.iter())
        .filter(|c| !c.is_template())
        .map(|c| c.pod.as_str())
        .collect();
    pods.sort_unstable();
    pods.dedup();
    pods.len()
}

fn link_name(l: LinkKind) -> &'static str {
    l.as_str()
}
