//! `kvchain check -f`: a snapshot from manifest files.
//!
//! Files and directories (recursive: `.yaml`, `.yml`, `.json`), multi-document YAML and `List`
//! kinds. Workloads become their pod templates (what each pod would be), plus ServiceAccounts,
//! SecretProviderClasses (`v1` and `v1alpha1`), Secrets (fingerprinted on arrival) and
//! Ingresses, and the pod templates of Argo Rollouts and KEDA ScaledJobs. Other kinds are
//! skipped, unless one holds a secrets-store volume: that one is unread, never a quiet pass. Everything that only exists at run time — SPCPS,
//! synced Secrets, events, the Azure side, cluster facts — is marked unknown, never absent.

use std::path::{Path, PathBuf};

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec, Secret, ServiceAccount};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::api::storage::v1::CSIDriver;

use crate::input::InputError;
use crate::snapshot::convert;
use crate::snapshot::crd::SecretProviderClass;
use crate::snapshot::*;
use doc::Doc;
use typed::known;

mod apply_set;
mod cron_schedule;
mod custom;
mod doc;
mod duplicates;
mod env_refs;
pub(crate) mod ephemeral;
mod field_errors;
pub mod files;
mod kustomize;
mod labels;
mod modes;
mod namespaces;
mod nulls;
mod own_file;
mod pod_names;
mod queued;
mod refused;
mod required;
mod run_time;
mod sa_name;
mod secret_keys;
mod selector;
mod strict;
mod type_error;
mod typed;
mod unread;
mod workloads;

const RUNTIME: &str = "manifests: exists only at run time";
/// Unread documents listed when none could be read, after the first.
const MAX_LISTED: usize = 20;

/// Read every manifest under `paths` into one snapshot.
///
/// A document that cannot be read (invalid YAML, a field of the wrong type, an unreadable file)
/// does not hide the verdicts on the others: it is listed in `source.unread`. Only when nothing
/// at all could be read is it an error.
pub fn load(paths: &[PathBuf]) -> Result<Snapshot, InputError> {
    load_inputs(&files::read(paths)?)
}

/// [`load`] over texts already read (the origin scan reads the same ones).
pub fn load_inputs(inputs: &files::Inputs) -> Result<Snapshot, InputError> {
    let mut b = Builder {
        replicas: inputs.replicas.clone(),
        ..Builder::default()
    };
    // What an unlisted entry or an unreadable file holds cannot be told: it may define pods.
    for e in &inputs.unlisted {
        b.unread_pods.push(None);
        b.unread(e.clone());
    }
    for (f, text) in &inputs.files {
        match text {
            Ok(text) => b.file(
                f,
                text,
                inputs.named.contains(f),
                inputs.namespaces.get(f).map(String::as_str),
            ),
            Err(e) => {
                b.unread_pods.push(None);
                b.unread(e.clone());
            }
        }
    }
    b.finish_or_error(inputs.label.clone())
}

/// Parse one file's text (exposed for tests and the lab's scenario files).
pub fn load_str(name: &str, text: &str) -> Result<Snapshot, InputError> {
    let mut b = Builder::default();
    b.file(Path::new(name), text, true, None);
    b.finish_or_error(name.to_string())
}

#[derive(Default)]
struct Builder {
    pods: Vec<PodObs>,
    sas: Vec<ServiceAccountObs>,
    spcs: Vec<SpcObs>,
    secrets: Vec<SecretObs>,
    workloads: Vec<WorkloadObs>,
    ingresses: Vec<IngressObs>,
    /// The Secrets Store CSIDriver object, when the manifests include it.
    csi_driver: Option<CsiDriverFacts>,
    /// Indexes into `spcs` / `sas` of objects written without `metadata.namespace`.
    floating: namespaces::Floating,
    /// Objects per file: a pod or Job re-created from a file must be its only object.
    objects: own_file::Objects,
    /// The documents read from the files, one per object, until they are converted.
    set: apply_set::ApplySet,
    /// Objects read (documents or List items of any kind; an empty or `null` one is no
    /// object), and the documents that could not be read.
    read: usize,
    unread: Vec<InputError>,
    /// What the unread documents define, so a chain naming one can say why it is missing.
    unread_objects: Vec<UnreadObject>,
    /// Events and pod statuses found among the manifests: not used, and said so (WW5).
    run_time: run_time::RunTime,
    /// Where unread documents that may define pods would put them ([`SourceInfo::unread_pods`]).
    unread_pods: Vec<Option<String>>,
    /// The `replicas` kustomizations set, per file ([`kustomize::apply_replicas`]).
    replicas: std::collections::HashMap<PathBuf, Vec<(String, i64)>>,
}

impl Builder {
    fn unread(&mut self, e: InputError) {
        tracing::warn!(error = %e, "manifest document not read");
        self.unread.push(e);
    }

    /// `named`: the file was named on the command line (XX7, [`files::Inputs::named`]);
    /// `namespace`: the one a kustomization renders its objects into ([`kustomize`]).
    fn file(&mut self, file: &Path, text: &str, named: bool, namespace: Option<&str>) {
        // Kind-less documents of a named file, judged once the file is read (XX7).
        let (mut kindless, mut objects) = (Vec::new(), false);
        let file: std::sync::Arc<Path> = std::sync::Arc::from(file);
        // Each `---` document on its own, as kubectl reads a stream: a bad one costs itself.
        let docs = match crate::input::stream::documents(text) {
            Ok(docs) => docs,
            Err(too_many) => {
                self.unread_pods.push(None);
                self.set
                    .push_error(InputError::in_file(&file, too_many.to_string()));
                return;
            }
        };
        for doc in docs {
            let value = doc.value.and_then(|mut v| {
                // Kubernetes' YAML (go-yaml) expands `<<` merge keys; serde_yaml leaves them.
                v.apply_merge().map(|()| v).map_err(merge_error)
            });
            self.objects.count(&file, value.as_ref().map_err(|_| ()));
            let mut value = match value {
                Ok(v) => v,
                Err(e) => {
                    // Invalid YAML: what it defines cannot be told.
                    self.unread_pods.push(None);
                    self.set
                        .push_error(InputError::in_document(&file, doc.index, e.to_string()));
                    continue;
                }
            };
            // `key:` with nothing after it is null; the API server prunes nulls, so kubectl
            // applies such a manifest as if the key were absent.
            nulls::prune_nulls(&mut value);
            if let Some(ns) = namespace {
                kustomize::put_in(&mut value, ns);
            }
            if let Some(r) = self.replicas.get(&*file) {
                kustomize::apply_replicas(&mut value, r);
            }
            // A plain `defaultMode: 0400` is already the octal integer kubectl's YAML 1.1 reads
            // (input::file_modes, where the parser still sees quotes: a quoted "0400" stays
            // the string the API server refuses).
            let q = apply_set::Queued {
                file: file.clone(),
                index: doc.index,
                line: doc.line,
                item: None,
                value,
                home: None,
                kindless_alone: false,
            };
            if named && refused::is_kindless(&q.value) {
                kindless.push(q);
                continue;
            }
            objects |= !q.value.is_null();
            if apply_set::waits(&q.value) {
                self.set.push(q);
            } else {
                // A kind kvchain does not read cannot be replaced by a later definition that
                // matters, and judging it changes nothing but `read`: judged now, its value is
                // not kept until the end (audit F4); an error keeps its place in the order.
                if let Err(e) = self.judge(q) {
                    self.set.push_error(e);
                }
            }
        }
        // A named file holding no object but kind-less documents holds none at all: kubectl
        // refuses each ("Object 'Kind' is missing"), never "0 chains". Beside objects, they
        // are Helm values and skipped, as in a directory.
        for q in kindless {
            let q = apply_set::Queued {
                kindless_alone: !objects,
                ..q
            };
            if let Err(e) = self.judge(q) {
                self.set.push_error(e);
            }
        }
    }

    /// Read one document into the snapshot; an error also records what it defines.
    fn judge(&mut self, q: apply_set::Queued) -> Result<(), InputError> {
        let doc = Doc {
            file: &q.file,
            index: q.index,
            line: q.line,
            item: q.item.as_deref(),
            kindless_alone: q.kindless_alone,
        };
        let defines = unread::defines(&q.value);
        let pods = unread::pods_of(&q.value);
        // kubectl skips an empty document: it is no object passed to apply.
        let object = !q.value.is_null();
        let spcs_before = self.spcs.len();
        match self.value(&doc, q.value) {
            Ok(()) => {
                self.read += usize::from(object);
                // A namespace-less SPC kept beside another of its name (apply_set, audit TT5).
                if let Some(home) = q.home.filter(|_| self.spcs.len() > spcs_before) {
                    self.floating.spc_homes.insert(spcs_before, home);
                }
                Ok(())
            }
            Err(e) => {
                self.unread_pods.extend(pods);
                if let Some((kind, namespace, name)) = defines {
                    self.unread_objects.push(UnreadObject {
                        kind,
                        namespace,
                        name,
                        file: q.file.display().to_string(),
                        reason: e.to_string(),
                    });
                }
                Err(e)
            }
        }
    }

    fn value(&mut self, doc: &Doc, value: serde_yaml::Value) -> Result<(), InputError> {
        let kind = value
            .get("kind")
            .and_then(|k| k.as_str())
            .unwrap_or_default()
            .to_string();
        let name = value
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(|n| n.as_str())
            .unwrap_or("")
            .to_string();
        let what = match (kind.as_str(), name.as_str()) {
            // A scalar or a sequence has no apiVersion or name to show.
            _ if !value.is_mapping() => "the document".to_string(),
            ("", "") if str_at(&value, "apiVersion").is_empty() => "object".to_string(),
            ("", _) => format!("{} {name}", str_at(&value, "apiVersion"))
                .trim()
                .to_string(),
            // No usable name (missing, or not a string): `Deployment/` would read as a typo.
            (_, "") => kind.clone(),
            _ => format!("{kind}/{name}"),
        };
        // Echoed in every message about the document: cut as any echoed value is (a 5 MB
        // name was printed whole, audit F5).
        let what = crate::shown::shown_string(what);
        if let Some(why) = (refused::kindless(&value, doc.kindless_alone))
            .map(String::from)
            .or_else(|| refused::refused(&value, &kind, &name))
        {
            return Err(doc.err(&what, why));
        }
        let floating = value
            .get("metadata")
            .and_then(|m| m.get("namespace"))
            .is_none();
        let (pods_before, workloads_before) = (self.pods.len(), self.workloads.len());
        // Validated after decoding, as the API server does: a type error or an unknown field
        // is said first, and so is a template with no container.
        let selector = selector::refused(&value, &kind);
        match kind.as_str() {
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" | "CronJob" => {
                self.built_in_workload(doc, &what, &kind, value, selector)?
            }
            "Pod" => {
                let p: Pod = known(doc, &what, value)?;
                let refused = match p.spec.as_ref() {
                    Some(s) if !s.containers.is_empty() => strict::spec_refused("spec", s),
                    spec => strict::no_containers("spec", spec),
                };
                if let Some(why) = refused {
                    return Err(doc.err(&what, why));
                }
                // A fix that changes its spec edits this file (a pod is re-created from it).
                let mut pod = convert::pod(&p);
                pod.file = Some(doc.file.display().to_string().into());
                self.pods.push(pod);
            }
            "ServiceAccount" => {
                let sa: ServiceAccount = known(doc, &what, value)?;
                if sa.metadata.namespace.is_none() {
                    self.floating.sas.push(self.sas.len());
                }
                self.sas.push(convert::service_account(&sa));
            }
            "SecretProviderClass" => {
                // v1alpha1 and v1 share the schema; the typed struct ignores apiVersion. One
                // without `spec` is applied (the CRD requires no field) and read with an empty
                // spec (its mounts then fail for want of a provider, KVC104; audit UUU-real2).
                let s: SecretProviderClass = known(doc, &what, value)?;
                let mut spc = convert::spc(&s);
                spc.file = Some(doc.file.display().to_string());
                if s.metadata.namespace.is_none() {
                    self.floating.spcs.push(self.spcs.len());
                    spc.namespace_less = Some(NamespaceLess {
                        namespaces: Vec::new(),
                    });
                }
                self.spcs.push(spc);
            }
            "Secret" => {
                let s: Secret = known(doc, &what, value)?;
                if let Some(why) = secret_keys::refused(&s) {
                    return Err(doc.err(&what, why));
                }
                if s.metadata.namespace.is_none() {
                    self.floating.secrets.push(self.secrets.len());
                }
                self.secrets.push(convert::secret(&s));
            }
            "Ingress" => {
                let i: Ingress = known(doc, &what, value)?;
                self.ingresses.push(convert::ingress(&i));
            }
            "CSIDriver" if name == crate::chain::DRIVER_NAME => {
                let d: CSIDriver = known(doc, &what, value)?;
                let audiences = d
                    .spec
                    .token_requests
                    .iter()
                    .flatten()
                    .map(|t| t.audience.clone())
                    .collect();
                // Only the object is known; the driver's flags (rotation, sync) are not.
                self.csi_driver = Some(CsiDriverFacts {
                    installed: true,
                    token_audiences: Observed::Known(audiences),
                    rotation_enabled: Observed::unknown(RUNTIME),
                    sync_secret_enabled: Observed::unknown(RUNTIME),
                    azure_provider: Observed::unknown(RUNTIME),
                    manifest: Some((doc.file.display().to_string(), doc.index)),
                    ..CsiDriverFacts::default()
                });
            }
            _ if self.run_time.note(doc.file, &kind) => {}
            _ => self.other(doc, &what, &kind, value, selector)?,
        }
        if floating {
            let w = (self.workloads.len() > workloads_before).then_some(workloads_before);
            self.floating
                .pods
                .extend((pods_before..self.pods.len()).map(|p| (p, w)));
        }
        Ok(())
    }

    fn workload(&mut self, mut w: WorkloadObs, template: Option<&PodTemplateSpec>) {
        // Every template is a pod here already.
        w.template = None;
        if let Some(t) = template {
            let owner = OwnerRef {
                kind: w.kind.as_str().into(),
                name: w.name.as_str().into(),
                uid: w.uid.as_str().into(),
                controller: true,
            };
            let mut pod = convert::pod_from_template(owner, w.namespace.clone(), t);
            convert::without_claimed(&mut pod, &w.claim_replaced);
            self.pods.push(pod);
        }
        self.workloads.push(w);
    }

    /// The snapshot, unless no object could be read: then the first reason, or kubectl's
    /// refusal of an input holding none, so an empty render cannot pass green (audit QQ4).
    fn finish_or_error(mut self, label: String) -> Result<Snapshot, InputError> {
        self.read_queued();
        if self.read > 0 {
            return Ok(self.finish(label));
        }
        let Some(first) = self.unread.first() else {
            return Err(InputError::new(
                label,
                "no objects found (every document is empty, comments or null, or a List without items; kubectl says \"no objects passed to apply\")",
            ));
        };
        // Every reason, each on its own line: a count alone sent the user through one fix and
        // one run per document (audit TTT-real, a real-world file refused three ways).
        let mut e = first.clone();
        if let [_, rest @ ..] = &self.unread[..]
            && !rest.is_empty()
        {
            e.message
                .push_str(&format!(" (and {} more unread:", rest.len()));
            for other in rest.iter().take(MAX_LISTED) {
                e.message.push_str(&format!("\n  {other}"));
            }
            if rest.len() > MAX_LISTED {
                e.message
                    .push_str(&format!("\n  … {} more", rest.len() - MAX_LISTED));
            }
            e.message.push(')');
        }
        Err(e)
    }

    fn finish(mut self, label: String) -> Snapshot {
        (self.objects).forget_shared(&mut self.pods, &mut self.workloads);
        self.floating.place_pods(
            &mut self.pods,
            &mut self.workloads,
            &self.spcs,
            &self.sas,
            &self.secrets,
        );
        self.floating
            .adopt(&self.pods, &mut self.spcs, &mut self.sas);
        self.floating.pinned_by(&self.pods, &mut self.spcs);
        // Kubernetes creates `default` in every namespace: manifests never list it. (Sets and
        // maps, not a scan of every ServiceAccount per pod: that was quadratic, audit F4.)
        let mut namespaces: Vec<String> =
            self.pods.iter().map(|p| p.namespace.to_string()).collect();
        namespaces.sort();
        namespaces.dedup();
        let with_default: std::collections::HashSet<String> = self
            .sas
            .iter()
            .filter(|s| s.name == "default")
            .map(|s| s.namespace.to_string())
            .collect();
        for ns in namespaces {
            if !with_default.contains(&ns) {
                self.sas.push(ServiceAccountObs {
                    namespace: ns.into(),
                    name: "default".into(),
                    ..Default::default()
                });
            }
        }
        // The ServiceAccount admission plugin: a pod that names no imagePullSecrets gets its
        // service account's, so a template reads through them what its pods will.
        let mut pull_secrets = std::collections::HashMap::new();
        for sa in &self.sas {
            // The first of a (namespace, name), as the scan this replaces found it.
            pull_secrets
                .entry((sa.namespace.clone(), sa.name.clone()))
                .or_insert(&sa.image_pull_secrets);
        }
        for pod in self
            .pods
            .iter_mut()
            .filter(|p| p.image_pull_secrets.is_empty())
        {
            if let Some(secrets) =
                pull_secrets.get(&(pod.namespace.clone(), pod.service_account.clone()))
            {
                pod.image_pull_secrets.clone_from(secrets);
            }
        }
        let mut secrets = Coll::known(self.secrets);
        // Synced Secrets are written by the driver at run time: absence here proves nothing.
        secrets.gaps.all = Some(format!(
            "{RUNTIME} (synced Secrets are written by the driver)"
        ));
        let mut snapshot = Snapshot {
            source: SourceInfo {
                kind: SourceKind::Manifests,
                label,
                observed_at: jiff::Timestamp::now(),
                unread: self.unread.iter().map(ToString::to_string).collect(),
                unread_objects: self.unread_objects,
                unread_pods: self.unread_pods,
                hidden: Default::default(),
                not_live: Vec::new(),
                read_at: None,
                unanswered: None,
                stale: Vec::new(),
                shared_files: self.objects.shared(),
                not_used: self.run_time.lines(),
                only_namespace: None,
                recorded: false,
            },
            cluster: ClusterFacts {
                csi_driver: self
                    .csi_driver
                    .map_or_else(|| Observed::unknown(RUNTIME), Observed::Known),
                ..ClusterFacts::default()
            },
            pods: Coll::known(self.pods),
            service_accounts: Coll::known(self.sas),
            spcs: Coll::known(self.spcs),
            spc_statuses: Coll::unknown(RUNTIME),
            secrets,
            events: Coll::unknown(RUNTIME),
            workloads: Coll::known(self.workloads),
            ingresses: Coll::known(self.ingresses),
            azure: AzureObs::unknown("manifests: the Azure side is not observed"),
        };
        snapshot.cluster.reloader = ReloaderFacts::of(&snapshot.workloads, &snapshot.source);
        snapshot
    }
}

fn str_at<'v>(value: &'v serde_yaml::Value, key: &str) -> &'v str {
    value.get(key).and_then(|v| v.as_str()).unwrap_or_default()
}

/// A `<<` whose value is not a mapping (or a list of them): go-yaml refuses it too.
fn merge_error(e: serde_yaml::Error) -> crate::input::stream::DocumentError {
    crate::input::stream::DocumentError {
        line: None,
        column: None,
        message: format!("merge key `<<`: {}", crate::input::yaml_error_message(&e)),
        json: false,
    }
}
