//! Inputs that panicked, hung or blew up kvchain, found by the fuzz targets (`fuzz/`) or
//! while writing them, each pinned here as the clear error or the correct output it now gives.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs the binary in `dir`; a run still going after 60 s is killed and fails the test (a
/// hang must not hang the suite too). Its output goes to files: a report larger than a pipe's
/// buffer would block it on a full pipe, and read as a hang.
pub(crate) fn kvchain(args: &[&str], dir: &Path) -> Output {
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
        .expect_err("refused");
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

const WEB: &str = include_str!("../../assets/examples/healthy/web.yaml");

/// `assets/examples/healthy/web.yaml` (a Deployment whose env reads the synced Secret, with a
/// Reloader annotation) as a StatefulSet of `replicas` with `strategy` (its YAML lines).
fn stateful_web(replicas: &str, strategy: &str) -> String {
    let text = WEB
        .replace("kind: Deployment", "kind: StatefulSet")
        .replace(
            "  replicas: 2\n",
            &format!("  replicas: {replicas}\n  serviceName: web\n  updateStrategy:\n{strategy}"),
        );
    assert!(text.contains("kind: StatefulSet") && text.contains("serviceName"));
    text
}

/// `check -f` on `text` (as `web.yaml` in `dir`) with `-o json`: the exit code and the fix of
/// its KVC902 finding (Reloader's restart does not reach the pods).
fn kvc902_fix(dir: &Path, text: &str) -> (Option<i32>, String, usize) {
    std::fs::write(dir.join("web.yaml"), text).unwrap();
    let out = kvchain(&["check", "-f", "web.yaml", "-o", "json"], dir);
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    let fix = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "KVC902")
        .unwrap_or_else(|| panic!("no KVC902: {report:#}"))["fix"]
        .as_str()
        .unwrap()
        .to_string();
    (out.status.code(), fix, out.stdout.len())
}

/// Found reading the manifests path's counts while the fuzz targets built: a StatefulSet's `replicas` and `rollingUpdate.partition` of
/// 2^31 - 1 made KVC902's fix name every pod below the partition, two billion names: `check
/// -f` on a 60-line manifest aborted on a 51 GB allocation. Over ten pods the fix makes the
/// names when pasted (`seq`), as a big owner's pod delete already did.
#[test]
fn a_partition_of_two_billion_pods_is_one_command_not_two_billion_names() {
    let d = tempfile::tempdir().unwrap();
    let partition = "    type: RollingUpdate\n    rollingUpdate:\n      partition: 2147483647\n";
    let (code, fix, len) = kvc902_fix(d.path(), &stateful_web("2147483647", partition));
    assert_eq!(code, Some(0), "a warning does not fail check");
    assert!(
        fix.contains("kubectl delete pod $(seq 0 2147483646 | sed 's/^/web-/') -n shop"),
        "{fix}"
    );
    assert!(len < 64 << 10, "a report of {len} bytes");

    // A few pods are still named one by one.
    let partition = partition.replace("2147483647", "3");
    let (_, fix, _) = kvc902_fix(d.path(), &stateful_web("5", &partition));
    assert!(
        fix.contains("kubectl delete pod web-0 web-1 web-2 -n shop"),
        "{fix}"
    );
}

/// The same for an OnDelete StatefulSet of 2^31 - 1 replicas, whose fix deletes every pod.
#[test]
fn an_on_delete_set_of_two_billion_pods_is_one_command_not_two_billion_names() {
    let d = tempfile::tempdir().unwrap();
    let (code, fix, len) = kvc902_fix(
        d.path(),
        &stateful_web("2147483647", "    type: OnDelete\n"),
    );
    assert_eq!(code, Some(0), "a warning does not fail check");
    assert!(
        fix.starts_with("kubectl delete pod $(seq 0 2147483646 | sed 's/^/web-/') -n shop"),
        "{fix}"
    );
    assert!(len < 64 << 10, "a report of {len} bytes");
}
