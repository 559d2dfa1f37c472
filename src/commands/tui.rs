//! The TUI entry points: pick a source, hand it to the UI.

use std::process::ExitCode;

use crate::cli::Cli;
use crate::source;

/// `kvchain demo [SCENARIO] [--lesson NAME]`.
pub async fn run_lab(scenario: &str, cli: &Cli, lesson: Option<&str>) -> anyhow::Result<ExitCode> {
    // The config file may set the lab speed (the --speed flag wins); loading it here also
    // reports an invalid config before the lab starts.
    let speed = crate::ui::config::load(cli)?.lab_speed;
    // A built-in lesson brings its own scenario unless one is named.
    let scenario = match lesson.and_then(source::lab::lesson_scenario) {
        Some(own) if scenario == "default" => own,
        _ => scenario,
    };
    let lab = source::lab::open(scenario, speed)?;
    let lesson = match lesson {
        Some(name) => {
            let (l, target) = source::lab::find_lesson(&lab, name)
                .map_err(|e| crate::error::InputError::new(scenario, e))?;
            Some(source::lab::lesson::LessonRun::new(l, target))
        }
        None => None,
    };
    crate::ui::run_with_lesson(audited(Box::new(lab)), cli, lesson).await?;
    Ok(ExitCode::SUCCESS)
}

/// `kvchain demo --snapshot FILE`: a recorded snapshot, frozen.
pub async fn run_snapshot(file: &std::path::Path, cli: &Cli) -> anyhow::Result<ExitCode> {
    let snapshot = crate::snapshot::file::load(file)?;
    let frozen = source::frozen::FrozenSource::new(snapshot, &file.display().to_string());
    crate::ui::run(audited(Box::new(frozen)), cli).await?;
    Ok(ExitCode::SUCCESS)
}

/// `kvchain`: the current kube context, or the lab when no cluster is configured.
pub async fn run_default(cli: &Cli) -> anyhow::Result<ExitCode> {
    match source::live::connect(&cli.kube, &cli.azure).await {
        Ok(live) => {
            crate::ui::run(audited(Box::new(live)), cli).await?;
            Ok(ExitCode::SUCCESS)
        }
        Err(source::live::ConnectError::NoKubeconfig(why)) => {
            eprintln!(
                "kvchain: no cluster configured ({why}); opening the built-in lab, a simulation"
            );
            run_lab("default", cli, None).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Every action the UI sends is recorded on its way back, whatever the source.
fn audited(source: Box<dyn source::Source>) -> Box<dyn source::Source> {
    Box::new(source::audited::Audited::new(source, None))
}
