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
    assert!(HEALTHY.contains(OWN));
    let app = HEALTHY.replacen(OWN, &format!("{own}spec:\n"), 1).replacen(
        "    metadata:\n      labels:\n        app: checkout\n",
        &format!("    metadata:\n{template}      labels:\n        app: checkout\n"),
        1,
    );
    let sc = lab::scenario::parse(
        "reloader",
        std::path::Path::new("reloader.yaml"),
        &[CLUSTER, SHOP, &app].join("\n---\n"),
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
        w.rotate_secret(
            "kv-shop-lab",
            "checkout-db-password",
            Some(b"checkout-pass-v9"),
        )
        .unwrap();
        w.advance(Duration::from_secs(600));
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
