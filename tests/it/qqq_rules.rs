//! Audit QQQ-rules: truth defects earlier audits noticed and left, each judged against the
//! documented behaviour (FACTS, the Kubernetes docs). Lab worlds are
//! tests/fixtures/lab/qqq-rules-*.yaml, manifests tests/fixtures/manifests/qqq-rules-*/ (vault
//! values there are canaries no output may show).

use kvchain::chain::{Code, LinkKind, Status, diagnose};

/// The chains of lab world `name` (tests/fixtures/lab/), settled as `check --lab` runs it,
/// after asserting that no canary (`CANARY-qqq`) is in `check --lab`'s outputs.
fn lab_chains(name: &str) -> Vec<kvchain::chain::Chain> {
    super::mmm_lab::run(name, "text", &[], "CANARY-qqq");
    super::mmm_lab::run(name, "json", &[], "CANARY-qqq");
    let path = super::mmm_lab::fixture(name);
    let snap = kvchain::source::lab::run_check(path.to_str().unwrap(), None).expect("runs");
    diagnose(&snap)
}

/// Kubernetes docs, "Init Containers": init containers "always run to completion", each
/// before the app containers start; env is read at container start (FACTS §4). A pod whose
/// only env reader of the synced Secret is an init container that has completed holds the
/// value in no running process: KVC902 ("nothing restarts it when the Secret rotates: env
/// keeps the value from container start") is not true of it, even after a rotation. The
/// Consumers link is not a warning and says the init container read it once.
#[test]
fn a_completed_init_container_holds_no_env_copy_to_restart() {
    let chains = lab_chains("qqq-rules-init-reader.yaml");
    let chain = chains.iter().find(|c| &*c.spc == "api-kv").expect("chain");
    let consumers = chain.link(LinkKind::Consumers);
    assert!(
        !consumers
            .findings
            .iter()
            .any(|f| matches!(f.code, Code::KVC902 | Code::KVC901)),
        "{:#?}",
        consumers.findings
    );
    assert_eq!(consumers.status, Status::Ok, "{consumers:#?}");
    let said = format!("{:?}", consumers.facts);
    assert!(
        said.contains("init container migrate") && said.contains("runs to completion"),
        "the link says who read it at init: {said}"
    );
    // README: what an init container passes on (a file on a shared volume) is as old as the
    // pod's start; the fact does not claim that nothing holds the value.
    assert!(
        said.contains("passes on") && !said.contains("no running process"),
        "{said}"
    );
}

/// One symptom, one cause: a pod whose chain for SecretProviderClass api-kv is healthy but
/// which waits in ContainerCreating because its other secrets-store volume (api-certs) fails
/// to mount — the kubelet starts no container before every volume is set up — has no
/// consumer reading anything yet. Chain api-kv's Consumers link is drawn behind that volume
/// (as its Pod link is), not "no reloader": the design warning KVC902 stays listed, as for a
/// pod waiting on its own mount, but does not name the link.
#[test]
fn a_pod_held_by_another_volume_draws_its_consumers_behind_it() {
    let chains = lab_chains("qqq-rules-other-volume.yaml");
    let chain = chains.iter().find(|c| &*c.spc == "api-kv").expect("chain");
    assert_eq!(
        chain.link(LinkKind::Pod).summary.as_str(),
        "blocked: volume certs",
        "the world: {:#?}",
        chain.link(LinkKind::Pod)
    );
    let consumers = chain.link(LinkKind::Consumers);
    assert_eq!(consumers.status, Status::Pending, "{consumers:#?}");
    assert_eq!(consumers.summary.as_str(), "blocked: volume certs");
}

/// FACTS §2: a `secretObjects` entry's `data[].objectName` must equal a mounted file; §5: the
/// file is the objectAlias if set, else the objectName. The vault holds postgres-password; the
/// SPC's only item asks for app-db-secret (404) and its secretObjects entry reads
/// postgres-password, which no item lists: one side of one name was renamed. The rename the
/// snapshot proves (the item takes the name the entry reads and the vault holds) is KVC601's
/// fix, not creating an object nobody reads; KVC801 follows it (one symptom, one cause).
#[test]
fn a_missing_object_beside_an_entry_naming_one_the_vault_has_is_renamed() {
    let chains = lab_chains("qqq-rules-renamed-side.yaml");
    let chain = chains.iter().find(|c| &*c.spc == "api-kv").expect("chain");
    let object = chain.link(LinkKind::VaultObject);
    let f = (object.findings.iter())
        .find(|f| f.code == Code::KVC601)
        .unwrap_or_else(|| panic!("KVC601: {object:#?}"));
    assert!(
        f.fix.contains("objects[0].objectName: postgres-password") && !f.fix.contains("secret set"),
        "the proven rename, not a create: {}",
        f.fix
    );
    let sync = chain.link(LinkKind::Sync);
    assert!(
        (sync.findings.iter())
            .filter(|f| f.code == Code::KVC801)
            .all(|f| f.follows.is_some()),
        "KVC801 follows the rename's cause: {:#?}",
        sync.findings
    );
}

/// FACTS §4: with rotation off "an already-mounted path is never re-fetched": every pod that
/// mounted a SecretProviderClass before the vault's new version keeps the old one, and one fix
/// (remount them all) applies to all of them. Like KVC702, the rotation-off cause it follows,
/// KVC703 is then one finding the pods' chains share, printed once by `check -o text` (the
/// others point at it), naming the SecretProviderClass — not six copies of one fix.
#[test]
fn a_version_rotation_off_leaves_behind_is_said_once_for_the_spc() {
    let text = super::mmm_lab::run(
        "qqq-rules-rotation-off-many.yaml",
        "text",
        &[],
        "CANARY-qqq",
    );
    let printed: Vec<&str> = (text.lines())
        .filter(|l| l.contains("KVC703") && !l.contains("the same finding as"))
        .collect();
    assert_eq!(printed.len(), 1, "{text}");
    assert!(
        printed[0].contains("SecretProviderClass/api-kv"),
        "{}",
        printed[0]
    );
    let chains = lab_chains("qqq-rules-rotation-off-many.yaml");
    assert_eq!(chains.len(), 6);
    for chain in &chains {
        let mount = chain.link(LinkKind::Mount);
        assert!(
            mount.findings.iter().any(|f| f.code == Code::KVC703),
            "every pod's chain has it: {mount:#?}"
        );
    }
}

/// The provider's words for an `objects` parameter that does not parse (its parseObjects,
/// v1.4 to v1.8.2): `failed to yaml unmarshal objects, error: <err>`, where `<err>` is
/// gopkg.in/yaml.v3's, `yaml: line N: <problem>` (its parser.fail: N is the context mark's
/// 0-based line when past the first, here the block collection's `-` on line 1). The built-in
/// malformed-objects scenario's kubelet event quotes the provider as a real one does, wrapped
/// as FACTS §3 shows.
#[test]
fn the_labs_malformed_objects_event_quotes_the_providers_yaml_error() {
    let snap = kvchain::source::lab::run_check("malformed-objects", None).expect("runs");
    let wanted = "failed to mount objects, error: failed to yaml unmarshal objects, error: yaml: line 1: did not find expected '-' indicator";
    assert!(
        (snap.events.items.iter())
            .any(|e| e.reason == "FailedMount" && e.message.ends_with(wanted)),
        "{:#?}",
        (snap.events.items.iter())
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>()
    );
}
