//! `kvchain snapshot save`: record one observation to a file (see [`crate::snapshot::file`]).

use std::process::ExitCode;

use crate::cli::SnapshotCommand;
use crate::snapshot::{Gap, anonymize, file};
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
                    crate::input::InputError::new(
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
    // What could not be read is said as `check` says it, and an incomplete snapshot (pods or
    // SecretProviderClasses unread somewhere) exits 3 like `check`: "snapshot of 0 pods
    // written" and exit 0 read as an empty cluster (audit F10). The file is still written:
    // it records what was seen, gaps included, and `check --snapshot` reports them again.
    let gaps: Vec<Gap> = snapshot.gaps().into_iter().filter(|g| !g.chosen).collect();
    let incomplete = crate::snapshot::gaps::hiding_chains(&gaps, 3, Gap::what_where)
        .map(|hidden| format!("INCOMPLETE: {hidden} could not be read — "))
        .unwrap_or_default();
    match output {
        Some(path) => {
            std::fs::write(path, text)
                .map_err(|e| anyhow::anyhow!("{}: cannot write snapshot: {e}", path.display()))?;
            crate::say!(
                "kvchain: {incomplete}snapshot of {} pods written to {}{}",
                snapshot.pods.items.len(),
                path.display(),
                if *anon { " (anonymized)" } else { "" }
            );
        }
        None => {
            super::stdout::print(text)?;
            if !incomplete.is_empty() {
                crate::say!("kvchain: {incomplete}snapshot written to standard output");
            }
        }
    }
    if !gaps.is_empty() {
        crate::say!("{}", crate::report::not_visible(&gaps).trim());
    }
    Ok(if incomplete.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::check::EXIT_INCOMPLETE)
    })
}
