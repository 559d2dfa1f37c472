//! Codes that need runtime or Azure observations, up to the Access link (the Object link on
//! is in `rules_runtime_objects`), each planted in the testkit's healthy world
//! (one working chain: namespace `shop`, Deployment `web`) by changing exactly one thing.

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Chain, Code, Finding, LinkKind, diagnose};
use kvchain::snapshot::*;

pub(crate) fn run(s: &Snapshot) -> Vec<Chain> {
    diagnose(s)
}

/// The single finding with `code`, asserting it sits on its catalog link and that link is
/// at least as bad as the code's severity says.
pub(crate) fn only(chains: &[Chain], code: Code) -> Finding {
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

pub(crate) fn all(chains: &[Chain]) -> Vec<(Code, String)> {
    chains
        .iter()
        .flat_map(|c| c.findings())
        .map(|f| (f.code, f.message.to_string()))
        .collect()
}

pub(crate) fn codes(chains: &[Chain]) -> Vec<Code> {
    tk::codes(chains).into_iter().collect()
}

pub(crate) fn csi(s: &mut Snapshot) -> &mut CsiDriverFacts {
    match &mut s.cluster.csi_driver {
        Observed::Known(c) => c,
        Observed::Unknown(_) => panic!("testkit knows the driver"),
    }
}

pub(crate) fn latest(s: &mut Snapshot) -> &mut ObjectVersion {
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
        ..NodeObs::default()
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

/// The provider DaemonSet selects a label no node has (the audit's N1): the fix is the
/// DaemonSet's selector, not moving the app onto nodes that do not exist; and the pod's mount
/// (SPCPS mounted, pod running) is proven, so it is a warning about what fails next
/// (FACTS §11 "Presence is per node"; codes.yaml KVC104 "make its DaemonSets schedule on the
/// node").
#[test]
fn kvc104_a_daemonset_that_selects_no_node_is_fixed_on_the_daemonset() {
    let mut s = tk::healthy();
    let node = tk::pod_mut(&mut s, APP).node.clone().expect("on a node");
    s.cluster.nodes = Observed::Known(vec![NodeObs {
        name: node.to_string(),
        labels: [("kubernetes.io/os".to_string(), "linux".to_string())].into(),
        taints: vec![],
        ..NodeObs::default()
    }]);
    let set = |name: &str, provider: bool, selector: &[(&str, &str)]| PlacementObs {
        daemonset: format!("kube-system/{name}"),
        provider,
        node_selector: selector
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        affinity: vec![],
        tolerations: vec![],
    };
    csi(&mut s).placement = Observed::Known(vec![
        set("csi-secrets-store", false, &[("kubernetes.io/os", "linux")]),
        set(
            "csi-secrets-store-provider-azure",
            true,
            &[("kubernetes.io/os", "linux"), ("agentpool", "system")],
        ),
    ]);
    csi(&mut s).install = Some(DriverInstall::Helm);
    let chains = run(&s);
    let f = only(&chains, Code::KVC104);
    assert!(f.message.contains("no node"), "{}", f.message);
    assert!(
        f.fix.starts_with(r#"kubectl patch daemonset csi-secrets-store-provider-azure -n kube-system --type json -p '[{"op":"remove","path":"/spec/template/spec/nodeSelector/agentpool"}]'"#),
        "{}",
        f.fix
    );
    assert!(!f.fix.contains("kubectl edit deployment"), "{}", f.fix);
    assert_eq!(
        f.severity,
        kvchain::chain::Severity::Warning,
        "mount proven"
    );
    assert_eq!(
        chains[0].link(LinkKind::Pod).status,
        kvchain::chain::Status::Warning
    );
    // Not mounted (a new pod on the node): the mount fails now, an error.
    tk::unmount(&mut s, APP);
    let f = only(&run(&s), Code::KVC104);
    assert_eq!(f.severity, kvchain::chain::Severity::Error);
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
    // The release seen on the driver's DaemonSet (rules_helm_release: unseen, it is looked up).
    csi(&mut s).helm = Some(HelmRelease {
        name: "csi-secrets-store".into(),
        namespace: "kube-system".into(),
        chart: "secrets-store-csi-driver".into(),
        version: None,
    });
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
        // A subject no service account can have (case, '_'; audit EEE9) is corrected in
        // place, and so is one no token's subject has, its name or prefix left out (FACTS §7:
        // system:serviceaccount:<ns>:<sa>, audit PPP-seeds); one that may serve another
        // account is left to it and a credential is added.
        let corrected = matches!(kind, "case" | "'_' vs '-'" | "prefix" | "segment");
        let verb = if corrected { "update" } else { "create" };
        assert!(
            f.fix
                .contains(&format!("az identity federated-credential {verb}")),
            "{kind}: {}",
            f.fix
        );
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

/// A 403 known only from its event (the SPC's objects no longer parse, so the types they
/// need are unknown) says what the identity holds on the vault when that was read, never "no
/// role" beside the role it holds (audit S4; FACTS §8: Crypto User grants no secret read).
#[test]
fn kvc501_from_the_event_names_the_role_the_identity_holds() {
    let mut s = tk::healthy();
    let r = tk::role_mut(&mut s, NS, APP);
    r.role_name = "Key Vault Crypto User".into();
    r.data_actions = vec!["Microsoft.KeyVault/vaults/keys/read".into()];
    let spc = tk::spc_mut(&mut s, APP);
    tk::set_objects(spc, "array:\n  - |\n    objectName: [".into());
    let s = super::cause_kit::failing_with(
        s,
        "failed to get objectType:secret, objectName:web-db-pass, objectVersion:: GET https://kv-shop.vault.azure.net/secrets/web-db-pass/\nRESPONSE 403: 403 Forbidden\nERROR CODE: Forbidden\n{\"error\":{\"code\":\"Forbidden\",\"message\":\"Caller is not authorized to perform action on resource.\",\"innererror\":{\"code\":\"ForbiddenByRbac\"}}}",
    );
    let chains = run(&s);
    let f = chains
        .iter()
        .flat_map(|c| c.findings())
        .find(|f| f.code == Code::KVC501)
        .unwrap_or_else(|| panic!("{chains:#?}"));
    assert!(
        f.message.contains("holds Key Vault Crypto User"),
        "{}",
        f.message
    );
    assert!(!f.message.contains("has no role"), "{}", f.message);
}
