//! The lab's consumers of a synced Secret, diagnosed against the documented behaviour: a key
//! the Secret lacks stops every reader, mounting the SPC or not (docs/codes.yaml KVC905); a
//! secret volume or projected secret source whose `items[].key` is absent fails its setup
//! (kubelet: "references non-existent secret key"), the pod stays ContainerCreating; a value
//! is stale only when it differs from the one taken at container start (KVC901, compared by
//! fingerprints; with objectVersionHistory every rotation shifts every index, FACTS §5).

use std::time::Duration;

use kvchain::chain::{self, Chain, Code, Finding, Severity};
use kvchain::snapshot::{ContainerStateObs, Snapshot};
use kvchain::source::lab::world::World;
use kvchain::source::lab::{self, export};

use crate::lab_nodes::{CLUSTER, HEALTHY, SHOP};

/// The healthy checkout chain with `edit` applied (no Reloader annotation, so rotation leaves
/// env stale) plus `extra` documents, run for `d`.
fn run(edit: impl Fn(&str) -> String, extra: &[&str], d: Duration) -> Snapshot {
    let app = edit(&HEALTHY.replace("reloader.stakater.com/auto", "x-not-reloaded"));
    let mut docs = vec![CLUSTER, SHOP, app.as_str()];
    docs.extend(extra.iter().copied());
    let sc = lab::scenario::parse(
        "consumers",
        std::path::Path::new("consumers.yaml"),
        &docs.join("\n---\n"),
    )
    .expect("scenario loads");
    let mut w = World::new(sc);
    w.advance(d);
    export::snapshot(&w)
}

/// The findings of `code`, once each: every replica's chain tells the same (the report
/// groups them by workload).
fn findings(chains: &[Chain], code: Code) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    for f in chains.iter().flat_map(|c| c.findings()) {
        if f.code == code
            && !out
                .iter()
                .any(|o| o.resource == f.resource && o.message == f.message)
        {
            out.push(f.clone());
        }
    }
    out
}

fn all(chains: &[Chain]) -> Vec<(Code, Severity, String)> {
    chains
        .iter()
        .flat_map(|c| c.findings())
        .map(|f| (f.code, f.severity, f.message.to_string()))
        .collect()
}

/// A Deployment `reader` that mounts no SPC and reads checkout-db with `spec` (indented under
/// the pod spec).
fn reader(spec: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata: {{name: reader, namespace: shop}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: reader}}}}
  template:
    metadata: {{labels: {{app: reader}}}}
    spec:
{spec}"#
    )
}

const READER_ENV_USERNAME: &str = r#"      containers:
        - name: reader
          image: busybox
          env:
            - name: DB_USER
              valueFrom: {secretKeyRef: {name: checkout-db, key: username}}"#;

/// N1: KVC905 is not limited to workloads that mount the SPC: the reader's container is stuck
/// in CreateContainerConfigError, which is its evidence; KVC903 (another cause) stays.
#[test]
fn lab_consumers_a_reader_without_the_spc_asking_for_a_missing_key_is_kvc905() {
    let s = run(
        |a| a.to_string(),
        &[&reader(READER_ENV_USERNAME)],
        Duration::from_secs(60),
    );
    let chains = chain::diagnose(&s);
    let missing = findings(&chains, Code::KVC905);
    assert_eq!(missing.len(), 1, "{:#?}", all(&chains));
    let f = &missing[0];
    assert_eq!(f.severity, Severity::Error);
    assert_eq!(f.resource, "Deployment/reader", "{f:#?}");
    assert!(f.message.contains("key username"), "{}", f.message);
    assert!(
        f.evidence
            .iter()
            .any(|e| e.contains("CreateContainerConfigError")
                && e.contains("couldn't find key username in Secret shop/checkout-db")),
        "{:#?}",
        f.evidence
    );
    assert!(
        f.fix.starts_with("kubectl edit deployment/reader -n shop"),
        "{}",
        f.fix
    );
    // A different cause, still true.
    assert_eq!(
        findings(&chains, Code::KVC903).len(),
        1,
        "{:#?}",
        all(&chains)
    );
}

/// N1, one cause per symptom: when the Secret never exists (KVC904), which keys it would lack
/// is moot.
#[test]
fn lab_consumers_a_secret_that_never_exists_gets_no_key_check() {
    let s = run(
        |a| a.replace("  replicas: 2\n", "  replicas: 0\n"),
        &[&reader(READER_ENV_USERNAME)],
        Duration::from_secs(60),
    );
    let chains = chain::diagnose(&s);
    assert_eq!(
        findings(&chains, Code::KVC904).len(),
        1,
        "{:#?}",
        all(&chains)
    );
    assert!(
        findings(&chains, Code::KVC905).is_empty(),
        "{:#?}",
        all(&chains)
    );
}

/// N11: a projected volume's `secret` source with an absent `items[].key` fails the volume's
/// setup as a plain secret volume does: FailedMount, the pod never starts, KVC905 (error)
/// with the kubelet's message as evidence.
#[test]
fn lab_consumers_a_missing_items_key_fails_the_volume_and_is_kvc905() {
    for (kind, volume) in [
        (
            "projected",
            "        - name: dbsecret\n          projected:\n            sources:\n              - secret:\n                  name: checkout-db\n                  items: [{key: username, path: user}]\n",
        ),
        (
            "secret",
            "        - name: dbsecret\n          secret:\n            secretName: checkout-db\n            items: [{key: username, path: user}]\n",
        ),
    ] {
        let s = run(
            |a| {
                a.replace(
                    "              readOnly: true\n      volumes:\n",
                    &format!("              readOnly: true\n            - {{name: dbsecret, mountPath: /etc/db}}\n      volumes:\n{volume}"),
                )
            },
            &[],
            Duration::from_secs(90),
        );
        let pods: Vec<_> = s
            .pods
            .items
            .iter()
            .filter(|p| p.namespace == "shop" && p.name.starts_with("checkout-"))
            .collect();
        assert!(!pods.is_empty(), "{kind}");
        for p in &pods {
            assert!(
                p.containers
                    .iter()
                    .all(|c| !matches!(c.state, ContainerStateObs::Running { .. })),
                "{kind}: a pod whose volume cannot be set up does not run: {p:#?}"
            );
            assert!(
                s.events.items.iter().any(|e| e.involved_name == p.name
                    && e.reason == "FailedMount"
                    && e.message.contains("MountVolume.SetUp failed for volume \"dbsecret\" : references non-existent secret key: username")),
                "{kind}: {:#?}",
                s.events.items
            );
        }
        let chains = chain::diagnose(&s);
        let missing = findings(&chains, Code::KVC905);
        assert!(!missing.is_empty(), "{kind}: {:#?}", all(&chains));
        for f in &missing {
            assert_eq!(f.severity, Severity::Error, "{kind}");
            assert!(f.message.contains("username"), "{kind}: {}", f.message);
            assert!(
                f.evidence
                    .iter()
                    .any(|e| e.contains("references non-existent secret key: username")),
                "{kind}: {:#?}",
                f.evidence
            );
        }
    }
}

/// N14: rotated to B, then back to the value the container started with: env holds what the
/// Secret holds (info, "holds the same value"), never "holds the old value".
#[test]
fn lab_consumers_a_value_rotated_away_and_back_holds_the_same_value() {
    let timeline = r#"apiVersion: lab.kvchain.dev/v1
kind: Timeline
metadata: {name: aba}
spec:
  events:
    - at: 1m
      rotateSecret: {vault: kv-shop-lab, name: checkout-db-password, value: checkout-pass-B}
    - at: 5m
      rotateSecret: {vault: kv-shop-lab, name: checkout-db-password, value: checkout-pass-v2}"#;
    let s = run(|a| a.to_string(), &[timeline], Duration::from_secs(9 * 60));
    let chains = chain::diagnose(&s);
    let stale = findings(&chains, Code::KVC901);
    assert!(
        !stale.is_empty(),
        "the Secret was rewritten: {:#?}",
        all(&chains)
    );
    for f in &stale {
        assert_eq!(f.severity, Severity::Info, "{f:#?}");
        assert!(f.message.contains("holds the same value"), "{}", f.message);
        assert!(!f.message.contains("holds the old value"), "{}", f.message);
    }
    // Control: rotated to B only, the old value is held.
    let once = r#"apiVersion: lab.kvchain.dev/v1
kind: Timeline
metadata: {name: ab}
spec:
  events:
    - at: 1m
      rotateSecret: {vault: kv-shop-lab, name: checkout-db-password, value: checkout-pass-B}"#;
    let chains = chain::diagnose(&run(
        |a| a.to_string(),
        &[once],
        Duration::from_secs(5 * 60),
    ));
    let stale = findings(&chains, Code::KVC901);
    assert!(!stale.is_empty(), "{:#?}", all(&chains));
    assert!(
        stale
            .iter()
            .all(|f| f.severity == Severity::Error && f.message.contains("holds the old value")),
        "{:#?}",
        all(&chains)
    );
}

/// N3: with objectVersionHistory, `name/1` pointed at v1 when the container started; a
/// rotation shifts it to v2: the key holds the old value (error), not "the same value".
#[test]
fn lab_consumers_a_history_index_shifted_by_rotation_holds_the_old_value() {
    let history = |a: &str| {
        a.replace(
            "          objectAlias: db-password\n",
            "          objectAlias: db-password\n          objectVersionHistory: 2\n",
        )
        .replace(
            "        - objectName: db-password\n          key: password\n",
            "        - objectName: db-password/0\n          key: password\n        - objectName: db-password/1\n          key: previous\n",
        )
        .replace(
            "          env:\n",
            "          env:\n            - name: PREV\n              valueFrom: {secretKeyRef: {name: checkout-db, key: previous}}\n",
        )
    };
    let timeline = r#"apiVersion: lab.kvchain.dev/v1
kind: Timeline
metadata: {name: rot}
spec:
  events:
    - at: 1m
      rotateSecret: {vault: kv-shop-lab, name: checkout-db-password, value: checkout-pass-v3}"#;
    let chains = chain::diagnose(&run(history, &[timeline], Duration::from_secs(5 * 60)));
    let prev: Vec<Finding> = findings(&chains, Code::KVC901)
        .into_iter()
        .filter(|f| f.message.contains("PREV"))
        .collect();
    assert!(!prev.is_empty(), "{:#?}", all(&chains));
    for f in &prev {
        assert_eq!(f.severity, Severity::Error, "{f:#?}");
        assert!(f.message.contains("holds the old value"), "{}", f.message);
        assert!(!f.message.contains("holds the same value"), "{}", f.message);
    }
}

/// Q4: the provider in history mode lists the versions and skips disabled ones (FACTS §5):
/// disabling the latest version fails no poll ("Operation get is not allowed" is the error of
/// a GET of that version, which history mode does not make), and KVC602 is not the story.
#[test]
fn lab_consumers_a_disabled_latest_version_under_history_is_skipped() {
    let history = |a: &str| {
        a.replace(
            "          objectAlias: db-password\n",
            "          objectAlias: db-password\n          objectVersionHistory: 2\n",
        )
        .replace(
            "        - objectName: db-password\n          key: password\n",
            "        - objectName: db-password/0\n          key: password\n",
        )
    };
    let timeline = r#"apiVersion: lab.kvchain.dev/v1
kind: Timeline
metadata: {name: rot}
spec:
  events:
    - at: 1m
      rotateSecret: {vault: kv-shop-lab, name: checkout-db-password, value: checkout-pass-v3}
    - at: 4m
      applyFault: {id: disable-object}"#;
    let s = run(history, &[timeline], Duration::from_secs(9 * 60));
    let failed: Vec<&str> = s
        .events
        .items
        .iter()
        .filter(|e| e.message.contains("not allowed on a disabled"))
        .map(|e| e.message.as_str())
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    let chains = chain::diagnose(&s);
    assert!(
        findings(&chains, Code::KVC602).is_empty(),
        "{:#?}",
        all(&chains)
    );
}

const READER_ENV_PASSWORD: &str = r#"      containers:
        - name: reader
          image: busybox
          env:
            - name: DB_PASSWORD
              valueFrom: {secretKeyRef: {name: checkout-db, key: password}}"#;

/// The reader's pod spec with the CSI volume of checkout-kv mounted, `sa` its service account.
fn reader_mounting(sa: Option<&str>) -> String {
    let sa = sa.map_or(String::new(), |sa| {
        format!("      serviceAccountName: {sa}\n")
    });
    format!(
        "{sa}{READER_ENV_PASSWORD}
          volumeMounts:
            - {{name: secrets-store, mountPath: /mnt/secrets-store, readOnly: true}}
      volumes:
        - name: secrets-store
          csi:
            driver: secrets-store.csi.k8s.io
            readOnly: true
            volumeAttributes: {{secretProviderClass: checkout-kv}}"
    )
}

/// Audit MM4: KVC903's fix for a workload that runs as another service account than the one
/// the SPC's identity is federated for names the workload's edit, volume and mount, and the
/// service account: the provider authenticates the mount with the pod's own service-account
/// token (FACTS §5), and id-checkout federates only system:serviceaccount:shop:checkout
/// (FACTS §7), so the volume alone fails with AADSTS70021 (KVC401). Applied whole, the
/// reader's mount works and neither finding is left.
#[test]
fn lab_consumers_kvc903_fix_names_the_service_account_the_identity_federates() {
    let d = Duration::from_secs(60);
    let s = run(|a| a.to_string(), &[&reader(READER_ENV_PASSWORD)], d);
    let chains = chain::diagnose(&s);
    let found = findings(&chains, Code::KVC903);
    assert_eq!(found.len(), 1, "{:#?}", all(&chains));
    let fix = &found[0].fix;
    for part in [
        "kubectl edit deployment/reader -n shop",
        "secretProviderClass: checkout-kv",
        "volumeMounts",
        "serviceAccountName: checkout",
    ] {
        assert!(fix.contains(part), "{part}: {fix}");
    }
    // The volume alone: the mount fails on the federation.
    let s = run(|a| a.to_string(), &[&reader(&reader_mounting(None))], d);
    let chains = chain::diagnose(&s);
    assert_eq!(
        findings(&chains, Code::KVC401).len(),
        1,
        "{:#?}",
        all(&chains)
    );
    // The fix as it says: volume, mount and service account.
    let s = run(
        |a| a.to_string(),
        &[&reader(&reader_mounting(Some("checkout")))],
        d,
    );
    let chains = chain::diagnose(&s);
    for code in [Code::KVC401, Code::KVC903] {
        assert!(
            findings(&chains, code).is_empty(),
            "{code}: {:#?}",
            all(&chains)
        );
    }
}

/// Audit MM4 (related): with no pod mounting the SPC, the reader's KVC904 is fixed the same
/// way, in its own workload: volume, mount, and the service account the identity federates.
#[test]
fn lab_consumers_kvc904_fix_mounts_the_spc_in_the_reader_as_a_federated_account() {
    let s = run(
        |a| {
            a.replace(
                "secretProviderClass: checkout-kv",
                "secretProviderClass: elsewhere",
            )
        },
        &[&reader(READER_ENV_PASSWORD)],
        Duration::from_secs(60),
    );
    let chains = chain::diagnose(&s);
    let found: Vec<Finding> = findings(&chains, Code::KVC904)
        .into_iter()
        .filter(|f| f.resource == "Deployment/reader")
        .collect();
    assert_eq!(found.len(), 1, "{:#?}", all(&chains));
    let fix = &found[0].fix;
    for part in [
        "kubectl edit deployment/reader -n shop",
        "secretProviderClass: checkout-kv",
        "serviceAccountName: checkout",
    ] {
        assert!(fix.contains(part), "{part}: {fix}");
    }
}

/// Audit NN3: the API server refuses any change of a Job's pod template, so KVC903's edit of
/// a Job that reads the synced Secret without mounting it re-creates the Job from its
/// manifest (as every other Job fix does), never `kubectl edit job/…`.
#[test]
fn lab_consumers_kvc903_fix_for_a_job_re_creates_it() {
    let job = format!(
        r#"apiVersion: batch/v1
kind: Job
metadata: {{name: reader, namespace: shop}}
spec:
  template:
    metadata: {{labels: {{app: reader}}}}
    spec:
      restartPolicy: Never
{READER_ENV_PASSWORD}"#
    );
    let s = run(|a| a.to_string(), &[&job], Duration::from_secs(60));
    let chains = chain::diagnose(&s);
    let found = findings(&chains, Code::KVC903);
    assert_eq!(found.len(), 1, "{:#?}", all(&chains));
    let fix = &found[0].fix;
    assert!(!fix.contains("kubectl edit job"), "{fix}");
    for part in [
        "a Job's pod template cannot be changed",
        "secretProviderClass: checkout-kv",
        "kubectl delete job reader -n shop",
    ] {
        assert!(fix.contains(part), "{part}: {fix}");
    }
}

/// EEE13. README: "a fix that is a description is a note (`# …`: pasted, it runs nothing)".
/// An Ingress whose Secret nothing mounts any more is told to run a workload that mounts the
/// SPC: a description, written as a note.
#[test]
fn lab_consumers_kvc904_description_is_a_note() {
    let mut w = crate::lab_diagnosis::settled("default");
    let edge = ("Deployment".into(), "shop".into(), "edge-sync".into());
    kvchain::source::lab::faults::apply_to(&mut w, "delete-mounting-workload", &edge).unwrap();
    w.advance(Duration::from_secs(120));
    let chains = crate::lab_diagnosis::diagnose(&w);
    let kvc904 = findings(&chains, Code::KVC904);
    assert!(!kvc904.is_empty(), "{:#?}", all(&chains));
    for f in kvc904 {
        assert!(
            f.fix
                .starts_with("# run a workload that mounts SecretProviderClass edge-sync-kv"),
            "{f:#?}"
        );
    }
}
