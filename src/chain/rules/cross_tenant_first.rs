//! A managed identity whose vault lives in another tenant (KVC406) and a federated credential
//! of that identity that does not match (KVC401–KVC403, KVC405), on one chain (audit XE-ident).
//! The exchange fails first (FACTS §11: it happens before the vault call), but it is not what
//! to fix first: a managed identity cannot get a token Key Vault of another tenant accepts
//! (AKV10032), so a credential mended on it ends the read at the vault instead. KVC406's fix
//! replaces the identity with an app registration of the vault's tenant, which takes its own
//! credential (issuer, subject and audience named in that fix). So KVC406 is the root cause and
//! the credential's findings wait behind it; their command matters only if the identity stays
//! and the secrets move to a vault of its own tenant.

use super::request_order::current;
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::{Link, LinkKind};

/// The credential's causes, all about the managed identity's federated credentials.
const CREDENTIAL: &[Code] = &[Code::KVC401, Code::KVC402, Code::KVC403, Code::KVC405];

/// Mark the credential's causes blocked by a current KVC406 of a managed identity. Runs before
/// the exchange's causes block the vault's (`request_order::mark`).
pub(super) fn mark(cx: &Ctx, links: &mut [Link]) {
    if current(links, &[LinkKind::Federation], &[Code::KVC406]).is_none() {
        return;
    }
    let Some(identity) = cx.identity else {
        return;
    };
    let home = identity.tenant_id.as_str();
    for f in links[LinkKind::Federation.index()]
        .findings
        .iter_mut()
        .filter(|f| CREDENTIAL.contains(&f.code) && super::is_cause(f))
    {
        f.follows = Some(LinkKind::Federation);
        f.message = format!(
            "blocked by KVC406: {} (not to fix first: mended, the token exchange passes and Key Vault refuses {}'s token, issued in tenant {home} (401 AKV10032); the app registration of KVC406's fix takes its own federated credential)",
            f.message, identity.name
        )
        .into();
        f.fix = format!(
            "# fix KVC406 first; only if {} keeps reading secrets moved to a vault of its tenant {home}: {}",
            identity.name, f.fix
        )
        .into();
    }
}
