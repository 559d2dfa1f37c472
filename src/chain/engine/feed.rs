//! One engine fed whole snapshots: what the long-running modes (the TUI's diagnoser, `serve`)
//! keep between the snapshots a source sends, so each costs what changed since the last.

use std::sync::Arc;

use super::{Engine, Finish, Work, diff};
use crate::chain::Chain;
use crate::chain::index::Globals;
use crate::snapshot::{Snapshot, SourceKind};

/// The latest snapshot and its diagnosis, kept up to date by [`Feed::update`].
pub struct Feed {
    /// The latest snapshot: shared with whoever shows it (it is also the store's), not a copy.
    last: Option<Arc<Snapshot>>,
    /// `None` for offline manifests: an SPC "in another namespace" is named across
    /// namespaces, so they are diagnosed whole (see the engine's documentation).
    engine: Option<Engine>,
    /// The whole diagnosis when there is no engine.
    whole: Vec<Arc<Chain>>,
    finish: Option<Arc<Finish>>,
}

/// What one [`Feed::update`] cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fed {
    pub work: Work,
    /// Everything was diagnosed anew: the first snapshot, a manifests source, another source
    /// (context, scenario), most objects changed, or a change the diff cannot express (gaps
    /// moved, a key repeated).
    pub whole: bool,
}

impl Feed {
    /// No snapshot yet; `finish` will run over every chain a diagnosis builds.
    pub fn new(finish: Option<Arc<Finish>>) -> Feed {
        Feed {
            last: None,
            engine: None,
            whole: Vec::new(),
            finish,
        }
    }

    /// The latest snapshot.
    pub fn snapshot(&self) -> Option<&Arc<Snapshot>> {
        self.last.as_ref()
    }

    /// Move to `next`: re-diagnose only what changed since the last snapshot (the first one
    /// whole).
    pub fn update(&mut self, next: Arc<Snapshot>) -> Fed {
        let changes = match &self.last {
            Some(last) if self.engine.is_some() && same_source(last, &next) => diff(last, &next)
                // Most objects changed (a relist after a long disconnection): the engine's
                // replacements search its namespaces, building anew is cheaper.
                .filter(|c| c.len() <= objects(&next) / 4 + 64),
            _ => None,
        };
        let (Some(engine), Some(changes)) = (self.engine.as_mut(), changes) else {
            return self.rebuild(next);
        };
        let work = engine.update(Some(Globals::of(&next)), changes);
        self.last = Some(next);
        Fed { work, whole: false }
    }

    fn rebuild(&mut self, next: Arc<Snapshot>) -> Fed {
        self.engine = None;
        self.whole.clear();
        let work = if next.source.kind == SourceKind::Manifests {
            let mut chains = crate::chain::diagnose(&next);
            if let Some(finish) = &self.finish {
                finish(&next, &mut chains);
            }
            self.whole = chains.into_iter().map(Arc::new).collect();
            Work {
                namespaces: 0,
                chains: self.whole.len(),
            }
        } else {
            // The engine shares the snapshot's objects (sorted by namespace): a copy of the
            // handles, not of the objects.
            let engine = Engine::with_finish((*next).clone(), self.finish.clone());
            let work = Work {
                namespaces: engine.namespaces(),
                chains: engine.chains().count(),
            };
            self.engine = Some(engine);
            work
        };
        self.last = Some(next);
        Fed { work, whole: true }
    }

    /// Every chain of the latest snapshot, as [`crate::chain::diagnose`] gives them: pods'
    /// chains in the snapshot's pod order, then template and orphan chains namespace by
    /// namespace (a full diagnosis puts them after all pods' chains, in the order of the
    /// workloads and SecretProviderClasses that start them). A namespace whose chain ids
    /// clash is diagnosed whole, its chains among the latter. Shared with the engine, which
    /// replaces (never changes) a chain it re-diagnoses: a copy of the list, not the chains.
    pub fn chains(&self) -> Vec<Arc<Chain>> {
        let Some(engine) = &self.engine else {
            return self.whole.clone();
        };
        let pods = self
            .last
            .as_deref()
            .map_or(&[][..], |s| s.pods.items.shared());
        let mut out = Vec::with_capacity(pods.len());
        for p in pods {
            out.extend(engine.pod_chains(&p.namespace, &p.name).iter().cloned());
        }
        out.extend(engine.extra_chains().cloned());
        out
    }
}

/// The same source (not manifests, which are diagnosed whole): another kube context or
/// scenario is a new world, diagnosed whole.
fn same_source(last: &Snapshot, next: &Snapshot) -> bool {
    next.source.kind != SourceKind::Manifests
        && last.source.kind == next.source.kind
        && last.source.label == next.source.label
}

/// How many Kubernetes objects `s` holds.
fn objects(s: &Snapshot) -> usize {
    s.pods.items.len()
        + s.service_accounts.items.len()
        + s.spcs.items.len()
        + s.spc_statuses.items.len()
        + s.secrets.items.len()
        + s.events.items.len()
        + s.workloads.items.len()
        + s.ingresses.items.len()
}
