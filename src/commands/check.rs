//! `kvchain check`: diagnose once and print text or JSON. Exit 0 (no error findings),
//! 1 (at least one error finding, or an input document that could not be read while others
//! could), 2 (usage error, or nothing could be read), 3 (incomplete: pods or
//! SecretProviderClasses could not be read somewhere, and no error was found in what could).

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
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
    let color = args.output == OutputFormat::Text
        && !args.no_color
        && std::env::var_os("NO_COLOR").is_none()
        && std::io::stdout().is_terminal();
    // SecretProviderClasses no pod mounts are still checked: their mistakes wait for the pod.
    let mut spcs = chain::unmounted_spcs(&snapshot, &chains);
    if let Some(ns) = cli.kube.namespace.as_deref() {
        spcs.retain(|s| s.namespace == ns);
    }
    let out = match args.output {
        OutputFormat::Text => report::text_with(&snapshot, &chains, &spcs, color),
        OutputFormat::Json => report::json_with(&snapshot, &chains, &spcs),
    };
    // `print!` panics when the reader has gone (`kvchain check | head -1`): a closed pipe is
    // the reader's choice, not an error; other write errors are.
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(e.into());
    }
    Ok(if report::fails(&snapshot, &chains, &spcs) {
        ExitCode::from(1)
    } else if snapshot.incomplete() {
        ExitCode::from(EXIT_INCOMPLETE)
    } else {
        ExitCode::SUCCESS
    })
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
