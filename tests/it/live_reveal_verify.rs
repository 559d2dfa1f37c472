//! Reading on the running live source, end to end through the audit wrapper: reveal from
//! the vault and from a Kubernetes Secret, and verify in container (execs answered over a real
//! websocket by `exec_support`, which fronts the fake API server; without it the exec fails,
//! and what was asked is asserted). Canary values must never appear in an outcome message or
//! the audit log.

use crate::azure_support::Route;
use crate::exec_support::Exec;
use crate::live_actions::*;
use crate::live_support::*;
use kvchain::action::reveal::RevealTarget;
use serde_json::json;

#[tokio::test]
async fn reveal_reads_the_vault_and_the_synced_secret_wrapped() {
    let fake = vault_with_secret();
    fake.add(Route::get(KV, "/secrets/locked/").reply(403, forbidden_by_rbac()))
        .add(
            Route::get(KV, "/secrets/switched-off/").reply(
                403,
                json!({"error": {"code": "Forbidden",
                             "message": "Operation get is not allowed on a disabled secret.",
                             "innererror": {"code": "SecretDisabled"}}})
                .to_string(),
            ),
        );
    let api = world();
    let mut run = start(&api, Some(&fake)).await;

    let v = run
        .reveal(RevealTarget::VaultSecret {
            vault: VAULT.into(),
            object: OBJECT.into(),
            version: None,
        })
        .await
        .unwrap();
    assert_eq!(v.expose(), CANARY_KV);

    let k = run
        .reveal(RevealTarget::SecretKey {
            namespace: NS.into(),
            secret: "foosecret".into(),
            key: "username".into(),
        })
        .await
        .unwrap();
    assert_eq!(k.expose(), CANARY);
    assert!(
        api.requests()
            .iter()
            .any(|r| r.starts_with("GET")
                && r.contains("/api/v1/namespaces/payments/secrets/foosecret")),
        "read by name: {:?}",
        api.requests()
    );

    let err = run
        .reveal(RevealTarget::SecretKey {
            namespace: NS.into(),
            secret: "foosecret".into(),
            key: "password".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err, "Secret payments/foosecret has no key password");

    let err = run
        .reveal(RevealTarget::VaultSecret {
            vault: VAULT.into(),
            object: "locked".into(),
            version: None,
        })
        .await
        .unwrap_err();
    assert!(
        err.contains("may not read secret locked in vault kv-payments"),
        "{err}"
    );
    assert!(err.contains("Key Vault Secrets User"), "{err}");

    let err = run
        .reveal(RevealTarget::VaultSecret {
            vault: VAULT.into(),
            object: "switched-off".into(),
            version: None,
        })
        .await
        .unwrap_err();
    assert_eq!(
        err,
        "the latest version of secret switched-off in vault kv-payments is disabled (403 Forbidden (SecretDisabled))"
    );
    assert!(run.audit_lines().is_empty(), "reveals are not writes");
    run.assert_no_canary();
}

#[tokio::test]
async fn forbidden_secret_reveal_names_the_permission() {
    let api = world();
    let mut run = start(&api, None).await;
    api.forbid("/api/v1/namespaces/payments/secrets/foosecret");
    let err = run
        .reveal(RevealTarget::SecretKey {
            namespace: NS.into(),
            secret: "foosecret".into(),
            key: "username".into(),
        })
        .await
        .unwrap_err();
    assert!(
        err.starts_with("not allowed to read Secret payments/foosecret"),
        "{err}"
    );
    assert!(
        err.contains("needs get on secrets in namespace payments"),
        "{err}"
    );
    run.assert_no_canary();
}

#[tokio::test]
async fn verify_checks_exec_permission_and_reads_the_planned_files() {
    let api = world();
    let mut run = start(&api, None).await;
    let out = run.act(verify_busybox()).await;
    // The fake API server cannot upgrade to a websocket: the exec fails and says so.
    assert!(!out.ok);
    assert!(
        out.message
            .starts_with("file /mnt/secrets-store/secretalias: cannot verify: NotFound (404)"),
        "{}",
        out.message
    );
    let reqs = api.requests();
    let review = reqs
        .iter()
        .position(|r| r.starts_with("POST") && r.contains("selfsubjectaccessreviews"));
    let exec = reqs
        .iter()
        .position(|r| r.contains(&format!("/pods/{POD}/exec")));
    let (Some(review), Some(exec)) = (review, exec) else {
        panic!("no access review then exec: {reqs:?}");
    };
    assert!(review < exec, "permission is checked first");
    let exec = &reqs[exec];
    assert!(exec.contains("command=cat"), "{exec}");
    assert!(
        exec.contains("command=%2Fmnt%2Fsecrets-store%2Fsecretalias"),
        "{exec}"
    );
    assert!(exec.contains("container=busybox"), "{exec}");
    assert!(run.audit_lines().is_empty(), "verify is not a write");
    run.assert_no_canary();
}

#[tokio::test]
async fn verify_refused_without_exec_permission() {
    let api = world();
    let mut run = start(&api, None).await;
    api.raw(
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
               "spec": {}, "status": {"allowed": false, "reason": "no RBAC policy matched"}}),
    );
    let out = run.act(verify_busybox()).await;
    assert!(!out.ok);
    assert_eq!(
        out.message,
        format!(
            "cannot verify: not allowed to create pods/exec {NS}/{POD}: no RBAC policy matched"
        )
    );
    assert!(!api.requests().iter().any(|r| r.contains("/exec")));
}

/// Asked ahead of time (so the UI can grey the keys): the same access reviews as the actions,
/// and nothing is carried out or recorded.
/// `world()` with the pod reading `foosecret` through an env var, as the upstream
/// Deployment does.
fn world_with_env_consumer() -> FakeApi {
    let api = world();
    let mut p = pod("azure-sync", "Running");
    p["spec"]["containers"][0]["env"] = json!([{"name": "SECRET_USERNAME",
        "valueFrom": {"secretKeyRef": {"name": "foosecret", "key": "username"}}}]);
    api.replace_silently(PODS, vec![p]);
    api
}

#[tokio::test]
async fn verify_in_container_finds_the_file_fresh_and_the_env_stale() {
    let mut run = start_on(
        &world_with_env_consumer(),
        None,
        Some(|cmd| match cmd {
            [c, p] if c == "cat" && p == "/mnt/secrets-store/secretalias" => {
                Exec::Prints(CANARY.as_bytes().to_vec())
            }
            [c, p] if c == "cat" && p == "/proc/1/environ" => {
                Exec::Prints(b"PATH=/bin\0SECRET_USERNAME=the-value-before-rotation\0".to_vec())
            }
            _ => Exec::Fails("command terminated with non-zero exit code: exit code 1"),
        }),
    )
    .await;
    let out = run.act(verify_busybox()).await;
    assert!(out.ok, "{}", out.message);
    assert_eq!(
        out.message,
        "file /mnt/secrets-store/secretalias: matches synced Secret foosecret (key username)\n\
         env SECRET_USERNAME: differs from synced Secret foosecret (key username) (stale: restart needed)"
    );
    assert!(run.audit_lines().is_empty(), "verify is not a write");
    run.assert_no_canary();
}

#[tokio::test]
async fn verify_in_a_distroless_container_says_why_once() {
    let mut run = start_on(
        &world_with_env_consumer(),
        None,
        Some(|_| {
            Exec::Fails("OCI runtime exec failed: exec failed: unable to start container process: exec: \"cat\": executable file not found in $PATH: unknown")
        }),
    )
    .await;
    let out = run.act(verify_busybox()).await;
    assert!(!out.ok);
    assert!(
        out.message
            .starts_with("cannot verify: the container has no `cat` (distroless image?)"),
        "{}",
        out.message
    );
    assert_eq!(out.message.lines().count(), 1, "{}", out.message);
}
