//! Identity link: the SPC `cloudName` against the cloud the cluster lives in (KVC302, audit
//! H9). `cloudName` picks the Key Vault DNS suffix and the AAD login endpoint (FACTS §5): set to
//! another cloud than the one the cluster, its identities and its vaults live in, the provider
//! asks that cloud's Entra ID for a token of an identity it does not know and calls
//! `https://<vault>.<that cloud's suffix>/`, a host that does not resolve. The cluster's cloud
//! is read from its OIDC issuer host, else from the AAD authority the webhook injected into the
//! pod (`AZURE_AUTHORITY_HOST`, FACTS §6); when neither tells it, the link says so and nothing
//! is compared. An empty `cloudName` is the provider's `--cloud-name` flag: not compared.

use super::auth_params::{Problem, problem};
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::events;
use crate::chain::model::{Fact, Link};
use crate::snapshot::EnvSourceObs;
use crate::spc::AzureSpc;
use crate::spc::cloud::AzureCloud;

/// How the KVC302 problem words the mismatch (the event fold looks for it).
pub(crate) const WRONG_CLOUD: &str = "is not the cloud the cluster is in";

/// The KVC302 problem of a `cloudName` naming another cloud than the cluster's, if any; when
/// the cluster's cloud is not known, a fact on `link` says what could not be compared.
/// `pod`: the chain's pod is one that mounts the SPC (its env may tell the cloud).
pub(crate) fn check(cx: &Ctx, p: &AzureSpc, pod: bool, link: &mut Link) -> Option<Problem> {
    let written = p.cloud_name.as_deref()?;
    let asked = AzureCloud::of_cloud_name(written)?;
    let vault = p.keyvault_name.as_deref().unwrap_or("<keyvaultName>");
    let picks = format!(
        "cloudName {written} picks {} (vault https://{vault}.{}/, tokens from {})",
        asked.describe(),
        asked.vault_suffix(),
        asked.login()
    );
    let (cloud, by) = match cluster_cloud(cx, pod) {
        Ok(known) => known,
        Err(why) => {
            // The public cloud is the provider's default: nothing worth saying.
            if asked != AzureCloud::Public {
                link.facts.push(Fact::new(
                    "cloud",
                    format!(
                        "{picks}; the cluster's cloud is not known ({why}), so whether it is the cluster's is not checked"
                    ),
                ));
            }
            return None;
        }
    };
    if cloud == asked {
        return None;
    }
    let fix = match cloud {
        AzureCloud::Public => {
            "cloudName: AzurePublicCloud (or remove it: the provider's default is the public cloud)"
                .to_string()
        }
        other => format!("cloudName: {}", other.name()),
    };
    Some(problem(
        Code::KVC302,
        format!(
            "{picks}, which {WRONG_CLOUD} ({}, as {by} says): that cloud's Entra ID does not know the cluster's identities and the vault's name does not resolve there",
            cloud.describe()
        ),
        fix,
    ))
}

/// The cloud the cluster lives in and what tells it; else why it is not known.
fn cluster_cloud(cx: &Ctx, pod: bool) -> Result<(AzureCloud, String), String> {
    let why = match cx.cluster().oidc_issuer.known() {
        Some(issuer) => match AzureCloud::of_issuer(issuer) {
            Some(c) => return Ok((c, format!("its OIDC issuer {issuer}"))),
            None => format!("its OIDC issuer {issuer} is not an AKS issuer host kvchain knows"),
        },
        None => "its OIDC issuer is not observed".to_string(),
    };
    let injected = pod
        .then(|| {
            cx.pod.containers.iter().find_map(|c| {
                c.env.iter().find_map(|e| match &e.source {
                    EnvSourceObs::Literal { value: Some(v) } if e.name == AUTHORITY_ENV => {
                        let cloud = AzureCloud::of_authority(v)?;
                        Some((
                            cloud,
                            format!("container {} env {AUTHORITY_ENV}={v}", c.name),
                        ))
                    }
                    _ => None,
                })
            })
        })
        .flatten();
    injected.ok_or(why)
}

const AUTHORITY_ENV: &str = "AZURE_AUTHORITY_HOST";

/// Whether event message `message` is the provider failing in the cloud the chain's
/// `cloudName` wrongly picks: a request to that cloud's vault host that did not resolve, or a
/// token asked at that cloud's login endpoint. The KVC302 finding naming the mismatch is then
/// its cause (the event its evidence), not a network or identity cause of its own.
pub(crate) fn failed_there(cx: &Ctx, message: &str) -> bool {
    let Some(asked) = (cx.params.as_deref())
        .and_then(|p| p.cloud_name.as_deref())
        .and_then(AzureCloud::of_cloud_name)
    else {
        return false;
    };
    let suffix = format!(".{}", asked.vault_suffix());
    events::unreached_vault(message).is_some_and(|u| u.host.to_ascii_lowercase().ends_with(&suffix))
        || message.contains(asked.login())
}
