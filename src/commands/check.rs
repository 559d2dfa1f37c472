//! `kvchain check`: diagnose once and print text, JSON, SARIF, JUnit, Mermaid or SVG. Exit 0
//! (nothing `--fail-on` counts), 1 (an unsuppressed finding it counts, or an input document
//! that could not be read while others could), 2 (usage error, or nothing could be read),
//! 3 (incomplete: pods, SecretProviderClasses, workloads or Ingresses could not be read somewhere, and nothing
//! `--fail-on` counts was found in what could).

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use crate::chain::{self, Chain, SpcVerdict};
use crate::cli::{CheckArgs, OutputFormat, UiArgs};
use crate::input::InputError;
use crate::output::{self, Context};
use crate::report;
use crate::snapshot::{Gap, Snapshot};
use crate::source;
use crate::suppress::{NamespaceAnnotations, Rules};

/// Exit status when what could be seen has no error but part of it could not be seen.
pub const EXIT_INCOMPLETE: u8 = 3;

pub async fn run(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    if super::fleet::wanted(args) {
        return super::fleet::run(args).await;
    }
    single(args, &args.kube).await
}

/// One source: manifests, the lab, a snapshot file, or the cluster of `kube` (also a fleet
/// check that names one distinct context: the plain single-cluster report, every format).
pub async fn single(
    args: &CheckArgs,
    kube: &crate::source::args::KubeArgs,
) -> anyhow::Result<ExitCode> {
    // Manifests are read once: the load and the origin scan share the texts.
    let inputs = (!args.files.is_empty())
        .then(|| source::manifests::files::read(&args.files))
        .transpose()?;
    let mut snapshot = if let Some(inputs) = &inputs {
        source::manifests::load_inputs(inputs)?
    } else if let Some(file) = &args.snapshot {
        crate::snapshot::file::load(file)?
    } else if let Some(scenario) = &args.lab {
        source::lab::run_check(scenario, args.run_for)?
    } else {
        let _purge = crate::PromptPurge::start();
        source::live::snapshot_once(kube, &args.azure).await?
    };
    // Manifests: where each object is written (SARIF) and Namespace annotations (suppressions).
    let scan = inputs.as_ref().map(source::manifest_scan::scan);
    let rules = ignore_rules(args)?;
    let started = std::time::Instant::now();
    let mut chains = chain::diagnose(&snapshot);
    // A live source already watches only `-n`; manifests, the lab and a snapshot file hold
    // every namespace.
    let offline = !args.files.is_empty() || args.lab.is_some() || args.snapshot.is_some();
    if let Some(ns) = &args.kube.namespace {
        if offline {
            only_namespace(&snapshot, &mut chains, ns)?;
            snapshot.narrow_gaps_to(ns);
        } else if let Some(why) = snapshot.absent_live_namespace(ns) {
            return Err(InputError::new(format!("-n {ns}"), why).into());
        }
    }
    tracing::info!(
        source = %snapshot.source.label,
        pods = snapshot.pods.items.len(),
        chains = chains.len(),
        ms = started.elapsed().as_millis() as u64,
        "diagnosed"
    );
    let color = wants_color(args);
    let no_namespaces = Default::default();
    let namespaces = scan.as_ref().map_or(&no_namespaces, |s| &s.namespaces);
    let Judged {
        chains,
        spcs,
        status,
    } = judge(args, &mut snapshot, chains, namespaces, &rules);

    let base = std::env::current_dir().ok();
    let cx = Context {
        scan: scan.as_ref(),
        base: base.as_deref(),
        fail_on: args.fail_on,
        spcs: &spcs,
    };
    let out = match args.output {
        // Streamed below: a 10k-pod report is megabytes, never held whole.
        OutputFormat::Text | OutputFormat::Json => None,
        OutputFormat::Sarif => Some(output::sarif::render(&snapshot, &chains, &cx)),
        OutputFormat::Junit => Some(output::junit::render(&snapshot, &chains, &cx)),
        OutputFormat::Mermaid => {
            let drawn = match &args.chain {
                Some(id) => vec![pick_or_say_unseen(&snapshot, &chains, id)?],
                None => chains.iter().collect::<Vec<_>>(),
            };
            // `--chain` draws that chain alone; else the SPCs no chain mounts are drawn too.
            let lonely = if args.chain.is_some() { &[][..] } else { &spcs };
            Some(output::mermaid::render_with_gaps(
                &drawn,
                lonely,
                &unseen(&snapshot, args.chain.as_ref().and(drawn.first().copied())),
                &snapshot.source.unread,
            ))
        }
        OutputFormat::Svg => {
            let c = match &args.chain {
                Some(id) => pick_or_say_unseen(&snapshot, &chains, id)?,
                // The worst as shown: a chain failing the run before one only suppressed
                // findings break (audit NNN-out).
                None => match chains.iter().max_by_key(|c| c.shown_worst()) {
                    Some(c) => c,
                    // The SPCs no chain mounts that are not ok are named still: the run fails
                    // on them, and the picture that would have listed them is not drawn.
                    None => anyhow::bail!(
                        "no chain to draw: {}{}",
                        why_no_chain(&snapshot),
                        (output::svg::spc_lines(&spcs).iter())
                            .map(|l| format!("\n{l}"))
                            .collect::<String>()
                    ),
                },
            };
            // Without `--chain` the picture stands for the run: the SPCs no chain mounts are
            // named under it, as Mermaid draws them (audit NNN-out).
            let lonely = if args.chain.is_some() { &[][..] } else { &spcs };
            Some(output::svg::render_with_gaps(
                c,
                &unseen(&snapshot, Some(c)),
                &snapshot.source.unread,
                lonely,
            ))
        }
    };
    // `print!` panics when the reader has gone (`kvchain check | head -1`): a closed pipe is
    // the reader's choice, not an error; other write errors are.
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    let written = match out {
        Some(out) => stdout.write_all(out.as_bytes()),
        None if args.output == OutputFormat::Text => {
            report::write_text(&mut stdout, &snapshot, &chains, &spcs, color)
        }
        None => report::write_json(&mut stdout, &snapshot, &chains, &spcs),
    };
    super::stdout::done(written.and_then(|()| stdout.flush()))?;
    let code = ExitCode::from(status);
    // The process exits with this code: freeing the snapshot and the chains one allocation at
    // a time first bought nothing (0.16 s of `check --lab generated:100000`, sampled).
    std::mem::forget(chains);
    std::mem::forget(snapshot);
    Ok(code)
}

/// The config's `ignore:` rules (`--config`, else the XDG config file): only they matter to
/// `check`, no theme, keys or lab speed.
pub fn ignore_rules(args: &CheckArgs) -> anyhow::Result<Rules> {
    let config = crate::ui::config::load(&UiArgs {
        config: args.config.clone(),
        ..UiArgs::default()
    })?;
    Ok(config.ignore)
}

/// One diagnosis as `check` reports it: its chains and the SecretProviderClasses no chain
/// mounts, suppressions marked and `--min-severity` applied, and the exit status it makes.
pub struct Judged {
    pub chains: Vec<Chain>,
    pub spcs: Vec<SpcVerdict>,
    /// 0, 1 or [`EXIT_INCOMPLETE`], as the module's header says.
    pub status: u8,
}

/// What every `check` does to a diagnosis, whatever its source (and per cluster of a fleet):
/// check the SecretProviderClasses no chain mounts on their own (their mistakes wait for the
/// pod), mark suppressions (annotations and `ignore:` rules, on chains and on those SPCs
/// alike), decide the exit status per `--fail-on` over every finding, then hide what
/// `--min-severity` hides, counting it in `snapshot.source.hidden`.
pub fn judge(
    args: &CheckArgs,
    snapshot: &mut Snapshot,
    mut chains: Vec<Chain>,
    namespaces: &NamespaceAnnotations,
    rules: &Rules,
) -> Judged {
    let mut spcs = chain::unmounted_spcs(snapshot, &chains);
    if let Some(ns) = args.kube.namespace.as_deref() {
        spcs.retain(|s| s.namespace == ns);
    }
    crate::suppress::apply(snapshot, namespaces, rules, &mut chains);
    crate::suppress::apply_spcs(snapshot, namespaces, rules, &mut spcs);
    let failed = output::fails(&chains, args.fail_on)
        || spcs
            .iter()
            .flat_map(|s| &s.findings)
            .any(|f| f.suppressed.is_none() && args.fail_on.fails(f.severity))
        || !snapshot.source.unread.is_empty();
    snapshot.source.hidden = output::hidden(&chains, &spcs, args.min_severity, args.fail_on);
    output::filter_min_severity(&mut chains, args.min_severity);
    let min = args.min_severity.severity();
    for s in &mut spcs {
        s.findings.retain(|f| f.severity >= min);
    }
    let status = if failed {
        1
    } else if report::undetermined(snapshot, &chains) {
        EXIT_INCOMPLETE
    } else {
        0
    };
    Judged {
        chains,
        spcs,
        status,
    }
}

/// Colour for text on a terminal, unless --no-color or NO_COLOR.
pub fn wants_color(args: &CheckArgs) -> bool {
    args.output == OutputFormat::Text
        && !args.no_color
        && std::env::var_os("NO_COLOR").is_none()
        && std::io::stdout().is_terminal()
}

/// `-n` with `-f`, `--lab` or `--snapshot`: keep that namespace's chains. A namespace the
/// input does not mention at all is a mistake worth saying (a typo would otherwise read as
/// "all healthy").
fn only_namespace(snapshot: &Snapshot, chains: &mut Vec<Chain>, ns: &str) -> anyhow::Result<()> {
    if let Some(why) = snapshot.missing_namespace(ns) {
        return Err(InputError::new(format!("-n {ns}"), crate::shown::shown_string(why)).into());
    }
    chains.retain(|c| c.namespace == ns);
    Ok(())
}

/// The gaps a picture names: those that failed (what the source cannot hold, or `--no-azure`,
/// the links' own summaries say), for `--chain` only those covering the chain's namespace.
fn unseen(snapshot: &Snapshot, chain: Option<&Chain>) -> Vec<Gap> {
    snapshot
        .gaps()
        .into_iter()
        .filter(|g| !g.chosen && chain.is_none_or(|c| g.covers(&c.namespace)))
        .collect()
}

/// Why there is no chain at all: unread pods or SecretProviderClasses (named, where, why) are
/// not the same as none mounting a CSI volume.
fn why_no_chain(snapshot: &Snapshot) -> String {
    let gaps = snapshot.gaps();
    let unread = &snapshot.source.unread;
    match crate::snapshot::gaps::hiding_chains(&gaps, 5, Gap::describe) {
        Some(hidden) => format!("could not read {hidden}; the chains behind that may exist"),
        None if !unread.is_empty() => format!(
            "no pod that could be read mounts a Secrets Store CSI volume; not read: {}",
            crate::shown::shown(&unread.join("; "))
        ),
        None => "no pod mounts a Secrets Store CSI volume".to_string(),
    }
}

/// [`pick`], saying in its error what could not be read: the chain asked for may be behind it.
fn pick_or_say_unseen<'a>(
    snapshot: &Snapshot,
    chains: &'a [Chain],
    id: &str,
) -> anyhow::Result<&'a Chain> {
    pick(chains, id).map_err(|e| {
        let gaps = snapshot.gaps();
        match crate::snapshot::gaps::hiding_chains(&gaps, 5, Gap::describe) {
            Some(hidden) => {
                anyhow::anyhow!("{e}; could not read {hidden}: the chain may be behind that")
            }
            None => e,
        }
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
