//! What each command line does. Thin: sources, diagnosis, report and UI do the work.

pub mod check;
pub mod fleet;
pub mod serve;
pub mod tui;

use std::process::ExitCode;

use crate::cli::{Cli, Command};

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Some(Command::Check(args)) => check::run(args, &cli).await,
        Some(Command::Serve(args)) => serve::run(args, &cli).await,
        Some(Command::Demo { scenario, list }) => {
            // The lab holds several namespaces and the TUI filters them itself; ignoring -n
            // silently would show more than was asked for.
            if let Some(ns) = &cli.kube.namespace {
                anyhow::bail!(
                    "-n {ns}: `kvchain demo` shows every namespace of the lab; open it and type `:ns {ns}`"
                );
            }
            if *list {
                for (name, title) in crate::source::lab::builtin_scenarios() {
                    println!("{name:<24} {title}");
                }
                return Ok(ExitCode::SUCCESS);
            }
            tui::run_lab(scenario, &cli).await
        }
        None => tui::run_default(&cli).await,
    }
}
