//! What the chains of one pass share. Replicas of a workload mount the same
//! SecretProviderClass with the same service account, so the verdicts and lookups that do not
//! depend on the pod itself are worked out for the first replica and reused by the others (a
//! 10,000-pod world has some 2,000 such groups). A shared piece must equal what the pod's own
//! run would give: the incremental engine diagnoses one pod at a time with nothing to share,
//! and `tests/it/engine_props.rs` checks that it agrees with a full pass.

use std::borrow::Cow;
use std::rc::Rc;
use std::sync::Arc;

use super::catalog::Code;
use super::context::{AuthMode, Ctx};
use super::events;
use super::index::{HashMap, HashSet, Readers, Workload};
use super::model::*;
use super::rules;
use crate::snapshot::*;

/// Per pass (per thread of it): the groups and SecretProviderClass sides seen so far.
#[derive(Default)]
pub(super) struct Shared<'a> {
    groups: HashMap<GroupKey<'a>, Box<Group<'a>>>,
    spcs: HashMap<*const SpcObs, Rc<SpcSide<'a>>>,
    /// The last pod's controller owner (namespace, kind, name) and its top-level workload.
    owner: Option<LastOwner<'a>>,
    /// Event (reason, message) → its code.
    classified: HashMap<(&'a str, &'a str), Option<Code>>,
    /// The findings' texts made so far, each held once ([`Shared::share_texts`]).
    pub texts: Texts,
}

/// Texts of findings, each held once: see [`Shared::share_texts`]. The incremental engine
/// diagnoses one pod at a time and carries one across a namespace's pods.
#[derive(Default)]
pub(crate) struct Texts(HashSet<SharedText>);

type LastOwner<'a> = ((&'a str, &'a str, &'a str), Workload<'a>);

impl<'a> Shared<'a> {
    /// The pod's top-level workload ([`super::index::Index::workload_of`]) and its object. It
    /// depends only on the pod's namespace and controller owner, which replicas share and which
    /// come one after another: the owner walk (two lookups of three-name keys) and the lookup
    /// of the object run once per run of replicas.
    pub fn workload_of(&mut self, ix: &super::index::Index<'a>, pod: &'a PodObs) -> Workload<'a> {
        let owner = pod
            .owners
            .iter()
            .find(|o| o.controller)
            .or(pod.owners.first());
        let (Some(owner), None) = (owner, &pod.template_of) else {
            return ix.workload_with_object(pod);
        };
        let key = (
            pod.namespace.as_str(),
            owner.kind.as_str(),
            owner.name.as_str(),
        );
        if let Some((last, workload)) = self.owner
            && last == key
        {
            return workload;
        }
        let workload = ix.workload_with_object(pod);
        self.owner = Some((key, workload));
        workload
    }

    /// Each text of `chain`'s findings that an earlier chain of this run holds too becomes
    /// that chain's copy. The pod's own links make their findings per pod, and a cluster-wide
    /// cause says the same on every chain (a provider that is not running: ~1 KB of message,
    /// confirm and fix on each of 3,334 chains, 3.5 MB of a 10,000-pod check's peak, held
    /// once per namespace now). Only texts this chain alone holds are looked up: a group's
    /// links are copies already, and a literal is static.
    pub fn share_texts(&mut self, chain: &mut Chain) {
        let mut share = |t: &mut SharedText| {
            if SharedText::strong_count(t) != Some(1) {
                return;
            }
            match self.texts.0.get(t.as_str()) {
                Some(have) => *t = have.clone(),
                None => {
                    self.texts.0.insert(t.clone());
                }
            }
        };
        for f in chain.links.iter_mut().flat_map(|l| l.findings.iter_mut()) {
            share(&mut f.namespace);
            share(&mut f.resource);
            share(&mut f.message);
            share(&mut f.confirm);
            share(&mut f.fix);
            f.evidence.iter_mut().for_each(&mut share);
        }
    }

    /// [`events::classify_event`] once per distinct (reason, message): replicas failing the
    /// same way log the same message, and classifying one scans it for some sixty phrases.
    pub fn classify(&mut self, e: &'a EventObs) -> Option<Code> {
        *self
            .classified
            .entry((&e.reason, &e.message))
            .or_insert_with(|| events::classify_event(&e.reason, &e.message))
    }

    /// The side of the chain's SecretProviderClass, built on its first chain. A pod that
    /// overrides SPC parameters in its volume has its own parse: nothing to share.
    pub fn spc_side(&mut self, cx: &Ctx<'a>) -> Option<Rc<SpcSide<'a>>> {
        let (Some(spc), Some(Cow::Borrowed(_))) = (cx.spc, &cx.params) else {
            return None;
        };
        let side = self
            .spcs
            .entry(std::ptr::from_ref(spc))
            .or_insert_with(|| Rc::new(SpcSide::of(cx, spc)));
        Some(side.clone())
    }
}

/// What the chains of one SecretProviderClass (its own parameters, no pod override) share:
/// the findings about the SPC itself and the objects its links look up by name.
pub(crate) struct SpcSide<'a> {
    /// The mount link's findings about the objects list and the driver's rotation setting.
    pub mount: ThinVec<Finding>,
    /// The sync link's findings about `secretObjects` ([`rules::sync::statics`]), as the
    /// first findings of the link, and the causes it returned.
    pub sync: ThinVec<Finding>,
    pub sync_causes: Vec<Option<usize>>,
    /// Per `secretObjects` entry: the synced Secret, if observed.
    pub secrets: Vec<Option<&'a SecretObs>>,
    /// Per `secretObjects` entry: the pods consuming its Secret and which of them do not
    /// mount the SPC ([`super::index::Index::consumers_not_mounting`]).
    pub consumers: Vec<Option<Readers<'a>>>,
    /// Per parameters object: the vault's object, if observed.
    pub vault_objects: Vec<Option<&'a VaultObjectObs>>,
    /// Per `secretObjects` entry: the keys its Secret gets, when they can be judged
    /// ([`rules::consumers::keys::produced_keys`]).
    pub keys: Vec<Option<Vec<&'a str>>>,
    /// Per `secretObjects` entry: its Secret's writers ([`rules::sync::shape::writers_of`]).
    pub writers: Vec<Option<(bool, bool)>>,
    /// The synced Secrets Reloader would not restart a workload for, by the workload's own and
    /// template annotations and the Secrets its pod reads through env
    /// (`consumers::restarts::reloader_missed`): a decision its replicas share.
    pub reloader_missed: std::cell::RefCell<Vec<ReloaderMissed>>,
}

/// One remembered [`SpcSide::reloader_missed`] decision: the addresses of the own and
/// template annotations and of the env-read Secrets' names, and which of those Secrets (bit
/// `i` for the `i`th) nothing restarts for. Addresses, not the texts, so that a side holds
/// no borrow of its own (the names live in the SPC, the maps in the snapshot, for the pass).
pub(crate) type ReloaderMissed = ((usize, usize, Box<[(usize, usize)]>), u64);

impl<'a> SpcSide<'a> {
    fn of(cx: &Ctx<'a>, spc: &'a SpcObs) -> Self {
        let ix = cx.ix;
        let ns = cx.ns();
        let mut sync = Link::new(LinkKind::Sync);
        let sync_causes = rules::sync::statics(cx, spc, &mut sync);
        let params = cx.params.as_deref();
        let vault = params
            .and_then(|p| p.keyvault_name.as_deref())
            .unwrap_or_default();
        SpcSide {
            mount: rules::mount::statics(cx),
            sync: sync.findings,
            sync_causes,
            secrets: spc
                .secret_objects
                .iter()
                .map(|so| ix.secrets.get(&(ns, so.secret_name.as_str())).copied())
                .collect(),
            consumers: spc
                .secret_objects
                .iter()
                .enumerate()
                .map(|(i, so)| {
                    let list = ix.secret_consumers.get(&(ns, so.secret_name.as_str()))?;
                    Some(Readers {
                        list,
                        unmounted: ix.consumers_not_mounting(spc, i, list),
                    })
                })
                .collect(),
            keys: (spc.secret_objects.iter())
                .map(|so| rules::consumers::keys::produced_keys(ix, ns, &so.secret_name))
                .collect(),
            vault_objects: params.map_or_else(Vec::new, |p| {
                p.objects
                    .iter()
                    .map(|o| ix.object(vault, o.object_type?, &o.object_name))
                    .collect()
            }),
            writers: (spc.secret_objects.iter())
                .map(|so| rules::sync::shape::writers_of(ix, ns, &so.secret_name))
                .collect(),
            reloader_missed: Default::default(),
        }
    }
}

impl<'a> Ctx<'a> {
    /// The synced Secret of `secretObjects[i]` of the chain's SPC, if observed.
    pub fn synced_secret(&self, i: usize) -> Option<&'a SecretObs> {
        if let Some(side) = &self.side {
            return side.secrets[i];
        }
        let so = &self.spc?.secret_objects[i];
        self.ix
            .secrets
            .get(&(self.ns(), so.secret_name.as_str()))
            .copied()
    }

    /// The consumers of the Secret of `secretObjects[i]`, and which do not mount the SPC.
    pub fn consumers_of(&self, i: usize) -> Option<Readers<'a>> {
        if let Some(side) = &self.side {
            return side.consumers[i].clone();
        }
        let spc = self.spc?;
        let so = &spc.secret_objects[i];
        let list = self
            .ix
            .secret_consumers
            .get(&(self.ns(), so.secret_name.as_str()))?;
        Some(Readers {
            list,
            unmounted: self.ix.consumers_not_mounting(spc, i, list),
        })
    }

    /// The keys the Secret of `secretObjects[i]` (named `secret`) gets, when they can be
    /// judged: the side's, worked out once per SPC, or the pod's own.
    pub fn judged_keys(&self, i: usize, secret: &str) -> Option<Cow<'_, [&'a str]>> {
        match &self.side {
            Some(side) => side.keys[i].as_deref().map(Cow::Borrowed),
            None => {
                rules::consumers::keys::produced_keys(self.ix, self.ns(), secret).map(Cow::Owned)
            }
        }
    }

    /// The vault's object for parameters object `i` (in vault `vault`, of type `t`).
    pub fn vault_object(
        &self,
        i: usize,
        vault: &str,
        t: ObjectType,
        name: &str,
    ) -> Option<&'a VaultObjectObs> {
        match &self.side {
            Some(side) => side.vault_objects[i],
            None => self.ix.object(vault, t, name),
        }
    }
}

/// The links whose outcome does not depend on the pod itself (see [`GroupKey`]).
const GROUP_LINKS: [LinkKind; 4] = [
    LinkKind::Identity,
    LinkKind::Federation,
    LinkKind::Access,
    LinkKind::VaultObject,
];

/// What the identity, federation, access and vault-object links read: the SecretProviderClass
/// (its own parameters, no pod override), the service account (the federated subject), the
/// nodePublishSecretRef, whether the pod has it mounted (links it proves) and whether the
/// pod's own events hold Key Vault refusing its token (the one event those links read:
/// [`rules::federation::vault_refused_issuer`]; a replica without it was given KVC406 from
/// another pod's event, where its own run says KVC404). Replicas share all four, so a
/// 10,000-pod world runs those rules once per group, not once per pod.
type GroupKey<'a> = (*const SpcObs, &'a str, Option<&'a str>, bool, bool);

/// The group links as computed for the first pod of a group, and what they fill in for later
/// links. Objects carry no mounted versions: each pod fills in its own.
struct Group<'a> {
    mode: AuthMode,
    identity: Option<&'a ManagedIdentityObs>,
    vault: Option<&'a VaultObs>,
    links: [Link; 4],
    /// The first pod's objects, its mounted versions with them.
    objects: Arc<[ChainObject]>,
}

/// Run the identity, federation, access and vault-object rules, or reuse their outcome for
/// the pod's group (same SPC parameters, service account and mount state).
pub(super) fn group_links<'a>(
    cx: &mut Ctx<'a>,
    shared: &mut Shared<'a>,
    links: &mut [Link],
) -> Arc<[ChainObject]> {
    let key = match (cx.spc, &cx.params) {
        // A pod overriding parameters has its own parse: nothing to share. Nor does a retired
        // pod: a credential gone since is history for it when its owner makes no pod needing
        // it (`rules::gone_for_retired`, audit II3), which its replicas' outcome does not say.
        _ if cx.retired() => None,
        (Some(spc), Some(Cow::Borrowed(_))) => Some((
            std::ptr::from_ref(spc),
            cx.pod.service_account.as_str(),
            cx.node_publish_secret,
            cx.mounted(),
            rules::federation::vault_refused_issuer(cx),
        )),
        _ => None,
    };
    if let Some(g) = key.and_then(|k| shared.groups.get(&k)) {
        cx.mode = g.mode.clone();
        cx.identity = g.identity;
        cx.vault = g.vault;
        for (kind, link) in GROUP_LINKS.iter().zip(&g.links) {
            links[kind.index()].clone_from(link);
        }
        // Replicas mostly mount the same versions: then the objects are the group's.
        if rules::vault_object::mounts_versions_of(cx, &g.objects) {
            return g.objects.clone();
        }
        let mut objects = g.objects.to_vec();
        rules::vault_object::set_mounted_versions(cx, &mut objects);
        return objects.into();
    }
    rules::identity::check(cx, &mut links[LinkKind::Identity.index()]);
    rules::federation::check(cx, &mut links[LinkKind::Federation.index()]);
    rules::access::check(cx, &mut links[LinkKind::Access.index()]);
    let objects = rules::vault_object::check(cx, &mut links[LinkKind::VaultObject.index()]);
    // Empty: a static shared list, no allocation.
    let objects: Arc<[ChainObject]> = if objects.is_empty() {
        Arc::default()
    } else {
        objects.into()
    };
    if let Some(k) = key {
        let group = Group {
            mode: cx.mode.clone(),
            identity: cx.identity,
            vault: cx.vault,
            links: GROUP_LINKS.map(|kind| links[kind.index()].clone()),
            objects: objects.clone(),
        };
        // Boxed: the map grows by moving entries, and a group holds four links.
        shared.groups.insert(k, Box::new(group));
    }
    objects
}

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;

    use crate::chain::catalog::Code;
    use crate::chain::diagnose;
    use crate::chain::model::{Chain, LinkKind, SharedText};
    use crate::chain::testkit::*;
    use crate::snapshot::*;

    fn codes(c: &Chain, link: LinkKind, code: Code) -> Vec<&str> {
        c.link(link)
            .findings
            .iter()
            .filter(|f| f.code == code)
            .map(|f| f.message.as_str())
            .collect()
    }

    /// A cluster-wide cause (the Azure provider not running, KVC104 on the Pod link, which
    /// runs per pod) says the same on every chain of a namespace: its texts are held once,
    /// and each chain still reads exactly what it would diagnosed alone.
    #[test]
    fn chains_saying_the_same_hold_one_copy_of_the_text() {
        let mut s = empty();
        add_app(&mut s, NS, APP, 3);
        add_app(&mut s, NS, "api", 2);
        if let Observed::Known(csi) = &mut s.cluster.csi_driver {
            csi.azure_provider = Observed::Known(false);
        }
        let chains = diagnose(&s);
        assert_eq!(chains.len(), 5);
        let kvc104: Vec<&crate::chain::model::Finding> = chains
            .iter()
            .map(|c| {
                let found = c.link(LinkKind::Pod).findings.iter();
                let mut found = found.filter(|f| f.code == Code::KVC104);
                found.next().expect("KVC104 on every chain")
            })
            .collect();
        let first = kvc104[0];
        assert!(
            first.message.contains("Azure provider"),
            "{}",
            first.message
        );
        for f in &kvc104[1..] {
            for (text, of_first) in [
                (&f.message, &first.message),
                (&f.fix, &first.fix),
                (&f.confirm, &first.confirm),
                (&f.resource, &first.resource),
            ] {
                assert_eq!(text, of_first);
                assert!(SharedText::ptr_eq(text, of_first), "one copy of {text}");
            }
        }
        // Texts that differ stay each chain's own: every chain's id names its pod.
        let ids: std::collections::BTreeSet<&str> = chains.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids.len(), 5);
        assert_each_chain_as_alone(&s, &chains);
        // The incremental engine diagnoses a pod at a time, and holds the text once too.
        let engine = crate::chain::engine::Engine::new(s);
        let fixes: Vec<&SharedText> = (engine.chains())
            .flat_map(|c| c.link(LinkKind::Pod).findings.iter())
            .filter(|f| f.code == Code::KVC104)
            .map(|f| &f.fix)
            .collect();
        assert_eq!(fixes.len(), 5);
        let one = fixes[0];
        assert!(fixes.iter().all(|m| SharedText::ptr_eq(m, one)));
    }

    #[test]
    fn replicas_share_the_spc_verdict_but_keep_their_own_findings() {
        let mut s = empty();
        add_app(&mut s, NS, APP, 3);
        // The SPC syncs a key from a file it does not mount (KVC801, whoever mounts it).
        for spc in &mut s.spcs.items {
            spc.secret_objects[0].data.push(SecretObjectData {
                object_name: "passwd".into(),
                key: "alt".into(),
            });
        }
        // The synced Secret changed half an hour ago: only replica 1 started before that and
        // reads it through env (KVC901 is about its container alone).
        for secret in &mut s.secrets.items {
            secret.updated_at = Some(ago(SignedDuration::from_mins(30)));
        }
        let (p1, p2) = (pod_name(APP, 1), pod_name(APP, 2));
        for pod in &mut s.pods.items {
            if pod.name != p1 {
                pod.containers[0].state = ContainerStateObs::Running {
                    started_at: ago(SignedDuration::from_mins(10)),
                };
            }
            // Replica 2 overrides the objects in its volume (the driver merges volumeAttributes
            // over the SPC's parameters): its file is `passwd`, so `password` is the key no
            // file feeds there.
            if pod.name == p2
                && let VolumeSourceObs::Csi { attributes, .. } = &mut pod.volumes[0].source
            {
                let objects = objects_yaml(&[&[
                    ("objectName", &object_name(APP)),
                    ("objectType", "secret"),
                    ("objectAlias", "passwd"),
                ]]);
                attributes.insert("objects".into(), objects);
            }
        }
        let chains = diagnose(&s);
        assert_eq!(chains.len(), 3);
        let chain = |pod: &str| chains.iter().find(|c| c.pod == pod).expect("a chain");
        for pod in [pod_name(APP, 0), p1.clone()] {
            let sync = codes(chain(&pod), LinkKind::Sync, Code::KVC801);
            assert_eq!(sync.len(), 1, "{pod}: {sync:?}");
            assert!(sync[0].contains("key alt:"), "{pod}: {sync:?}");
        }
        let own = codes(chain(&p2), LinkKind::Sync, Code::KVC801);
        assert_eq!(own.len(), 1, "{own:?}");
        assert!(own[0].contains("key password:"), "{own:?}");
        for c in &chains {
            let stale = codes(c, LinkKind::Consumers, Code::KVC901);
            assert_eq!(
                stale.len(),
                usize::from(c.pod == p1),
                "{}: {stale:?}",
                c.pod
            );
        }
        assert_each_chain_as_alone(&s, &chains);
    }
}
