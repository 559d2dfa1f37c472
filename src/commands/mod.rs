//! What each command line does. Thin: sources, diagnosis, report and UI do the work.

pub mod check;
pub mod docs;
pub mod fleet;
pub mod serve;
pub mod snapshot;
pub mod stdout;
pub mod tui;

use std::process::ExitCode;

use crate::cli::{Cli, Command, DemoArgs};

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Some(Command::Check(args)) => check::run(args).await,
        Some(Command::Serve(args)) => serve::run(args).await,
        Some(Command::Demo(DemoArgs {
            scenario,
            list,
            snapshot,
            lesson,
            namespace,
            ui,
        })) => {
            // The lab holds several namespaces and the TUI filters them itself; ignoring -n
            // silently would show more than was asked for.
            if let Some(ns) = namespace {
                anyhow::bail!(
                    "-n {ns}: `kvchain demo` shows every namespace of the lab; open it and type `:ns {ns}`"
                );
            }
            if let Some(file) = snapshot {
                return tui::run_snapshot(file, ui).await;
            }
            if *list {
                let mut list = String::new();
                for (name, title) in crate::source::lab::builtin_scenarios() {
                    list.push_str(&format!("{name:<24} {title}\n"));
                }
                stdout::print(list)?;
                return Ok(ExitCode::SUCCESS);
            }
            tui::run_lab(scenario, ui, lesson.as_deref()).await
        }
        Some(Command::Explain { code }) => docs::explain(code),
        Some(Command::Codes {
            output,
            readme_table,
        }) => docs::codes(*output, *readme_table),
        Some(Command::Completions { shell }) => docs::completions(*shell),
        Some(Command::Man) => docs::man(),
        Some(Command::Snapshot(cmd)) => snapshot::run(cmd).await,
        None => tui::run_default(&cli).await,
    }
}
