//! Reloader's SecretProviderClass annotations (FACTS §10): `secretproviderclass.reloader.
//! stakater.com/auto` and `…/reload: "<spc>"` act only when Reloader runs with
//! `--enable-csi-integration=true`, off by default. The verdict follows the Reloader seen
//! (audit XA-left; `xa_left` reads it live): one without the flag gets KVC902 naming it; with
//! no Reloader read (the testkit's world) whether one runs with it is unknown: no finding,
//! and after a rotation its stale env is not "a rollout that is due".

use jiff::SignedDuration;
use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Code, LinkKind};
use kvchain::snapshot::*;

use super::rules_runtime::{all, only, run};

/// The app's Deployment with `annotations` as its only ones.
fn annotated(s: &mut Snapshot, annotations: &[(&str, &str)]) {
    let map: std::collections::BTreeMap<String, String> = annotations
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    tk::workload_mut(s, "Deployment", APP).annotations = map.into();
}

/// A Reloader seen watching every namespace, with its flags' defaults.
fn default_reloader(s: &mut Snapshot) {
    s.cluster.reloader = Some(ReloaderFacts {
        seen: vec![ReloaderSeen {
            namespace: "reloader".into(),
            name: "reloader".into(),
            replicas: Some(1),
            run: ReloaderObs::default(),
        }],
        unseen: None,
    });
}

#[test]
fn an_spc_annotation_alone_gets_kvc902_naming_the_csi_flag_the_reloader_seen_lacks() {
    for key in [
        "secretproviderclass.reloader.stakater.com/reload",
        "secretproviderclass.reloader.stakater.com/auto",
    ] {
        let mut s = tk::healthy();
        let value = if key.ends_with("/auto") {
            "true".to_string()
        } else {
            tk::spc_name(APP)
        };
        annotated(&mut s, &[(key, &value)]);
        // No Reloader read: unknown, said as the link's fact.
        let chains = run(&s);
        assert!(
            !all(&chains).iter().any(|(c, _)| *c == Code::KVC902),
            "{key}"
        );
        assert!(
            (chains[0].link(LinkKind::Consumers).facts.iter()).any(|f| f
                .observed
                .contains("acts only through Reloader's CSI integration")),
            "{key}: {:#?}",
            chains[0].link(LinkKind::Consumers).facts
        );
        default_reloader(&mut s);
        let f = only(&run(&s), Code::KVC902);
        assert!(
            f.message.contains(key)
                && f.message.contains("--enable-csi-integration=true")
                && f.message
                    .contains("Reloader (reloader/reloader) runs without it"),
            "{key}: {}",
            f.message
        );
        // The command that works on the Reloader as it runs: the Secret's own annotation.
        assert!(
            f.fix.starts_with(&format!(
                "kubectl annotate deployment/{APP} -n {NS} reloader.stakater.com/auto=true --overwrite  # needs Stakater Reloader in the cluster"
            )),
            "{}",
            f.fix
        );
    }
}

#[test]
fn an_spc_annotation_naming_another_spc_is_no_reloader_annotation_for_this_one() {
    let mut s = tk::healthy();
    annotated(
        &mut s,
        &[(
            "secretproviderclass.reloader.stakater.com/reload",
            "some-other-spc",
        )],
    );
    let f = only(&run(&s), Code::KVC902);
    assert!(
        f.message.contains("no Reloader annotation"),
        "{}",
        f.message
    );
}

#[test]
fn the_secrets_own_annotation_beside_the_spc_one_restarts_it() {
    let mut s = tk::healthy();
    annotated(
        &mut s,
        &[
            ("secretproviderclass.reloader.stakater.com/auto", "true"),
            ("reloader.stakater.com/auto", "true"),
        ],
    );
    assert!(!all(&run(&s)).iter().any(|(c, _)| *c == Code::KVC902));
}

/// After a rotation, a pod whose Deployment carries only the SPC annotation holds the old
/// value for good on a default Reloader: KVC901 asks for the restart, not to wait for a
/// rollout Reloader will not make.
#[test]
fn a_rotation_under_an_spc_annotation_alone_is_not_a_rollout_that_is_due() {
    let mut s = tk::healthy();
    let at = tk::ago(SignedDuration::from_secs(20));
    tk::secret_mut(&mut s, APP).updated_at = Some(at);
    if let Observed::Known(Some(o)) = &mut tk::object_mut(&mut s, APP).state {
        o.versions[0].created = Some(at);
    }
    annotated(
        &mut s,
        &[("secretproviderclass.reloader.stakater.com/auto", "true")],
    );
    let f = only(&run(&s), Code::KVC901);
    assert!(!f.fix.contains("rollout is due"), "{}", f.fix);
    assert!(
        f.fix
            .contains(&format!("kubectl rollout restart deployment/{APP} -n {NS}")),
        "{}",
        f.fix
    );
}
