//! Chains that exist without a running pod: the template of a workload whose pods cannot be
//! created ([`uncreated`]), and a consumer (a pod's env or volume, an Ingress's
//! TLS) of a synced Secret whose SecretProviderClass no pod mounts. The driver creates the
//! Secret only while a pod mounts the SPC, and the Secret is garbage-collected with the
//! mounting pods' owners (FACTS §2, §11): after such a workload is deleted, the consumer still
//! names a Secret that is gone — a broken chain with no pod in it.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::BTreeMap;

use super::catalog::Code;
use super::context::{AuthMode, Ctx};
use super::index::{Consumer, HashMap, Index, SPC_ATTRIBUTE};
use super::model::*;
use super::rules;
use super::rules::mount::claim_replaced;
use crate::snapshot::{
    IngressObs, PodObs, SecretObjectSpec, SourceKind, SpcObs, VolumeObs, VolumeSourceObs,
    WorkloadObs,
};

/// Who starts an orphan chain.
enum Start<'a> {
    Pod(Consumer<'a>),
    Ingress(&'a IngressObs),
}

/// One chain per consumer (per workload, bare pod or Ingress) of each synced Secret of each
/// SecretProviderClass for which `mounted(namespace, spc)` is false. `parked`: the chains of
/// the templates of workloads scaled to zero that a consumer waits on ([`needed`]).
pub(super) fn chains(
    ix: &Index<'_>,
    mounted: impl Fn(&str, &str) -> bool,
    parked: &[Chain],
) -> Vec<Chain> {
    let snap = ix.snap;
    let mut out = Vec::new();
    // The StatefulSets whose claim templates replace a CSI volume, found on first need.
    let clashes = OnceCell::new();
    for spc in &snap.spcs.items {
        let ns = spc.namespace.as_str();
        // Pods not visible: whether anything mounts the SPC is unknown.
        if spc.secret_objects.is_empty()
            || snap.pods.unknown_in(ns).is_some()
            || mounted(ns, &spc.name)
        {
            continue;
        }
        let parked = parked_of(parked, ns, &spc.name);
        for so in &spc.secret_objects {
            let key = (ns, so.secret_name.as_str());
            let mut owners: Vec<String> = Vec::new();
            for c in ix.secret_consumers.get(&key).into_iter().flatten() {
                if super::index::may_mount(c.pod, &spc.name)
                    || ix.mounts_a_writer(c.pod, &so.secret_name)
                {
                    // Its volume names an unrendered SPC (KVC101 says so): maybe this one. Or
                    // it mounts another SPC that writes the Secret (KVC807 there).
                    continue;
                }
                let owner = owner_of(ix, c.pod);
                if !owners.contains(&owner) {
                    owners.push(owner);
                    out.push(chain(ix, spc, so, Start::Pod(*c), &parked, &clashes));
                }
            }
            for ing in ix.ingress_tls.get(&key).into_iter().flatten() {
                out.push(chain(ix, spc, so, Start::Ingress(ing), &parked, &clashes));
            }
        }
    }
    out
}

/// Pod templates of workloads that run no pod, diagnosed as the pod they would create.
#[derive(Default)]
pub(super) struct Templates<'a> {
    /// Pods wanted but none created (ServiceAccount missing, admission denied: FailedCreate):
    /// the template is what there is to diagnose.
    pub uncreated: Vec<&'a PodObs>,
    /// Scaled to zero (`replicas: 0`): no pod mounts its SecretProviderClasses for it, so
    /// their synced Secrets are not made (FACTS §2, §11). A workload parked on purpose is no
    /// fault: its template is diagnosed only when a consumer waits on it ([`needed`]).
    pub parked: Vec<&'a PodObs>,
}

/// The templates of workloads none of whose pods exist (pods of the namespace visible).
pub(super) fn templates<'a>(ix: &Index<'a>) -> Templates<'a> {
    let snap = ix.snap;
    let mut templates: Vec<(&WorkloadObs, &'a PodObs)> = snap
        .workloads
        .items
        .iter()
        .filter(|w| snap.pods.unknown_in(&w.namespace).is_none())
        .filter_map(|w| Some((w, w.template.as_deref()?)))
        .collect();
    if templates.is_empty() {
        return Templates::default();
    }
    // Only live pods stand for their template: a CronJob whose pods have all finished (or a
    // workload whose pods are all being deleted) makes its next pods from the template, which
    // is then diagnosed on its own (audit V2).
    let mut has_pods: HashMap<(&str, &str, &str), ()> = HashMap::default();
    for p in snap.pods.items.iter().filter(|p| !p.retired()) {
        if let Some((kind, name)) = ix.workload_of(p) {
            has_pods.insert((&p.namespace, kind, name), ());
        }
    }
    templates.retain(|(w, _)| !has_pods.contains_key(&(&w.namespace, &w.kind, &w.name)));
    let (parked, uncreated): (Vec<_>, Vec<_>) = templates
        .into_iter()
        .partition(|(w, _)| w.replicas == Some(0));
    Templates {
        uncreated: uncreated.into_iter().map(|(_, t)| t).collect(),
        parked: parked.into_iter().map(|(_, t)| t).collect(),
    }
}

/// The parked templates a consumer waits on: one mounts a SecretProviderClass that nothing
/// else mounts (`mounted` false) and a synced Secret of it is absent while a pod or an Ingress
/// uses it (that consumer's KVC904). Scaling such a workload up is the fix, and its template's
/// chain says whether that would work.
pub(super) fn needed<'a>(
    ix: &Index<'a>,
    parked: &[&'a PodObs],
    mounted: impl Fn(&str, &str) -> bool,
) -> Vec<&'a PodObs> {
    let waited_on = |ns: &str, spc_name: &str| {
        let Some(spc) = ix.spcs.get(&(ns, spc_name)) else {
            return false;
        };
        ix.snap.secrets.unknown_in(ns).is_none()
            && !mounted(ns, spc_name)
            && spc.secret_objects.iter().any(|so| {
                let key = (ns, so.secret_name.as_str());
                let served = ix.ingress_tls.contains_key(&key);
                // Absent: its readers wait on the workload. Present for an Ingress: the
                // scaled-down workload's ReplicaSet still owns it (FACTS §11), frozen until
                // a pod mounts the SPC again (KVC803 names that workload).
                if ix.secrets.contains_key(&key) {
                    served
                } else {
                    served || ix.secret_consumers.contains_key(&key)
                }
            })
    };
    parked
        .iter()
        .copied()
        .filter(|t| spcs_of(t).any(|spc| waited_on(&t.namespace, spc)))
        .collect()
}

/// The SecretProviderClasses a pod's (or template's) CSI volumes name.
fn spcs_of(pod: &PodObs) -> impl Iterator<Item = &str> {
    pod.volumes.iter().filter_map(|v| match &v.source {
        VolumeSourceObs::Csi { attributes, .. } => {
            attributes.get(SPC_ATTRIBUTE).map(String::as_str)
        }
        _ => None,
    })
}

/// Whether `pod` is the template of a workload scaled to zero, seen through the workload
/// (lab and live). Manifests list each template among the pods as a copy of its own: there
/// every template is diagnosed, whatever the replicas (an autoscaler may set them).
pub(crate) fn is_parked(pod: &PodObs, workload: Option<&WorkloadObs>) -> bool {
    workload.is_some_and(|w| {
        w.replicas == Some(0) && w.template.as_deref().is_some_and(|t| std::ptr::eq(t, pod))
    })
}

fn owner_of(ix: &Index<'_>, pod: &PodObs) -> String {
    match ix.workload_of(pod) {
        Some((k, n)) => format!("{k}/{n}"),
        None => format!("Pod/{}", pod.name),
    }
}

/// A workload scaled to zero whose pod template mounts the SPC: scaling it up makes the
/// driver create the synced Secret, unless its template's chain breaks before the Secret.
struct Parked<'c> {
    /// `Deployment/billing`.
    who: String,
    /// `kubectl scale deployment/billing -n shop --replicas=1`.
    scale: String,
    /// Its template chain's id.
    chain: &'c str,
    /// The worst finding of the template chain's first broken link up to Sync: why its pods
    /// would not mount the SPC (or the driver not build the Secret) after scaling up.
    blocker: Option<&'c Finding>,
}

fn parked_of<'c>(parked: &'c [Chain], ns: &str, spc: &str) -> Vec<Parked<'c>> {
    let mut out: Vec<Parked<'c>> = Vec::new();
    for c in parked.iter().filter(|c| c.namespace == ns && c.spc == spc) {
        let Some(w) = &c.workload else { continue };
        let who = format!("{}/{}", w.kind, w.name);
        if out.iter().any(|p| p.who == who) {
            continue; // the SPC mounted twice by one template
        }
        let blocker = c.links[..=LinkKind::Sync.index()]
            .iter()
            .find(|l| l.status == Status::Broken)
            .and_then(|l| l.findings.first());
        out.push(Parked {
            scale: format!(
                "kubectl scale {}/{} -n {ns} --replicas=1",
                w.kind.to_ascii_lowercase(),
                w.name
            ),
            who,
            chain: &c.id,
            blocker,
        });
    }
    // One that would work first: it is the one the fix scales.
    out.sort_by_key(|p| p.blocker.is_some());
    out
}

/// What KVC904 says when workloads scaled to zero mount the SPC.
struct ParkedRemedy {
    /// Appended to the message.
    tail: String,
    evidence: Vec<String>,
    confirm: String,
    fix: String,
}

fn parked_remedy(parked: &[Parked<'_>], spc: &str, ns: &str, secret: &str) -> Option<ParkedRemedy> {
    let first = parked.first()?;
    let names: Vec<&str> = parked.iter().map(|p| p.who.as_str()).collect();
    let (verb, are) = if names.len() == 1 {
        ("mounts", "is")
    } else {
        ("mount", "are")
    };
    let mut tail = format!(
        ": {} {verb} it in the pod template but {are} scaled to zero (replicas 0)",
        names.join(", ")
    );
    let mut evidence: Vec<String> = parked
        .iter()
        .map(|p| {
            format!(
                "{}: replicas 0, pod template mounts SecretProviderClass {spc}",
                p.who
            )
        })
        .collect();
    let fix = match first.blocker {
        None => first.scale.clone(),
        Some(b) => {
            tail.push_str(&format!(
                "; scaling {} up would not make the Secret either: its template's chain breaks at {} ({} on {}), which must be fixed first",
                first.who,
                b.link.title(),
                b.code,
                b.resource
            ));
            evidence.push(format!(
                "chain {}: {} broken ({})",
                first.chain,
                b.link.title(),
                b.code
            ));
            format!(
                "{}  # after fixing {} on {} (chain {}): until then its pods cannot make the Secret",
                first.scale, b.code, b.resource, first.chain
            )
        }
    };
    // The workloads' READY 0/0 beside the Secret's NotFound.
    let objects: Vec<String> = parked.iter().map(|p| p.who.to_ascii_lowercase()).collect();
    let confirm = format!("kubectl get {} secret/{secret} -n {ns}", objects.join(" "));
    Some(ParkedRemedy {
        tail,
        evidence,
        confirm,
        fix,
    })
}

fn chain<'a>(
    ix: &Index<'a>,
    spc: &SpcObs,
    so: &SecretObjectSpec,
    start: Start<'_>,
    parked: &[Parked<'_>],
    clashes: &OnceCell<claim_replaced::Replaced<'a>>,
) -> Chain {
    let ns = spc.namespace.as_str();
    // An Ingress has no pod: the context carries only its namespace.
    let holder = PodObs {
        namespace: ns.into(),
        ..PodObs::default()
    };
    let volume = VolumeObs {
        name: Default::default(),
        source: VolumeSourceObs::Other,
    };
    let attributes = BTreeMap::new();
    let (pod, (workload, workload_object)) = match &start {
        Start::Pod(c) => (c.pod, ix.workload_with_object(c.pod)),
        Start::Ingress(i) => (&holder, (Some(("Ingress", i.name.as_str())), None)),
    };
    let cx = Ctx {
        ix,
        detail: false,
        pod,
        volume: &volume,
        driver: "",
        read_only: None,
        attributes: &attributes,
        node_publish_secret: None,
        spc_name: &spc.name,
        spc_key_typo: None,
        spc: Some(spc),
        params: Some(Cow::Borrowed(&spc.parsed)),
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
    };
    let mut links = LinkKind::ALL.map(Link::new);
    let nothing = format!("no pod mounts SecretProviderClass {}", spc.name);
    for link in &mut links[..LinkKind::Sync.index()] {
        rules::set(link, Status::Pending, "no mount");
    }
    let pod_link = &mut links[LinkKind::Pod.index()];
    pod_link
        .facts
        .push(Fact::new("mounted by", nothing.clone()));
    for p in parked {
        pod_link.facts.push(Fact::new(
            "scaled to zero",
            format!("{} (replicas 0)", p.who),
        ));
    }
    let secret = &so.secret_name;
    // From manifests the files are all there is: no pod in them mounts the SPC, so no mount
    // makes the Secret unless something outside them does (the consumer's KVC904 says so).
    let offline = ix.snap.source.kind == SourceKind::Manifests;
    let present = match ix.snap.secrets.unknown_in(ns) {
        Some(_) if offline => {
            let sync = &mut links[LinkKind::Sync.index()];
            rules::set(sync, Status::Pending, "no mount");
            sync.facts.push(Fact::new(
                "synced Secret",
                format!("{secret}: made only for a pod that mounts SecretProviderClass {}, and none in the given manifests does", spc.name),
            ));
            None
        }
        Some(reason) => {
            rules::unknown(&mut links[LinkKind::Sync.index()], "Secret unknown", reason);
            None
        }
        None => Some(ix.secrets.contains_key(&(ns, secret.as_str()))),
    };
    let sync = &mut links[LinkKind::Sync.index()];
    match present {
        // One cause, one finding: the consumer's KVC904 below names the missing Secret and
        // why (no mount, no Secret); the sync link waits on a mount like the links before it.
        Some(false) => {
            rules::set(sync, Status::Pending, "no mount");
            sync.facts
                .push(Fact::new("synced Secret", format!("{secret} not found")));
        }
        Some(true) => rules::set(sync, Status::Ok, secret.clone()),
        None => {}
    }
    let (who, how) = match &start {
        Start::Pod(c) => (owner_of(ix, c.pod), rules::consumers::describe(&c.how)),
        Start::Ingress(i) => (
            format!("Ingress/{}", i.name),
            "spec.tls[].secretName".to_string(),
        ),
    };
    // Every way this owner's pods read the Secret: any required one stops them; when all are
    // optional (secretKeyRef, envFrom or a volume) they start with it unset.
    let uses: Vec<(String, bool, &str)> = match &start {
        Start::Pod(_) => ix
            .secret_consumers
            .get(&(ns, secret.as_str()))
            .into_iter()
            .flatten()
            .filter(|u| owner_of(ix, u.pod) == who)
            .map(|u| {
                (
                    rules::consumers::describe(&u.how),
                    rules::consumers::required(u.pod, &u.how),
                    rules::consumers::missing_stops(&u.how),
                )
            })
            .collect(),
        Start::Ingress(_) => Vec::new(),
    };
    let all_optional = !uses.is_empty() && uses.iter().all(|(_, required, _)| !required);
    let consumers = &mut links[LinkKind::Consumers.index()];
    match (&start, present) {
        (_, Some(false)) => {
            let mut evidence = vec![
                format!("{who}: {how}"),
                format!("Secret {secret} not found"),
                nothing,
            ];
            let mut f = match parked_remedy(parked, &spc.name, ns, secret) {
                // A scaled-down mounter is why: scaling it up is the fix (FACTS §11).
                Some(ParkedRemedy {
                    tail,
                    evidence: more,
                    confirm,
                    fix,
                }) => {
                    evidence.extend(more);
                    cx.finding(
                        Code::KVC904,
                        who.clone(),
                        format!(
                            "{who} uses Secret {secret} ({how}), which does not exist: only a pod that mounts SecretProviderClass {} makes the driver create it, and none runs{tail}",
                            spc.name
                        ),
                        evidence,
                        confirm,
                        fix,
                    )
                }
                None => {
                    let mut f = cx.remedied(
                        Code::KVC904,
                        who.clone(),
                        format!(
                            "{who} uses Secret {secret} ({how}), which does not exist: only a pod that mounts SecretProviderClass {} makes the driver create it, and none does (a deleted workload's synced Secret is garbage-collected with it)",
                            spc.name
                        ),
                        evidence,
                    );
                    // The consumer's own workload can mount it: its edit, as KVC903's (audit MM4).
                    if let Start::Pod(c) = &start
                        && let Some(fix) = rules::consumers::mount_in::fix(
                            &cx,
                            c.pod,
                            "its pods then make the driver create the Secret",
                        )
                    {
                        f.fix = fix.into();
                        f.show_safely();
                    }
                    f
                }
            };
            // Kubernetes starts a container whose optional Secret is missing, the variables
            // unset (the volume empty): nothing fails, the values are only absent.
            if all_optional {
                rules::consumers::offline::optional_unset(&mut f);
            }
            if parked.is_empty() {
                let clashes = clashes.get_or_init(|| claim_replaced::replaced(ix.snap));
                claim_replaced::blocks(&mut f, spc, clashes);
            }
            consumers.findings.push(f);
        }
        (Start::Pod(c), None) if offline => {
            let mut f = rules::consumers::offline::never_mounted(&cx, &who, c.pod, secret, &uses);
            let clashes = clashes.get_or_init(|| claim_replaced::replaced(ix.snap));
            claim_replaced::blocks(&mut f, spc, clashes);
            consumers.findings.push(f);
        }
        (Start::Pod(c), _) => {
            let exists = present.unwrap_or(false);
            rules::consumers::not_mounted(&cx, consumers, secret, c.pod, &c.how, Some(exists))
        }
        (Start::Ingress(_), _) => {
            rules::set(consumers, Status::Ok, "Ingress");
            let evidence = vec![format!("{who}: {how}"), nothing];
            let f = match parked_remedy(parked, &spc.name, ns, secret) {
                // A workload scaled to zero mounts it: its ReplicaSet keeps the Secret alive
                // (FACTS §11), but nothing mounts the SPC, so rotation cannot update it.
                Some(ParkedRemedy {
                    tail,
                    evidence: more,
                    confirm,
                    fix,
                }) => cx.finding(
                    Code::KVC803,
                    format!("Secret/{secret}"),
                    format!(
                        "synced Secret {secret} is served by {who} but no pod mounts SecretProviderClass {}{tail}: its ReplicaSet keeps the Secret, frozen at the last mount (rotation updates it only while a pod mounts the SecretProviderClass)",
                        spc.name
                    ),
                    evidence.into_iter().chain(more).collect(),
                    confirm,
                    fix,
                ),
                None => cx.remedied(
                    Code::KVC803,
                    format!("Secret/{secret}"),
                    format!(
                        "synced Secret {secret} is served by {who} but no pod mounts SecretProviderClass {}: it lives only as long as its owners do and is not re-created",
                        spc.name
                    ),
                    evidence,
                ),
            };
            links[LinkKind::Sync.index()].findings.push(f);
        }
    }
    // The consumer's service account placeholders: injected without a mount too (audit TT4).
    if let Start::Pod(_) = &start
        && let Some(f) = rules::sa_template::for_consumer(&cx)
    {
        links[LinkKind::Identity.index()].findings.push(f);
    }
    for link in &mut links {
        super::build::settle(link);
    }
    let start_name = match &start {
        Start::Pod(c) => c.pod.name.to_string(),
        Start::Ingress(i) => format!("Ingress:{}", i.name),
    };
    let id = SharedText::from(format!("{ns}/{start_name}/{}", spc.name));
    let pod = match &start {
        Start::Pod(c) => id.substr(ns.len() + 1..ns.len() + 1 + c.pod.name.len()),
        Start::Ingress(_) => SharedPart::default(),
    };
    Chain {
        id,
        namespace: ns.into(),
        pod,
        workload: cx.workload.map(|(kind, name)| WorkloadRef {
            kind: kind.into(),
            name: name.into(),
        }),
        spc: spc.name.as_str().into(),
        volume: Text::default(),
        vault: spc
            .parsed
            .keyvault_name
            .as_deref()
            .map(|k| Text::from(crate::shown::shown(k).as_ref())),
        objects: Default::default(),
        links,
    }
}
