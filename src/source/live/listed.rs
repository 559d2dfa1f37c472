//! Pods as listed: decoded straight into the parts diagnosis reads.
//!
//! A pod is the bulk of every list (10,000 of them on a big cluster) and most of each is what
//! kvchain never reads: `managedFields` (decoded by k8s-openapi as a JSON tree), images,
//! resources, probes, security contexts. Decoding a full `Pod` and slimming it afterwards cost
//! most of the client's time and a transient heap of ~10 MB per page of 500. [`ListedPod`]
//! skips those fields while decoding (serde passes over unknown fields without allocating) and
//! reads as a `Pod` to kube's watcher. Its spec and status stay in their own slim shapes and
//! are observed through the converter's parts (`convert::volume_of`, `container_of`…), the
//! same ones a full `Pod` goes through: building k8s-openapi's `Volume` (3.2 KB, one optional
//! field per volume type), `Container` and `PodSpec` only to read a few fields from them cost
//! 30% of decoding and converting a page (`cargo bench --bench live_store`).

use std::borrow::Cow;

use k8s_openapi::api::core::v1::{
    CSIVolumeSource, ContainerState, EnvFromSource, Pod, ProjectedVolumeSource, SecretKeySelector,
    SecretVolumeSource, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};
use kube::Resource;
use serde::{Deserialize, Deserializer};

use crate::snapshot::{PodObs, convert};

/// A pod with the metadata, spec and status fields kvchain reads, observed through the same
/// converters as a full `Pod` (see [`convert::pod_of`]).
#[derive(Clone, Debug, Deserialize)]
pub struct ListedPod {
    #[serde(deserialize_with = "read_meta")]
    pub metadata: ObjectMeta,
    /// Boxed, as is the status: kube's watcher moves each listed object several times (the
    /// page's list, its queue, each event).
    #[serde(default)]
    spec: Option<Box<SpecIn>>,
    #[serde(default)]
    status: Option<Box<StatusIn>>,
}

impl ListedPod {
    pub fn observe(&self) -> PodObs {
        let meta = &self.metadata;
        let mut obs = convert::pod_from_meta(meta);
        let spec = self.spec.as_deref();
        if let Some(s) = spec {
            let containers = (s.init_containers.iter().map(|c| (c, true)))
                .chain(s.containers.iter().map(|c| (c, false)))
                .map(|(c, init)| c.observe(init));
            let volumes = s.volumes.iter().map(|v| {
                convert::volume_of(
                    &v.name,
                    v.csi.as_ref(),
                    v.secret.as_ref(),
                    v.projected.as_ref(),
                )
            });
            convert::set_pod_spec(
                &mut obs,
                s.service_account_name.as_deref(),
                volumes,
                containers,
            );
            obs.image_pull_secrets =
                convert::pull_secrets(s.image_pull_secrets.iter().map(|r| r.name.as_str()));
        }
        convert::set_identity(&mut obs, meta, spec.and_then(|s| s.node_name.as_deref()));
        if let Some(st) = self.status.as_deref() {
            let states = (st.container_statuses.iter())
                .chain(&st.init_container_statuses)
                .map(|c| (c.name.as_str(), c.state.as_ref()));
            convert::set_status(&mut obs, st.phase.as_deref(), states);
            obs.ready = st.ready;
            obs.kubelet_since = st.start_time.as_ref().map(|t| t.0);
        }
        obs
    }
}

impl Resource for ListedPod {
    type DynamicType = ();
    type Scope = k8s_openapi::NamespaceResourceScope;

    fn kind(dt: &()) -> Cow<'_, str> {
        Pod::kind(dt)
    }
    fn group(dt: &()) -> Cow<'_, str> {
        Pod::group(dt)
    }
    fn version(dt: &()) -> Cow<'_, str> {
        Pod::version(dt)
    }
    fn plural(dt: &()) -> Cow<'_, str> {
        Pod::plural(dt)
    }
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

/// The metadata fields the converter and the watcher read (`resourceVersion` resumes a watch).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MetaIn {
    name: Option<String>,
    namespace: Option<String>,
    uid: Option<String>,
    resource_version: Option<String>,
    labels: Option<std::collections::BTreeMap<String, String>>,
    annotations: Option<std::collections::BTreeMap<String, String>>,
    owner_references: Option<Vec<OwnerReference>>,
    creation_timestamp: Option<Time>,
    deletion_timestamp: Option<Time>,
}

fn read_meta<'de, D: Deserializer<'de>>(d: D) -> Result<ObjectMeta, D::Error> {
    let m = MetaIn::deserialize(d)?;
    Ok(ObjectMeta {
        name: m.name,
        namespace: m.namespace,
        uid: m.uid,
        resource_version: m.resource_version,
        labels: m.labels,
        annotations: m.annotations,
        owner_references: m.owner_references,
        creation_timestamp: m.creation_timestamp,
        deletion_timestamp: m.deletion_timestamp,
        ..ObjectMeta::default()
    })
}

/// A list field that may be absent or `null`.
fn list<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpecIn {
    service_account_name: Option<String>,
    node_name: Option<String>,
    #[serde(default, deserialize_with = "list")]
    volumes: Vec<VolumeIn>,
    #[serde(default, deserialize_with = "list")]
    containers: Vec<ContainerIn>,
    #[serde(default, deserialize_with = "list")]
    init_containers: Vec<ContainerIn>,
    #[serde(default, deserialize_with = "list")]
    image_pull_secrets: Vec<k8s_openapi::api::core::v1::LocalObjectReference>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContainerIn {
    name: String,
    #[serde(default, deserialize_with = "list")]
    env: Vec<EnvIn>,
    #[serde(default, deserialize_with = "list")]
    env_from: Vec<EnvFromSource>,
    #[serde(default, deserialize_with = "list")]
    volume_mounts: Vec<VolumeMount>,
    restart_policy: Option<String>,
}

impl ContainerIn {
    fn observe(&self, init: bool) -> crate::snapshot::ContainerObs {
        let env = (self.env.iter())
            .map(|e| {
                let from = e.value_from.as_ref().map(|f| f.secret_key_ref.as_ref());
                convert::env_of(&e.name, e.value.as_deref(), from)
            })
            .collect();
        convert::container_of(
            &self.name,
            env,
            &self.env_from,
            &self.volume_mounts,
            init,
            self.restart_policy.as_deref(),
        )
    }
}

/// The volume sources the converter reads; any other kind of volume reads as one with no
/// source set, as the converter treats it. (A k8s-openapi `Volume` is 3.2 KB: one optional
/// field per volume type.)
#[derive(Clone, Debug, Deserialize)]
struct VolumeIn {
    name: String,
    csi: Option<CSIVolumeSource>,
    secret: Option<SecretVolumeSource>,
    projected: Option<ProjectedVolumeSource>,
}

/// An env var: its value, or which Secret key it comes from. Other `valueFrom` sources
/// (fieldRef, configMapKeyRef…) still read as a `valueFrom`, so the value is not a literal.
#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EnvIn {
    name: String,
    value: Option<String>,
    value_from: Option<ValueFromIn>,
}

/// Without the value: a literal may be a secret, and kube's watcher requires its objects to
/// be `Debug`.
impl std::fmt::Debug for EnvIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnvIn")
            .field("name", &self.name)
            .field("value", &self.value.as_ref().map(|_| "<redacted>"))
            .field("value_from", &self.value_from)
            .finish()
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ValueFromIn {
    secret_key_ref: Option<SecretKeySelector>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatusIn {
    phase: Option<String>,
    #[serde(default)]
    start_time: Option<Time>,
    #[serde(default, deserialize_with = "list")]
    container_statuses: Vec<ContainerStatusIn>,
    #[serde(default, deserialize_with = "list")]
    init_container_statuses: Vec<ContainerStatusIn>,
    /// `conditions`, read down to the Ready condition's verdict as it is decoded.
    #[serde(default, rename = "conditions", deserialize_with = "ready")]
    ready: Option<bool>,
}

/// A pod's `status.conditions` down to [`convert::ready_of`]'s verdict, without keeping them:
/// a pod has five or so, each with times, a reason and a message nothing reads. Type and status
/// are borrowed from the page when they can be (no escapes), and the rest is skipped.
fn ready<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    #[derive(Deserialize)]
    struct ConditionIn<'a> {
        #[serde(rename = "type", borrow)]
        kind: Cow<'a, str>,
        #[serde(borrow, default)]
        status: Cow<'a, str>,
    }
    struct Conditions;
    impl<'de> serde::de::Visitor<'de> for Conditions {
        type Value = Option<bool>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a list of pod conditions")
        }
        fn visit_unit<E>(self) -> Result<Option<bool>, E> {
            Ok(None)
        }
        fn visit_none<E>(self) -> Result<Option<bool>, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<bool>, D::Error> {
            d.deserialize_seq(self)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Option<bool>, A::Error> {
            let mut ready = None;
            while let Some(c) = seq.next_element::<ConditionIn>()? {
                // The first Ready condition counts (`GetPodCondition`); the rest is read past.
                if ready.is_none() {
                    ready = convert::ready_of(std::iter::once((&*c.kind, &*c.status)));
                }
            }
            Ok(ready)
        }
    }
    d.deserialize_option(Conditions)
}

#[derive(Clone, Debug, Deserialize)]
struct ContainerStatusIn {
    name: String,
    state: Option<ContainerState>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pod as an API server sends it, with the fields kvchain skips filled in.
    fn full_pod() -> serde_json::Value {
        serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {
                "name": "api-7d9f8c6b5d-x1", "namespace": "shop", "uid": "u-1",
                "resourceVersion": "4711", "generateName": "api-7d9f8c6b5d-",
                "creationTimestamp": "2026-11-23T09:00:00Z",
                "deletionTimestamp": "2026-11-23T10:00:00Z",
                "labels": {"app": "api", "azure.workload.identity/use": "true"},
                "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-20T10:00:00Z"},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                    "name": "api-7d9f8c6b5d", "uid": "rs-1", "controller": true}],
                "managedFields": [{"manager": "kube-controller-manager", "operation": "Update",
                    "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:labels": {}}}}]
            },
            "spec": {
                "serviceAccountName": "api", "nodeName": "aks-np-1",
                "initContainers": [{"name": "init", "image": "busybox",
                    "envFrom": [{"secretRef": {"name": "init-env"}}]},
                    {"name": "proxy", "image": "envoy", "restartPolicy": "Always"}],
                "containers": [{
                    "name": "app", "image": "app:1", "imagePullPolicy": "Always",
                    "resources": {"requests": {"cpu": "100m"}},
                    "livenessProbe": {"httpGet": {"path": "/", "port": 80}},
                    "env": [
                        {"name": "AZURE_CLIENT_ID", "value": "11111111-2222-3333-4444-555555555555"},
                        {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
                        {"name": "PLAIN", "value": "listed-pod-canary-value"},
                        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                        {"name": "AZURE_TENANT_ID", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "tenant"}}}
                    ],
                    "volumeMounts": [{"name": "secrets", "mountPath": "/mnt/secrets", "readOnly": true},
                                     {"name": "secrets", "mountPath": "/etc/one", "subPath": "one"}]
                }],
                "volumes": [
                    {"name": "secrets", "csi": {"driver": "secrets-store.csi.k8s.io", "readOnly": true,
                        "volumeAttributes": {"secretProviderClass": "api-spc"},
                        "nodePublishSecretRef": {"name": "creds"}}},
                    {"name": "azure-identity-token", "projected": {"sources": [
                        {"serviceAccountToken": {"audience": "api://AzureADTokenExchange",
                            "expirationSeconds": 3600, "path": "azure-identity-token"}},
                        {"secret": {"name": "extra-certs"}},
                        {"configMap": {"name": "kube-root-ca.crt"}}]}},
                    {"name": "tls", "secret": {"secretName": "api-tls", "optional": true}},
                    {"name": "cache", "emptyDir": {"sizeLimit": "1Gi"}},
                    {"name": "disk", "azureDisk": {"diskName": "d", "diskURI": "/subscriptions/x/disk"}}
                ],
                "imagePullSecrets": [{"name": "acr-pull"}, {"name": ""}],
                "tolerations": [{"key": "x", "operator": "Exists"}],
                "securityContext": {"runAsNonRoot": true}
            },
            "status": {"phase": "Running", "podIP": "10.0.0.7", "startTime": "2026-11-23T09:00:01Z",
                "conditions": [{"type": "Ready", "status": "True"}],
                "initContainerStatuses": [{"name": "init", "ready": false, "restartCount": 0,
                    "image": "busybox", "imageID": "", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}],
                "ephemeralContainerStatuses": [{"name": "debug", "ready": false, "restartCount": 0,
                    "image": "busybox", "imageID": "", "state": {"waiting": {"reason": "PodInitializing"}}}],
                "containerStatuses": [{"name": "app", "ready": true, "restartCount": 0, "image": "app:1",
                    "imageID": "sha256:abc", "state": {"running": {"startedAt": "2026-11-23T09:00:04Z"}}}]}
        })
    }

    #[test]
    fn a_listed_pod_observes_as_the_full_pod_does() {
        let full: Pod = serde_json::from_value(full_pod()).unwrap();
        let listed: ListedPod = serde_json::from_value(full_pod()).unwrap();
        // Tolerations are read from full pod specs only (PodObs::tolerations, as nodeSelector
        // is): a listed pod's KVC104 fix reads its workload template's.
        let mut full = convert::pod(&full);
        assert_eq!(full.tolerations.len(), 1);
        full.tolerations.clear();
        assert_eq!(
            serde_json::to_value(listed.observe()).unwrap(),
            serde_json::to_value(full).unwrap()
        );
        assert_eq!(listed.observe().image_pull_secrets, ["acr-pull"]);
        // A native sidecar is read from its spec (restartPolicy: Always), before it runs.
        let sidecar: Vec<_> = (listed.observe().containers.iter())
            .map(|c| (c.name.to_string(), c.sidecar))
            .collect();
        assert_eq!(
            sidecar,
            [
                ("init".to_string(), Some(false)),
                ("proxy".to_string(), Some(true)),
                ("app".to_string(), None)
            ]
        );
        assert_eq!(listed.observe().ready, Some(true));
        assert_eq!(
            listed.observe().kubelet_since,
            Some("2026-11-23T09:00:01Z".parse().unwrap())
        );
        assert_eq!(listed.metadata.resource_version.as_deref(), Some("4711"));
        assert!(listed.metadata.managed_fields.is_none());
        assert!(!format!("{:?}", listed.observe()).contains("listed-pod-canary-value"));
        assert!(!format!("{listed:?}").contains("listed-pod-canary-value"));
    }

    /// The Ready condition as the API server sends it (status True, False or Unknown: the node
    /// controller marks a lost node's pods Unknown), among the other conditions: only True is
    /// ready, as controllers count it (`podutil.IsPodReady`); no Ready condition (a pod not yet
    /// on a kubelet, a null list) is not observed, not "not ready". Decoded from bytes, as a
    /// page is (type and status borrowed), and through the full `Pod` alike.
    #[test]
    fn the_ready_condition_reads_as_controllers_count_it() {
        let with = |conditions: serde_json::Value| {
            let mut pod = full_pod();
            pod["status"]["conditions"] = conditions;
            pod
        };
        let condition = |kind: &str, status: &str| {
            serde_json::json!({"type": kind, "status": status,
                "lastProbeTime": null, "lastTransitionTime": "2026-11-23T09:00:05Z",
                "reason": "ContainersNotReady", "message": "containers with unready status: [app]"})
        };
        let cases = [
            (
                serde_json::json!([
                    condition("Initialized", "True"),
                    condition("Ready", "False"),
                    condition("ContainersReady", "False"),
                    condition("PodScheduled", "True")
                ]),
                Some(false),
            ),
            (
                serde_json::json!([condition("Ready", "Unknown")]),
                Some(false),
            ),
            (
                serde_json::json!([
                    condition("PodScheduled", "True"),
                    condition("Ready", "True")
                ]),
                Some(true),
            ),
            // The first Ready condition counts, as GetPodCondition finds it.
            (
                serde_json::json!([condition("Ready", "False"), condition("Ready", "True")]),
                Some(false),
            ),
            (
                serde_json::json!([condition("PodScheduled", "False")]),
                None,
            ),
            (serde_json::json!([]), None),
            (serde_json::Value::Null, None),
        ];
        for (conditions, ready) in cases {
            let pod = with(conditions.clone());
            let bytes = serde_json::to_vec(&pod).unwrap();
            let listed: ListedPod = serde_json::from_slice(&bytes).unwrap();
            let full: Pod = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(listed.observe().ready, ready, "{conditions}");
            assert_eq!(convert::pod(&full).ready, ready, "{conditions}");
        }
        // An escaped string cannot be borrowed from the page: still read.
        let escaped = br#"{"metadata": {"name": "p", "namespace": "shop"},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}"#;
        let listed: ListedPod = serde_json::from_slice(escaped).unwrap();
        assert_eq!(listed.observe().ready, Some(true));
    }

    #[test]
    fn a_pod_without_spec_or_status_still_reads() {
        let listed: ListedPod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "bare", "namespace": "shop"}
        }))
        .unwrap();
        let obs = listed.observe();
        assert_eq!(
            (obs.namespace.as_str(), obs.name.as_str()),
            ("shop", "bare")
        );
        assert_eq!(obs.service_account, "default");
        assert_eq!(obs.ready, None, "no status: readiness not observed");
    }

    #[test]
    fn null_lists_read_as_empty_as_in_a_full_pod() {
        let pod = serde_json::json!({
            "metadata": {"name": "p", "namespace": "shop"},
            "spec": {"serviceAccountName": "", "volumes": null, "initContainers": null,
                "containers": [{"name": "app", "env": null, "envFrom": null, "volumeMounts": null}]},
            "status": {"phase": "Pending", "containerStatuses": null}
        });
        let full: Pod = serde_json::from_value(pod.clone()).unwrap();
        let listed: ListedPod = serde_json::from_value(pod).unwrap();
        let obs = listed.observe();
        assert_eq!(
            serde_json::to_value(&obs).unwrap(),
            serde_json::to_value(convert::pod(&full)).unwrap()
        );
        assert_eq!(obs.service_account, "default");
        assert_eq!(obs.containers.len(), 1);
    }
}
