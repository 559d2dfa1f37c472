//! The TUI entry points: pick a source, hand it to the UI.

use std::process::ExitCode;

use crate::cli::{Cli, UiArgs};
use crate::source;

/// `kvchain demo [SCENARIO] [--lesson NAME]`.
pub async fn run_lab(
    scenario: &str,
    ui: &UiArgs,
    lesson: Option<&str>,
) -> anyhow::Result<ExitCode> {
    open_lab(scenario, ui, lesson, None).await
}

/// The lab; `fallback` says why it opened instead of a cluster (shown until dismissed).
async fn open_lab(
    scenario: &str,
    ui: &UiArgs,
    lesson: Option<&str>,
    fallback: Option<String>,
) -> anyhow::Result<ExitCode> {
    // The config file may set the lab speed (the --speed flag wins); loading it here also
    // reports an invalid config before the lab starts.
    let config = crate::ui::config::load(ui)?;
    if let Some(name) = lesson
        && config.read_only
    {
        anyhow::bail!(lesson_read_only(name, ui.read_only, config.file.as_deref()));
    }
    let speed = config.lab_speed;
    // A built-in lesson brings its own scenario unless one is named.
    let scenario = match lesson.and_then(source::lab::lesson_scenario) {
        Some(own) if scenario == "default" => own,
        _ => scenario,
    };
    // `kvchain demo NAME` names no --lab flag: its mistyped scenario is `demo`'s argument
    // (it said `--lab: unknown scenario …`, audit XB-users).
    let lab = source::lab::open(scenario, speed).map_err(|e| {
        match e.downcast::<crate::input::InputError>() {
            Ok(mut e) => {
                if e.location == "--lab" {
                    e.location = "demo".into();
                }
                anyhow::Error::new(e)
            }
            Err(e) => e,
        }
    })?;
    let lesson = match lesson {
        Some(name) => {
            let run = source::lab::lesson::start(&lab, name)
                .map_err(|e| crate::input::InputError::new(scenario, e))?;
            Some(run)
        }
        None => None,
    };
    crate::ui::run_full(audited(Box::new(lab)), ui, fallback, lesson).await?;
    Ok(ExitCode::SUCCESS)
}

/// Why a lesson is refused read-only. Its steps apply faults and ask the class to repair them
/// from the break menu (`b`) and to restart or rotate (`R`, `M`), which read-only disables:
/// run so, a lesson would break the lab and wait for ever for repairs nobody may make. The
/// trainer learns it at the command line, not in front of the class.
fn lesson_read_only(name: &str, flag: bool, file: Option<&std::path::Path>) -> String {
    let (whence, way_out) = match file.filter(|_| !flag) {
        Some(f) => (
            format!("read_only: true in {}", f.display()),
            "--config naming a config without read_only",
        ),
        None => ("--read-only".to_string(), "without --read-only"),
    };
    format!(
        "--lesson {name} with {whence}: a lesson breaks links and asks the class to repair them \
         from the break menu (b) and to restart or rotate (R, M), which read-only disables; the \
         lab is a simulation, nothing it does reaches a cluster or Azure: run the lesson {way_out}"
    )
}

/// `kvchain demo --snapshot FILE`: a recorded snapshot, frozen.
pub async fn run_snapshot(file: &std::path::Path, ui: &UiArgs) -> anyhow::Result<ExitCode> {
    let snapshot = crate::snapshot::file::load(file)?;
    let frozen = source::frozen::FrozenSource::new(snapshot, &file.display().to_string());
    crate::ui::run(audited(Box::new(frozen)), ui).await?;
    Ok(ExitCode::SUCCESS)
}

/// `kvchain`: the current kube context, or the lab when no cluster is configured.
pub async fn run_default(cli: &Cli) -> anyhow::Result<ExitCode> {
    // Reading the kubeconfig is quick; the API server may not answer for long, so the UI
    // starts first and says what it is waiting for.
    match source::live::prepare(&cli.kube).await {
        Ok(c) => {
            let (label, server) = (c.label.clone(), c.endpoint.server.clone());
            let connecting = source::connecting::Connecting::new(
                label,
                server,
                reacher(c, &cli.kube, &cli.azure),
            );
            crate::ui::run(audited(Box::new(connecting)), &cli.ui).await?;
            Ok(ExitCode::SUCCESS)
        }
        Err(source::live::ConnectError::NoKubeconfig(why)) => {
            tracing::info!("no cluster configured ({why}); opening the built-in lab");
            open_lab("default", &cli.ui, None, Some(why.looked_for.join("; "))).await
        }
        Err(e) => Err(e.into()),
    }
}

/// One attempt to reach the cluster `c` names, made again for every retry: a server that
/// refuses now may answer later (a VPN coming up, an API server restarting).
pub fn reacher(
    c: source::live::Connection,
    kube: &crate::source::args::KubeArgs,
    azure: &crate::source::args::AzureArgs,
) -> source::connecting::Reacher {
    let (kube, azure) = (kube.clone(), azure.clone());
    Box::new(move || {
        let (c, kube, azure) = (c.clone(), kube.clone(), azure.clone());
        Box::pin(async move {
            match source::live::open(c, &kube, &azure).await {
                Ok(live) => {
                    let live = source::live::switch::Switching::new(live, kube, azure);
                    Ok(Box::new(live) as Box<dyn source::Source>)
                }
                Err(e) => Err(e.to_string()),
            }
        })
    })
}

/// Every action the UI sends is recorded on its way back, whatever the source.
fn audited(source: Box<dyn source::Source>) -> Box<dyn source::Source> {
    Box::new(source::audited::Audited::new(source, None))
}
