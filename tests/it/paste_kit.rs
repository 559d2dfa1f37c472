//! Fixes run as pasted: bash (the shell they are written for: `<<<`, `read -s`) with
//! stand-ins for `az` and `kubectl` that log each call's arguments, one `[arg]` each, and
//! what kubectl reads on stdin (a `--patch-file /dev/stdin` patch). `az` answers by the
//! case arms the test gives, matched against its whole argument list; anything else prints
//! nothing, as a lookup that finds nothing does.

use std::path::Path;
use std::process::Command;

pub(crate) struct Pasted {
    /// One line per call: `az [a] [b] …`, `kubectl [a] …`, and `stdin <text>` after a kubectl
    /// call that read a patch from stdin.
    pub calls: Vec<String>,
    pub stdout: String,
    /// What bash traced (`set -x`) and printed on stderr.
    pub stderr: String,
}

impl Pasted {
    pub(crate) fn called(&self, prefix: &str) -> Vec<&str> {
        (self.calls.iter())
            .filter(|c| c.starts_with(prefix))
            .map(String::as_str)
            .collect()
    }
}

/// `fix` parsed by `bash -n` (must pass), then run by `bash -x` with `input` on stdin and
/// `az` answering `az_arms` (`case "$*" in` arms, e.g. `*"vmss show"*) echo x ;;`).
pub(crate) fn paste(fix: &str, az_arms: &str, input: &str) -> Pasted {
    paste_kube(fix, az_arms, "", input)
}

/// [`paste`], with `kubectl get` printing `kube_out`.
pub(crate) fn paste_kube(fix: &str, az_arms: &str, kube_out: &str, input: &str) -> Pasted {
    let parsed = Command::new("bash")
        .args(["-n", "-c", fix])
        .output()
        .unwrap();
    assert!(
        parsed.status.success(),
        "bash -n: {}\n{fix}",
        String::from_utf8_lossy(&parsed.stderr)
    );
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("calls");
    let log_args = "{ printf '%s' \"$0\" | sed 's|.*/||'; for a in \"$@\"; do printf ' [%s]' \"$a\"; done; printf '\\n'; } >> \"$CALLS\"\n";
    let stub = |name: &str, body: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, format!("#!/bin/bash\n{log_args}{body}")).unwrap();
        make_executable(&p);
    };
    stub("az", &format!("case \"$*\" in\n{az_arms}\nesac\n"));
    stub(
        "kubectl",
        "case \"$*\" in *--patch-file*) printf 'stdin %s\\n' \"$(cat)\" >> \"$CALLS\" ;; get*) printf %s \"$KUBE_OUT\" ;; esac\nexit 0\n",
    );
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap()
    );
    let mut child = Command::new("bash")
        .args(["-x", "-c", fix])
        .env("PATH", path)
        .env("CALLS", &log)
        .env("CLUSTER_RG", "rg-aks")
        // What a guard (`: "${IDENTITY_RG:?…}"`) asks the reader to set (audit XC-left).
        .env("IDENTITY_RG", "rg-id")
        // The cluster's name a guard asks for when the snapshot has none (audit XD-paste).
        .env("CLUSTER", "aks")
        .env("KUBE_OUT", kube_out)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    Pasted {
        calls: (std::fs::read_to_string(&log).unwrap_or_default().lines())
            .map(str::to_string)
            .collect(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn make_executable(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// An executable `$EDITOR` in `dir` that runs `sed -i <script>` on the file it is given.
pub(crate) fn sed_editor(dir: &Path, script: &str) -> String {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join("editor.sh");
    std::fs::write(&p, format!("#!/bin/bash\nsed -i '{script}' \"$1\"\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p.display().to_string()
}
