//! `kvchain check`: diagnose once and print text, JSON, SARIF, JUnit, Mermaid or SVG. Exit 0
//! (nothing `--fail-on` counts), 1 (an unsuppressed finding it counts), 2 (usage or input error).

use std::io::IsTerminal;
use std::process::ExitCode;

use crate::chain::{self, Chain};
use crate::cli::{CheckArgs, Cli, OutputFormat};
use crate::output::{self, Context};
use crate::report;
use crate::source;

pub async fn run(args: &CheckArgs, cli: &Cli) -> anyhow::Result<ExitCode> {
    let snapshot = if !args.files.is_empty() {
        source::manifests::load(&args.files)?
    } else if let Some(file) = &args.snapshot {
        crate::snapshot::file::load(file)?
    } else if let Some(scenario) = &args.lab {
        source::lab::run_check(scenario, args.run_for)?
    } else {
        source::live::snapshot_once(&cli.kube, &cli.azure).await?
    };
    // Manifests: where each object is written (SARIF) and Namespace annotations (suppressions).
    let scan = (!args.files.is_empty()).then(|| source::manifest_scan::scan(&args.files));
    let config = crate::ui::config::load(cli)?;
    let started = std::time::Instant::now();
    let mut chains = chain::diagnose(&snapshot);
    tracing::info!(
        source = %snapshot.source.label,
        pods = snapshot.pods.items.len(),
        chains = chains.len(),
        ms = started.elapsed().as_millis() as u64,
        "diagnosed"
    );
    let no_namespaces = Default::default();
    let namespaces = scan.as_ref().map_or(&no_namespaces, |s| &s.namespaces);
    crate::suppress::apply(&snapshot, namespaces, &config.ignore, &mut chains);
    let failed = output::fails(&chains, args.fail_on);
    output::filter_min_severity(&mut chains, args.min_severity);

    let color = args.output == OutputFormat::Text
        && !args.no_color
        && std::env::var_os("NO_COLOR").is_none()
        && std::io::stdout().is_terminal();
    let base = std::env::current_dir().ok();
    let cx = Context {
        scan: scan.as_ref(),
        base: base.as_deref(),
        fail_on: args.fail_on,
    };
    let out = match args.output {
        OutputFormat::Text => report::text(&snapshot, &chains, color),
        OutputFormat::Json => report::json(&snapshot, &chains),
        OutputFormat::Sarif => output::sarif::render(&snapshot, &chains, &cx),
        OutputFormat::Junit => output::junit::render(&snapshot, &chains, &cx),
        OutputFormat::Mermaid => match &args.chain {
            Some(id) => output::mermaid::render(&[pick(&chains, id)?]),
            None => output::mermaid::render(&chains.iter().collect::<Vec<_>>()),
        },
        OutputFormat::Svg => match &args.chain {
            Some(id) => output::svg::render(pick(&chains, id)?),
            None => match chains.iter().max_by_key(|c| c.worst()) {
                Some(c) => output::svg::render(c),
                None => anyhow::bail!("no chain to draw: no pod mounts a Secrets Store CSI volume"),
            },
        },
    };
    print!("{out}");
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The chain `--chain` names: its exact id, else the one chain whose id contains the text.
pub fn pick<'a>(chains: &'a [Chain], id: &str) -> anyhow::Result<&'a Chain> {
    if let Some(c) = chains.iter().find(|c| c.id == id) {
        return Ok(c);
    }
    let hits: Vec<&Chain> = chains.iter().filter(|c| c.id.contains(id)).collect();
    match hits.as_slice() {
        [one] => Ok(one),
        [] => anyhow::bail!(
            "--chain {id}: no such chain (ids: {})",
            chains
                .iter()
                .map(|c| c.id.as_str())
                .take(10)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        many => anyhow::bail!(
            "--chain {id}: {} chains match ({}); give the full namespace/pod/spc id",
            many.len(),
            many.iter()
                .map(|c| c.id.as_str())
                .take(5)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
