//! Joins: find every (pod, SPC volume), assemble its context, run the link rules in order,
//! fold events in, settle each link's status and summary.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex, PoisonError};

use super::chain_events::chain_events;
use super::context::{AuthMode, Ctx};
use super::index::{DRIVER, HashMap, Index, SPC_ATTRIBUTE};
use super::model::*;
use super::replicas::{Shared, group_links};
use super::{orphans, rules};
use crate::snapshot::*;
use crate::spc::{self, AzureSpc};

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
    let templates = orphans::uncreated(ix);
    let pods: Vec<&PodObs> = ix
        .snap
        .pods
        .items
        .iter()
        .chain(templates.iter().copied())
        .filter(|p| want(p))
        .collect();
    let (mut chains, referenced) = chains_in_parallel(ix, &pods, detail);
    chains.extend(orphan_chains(ix, &referenced, &templates));
    finish(&mut chains);
    chains
}

/// Pods a thread takes at a time: runs small enough that a thread the OS holds back leaves
/// its share to the others, large enough that replicas mostly share a run (and its cache).
const RUN: usize = 512;

/// [`chains_of`] over several threads when there are enough pods to pay for them.
fn chains_in_parallel<'a>(
    ix: &'a Index<'a>,
    pods: &[&'a PodObs],
    detail: bool,
) -> (Vec<Chain>, Referenced<'a>) {
    let threads = threads_for(pods.len());
    if threads <= 1 {
        return chains_and_referenced(ix, pods, detail);
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
    let mut free = &mut all.spare_capacity_mut()[..total];
    let mut jobs = Vec::with_capacity(runs.len());
    for (run, &n) in runs.iter().zip(&counts) {
        let (slots, rest) = std::mem::take(&mut free).split_at_mut(n);
        free = rest;
        jobs.push(Mutex::new(Some((*run, Slots(slots)))));
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
                    slots.0.is_empty(),
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
    // SAFETY: the runs' slots partition the first `total` places of `all`; every run was
    // taken once and ran to the end (a panic in any thread unwinds before this line), and
    // each run filled every one of its slots (asserted above).
    unsafe { all.set_len(total) };
    (all, referenced)
}

/// How many chains `pod` has: one per volume that wires (or clearly means to wire) an SPC.
fn wired_volumes(pod: &PodObs) -> usize {
    // The driver's own volumes first: counted without reading their attributes, which live in
    // allocations of their own (this runs on one thread before the others start).
    let wired = |v: &VolumeObs| match &v.source {
        VolumeSourceObs::Csi { driver, .. } if driver == DRIVER => true,
        VolumeSourceObs::Csi { .. } => wiring(v).is_some(),
        _ => false,
    };
    pod.volumes.iter().filter(|v| wired(v)).count()
}

/// Where built chains go.
trait Sink {
    /// Places `chain` and returns it, in its place, to be filled in.
    fn put(&mut self, chain: Chain) -> &mut Chain;
}

impl Sink for Vec<Chain> {
    fn put(&mut self, chain: Chain) -> &mut Chain {
        let at = self.len();
        self.push(chain);
        &mut self[at]
    }
}

/// A run's share of the parallel pass's output, not yet written: one place per chain, in order.
struct Slots<'s>(&'s mut [MaybeUninit<Chain>]);

impl Sink for Slots<'_> {
    fn put(&mut self, chain: Chain) -> &mut Chain {
        let Some((slot, rest)) = std::mem::take(&mut self.0).split_first_mut() else {
            panic!("a run builds one chain per wired volume");
        };
        self.0 = rest;
        slot.write(chain)
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

/// Consumers of synced Secrets of SPCs that no pod (or template) references: `referenced`
/// holds the pod and template chains already built over the same index.
pub(super) fn orphan_chains(
    ix: &Index<'_>,
    referenced: &Referenced<'_>,
    templates: &[&PodObs],
) -> Vec<Chain> {
    let mut orphans = orphans::chains(ix, |ns, spc| {
        referenced.contains(ns, spc)
            || ix.spc_users(ns, spc).is_some()
            || templates
                .iter()
                .any(|t| t.namespace == ns && t.mounts_spc(spc))
    });
    for c in &mut orphans {
        stamp_findings(c);
    }
    orphans
}

/// Unique ids (see [`dedupe_ids`]) and each finding stamped with its chain's id.
pub(super) fn finish(chains: &mut [Chain]) {
    // Findings were stamped as each chain was built, while it was still in cache (a pass
    // over ten thousand cold chains costs more than the stamping): only the ids made unique
    // here need it again.
    for i in dedupe_ids(chains) {
        stamp_findings(&mut chains[i]);
    }
}

/// Each finding of `chain` names the chain it belongs to.
pub(super) fn stamp_findings(chain: &mut Chain) {
    // One shared copy of the id for all of them, made only when there is a finding.
    let mut id: Option<SharedText> = None;
    for l in &mut chain.links {
        for f in &mut l.findings {
            if *f.chain != *chain.id {
                f.chain = id.get_or_insert_with(|| chain.id.as_str().into()).clone();
            }
        }
    }
}

pub(super) fn chains_of(ix: &Index<'_>, pods: &[&PodObs], detail: bool) -> Vec<Chain> {
    chains_and_referenced(ix, pods, detail).0
}

fn chains_and_referenced<'a>(
    ix: &'a Index<'a>,
    pods: &[&'a PodObs],
    detail: bool,
) -> (Vec<Chain>, Referenced<'a>) {
    let mut chains = Vec::with_capacity(pods.len());
    let mut referenced = Referenced::default();
    chains_into(
        ix,
        pods,
        detail,
        &mut Shared::default(),
        &mut chains,
        &mut referenced,
    );
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
        for volume in &pod.volumes {
            if let Some(spc) = diagnose_volume(ix, shared, pod, volume, detail, out) {
                referenced.add(&pod.namespace, spc);
            }
        }
    }
}

/// The volume's CSI wiring if it mounts, or clearly means to mount, a SecretProviderClass.
struct Wiring<'a> {
    driver: &'a str,
    read_only: Option<bool>,
    attributes: &'a BTreeMap<String, String>,
    node_publish_secret: Option<&'a str>,
    spc_name: &'a str,
    spc_key_typo: Option<&'a str>,
}

fn wiring(volume: &VolumeObs) -> Option<Wiring<'_>> {
    let VolumeSourceObs::Csi {
        driver,
        read_only,
        attributes,
        node_publish_secret,
    } = &volume.source
    else {
        return None;
    };
    let exact = attributes.get(SPC_ATTRIBUTE);
    let typo = if exact.is_none() {
        attributes
            .iter()
            .find(|(k, _)| strsim::levenshtein(&k.to_ascii_lowercase(), "secretproviderclass") <= 2)
    } else {
        None
    };
    let meant = driver == DRIVER || exact.is_some() || typo.is_some() || near_driver(driver);
    if !meant {
        return None;
    }
    Some(Wiring {
        driver,
        read_only: *read_only,
        attributes,
        node_publish_secret: node_publish_secret.as_deref(),
        spc_name: exact.or(typo.map(|(_, v)| v)).map_or("", String::as_str),
        spc_key_typo: typo.map(|(k, _)| k.as_str()),
    })
}

/// A driver name one slip away from the Secrets Store driver's.
pub(crate) fn near_driver(driver: &str) -> bool {
    if driver == DRIVER {
        return false;
    }
    let d = driver.to_ascii_lowercase();
    d.contains("secrets-store")
        || d.contains("secret-store")
        || d.contains("secretsstore")
        || strsim::levenshtein(&d, DRIVER) <= 4
}

/// Merge the pod's volumeAttributes over the SPC parameters, as the driver does, and re-parse
/// only when the pod actually changes a parameter (the common case reuses the SPC's parse).
fn merged<'a>(spc: &'a SpcObs, attributes: &BTreeMap<String, String>) -> Cow<'a, AzureSpc> {
    let overrides = attributes
        .iter()
        .any(|(k, v)| k != SPC_ATTRIBUTE && spc.parameters.get(k) != Some(v));
    if !overrides {
        return Cow::Borrowed(&spc.parsed);
    }
    let mut params = spc.parameters.clone();
    for (k, v) in attributes {
        if k != SPC_ATTRIBUTE {
            params.insert(k.clone(), v.clone());
        }
    }
    Cow::Owned(spc::parse(&params))
}

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
        ix.spcps.get(&(ns, pod.name.as_str(), w.spc_name)).copied()
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
        params: spc.map(|s| merged(s, w.attributes)),
        workload,
        workload_object,
        template,
        status,
        events: chain_events(ix, pod, volume, w.spc_name, |e| shared.classify(e)),
        side: None,
        mode: AuthMode::Unknown,
        identity: None,
        vault: None,
    };
    cx.side = shared.spc_side(&cx);

    let spc_or_volume = if w.spc_name.is_empty() {
        volume.name.as_str()
    } else {
        w.spc_name
    };
    // Built in its place in the list and filled there: a chain is ~650 bytes, and returning
    // it by value copied it twice more per chain.
    let chain = out.put(Chain {
        id: chain_id(ns, &pod.name, spc_or_volume),
        namespace: ns.into(),
        pod: pod.name.clone(),
        workload: cx.workload.map(|(kind, name)| WorkloadRef {
            kind: kind.into(),
            name: name.into(),
        }),
        spc: w.spc_name.into(),
        volume: volume.name.clone(),
        vault: cx
            .params
            .as_deref()
            .and_then(|p| p.keyvault_name.as_deref().map(Text::from)),
        objects: Vec::new(),
        links: LinkKind::ALL.map(Link::new),
    });
    let links = &mut chain.links;
    rules::pod::check(&mut cx, &mut links[LinkKind::Pod.index()]);
    rules::service_account::check(&mut cx, &mut links[LinkKind::ServiceAccount.index()]);
    chain.objects = group_links(&mut cx, shared, links);
    rules::mount::check(&mut cx, &mut links[LinkKind::Mount.index()]);
    rules::sync::check(&mut cx, &mut links[LinkKind::Sync.index()]);
    rules::consumers::check(&mut cx, &mut links[LinkKind::Consumers.index()]);
    rules::apply_events(&cx, links);
    for link in links.iter_mut() {
        settle(link);
    }
    rules::mark_effects(links);
    stamp_findings(chain);
    Some(w.spc_name)
}

/// `<ns>/<pod>/<spc>`, built in one allocation (`format!` costs several times more, once per
/// chain).
fn chain_id(ns: &str, pod: &str, spc: &str) -> String {
    let mut id = String::with_capacity(ns.len() + pod.len() + spc.len() + 2);
    for (i, part) in [ns, pod, spc].into_iter().enumerate() {
        if i > 0 {
            id.push('/');
        }
        id.push_str(part);
    }
    id
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
    let Some(worst) = link.findings.iter().max_by_key(|f| f.severity) else {
        return;
    };
    let from_findings = worst.severity.status();
    if from_findings > link.status {
        link.status = from_findings;
        link.summary = Text::const_new(super::catalog::short(worst.code));
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
        c.id = format!("{}#{}", c.id, c.volume);
        if let Some(w) = &c.workload {
            c.id = format!("{}#{}", c.id, w.kind);
        }
    }
    clashes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::catalog::Code;
    use crate::chain::testkit::*;

    fn chain<'c>(chains: &'c [Chain], pod: &str) -> &'c Chain {
        chains
            .iter()
            .find(|c| c.pod == pod)
            .expect("a chain for the pod")
    }

    /// Chains are held as long as they are shown (ten thousand of them in the TUI): their
    /// lists must not keep the spare room growing them reserved.
    #[test]
    fn a_diagnosed_chains_lists_hold_no_spare_room() {
        let chains = diagnose(&generated_snapshot(300, 60));
        let links = || chains.iter().flat_map(|c| &c.links);
        let findings = || links().flat_map(|l| &l.findings);
        assert!(
            links().any(|l| !l.facts.is_empty()),
            "the world shows facts"
        );
        assert!(findings().any(|f| !f.evidence.is_empty()), "and evidence");
        for l in links() {
            assert_eq!(
                l.findings.capacity(),
                l.findings.len(),
                "{:?} findings",
                l.link
            );
            assert_eq!(l.facts.capacity(), l.facts.len(), "{:?} facts", l.link);
        }
        for f in findings() {
            assert_eq!(
                f.evidence.capacity(),
                f.evidence.len(),
                "{} evidence",
                f.code
            );
        }
    }

    /// The threads write each run's chains into its own place in the output: whatever the
    /// number of chains a pod has (none, one, two), the list is the one a single thread builds.
    #[test]
    fn the_parallel_pass_builds_the_single_threads_chains_in_pod_order() {
        let mut s = generated_snapshot(PARALLEL_FROM + 700, 400);
        for (i, pod) in s.pods.items.iter_mut().enumerate() {
            match i % 5 {
                0 => pod.volumes.clear(),
                3 => {
                    let mut second = pod.volumes[0].clone();
                    second.name = "second".into();
                    pod.volumes.push(second);
                }
                _ => {}
            }
        }
        let ix = Index::build(&s);
        let pods: Vec<&PodObs> = s.pods.items.iter().collect();
        assert!(threads_for(pods.len()) > 1 || std::thread::available_parallelism().is_err());
        let one = chains_of(&ix, &pods, false);
        let expected: usize = (0..pods.len()).map(|i| [0, 1, 1, 2, 1][i % 5]).sum();
        assert_eq!(one.len(), expected, "no chain, one, or two per pod");
        assert!(one.iter().any(|c| c.volume == "second"));
        let (parallel, referenced) = chains_in_parallel(&ix, &pods, false);
        assert_eq!(parallel, one);
        assert_eq!(
            referenced.set,
            Referenced::of_chains(&one).set,
            "the SPCs the chains reference"
        );
    }

    #[test]
    fn replicas_share_group_links_but_keep_their_own_mount_state_and_versions() {
        let mut s = empty();
        add_app(&mut s, NS, APP, 3);
        // Replica 1 mounted an older version; replica 2 has not mounted yet.
        let (p1, p2) = (pod_name(APP, 1), pod_name(APP, 2));
        for st in &mut s.spc_statuses.items {
            if st.pod_name == p1 {
                st.objects[0].version = V2.into();
            }
        }
        s.spc_statuses.items.retain(|st| st.pod_name != p2);
        s.azure.role_assignments.gaps.all = Some("role assignments: 403".into());
        let chains = diagnose(&s);
        assert_eq!(chains.len(), 3);
        let mounted = |c: &Chain| c.objects[0].mounted_version.clone();
        assert_eq!(mounted(chain(&chains, &pod_name(APP, 0))), Some(V1.into()));
        assert_eq!(mounted(chain(&chains, &p1)), Some(V2.into()));
        assert_eq!(mounted(chain(&chains, &p2)), None);
        // A mount proves the access the unknown assignments cannot; no mount does not.
        let access = |c: &Chain| c.link(LinkKind::Access).status;
        assert_eq!(access(chain(&chains, &p1)), Status::Ok);
        assert_eq!(access(chain(&chains, &p2)), Status::Unknown);
        assert_each_chain_as_alone(&s, &chains);
    }

    #[test]
    fn findings_name_the_chain_by_its_final_id_when_ids_clash() {
        let mut s = empty();
        add_app(&mut s, NS, APP, 1);
        // The pod mounts its SPC a second time, through a volume the driver refuses (KVC103).
        let mut second = csi_volume("second", &spc_name(APP));
        if let VolumeSourceObs::Csi { read_only, .. } = &mut second.source {
            *read_only = Some(false);
        }
        for pod in &mut s.pods.items {
            pod.volumes.push(second.clone());
        }
        let chains = diagnose(&s);
        assert_eq!(chains.len(), 2);
        assert_ne!(chains[0].id, chains[1].id, "ids are unique");
        let refused = chains
            .iter()
            .find(|c| c.volume == "second")
            .expect("the second volume's chain");
        assert!(refused.id.contains("#second"), "{}", refused.id);
        assert!(
            refused.findings().any(|f| f.code == Code::KVC103),
            "{refused:#?}"
        );
        for c in &chains {
            for f in c.findings() {
                assert_eq!(f.chain, c.id, "{:?}", f.code);
            }
        }
    }

    #[test]
    fn consumers_that_do_not_mount_the_spc_are_named_on_every_replica_chain() {
        let mut s = empty();
        add_app(&mut s, NS, APP, 4);
        // Two bare pods read the synced Secret through env: one mounts the SPC, one does not.
        let template = s.pods.items[0].clone();
        let mut without = template.clone();
        without.name = "reader".into();
        without.owners.clear();
        without.volumes.clear();
        let mut with = template;
        with.name = "reader-with-mount".into();
        with.owners.clear();
        s.pods.items.extend([without, with]);
        let chains = diagnose(&s);
        let replicas: Vec<&Chain> = chains.iter().filter(|c| c.pod.starts_with(APP)).collect();
        assert_eq!(replicas.len(), 4);
        for c in replicas {
            let named: Vec<&str> = c
                .link(LinkKind::Consumers)
                .findings
                .iter()
                .filter(|f| f.code == Code::KVC903)
                .map(|f| f.resource.as_str())
                .collect();
            assert_eq!(named, ["Pod/reader"], "{}", c.pod);
        }
        assert!(
            chains.iter().all(|c| c.pod != "reader"),
            "no CSI volume, no chain"
        );
    }

    #[test]
    fn a_vault_whose_role_assignments_failed_leaves_other_vaults_known() {
        let mut s = empty();
        add_app(&mut s, "team-a", "api", 1);
        add_app(&mut s, "team-b", "web", 1);
        unmount(&mut s, "api");
        unmount(&mut s, "web");
        let failed = vault_name("team-a");
        let reason = format!("cannot list role assignments on {failed}: 403 AuthorizationFailed");
        s.azure
            .role_assignments
            .gaps
            .namespaces
            .insert(failed.clone(), reason.clone());
        s.azure
            .role_assignments
            .items
            .retain(|r| !r.scope.contains(&failed));
        let chains = diagnose(&s);
        let access = |pod: &str| chain(&chains, pod).link(LinkKind::Access).clone();
        let a = access(&pod_name("api", 0));
        assert_eq!(a.status, Status::Unknown, "{a:#?}");
        assert!(a.facts.iter().any(|f| f.observed == reason), "{a:#?}");
        assert!(
            a.findings.is_empty(),
            "no KVC501 from a listing that failed: {a:#?}"
        );
        let b = access(&pod_name("web", 0));
        assert_eq!(b.status, Status::Ok, "{b:#?}");
    }

    #[test]
    fn a_vault_that_could_not_be_looked_up_says_why() {
        let mut s = empty();
        add_app(&mut s, "team-a", "api", 1);
        add_app(&mut s, "team-b", "web", 1);
        unmount(&mut s, "api");
        let failed = vault_name("team-a");
        let reason = format!("cannot look up vault {failed}: 403 AuthorizationFailed");
        s.azure.vaults.items.retain(|v| v.name != failed);
        s.azure
            .vaults
            .gaps
            .namespaces
            .insert(failed.to_uppercase(), reason.clone());
        let chains = diagnose(&s);
        let a = chain(&chains, &pod_name("api", 0)).link(LinkKind::Access);
        assert_eq!(a.status, Status::Unknown);
        assert!(a.facts.iter().any(|f| f.observed == reason), "{a:#?}");
        let b = chain(&chains, &pod_name("web", 0)).link(LinkKind::Access);
        assert_eq!(b.status, Status::Ok, "{b:#?}");
    }
}
