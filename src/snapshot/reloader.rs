//! Whether a Stakater Reloader runs that restarts workloads of a namespace when a Secret
//! changes. A workload's Reloader annotation asks; only a running Reloader that watches its
//! namespace and Secrets answers. Read from the Deployments that run Reloader's image
//! ([`super::convert::reloader`]), as Reloader reads its own flags ([R]
//! `internal/pkg/cmd/reloader.go`: `--namespaces`, else env `KUBERNETES_NAMESPACE`, else every
//! namespace, where alone `--namespaces-to-ignore` and `--namespace-selector` count;
//! `internal/pkg/util/util.go`: `--resources-to-ignore`, `--resource-label-selector`,
//! `--webhook-url`).

use serde::{Deserialize, Serialize};

use super::WorkloadObs;

/// The Stakater Reloader Deployments a source saw, and whether one may run where it did not
/// read ([`reloader_runs`]).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReloaderFacts {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seen: Vec<ReloaderSeen>,
    /// Why a Reloader may run unseen (a namespace not read, manifests holding only part of a
    /// cluster); None: the source read the Deployments of every namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unseen: Option<String>,
}

/// A Deployment that runs Stakater Reloader.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReloaderSeen {
    pub namespace: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    #[serde(flatten)]
    pub run: ReloaderObs,
}

impl ReloaderFacts {
    /// What `source` saw of Reloader among `workloads`: every namespace's Deployments for a
    /// live read of the whole cluster that could list them all; otherwise a Reloader may run
    /// where the source did not read. None for the lab, whose export says what its Cluster
    /// document runs.
    pub fn of(workloads: &super::Coll<WorkloadObs>, source: &super::SourceInfo) -> Option<Self> {
        use super::SourceKind;
        let seen = (workloads.items.iter())
            .filter_map(|w| {
                Some(ReloaderSeen {
                    namespace: w.namespace.to_string(),
                    name: w.name.to_string(),
                    replicas: w.replicas,
                    run: (**w.reloader.as_ref()?).clone(),
                })
            })
            .collect();
        let unseen = match (source.kind, &source.only_namespace) {
            (SourceKind::Lab, _) => return None,
            (SourceKind::Live, None) => (!workloads.gaps.is_empty())
                .then(|| "some namespaces' Deployments could not be read".to_string()),
            (SourceKind::Live, Some(only)) => {
                Some(format!("namespace {only} is the only one read"))
            }
            (SourceKind::Manifests, _) => Some("it may run outside the given manifests".into()),
        };
        Some(ReloaderFacts { seen, unseen })
    }
}

/// How a Stakater Reloader Deployment runs, from its container's args and env ([R]
/// `internal/pkg/cmd/reloader.go`, `internal/pkg/util/util.go`).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReloaderObs {
    /// The namespaces it watches when not all of them: `--namespaces` (scoped mode), else
    /// the one of env `KUBERNETES_NAMESPACE` (the chart's `watchGlobally: false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only: Option<Vec<String>>,
    /// `--namespaces-to-ignore`, honoured only when it watches every namespace.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignored_namespaces: Vec<String>,
    /// `--namespace-selector`, honoured only when it watches every namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<String>,
    /// `--resource-label-selector`: only Secrets with these labels are watched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_selector: Option<String>,
    /// `--resources-to-ignore=secrets`: no Secret change restarts anything.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignores_secrets: bool,
    /// `--webhook-url` set: it calls the webhook instead of restarting anything.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub webhook_only: bool,
    /// `status.availableReplicas` (0 when the status has none), where the status was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available: Option<i32>,
    /// `--auto-reload-all` (default false): a workload with no `auto` annotation of either
    /// key is restarted for every Secret it references ([R] `pkg/common/common.go`
    /// ShouldReload).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub auto_reload_all: bool,
    /// `--enable-csi-integration` (default false): only then do the SecretProviderClass
    /// annotations act, on SecretProviderClassPodStatus changes ([R] `internal/pkg/cmd/
    /// reloader.go` shouldRunCSIController).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub csi_integration: bool,
    /// The annotation keys its flags rename, by flag (`secret-annotation`,
    /// `auto-annotation`, `secret-auto-annotation`, `auto-search-annotation`,
    /// `search-match-annotation`, `ignore-annotation`; [R] `internal/pkg/util/util.go`):
    /// the renamed key is the one it reads, the default no longer counts.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub renamed: std::collections::BTreeMap<String, String>,
}

/// What the snapshot says of a Reloader restarting workloads of a namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Runs {
    /// One runs and watches the namespace's Secrets.
    Yes,
    /// None does, for this reason (a sentence: none runs anywhere, or what keeps each one
    /// seen from this namespace's Secrets).
    No(String),
    /// Not known, for this reason: Reloader's Deployment may be where the source did not
    /// read, or a selector decides over labels the snapshot does not hold.
    Unknown(String),
}

/// What a change Reloader acts on comes from: a Secret, or, under `--enable-csi-integration`,
/// a SecretProviderClassPodStatus. Each kind has its own controller, and
/// `--resources-to-ignore=secrets` skips only the Secrets' ([R] `internal/pkg/cmd/reloader.go`:
/// the resource map's kinds, each skipped by name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Watched {
    Secrets,
    PodStatuses,
}

/// [`Runs`] for namespace `ns` from what the source saw of Reloader (`facts`; None: not
/// observed, as in a snapshot saved before this was read: taken to run, as before), for
/// Secret changes.
pub fn reloader_runs(facts: Option<&ReloaderFacts>, ns: &str) -> Runs {
    reloader_runs_for(facts, ns, Watched::Secrets)
}

/// [`reloader_runs`] for changes of `what`.
pub fn reloader_runs_for(facts: Option<&ReloaderFacts>, ns: &str, what: Watched) -> Runs {
    let Some(facts) = facts else {
        return Runs::Yes;
    };
    let mut kept = Vec::new();
    let mut unknown = None;
    for r in &facts.seen {
        match watches(r, ns, what) {
            Ok(()) => return Runs::Yes,
            Err(Judged::No(why)) => kept.push(why),
            Err(Judged::Unknown(why)) => unknown = unknown.or(Some(why)),
        }
    }
    if let Some(why) = unknown {
        return Runs::Unknown(why);
    }
    match &facts.unseen {
        Some(why) if kept.is_empty() => Runs::Unknown(format!("no Reloader seen: {why}")),
        Some(why) => Runs::Unknown(format!(
            "{}; another may run unseen: {why}",
            kept.join("; ")
        )),
        None if kept.is_empty() => Runs::No(
            "no Deployment in any namespace runs Stakater Reloader (image stakater/reloader)"
                .to_string(),
        ),
        None => Runs::No(kept.join("; ")),
    }
}

/// The first Reloader seen that restarts workloads of `ns` for a Secret ([`reloader_runs`]'s
/// `Yes`): the one whose flags decide what its annotations mean there. Two that both watch a
/// namespace are rare (each would roll the workload); the first read is taken.
pub fn reloader_acting<'a>(facts: Option<&'a ReloaderFacts>, ns: &str) -> Option<&'a ReloaderSeen> {
    reloader_acting_for(facts, ns, Watched::Secrets)
}

/// [`reloader_acting`] for changes of `what`.
pub fn reloader_acting_for<'a>(
    facts: Option<&'a ReloaderFacts>,
    ns: &str,
    what: Watched,
) -> Option<&'a ReloaderSeen> {
    facts?.seen.iter().find(|r| watches(r, ns, what).is_ok())
}

/// The keys and flags of the Reloader that acts on namespace `ns` ([`reloader_acting`]), as
/// [`crate::reloader`] reads annotations with them; Reloader's defaults, the CSI flag unknown,
/// where none was seen acting there.
pub(crate) fn reloader_config<'a>(
    facts: Option<&'a ReloaderFacts>,
    ns: &str,
) -> crate::reloader::Config<'a> {
    reloader_config_for(facts, ns, Watched::Secrets)
}

/// [`reloader_config`] of the Reloader acting on changes of `what`: the SecretProviderClass
/// annotations are read by the one whose pod status controller runs there, with the keys it
/// was started with, though it may ignore Secrets (`--resources-to-ignore=secrets`).
pub(crate) fn reloader_config_for<'a>(
    facts: Option<&'a ReloaderFacts>,
    ns: &str,
    what: Watched,
) -> crate::reloader::Config<'a> {
    reloader_acting_for(facts, ns, what).map_or(crate::reloader::DEFAULT, |r| r.run.config())
}

impl ReloaderObs {
    /// The keys and flags this Reloader was started with ([R] `internal/pkg/util/util.go`).
    pub(crate) fn config(&self) -> crate::reloader::Config<'_> {
        use crate::reloader as r;
        let key = |flag: &str, default: &'static str| {
            self.renamed.get(flag).map_or(default, String::as_str)
        };
        r::Config {
            reload: key("secret-annotation", r::RELOAD),
            auto: key("auto-annotation", r::AUTO),
            typed_auto: key("secret-auto-annotation", r::TYPED_AUTO),
            search: key("auto-search-annotation", r::SEARCH),
            matched: key("search-match-annotation", r::MATCH),
            ignore: key("ignore-annotation", r::IGNORE),
            auto_reload_all: self.auto_reload_all,
            csi: Some(self.csi_integration),
        }
    }
}

enum Judged {
    No(String),
    Unknown(String),
}

/// Whether Reloader Deployment `r` restarts workloads of `ns` for a change of `what`.
fn watches(r: &ReloaderSeen, ns: &str, what: Watched) -> Result<(), Judged> {
    // Said only when it does not watch: every env reader's chain asks.
    let who = format_args!("Reloader ({}/{})", r.namespace, r.name);
    let run = &r.run;
    if r.replicas == Some(0) {
        return Err(Judged::No(format!("{who} is scaled to 0 replicas")));
    }
    if run.available == Some(0) {
        return Err(Judged::No(format!("{who} has no available replica")));
    }
    if run.webhook_only {
        return Err(Judged::No(format!(
            "{who} runs with --webhook-url: it calls the webhook and restarts nothing"
        )));
    }
    if run.ignores_secrets && what == Watched::Secrets {
        return Err(Judged::No(format!(
            "{who} runs with --resources-to-ignore=secrets: no Secret change restarts anything"
        )));
    }
    match &run.only {
        Some(only) if !only.iter().any(|o| o == ns) => {
            return Err(Judged::No(format!(
                "{who} watches only namespace {}, not {ns}",
                only.join(", ")
            )));
        }
        Some(_) => {}
        None if run.ignored_namespaces.iter().any(|i| i == ns) => {
            return Err(Judged::No(format!(
                "{who} runs with --namespaces-to-ignore naming {ns}"
            )));
        }
        None if let Some(sel) = &run.namespace_selector => {
            return Err(Judged::Unknown(format!(
                "{who} watches only namespaces labelled {sel} (--namespace-selector), and namespace labels are not read"
            )));
        }
        None => {}
    }
    if let Some(sel) = &run.resource_selector {
        return Err(Judged::Unknown(format!(
            "{who} watches only Secrets labelled {sel} (--resource-label-selector)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
