//! Every command that prints to stdout (README "Hostile input": never a panic): a reader that
//! has gone (`kvchain snapshot save | head -1`) ends the run quietly, as `check` does; a write
//! that fails otherwise (a full device) is a clear error with exit status 2.

use std::process::{Command, Output, Stdio};

/// Each command that writes its result to stdout.
const COMMANDS: [&[&str]; 10] = [
    &["codes"],
    &["codes", "-o", "json"],
    &["codes", "--readme-table"],
    &["explain", "KVC401"],
    &["snapshot", "save", "--lab", "healthy"],
    &["completions", "bash"],
    &["man"],
    &["demo", "--list"],
    &["check", "--lab", "healthy"],
    &["check", "--lab", "healthy", "-o", "json"],
];

fn run(args: &[&str], stdout: Stdio) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()
        .expect("run kvchain")
}

#[test]
fn a_closed_pipe_ends_quietly() {
    for args in COMMANDS {
        // The reading end is closed before kvchain writes: every write is EPIPE.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = run(args, Stdio::from(writer));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{args:?} exited {:?}: {err}",
            out.status.code()
        );
        assert!(
            !err.contains("Broken pipe"),
            "{args:?}: quiet, not an error: {err}"
        );
    }
}

#[test]
fn a_full_device_is_an_error_with_exit_2() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        return; // not Linux
    };
    for args in COMMANDS {
        let out = run(args, Stdio::from(full.try_clone().unwrap()));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("cannot write to stdout") && err.contains("No space left"),
            "{args:?}: {err}"
        );
    }
}

/// stderr on a full device: the error (or warning) cannot be said, but the exit status still
/// tells what happened, never 101 (a panic in `eprintln!`).
#[test]
fn a_full_stderr_keeps_the_exit_status() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        return; // not Linux
    };
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::net::UnixListener::bind(dir.path().join("a.yaml")).unwrap();
    // A manifest beside it: a directory holding none at all is an input error (exit 2).
    std::fs::write(
        dir.path().join("b.yaml"),
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app, namespace: shop}\n",
    )
    .unwrap();
    let cases: [(&[&str], i32); 3] = [
        // An error: exit 2.
        (&["check", "-f", "/nonexistent/kvchain"], 2),
        (&["check", "--lab", "healthy", "-n", "no-such-namespace"], 2),
        // A warning (a socket skipped), then no chain to diagnose: the run goes on to exit 0.
        (&["check", "-f", dir.path().to_str().unwrap()], 0),
    ];
    for (args, code) in cases {
        let out = Command::new(env!("CARGO_BIN_EXE_kvchain"))
            .args(args)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(full.try_clone().unwrap()))
            .output()
            .expect("run kvchain");
        assert_eq!(out.status.code(), Some(code), "{args:?}");
    }
}
