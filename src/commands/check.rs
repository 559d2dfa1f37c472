//! `kvchain check`: diagnose once and print text or JSON. Exit 0 (no error findings),
//! 1 (at least one error finding, or an input document that could not be read while others
//! could), 2 (usage error, or nothing could be read).

use std::io::IsTerminal;
use std::process::ExitCode;

use crate::chain;
use crate::cli::{CheckArgs, Cli, OutputFormat};
use crate::report;
use crate::source;

pub async fn run(args: &CheckArgs, cli: &Cli) -> anyhow::Result<ExitCode> {
    let snapshot = if !args.files.is_empty() {
        source::manifests::load(&args.files)?
    } else if let Some(scenario) = &args.lab {
        source::lab::run_check(scenario, args.run_for)?
    } else {
        source::live::snapshot_once(&cli.kube, &cli.azure).await?
    };
    let started = std::time::Instant::now();
    let chains = chain::diagnose(&snapshot);
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
    let spcs = chain::unmounted_spcs(&snapshot, &chains);
    let out = match args.output {
        OutputFormat::Text => report::text_with(&snapshot, &chains, &spcs, color),
        OutputFormat::Json => report::json_with(&snapshot, &chains, &spcs),
    };
    print!("{out}");
    Ok(if report::fails(&snapshot, &chains, &spcs) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
