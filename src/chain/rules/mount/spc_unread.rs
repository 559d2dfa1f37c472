//! A mounted pod's Mount link while its SecretProviderClass could not be read. The driver
//! writes a pod's SecretProviderClassPodStatus only after a successful mount (FACTS §1), so a
//! status of this pod read with `mounted: true` says the mount happened, whatever the SPC now
//! says: the link is not "SPC unknown" as if nothing were known. What the SPC decides (its
//! objects against the vault's versions, rotation) is not checked, so the link stays unknown
//! and the chain not verified (README "Degrading, not failing").

use crate::chain::context::Ctx;
use crate::chain::model::{Fact, Link, Status};

/// Turns the "SPC unknown" of a pod whose status was read mounted into "mounted; SPC unknown",
/// with the status as evidence and what was not checked.
pub(super) fn mounted(cx: &Ctx, link: &mut Link) {
    if link.status != Status::Unknown || link.summary != "SPC unknown" {
        return;
    }
    let Some(st) = cx.status.filter(|s| s.mounted) else {
        return;
    };
    link.summary = "mounted; SPC unknown".into();
    link.facts.push(Fact::new(
        "mounted",
        format!(
            "SecretProviderClassPodStatus {} of pod {}: mounted: true, {} object(s), which the driver writes only after a successful mount",
            st.name,
            st.pod_name,
            st.objects.len()
        ),
    ));
    link.facts.push(Fact::new(
        "not checked",
        "whether the mounted versions keep up with the vault and the SecretProviderClass's objects, and whether rotation runs",
    ));
}
