//! Command line: `kvchain` (TUI), `kvchain demo`, `kvchain check`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use clap_complete::engine::ArgValueCandidates;

pub use crate::source::args::parse_duration;
use crate::source::args::{AzureArgs, KubeArgs};

pub mod complete;

#[derive(Debug, Parser)]
#[command(
    name = "kvchain",
    version,
    about = "See the AKS secret chain — Pod → ServiceAccount → federated identity → Key Vault → CSI mount → synced Secret — and every broken link, live.",
    after_help = "Without a command kvchain opens the TUI on the current kube context, or on the built-in lab when no cluster is configured.",
    // Each command owns its flags (its help lists only those): the TUI's flags go without a
    // command, a command's flags after it.
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The TUI's flags (`kvchain` without a command).
    #[command(flatten)]
    pub kube: KubeArgs,
    #[command(flatten)]
    pub azure: AzureArgs,
    #[command(flatten)]
    pub ui: UiArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the TUI on the built-in lab (no cluster or Azure needed).
    Demo(DemoArgs),
    /// Diagnose once and print the findings (manifests with -f, the lab with --lab, else the live cluster).
    Check(CheckArgs),
    /// Explain a finding code: what it means, why it happens, how to confirm and fix it.
    Explain {
        /// The code, e.g. KVC401.
        #[arg(value_name = "CODE")]
        code: String,
    },
    /// List the finding codes.
    Codes {
        #[arg(short, long, value_enum, default_value_t = CodesFormat::Text)]
        output: CodesFormat,
        /// Print the README "Finding codes" table (Markdown) instead.
        #[arg(long)]
        readme_table: bool,
    },
    /// Print a shell completion script (completes --context from the kubeconfig and scenario names too).
    Completions {
        #[arg(value_enum)]
        shell: CompletionShell,
    },
    /// Print the man page (roff), generated from the command line definition.
    Man,
    /// Record what a source observes to a file, to share and replay (`check --snapshot`).
    #[command(subcommand)]
    Snapshot(SnapshotCommand),
    /// Watch the live cluster continuously and serve /metrics, /report.json, /healthz, /readyz (read-only).
    Serve(ServeArgs),
}

#[derive(Debug, Subcommand)]
pub enum SnapshotCommand {
    /// Save one observation (the live cluster, or the lab with --lab) as a versioned JSON file.
    Save {
        #[command(flatten)]
        kube: KubeArgs,
        #[command(flatten)]
        azure: AzureArgs,
        /// Output file (default: stdout).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Replace names, ids, tenants and URLs by consistent pseudonyms (for bug reports).
        #[arg(long)]
        anonymize: bool,
        /// Record the lab on this scenario instead of the live cluster.
        #[arg(long, value_name = "SCENARIO", add = ArgValueCandidates::new(complete::scenarios))]
        lab: Option<String>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CodesFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Scenario file, built-in scenario name (`default`, see `--list`), or `generated:N`.
    #[arg(default_value = "default", add = ArgValueCandidates::new(complete::scenarios))]
    pub scenario: String,
    /// List the built-in scenarios and exit.
    #[arg(long)]
    pub list: bool,
    /// Show a saved snapshot file instead (frozen: no refresh, actions disabled).
    #[arg(long, value_name = "FILE", conflicts_with = "list")]
    pub snapshot: Option<PathBuf>,
    /// Run a lesson: its steps in a pane, each ending when its check passes (or on `n`).
    /// A built-in lesson (six-hops, rotation) brings its own scenario. Not with --read-only:
    /// its steps break and repair the lab.
    #[arg(long, value_name = "NAME", conflicts_with = "snapshot")]
    pub lesson: Option<String>,
    /// Not a demo flag: accepted only to say how the TUI filters a namespace (`:ns NAME`).
    #[arg(short = 'n', long, value_name = "NS", hide = true)]
    pub namespace: Option<String>,
    #[command(flatten)]
    pub ui: UiArgs,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:9717")]
    pub listen: std::net::SocketAddr,
    /// Config file: its `ignore` rules (default: <config dir>/kvchain/config.yaml).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub kube: KubeArgs,
    #[command(flatten)]
    pub azure: AzureArgs,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Manifest files or directories (YAML, multi-document, `List` kinds); `-` reads stdin.
    /// One `-f` takes several paths (`-f a.yaml b.yaml`, as pre-commit passes them).
    #[arg(
        short = 'f',
        long = "filename",
        value_name = "PATH",
        num_args = 1..,
        conflicts_with = "lab"
    )]
    pub files: Vec<PathBuf>,
    /// Run the lab on a scenario (file, built-in name, or `generated:N`) and diagnose it.
    #[arg(long, value_name = "SCENARIO", add = ArgValueCandidates::new(complete::scenarios))]
    pub lab: Option<String>,
    /// Diagnose a saved snapshot file (`kvchain snapshot save`) offline.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["files", "lab"])]
    pub snapshot: Option<PathBuf>,
    /// With --lab: lab time to run before diagnosing (default: until nothing changes for two poll intervals).
    #[arg(long = "for", value_name = "DURATION", value_parser = parse_duration, requires = "lab")]
    pub run_for: Option<Duration>,
    /// Every context of the kubeconfig (like repeating --context for each).
    #[arg(long, conflicts_with_all = ["files", "lab"])]
    pub all_contexts: bool,
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// Never colour the text output (NO_COLOR is honoured too).
    #[arg(long)]
    pub no_color: bool,
    /// Which unsuppressed findings make the exit status 1.
    #[arg(long, value_enum, value_name = "LEVEL", default_value_t = crate::output::FailOn::Error)]
    pub fail_on: crate::output::FailOn,
    /// Print only findings of this severity or worse (the exit status still counts all).
    #[arg(long, value_enum, value_name = "LEVEL", default_value_t = crate::output::MinSeverity::Info)]
    pub min_severity: crate::output::MinSeverity,
    /// With -o svg/mermaid: the chain to draw (`namespace/pod/spc`, or a unique part of it).
    #[arg(long, value_name = "ID")]
    pub chain: Option<String>,
    /// Config file: its `ignore` rules (default: <config dir>/kvchain/config.yaml).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub kube: KubeArgs,
    #[command(flatten)]
    pub azure: AzureArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
    /// SARIF 2.1.0, for code-scanning UIs.
    Sarif,
    /// JUnit XML: one test case per chain.
    Junit,
    /// Mermaid flowchart of the chains (or of --chain).
    Mermaid,
    /// SVG picture of one chain (--chain; default: the worst).
    Svg,
}

#[derive(Debug, Args, Default, Clone)]
#[command(next_help_heading = "TUI")]
pub struct UiArgs {
    /// Theme name: built-in (default, light, high-contrast) or a file in the config directory.
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
    /// Config file (default: <config dir>/kvchain/config.yaml).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Disable every write action (rotate, restart).
    #[arg(long)]
    pub read_only: bool,
    /// Never reveal secret values, even on request.
    #[arg(long)]
    pub no_reveal: bool,
    /// Lab clock speed (lab seconds per real second, 0.1 to 3600).
    #[arg(long, value_name = "FACTOR", value_parser = parse_speed)]
    pub speed: Option<f64>,
}

/// Parse the process arguments. Installed as `kubectl-kvchain` (krew), kubectl runs it as
/// `kubectl kvchain …`: help and usage then say so.
pub fn parse_args() -> Cli {
    use clap::{CommandFactory, FromArgMatches};
    let argv0 = std::env::args_os().next();
    let mut cmd = Cli::command();
    if let Some(bin) = plugin_bin_name(argv0.as_deref()) {
        cmd = cmd.bin_name(bin);
    }
    let matches = cmd.get_matches_mut();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    if let Some(Command::Check(c)) = &cli.command
        && let Some(why) = for_without_lab(c)
    {
        // The error on `check` itself, so that its usage line is the one printed.
        let kind = clap::error::ErrorKind::ArgumentConflict;
        match cmd.find_subcommand_mut("check") {
            Some(check) => check.error(kind, why).exit(),
            None => cmd.error(kind, why).exit(),
        }
    }
    cli
}

/// `--for` with `-f` or `--snapshot`: clap lets it through (`requires = "lab"` is waived when a
/// flag that conflicts with `--lab` is given), but nothing would run for that time, and
/// accepting it silently would let the user believe it did.
fn for_without_lab(c: &CheckArgs) -> Option<String> {
    let input = if !c.files.is_empty() {
        "manifests (-f) are read as written"
    } else if c.snapshot.is_some() {
        "a snapshot (--snapshot) is a moment already recorded"
    } else {
        return None;
    };
    c.run_for.is_some().then(|| {
        format!(
            "--for is the lab time to run before diagnosing (it needs --lab); {input}: nothing runs, drop --for"
        )
    })
}

/// `kubectl kvchain` when the executable is named `kubectl-kvchain` (any directory, `.exe`).
pub fn plugin_bin_name(argv0: Option<&std::ffi::OsStr>) -> Option<&'static str> {
    let stem = std::path::Path::new(argv0?).file_stem()?.to_str()?;
    (stem == "kubectl-kvchain").then_some("kubectl kvchain")
}

/// `--speed`: a number within the lab clock's bounds; outside them it is refused as
/// `--azure-refresh` is, never clamped silently.
pub fn parse_speed(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number (examples: 30, 0.5, 600)"))?;
    crate::source::lab::clock::check_speed(v)
}

#[cfg(test)]
mod help_tests;

#[cfg(test)]
mod tests {
    use super::*;

    fn check(cli: Cli) -> CheckArgs {
        match cli.command {
            Some(Command::Check(c)) => c,
            other => panic!("not check: {other:?}"),
        }
    }

    #[test]
    fn check_flags_parse_like_kubectl() {
        let cli = Cli::try_parse_from([
            "kvchain", "check", "-f", "a.yaml", "-f", "dir", "-o", "json", "-n", "payments",
        ])
        .unwrap();
        let Some(Command::Check(c)) = cli.command else {
            panic!()
        };
        assert_eq!(c.files.len(), 2);
        assert_eq!(c.output, OutputFormat::Json);
        assert_eq!(c.kube.namespace.as_deref(), Some("payments"));
    }

    #[test]
    fn request_timeout_is_spelled_like_kubectl() {
        let t = |s: &str| {
            let cli = Cli::try_parse_from(["kvchain", "check", "--request-timeout", s])?;
            Ok::<_, clap::Error>(check(cli).kube.request_limit())
        };
        assert_eq!(t("5s").unwrap(), Some(Duration::from_secs(5)));
        assert_eq!(t("1m").unwrap(), Some(Duration::from_secs(60)));
        assert_eq!(
            t("7").unwrap(),
            Some(Duration::from_secs(7)),
            "bare seconds"
        );
        assert_eq!(t("0").unwrap(), None, "0 waits as long as it takes");
        assert!(t("soon").is_err());
        let default = Cli::try_parse_from(["kvchain", "check"]).unwrap();
        assert_eq!(check(default).kube.request_limit(), None);
    }

    #[test]
    fn named_kubectl_kvchain_it_presents_itself_as_a_kubectl_plugin() {
        use std::ffi::OsStr;
        assert_eq!(
            plugin_bin_name(Some(OsStr::new("/home/u/.krew/bin/kubectl-kvchain"))),
            Some("kubectl kvchain")
        );
        assert_eq!(
            plugin_bin_name(Some(OsStr::new("kubectl-kvchain.exe"))),
            Some("kubectl kvchain")
        );
        assert_eq!(plugin_bin_name(Some(OsStr::new("/usr/bin/kvchain"))), None);
        // kubectl passes its own flag spellings through: they parse the same.
        let cli = Cli::try_parse_from([
            "kubectl-kvchain",
            "check",
            "--context",
            "aks-prod",
            "-n",
            "shop",
            "-o",
            "sarif",
        ])
        .unwrap();
        assert_eq!(check(cli).kube.context(), Some("aks-prod"));
    }

    #[test]
    fn several_contexts_or_all_contexts_for_a_fleet_check() {
        let cli =
            Cli::try_parse_from(["kvchain", "check", "--context", "a", "--context", "b"]).unwrap();
        let kube = check(cli).kube;
        assert_eq!(kube.context, ["a", "b"]);
        assert_eq!(kube.for_context("b").context(), Some("b"));
        let cli = Cli::try_parse_from(["kvchain", "check", "--all-contexts"]).unwrap();
        let Some(Command::Check(c)) = cli.command else {
            panic!()
        };
        assert!(c.all_contexts);
        assert!(Cli::try_parse_from(["kvchain", "check", "--all-contexts", "--lab", "x"]).is_err());
    }

    /// README: `-f PATH...`; the shipped pre-commit hook passes every changed file after one `-f`.
    #[test]
    fn one_f_takes_several_paths_and_stdin() {
        let c = check(
            Cli::try_parse_from([
                "kvchain", "check", "-f", "a.yaml", "b.yaml", "-", "-o", "json", "-f", "c",
            ])
            .unwrap(),
        );
        assert_eq!(c.files, ["a.yaml", "b.yaml", "-", "c"].map(PathBuf::from));
        assert_eq!(c.output, OutputFormat::Json);
    }

    #[test]
    fn for_is_refused_with_manifests_or_a_snapshot_saying_why() {
        for input in [["-f", "dir"], ["--snapshot", "s.json"]] {
            let mut args = vec!["kvchain", "check", "--for", "3m"];
            args.extend(input);
            let c = check(Cli::try_parse_from(args).unwrap());
            let why = for_without_lab(&c).expect("refused");
            assert!(
                why.contains("needs --lab") && why.contains("nothing runs"),
                "{why}"
            );
        }
        let lab =
            check(Cli::try_parse_from(["kvchain", "check", "--lab", "x", "--for", "3m"]).unwrap());
        assert_eq!(for_without_lab(&lab), None);
    }

    #[test]
    fn for_requires_lab_and_files_conflict_with_lab() {
        assert!(Cli::try_parse_from(["kvchain", "check", "--for", "5m"]).is_err());
        assert!(Cli::try_parse_from(["kvchain", "check", "--lab", "default", "-f", "x"]).is_err());
        let cli =
            Cli::try_parse_from(["kvchain", "check", "--lab", "default", "--for", "5m"]).unwrap();
        let Some(Command::Check(c)) = cli.command else {
            panic!()
        };
        assert_eq!(c.run_for, Some(Duration::from_secs(300)));
    }

    #[test]
    fn azure_refresh_is_capped_instead_of_overflowing_timers() {
        let e = Cli::try_parse_from(["kvchain", "--azure-refresh", "10000000000000000000s"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("24h"), "{e}");
        assert!(Cli::try_parse_from(["kvchain", "--azure-refresh", "5m"]).is_ok());
    }

    /// Audit EEE14: a speed outside the lab clock's bounds is refused with them, as
    /// `--azure-refresh` is, never clamped silently to a speed nobody asked for.
    #[test]
    fn a_speed_out_of_bounds_is_refused_naming_the_bound() {
        let err = |argv: &[&str]| Cli::try_parse_from(argv).unwrap_err().to_string();
        let e = err(&["kvchain", "demo", "--speed", "5000"]);
        assert!(
            e.contains("5000") && e.contains("above the maximum ×3600"),
            "{e}"
        );
        let e = err(&["kvchain", "--speed", "0.05"]);
        assert!(
            e.contains("0.05") && e.contains("below the minimum ×0.1"),
            "{e}"
        );
        let e = err(&["kvchain", "demo", "--speed", "0"]);
        assert!(e.contains("positive"), "{e}");
        for ok in ["0.1", "3600", "60"] {
            assert!(
                Cli::try_parse_from(["kvchain", "demo", "--speed", ok]).is_ok(),
                "{ok}"
            );
        }
    }
}
