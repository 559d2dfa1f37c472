//! Kubernetes objects as diagnosis reads them, slimmed on arrival (see [`super::convert`]).

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Fingerprint, Name, StrMap};

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OwnerRef {
    pub kind: Name,
    pub name: Name,
    #[serde(default)]
    pub uid: Name,
    #[serde(default)]
    pub controller: bool,
}

#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct PodObs {
    pub namespace: Name,
    pub name: Name,
    #[serde(default)]
    pub uid: Name,
    #[serde(default)]
    pub labels: StrMap,
    #[serde(default)]
    pub annotations: StrMap,
    /// `spec.serviceAccountName`, `default` when unset.
    pub service_account: Name,
    #[serde(default)]
    pub owners: Vec<OwnerRef>,
    #[serde(default)]
    pub node: Option<Name>,
    /// Pod phase (Pending, Running, …); empty for a template.
    #[serde(default)]
    pub phase: Name,
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    /// `status.startTime`: when its node's kubelet acknowledged the pod. A pod that waited
    /// for a node (capacity, schedulingGates) waits for its mount only from then. None before
    /// a kubelet took it, or in a snapshot saved before this was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubelet_since: Option<Timestamp>,
    /// Set while the pod is terminating.
    #[serde(default)]
    pub deleting: bool,
    /// Its `Ready` condition: `True` is ready, `False` or `Unknown` (the node controller's
    /// mark on a pod of a lost node) is not, as controllers read it (`podutil.IsPodReady`
    /// counts only `True`). None when no Ready condition is observed: a manifest (no status),
    /// a pod the kubelet has not taken yet, a snapshot saved before readiness was read.
    /// Unknown is not "not ready": only `Some(false)` says a pod is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<bool>,
    /// This "pod" is a workload's pod template (manifests), not a running pod.
    #[serde(default)]
    pub template_of: Option<OwnerRef>,
    /// The manifest file a bare Pod was read from (`check -f`), when the pod is its only
    /// object: an edit of its spec is made there and the pod re-created from it, as `kubectl
    /// get` would re-create the old spec (a file holding more is not re-applied, audit TT2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<Box<str>>,
    #[serde(default)]
    pub volumes: Vec<VolumeObs>,
    #[serde(default)]
    pub containers: Vec<ContainerObs>,
    /// `spec.imagePullSecrets[].name`: the kubelet reads them for each image pull (a synced
    /// `kubernetes.io/dockerconfigjson` Secret is consumed this way, FACTS §2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub image_pull_secrets: Vec<Name>,
    /// `spec.hostNetwork`: the workload-identity webhook refuses a proxy sidecar for it
    /// (FACTS §6). Read from full pod specs (manifests, workload templates); the live pod list
    /// leaves it unset, since a pod that exists has been through admission already.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub host_network: bool,
    /// The node OS (`kubernetes.io/os`) the pod's required scheduling constraints pin it to:
    /// its nodeSelector, or every term of its required node affinity. Same sources as
    /// `host_network`: a running pod has a node, whose labels say more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_os: Option<Name>,
    /// `spec.nodeSelector`, from full pod specs (manifests, workload templates) like
    /// `node_os`: a value still a template placeholder is refused by the API server.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
    /// `spec.tolerations`, from full pod specs like `node_selector`: the KVC104 fix names the
    /// one that lets the pod onto a node the driver does not tolerate (audit NN5).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<super::TolerationObs>,
    /// The `matchExpressions` of each term of `spec.affinity.nodeAffinity.
    /// requiredDuringSchedulingIgnoredDuringExecution`, from full pod specs: the KVC104 fix
    /// names the term that pins the pod to such a node (audit NN5).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub node_affinity: Vec<Vec<super::NodeRequirementObs>>,
}

/// The annotation the kubelet puts on the API's mirror of a static pod.
pub const MIRROR_ANNOTATION: &str = "kubernetes.io/config.mirror";

impl ContainerObs {
    /// An init container that runs to completion before the app containers start (Kubernetes
    /// docs, "Init Containers"): it reads its env once, at its start, and no process of it
    /// runs on it afterwards; only a new start of the pod runs it again. Its spec says so (no
    /// `restartPolicy: Always`), a template's too; where the spec was not read, only an init
    /// container seen to have completed (exit 0) is taken for one, as a sidecar keeps running.
    pub fn runs_to_completion(&self) -> bool {
        self.init
            && match self.sidecar {
                Some(sidecar) => !sidecar,
                None => matches!(
                    self.state,
                    ContainerStateObs::Terminated { exit_code: 0, .. }
                ),
            }
    }
}

impl PodObs {
    pub fn key(&self) -> (&str, &str) {
        (&self.namespace, &self.name)
    }

    /// Its app containers and its native sidecars: what runs for the pod's life. A sidecar
    /// (an init container with `restartPolicy: Always`) keeps running beside the app
    /// containers (Kubernetes docs, "Sidecar Containers"), which its spec says
    /// ([`ContainerObs::sidecar`]), before it starts too. Where the spec was not read, it is
    /// told from a classic init container, which runs to completion before any app container
    /// starts, by running while an app container runs; before that it is left out.
    pub fn app_and_sidecars(&self) -> impl Iterator<Item = &ContainerObs> {
        let up = |c: &ContainerObs| matches!(c.state, ContainerStateObs::Running { .. });
        let app_up = self.containers.iter().any(|c| !c.init && up(c));
        (self.containers.iter())
            .filter(move |c| !c.init || c.sidecar.unwrap_or_else(|| app_up && up(c)))
    }

    /// The node whose kubelet runs this pod from a manifest file, when it is a static pod's
    /// mirror (owned by its Node, or carrying [`MIRROR_ANNOTATION`]): nothing in the API
    /// restarts or edits it, and its spec may name no ServiceAccount.
    pub fn static_node(&self) -> Option<&str> {
        match self.owners.iter().find(|o| o.kind == "Node") {
            Some(o) => Some(&o.name),
            None if self.annotations.contains_key(MIRROR_ANNOTATION) => {
                Some(self.node.as_deref().unwrap_or("(unknown)"))
            }
            None => None,
        }
    }
    /// The pod will mount nothing again: it ran to completion or failed (a terminal phase:
    /// a finished Job's pod, an evicted pod), or it is being deleted. The driver's rotation
    /// reconciler skips such pods, and their SPC pod status keeps the versions of their last
    /// mount until the pod object goes (FACTS §1): history, not the chain's present.
    pub fn retired(&self) -> bool {
        self.deleting || self.finished()
    }
    /// The pod is in a terminal phase (Succeeded or Failed): its containers have exited and
    /// the kubelet has torn its volumes down, so it holds no mount (unlike a pod being
    /// deleted, mounted until teardown).
    pub fn finished(&self) -> bool {
        matches!(self.phase.as_str(), "Succeeded" | "Failed")
    }
    pub fn volume(&self, name: &str) -> Option<&VolumeObs> {
        self.volumes.iter().find(|v| v.name == name)
    }
    /// Whether a CSI volume of this pod names SecretProviderClass `spc` (same namespace).
    pub fn mounts_spc(&self, spc: &str) -> bool {
        self.volumes.iter().any(|v| {
            matches!(&v.source, VolumeSourceObs::Csi { attributes, .. }
                if attributes.get("secretProviderClass").is_some_and(|s| s == spc))
        })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VolumeObs {
    pub name: Name,
    pub source: VolumeSourceObs,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum VolumeSourceObs {
    Csi {
        driver: Name,
        /// `csi.readOnly` (None when unset: kubelet treats it as false).
        read_only: Option<bool>,
        attributes: StrMap,
        node_publish_secret: Option<Name>,
    },
    Secret {
        secret_name: Name,
        optional: bool,
        /// `items[].key`: the keys it projects (empty: every key of the Secret). A key the
        /// Secret lacks fails the volume's mount unless the volume is optional.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        keys: Vec<Name>,
        /// `items[].path`, one per key of `keys` in its order: the file each key is written
        /// to. Empty in snapshots written before paths were recorded (see [`KeyPaths`]).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        paths: Vec<Name>,
    },
    /// Projected volume: service-account tokens (with audience) and secrets.
    Projected {
        token_audiences: Vec<Name>,
        secrets: Vec<Name>,
        /// The `secret` sources that list `items[].key`: like a secret volume's, a key the
        /// Secret lacks fails the volume's setup unless the source is optional.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        secret_items: Vec<ProjectedSecretItems>,
    },
    Other,
}

/// A projected volume's `secret` source that names the keys it projects.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProjectedSecretItems {
    pub secret: Name,
    #[serde(default)]
    pub optional: bool,
    /// `items[].key`.
    pub keys: Vec<Name>,
    /// `items[].path`, one per key of `keys` in its order (empty in older snapshots).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<Name>,
}

impl VolumeSourceObs {
    /// Which file of this volume holds which key of Secret `secret`: a Secret volume's
    /// `items`, a projected volume's for that Secret source; every key at its own name
    /// otherwise.
    pub fn key_paths(&self, secret: &str) -> KeyPaths<'_> {
        match self {
            VolumeSourceObs::Secret { keys, paths, .. } => KeyPaths::of(keys, paths),
            VolumeSourceObs::Projected { secret_items, .. } => (secret_items.iter())
                .find(|s| s.secret == secret)
                .map_or(KeyPaths::Every, |s| KeyPaths::of(&s.keys, &s.paths)),
            _ => KeyPaths::Every,
        }
    }
}

/// Which file of a Secret volume (or of a projected volume's Secret source) holds which key.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum KeyPaths<'a> {
    /// No `items`: every key of the Secret is a file of its own name.
    Every,
    /// `items`: these keys, each at its path.
    Items(&'a [Name], &'a [Name]),
    /// `items` whose paths the snapshot does not hold (written before they were recorded):
    /// which file holds which key is unknown.
    Unrecorded,
}

impl<'a> KeyPaths<'a> {
    pub fn of(keys: &'a [Name], paths: &'a [Name]) -> Self {
        match (keys.is_empty(), keys.len() == paths.len()) {
            (true, _) => KeyPaths::Every,
            (false, true) => KeyPaths::Items(keys, paths),
            (false, false) => KeyPaths::Unrecorded,
        }
    }

    /// The key whose file is `path`: None when no key is written there, or the paths were
    /// not recorded (tell [`KeyPaths::Unrecorded`] apart first).
    pub fn key_at(self, path: &'a str) -> Option<&'a str> {
        match self {
            KeyPaths::Every => Some(path),
            KeyPaths::Items(keys, paths) => {
                (paths.iter().position(|p| p.as_str() == path)).map(|i| keys[i].as_str())
            }
            KeyPaths::Unrecorded => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct ContainerObs {
    pub name: Name,
    #[serde(default)]
    pub init: bool,
    /// For an init container, whether its spec sets `restartPolicy: Always`: a native sidecar,
    /// which keeps running beside the app containers, where a classic init container runs to
    /// completion before any of them starts (Kubernetes docs, "Sidecar Containers"). None for
    /// an app container, and where the spec was not read (a snapshot saved before it was).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sidecar: Option<bool>,
    #[serde(default)]
    pub mounts: Vec<MountObs>,
    #[serde(default)]
    pub env: Vec<EnvObs>,
    /// `envFrom[].secretRef.name`
    #[serde(default)]
    pub env_from_secrets: Vec<Name>,
    /// Those of `env_from_secrets` whose `secretRef.optional` is true: the kubelet starts the
    /// container without them when they are missing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env_from_optional: Vec<Name>,
    #[serde(default)]
    pub state: ContainerStateObs,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MountObs {
    pub volume: Name,
    pub path: Name,
    #[serde(default)]
    pub sub_path: Option<Name>,
    #[serde(default)]
    pub read_only: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnvObs {
    pub name: Name,
    pub source: EnvSourceObs,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum EnvSourceObs {
    /// A literal value. Only kept for the workload-identity variables (AZURE_*): other literals
    /// may hold secrets and are not stored.
    Literal {
        value: Option<String>,
    },
    SecretKey {
        secret: Name,
        key: Name,
        optional: bool,
    },
    Other,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum ContainerStateObs {
    #[default]
    Unknown,
    Waiting {
        reason: String,
        #[serde(default)]
        message: String,
    },
    Running {
        started_at: Timestamp,
    },
    Terminated {
        reason: String,
        #[serde(default)]
        exit_code: i32,
    },
}

#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct ServiceAccountObs {
    pub namespace: Name,
    pub name: Name,
    #[serde(default)]
    pub annotations: StrMap,
    /// `imagePullSecrets[].name`: the ServiceAccount admission plugin copies them into a pod
    /// created with no imagePullSecrets of its own. Read for manifests (a live pod carries the
    /// copy already).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub image_pull_secrets: Vec<Name>,
    /// The value of its label `azure.workload.identity/use`, if any: the webhook selects pods
    /// by that label on the pod, never on the ServiceAccount (FACTS §6), so one here is said
    /// beside KVC201 as being in the wrong place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_label: Option<String>,
}

/// A Kubernetes Secret, values replaced by keyed fingerprints on arrival.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct SecretObs {
    pub namespace: Name,
    pub name: Name,
    #[serde(rename = "type", default)]
    pub type_: String,
    #[serde(default)]
    pub labels: StrMap,
    /// Stakater Reloader's resource-side annotations only (`reloader.stakater.com/ignore`,
    /// `…/match`, FACTS §10): no other annotation is kept (`last-applied-configuration`
    /// repeats the values).
    #[serde(default, skip_serializing_if = "no_entries")]
    pub annotations: StrMap,
    #[serde(default)]
    pub owners: Vec<OwnerRef>,
    /// key → fingerprint of the value (empty value ⇒ fingerprint of "").
    #[serde(default)]
    pub data: BTreeMap<String, Fingerprint>,
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    /// Last write of `data` (managedFields of the driver / the lab clock).
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
}

fn no_entries(m: &StrMap) -> bool {
    m.is_empty()
}

impl SecretObs {
    /// Carries the driver's `secrets-store.csi.k8s.io/managed: "true"` label.
    pub fn driver_managed(&self) -> bool {
        self.labels
            .get("secrets-store.csi.k8s.io/managed")
            .is_some_and(|v| v == "true")
    }
}

#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct EventObs {
    pub namespace: Name,
    /// `Kind/name` of the involved object.
    pub involved_kind: Name,
    pub involved_name: Name,
    #[serde(default)]
    pub involved_uid: String,
    /// Normal | Warning
    #[serde(rename = "type", default)]
    pub type_: String,
    pub reason: String,
    /// Never holds a secret map (older providers print the nodePublishSecretRef Secret):
    /// hidden wherever an event is read ([`super::event_text`]).
    #[serde(deserialize_with = "super::event_text::deserialize_message")]
    pub message: String,
    #[serde(default)]
    pub count: u32,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub last_seen: Option<Timestamp>,
    /// When it first happened (`firstTimestamp`, or an events.k8s.io event's `eventTime`):
    /// what an older success can be compared with (audit EE7). None in older snapshots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<Timestamp>,
}

#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct IngressObs {
    pub namespace: Name,
    pub name: Name,
    #[serde(default)]
    pub tls_secrets: Vec<String>,
}
