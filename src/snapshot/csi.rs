//! The Secrets Store CSI driver's objects as observed: SecretProviderClasses (their Azure
//! parameters parsed once), their `secretObjects`, and the per-pod mount statuses
//! (SecretProviderClassPodStatus) with the files' fingerprints.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Fingerprint, Name, OwnerRef, PodObs, StrMap};
use crate::spc::AzureSpc;

/// A SecretProviderClass, with its Azure parameters parsed once at observation time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpcObs {
    pub namespace: Name,
    pub name: Name,
    /// Metadata annotations (only `kvchain.dev/ignore*` are read, for suppressions).
    #[serde(default)]
    pub annotations: StrMap,
    pub provider: String,
    pub parameters: BTreeMap<String, String>,
    #[serde(default)]
    pub secret_objects: Vec<SecretObjectSpec>,
    /// `parameters` parsed (see [`crate::spc`]); parse problems are kept inside. A snapshot
    /// file's copy is not trusted: [`crate::snapshot::file::from_str`] parses it again.
    #[serde(default)]
    pub parsed: AzureSpc,
    /// The manifest file that defines it (`check -f` only): a fix can name the file to edit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Manifests: written without `metadata.namespace`, and taken to be applied with `-n` into
    /// the namespace of the pods that name it (README `check -f`). Says so, since nothing in
    /// the files guarantees it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_less: Option<NamespaceLess>,
    /// Its ownerReference marked `controller: true` (an operator's generated SPC, e.g. the AKS
    /// app routing operator's, owned by an Ingress): that controller reconciles the object, so
    /// a patch of it does not last; a fix says to change the owner instead (audit TT6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller: Option<OwnerRef>,
}

/// A SecretProviderClass document without `metadata.namespace` (see [`SpcObs`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NamespaceLess {
    /// Every namespace whose pods (written with a namespace) name it, sorted: one
    /// `kubectl apply` puts the document in one of them only.
    #[serde(default)]
    pub namespaces: Vec<Name>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretObjectSpec {
    pub secret_name: Name,
    #[serde(rename = "type", default)]
    pub type_: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// `annotations` the driver writes on the Secret it creates (FACTS §2), only Stakater
    /// Reloader's resource-side ones (`reloader.stakater.com/ignore`, `…/match`, FACTS §10).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub data: Vec<SecretObjectData>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretObjectData {
    pub object_name: String,
    pub key: String,
}

#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct SpcPodStatusObs {
    pub namespace: Name,
    pub name: Name,
    pub pod_name: Name,
    pub spc_name: Name,
    pub mounted: bool,
    #[serde(default)]
    pub target_path: String,
    /// `status.objects`: ids like `secret/<objectName>` with the mounted version.
    #[serde(default)]
    pub objects: Vec<SpcpsObject>,
    /// When the driver last wrote this status (rotation progress).
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
    /// Fingerprints of the mounted files by file name, when the source can see them
    /// (the lab always; live only after an in-container verify).
    #[serde(default)]
    pub files: Option<FileFingerprints>,
    /// For files holding PEM blocks: fingerprints of the parts the driver writes into a
    /// `kubernetes.io/tls` Secret (private key → `tls.key`, certificates → `tls.crt`), which
    /// never equal the whole file's (FACTS §2). Same visibility as `files`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pem_parts: BTreeMap<String, PemParts>,
}

impl SpcPodStatusObs {
    /// The pod uid in `targetPath` (`/var/lib/kubelet/pods/<podUID>/volumes/…/mount`, FACTS
    /// §1: the driver's controllers validate the pod uid against it). None when the path does
    /// not have that shape (manifests and hand-written snapshots often hold none).
    pub fn target_pod_uid(&self) -> Option<&str> {
        // Every chain's status is asked (`earlier_pod`): `split_once("/pods/")` built a
        // two-way searcher per call, ~800 instructions. The kubelet's default root holds the
        // first "/pods/" at a known place; elsewhere it is found at a '/'.
        const ROOT: &str = "/var/lib/kubelet/pods/";
        let path = self.target_path.as_str();
        let rest = match path.strip_prefix(ROOT) {
            Some(rest) => rest,
            None => {
                let b = path.as_bytes();
                let at = (0..b.len()).find(|&i| b[i] == b'/' && b[i..].starts_with(b"/pods/"))?;
                &path[at + "/pods/".len()..]
            }
        };
        let end = rest.bytes().position(|b| b == b'/')?;
        let (uid, tail) = (&rest[..end], &rest[end + 1..]);
        (!uid.is_empty() && tail.starts_with("volumes/")).then_some(uid)
    }

    /// Why this status describes an earlier pod of the same name rather than `pod` (a
    /// StatefulSet pod re-created: FACTS §1, the driver updates the existing SPCPS only once
    /// the new pod's mount succeeds), or None when it is `pod`'s or nothing tells them apart.
    /// Its `mounted: true` then proves nothing about `pod`.
    pub fn earlier_pod(&self, pod: &PodObs) -> Option<String> {
        if let Some(uid) = self.target_pod_uid()
            && !pod.uid.is_empty()
            && *uid != *pod.uid
        {
            return Some(format!(
                "its targetPath names pod uid {uid}, not this pod's {}",
                pod.uid
            ));
        }
        match (self.updated_at, pod.created_at) {
            (Some(written), Some(created)) if written < created => Some(format!(
                "written at {}, before this pod was created at {}",
                crate::glance::time(written),
                crate::glance::time(created)
            )),
            _ => None,
        }
    }
}

/// File name → fingerprint of its content, sorted by name. A status holds one or two files: a
/// sorted list holds them in one small block (a `BTreeMap` node is ~600 bytes whatever it
/// holds: a third of the statuses' memory in a 10,000-pod world) and is searched without a
/// node walk. Snapshot files hold it as a JSON object, as they held the map.
pub type FileFingerprints = litemap::LiteMap<Name, Fingerprint>;

/// Fingerprints of a PEM file's private-key blocks and certificate blocks (None: none there).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PemParts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<Fingerprint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert: Option<Fingerprint>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpcpsObject {
    pub id: Name,
    pub version: Name,
}

#[cfg(test)]
mod tests {
    use super::SpcPodStatusObs;

    /// The byte scan finds what `split_once` found: the first "/pods/", the uid up to the next
    /// '/', a `volumes/` after it.
    #[test]
    fn target_pod_uid_reads_the_first_pods_segment() {
        fn by_split(path: &str) -> Option<&str> {
            let rest = path.split_once("/pods/")?.1;
            let (uid, tail) = rest.split_once('/')?;
            (!uid.is_empty() && tail.starts_with("volumes/")).then_some(uid)
        }
        for path in [
            "/var/lib/kubelet/pods/4f1c-77/volumes/kubernetes.io~csi/secrets/mount",
            "/pods/u/volumes/",
            "/var/lib/kubelet/pods/u/x/volumes/",
            "/var/lib/kubelet/pods//volumes/x",
            "/pods//volumes/x",
            "/pods/u",
            "/pods/u/vol",
            "pods/u/volumes/x",
            "/x/pods/a/pods/b/volumes/c",
            "/x/pods/pods/u/volumes/",
            "/pod/pods/ü/volumes/x",
            "",
            "/",
        ] {
            let st = SpcPodStatusObs {
                target_path: path.to_string(),
                ..Default::default()
            };
            assert_eq!(st.target_pod_uid(), by_split(path), "{path:?}");
        }
    }
}
