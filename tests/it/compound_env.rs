//! A container's env beside its secrets-store chain (audit 17, A17-2), against the documented
//! kubelet behaviour (Kubernetes docs, "Secrets": "Using Secrets as environment variables"): a
//! container whose env (secretKeyRef, envFrom secretRef) names a Secret that does not exist, or
//! a key it lacks, is not started — CreateContainerConfigError (`secret "X" not found`,
//! `couldn't find key K in Secret ns/X`). No SecretProviderClass syncs it, so it is KVC109,
//! said only when Secrets could be read: unknown is not absent. An optional reference starts
//! with the variable unset and is no such finding.

use kvchain::chain::testkit::{self as tk, APP};
use kvchain::chain::{Code, LinkKind, Status, diagnose};
use kvchain::snapshot::{ContainerStateObs, EnvObs, EnvSourceObs, Snapshot};
use serde_json::Value;

use crate::compound_optional::{all, app, check, findings, with};

fn links<'a>(report: &'a Value, name: &str) -> Vec<&'a Value> {
    report["chains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            c["links"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["link"] == name)
                .unwrap()
        })
        .collect()
}

const API_KEYS: &str = "            - name: API_KEY\n              valueFrom:\n                secretKeyRef: {name: api-keys, key: key}\n";

/// A17-2: `secretKeyRef` to a Secret nothing creates. The lab's kubelet holds the container
/// (CreateContainerConfigError); the diagnosis says so instead of ✓ everywhere and exit 0.
#[test]
fn an_env_secret_nothing_creates_is_kvc109_and_fails_the_check() {
    let (code, report) = check(&[&app(API_KEYS, "")]);
    assert_eq!(code, Some(1), "{report:#}");
    let f = findings(&report, "KVC109");
    assert_eq!(f.len(), 1, "one per workload: {report:#}");
    let f = f[0];
    assert_eq!(
        (&f["severity"], &f["link"]),
        (&Value::from("error"), &Value::from("pod"))
    );
    let message = f["message"].as_str().unwrap();
    assert!(
        message.contains(
            "container app (env API_KEY (key key)) names Secret api-keys, which does not exist"
        ) && message.contains("secret \"api-keys\" not found"),
        "{message}"
    );
    assert!(
        f["evidence"].as_array().unwrap().iter().any(|e| e
            .as_str()
            .unwrap()
            .contains("CreateContainerConfigError: secret \"api-keys\" not found")),
        "the kubelet's own word: {f:#}"
    );
    assert_eq!(f["confirm"], "kubectl get secret api-keys -n shop");
    assert!(
        f["fix"]
            .as_str()
            .unwrap()
            .starts_with("kubectl edit deployment/checkout -n shop  # "),
        "{f:#}"
    );
    for l in links(&report, "pod") {
        assert_eq!(l["status"], "broken", "{l:#}");
    }
    // The Consumers link names what it waits on, as for another volume failing (KVC108).
    for l in links(&report, "consumers") {
        assert_eq!(l["status"], "pending", "{l:#}");
        assert_eq!(l["summary"], "blocked: Secret api-keys", "{l:#}");
    }
    // The Secret created: the containers start, nothing to say.
    let secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: api-keys, namespace: shop}\ntype: Opaque\nstringData: {key: k1}\n";
    let (code, report) = check(&[&app(API_KEYS, ""), secret]);
    assert_eq!(code, Some(0), "{report:#}");
    assert!(findings(&report, "KVC109").is_empty(), "{report:#}");
    // It exists but lacks the key: `couldn't find key`, the same finding.
    let other_key = secret.replace("{key: k1}", "{token: k1}");
    let (code, report) = check(&[&app(API_KEYS, ""), &other_key]);
    assert_eq!(code, Some(1), "{report:#}");
    let f = findings(&report, "KVC109");
    assert_eq!(f.len(), 1, "{report:#}");
    let message = f[0]["message"].as_str().unwrap();
    assert!(
        message.contains("asks Secret api-keys for key key, which it does not have (it has token)")
            && message.contains("couldn't find key key in Secret shop/api-keys"),
        "{message}"
    );
}

/// A17-2 with envFrom: required unless `secretRef.optional` (Kubernetes: the container starts
/// without it). Optional, it is neither KVC109 nor any other finding.
#[test]
fn an_env_from_secret_nothing_creates_is_kvc109_unless_optional() {
    let required = "            - secretRef: {name: shared-config}\n";
    let (code, report) = check(&[&app("", required)]);
    assert_eq!(code, Some(1), "{report:#}");
    let f = findings(&report, "KVC109");
    assert_eq!(f.len(), 1, "{report:#}");
    assert!(
        f[0]["message"]
            .as_str()
            .unwrap()
            .contains("container app (envFrom) names Secret shared-config"),
        "{f:#?}"
    );
    let optional = "            - secretRef: {name: shared-config, optional: true}\n";
    let (code, report) = check(&[&app("", optional)]);
    assert_eq!(code, Some(0), "{report:#}");
    assert!(
        report["findings"].as_array().unwrap().is_empty(),
        "{report:#}"
    );
}

/// The testkit's healthy app whose container also reads `api-keys` (absent) and waits.
fn held_for_api_keys() -> Snapshot {
    let mut s = tk::healthy();
    let pod = tk::pod_mut(&mut s, APP);
    pod.phase = "Pending".into();
    let c = &mut pod.containers[0];
    c.env.push(EnvObs {
        name: "API_KEY".into(),
        source: EnvSourceObs::SecretKey {
            secret: "api-keys".into(),
            key: "key".into(),
            optional: false,
        },
    });
    c.state = ContainerStateObs::Waiting {
        reason: "CreateContainerConfigError".into(),
        message: "secret \"api-keys\" not found".into(),
    };
    s
}

/// Unknown is not absent: with Secrets unreadable in the namespace there is no KVC109; the
/// held container makes the Pod link unknown, with the reason.
#[test]
fn an_env_secret_is_not_called_missing_when_secrets_are_unreadable() {
    let s = held_for_api_keys();
    let chains = diagnose(&s);
    assert_eq!(with(&chains, Code::KVC109).len(), 1, "{:#?}", all(&chains));
    let mut s = s;
    let reason = "secrets is forbidden: User \"kvchain\" cannot list resource \"secrets\" in the namespace \"shop\"";
    s.secrets
        .gaps
        .namespaces
        .insert(tk::NS.into(), reason.into());
    let chains = diagnose(&s);
    assert!(
        with(&chains, Code::KVC109).is_empty(),
        "{:#?}",
        all(&chains)
    );
    let pod = chains[0].link(LinkKind::Pod);
    assert_eq!(pod.status, Status::Unknown, "{pod:#?}");
    assert!(
        pod.facts
            .iter()
            .any(|f| f.observed.contains("Secret api-keys") && f.observed.contains(reason)),
        "{pod:#?}"
    );
}

/// KVC109 holds a container, not the chain: the volumes are set up before the kubelet builds a
/// container's env, so the secrets-store mount and the sync succeed or fail for their own
/// cause. With the object misspelt too, the synced Secret is missing because of KVC601:
/// the Sync link is blocked by the Object, never by the Pod's KVC109.
#[test]
fn kvc109_blocks_none_of_the_chains_own_links() {
    let app = app(API_KEYS, "").replace(
        "objectName: checkout-db-password",
        "objectName: checkout-db-pasword",
    );
    let (code, report) = check(&[&app]);
    assert_eq!(code, Some(1), "{report:#}");
    let sync = findings(&report, "KVC802");
    assert!(!sync.is_empty(), "{report:#}");
    for f in sync {
        assert_eq!(f["follows"], "vaultObject", "{f:#}");
        assert!(
            f["fix"]
                .as_str()
                .unwrap()
                .starts_with("# fix KVC601 (Object) first"),
            "{f:#}"
        );
    }
    for l in links(&report, "sync") {
        assert_eq!(l["summary"], "blocked: Object", "{l:#}");
    }
    assert!(
        findings(&report, "KVC109")
            .iter()
            .all(|f| f.get("follows").is_none()),
        "{report:#}"
    );
}

/// The kubelet resolves env when it creates a container, after the pod's volumes are set up:
/// while a volume fails to mount the container waits in ContainerCreating and no env is read
/// yet. The failing mount is the one cause (audit H2: the Secret it names may be the one the
/// mount's SecretProviderClass, once in place, syncs); the env Secret nothing creates is
/// KVC109 once the kubelet gets that far.
#[test]
fn an_env_secret_is_no_cause_while_the_pods_volume_fails_to_mount() {
    let unmountable = app(API_KEYS, "").replace(
        "              secretProviderClass: checkout-kv",
        "              secretProviderClass: checkout-kv-missing",
    );
    let (code, report) = check(&[&unmountable]);
    assert_eq!(code, Some(1), "{report:#}");
    assert!(!findings(&report, "KVC101").is_empty(), "{report:#}");
    assert!(findings(&report, "KVC109").is_empty(), "{report:#}");
}

/// Audit DDD8. Unknown is not absent: with the namespace's SecretProviderClasses unreadable,
/// "no SecretProviderClass syncs" the Secret is not known, and a Secret made by hand would
/// keep the driver from ever writing it: no KVC109 and no create; the Pod link is unknown.
#[test]
fn an_env_secret_is_not_called_unsynced_when_spcs_are_unreadable() {
    let mut s = held_for_api_keys();
    let reason = "secretproviderclasses.secrets-store.csi.x-k8s.io is forbidden: User \"kvchain\" cannot list resource \"secretproviderclasses\" in the namespace \"shop\"";
    s.spcs.items.clear();
    s.spcs.gaps.namespaces.insert(tk::NS.into(), reason.into());
    let chains = diagnose(&s);
    assert!(
        with(&chains, Code::KVC109).is_empty(),
        "{:#?}",
        all(&chains)
    );
    assert!(
        !(chains.iter().flat_map(|c| c.findings()))
            .any(|f| f.fix.contains("create Secret api-keys")),
        "{:#?}",
        all(&chains)
    );
    let pod = chains[0].link(LinkKind::Pod);
    assert_eq!(pod.status, Status::Unknown, "{pod:#?}");
    assert!(
        pod.facts.iter().any(|f| f
            .observed
            .contains("whether a SecretProviderClass syncs that Secret cannot be read")
            && f.observed.contains(reason)),
        "{pod:#?}"
    );
}
