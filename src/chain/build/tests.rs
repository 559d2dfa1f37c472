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
    let (parallel, hashes, referenced) = chains_in_parallel(&ix, &pods, false);
    assert_eq!(parallel, one);
    let each: Vec<u64> = one.iter().map(|c| id_hash(&c.id)).collect();
    assert_eq!(hashes, Some(each), "each chain's id hashed in its place");
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
    // A mount proves the read the unknown assignments cannot, but not that the identity reads
    // only (KVC504): still unknown, with that check said as not made; no mount proves nothing
    // (audit VVV-honest).
    let access = |c: &Chain| c.link(LinkKind::Access).clone();
    let not_checked = |l: &crate::chain::Link| l.facts.iter().any(|f| f.label == "not checked");
    let (mounted, waiting) = (access(chain(&chains, &p1)), access(chain(&chains, &p2)));
    assert_eq!(mounted.status, Status::Unknown);
    assert!(not_checked(&mounted), "{mounted:?}");
    assert_eq!(waiting.status, Status::Unknown);
    assert!(!not_checked(&waiting), "{waiting:?}");
    assert_each_chain_as_alone(&s, &chains);
}

#[test]
fn replicas_mounting_the_same_versions_share_one_objects_list() {
    let mut s = empty();
    add_app(&mut s, NS, APP, 3);
    let p1 = pod_name(APP, 1);
    for st in &mut s.spc_statuses.items {
        if st.pod_name == p1 {
            st.objects[0].version = V2.into();
        }
    }
    let chains = diagnose(&s);
    let objects = |i| &chain(&chains, &pod_name(APP, i)).objects;
    assert!(std::sync::Arc::ptr_eq(objects(0), objects(2)));
    assert!(!std::sync::Arc::ptr_eq(objects(0), objects(1)));
    assert_eq!(objects(1)[0].mounted_version, Some(V2.into()));
    assert_eq!(objects(2)[0].mounted_version, Some(V1.into()));
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
