//! KVC601 and KVC602 known only from a FailedMount (the Azure side unknown), audit WW1: the
//! provider's per-object wrapper (FACTS §5, `failed to get objectType:<t>, objectName:<n>,
//! objectVersion:<v>: <cause>`) names the object, its type and its version, so the confirm
//! and the fix are that object's, as the Azure-visible path gives them: a type's own listing,
//! `recover || create` for an object not there (soft delete keeps a deleted one, and creating
//! it again fails 409 Conflict), `set-attributes --enabled true` for a disabled one, the
//! version listing and the objectVersion edit for a pinned version that is not there.

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Code, Finding, diagnose};
use kvchain::snapshot::*;

const RULE: &str =
    "--------------------------------------------------------------------------------";

/// The healthy app, its one object asked as `object_type` (pinned at `version` when given),
/// the Azure side unknown, and its pod stuck mounting on the provider's error for that object.
pub(crate) fn failing(
    object_type: &str,
    version: Option<&str>,
    status: u16,
    code: &str,
    body: &str,
) -> Snapshot {
    let mut s = tk::healthy();
    let name = tk::object_name(APP);
    let mut item = vec![("objectName", name.as_str()), ("objectType", object_type)];
    if let Some(v) = version {
        item.push(("objectVersion", v));
    }
    item.push(("objectAlias", "password"));
    let spc = tk::spc_mut(&mut s, APP);
    tk::set_objects(spc, tk::objects_yaml(&[&item]));
    s.azure = AzureObs::unknown("no Azure credentials");
    tk::unmount(&mut s, APP);
    let collection = match object_type {
        "cert" => "certificates",
        "key" => "keys",
        _ => "secrets",
    };
    let v = version.unwrap_or("");
    let reason = if status == 404 {
        "Not Found"
    } else {
        "Forbidden"
    };
    let cause = format!(
        "failed to get objectType:{object_type}, objectName:{name}, objectVersion:{v}: GET https://{}.vault.azure.net/{collection}/{name}/{v}\n{RULE}\nRESPONSE {status}: {status} {reason}\nERROR CODE: {code}\n{RULE}\n{{\n  \"error\": {{\n    \"code\": \"{code}\",\n    \"message\": \"{body}\"\n  }}\n}}\n{RULE}\n",
        tk::vault_name(NS)
    );
    s.events.items.push(tk::failed_mount(
        NS,
        &tk::pod_name(APP, 0),
        "secrets-store-inline",
        &cause,
    ));
    s
}

fn finding(s: &Snapshot, code: Code) -> Finding {
    let chains = diagnose(s);
    let all: Vec<&Finding> = chains.iter().flat_map(|c| c.findings()).collect();
    (all.iter().find(|f| f.code == code))
        .map(|f| (*f).clone())
        .unwrap_or_else(|| panic!("{code} missing: {all:#?}"))
}

pub(crate) fn not_found(what: &str, name: &str) -> String {
    format!(
        "A {what} with (name/id) {name} was not found in this key vault. If you recently deleted this {what} you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"
    )
}

/// The part of a fix bash runs (before the note).
fn command(fix: &str) -> &str {
    tk::comment_at(fix).map_or(fix, |at| &fix[..at])
}

#[test]
fn a_secret_not_found_is_recovered_or_set_and_listed_as_a_secret() {
    let name = tk::object_name(APP);
    let kv = tk::vault_name(NS);
    let f = finding(
        &failing(
            "secret",
            None,
            404,
            "SecretNotFound",
            &not_found("secret", &name),
        ),
        Code::KVC601,
    );
    assert!(
        f.message.contains(&format!("secret {name}")),
        "{}",
        f.message
    );
    assert_eq!(
        f.confirm,
        format!("az keyvault secret list --vault-name {kv} -o table")
    );
    let run = crate::xd_paste::after_guards(command(&f.fix));
    assert!(
        run.starts_with(&format!("az keyvault secret recover --vault-name {kv} -n {name} || az keyvault certificate recover --vault-name {kv} -n {name} || az keyvault secret set --vault-name {kv} -n {name} ")),
        "{}",
        f.fix
    );
    assert!(!run.contains("kubectl edit"), "{}", f.fix);
    // A mistyped name is the other cause the 404 cannot tell apart: said, not run.
    assert!(f.fix.contains("objects[0].objectName"), "{}", f.fix);
}

#[test]
fn a_certificate_not_found_is_confirmed_and_brought_back_as_a_certificate() {
    let name = tk::object_name(APP);
    let kv = tk::vault_name(NS);
    let f = finding(
        &failing(
            "cert",
            None,
            404,
            "CertificateNotFound",
            &not_found("certificate", &name),
        ),
        Code::KVC601,
    );
    assert!(f.message.contains(&format!("cert {name}")), "{}", f.message);
    assert_eq!(
        f.confirm,
        format!("az keyvault certificate list --vault-name {kv} -o table")
    );
    assert!(
        crate::xd_paste::after_guards(command(&f.fix)).starts_with(&format!(
            "az keyvault certificate recover --vault-name {kv} -n {name} || az keyvault certificate import --vault-name {kv} -n {name} "
        )),
        "{}",
        f.fix
    );
    assert!(!f.confirm.contains(" secret "), "{}", f.confirm);
}

#[test]
fn a_deleted_key_is_recovered_before_it_is_created() {
    let name = tk::object_name(APP);
    let kv = tk::vault_name(NS);
    let f = finding(
        &failing("key", None, 404, "KeyNotFound", &not_found("key", &name)),
        Code::KVC601,
    );
    assert!(
        command(&f.fix).starts_with(&format!(
            "az keyvault key recover --vault-name {kv} -n {name} || az keyvault certificate recover --vault-name {kv} -n {name} || az keyvault key create --vault-name {kv} -n {name} "
        )),
        "{}",
        f.fix
    );
    assert_eq!(
        f.confirm,
        format!("az keyvault key list --vault-name {kv} -o table")
    );
}

#[test]
fn a_disabled_certificate_is_enabled_again_not_edited_out_of_the_spc() {
    let name = tk::object_name(APP);
    let kv = tk::vault_name(NS);
    let f = finding(
        &failing(
            "cert",
            None,
            403,
            "Forbidden",
            "Operation get is not allowed on a disabled certificate.",
        ),
        Code::KVC602,
    );
    assert!(f.message.contains(&format!("cert {name}")), "{}", f.message);
    // Unpinned: the latest version is the one refused; set-attributes without --version
    // changes the latest.
    assert_eq!(
        command(&f.fix).trim_end(),
        format!(
            "az keyvault certificate set-attributes --vault-name {kv} -n {name} --enabled true"
        )
    );
    // `show` is the GET Key Vault refuses for a disabled version (FACTS §5): the listing.
    assert!(
        f.confirm.starts_with(&format!(
            "az keyvault certificate list-versions --vault-name {kv} -n {name} "
        )),
        "{}",
        f.confirm
    );
}

#[test]
fn a_disabled_pinned_secret_version_is_enabled_at_that_version() {
    let name = tk::object_name(APP);
    let kv = tk::vault_name(NS);
    let f = finding(
        &failing(
            "secret",
            Some(tk::V1),
            403,
            "Forbidden",
            "Operation get is not allowed on a disabled secret.",
        ),
        Code::KVC602,
    );
    assert_eq!(
        command(&f.fix).trim_end(),
        format!(
            "az keyvault secret set-attributes --vault-name {kv} -n {name} --version {} --enabled true",
            tk::V1
        )
    );
    assert!(
        f.confirm.contains(&format!("'/{}')", tk::V1)),
        "{}",
        f.confirm
    );
}

#[test]
fn a_pinned_version_not_found_lists_the_versions_and_edits_the_pin() {
    let name = tk::object_name(APP);
    let kv = tk::vault_name(NS);
    let f = finding(
        &failing(
            "secret",
            Some(tk::V2),
            404,
            "SecretNotFound",
            &not_found("secret", &format!("{name}/{}", tk::V2)),
        ),
        Code::KVC601,
    );
    assert_eq!(
        f.confirm,
        format!("az keyvault secret list-versions --vault-name {kv} -n {name} -o table")
    );
    assert!(f.message.contains(tk::V2), "{}", f.message);
    assert!(f.fix.contains("objects[0].objectVersion"), "{}", f.fix);
    assert!(!f.fix.contains(" recover "), "{}", f.fix);
}
