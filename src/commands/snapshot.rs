//! `kvchain snapshot save`: record one observation to a file (see [`crate::snapshot::file`]).

use std::process::ExitCode;

use crate::cli::SnapshotCommand;
use crate::snapshot::{anonymize, file};
use crate::source;

pub async fn run(cmd: &SnapshotCommand) -> anyhow::Result<ExitCode> {
    let SnapshotCommand::Save {
        output,
        anonymize: anon,
        lab,
        kube,
        azure,
    } = cmd;
    let snapshot = match lab {
        Some(scenario) => {
            let mut snapshot = source::lab::run_check(scenario, None)?;
            // The lab holds every namespace; a live source watches only `-n`'s.
            if let Some(ns) = &kube.namespace {
                snapshot.keep_namespace(ns).map_err(|why| {
                    crate::error::InputError::new(
                        format!("-n {ns}"),
                        crate::shown::shown_string(why),
                    )
                })?;
            }
            snapshot
        }
        None => source::live::snapshot_once(kube, azure).await?,
    };
    let snapshot = if *anon {
        anonymize::anonymize(&snapshot)?
    } else {
        snapshot
    };
    let text = file::to_string(&snapshot, *anon)?;
    match output {
        Some(path) => {
            std::fs::write(path, text)
                .map_err(|e| anyhow::anyhow!("{}: cannot write snapshot: {e}", path.display()))?;
            crate::say!(
                "kvchain: snapshot of {} pods written to {}{}",
                snapshot.pods.items.len(),
                path.display(),
                if *anon { " (anonymized)" } else { "" }
            );
        }
        None => super::stdout::print(text)?,
    }
    Ok(ExitCode::SUCCESS)
}
