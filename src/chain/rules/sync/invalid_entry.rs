//! KVC806's edit for a `secretObjects` entry the driver refuses (FACTS §2: secretName, type
//! and data are all required): the entry named, and what it lacks filled where the snapshot
//! tells.

use crate::chain::context::Ctx;
use crate::snapshot::SecretObjectSpec;

/// KVC806's edit: the entry and what it lacks, filled where the snapshot tells (a type from
/// the keys: only `tls.crt`/`tls.key` make a TLS Secret, FACTS §2; the files it may read).
pub(super) fn completed(cx: &Ctx, so: &SecretObjectSpec) -> String {
    let entry = match so.secret_name.is_empty() {
        false => format!("secretObjects[{}]", so.secret_name),
        true => {
            let at = cx
                .spc
                .and_then(|s| s.secret_objects.iter().position(|x| std::ptr::eq(x, so)));
            at.map_or("secretObjects[]".to_string(), |i| {
                format!("secretObjects[{i}]")
            })
        }
    };
    let mut wants = Vec::new();
    if so.secret_name.is_empty() {
        wants.push("secretName: the name the Secret's readers use".to_string());
    }
    if so.type_.is_empty() {
        let tls = !so.data.is_empty()
            && so
                .data
                .iter()
                .all(|d| matches!(d.key.as_str(), "tls.crt" | "tls.key"));
        wants.push(format!(
            "type: {}",
            if tls { "kubernetes.io/tls" } else { "Opaque" }
        ));
    }
    if so.data.is_empty() {
        let files = super::shape::mounted_files(cx);
        wants.push(match files.is_empty() {
            true => "data: at least one {objectName, key}".to_string(),
            false => format!(
                "data: at least one {{objectName, key}}, objectName one of the files mounted: {}",
                files.join(", ")
            ),
        });
    }
    format!(
        "{entry}: {} (secretName, type and data are all required)",
        wants.join("; ")
    )
}
