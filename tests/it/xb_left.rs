//! Audit XB-left: the leftovers the last audits named, each made true. Lab scenarios are
//! tests/fixtures/lab/xb-left-*.yaml (written from docs/scenarios.md's format); their vault
//! values are canaries (`CANARY-xblef-`) that no output may show.

use jiff::SignedDuration;
use kvchain::chain::model::Chain;
use kvchain::chain::{Code, LinkKind, Status, diagnose};
use kvchain::snapshot::{Observed, Snapshot};

use super::mmm_lab::{fixture, link, report_after};
use super::www_rules::{codes, lab_at};

const CANARY: &str = "CANARY-xblef";
const FIC: &str = "xb-left-fic-corrected.yaml";

fn exit_code(name: &str, extra: &[&str]) -> Option<i32> {
    std::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "--lab"])
        .arg(fixture(name))
        .args(extra)
        .args(["-o", "json"])
        .output()
        .unwrap()
        .status
        .code()
}

/// Every federated credential of the lab's identity changed at `at` (None: not known).
fn set_fic_times(s: &mut Snapshot, at: Option<jiff::Timestamp>) {
    for i in &mut s.azure.identities.items {
        if let Observed::Known(fics) = &mut i.federated_credentials {
            for f in fics {
                f.modified_at = at;
            }
        }
    }
}

fn federation(c: &Chain) -> &kvchain::chain::model::Link {
    c.link(LinkKind::Federation)
}

/// FACTS §11 ("Evidence ages"; AADSTS70021): the credential's issuer corrected in place at
/// 2m30s (ARM's `systemData.lastModifiedAt`, REST spec 2023-01-31), the kubelet's retry due
/// at about 4m. The AADSTS70021 FailedMounts were all refused before the credential changed:
/// history, as a 403 before the grant is. At 3m: no finding (not KVC405 "failed, now looks
/// right"), the Federation link ok with the events kept as history saying they predate the
/// change, the mount pending, no credential created or updated, exit 0. Settled (5m):
/// mounted, healthy. Before, KVC405 stood at 3m.
#[test]
fn refusals_before_a_credential_was_corrected_in_place_are_history() {
    let r = report_after(FIC, &["--for", "3m"], CANARY);
    assert!(codes(&r).is_empty(), "{r}");
    let chain = &r["chains"][0];
    let fed = link(chain, "federation");
    assert_eq!(fed["status"], "ok", "{fed}");
    let history = (fed["facts"].as_array().into_iter().flatten())
        .find(|f| f["label"] == "history (KVC405)")
        .unwrap_or_else(|| panic!("{fed}"));
    let text = history["observed"].as_str().unwrap();
    assert!(
        text.contains("AADSTS70021")
            && text.contains("predates the credential's change: fic-api")
            && text.contains("09:02:30"),
        "{text}"
    );
    assert_eq!(link(chain, "mount")["status"], "pending", "{chain}");
    let all = r.to_string();
    assert!(!all.contains("federated-credential create"), "{r}");
    assert!(!all.contains("federated-credential update"), "{r}");
    assert_eq!(exit_code(FIC, &["--for", "3m"]), Some(0), "{r}");
    let settled = report_after(FIC, &["--for", "5m"], CANARY);
    assert!(codes(&settled).is_empty(), "{settled}");
    for l in settled["chains"][0]["links"].as_array().unwrap() {
        assert_eq!(l["status"], "ok", "{l}");
    }
}

/// The other side: a refusal seen after the credential's last change was refused by the
/// credential as it is now (new credentials "can fail for a couple of minutes", FACTS §7), so
/// it stays a finding; with the change's time not known, as before (KVC405 "failed, now
/// looks right"). The same snapshot at 3m with the credential's time moved before the
/// events, then removed.
#[test]
fn refusals_after_the_change_or_with_no_time_known_stay_current() {
    let mut s = lab_at(FIC, 180);
    let first = (s.events.items.iter())
        .filter(|e| e.reason == "FailedMount")
        .filter_map(|e| e.first_seen.or(e.last_seen))
        .min()
        .expect("a FailedMount");
    // Untouched: history, nothing on the link.
    let chains = diagnose(&s);
    assert!(federation(&chains[0]).findings.is_empty(), "{chains:#?}");
    for at in [Some(first - SignedDuration::from_secs(30)), None] {
        set_fic_times(&mut s, at);
        let chains = diagnose(&s);
        let fed = federation(&chains[0]);
        let f = (fed.findings.iter())
            .find(|f| f.code == Code::KVC405)
            .unwrap_or_else(|| panic!("{at:?}: {fed:#?}"));
        assert!(f.now_looks_right, "{f:#?}");
        assert_eq!(fed.status, Status::Broken, "{fed:#?}");
    }
}

/// The live source reads when a credential last changed from ARM (`systemData`, REST spec
/// Microsoft.ManagedIdentity 2023-01-31, `Federated Identity Credentials - List`), through the
/// real observer against the in-process fake Azure: the testkit's chain, not mounted, with an
/// AADSTS70021 FailedMount last seen 10 minutes ago, and its credential (matching what was
/// presented) last modified 5 minutes ago: the refusal is history, the Federation link ok. The
/// same credential modified 20 minutes ago: the refusal stands (KVC405).
#[tokio::test]
async fn the_live_source_reads_when_a_credential_last_changed() {
    use crate::azure_support::Route;
    use crate::azure_tk_world::{ARM, SECRETS_USER_DEF, diagnose, identity_id, own_assignment};
    use kvchain::chain::testkit::{self as tk, APP, NS};
    use serde_json::json;

    for (changed_ago, history) in [(5, true), (20, false)] {
        let fake =
            crate::azure_tk_world::world(true, json!([]), vec![own_assignment(SECRETS_USER_DEF)]);
        let changed = tk::ago(SignedDuration::from_mins(changed_ago));
        let fic = json!({"value": [{"name": format!("{NS}-{APP}"),
            "properties": {"issuer": tk::ISSUER, "audiences": [tk::AUDIENCE],
                "subject": format!("system:serviceaccount:{NS}:{}", tk::sa_name(APP))},
            "systemData": {"createdAt": "2026-01-01T00:00:00Z",
                "lastModifiedAt": changed.to_string()}}]});
        fake.add_first(
            Route::get(
                ARM,
                &format!("{}/federatedIdentityCredentials", identity_id()),
            )
            .reply(200, fic.to_string()),
        );
        let mut s = super::cause_kit::failing_with(
            tk::healthy(),
            &super::cause_kit::aadsts70021(tk::ISSUER),
        );
        for e in &mut s.events.items {
            e.last_seen = Some(tk::ago(SignedDuration::from_mins(10)));
        }
        let c = diagnose(&fake, &mut s).await;
        let fed = c.link(LinkKind::Federation);
        let kvc405 = fed.findings.iter().any(|f| f.code == Code::KVC405);
        if history {
            assert_eq!(fed.status, Status::Ok, "{fed:#?}");
            assert!(!kvc405, "{fed:#?}");
            assert!(
                (fed.facts.iter()).any(|f| f.observed.contains("predates the credential's change")),
                "{fed:#?}"
            );
        } else {
            assert!(kvc405, "{fed:#?}");
        }
    }
}

/// The Sync link's finding for `s`: a driver failure over an SPC edit that added an item the
/// mount lacks (cert-for-tls after KVC804's fix), Azure unread.
fn settled_sync(mut s: Snapshot) -> kvchain::chain::model::Finding {
    s.azure = kvchain::snapshot::AzureObs::unknown("offline");
    let c = super::rules_sync_settled::one(&s);
    let sync: Vec<_> = c.findings().filter(|f| f.link == LinkKind::Sync).collect();
    assert_eq!(sync.len(), 1, "{sync:#?}");
    sync[0].clone()
}

/// FACTS §4: rotation is the driver's `--enable-secret-rotation` with `--rotation-poll-interval`
/// (default 2m); an item an SPC edit added reaches a running pod's mount only by rotation's
/// poll or a new mount. With the driver's flags unread, whether a poll comes and how often
/// is not known: the wait says the default interval and that it was not read, never a time
/// no flag gives (it said "wait up to 5 minutes for the driver's next attempt"), and that
/// with rotation off only a new mount fetches the item. The same with the driver's facts
/// unread altogether.
#[test]
fn a_wait_on_rotation_not_read_says_the_default_poll_and_that_it_was_not_read() {
    let unread_flags = |s: &mut Snapshot| {
        if let Observed::Known(csi) = &mut s.cluster.csi_driver {
            csi.rotation_enabled = Observed::unknown("daemonsets is forbidden");
        }
    };
    let unread_driver = |s: &mut Snapshot| {
        s.cluster.csi_driver = Observed::unknown("csidrivers is forbidden");
    };
    for unread in [&unread_flags as &dyn Fn(&mut Snapshot), &unread_driver] {
        let mut s = super::rules_sync_settled::tls_item_added();
        unread(&mut s);
        let f = settled_sync(s);
        let said = format!("{}\n{}", f.message, f.fix);
        assert!(!said.contains("5 minutes"), "{said}");
        assert!(
            said.contains("every 2m by default (--rotation-poll-interval)")
                && said.contains("kvchain did not read the driver's flags"),
            "{said}"
        );
        assert!(
            f.fix
                .contains("if it is off, only a new mount of the pod does"),
            "{}",
            f.fix
        );
    }
}

/// The testkit's app (rotation on) under a Reloader that runs with
/// `--enable-csi-integration=true`; its Deployment annotated `workload` only, its
/// SecretProviderClass `spc`.
fn csi_reloader_world(workload: &[(&str, &str)], spc: &[(&str, &str)]) -> Snapshot {
    use kvchain::chain::testkit::{self as tk, APP};
    use kvchain::snapshot::{ReloaderFacts, ReloaderObs, ReloaderSeen};
    let map = |kv: &[(&str, &str)]| -> std::collections::BTreeMap<String, String> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let mut s = tk::healthy();
    tk::workload_mut(&mut s, "Deployment", APP).annotations = map(workload).into();
    s.spcs.items[0].annotations = map(spc).into();
    s.cluster.reloader = Some(ReloaderFacts {
        seen: vec![ReloaderSeen {
            namespace: "reloader".into(),
            name: "reloader".into(),
            replicas: Some(1),
            run: ReloaderObs {
                csi_integration: true,
                ..ReloaderObs::default()
            },
        }],
        unseen: None,
    });
    s
}

fn kvc902(s: &Snapshot) -> Vec<kvchain::chain::model::Finding> {
    (diagnose(s).iter().flat_map(|c| c.findings()))
        .filter(|f| f.code == Code::KVC902)
        .cloned()
        .collect()
}

/// [R] `internal/pkg/handler/upgrade.go` populateAnnotationsFromSecretProviderClass: for a
/// SecretProviderClassPodStatus change Reloader's resource-side annotations are the
/// SecretProviderClass's own, and `pkg/common/common.go` ShouldReload returns "no reload"
/// first when `reloader.stakater.com/ignore` is "true" (FACTS §10 names both keys). A
/// workload annotated `secretproviderclass.reloader.stakater.com/auto` whose SPC carries the
/// ignore is not restarted at a rotation, though the Reloader runs with the CSI integration
/// and rotation is on: KVC902 says the SPC's ignore skips it, its fix the workload's Secret
/// annotation or the ignore removed. Before, kvchain read the SPC annotation as restarting it
/// (no KVC902).
#[test]
fn an_spc_marked_ignore_is_not_reloaded_through_the_csi_integration() {
    let auto = ("secretproviderclass.reloader.stakater.com/auto", "true");
    // Without the ignore: restarted (no KVC902), as XA-left made it.
    assert!(kvc902(&csi_reloader_world(&[auto], &[])).is_empty());
    let found = kvc902(&csi_reloader_world(
        &[auto],
        &[("reloader.stakater.com/ignore", "true")],
    ));
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert!(
        f.message.contains("reloader.stakater.com/ignore") && f.message.contains("web-kv"),
        "{}",
        f.message
    );
    assert!(
        f.fix.contains(
            "kubectl annotate secretproviderclass web-kv -n shop reloader.stakater.com/ignore-"
        ),
        "{}",
        f.fix
    );
    // Only the exact string "true" ignores.
    assert!(
        kvc902(&csi_reloader_world(
            &[auto],
            &[("reloader.stakater.com/ignore", "True")]
        ))
        .is_empty()
    );
}

/// ShouldReload: a workload's `reloader.stakater.com/search: "true"` reloads it for a
/// resource whose `reloader.stakater.com/match` is "true"; for a pod status change that
/// resource is the SecretProviderClass. With the CSI integration and rotation on, a searching
/// workload whose SPC is matched is restarted at a rotation though its synced Secret is not
/// tagged (before: KVC902 "restarts it only for Secrets annotated match"); neither tagged,
/// KVC902 stays.
#[test]
fn a_search_workload_is_reloaded_for_a_matched_spc_only() {
    let search = ("reloader.stakater.com/search", "true");
    let matched = ("reloader.stakater.com/match", "true");
    assert!(
        kvc902(&csi_reloader_world(&[search], &[matched])).is_empty(),
        "{:#?}",
        kvc902(&csi_reloader_world(&[search], &[matched]))
    );
    let found = kvc902(&csi_reloader_world(&[search], &[]));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].message.contains("reloader.stakater.com/match"),
        "{}",
        found[0].message
    );
}
