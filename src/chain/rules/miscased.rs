//! A provider key written in another case (`keyVaultName` for `keyvaultName`): the provider
//! reads its parameters from a map with exact keys (FACTS §5), so the value is there and
//! unread, and the key it belongs under is "not provided". One cause: the missing key's
//! finding (KVC302) names the miscased one with its value and says to rename it; the
//! unread-key finding (KVC305) does not say it again.

use super::auth_params::{EITHER_CREDENTIAL, Problem};
use crate::chain::context::Ctx;
use crate::spc::AzureSpc;

/// The keys whose absence the provider refuses, each with its "not provided" wording.
const REQUIRED: [(&str, &str); 2] = [
    ("keyvaultName", "keyvaultName is not provided"),
    ("tenantID", "tenantId is not provided"),
];

/// The key (as written) and value standing for provider key `key` in another case, in the
/// pod's volume attributes (which the driver merges over the SPC's) or the SPC's parameters.
pub(crate) fn written_for<'a>(cx: &Ctx<'a>, key: &str) -> Option<(&'a str, &'a str)> {
    let spc = cx.spc.map(|s| &s.parameters);
    cx.attributes
        .iter()
        .chain(spc.into_iter().flatten())
        .find(|(k, v)| k.as_str() != key && k.eq_ignore_ascii_case(key) && !v.trim().is_empty())
        .map(|(k, v)| (k.as_str(), v.as_str()))
}

/// The provider key a written key stands for, when the provider finds no value under its
/// own name (so its absence is a KVC302 naming this key).
pub(crate) fn stands_for(p: &AzureSpc, written: &str) -> Option<&'static str> {
    let missing = |k: &str| match k {
        "keyvaultName" => p.keyvault_name.is_none(),
        "tenantID" => p.tenant_id.is_none(),
        "clientID" => p.client_id.is_none(),
        _ => false,
    };
    ["keyvaultName", "tenantID", "clientID"]
        .into_iter()
        .find(|k| *k != written && k.eq_ignore_ascii_case(written) && missing(k))
}

/// Name the miscased key in the problems it causes: a required key "not provided", and no
/// credential at all when `clientID` is written in another case.
pub(crate) fn name_in(cx: &Ctx, problems: &mut [Problem]) {
    for pr in problems.iter_mut() {
        let key = REQUIRED
            .iter()
            .find(|(_, said)| pr.observed == *said)
            .map(|(k, _)| *k)
            .or_else(|| (pr.fix == EITHER_CREDENTIAL).then_some("clientID"));
        let Some(key) = key else { continue };
        let Some((written, value)) = written_for(cx, key) else {
            continue;
        };
        pr.observed = format!(
            "{}: {written}: {value} is written, but the provider does not read it (keys are case-sensitive)",
            pr.observed
        );
        pr.fix = format!("rename {written} to {key} (its value {value} stays)");
    }
}
