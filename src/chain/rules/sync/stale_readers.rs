//! Readers of a synced Secret the Sync link finds stale.

use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::{Link, LinkKind, Status};
use crate::chain::rules::set;

/// A container of the pod reads a synced Secret the Sync link finds stale (KVC805, a cause of
/// its own): whatever it took at start, the value is the stale one, so its Consumers link,
/// quiet otherwise, is not a ✓ but says what blocks it (one symptom, one cause: the cause and
/// its fix stay on the Sync link). A restart with rotation off gives a new pod the new file
/// and the old Secret (FACTS §11); it read "✓ env" (audit D1).
pub(crate) fn stale_blocks_readers(cx: &Ctx, links: &mut [Link]) {
    let sync = &links[LinkKind::Sync.index()];
    let Some(spc) = cx.spc else { return };
    let mut stale = (sync.findings.iter())
        .filter(|f| f.code == Code::KVC805 && f.follows.is_none())
        .filter_map(|f| {
            let name = f.resource.strip_prefix("Secret/")?;
            (spc.secret_objects.iter()).position(|so| so.secret_name == name)
        })
        .peekable();
    if stale.peek().is_none() {
        return;
    }
    let consumers = &links[LinkKind::Consumers.index()];
    if consumers.status != Status::Ok || !consumers.findings.is_empty() {
        return;
    }
    let reads = stale.any(|i| {
        cx.consumers_of(i)
            .is_some_and(|readers| readers.read_by(cx.pod))
    });
    if reads {
        set(
            &mut links[LinkKind::Consumers.index()],
            Status::Pending,
            "blocked: Sync",
        );
    }
}
