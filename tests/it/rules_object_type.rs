//! A SecretProviderClass object whose objectType is not the type the vault holds it under
//! (codes.yaml KVC601: "does not exist in the vault (or not under that type)", why "objectType
//! secret/key/cert mismatched", fix "Correct objectName/objectType"). The provider fetches
//! `<objectType>/<objectName>` only (FACTS §5), so the one cause is the objectType, named as
//! the type the vault has; neither a grant for the type asked (KVC501/502) nor creating an
//! object of that type (which would mount something else) is a fix.

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Code, LinkKind, Status};
use kvchain::snapshot::*;

use super::cause_kit::*;

/// The healthy app with its one object asked as `object_type` (the vault holds a secret).
fn asking_as(object_type: &str) -> Snapshot {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    let objects = tk::objects_yaml(&[&[
        ("objectName", &tk::object_name(APP)),
        ("objectType", object_type),
        ("objectAlias", "password"),
    ]]);
    tk::set_objects(spc, objects);
    // The look-up of the type asked: not found.
    let t = ObjectType::parse(object_type).expect("a provider object type");
    s.azure.objects.push(VaultObjectObs {
        vault: tk::vault_name(NS),
        object_type: t,
        name: tk::object_name(APP),
        state: Observed::Known(None),
    });
    s
}

/// Key Vault's answer to the pod's read of a key with only Key Vault Secrets User: the RBAC
/// refusal for keys/read (FACTS §5 error shape, §8 dataActions).
fn key_read_refused() -> String {
    format!(
        "failed to get objectType:key, objectName:{0}, objectVersion:: GET https://{1}.vault.azure.net/keys/{0}/\n----\nRESPONSE 403: 403 Forbidden\nERROR CODE: Forbidden\n----\n{{\"error\":{{\"code\":\"Forbidden\",\"message\":\"Caller is not authorized to perform action on resource.\\r\\nAction: 'Microsoft.KeyVault/vaults/keys/read'\",\"innererror\":{{\"code\":\"ForbiddenByRbac\"}}}}}}",
        tk::object_name(APP),
        tk::vault_name(NS)
    )
}

#[test]
fn a_secret_asked_as_a_key_is_one_cause_the_object_type() {
    let c = one(&failing_with(asking_as("key"), &key_read_refused()));
    assert_eq!(codes(&c), [Code::KVC601], "{:#?}", c.links);
    let f = find(&c, Code::KVC601);
    assert!(f.message.contains("a secret of that name"), "{}", f.message);
    assert!(
        f.fix.ends_with("objects[0].objectType: secret"),
        "{}",
        f.fix
    );
    assert!(!f.fix.contains("key create"), "{}", f.fix);
    // The refusal for the type asked is the proof of this cause, not a grant to add.
    assert!(has_event(f), "{f:#?}");
    assert!(
        c.findings()
            .all(|f| !matches!(f.code, Code::KVC501 | Code::KVC502)),
        "{:#?}",
        c.links
    );
    assert_eq!(c.link(LinkKind::Access).status, Status::Ok);
    assert_eq!(c.link(LinkKind::Mount).summary, "blocked: Object");
}

/// The lab's vault listing (object names by type) shows it when no look-up of the other
/// type was made.
#[test]
fn the_vault_listing_names_the_type_the_object_has() {
    let mut s = asking_as("cert");
    let name = tk::object_name(APP);
    s.azure
        .objects
        .retain(|o| !(o.object_type == ObjectType::Secret && o.name == name));
    tk::vault_mut(&mut s, NS).object_names = Some(vec![(ObjectType::Secret, name)]);
    let c = one(&s);
    let f = find(&c, Code::KVC601);
    assert!(
        f.fix.ends_with("objects[0].objectType: secret"),
        "{}",
        f.fix
    );
    assert!(
        f.confirm.starts_with("az keyvault secret show"),
        "{}",
        f.confirm
    );
}

/// Near miss: no object of that name under any type is a missing object (recover or create),
/// not a wrong type.
#[test]
fn a_name_the_vault_has_under_no_type_is_not_a_wrong_type() {
    let mut s = asking_as("key");
    let name = tk::object_name(APP);
    s.azure
        .objects
        .retain(|o| !(o.object_type == ObjectType::Secret && o.name == name));
    let c = one(&s);
    let f = find(&c, Code::KVC601);
    assert!(!f.message.contains("objectType"), "{}", f.message);
    assert!(f.fix.contains("az keyvault key recover"), "{}", f.fix);
}

/// Unknown is not absent: a failed look-up of the type asked says nothing about a mismatch.
#[test]
fn an_unread_object_is_no_wrong_type() {
    let mut s = asking_as("key");
    for o in &mut s.azure.objects {
        if o.object_type == ObjectType::Key {
            o.state = Observed::unknown("403 Forbidden listing keys");
        }
    }
    let c = one(&s);
    assert!(
        c.findings().all(|f| !f.message.contains("objectType (")),
        "{:#?}",
        c.links
    );
}

/// Audit WW3: `objectType: secret` for a name the vault holds only as a key, read with Key
/// Vault Secrets User. The read the SPC makes (secrets/getSecret) is granted and Key Vault
/// answers 404: one typo, one error (README "one typo is one error"). The Access link is not
/// blamed for the keys/read the corrected SPC will need; KVC601's fix grants it before the
/// objectType edit.
#[test]
fn a_key_asked_as_a_secret_with_secrets_user_is_one_error_and_access_holds() {
    let mut s = tk::healthy();
    let name = tk::object_name(APP);
    let held = s
        .azure
        .objects
        .iter_mut()
        .find(|o| o.object_type == ObjectType::Secret && o.name == name)
        .expect("the healthy app's secret");
    let state = std::mem::replace(&mut held.state, Observed::Known(None));
    s.azure.objects.push(VaultObjectObs {
        vault: tk::vault_name(NS),
        object_type: ObjectType::Key,
        name: name.clone(),
        state,
    });
    let not_found = format!(
        "failed to get objectType:secret, objectName:{name}, objectVersion:: GET https://{}.vault.azure.net/secrets/{name}/\n----\nRESPONSE 404: 404 Not Found\nERROR CODE: SecretNotFound\n----\n{{\"error\":{{\"code\":\"SecretNotFound\",\"message\":\"A secret with (name/id) {name} was not found in this key vault.\"}}}}",
        tk::vault_name(NS)
    );
    let c = one(&failing_with(s, &not_found));
    assert_eq!(codes(&c), [Code::KVC601], "{:#?}", c.links);
    assert_eq!(
        c.link(LinkKind::Access).status,
        Status::Ok,
        "{:#?}",
        c.links
    );
    let f = find(&c, Code::KVC601);
    assert!(f.message.contains("a key of that name"), "{}", f.message);
    assert!(has_event(f), "{f:#?}");
    // Secrets User grants no keys/read (FACTS §8): the edit comes after the grant it needs.
    let grant = f.fix.find("az role assignment create").expect(&f.fix);
    let edit = f
        .fix
        .find("kubectl edit secretproviderclass")
        .expect(&f.fix);
    assert!(grant < edit, "{}", f.fix);
    assert!(f.fix.ends_with("objects[0].objectType: key"), "{}", f.fix);
}
