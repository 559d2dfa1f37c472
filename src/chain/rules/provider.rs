//! Which provider a SecretProviderClass is for. The driver hands an SPC to the provider its
//! `spec.provider` names, looked up verbatim among the providers registered on the node
//! (`providerClients.Get(ctx, providerName)`; at mount it fails with `error connecting to
//! provider "<name>": provider not found`, its ≤v1.5 rotation reconciler with `failed to lookup
//! provider client: "<name>"`, error reason FailedToLookupProviderGRPCClient: FACTS §3, §11). The Azure
//! provider registers as `azure` and only ever receives those SPCs (FACTS §5 describes its
//! parameters): another provider's SPC (vault, aws, gcp) is not the Azure provider's to judge,
//! and a name meant for Azure but spelt otherwise (`Azure`, `azur`, empty) reaches no provider.

use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::{Fact, Link, LinkKind, Status, Text};
use crate::snapshot::SpcObs;

pub(crate) use crate::spc::{AZURE_PROVIDER, provider_lookup_error};

/// What an SPC's `spec.provider` means for the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Provider {
    /// `azure`: the Azure provider's, judged by every rule.
    Azure,
    /// A name no provider registers that was meant for Azure (another case, a near miss,
    /// empty, or another name on parameters only the Azure provider reads): every mount
    /// fails before any provider is called. Judged as Azure, plus the name's own error.
    MeantAzure,
    /// A template placeholder (`{{ .Values.provider }}`): unknown until rendered.
    Unrendered,
    /// Another provider's (vault, aws, gcp…): not judged.
    Other,
}

/// The provider `spc` is for, as kvchain judges it.
pub(crate) fn of(spc: &SpcObs) -> Provider {
    let name = spc.provider.as_str();
    if name == AZURE_PROVIDER {
        return Provider::Azure;
    }
    if super::params::is_placeholder(name) {
        return Provider::Unrendered;
    }
    let lower = name.trim().to_ascii_lowercase();
    // Parameters only the Azure provider reads (its vault name) say whom the SPC was
    // written for, whatever the provider field says.
    let azure_params = spc.parameters.contains_key("keyvaultName");
    if lower.is_empty()
        || lower.contains(AZURE_PROVIDER)
        || strsim::levenshtein(&lower, AZURE_PROVIDER) <= 2
        || azure_params
    {
        Provider::MeantAzure
    } else {
        Provider::Other
    }
}

/// The chain's SPC is `azure` (or not read): the Azure provider is the one its mounts call.
pub(crate) fn is_azure(cx: &Ctx) -> bool {
    cx.spc.is_none_or(|s| of(s) == Provider::Azure)
}

/// The chain's SPC is another provider's: no Azure rule applies to it.
pub(crate) fn is_other(cx: &Ctx) -> bool {
    cx.spc.is_some_and(|s| of(s) == Provider::Other)
}

/// KVC104 on the Pod link for a provider name the driver finds no provider by (or one still
/// unrendered). Nothing for `azure` or another provider.
pub(crate) fn check(cx: &Ctx, link: &mut Link) {
    let Some(spc) = cx.spc else { return };
    let kind = of(spc);
    if !matches!(kind, Provider::MeantAzure | Provider::Unrendered) {
        return;
    }
    let shown = crate::shown::shown(&spc.provider).into_owned();
    let evidence = if spc.provider.is_empty() {
        "spec.provider: (not set)".to_string()
    } else {
        format!("spec.provider: {shown}")
    };
    let confirm = super::remedy::get_spc(cx, "-o jsonpath='{.spec.provider}'");
    let mut f = if kind == Provider::Unrendered {
        let (confirm, fix) = super::remedy::unrendered("spec.provider", &shown);
        let mut f = cx.finding(
            Code::KVC104,
            cx.spc_resource(),
            format!(
                "SecretProviderClass {} has spec.provider {shown}, a template placeholder: the driver looks the provider up by that name verbatim, so unless it renders to azure every mount fails with {}",
                cx.spc_name,
                provider_lookup_error(&spc.provider)
            ),
            vec![evidence],
            confirm,
            fix,
        );
        f.severity = crate::chain::model::Severity::Warning;
        f
    } else {
        let what = if spc.provider.is_empty() {
            "no spec.provider".to_string()
        } else {
            format!("spec.provider {shown}, not azure")
        };
        cx.finding(
            Code::KVC104,
            cx.spc_resource(),
            format!(
                "SecretProviderClass {} has {what}: the driver looks the provider up by that name verbatim (the Azure provider registers as azure, lowercase), so every mount fails with {} before any provider is called",
                cx.spc_name,
                provider_lookup_error(&spc.provider)
            ),
            vec![evidence],
            confirm,
            fix(cx),
        )
    };
    f.link = LinkKind::Pod;
    link.findings.push(f);
}

/// Set `spec.provider: azure` on the chain's SPC: the manifest's document when it came from
/// a file holding it alone, a merge patch otherwise (a file holding other objects is never
/// re-applied whole, audit TT2: the patch, and the same change named for the file).
fn fix(cx: &Ctx) -> String {
    // A controller-owned SPC is changed through its owner (audit TT6), whatever file it
    // was read from: the owner writes it.
    let controlled = cx.spc.is_some_and(|s| s.controller.is_some());
    let file = cx
        .spc
        .and_then(|s| s.file.as_deref())
        .filter(|_| !controlled);
    if let Some(file) = file.and_then(|f| cx.source().own_file(f)) {
        let file = super::remedy::sh_word(file);
        return format!(
            "${{EDITOR:-vi}} {file} && kubectl apply -f {file}  # set spec.provider: azure on SecretProviderClass {}",
            cx.spc_name
        );
    }
    let patch = format!(
        "kubectl patch secretproviderclass {} -n {} --type merge -p '{{\"spec\":{{\"provider\":\"azure\"}}}}'",
        super::remedy::sh_word(cx.spc_name),
        cx.ns()
    );
    match file {
        Some(file) => {
            let what = format!(
                "set spec.provider: azure on SecretProviderClass {}",
                cx.spc_name
            );
            format!("{patch}{}", super::remedy::shared_file_note(&what, file))
        }
        None => super::remedy::unless_controlled(cx, patch),
    }
}

/// Another provider's chain: the Pod link is the kubelet's and the driver's (judged as for any
/// SecretProviderClass, their failures folded in: the SPC, the volume, the driver or the
/// provider missing on the node); every later link is the other provider's, and says so,
/// unknown — what the provider says of its own backend is not judged.
pub(crate) fn not_judged(cx: &mut Ctx, links: &mut [Link]) {
    cx.events
        .retain(|(c, _)| c.is_some_and(|c| c.link() == LinkKind::Pod));
    super::apply_events(cx, links);
    let Some(spc) = cx.spc else { return };
    let name = crate::shown::shown(&spc.provider).into_owned();
    for link in links.iter_mut().filter(|l| l.link != LinkKind::Pod) {
        super::set(link, Status::Unknown, "not judged");
    }
    let summary: Text = compact_str::format_compact!("provider {name}: not judged");
    super::set(
        &mut links[LinkKind::ServiceAccount.index()],
        Status::Unknown,
        summary,
    );
    links[LinkKind::ServiceAccount.index()].facts.push(Fact::new(
        "not judged",
        format!(
            "SecretProviderClass {} is for provider {name} (spec.provider): kvchain judges only the Azure provider's (spec.provider: azure)",
            cx.spc_name
        ),
    ));
}
