//! `kvchain check --context a --context b` / `--all-contexts`: several clusters read
//! concurrently (at most [`AT_ONCE`] at a time), one report. A context that cannot be read is
//! a gap of kind `cluster`, never an abort. Each cluster read is judged as a single `check`
//! judges it ([`check::judge`]: suppressions, `--fail-on`, `--min-severity`); the exit status
//! is the worst of theirs as the single check ranks them (1 before 3 before 0), a cluster
//! that could not be read counting as 3.

pub mod merge;

use std::fmt::Write as _;
use std::process::ExitCode;

use futures::StreamExt;

use super::check::{self, EXIT_INCOMPLETE, Judged};
use crate::chain;
use crate::cli::{CheckArgs, OutputFormat};
use crate::report;
use crate::shown::shown_line;
use crate::snapshot::Snapshot;
use crate::source::live::{self, ConnectError};
use merge::ClusterReport;

/// Clusters read at the same time: each holds its watchers and a full snapshot while it is
/// read, so a fleet of fifty must not hold fifty at once.
pub const AT_ONCE: usize = 4;

/// One context's diagnosis as `check` judges it, or why it could not be read.
type Read = (String, Result<(Snapshot, Judged), String>);

/// Whether this `check` is over several live clusters (`-f` and `--lab` read no cluster).
pub fn wanted(args: &CheckArgs) -> bool {
    args.files.is_empty()
        && args.lab.is_none()
        && (args.all_contexts || args.kube.context.len() > 1)
}

pub async fn run(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let contexts = if args.all_contexts {
        match live::connect::contexts(&args.kube) {
            Ok((names, _current)) => names,
            Err(ConnectError::NoKubeconfig(why)) => {
                anyhow::bail!("--all-contexts: no kubeconfig context ({why})")
            }
            Err(ConnectError::Other(e)) => return Err(e),
        }
    } else {
        let mut seen = std::collections::BTreeSet::new();
        args.kube
            .context
            .iter()
            .filter(|c| seen.insert(c.as_str()))
            .cloned()
            .collect()
    };
    // One distinct context (`--all-contexts` over a one-context kubeconfig, or a context
    // repeated) is the plain single-cluster report, in every format (audit Y3).
    if let [one] = contexts.as_slice() {
        return super::check::single(args, &args.kube.for_context(one)).await;
    }
    // Refused before any cluster is read: README names the formats a fleet prints.
    if !matches!(args.output, OutputFormat::Text | OutputFormat::Json) {
        let name = clap::ValueEnum::to_possible_value(&args.output).map_or_else(
            || format!("{:?}", args.output),
            |v| v.get_name().to_string(),
        );
        anyhow::bail!(
            "-o {name}: a check of several clusters ({} contexts) prints text or json; check one context at a time for -o {name}",
            contexts.len()
        );
    }
    // The config's `ignore:` rules, read (and a mistake in them refused) before any cluster.
    let rules = check::ignore_rules(args)?;
    let rules = &rules;
    let read: Vec<Read> = futures::stream::iter(contexts)
        .map(|name| async move {
            let outcome = read_one(args, rules, &name).await;
            (name, outcome)
        })
        .buffered(AT_ONCE)
        .collect()
        .await;
    let parts: Vec<ClusterReport> = read
        .iter()
        .map(|(name, outcome)| ClusterReport {
            cluster: name.clone(),
            outcome: match outcome {
                Ok((snapshot, j)) => {
                    serde_json::from_str(&report::json_with(snapshot, &j.chains, &j.spcs))
                        .map(|mut r: serde_json::Value| {
                            // Read, but chains may be missing (pods or SPCs unread somewhere, or
                            // the view narrowed to one namespace): `clusters[].incomplete`.
                            r[merge::INCOMPLETE] = snapshot.incomplete().into();
                            r
                        })
                        .map_err(|e| format!("report of {name} unreadable: {e}"))
                }
                Err(why) => Err(why.clone()),
            },
        })
        .collect();
    let merged = merge::merge(&parts);
    let out = match args.output {
        OutputFormat::Json => {
            let mut s = serde_json::to_string_pretty(&merged)?;
            s.push('\n');
            s
        }
        _ => text(&read, &merged, super::check::wants_color(args)),
    };
    super::stdout::print(out)?;
    Ok(ExitCode::from(status(&read)))
}

/// The fleet's exit status: the worst cluster's, ranked as the single check ranks its own
/// (1 a finding `--fail-on` counts or an unread input, before 3 no verdict, before 0); a
/// cluster that could not be read has no verdict (3).
fn status(read: &[Read]) -> u8 {
    let rank = |s: u8| match s {
        1 => 2,
        EXIT_INCOMPLETE => 1,
        _ => 0,
    };
    read.iter()
        .map(|(_, o)| o.as_ref().map_or(EXIT_INCOMPLETE, |(_, j)| j.status))
        .max_by_key(|s| rank(*s))
        .unwrap_or(0)
}

/// One context: connect, one complete snapshot, diagnose and judge as a single `check` of it
/// would. Every failure is the gap's reason.
async fn read_one(
    args: &CheckArgs,
    rules: &crate::suppress::Rules,
    name: &str,
) -> Result<(Snapshot, Judged), String> {
    let kube = args.kube.for_context(name);
    let live = match live::connect(&kube, &args.azure).await {
        Ok(l) => l,
        Err(ConnectError::NoKubeconfig(why)) => return Err(format!("no cluster ({why})")),
        Err(ConnectError::Other(e)) => return Err(format!("{e:#}")),
    };
    if let Some(n) = live.notice() {
        crate::say!("kvchain: {name}: {n}");
    }
    let mut snapshot = live.snapshot().await;
    // A namespace the cluster does not have is a single check's input error: read as it is,
    // a typo would pass for a clean cluster (README "kvchain check"; audit MMM-out). In a
    // fleet it is said for that cluster, which then has no verdict.
    if let Some(ns) = &args.kube.namespace
        && let Some(why) = snapshot.absent_live_namespace(ns)
    {
        return Err(format!("-n {ns}: {why}"));
    }
    let chains = chain::diagnose(&snapshot);
    // A live cluster's Namespace annotations are not read (README "Suppressing findings").
    let judged = check::judge(args, &mut snapshot, chains, &Default::default(), rules);
    Ok((snapshot, judged))
}

/// The text report: the fleet line, the clusters that could not be read, then each cluster's
/// own report under its name.
fn text(read: &[Read], merged: &serde_json::Value, color: bool) -> String {
    let s = &merged["summary"];
    let failed: Vec<(&str, &str)> = read
        .iter()
        .filter_map(|(n, o)| o.as_ref().err().map(|why| (n.as_str(), why.as_str())))
        .collect();
    // Clusters read but without a verdict (pods unread somewhere, a stuck pod's events
    // unread): each section says so too, but the fleet's line is what a CI log shows first.
    let partial = read
        .iter()
        .filter(|(_, o)| {
            o.as_ref()
                .is_ok_and(|(snapshot, j)| report::undetermined(snapshot, &j.chains))
        })
        .count();
    let mut out = String::new();
    if !failed.is_empty() || partial > 0 {
        let mut what = Vec::new();
        if !failed.is_empty() {
            what.push(format!(
                "{} could not be read",
                crate::glance::plural(failed.len(), "cluster")
            ));
        }
        if partial > 0 {
            what.push(format!(
                "{} read without a verdict",
                crate::glance::plural(partial, "cluster")
            ));
        }
        let _ = write!(out, "INCOMPLETE: {} — ", what.join(", "));
    }
    let not_read = if partial > 0 {
        format!("{} not read, {partial} incomplete", failed.len())
    } else {
        format!("{} not read", failed.len())
    };
    let _ = write!(
        out,
        "kvchain check fleet: {} clusters ({not_read}): {} chains, {} errors, {} warnings, {} info",
        read.len(),
        s["chains"],
        s["errors"],
        s["warnings"],
        s["info"]
    );
    // What each cluster's headline counts apart is counted here too, as the JSON summary
    // sums it: "0 errors" over unverified chains is no clean bill (audit MMM-out).
    let count = |k: &str| s[k].as_u64().unwrap_or(0) as usize;
    if count("unverified") > 0 {
        let _ = write!(
            out,
            ", {} not verified ({} unknown: a read failed, listed below)",
            crate::glance::plural(count("unverified"), "chain"),
            crate::glance::plural(count("unknown_links"), "link")
        );
    }
    if count("blocked") > 0 {
        let _ = write!(out, ", {} blocked by a cause above", count("blocked"));
    }
    if count("suppressed") > 0 {
        let _ = write!(out, ", {} suppressed", count("suppressed"));
    }
    if count("hidden") > 0 {
        let _ = write!(out, " ({} hidden by --min-severity)", count("hidden"));
    }
    out.push('\n');
    if !failed.is_empty() {
        let _ = writeln!(out, "\nNot visible (these clusters could not be read)");
        for (name, why) in failed {
            // A context name is the kubeconfig's free string, and the reason repeats it: raw,
            // ESC[2J cleared the reader's screen and OSC 52 set the clipboard (audit XX5).
            // Escaped as every echoed value is, one line each (a line break would forge one).
            let _ = writeln!(out, "  cluster {}: {}", shown_line(name), shown_line(why));
        }
    }
    for (name, outcome) in read {
        if let Ok((snapshot, j)) = outcome {
            let _ = writeln!(out, "\n═══ cluster {}", shown_line(name));
            out.push_str(&report::text_with(snapshot, &j.chains, &j.spcs, color));
        }
    }
    out
}
