//! `kvchain check`: diagnose once and print text or JSON. Exit 0 (no error findings),
//! 1 (at least one error finding), 2 (usage or input error), 3 (incomplete: pods or
//! SecretProviderClasses could not be read somewhere, and no error was found in what could).

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::process::ExitCode;

use crate::chain::{self, Chain};
use crate::cli::{CheckArgs, Cli, OutputFormat};
use crate::error::InputError;
use crate::report;
use crate::snapshot::Snapshot;
use crate::source;

/// Exit status when what could be seen has no error but part of it could not be seen.
pub const EXIT_INCOMPLETE: u8 = 3;

pub async fn run(args: &CheckArgs, cli: &Cli) -> anyhow::Result<ExitCode> {
    if super::fleet::wanted(args, cli) {
        return super::fleet::run(args, cli).await;
    }
    let snapshot = if !args.files.is_empty() {
        source::manifests::load(&args.files)?
    } else if let Some(scenario) = &args.lab {
        source::lab::run_check(scenario, args.run_for)?
    } else {
        source::live::snapshot_once(&cli.kube, &cli.azure).await?
    };
    let started = std::time::Instant::now();
    let mut chains = chain::diagnose(&snapshot);
    // A live source already watches only `-n`; manifests and the lab hold every namespace.
    if (!args.files.is_empty() || args.lab.is_some())
        && let Some(ns) = &cli.kube.namespace
    {
        only_namespace(&snapshot, &mut chains, ns)?;
    }
    tracing::info!(
        source = %snapshot.source.label,
        pods = snapshot.pods.items.len(),
        chains = chains.len(),
        ms = started.elapsed().as_millis() as u64,
        "diagnosed"
    );
    let color = wants_color(args);
    let out = match args.output {
        OutputFormat::Text => report::text(&snapshot, &chains, color),
        OutputFormat::Json => report::json(&snapshot, &chains),
    };
    print!("{out}");
    Ok(if report::has_errors(&chains) {
        ExitCode::from(1)
    } else if snapshot.incomplete() {
        ExitCode::from(EXIT_INCOMPLETE)
    } else {
        ExitCode::SUCCESS
    })
}

/// Colour for text on a terminal, unless --no-color or NO_COLOR.
pub fn wants_color(args: &CheckArgs) -> bool {
    args.output == OutputFormat::Text
        && !args.no_color
        && std::env::var_os("NO_COLOR").is_none()
        && std::io::stdout().is_terminal()
}

/// `-n` with `-f`/`--lab`: keep that namespace's chains. A namespace the input does not
/// mention at all is a mistake worth saying (a typo would otherwise read as "all healthy").
fn only_namespace(snapshot: &Snapshot, chains: &mut Vec<Chain>, ns: &str) -> anyhow::Result<()> {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    seen.extend(snapshot.pods.items.iter().map(|p| p.namespace.as_str()));
    seen.extend(snapshot.spcs.items.iter().map(|s| s.namespace.as_str()));
    seen.extend(
        snapshot
            .workloads
            .items
            .iter()
            .map(|w| w.namespace.as_str()),
    );
    seen.extend(snapshot.secrets.items.iter().map(|s| s.namespace.as_str()));
    if !seen.contains(ns) {
        let known: Vec<&str> = seen.into_iter().collect();
        return Err(InputError::new(
            format!("-n {ns}"),
            format!(
                "the {} {} has no object in namespace {ns} (its namespaces: {})",
                snapshot.source.kind.as_str(),
                snapshot.source.label,
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ),
        )
        .into());
    }
    chains.retain(|c| c.namespace == ns);
    Ok(())
}
