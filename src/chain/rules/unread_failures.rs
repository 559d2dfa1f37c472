//! A mounted pod's Mount link with its namespace's events unread. The driver reports a failing
//! rotation poll only as an event (MountRotationFailed, FACTS §3, §4; on v1.6 in its log
//! alone): the mount's SecretProviderClassPodStatus shows what was fetched, not that the polls
//! since succeed. With the events unread that check is not made, so the link is unknown, not
//! ok, and the chain counts as not verified; a 403 or 404 failing every poll now would
//! otherwise read "0 errors" (audit FFF1). With rotation known off no poll runs: nothing is
//! left unchecked.

use super::{remedy, unknown_check};
use crate::chain::context::Ctx;
use crate::chain::model::{Link, Status};

/// Turns an ok Mount link of a mounted pod into "mounted; failures unread" when the events of
/// its namespace could not be read and rotation may be on.
pub(crate) fn check(cx: &Ctx, link: &mut Link) {
    let Some(reason) = cx.snap().events.unknown_in(cx.ns()) else {
        return;
    };
    if cx.template || !cx.mounted() || remedy::rotation_off(cx) {
        return;
    }
    if link.status != Status::Ok || !link.findings.is_empty() {
        return;
    }
    unknown_check(
        link,
        "mounted; failures unread",
        "whether the driver's rotation polls fail now (it reports them only as MountRotationFailed events)".into(),
        reason,
    );
}
