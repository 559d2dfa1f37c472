//! Audit XD-paste: no printed command reads a shell variable that nothing sets. Pasted with it
//! unset, bash expands it to nothing (`az aks show -g "" …`) or runs the first half of a chain
//! before the second fails; under `set -u` it stops with `X: unbound variable`. A variable is
//! either set earlier in the same text, filled from the snapshot, or guarded at the head of
//! the line (`: "${X:?set X to …}"`), which stops the whole line and names it (bash manual,
//! "Shell Parameter Expansion": `${parameter:?word}` writes word to the standard error and a
//! non-interactive shell exits).

use std::collections::BTreeSet;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::iii_paste::{bash_present, check_json};
use crate::xc_paste::{in_four, lab_worlds};

/// Stand-ins for the programs the commands run, as shell functions: `az` answers `az_does`
/// (nothing, a word, `true` for an `= true` test, or a failure for the `||` branches), the
/// rest succeed with no output.
pub(crate) fn stubs(az_does: &str) -> String {
    format!(
        "az() {{ {az_does} }}; kubectl() {{ return 0; }}; helm() {{ return 0; }}; jq() {{ return 0; }}; base64() {{ return 0; }}\n"
    )
}

const AZ_ANSWERS: [&str; 4] = ["return 0;", "echo x;", "echo true;", "return 1;"];

/// `text` run by `bash -u` in an empty directory with only PATH (and an editor that does
/// nothing) set, under each of [`AZ_ANSWERS`]: what stops it on a variable. A guard that stops
/// it naming its variable (`X: set X to …`) is the variable set, and the text runs again with
/// it; a variable read unset, or a guard that does not say which variable to set, is a fault.
fn unset_reads(text: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let mut faults = Vec::new();
    for az in AZ_ANSWERS {
        let mut set: Vec<String> = Vec::new();
        for _ in 0..12 {
            let mut cmd = Command::new("timeout");
            cmd.args(["20", "bash", "-u", "-c", &format!("{}{text}", stubs(az))])
                .current_dir(dir.path())
                .env_clear()
                .env("PATH", "/usr/bin:/bin")
                .env("EDITOR", "true")
                .stdin(Stdio::null());
            for v in &set {
                cmd.env(v, "x");
            }
            let out = cmd.output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            if let Some(v) = stderr
                .lines()
                .find_map(|l| l.strip_suffix(": unbound variable"))
            {
                faults.push(format!("{} read unset", v.rsplit(' ').next().unwrap_or(v)));
                break;
            }
            // `bash: line 1: X: set X to …`
            let guard = stderr.lines().find_map(|l| {
                let (_, rest) = l.split_once("line ")?;
                let (_, rest) = rest.split_once(": ")?;
                let (name, message) = rest.split_once(": ")?;
                (!name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
                    .then(|| (name.to_string(), message.to_string()))
            });
            match guard {
                // What a stand-in for a program not stubbed says: no variable stopped it.
                Some((_, message))
                    if message == "command not found" || message == "No such file or directory" =>
                {
                    break;
                }
                Some((name, message))
                    if !set.contains(&name) && message.starts_with(&format!("set {name} to ")) =>
                {
                    set.push(name)
                }
                // A lookup az answered with nothing, held in a variable and stopped there with
                // what printed nothing (`NODE_RG: az aks show printed no …`, audit XE-paste):
                // the loud stop the line should make, not a variable left unset.
                Some((_, message))
                    if matches!(az, "return 0;" | "return 1;")
                        && message.starts_with("az ")
                        && message.contains(" printed no ") =>
                {
                    break;
                }
                Some((name, message)) => {
                    faults.push(format!("{name} stops the line: {message}"));
                    break;
                }
                None => break,
            }
        }
    }
    faults.sort();
    faults.dedup();
    faults
}

/// Every confirm and fix of `check <args>`, with where it came from.
fn texts_of(args: &[&str], out: &mut BTreeSet<(String, String)>) {
    let r = check_json(args);
    for f in r["findings"].as_array().into_iter().flatten() {
        for k in ["confirm", "fix"] {
            if let Some(t) = f[k].as_str().filter(|t| t.contains('$')) {
                out.insert((t.to_string(), format!("{} {} {k}", args[1], f["code"])));
            }
        }
    }
}

/// XD1, the net: every confirm and fix of the built-in scenarios, the lab fixtures of the tests
/// and the shipped examples (`check -f`), pasted into `bash -u` with az, kubectl, helm, jq and
/// base64 standing in, reads no variable it leaves unset, whichever way az answers; the only
/// stops are guards naming the variable to set.
#[test]
fn no_pasted_command_reads_a_variable_nothing_sets() {
    if !bash_present() {
        return;
    }
    let worlds = lab_worlds();
    assert!(worlds.len() > 100, "{}", worlds.len());
    let mut examples = Vec::new();
    for dir in ["assets/examples/broken", "assets/examples/healthy"] {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            examples.push(e.path().to_string_lossy().into_owned());
        }
    }
    let runs: Vec<[&str; 2]> = (worlds.iter().map(|w| ["--lab", w.as_str()]))
        .chain(examples.iter().map(|f| ["-f", f.as_str()]))
        .collect();
    let texts: BTreeSet<(String, String)> = in_four(&runs, |args| {
        let mut texts = BTreeSet::new();
        texts_of(args, &mut texts);
        texts.into_iter().collect()
    })
    .into_iter()
    .collect();
    assert!(texts.len() > 15, "{}", texts.len());
    // One text once, wherever it was printed.
    let mut seen = BTreeSet::new();
    let texts: Vec<&(String, String)> = texts.iter().filter(|(t, _)| seen.insert(t)).collect();
    let found = in_four(&texts, |(t, at)| {
        (unset_reads(t).into_iter())
            .map(|f| format!("{at}: {f}\n  {t}"))
            .collect()
    });
    assert!(found.is_empty(), "{found:#?}");
}

/// XD2: `check -f` sees no cluster (its resource group and name are nowhere in manifests): the
/// node identity's KVC303 confirm reads them as variables, guarded at the head of the line.
/// Pasted unset, nothing runs and bash names the variable to set; set, az gets them.
#[test]
fn a_manifests_check_guards_the_cluster_it_cannot_name() {
    if !bash_present() {
        return;
    }
    let r = check_json(&["-f", "assets/examples/broken/ledger.yaml"]);
    let confirm = (r["findings"].as_array().unwrap().iter())
        .filter(|f| f["code"] == "KVC303")
        .find_map(|f| f["confirm"].as_str())
        .unwrap_or_else(|| panic!("no KVC303: {r:#}"));
    assert!(
        confirm.starts_with(": \"${CLUSTER_RG:?set CLUSTER_RG to ")
            && confirm.contains(" \"${CLUSTER:?set CLUSTER to ")
            && confirm.contains(" && az aks show -g \"$CLUSTER_RG\" -n \"$CLUSTER\" "),
        "{confirm}"
    );
    let paste = |vars: &[(&str, &str)]| {
        let out = Command::new("bash")
            .args([
                "-c",
                &format!("az() {{ printf '%s\\n' az \"$@\"; }}\n{confirm}"),
            ])
            .env_remove("CLUSTER_RG")
            .env_remove("CLUSTER")
            .envs(vars.iter().copied())
            .output()
            .unwrap();
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (calls, stderr) = paste(&[]);
    assert!(calls.is_empty(), "{calls}");
    assert!(
        stderr.contains("CLUSTER_RG: set CLUSTER_RG to the resource group of the AKS cluster"),
        "{stderr}"
    );
    let (calls, _) = paste(&[("CLUSTER_RG", "rg-aks"), ("CLUSTER", "aks-shop")]);
    assert!(
        calls.starts_with("az\naks\nshow\n-g\nrg-aks\n-n\naks-shop\n"),
        "{calls}"
    );
}

/// The KVC601 finding of lab `world`, as JSON.
fn kvc601(world: &str) -> Value {
    let r = check_json(&["--lab", world]);
    assert!(!r.to_string().contains("CANARY-"), "{r}");
    (r["findings"].as_array().unwrap().iter())
        .find(|f| f["code"] == "KVC601")
        .cloned()
        .unwrap_or_else(|| panic!("no KVC601: {r:#}"))
}

/// The versions a KVC601's evidence lists (`versions: a, b, c`, newest first).
fn versions(f: &Value) -> Vec<String> {
    let line = (f["evidence"].as_array().unwrap().iter())
        .filter_map(Value::as_str)
        .find_map(|e| e.strip_prefix("versions: "))
        .unwrap_or_else(|| panic!("{f:#}"));
    line.split(", ").map(str::to_string).collect()
}

/// XD3: objectVersion pins a version db-password never had; the vault holds three, the newest
/// disabled (FACTS §5: a disabled version is refused 403 SecretDisabled; "" asks for the
/// latest). The vault was read, so the fix names what to set: the enabled versions, the newer
/// first, and says "" would fail as well; "an existing version" left the reader to look.
#[test]
fn a_pin_the_vault_lacks_is_fixed_with_the_enabled_versions_it_has() {
    let f = kvc601("tests/fixtures/lab/xd-paste-pin-versions.yaml");
    let fix = f["fix"].as_str().unwrap();
    let v = versions(&f);
    assert_eq!(v.len(), 3, "{f:#}");
    let (latest, newer, older) = (&v[0], &v[1], &v[2]);
    assert!(
        fix.contains(&format!(
            "objects[0].objectVersion: an enabled version it has: {newer}, {older} (newest first; the latest, {latest}, is disabled, so \"\" fails too)"
        )),
        "{fix}"
    );
    assert!(!fix.contains("an existing version"), "{fix}");
}

/// XD4: the same pin where the vault's one version is enabled: "" (the latest) stays the first
/// choice, the version it is named beside it.
#[test]
fn a_pin_the_vault_lacks_keeps_the_latest_first_when_it_is_enabled() {
    let f = kvc601("tests/fixtures/lab/xb-facts-pinned-missing-version.yaml");
    let fix = f["fix"].as_str().unwrap();
    let v = versions(&f);
    assert!(
        fix.ends_with(&format!(
            "# objects[0].objectVersion: \"\" (the latest) or an enabled version it has: {} (newest first)",
            v[0]
        )),
        "{fix}"
    );
}

/// `text` after the guards at its head (`: "${X:?set X to …}" … && `): what a test of the
/// command itself reads, the guards being this audit's (XD5).
pub(crate) fn after_guards(text: &str) -> &str {
    match text.strip_prefix(": \"${") {
        Some(rest) => rest
            .split_once("}\" && ")
            .map_or(text, |(_, command)| command),
        None => text,
    }
}

#[test]
fn after_guards_is_the_command_the_guards_precede() {
    assert_eq!(
        after_guards(": \"${A:?set A to a}\" \"${B:?set B to b}\" && az x -g \"$A\""),
        "az x -g \"$A\""
    );
    assert_eq!(after_guards("az x"), "az x");
}
