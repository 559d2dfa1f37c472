//! The TUI entry points: pick a source, hand it to the UI.

use std::process::ExitCode;

use crate::cli::Cli;
use crate::source;

/// `kvchain demo [SCENARIO]`.
pub async fn run_lab(scenario: &str, cli: &Cli) -> anyhow::Result<ExitCode> {
    let lab = source::lab::open(scenario, cli.ui.speed)?;
    crate::ui::run(Box::new(lab), cli).await?;
    Ok(ExitCode::SUCCESS)
}

/// `kvchain`: the current kube context, or the lab when no cluster is configured.
pub async fn run_default(cli: &Cli) -> anyhow::Result<ExitCode> {
    match source::live::connect(&cli.kube, &cli.azure).await {
        Ok(live) => {
            crate::ui::run(Box::new(live), cli).await?;
            Ok(ExitCode::SUCCESS)
        }
        Err(source::live::ConnectError::NoKubeconfig(why)) => {
            eprintln!("kvchain: no cluster configured ({why}); opening the built-in lab");
            run_lab("default", cli).await
        }
        Err(e) => Err(e.into()),
    }
}
