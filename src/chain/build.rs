//! Joins: find every (pod, SPC volume), assemble its context, run the link rules in order,
//! fold events in, settle each link's status and summary.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::catalog::Code;
use super::context::{AuthMode, Ctx};
use super::index::{DRIVER, HashMap, Index, SPC_ATTRIBUTE};
use super::model::*;
use super::{events, rules};
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

fn run(snapshot: &Snapshot, detail: bool, want: impl Fn(&PodObs) -> bool) -> Vec<Chain> {
    let ix = Index::build(snapshot);
    let pods: Vec<&PodObs> = snapshot.pods.items.iter().filter(|p| want(p)).collect();
    let threads = if pods.len() >= PARALLEL_FROM {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
    } else {
        1
    };
    let mut chains = if threads > 1 {
        // Chains are independent given the shared, read-only index: split the pods into
        // contiguous runs (so the output order stays the pods' order) and join in order.
        let per = pods.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let workers: Vec<_> = pods
                .chunks(per)
                .map(|part| scope.spawn(|| chains_of(&ix, part, detail)))
                .collect();
            let mut all = Vec::with_capacity(pods.len());
            for w in workers {
                match w.join() {
                    Ok(part) => all.extend(part),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
            all
        })
    } else {
        chains_of(&ix, &pods, detail)
    };
    dedupe_ids(&mut chains);
    chains
}

fn chains_of(ix: &Index<'_>, pods: &[&PodObs], detail: bool) -> Vec<Chain> {
    let mut chains = Vec::with_capacity(pods.len());
    for pod in pods {
        for volume in &pod.volumes {
            if let Some(chain) = diagnose_volume(ix, pod, volume, detail) {
                chains.push(chain);
            }
        }
    }
    chains
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
    pod: &'a PodObs,
    volume: &'a VolumeObs,
    detail: bool,
) -> Option<Chain> {
    let w = wiring(volume)?;
    let ns = pod.namespace.as_str();
    let spc = if w.spc_name.is_empty() {
        None
    } else {
        ix.spcs.get(&(ns, w.spc_name)).copied()
    };
    let template = pod.template_of.is_some();
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
        workload: ix.workload_of(pod),
        template,
        status,
        events: chain_events(ix, pod, volume, w.spc_name),
        mode: AuthMode::Unknown,
        identity: None,
        vault: None,
    };

    // Every rule sets its link's summary: start empty so nothing is allocated twice.
    let mut links: Vec<Link> = LinkKind::ALL
        .iter()
        .map(|k| Link {
            link: *k,
            status: Status::Ok,
            summary: String::new(),
            facts: Vec::new(),
            findings: Vec::new(),
        })
        .collect();
    rules::pod::check(&mut cx, &mut links[LinkKind::Pod.index()]);
    rules::service_account::check(&mut cx, &mut links[LinkKind::ServiceAccount.index()]);
    rules::identity::check(&mut cx, &mut links[LinkKind::Identity.index()]);
    rules::federation::check(&mut cx, &mut links[LinkKind::Federation.index()]);
    rules::access::check(&mut cx, &mut links[LinkKind::Access.index()]);
    let objects = rules::vault_object::check(&mut cx, &mut links[LinkKind::VaultObject.index()]);
    rules::mount::check(&mut cx, &mut links[LinkKind::Mount.index()]);
    rules::sync::check(&mut cx, &mut links[LinkKind::Sync.index()]);
    rules::consumers::check(&mut cx, &mut links[LinkKind::Consumers.index()]);
    rules::apply_events(&cx, &mut links);
    for link in &mut links {
        settle(link);
        if link.summary.is_empty() {
            link.summary.push_str("ok");
        }
    }

    let vault = cx.params.as_deref().and_then(|p| p.keyvault_name.clone());
    let workload = cx
        .workload
        .take()
        .map(|(kind, name)| WorkloadRef { kind, name });
    let spc_or_volume = if w.spc_name.is_empty() {
        volume.name.as_str()
    } else {
        w.spc_name
    };
    Some(Chain {
        id: format!("{ns}/{}/{spc_or_volume}", pod.name),
        namespace: ns.to_string(),
        pod: pod.name.clone(),
        workload,
        spc: w.spc_name.to_string(),
        volume: volume.name.clone(),
        vault,
        objects,
        links,
    })
}

/// Mount/sync events about this pod that concern this volume, classified once.
fn chain_events<'a>(
    ix: &Index<'a>,
    pod: &PodObs,
    volume: &VolumeObs,
    spc_name: &str,
) -> Vec<(Option<Code>, &'a EventObs)> {
    if pod.template_of.is_some() {
        return Vec::new();
    }
    let Some(list) = ix
        .pod_events
        .get(&(pod.namespace.as_str(), pod.name.as_str()))
    else {
        return Vec::new();
    };
    list.iter()
        .filter(|e| pod.uid.is_empty() || e.involved_uid.is_empty() || e.involved_uid == pod.uid)
        .filter(|e| events::volume_of(&e.message).is_none_or(|v| v == volume.name))
        .filter(|e| {
            // Driver sync events name the SPC (`spc <ns>/<name>`): keep only ours.
            let tag = format!("spc {}/", pod.namespace);
            match e.message.find(&tag) {
                Some(i) => {
                    let rest = &e.message[i + tag.len()..];
                    rest.split([' ', ',', ':']).next() == Some(spc_name)
                }
                None => true,
            }
        })
        .map(|e| (events::classify_event(&e.reason, &e.message), *e))
        .collect()
}

/// Fold findings into the link status; the worst finding names the link when it decides it.
fn settle(link: &mut Link) {
    let Some(worst) = link.findings.iter().max_by_key(|f| f.severity) else {
        return;
    };
    let from_findings = worst.severity.status();
    if from_findings > link.status {
        link.status = from_findings;
        link.summary = short(worst.code).to_string();
    }
    // Findings first by severity so the UI and reports read worst-first.
    link.findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
}

/// One or two words for the chain strip.
pub fn short(code: Code) -> &'static str {
    use Code::*;
    match code {
        KVC101 => "no SPC",
        KVC102 => "subPath",
        KVC103 => "bad wiring",
        KVC104 => "no driver",
        KVC105 => "no token",
        KVC201 => "no WI label",
        KVC202 => "no SA",
        KVC203 => "no client-id",
        KVC204 => "client-id differs",
        KVC205 => "not injected",
        KVC301 => "no identity",
        KVC302 => "bad params",
        KVC303 => "node identity",
        KVC401 => "subject mismatch",
        KVC402 => "issuer mismatch",
        KVC403 => "bad audience",
        KVC404 => "wrong tenant",
        KVC501 => "no grant",
        KVC502 => "wrong role",
        KVC503 => "wrong model",
        KVC504 => "over-privileged",
        KVC505 => "firewall",
        KVC601 => "not found",
        KVC602 => "disabled",
        KVC603 => "pinned",
        KVC604 => "expiring",
        KVC701 => "FailedMount",
        KVC702 => "no rotation",
        KVC703 => "stale mount",
        KVC704 => "throttled",
        KVC705 => "bad objects",
        KVC706 => "file clash",
        KVC801 => "key missing",
        KVC802 => "not synced",
        KVC803 => "GC risk",
        KVC804 => "bad tls",
        KVC805 => "content differs",
        KVC806 => "sync failed",
        KVC901 => "stale env",
        KVC902 => "no reloader",
        KVC903 => "not mounted",
    }
}

/// Ids are `<ns>/<pod>/<spc>`; in manifests two workloads of different kinds may share a
/// name, and a pod may mount one SPC twice: disambiguate with the volume, then the kind.
fn dedupe_ids(chains: &mut [Chain]) {
    let mut seen: HashMap<&str, ()> =
        HashMap::with_capacity_and_hasher(chains.len(), Default::default());
    let clashes: Vec<usize> = chains
        .iter()
        .enumerate()
        .filter(|(_, c)| seen.insert(c.id.as_str(), ()).is_some())
        .map(|(i, _)| i)
        .collect();
    drop(seen);
    for i in clashes {
        let c = &mut chains[i];
        c.id = format!("{}#{}", c.id, c.volume);
        if let Some(w) = &c.workload {
            c.id = format!("{}#{}", c.id, w.kind);
        }
    }
}
