//! KVC305 for a pod volume's `volumeAttributes`: the driver merges them over the
//! SecretProviderClass's parameters before it calls the provider (FACTS §5), so a key the
//! provider does not read changes nothing there either. Guides tell users to put
//! `rotationPollInterval` there for a faster rotation; rotation is a flag of the driver, one
//! for the whole cluster, and no per-volume rotation attribute exists (FACTS §4).

use super::params;
use super::remedy;
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::index::SPC_ATTRIBUTE;
use crate::chain::model::Link;

/// KVC305 on the pod's owner for the keys of its volume's `volumeAttributes` that neither the
/// driver (`secretProviderClass`) nor the provider reads.
pub(crate) fn check(cx: &Ctx, link: &mut Link) {
    let unknown = params::unknown(
        (cx.attributes.keys().map(String::as_str))
            // The SPC's attribute written in another case is KVC103's (the volume's wiring);
            // `providerName` the driver reads for its metrics before the SPC's provider
            // replaces it ([D] nodeserver.go).
            .filter(|k| {
                !matches!(*k, SPC_ATTRIBUTE | "providerName") && Some(*k) != cx.spc_key_typo
            }),
    );
    if unknown.is_empty() {
        return;
    }
    let volume = &cx.volume.name;
    let described: Vec<String> = unknown.iter().map(params::Unknown::described).collect();
    let evidence = (unknown.iter())
        .map(|u| {
            format!(
                "volumes[{volume}].csi.volumeAttributes.{}: {}",
                u.key,
                cx.attributes.get(u.key).map_or("", String::as_str)
            )
        })
        .collect();
    let remove: Vec<String> = (unknown.iter())
        .map(|u| format!("remove volumes[{volume}].csi.volumeAttributes.{}", u.key))
        .collect();
    let (confirm, _) = remedy::commands(cx, Code::KVC103);
    link.findings.push(cx.finding(
        Code::KVC305,
        cx.owner_resource(),
        format!(
            "volume {volume} of {} has volumeAttributes the Azure provider does not read (the driver merges them over SecretProviderClass {}'s parameters), so they change nothing: {}",
            cx.owner_resource(),
            cx.spc_name,
            described.join("; ")
        ),
        evidence,
        confirm,
        remedy::edit_owner(cx, &remove.join("; ")),
    ));
}
