//! A fix that gives the pod a new mount meets every secrets-store volume of the pod (audit HH1),
//! and an effect's fix says what refreshes it once its cause is fixed, by the driver's rotation
//! (audit HH2).
//!
//! FACTS §5: a provider validation error (`Invalid vaultObjectTypes … Should be secret, key, or
//! cert`) and a Key Vault 404 come back as `failed to mount objects`: every new mount of that
//! SecretProviderClass fails. §3: the kubelet then reports `Unable to attach or mount volumes:
//! unmounted volumes=[…]` and starts no container of the pod. §1: no SecretProviderClassPodStatus
//! is made for a failed mount. So a pod mounting two SPCs, one of which now fails every new
//! mount, keeps running only on mounts that predate the break: deleting it to remount the other
//! (KVC703's fix) trades the replica for one stuck in ContainerCreating. §4: with rotation off an
//! already-mounted path is never re-fetched (only a new mount applies an edit or a version); with
//! it on, the next poll does.

use kvchain::chain::engine::{Change, Engine, Object};
use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Chain, Code, Finding, LinkKind, diagnose};
use kvchain::snapshot::*;

use super::rules_runtime::{all, csi, run};
use super::rules_runtime_objects::newer_version_30_minutes_ago;

const OTHER: &str = "web-kv-extra";

/// The `web` pod mounts a second SecretProviderClass, `OTHER` (a copy of its own, same identity,
/// vault and object, syncing nothing), in volume `extra`, mounted before anything broke (its
/// SPCPS lists the object). `first`: the extra volume comes before the chain's own.
fn second_spc(s: &mut Snapshot, first: bool) {
    let mut spc = tk::spc_mut(s, APP).clone();
    spc.name = OTHER.into();
    spc.secret_objects.clear();
    s.spcs.items.push(spc);
    let pod = tk::pod_mut(s, APP);
    let volume = tk::csi_volume("extra", OTHER);
    if first {
        pod.volumes.insert(0, volume);
    } else {
        pod.volumes.push(volume);
    }
    pod.containers[0].mounts.push(MountObs {
        volume: "extra".into(),
        path: "/mnt/extra".into(),
        sub_path: None,
        read_only: true,
    });
    let mut st = s.spc_statuses.items[0].clone();
    st.spc_name = OTHER.into();
    st.name = format!("{}-{NS}-{OTHER}", tk::pod_name(APP, 0)).into();
    s.spc_statuses.items.push(st);
}

/// `OTHER`'s one object retyped `secrets`: the provider refuses it (KVC705).
fn other_refused(s: &mut Snapshot) {
    set_other_object(s, "secret", "secrets");
}

/// `OTHER`'s one object names a secret the vault lacks (KVC601): read, and not there.
fn other_missing(s: &mut Snapshot) {
    set_other_object(s, MISSING, "secret");
    let mut absent = tk::object_mut(s, APP).clone();
    absent.name = MISSING.into();
    absent.state = Observed::Known(None);
    s.azure.objects.push(absent);
}

const MISSING: &str = "web-db-pasword";

fn set_other_object(s: &mut Snapshot, name: &str, object_type: &str) {
    let name = if name == "secret" {
        tk::object_name(APP)
    } else {
        name.to_string()
    };
    let spc = (s.spcs.items.iter_mut()).find(|x| x.name == OTHER).unwrap();
    spc.parameters.insert(
        "objects".into(),
        tk::objects_yaml(&[&[
            ("objectName", name.as_str()),
            ("objectType", object_type),
            ("objectAlias", "password"),
        ]]),
    );
    tk::reparse(spc);
}

fn chain_of<'c>(chains: &'c [Chain], spc: &str) -> &'c Chain {
    (chains.iter()).find(|c| c.spc == spc).expect("the chain")
}

/// The KVC703 of the chain's own SPC (the one whose fix remounts).
fn own_stale(chains: &[Chain]) -> &Finding {
    let own = chain_of(chains, &tk::spc_name(APP));
    (own.findings())
        .find(|f| f.code == Code::KVC703)
        .unwrap_or_else(|| panic!("KVC703 on the own chain: {:#?}", all(chains)))
}

/// A fix that pastes as a comment deletes nothing.
fn deletes_nothing(f: &Finding) {
    assert!(f.fix.starts_with('#'), "{}: {}", f.code, f.fix);
}

/// Guard: with the other SPC mountable, the stale mount's remount stands (FACTS §4).
#[test]
fn with_the_other_spc_mountable_the_stale_mount_remounts() {
    let mut s = tk::healthy();
    second_spc(&mut s, false);
    newer_version_30_minutes_ago(&mut s);
    let chains = run(&s);
    let f = own_stale(&chains);
    assert_eq!(f.follows, None, "{f:#?}");
    assert!(
        // The SPC syncs a Secret: the pod's owner restarts all its replicas (audit MM1).
        f.fix
            .contains(&format!("kubectl rollout restart deployment/{APP} -n {NS}")),
        "{}",
        f.fix
    );
    assert!(!f.fix.starts_with('#'), "{}", f.fix);
}

/// The other SPC refused (KVC705, §5): the stale mount's remount would not start the new pod
/// (§3), so it follows that cause, names it and where it is, and its fix is the cause's first.
#[test]
fn a_stale_mount_beside_a_refused_spc_of_the_same_pod_follows_it() {
    let mut s = tk::healthy();
    second_spc(&mut s, false);
    other_refused(&mut s);
    newer_version_30_minutes_ago(&mut s);
    let chains = run(&s);
    let f = own_stale(&chains);
    assert_eq!(f.follows, Some(LinkKind::Mount), "{f:#?}");
    assert!(
        f.message
            .starts_with(&format!("blocked by KVC705 on SecretProviderClass {OTHER}")),
        "{}",
        f.message
    );
    assert!(
        f.fix
            .starts_with(&format!("# fix KVC705 (SecretProviderClass {OTHER}) first")),
        "{}",
        f.fix
    );
    deletes_nothing(f);
    // Drawn as blocked, not as a stale mount of its own.
    let own = chain_of(&chains, &tk::spc_name(APP));
    assert!(
        own.link(LinkKind::Mount).summary.starts_with("blocked: "),
        "{:#?}",
        own.link(LinkKind::Mount)
    );
    // The refusal stays the one cause.
    let cause = chain_of(&chains, OTHER);
    let refused = cause.findings().find(|f| f.code == Code::KVC705);
    assert_eq!(
        refused.map(|f| f.follows),
        Some(None),
        "{:#?}",
        all(&chains)
    );
}

/// The other SPC names an object the vault lacks (KVC601, a 404 through `failed to mount
/// objects`, §5), its volume listed before the chain's own: the same, whatever the order.
#[test]
fn a_stale_mount_beside_an_spc_naming_a_missing_object_follows_it() {
    let mut s = tk::healthy();
    second_spc(&mut s, true);
    other_missing(&mut s);
    newer_version_30_minutes_ago(&mut s);
    let chains = run(&s);
    let f = own_stale(&chains);
    assert_eq!(f.follows, Some(LinkKind::VaultObject), "{f:#?}");
    assert!(
        f.message
            // The object KVC601 is on (audit PP7), and the volume it breaks.
            .starts_with(&format!(
                "blocked by KVC601 on KeyVault kv-shop, for this pod's other volume extra (SecretProviderClass {OTHER})"
            )),
        "{}",
        f.message
    );
    deletes_nothing(f);
}

/// Counted as blocked in the report, like a finding blocked on its own chain.
#[test]
fn the_followed_stale_mount_is_counted_as_blocked() {
    let mut s = tk::healthy();
    second_spc(&mut s, false);
    other_refused(&mut s);
    newer_version_30_minutes_ago(&mut s);
    let chains = run(&s);
    let json = kvchain::report::json(&s, &chains);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["summary"]["warnings"], 0, "{}", v["summary"]);
    assert!(
        v["summary"]["blocked"].as_u64() >= Some(1),
        "{}",
        v["summary"]
    );
}

/// The engine re-diagnoses one pod at a time: the other SPC broken by an update, its pod's
/// stale mount follows it there as in a full diagnosis.
#[test]
fn the_engine_follows_the_other_spc_as_the_full_pass_does() {
    let mut s = tk::healthy();
    second_spc(&mut s, false);
    newer_version_30_minutes_ago(&mut s);
    let mut engine = Engine::new(s.clone());
    other_refused(&mut s);
    let spc = (s.spcs.items.iter()).find(|x| x.name == OTHER).unwrap();
    engine.apply([Change::Upsert(Object::Spc(spc.clone().into()))]);
    let full = diagnose(&engine.snapshot());
    let inc: Vec<Chain> = engine.chains().cloned().collect();
    assert_eq!(own_stale(&inc).follows, Some(LinkKind::Mount));
    let texts = |c: &[Chain]| {
        let mut t: Vec<(String, String)> = (c.iter().flat_map(|c| c.findings()))
            .map(|f| (f.message.to_string(), f.fix.to_string()))
            .collect();
        t.sort();
        t
    };
    assert_eq!(texts(&inc), texts(&full));
}

/// HH2, rotation known off (§4): the stale mount beside a refused item of its own SPC follows
/// the refusal; once it is fixed, no poll ever fetches the mounted volume again, so the fix says
/// to give the pod a new mount, with the remount, and promises no poll.
#[test]
fn rotation_off_the_followed_stale_mount_says_to_remount_after_the_cause() {
    let mut s = tk::healthy();
    csi(&mut s).rotation_enabled = Observed::Known(false);
    refused_item_added(&mut s);
    let chains = run(&s);
    let f = own_stale(&chains);
    assert_eq!(f.follows, Some(LinkKind::Mount), "{f:#?}");
    assert!(!f.fix.contains("rotation poll"), "{}", f.fix);
    assert!(f.fix.contains("new mount"), "{}", f.fix);
    assert!(
        // The SPC syncs a Secret: the pod's owner restarts all its replicas (audit MM1).
        f.fix
            .contains(&format!("kubectl rollout restart deployment/{APP} -n {NS}")),
        "{}",
        f.fix
    );
    deletes_nothing(f);
}

/// Guard: rotation on, the next poll applies the edit once the cause is fixed (§4).
#[test]
fn rotation_on_the_followed_stale_mount_waits_for_the_poll() {
    let mut s = tk::healthy();
    refused_item_added(&mut s);
    for st in &mut s.spc_statuses.items {
        st.updated_at = Some(tk::ago(jiff::SignedDuration::from_mins(6)));
    }
    let f = own_stale(&run(&s)).clone();
    assert!(f.fix.contains("next rotation poll"), "{}", f.fix);
    assert!(!f.fix.contains("kubectl delete pod"), "{}", f.fix);
}

/// HH2, rotation unread (the driver's flags not read): an effect of a mounted pod (its synced
/// Secret older than the mount) that follows an Access cause promises no poll; its fix says a
/// new mount is needed unless rotation is on.
#[test]
fn rotation_unread_a_followed_stale_secret_promises_no_poll() {
    let mut s = tk::healthy();
    s.cluster.csi_driver = Observed::unknown("cannot get csidrivers: forbidden");
    stale_secret_behind_access_cause(&mut s);
    let chains = run(&s);
    let f = followed(&chains, Code::KVC805);
    assert!(!f.fix.contains("next rotation poll"), "{}", f.fix);
    assert!(f.fix.contains("new mount"), "{}", f.fix);
    deletes_nothing(f);
}

/// HH2, rotation known off: the same stale Secret's fix gives the pod a new mount after the
/// cause, the Secret deleted first (the driver never rewrites an existing one at mount, §4, §11).
#[test]
fn rotation_off_a_followed_stale_secret_remounts_after_the_cause() {
    let mut s = tk::healthy();
    csi(&mut s).rotation_enabled = Observed::Known(false);
    stale_secret_behind_access_cause(&mut s);
    let chains = run(&s);
    let f = followed(&chains, Code::KVC805);
    assert!(!f.fix.contains("rotation poll"), "{}", f.fix);
    assert!(
        f.fix.contains(&format!(
            "kubectl delete secret {} -n {NS}",
            tk::secret_name(APP)
        )),
        "{}",
        f.fix
    );
    deletes_nothing(f);
}

/// A new item of a type the provider refuses (a key asked for as PFX, §5) added to the chain's
/// own SPC: the mount lacks it (KVC703) and the SPC is refused (KVC705).
fn refused_item_added(s: &mut Snapshot) {
    let obj = tk::object_name(APP);
    let spc = tk::spc_mut(s, APP);
    spc.parameters.insert(
        "objects".into(),
        tk::objects_yaml(&[
            &[
                ("objectName", obj.as_str()),
                ("objectType", "secret"),
                ("objectAlias", "password"),
            ],
            &[
                ("objectName", "web-signing"),
                ("objectType", "key"),
                ("objectFormat", "pfx"),
            ],
        ]),
    );
    tk::reparse(spc);
}

/// The identity lost its grant (an Access cause) while the running pod's mount holds a value
/// the synced Secret does not (the Secret is older than the mount).
fn stale_secret_behind_access_cause(s: &mut Snapshot) {
    let fp = Fingerprint::of(b"an older value");
    tk::secret_mut(s, APP).data = [("password".to_string(), fp)].into();
    s.azure.role_assignments.items.clear();
}

fn followed(chains: &[Chain], code: Code) -> &Finding {
    let f = (chains.iter().flat_map(|c| c.findings()))
        .find(|f| f.code == code)
        .unwrap_or_else(|| panic!("{code} in {:#?}", all(chains)));
    assert!(f.follows.is_some(), "{f:#?}");
    f
}

/// Not only a remount: a fix that rolls the pod's template out (KVC201's label patch) makes
/// new pods that mount every volume, so beside a refused SPC of the same pod it waits on that
/// cause too (§3, §5), or the rollout trades running replicas for pods that never start.
#[test]
fn a_template_patch_beside_a_refused_spc_of_the_same_pod_follows_it() {
    let mut s = tk::healthy();
    second_spc(&mut s, false);
    other_refused(&mut s);
    tk::pod_mut(&mut s, APP)
        .labels
        .remove("azure.workload.identity/use");
    let chains = run(&s);
    let own = chain_of(&chains, &tk::spc_name(APP));
    let f = (own.findings())
        .find(|f| f.code == Code::KVC201)
        .unwrap_or_else(|| panic!("KVC201: {:#?}", all(&chains)));
    assert_eq!(f.follows, Some(LinkKind::Mount), "{f:#?}");
    assert!(
        f.fix
            .starts_with(&format!("# fix KVC705 (SecretProviderClass {OTHER}) first")),
        "{}",
        f.fix
    );
    deletes_nothing(f);
}

/// A workload finding said on each chain of the pod (KVC201: the pods lack the webhook's
/// label) says the same on both (audit KK1): on the refused SPC's own chain too, a rollout's new
/// pods would not start (§3, §5), so neither copy offers the bare patch.
#[test]
fn a_template_patch_on_the_refused_spcs_own_chain_follows_its_cause_too() {
    let mut s = tk::healthy();
    second_spc(&mut s, false);
    other_refused(&mut s);
    tk::pod_mut(&mut s, APP)
        .labels
        .remove("azure.workload.identity/use");
    let chains = run(&s);
    let on_refused = chain_of(&chains, OTHER);
    let f = (on_refused.findings())
        .find(|f| f.code == Code::KVC201)
        .unwrap_or_else(|| panic!("KVC201: {:#?}", all(&chains)));
    assert_eq!(f.follows, Some(LinkKind::Mount), "{f:#?}");
    assert!(
        f.message.starts_with(&format!(
            "blocked by KVC705 on SecretProviderClass {OTHER}, which this pod mounts"
        )),
        "{}",
        f.message
    );
    deletes_nothing(f);
}

/// Audit PP7: a finding blocked by a cause that is on the pod itself (KVC103: its volume's
/// wiring) names that object, the Pod and its volume, not the SecretProviderClass the volume
/// was meant to mount, which is fine.
#[test]
fn blocked_by_a_cause_on_the_pod_names_the_pod() {
    let sa = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app-sa, namespace: team-a, annotations: {azure.workload.identity/client-id: 11111111-2222-4333-8444-555555555555}}\n";
    let spc = "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {name: main.kv, namespace: team-a}\nspec:\n  provider: azure\n  parameters: {clientID: 11111111-2222-4333-8444-555555555555, keyvaultName: kv-team-a, tenantID: 72f988bf-86f1-41af-91ab-2d7cd011db47, objects: \"array:\\n  - |\\n    objectName: db\\n    objectType: secret\\n\"}\n";
    // The attribute key miscased (KVC103), and a clientID override (KVC204, whose fix
    // re-creates the pod: a new mount, blocked).
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: tool, namespace: team-a, labels: {azure.workload.identity/use: 'true'}}\nspec:\n  serviceAccountName: app-sa\n  containers:\n  - name: app\n    image: i\n    volumeMounts: [{name: kv, mountPath: /mnt/kv, readOnly: true}]\n  volumes:\n  - name: kv\n    csi: {driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {SecretProviderClass: main.kv, clientID: 22222222-2222-4333-8444-555555555555}}\n";
    let (_, r, _) = crate::manifest_run::check_docs(&[sa, spc, pod]);
    let cause = crate::manifest_run::findings_of(&r, "KVC103");
    assert_eq!(cause.len(), 1, "{r:#}");
    assert_eq!(cause[0]["resource"], "Pod/tool", "{r:#}");
    let found = crate::manifest_run::findings_of(&r, "KVC204");
    assert_eq!(found.len(), 1, "{r:#}");
    let message = found[0]["message"].as_str().unwrap();
    let fix = found[0]["fix"].as_str().unwrap();
    assert!(
        message.starts_with("blocked by KVC103 on Pod tool, for this pod's volume kv"),
        "{message}"
    );
    assert!(
        !message.contains("on SecretProviderClass main.kv"),
        "{message}"
    );
    assert!(
        fix.starts_with("# fix KVC103 (Pod tool, volume kv) first"),
        "{fix}"
    );
}
