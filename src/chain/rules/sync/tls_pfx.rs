//! KVC804 for a `kubernetes.io/tls` entry whose keys read a certificate's PKCS#12 secret
//! mounted with `objectFormat: pfx` and no `objectEncoding: base64` (audit CCC3). The provider
//! returns such a secret as Key Vault holds it, base64 text (its getSecret: "object format
//! requested is pfx, then return the content as is"), and only `objectEncoding: base64`
//! decodes it (FACTS §5). The driver's GetCertPart finds no PEM block in that text and reads it
//! as a binary PFX, which it is not: `failed to get cert data from file …, err: pkcs12: …`,
//! and no Secret (FACTS §2: "PEM or PFX input").
//!
//! Certain when the vault's object is read (a certificate's secret of content type
//! `application/x-pkcs12`); a PEM certificate ignores `objectFormat: pfx`, so then nothing is
//! wrong. Unread (manifests, Key Vault not reached), it is a warning that says so. The fix
//! drops `objectFormat: pfx`, which works for both content types (the provider converts a
//! PKCS#12 to PEM, key and chain); where something else reads that file, the entry gets an
//! object of its own instead, the file left as its readers have it.

use super::{TLS, remedy, tls};
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::{Link, Severity};
use crate::snapshot::{ObjectType, SecretObjectSpec};
use crate::spc::SpcObject;

/// How sure the snapshot is that an object's file is the PFX's base64 text.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pkcs12 {
    Known,
    Unread,
}

/// The objects of tls entry `so` mounted as a PFX's base64 text (or maybe, when the vault's
/// object is unread), each once, with the entry's keys reading it.
fn text_sources<'c>(
    cx: &'c Ctx,
    so: &SecretObjectSpec,
) -> Vec<(&'c SpcObject, Pkcs12, Vec<String>)> {
    let Some(p) = cx.params.as_deref() else {
        return Vec::new();
    };
    let vault = p.keyvault_name.as_deref().unwrap_or_default();
    let mut out: Vec<(&SpcObject, Pkcs12, Vec<String>)> = Vec::new();
    for d in &so.data {
        let Some((j, o)) =
            (p.objects.iter().enumerate()).find(|(_, o)| o.file_name() == d.object_name)
        else {
            continue;
        };
        if let Some((_, _, keys)) = out.iter_mut().find(|(seen, ..)| seen.index == o.index) {
            keys.push(d.key.clone());
            continue;
        }
        if !o.writes_pfx_text() {
            continue;
        }
        let held = cx
            .vault_object(j, vault, ObjectType::Secret, &o.object_name)
            .and_then(|v| v.state.known());
        let sure = match held {
            Some(Some(obj)) => {
                let pkcs12 = obj.backs_certificate
                    && (obj.content_type.as_deref())
                        .is_some_and(|c| c.eq_ignore_ascii_case("application/x-pkcs12"));
                if !pkcs12 {
                    continue;
                }
                Pkcs12::Known
            }
            // Absent: the object's own finding says so, and no file is written at all.
            Some(None) => continue,
            None => Pkcs12::Unread,
        };
        out.push((o, sure, vec![d.key.clone()]));
    }
    out
}

/// Whether KVC804's fix for entry `so` edits `objects` (so, with rotation off, a remount
/// follows it): any of its sources is a PFX's base64 text.
pub(super) fn edits_objects(cx: &Ctx, so: &SecretObjectSpec) -> bool {
    so.type_ == TLS && !text_sources(cx, so).is_empty()
}

pub(super) fn check(cx: &Ctx, link: &mut Link, so: &SecretObjectSpec) {
    let sources = text_sources(cx, so);
    if sources.is_empty() {
        return;
    }
    let sure = sources.iter().all(|(_, s, _)| *s == Pkcs12::Known);
    let mut problems = Vec::new();
    let mut edits = Vec::new();
    let mut evidence = Vec::new();
    for (o, s, keys) in &sources {
        let file = o.file_name();
        let encoding = o
            .object_encoding
            .as_deref()
            .map_or(String::from("no objectEncoding"), |e| {
                format!("objectEncoding {e}")
            });
        let what = match s {
            Pkcs12::Known => format!(
                "objects[{}] ({}) is a certificate's PKCS#12 secret mounted with objectFormat pfx and {encoding}",
                o.index, o.object_name
            ),
            Pkcs12::Unread => format!(
                "objects[{}] ({}) is mounted with objectFormat pfx and {encoding} (the vault's object could not be read: this holds if it is a certificate stored as PKCS#12, content type application/x-pkcs12; a PEM one ignores objectFormat)",
                o.index, o.object_name
            ),
        };
        problems.push(format!(
            "{what}, so file {file} holds the PFX as base64 text, which the driver reads neither as PEM nor as a PFX for {}: it fails with 'failed to get cert data from file {file}, err: pkcs12: …' and builds no Secret",
            keys.join(" and ")
        ));
        evidence.push(format!(
            "SecretProviderClass {}: objects[{}]: objectName {}, objectType secret, objectFormat {}, {encoding}",
            cx.spc_name,
            o.index,
            o.object_name,
            o.object_format.as_deref().unwrap_or_default()
        ));
        let readers = tls::file_readers(cx, so, file);
        edits.push(if readers.is_empty() {
            format!(
                "objects[{}] ({}): drop objectFormat: pfx (the provider then converts the PKCS#12 to PEM, private key and chain, which tls.key and tls.crt take)",
                o.index, o.object_name
            )
        } else {
            let alias = tls::free_alias(cx, file);
            format!(
                "objects: add an item {{objectName: {}, objectType: secret, objectAlias: {alias}}} (no objectFormat: the provider converts the PKCS#12 to PEM) and set secretObjects[{}].data objectName {file} to {alias}; leave objects[{}] as it is: {} {} its file {file}",
                o.object_name,
                so.secret_name,
                o.index,
                readers.join(", "),
                if readers.len() == 1 { "reads" } else { "read" }
            )
        });
    }
    let (confirm, _) = remedy::commands(cx, Code::KVC804);
    let vault = (cx.params.as_deref())
        .and_then(|p| p.keyvault_name.as_deref())
        .filter(|v| !v.is_empty());
    let confirm = match (sure, vault, sources.first()) {
        // The content type names the format without printing the value.
        (false, Some(vault), Some((o, ..))) => format!(
            "{confirm}; az keyvault secret show --vault-name {vault} --name {} --query contentType -o tsv",
            o.object_name
        ),
        _ => confirm,
    };
    let mut f = cx.finding(
        Code::KVC804,
        cx.spc_resource(),
        format!(
            "kubernetes.io/tls Secret {}: {}",
            so.secret_name,
            problems.join("; ")
        ),
        evidence,
        confirm,
        remedy::edit_spc(cx, &edits.join("; ")),
    );
    if !sure {
        f.severity = Severity::Warning;
    }
    link.findings.push(f);
}
