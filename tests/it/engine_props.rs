//! The incremental engine agrees with a full diagnosis: after any sequence of object changes,
//! `Engine::chains()` equals `diagnose(engine.snapshot())`, chain for chain and in the same
//! order within each namespace. Worlds: the lab's default and gc-tls scenarios (every class of
//! fault, several namespaces), a generated world with shared SPCs, consumers and events, and
//! one of failures that reach many chains at once (a rollout after a rotation, a tls Secret
//! from a cert, a CSIDriver without the audiences of two namespaces' identity modes).
//! The case count is bounded so `cargo test` stays fast; raise PROPTEST_CASES to search longer.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use jiff::SignedDuration;
use kvchain::chain::Code;
use kvchain::chain::engine::{Change, Engine, Object};
use kvchain::chain::{Chain, diagnose, testkit};
use kvchain::snapshot::*;
use proptest::prelude::*;

pub(crate) fn worlds() -> &'static [Snapshot] {
    static WORLDS: OnceLock<Vec<Snapshot>> = OnceLock::new();
    WORLDS.get_or_init(|| {
        let lab = |name| kvchain::source::lab::run_check(name, None).expect("built-in scenario");
        let mut generated = testkit::generated_snapshot(36, 9);
        // A consumer that does not mount the SPC whose Secret it reads (KVC903), and an
        // Ingress serving a synced Secret: the cross-pod joins the engine must follow.
        let mut reader = generated.pods.items[0].clone();
        reader.name = "reader".into();
        reader.owners.clear();
        reader.volumes.clear();
        generated.pods.items.push(reader);
        // A pod mounting one SPC through two volumes: two chains whose ids clash.
        let mut twice = generated.pods.items[1].clone();
        twice.name = "twice".into();
        let mut second = twice.volumes[0].clone();
        second.name = "again".into();
        twice.volumes.push(second);
        generated.pods.items.push(twice);
        assert!(
            diagnose(&generated).iter().any(|c| c.id.contains('#')),
            "the generated world has clashing ids"
        );
        vec![lab("default"), lab("gc-tls"), generated, mass_failures()]
    })
}

/// The failures that reach many chains at once, whose findings read beyond their own pod:
/// Reloader rolling four Deployments out after a rotation (KVC901 asks for each rollout), an
/// SPC syncing a tls Secret from a cert object (KVC804 names the file's readers) and a
/// CSIDriver without tokenRequests while one SPC reads identity binding's audience (KVC105
/// names every namespace's audiences).
fn mass_failures() -> Snapshot {
    let mut s = testkit::generated_snapshot(40, 10);
    testkit::rolling_out_after_rotation(&mut s, 4);
    for (i, spc) in s.spcs.items.iter_mut().enumerate() {
        if i == 5 {
            let app = spc.name.trim_end_matches("-kv").to_string();
            testkit::sync_tls_from(spc, &app, "cert");
        } else if i == 6 {
            spc.parameters
                .insert("useAzureTokenProxy".into(), "true".into());
            testkit::reparse(spc);
        }
    }
    if let Observed::Known(driver) = &mut s.cluster.csi_driver {
        driver.token_audiences = Observed::Known(Vec::new());
    }
    let chains = diagnose(&s);
    let said = |code: Code, text: &str| {
        (chains.iter().flat_map(|c| c.findings()))
            .any(|f| f.code == code && (f.message.contains(text) || f.fix.contains(text)))
    };
    assert!(
        said(Code::KVC901, "is replacing this pod"),
        "a rollout in progress"
    );
    assert!(
        said(Code::KVC804, "objectType cert"),
        "a tls Secret from a cert"
    );
    assert!(
        said(Code::KVC105, "api://AKSIdentityBinding"),
        "both audiences"
    );
    s
}

/// One edit, resolved against the engine's current objects (indices wrap around).
#[derive(Clone, Debug)]
pub(crate) enum Edit {
    DeletePod(usize),
    CopyPod(usize),
    PodPhase(usize),
    PodServiceAccount(usize, usize),
    PodSpc(usize, usize),
    PodEnvSecret(usize, usize),
    DeleteSpc(usize),
    SpcSecretRenamed(usize),
    DeleteSecret(usize),
    StatusMounted(usize),
    DeleteStatus(usize),
    AddEvent(usize, usize),
    DeleteEvent(usize),
    DeleteSa(usize),
    SaClientId(usize),
    DeleteWorkload(usize),
    IngressTls(usize),
    Restore(usize),
    SpcClientId(usize),
    WorkloadScaledToZero(usize),
    FailedCreate(usize),
    PodVolumesDropped(usize),
    SecretEmptied(usize),
    SpcTokenProxy(usize),
    NewRevision(usize),
    Clock,
}

fn edit() -> impl Strategy<Value = Edit> {
    let i = || 0usize..64;
    prop_oneof![
        i().prop_map(Edit::DeletePod),
        i().prop_map(Edit::CopyPod),
        i().prop_map(Edit::PodPhase),
        (i(), i()).prop_map(|(a, b)| Edit::PodServiceAccount(a, b)),
        (i(), i()).prop_map(|(a, b)| Edit::PodSpc(a, b)),
        (i(), i()).prop_map(|(a, b)| Edit::PodEnvSecret(a, b)),
        i().prop_map(Edit::DeleteSpc),
        i().prop_map(Edit::SpcSecretRenamed),
        i().prop_map(Edit::DeleteSecret),
        i().prop_map(Edit::StatusMounted),
        i().prop_map(Edit::DeleteStatus),
        (i(), i()).prop_map(|(a, b)| Edit::AddEvent(a, b)),
        i().prop_map(Edit::DeleteEvent),
        i().prop_map(Edit::DeleteSa),
        i().prop_map(Edit::SaClientId),
        i().prop_map(Edit::DeleteWorkload),
        i().prop_map(Edit::IngressTls),
        i().prop_map(Edit::Restore),
        i().prop_map(Edit::SpcClientId),
        i().prop_map(Edit::WorkloadScaledToZero),
        i().prop_map(Edit::FailedCreate),
        i().prop_map(Edit::PodVolumesDropped),
        i().prop_map(Edit::SecretEmptied),
        i().prop_map(Edit::SpcTokenProxy),
        i().prop_map(Edit::NewRevision),
        Just(Edit::Clock),
    ]
}

fn pick<'a, T: 'a, I>(items: I, i: usize) -> Option<&'a T>
where
    I: IntoIterator<Item = &'a T>,
    I::IntoIter: ExactSizeIterator,
{
    let mut items = items.into_iter();
    let n = items.len();
    (n > 0).then(|| items.nth(i % n)).flatten()
}

const CAUSES: [&str; 3] = [
    "failed to get objectType:secret, objectName:x, objectVersion:: RESPONSE 403: 403 Forbidden\nERROR CODE: Forbidden ForbiddenByRbac",
    "AADSTS70021: No matching federated identity record found for presented assertion.",
    "failed to get objectType:secret, objectName:x, objectVersion:: RESPONSE 404: 404 Not Found\nERROR CODE: SecretNotFound",
];

/// The changes `edit` makes to `s` (the engine's objects), remembering deletions in `gone`.
pub(crate) fn changes(s: &Snapshot, edit: &Edit, gone: &mut Vec<Object>, n: usize) -> Vec<Change> {
    let up = |o| vec![Change::Upsert(o)];
    let mut del = |o: Object| {
        gone.push(o.clone());
        vec![Change::Delete(o)]
    };
    let pods = &s.pods.items;
    match *edit {
        Edit::DeletePod(i) => pick(pods, i).map_or_else(Vec::new, |p| del(Object::Pod(p.clone().into()))),
        Edit::CopyPod(i) => pick(pods, i).map_or_else(Vec::new, |p| {
            let mut p = p.clone();
            p.name = format!("{}-copy{n}", p.name).into();
            p.uid = format!("uid-copy{n}").into();
            up(Object::Pod(p.into()))
        }),
        // Running → Succeeded (a Job's pod finishing: its mount is history, its siblings' and
        // readers' chains say so) → Pending → Running.
        Edit::PodPhase(i) => pick(pods, i).map_or_else(Vec::new, |p| {
            let mut p = p.clone();
            p.phase = match p.phase.as_str() {
                "Running" => "Succeeded",
                "Succeeded" => "Pending",
                _ => "Running",
            }
            .into();
            if p.phase == "Succeeded" {
                for c in &mut p.containers {
                    c.state = ContainerStateObs::Terminated { reason: "Completed".into(), exit_code: 0 };
                }
            }
            p.deleting = !p.deleting;
            up(Object::Pod(p.into()))
        }),
        Edit::PodServiceAccount(i, j) => pick(pods, i).map_or_else(Vec::new, |p| {
            let mut p = p.clone();
            let sas: Vec<&ServiceAccountObs> = s
                .service_accounts
                .items
                .iter()
                .filter(|a| a.namespace == p.namespace)
                .collect();
            p.service_account = pick(&sas, j).map_or("missing-sa".into(), |a| a.name.as_str().into());
            up(Object::Pod(p.into()))
        }),
        Edit::PodSpc(i, j) => pick(pods, i).map_or_else(Vec::new, |p| {
            let mut p = p.clone();
            let spcs: Vec<&SpcObs> = s
                .spcs
                .items
                .iter()
                .filter(|x| x.namespace == p.namespace)
                .collect();
            let name = if j % 5 == 0 {
                "nosuch".to_string()
            } else {
                pick(&spcs, j).map_or("nosuch".to_string(), |x| x.name.to_string())
            };
            for v in &mut p.volumes {
                if let VolumeSourceObs::Csi { attributes, .. } = &mut v.source {
                    attributes.insert("secretProviderClass".into(), name.clone());
                }
            }
            up(Object::Pod(p.into()))
        }),
        Edit::PodEnvSecret(i, j) => pick(pods, i).map_or_else(Vec::new, |p| {
            let mut p = p.clone();
            let secrets: Vec<&str> = s
                .spcs
                .items
                .iter()
                .filter(|x| x.namespace == p.namespace)
                .flat_map(|x| x.secret_objects.iter().map(|so| so.secret_name.as_str()))
                .collect();
            let Some(secret) = pick(&secrets, j) else {
                return Vec::new();
            };
            if let Some(c) = p.containers.first_mut() {
                c.env_from_secrets.push((*secret).into());
            }
            up(Object::Pod(p.into()))
        }),
        Edit::DeleteSpc(i) => {
            pick(&s.spcs.items, i).map_or_else(Vec::new, |x| del(Object::Spc(x.clone().into())))
        }
        Edit::SpcSecretRenamed(i) => pick(&s.spcs.items, i).map_or_else(Vec::new, |x| {
            let mut x = x.clone();
            match x.secret_objects.first_mut() {
                Some(so) => so.secret_name = format!("renamed-{n}").into(),
                None => return Vec::new(),
            }
            up(Object::Spc(x.into()))
        }),
        Edit::DeleteSecret(i) => {
            pick(&s.secrets.items, i).map_or_else(Vec::new, |x| del(Object::Secret(x.clone().into())))
        }
        Edit::StatusMounted(i) => pick(&s.spc_statuses.items, i).map_or_else(Vec::new, |x| {
            let mut x = x.clone();
            x.mounted = !x.mounted;
            up(Object::SpcStatus(x.into()))
        }),
        Edit::DeleteStatus(i) => pick(&s.spc_statuses.items, i)
            .map_or_else(Vec::new, |x| del(Object::SpcStatus(x.clone().into()))),
        Edit::AddEvent(i, j) => pick(pods, i).map_or_else(Vec::new, |p| {
            let volume = p.volumes.first().map_or("v", |v| v.name.as_str());
            let mut e =
                testkit::failed_mount(&p.namespace, &p.name, volume, CAUSES[j % CAUSES.len()]);
            e.last_seen = Some(s.source.observed_at);
            up(Object::Event(e.into()))
        }),
        Edit::DeleteEvent(i) => {
            pick(&s.events.items, i).map_or_else(Vec::new, |x| del(Object::Event(x.clone().into())))
        }
        Edit::DeleteSa(i) => pick(&s.service_accounts.items, i)
            .map_or_else(Vec::new, |x| del(Object::ServiceAccount(x.clone().into()))),
        Edit::SaClientId(i) => pick(&s.service_accounts.items, i).map_or_else(Vec::new, |x| {
            let mut x = x.clone();
            if x.annotations
                .remove("azure.workload.identity/client-id")
                .is_none()
            {
                x.annotations.insert(
                    "azure.workload.identity/client-id".into(),
                    "00000000-0000-0000-0000-000000000000".into(),
                );
            }
            up(Object::ServiceAccount(x.into()))
        }),
        Edit::DeleteWorkload(i) => {
            pick(&s.workloads.items, i).map_or_else(Vec::new, |x| del(Object::Workload(x.clone().into())))
        }
        Edit::IngressTls(i) => pick(&s.secrets.items, i).map_or_else(Vec::new, |x| {
            up(Object::Ingress(Arc::new(IngressObs {
                namespace: x.namespace.clone(),
                name: format!("ing-{n}").into(),
                tls_secrets: vec![x.name.to_string()],
            })))
        }),
        Edit::Restore(i) => {
            if gone.is_empty() {
                return Vec::new();
            }
            let o = gone.remove(i % gone.len());
            up(o)
        }
        Edit::SpcClientId(i) => pick(&s.spcs.items, i).map_or_else(Vec::new, |x| {
            let mut x = x.clone();
            x.parameters.insert("clientID".into(), format!("11111111-0000-0000-0000-{n:012}"));
            testkit::reparse(&mut x);
            up(Object::Spc(x.into()))
        }),
        Edit::WorkloadScaledToZero(i) => pick(&s.workloads.items, i).map_or_else(Vec::new, |x| {
            let mut x = x.clone();
            x.replicas = Some(0);
            up(Object::Workload(x.into()))
        }),
        Edit::FailedCreate(i) => pick(&s.workloads.items, i).map_or_else(Vec::new, |w| {
            up(Object::Event(Arc::new(EventObs {
                namespace: w.namespace.clone(),
                involved_kind: w.kind.clone(),
                involved_name: w.name.clone(),
                involved_uid: String::new(),
                type_: "Warning".into(),
                reason: "FailedCreate".into(),
                message: format!("Error creating: pods \"{}-x\" is forbidden: error looking up service account {}/missing: serviceaccount \"missing\" not found", w.name, w.namespace),
                count: 1,
                source: "replicaset-controller".into(),
                last_seen: Some(s.source.observed_at),
                first_seen: None,
            })))
        }),
        Edit::PodVolumesDropped(i) => pick(pods, i).map_or_else(Vec::new, |p| {
            let mut p = p.clone();
            p.volumes.clear();
            up(Object::Pod(p.into()))
        }),
        Edit::SecretEmptied(i) => pick(&s.secrets.items, i).map_or_else(Vec::new, |x| {
            let mut x = x.clone();
            x.data.clear();
            up(Object::Secret(x.into()))
        }),
        // An SPC turning to identity binding, or back: the audiences every KVC105 names.
        Edit::SpcTokenProxy(i) => pick(&s.spcs.items, i).map_or_else(Vec::new, |x| {
            let mut x = x.clone();
            if x.parameters.remove("useAzureTokenProxy").is_none() {
                x.parameters.insert("useAzureTokenProxy".into(), "true".into());
            }
            testkit::reparse(&mut x);
            up(Object::Spc(x.into()))
        }),
        // A ReplicaSet two revisions on: its Deployment's newest, which replaces the others.
        Edit::NewRevision(i) => {
            let sets = s.workloads.items.iter().filter(|w| w.kind == "ReplicaSet");
            let w = sets.clone().nth(i % sets.count().max(1));
            w.map_or_else(Vec::new, |w| {
                let mut w = w.clone();
                let key = "deployment.kubernetes.io/revision";
                let now: u64 = w.annotations.get(key).and_then(|r| r.parse().ok()).unwrap_or(0);
                w.annotations.insert(key.into(), (now + 2).to_string());
                up(Object::Workload(w.into()))
            })
        }
        Edit::Clock => Vec::new(),
    }
}

/// Chains by namespace, in order: the engine keeps a full diagnosis's order within each.
fn by_namespace<'c>(chains: impl Iterator<Item = &'c Chain>) -> BTreeMap<String, Vec<&'c Chain>> {
    let mut out: BTreeMap<String, Vec<&Chain>> = BTreeMap::new();
    for c in chains {
        out.entry(c.namespace.to_string()).or_default().push(c);
    }
    out
}

pub(crate) fn assert_agrees(engine: &Engine, after: &str) {
    let full = diagnose(&engine.snapshot());
    let full = by_namespace(full.iter());
    let incremental = by_namespace(engine.chains());
    let namespaces: Vec<&String> = full.keys().chain(incremental.keys()).collect();
    for ns in namespaces {
        let (f, i) = (full.get(ns), incremental.get(ns));
        let ids = |c: Option<&Vec<&Chain>>| -> Vec<String> {
            c.into_iter().flatten().map(|c| c.id.to_string()).collect()
        };
        assert_eq!(ids(i), ids(f), "chain ids in {ns} after {after}");
        for (a, b) in i.into_iter().flatten().zip(f.into_iter().flatten()) {
            for (la, lb) in a.links.iter().zip(&b.links) {
                assert_eq!(la, lb, "chain {} link {:?} after {after}", a.id, la.link);
            }
            assert_eq!(a, b, "chain {} after {after}", a.id);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    /// Several edits in one `apply` (a burst of watch events): a pod deleted and added again,
    /// or deleted while another moves into its place, before either is re-diagnosed.
    #[test]
    fn incremental_equals_full_after_batches_of_changes(world in 0usize..4, batches in proptest::collection::vec(proptest::collection::vec(edit(), 1..5), 1..8)) {
        let mut engine = Engine::new(worlds()[world].clone());
        let mut gone = Vec::new();
        for (n, batch) in batches.iter().enumerate() {
            let s = engine.snapshot();
            let mut all = Vec::new();
            for (m, e) in batch.iter().enumerate() {
                if !matches!(e, Edit::Clock) {
                    all.extend(changes(&s, e, &mut gone, n * 8 + m));
                }
            }
            engine.apply(all);
            assert_agrees(&engine, &format!("{:?}", &batches[..=n]));
        }
    }

    #[test]
    fn incremental_equals_full_after_random_changes(world in 0usize..4, edits in proptest::collection::vec(edit(), 1..24)) {
        let mut engine = Engine::new(worlds()[world].clone());
        assert_agrees(&engine, "start");
        let mut gone = Vec::new();
        for (n, e) in edits.iter().enumerate() {
            if let Edit::Clock = e {
                let s = engine.snapshot();
                let mut source = s.source.clone();
                source.observed_at += SignedDuration::from_mins(10);
                engine.set_globals(source, s.cluster.clone(), s.azure.clone());
            } else {
                let c = changes(&engine.snapshot(), e, &mut gone, n);
                engine.apply(c);
            }
            assert_agrees(&engine, &format!("{:?}", &edits[..=n]));
        }
    }
}
