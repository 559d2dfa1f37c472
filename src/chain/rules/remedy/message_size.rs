//! KVC708's words and commands. The provider sends every object of the SecretProviderClass
//! (each file's content) to the driver in one gRPC answer; the driver's client refuses one
//! larger than `--max-call-recv-msg-size` ("maximum size in bytes of gRPC response from
//! plugins", default 4194304), and the mount fails with `grpc: received message larger than
//! max (<received> vs. <limit>)` (FACTS §3; [D] cmd/secrets-store-csi-driver/main.go,
//! docs/book/src/troubleshooting.md, which also says the `secrets-store` container may then need
//! a higher memory limit). The Helm chart sets the flag from its `maxCallRecvMsgSize` value;
//! the AKS add-on's DaemonSet is AKS's (its flags are not the user's to set), so there the
//! answer must shrink: fewer or smaller objects per SecretProviderClass.

use super::{edit_spc, helm, install};
use crate::chain::context::Ctx;
use crate::snapshot::DriverInstall;

/// The driver's default limit, 4 MiB.
const DEFAULT_LIMIT: u64 = 4 * 1024 * 1024;

/// `(received, limit)` in bytes, from grpc's `larger than max (<received> vs. <limit>)`.
pub(crate) fn sizes(message: &str) -> Option<(u64, u64)> {
    let rest = message.split_once("larger than max (")?.1;
    let (received, rest) = rest.split_once(" vs. ")?;
    let limit = rest.split(')').next()?;
    Some((received.trim().parse().ok()?, limit.trim().parse().ok()?))
}

/// What the finding says: the SPC's answer is over the limit, with the sizes when the
/// message has them.
pub(crate) fn message(cx: &Ctx, event: &str) -> String {
    let sizes = match sizes(event) {
        Some((got, max)) => format!(" ({got} bytes against a limit of {max})"),
        None => String::new(),
    };
    format!(
        "the objects of SecretProviderClass {} add up to more than the driver accepts in one answer from the provider{sizes}: the provider read them, the driver refused the answer, so volume {} does not mount",
        cx.spc_name, cx.volume.name
    )
}

/// The driver's own log line for it, then the fix for the install kvchain sees: a larger
/// limit (Helm) or a smaller answer (either install).
pub(crate) fn commands(cx: &Ctx, event: Option<&str>) -> (String, String) {
    let confirm = "kubectl logs -n kube-system -l app=secrets-store-csi-driver -c secrets-store --tail=200 | grep -e max-call-recv-msg-size -e 'larger than max'".to_string();
    let split = edit_spc(
        cx,
        "parameters.objects: keep the objects this workload reads (objectVersionHistory multiplies an object's size) and move the rest to a second SecretProviderClass mounted as a second csi volume",
    );
    // Room for twice what was refused, in whole MiB: the next object added fits too.
    let received = event.and_then(sizes).map_or(DEFAULT_LIMIT, |(got, _)| got);
    let limit = (received * 2).div_ceil(1024 * 1024) * 1024 * 1024;
    let raise = helm::driver_upgrade(cx, &[&format!("maxCallRecvMsgSize={limit}")]);
    let fix = match install(cx) {
        Some(DriverInstall::AksAddon) => format!(
            "{split} (the AKS add-on's driver flags are AKS's to set: the answer must shrink)"
        ),
        Some(DriverInstall::Helm) => format!(
            "{raise}  # the driver's --max-call-recv-msg-size; raise the secrets-store container's memory limit with it, or split the SecretProviderClass's objects"
        ),
        None => {
            format!("{split}; with the Helm chart, raising the driver's limit instead: {raise}")
        }
    };
    (confirm, fix)
}
