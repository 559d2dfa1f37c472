//! Readers of a synced Secret that is there but wrong, or not there, say what stops them
//! (codes.yaml KVC905: a key an SPC makes that the Secret as written lacks is the Sync link's
//! cause's, and the reader follows it; FACTS §2: with two SPCs writing one Secret its content
//! follows whichever wrote last). The kubelet's own words are evidence, on the finding that
//! follows the cause or on the cause itself when the Secret is missing.

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Chain, Code, Finding, LinkKind, Severity};
use kvchain::snapshot::*;

use crate::rules_runtime::run;

fn all(chains: &[Chain], code: Code) -> Vec<&Finding> {
    chains
        .iter()
        .flat_map(|c| c.findings())
        .filter(|f| f.code == code)
        .collect()
}

/// `app`'s container reads key `key` of `secret` through env (`optional` or not).
fn reads(s: &mut Snapshot, app: &str, secret: &str, key: &str, optional: bool) {
    tk::pod_mut(s, app).containers[0].env.push(EnvObs {
        name: "EXTRA".into(),
        source: EnvSourceObs::SecretKey {
            secret: secret.into(),
            key: key.into(),
            optional,
        },
    });
}

/// V2: `app`'s SPC makes {password, apikey} into its Secret, `api`'s SPC makes {password}
/// into the same Secret and wrote last (it holds only password). `api`'s container asks for
/// apikey and waits. The reader follows KVC807 with the kubelet's words, and nothing says no
/// pod has the Secret (it exists).
#[test]
fn a_reader_stuck_on_a_key_the_other_writer_dropped_follows_the_two_writers() {
    let mut s = tk::empty();
    tk::add_app(&mut s, NS, APP, 1);
    tk::add_app(&mut s, NS, "api", 1);
    let shared = tk::secret_name(APP);
    tk::spc_mut(&mut s, "api").secret_objects[0].secret_name = shared.as_str().into();
    tk::spc_mut(&mut s, APP).secret_objects[0]
        .data
        .push(SecretObjectData {
            object_name: "password".into(),
            key: "apikey".into(),
        });
    reads(&mut s, "api", &shared, "apikey", false);
    tk::pod_mut(&mut s, "api").containers[0].state = ContainerStateObs::Waiting {
        reason: "CreateContainerConfigError".into(),
        message: format!("couldn't find key apikey in Secret {NS}/{shared}"),
    };
    // A workload reading the Secret without mounting either SPC (KVC903).
    tk::add_app(&mut s, NS, "rd", 1);
    let rd = tk::pod_mut(&mut s, "rd");
    rd.volumes.clear();
    rd.containers[0].env.clear();
    reads(&mut s, "rd", &shared, "password", false);
    let chains = run(&s);
    assert!(!all(&chains, Code::KVC807).is_empty(), "{chains:#?}");
    let unmounted = all(&chains, Code::KVC903);
    assert!(!unmounted.is_empty(), "{chains:#?}");
    for f in &unmounted {
        assert_eq!(f.follows, Some(LinkKind::Sync), "{f:#?}");
        assert!(f.fix.contains("the Secret exists"), "{}", f.fix);
    }
    let stuck = all(&chains, Code::KVC905);
    assert!(!stuck.is_empty(), "{chains:#?}");
    for f in &stuck {
        assert_eq!(f.follows, Some(LinkKind::Sync), "{f:#?}");
        assert!(f.fix.contains("KVC807"), "{}", f.fix);
        assert!(
            f.evidence
                .iter()
                .any(|e| e.contains("couldn't find key apikey")),
            "{f:#?}"
        );
    }
    assert!(
        !chains
            .iter()
            .flat_map(|c| c.findings())
            .any(|f| f.fix.contains("no pod has the Secret")),
        "{chains:#?}"
    );
}

/// V9: an optional key a stale Secret lacks, read by a running container: it started
/// without it, and env is read at start, so the key reaches it only after a restart.
#[test]
fn an_optional_key_a_running_container_lacks_needs_a_restart_once_written() {
    let mut s = tk::healthy();
    if let Observed::Known(csi) = &mut s.cluster.csi_driver {
        csi.rotation_enabled = Observed::Known(false);
    }
    tk::spc_mut(&mut s, APP).secret_objects[0]
        .data
        .push(SecretObjectData {
            object_name: "password".into(),
            key: "apikey".into(),
        });
    let secret = tk::secret_name(APP);
    reads(&mut s, APP, &secret, "apikey", true);
    let chains = run(&s);
    let f = all(&chains, Code::KVC905);
    assert_eq!(f.len(), 1, "{chains:#?}");
    assert_eq!(f[0].severity, Severity::Info);
    assert!(!f[0].fix.contains("then starts"), "{}", f[0].fix);
    assert!(f[0].fix.contains("restart"), "{}", f[0].fix);
}

/// V5: the driver cannot build the Secret (a disabled version loses a history index) and it
/// is gone: the app waiting on `secret "…" not found` is on the Sync link's cause.
#[test]
fn the_app_waiting_on_a_secret_the_driver_cannot_build_is_the_causes_evidence() {
    let mut s = crate::rules_stale_secret::history_with_disabled_latest();
    let secret = tk::secret_name(APP);
    s.secrets.items.retain(|x| x.name != secret);
    tk::pod_mut(&mut s, APP).containers[0].state = ContainerStateObs::Waiting {
        reason: "CreateContainerConfigError".into(),
        message: format!("secret \"{secret}\" not found"),
    };
    let chains = run(&s);
    let f = all(&chains, Code::KVC801);
    assert_eq!(f.len(), 1, "{chains:#?}");
    assert!(
        f[0].evidence
            .iter()
            .any(|e| e.contains(&tk::pod_name(APP, 0))
                && e.contains(&format!("secret \"{secret}\" not found"))),
        "{:#?}",
        f[0]
    );
}
