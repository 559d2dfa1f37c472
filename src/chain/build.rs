//! Joins: find every (pod, SPC volume), assemble its context, run the link rules in order,
//! fold events in, settle each link's status and summary.

use std::borrow::Cow;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex, PoisonError};

use super::chain_events::chain_events;
use super::context::{AuthMode, Ctx};
use super::index::{HashMap, HashSet, Index};
use super::model::*;
use super::replicas::{Shared, Texts, group_links};
use super::{orphans, rules};
use crate::snapshot::*;
pub(crate) use wiring::wired_spc;
use wiring::{wired_volumes, wiring};

/// Every (pod, SecretProviderClass) chain in the snapshot, with findings.
///
/// Links carry the facts that explain a problem (observed vs expected where they differ, the
/// reason a link is unknown); the facts of healthy links are left out to keep a 10,000-pod
/// diagnosis cheap — [`explain`] returns one chain with all of them.
pub fn diagnose(snapshot: &Snapshot) -> Vec<Chain> {
    run(snapshot, false, |_| true)
}

/// Like [`diagnose`], with every fact on every link (observed = expected included).
pub fn diagnose_detailed(snapshot: &Snapshot) -> Vec<Chain> {
    run(snapshot, true, |_| true)
}

/// One chain by id, with every fact on every link (for a detail view).
pub fn explain(snapshot: &Snapshot, id: &str) -> Option<Chain> {
    let mut parts = id.splitn(3, '/');
    let (ns, pod) = (parts.next()?, parts.next()?);
    run(snapshot, true, |p| p.namespace == ns && p.name == pod)
        .into_iter()
        .find(|c| c.id == id)
}

/// Below this many pods one thread is faster than spawning more.
const PARALLEL_FROM: usize = 2048;

/// Threads worth using for `pods` pods (one below [`PARALLEL_FROM`]).
pub(super) fn threads_for(pods: usize) -> usize {
    // Asked once: the standard library reads the cgroup's CPU quota from files on each call.
    static CPUS: LazyLock<usize> =
        LazyLock::new(|| std::thread::available_parallelism().map_or(1, |n| n.get().min(8)));
    if pods >= PARALLEL_FROM { *CPUS } else { 1 }
}

fn run(snapshot: &Snapshot, detail: bool, want: impl Fn(&PodObs) -> bool) -> Vec<Chain> {
    chains_over(&Index::build(snapshot), detail, want)
}

/// Every chain over `ix`'s objects (pods and templates `want` keeps, then orphan consumers),
/// with unique ids and stamped findings.
pub(super) fn chains_over(
    ix: &Index<'_>,
    detail: bool,
    want: impl Fn(&PodObs) -> bool,
) -> Vec<Chain> {
    let templates = orphans::templates(ix);
    let pods: Vec<&PodObs> = ix
        .snap
        .pods
        .items
        .iter()
        .chain(templates.uncreated.iter().copied())
        .filter(|p| want(p))
        .collect();
    let (mut chains, mut hashes, referenced) = chains_in_parallel(ix, &pods, detail);
    let orphans = orphan_chains(ix, &referenced, &templates, detail);
    if let Some(hashes) = &mut hashes {
        hashes.extend(orphans.iter().map(|c| id_hash(&c.id)));
    }
    chains.extend(orphans);
    finish(&mut chains, hashes.as_deref());
    chains
}

/// Pods a thread takes at a time: runs small enough that a thread the OS holds back leaves
/// its share to the others, large enough that replicas mostly share a run (and its cache).
const RUN: usize = 512;

/// [`chains_of`] over several threads when there are enough pods to pay for them, with each
/// chain's [`id_hash`] when they were.
fn chains_in_parallel<'a>(
    ix: &'a Index<'a>,
    pods: &[&'a PodObs],
    detail: bool,
) -> (Vec<Chain>, Option<Vec<u64>>, Referenced<'a>) {
    let threads = threads_for(pods.len());
    if threads <= 1 {
        let (chains, referenced) = chains_and_referenced(ix, pods, detail);
        return (chains, None, referenced);
    }
    // Chains are independent given the shared, read-only index. Each thread (this one too:
    // its allocator heap is warm from earlier calls) takes the next run of pods until none is
    // left, so a thread held back on a busy machine does not hold up the pass. Each run writes
    // its chains straight into its own place in the output, so the pods' order is kept without
    // joining the threads' lists afterwards: that join copied every chain once more and faulted
    // in a second list's pages on one thread while the others waited (~9% of a 100,000-pod
    // pass, profiled).
    let runs: Vec<&[&PodObs]> = pods.chunks(RUN).collect();
    let counts: Vec<usize> = runs
        .iter()
        .map(|run| run.iter().map(|pod| wired_volumes(pod)).sum())
        .collect();
    let total = counts.iter().sum();
    let mut all: Vec<Chain> = Vec::with_capacity(total);
    let mut hashes: Vec<u64> = Vec::with_capacity(total);
    let mut free = &mut all.spare_capacity_mut()[..total];
    let mut free_hashes = &mut hashes.spare_capacity_mut()[..total];
    let mut jobs = Vec::with_capacity(runs.len());
    for (run, &n) in runs.iter().zip(&counts) {
        let (chains, rest) = std::mem::take(&mut free).split_at_mut(n);
        free = rest;
        let (ids, rest) = std::mem::take(&mut free_hashes).split_at_mut(n);
        free_hashes = rest;
        jobs.push(Mutex::new(Some((
            *run,
            Slots {
                chains,
                ids,
                filled: 0,
            },
        ))));
    }
    let next = AtomicUsize::new(0);
    let take = || {
        let mut shared = Shared::default();
        let mut referenced = Referenced::default();
        while let Some(job) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
            // Each index is handed out once, so the job is always there to take.
            let taken = job.lock().unwrap_or_else(PoisonError::into_inner).take();
            if let Some((run, mut slots)) = taken {
                chains_into(ix, run, detail, &mut shared, &mut slots, &mut referenced);
                assert!(
                    slots.filled == slots.chains.len(),
                    "a run builds one chain per wired volume"
                );
            }
        }
        referenced
    };
    let referenced = std::thread::scope(|scope| {
        let workers: Vec<_> = (1..threads).map(|_| scope.spawn(take)).collect();
        let mut referenced = take();
        for w in workers {
            referenced.merge(
                w.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            );
        }
        referenced
    });
    drop(jobs);
    // SAFETY: the runs' slots partition the first `total` places of `all` (and of `hashes`,
    // filled with them); every run was taken once and ran to the end (a panic in any thread
    // unwinds before this line), and each run filled every one of its slots (asserted above).
    unsafe {
        all.set_len(total);
        hashes.set_len(total);
    }
    (all, Some(hashes), referenced)
}

/// Where built chains go.
trait Sink {
    /// Places `chain` and returns it, in its place, to be filled in.
    fn put(&mut self, chain: Chain) -> &mut Chain;
    /// The last `n` chains placed (a pod's, for what one chain of it says to another:
    /// [`rules::new_mount`]).
    fn last(&mut self, n: usize) -> &mut [Chain];
}

impl Sink for Vec<Chain> {
    fn put(&mut self, chain: Chain) -> &mut Chain {
        let at = self.len();
        self.push(chain);
        &mut self[at]
    }

    fn last(&mut self, n: usize) -> &mut [Chain] {
        let len = self.len();
        &mut self[len - n..]
    }
}

/// A run's share of the parallel pass's output, written from the front: one place per chain,
/// in order, and beside it one for the hash of its id; the first `filled` are written.
struct Slots<'s> {
    chains: &'s mut [MaybeUninit<Chain>],
    ids: &'s mut [MaybeUninit<u64>],
    filled: usize,
}

impl Sink for Slots<'_> {
    fn put(&mut self, chain: Chain) -> &mut Chain {
        let at = self.filled;
        let (Some(slot), Some(id)) = (self.chains.get_mut(at), self.ids.get_mut(at)) else {
            panic!("a run builds one chain per wired volume");
        };
        self.filled += 1;
        // Hashed here, while the id is in this thread's cache: the ids are made unique on
        // one thread after the others finish, and reading ten thousand cold ids there was a
        // fiftieth of the pass.
        id.write(id_hash(&chain.id));
        slot.write(chain)
    }

    fn last(&mut self, n: usize) -> &mut [Chain] {
        let written = &mut self.chains[self.filled - n..self.filled];
        // SAFETY: the places before `filled` were written by `put`, and `MaybeUninit<Chain>`
        // has `Chain`'s layout.
        unsafe { &mut *(std::ptr::from_mut(written) as *mut [Chain]) }
    }
}

/// The (namespace, SPC) of every pod and template chain built: an SPC in it is one a pod
/// means to mount.
#[derive(Default)]
pub(super) struct Referenced<'k> {
    set: HashMap<(&'k str, &'k str), ()>,
    last: Option<(&'k str, &'k str)>,
}

impl<'k> Referenced<'k> {
    pub fn of_chains(chains: impl IntoIterator<Item = &'k Chain>) -> Self {
        let mut referenced = Referenced::default();
        for c in chains {
            referenced.add(&c.namespace, &c.spc);
        }
        referenced
    }

    fn add(&mut self, ns: &'k str, spc: &'k str) {
        // Replicas come one after the other: hash each run of equal keys once.
        let key = (ns, spc);
        if self.last != Some(key) {
            self.set.insert(key, ());
            self.last = Some(key);
        }
    }

    fn merge(&mut self, other: Referenced<'k>) {
        self.set.extend(other.set);
    }

    fn contains(&self, ns: &str, spc: &str) -> bool {
        self.set.contains_key(&(ns, spc))
    }
}

/// Consumers of synced Secrets of SPCs that no pod (or uncreated template) references, after
/// the chains of the scaled-down templates they wait on: `referenced` holds the pod and
/// template chains already built over the same index.
pub(super) fn orphan_chains(
    ix: &Index<'_>,
    referenced: &Referenced<'_>,
    templates: &orphans::Templates<'_>,
    detail: bool,
) -> Vec<Chain> {
    // A template scaled to zero mounts nothing: its SPC counts as mounted by no pod.
    let mounted = |ns: &str, spc: &str| {
        referenced.contains(ns, spc)
            || ix.spc_users(ns, spc).is_some()
            || (templates.uncreated.iter()).any(|t| t.namespace == ns && t.mounts_spc(spc))
    };
    let parked = orphans::needed(ix, &templates.parked, mounted);
    let mut out = chains_of(ix, &parked, detail);
    let mut orphans = orphans::chains(ix, mounted, &out);
    for c in &mut orphans {
        stamp_findings(c);
    }
    out.extend(orphans);
    out
}

/// Unique ids (see [`dedupe_ids`]; `hashes`, when the threads made them, are the chains'
/// [`id_hash`]es) and each finding stamped with its chain's id.
pub(super) fn finish(chains: &mut [Chain], hashes: Option<&[u64]>) {
    // Distinct hashes are distinct ids: the ids themselves are read only when a hash repeats
    // (ids clash, or two hashes collide).
    if let Some(hashes) = hashes.filter(|h| h.len() == chains.len()) {
        let mut seen: HashSet<u64> =
            HashSet::with_capacity_and_hasher(hashes.len(), Default::default());
        if hashes.iter().all(|h| seen.insert(*h)) {
            return;
        }
    }
    // Findings were stamped as each chain was built, while it was still in cache (a pass
    // over ten thousand cold chains costs more than the stamping): only the ids made unique
    // here need it again.
    for i in dedupe_ids(chains) {
        stamp_findings(&mut chains[i]);
    }
}

/// A chain id's hash, for [`finish`].
fn id_hash(id: &str) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(id)
}

/// Each finding of `chain` names the chain it belongs to (with the chain's own id: a count).
pub(super) fn stamp_findings(chain: &mut Chain) {
    for l in &mut chain.links {
        for f in &mut l.findings {
            if !SharedText::ptr_eq(&f.chain, &chain.id) {
                f.chain = chain.id.clone();
            }
            f.show_safely();
        }
    }
}

pub(super) fn chains_of(ix: &Index<'_>, pods: &[&PodObs], detail: bool) -> Vec<Chain> {
    chains_and_referenced(ix, pods, detail).0
}

/// [`chains_of`], holding each finding text once with those of `texts` (chains built
/// before), which it extends.
pub(super) fn chains_sharing_texts(
    ix: &Index<'_>,
    pods: &[&PodObs],
    texts: &mut Texts,
) -> Vec<Chain> {
    let mut shared = Shared::default();
    shared.texts = std::mem::take(texts);
    let (chains, _) = chains_with(ix, pods, false, &mut shared);
    *texts = shared.texts;
    chains
}

fn chains_and_referenced<'a>(
    ix: &'a Index<'a>,
    pods: &[&'a PodObs],
    detail: bool,
) -> (Vec<Chain>, Referenced<'a>) {
    chains_with(ix, pods, detail, &mut Shared::default())
}

/// [`chains_into`] a list of their own.
fn chains_with<'a>(
    ix: &'a Index<'a>,
    pods: &[&'a PodObs],
    detail: bool,
    shared: &mut Shared<'a>,
) -> (Vec<Chain>, Referenced<'a>) {
    let mut chains = Vec::with_capacity(pods.len());
    let mut referenced = Referenced::default();
    chains_into(ix, pods, detail, shared, &mut chains, &mut referenced);
    (chains, referenced)
}

/// The chains of `pods`, appended to `out` (and their SPCs to `referenced`); `shared`
/// carries what replicas share.
#[inline]
fn chains_into<'a>(
    ix: &'a Index<'a>,
    pods: &[&'a PodObs],
    detail: bool,
    shared: &mut Shared<'a>,
    out: &mut impl Sink,
    referenced: &mut Referenced<'a>,
) {
    for pod in pods {
        let mut built = 0;
        for volume in &pod.volumes {
            if let Some(spc) = diagnose_volume(ix, shared, pod, volume, detail, out) {
                referenced.add(&pod.namespace, spc);
                built += 1;
            }
        }
        // A fix that gives the pod a new mount meets every volume of it: here, once all its
        // chains are built, on the one path the full pass and the engine's per-pod
        // re-diagnosis share (audit HH1).
        if built > 0 {
            rules::new_mount::follow_siblings(out.last(built));
        }
    }
}

/// Merge the pod's volumeAttributes over the SPC parameters, as the driver does, and re-parse
/// only when the pod actually changes a parameter (the common case reuses the SPC's parse).
fn diagnose_volume<'a>(
    ix: &'a Index<'a>,
    shared: &mut Shared<'a>,
    pod: &'a PodObs,
    volume: &'a VolumeObs,
    detail: bool,
    out: &mut impl Sink,
) -> Option<&'a str> {
    let w = wiring(volume)?;
    let ns = pod.namespace.as_str();
    let spc = if w.spc_name.is_empty() {
        None
    } else {
        ix.spcs.get(&(ns, w.spc_name)).copied()
    };
    let template = pod.template_of.is_some();
    let (workload, workload_object) = shared.workload_of(ix, pod);
    let status = if template {
        None
    } else {
        // An earlier pod's status (same name, re-created) is no success signal for this one:
        // the Mount link says whose it is (`rules::mount`).
        ix.spcps
            .get(&(ns, pod.name.as_str(), w.spc_name))
            .copied()
            .filter(|st| st.earlier_pod(pod).is_none())
    };
    let mut cx = Ctx {
        ix,
        detail,
        pod,
        volume,
        driver: w.driver,
        read_only: w.read_only,
        attributes: w.attributes,
        node_publish_secret: w.node_publish_secret,
        spc_name: w.spc_name,
        spc_key_typo: w.spc_key_typo,
        spc,
        params: spc.map(|s| s.merged(w.attributes)),
        workload,
        workload_object,
        template,
        status,
        events: chain_events(ix, pod, volume, w.spc_name, |e| shared.classify(e)),
        side: None,
        sync_causes: Vec::new(),
        mode: AuthMode::Unknown,
        identity: None,
        vault: None,
    };
    // Another provider's SPC (vault, aws, gcp): the Azure rules and the Azure side are not
    // its (FACTS §3, §5); only the kubelet's and the driver's Pod link is judged.
    let other_provider = rules::provider::is_other(&cx);
    if !other_provider {
        cx.side = shared.spc_side(&cx);
    }

    let spc_or_volume = if w.spc_name.is_empty() {
        volume.name.as_str()
    } else {
        w.spc_name
    };
    // Built in its place in the list and filled there: a chain is ~600 bytes, and returning
    // it by value copied it twice more per chain.
    let id = chain_id(ns, &pod.name, spc_or_volume);
    let pod_name = id.substr(ns.len() + 1..ns.len() + 1 + pod.name.len());
    let chain = out.put(Chain {
        id,
        namespace: ns.into(),
        pod: pod_name,
        workload: cx.workload.map(|(kind, name)| WorkloadRef {
            kind: kind.into(),
            name: name.into(),
        }),
        spc: w.spc_name.into(),
        volume: volume.name.clone(),
        vault: cx
            .params
            .as_deref()
            // A vault name is 3–24 plain characters: anything else is shown capped and escaped.
            .and_then(|p| p.keyvault_name.as_deref())
            .map(|k| Text::from(crate::shown::shown(k).as_ref())),
        objects: Default::default(),
        links: LinkKind::ALL.map(Link::new),
    });
    let links = &mut chain.links;
    rules::pod::check(&mut cx, &mut links[LinkKind::Pod.index()]);
    if other_provider {
        rules::provider::not_judged(&mut cx, links);
        for link in links.iter_mut() {
            settle(link);
        }
        stamp_findings(chain);
        shared.share_texts(chain);
        return Some(w.spc_name);
    }
    rules::service_account::check(&mut cx, &mut links[LinkKind::ServiceAccount.index()]);
    chain.objects = group_links(&mut cx, shared, links);
    rules::mount::check(&mut cx, &mut links[LinkKind::Mount.index()]);
    let never_built = rules::sync::check(&mut cx, &mut links[LinkKind::Sync.index()]);
    let behind_sync = rules::consumers::check(
        &mut cx,
        &mut links[LinkKind::Consumers.index()],
        never_built,
    );
    // Whether the pod is on its way to a mount, read before events and settling turn the
    // Mount link's summary into a failure's or a static warning's (rotation off).
    let starting = rules::mount::starting(&links[LinkKind::Mount.index()]);
    rules::unstarted::consumers_unproven(links, starting);
    let mount_failed = rules::apply_events(&cx, links);
    rules::unread_failures::check(&cx, &mut links[LinkKind::Mount.index()]);
    rules::identity_side::point_at_working(&cx, links);
    if matches!(cx.params, Some(Cow::Owned(_))) {
        rules::remedy::note_overrides(&cx, links);
    }
    for link in links.iter_mut() {
        settle(link);
    }
    rules::unstarted::design_behind(links, starting, behind_sync, || {
        rules::consumers::blocked_start(&cx)
    });
    rules::sync::mount_predates_edit(&cx, links);
    rules::sync::stale_blocks_readers(&cx, links);
    let object_typos =
        rules::sync::object_typos(&cx, &chain.objects, &links[LinkKind::Sync.index()]);
    let present = rules::sync::present(&cx, links);
    rules::mark_effects(
        &cx,
        links,
        starting && !mount_failed,
        &object_typos,
        &present,
    );
    stamp_findings(chain);
    shared.share_texts(chain);
    Some(w.spc_name)
}

/// `<ns>/<pod>/<spc>`, built in its one allocation (`format!` costs several times more, once
/// per chain, and a `String` turned shared text is a second).
fn chain_id(ns: &str, pod: &str, spc: &str) -> SharedText {
    let parts = [ns, "/", pod, "/", spc];
    let len = parts.iter().map(|p| p.len()).sum();
    SharedText::init_with(len, |buf| {
        let mut at = 0;
        for p in parts {
            buf[at..at + p.len()].copy_from_slice(p.as_bytes());
            at += p.len();
        }
    })
    // Whole strs joined are UTF-8 whatever they hold: this never runs.
    .unwrap_or_else(|_| parts.concat().into())
}

/// Fold findings into the link status; the worst finding names the link when it decides it.
pub(super) fn settle(link: &mut Link) {
    // A list's first push reserves room for four: a link with one finding would keep room
    // for three more (384 bytes), as long as the chains are shown.
    link.facts.shrink_to_fit();
    if link.findings.is_empty() {
        return; // most links
    }
    link.findings.shrink_to_fit();
    for f in &mut link.findings {
        f.evidence.shrink_to_fit();
    }
    // The first of the worst (max_by_key would take the last): the rules push a link's
    // causes in the order the service meets them, so the first is the one that fails first.
    let Some(worst) = link.findings.iter().rev().max_by_key(|f| f.severity) else {
        return;
    };
    let from_findings = worst.severity.status();
    if from_findings > link.status {
        link.status = from_findings;
        link.summary = Text::const_new(super::catalog::label(worst));
    }
    // Findings first by severity so the UI and reports read worst-first.
    link.findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
}

/// Ids are `<ns>/<pod>/<spc>`; in manifests two workloads of different kinds may share a
/// name, and a pod may mount one SPC twice: disambiguate with the volume, then the kind.
/// Returns the positions of the chains whose id changed.
pub(super) fn dedupe_ids(chains: &mut [Chain]) -> Vec<usize> {
    let mut seen: HashMap<&str, ()> =
        HashMap::with_capacity_and_hasher(chains.len(), Default::default());
    let clashes: Vec<usize> = chains
        .iter()
        .enumerate()
        .filter(|(_, c)| seen.insert(c.id.as_str(), ()).is_some())
        .map(|(i, _)| i)
        .collect();
    drop(seen);
    for &i in &clashes {
        let c = &mut chains[i];
        let mut id = format!("{}#{}", c.id, c.volume);
        if let Some(w) = &c.workload {
            id = format!("{id}#{}", w.kind);
        }
        c.id = id.into();
    }
    clashes
}

mod wiring;

#[cfg(test)]
mod tests;
