//! Each command's `--help` lists its own flags and no other command's (issue 14: every flag
//! used to be global), and the documented invocations still parse.

use super::*;

/// What `kvchain ARGS --help` prints.
fn help(args: &[&str]) -> String {
    let mut argv = vec!["kvchain"];
    argv.extend(args);
    argv.push("--help");
    let e = Cli::try_parse_from(argv).unwrap_err();
    assert_eq!(e.kind(), clap::error::ErrorKind::DisplayHelp, "{e}");
    e.to_string()
}

/// Each `--help` lists its command's flags and none that belong to another command
/// (issue 14: every flag used to be global, so every help listed all of them).
fn assert_help(args: &[&str], has: &[&str], lacks: &[&str]) {
    let h = help(args);
    let listed = flags(&h);
    for f in has {
        assert!(listed.contains(f), "{args:?} --help lacks {f}:\n{h}");
    }
    for f in lacks {
        assert!(!listed.contains(f), "{args:?} --help lists {f}:\n{h}");
    }
}

/// The long flags a help text lists (the option lines: `  -n, --namespace <NS>  …`).
fn flags(help: &str) -> Vec<&str> {
    help.lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with('-'))
        .flat_map(|l| l.split_whitespace().take(2))
        .map(|w| w.trim_end_matches(','))
        .filter(|w| w.starts_with("--"))
        .collect()
}

#[test]
fn demo_help_lists_only_demo_flags() {
    assert_help(
        &["demo"],
        &[
            "--list",
            "--snapshot",
            "--lesson",
            "--speed",
            "--theme",
            "--config",
            "--read-only",
            "--no-reveal",
        ],
        &[
            "--fail-on",
            "--output",
            "--kubeconfig",
            "--context",
            "--namespace",
            "--no-azure",
            "--listen",
            "--anonymize",
        ],
    );
}

#[test]
fn check_help_lists_only_check_flags() {
    assert_help(
        &["check"],
        &[
            "--filename",
            "--lab",
            "--snapshot",
            "--for",
            "--all-contexts",
            "--output",
            "--no-color",
            "--fail-on",
            "--min-severity",
            "--chain",
            "--config",
            "--kubeconfig",
            "--context",
            "--namespace",
            "--all-namespaces",
            "--request-timeout",
            "--subscription",
            "--no-azure",
            "--azure-refresh",
        ],
        &[
            "--speed",
            "--lesson",
            "--theme",
            "--read-only",
            "--no-reveal",
            "--listen",
            "--anonymize",
            "--list",
        ],
    );
}

#[test]
fn serve_help_lists_only_serve_flags() {
    assert_help(
        &["serve"],
        &[
            "--listen",
            "--kubeconfig",
            "--context",
            "--namespace",
            "--request-timeout",
            "--no-azure",
        ],
        &[
            "--fail-on",
            "--speed",
            "--lesson",
            "--lab",
            "--theme",
            "--read-only",
            "--anonymize",
        ],
    );
}

#[test]
fn snapshot_save_help_lists_only_its_flags() {
    assert_help(
        &["snapshot", "save"],
        &[
            "--output",
            "--anonymize",
            "--lab",
            "--kubeconfig",
            "--context",
            "--no-azure",
        ],
        &[
            "--fail-on",
            "--speed",
            "--lesson",
            "--listen",
            "--theme",
            "--read-only",
            "--for",
        ],
    );
}

#[test]
fn commands_without_a_source_list_no_source_flags() {
    for args in [&["explain"][..], &["codes"], &["completions"], &["man"]] {
        assert_help(
            args,
            &[],
            &[
                "--kubeconfig",
                "--context",
                "--no-azure",
                "--speed",
                "--theme",
                "--fail-on",
                "--listen",
            ],
        );
    }
    assert_help(&["codes"], &["--output", "--readme-table"], &[]);
}

#[test]
fn the_tui_help_lists_the_tui_flags_only() {
    assert_help(
        &[],
        &[
            "--kubeconfig",
            "--context",
            "--namespace",
            "--no-azure",
            "--azure-refresh",
            "--theme",
            "--config",
            "--read-only",
            "--no-reveal",
            "--speed",
        ],
        &[
            "--fail-on",
            "--lesson",
            "--listen",
            "--anonymize",
            "--min-severity",
        ],
    );
}

/// The invocations README.md and docs/scenarios.md show keep parsing.
#[test]
fn documented_invocations_still_parse() {
    for argv in [
        &["kvchain"][..],
        &[
            "kvchain",
            "--kubeconfig",
            "k",
            "--context",
            "c",
            "-n",
            "shop",
            "--no-azure",
            "--read-only",
            "--theme",
            "light",
            "--speed",
            "5",
        ],
        &["kvchain", "demo"],
        &["kvchain", "demo", "my-scenario.yaml", "--speed", "60"],
        &["kvchain", "demo", "--list"],
        &[
            "kvchain",
            "demo",
            "--lesson",
            "six-hops",
            "--read-only",
            "--no-reveal",
            "--theme",
            "light",
            "--config",
            "c.yaml",
        ],
        &["kvchain", "demo", "--snapshot", "snap.json"],
        &[
            "kvchain",
            "check",
            "-f",
            "deploy/",
            "-n",
            "shop",
            "-o",
            "junit",
            "--fail-on",
            "warning",
            "--no-color",
        ],
        &[
            "kvchain",
            "check",
            "--lab",
            "env-stale",
            "--for",
            "3m",
            "-o",
            "svg",
            "--chain",
            "orders",
        ],
        &[
            "kvchain",
            "check",
            "--snapshot",
            "snap.json",
            "--min-severity",
            "warning",
        ],
        &[
            "kvchain",
            "check",
            "-A",
            "--context",
            "c",
            "--no-azure",
            "--request-timeout",
            "5s",
            "--subscription",
            "s",
            "--azure-refresh",
            "5m",
            "--kubeconfig",
            "k",
        ],
        &["kvchain", "check", "--all-contexts", "--config", "c.yaml"],
        &[
            "kvchain",
            "snapshot",
            "save",
            "-o",
            "snap.json",
            "--anonymize",
        ],
        &["kvchain", "snapshot", "save", "--lab", "default"],
        &[
            "kvchain",
            "snapshot",
            "save",
            "--context",
            "c",
            "-n",
            "shop",
            "--no-azure",
        ],
        &[
            "kvchain",
            "serve",
            "--listen",
            "0.0.0.0:9717",
            "--request-timeout",
            "30s",
        ],
        &["kvchain", "explain", "KVC401"],
        &["kvchain", "codes", "-o", "json"],
        &["kvchain", "codes", "--readme-table"],
        &["kvchain", "completions", "zsh"],
        &["kvchain", "man"],
    ] {
        if let Err(e) = Cli::try_parse_from(argv) {
            panic!("{argv:?}: {e}");
        }
    }
}

#[test]
fn a_command_refuses_flags_of_another() {
    for argv in [
        &["kvchain", "check", "--speed", "5"][..],
        &["kvchain", "check", "--lesson", "six-hops"],
        &["kvchain", "check", "--read-only"],
        &["kvchain", "demo", "--fail-on", "warning"],
        &["kvchain", "demo", "--context", "c"],
        &["kvchain", "serve", "--theme", "light"],
        &["kvchain", "codes", "--kubeconfig", "k"],
    ] {
        let e = Cli::try_parse_from(argv).unwrap_err();
        assert_eq!(
            e.kind(),
            clap::error::ErrorKind::UnknownArgument,
            "{argv:?}: {e}"
        );
    }
    // The TUI's flags belong to the bare form: before a command they are refused, not
    // silently applied to it.
    let e = Cli::try_parse_from(["kvchain", "--no-azure", "check"]).unwrap_err();
    assert!(
        e.to_string()
            .contains("'check' cannot be used with '--no-azure'"),
        "{e}"
    );
}

#[test]
fn demo_keeps_namespace_out_of_help_but_reads_it_to_refuse_it() {
    let cli = Cli::try_parse_from(["kvchain", "demo", "-n", "shop"]).unwrap();
    let Some(Command::Demo(d)) = cli.command else {
        panic!()
    };
    assert_eq!(d.namespace.as_deref(), Some("shop"));
}
