//! The TUI entry points: pick a source, hand it to the UI.

use std::process::ExitCode;

use crate::cli::Cli;
use crate::source;

/// `kvchain demo [SCENARIO]`.
pub async fn run_lab(scenario: &str, cli: &Cli) -> anyhow::Result<ExitCode> {
    // The config file may set the lab speed (the --speed flag wins); loading it here also
    // reports an invalid config before the lab starts.
    let speed = crate::ui::config::load(cli)?.lab_speed;
    let lab = source::lab::open(scenario, speed)?;
    crate::ui::run(audited(Box::new(lab)), cli).await?;
    Ok(ExitCode::SUCCESS)
}

/// `kvchain`: the current kube context, or the lab when no cluster is configured.
pub async fn run_default(cli: &Cli) -> anyhow::Result<ExitCode> {
    match source::live::connect(&cli.kube, &cli.azure).await {
        Ok(live) => {
            let live =
                source::live::switch::Switching::new(live, cli.kube.clone(), cli.azure.clone());
            crate::ui::run(audited(Box::new(live)), cli).await?;
            Ok(ExitCode::SUCCESS)
        }
        Err(source::live::ConnectError::NoKubeconfig(why)) => {
            eprintln!(
                "kvchain: no cluster configured ({why}); opening the built-in lab, a simulation"
            );
            run_lab("default", cli).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Every action the UI sends is recorded on its way back, whatever the source.
fn audited(source: Box<dyn source::Source>) -> Box<dyn source::Source> {
    Box::new(source::audited::Audited::new(source, None))
}
