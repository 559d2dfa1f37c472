//! Audit HHH: truth leftovers of earlier audits, each checked against the documented
//! behaviour (FACTS, the Key Vault REST reference, the az CLI reference).

use std::time::Duration;

use crate::azure_support::*;
use crate::ggg_azure_truth::gateway_tls_lab;
use kvchain::chain::{Code, Finding, diagnose};
use kvchain::snapshot::{ObjectType, Observed, Snapshot, VaultObject};

const HOUR: Duration = Duration::from_secs(3600);

async fn secret(fake: &std::sync::Arc<FakeAzure>, name: &str) -> VaultObject {
    let obs = observer(fake, HOUR)
        .observe(&wanted(&[(ObjectType::Secret, name)]))
        .await;
    let o = obs
        .objects
        .iter()
        .find(|o| o.object_type == ObjectType::Secret && o.name == name)
        .expect("observed");
    match &o.state {
        Observed::Known(Some(v)) => v.clone(),
        other => panic!("{name}: {other:?}"),
    }
}

/// GGG-A5 on live clusters. A secret that backs a certificate (`managed: true`) holds the
/// private key only when the certificate's policy says `key_props.exportable: true` (Key Vault
/// GetCertificatePolicy, `GET {vault}/certificates/{name}/policy`; the policy shape of
/// shared/upstream/examples/azure/keyvault/2025-06-01/GetCertificate-example.json). The live
/// source reads that policy for such secrets only.
#[tokio::test]
async fn live_source_reads_whether_a_certificate_key_is_exportable() {
    let fake = contoso();
    fake.add_first(
        Route::get("kv-rbac.vault.azure.net", "/certificates/tls-cert/policy").reply(
            200,
            fixture("cert-policy-tls-cert.json")
                .replace("\"exportable\": true", "\"exportable\": false"),
        ),
    );
    let v = secret(&fake, "tls-cert").await;
    assert!(v.backs_certificate);
    assert_eq!(v.key_exportable, Some(false), "{v:?}");
    assert_eq!(v.key_exportable_unknown, None);
    assert_eq!(
        fake.count("/certificates/tls-cert/policy"),
        1,
        "{:#?}",
        fake.log()
    );

    // The example's own policy: exportable.
    let fake = contoso();
    assert_eq!(secret(&fake, "tls-cert").await.key_exportable, Some(true));

    // A plain secret backs no certificate: no policy asked.
    let fake = contoso();
    let v = secret(&fake, "db-password").await;
    assert_eq!((v.key_exportable, v.key_exportable_unknown), (None, None));
    assert_eq!(fake.count("/policy"), 0, "{:#?}", fake.log());
}

/// A caller without certificates/get (e.g. a Secrets-only access policy) is refused the
/// policy with 403: the flag is unknown with Azure's reason, and the secret itself (its
/// versions) stays known.
#[tokio::test]
async fn a_refused_certificate_policy_leaves_exportability_unknown_not_the_object() {
    let fake = contoso();
    fake.add_first(
        Route::get("kv-rbac.vault.azure.net", "/certificates/tls-cert/policy")
            .reply(403, fixture("error-authorization-failed.json")),
    );
    let v = secret(&fake, "tls-cert").await;
    assert!(v.backs_certificate && !v.versions.is_empty(), "{v:?}");
    assert_eq!(v.key_exportable, None);
    let why = v.key_exportable_unknown.expect("a reason");
    assert!(why.contains("tls-cert") && why.contains("403"), "{why}");
}

fn gateway(s: &Snapshot) -> Vec<Finding> {
    diagnose(s)
        .iter()
        .filter(|c| c.pod.starts_with("gateway-"))
        .flat_map(|c| c.findings())
        .cloned()
        .collect()
}

/// With the policy unread (as the live source leaves it on a 403), the driver's failure to
/// build the tls Secret is not "settled by an SPC edit": a non-exportable key is exactly that
/// failure and no edit ends it. KVC804 says the exportability is not known and confirms it
/// with the policy read.
#[test]
fn an_unread_certificate_policy_is_no_settled_tls_failure() {
    let mut s = gateway_tls_lab(false);
    let mut cleared = 0;
    for o in s.azure.objects.iter_mut() {
        if let Observed::Known(Some(v)) = &mut o.state
            && v.backs_certificate
        {
            v.key_exportable = None;
            v.key_exportable_unknown = Some(format!(
                "cannot read certificate {}'s policy: 403 Forbidden (AccessDenied)",
                o.name
            ));
            cleared += 1;
        }
    }
    assert!(cleared > 0);
    let found = gateway(&s);
    let f: Vec<&Finding> = found.iter().filter(|f| f.code == Code::KVC804).collect();
    assert_eq!(f.len(), 1, "{found:#?}");
    assert!(!f[0].message.contains("changed since"), "{}", f[0].message);
    assert!(
        f[0].message.contains("is not known") && f[0].message.contains("403"),
        "{}",
        f[0].message
    );
    assert!(
        f[0].confirm.contains("policy.keyProperties.exportable"),
        "{}",
        f[0].confirm
    );
}

/// GGG-A7. Key Vault object identifiers, the version included, are case-insensitive ("should
/// always be compared as case-insensitive strings",
/// https://learn.microsoft.com/en-us/azure/key-vault/about-keys-secrets-and-certificates): an
/// objectVersion pinned in upper-case hex is the version the vault lists in lower case, which
/// the provider fetches. It read as KVC601 "version not found".
#[test]
fn a_pin_in_upper_case_hex_names_the_listed_version() {
    use kvchain::chain::testkit::{self as tk, APP};
    let mut s = tk::healthy();
    let name = tk::object_name(APP);
    let pin = tk::V1.to_ascii_uppercase();
    assert_ne!(pin, tk::V1);
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters.insert(
        "objects".into(),
        tk::objects_yaml(&[&[
            ("objectName", &name),
            ("objectType", "secret"),
            ("objectVersion", &pin),
        ]]),
    );
    tk::reparse(spc);
    let chains = diagnose(&s);
    let codes = crate::rules_runtime::codes(&chains);
    assert!(!codes.contains(&Code::KVC601), "{codes:#?}");
    // What a pin always gets: rotation never moves it.
    assert!(codes.contains(&Code::KVC603), "{codes:#?}");
}

/// GGG-A7 in the lab: its Key Vault serves a version by a case-insensitive id as the real one
/// does, so checkout's SPC pinned to its older version in upper case mounts it, and nothing
/// says the version is missing.
#[test]
fn the_lab_vault_serves_a_pin_in_upper_case_hex() {
    use kvchain::source::lab::export;
    let (src, _) = crate::lab_pinned::pinned_as(str::to_ascii_uppercase);
    let s = export::snapshot(src.world());
    let checkout: Vec<Finding> = diagnose(&s)
        .iter()
        .filter(|c| c.pod.starts_with("checkout-"))
        .flat_map(|c| c.findings())
        .cloned()
        .collect();
    assert!(!checkout.is_empty(), "KVC603 at least");
    assert!(
        checkout.iter().all(|f| matches!(f.code, Code::KVC603)),
        "{checkout:#?}"
    );
}

/// What `az keyvault set-policy` leaves of an access policy (azure-cli
/// `command_modules/keyvault/custom.py` `set_policy`: "If key_permissions is not set, use prev.
/// value", i.e. a type given is replaced, one not given kept; `_params.py`: each
/// `--*-permissions` takes nargs='*', so a flag without values is an empty list). `policy` is
/// (secrets, keys, certificates); `words` the command's words after `--object-id <id>`.
fn after_set_policy(policy: [Vec<String>; 3], words: &[&str]) -> [Vec<String>; 3] {
    let mut out = policy;
    let mut current: Option<usize> = None;
    for w in words {
        if *w == "#" || *w == "&&" {
            break;
        }
        match *w {
            "--secret-permissions" => current = Some(0),
            "--key-permissions" => current = Some(1),
            "--certificate-permissions" => current = Some(2),
            "--storage-permissions" => current = None,
            _ => {
                if let Some(i) = current {
                    out[i].push(w.to_string());
                }
                continue;
            }
        }
        if let Some(i) = current {
            out[i].clear();
        }
    }
    out
}

/// GGG-A1's fix text, HHH. KVC504 on an access-policy vault narrows the principal's policy to
/// the mount's reads. It deleted the policy, then set the reads: between the two a mount is
/// refused (the kubelet retries, but the mount fails once). One set-policy giving every type
/// replaces the whole policy in one write: after it, no write permission of any type is left
/// and the read the mount makes is there, with no moment without it.
#[test]
fn kvc504_replaces_an_access_policy_in_one_write() {
    use kvchain::chain::testkit::{self as tk, APP, NS};
    use kvchain::snapshot::AccessPolicyObs;
    let mut s = tk::healthy();
    s.azure.role_assignments.items.clear();
    let pid = tk::principal_id(NS, APP);
    let held = AccessPolicyObs {
        object_id: pid.clone(),
        secrets: vec!["get".into(), "list".into(), "set".into(), "delete".into()],
        keys: vec!["all".into()],
        certificates: vec!["get".into(), "delete".into()],
        ..AccessPolicyObs::default()
    };
    let vault = tk::vault_mut(&mut s, NS);
    vault.rbac = false;
    vault.access_policies.push(held.clone());
    let chains = diagnose(&s);
    let f = crate::compound_optional::with(&chains, Code::KVC504);
    assert_eq!(f.len(), 1, "{:#?}", crate::rules_runtime::codes(&chains));
    let fix = f[0].fix.to_string();
    assert!(
        !fix.contains("delete-policy"),
        "a window without the reads: {fix}"
    );
    assert_eq!(fix.matches("az ").count(), 1, "one command: {fix}");
    let words: Vec<&str> = fix.split_whitespace().collect();
    let at = words
        .iter()
        .position(|w| *w == pid)
        .expect("the principal's policy");
    assert_eq!(
        words[..at],
        [
            "az",
            "keyvault",
            "set-policy",
            "-n",
            &tk::vault_name(NS),
            "--object-id"
        ]
    );
    let [secrets, keys, certificates] = after_set_policy(
        [held.secrets, held.keys, held.certificates],
        &words[at + 1..],
    );
    assert_eq!(secrets, ["get"], "{fix}");
    assert!(keys.is_empty() && certificates.is_empty(), "{fix}");
}

/// DDD10's stronger form. With the pods of its namespace unread, an SPC is "not known to be
/// mounted"; an object of it that the vault is known not to hold (its look-up answered 404)
/// fails every mount of it, whichever pod makes it (FACTS §5: `failed to get objectType:…` with
/// `SecretNotFound`). That is known and is said (KVC601), while the SPC stays not known to be
/// mounted.
#[test]
fn an_spc_with_pods_unread_still_names_an_object_known_missing() {
    use kvchain::chain::testkit::{self as tk, APP};
    use kvchain::snapshot::SourceKind;
    let mut s = tk::healthy();
    s.source.kind = SourceKind::Live;
    s.pods.items.clear();
    s.pods
        .gaps
        .namespaces
        .insert(tk::NS.into(), "cannot list pods in shop: forbidden".into());
    let name = tk::object_name(APP);
    let absent = s
        .azure
        .objects
        .iter_mut()
        .find(|o| o.name == name)
        .expect("the app's object");
    absent.state = Observed::Known(None);
    let chains = diagnose(&s);
    let spcs = kvchain::chain::unmounted_spcs(&s, &chains);
    let v = spcs
        .iter()
        .find(|v| v.name == tk::spc_name(APP))
        .expect("the app's SPC, checked on its own");
    assert!(v.pods_unread.is_some(), "{v:#?}");
    assert_eq!(v.unmounted_label(), "not known to be mounted: pods unread");
    let f: Vec<&Finding> = v
        .findings
        .iter()
        .filter(|f| f.code == Code::KVC601)
        .collect();
    assert_eq!(f.len(), 1, "{v:#?}");
    assert!(
        f[0].message.contains(&name) && f[0].message.contains("does not exist"),
        "{}",
        f[0].message
    );
    assert_eq!(v.status, kvchain::chain::Status::Broken, "{v:#?}");
}
