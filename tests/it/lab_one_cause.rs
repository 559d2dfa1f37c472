//! The lab's provider answers as the real one does (FACTS §5, codes.yaml), and the diagnosis
//! of each SecretProviderClass fault is one cause on one link, downstream links blocked by it:
//! - an invalid vault name fails the provider's own check (`failed to get vault: Invalid vault
//!   name: "x", must match [-a-zA-Z0-9]{3,24}` / `must be between 3 and 24 chars`), never a
//!   DNS lookup of the name; KVC302, with no KVC701 beside it;
//! - a tenant that is neither an id nor a domain (`tid`) is refused by Entra (AADSTS900023,
//!   "neither a valid DNS name, nor a valid external domain", as Entra answers for
//!   `authorize` or `undefined`; the lab said AADSTS90002, Entra's "not found" for a tenant
//!   that could exist): KVC302, with no KVC404 "looks right now, wait";
//! - an unrendered clientID is reported once (KVC306, an error once the mount fails on it),
//!   not looked up as an identity (KVC301);
//! - an empty clientsecret in the nodePublishSecretRef Secret is that Secret's fault.

use std::time::Duration;

use kvchain::chain::{self, Chain, Code, LinkKind, Severity};
use kvchain::source::lab::world::World;
use kvchain::source::lab::{self, export};

use crate::lab_nodes::{CLUSTER, HEALTHY, SHOP};

/// The SecretProviderClass's clientID line (the ManagedIdentity has one too).
const CLIENT_ID: &str = "    clientID: e2ef6ca4-8b82-5fca-9991-b28fc1e02a92\n    keyvaultName";

/// The healthy scenario with `edit` applied, two minutes on: (chains, FailedMount messages).
fn run(app: &str, extra: &str) -> (Vec<Chain>, Vec<String>) {
    let mut docs = vec![CLUSTER, SHOP, app];
    if !extra.is_empty() {
        docs.push(extra);
    }
    let sc = lab::scenario::parse(
        "one-cause",
        std::path::Path::new("one-cause.yaml"),
        &docs.join("\n---\n"),
    )
    .expect("scenario loads");
    let mut w = World::new(sc);
    w.advance(Duration::from_secs(120));
    let s = export::snapshot(&w);
    let mounts = s
        .events
        .items
        .iter()
        .filter(|e| e.reason == "FailedMount")
        .map(|e| e.message.clone())
        .collect();
    (chain::diagnose(&s), mounts)
}

/// The findings that are causes: errors that follow no other link.
fn causes(chains: &[Chain]) -> Vec<(Code, LinkKind)> {
    let mut out = Vec::new();
    for c in chains {
        for l in &c.links {
            for f in &l.findings {
                let cause = (f.code, l.link);
                if f.severity == Severity::Error && f.follows.is_none() && !out.contains(&cause) {
                    out.push(cause);
                }
            }
        }
    }
    out
}

/// Every chain reads its Mount link as blocked by Identity.
fn mount_blocked_by_identity(chains: &[Chain]) {
    for c in chains {
        assert_eq!(
            c.link(LinkKind::Mount).summary,
            "blocked: Identity",
            "{:#?}",
            c.links
        );
    }
}

#[test]
fn an_invalid_vault_name_fails_the_providers_check_and_is_one_cause() {
    for (name, says) in [
        ("kv_shop", "must match [-a-zA-Z0-9]{3,24}"),
        ("kv", "must be between 3 and 24 chars"),
    ] {
        let app = HEALTHY.replace(
            "keyvaultName: kv-shop-lab",
            &format!("keyvaultName: {name}"),
        );
        let (chains, mounts) = run(&app, "");
        let want = format!("failed to get vault: Invalid vault name: \"{name}\", {says}");
        assert!(!mounts.is_empty());
        assert!(mounts.iter().all(|m| m.ends_with(&want)), "{mounts:#?}");
        assert!(
            mounts.iter().all(|m| !m.contains("no such host")),
            "{mounts:#?}"
        );
        assert_eq!(
            causes(&chains),
            [(Code::KVC302, LinkKind::Identity)],
            "{name}"
        );
        mount_blocked_by_identity(&chains);
    }
}

#[test]
fn an_invalid_tenant_is_refused_by_entra_and_is_one_cause() {
    let app = HEALTHY.replace(
        "tenantId: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b",
        "tenantId: tid",
    );
    let (chains, mounts) = run(&app, "");
    assert!(
        mounts
            .iter()
            .any(|m| m.contains("AADSTS900023: Specified tenant identifier 'tid' is neither a valid DNS name, nor a valid external domain")),
        "{mounts:#?}"
    );
    assert_eq!(causes(&chains), [(Code::KVC302, LinkKind::Identity)]);
    assert!(
        chains
            .iter()
            .flat_map(|c| c.findings())
            .all(|f| f.code != Code::KVC404),
        "no second cause on Federation"
    );
    mount_blocked_by_identity(&chains);
}

#[test]
fn an_unrendered_client_id_is_kvc306_only_and_an_error_once_the_mount_fails() {
    let app = HEALTHY.replace(
        CLIENT_ID,
        "    clientID: ${USER_ASSIGNED_CLIENT_ID}\n    keyvaultName",
    );
    let (chains, mounts) = run(&app, "");
    assert!(!mounts.is_empty(), "the lab's provider fails on it");
    assert_eq!(causes(&chains), [(Code::KVC306, LinkKind::Identity)]);
    assert!(
        chains
            .iter()
            .flat_map(|c| c.findings())
            .all(|f| f.code != Code::KVC301),
        "a placeholder is not looked up as an identity"
    );
    mount_blocked_by_identity(&chains);
}

#[test]
fn an_empty_clientsecret_is_the_node_publish_secrets_fault() {
    let app = HEALTHY.replace(CLIENT_ID, "    keyvaultName").replace(
        "              secretProviderClass: checkout-kv",
        "              secretProviderClass: checkout-kv\n            nodePublishSecretRef:\n              name: sp-creds",
    );
    let secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: sp-creds, namespace: shop}\nstringData:\n  ClientID: CANARY-app\n  clientsecret: \"\"\n";
    let (chains, mounts) = run(&app, secret);
    assert!(
        mounts
            .iter()
            .all(|m| m.ends_with("could not find clientsecret in secrets")),
        "{mounts:#?}"
    );
    assert_eq!(causes(&chains), [(Code::KVC302, LinkKind::Identity)]);
    for f in chains
        .iter()
        .flat_map(|c| c.findings())
        .filter(|f| f.code == Code::KVC302)
    {
        assert_eq!(f.resource, "Secret/sp-creds");
        assert!(f.message.contains("clientsecret"), "{}", f.message);
        assert!(f.fix.contains("secret sp-creds -n shop"), "{}", f.fix);
        assert!(!f.fix.contains("secretproviderclass"), "{}", f.fix);
        let shown = format!("{} {:?} {} {}", f.message, f.evidence, f.confirm, f.fix);
        assert!(!shown.contains("CANARY"), "a credential value leaked");
    }
    mount_blocked_by_identity(&chains);
}
