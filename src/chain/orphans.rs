//! Chains that exist without a running pod: the template of a workload whose pods cannot be
//! created ([`uncreated`]), and a consumer (a pod's env or volume, an Ingress's
//! TLS) of a synced Secret whose SecretProviderClass no pod mounts. The driver creates the
//! Secret only while a pod mounts the SPC, and the Secret is garbage-collected with the
//! mounting pods' owners (FACTS §2, §11): after such a workload is deleted, the consumer still
//! names a Secret that is gone — a broken chain with no pod in it.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::catalog::Code;
use super::context::{AuthMode, Ctx};
use super::index::{Consumer, HashMap, Index};
use super::model::*;
use super::rules;
use crate::snapshot::{
    IngressObs, PodObs, SecretObjectSpec, SpcObs, VolumeObs, VolumeSourceObs, WorkloadObs,
};

/// Who starts an orphan chain.
enum Start<'a> {
    Pod(Consumer<'a>),
    Ingress(&'a IngressObs),
}

/// One chain per consumer (per workload, bare pod or Ingress) of each synced Secret of each
/// SecretProviderClass for which `mounted(namespace, spc)` is false.
pub(super) fn chains(ix: &Index<'_>, mounted: impl Fn(&str, &str) -> bool) -> Vec<Chain> {
    let snap = ix.snap;
    let mut out = Vec::new();
    for spc in &snap.spcs.items {
        let ns = spc.namespace.as_str();
        // Pods not visible: whether anything mounts the SPC is unknown.
        if spc.secret_objects.is_empty()
            || snap.pods.unknown_in(ns).is_some()
            || mounted(ns, &spc.name)
        {
            continue;
        }
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
                    out.push(chain(ix, spc, so, Start::Pod(*c)));
                }
            }
            for ing in ix.ingress_tls.get(&key).into_iter().flatten() {
                out.push(chain(ix, spc, so, Start::Ingress(ing)));
            }
        }
    }
    out
}

/// Pod templates of workloads none of whose pods exist (ServiceAccount missing, admission
/// denied: FailedCreate): with no pod, the template is what there is to diagnose.
pub(super) fn uncreated<'a>(ix: &Index<'a>) -> Vec<&'a PodObs> {
    let snap = ix.snap;
    let mut templates: Vec<(&WorkloadObs, &'a PodObs)> = snap
        .workloads
        .items
        .iter()
        .filter(|w| w.replicas != Some(0) && snap.pods.unknown_in(&w.namespace).is_none())
        .filter_map(|w| Some((w, w.template.as_deref()?)))
        .collect();
    if templates.is_empty() {
        return Vec::new();
    }
    let mut has_pods: HashMap<(&str, &str, &str), ()> = HashMap::default();
    for p in &snap.pods.items {
        if let Some((kind, name)) = ix.workload_of(p) {
            has_pods.insert((&p.namespace, kind, name), ());
        }
    }
    templates.retain(|(w, _)| !has_pods.contains_key(&(&w.namespace, &w.kind, &w.name)));
    templates.into_iter().map(|(_, t)| t).collect()
}

fn owner_of(ix: &Index<'_>, pod: &PodObs) -> String {
    match ix.workload_of(pod) {
        Some((k, n)) => format!("{k}/{n}"),
        None => format!("Pod/{}", pod.name),
    }
}

fn chain(ix: &Index<'_>, spc: &SpcObs, so: &SecretObjectSpec, start: Start<'_>) -> Chain {
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
        mode: AuthMode::Unknown,
        identity: None,
        vault: None,
    };
    let mut links = LinkKind::ALL.map(Link::new);
    let nothing = format!("no pod mounts SecretProviderClass {}", spc.name);
    for link in &mut links[..LinkKind::Sync.index()] {
        rules::set(link, Status::Pending, "no mount");
    }
    links[LinkKind::Pod.index()]
        .facts
        .push(Fact::new("mounted by", nothing.clone()));
    let secret = &so.secret_name;
    let present = match ix.snap.secrets.unknown_in(ns) {
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
    let consumers = &mut links[LinkKind::Consumers.index()];
    match (&start, present) {
        (_, Some(false)) => consumers.findings.push(cx.remedied(
            Code::KVC904,
            who.clone(),
            format!(
                "{who} uses Secret {secret} ({how}), which does not exist: only a pod that mounts SecretProviderClass {} makes the driver create it, and none does (a deleted workload's synced Secret is garbage-collected with it)",
                spc.name
            ),
            vec![format!("{who}: {how}"), format!("Secret {secret} not found"), nothing],
        )),
        (Start::Pod(c), _) => {
            let exists = present.unwrap_or(false);
            rules::consumers::not_mounted(&cx, consumers, secret, c.pod, &c.how, Some(exists))
        }
        (Start::Ingress(_), _) => {
            rules::set(consumers, Status::Ok, "Ingress");
            links[LinkKind::Sync.index()].findings.push(cx.remedied(
                Code::KVC803,
                format!("Secret/{secret}"),
                format!(
                    "synced Secret {secret} is served by {who} but no pod mounts SecretProviderClass {}: it lives only as long as its owners do and is not re-created",
                    spc.name
                ),
                vec![format!("{who}: {how}"), nothing],
            ));
        }
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
