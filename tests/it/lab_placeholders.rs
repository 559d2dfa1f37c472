//! The lab's run-time evidence against what `secretObjects` and `objects` say statically.
//! README: placeholders are reported once as unrendered (KVC306) and not validated, which
//! skips static judgement only: a container seen stuck (CreateContainerConfigError) on the
//! Secret an unrendered entry makes is the failure itself, so KVC306 is then an error and the
//! Sync and Consumers links are not ✓ (unknown is not healthy). A finding that only follows
//! from an earlier broken link says `blocked by <link>` and its fix points at the cause (no
//! synced Secret while nothing mounts, FACTS §2), so no fix copies a typo into the other side.

use std::time::Duration;

use kvchain::chain::{self, Chain, Code, Finding, LinkKind, Severity, Status};
use kvchain::source::lab::world::World;
use kvchain::source::lab::{self, export};

use crate::lab_nodes::{CLUSTER, HEALTHY, SHOP};

fn run(app: &str, extra: &[&str]) -> Vec<Chain> {
    let mut docs = vec![CLUSTER, SHOP, app];
    docs.extend(extra.iter().copied());
    let sc = lab::scenario::parse(
        "placeholders",
        std::path::Path::new("placeholders.yaml"),
        &docs.join("\n---\n"),
    )
    .expect("scenario loads");
    let mut w = World::new(sc);
    w.advance(Duration::from_secs(120));
    chain::diagnose(&export::snapshot(&w))
}

fn with(chains: &[Chain], code: Code) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    for f in chains.iter().flat_map(|c| c.findings()) {
        if f.code == code && !out.iter().any(|o| o.message == f.message) {
            out.push(f.clone());
        }
    }
    out
}

fn codes(chains: &[Chain]) -> Vec<(Code, Severity)> {
    chains
        .iter()
        .flat_map(|c| c.findings())
        .map(|f| (f.code, f.severity))
        .collect()
}

/// The secretObjects data entry of the healthy scenario (objectName db-password → password).
const ENTRY: &str = "        - objectName: db-password\n          key: password\n";

/// Q1 / Q8 / Q9: key, secretName and objectName placeholders; the container reads
/// `checkout-db` key `password` and cannot start.
#[test]
fn lab_placeholders_a_stuck_container_makes_kvc306_an_error_and_sync_consumers_not_ok() {
    for (edit, field) in [
        (
            HEALTHY.replace(
                ENTRY,
                "        - objectName: db-password\n          key: ${SECRET_KEY}\n",
            ),
            "secretObjects[checkout-db].data[].key",
        ),
        (
            HEALTHY.replace("secretName: checkout-db", "secretName: ${SECRET_NAME}"),
            "secretObjects[${SECRET_NAME}].secretName",
        ),
        (
            HEALTHY.replace(
                ENTRY,
                "        - objectName: ${OBJ}\n          key: password\n",
            ),
            "secretObjects[checkout-db].data[].objectName",
        ),
    ] {
        let chains = run(&edit, &[]);
        let f = with(&chains, Code::KVC306);
        assert_eq!(f.len(), 1, "{field}: {:#?}", codes(&chains));
        let f = &f[0];
        assert_eq!(f.severity, Severity::Error, "{field}: {f:#?}");
        assert!(
            f.evidence
                .iter()
                .any(|e| e.contains("CreateContainerConfigError")),
            "{field}: {:#?}",
            f.evidence
        );
        // Q9: the real field path, and a confirm that shows secretObjects.
        assert!(
            f.fix.contains(&format!("{field}: <a real value>")),
            "{}",
            f.fix
        );
        assert!(f.confirm.contains(".spec.secretObjects"), "{}", f.confirm);
        // Q8: one cause, one finding.
        for code in [Code::KVC801, Code::KVC905, Code::KVC806, Code::KVC802] {
            assert!(
                with(&chains, code).is_empty(),
                "{field}: {code}: {:#?}",
                codes(&chains)
            );
        }
        for c in &chains {
            for l in [LinkKind::Sync, LinkKind::Consumers] {
                assert_ne!(c.links[l.index()].status, Status::Ok, "{field}: {l:?}");
            }
        }
    }
}

/// The healthy scenario without the alias: the file is the Key Vault name
/// checkout-db-password, and secretObjects names it.
fn unaliased() -> String {
    HEALTHY
        .replace("          objectAlias: db-password\n", "")
        .replace(
            ENTRY,
            "        - objectName: checkout-db-password\n          key: password\n",
        )
}

/// A Deployment that reads the checkout Secret's `password` through env and mounts nothing.
pub(crate) const READER: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: reader, namespace: shop}
spec:
  replicas: 1
  selector: {matchLabels: {app: reader}}
  template:
    metadata: {labels: {app: reader}}
    spec:
      containers:
        - name: reader
          image: busybox
          env:
            - name: DB_PASSWORD
              valueFrom: {secretKeyRef: {name: checkout-db, key: password}}"#;

/// Q2 / Q12: a typo in `objects` is KVC601's to fix; KVC801 (if said) and KVC903 follow it
/// and never offer to copy the typo into secretObjects or to mount the failing SPC first.
#[test]
fn lab_placeholders_a_typo_in_objects_is_the_cause_and_sync_consumers_follow_it() {
    let app = unaliased().replace(
        "          objectName: checkout-db-password\n          objectType",
        "          objectName: checkout-db-passwrd\n          objectType",
    );
    let chains = run(&app, &[READER]);
    let cause = with(&chains, Code::KVC601);
    assert_eq!(cause.len(), 1, "{:#?}", codes(&chains));
    assert!(
        cause[0]
            .fix
            .contains("objects[0].objectName: checkout-db-password"),
        "{}",
        cause[0].fix
    );
    for f in with(&chains, Code::KVC801) {
        assert_eq!(f.follows, Some(LinkKind::VaultObject), "{f:#?}");
        assert!(!f.fix.contains("checkout-db-passwrd"), "{}", f.fix);
        assert!(f.fix.contains("KVC601"), "{}", f.fix);
    }
    let reader = with(&chains, Code::KVC903);
    assert_eq!(reader.len(), 1, "{:#?}", codes(&chains));
    assert_eq!(reader[0].follows, Some(LinkKind::VaultObject));
    assert!(
        reader[0].message.starts_with("blocked by Object"),
        "{}",
        reader[0].message
    );
    assert!(
        reader[0].fix.starts_with("# fix KVC601"),
        "{}",
        reader[0].fix
    );
}

/// Q2, `-f`: with no vault to tell which side is wrong, KVC801 offers both, and names the
/// object to rename for the Key Vault name.
#[test]
fn lab_placeholders_manifests_offer_both_sides_of_a_near_miss() {
    let app = unaliased().replace(
        "          objectName: checkout-db-password\n          objectType",
        "          objectName: checkout-db-passwrd\n          objectType",
    );
    let s = kvchain::source::manifests::load_str("m.yaml", &app).expect("loads");
    let chains = chain::diagnose(&s);
    let f = with(&chains, Code::KVC801);
    assert_eq!(f.len(), 1, "{:#?}", codes(&chains));
    assert!(
        f[0].fix
            .contains("objects[0].objectName: checkout-db-password"),
        "{}",
        f[0].fix
    );
    assert!(!f[0].message.contains("mounted files"), "{}", f[0].message);
}

/// Q3: the kubelet starts no container until every volume is set up. Another volume (an
/// ordinary Secret asking for a key it lacks) failing keeps the pod in ContainerCreating:
/// the secrets-store mount itself is fine, but nothing reads the secret, and the chain says
/// what blocks it instead of reading all ✓.
#[test]
fn lab_placeholders_another_volume_failing_blocks_the_consumers() {
    let app = HEALTHY.replace(
        "      volumes:\n",
        "      volumes:\n        - name: proj\n          projected:\n            sources:\n              - secret:\n                  name: plain\n                  items:\n                    - {key: nokey, path: u}\n",
    );
    let app = crate::lab_nodes::mounted_by_app(&app, "proj");
    let plain = "apiVersion: v1\nkind: Secret\nmetadata: {name: plain, namespace: shop}\ntype: Opaque\nstringData: {user: x}\n";
    let chains = run(&app, &[plain]);
    assert!(!chains.is_empty());
    for c in &chains {
        assert_eq!(c.links[LinkKind::Mount.index()].status, Status::Ok);
        let consumers = &c.links[LinkKind::Consumers.index()];
        assert_eq!(consumers.status, Status::Pending, "{consumers:#?}");
        assert_eq!(consumers.summary, "blocked: volume proj");
    }
    // Not a synced Secret: no KVC905 about it. The pod is stuck all the same: KVC108 (an
    // error on the Pod link) names the volume and cites the kubelet (docs/codes.yaml).
    assert!(
        with(&chains, Code::KVC905).is_empty(),
        "{:#?}",
        codes(&chains)
    );
    let f = with(&chains, Code::KVC108);
    assert!(!f.is_empty(), "{:#?}", codes(&chains));
    for f in &f {
        assert_eq!(f.severity, kvchain::chain::Severity::Error);
        assert!(
            f.message.contains("volume proj (projected) fails to mount"),
            "{}",
            f.message
        );
        assert!(
            f.evidence
                .iter()
                .any(|e| e.contains("references non-existent secret key: nokey")),
            "{:#?}",
            f.evidence
        );
    }
    // Repaired (the key exists): no KVC108, the consumers read the secret.
    // `v`, not `y`: a plain `y` is a YAML 1.1 boolean to kubectl, which the API server refuses
    // as a stringData value (audit UUU-real).
    let plain = plain.replace("{user: x}", "{user: x, nokey: v}");
    let chains = run(&app, &[&plain]);
    assert!(
        with(&chains, Code::KVC108).is_empty(),
        "{:#?}",
        codes(&chains)
    );
}
