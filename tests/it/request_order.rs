//! The order one read meets its causes in (README, root-cause order): the SDK exchanges the
//! pod's token with Entra ID before it calls the vault, and Key Vault checks its firewall
//! before the token's tenant, the caller's permission and the object ("Authentication in Azure
//! Key Vault"). While the exchange fails (AADSTS70021) no request reaches the vault, so a
//! firewall or a missing grant is not met yet: one error, the others blocked by Federation,
//! each with its own fix. The worlds are tests/fixtures/lab/request_order/*.yaml; their vault
//! values are canaries (`CANARY-ro`) that no output may show.

use serde_json::Value;

use super::mmm_lab::{link, report};

const CANARY: &str = "CANARY-ro";

fn world(name: &str) -> Value {
    report(&format!("request_order/{name}"), CANARY)
}

fn only(r: &Value, code: &str) -> Value {
    let found: Vec<&Value> = (r["findings"].as_array().unwrap().iter())
        .filter(|f| f["code"] == code)
        .collect();
    assert_eq!(found.len(), 1, "{code}: {r}");
    found[0].clone()
}

/// Asserts the world's one error is KVC401 and `later` reads blocked by Federation, its fix
/// kept, with the Access link waiting on Federation.
fn blocked_behind_the_exchange(name: &str, later: &str) {
    let r = world(name);
    assert_eq!(r["summary"]["errors"], 1, "{r}");
    assert_eq!(only(&r, "KVC401")["follows"], Value::Null, "{r}");
    let f = only(&r, later);
    assert_eq!(f["follows"], "federation", "{f:#}");
    let message = f["message"].as_str().unwrap();
    assert!(
        message.starts_with("blocked by Federation: ")
            && message.contains("not met yet: the token exchange with Entra ID fails first"),
        "{message}"
    );
    assert!(
        f["fix"].as_str().is_some_and(|fix| !fix.is_empty()),
        "the blocked cause keeps its own fix: {f:#}"
    );
    let chain = &r["chains"][0];
    assert_eq!(link(chain, "federation")["status"], "broken", "{chain}");
    assert_ne!(link(chain, "access")["status"], "broken", "{chain}");
}

#[test]
fn a_firewall_behind_a_failing_token_exchange_is_not_met_yet() {
    blocked_behind_the_exchange("ro-firewall-and-subject-typo.yaml", "KVC505");
}

#[test]
fn a_missing_grant_behind_a_failing_token_exchange_is_not_met_yet() {
    blocked_behind_the_exchange("ro-no-role-and-subject-typo.yaml", "KVC501");
}
