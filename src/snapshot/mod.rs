//! Observations: what a source can see, nothing inferred.
//!
//! Every source (live cluster, lab, manifests) fills a [`Snapshot`]; diagnosis reads only this.
//! Built-in Kubernetes objects arrive as k8s-openapi types and are slimmed here (see
//! [`convert`]) so a snapshot of 10,000 pods stays small and joins stay cheap.
//! Secret *values* never enter a snapshot: only keyed [`Fingerprint`]s do.

pub mod anonymize;
mod azure;
pub mod can_i;
mod cluster;
pub mod config_key;
pub mod convert;
pub mod crd;
mod csi;
mod env_reads;
pub mod event_text;
pub mod file;
pub mod gaps;
pub mod items;
mod kube;
pub mod mounts;
mod namespace;
mod node_vm;
mod reloader;
mod workload;
pub use namespace::Presence;
pub mod strmap;

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use crate::fingerprint::Fingerprint;
pub use gaps::Gap;
pub use items::Items;
pub use strmap::StrMap;

pub use azure::*;
pub use cluster::*;
pub use csi::*;
pub use env_reads::{SecretEnv, SecretEnvRead};
pub use kube::*;
pub use node_vm::{NodeVm, node_vm};
pub use reloader::{
    ReloaderFacts, ReloaderObs, ReloaderSeen, Runs, Watched, reloader_acting, reloader_acting_for,
    reloader_runs, reloader_runs_for,
};
pub(crate) use reloader::{reloader_config, reloader_config_for};
pub use workload::*;

/// A name or short string of an observation, stored inline up to 24 bytes (most Kubernetes
/// names are): a 10,000-pod snapshot holds hundreds of thousands of them.
pub type Name = compact_str::CompactString;

/// A value that may be unknown, with the reason. Unknown is not the same as absent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", content = "value", rename_all = "lowercase")]
pub enum Observed<T> {
    Known(T),
    Unknown(String),
}

impl<T> Observed<T> {
    pub fn unknown(reason: impl Into<String>) -> Self {
        Observed::Unknown(reason.into())
    }
    pub fn known(&self) -> Option<&T> {
        match self {
            Observed::Known(t) => Some(t),
            Observed::Unknown(_) => None,
        }
    }
    pub fn unknown_reason(&self) -> Option<&str> {
        match self {
            Observed::Known(_) => None,
            Observed::Unknown(r) => Some(r),
        }
    }
    pub fn as_ref(&self) -> Observed<&T> {
        match self {
            Observed::Known(t) => Observed::Known(t),
            Observed::Unknown(r) => Observed::Unknown(r.clone()),
        }
    }
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Observed<U> {
        match self {
            Observed::Known(t) => Observed::Known(f(t)),
            Observed::Unknown(r) => Observed::Unknown(r),
        }
    }
}

impl<T: Default> Default for Observed<T> {
    fn default() -> Self {
        Observed::Known(T::default())
    }
}

/// A listed collection and where it could not be listed.
///
/// `gaps.all` set: nothing of this kind could be seen (e.g. CRD missing, offline);
/// `gaps.namespaces[ns]` set: that namespace could not be listed (e.g. 403).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Coll<T> {
    pub items: Items<T>,
    #[serde(default, skip_serializing_if = "Gaps::is_empty")]
    pub gaps: Gaps,
}

impl<T> Default for Coll<T> {
    fn default() -> Self {
        Coll {
            items: Items::new(),
            gaps: Gaps::default(),
        }
    }
}

impl<T> Coll<T> {
    pub fn known(items: Vec<T>) -> Self {
        Coll {
            items: items.into(),
            gaps: Gaps::default(),
        }
    }
    pub fn unknown(reason: impl Into<String>) -> Self {
        Coll {
            items: Items::new(),
            gaps: Gaps {
                all: Some(reason.into()),
                ..Gaps::default()
            },
        }
    }
    /// Why objects of this kind in `namespace` cannot be seen, if they cannot.
    pub fn unknown_in(&self, namespace: &str) -> Option<&str> {
        self.gaps.reason_for(namespace)
    }
    /// [`Coll::unknown_in`] for a read that failed: a kind whose CRD is not installed
    /// ([`gaps::is_not_installed`]) has no object anywhere, which is known, so it is read as
    /// empty (audit TTT-honest: no SecretProviderClassPodStatus exists without its CRD, FACTS §1).
    pub fn unread_in(&self, namespace: &str) -> Option<&str> {
        self.unknown_in(namespace)
            .filter(|r| !gaps::is_not_installed(r))
    }
}

#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct Gaps {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub namespaces: BTreeMap<String, String>,
    /// Only one namespace could be read: every other one is unknown (pods forbidden at the
    /// cluster scope, so the live source watches the context's namespace instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outside: Option<Outside>,
}

/// Every namespace but `namespace` could not be read, for `reason`.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Outside {
    /// The one namespace that was read.
    pub namespace: String,
    pub reason: String,
}

impl Gaps {
    pub fn is_empty(&self) -> bool {
        self.all.is_none() && self.namespaces.is_empty() && self.outside.is_none()
    }
    pub fn reason_for(&self, namespace: &str) -> Option<&str> {
        self.all
            .as_deref()
            .or_else(|| self.namespaces.get(namespace).map(String::as_str))
            .or_else(|| {
                self.outside
                    .as_ref()
                    .filter(|o| o.namespace != namespace)
                    .map(|o| o.reason.as_str())
            })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Live,
    Lab,
    Manifests,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Live => "live",
            SourceKind::Lab => "lab",
            SourceKind::Manifests => "manifests",
        }
    }
}

/// Which source produced a snapshot, and at what (source) time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceInfo {
    pub kind: SourceKind,
    /// kube context, scenario name, or the manifest paths.
    pub label: String,
    /// The time the observations are valid at: wall clock for live, lab clock for the lab.
    pub observed_at: Timestamp,
    /// Inputs that could not be read while others could (`file, document N: reason`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unread: Vec<String>,
    /// The objects those unread documents define, as far as they can be told (`check -f`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unread_objects: Vec<UnreadObject>,
    /// `check -f`: where the unread documents that may define pods would put them, one entry
    /// per such document: its namespace as written, `None` when it writes none or cannot be
    /// told (invalid YAML, an unreadable file). An SPC there is not known to be mounted by no
    /// pod (audit XX1: unknown is not absent); a ServiceAccount or Secret left unread is no
    /// such document.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unread_pods: Vec<Option<String>>,
    /// Findings `check --min-severity` left out of the report (never part of a snapshot file:
    /// a report says what it left out, so its counts never read "0" over a failing run).
    #[serde(skip)]
    pub hidden: Hidden,
    /// Live kinds listed but not watched (`watch` refused), each by its reason (`cannot watch
    /// pods at the cluster scope: forbidden`): read, so no gap, but not kept current. The
    /// running TUI says it in its banner, `serve` as gaps ([`Self::stale`]); a one-shot check
    /// or a snapshot file needs no watch.
    #[serde(skip)]
    pub not_live: Vec<String>,
    /// Live: when the cluster last answered (a list, a watch opening or any byte of a watch
    /// stream, a read by name). The data is as old as this, whatever `observed_at` (the
    /// diagnosis clock, moved by the source's clock tick) says (audit W3). `None` elsewhere.
    #[serde(skip)]
    pub read_at: Option<Timestamp>,
    /// Live: the cluster has not answered for longer than a quiet, healthy one stays silent
    /// (its watches deliver a bookmark about every minute), said as a sentence (`no answer
    /// from the API server since …`). What is shown is the last data read (audit W3, W4).
    #[serde(skip)]
    pub unanswered: Option<String>,
    /// `serve` only: what it serves as the latest data but cannot keep current, as gaps
    /// (kind, reason) — each kind listed but no longer watched (`not live-updated since
    /// 22:12:33 UTC: cannot watch pods at the cluster scope: forbidden`) and a silent API
    /// server (`cluster`). A one-shot check or the TUI (its banner says it) leaves it empty:
    /// a report of one read needs no watch (audit FFF2, FFF5).
    #[serde(skip)]
    pub stale: Vec<(&'static str, String)>,
    /// `check -f`: the files holding more than one object. A fix never re-applies such a file
    /// whole (`kubectl apply -f FILE` would re-apply its other objects as written: an SPC still
    /// a template over the rendered live one, a ServiceAccount over another fix's annotate,
    /// audit TT2); it edits the live object instead ([`SourceInfo::own_file`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shared_files: Vec<String>,
    /// `check -f`: run-time objects found among the manifests and not used (`events.yaml: 3
    /// Events`): a report says it left them out rather than dropping them unsaid (audit WW5).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_used: Vec<String>,
    /// The one namespace the source read (a live `-n`, or the context's namespace when pods
    /// cannot be listed cluster-wide; a snapshot file saved with `-n`): what is outside it is
    /// unknown, not absent. `None`: every namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only_namespace: Option<String>,
    /// Read back from a snapshot file (`check --snapshot`): the data is a recording made at
    /// `observed_at`, not the cluster now, which the reports say (audit FFF7). Never written
    /// into a file: a file is a recording by being one.
    #[serde(skip)]
    pub recorded: bool,
}

/// What `--min-severity` hid from a report: counted like the report's own (one per merged
/// finding, suppressed ones apart), and how many of them decide the exit status.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hidden {
    /// The `--min-severity` value (`warning` or `error`); empty when nothing is hidden.
    pub below: String,
    pub warnings: usize,
    pub info: usize,
    /// Hidden findings that only follow from an earlier link's cause ("blocked by …"): still
    /// counted apart as blocked, never as a hidden warning or info (audit Y4).
    pub blocked: usize,
    /// Hidden findings a suppression covers: still counted apart as suppressed, as blocked
    /// ones are, never silently gone (README "Suppressing findings"; audit MMM-out).
    pub suppressed: usize,
    /// Hidden findings that `--fail-on` counts (the run fails on them).
    pub failing: usize,
}

impl Hidden {
    pub fn total(&self) -> usize {
        self.warnings + self.info
    }
}

/// Why an SPC that unread documents may mount is not known to be mounted (audit XX1).
pub const UNREAD_PODS: &str = "a document not read (listed above) may define them";

/// An object whose document could not be read: a rule looking for it by name can say it was
/// written but not read (and why) instead of "not in the given manifests".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnreadObject {
    pub kind: String,
    /// As written; `None` when the document has no `metadata.namespace`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    /// The file holding the document (for the fix's `kubectl apply -f`).
    pub file: String,
    /// The unread message: file, document, field and why.
    pub reason: String,
}

impl SourceInfo {
    /// Why pods of `namespace` may be missing for documents that could not be read (`None`
    /// for any namespace), if some may be (audit XX1).
    pub fn unread_pods_in(&self, namespace: Option<&str>) -> Option<&'static str> {
        self.unread_pods
            .iter()
            .any(|ns| ns.is_none() || namespace.is_none() || ns.as_deref() == namespace)
            .then_some(UNREAD_PODS)
    }

    /// `file` when it holds one object alone, so that `${EDITOR} FILE && kubectl apply -f
    /// FILE` re-applies nothing else (audit TT2); `None` for a file holding other objects.
    pub fn own_file<'a>(&self, file: &'a str) -> Option<&'a str> {
        (!self.shared_files.iter().any(|f| f == file)).then_some(file)
    }
}

impl Default for SourceInfo {
    fn default() -> Self {
        SourceInfo {
            kind: SourceKind::Manifests,
            label: String::new(),
            observed_at: Timestamp::UNIX_EPOCH,
            unread: Vec::new(),
            unread_objects: Vec::new(),
            unread_pods: Vec::new(),
            hidden: Hidden::default(),
            not_live: Vec::new(),
            read_at: None,
            unanswered: None,
            stale: Vec::new(),
            shared_files: Vec::new(),
            not_used: Vec::new(),
            only_namespace: None,
            recorded: false,
        }
    }
}

/// Everything one source saw at one moment.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Snapshot {
    pub source: SourceInfo,
    pub cluster: ClusterFacts,
    pub pods: Coll<PodObs>,
    pub service_accounts: Coll<ServiceAccountObs>,
    pub spcs: Coll<SpcObs>,
    pub spc_statuses: Coll<SpcPodStatusObs>,
    pub secrets: Coll<SecretObs>,
    pub events: Coll<EventObs>,
    pub workloads: Coll<WorkloadObs>,
    pub ingresses: Coll<IngressObs>,
    pub azure: AzureObs,
}

impl Snapshot {
    /// Pod `namespace/name`, if observed.
    pub fn pod(&self, namespace: &str, name: &str) -> Option<&PodObs> {
        self.pods
            .items
            .iter()
            .find(|p| p.namespace == namespace && p.name == name)
    }

    /// Workload `kind/name` of `namespace` (a Deployment, StatefulSet, ReplicaSet…), if
    /// observed.
    pub fn workload(&self, namespace: &str, kind: &str, name: &str) -> Option<&WorkloadObs> {
        (self.workloads.items.iter())
            .find(|w| w.namespace == namespace && w.kind == kind && w.name == name)
    }

    /// Secret `namespace/name`, if observed.
    pub fn secret(&self, namespace: &str, name: &str) -> Option<&SecretObs> {
        self.secrets
            .items
            .iter()
            .find(|s| s.namespace == namespace && s.name == name)
    }

    /// What pod `pod` has mounted for key `key` of synced Secret `secret`: the file (by its
    /// SPC's `secretObjects` entry) and its fingerprint, when the source sees the pod's files.
    /// A `kubernetes.io/tls` key is compared with the PEM part the driver writes into it
    /// (FACTS §2), never with the whole file.
    pub fn mounted_for_key(
        &self,
        pod: &PodObs,
        secret: &str,
        key: &str,
    ) -> Option<(&str, Fingerprint)> {
        let mounted =
            self.spc_statuses.items.iter().filter(|st| {
                st.mounted && st.namespace == pod.namespace && st.pod_name == pod.name
            });
        for st in mounted {
            let Some(spc) = self
                .spcs
                .items
                .iter()
                .find(|c| c.namespace == pod.namespace && c.name == st.spc_name)
            else {
                continue;
            };
            for so in spc
                .secret_objects
                .iter()
                .filter(|so| so.secret_name == secret)
            {
                for d in so.data.iter().filter(|d| d.key == key) {
                    let fp = if so.type_ == "kubernetes.io/tls" {
                        let parts = st.pem_parts.get(&d.object_name);
                        match key {
                            "tls.key" => parts.and_then(|p| p.key),
                            "tls.crt" => parts.and_then(|p| p.cert),
                            _ => None,
                        }
                    } else {
                        st.files.as_ref()?.get(d.object_name.as_str()).copied()
                    };
                    if let Some(fp) = fp {
                        return Some((d.object_name.as_str(), fp));
                    }
                }
            }
        }
        None
    }
}

/// The first 16 bytes of `digest` written as a GUID (`8-4-4-4-12` hex digits): a stable id made
/// from a name or a salted id.
pub fn guid_of(digest: &[u8]) -> String {
    let h = hex::encode(&digest[..16]);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// `8-4-4-4-12` hex digits: how Entra writes tenant, client and principal ids.
pub fn is_guid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}
