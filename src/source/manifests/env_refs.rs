//! A container's env references as the API server validates them (core validation's
//! validateSecretKeySelector, validateConfigMapKeySelector, validateSecretEnvSource and
//! validateConfigMapEnvSource). A key selector's `name` is checked with NameIsDNSSubdomain
//! whether or not it is set, so one without `name` (or with a placeholder) is refused as
//! `Invalid value: ""`; its `key` must be a config key (IsConfigMapKey). An envFrom source's
//! `name` is `Required value` when empty (a secretRef's is said in required.rs) and checked as
//! a subdomain otherwise. kvchain read these pods as ones that run, reading a Secret named ""
//! or a key `db/password` no Secret can hold (audit WWW-real).

use k8s_openapi::api::core::v1::PodSpec;

use crate::k8s_name::dns_subdomain;
use crate::snapshot::config_key::invalid_config_key;

/// Why the API server refuses pod spec `spec` at `path` for an env reference, each error in its
/// words, or None. A key left empty is required.rs's (`Required value`), said before this.
pub(super) fn refused(path: &str, spec: &PodSpec) -> Option<String> {
    let mut said = Vec::new();
    // The note of a name left a template placeholder (`${SECRET}`), once.
    let mut unrendered = "";
    for (at, c) in super::required::containers(path, spec) {
        for (i, e) in c.env.iter().flatten().enumerate() {
            let Some(from) = &e.value_from else { continue };
            let refs = [
                (
                    "secretKeyRef",
                    from.secret_key_ref.as_ref().map(|r| (&r.name, &r.key)),
                ),
                (
                    "configMapKeyRef",
                    from.config_map_key_ref.as_ref().map(|r| (&r.name, &r.key)),
                ),
            ];
            for (kind, r) in refs {
                let Some((name, key)) = r else { continue };
                let field = format!("{at}.env[{i}].valueFrom.{kind}");
                name_refused(&format!("{field}.name"), name, &mut said, &mut unrendered);
                if let Some(why) = Some(key.as_str())
                    .filter(|k| !k.is_empty())
                    .and_then(invalid_config_key)
                {
                    said.push(invalid(&format!("{field}.key"), key, why));
                }
            }
        }
        for (i, e) in c.env_from.iter().flatten().enumerate() {
            let refs = [
                ("secretRef", e.secret_ref.as_ref().map(|r| &r.name)),
                ("configMapRef", e.config_map_ref.as_ref().map(|r| &r.name)),
            ];
            for (kind, name) in refs {
                let Some(name) = name else { continue };
                let field = format!("{at}.envFrom[{i}].{kind}.name");
                match name.as_str() {
                    // A secretRef's is required.rs's, said first.
                    "" if kind == "configMapRef" => said.push(format!("{field}: Required value")),
                    "" => {}
                    n => name_refused(&field, n, &mut said, &mut unrendered),
                }
            }
        }
    }
    super::required::refusal(&said).map(|r| format!("{r}.{unrendered}"))
}

/// A name NameIsDNSSubdomain refuses, said at `field`; a placeholder's note kept.
fn name_refused(field: &str, name: &str, said: &mut Vec<String>, unrendered: &mut &str) {
    if dns_subdomain(name) {
        return;
    }
    let note = super::refused::unrendered_note(name);
    if !note.is_empty() {
        *unrendered = note;
    }
    let rule = if name.len() > 253 {
        "must be no more than 253 characters"
    } else {
        super::refused::SUBDOMAIN
    };
    said.push(invalid(field, name, rule));
}

fn invalid(field: &str, value: &str, why: &str) -> String {
    format!(
        "{field}: Invalid value: \"{}\": {why}",
        crate::shown::shown(value)
    )
}
