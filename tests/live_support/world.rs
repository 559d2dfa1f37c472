//! What the fake server serves: the chain of `shared/upstream` as the API server returns it
//! (pods, SPCs and their statuses, synced Secrets with canary values, events), kubeconfigs
//! and clients that point at the server, and the source's fast test timings.

use serde_json::{Value, json};
use wiremock::MockServer;

use super::*;

/// A kubeconfig with the fake server as context `aks-payments` (namespace payments) and a
/// dead cluster as the current context, so `--context` must be honoured.
pub fn kubeconfig(server: &MockServer, dir: &std::path::Path) -> std::path::PathBuf {
    let text = format!(
        "apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: {}
- name: dead
  cluster:
    server: http://127.0.0.1:9
contexts:
- name: aks-payments
  context:
    cluster: fake
    user: alice
    namespace: payments
- name: elsewhere
  context:
    cluster: dead
    user: alice
current-context: elsewhere
users:
- name: alice
  user:
    token: not-a-secret-test-token
",
        server.uri()
    );
    let path = dir.join("kubeconfig");
    std::fs::write(&path, text).unwrap();
    path
}

/// An "API server" that accepts TCP connections and never answers a byte; its URL. The
/// listener lives on a thread of its own for the rest of the test process.
pub fn hanging_server() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            held.push(conn);
        }
    });
    url
}

/// A kubeconfig whose current context `hung` points at `server`.
pub fn kubeconfig_for(server: &str, dir: &std::path::Path) -> std::path::PathBuf {
    let text = format!(
        "apiVersion: v1
kind: Config
clusters:
- name: hung
  cluster:
    server: {server}
contexts:
- name: hung
  context:
    cluster: hung
    user: alice
current-context: hung
users:
- name: alice
  user:
    token: not-a-secret-test-token
"
    );
    let path = dir.join("kubeconfig-hung");
    std::fs::write(&path, text).unwrap();
    path
}

/// A kube client talking plain http to the fake server.
pub fn client(server: &MockServer) -> kube::Client {
    let config = kube::Config::new(server.uri().parse().expect("mock server uri"));
    kube::Client::try_from(config).expect("client for the mock server")
}

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// An upstream example manifest with its e2e `$VARS` filled in, as JSON.
pub fn upstream(file: &str, vars: &[(&str, &str)]) -> Value {
    let path = format!(
        "{}/../shared/upstream/examples/k8s/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    for (k, v) in vars {
        text = text
            .replace(&format!("${{{k}}}"), v)
            .replace(&format!("${k}"), v);
    }
    let yaml: serde_yaml::Value =
        serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::to_value(yaml).unwrap()
}

pub const VARS: &[(&str, &str)] = &[
    ("SERVICE_ACCOUNT_NAME", "workload-sa"),
    ("SERVICE_ACCOUNT_NAMESPACE", NS),
    (
        "USER_ASSIGNED_CLIENT_ID",
        "11111111-2222-3333-4444-555555555555",
    ),
    ("IDENTITY_CLIENT_ID", "11111111-2222-3333-4444-555555555555"),
    ("KEYVAULT_NAME", "kv-payments"),
    ("SECRET_NAME", "db-password"),
    ("SECRET_VERSION", ""),
    ("AZURE_TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47"),
    ("API_VERSION", "secrets-store.csi.x-k8s.io/v1"),
];

pub const POD: &str = "busybox-secrets-store-inline-wi";

/// The pod from the provider's workload-identity doc, as the API server returns it once
/// running: namespace, uid, owner, node, managedFields and a real-shaped `status`.
pub fn pod(spc: &str, phase: &str) -> Value {
    let mut p = upstream("pod-azure-wi.yaml", VARS);
    p["metadata"]["namespace"] = json!(NS);
    p["metadata"]["uid"] = json!("6f1c3a0e-93a4-4c1e-bd2e-0c1d2e3f4a5b");
    p["metadata"]["creationTimestamp"] = json!("2026-11-23T09:00:00Z");
    p["metadata"]["managedFields"] = json!([{
        "apiVersion": "v1", "fieldsType": "FieldsV1", "manager": "kubectl-client-side-apply",
        "operation": "Update", "time": "2026-11-23T09:00:00Z", "fieldsV1": {"f:spec": {}}
    }]);
    p["spec"]["volumes"][0]["csi"]["volumeAttributes"]["secretProviderClass"] = json!(spc);
    p["spec"]["nodeName"] = json!("aks-nodepool1-12345678-vmss000000");
    p["status"] = json!({
        "phase": phase,
        "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2026-11-23T09:00:05Z"}],
        "hostIP": "10.224.0.4", "podIP": "10.244.1.7", "qosClass": "BestEffort",
        "startTime": "2026-11-23T09:00:00Z",
        "containerStatuses": [{
            "name": "busybox", "ready": true, "restartCount": 0,
            "image": "registry.k8s.io/e2e-test-images/busybox:1.29-4",
            "imageID": "registry.k8s.io/e2e-test-images/busybox@sha256:2e0f836850e09b8b7cc937681d6194537a09fbd5f6b9e08f4d646a85128e8937",
            "containerID": "containerd://1f0c6e8f",
            "started": true,
            "state": {"running": {"startedAt": "2026-11-23T09:00:04Z"}}
        }]
    });
    p
}

pub fn spcps(version: &str) -> Value {
    json!({
        "apiVersion": "secrets-store.csi.x-k8s.io/v1",
        "kind": "SecretProviderClassPodStatus",
        "metadata": {
            "name": format!("{POD}-{NS}-azure-sync"),
            "namespace": NS,
            "labels": {"internal.secrets-store.csi.k8s.io/node-name": "aks-nodepool1-12345678-vmss000000"},
            "ownerReferences": [{"apiVersion": "v1", "kind": "Pod", "name": POD,
                                 "uid": "6f1c3a0e-93a4-4c1e-bd2e-0c1d2e3f4a5b"}],
            "managedFields": [{"apiVersion": "secrets-store.csi.x-k8s.io/v1", "fieldsType": "FieldsV1",
                               "manager": "secrets-store-csi-driver", "operation": "Update",
                               "time": "2026-11-23T09:00:03Z", "fieldsV1": {"f:status": {}}}]
        },
        "status": {
            "mounted": true,
            "objects": [{"id": "secret/db-password", "version": version}],
            "podName": POD,
            "secretProviderClassName": "azure-sync",
            "targetPath": "/var/lib/kubelet/pods/6f1c3a0e-93a4-4c1e-bd2e-0c1d2e3f4a5b/volumes/kubernetes.io~csi/secrets-store01-inline/mount"
        }
    })
}

/// A Secret as the driver writes it: managed label, owner, managedFields time, canary value.
pub fn synced_secret(name: &str, value: &str, managed: bool) -> Value {
    let mut labels = json!({"environment": "test"});
    if managed {
        labels["secrets-store.csi.k8s.io/managed"] = json!("true");
    }
    json!({
        "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {
            "name": name, "namespace": NS, "labels": labels,
            "creationTimestamp": "2026-11-23T09:00:03Z",
            "managedFields": [{"apiVersion": "v1", "fieldsType": "FieldsV1",
                               "manager": "secrets-store-csi-driver", "operation": "Update",
                               "time": "2026-11-23T09:10:00Z", "fieldsV1": {"f:data": {}}}]
        },
        "data": {"username": b64(value)}
    })
}

pub fn event(reason: &str, message: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": format!("{POD}.{}", reason.to_lowercase()), "namespace": NS},
        "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": POD, "namespace": NS,
                           "uid": "6f1c3a0e-93a4-4c1e-bd2e-0c1d2e3f4a5b"},
        "reason": reason, "message": message, "type": "Warning", "count": 3,
        "source": {"component": "kubelet", "host": "aks-nodepool1-12345678-vmss000000"},
        "firstTimestamp": "2026-11-23T09:00:01Z", "lastTimestamp": "2026-11-23T09:02:01Z"
    })
}

/// The cluster of the chain in `shared/upstream`: one workload-identity pod in `payments`
/// mounting `azure-sync` (which syncs `foosecret`), its SPCPS and synced Secret, an
/// unmanaged Secret the chain names (`legacy-synced`), one it does not (`helm-release`),
/// events, a Deployment, and the AKS add-on's driver installation.
pub fn world() -> FakeApi {
    let api = FakeApi::empty();
    let mut sa = upstream("serviceaccount-wi-aks-doc.yaml", VARS);
    sa["metadata"]["namespace"] = json!(NS);
    api.add(SERVICE_ACCOUNTS, sa);
    // The controller manager creates `default` in every namespace (the Deployment runs as it).
    api.add(
        SERVICE_ACCOUNTS,
        json!({"apiVersion": "v1", "kind": "ServiceAccount",
               "metadata": {"name": "default", "namespace": NS}}),
    );
    let mut spc = upstream("spc-azure-wi-synck8s.yaml", VARS);
    spc["metadata"]["namespace"] = json!(NS);
    api.add(SPCS, spc.clone());
    let mut legacy = spc;
    legacy["metadata"]["name"] = json!("azure-legacy");
    legacy["spec"]["secretObjects"][0]["secretName"] = json!("legacy-synced");
    api.add(SPCS, legacy);
    api.add(PODS, pod("azure-sync", "Running"));
    api.add(SPCPS, spcps("b82206cb5ac249918008b0b97fd1fd66"));
    api.add(SECRETS, synced_secret("foosecret", CANARY, true));
    api.add(SECRETS, synced_secret("legacy-synced", CANARY_NAMED, false));
    api.add(
        SECRETS,
        synced_secret("helm-release", CANARY_UNRELATED, false),
    );
    api.add(
        EVENTS,
        event(
            "FailedMount",
            "MountVolume.SetUp failed for volume \"secrets-store01-inline\" : rpc error: code = Unknown desc = failed to mount secrets store objects for pod payments/busybox-secrets-store-inline-wi, err: rpc error: code = Unknown desc = failed to mount objects, error: failed to get objectType:secret, objectName:db-password, objectVersion:: SecretNotFound",
        ),
    );
    api.add(
        EVENTS,
        event("Scheduled", "Successfully assigned payments/x to node"),
    );
    let mut d = upstream("deployment-synck8s-azure.yaml", VARS);
    d["metadata"]["namespace"] = json!(NS);
    // kubectl apply leaves the whole manifest here, literal env values included.
    d["metadata"]["annotations"] = json!({
        "kubectl.kubernetes.io/last-applied-configuration":
            format!("{{\"spec\":{{\"env\":[{{\"name\":\"PASSWORD\",\"value\":\"{CANARY_LAST_APPLIED}\"}}]}}}}")
    });
    api.add(DEPLOYMENTS, d);
    api.add(
        REPLICA_SETS,
        json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
               "metadata": {"name": "busybox-deployment-5d8f7c9b8d", "namespace": NS,
                            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                                 "name": "busybox-deployment", "uid": "d-1", "controller": true}]},
               "spec": {"selector": {"matchLabels": {"app": "busybox"}}}}),
    );
    let mut csi = {
        let path = format!(
            "{}/../shared/upstream/crds/csidriver.yaml",
            env!("CARGO_MANIFEST_DIR")
        );
        let yaml: serde_yaml::Value =
            serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        serde_json::to_value(yaml).unwrap()
    };
    csi["spec"]["tokenRequests"] = json!([{"audience": "api://AzureADTokenExchange"}]);
    api.add(CSI_DRIVERS, csi);
    for d in add_on_daemon_sets(true) {
        api.add(DAEMON_SETS, d);
    }
    api.add(
        MWCS,
        json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
               "metadata": {"name": "azure-wi-webhook-mutating-webhook-configuration"},
               "webhooks": [{"name": "mutation.azure-workload-identity.io", "admissionReviewVersions": ["v1"],
                             "sideEffects": "None", "clientConfig": {}}]}),
    );
    api.raw(
        "/version",
        json!({"major": "1", "minor": "33", "gitVersion": "v1.33.2", "gitCommit": "abc",
               "gitTreeState": "clean", "buildDate": "2026-06-01T00:00:00Z", "goVersion": "go1.24.4",
               "compiler": "gc", "platform": "linux/amd64"}),
    );
    api.raw(
        "/.well-known/openid-configuration",
        json!({"issuer": ISSUER, "jwks_uri": format!("{ISSUER}openid/v1/jwks"),
               "response_types_supported": ["id_token"], "subject_types_supported": ["public"],
               "id_token_signing_alg_values_supported": ["RS256"]}),
    );
    api
}

/// The AKS add-on's driver and Azure provider DaemonSets, all pods ready; the driver started
/// with secret rotation every 2 minutes, or without its rotation flag (off, its default:
/// FACTS §4).
pub fn add_on_daemon_sets(rotation: bool) -> Vec<Value> {
    let mut args = vec![
        "--endpoint=$(CSI_ENDPOINT)",
        "--nodeid=$(KUBE_NODE_NAME)",
        "--provider-volume=/var/run/secrets-store-csi-providers",
    ];
    if rotation {
        args.extend([
            "--enable-secret-rotation=true",
            "--rotation-poll-interval=2m",
        ]);
    }
    vec![
        json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
               "metadata": {"name": "aks-secrets-store-csi-driver", "namespace": "kube-system"},
               "spec": {"selector": {"matchLabels": {"app": "secrets-store-csi-driver"}},
                        "template": {"metadata": {"labels": {"app": "secrets-store-csi-driver"}},
                                     "spec": {"containers": [
                                        {"name": "node-driver-registrar", "image": "mcr.microsoft.com/oss/kubernetes-csi/csi-node-driver-registrar:v2.10.0"},
                                        {"name": "secrets-store", "image": "mcr.microsoft.com/oss/kubernetes-csi/secrets-store/driver:v1.4.4",
                                         "args": args}]}}},
               "status": {"numberReady": 3, "desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberMisscheduled": 0}}),
        json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
               "metadata": {"name": "aks-secrets-store-provider-azure", "namespace": "kube-system"},
               "spec": {"selector": {"matchLabels": {"app": "p"}},
                        "template": {"spec": {"containers": [
                            {"name": "provider-azure-installer", "image": "mcr.microsoft.com/oss/azure/secrets-store/provider-azure:v1.5.3"}]}}},
               "status": {"numberReady": 3, "desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberMisscheduled": 0}}),
    ]
}

/// A watch ERROR event carrying a 410 Gone Status ("too old resource version").
pub fn gone() -> String {
    let s = status(410, "Expired", "too old resource version: 1 (2)");
    format!("{}\n", json!({"type": "ERROR", "object": s}))
}

/// Fast timings for tests.
pub fn options() -> kvchain::source::live::LiveOptions {
    kvchain::source::live::LiveOptions {
        debounce: Duration::from_millis(50),
        cluster_refresh: Duration::from_secs(300),
        secrets_refresh: Duration::from_secs(300),
        startup_deadline: Duration::from_secs(20),
        clock_tick: Duration::from_secs(10),
        stale_after: kvchain::source::live::STALE_AFTER,
    }
}

pub fn no_azure() -> kvchain::source::args::AzureArgs {
    kvchain::source::args::AzureArgs {
        no_azure: true,
        azure_refresh: Duration::from_secs(60),
        ..Default::default()
    }
}

/// The first complete snapshot of `api`'s world, all namespaces, context `aks-test`, no Azure.
pub async fn snapshot_of(api: &FakeApi) -> kvchain::snapshot::Snapshot {
    let server = api.serve().await;
    let live = kvchain::source::live::LiveSource::new(
        client(&server),
        "aks-test",
        kvchain::source::live::Scope::All,
        no_azure(),
    )
    .with_options(options());
    tokio::time::timeout(Duration::from_secs(30), live.snapshot())
        .await
        .expect("snapshot within 30s")
}
