//! The driver's SecretProviderClassPodStatus and synced Kubernetes Secrets
//! (`spec.secretObjects`), with the owner bookkeeping that decides garbage collection
//! (FACTS §1–2): the SPCPS is owned by its pod; a synced Secret is owned by the mounting
//! pods' owners (the ReplicaSet…, or the SPCPS for a bare pod), accumulating across rollouts.

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    ManagedFieldsEntry, ObjectMeta, OwnerReference, Time,
};

use super::mount::{Files, Mounted};
use crate::snapshot::crd::{
    SecretProviderClass, SecretProviderClassPodStatus, SpcpsStatus, SpcpsStatusObject,
};

pub const MANAGED_LABEL: &str = "secrets-store.csi.k8s.io/managed";
pub const NODE_LABEL: &str = "internal.secrets-store.csi.k8s.io/node-name";

pub fn managed_write(manager: &str, now: Timestamp) -> Vec<ManagedFieldsEntry> {
    vec![ManagedFieldsEntry {
        manager: Some(manager.into()),
        operation: Some("Update".into()),
        api_version: Some("v1".into()),
        time: Some(Time(now)),
        ..Default::default()
    }]
}

pub fn spcps_name(pod: &str, ns: &str, spc: &str) -> String {
    // Sized exactly (`format!` grows by doubling): the world keeps one per mounted volume.
    [pod, "-", ns, "-", spc].concat()
}

pub fn target_path(pod_uid: &str, volume: &str) -> String {
    format!("/var/lib/kubelet/pods/{pod_uid}/volumes/kubernetes.io~csi/{volume}/mount")
}

/// An SPCPS as the lab keeps it: what the driver writes, one small record per mounted volume
/// (10,000 of them as k8s-shaped objects, with their label maps and managed fields, held
/// 18 MB). [`LabSpcps::to_spcps`] is the object the API server returns.
#[derive(Clone, Debug, PartialEq)]
pub struct LabSpcps {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub created: Timestamp,
    /// When the driver last wrote it (its managedFields time).
    pub written: Timestamp,
    pub node: String,
    pub pod_name: String,
    pub pod_uid: String,
    pub spc: String,
    pub volume: String,
    /// `status.objects`: (`<type>/<objectName>`, version).
    pub objects: Vec<(String, String)>,
}

impl LabSpcps {
    pub fn to_spcps(&self) -> SecretProviderClassPodStatus {
        SecretProviderClassPodStatus {
            metadata: ObjectMeta {
                name: Some(self.name.clone()),
                namespace: Some(self.namespace.clone()),
                uid: Some(self.uid.clone()),
                creation_timestamp: Some(Time(self.created)),
                labels: Some([(NODE_LABEL.to_string(), self.node.clone())].into()),
                owner_references: Some(vec![OwnerReference {
                    api_version: "v1".into(),
                    kind: "Pod".into(),
                    name: self.pod_name.clone(),
                    uid: self.pod_uid.clone(),
                    ..Default::default()
                }]),
                managed_fields: Some(managed_write("secrets-store-csi-driver", self.written)),
                ..Default::default()
            },
            status: Some(SpcpsStatus {
                pod_name: Some(self.pod_name.clone()),
                secret_provider_class_name: Some(self.spc.clone()),
                mounted: Some(true),
                target_path: Some(target_path(&self.pod_uid, &self.volume)),
                objects: Some(
                    self.objects
                        .iter()
                        .map(|(id, v)| SpcpsStatusObject {
                            id: Some(id.clone()),
                            version: Some(v.clone()),
                        })
                        .collect(),
                ),
            }),
        }
    }
}

/// Creates or overwrites the SPCPS after a successful mount (`uid` for a new object).
#[allow(clippy::too_many_arguments)]
pub fn write_spcps(
    existing: Option<LabSpcps>,
    pod: &ObjectMeta,
    spc: &str,
    volume: &str,
    node: &str,
    mounted: &Mounted,
    uid: String,
    now: Timestamp,
) -> LabSpcps {
    let (ns, name, pod_uid) = (
        pod.namespace.clone().unwrap_or_default(),
        pod.name.clone().unwrap_or_default(),
        pod.uid.clone().unwrap_or_default(),
    );
    let (spcps, uid, created) = match existing {
        Some(s) => (s.name, s.uid, s.created),
        None => (spcps_name(&name, &ns, spc), uid, now),
    };
    LabSpcps {
        name: spcps,
        namespace: ns,
        uid,
        created,
        written: now,
        node: node.to_string(),
        pod_name: name,
        pod_uid,
        spc: spc.to_string(),
        volume: volume.to_string(),
        objects: mounted.objects.clone(),
    }
}

/// The owners a synced Secret gets from one mounting pod.
pub fn owners_for(pod: &ObjectMeta, spcps: &LabSpcps) -> Vec<OwnerReference> {
    match pod.owner_references.as_ref().filter(|o| !o.is_empty()) {
        Some(refs) => refs
            .iter()
            .map(|o| OwnerReference {
                controller: None,
                block_owner_deletion: None,
                ..o.clone()
            })
            .collect(),
        None => vec![OwnerReference {
            api_version: "secrets-store.csi.x-k8s.io/v1".into(),
            kind: "SecretProviderClassPodStatus".into(),
            name: spcps.name.clone(),
            uid: spcps.uid.clone(),
            ..Default::default()
        }],
    }
}

/// Whether `file` holds a PEM block that is neither a certificate nor a private key (a PUBLIC
/// KEY): the driver's getPrivateKey takes it for the key.
fn has_other_block(file: &[u8]) -> bool {
    String::from_utf8_lossy(file).lines().any(|l| {
        l.starts_with("-----BEGIN ")
            && !l.contains("PRIVATE KEY")
            && !l.starts_with("-----BEGIN CERTIFICATE-----")
    })
}

/// Splits a PEM bundle into (private key blocks, certificate blocks): what the driver puts
/// into `tls.key` and `tls.crt` of a `kubernetes.io/tls` Secret. Its getCert keeps only the
/// CERTIFICATE blocks, so a PUBLIC KEY (an objectType key file, FACTS §5) is in neither part.
pub(crate) fn pem_parts(file: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let text = String::from_utf8_lossy(file);
    let (mut key, mut cert) = (String::new(), String::new());
    let mut cur: Option<bool> = None;
    for line in text.lines() {
        if line.starts_with("-----BEGIN ") {
            cur = if line.contains("PRIVATE KEY") {
                Some(true)
            } else if line.starts_with("-----BEGIN CERTIFICATE-----") {
                Some(false)
            } else {
                None
            };
        }
        match cur {
            Some(true) => {
                key.push_str(line);
                key.push('\n');
            }
            Some(false) => {
                cert.push_str(line);
                cert.push('\n');
            }
            None => {}
        }
        if line.starts_with("-----END ") {
            cur = None;
        }
    }
    (key.into_bytes(), cert.into_bytes())
}

/// Whether `s` carries the driver's `secrets-store.csi.k8s.io/managed: "true"` label, the one
/// its informer selects Secrets by (FACTS §2).
pub(crate) fn driver_managed(s: &Secret) -> bool {
    (s.metadata.labels.as_ref())
        .and_then(|l| l.get(MANAGED_LABEL))
        .is_some_and(|v| v == "true")
}

/// The mounting pod's owners added to a synced Secret's, as the driver's patcher does (FACTS
/// §2: they accumulate).
fn add_owners(s: &mut Secret, owners: &[OwnerReference]) {
    let refs = s.metadata.owner_references.get_or_insert_with(Vec::new);
    for o in owners {
        if !refs.iter().any(|r| r.uid == o.uid) {
            refs.push(o.clone());
        }
    }
}

/// What the driver's ValidateSecretObject refuses in an entry, before it reads any file.
fn invalid_entry(obj: &crate::snapshot::crd::SecretObject) -> Option<&'static str> {
    if obj.secret_name.as_deref().unwrap_or("").is_empty() {
        Some("secret name is empty")
    } else if obj.type_.as_deref().unwrap_or("").is_empty() {
        Some("secret type is empty")
    } else if obj.data.as_deref().unwrap_or(&[]).is_empty() {
        Some("data is empty")
    } else {
        None
    }
}

/// The data of one `secretObjects` entry from the mounted files, or the driver's error.
pub fn secret_data(
    obj: &crate::snapshot::crd::SecretObject,
    files: &Files,
) -> Result<BTreeMap<String, ByteString>, String> {
    if let Some(e) = invalid_entry(obj) {
        return Err(e.into());
    }
    let type_ = obj.type_.as_deref().unwrap_or("");
    let entries = obj.data.as_deref().unwrap_or(&[]);
    let mut data = BTreeMap::new();
    for d in entries {
        let object_name = d.object_name.as_deref().unwrap_or("");
        let key = d.key.as_deref().unwrap_or("");
        let file = files.get(object_name).ok_or_else(|| {
            format!("file matching objectName {object_name} not found in the pod")
        })?;
        let value = if type_ == "kubernetes.io/tls" {
            let (k, c) = pem_parts(file);
            // GetCertPart (FACTS §2), wrapped as GetSecretData wraps it. A file with no PEM
            // block but certificates is read as PFX, which fails; a PUBLIC KEY (an objectType
            // key file) is taken for the key, parses as no private key, and gives an empty
            // PRIVATE KEY block without any error.
            let not_pfx = || {
                format!(
                    "failed to get cert data from file {object_name}, err: pkcs12: error reading P12 data: asn1: syntax error: sequence truncated"
                )
            };
            match key {
                "tls.key" if k.is_empty() && has_other_block(file) => {
                    b"-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n".to_vec()
                }
                "tls.key" if k.is_empty() => return Err(not_pfx()),
                "tls.key" => k,
                "tls.crt" if c.is_empty() => return Err(not_pfx()),
                "tls.crt" => c,
                other => {
                    return Err(format!(
                        "failed to get cert data from file {object_name}, err: key '{other}' is not supported. Only 'tls.key' and 'tls.crt' are supported"
                    ));
                }
            }
        } else {
            file.clone()
        };
        data.insert(key.to_string(), ByteString(value));
    }
    Ok(data)
}

/// Why the API server refuses a Secret of `type_` with `data` (Kubernetes ValidateSecret):
/// the keys its type requires, and for the docker types a value that is JSON.
pub(crate) fn api_refuses(type_: &str, data: &BTreeMap<String, ByteString>) -> Option<String> {
    let required = |k: &str| format!("data[{k}]: Required value");
    // Every key of every type, first (ValidateSecret checks each with IsConfigMapKey):
    // a path-like key copied from an objectAlias is refused (audit CCC4).
    if let Some((k, why)) = (data.keys())
        .find_map(|k| crate::snapshot::config_key::invalid_config_key(k).map(|why| (k, why)))
    {
        return Some(format!("data[{k}]: Invalid value: {k:?}: {why}"));
    }
    let json = |k: &str| {
        let v = data.get(k)?;
        serde_json::from_slice::<serde_json::Value>(&v.0)
            .err()
            .map(|e| format!("data[{k}]: Invalid value: \"<secret contents redacted>\": {e}"))
    };
    match type_ {
        "kubernetes.io/tls" => ["tls.key", "tls.crt"]
            .into_iter()
            .find(|k| !data.contains_key(*k))
            .map(required),
        "kubernetes.io/dockerconfigjson" => match data.contains_key(".dockerconfigjson") {
            false => Some(required(".dockerconfigjson")),
            true => json(".dockerconfigjson"),
        },
        "kubernetes.io/dockercfg" => match data.contains_key(".dockercfg") {
            false => Some(required(".dockercfg")),
            true => json(".dockercfg"),
        },
        "kubernetes.io/ssh-auth" => {
            (!data.contains_key("ssh-privatekey")).then(|| required("ssh-privatekey"))
        }
        "kubernetes.io/basic-auth" => (!data.contains_key("username")
            && !data.contains_key("password"))
        .then(|| required("username")),
        _ => None,
    }
}

/// The driver's event when its create-or-update of a Secret keeps failing (the API server's
/// refusal is only in its log): the backoff's error, naming no Secret (FACTS §3).
pub const BACKOFF_FAILED: &str = "timed out waiting for the condition";

/// What syncing did, for events.
pub enum SyncOutcome {
    Created(String),
    Updated(String),
    Unchanged(String),
    /// A failure the driver reports in an event (the reason is the caller's: the SPCPS
    /// controller's FailedToCreateSecret, the rotation reconciler's SecretRotationFailed).
    Failed(String),
}

/// Create-or-update of the Secrets of `spc` from a pod's mounted files. `rotation` false is
/// the ≤v1.5 SPCPS controller: it only creates missing Secrets and adds owners. True is the
/// ≤v1.5 rotation reconciler: it patches the data of the Secrets that exist and creates none
/// ([D5] patchSecret: a deleted Secret is the controller's to make again, FACTS §2).
#[allow(clippy::too_many_arguments)]
pub fn sync_spc(
    secrets: &mut BTreeMap<(String, String), Secret>,
    ns: &str,
    spc: &SecretProviderClass,
    files: &Files,
    owners: &[OwnerReference],
    rotation: bool,
    mut next_uid: impl FnMut() -> String,
    now: Timestamp,
) -> Vec<SyncOutcome> {
    let spc_name = spc.metadata.name.clone().unwrap_or_default();
    let mut out = Vec::new();
    let patch_failed = |name: &str| {
        SyncOutcome::Failed(format!(
            "failed to patch secret {name} with new data, err: {BACKOFF_FAILED}"
        ))
    };
    for obj in spc.spec.secret_objects.iter().flatten() {
        let secret_name = obj.secret_name.clone().unwrap_or_default();
        // An entry without name, type or data: the controller only logs it and goes on; the
        // rotation reconciler says so in an event (FACTS §2, [D5] ValidateSecretObject).
        if let Some(e) = invalid_entry(obj) {
            if rotation {
                out.push(SyncOutcome::Failed(format!(
                    "failed validation for secret object in spc {ns}/{spc_name}, err: {e}"
                )));
            }
            continue;
        }
        let key = (ns.to_string(), secret_name.clone());
        // The driver reads Secrets through a cache of those carrying its managed label (FACTS
        // §2): one of this name made by someone else is not there for it. Its create is
        // answered AlreadyExists, which it takes for success; its patcher and the rotation
        // reconciler find nothing to own or patch ([D5] secretExists, createK8sSecret,
        // patchSecretWithOwnerRef, patchSecret all read that cache).
        let seen = secrets.get(&key).map(driver_managed);
        // The ≤v1.5 controller reads no file for a Secret that exists: it only makes missing
        // ones ([D5] `if !exists`); the owners are the patcher's.
        if !rotation
            && seen == Some(true)
            && let Some(s) = secrets.get_mut(&key)
        {
            add_owners(s, owners);
            out.push(SyncOutcome::Unchanged(secret_name));
            continue;
        }
        let data = match secret_data(obj, files) {
            Ok(d) => d,
            Err(e) => {
                out.push(SyncOutcome::Failed(format!(
                    "failed to get data in spc {ns}/{spc_name} for secret {secret_name}, err: {e}"
                )));
                continue;
            }
        };
        // The API server validates the typed Secret the driver writes: refused, there is no
        // Secret (and an existing one keeps its data). The controller's backoff then returns
        // from the reconcile, so the entries after this one are not written either, at every
        // retry ([D] `return ctrl.Result{RequeueAfter: 5s}`, audit CCC5); the rotation
        // reconciler goes on to the next entry.
        if api_refuses(obj.type_.as_deref().unwrap_or(""), &data).is_some() {
            if rotation {
                out.push(patch_failed(&secret_name));
                continue;
            }
            out.push(SyncOutcome::Failed(BACKOFF_FAILED.into()));
            break;
        }
        match secrets.get_mut(&key).filter(|_| seen == Some(true)) {
            Some(s) => {
                add_owners(s, owners);
                if s.data.as_ref() != Some(&data) {
                    s.data = Some(data);
                    s.metadata.managed_fields =
                        Some(managed_write("secrets-store-csi-driver", now));
                    out.push(SyncOutcome::Updated(secret_name));
                } else {
                    out.push(SyncOutcome::Unchanged(secret_name));
                }
            }
            None if rotation => out.push(patch_failed(&secret_name)),
            // Created by someone else: AlreadyExists, taken for done; it stays as it was.
            None if seen == Some(false) => out.push(SyncOutcome::Unchanged(secret_name)),
            None => {
                let mut labels = obj.labels.clone().unwrap_or_default();
                labels.insert(MANAGED_LABEL.into(), "true".into());
                secrets.insert(
                    key,
                    Secret {
                        metadata: ObjectMeta {
                            name: Some(secret_name.clone()),
                            namespace: Some(ns.to_string()),
                            uid: Some(next_uid()),
                            labels: Some(labels),
                            annotations: obj.annotations.clone(),
                            owner_references: Some(owners.to_vec()),
                            creation_timestamp: Some(Time(now)),
                            managed_fields: Some(managed_write("secrets-store-csi-driver", now)),
                            ..Default::default()
                        },
                        type_: obj.type_.clone(),
                        data: Some(data),
                        ..Default::default()
                    },
                );
                out.push(SyncOutcome::Created(secret_name));
            }
        }
    }
    out
}

#[cfg(test)]
#[path = "sync_tests.rs"]
mod tests;
