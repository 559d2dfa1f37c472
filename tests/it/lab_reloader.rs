//! The lab's Reloader restarts a workload as Reloader's ShouldReload decides (FACTS §10; [R]
//! `pkg/common/common.go`, audit J3): its annotations, else its pod template's, and `reload`
//! entries as anchored regexes. A rotation of the Secret then changes the template (the
//! default env-vars strategy adds a `STAKATER_<NAME>_SECRET` variable), and the chain, read
//! from the lab's snapshot, raises no KVC902.

use std::time::Duration;

use kvchain::chain::{self, Code};
use kvchain::snapshot::Snapshot;
use kvchain::source::lab::world::World;
use kvchain::source::lab::{self, export};

use crate::lab_nodes::{CLUSTER, HEALTHY, SHOP};

const OWN: &str = "  annotations:\n    reloader.stakater.com/auto: \"true\"\nspec:\n";

/// The healthy checkout chain with checkout's Reloader annotation replaced by `own` (under
/// the Deployment's metadata) and `template` (under its pod template's), run until stable.
fn world(own: &str, template: &str) -> World {
    world_with(own, template, &[])
}

/// [`world`] with the lab's Reloader started with `args` (the Cluster's `reloaderArgs`).
fn world_with(own: &str, template: &str, args: &[&str]) -> World {
    let cluster = match args {
        [] => CLUSTER.to_string(),
        _ => {
            let line = format!("  reloader: true\n  reloaderArgs: {args:?}\n");
            let out = CLUSTER.replacen("  reloader: true\n", &line, 1);
            assert_ne!(out, CLUSTER, "the Cluster runs Reloader");
            out
        }
    };
    assert!(HEALTHY.contains(OWN));
    let app = HEALTHY.replacen(OWN, &format!("{own}spec:\n"), 1).replacen(
        "    metadata:\n      labels:\n        app: checkout\n",
        &format!("    metadata:\n{template}      labels:\n        app: checkout\n"),
        1,
    );
    let sc = lab::scenario::parse(
        "reloader",
        std::path::Path::new("reloader.yaml"),
        &[cluster.as_str(), SHOP, &app].join("\n---\n"),
    )
    .expect("scenario loads");
    let mut w = World::new(sc);
    w.run_until_stable(Duration::from_secs(3600));
    w
}

/// The env var names of checkout's pod template.
fn template_env(s: &Snapshot) -> Vec<String> {
    let d = (s.workloads.items.iter())
        .find(|x| x.kind == "Deployment" && x.name == "checkout")
        .expect("checkout");
    let t = d.template.as_ref().expect("template");
    t.containers[0]
        .env
        .iter()
        .map(|e| e.name.to_string())
        .collect()
}

#[test]
fn reloader_reads_the_pod_templates_annotations_and_reload_regexes() {
    for (own, template) in [
        (
            "",
            "      annotations:\n        reloader.stakater.com/auto: \"true\"\n",
        ),
        (
            "  annotations:\n    secret.reloader.stakater.com/reload: \"checkout-.*\"\n",
            "",
        ),
    ] {
        let mut w = world(own, template);
        let before = export::snapshot(&w);
        crate::lab_restarts::rotate_checkout_password(&mut w);
        let after = export::snapshot(&w);
        assert_ne!(
            template_env(&before),
            template_env(&after),
            "{own}{template}: Reloader changed the template"
        );
        let kvc902: Vec<_> = chain::diagnose(&after)
            .iter()
            .flat_map(|c| c.findings().cloned().collect::<Vec<_>>())
            .filter(|f| f.code == Code::KVC902)
            .collect();
        assert!(kvc902.is_empty(), "{own}{template}: {kvc902:#?}");
    }
}

/// The lab's Reloader acts by its args as a live one does by its flags ([R] util.go, FACTS
/// §10): under `--auto-reload-all` a workload with no annotation of Reloader's is restarted for
/// a Secret it reads; `--namespaces` naming another namespace restarts nothing here.
#[test]
fn the_labs_reloader_acts_by_its_args() {
    for (args, restarted) in [
        (&["--auto-reload-all"][..], true),
        (&["--auto-reload-all", "--namespaces=elsewhere"][..], false),
        (&[][..], false),
    ] {
        let mut w = world_with("", "", args);
        let before = template_env(&export::snapshot(&w));
        crate::lab_restarts::rotate_checkout_password(&mut w);
        let after = template_env(&export::snapshot(&w));
        assert_eq!(
            before != after,
            restarted,
            "{args:?}: {before:?} -> {after:?}"
        );
    }
}

const CSI_CANARY: &str = "CANARY-xc-lab-csi";

/// `xc-lab-reloader-csi*.yaml` settled (after the rotation at 3m and Reloader's answer to it).
fn csi_world(name: &str) -> World {
    let mut w = World::new(lab::load(crate::mmm_lab::fixture(name).to_str().unwrap()).unwrap());
    w.run_until_stable(Duration::from_secs(3600));
    w
}

/// FACTS §10 and Reloader's `upgrade.go`: started with `--enable-csi-integration=true`, Reloader
/// answers a SecretProviderClassPodStatus whose objects changed by writing the status's SHA to
/// `STAKATER_<SPC>_SECRETPROVIDERCLASS` in the container that mounts the CSI volume of a
/// workload annotated `secretproviderclass.reloader.stakater.com/auto`: one rollout, whose new
/// pod reads the rotated Secret. The lab's Reloader, given that flag in `reloaderArgs`, does
/// the same, and the chain read from it is healthy.
#[test]
fn with_its_csi_integration_the_labs_reloader_rolls_out_on_a_rotated_pod_status() {
    rolled_out_once_and_healthy("xc-lab-reloader-csi");
}

/// Reloader's `reloader.go` starts one controller per resource kind and skips only the kinds
/// `--resources-to-ignore` names: with `secrets` ignored, the SecretProviderClassPodStatus
/// controller still runs under `--enable-csi-integration`. The lab restarts through it, and
/// KVC902 does not say that no Reloader acts on the workload.
#[test]
fn ignoring_secrets_leaves_reloaders_csi_integration_acting() {
    rolled_out_once_and_healthy("xc-lab-reloader-csi-ignore-secrets");
}

/// The same with Reloader's general `auto` renamed: its pod status controller reads the
/// workload's annotations with the keys it was started with (ShouldReload, FACTS §10), though no
/// Reloader acts on Secrets whose flags the chain could read them from.
#[test]
fn the_csi_path_reads_the_keys_its_reloader_was_started_with() {
    rolled_out_once_and_healthy("xd-lab-reloader-csi-renamed-auto");
}

/// World `name`: Reloader's variable in the mounting container, one rollout, a healthy chain.
fn rolled_out_once_and_healthy(name: &str) {
    let w = csi_world(&format!("{name}.yaml"));
    let s = export::snapshot(&w);
    let d = (s.workloads.items.iter())
        .find(|x| x.kind == "Deployment" && x.name == "api")
        .expect("api");
    let env: Vec<&str> = d.template.as_ref().expect("template").containers[0]
        .env
        .iter()
        .map(|e| &*e.name)
        .collect();
    assert!(
        env.contains(&"STAKATER_API_KV_SECRETPROVIDERCLASS"),
        "Reloader's variable in the mounting container: {env:?}"
    );
    // One rollout: the new pods' own statuses (created, not changed) restart nothing more.
    let sets = (w.replica_sets.keys()).filter(|k| k.0 == "demo").count();
    assert_eq!(sets, 2, "the first ReplicaSet and the rollout's");
    let r = crate::mmm_lab::report_after(&format!("{name}.yaml"), &[], CSI_CANARY);
    let chains = r["chains"].as_array().unwrap();
    assert_eq!(chains.len(), 1, "{r}");
    assert!(r["findings"].as_array().unwrap().is_empty(), "{r}");
    for l in chains[0]["links"].as_array().unwrap() {
        assert_eq!(l["status"], "ok", "{l}");
    }
    assert_eq!(crate::www_scen::exit_code(name, &[]), Some(0));
}

/// The same world with Reloader at its defaults: the SecretProviderClass annotation acts on
/// nothing (Reloader's `reloader.go` skips that controller without the flag), so the env copy
/// stays old (KVC901) and KVC902 names the flag with the Helm value that sets it.
#[test]
fn without_it_the_spc_annotation_restarts_nothing_and_kvc902_names_the_flag() {
    let w = csi_world("xc-lab-reloader-csi-off.yaml");
    assert_eq!((w.replica_sets.keys()).filter(|k| k.0 == "demo").count(), 1);
    let r = crate::mmm_lab::report_after("xc-lab-reloader-csi-off.yaml", &[], CSI_CANARY);
    assert_eq!(crate::www_scen::findings(&r, "KVC901").len(), 1, "{r}");
    let kvc902 = crate::www_scen::findings(&r, "KVC902");
    assert_eq!(kvc902.len(), 1, "{r}");
    assert!(
        kvc902[0]["message"]
            .as_str()
            .unwrap()
            .contains("--enable-csi-integration=true"),
        "{}",
        kvc902[0]
    );
    assert!(
        kvc902[0]["fix"]
            .as_str()
            .unwrap()
            .contains("reloader.enableCSIIntegration=true"),
        "{}",
        kvc902[0]
    );
}

/// A `reloaderArgs` list without a Reloader running is a mistake in the scenario: named with its
/// document and field, as every scenario error is (docs/scenarios.md).
#[test]
fn reloader_args_without_a_reloader_are_refused_by_name() {
    let text = std::fs::read_to_string(crate::mmm_lab::fixture("xc-lab-reloader-csi.yaml"))
        .unwrap()
        .replacen("  reloader: true\n", "", 1);
    let err = lab::scenario::parse("csi", std::path::Path::new("csi.yaml"), &text)
        .expect_err("refused")
        .to_string();
    assert!(
        err.contains("csi.yaml") && err.contains("document 1") && err.contains("spec.reloaderArgs"),
        "{err}"
    );
}

/// Reloader's Secret path writes `STAKATER_<SECRET>_SECRET` into the one container that uses
/// the Secret ([R] `upgrade.go` getContainerUsingResource: its volume's mount, else an env or
/// envFrom reference, else for an init container's use the first container), not into each.
#[test]
fn the_labs_reloader_writes_its_secret_variable_where_the_secret_is_used() {
    let w = csi_world("xd-lab-reloader-two-containers.yaml");
    let s = export::snapshot(&w);
    let d = (s.workloads.items.iter())
        .find(|x| x.kind == "Deployment" && x.name == "api")
        .expect("api");
    let holding: Vec<&str> = (d.template.as_ref().expect("template").containers.iter())
        .filter(|c| c.env.iter().any(|e| &*e.name == "STAKATER_API_DB_SECRET"))
        .map(|c| &*c.name)
        .collect();
    assert_eq!(holding, ["worker"], "the container reading api-db, alone");
    assert_eq!((w.replica_sets.keys()).filter(|k| k.0 == "demo").count(), 2);
    let r = crate::mmm_lab::report_after("xd-lab-reloader-two-containers.yaml", &[], CSI_CANARY);
    assert!(r["findings"].as_array().unwrap().is_empty(), "{r}");
}
