//! Audit III: a fix must work when pasted. Each test asserts a command as the CLI it calls
//! documents it: bash's grammar (`<word>` outside quotes is a redirection, so a placeholder
//! written that way makes bash refuse the whole line), kubectl's field selectors, and the
//! Key Vault roles' data actions (FACTS §8: Certificate User holds every data action of
//! Secrets User, so a second assignment beside it grants nothing).

use std::process::Command;
use std::time::Duration;

use kvchain::chain::{self, Code};
use kvchain::source::lab::world::World;
use kvchain::source::lab::{self, export};
use serde_json::Value;

use crate::lab_nodes::{CLUSTER, HEALTHY, SHOP};

/// `bash -n` on `text`: its parse error, if any (`None` also when bash is missing).
pub(crate) fn bash_refuses(text: &str) -> Option<String> {
    let out = Command::new("bash")
        .args(["-n", "-c", text])
        .output()
        .ok()?;
    (!out.status.success()).then(|| String::from_utf8_lossy(&out.stderr).into_owned())
}

pub(crate) fn bash_present() -> bool {
    Command::new("bash").arg("-c").arg(":").output().is_ok()
}

pub(crate) fn assert_parses(text: &str) {
    if let Some(e) = bash_refuses(text) {
        panic!("bash -n refuses it: {e}\n{text}");
    }
}

/// `kvchain check <args> -o json`.
pub(crate) fn check_json(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .arg("check")
        .args(args)
        .args(["-o", "json"])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

/// The fix of the `code` finding `check -f` makes of a file holding `manifest`.
fn fix_from_manifest(manifest: &str, code: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.yaml");
    std::fs::write(&path, manifest).unwrap();
    let r = check_json(&["-f", path.to_str().unwrap()]);
    let f = (r["findings"].as_array().unwrap().iter())
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| panic!("no {code}: {r:#}"));
    f["fix"].as_str().unwrap().to_string()
}

/// III1: the healthy checkout identity holds Key Vault Administrator on its RBAC vault and its
/// SPC reads a secret and a key (the certificate invoice-signing's public key). KVC504's fix
/// replaces the broad role with the reads: Certificate User alone (it reads keys and secrets,
/// FACTS §8), not Certificate User and then Secrets User, which would grant nothing more.
#[test]
fn an_over_privileged_reader_of_a_secret_and_a_key_gets_certificate_user_alone() {
    let app = HEALTHY
        .replacen(
            "  role: Key Vault Secrets User",
            "  role: Key Vault Administrator",
            1,
        )
        .replacen(
            "          objectAlias: db-password\n",
            "          objectAlias: db-password\n        - |\n          objectName: invoice-signing\n          objectType: key\n",
            1,
        );
    let docs = [CLUSTER, SHOP, &app].join("\n---\n");
    let sc = lab::scenario::parse("iii1", std::path::Path::new("iii1.yaml"), &docs).unwrap();
    let mut w = World::new(sc);
    w.advance(Duration::from_secs(180));
    let chains = chain::diagnose(&export::snapshot(&w));
    let f = (chains.iter())
        .flat_map(|c| c.findings())
        .find(|f| f.code == Code::KVC504)
        .unwrap_or_else(|| panic!("no KVC504: {:#?}", chains[0].links));
    assert_eq!(
        f.fix.matches("az role assignment create").count(),
        1,
        "{}",
        f.fix
    );
    assert!(
        f.fix.contains("--role \"Key Vault Certificate User\"")
            && !f.fix.contains("Key Vault Secrets User")
            && f.fix.contains("az role assignment delete")
            && f.fix.contains("--role \"Key Vault Administrator\""),
        "{}",
        f.fix
    );
}

/// III2: a workload naming a SecretProviderClass that no manifest defines, none near its name,
/// none in another namespace. `kubectl apply -n demo -f <file defining …>` was a redirection
/// from a file named `file` and a `>` with no target: bash refused the line.
#[test]
fn applying_an_spc_no_manifest_defines_is_a_command_bash_parses() {
    let fix = &fix_from_manifest(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: demo}\nspec:\n  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: {app: api}}\n    spec:\n      containers:\n        - name: app\n          image: busybox\n          volumeMounts: [{name: s, mountPath: /mnt/s, readOnly: true}]\n      volumes:\n        - name: s\n          csi: {driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {secretProviderClass: api-kv}}\n",
        "KVC101",
    );
    assert!(
        crate::xd_paste::after_guards(fix)
            .starts_with("kubectl apply -n demo -f \"$SPC_FILE\"  # ")
            && fix.contains("SecretProviderClass api-kv"),
        "{fix}"
    );
    if bash_present() {
        assert_parses(fix);
    }
}

/// III3: the SPC CRD not installed: the install, then the SPC's apply once it is served —
/// the same `<file defining …>` redirection made the whole line one bash refuses.
#[tokio::test]
async fn applying_the_spc_after_the_crd_install_is_a_command_bash_parses() {
    let run = crate::live_crd_missing::check(&crate::live_crd_missing::no_crds(), "json").await;
    let r: Value = serde_json::from_str(&run.stdout).unwrap();
    let fixes: Vec<&str> = (r["findings"].as_array().unwrap().iter())
        .filter(|f| f["code"] == "KVC101")
        .map(|f| f["fix"].as_str().unwrap())
        .collect();
    assert!(!fixes.is_empty(), "{r:#}");
    for fix in fixes {
        assert!(fix.contains(" -f \"$SPC_FILE\""), "{fix}");
        if bash_present() {
            assert_parses(fix);
        }
    }
}

/// III4: kube-scheduler's message names no node. `kubectl describe node <node>` and `kubectl
/// uncordon <node>` were redirections bash refused; the fixes now list the nodes to look at:
/// the condition taints by key, the cordoned ones by the `spec.unschedulable` field selector
/// the API server serves for nodes.
#[test]
fn a_sick_or_cordoned_node_is_found_by_commands_bash_parses() {
    use crate::rules_placement::{kvc107, one, recent};
    const UNREACH: &str = "0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.";
    const CORDONED: &str = "0/1 nodes are available: 1 node(s) were unschedulable. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.";
    let sick = kvc107(&one(&recent(UNREACH))).fix.to_string();
    assert!(
        sick.starts_with(
            "kubectl get nodes -o 'custom-columns=NODE:.metadata.name,TAINTS:.spec.taints[*].key'  # "
        ),
        "{sick}"
    );
    let cordoned = kvc107(&one(&recent(CORDONED))).fix.to_string();
    assert!(
        cordoned.starts_with("kubectl get nodes --field-selector spec.unschedulable=true  # "),
        "{cordoned}"
    );
    if bash_present() {
        assert_parses(&sick);
        assert_parses(&cordoned);
    }
}

/// III5: a `kubernetes.io/dockerconfigjson` entry whose file is no JSON: the fix writes the
/// user's docker config file into the vault secret. `--file <docker-config.json>` was a
/// redirection bash refused.
#[test]
fn writing_a_docker_config_into_the_vault_is_a_command_bash_parses() {
    use crate::lab_compound_pods::{docker_config, run};
    let s = run(&docker_config(".dockerconfigjson"), Duration::from_secs(60));
    let chains = chain::diagnose(&s);
    let f = (chains.iter())
        .flat_map(|c| c.findings())
        .find(|f| f.code == Code::KVC806 && f.fix.contains("az keyvault secret set"))
        .unwrap_or_else(|| panic!("{:#?}", chains[0].links));
    assert!(
        crate::xd_paste::after_guards(&f.fix).starts_with(
            "az keyvault secret set --vault-name kv-shop-lab --name checkout-db-password --file \"$DOCKER_CONFIG_JSON\"  # "
        ),
        "{}",
        f.fix
    );
    if bash_present() {
        assert_parses(&f.fix);
    }
}

/// The regression net: every confirm and fix of every built-in lab scenario, run until
/// settled as `check --lab` does, parses as bash (a text that is a comment parses too).
#[test]
fn every_command_of_the_built_in_scenarios_parses_as_bash() {
    if !bash_present() {
        return;
    }
    let list = Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["demo", "--list"])
        .output()
        .unwrap();
    let names: Vec<String> = String::from_utf8_lossy(&list.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| !n.starts_with("generated:"))
        .map(str::to_string)
        .collect();
    assert!(names.len() >= 20, "{names:?}");
    let mut texts = std::collections::BTreeSet::new();
    for name in &names {
        let r = check_json(&["--lab", name]);
        for f in r["findings"].as_array().unwrap() {
            for k in ["confirm", "fix"] {
                if let Some(t) = f[k].as_str() {
                    texts.insert((name.clone(), f["code"].to_string(), t.to_string()));
                }
            }
        }
    }
    assert!(texts.len() > 50, "{}", texts.len());
    let refused: Vec<String> = (texts.iter())
        .filter_map(|(name, code, t)| bash_refuses(t).map(|e| format!("{name} {code}: {e}{t}")))
        .collect();
    assert!(refused.is_empty(), "{refused:#?}");
}

/// III6: KVC203 when the SPC's clientID is an unrendered template value: the annotate took
/// `client-id=<the same clientId as the SecretProviderClass>`, which bash parses (`<the` a
/// redirection from a file `the`, `SecretProviderClass>` one to `--overwrite`) and then fails
/// on (`the: No such file or directory`): the annotate never ran. Pasted with a stand-in
/// kubectl, the annotation now takes CLIENT_ID, and an unset CLIENT_ID runs nothing.
#[test]
fn annotating_the_client_id_of_a_templated_spc_runs_when_pasted() {
    let fix = &fix_from_manifest(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: api, namespace: demo}\n---\napiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {name: api-kv, namespace: demo}\nspec:\n  provider: azure\n  parameters:\n    clientID: \"<client-id>\"\n    keyvaultName: kv-demo\n    tenantId: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b\n    objects: |\n      array:\n        - |\n          objectName: db\n          objectType: secret\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: demo}\nspec:\n  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: {app: api, azure.workload.identity/use: \"true\"}}\n    spec:\n      serviceAccountName: api\n      containers:\n        - name: app\n          image: busybox\n          volumeMounts: [{name: s, mountPath: /mnt/s, readOnly: true}]\n      volumes:\n        - name: s\n          csi: {driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {secretProviderClass: api-kv}}\n",
        "KVC203",
    );
    assert!(!fix.contains('<'), "{fix}");
    if !bash_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // A kubectl that logs its arguments, one line each call.
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let kubectl = bin.join("kubectl");
    std::fs::write(&kubectl, "#!/bin/sh\necho \"$*\" >> \"$CALLS\"\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&kubectl, std::fs::Permissions::from_mode(0o755)).unwrap();
    let paste = |client: Option<&str>| {
        let calls = dir.path().join(format!("calls-{}", client.is_some()));
        let mut cmd = Command::new("bash");
        cmd.args(["-c", fix])
            .current_dir(dir.path())
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .env("CALLS", &calls)
            .env_remove("CLIENT_ID");
        if let Some(c) = client {
            cmd.env("CLIENT_ID", c);
        }
        let ok = cmd.output().unwrap().status.success();
        (ok, std::fs::read_to_string(&calls).unwrap_or_default())
    };
    let (ok, calls) = paste(Some("0b9c5e1a-7d2f-4c3e-9a8b-1f2e3d4c5b6a"));
    assert!(ok, "{calls}");
    assert!(
        calls.starts_with("annotate serviceaccount api -n demo azure.workload.identity/client-id=0b9c5e1a-7d2f-4c3e-9a8b-1f2e3d4c5b6a --overwrite\n"),
        "{calls}"
    );
    let (ok, calls) = paste(None);
    assert!(!ok && calls.is_empty(), "{calls}");
}
