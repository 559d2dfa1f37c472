//! Audit XC-paste: every command kvchain prints works when pasted. Each test asserts a command
//! in the form the CLI it calls documents, for the world that produced it.
//!
//! The AKS add-on's driver flags: the Azure CLI reference lists `az aks addon` under the
//! aks-preview extension ("This reference is part of the aks-preview extension"), not the
//! Azure CLI itself; `az aks update` carries `--enable-secret-rotation` and
//! `--rotation-poll-interval` ("Use with azure-keyvault-secrets-provider addon") in the CLI as
//! installed (azure-cli 2.91: `az aks addon update` answers "'addon' is misspelled or not
//! recognized by the system").

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Code, Finding};
use kvchain::snapshot::*;
use serde_json::Value;

use crate::iii_paste::check_json;
use crate::rules_runtime::{csi, run};

/// The `code` finding's fix in `check` output `r`.
fn fix_of<'r>(r: &'r Value, code: &str) -> &'r str {
    (r["findings"].as_array().unwrap().iter())
        .find(|f| f["code"] == code)
        .and_then(|f| f["fix"].as_str())
        .unwrap_or_else(|| panic!("no {code}: {r:#}"))
}

/// XC1: the built-in `rotation-disabled` lab, its driver the AKS add-on with rotation off:
/// KVC702's fix turns rotation on with the Azure CLI's own `az aks update`, naming the lab's
/// cluster and its resource group.
#[test]
fn the_add_ons_rotation_is_turned_on_by_a_command_of_the_azure_cli_itself() {
    let r = check_json(&["--lab", "rotation-disabled"]);
    let fix = fix_of(&r, "KVC702");
    assert!(
        fix.starts_with("az aks update -g rg-kvchain-lab -n aks-shop-lab --enable-secret-rotation"),
        "{fix}"
    );
    assert!(!fix.contains("az aks addon"), "{fix}");
}

/// Rotation on, the add-on's driver polling every `poll_secs`, 24 pods on 24 nodes throttled
/// by Key Vault: the load is spread, so KVC704's fix lengthens the interval (rules_throttling).
fn throttled_add_on(install: Option<DriverInstall>) -> Finding {
    let mut s = tk::empty();
    tk::add_app(&mut s, NS, APP, 24);
    for (i, p) in s.pods.items.iter_mut().enumerate() {
        p.node = Some(format!("aks-nodepool1-12345678-vmss{i:06}").into());
    }
    csi(&mut s).rotation_enabled = Observed::Known(true);
    csi(&mut s).rotation_poll_interval = std::time::Duration::from_secs(120);
    csi(&mut s).install = install;
    crate::rules_throttling::throttled_rotation(&mut s);
    (run(&s).iter().flat_map(|c| c.findings()))
        .find(|f| f.code == Code::KVC704)
        .cloned()
        .expect("KVC704")
}

/// XC2: the add-on's poll interval is set by `az aks update … --rotation-poll-interval`, the
/// same command whether the install method was seen (the add-on) or not (then beside Helm's).
#[test]
fn the_add_ons_poll_interval_is_set_by_a_command_of_the_azure_cli_itself() {
    for install in [Some(DriverInstall::AksAddon), None] {
        let f = throttled_add_on(install);
        assert!(
            f.fix.contains(
                "az aks update -g \"$CLUSTER_RG\" -n \"$CLUSTER\" --enable-secret-rotation --rotation-poll-interval 10m"
            ),
            "{install:?}: {}",
            f.fix
        );
        assert!(!f.fix.contains("az aks addon"), "{install:?}: {}", f.fix);
    }
}

/// The unquoted glob characters of shell text `t` (`*`, `?`, and `[` but for the `[` command),
/// outside quotes, comments, `$(…)` and `${…}`: a word holding one is a filename pattern, and
/// bash under `failglob` and zsh (its default NOMATCH) refuse the command when no file
/// matches it (bash manual, "Filename Expansion"). Each hit with the text around it.
pub(crate) fn unquoted_globs(t: &str) -> Vec<String> {
    let b = t.as_bytes();
    let (mut hits, mut i, mut quote) = (Vec::new(), 0, None::<u8>);
    let skip_to_close = |mut j: usize, open: u8, close: u8| {
        let mut depth = 0;
        while j < b.len() {
            if b[j] == open {
                depth += 1;
            } else if b[j] == close {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            j += 1;
        }
        j
    };
    while i < b.len() {
        let c = b[i];
        let word_start = i == 0 || b[i - 1].is_ascii_whitespace();
        match quote {
            Some(b'\'') if c == b'\'' => quote = None,
            Some(b'"') if c == b'\\' => i += 1,
            Some(b'"') if b[i..].starts_with(b"$(") => i = skip_to_close(i + 1, b'(', b')'),
            Some(b'"') if c == b'"' => quote = None,
            Some(_) => {}
            None if c == b'\\' => i += 1,
            None if c == b'\'' || c == b'"' => quote = Some(c),
            None if b[i..].starts_with(b"$(") => i = skip_to_close(i + 1, b'(', b')'),
            None if b[i..].starts_with(b"${") => i = skip_to_close(i + 1, b'{', b'}'),
            None if c == b'#' && word_start => break,
            None if c == b'[' && word_start && b.get(i + 1) == Some(&b' ') => {}
            None if matches!(c, b'*' | b'?' | b'[') => {
                hits.push(t[i.saturating_sub(40)..(i + 20).min(t.len())].to_string());
            }
            None => {}
        }
        i += 1;
    }
    hits
}

#[test]
fn the_glob_scanner_sees_only_unquoted_patterns() {
    assert!(!unquoted_globs("kubectl get x -o custom-columns=A:.b[*].c").is_empty());
    for quoted in [
        "kubectl get x -o 'custom-columns=A:.b[*].c'",
        "az identity list --query \"[?clientId=='x'].id\" -o tsv",
        "[ -n \"$C\" ] && echo \"$(az x --query '[0]' -o tsv)\"",
        ": \"${SA:?set SA}\"",
        "S=\"$(az x -g \"$(az y --query '[0]')\" --query \"[0].id\" -o tsv)\"",
        "kubectl get x  # in a comment [*] says nothing",
    ] {
        assert!(unquoted_globs(quoted).is_empty(), "{quoted}");
    }
}

/// `text` pasted into `bash -O failglob` in an empty directory, with a kubectl that logs its
/// arguments one per line: (bash's stderr, the arguments kubectl got).
fn paste_failglob(text: &str) -> (String, String) {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let kubectl = bin.join("kubectl");
    std::fs::write(&kubectl, "#!/bin/sh\nprintf '%s\\n' \"$@\" >> \"$CALLS\"\n").unwrap();
    std::fs::set_permissions(&kubectl, std::fs::Permissions::from_mode(0o755)).unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let calls = dir.path().join("calls");
    let out = std::process::Command::new("bash")
        .args(["-O", "failglob", "-c", text])
        .current_dir(&work)
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("CALLS", &calls)
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stderr).into_owned(),
        std::fs::read_to_string(&calls).unwrap_or_default(),
    )
}

/// XC3: the confirms listing custom columns with a `[*]` (every element of a list), in the
/// worlds that print them. kubectl's documentation quotes such a column spec
/// (`-o=custom-columns='DATA:spec.containers[*].image'`, "Custom columns"): unquoted, the word
/// is a filename pattern, and bash under failglob, or zsh as installed, refuses the command
/// ("no match") instead of running it. Quoted, kubectl gets the spec whole.
#[test]
fn custom_columns_of_every_element_are_quoted_as_kubectl_documents() {
    let cases: [(&str, &str, &str); 5] = [
        (
            "tests/fixtures/lab/qqq-faults-stacked.yaml",
            "KVC803",
            "custom-columns=NAME:.metadata.name,OWNERS:.metadata.ownerReferences[*].name",
        ),
        (
            "tests/fixtures/lab/qqq-faults-stacked.yaml",
            "KVC903",
            "custom-columns=NAME:.metadata.name,OWNERS:.metadata.ownerReferences[*].name",
        ),
        (
            "tests/fixtures/lab/xa-scen-secretobjects-changed-off.yaml",
            "KVC805",
            "custom-columns=NAME:.metadata.name,UPDATED:.metadata.managedFields[*].time",
        ),
        (
            "tests/fixtures/lab/rrr_facts/rrr-two-spcs-one-failing.yaml",
            "KVC807",
            "custom-columns=NAME:.metadata.name,SECRETS:.spec.secretObjects[*].secretName",
        ),
        (
            "tests/fixtures/lab/ppp-seeds-reloader-absent.yaml",
            "KVC902",
            "custom-columns=NAMESPACE:.metadata.namespace,NAME:.metadata.name,READY:.status.readyReplicas,IMAGE:.spec.template.spec.containers[*].image,ARGS:.spec.template.spec.containers[*].args",
        ),
    ];
    for (world, code, spec) in cases {
        let r = check_json(&["--lab", world]);
        let confirm = (r["findings"].as_array().unwrap().iter())
            .filter(|f| f["code"] == code)
            .filter_map(|f| f["confirm"].as_str())
            .find(|c| c.contains(spec))
            .unwrap_or_else(|| panic!("no {code} confirm with {spec}: {r:#}"));
        assert!(
            confirm.contains(&format!(" -o '{spec}'")),
            "{code}: {confirm}"
        );
        assert!(unquoted_globs(confirm).is_empty(), "{code}: {confirm}");
        if crate::iii_paste::bash_present() {
            let (stderr, calls) = paste_failglob(confirm);
            assert!(!stderr.contains("no match"), "{code}: {stderr}\n{confirm}");
            assert!(
                calls.lines().any(|a| a == spec),
                "{code}: {calls}\n{confirm}"
            );
        }
    }
}

/// The built-in scenarios (`demo --list`) and every lab fixture of the tests, as `check --lab`
/// takes them.
pub(crate) fn lab_worlds() -> Vec<String> {
    let list = std::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["demo", "--list"])
        .output()
        .unwrap();
    let mut worlds: Vec<String> = String::from_utf8_lossy(&list.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| !n.starts_with("generated:"))
        .map(str::to_string)
        .collect();
    fn yaml_files(dir: &std::path::Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                yaml_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "yaml") {
                out.push(p.to_string_lossy().into_owned());
            }
        }
    }
    yaml_files(std::path::Path::new("tests/fixtures/lab"), &mut worlds);
    worlds
}

/// `each` over `items` in four threads (each `check` is a process of its own), the results in
/// `items`' order.
pub(crate) fn in_four<T: Sync, R: Send>(items: &[T], each: impl Fn(&T) -> Vec<R> + Sync) -> Vec<R> {
    let each = &each;
    std::thread::scope(|s| {
        let handles: Vec<_> = (items.chunks(items.len().div_ceil(4).max(1)))
            .map(|chunk| s.spawn(move || chunk.iter().flat_map(each).collect::<Vec<R>>()))
            .collect();
        (handles.into_iter())
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}

/// The net: no confirm or fix of a built-in scenario or of a lab fixture of the tests holds an
/// unquoted filename pattern (see [`unquoted_globs`]).
#[test]
fn no_command_of_the_labs_holds_an_unquoted_filename_pattern() {
    let worlds = lab_worlds();
    assert!(worlds.len() > 100, "{}", worlds.len());
    let found = in_four(&worlds, |w| {
        let mut found = Vec::new();
        let r = check_json(&["--lab", w]);
        for f in r["findings"].as_array().into_iter().flatten() {
            for k in ["confirm", "fix"] {
                let t = f[k].as_str().unwrap_or_default();
                for h in unquoted_globs(t) {
                    found.push(format!("{w} {} {k}: …{h}…", f["code"]));
                }
            }
        }
        found
    });
    assert!(found.is_empty(), "{found:#?}");
}

/// XC4: a Deployment annotated `reloader.stakater.com/auto: "false"` (Reloader restarts
/// nothing, FACTS §10) reads the synced Secret through env: KVC902's fix sets the annotation
/// to "true". `kubectl annotate --help`: "Attempting to set an annotation that already exists
/// will fail unless --overwrite is set" — without it kubectl refuses the change (`--overwrite
/// is false but found the following declared annotation(s): 'reloader.stakater.com/auto'
/// already has a value (false)`) and nothing is annotated. With it the command also works
/// where the key is absent, or was added after the diagnosis read the workload.
#[test]
fn annotating_a_workload_for_reloader_overwrites_a_value_already_there() {
    let r = check_json(&[
        "--lab",
        "tests/fixtures/lab/xb-facts-reloader-auto-false.yaml",
    ]);
    let fix = fix_of(&r, "KVC902");
    assert!(
        fix.starts_with(
            "kubectl annotate deployment/api -n demo reloader.stakater.com/auto=true --overwrite  # "
        ),
        "{fix}"
    );
}

/// XC5: a ServiceAccount named `api.reader` (Kubernetes service account names are DNS
/// subdomains, dots allowed) whose identity has no credential for it: KVC401 creates one
/// named after the namespace and the account. A credential's name is
/// `^[a-zA-Z0-9]{1}[a-zA-Z0-9-_]{2,119}$` (the MSI API's pattern, which az's
/// `identity federated-credential create --name` applies): `demo-api.reader` is refused and
/// nothing is created. The name takes '-' for the dot; the subject keeps the account's name.
#[test]
fn a_credential_for_a_dotted_account_has_a_name_the_msi_api_takes() {
    let r = check_json(&["--lab", "tests/fixtures/lab/xc-paste-dotted-account.yaml"]);
    let fix = fix_of(&r, "KVC401");
    assert!(
        fix.starts_with("az identity federated-credential create --name demo-api-reader --identity-name id-reader -g rg-id ")
            && fix.contains(" --subject system:serviceaccount:demo:api.reader "),
        "{fix}"
    );
    assert!(!r.to_string().contains("CANARY-xcpaste"), "{r}");
}

/// Review of XC-paste: a credential's name for an account the user names (`$SA`, an SPC no
/// pod mounts, KVC401) keeps the variable, with bash's `${SA//./-}` for the dots the MSI API's
/// name pattern refuses: pasted with `SA=api.reader`, az gets `billing-api-reader` (the first
/// cut of XC-paste's name gave the literal `billing--SA`, the `$` made a '-').
#[test]
fn a_credential_name_of_an_account_the_user_names_keeps_the_variable() {
    if !crate::iii_paste::bash_present() {
        return;
    }
    let r = check_json(&[
        "--lab",
        crate::mmm_lab::fixture("xc-tui-lone-spc.yaml")
            .to_str()
            .unwrap(),
    ]);
    let fix = fix_of(&r, "KVC401");
    assert!(fix.contains("--name billing-\"${SA//./-}\" "), "{fix}");
    let run = format!("SA=api.reader; az() {{ printf '%s\\n' \"$@\"; }}; {fix}");
    let out = std::process::Command::new("bash")
        .args(["-c", &run])
        .output()
        .unwrap();
    let args = String::from_utf8_lossy(&out.stdout);
    let mut words = args.lines();
    words.find(|w| *w == "--name");
    assert_eq!(words.next(), Some("billing-api-reader"), "{args}");
    assert!(
        args.contains("system:serviceaccount:billing:api.reader"),
        "{args}"
    );
}
