//! `kvchain check`: diagnose once and print text or JSON. Exit 0 (no error findings),
//! 1 (at least one error finding), 2 (usage or input error).

use std::io::{IsTerminal, Write};
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
    let out = match args.output {
        OutputFormat::Text => report::text(&snapshot, &chains, color),
        OutputFormat::Json => report::json(&snapshot, &chains),
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
    Ok(if report::has_errors(&chains) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
