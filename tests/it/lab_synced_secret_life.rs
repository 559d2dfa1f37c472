//! The synced Secret's life in the lab against FACTS §2 and §11 (audit YY): a synced Secret
//! deleted by hand is made again within the driver's 5-minute requeue, with rotation off too
//! (YY2); with rotation on, a Secret whose values differ from the mount is rewritten at the
//! next poll, so the fix waits for it and restarts the env readers after it, never a delete
//! and restart now that would read the old value again (YY1); a Secret of another type than
//! its entry now makes is stuck, since a Secret's type cannot be changed (YY3); a Secret whose
//! only mounter is scaled to zero is kept but frozen, and its readers are told which workload
//! to scale up (YY4).

use std::path::Path;
use std::time::Duration;

use kvchain::chain::{self, Chain, Code, Finding, LinkKind, Severity, Status};
use kvchain::source::lab::world::World;
use kvchain::source::lab::{export, scenario};

use crate::demo_world::{Head, READER};

/// One Deployment `api` (2 replicas) in `demo` mounting SPC `api-kv`, whose entry makes
/// Secret `api-db` (`secret_type`, key `password`) read through env; `extra` documents are
/// appended (a pre-existing Secret, a Timeline).
fn world(rotation: bool, secret_type: &str, extra: &str) -> World {
    from_docs(&docs(rotation, secret_type, extra))
}

fn from_docs(docs: &str) -> World {
    let sc = scenario::parse("life", Path::new("life.yaml"), docs).expect("scenario loads");
    World::new(sc)
}

/// The documents of [`world`].
fn docs(rotation: bool, secret_type: &str, extra: &str) -> String {
    let synced = format!(
        "    - secretName: api-db\n      type: {secret_type}\n      data:\n        - {{objectName: db-password, key: password}}\n"
    );
    let head = Head {
        rotation,
        synced: &synced,
        ..Head::db_password("life", VAULT_OBJECTS)
    };
    format!("{}{API}{extra}", head.docs())
}

/// The vault's one secret.
const VAULT_OBJECTS: &str =
    "  secrets:\n    - {name: db-password, value: vault-value-canary-7f3}\n";

/// Deployment `api` (2 replicas) mounting `api-kv` and reading `api-db` through env.
const API: &str = "---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: demo}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata:
      labels: {app: api, azure.workload.identity/use: 'true'}
    spec:
      serviceAccountName: api
      containers:
        - name: api
          image: mcr.microsoft.com/azurelinux/busybox:1.36
          env:
            - name: DB_PASSWORD
              valueFrom: {secretKeyRef: {name: api-db, key: password}}
          volumeMounts:
            - {name: secrets-store, mountPath: /mnt/secrets-store, readOnly: true}
      volumes:
        - name: secrets-store
          csi:
            driver: secrets-store.csi.k8s.io
            readOnly: true
            volumeAttributes: {secretProviderClass: api-kv}
";

/// A Secret `api-db` written before the run (the driver's label), of `secret_type`, holding
/// `value` under `password`.
fn existing_secret(secret_type: &str, value: &str) -> String {
    format!(
        "---
apiVersion: v1
kind: Secret
metadata:
  name: api-db
  namespace: demo
  labels: {{secrets-store.csi.k8s.io/managed: 'true'}}
type: {secret_type}
stringData: {{password: {value}}}
"
    )
}

/// `docs` with a second vault secret, `db-user`, mounted as the SPC's second object (its item
/// ending with `item_extra`, lines of the item's YAML).
fn with_db_user(docs: String, item_extra: &str) -> String {
    let docs = docs
        .replace(
            "    - {name: db-password, value: vault-value-canary-7f3}",
            "    - {name: db-password, value: vault-value-canary-7f3}\n    - {name: db-user, value: user-canary-2b8}",
        )
        .replace(
            "          objectName: db-password\n          objectType: secret\n",
            &format!("          objectName: db-password\n          objectType: secret\n        - |\n          objectName: db-user\n          objectType: secret\n{item_extra}"),
        );
    assert!(docs.contains("objectName: db-user"), "{docs}");
    docs
}

fn chains_at(w: &mut World, at: Duration) -> Vec<Chain> {
    let done = w.clock.elapsed();
    w.advance(at.saturating_sub(done));
    chain::diagnose(&export::snapshot(w))
}

fn found(chains: &[Chain], code: Code) -> Vec<Finding> {
    chains
        .iter()
        .flat_map(|c| c.findings())
        .filter(|f| f.code == code)
        .cloned()
        .collect()
}

fn has_secret(w: &World) -> bool {
    w.secrets
        .contains_key(&("demo".to_string(), "api-db".to_string()))
}

/// YY2. FACTS §2: the SPCPS controller requeues every 5 minutes ("check if secret and ownerRef
/// exists"): a deleted synced Secret is created again with rotation off, as KVC806 says
/// ("recreated at the driver's next reconcile (every 5 minutes)").
#[test]
fn a_deleted_synced_secret_is_made_again_within_five_minutes_with_rotation_off() {
    let timeline = "---
apiVersion: lab.kvchain.dev/v1
kind: Timeline
metadata: {name: delete}
spec:
  events:
    - at: 1m
      deleteSecret: {namespace: demo, name: api-db}
";
    let mut w = world(false, "Opaque", timeline);
    let before = chains_at(&mut w, Duration::from_secs(50));
    assert!(has_secret(&w), "the mount wrote it");
    assert!(found(&before, Code::KVC806).is_empty());

    let gone = chains_at(&mut w, Duration::from_secs(90));
    assert!(!has_secret(&w), "deleted at 1m");
    let kvc806 = found(&gone, Code::KVC806);
    assert!(!kvc806.is_empty(), "{gone:#?}");
    assert!(kvc806[0].message.contains("every 5 minutes"), "{kvc806:#?}");

    // Within 5 minutes of the delete (the pods' statuses were created in the first seconds,
    // so their requeue falls at about 5m), whatever rotation does.
    let back = chains_at(&mut w, Duration::from_secs(6 * 60));
    assert!(has_secret(&w), "made again by the requeue");
    assert!(found(&back, Code::KVC806).is_empty(), "{back:#?}");
}

/// YY1. Rotation on, and a Secret written before the run whose value differs from the mount:
/// the reconciler patches a Secret whose data differs at its next poll (FACTS §2), so nothing
/// is deleted; the env readers restart after that poll (a restart before it reads the old
/// value again, FACTS §11), and the value is never printed.
#[test]
fn with_rotation_on_a_secret_that_differs_waits_for_the_poll_then_restarts_readers() {
    let mut w = world(
        true,
        "Opaque",
        &existing_secret("Opaque", "older-value-canary-2c9"),
    );
    let chains = chains_at(&mut w, Duration::from_secs(60));
    let kvc805 = found(&chains, Code::KVC805);
    assert!(!kvc805.is_empty(), "{chains:#?}");
    for f in &kvc805 {
        assert_eq!(f.severity, Severity::Warning, "{f:#?}");
        assert!(
            f.message.contains("differs from what")
                && f.message.contains("its next poll, every 120s"),
            "{}",
            f.message
        );
        let fix: &str = &f.fix;
        assert!(fix.starts_with("# nothing to delete yet"), "{fix}");
        assert!(!fix.contains("kubectl delete secret"), "{fix}");
        let after = fix.find("after it, restart").expect(fix);
        assert!(
            fix[after..].contains("kubectl rollout restart deployment/api -n demo"),
            "{fix}"
        );
        let shown = format!("{f:?}");
        for canary in ["older-value-canary-2c9", "vault-value-canary-7f3"] {
            assert!(!shown.contains(canary), "{shown}");
        }
    }
    // The poll rewrote it: no difference is left to report.
    let later = chains_at(&mut w, Duration::from_secs(150));
    assert!(found(&later, Code::KVC805).is_empty(), "{later:#?}");
}

/// YY3. A Secret of another type than its entry now makes: its type cannot be changed, so
/// neither rotation's polls nor a restart rewrite it. One KVC805 error says so, with the
/// delete and remount that makes it anew, and it stays until that is done.
#[test]
fn a_secret_of_another_type_than_its_entry_makes_is_an_error_rotation_never_mends() {
    let mut w = world(
        true,
        "kubernetes.io/basic-auth",
        &existing_secret("Opaque", "vault-value-canary-7f3"),
    );
    let chains = chains_at(&mut w, Duration::from_secs(10 * 60));
    let kvc805 = found(&chains, Code::KVC805);
    assert!(!kvc805.is_empty(), "{chains:#?}");
    for f in &kvc805 {
        assert_eq!(f.severity, Severity::Error, "{f:#?}");
        assert!(
            f.message
                .contains("is of type Opaque, not the kubernetes.io/basic-auth"),
            "{}",
            f.message
        );
        assert!(
            !f.message.contains("differs from what"),
            "same value: {}",
            f.message
        );
        assert!(
            f.fix
                .starts_with("kubectl delete secret api-db -n demo --ignore-not-found"),
            "{}",
            f.fix
        );
    }
    // Without the type change, the same Secret is healthy.
    let mut same = world(
        true,
        "Opaque",
        &existing_secret("Opaque", "vault-value-canary-7f3"),
    );
    let chains = chains_at(&mut same, Duration::from_secs(10 * 60));
    assert!(found(&chains, Code::KVC805).is_empty(), "{chains:#?}");
}

/// YY4. FACTS §11 ("Owners"): a Deployment scaled to zero keeps its Secret (its ReplicaSet
/// lives), but no pod mounts the SPC, so no rotation poll keeps it current. A workload that
/// reads it without mounting is told the Secret is frozen and which workload to scale up,
/// not that the Secret "goes with its owners and is not created again".
#[test]
fn a_reader_of_a_secret_whose_only_mounter_is_scaled_to_zero_is_told_it_is_frozen() {
    let reader = format!("---\n{READER}");
    let all = docs(
        true,
        "Opaque",
        &format!(
            "{}{reader}",
            existing_secret("Opaque", "vault-value-canary-7f3")
        ),
    );
    let parked = all.replacen("  replicas: 2\n", "  replicas: 0\n", 1);
    assert_ne!(parked, all);
    let mut w = from_docs(&parked);
    let chains = chains_at(&mut w, Duration::from_secs(5 * 60));
    let kvc903 = found(&chains, Code::KVC903);
    assert!(!kvc903.is_empty(), "{chains:#?}");
    for f in &kvc903 {
        assert_eq!(&*f.resource, "Deployment/reader", "{f:#?}");
        assert!(
            f.message
                .contains("Deployment/api mounts it but is scaled to zero")
                && f.message.contains("frozen")
                && f.message
                    .contains("kubectl scale deployment/api -n demo --replicas=1"),
            "{}",
            f.message
        );
        assert!(!f.message.contains("is not created again"), "{}", f.message);
    }
}

/// YY5. A pod whose mount never succeeded runs no container (the kubelet starts none before its
/// volumes mount): its env readers are blocked by the root cause like every link after it, so
/// the Consumers link is drawn "blocked: Federation", not "no reloader". The design warning
/// (KVC902: nothing restarts env readers on rotation) stays listed, not blocked: annotating
/// the Deployment works whatever the federation does. Once the pods run, the link is the
/// warning's again.
#[test]
fn a_design_warning_does_not_hide_that_readers_wait_on_the_root_cause() {
    let subject = "subject: 'system:serviceaccount:demo:api'";
    let typo =
        docs(true, "Opaque", "").replace(subject, "subject: 'system:serviceaccount:demo:Api'");
    assert_ne!(
        typo,
        docs(true, "Opaque", ""),
        "the subject is in the documents"
    );
    let mut w = from_docs(&typo);
    let broken = chains_at(&mut w, Duration::from_secs(90));
    assert!(!found(&broken, Code::KVC401).is_empty(), "{broken:#?}");
    for c in &broken {
        let consumers = c.link(chain::LinkKind::Consumers);
        assert_eq!(consumers.status, chain::Status::Pending, "{c:#?}");
        assert_eq!(&*consumers.summary, "blocked: Federation", "{c:#?}");
        let design: Vec<&Finding> = consumers.findings.iter().collect();
        assert!(
            design.iter().any(|f| f.code == Code::KVC902
                && f.severity == Severity::Warning
                && f.follows.is_none()),
            "{design:#?}"
        );
    }

    let mut healthy = world(true, "Opaque", "");
    let running = chains_at(&mut healthy, Duration::from_secs(90));
    for c in &running {
        let consumers = c.link(chain::LinkKind::Consumers);
        assert_eq!(consumers.status, chain::Status::Warning, "{c:#?}");
        assert_eq!(&*consumers.summary, "no reloader", "{c:#?}");
    }
}

/// CCC1. A key one entry names twice holds the later item's file at every build (the driver
/// fills the data item by item, FACTS §2): the Secret is not stale against the earlier file,
/// so no delete-and-restart (KVC805) that would only build the same value again; the entry
/// is the cause (KVC807).
#[test]
fn a_key_named_twice_is_the_entrys_fault_not_a_stale_secret() {
    let docs = with_db_user(docs(true, "Opaque", ""), "")
        .replace(
            "        - {objectName: db-password, key: password}",
            "        - {objectName: db-password, key: password}\n        - {objectName: db-user, key: password}",
        );
    assert!(docs.contains("db-user, key: password"), "{docs}");
    let mut w = from_docs(&docs);
    for at in [90, 15 * 60] {
        let chains = chains_at(&mut w, Duration::from_secs(at));
        assert!(found(&chains, Code::KVC805).is_empty(), "{chains:#?}");
        let twin = found(&chains, Code::KVC807);
        assert!(
            twin.iter().any(|f| f
                .message
                .contains("writes key password of Secret api-db twice")),
            "{chains:#?}"
        );
    }
}

/// CCC2. With objectVersionHistory, disabling the newest version moves index 0 back to an
/// older one at the next poll (history lists enabled versions only, FACTS §5). An env reader
/// started before took the version disabled since: it is never told it "holds the same
/// value" — when the version was disabled is not observed, so the copy may be the old one.
#[test]
fn a_history_index_moved_back_by_a_disable_is_no_same_value() {
    let timeline = "---
apiVersion: lab.kvchain.dev/v1
kind: Timeline
metadata: {name: disable}
spec:
  events:
    - at: 1m
      applyFault: {id: disable-object}
";
    let docs = docs(true, "Opaque", timeline)
        .replace(
            "    - {name: db-password, value: vault-value-canary-7f3}",
            "    - name: db-password\n      versions:\n        - {value: hist-canary-1}\n        - {value: hist-canary-2}\n        - {value: hist-canary-3}",
        )
        .replace(
            "          objectName: db-password\n          objectType: secret\n",
            "          objectName: db-password\n          objectType: secret\n          objectVersionHistory: 2\n",
        )
        .replace(
            "{objectName: db-password, key: password}",
            "{objectName: db-password/0, key: password}",
        );
    assert!(docs.contains("objectVersionHistory: 2"), "{docs}");
    let mut w = from_docs(&docs);
    let chains = chains_at(&mut w, Duration::from_secs(180));
    let stale = found(&chains, Code::KVC901);
    assert!(!stale.is_empty(), "{chains:#?}");
    for f in &stale {
        assert!(f.severity >= Severity::Warning, "{f:#?}");
        assert!(!f.message.contains("holds the value it held"), "{f:#?}");
    }
}

/// CCC4. The API server refuses a Secret whose data key is no config key (`db/password`, a
/// path copied from an objectAlias): the driver's create fails at every attempt, so the lab
/// makes no Secret, and the entry's key is the one cause (KVC806 naming it, one finding).
#[test]
fn a_data_key_the_api_server_refuses_makes_no_secret() {
    let docs = docs(true, "Opaque", "").replace(
        "{objectName: db-password, key: password}",
        "{objectName: db-password, key: db/password}",
    );
    assert!(docs.contains("key: db/password"), "{docs}");
    let mut w = from_docs(&docs);
    let chains = chains_at(&mut w, Duration::from_secs(150));
    assert!(!has_secret(&w), "the API server refuses it");
    let refused = found(&chains, Code::KVC806);
    let about_key: Vec<&Finding> = (refused.iter())
        .filter(|f| f.message.contains("data key \"db/password\""))
        .collect();
    assert!(!about_key.is_empty(), "{chains:#?}");
    assert!(
        about_key
            .iter()
            .all(|f| f.fix.contains("data[0].key: password (not db/password)")),
        "{about_key:#?}"
    );
    // One cause: no second KVC806 saying the Secret is missing for a reason not known.
    let mut causes: Vec<&str> = (refused.iter())
        .filter(|f| f.follows.is_none())
        .map(|f| f.message.as_str())
        .collect();
    causes.dedup();
    assert_eq!(causes.len(), 1, "{refused:#?}");
}

/// CCC8. Two objects mounted as one file: the driver keeps the later payload (its file map is
/// filled in the provider's order), so the synced key read from that file holds the later
/// object's value. The clash (KVC706) is the one cause and says which value the key carries;
/// the Sync link does not read healthy.
#[test]
fn a_synced_key_fed_by_a_clashing_file_is_said_to_hold_the_later_value() {
    let docs = with_db_user(
        docs(true, "Opaque", ""),
        "          objectAlias: db-password\n",
    );
    assert!(docs.contains("objectAlias: db-password"), "{docs}");
    let mut w = from_docs(&docs);
    let chains = chains_at(&mut w, Duration::from_secs(120));
    assert!(has_secret(&w), "the driver builds it, from the later file");
    let clash = found(&chains, Code::KVC706);
    assert!(
        clash.iter().any(|f| f.message.contains(
            "the file holds objects[1] db-user's value, the last written, and synced Secret api-db key password carries it"
        )),
        "{clash:#?}"
    );
    for c in &chains {
        let sync = c.link(LinkKind::Sync);
        assert_ne!(sync.status, Status::Ok, "{c:#?}");
        assert_eq!(&*sync.summary, "blocked: Mount", "{c:#?}");
    }
}

/// CCC7. An object's file named like another object's version directory (`multi` beside
/// `multi/0`, FACTS §5): the driver's writer cannot hold both, so the mount fails (a
/// FileWriteError in FailedMount, FACTS §3) and nothing is overwritten. One cause, KVC706,
/// with that FailedMount as its evidence; no "no rule explains" beside it.
#[test]
fn a_file_named_like_a_version_directory_fails_every_mount() {
    let docs = docs(true, "Opaque", "")
        .replace(
            "    - {name: db-password, value: vault-value-canary-7f3}",
            "    - {name: db-password, value: vault-value-canary-7f3}\n    - name: multi\n      versions:\n        - {value: hist-canary-1}\n        - {value: hist-canary-2}",
        )
        .replace(
            "          objectName: db-password\n          objectType: secret\n",
            "          objectName: db-password\n          objectType: secret\n          objectAlias: multi\n        - |\n          objectName: multi\n          objectType: secret\n          objectVersionHistory: 2\n",
        )
        .replace(
            "{objectName: db-password, key: password}",
            "{objectName: multi, key: password}",
        );
    assert!(docs.contains("objectVersionHistory: 2"), "{docs}");
    let mut w = from_docs(&docs);
    let chains = chains_at(&mut w, Duration::from_secs(150));
    assert!(!has_secret(&w), "no mount, no Secret");
    assert!(
        w.events
            .iter()
            .any(|e| e.reason == "FailedMount" && e.message.contains("/multi: not a directory")),
        "{:#?}",
        w.events
    );
    assert!(found(&chains, Code::KVC701).is_empty(), "{chains:#?}");
    let clash = found(&chains, Code::KVC706);
    assert!(!clash.is_empty(), "{chains:#?}");
    for f in &clash {
        assert!(f.message.contains("the driver cannot write both"), "{f:#?}");
        assert!(!f.message.contains("overwrites"), "{f:#?}");
        assert!(
            f.fix.contains("give objects[0] a distinct objectAlias"),
            "{f:#?}"
        );
    }
    assert!(
        clash
            .iter()
            .any(|f| f.evidence.iter().any(|e| e.contains("not a directory"))),
        "{clash:#?}"
    );
    for c in &chains {
        assert_ne!(c.link(LinkKind::Mount).status, Status::Ok, "{c:#?}");
        assert_ne!(c.link(LinkKind::Sync).status, Status::Ok, "{c:#?}");
    }
}

/// CCC5. The SPCPS controller returns from its reconcile at the first create the API server
/// refuses (a basic-auth entry with neither username nor password), at every retry, so a
/// later entry's Secret is never made either (FACTS §2, [D] the controller's backoff). The
/// refused entry is the one cause and names the later Secret; its readers wait on it.
#[test]
fn a_refused_create_stops_the_driver_before_the_later_entries() {
    let docs = docs(true, "Opaque", "").replace(
        "  secretObjects:\n",
        "  secretObjects:\n    - secretName: api-basic\n      type: kubernetes.io/basic-auth\n      data:\n        - {objectName: db-password, key: user}\n",
    );
    assert!(docs.contains("secretName: api-basic"), "{docs}");
    let mut w = from_docs(&docs);
    let chains = chains_at(&mut w, Duration::from_secs(400));
    assert!(!has_secret(&w), "the driver never reaches api-db");
    let refused = found(&chains, Code::KVC806);
    let causes: Vec<&Finding> = refused.iter().filter(|f| f.follows.is_none()).collect();
    assert!(!causes.is_empty(), "{chains:#?}");
    for f in &causes {
        assert!(
            f.message.contains("secretObjects entry api-basic"),
            "{f:#?}"
        );
        assert!(
            f.message
                .contains("so it never makes Secret api-db (later entry) either"),
            "{f:#?}"
        );
    }
    for c in &chains {
        let consumers = c.link(LinkKind::Consumers);
        assert_ne!(consumers.status, Status::Ok, "{c:#?}");
        assert!(consumers.summary.starts_with("blocked"), "{c:#?}");
    }
}

/// CCC14. An entry without a type fails the driver's validation before any file is read: the
/// SPCPS controller only logs it (no event) and the ≤v1.5 rotation reconciler reports it as
/// SecretRotationFailed ("failed validation for secret object …"), never FailedToCreateSecret
/// ([D] and [D5] ValidateSecretObject). The SPC itself shows the cause (KVC806).
#[test]
fn an_entry_without_a_type_is_logged_by_the_controller_and_reported_by_rotation() {
    let mut w = world(true, "''", "");
    let chains = chains_at(&mut w, Duration::from_secs(300));
    assert!(!has_secret(&w));
    assert!(
        !w.events.iter().any(|e| e.reason == "FailedToCreateSecret"),
        "{:#?}",
        w.events
    );
    assert!(
        w.events.iter().any(|e| e.reason == "SecretRotationFailed"
            && e.message
                == "failed validation for secret object in spc demo/api-kv, err: secret type is empty"),
        "{:#?}",
        w.events
    );
    let invalid = found(&chains, Code::KVC806);
    assert!(
        invalid
            .iter()
            .any(|f| f.message.contains("is invalid (secret type is empty)")),
        "{chains:#?}"
    );
}

/// CCC6. A dockerconfigjson entry with its key right, from a vault secret that is no JSON: the
/// API server refuses the value (Kubernetes `ValidateSecret`), and every new mount fetches the
/// same value. The finding names the vault secret to correct and checks it without showing
/// it; its fix changes the value, not the pod.
#[test]
fn a_docker_config_that_is_no_json_is_fixed_in_the_vault_not_by_a_remount() {
    let docs = docs(true, "kubernetes.io/dockerconfigjson", "").replace(
        "{objectName: db-password, key: password}",
        "{objectName: db-password, key: .dockerconfigjson}",
    );
    let mut w = from_docs(&docs);
    let chains = chains_at(&mut w, Duration::from_secs(200));
    assert!(!has_secret(&w), "the API server refuses it");
    let refused = found(&chains, Code::KVC806);
    let json: Vec<&Finding> = (refused.iter())
        .filter(|f| f.message.contains("which must be JSON"))
        .collect();
    assert!(!json.is_empty(), "{refused:#?}");
    for f in &json {
        assert!(f.message.contains("Key Vault secret db-password"), "{f:#?}");
        assert!(
            crate::xd_paste::after_guards(&f.fix)
                .starts_with("az keyvault secret set --vault-name kv-life --name db-password"),
            "{f:#?}"
        );
        assert!(f.confirm.contains("jq -e . > /dev/null"), "{f:#?}");
        for text in [&f.message, &f.fix, &f.confirm] {
            assert!(!text.contains("vault-value-canary-7f3"), "{f:#?}");
        }
    }
}
