//! Inputs that panicked, hung or blew up kvchain, found by the fuzz targets (`fuzz/`) or
//! while writing them, each pinned here as the clear error or the correct output it now gives.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs the binary in `dir`; a run still going after 60 s is killed and fails the test. Its
/// output goes to files: a report larger than a pipe's buffer would block it on a full pipe.
fn kvchain(args: &[&str], dir: &Path) -> Output {
    let out = tempfile::tempfile().unwrap();
    let err = tempfile::tempfile().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(err.try_clone().unwrap())
        .spawn()
        .expect("run kvchain");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("kvchain {args:?} still running after 60 s: it hangs");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let read = |mut f: std::fs::File| {
        let mut bytes = Vec::new();
        f.seek(SeekFrom::Start(0)).unwrap();
        f.read_to_end(&mut bytes).unwrap();
        bytes
    };
    Output {
        status,
        stdout: read(out),
        stderr: read(err),
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The lab's `scenario` recorded as a snapshot file in `dir`, as its text.
fn recorded(dir: &Path, scenario: &str) -> String {
    let out = kvchain(
        &["snapshot", "save", "--lab", scenario, "-o", "base.json"],
        dir,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::read_to_string(dir.join("base.json")).unwrap()
}

/// `text` with the driver's rotation poll interval (the recording's `2m`) set to `poll`.
fn with_poll(text: &str, poll: &str) -> String {
    let was = "\"rotation_poll_interval\": \"2m\"";
    assert!(text.contains(was), "the recording has no 2m poll interval");
    text.replace(was, &format!("\"rotation_poll_interval\": \"{poll}\""))
}

/// Found reading the poll interval's arithmetic for the `snapshot` fuzz target: a snapshot
/// whose poll interval is u64::MAX seconds panicked `check --snapshot` ("overflow when multiplying duration by scalar": two polls of
/// it). It is longer than any Go duration, so no driver ran with it: the file is refused,
/// naming itself and the field.
#[test]
fn a_poll_interval_no_driver_can_have_is_refused_naming_file_and_field() {
    let d = tempfile::tempdir().unwrap();
    let base = recorded(d.path(), "env-stale");
    std::fs::write(
        d.path().join("s.json"),
        with_poll(&base, "18446744073709551615s"),
    )
    .unwrap();
    let out = kvchain(&["check", "--snapshot", "s.json"], d.path());
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains("s.json")
            && err.contains("snapshot.cluster.csi_driver.value.rotation_poll_interval")
            && err.contains("longer than any rotation poll interval the driver can run with"),
        "{err}"
    );

    let e = kvchain::snapshot::file::from_str(&with_poll(&base, "600000000years"))
        .err()
        .expect("refused");
    assert!(
        e.starts_with(
            "invalid snapshot: snapshot.cluster.csi_driver.value.rotation_poll_interval (line "
        ),
        "{e}"
    );
}

/// The longest interval a driver can run with (Go's `time.Duration` maximum) is diagnosed:
/// every rule's poll arithmetic (two polls, a poll plus slack, reads per poll) holds it.
#[test]
fn the_longest_poll_interval_a_driver_can_have_is_diagnosed() {
    let d = tempfile::tempdir().unwrap();
    for scenario in ["env-stale", "throttling", "default"] {
        let base = recorded(d.path(), scenario);
        let file = format!("{scenario}.json");
        std::fs::write(
            d.path().join(&file),
            with_poll(&base, "2562047h 47m 16s 854ms 775us 807ns"),
        )
        .unwrap();
        for format in ["text", "json"] {
            let out = kvchain(&["check", "--snapshot", &file, "-o", format], d.path());
            let err = stderr(&out);
            assert!(
                matches!(out.status.code(), Some(0 | 1 | 3)),
                "{scenario} -o {format}: {err}"
            );
            let report = String::from_utf8_lossy(&out.stdout);
            assert!(
                report.contains("shop"),
                "{scenario} -o {format}: no report:\n{report}"
            );
        }
    }
}
