//! Fixes that work when pasted (issue 12 §3): objects, aliases, drivers, grants and vault
//! names filled from what the snapshot knows, never a placeholder it could fill.

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Code, LinkKind, Severity, Status, diagnose};
use kvchain::snapshot::*;

use super::cause_kit::*;

#[test]
fn a_missing_object_suggests_the_vaults_nearest_name() {
    let mut s = tk::healthy();
    tk::object_mut(&mut s, APP).state = Observed::Known(None);
    // A name the pod never mounted (a pod that mounted it shows it existed: audit EEE1).
    for st in &mut s.spc_statuses.items {
        st.objects.clear();
    }
    tk::vault_mut(&mut s, NS).object_names = Some(vec![
        (ObjectType::Secret, "web_db_pass".into()),
        (ObjectType::Secret, "unrelated".into()),
        (ObjectType::Key, "web-db-pas".into()),
    ]);
    let c = one(&s);
    let f = find(&c, Code::KVC601);
    assert!(
        f.message.contains("did you mean web_db_pass?"),
        "{}",
        f.message
    );
    // The testkit's object has an alias, which names the file (FACTS §5): renaming the object
    // leaves the file as it is (lab_volume_objects: without an alias the edit adds one).
    assert!(
        f.fix.ends_with("objects[0].objectName: web_db_pass"),
        "{}",
        f.fix
    );
}

/// A 404 does not tell a deleted object from one that never existed, and Key Vault's soft
/// delete keeps a deleted one under its name: `secret set` on it fails 409 Conflict until it
/// is recovered (codes.yaml KVC601: "recover the object if it was deleted … else create it").
/// The pasted fix recovers first and creates only when there is nothing to recover.
#[test]
fn a_missing_object_without_a_near_name_gets_a_command_that_runs() {
    let mut s = tk::healthy();
    tk::object_mut(&mut s, APP).state = Observed::Known(None);
    let c = one(&s);
    let f = find(&c, Code::KVC601);
    let shell = crate::xd_paste::after_guards(&f.fix)
        .split("  #")
        .next()
        .unwrap_or_default();
    assert_eq!(
        shell.split(" || ").collect::<Vec<_>>()[..],
        [
            "az keyvault secret recover --vault-name kv-shop -n web-db-pass",
            // A certificate's own secret comes back with the certificate (audit HHH3).
            "az keyvault certificate recover --vault-name kv-shop -n web-db-pass",
            "az keyvault secret set --vault-name kv-shop -n web-db-pass --file \"${VALUE_FILE:?set VALUE_FILE to a file holding the value to store}\""
        ],
        "{}",
        f.fix
    );
    assert!(
        !f.fix.contains('…') && !f.fix.contains("create/set"),
        "{}",
        f.fix
    );
}

/// The recover that succeeds needs no value: pasted with `$VALUE_FILE` unset, the line
/// recovers the deleted secret and stops there; only the create, reached when there is nothing
/// to recover, asks for the file (a guard at the head of the line asked for it first).
#[test]
fn a_missing_objects_recover_runs_without_the_value_file() {
    if !crate::iii_paste::bash_present() {
        return;
    }
    let mut s = tk::healthy();
    tk::object_mut(&mut s, APP).state = Observed::Known(None);
    let c = one(&s);
    let f = find(&c, Code::KVC601);
    let run = |az: &str| {
        std::process::Command::new("bash")
            .args(["-u", "-c", &format!("az() {{ {az} }}; {}", f.fix)])
            .env_remove("VALUE_FILE")
            .output()
            .unwrap()
    };
    assert!(run("return 0;").status.success(), "{}", f.fix);
    let created = run("return 1;");
    assert!(
        String::from_utf8_lossy(&created.stderr).contains("VALUE_FILE: set VALUE_FILE to "),
        "the create names the file it needs: {}",
        f.fix
    );
}

#[test]
fn malformed_objects_state_the_format_once() {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters.insert(
        "objects".into(),
        "array:\n  - |\n    objectName: a\n    objectType: secret\n   - |\n    objectName: b\n"
            .into(),
    );
    tk::reparse(spc);
    let c = one(&s);
    let f = find(&c, Code::KVC705);
    assert!(!f.message.contains("objects: objects"), "{}", f.message);
    assert!(
        f.message.contains("`array:`") && f.message.contains("`- |`"),
        "{}",
        f.message
    );
}

/// One cause, one finding: with `objects` unreadable the provider mounts nothing (KVC705), so
/// the files a synced Secret's keys name are unknown (no KVC801 "matches no mounted file"),
/// and the permissions and objects it needs are what the YAML says: Access is not "granted",
/// and neither it nor the Object link reads unknown, as if a read had failed (nothing went
/// unread): both wait on the Mount link's KVC705 ("blocked: Mount", audit TTT-honest left it).
#[test]
fn unreadable_objects_leave_sync_keys_unknown_and_access_blocked_not_granted() {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters.insert(
        "objects".into(),
        "array:\n  - |\n    objectName: a\n   - |\n".into(),
    );
    tk::reparse(spc);
    let c = one(&s);
    find(&c, Code::KVC705);
    let codes: Vec<Code> = c.findings().map(|f| f.code).collect();
    assert!(!codes.contains(&Code::KVC801), "{codes:?}");
    for kind in [LinkKind::Access, LinkKind::VaultObject] {
        let link = c.link(kind);
        assert_eq!(link.status, Status::Pending, "{link:?}");
        assert_eq!(link.summary, "blocked: Mount", "{link:?}");
    }
    assert_eq!(c.root_cause().map(|f| f.code), Some(Code::KVC705));
}

/// A consumer whose CSI volume names an unrendered SecretProviderClass (`${SPC}`, KVC101 on its
/// own chain) may mount this SPC once rendered: it is not reported as reading the synced
/// Secret without mounting it (KVC903), nor given an orphan chain when no pod mounts the SPC.
#[test]
fn a_consumer_naming_an_unrendered_spc_is_not_said_to_mount_none() {
    let mut s = tk::healthy();
    let mut reader = s.pods.items[0].clone();
    reader.name = "reader".into();
    reader.uid = "uid-reader".into();
    reader.owners.clear();
    reader.volumes = vec![tk::csi_volume("secrets", "${SPC}")];
    s.pods.items.push(reader.clone());
    let chains = diagnose(&s);
    let codes: Vec<Code> = chains
        .iter()
        .flat_map(|c| c.findings())
        .map(|f| f.code)
        .collect();
    assert!(codes.contains(&Code::KVC101), "{codes:?}");
    assert!(!codes.contains(&Code::KVC903), "{codes:?}");
    // The same reader with a real, other SPC is a consumer that mounts none of this one.
    let mut real = s.clone();
    real.pods.items.retain(|p| p.name != "reader");
    reader.volumes = vec![tk::csi_volume("secrets", "other-kv")];
    real.pods.items.push(reader);
    let codes: Vec<Code> = diagnose(&real)
        .iter()
        .flat_map(|c| c.findings())
        .map(|f| f.code)
        .collect();
    assert!(codes.contains(&Code::KVC903), "{codes:?}");
    // No pod mounts the SPC: the unrendered reader gets no orphan chain.
    s.pods.items.retain(|p| p.name == "reader");
    s.spc_statuses.items.clear();
    let chains = diagnose(&s);
    assert!(
        chains.iter().all(|c| c.pod == "reader"),
        "{:?}",
        chains.iter().map(|c| &c.id).collect::<Vec<_>>()
    );
}

/// FACTS §5: the provider reads objectAlias; any other key is ignored, so `alias: password`
/// leaves the file named after objectName and the synced key finds no file. The finding names
/// the misspelt field and the fix renames it (not the secretObjects entry, which is right).
#[test]
fn a_misspelt_object_alias_is_named_as_the_cause_of_the_missing_file() {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    let objects = tk::objects_yaml(&[&[
        ("objectName", &tk::object_name(APP)),
        ("objectType", "secret"),
        ("alias", "password"),
    ]]);
    tk::set_objects(spc, objects);
    let c = one(&s);
    let f = find(&c, Code::KVC801);
    assert!(
        f.message
            .contains("objects[0] sets it as `alias`, a field the provider does not read"),
        "{}",
        f.message
    );
    assert!(
        f.fix.ends_with("# objects[0]: rename alias to objectAlias"),
        "{}",
        f.fix
    );
    assert!(
        f.confirm.contains("{.spec.parameters.objects}"),
        "{}",
        f.confirm
    );
}

#[test]
fn driver_fixes_follow_the_install_method() {
    for (install, expect, never) in [
        (DriverInstall::AksAddon, "az aks update", "helm"),
        (DriverInstall::Helm, "helm upgrade", "az aks"),
    ] {
        let mut s = tk::healthy();
        if let Observed::Known(csi) = &mut s.cluster.csi_driver {
            csi.install = Some(install);
            // The release seen on the driver's DaemonSet (rules_helm_release: when it was not
            // seen, the fix looks it up first).
            csi.helm = (install == DriverInstall::Helm).then(|| HelmRelease {
                name: "csi-secrets-store".into(),
                namespace: "kube-system".into(),
                chart: "secrets-store-csi-driver".into(),
                version: None,
            });
            csi.rotation_enabled = Observed::Known(false);
        }
        let c = one(&s);
        let f = find(&c, Code::KVC702);
        assert!(
            crate::xd_paste::after_guards(&f.fix).starts_with(expect) && !f.fix.contains(never),
            "{install:?}: {}",
            f.fix
        );
        // A synced Secret missing while mounted, the driver failing to create it
        // (FACTS §11: without sync RBAC, FailedToCreateSecret … forbidden): sync RBAC is
        // Helm's switch only.
        s.secrets.items.clear();
        s.events.items.push(sync_forbidden());
        let c = one(&s);
        let f = find(&c, Code::KVC806);
        assert_eq!(f.severity, Severity::Error);
        assert_eq!(
            f.fix.contains("syncSecret.enabled=true"),
            install == DriverInstall::Helm,
            "{}",
            f.fix
        );
    }
}

/// FACTS §2: the SPCPS controller re-checks every 5 minutes that the synced Secret exists and
/// creates it. A Secret missing while mounted with no FailedToCreateSecret event was deleted
/// and comes back by itself: no driver failure is claimed and no pod is deleted.
#[test]
fn a_synced_secret_deleted_while_mounted_is_recreated_not_a_driver_failure() {
    let mut s = tk::healthy();
    s.secrets.items.clear();
    let c = one(&s);
    let f = find(&c, Code::KVC806);
    assert_eq!(f.severity, Severity::Warning, "{f:#?}");
    assert!(!f.message.contains("failed to create"), "{}", f.message);
    assert!(f.message.contains("recreated"), "{}", f.message);
    assert!(!f.fix.contains("delete pod"), "{}", f.fix);
    assert!(f.fix.starts_with("# nothing to delete"), "{}", f.fix);
}

#[test]
fn fixes_fill_what_the_snapshot_knows() {
    // The pod runs as a service account that does not exist, while one of its namespace
    // already carries the SPC's clientID: use that one.
    let mut s = tk::healthy();
    tk::pod_mut(&mut s, APP).service_account = "web-typo".into();
    let c = one(&s);
    let f = find(&c, Code::KVC202);
    assert!(f.fix.ends_with("serviceAccountName: web"), "{}", f.fix);
    // The vault firewall: the node pool comes from the pod's node name.
    let mut s = tk::healthy();
    tk::vault_mut(&mut s, NS).network = NetworkObs {
        public_access: true,
        default_deny: true,
        cluster_allowed: Observed::Known(false),
    };
    let c = one(&s);
    let f = find(&c, Code::KVC505);
    assert!(
        f.fix.contains("-n nodepool1 --query vnetSubnetId"),
        "{}",
        f.fix
    );
    assert!(!f.fix.contains('<'), "{}", f.fix);
}

/// FACTS §5: the driver merges a volume's attributes over the SPC's parameters. A volume
/// written in the inline form (keyvaultName, objects… in volumeAttributes, no
/// secretProviderClass) is fixed by moving those keys into a SecretProviderClass and naming
/// it; the fix says to remove them (left, they override it) and keeps nodePublishSecretRef.
#[test]
fn an_inline_volume_is_fixed_by_a_spc_made_of_its_attributes() {
    let mut s = tk::healthy();
    for p in s.pods.items.iter_mut() {
        if let VolumeSourceObs::Csi {
            attributes,
            node_publish_secret,
            ..
        } = &mut p.volumes[0].source
        {
            attributes.clear();
            attributes.insert("keyvaultName".into(), "kv-inline".into());
            attributes.insert("usePodIdentity".into(), "false".into());
            // The 2020 examples: required keys left empty, keys the provider never read.
            attributes.insert("tenantId".into(), "".into());
            attributes.insert("resourceGroup".into(), "rg".into());
            *node_publish_secret = Some("secrets-store-creds".into());
        }
    }
    let chains = diagnose(&s);
    let f = find_any(&chains, Code::KVC103);
    // FACTS §5: an empty required key is "not provided"; unread keys change nothing. The SPC
    // made from the volume carries what the provider reads, asks for what is empty, and
    // drops the rest; its name is one the fix chooses, not a placeholder.
    assert!(
        f.fix.contains(&format!(
            "create SecretProviderClass {APP}-kv (provider: azure) with this volume's parameters keyvaultName, usePodIdentity; tenantId set (empty in the volume); without resourceGroup"
        )),
        "{}",
        f.fix
    );
    assert!(!f.fix.contains('<'), "{}", f.fix);
    assert!(f.fix.contains("remove the inline keys"), "{}", f.fix);
    assert!(
        f.fix
            .contains("nodePublishSecretRef: {name: secrets-store-creds}"),
        "{}",
        f.fix
    );
}

/// A command must work when pasted: an SPC still named by a placeholder (`<keyvault-name>`)
/// is no object the API server can hold, so no kubectl command names it; the confirm finds
/// the templates holding it (the value quoted as one shell word, never read as a redirection)
/// and the fix is to render them.
#[test]
fn a_placeholder_spc_name_is_one_quoted_shell_word_in_commands() {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    spc.name = "<keyvault-name>".into();
    spc.parameters
        .insert("keyvaultName".into(), "<keyvault-name>".into());
    tk::reparse(spc);
    for p in s.pods.items.iter_mut() {
        if let VolumeSourceObs::Csi { attributes, .. } = &mut p.volumes[0].source {
            attributes.insert("secretProviderClass".into(), "<keyvault-name>".into());
        }
    }
    let chains = diagnose(&s);
    let f = find_any(&chains, Code::KVC306);
    assert!(
        f.message.contains("metadata.name: <keyvault-name>"),
        "{}",
        f.message
    );
    assert_eq!(f.confirm, "grep -rn -F '<keyvault-name>' .");
    assert!(f.fix.starts_with("# "), "{}", f.fix);
    for f in chains.iter().flat_map(|c| c.findings()) {
        for cmd in [&f.confirm, &f.fix] {
            assert!(
                !cmd.contains("secretproviderclass '<keyvault-name>'"),
                "{}: {cmd}",
                f.code
            );
        }
    }
}

/// FACTS §8: a role assignment may be scoped to one object (`<vault>/secrets/<name>`); Key
/// Vault Secrets User grants getSecret wherever it is assigned. An identity granted object by
/// object, one object short, lacks a grant for that object only (KVC501), not the wrong role
/// (KVC502) for all of them; the fix grants the missing object the same way.
#[test]
fn a_grant_scoped_to_other_objects_is_a_missing_grant_for_the_uncovered_one() {
    let mut s = tk::healthy();
    let first = tk::object_name(APP);
    let mut other = tk::object_mut(&mut s, APP).clone();
    other.name = "web-api-token".into();
    s.azure.objects.push(other);
    let spc = tk::spc_mut(&mut s, APP);
    let objects = tk::objects_yaml(&[
        &[("objectName", &first), ("objectType", "secret")],
        &[("objectName", "web-api-token"), ("objectType", "secret")],
    ]);
    tk::set_objects(spc, objects);
    spc.secret_objects.clear();
    let vault = tk::vault_id(NS);
    tk::role_mut(&mut s, NS, APP).scope = format!("{vault}/secrets/{first}");
    let chains = diagnose(&s);
    assert!(
        !tk::codes(&chains).contains(&Code::KVC502),
        "{:#?}",
        chains[0].links
    );
    let f = find_any(&chains, Code::KVC501);
    assert!(f.message.contains("secret web-api-token"), "{}", f.message);
    assert!(!f.message.contains(&first), "{}", f.message);
    assert!(
        f.fix
            .ends_with(&format!("--scope {vault}/secrets/web-api-token")),
        "{}",
        f.fix
    );
    assert!(
        f.evidence
            .iter()
            .any(|e| e.contains(&format!("secrets/{first} only"))),
        "{:#?}",
        f.evidence
    );
    // Granted on the vault, both objects are covered.
    tk::role_mut(&mut s, NS, APP).scope = vault;
    assert!(!tk::codes(&diagnose(&s)).contains(&Code::KVC501));
}

/// FACTS §5: the vault URL is built from keyvaultName, which must be 3–24 characters of
/// `[-A-Za-z0-9]`. A vault URL or host is named as such and its first label proposed; a name
/// that is no URL and no valid name gets the provider's own objection, never a proposal that
/// is itself invalid.
#[test]
fn a_vault_name_is_a_url_only_when_it_looks_like_one() {
    let verdict = |name: &str| {
        let mut s = tk::healthy();
        let spc = tk::spc_mut(&mut s, APP);
        spc.parameters.insert("keyvaultName".into(), name.into());
        tk::reparse(spc);
        find_any(&diagnose(&s), Code::KVC302).clone()
    };
    let url = verdict("https://kv-shop.vault.azure.net/");
    assert!(url.message.contains("URL/host name"), "{}", url.message);
    assert!(url.fix.ends_with("keyvaultName: kv-shop"), "{}", url.fix);
    let host = verdict("kv-shop.vault.azure.net");
    assert!(host.fix.ends_with("keyvaultName: kv-shop"), "{}", host.fix);
    let bad = verdict("kv_shop.prod");
    assert!(!bad.message.contains("URL"), "{}", bad.message);
    assert!(
        bad.message.contains("Invalid vault name"),
        "{}",
        bad.message
    );
    assert!(!bad.fix.contains("kv_shop"), "{}", bad.fix);
}

/// FACTS §5: each objects item is a YAML mapping; a key written twice is invalid YAML. Two
/// objectName keys in one item are a name and a file name written with the wrong key: the
/// fix names the item and renames the second to objectAlias.
#[test]
fn a_duplicate_object_name_key_is_fixed_as_the_alias_it_was_meant_to_be() {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters.insert(
        "objects".into(),
        "array:\n  - |\n    objectName: web-db-pass\n    objectType: secret\n    objectName: DB_PASS\n"
            .into(),
    );
    tk::reparse(spc);
    let f = find_any(&diagnose(&s), Code::KVC705).clone();
    assert!(
        f.message.contains("duplicate key \"objectName\""),
        "{}",
        f.message
    );
    assert!(
        f.fix.ends_with(
            "objects.array[0]: rename the second objectName to objectAlias (the file name)"
        ),
        "{}",
        f.fix
    );
}
