//! A container's env references as the API server validates them (core validation's
//! validateSecretKeySelector, validateConfigMapKeySelector, validateSecretEnvSource and
//! validateConfigMapEnvSource). A key selector's `name` is checked with NameIsDNSSubdomain
//! whether or not it is set, so one without `name` (or with a placeholder) is refused as
//! `Invalid value: ""`; its `key` must be a config key (IsConfigMapKey). An envFrom source's
//! `name` is `Required value` when empty (a secretRef's is said in required.rs) and checked as
//! a subdomain otherwise. kvchain read these pods as ones that run, reading a Secret named ""
//! or a key `db/password` no Secret can hold (audit WWW-real).

use k8s_openapi::api::core::v1::PodSpec;

use super::field_errors::FieldErrors;
use crate::k8s_name::dns_subdomain;
use crate::snapshot::config_key::invalid_config_key;

/// Each env reference of pod spec `spec` at `path` the API server refuses, in its words. A key
/// left empty is required.rs's (`Required value`), said before this.
pub(super) fn check(path: &str, spec: &PodSpec, errors: &mut FieldErrors) {
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
                name_refused(&format!("{field}.name"), name, errors);
                if let Some(why) = Some(key.as_str())
                    .filter(|k| !k.is_empty())
                    .and_then(invalid_config_key)
                {
                    errors.invalid(&format!("{field}.key"), key, why);
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
                    "" if kind == "configMapRef" => errors.required(&field),
                    "" => {}
                    n => name_refused(&field, n, errors),
                }
            }
        }
    }
}

/// A name NameIsDNSSubdomain refuses, said at `field`; a placeholder's note kept.
fn name_refused(field: &str, name: &str, errors: &mut FieldErrors) {
    if dns_subdomain(name) {
        return;
    }
    let rule = if name.len() > 253 {
        "must be no more than 253 characters"
    } else {
        super::refused::SUBDOMAIN
    };
    errors.invalid(field, name, rule);
}
