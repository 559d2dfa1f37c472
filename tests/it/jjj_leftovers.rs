//! Audit JJJ: truth leftovers of audits HHH, III and W, each checked against the documented
//! behaviour (FACTS, docs/scenarios.md, the Key Vault and az CLI references), not against
//! what kvchain printed before.

use std::process::Command;

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{self, Code, Finding, LinkKind, Severity, unmounted_spcs};
use kvchain::source::lab::world::World;
use kvchain::source::lab::{self, export};

use crate::compound_optional::with as findings;
use crate::demo_world::{CLIENT, Head, ISSUER, TENANT};
use crate::hhh_scenarios::{CERT, Objects, SECRET, diagnose, settled, settled_in, world_with};
use crate::iii_paste::{assert_parses, bash_present};

fn parses(text: &str) {
    if bash_present() {
        assert_parses(text);
    }
}

/// `kvchain check --lab <file holding world>` as text, without colour.
fn check_text(world: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jjj.yaml");
    std::fs::write(&path, world).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "--no-color", "--lab"])
        .arg(&path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The docs' example world with a Timeline of `events`, as one scenario text.
fn with_timeline(world: String, events: &[&str]) -> String {
    let list: String = events.iter().map(|e| format!("    - {e}\n")).collect();
    format!(
        "{world}---\napiVersion: lab.kvchain.dev/v1\nkind: Timeline\nmetadata: {{name: t}}\nspec:\n  events:\n{list}"
    )
}

const WRONG_TENANT: &str = "{at: 1m, applyFault: {id: spc-wrong-tenant}}";
const BROKEN_YAML: &str = "{at: 1m, applyFault: {id: break-objects-yaml}}";

/// HHH4. `spc-wrong-tenant` and `break-objects-yaml` stacked on one SPC. The provider parses
/// `objects` before it asks Entra ID for any token (FACTS §5: the token is acquired lazily,
/// per object; docs/scenarios.md: parameters, then objects, then per object the exchange), so
/// every mount fails on the YAML and the wrong tenant is not met yet: KVC705 is the root cause
/// and comes first; KVC404 is still reported with its fix (it is real, and needed once the
/// YAML parses) but as blocked by the Mount link's cause, not as the current one.
#[test]
fn broken_objects_come_before_a_wrong_tenant_that_is_not_tried_yet() {
    let w = settled(&[], &[WRONG_TENANT, BROKEN_YAML]);
    let chains = diagnose(&w);
    let c = &chains[0];
    let root = c.root_cause().expect("a root cause");
    assert_eq!(root.code, Code::KVC705, "{:#?}", c.links);
    assert_eq!(c.broken_cause().map(|l| l.link), Some(LinkKind::Mount));
    let tenant = findings(&chains, Code::KVC404);
    assert_eq!(tenant.len(), 1, "{:#?}", c.links);
    let t = &tenant[0];
    assert_eq!(t.follows, Some(LinkKind::Mount), "{t:#?}");
    assert!(t.message.starts_with("blocked by "), "{}", t.message);
    assert!(
        t.fix.contains(&format!("parameters.tenantId: {TENANT}")),
        "{}",
        t.fix
    );
    parses(&t.fix);
    // The text report lists the cause first.
    let text = check_text(&with_timeline(
        world_with(SECRET),
        &[WRONG_TENANT, BROKEN_YAML],
    ));
    let (yaml, tenant) = (text.find("KVC705 "), text.find("KVC404 "));
    assert!(
        yaml.is_some() && tenant.is_some() && yaml < tenant,
        "{text}"
    );
}

/// HHH4, the other half: a wrong tenant alone is the cause (nothing blocks it).
#[test]
fn a_wrong_tenant_alone_is_the_root_cause() {
    let w = settled(&[], &[WRONG_TENANT]);
    let chains = diagnose(&w);
    let root = chains[0].root_cause().expect("a root cause");
    assert_eq!(root.code, Code::KVC404);
    assert_eq!(root.follows, None);
}

/// HHH4 for the parameters. The provider reads its flags, modes, tenant and keyvaultName keys
/// before the objects, but builds the vault URL (refusing a name that is not 3–24 of
/// `[-A-Za-z0-9]`, FACTS §5 `failed to get vault: Invalid vault name`) only after parsing
/// and validating them. An invalid vault name beside broken objects YAML is not met yet:
/// KVC302 says so (blocked by Mount), KVC705 is the cause; alone, KVC302 is the cause.
#[test]
fn an_invalid_vault_name_waits_behind_broken_objects() {
    let bad_name = |w: String| w.replace("keyvaultName: kv-hhh", "keyvaultName: kv_hhh");
    let w = settled_in(bad_name(world_with(SECRET)), &[], &[BROKEN_YAML]);
    let chains = diagnose(&w);
    let c = &chains[0];
    assert_eq!(
        c.root_cause().map(|f| f.code),
        Some(Code::KVC705),
        "{:#?}",
        c.links
    );
    let name = findings(&chains, Code::KVC302);
    assert_eq!(name.len(), 1, "{:#?}", c.links);
    assert_eq!(name[0].follows, Some(LinkKind::Mount), "{:#?}", name[0]);
    assert!(
        name[0].message.starts_with("blocked by "),
        "{}",
        name[0].message
    );
    let snap = export::snapshot(&w);
    let latest = (snap.events.items.iter())
        .filter(|e| e.reason == "FailedMount" && e.message.contains("failed to mount objects"))
        .max_by_key(|e| e.last_seen)
        .expect("a FailedMount");
    assert!(latest.message.contains("objects"), "{}", latest.message);
    assert!(
        !latest.message.contains("Invalid vault name"),
        "{}",
        latest.message
    );

    let w = settled_in(bad_name(world_with(SECRET)), &[], &[]);
    let chains = diagnose(&w);
    let root = chains[0].root_cause().expect("a root cause");
    assert_eq!(root.code, Code::KVC302, "{:#?}", chains[0].links);
    assert_eq!(root.follows, None);
}

/// HHH4's limit. The provider parses every item and checks its format, encoding and file name
/// before it fetches anything, but an unknown `objectType` only when it fetches that item
/// (FACTS §5: `Invalid vaultObjectTypes` comes from the per-object fetch, inside its wrapper).
/// With a valid item first, that item's fetch exchanges the token first: under a wrong
/// tenant every mount fails there (AADSTS700016), so KVC404 is the current cause and is not
/// blocked by the type. On the first item, the type fails before any token.
#[test]
fn an_unknown_object_type_blocks_the_tenant_only_on_the_first_item() {
    const OK: &str = "objectName: db-password\n          objectType: secret";
    const TYPO: &str = "objectName: db-user\n          objectType: sekret";
    for (first, second, typo_first) in [(OK, TYPO, false), (TYPO, OK, true)] {
        let spc = format!("{first}\n        - |\n          {second}");
        let objects = Objects {
            role: "Key Vault Secrets User",
            vault: "secrets: [{name: db-password, value: not-a-real-password}, {name: db-user, value: not-a-real-user}]",
            spc: Box::leak(spc.into_boxed_str()),
            sync: "secretName: api-db\n      type: Opaque\n      data: [{objectName: db-password, key: password}]",
        };
        let w = settled_in(world_with(objects), &[], &[WRONG_TENANT]);
        let chains = diagnose(&w);
        let c = &chains[0];
        let root = c.root_cause().expect("a root cause");
        let tenant = findings(&chains, Code::KVC404);
        assert_eq!(tenant.len(), 1, "{:#?}", c.links);
        assert!(
            !findings(&chains, Code::KVC705).is_empty(),
            "{:#?}",
            c.links
        );
        if typo_first {
            assert_eq!(root.code, Code::KVC705, "{:#?}", c.links);
            assert_eq!(tenant[0].follows, Some(LinkKind::Mount));
        } else {
            assert_eq!(root.code, Code::KVC404, "{:#?}", c.links);
            assert_eq!(tenant[0].follows, None, "{:#?}", tenant[0]);
        }
        // The lab's provider fails where the real one does (its latest FailedMount: the
        // type's refusal before the tenant broke at 1m is history): the tenant's
        // AADSTS700016 with a valid item first, the type's refusal with the typo first.
        let snap = export::snapshot(&w);
        let latest = (snap.events.items.iter())
            .filter(|e| e.reason == "FailedMount" && e.message.contains("failed to mount objects"))
            .max_by_key(|e| e.last_seen)
            .expect("a FailedMount");
        let want = if typo_first {
            "objectType:sekret, objectName:db-user, objectVersion:: Invalid vaultObjectTypes"
        } else {
            "AADSTS700016"
        };
        assert!(latest.message.contains(want), "{}", latest.message);
    }
}

/// W1. `break-objects-yaml` puts a mapping key where `array:`'s list of `- |` items belongs
/// (docs/scenarios.md: "SPC `objects` YAML broken"; FACTS §5: `array:` of YAML strings). The
/// fix said only `# parameters.objects`: it now names the line, its text and what to do.
#[test]
fn a_broken_objects_yaml_fix_names_the_line_and_the_change() {
    let w = settled(&[], &[BROKEN_YAML]);
    let chains = diagnose(&w);
    let f = findings(&chains, Code::KVC705);
    assert!(!f.is_empty(), "no KVC705");
    for f in f {
        let fix = f.fix.as_str();
        assert!(
            fix.starts_with("kubectl edit secretproviderclass api-kv -n demo  # "),
            "{fix}"
        );
        assert!(!fix.ends_with("# parameters.objects"), "{fix}");
        assert!(
            fix.contains("line 2") && fix.contains("objectName: oops"),
            "{fix}"
        );
        assert!(fix.contains("delete") && fix.contains("- |"), "{fix}");
        parses(fix);
    }
}

/// W2. `delete-object` on a certificate deletes the secret Key Vault manages with it
/// (docs/scenarios.md). Key Vault refuses operations on such a secret ("Perform the operation
/// on the corresponding certificate", SecretManagedByKeyVault): the certificate is what is
/// recovered, bringing its secret and key back, so its recover comes first. The SPC says the
/// secret is a certificate's: it is synced as `kubernetes.io/tls` (tls.key and tls.crt).
#[test]
fn a_deleted_certificates_secret_recovers_the_certificate_first() {
    let w = settled_in(
        world_with(CERT),
        &[],
        &["{at: 1m, applyFault: {id: delete-object}}"],
    );
    let chains = diagnose(&w);
    let f = findings(&chains, Code::KVC601);
    assert!(!f.is_empty(), "no KVC601");
    for f in f {
        let fix = f.fix.as_str();
        let cert = fix.find("az keyvault certificate recover --vault-name kv-hhh -n web-cert");
        let secret = fix.find("az keyvault secret recover ");
        assert!(cert.is_some(), "{fix}");
        assert!(secret.is_none() || cert < secret, "{fix}");
        parses(fix);
    }
}

/// W2, a plain secret (no certificate in sight): its own recover comes first - and, since audit
/// UUU-azure, alone: the lab lists the soft-deleted secret, so no create follows it.
#[test]
fn a_deleted_plain_secret_recovers_the_secret_first() {
    let w = settled(&[], &["{at: 1m, applyFault: {id: delete-object}}"]);
    let chains = diagnose(&w);
    let f = findings(&chains, Code::KVC601);
    assert!(!f.is_empty(), "no KVC601");
    for f in f {
        assert!(
            f.fix
                .starts_with("az keyvault secret recover --vault-name kv-hhh -n db-password")
                && !f.fix.contains(" || "),
            "{}",
            f.fix
        );
    }
}

/// The example world without its workload: SecretProviderClass `api-kv` mounted by no pod,
/// with `id-api`'s one credential edited by `edit`.
fn lone_spc(edit: impl Fn(String) -> String) -> Vec<chain::SpcVerdict> {
    let world = Head::db_password(
        "jjj",
        "  secrets: [{name: db-password, value: not-a-real-password}]\n",
    )
    .docs();
    let sc = lab::scenario::parse("jjj", std::path::Path::new("jjj.yaml"), &edit(world))
        .expect("scenario loads");
    let mut w = World::new(sc);
    w.run_until_stable(lab::MAX_SETTLE);
    let s = export::snapshot(&w);
    let chains = chain::diagnose(&s);
    unmounted_spcs(&s, &chains)
}

fn lone_findings(edit: impl Fn(String) -> String) -> Vec<Finding> {
    let v = lone_spc(edit);
    let v = (v.iter())
        .find(|v| v.name == "api-kv")
        .unwrap_or_else(|| panic!("api-kv not standalone: {v:#?}"));
    v.findings.clone()
}

/// HHH5. A SecretProviderClass no pod mounts, whose identity's only federated credential can
/// serve no service account of this cluster: a subject no Kubernetes name can have
/// (`…:demo:Api`, FACTS §7: matching is exact and case-sensitive) or another issuer than the
/// cluster's. Absent is not healthy: it read ✓. It is said, as a warning (no pod fails yet),
/// with a fix that makes the credential serve the account annotated with its clientId.
#[test]
fn a_lone_spc_whose_identity_no_account_can_use_is_not_healthy() {
    let staging = ISSUER.replace("oic.prod-aks", "oic.staging-aks");
    let faults = [
        (
            "subject",
            "subject: 'system:serviceaccount:demo:api'".to_string(),
            "subject: 'system:serviceaccount:demo:Api'".to_string(),
        ),
        (
            "issuer",
            format!("issuer: {ISSUER}"),
            format!("issuer: {staging}"),
        ),
    ];
    for (what, from, to) in faults {
        let f = lone_findings(|w| w.replacen(&from, &to, 1));
        let fed: Vec<&Finding> = (f.iter())
            .filter(|f| f.link == LinkKind::Federation)
            .collect();
        assert_eq!(fed.len(), 1, "{what}: {f:#?}");
        let f = fed[0];
        assert_eq!(f.severity, Severity::Warning, "{what}: {f:#?}");
        assert!(f.message.contains("id-api"), "{what}: {}", f.message);
        assert!(
            f.fix.contains(ISSUER) && f.fix.contains("system:serviceaccount:demo:api"),
            "{what}: {}",
            f.fix
        );
        assert!(!f.fix.contains('<'), "{what}: {}", f.fix);
        parses(&f.fix);
        parses(&f.confirm);
    }
    // A credential for another namespace's account, and no account of `demo` annotated with
    // the clientId: the account is the user's to name, as SA; unset, bash refuses to run it.
    let f = lone_findings(|w| {
        w.replace(
            "subject: 'system:serviceaccount:demo:api'",
            "subject: 'system:serviceaccount:other:worker'",
        )
        .replace(
            &format!("azure.workload.identity/client-id: {CLIENT}"),
            "team: a",
        )
    });
    let fed: Vec<&Finding> = (f.iter())
        .filter(|f| f.link == LinkKind::Federation)
        .collect();
    assert_eq!(fed.len(), 1, "other namespace: {f:#?}");
    let fix = fed[0].fix.as_str();
    assert_eq!(fed[0].severity, Severity::Warning);
    assert!(
        fix.starts_with(": \"${SA:?") && fix.contains("--subject system:serviceaccount:demo:$SA"),
        "{fix}"
    );
    parses(fix);
    // The credential as the account needs it: nothing to say.
    let f = lone_findings(|w| w);
    assert!(f.iter().all(|f| f.link != LinkKind::Federation), "{f:#?}");
    // Nor when the account it names is not created yet (the workload that brings it is still
    // to be applied): a pod running as it will match.
    let f = lone_findings(|w| {
        w.replacen(
            "name: api\n  namespace: demo\n",
            "name: batch\n  namespace: demo\n",
            1,
        )
        .replace(
            &format!("azure.workload.identity/client-id: {CLIENT}"),
            "team: a",
        )
    });
    assert!(f.iter().all(|f| f.link != LinkKind::Federation), "{f:#?}");
}

/// III7. Another provider's SPC (vault) on a pod whose node is not known: KVC104's confirm
/// listed `spec.nodeName=<node>`, a redirection bash refuses. It now finds the node from what
/// is there: the pod's mount events (their source is the node's kubelet) and the driver's and
/// provider's pods with their nodes.
#[test]
fn another_providers_missing_provider_on_an_unknown_node_is_confirmed_pasteably() {
    let mut s = crate::cause_kit::failing_with(
        tk::healthy(),
        "error connecting to provider \"vault\": provider not found: provider \"vault\"",
    );
    crate::cause_kit::vault_provider(&mut s);
    let pod = tk::pod_name(APP, 0);
    for p in s.pods.items.iter_mut().filter(|p| p.name == pod) {
        p.node = None;
    }
    let chains = chain::diagnose(&s);
    let f = findings(&chains, Code::KVC104);
    assert!(!f.is_empty(), "{:#?}", chains[0].links);
    for f in f {
        for text in [&f.confirm, &f.fix] {
            assert!(!text.contains("<node>"), "{text}");
            parses(text);
        }
        assert!(
            f.confirm.contains(&pod) && f.confirm.contains(&format!("-n {NS}")),
            "{}",
            f.confirm
        );
        assert!(f.confirm.contains("vault"), "{}", f.confirm);
    }
}
