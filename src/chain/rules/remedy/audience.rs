//! The service-account token audiences mounts read (FACTS §5: workload identity the
//! exchange audience, identity binding its own) and the fix for a CSIDriver that requests
//! none for one of them (KVC105).

use super::{driver_upgrade, install};
use crate::chain::context::Ctx;
use crate::snapshot::DriverInstall;

pub(crate) const AUDIENCE: &str = "api://AzureADTokenExchange";
/// The token audience of AKS identity binding (`useAzureTokenProxy`), FACTS §5.
pub(crate) const BINDING_AUDIENCE: &str = "api://AKSIdentityBinding";

/// The service-account token audience the mount's identity mode reads, if it reads one:
/// workload identity the exchange audience, identity binding its own (FACTS §5). The VM's
/// managed identity and pod identity read no token.
pub(crate) fn token_audience(cx: &Ctx) -> Option<&'static str> {
    cx.params.as_deref().and_then(audience_of)
}

/// [`token_audience`] of SPC parameters `p`.
fn audience_of(p: &crate::spc::AzureSpc) -> Option<&'static str> {
    use crate::chain::rules::pod::truthy;
    if p.client_id.is_none() || truthy(&p.use_vm_managed_identity) || truthy(&p.use_pod_identity) {
        return None;
    }
    Some(if truthy(&p.use_azure_token_proxy) {
        BINDING_AUDIENCE
    } else {
        AUDIENCE
    })
}

/// The token audiences `spcs` read (their own parameters), sorted, each once.
pub(crate) fn cluster_audiences<'s>(
    spcs: impl Iterator<Item = &'s crate::snapshot::SpcObs>,
) -> Vec<&'static str> {
    let mut all: Vec<&'static str> = spcs.filter_map(|s| audience_of(&s.parsed)).collect();
    all.sort_unstable();
    all.dedup();
    all
}

/// Every token audience a mount of the cluster reads, sorted: this chain's (its volume may
/// override the SPC's parameters) and each SPC's. One CSIDriver serves them all, so its
/// finding and fix say the same whichever chain shows them.
pub(crate) fn audiences_needed(cx: &Ctx) -> Vec<&'static str> {
    let mut wanted: Vec<&'static str> = token_audience(cx).into_iter().collect();
    wanted.extend(
        cx.ix
            .spc_audiences(|spcs| cluster_audiences(spcs.iter().map(|s| &**s))),
    );
    wanted.sort_unstable();
    wanted.dedup();
    wanted
}

/// The fix for a CSIDriver without a token audience some mount needs. With Helm: the chart's
/// tokenRequests keeping every audience the CSIDriver has, plus each one the cluster's SPCs
/// need (one command whichever chain shows it; setting one index would replace another
/// audience). The AKS add-on's CSIDriver is AKS's to keep (it reverts edits): no Helm command.
pub(crate) fn token_requests_fix(cx: &Ctx) -> String {
    token_requests_fix_for(cx, None)
}

/// The audiences the CSIDriver's tokenRequests list, when it was read.
pub(crate) fn requested_audiences<'a>(cx: &Ctx<'a>) -> Option<&'a [String]> {
    cx.cluster()
        .csi_driver
        .known()
        .and_then(|c| c.token_audiences.known())
        .map(Vec::as_slice)
}

/// [`token_requests_fix`], also adding `event_audience` (the audience a failure event names,
/// e.g. one a mount read before its SPC changed) when the CSIDriver lacks it.
pub(crate) fn token_requests_fix_for(cx: &Ctx, event_audience: Option<&str>) -> String {
    let have = requested_audiences(cx).unwrap_or_default();
    let mut auds: Vec<&str> = have.iter().map(String::as_str).collect();
    let mut missing: Vec<&str> = audiences_needed(cx)
        .into_iter()
        .filter(|a| !auds.contains(a))
        .collect();
    if let Some(a) = event_audience.filter(|a| !auds.contains(a) && !missing.contains(a)) {
        missing.push(a);
    }
    auds.extend(&missing);
    // The CSIDriver is a document of the given manifests (the driver applied from its deploy
    // YAML, which has no tokenRequests: FACTS §4): that document is what to change and apply
    // again, not a Helm release the files do not show. tokenRequests may change in place.
    // A file holding other objects is not applied whole (audit TT2: it would re-apply them
    // as written, over other fixes or rendered live objects): the live CSIDriver is edited,
    // and the document named for the same change.
    if let Some((file, doc)) = cx
        .cluster()
        .csi_driver
        .known()
        .and_then(|c| c.manifest.as_ref())
    {
        let head = match cx.source().own_file(file) {
            Some(file) => {
                let file = super::sh_word(file);
                format!(
                    "${{EDITOR:-vi}} {file} && kubectl apply -f {file}  # in document {doc}, CSIDriver secrets-store.csi.k8s.io,"
                )
            }
            None => format!(
                "kubectl edit csidriver secrets-store.csi.k8s.io  # the same change in document {doc} of {} (not applied whole: it holds other objects, which kubectl apply -f would re-apply as written); CSIDriver secrets-store.csi.k8s.io,",
                super::sh_word(file)
            ),
        };
        let entries = |list: &[&str]| -> Vec<String> {
            list.iter().map(|a| format!("{{audience: {a}}}")).collect()
        };
        // Entries the document has are kept whole: only their audiences are read here, and
        // a list set anew would drop their other fields (expirationSeconds, audit LL15).
        return match have {
            _ if missing.is_empty() => format!(
                "{head} spec.tokenRequests already lists {}: nothing to add",
                auds.join(", ")
            ),
            [] => format!(
                "{head} set spec.tokenRequests: [{}]",
                entries(&auds).join(", ")
            ),
            _ => format!(
                "{head} add {} to spec.tokenRequests, keeping its entries ({}) as they are",
                entries(&missing).join(" and "),
                have.join(", ")
            ),
        };
    }
    if install(cx) == Some(DriverInstall::AksAddon) {
        if missing.is_empty() {
            // Nothing known missing: no audience to name (it read "no token for :").
            return format!(
                "# the AKS add-on owns CSIDriver secrets-store.csi.k8s.io, which already requests a token for {}: nothing to add there; kubectl get csidriver secrets-store.csi.k8s.io -o jsonpath='{{.spec.tokenRequests}}'",
                auds.join(" and ")
            );
        }
        return format!(
            "# the AKS add-on owns CSIDriver secrets-store.csi.k8s.io (AKS reverts edits to it) and it requests no token for {}: update the add-on with the cluster (az aks upgrade), or run the driver from its Helm charts, whose tokenRequests can list {}",
            missing.join(" nor "),
            auds.join(" and ")
        );
    }
    let sets: Vec<String> = auds
        .iter()
        .enumerate()
        .map(|(i, a)| format!("tokenRequests[{i}].audience={a}"))
        .collect();
    let sets: Vec<&str> = sets.iter().map(String::as_str).collect();
    driver_upgrade(cx, &sets)
}
