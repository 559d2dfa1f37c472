//! One missing grant is one finding: Key Vault Certificate User allows both
//! `certificates/read` and `keys/read` (FACTS §8), so an identity holding Secrets User that
//! must read a cert object and a key object lacks one role, not two, and the fix creates
//! that assignment once.

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Code, Severity};
use kvchain::snapshot::*;

use super::cause_kit::*;

/// The healthy app whose SPC reads its object as `first` (its vault object retyped so) and a
/// key object `KEY` beside it, which the vault holds too.
fn with_a_key(first: ObjectType) -> Snapshot {
    let mut s = tk::healthy();
    let name = tk::object_name(APP);
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters.insert(
        "objects".into(),
        tk::objects_yaml(&[
            &[
                ("objectName", &name),
                ("objectType", first.as_str()),
                ("objectAlias", "password"),
            ],
            &[("objectName", KEY), ("objectType", "key")],
        ]),
    );
    tk::reparse(spc);
    let object = tk::object_mut(&mut s, APP);
    object.object_type = first;
    let mut signing = object.clone();
    signing.object_type = ObjectType::Key;
    signing.name = KEY.into();
    s.azure.objects.push(signing);
    s
}

const KEY: &str = "signing-key";

#[test]
fn a_cert_and_a_key_under_secrets_user_are_one_missing_certificate_user() {
    let s = with_a_key(ObjectType::Cert);
    let (cert, key) = (tk::object_name(APP), KEY);

    let c = one(&s);
    let grants: Vec<_> = c.findings().filter(|f| f.code == Code::KVC502).collect();
    assert_eq!(grants.len(), 1, "{grants:#?}");
    let f = grants[0];
    assert_eq!(f.severity, Severity::Error);
    assert!(
        f.message.contains(&format!("cert {cert}")) && f.message.contains(&format!("key {key}")),
        "{}",
        f.message
    );
    assert_eq!(
        f.fix.matches("az role assignment create").count(),
        1,
        "{}",
        f.fix
    );
    assert!(
        f.fix.contains("--role \"Key Vault Certificate User\"")
            && f.fix.contains(&tk::vault_id(NS)),
        "{}",
        f.fix
    );
}

/// With no role at all for a secret and a key object: Certificate User's data actions include
/// Secrets User's (getSecret, readMetadata; FACTS §8), so one Certificate User assignment
/// grants both reads, and a Secrets User beside it would grant nothing more. One KVC501, one
/// command (audit E5: two errors, the second command a redundant Secrets User).
#[test]
fn a_secret_and_a_key_with_no_role_are_one_missing_certificate_user() {
    let mut s = with_a_key(ObjectType::Secret);
    let (secret, key) = (tk::object_name(APP), KEY);
    let principal = tk::role_mut(&mut s, NS, APP).principal_id.clone();
    (s.azure.role_assignments.items).retain(|r| r.principal_id != principal);

    let c = one(&s);
    let missing: Vec<_> = c
        .findings()
        .filter(|f| matches!(f.code, Code::KVC501 | Code::KVC502))
        .collect();
    assert_eq!(missing.len(), 1, "{missing:#?}");
    let f = missing[0];
    assert_eq!(f.code, Code::KVC501);
    assert!(
        f.message.contains(&format!("secret {secret}"))
            && f.message.contains(&format!("key {key}")),
        "{}",
        f.message
    );
    assert_eq!(
        f.fix.matches("az role assignment create").count(),
        1,
        "{}",
        f.fix
    );
    assert!(
        f.fix.contains("--role \"Key Vault Certificate User\"") && !f.fix.contains("Secrets User"),
        "{}",
        f.fix
    );
}
