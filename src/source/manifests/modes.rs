//! Volume file modes out of range. The API server refuses a `defaultMode` or an item's `mode`
//! outside 0..0777 (core validation's validateSecretVolumeSource, validateConfigMapVolumeSource,
//! validateDownwardAPIVolumeSource, validateProjectedVolumeSource and validateKeyToPath:
//! `field.Invalid(…, fileModeErrorMsg)`). kvchain read any int32, so `defaultMode: 0800` (no
//! octal: kubectl sends 800) or `01000` passed as a pod that runs (audit WWW-real). A
//! downwardAPI item's mode is reported at the source's own path, without `items[i]`, as
//! validateDownwardAPIVolumeFile is given it.

use k8s_openapi::api::core::v1::{DownwardAPIVolumeFile, KeyToPath, PodSpec};

/// core validation's `fileModeErrorMsg`.
const OUT_OF_RANGE: &str = "must be a number between 0 and 0777 (octal), both inclusive";

/// Each file mode out of range of pod spec `spec` at `path`, in the API server's words and
/// order.
pub(super) fn check(path: &str, spec: &PodSpec, errors: &mut super::field_errors::FieldErrors) {
    let mut check = |at: String, mode: Option<i32>| {
        if let Some(m) = mode.filter(|m| !(0..=0o777).contains(m)) {
            errors.push(format!("{at}: Invalid value: {m}: {OUT_OF_RANGE}"));
        }
    };
    for (i, v) in spec.volumes.iter().flatten().enumerate() {
        let at = format!("{path}.volumes[{i}]");
        if let Some(s) = &v.secret {
            check(format!("{at}.secret.defaultMode"), s.default_mode);
            items(&format!("{at}.secret"), s.items.as_deref(), &mut check);
        }
        if let Some(c) = &v.config_map {
            check(format!("{at}.configMap.defaultMode"), c.default_mode);
            items(&format!("{at}.configMap"), c.items.as_deref(), &mut check);
        }
        if let Some(d) = &v.downward_api {
            check(format!("{at}.downwardAPI.defaultMode"), d.default_mode);
            files(&format!("{at}.downwardAPI"), d.items.as_deref(), &mut check);
        }
        if let Some(p) = &v.projected {
            check(format!("{at}.projected.defaultMode"), p.default_mode);
            for (j, s) in p.sources.iter().flatten().enumerate() {
                let src = format!("{at}.projected.sources[{j}]");
                if let Some(s) = &s.secret {
                    items(&format!("{src}.secret"), s.items.as_deref(), &mut check);
                }
                if let Some(c) = &s.config_map {
                    items(&format!("{src}.configMap"), c.items.as_deref(), &mut check);
                }
                if let Some(d) = &s.downward_api {
                    files(
                        &format!("{src}.downwardAPI"),
                        d.items.as_deref(),
                        &mut check,
                    );
                }
            }
        }
    }
}

/// validateKeyToPath's mode check, at `{at}.items[k].mode`.
fn items(at: &str, items: Option<&[KeyToPath]>, check: &mut impl FnMut(String, Option<i32>)) {
    for (k, item) in items.unwrap_or_default().iter().enumerate() {
        check(format!("{at}.items[{k}].mode"), item.mode);
    }
}

/// validateDownwardAPIVolumeFile's, given the source's path: `{at}.mode`.
fn files(
    at: &str,
    files: Option<&[DownwardAPIVolumeFile]>,
    check: &mut impl FnMut(String, Option<i32>),
) {
    for f in files.unwrap_or_default() {
        check(format!("{at}.mode"), f.mode);
    }
}
