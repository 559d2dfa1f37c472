//! SecretProviderClasses that no chain mounts, checked on their own as the Azure provider and
//! the driver would check them (FACTS §2, §5): a mistake in an SPC is a mistake whether or not
//! the pods that will mount it are among the inputs.
//!
//! The same rule functions as in a chain run, on a context with no pod: only the checks that
//! read nothing but the SPC (parameters, objects, secretObjects) are called.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use super::catalog::Code;
use super::context::{AuthMode, Ctx};
use super::index::{DRIVER, Index, SPC_ATTRIBUTE};
use super::model::{Chain, Finding, Link, LinkKind, Status};
use super::rules;
use super::rules::mount::claim_replaced;
use crate::snapshot::{PodObs, Snapshot, SpcObs, VolumeObs, VolumeSourceObs};

/// The verdict on one SecretProviderClass that belongs to no chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SpcVerdict {
    pub namespace: String,
    pub name: String,
    pub vault: Option<String>,
    /// Worst finding as a link status (`ok` when there is none).
    pub status: Status,
    /// Worst first.
    pub findings: Vec<Finding>,
    /// Why the pods of its namespace could not be read, if they could not: the unread pods may
    /// mount it, so it is not known to be mounted by no pod (audit SS2: unknown is not absent).
    /// With `check -f`, an unread document that may define pods there counts alike (XX1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pods_unread: Option<String>,
    /// Mounted by other workloads' pods (their chains check it), listed for what a StatefulSet
    /// that means to mount it too cannot: its claim template replaces the volume (KVC710).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mounted_by_others: bool,
}

impl SpcVerdict {
    fn of(
        spc: &SpcObs,
        status: Status,
        findings: Vec<Finding>,
        pods_unread: Option<String>,
        mounted_by_others: bool,
    ) -> SpcVerdict {
        SpcVerdict {
            namespace: spc.namespace.to_string(),
            name: spc.name.to_string(),
            vault: (spc.parsed.keyvault_name.as_deref())
                .map(|k| crate::shown::shown(k).into_owned()),
            status,
            findings,
            pods_unread,
            mounted_by_others,
        }
    }

    /// How the report names where it stands: "mounted by no pod" only when the pods were read.
    /// Its status as the outputs show it: `suppressed` when only suppressed findings make
    /// it warn or fail ([`super::model::shown`]).
    pub fn shown_status(&self) -> Status {
        super::model::shown(self.status, &self.findings)
    }

    pub fn unmounted_label(&self) -> &'static str {
        match self.pods_unread {
            _ if self.mounted_by_others => "mounted by other pods, not by a StatefulSet meant to",
            None => "mounted by no pod",
            Some(_) => "not known to be mounted: pods unread",
        }
    }
}

/// Every Azure SecretProviderClass of the snapshot that no chain mounts, with what is wrong
/// with it on its own.
pub fn unmounted_spcs<C: std::borrow::Borrow<Chain>>(
    snapshot: &Snapshot,
    chains: &[C],
) -> Vec<SpcVerdict> {
    // A consumer's chain of a Secret nobody mounts (no volume) names the SPC but does not
    // check it: the SPC is still checked on its own.
    let used: HashSet<(&str, &str)> = chains
        .iter()
        .map(|c| c.borrow())
        .filter(|c| !c.volume.is_empty())
        .map(|c| (c.namespace.as_str(), c.spc.as_str()))
        .collect();
    let lonely: Vec<&SpcObs> = snapshot
        .spcs
        .items
        .iter()
        // Other providers' parameters are not the Azure provider's to judge; a provider name
        // meant for Azure is judged, with the name's own error (`rules::provider`).
        .filter(|s| rules::provider::of(s) != rules::provider::Provider::Other)
        .filter(|s| !used.contains(&(s.namespace.as_str(), s.name.as_str())))
        .collect();
    // The StatefulSets whose claim templates replace a CSI volume (rare; one pass over the
    // workloads): an SPC other pods mount is listed for such a set's volume alone, as its
    // pods have no chain of it and the mounting chains are not theirs (audit XC-left).
    let replaced = rules::mount::claim_replaced::replaced(snapshot);
    let claimed: Vec<&SpcObs> = match replaced.is_empty() {
        true => Vec::new(),
        false => (snapshot.spcs.items.iter())
            .filter(|s| rules::provider::of(s) != rules::provider::Provider::Other)
            .filter(|s| used.contains(&(s.namespace.as_str(), s.name.as_str())))
            .filter(|s| replaced.contains_key(&(s.namespace.as_str(), s.name.as_str())))
            .collect(),
    };
    if lonely.is_empty() && claimed.is_empty() {
        return Vec::new(); // the usual case on a cluster: no index to build
    }
    let ix = Index::build(snapshot);
    (lonely.into_iter())
        .map(|spc| verdict(&ix, spc, &replaced, false))
        .chain(
            claimed
                .into_iter()
                .map(|spc| verdict(&ix, spc, &replaced, true)),
        )
        .collect()
}

/// `mounted`: other pods mount `spc` (their chains check it): only KVC710 is said.
fn verdict(
    ix: &Index<'_>,
    spc: &SpcObs,
    replaced: &claim_replaced::Replaced<'_>,
    mounted: bool,
) -> SpcVerdict {
    // No pod: the rules called below read only the namespace from it.
    let pod = PodObs {
        namespace: spc.namespace.as_str().into(),
        ..PodObs::default()
    };
    let volume = VolumeObs {
        name: Default::default(),
        source: VolumeSourceObs::Other,
    };
    let attributes = BTreeMap::new();
    let maybe_mounting = secret_of_unrendered_mounts(ix, &spc.namespace);
    let mut cx = Ctx {
        ix,
        detail: false,
        pod: &pod,
        volume: &volume,
        driver: DRIVER,
        read_only: Some(true),
        attributes: &attributes,
        node_publish_secret: maybe_mounting,
        spc_name: &spc.name,
        spc_key_typo: None,
        spc: Some(spc),
        params: Some(Cow::Borrowed(&spc.parsed)),
        workload: None,
        workload_object: None,
        template: true,
        status: None,
        events: Vec::new(),
        side: None,
        sync_causes: Vec::new(),
        mode: AuthMode::Unknown,
        identity: None,
        vault: None,
    };
    if mounted {
        let mut findings = claim_replaced::check(&cx, spc, replaced, true);
        findings.iter_mut().for_each(Finding::show_safely);
        let status = findings.first().map_or(Status::Ok, |f| f.severity.status());
        return SpcVerdict::of(spc, status, findings, None, true);
    }
    let mut identity = Link::new(LinkKind::Identity);
    let pods = match maybe_mounting {
        Some(_) => rules::identity::Pods::Mounting,
        None if unrendered_mounts(ix, &spc.namespace) => rules::identity::Pods::MaybeMounting,
        None => rules::identity::Pods::NoneSeen,
    };
    let mut pod_link = Link::new(LinkKind::Pod);
    rules::provider::check(&cx, &mut pod_link);
    rules::identity::parameters(&mut cx, &mut identity, pods);
    // Which identity reads the vault is the SPC's to say, pod or no pod.
    rules::identity::node_identity(&cx, &mut identity);
    // Whether any account of its namespace can use that identity (audit HHH5).
    let mut federation = Link::new(LinkKind::Federation);
    // Its tenantID against its identity's and its vault's tenants (audit XD-tenant).
    federation.findings = rules::lone_federation::tenants(&cx).into();
    federation
        .findings
        .extend(rules::lone_federation::check(&cx));
    let mut mount = Link::new(LinkKind::Mount);
    rules::mount::objects(&cx, &spc.parsed, &mut mount);
    // Why no pod mounts it, where a StatefulSet's claim template took its volume's place.
    mount
        .findings
        .extend(claim_replaced::check(&cx, spc, replaced, false));
    let mut sync = Link::new(LinkKind::Sync);
    let _ = rules::sync::statics(&cx, spc, &mut sync);
    // A pods gap, or (`check -f`) an unread document that may define its pods (XX1).
    let pods_unread = (ix.snap.pods.unknown_in(&spc.namespace))
        .or_else(|| ix.snap.source.unread_pods_in(Some(&spc.namespace)));
    // With its pods unread the SPC may well be mounted, and an object the vault is known not
    // to hold (KVC601: the look-up answered 404, or found it under another type) fails every
    // mount of it whichever pod makes it: that much is known and said (audit DDD10, HHH). The
    // rest of the object's link (the version a pod holds, what it lags) stays a mounting
    // pod's chain's. With the pods read and none mounting it, nothing is fetched: no finding.
    let mut objects = Link::new(LinkKind::VaultObject);
    if pods_unread.is_some() {
        let _ = rules::vault_object::check(&mut cx, &mut objects);
        objects.findings.retain(|f| f.code == Code::KVC601);
    }
    let mut findings: Vec<Finding> = [pod_link, identity, federation, mount, sync, objects]
        .into_iter()
        .flat_map(|l| l.findings)
        .map(|mut f| {
            f.show_safely();
            f
        })
        .collect();
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.code.cmp(&b.code)));
    // Checked on its own, the SPC's fields are all that is judged: its identity, grant and
    // objects are a mounting pod's chain's. Where pods could not be read, that chain may be
    // among them: nothing wrong found is not "fine" (audit DDD10), nor is a note about it,
    // which says nothing wrong either (an info, such as KVC303's node identity: audit LLL3).
    let status = match findings.first().map(|f| f.severity.status()) {
        Some(Status::Ok) | None if pods_unread.is_some() => Status::Unknown,
        Some(status) => status,
        None => Status::Ok,
    };
    SpcVerdict::of(
        spc,
        status,
        findings,
        pods_unread.map(str::to_string),
        false,
    )
}

/// Whether a pod volume of `ns` names an unrendered SecretProviderClass (`${SPC}`).
fn unrendered_mounts(ix: &Index<'_>, ns: &str) -> bool {
    ix.referenced_spcs(ns).any(rules::params::is_placeholder)
}

/// The nodePublishSecretRef that the pod volumes of `ns` naming an unrendered
/// SecretProviderClass (`${SPC}`) all carry: once rendered they may well mount this one
/// (KVC101 says so on the pod), and with that credential service-principal mode is meant.
/// `None` when there is no such volume, or one of them carries no ref.
fn secret_of_unrendered_mounts<'a>(ix: &Index<'a>, ns: &str) -> Option<&'a str> {
    let mut secret = None;
    // The index's pods per SPC name (a scan of every pod per SPC made a report of many
    // unmounted SPCs quadratic), taken in pod order as the volumes were read before.
    let mut at: Vec<u32> = (ix.referenced_spcs(ns))
        .filter(|s| rules::params::is_placeholder(s))
        .flat_map(|s| ix.mounting_positions(ns, s).iter().copied())
        .collect();
    at.sort_unstable();
    at.dedup();
    let pods = at
        .into_iter()
        .filter_map(|i| ix.snap.pods.items.get(i as usize));
    for pod in pods {
        for v in &pod.volumes {
            let VolumeSourceObs::Csi {
                attributes,
                node_publish_secret,
                ..
            } = &v.source
            else {
                continue;
            };
            if !attributes
                .get(SPC_ATTRIBUTE)
                .is_some_and(|s| rules::params::is_placeholder(s))
            {
                continue;
            }
            secret = Some(node_publish_secret.as_deref()?);
        }
    }
    secret
}
