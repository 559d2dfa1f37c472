//! Codes that need runtime or Azure observations, each planted in the testkit's healthy world
//! (one working chain: namespace `shop`, Deployment `web`) by changing exactly one thing.

use jiff::SignedDuration;
use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Chain, Code, Finding, LinkKind, Severity, Status, diagnose};
use kvchain::snapshot::*;

fn run(s: &Snapshot) -> Vec<Chain> {
    diagnose(s)
}

/// The single finding with `code`, asserting it sits on its catalog link and that link is
/// at least as bad as the code's severity says.
fn only(chains: &[Chain], code: Code) -> Finding {
    let found: Vec<&Finding> = chains
        .iter()
        .flat_map(|c| c.findings())
        .filter(|f| f.code == code)
        .collect();
    assert!(!found.is_empty(), "{code} not found in {:#?}", all(chains));
    let f = found[0].clone();
    assert_eq!(f.link, code.link());
    assert_eq!(f.namespace, NS);
    let c = &chains[0];
    assert!(c.link(code.link()).status >= f.severity.status());
    assert!(!f.confirm.is_empty() && !f.fix.is_empty() && !f.evidence.is_empty());
    f
}

fn all(chains: &[Chain]) -> Vec<(Code, String)> {
    chains
        .iter()
        .flat_map(|c| c.findings())
        .map(|f| (f.code, f.message.to_string()))
        .collect()
}

fn codes(chains: &[Chain]) -> Vec<Code> {
    tk::codes(chains).into_iter().collect()
}

fn csi(s: &mut Snapshot) -> &mut CsiDriverFacts {
    match &mut s.cluster.csi_driver {
        Observed::Known(c) => c,
        Observed::Unknown(_) => panic!("testkit knows the driver"),
    }
}

fn latest(s: &mut Snapshot) -> &mut ObjectVersion {
    match &mut tk::object_mut(s, APP).state {
        Observed::Known(Some(o)) => &mut o.versions[0],
        _ => panic!("testkit object is known"),
    }
}

#[test]
fn kvc104_driver_not_registered() {
    let mut s = tk::healthy();
    csi(&mut s).installed = false;
    let f = only(&run(&s), Code::KVC104);
    assert_eq!(f.resource, "CSIDriver/secrets-store.csi.k8s.io");
}

/// FACTS §11: a taint without a matching toleration keeps the driver's DaemonSets off a node.
/// The fix is said by that cause: a toleration on the DaemonSets (their list kept, as a
/// strategic merge replaces it), or, where AKS manages them (the add-on), a node without the
/// taint — never an OS selector the node already satisfies.
#[test]
fn kvc104_a_taint_the_driver_does_not_tolerate_is_fixed_by_a_toleration() {
    let mut s = tk::healthy();
    let node = tk::pod_mut(&mut s, APP)
        .node
        .clone()
        .expect("testkit pods run on a node");
    s.cluster.nodes = Observed::Known(vec![NodeObs {
        name: node.to_string(),
        labels: [("kubernetes.io/os".to_string(), "linux".to_string())].into(),
        taints: vec![TaintObs {
            key: "sku".into(),
            value: "gpu".into(),
            effect: "NoSchedule".into(),
        }],
    }]);
    let set = |name: &str, provider: bool| PlacementObs {
        daemonset: format!("kube-system/{name}"),
        provider,
        node_selector: [("kubernetes.io/os".to_string(), "linux".to_string())].into(),
        affinity: vec![],
        tolerations: vec![TolerationObs {
            key: "CriticalAddonsOnly".into(),
            operator: "Exists".into(),
            ..TolerationObs::default()
        }],
    };
    csi(&mut s).placement = Observed::Known(vec![
        set("csi-secrets-store", false),
        set("csi-secrets-store-provider-azure", true),
    ]);
    csi(&mut s).install = Some(DriverInstall::Helm);
    let f = only(&run(&s), Code::KVC104);
    assert!(!f.fix.contains("kubernetes.io/os"), "{}", f.fix);
    assert!(
        f.fix.contains(r#"kubectl patch daemonset csi-secrets-store -n kube-system -p '{"spec":{"template":{"spec":{"tolerations":[{"key":"CriticalAddonsOnly","operator":"Exists"},{"key":"sku","operator":"Equal","value":"gpu","effect":"NoSchedule"}]}}}}'"#),
        "{}",
        f.fix
    );
    assert!(
        f.fix.contains("daemonset csi-secrets-store-provider-azure"),
        "{}",
        f.fix
    );
    csi(&mut s).install = Some(DriverInstall::AksAddon);
    let f = only(&run(&s), Code::KVC104);
    assert!(
        f.fix.contains("schedule onto nodes without it"),
        "{}",
        f.fix
    );
    assert!(!f.fix.contains("kubectl patch"), "{}", f.fix);
}

#[test]
fn kvc105_no_token_for_the_exchange_audience() {
    let mut s = tk::healthy();
    csi(&mut s).token_audiences = Observed::Known(vec!["api://AKSIdentityBinding".into()]);
    let f = only(&run(&s), Code::KVC105);
    assert!(f.message.contains("api://AzureADTokenExchange"));
    // FACTS §5: tokens for another audience only fail as "token for audience … not found";
    // no tokenRequests at all as "service account tokens not found".
    assert!(
        f.message
            .contains("\"token for audience api://AzureADTokenExchange not found\""),
        "{}",
        f.message
    );
    csi(&mut s).token_audiences = Observed::Known(vec![]);
    let f = only(&run(&s), Code::KVC105);
    assert!(
        f.message.contains("\"service account tokens not found\""),
        "{}",
        f.message
    );
}

/// FACTS §5: identity binding (`useAzureTokenProxy: "true"`) reads the token for
/// api://AKSIdentityBinding; the Azure provider chart requests both audiences (FACTS §4). A
/// CSIDriver with the exchange audience only leaves its mounts without a token, and the fix
/// keeps the audience the CSIDriver has while adding the missing one.
#[test]
fn kvc105_identity_binding_needs_its_own_audience() {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters
        .insert("useAzureTokenProxy".into(), "true".into());
    tk::reparse(spc);
    csi(&mut s).token_audiences = Observed::Known(vec!["api://AzureADTokenExchange".into()]);
    let f = only(&run(&s), Code::KVC105);
    assert!(
        f.message
            .contains("\"token for audience api://AKSIdentityBinding not found\""),
        "{}",
        f.message
    );
    assert!(
        f.fix
            .contains("tokenRequests[0].audience=api://AzureADTokenExchange")
            && f.fix
                .contains("tokenRequests[1].audience=api://AKSIdentityBinding"),
        "{}",
        f.fix
    );
    // The AKS add-on's CSIDriver is AKS's: no Helm release to upgrade there.
    csi(&mut s).install = Some(DriverInstall::AksAddon);
    let f = only(&run(&s), Code::KVC105);
    assert!(!f.fix.contains("helm"), "{}", f.fix);
    assert!(f.fix.contains("AKS add-on owns"), "{}", f.fix);
    csi(&mut s).install = Some(DriverInstall::Helm);
    // Another SPC of the cluster uses workload identity and the CSIDriver requests nothing:
    // each chain's fix lists both audiences, in one order, so either pasted fixes both.
    let mut wi = s.spcs.items[0].clone();
    wi.name = "wi-kv".into();
    wi.parameters.remove("useAzureTokenProxy");
    tk::reparse(&mut wi);
    s.spcs.items.push(wi);
    csi(&mut s).token_audiences = Observed::Known(vec![]);
    let f = only(&run(&s), Code::KVC105);
    // One CSIDriver, one finding whichever chain shows it: it names both audiences.
    assert!(
        f.message
            .contains("api://AKSIdentityBinding (identity-binding mounts fail")
            && f.message
                .contains("nor for api://AzureADTokenExchange (workload-identity mounts fail"),
        "{}",
        f.message
    );
    assert!(
        f.fix.ends_with(
            "--set 'tokenRequests[0].audience=api://AKSIdentityBinding' --set 'tokenRequests[1].audience=api://AzureADTokenExchange'"
        ),
        "{}",
        f.fix
    );
    // With the binding's audience requested (the exchange one missing) nothing is wrong:
    // identity binding never reads the exchange token.
    csi(&mut s).token_audiences = Observed::Known(vec!["api://AKSIdentityBinding".into()]);
    assert!(
        !run(&s)
            .iter()
            .flat_map(|c| c.findings())
            .any(|f| f.code == Code::KVC105)
    );
}

#[test]
fn kvc205_label_without_injection() {
    let mut s = tk::healthy();
    let pod = tk::pod_mut(&mut s, APP);
    pod.volumes.retain(|v| v.name != "azure-identity-token");
    pod.containers[0]
        .env
        .retain(|e| e.name != "AZURE_FEDERATED_TOKEN_FILE");
    let f = only(&run(&s), Code::KVC205);
    assert!(f.message.contains("CREATE"), "{}", f.message);
}

#[test]
fn kvc301_no_identity_with_the_client_id() {
    let mut s = tk::healthy();
    s.azure.identities.items.clear();
    let f = only(&run(&s), Code::KVC301);
    assert!(f.message.contains(&tk::client_id(NS, APP)));
}

#[test]
fn kvc302_pod_volume_attributes_override_spc_parameters() {
    let mut s = tk::healthy();
    let pod = tk::pod_mut(&mut s, APP);
    let VolumeSourceObs::Csi { attributes, .. } = &mut pod.volumes[0].source else {
        panic!("csi volume first")
    };
    attributes.insert(
        "keyvaultName".into(),
        "https://kv-shop.vault.azure.net".into(),
    );
    let f = only(&run(&s), Code::KVC302);
    assert!(f.message.contains("URL"), "{}", f.message);
    assert!(f.fix.contains("keyvaultName: kv-shop"), "{}", f.fix);
}

#[test]
fn kvc302_two_identity_modes() {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters
        .insert("useVMManagedIdentity".into(), "true".into());
    spc.parameters
        .insert("usePodIdentity".into(), "true".into());
    tk::reparse(spc);
    let f = only(&run(&s), Code::KVC302);
    assert!(
        f.message.contains("only one identity mode"),
        "{}",
        f.message
    );
}

#[test]
fn kvc401_subject_mismatch_names_the_nearest_and_the_kind_of_difference() {
    let cases = [
        ("system:serviceaccount:shop:Web", "case"),
        ("system:serviceaccount:shop:w_eb", "'_' vs '-'"),
        ("shop:web", "prefix"),
        ("system:serviceaccount:shop", "segment"),
        ("system:serviceaccount:prod:web", "other namespace"),
    ];
    for (subject, kind) in cases {
        let mut s = tk::healthy();
        if subject.contains("w_eb") {
            // '_' vs '-' needs a '-' in the real name: rename the SA.
            tk::pod_mut(&mut s, APP).service_account = "w-eb".into();
            tk::sa_mut(&mut s, APP).name = "w-eb".into();
        }
        tk::fic_mut(&mut s, APP).subject = subject.into();
        let f = only(&run(&s), Code::KVC401);
        assert!(f.message.contains(subject), "{}", f.message);
        assert!(f.message.contains(kind), "{kind}: {}", f.message);
        assert!(f.fix.contains("az identity federated-credential create"));
        assert!(f.fix.contains(tk::ISSUER));
    }
}

#[test]
fn kvc402_issuer_differs_only_by_trailing_slash() {
    let mut s = tk::healthy();
    tk::fic_mut(&mut s, APP).issuer = tk::ISSUER.trim_end_matches('/').into();
    let chains = run(&s);
    let f = only(&chains, Code::KVC402);
    assert!(f.message.contains("trailing '/'"), "{}", f.message);
    let fact = chains[0]
        .link(LinkKind::Federation)
        .facts
        .iter()
        .find(|x| x.label == "issuer")
        .expect("issuer fact");
    assert!(!fact.matches());
}

#[test]
fn kvc403_wrong_audience() {
    let mut s = tk::healthy();
    tk::fic_mut(&mut s, APP).audiences = vec!["api://AzureADTokenExchange/".into()];
    only(&run(&s), Code::KVC403);
}

#[test]
fn kvc404_spc_tenant_is_not_the_vaults() {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters.insert(
        "tenantId".into(),
        "11111111-2222-3333-4444-555555555555".into(),
    );
    tk::reparse(spc);
    let f = only(&run(&s), Code::KVC404);
    assert!(f.fix.contains(tk::TENANT), "{}", f.fix);
}

#[test]
fn kvc501_no_grant_decided_from_data_actions_not_names() {
    let mut s = tk::healthy();
    // Named like the right role, but grants nothing: names do not matter, dataActions do.
    let r = tk::role_mut(&mut s, NS, APP);
    r.data_actions.clear();
    let f = only(&run(&s), Code::KVC501);
    assert!(f.message.contains("getSecret"), "{}", f.message);
    assert!(f.fix.contains("Key Vault Secrets User"));
}

#[test]
fn kvc501_on_access_policy_vault_without_policy() {
    let mut s = tk::healthy();
    tk::vault_mut(&mut s, NS).rbac = false;
    s.azure.role_assignments.items.clear();
    let f = only(&run(&s), Code::KVC501);
    assert!(f.fix.contains("az keyvault set-policy"), "{}", f.fix);
}

#[test]
fn kvc502_role_for_the_wrong_object_type() {
    let mut s = tk::healthy();
    let r = tk::role_mut(&mut s, NS, APP);
    r.role_name = "Key Vault Crypto User".into();
    r.data_actions = vec!["Microsoft.KeyVault/vaults/keys/read".into()];
    let f = only(&run(&s), Code::KVC502);
    assert!(f.message.contains("Crypto User"));
}

/// KVC504 means a role far broader than the read it serves (codes.yaml); an Officer role for
/// another object type serves no read at all: one cause, the wrong role (KVC502), whose fix
/// grants the role the object needs (FACTS §8: a certificate's read is certificates/read).
#[test]
fn kvc502_an_officer_role_for_another_type_is_the_wrong_role_not_over_privilege() {
    let mut s = tk::healthy();
    let r = tk::role_mut(&mut s, NS, APP);
    r.role_name = "Key Vault Certificates Officer".into();
    r.data_actions = vec![
        "Microsoft.KeyVault/vaults/certificatecas/*".into(),
        "Microsoft.KeyVault/vaults/certificates/*".into(),
    ];
    let chains = run(&s);
    let f = only(&chains, Code::KVC502);
    assert!(f.fix.contains("Key Vault Secrets User"), "{}", f.fix);
    assert!(
        !codes(&chains).contains(&Code::KVC504),
        "{:#?}",
        all(&chains)
    );
    // The same role family where it does serve the read is over-privilege, as before.
    let r = tk::role_mut(&mut s, NS, APP);
    r.role_name = "Key Vault Secrets Officer".into();
    r.data_actions = vec!["Microsoft.KeyVault/vaults/secrets/*".into()];
    let chains = run(&s);
    only(&chains, Code::KVC504);
    assert!(!codes(&chains).contains(&Code::KVC502));
}

/// KVC504 (codes.yaml): an Officer role lets a leaked pod token write or delete whether or not
/// the mount uses it. Beside a role that serves the read it is over-privilege (no KVC502 names
/// it); its fix removes it and grants nothing the identity already holds.
#[test]
fn kvc504_an_unused_officer_role_beside_the_right_one_is_over_privilege() {
    let mut s = tk::healthy();
    let mut broad = tk::role_mut(&mut s, NS, APP).clone();
    broad.role_name = "Key Vault Certificates Officer".into();
    broad.data_actions = vec![
        "Microsoft.KeyVault/vaults/certificatecas/*".into(),
        "Microsoft.KeyVault/vaults/certificates/*".into(),
    ];
    s.azure.role_assignments.items.push(broad);
    let chains = run(&s);
    let f = only(&chains, Code::KVC504);
    assert!(
        !codes(&chains).contains(&Code::KVC502),
        "{:#?}",
        all(&chains)
    );
    assert!(
        f.fix.contains("az role assignment delete --assignee")
            && f.fix.contains("Key Vault Certificates Officer"),
        "{}",
        f.fix
    );
    assert!(
        !f.fix.contains("az role assignment create"),
        "already held: {}",
        f.fix
    );
}

#[test]
fn kvc503_access_policy_on_an_rbac_vault() {
    let mut s = tk::healthy();
    s.azure.role_assignments.items.clear();
    let pid = tk::principal_id(NS, APP);
    tk::vault_mut(&mut s, NS)
        .access_policies
        .push(AccessPolicyObs {
            object_id: pid,
            secrets: vec!["get".into()],
            ..AccessPolicyObs::default()
        });
    only(&run(&s), Code::KVC503);
}

#[test]
fn kvc504_administrator_for_a_read() {
    let mut s = tk::healthy();
    let r = tk::role_mut(&mut s, NS, APP);
    r.role_name = "Key Vault Administrator".into();
    r.data_actions = vec!["Microsoft.KeyVault/vaults/*".into()];
    let chains = run(&s);
    let f = only(&chains, Code::KVC504);
    assert!(f.evidence[0].contains("Administrator"));
    assert!(
        !codes(&chains).contains(&Code::KVC501),
        "wildcard grants the read"
    );
}

#[test]
fn kvc505_firewall_blocks_the_cluster() {
    let mut s = tk::healthy();
    tk::vault_mut(&mut s, NS).network = NetworkObs {
        public_access: true,
        default_deny: true,
        cluster_allowed: Observed::Known(false),
    };
    only(&run(&s), Code::KVC505);
}

#[test]
fn kvc601_object_not_found() {
    let mut s = tk::healthy();
    tk::object_mut(&mut s, APP).state = Observed::Known(None);
    let chains = run(&s);
    only(&chains, Code::KVC601);
    assert_eq!(chains[0].objects[0].status, Status::Broken);
}

#[test]
fn kvc602_latest_version_disabled() {
    let mut s = tk::healthy();
    latest(&mut s).enabled = false;
    let f = only(&run(&s), Code::KVC602);
    assert!(f.fix.contains("--enabled true"));
}

#[test]
fn kvc604_expiring_within_a_week() {
    let mut s = tk::healthy();
    latest(&mut s).expires = Some(tk::now() + SignedDuration::from_hours(48));
    let f = only(&run(&s), Code::KVC604);
    assert!(f.message.contains("expires"), "{}", f.message);
}

#[test]
fn kvc701_unexplained_failed_mount_shown_verbatim() {
    let mut s = tk::healthy();
    tk::unmount(&mut s, APP);
    let pod = tk::pod_name(APP, 0);
    s.events.items.push(tk::failed_mount(
        NS,
        &pod,
        "secrets-store-inline",
        "grpc: received message larger than max (5242880 vs. 4194304)",
    ));
    let chains = run(&s);
    let f = only(&chains, Code::KVC701);
    assert!(f.evidence[0].contains("received message larger than max"));
    assert_eq!(chains[0].link(LinkKind::Mount).status, Status::Broken);
}

#[test]
fn kvc702_rotation_disabled() {
    let mut s = tk::healthy();
    csi(&mut s).rotation_enabled = Observed::Known(false);
    only(&run(&s), Code::KVC702);
}

#[test]
fn kvc703_mounted_version_lags_longer_than_the_poll_interval() {
    let mut s = tk::healthy();
    let Observed::Known(Some(o)) = &mut tk::object_mut(&mut s, APP).state else {
        panic!()
    };
    o.versions.insert(
        0,
        ObjectVersion {
            version: tk::V2.into(),
            enabled: true,
            created: Some(tk::ago(SignedDuration::from_mins(30))),
            ..ObjectVersion::default()
        },
    );
    let f = only(&run(&s), Code::KVC703);
    assert!(f.message.contains(tk::V1) && f.message.contains(tk::V2));
    // Within the poll interval (+ slack) it is not yet a finding.
    let Observed::Known(Some(o)) = &mut tk::object_mut(&mut s, APP).state else {
        panic!()
    };
    o.versions[0].created = Some(tk::ago(SignedDuration::from_secs(90)));
    assert!(!codes(&run(&s)).contains(&Code::KVC703));
}

#[test]
fn kvc704_throttling_with_a_transactions_estimate() {
    let mut s = tk::healthy();
    tk::unmount(&mut s, APP);
    s.events.items.push(tk::failed_mount(
        NS,
        &tk::pod_name(APP, 0),
        "secrets-store-inline",
        "failed to get objectType:secret, objectName:web-db-pass, objectVersion:: GET https://kv-shop.vault.azure.net/secrets/web-db-pass/\n--------\nRESPONSE 429: 429 Too Many Requests",
    ));
    let f = only(&run(&s), Code::KVC704);
    assert!(f.message.contains("720 reads/day"), "{}", f.message); // 1 pod × 1 object × 720 polls
}

/// A rotation that the vault throttles: the pod stays mounted, each poll fails with 429.
fn throttled_rotation(s: &mut Snapshot) {
    let pod = tk::pod_name(APP, 0);
    s.events.items.push(EventObs {
        reason: "MountRotationFailed".into(),
        source: "csi-secrets-store-rotation".into(),
        message: format!(
            "provider mount err: failed to mount objects, error: failed to get objectType:secret, objectName:web-db-pass, objectVersion:: GET https://kv-shop.vault.azure.net/secrets/web-db-pass/\n--------\nRESPONSE 429: 429 Too Many Requests for spc {NS}/{}",
            tk::spc_name(APP)
        ),
        ..tk::failed_mount(NS, &pod, "secrets-store-inline", "")
    });
}

/// The throttling fix proposes a longer poll interval only while the driver polls more often
/// than that: each poll reads every mounted object at once (FACTS §4), so at ten minutes or
/// more the reads of one poll must shrink. The confirm command lists the events that showed
/// the 429 (here rotation's, not FailedMount).
#[test]
fn kvc704_fix_never_proposes_the_interval_already_set() {
    let mut s = tk::healthy();
    csi(&mut s).rotation_enabled = Observed::Known(true);
    throttled_rotation(&mut s);
    let f = only(&run(&s), Code::KVC704);
    assert!(f.fix.contains("--rotation-poll-interval 10m"), "{}", f.fix);
    assert!(
        f.confirm
            .ends_with("--field-selector reason=MountRotationFailed"),
        "{}",
        f.confirm
    );
    csi(&mut s).rotation_poll_interval = std::time::Duration::from_secs(600);
    let f = only(&run(&s), Code::KVC704);
    assert!(!f.fix.contains("rotation-poll-interval"), "{}", f.fix);
    assert!(
        f.fix
            .starts_with(&format!("split SecretProviderClass {}", tk::spc_name(APP))),
        "{}",
        f.fix
    );
}

/// No running pod: the only one failed without a mount. (A pod still on its way to its mount
/// is no KVC802: the Sync link waits, see rules_pending.)
#[test]
fn kvc802_no_running_pod_mounts_the_spc() {
    let mut s = tk::healthy();
    tk::unmount(&mut s, APP);
    let pod = tk::pod_mut(&mut s, APP);
    pod.phase = "Failed".into();
    for c in &mut pod.containers {
        c.state = ContainerStateObs::Terminated {
            reason: "Error".into(),
            exit_code: 1,
        };
    }
    let f = only(&run(&s), Code::KVC802);
    assert_eq!(f.severity, Severity::Warning);
    assert_eq!(f.follows, None, "nothing upstream blocks it: {f:#?}");
}

#[test]
fn kvc805_synced_secret_differs_from_the_mount() {
    let mut s = tk::healthy();
    tk::secret_mut(&mut s, APP)
        .data
        .insert("password".into(), Fingerprint::of(b"stale"));
    only(&run(&s), Code::KVC805);
}

/// FACTS §2: a `kubernetes.io/tls` Secret holds the private key (tls.key) and the certificates
/// (tls.crt) split out of the mounted PEM file, never the whole file.
#[test]
fn kvc805_tls_secret_is_compared_with_the_pem_parts_the_driver_writes() {
    let mut s = tk::healthy();
    let (key, cert) = (Fingerprint::of(b"the key"), Fingerprint::of(b"the chain"));
    let so = &mut tk::spc_mut(&mut s, APP).secret_objects[0];
    so.type_ = "kubernetes.io/tls".into();
    so.data = ["tls.key", "tls.crt"]
        .map(|k| SecretObjectData {
            object_name: "password".into(),
            key: k.into(),
        })
        .into();
    let secret = tk::secret_mut(&mut s, APP);
    secret.type_ = "kubernetes.io/tls".into();
    secret.data = [("tls.key".to_string(), key), ("tls.crt".to_string(), cert)].into();
    s.spc_statuses.items[0].pem_parts = [(
        "password".to_string(),
        PemParts {
            key: Some(key),
            cert: Some(cert),
        },
    )]
    .into();
    let chains = run(&s);
    assert!(
        !codes(&chains).contains(&Code::KVC805),
        "{:#?}",
        all(&chains)
    );
    // A Secret that really differs from the mount is still found, naming only that key.
    tk::secret_mut(&mut s, APP)
        .data
        .insert("tls.crt".into(), Fingerprint::of(b"an older chain"));
    let f = only(&run(&s), Code::KVC805);
    assert!(f.message.ends_with("tls.crt"), "{}", f.message);
}

#[test]
fn kvc806_secret_missing_while_mounted_sync_disabled() {
    let mut s = tk::healthy();
    csi(&mut s).sync_secret_enabled = Observed::Known(false);
    s.secrets.items.clear();
    let f = only(&run(&s), Code::KVC806);
    assert!(f.message.contains("syncSecret.enabled"), "{}", f.message);
}

/// A rotation after the pod started: the vault's version the mount and the Secret now hold
/// was created after the pod, and the Secret was written then.
fn rotated_after_start(s: &mut Snapshot) {
    let at = tk::ago(SignedDuration::from_mins(5));
    tk::secret_mut(s, APP).updated_at = Some(at);
    if let Observed::Known(Some(o)) = &mut tk::object_mut(s, APP).state {
        o.versions[0].created = Some(at);
    }
}

#[test]
fn kvc901_env_older_than_the_secret() {
    let mut s = tk::healthy();
    rotated_after_start(&mut s);
    let f = only(&run(&s), Code::KVC901);
    assert_eq!(f.severity, Severity::Error);
    assert!(f.message.contains("DB_PASSWORD"));
    assert!(f.message.contains("holds the old value"), "{}", f.message);
}

/// FACTS §2/§4: the driver recreates a deleted synced Secret from what it mounts. Written
/// after the container started but from the vault versions the pod's first mount read (all
/// created before the pod), it holds the value the process holds: no error, no restart; an
/// info says why, and what would make it otherwise (an SPC edit kvchain cannot date).
#[test]
fn kvc901_a_secret_rebuilt_from_versions_older_than_the_pod_is_not_a_stale_env() {
    let mut s = tk::healthy();
    tk::secret_mut(&mut s, APP).updated_at = Some(tk::ago(SignedDuration::from_mins(5)));
    let f = only(&run(&s), Code::KVC901);
    assert_eq!(f.severity, Severity::Info, "{f:#?}");
    assert!(f.message.contains("holds the same value"), "{}", f.message);
    assert!(f.fix.starts_with("# nothing to do"), "{}", f.fix);
    let chains = run(&s);
    assert_eq!(chains[0].link(LinkKind::Consumers).status, Status::Ok);
}

#[test]
fn kvc902_env_without_reloader() {
    let mut s = tk::healthy();
    tk::workload_mut(&mut s, "Deployment", APP)
        .annotations
        .clear();
    let f = only(&run(&s), Code::KVC902);
    assert_eq!(f.resource, "Deployment/web");
}

/// The healthy world's pod with its owners removed: a pod nothing recreates.
fn bare(s: &mut Snapshot) {
    for pod in s.pods.items.iter_mut() {
        pod.owners.clear();
    }
}

/// FACTS §10: Reloader restarts a workload by changing its pod template; a pod nothing owns
/// has none, so a Reloader annotation on it restarts nothing, and the fix recreates the pod.
#[test]
fn kvc902_a_bare_pod_is_restarted_by_nothing_even_with_a_reloader_annotation() {
    let mut s = tk::healthy();
    bare(&mut s);
    for pod in s.pods.items.iter_mut() {
        pod.annotations
            .insert("reloader.stakater.com/auto".into(), "true".into());
    }
    let pod = tk::pod_name(APP, 0);
    let f = only(&run(&s), Code::KVC902);
    assert_eq!(f.resource, format!("Pod/{pod}"));
    assert!(
        f.fix.starts_with(&format!(
            "kubectl get pod {pod} -n {NS} -o yaml | kubectl replace --force -f -"
        )),
        "{}",
        f.fix
    );
    assert!(!f.fix.contains("annotate"), "{}", f.fix);
}

/// `kubectl rollout restart` takes Deployments, StatefulSets and DaemonSets only: another
/// owner recreates a deleted pod, and a pod nothing owns is recreated from itself.
#[test]
fn kvc901_restart_fix_fits_the_owner() {
    let mut s = tk::healthy();
    rotated_after_start(&mut s);
    let pod = tk::pod_name(APP, 0);
    let fix = |s: &Snapshot| only(&run(s), Code::KVC901).fix.to_string();
    assert_eq!(
        fix(&s),
        format!("kubectl rollout restart deployment/{APP} -n {NS}")
    );
    let mut job = s.clone();
    for p in job.pods.items.iter_mut() {
        p.owners = vec![OwnerRef {
            kind: "Job".into(),
            name: "nightly".into(),
            uid: "uid-job".into(),
            controller: true,
        }];
    }
    assert!(
        fix(&job).starts_with(&format!(
            "kubectl delete pod {pod} -n {NS}  # its Job nightly"
        )),
        "{}",
        fix(&job)
    );
    bare(&mut s);
    assert!(
        fix(&s).starts_with(&format!(
            "kubectl get pod {pod} -n {NS} -o yaml | kubectl replace --force -f -"
        )),
        "{}",
        fix(&s)
    );
}

/// A pod's spec cannot be edited in place (but for its images): a spec fix on a bare pod
/// recreates it with the change; on a workload it edits the template.
#[test]
fn kvc102_spec_fix_recreates_a_bare_pod_and_edits_a_workload() {
    let mut s = tk::healthy();
    for p in s.pods.items.iter_mut() {
        p.containers[0].mounts.push(MountObs {
            volume: "secrets-store-inline".into(),
            path: "/mnt/secrets/password".into(),
            sub_path: Some("password".into()),
            read_only: true,
        });
    }
    let f = only(&run(&s), Code::KVC102);
    assert!(
        f.fix
            .starts_with(&format!("kubectl edit deployment/{APP} -n {NS}  #")),
        "{}",
        f.fix
    );
    bare(&mut s);
    let pod = tk::pod_name(APP, 0);
    let f = only(&run(&s), Code::KVC102);
    assert!(
        f.fix.starts_with(&format!(
            "kubectl get pod {pod} -n {NS} -o yaml > {pod}.yaml && ${{EDITOR:-vi}} {pod}.yaml && kubectl replace --force -f {pod}.yaml  #"
        )),
        "{}",
        f.fix
    );
}

#[test]
fn replicas_of_one_workload_share_workload_level_findings() {
    let mut s = tk::empty();
    tk::add_app(&mut s, NS, APP, 3);
    tk::workload_mut(&mut s, "Deployment", APP)
        .annotations
        .clear();
    let chains = run(&s);
    assert_eq!(chains.len(), 3);
    let report = kvchain::report::json(&s, &chains);
    let v: serde_json::Value = serde_json::from_str(&report).expect("json");
    let n = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["code"] == "KVC902")
        .count();
    assert_eq!(n, 1, "de-duplicated across the three pods");
}

/// Issue 12 §4: a pod that reads the synced Secret while no pod mounts the SPC is a chain of
/// its own: KVC903 while the Secret still exists, KVC904 once it is gone (one finding: the
/// consumer that cannot start, naming why the Secret is missing; no KVC802 beside it).
#[test]
fn a_consumer_of_a_synced_secret_nobody_mounts_is_a_chain() {
    let mut s = tk::healthy();
    let mut reader = s.pods.items[0].clone();
    reader.name = "reader".into();
    reader.owners.clear();
    reader
        .volumes
        .retain(|v| !matches!(v.source, VolumeSourceObs::Csi { .. }));
    reader.containers[0].mounts.clear();
    s.pods.items = vec![reader].into();
    s.spc_statuses.items.clear();
    let chains = run(&s);
    assert_eq!(chains.len(), 1, "{:#?}", all(&chains));
    assert_eq!(chains[0].pod, "reader");
    assert_eq!(chains[0].spc, tk::spc_name(APP));
    let f = chains[0]
        .findings()
        .find(|f| f.code == Code::KVC903)
        .unwrap_or_else(|| panic!("{:#?}", all(&chains)));
    assert_eq!(f.resource, "Pod/reader");
    assert_eq!(f.chain, chains[0].id);
    // No other pod mounts it: the Secret is what earlier mounts left, and is not made again.
    assert!(f.message.contains("is not created again"), "{}", f.message);
    // The Secret is gone (its owners were deleted): the reader cannot start.
    s.secrets.items.clear();
    let chains = run(&s);
    let c = codes(&chains);
    assert_eq!(c, [Code::KVC904], "{c:?}");
    assert_eq!(chains[0].link(LinkKind::Consumers).status, Status::Broken);
}

/// FACTS §10: `secret.reloader.stakater.com/reload` restarts for the Secrets it lists only.
/// A workload listing others is told so (not "no annotation"), and the fix adds the Secret to
/// its list instead of a second, different annotation.
#[test]
fn kvc902_a_reload_list_naming_other_secrets_is_extended() {
    let mut s = tk::healthy();
    let ann = &mut tk::workload_mut(&mut s, "Deployment", APP).annotations;
    ann.clear();
    ann.insert(
        "secret.reloader.stakater.com/reload".into(),
        "other-secret".into(),
    );
    let f = only(&run(&s), Code::KVC902);
    assert!(f.message.contains("names other Secrets"), "{}", f.message);
    assert!(
        !f.message.contains("no Reloader annotation"),
        "{}",
        f.message
    );
    assert!(
        f.fix.contains(&format!(
            "secret.reloader.stakater.com/reload=other-secret,{} --overwrite",
            tk::secret_name(APP)
        )),
        "{}",
        f.fix
    );
}

/// FACTS §4: a file mounted with subPath never sees updates. A synced Secret mounted so and
/// rewritten by a rotation after the container started leaves the file with the old value,
/// as an env var would be.
#[test]
fn kvc901_a_subpath_file_of_a_rotated_secret_holds_the_old_value() {
    let mut s = tk::healthy();
    rotated_after_start(&mut s);
    let secret = tk::secret_name(APP);
    let pod = tk::pod_mut(&mut s, APP);
    pod.containers[0]
        .env
        .retain(|e| !matches!(e.source, EnvSourceObs::SecretKey { .. }));
    pod.volumes.push(VolumeObs {
        name: "db".into(),
        source: VolumeSourceObs::Secret {
            secret_name: secret.as_str().into(),
            optional: false,
            keys: vec![],
        },
    });
    pod.containers[0].mounts.push(MountObs {
        volume: "db".into(),
        path: "/etc/db/password".into(),
        sub_path: Some("password".into()),
        read_only: true,
    });
    let f = only(&run(&s), Code::KVC901);
    assert!(f.message.contains("subPath password"), "{}", f.message);
    assert!(
        f.message.contains("the file holds the old value"),
        "{}",
        f.message
    );
    // Mounted as a directory, the kubelet refreshes it: nothing to say.
    tk::pod_mut(&mut s, APP).containers[0]
        .mounts
        .last_mut()
        .unwrap()
        .sub_path = None;
    assert!(!tk::codes(&run(&s)).contains(&Code::KVC901));
}

/// Q4: with objectVersionHistory the provider lists the versions and skips disabled ones
/// (FACTS §5): a disabled latest version is no "get is not allowed" failure there; the
/// files shift instead (`/0` is the newest enabled version), which the Object link says.
#[test]
fn a_disabled_latest_version_under_history_is_skipped_not_kvc602() {
    let mut s = tk::healthy();
    let obj = tk::object_name(APP);
    let objects = tk::objects_yaml(&[&[
        ("objectName", &obj),
        ("objectType", "secret"),
        ("objectAlias", "password"),
        ("objectVersionHistory", "2"),
    ]]);
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters.insert("objects".into(), objects);
    tk::reparse(spc);
    let mut older = latest(&mut s).clone();
    older.version = "0123456789abcdef0123456789abcdef".into();
    latest(&mut s).enabled = false;
    if let Observed::Known(Some(o)) = &mut tk::object_mut(&mut s, APP).state {
        o.versions.push(older);
    }
    let chains = run(&s);
    let c = &chains[0];
    assert!(
        !c.findings().any(|f| f.code == Code::KVC602),
        "{:#?}",
        all(&chains)
    );
    let link = c.link(LinkKind::VaultObject);
    assert_ne!(link.status, Status::Broken, "{link:#?}");
    let said: Vec<String> = link.facts.iter().map(|f| format!("{f:?}")).collect();
    assert!(
        said.iter()
            .any(|f| f.contains("skips") && f.contains("0123456789abcdef0123456789abcdef")),
        "{said:#?}"
    );
    // The same object without history: the provider GETs the latest version: KVC602.
    let mut s = tk::healthy();
    latest(&mut s).enabled = false;
    only(&run(&s), Code::KVC602);
}
