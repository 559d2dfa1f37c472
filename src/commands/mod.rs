//! What each command line does. Thin: sources, diagnosis, report and UI do the work.

pub mod check;
pub mod tui;

use std::process::ExitCode;

use crate::cli::{Cli, Command};

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Some(Command::Check(args)) => check::run(args, &cli).await,
        Some(Command::Demo {
            scenario,
            list,
            lesson,
        }) => {
            if *list {
                for (name, title) in crate::source::lab::builtin_scenarios() {
                    println!("{name:<24} {title}");
                }
                return Ok(ExitCode::SUCCESS);
            }
            tui::run_lab(scenario, &cli, lesson.as_deref()).await
        }
        None => tui::run_default(&cli).await,
    }
}
