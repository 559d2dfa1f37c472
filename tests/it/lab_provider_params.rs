//! The lab's Azure provider judges the merged SPC parameters as FACTS §5 says the real one
//! does: identity-mode flags (at most one), keyvaultName, tenantId, cloudName, the chosen
//! mode's credentials, objects. A refused mount is a FailedMount in kubelet's shape (FACTS §3)
//! carrying the provider's own message, never a mounted volume beside a failing Identity link;
//! and `useVMManagedIdentity` with `userAssignedIdentityID` reads the vault as that identity.

use std::time::Duration;

use kvchain::chain::{self, Code, LinkKind, Status};
use kvchain::snapshot::Snapshot;
use kvchain::source::lab::{self, export, world::World};

const CLUSTER: &str = include_str!("../../assets/scenarios/cluster.yaml");
const SHOP: &str = include_str!("../../assets/scenarios/shop.yaml");
const HEALTHY: &str = include_str!("../../assets/scenarios/healthy.yaml");
/// The healthy SPC's parameter lines this file rewrites.
const CLIENT: &str = "    clientID: e2ef6ca4-8b82-5fca-9991-b28fc1e02a92\n";
/// id-checkout's client id: it holds Key Vault Secrets User on kv-shop-lab.
const CHECKOUT_ID: &str = "e2ef6ca4-8b82-5fca-9991-b28fc1e02a92";

/// The healthy checkout chain with its SPC's clientID line replaced by `params`, after
/// `edit` has had its say on the rest of the document, run for a minute of lab time.
fn run_with(params: &str, edit: impl Fn(String) -> String) -> Snapshot {
    assert!(HEALTHY.contains(CLIENT));
    let healthy = edit(HEALTHY.replace(CLIENT, params));
    let sc = lab::scenario::parse(
        "params",
        std::path::Path::new("params.yaml"),
        &[CLUSTER, SHOP, &healthy].join("\n---\n"),
    )
    .expect("scenario loads");
    let mut w = World::new(sc);
    w.advance(Duration::from_secs(60));
    export::snapshot(&w)
}

fn run(params: &str) -> Snapshot {
    run_with(params, |s| s)
}

/// The FailedMount messages of checkout's pods.
fn failed_mounts(s: &Snapshot) -> Vec<String> {
    s.events
        .items
        .iter()
        .filter(|e| e.reason == "FailedMount" && e.involved_name.starts_with("checkout"))
        .map(|e| e.message.clone())
        .collect()
}

fn checkout(s: &Snapshot) -> Vec<chain::Chain> {
    let chains: Vec<_> = chain::diagnose(s)
        .into_iter()
        .filter(|c| c.spc.contains("checkout"))
        .collect();
    assert!(!chains.is_empty());
    chains
}

/// FACTS §3: kubelet's FailedMount wraps the provider error after
/// `failed to mount objects, error: `.
fn provider_error(m: &str) -> Option<&str> {
    m.split_once("failed to mount objects, error: ")
        .map(|(_, e)| e)
}

/// FACTS §5: each parameter error the provider lists refuses the mount with its own message:
/// FailedMount events in §3's shape, no SecretProviderClassPodStatus (FACTS §1: created only
/// after a successful mount), Mount not ✓ and Access not "proven by mount".
#[test]
fn refused_parameters_fail_the_mount_with_the_providers_message() {
    let no_objects = |s: String| {
        let a = s.find("    objects: |").unwrap();
        let b = s[a..].find("  secretObjects:").unwrap() + a;
        format!("{}{}", &s[..a], &s[b..])
    };
    let cases: Vec<(&str, Snapshot, &str)> = vec![
        (
            "cloudName AzurePublic",
            run(&format!("{CLIENT}    cloudName: AzurePublic\n")),
            "cloudName AzurePublic is not valid, error: autorest/azure: There is no cloud environment matching the name \"AZUREPUBLIC\"",
        ),
        (
            "two identity modes",
            run(&format!(
                "{CLIENT}    usePodIdentity: \"true\"\n    useVMManagedIdentity: \"true\"\n"
            )),
            "only one identity mode can be enabled at a time: ",
        ),
        (
            "no keyvaultName",
            run_with(CLIENT, |s| s.replace("    keyvaultName: kv-shop-lab\n", "")),
            "keyvaultName is not provided",
        ),
        (
            "no tenantId",
            run_with(CLIENT, |s| {
                s.replace("    tenantId: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b\n", "")
            }),
            "tenantId is not provided",
        ),
        (
            "no objects",
            run_with(CLIENT, no_objects),
            "objects is not set",
        ),
        (
            "vault name of 25 chars",
            run_with(CLIENT, |s| {
                s.replace(
                    "keyvaultName: kv-shop-lab\n",
                    "keyvaultName: kv-shop-lab-abcdefghijklmn\n",
                )
            }),
            "failed to get vault: Invalid vault name: \"kv-shop-lab-abcdefghijklmn\", must be between 3 and 24 chars",
        ),
    ];
    for (what, s, message) in cases {
        let m = failed_mounts(&s);
        assert!(
            !m.is_empty()
                && m.iter()
                    .all(|m| provider_error(m).is_some_and(|e| e.starts_with(message))),
            "{what}: every FailedMount carries {message:?}: {m:#?}"
        );
        assert!(
            s.spc_statuses.items.is_empty(),
            "{what}: no SPCPS without a mount"
        );
        for c in checkout(&s) {
            let mount = c.link(LinkKind::Mount);
            assert_ne!(mount.status, Status::Ok, "{what}: {c:#?}");
            assert_ne!(
                c.link(LinkKind::Access).summary.as_str(),
                "proven by mount",
                "{what}: {c:#?}"
            );
            assert!(
                c.findings()
                    .any(|f| f.code == Code::KVC302 || f.code == Code::KVC705),
                "{what}: the parameters (KVC302) or the objects (KVC705) are named: {c:#?}"
            );
        }
    }
}

/// FACTS §5 auth selection: with `useVMManagedIdentity: "true"` the provider uses the VM
/// managed identity, `userAssignedIdentityID` naming it; no clientID and no
/// nodePublishSecretRef are needed (the service-principal error is mode None's). The
/// identity reads the vault with its own role.
#[test]
fn vm_managed_identity_mounts_as_the_user_assigned_identity() {
    let s = run(&format!(
        "    useVMManagedIdentity: \"true\"\n    userAssignedIdentityID: {CHECKOUT_ID}\n"
    ));
    assert_eq!(failed_mounts(&s), Vec::<String>::new());
    assert!(
        !s.spc_statuses.items.is_empty(),
        "the driver records the mount"
    );
    for c in checkout(&s) {
        assert_eq!(c.link(LinkKind::Mount).status, Status::Ok, "{c:#?}");
        assert!(c.findings().all(|f| f.code != Code::KVC302), "{c:#?}");
    }
}

/// The same identity without its role: the mount fails on that identity's access, Key Vault
/// naming it as the caller (FACTS §5 RBAC deny), not on a credential the mode never reads.
#[test]
fn vm_managed_identity_without_a_role_fails_on_that_identitys_access() {
    let s = run_with(
        &format!("    useVMManagedIdentity: \"true\"\n    userAssignedIdentityID: {CHECKOUT_ID}\n"),
        |s| s.replace("role: Key Vault Secrets User", "role: Key Vault Reader"),
    );
    let m = failed_mounts(&s);
    assert!(
        !m.is_empty()
            && m.iter().all(|m| m.contains("ForbiddenByRbac")
                && m.contains(&format!("Caller: appid={CHECKOUT_ID};"))
                && !m.contains("mode None")),
        "{m:#?}"
    );
}

/// FACTS §5: identity binding requires clientID (`clientID is required for identity
/// binding`); the FailedMount says so, not the service-principal error of mode None.
#[test]
fn identity_binding_without_client_id_says_client_id_is_required() {
    let s = run("    useAzureTokenProxy: \"true\"\n");
    let m = failed_mounts(&s);
    assert!(
        !m.is_empty()
            && m.iter().all(|m| provider_error(m)
                .is_some_and(|e| e.contains("clientID is required for identity binding"))
                && !m.contains("nodePublishSecretRef")),
        "{m:#?}"
    );
}

/// Audit J2. The driver looks the SPC's `spec.provider` up verbatim among the providers
/// registered on the node and fails the mount with `failed to lookup provider client:
/// "<name>"` when none has it (FACTS §3 FailedToLookupProviderGRPCClient, §11); the lab's
/// nodes run the Azure provider alone, registered as `azure`. The chain names the SPC's
/// provider name as the one cause (KVC104 on the SPC), the event its evidence.
#[test]
fn a_provider_name_the_driver_cannot_find_fails_the_mount() {
    for (provider, looked_up) in [("Azure", "\"Azure\""), ("vault", "\"vault\"")] {
        let s = run_with(CLIENT, |s| {
            s.replace("  provider: azure\n", &format!("  provider: {provider}\n"))
        });
        let m = failed_mounts(&s);
        // NodePublishVolume's words (driver v1.5 and v1.6 nodeserver.go).
        let error = format!(
            "error connecting to provider {looked_up}: provider not found: provider {looked_up}"
        );
        assert!(
            !m.is_empty() && m.iter().all(|m| m.contains(&error)),
            "{provider}: {m:#?}"
        );
        assert!(s.spc_statuses.items.is_empty(), "{provider}: no mount");
        if provider == "Azure" {
            for c in checkout(&s) {
                let f: Vec<_> = c.findings().filter(|f| f.code == Code::KVC104).collect();
                assert!(
                    f.len() == 1 && f[0].resource.contains("SecretProviderClass/"),
                    "{c:#?}"
                );
                assert_eq!(c.link(LinkKind::Pod).status, Status::Broken, "{c:#?}");
            }
        }
    }
}

/// Audit WW4: `userAssignedIdentityID` naming no ManagedIdentity of the scenario is held by no
/// node, and the node's metadata endpoint answers as it does (azidentity's "the requested
/// identity isn't assigned to this resource", body "Identity not found"; codes.yaml KVC301
/// upstream): one cause, KVC301, the event its evidence, never a second "no rule explains"
/// (KVC701) for the lab's own words.
#[test]
fn vm_managed_identity_no_node_holds_is_one_kvc301() {
    let nobody = "4a4a4a4a-1111-4111-8111-444444444444";
    let s = run(&format!(
        "    useVMManagedIdentity: \"true\"\n    userAssignedIdentityID: {nobody}\n"
    ));
    let m = failed_mounts(&s);
    assert!(
        !m.is_empty()
            && m.iter().all(|m| provider_error(m).is_some_and(|e| e.contains(
                "ManagedIdentityCredential authentication failed. the requested identity isn't assigned to this resource"
            ) && e.contains("Identity not found"))),
        "{m:#?}"
    );
    let chains = checkout(&s);
    assert!(!chains.is_empty());
    for c in chains {
        let errors: Vec<Code> = c
            .findings()
            .filter(|f| f.severity == kvchain::chain::Severity::Error)
            .map(|f| f.code)
            .collect();
        assert_eq!(errors, [Code::KVC301], "{c:#?}");
        let f = c.findings().find(|f| f.code == Code::KVC301).unwrap();
        assert!(
            f.evidence.iter().any(|e| e.starts_with("FailedMount")),
            "{f:#?}"
        );
    }
}
