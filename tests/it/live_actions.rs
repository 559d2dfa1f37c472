//! Actions on the running live source, end to end through the audit wrapper: the rotation
//! test against Key Vault (in-process Azure transport: the SDK refuses bearer tokens over
//! plain http), its refusals and the restore of a named version; and the harness (a running
//! source, a vault holding a canary) that live_reveal_verify and others share. Canary values
//! must never appear in an outcome message or the audit log.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::azure_support::{self, FakeAzure, Route};
use crate::exec_support;
use crate::live_support::*;
use azure_core::http::Method;
use kvchain::action::reveal::{RevealTarget, Revealed};
use kvchain::action::{Action, ActionOutcome};
use kvchain::snapshot::{Observed, Snapshot};
use kvchain::source::audited::Audited;
use kvchain::source::live::{LiveSource, Scope};
use kvchain::source::{PermissionQuestion, Source, SourceCommand, SourceEvent, request};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

pub(crate) const KV: &str = "kv-payments.vault.azure.net";
pub(crate) const VAULT: &str = "kv-payments";
pub(crate) const OBJECT: &str = "db-password";
pub(crate) const CANARY_KV: &str = "CANARY-keyvault-91f4-do-not-print";
pub(crate) const NEW_VERSION: &str = "03bcccc7c8cf4546a0e3e21e52560441";

pub(crate) struct Running {
    events: mpsc::UnboundedReceiver<SourceEvent>,
    commands: mpsc::UnboundedSender<SourceCommand>,
    audit: PathBuf,
    _dir: tempfile::TempDir,
    _server: wiremock::MockServer,
    /// Every outcome and reveal error seen, for the canary sweep.
    said: Vec<String>,
}

/// The `world()` cluster behind the audit wrapper, with Azure on `fake` (or `--no-azure`);
/// returns once the first snapshot is out.
pub(crate) async fn start(api: &FakeApi, fake: Option<&Arc<FakeAzure>>) -> Running {
    start_on(api, fake, None).await
}

/// As [`start`]; with `exec`, the cluster URL is the exec front (`exec_support`), which
/// answers execs itself and forwards everything else to the fake API server.
pub(crate) async fn start_on(
    api: &FakeApi,
    fake: Option<&Arc<FakeAzure>>,
    exec: Option<exec_support::Answer>,
) -> Running {
    api.raw(
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
               "spec": {}, "status": {"allowed": true}}),
    );
    let server = api.serve().await;
    let kube = match exec {
        Some(answer) => {
            let (url, _) = exec_support::serve(answer, Some(*server.address())).await;
            exec_support::client(&url)
        }
        None => client(&server),
    };
    let mut live =
        LiveSource::new(kube, "aks-test", Scope::All, no_azure()).with_options(options());
    if let Some(fake) = fake {
        live = live.with_azure_observer(azure_support::observer(fake, Duration::from_secs(60)));
    }
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let src = Audited::new(Box::new(live), Some(audit.clone()));
    let (etx, mut erx) = mpsc::unbounded_channel();
    let (ctx, crx) = mpsc::unbounded_channel();
    tokio::spawn(Box::new(src).run(etx, crx));
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(20), erx.recv())
            .await
            .expect("a snapshot within 20s")
            .expect("source running");
        if let SourceEvent::Snapshot(_) = ev {
            break;
        }
    }
    Running {
        events: erx,
        commands: ctx,
        audit,
        _dir: dir,
        _server: server,
        said: Vec::new(),
    }
}

impl Running {
    /// The first snapshot satisfying `pred`, within `secs`.
    pub(crate) async fn until(
        &mut self,
        secs: u64,
        pred: impl Fn(&Snapshot) -> bool,
    ) -> Arc<Snapshot> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let ev = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .unwrap_or_else(|_| panic!("no matching snapshot in {secs}s"))
                .expect("source running");
            if let SourceEvent::Snapshot(s) = ev
                && pred(&s)
            {
                return s;
            }
        }
    }

    /// Send a command carrying a reply channel; its answer, within 20 s.
    pub(crate) async fn ask<T>(
        &self,
        command: impl FnOnce(oneshot::Sender<T>) -> SourceCommand,
    ) -> T {
        request(&self.commands, command)
            .expect("source running")
            .within(Duration::from_secs(20))
            .await
            .expect("answered within 20s")
    }

    pub(crate) async fn act(&mut self, action: Action) -> ActionOutcome {
        let out = self.ask(|reply| SourceCommand::Act { action, reply }).await;
        self.said.push(out.message.clone());
        out
    }

    pub(crate) async fn permitted(
        &mut self,
        question: impl Into<PermissionQuestion>,
    ) -> Result<(), String> {
        let question = question.into();
        self.ask(|reply| SourceCommand::Permission { question, reply })
            .await
    }

    pub(crate) async fn reveal(&mut self, target: RevealTarget) -> Result<Revealed, String> {
        let r = self
            .ask(|reply| SourceCommand::Reveal { target, reply })
            .await;
        match &r {
            Ok(v) => self.said.push(format!("{v} {v:?}")),
            Err(e) => self.said.push(e.clone()),
        }
        r
    }

    pub(crate) fn audit_lines(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.audit)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// No canary in anything the source said or recorded.
    pub(crate) fn assert_no_canary(&self) {
        let audit = std::fs::read_to_string(&self.audit).unwrap_or_default();
        for text in self.said.iter().chain(std::iter::once(&audit)) {
            for canary in [CANARY_KV, CANARY, CANARY_NAMED, CANARY_UNRELATED] {
                assert!(!text.contains(canary), "canary leaked: {text}");
            }
        }
    }
}

pub(crate) const OLD_VERSION: &str = "b82206cb5ac249918008b0b97fd1fd66";

/// The latest version of db-password in the snapshot's Azure side.
pub(crate) fn latest_version(s: &Snapshot) -> Option<String> {
    s.azure
        .objects
        .iter()
        .find(|o| o.vault == VAULT && o.name == OBJECT)
        .and_then(|o| match &o.state {
            Observed::Known(Some(v)) => v.latest().map(|l| l.version.clone()),
            _ => None,
        })
}

pub(crate) fn rotate(marker: bool) -> Action {
    Action::Rotate {
        vault: VAULT.into(),
        object: OBJECT.into(),
        marker,
    }
}

/// The secret bundle Key Vault returns (upstream GetSecret/SetSecret example shape).
pub(crate) fn bundle(value: &str, version: &str) -> String {
    json!({
        "value": value,
        "id": format!("https://{KV}/secrets/{OBJECT}/{version}"),
        "contentType": "text/plain",
        "tags": {"owner": "payments"},
        "attributes": {"enabled": true, "created": 1493938410, "updated": 1493938410,
                       "recoveryLevel": "Recoverable+Purgeable"}
    })
    .to_string()
}

/// Key Vault with `db-password` at CANARY_KV (GET with or without the trailing slash the
/// SDK leaves for "latest").
pub(crate) fn vault_with_secret() -> Arc<FakeAzure> {
    let fake = Arc::new(FakeAzure::default());
    let current = bundle(CANARY_KV, OLD_VERSION);
    fake.add(Route::get(KV, &format!("/secrets/{OBJECT}/")).reply(200, current.clone()))
        .add(Route::get(KV, &format!("/secrets/{OBJECT}")).reply(200, current))
        .add(
            Route::get(KV, &format!("/secrets/{OBJECT}/versions")).reply(
                200,
                json!({"value": [{"id": format!("https://{KV}/secrets/{OBJECT}/{OLD_VERSION}"),
                                  "attributes": {"enabled": true, "created": 1700000000}}]})
                .to_string(),
            ),
        );
    fake
}

pub(crate) fn forbidden_by_rbac() -> String {
    json!({"error": {"code": "Forbidden",
        "message": "Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: appid=04b07795-8ddb-461a-bbee-02f9e1bf7b46;oid=4ae2e6c8-2c4d-4b4e-9a3e-7f2b1c0d9e8f\r\nAction: 'Microsoft.KeyVault/vaults/secrets/setSecret/action'\r\nResource: '/subscriptions/a925f2f7/resourcegroups/rg-kv/providers/microsoft.keyvault/vaults/kv-payments/secrets/db-password'",
        "innererror": {"code": "ForbiddenByRbac"}}})
    .to_string()
}

/// The bodies of the PUTs that reached `…/secrets/db-password`.
pub(crate) fn puts(fake: &FakeAzure) -> Vec<Value> {
    fake.bodies()
        .into_iter()
        .filter(|(line, _)| line == &format!("PUT {KV}/secrets/{OBJECT}"))
        .map(|(_, b)| serde_json::from_str(&b).unwrap())
        .collect()
}

#[tokio::test]
async fn rotation_re_stamps_the_current_value_as_a_new_version() {
    let fake = vault_with_secret();
    fake.add(
        Route::new(Method::Put, KV, &format!("/secrets/{OBJECT}"))
            .reply(200, bundle(CANARY_KV, NEW_VERSION)),
    );
    let mut run = start(&world(), Some(&fake)).await;
    // Before the write, the vault lists only the old version.
    let versions = |ids: &[&str]| {
        let value: Vec<Value> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                json!({"id": format!("https://{KV}/secrets/{OBJECT}/{id}"),
                                  "attributes": {"enabled": true, "created": 1700000000 + i}})
            })
            .collect();
        json!({"value": value}).to_string()
    };
    run.until(10, |s| latest_version(s).as_deref() == Some(OLD_VERSION))
        .await;
    fake.add_first(
        Route::get(KV, &format!("/secrets/{OBJECT}/versions"))
            .reply(200, versions(&[OLD_VERSION, NEW_VERSION])),
    );
    let out = run.act(rotate(false)).await;
    assert!(out.ok, "{}", out.message);
    // The Azure side is re-read at once, not at the next 60 s interval, so the timeline's
    // first hop (the vault's latest version) moves right after the write.
    run.until(10, |s| latest_version(s).as_deref() == Some(NEW_VERSION))
        .await;
    // Audit VVV-time: the status line cuts the id to 8 characters, as the timeline and the
    // lab show it (whole, the line took three rows at 80 columns); the audit log keeps it whole.
    assert_eq!(
        out.message,
        format!("new version 03bcccc7… of {VAULT}/{OBJECT} written (same value re-stamped)")
    );
    assert!(crate::vvv_time::status_rows_at_80(&out) <= 2, "{out:?}");
    // What was written: the same value, content type and tags, to the secret's own URL.
    let put = puts(&fake);
    assert_eq!(put.len(), 1, "{:?}", fake.log());
    assert_eq!(put[0]["value"], CANARY_KV);
    assert_eq!(put[0]["contentType"], "text/plain");
    assert_eq!(put[0]["tags"]["owner"], "payments");
    assert!(
        fake.log()
            .iter()
            .any(|l| l.starts_with(&format!("PUT {KV}/secrets/{OBJECT}?api-version="))),
        "{:?}",
        fake.log()
    );
    let audit = run.audit_lines();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0]["action"], "rotate");
    assert_eq!(
        audit[0]["target"],
        format!("keyvault {VAULT}/secrets/{OBJECT}")
    );
    assert_eq!(audit[0]["result"], "ok");
    assert_eq!(
        audit[0]["message"],
        format!("new version {NEW_VERSION} of {VAULT}/{OBJECT} written (same value re-stamped)")
    );
    run.assert_no_canary();
}

/// After a marker, `M` again restores: the value of the version before the marker is read
/// (that version, not the latest) and written as a new version; the audit says `restore`.
#[tokio::test]
async fn restore_writes_the_value_of_the_named_version_again() {
    const MARKED: &str = "kvchain-rotation-test-1700000000";
    let fake = Arc::new(FakeAzure::default());
    fake.add(
        Route::get(KV, &format!("/secrets/{OBJECT}/")).reply(200, bundle(MARKED, NEW_VERSION)),
    )
    .add(
        Route::get(KV, &format!("/secrets/{OBJECT}/{OLD_VERSION}"))
            .reply(200, bundle(CANARY_KV, OLD_VERSION)),
    )
    .add(
        Route::new(Method::Put, KV, &format!("/secrets/{OBJECT}"))
            .reply(200, bundle(CANARY_KV, "0a1b2c3d4e5f60718293a4b5c6d7e8f9")),
    );
    let mut run = start(&world(), Some(&fake)).await;
    let out = run
        .act(Action::Restore {
            vault: VAULT.into(),
            object: OBJECT.into(),
            version: OLD_VERSION.into(),
        })
        .await;
    assert!(out.ok, "{}", out.message);
    assert_eq!(
        out.message,
        format!(
            "new version 0a1b2c3d… of {VAULT}/{OBJECT} written (value of version b82206cb… restored)"
        )
    );
    assert!(crate::vvv_time::status_rows_at_80(&out) <= 2, "{out:?}");
    let put = puts(&fake);
    assert_eq!(put.len(), 1, "{:?}", fake.log());
    assert_eq!(put[0]["value"], CANARY_KV, "the old value, not the marker");
    let audit = run.audit_lines();
    assert_eq!(audit[0]["action"], "restore");
    assert_eq!(
        audit[0]["message"],
        format!(
            "new version 0a1b2c3d4e5f60718293a4b5c6d7e8f9 of {VAULT}/{OBJECT} written (value of version {OLD_VERSION} restored)"
        )
    );
    assert_eq!(
        audit[0]["target"],
        format!("keyvault {VAULT}/secrets/{OBJECT} from version {OLD_VERSION}")
    );
    run.assert_no_canary();
}

#[tokio::test]
async fn marker_mode_writes_the_marker_not_the_value() {
    let fake = vault_with_secret();
    fake.add(
        Route::new(Method::Put, KV, &format!("/secrets/{OBJECT}"))
            .reply(200, bundle("kvchain-rotation-test-1", NEW_VERSION)),
    );
    let mut run = start(&world(), Some(&fake)).await;
    let out = run.act(rotate(true)).await;
    assert!(out.ok, "{}", out.message);
    assert!(out.message.ends_with("(marker value)"), "{}", out.message);
    let put = puts(&fake);
    assert_eq!(put.len(), 1);
    let written = put[0]["value"].as_str().unwrap();
    assert!(written.starts_with("kvchain-rotation-test-"), "{written}");
    assert_eq!(run.audit_lines()[0]["action"], "rotate-marker");
    run.assert_no_canary();
}

#[tokio::test]
async fn forbidden_write_names_vault_object_and_the_missing_permission() {
    let fake = vault_with_secret();
    fake.add(
        Route::new(Method::Put, KV, &format!("/secrets/{OBJECT}")).reply(403, forbidden_by_rbac()),
    );
    let mut run = start(&world(), Some(&fake)).await;
    let out = run.act(rotate(false)).await;
    assert!(!out.ok);
    let m = &out.message;
    assert!(m.starts_with("refused:"), "{m}");
    assert!(m.contains("secret db-password in vault kv-payments"), "{m}");
    assert!(m.contains("403 Forbidden (ForbiddenByRbac)"), "{m}");
    assert!(m.contains("Key Vault Secrets Officer"), "{m}");
    assert!(m.contains("secrets/set"), "{m}");
    let audit = run.audit_lines();
    assert_eq!(audit.len(), 1, "refused writes are recorded too");
    assert_ne!(audit[0]["result"], "ok");
    run.assert_no_canary();
}

#[tokio::test]
async fn forbidden_read_before_the_re_stamp_says_so() {
    let fake = Arc::new(FakeAzure::default());
    fake.add(Route::get(KV, &format!("/secrets/{OBJECT}/")).reply(403, forbidden_by_rbac()));
    let mut run = start(&world(), Some(&fake)).await;
    let out = run.act(rotate(false)).await;
    assert!(!out.ok);
    assert!(
        out.message
            .contains("may not read secret db-password in vault kv-payments"),
        "{}",
        out.message
    );
    assert!(
        puts(&fake).is_empty(),
        "nothing written after a failed read"
    );
}

#[tokio::test]
async fn without_azure_rotation_and_vault_reveal_are_refused_with_the_reason() {
    let mut run = start(&world(), None).await;
    let out = run.act(rotate(false)).await;
    assert!(!out.ok);
    assert_eq!(
        out.message,
        "cannot rotate kv-payments/db-password: the Azure side is unavailable: Azure disabled (--no-azure)"
    );
    let err = run
        .reveal(RevealTarget::VaultSecret {
            vault: VAULT.into(),
            object: OBJECT.into(),
            version: None,
        })
        .await
        .unwrap_err();
    assert!(err.contains("Azure disabled (--no-azure)"), "{err}");
}

#[tokio::test]
async fn pinned_and_unmounted_objects_are_refused_before_any_azure_call() {
    let api = world();
    let mut vars = VARS.to_vec();
    vars.retain(|(k, _)| *k != "SECRET_NAME" && *k != "SECRET_VERSION");
    vars.push(("SECRET_NAME", "pinned-password"));
    vars.push(("SECRET_VERSION", "b82206cb5ac249918008b0b97fd1fd66"));
    let mut pinned = upstream("spc-azure-wi-synck8s.yaml", &vars);
    pinned["metadata"]["namespace"] = json!(NS);
    pinned["metadata"]["name"] = json!("azure-pinned");
    api.add(SPCS, pinned);
    let fake = Arc::new(FakeAzure::default());
    let mut run = start(&api, Some(&fake)).await;
    let before = fake.log().len();
    let out = run
        .act(Action::Rotate {
            vault: VAULT.into(),
            object: "pinned-password".into(),
            marker: false,
        })
        .await;
    assert!(!out.ok);
    assert!(
        out.message
            .contains("objectVersion is pinned to b82206cb5ac249918008b0b97fd1fd66"),
        "{}",
        out.message
    );
    assert!(
        out.message.contains("payments/azure-pinned"),
        "{}",
        out.message
    );
    let out = run
        .act(Action::Rotate {
            vault: VAULT.into(),
            object: "not-mounted".into(),
            marker: false,
        })
        .await;
    assert!(
        out.message
            .contains("no SecretProviderClass mounts not-mounted from vault kv-payments"),
        "{}",
        out.message
    );
    let vault_calls: Vec<String> = fake.log()[before..]
        .iter()
        .filter(|l| l.contains(KV) && !l.contains("/versions"))
        .cloned()
        .collect();
    assert!(vault_calls.is_empty(), "{vault_calls:?}");
}

pub(crate) fn verify_busybox() -> Action {
    Action::Verify {
        namespace: NS.into(),
        pod: POD.into(),
        container: "busybox".into(),
    }
}
