//! The TUI entry points: pick a source, hand it to the UI.

use std::process::ExitCode;

use crate::cli::Cli;
use crate::source;

/// `kvchain demo [SCENARIO]`.
pub async fn run_lab(scenario: &str, cli: &Cli) -> anyhow::Result<ExitCode> {
    open_lab(scenario, cli, None).await
}

/// The lab; `fallback` says why it opened instead of a cluster (shown until dismissed).
async fn open_lab(scenario: &str, cli: &Cli, fallback: Option<String>) -> anyhow::Result<ExitCode> {
    // The config file may set the lab speed (the --speed flag wins); loading it here also
    // reports an invalid config before the lab starts.
    let speed = crate::ui::config::load(cli)?.lab_speed;
    let lab = source::lab::open(scenario, speed)?;
    crate::ui::run_with(audited(Box::new(lab)), cli, fallback).await?;
    Ok(ExitCode::SUCCESS)
}

/// `kvchain`: the current kube context, or the lab when no cluster is configured.
pub async fn run_default(cli: &Cli) -> anyhow::Result<ExitCode> {
    // Reading the kubeconfig is quick; the API server may not answer for long, so the UI
    // starts first and says what it is waiting for.
    match source::live::connect::connect(&cli.kube).await {
        Ok(c) => {
            let (label, server) = (c.label.clone(), c.server.clone());
            let (kube, azure) = (cli.kube.clone(), cli.azure.clone());
            let reach: source::connecting::Reach = Box::pin(async move {
                match source::live::reach(c, &kube, &azure).await {
                    Ok(live) => Ok(Box::new(live) as Box<dyn source::Source>),
                    Err(e) => Err(e.to_string()),
                }
            });
            let connecting = source::connecting::Connecting::new(label, server, reach);
            crate::ui::run(audited(Box::new(connecting)), cli).await?;
            Ok(ExitCode::SUCCESS)
        }
        Err(source::live::ConnectError::NoKubeconfig(why)) => {
            tracing::info!("no cluster configured ({why}); opening the built-in lab");
            open_lab("default", cli, Some(why)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Every action the UI sends is recorded on its way back, whatever the source.
fn audited(source: Box<dyn source::Source>) -> Box<dyn source::Source> {
    Box::new(source::audited::Audited::new(source, None))
}
