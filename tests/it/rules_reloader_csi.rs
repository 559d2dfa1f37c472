//! Reloader's SecretProviderClass annotations (FACTS §10): `secretproviderclass.reloader.
//! stakater.com/auto` and `…/reload: "<spc>"` act only when Reloader runs with
//! `--enable-csi-integration=true`, off by default. kvchain does not see Reloader's flags, so
//! a workload relying on them alone is not taken as restarted: KVC902 names the annotation
//! and the flag, and after a rotation its stale env is not "a rollout that is due".

use jiff::SignedDuration;
use kvchain::chain::Code;
use kvchain::chain::testkit::{self as tk, APP, NS};
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

#[test]
fn an_spc_reload_annotation_alone_still_gets_kvc902_naming_the_csi_flag() {
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
        let f = only(&run(&s), Code::KVC902);
        assert!(
            f.message.contains(key) && f.message.contains("--enable-csi-integration=true"),
            "{key}: {}",
            f.message
        );
        // The fix that works on a default Reloader: the Secret's own annotation.
        assert_eq!(
            f.fix.as_ref() as &str,
            format!(
                "kubectl annotate deployment/{APP} -n {NS} reloader.stakater.com/auto=true  # needs Stakater Reloader in the cluster"
            )
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
