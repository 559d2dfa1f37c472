//! Per-chain context: what the joins found for one (pod, SPC volume), shared by the rules.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::rc::Rc;

use super::catalog::Code;
use super::index::Index;
use super::model::{Finding, SharedText};
use super::replicas::SpcSide;
use crate::snapshot::*;
use crate::spc::AzureSpc;

/// How the provider will authenticate, derived from the merged parameters (FACTS §5). Its
/// names are shared text: every chain of a replica group takes its group's mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum AuthMode {
    /// No SecretProviderClass to read the mode from.
    Unknown,
    WorkloadIdentity {
        client_id: SharedText,
    },
    /// `useAzureTokenProxy` (AKS identity binding).
    TokenProxy {
        client_id: Option<SharedText>,
    },
    /// `useVMManagedIdentity`: the kubelet / add-on identity, or a user-assigned one on the node.
    VmIdentity {
        user_assigned: Option<SharedText>,
    },
    /// `usePodIdentity` (aad-pod-identity, deprecated).
    PodIdentity,
    /// `nodePublishSecretRef` with clientid/clientsecret.
    ServicePrincipal {
        secret: SharedText,
    },
    /// Nothing usable configured, or conflicting modes (a KVC302 finding says why).
    Invalid,
}

impl AuthMode {
    /// The clientId of the managed identity the provider uses, when it is one kvchain can look up.
    pub fn client_id(&self) -> Option<&str> {
        match self {
            AuthMode::WorkloadIdentity { client_id } => Some(client_id),
            AuthMode::TokenProxy { client_id } => client_id.as_deref(),
            AuthMode::VmIdentity { user_assigned } => user_assigned.as_deref(),
            _ => None,
        }
    }
}

#[derive(Clone)]
pub(crate) struct Ctx<'a> {
    pub ix: &'a Index<'a>,
    /// Keep context facts of healthy links too (one chain on screen, not ten thousand).
    pub detail: bool,
    pub pod: &'a PodObs,
    pub volume: &'a VolumeObs,
    pub driver: &'a str,
    pub read_only: Option<bool>,
    pub attributes: &'a BTreeMap<String, String>,
    pub node_publish_secret: Option<&'a str>,
    /// SPC name as referenced (empty when the attribute is missing).
    pub spc_name: &'a str,
    /// A misspelt attribute key that carries the SPC name (`secretproviderclass`).
    pub spc_key_typo: Option<&'a str>,
    pub spc: Option<&'a SpcObs>,
    /// SPC parameters with the pod's volumeAttributes merged over them, parsed.
    pub params: Option<Cow<'a, AzureSpc>>,
    /// Top-level workload (kind, name).
    pub workload: Option<(&'a str, &'a str)>,
    /// The object of `workload`, when observed.
    pub workload_object: Option<&'a WorkloadObs>,
    pub template: bool,
    /// SecretProviderClassPodStatus of this pod and SPC.
    pub status: Option<&'a SpcPodStatusObs>,
    /// Mount and sync events about this pod and volume, classified.
    pub events: Vec<(Option<Code>, &'a EventObs)>,
    /// What the chains of this SPC share (none when the pod overrides its parameters).
    pub side: Option<Rc<SpcSide<'a>>>,
    /// Per `secretObjects` entry, the Sync link finding that says why the driver cannot build
    /// it ([`super::rules::sync::statics`]), when not read from `side` (no allocation then).
    pub sync_causes: Vec<Option<usize>>,
    // Filled in by earlier links for later ones.
    pub mode: AuthMode,
    pub identity: Option<&'a ManagedIdentityObs>,
    pub vault: Option<&'a VaultObs>,
}

impl<'a> Ctx<'a> {
    pub fn ns(&self) -> &'a str {
        &self.pod.namespace
    }

    /// The Kubernetes objects (of the chain's namespace at least): not its source, cluster
    /// or Azure parts, which [`Ctx::source`], [`Ctx::cluster`] and [`Ctx::azure`] give.
    pub fn snap(&self) -> &'a Snapshot {
        self.ix.snap
    }

    pub fn source(&self) -> &'a SourceInfo {
        self.ix.globals.source
    }

    pub fn cluster(&self) -> &'a ClusterFacts {
        self.ix.globals.cluster
    }

    pub fn azure(&self) -> &'a AzureObs {
        self.ix.globals.azure
    }

    /// The index, among the Sync link's findings, of the static cause that keeps the driver
    /// from building `secretObjects[i]` (set by the sync check).
    pub fn sync_cause(&self, i: usize) -> Option<usize> {
        let causes = match &self.side {
            Some(side) => &side.sync_causes,
            None => &self.sync_causes,
        };
        causes.get(i).copied().flatten()
    }

    /// The chain's pod will mount, start or read nothing again: it finished, failed (an
    /// evicted pod) or is being deleted ([`PodObs::retired`]). Never a template. What such a
    /// pod's spec, node or copies say is history, not the chain's present (audit II): every
    /// per-pod rule asks this one question.
    pub fn retired(&self) -> bool {
        !self.template && self.pod.retired()
    }

    /// The mount succeeded (SPCPS `mounted: true`).
    pub fn mounted(&self) -> bool {
        self.status.is_some_and(|s| s.mounted)
    }

    /// `Kind/name` of the object whose pod spec to edit (the workload, else the pod).
    pub fn owner_resource(&self) -> String {
        match &self.workload {
            Some((k, n)) => format!("{k}/{n}"),
            None => format!("Pod/{}", self.pod.name),
        }
    }

    /// `kind/name` as kubectl spells it.
    pub fn owner_kubectl(&self) -> String {
        match &self.workload {
            Some((k, n)) => format!("{}/{n}", k.to_ascii_lowercase()),
            None => format!("pod/{}", self.pod.name),
        }
    }

    /// `.spec.template.spec` for workloads, `.spec` for pods (jsonpath prefix).
    pub fn pod_spec_path(&self) -> &'static str {
        match self.workload.map(|(k, _)| k) {
            None => ".spec",
            Some("CronJob") => ".spec.jobTemplate.spec.template.spec",
            Some("ScaledJob") => ".spec.jobTargetRef.template.spec",
            Some(_) => ".spec.template.spec",
        }
    }

    /// The workload's pod template (jsonpath prefix): a CronJob's is in its job template.
    /// `None` for a pod nothing owns or a kind whose template kvchain does not know.
    pub fn pod_template_path(&self) -> Option<&'static str> {
        template_of(self.workload?.0).map(|t| t.jsonpath)
    }

    /// The tenant parameter as written: `tenantID`, else the deprecated `tenantId` the
    /// provider also reads (a pod's volume attributes over the SPC's), so evidence quotes the
    /// field the user wrote and a fix edits it instead of adding a second one.
    pub fn tenant_key(&self) -> &'static str {
        let written = |k: &str| {
            self.attributes
                .get(k)
                .or_else(|| self.spc.and_then(|s| s.parameters.get(k)))
                .is_some_and(|v| !v.trim().is_empty())
        };
        if !written("tenantID") && written("tenantId") {
            "tenantId"
        } else {
            "tenantID"
        }
    }

    /// This chain's context seen from `pod`, another reader of its synced Secret: its own
    /// workload and annotations, no mount or events of its own (it does not mount the SPC).
    /// What a rule says of that reader's restarts (KVC902) is then worded for its owner.
    pub fn for_reader(&self, pod: &'a PodObs) -> Ctx<'a> {
        let (workload, workload_object) = self.ix.workload_with_object(pod);
        Ctx {
            ix: self.ix,
            detail: self.detail,
            pod,
            volume: self.volume,
            driver: self.driver,
            read_only: self.read_only,
            attributes: self.attributes,
            node_publish_secret: self.node_publish_secret,
            spc_name: self.spc_name,
            spc_key_typo: self.spc_key_typo,
            spc: self.spc,
            params: self.params.clone(),
            workload,
            workload_object,
            template: pod.template_of.is_some(),
            status: None,
            events: Vec::new(),
            side: self.side.clone(),
            sync_causes: self.sync_causes.clone(),
            mode: self.mode.clone(),
            identity: self.identity,
            vault: self.vault,
        }
    }

    /// The chain of `pod`'s CSI volume `volume` (of this chain's namespace), as far as a fix
    /// for its SPC needs it (its SPC, merged parameters, attributes and owner), no mount,
    /// events or Azure side of its own: a fix that changes another SPC the account's
    /// workloads mount (audit NN2) is computed from it. `None` for a volume naming no SPC.
    pub(crate) fn for_mount(&self, pod: &'a PodObs, volume: &'a VolumeObs) -> Option<Ctx<'a>> {
        let VolumeSourceObs::Csi { attributes, .. } = &volume.source else {
            return None;
        };
        let spc_name = attributes.get(super::index::SPC_ATTRIBUTE)?.as_str();
        let spc = self
            .ix
            .spcs
            .get(&(pod.namespace.as_str(), spc_name))
            .copied();
        let (workload, workload_object) = self.ix.workload_with_object(pod);
        Some(Ctx {
            pod,
            volume,
            attributes,
            spc_name,
            spc_key_typo: None,
            spc,
            params: spc.map(|s| s.merged(attributes)),
            workload,
            workload_object,
            template: pod.template_of.is_some(),
            status: None,
            events: Vec::new(),
            side: None,
            sync_causes: Vec::new(),
            mode: AuthMode::Unknown,
            identity: None,
            vault: None,
            ..self.clone()
        })
    }

    pub fn spc_resource(&self) -> String {
        format!("SecretProviderClass/{}", self.spc_name)
    }

    pub fn sa_resource(&self) -> String {
        format!("ServiceAccount/{}", self.pod.service_account)
    }

    /// This chain as if its SPC named managed identity `i`: what a fix computes for the chain's
    /// identity (its credential, its grant), computed for another one. Rare (audit DD2: the
    /// SPC's clientID names no identity and the ServiceAccount's does), so the copy is cheap
    /// enough.
    pub(crate) fn for_identity(&self, i: &'a ManagedIdentityObs) -> Ctx<'a> {
        Ctx {
            mode: AuthMode::WorkloadIdentity {
                client_id: i.client_id.as_str().into(),
            },
            identity: Some(i),
            ..self.clone()
        }
    }

    pub fn subject(&self) -> String {
        format!(
            "system:serviceaccount:{}:{}",
            self.pod.namespace, self.pod.service_account
        )
    }

    /// The vault the chain's SecretProviderClass names; with the SPC unread, the vault its
    /// events' requests went to (a FailedMount quotes `GET https://<vault>.vault.azure.net/…`),
    /// so a fix never keeps a placeholder its own evidence fills.
    pub fn keyvault(&self) -> &str {
        self.params
            .as_deref()
            .and_then(|p| p.keyvault_name.as_deref())
            .or_else(|| {
                self.events
                    .iter()
                    .find_map(|(_, e)| crate::chain::events::vault_named(&e.message))
            })
            .unwrap_or("<keyvaultName>")
    }

    /// [`Self::keyvault`] as a shell word for a command: the name when it is one Key Vault
    /// can have (letters, digits, hyphens), else `"$KEYVAULT_NAME"` for the user to set, as
    /// the fixes leave `"$IDENTITY_RG"`. An unrendered `<key-vault-name>` pasted bare is a
    /// redirection to bash, and a name carrying `;` or quotes would run as a command.
    /// A name written as a shell variable (`$KEYVAULT_NAME_AKS_BASELINE`, `${KV}`, as guides
    /// that `envsubst` their manifests do) is kept, quoted: the shell the guide set it in
    /// fills it, where a generic `$KEYVAULT_NAME` would be empty there (audit AAA7).
    pub fn keyvault_arg(&self) -> std::borrow::Cow<'_, str> {
        let kv = self.keyvault();
        let shell_safe =
            !kv.is_empty() && kv.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if shell_safe {
            return kv.into();
        }
        let bare = kv
            .strip_prefix('$')
            .map(|v| (v.strip_prefix('{').and_then(|v| v.strip_suffix('}'))).unwrap_or(v));
        let variable = bare.filter(|v| {
            v.bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        });
        match variable {
            Some(v) => format!("\"${v}\"").into(),
            None => "\"$KEYVAULT_NAME\"".into(),
        }
    }

    pub fn finding(
        &self,
        code: Code,
        resource: String,
        message: String,
        evidence: Vec<String>,
        confirm: String,
        fix: String,
    ) -> Finding {
        Finding {
            code,
            severity: code.severity(),
            link: code.link(),
            namespace: self.pod.namespace.as_str().into(),
            // Input values reach the reader through these: every chain's findings are shown
            // capped and escaped once they are final (`Finding::show_safely`, when the chain
            // is stamped), so they are not scanned here as well.
            resource: resource.into(),
            message: message.into(),
            evidence: evidence.into_iter().map(SharedText::from).collect(),
            confirm: confirm.into(),
            fix: fix.into(),
            follows: None,
            chain: SharedText::new(),
            suppressed: None,
            now_looks_right: false,
        }
    }

    /// Events that explain `code` (for evidence).
    pub fn events_for(&self, code: Code) -> impl Iterator<Item = &'a EventObs> + '_ {
        self.events
            .iter()
            .filter(move |(c, _)| *c == Some(code))
            .map(|(_, e)| *e)
    }
}

/// An event as evidence, one line: `FailedMount (x3, kubelet): <message>`.
pub(crate) fn event_evidence(e: &EventObs) -> String {
    let mut s = String::with_capacity(e.message.len() + 32);
    s.push_str(&e.reason);
    if e.count > 1 || !e.source.is_empty() {
        s.push_str(" (");
        if e.count > 1 {
            s.push_str(&format!("x{}", e.count));
            if !e.source.is_empty() {
                s.push_str(", ");
            }
        }
        s.push_str(&e.source);
        s.push(')');
    }
    s.push_str(": ");
    s.push_str(&e.message);
    s
}

/// Resource group of an ARM id (`/subscriptions/…/resourceGroups/<rg>/…`).
pub(crate) fn resource_group(id: &str) -> Option<&str> {
    let mut parts = id.split('/');
    while let Some(p) = parts.next() {
        if p.eq_ignore_ascii_case("resourceGroups") {
            return parts.next();
        }
    }
    None
}

/// Where a kind keeps its pod template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Template {
    /// jsonpath prefix, e.g. `.spec.template`.
    pub jsonpath: &'static str,
    /// A kind the API server knows: `kubectl patch` merges strategically. A custom resource
    /// refuses that (`--type merge` is needed).
    pub built_in: bool,
}

/// The pod template of `kind`: the built-in workloads, Argo Rollouts (`spec.template`) and
/// KEDA ScaledJobs (`spec.jobTargetRef.template`). None for other kinds, an operator's own:
/// where its pod template lives is the operator's business, and a guessed path would be a
/// fix that does nothing when pasted.
pub fn template_of(kind: &str) -> Option<Template> {
    let (jsonpath, built_in) = match kind {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
            (".spec.template", true)
        }
        "CronJob" => (".spec.jobTemplate.spec.template", true),
        "Rollout" => (".spec.template", false),
        "ScaledJob" => (".spec.jobTargetRef.template", false),
        _ => return None,
    };
    Some(Template { jsonpath, built_in })
}
