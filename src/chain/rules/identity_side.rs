//! Which side of a client-id mismatch (KVC204) is the broken one. The ServiceAccount's
//! annotation and the SPC's clientID name two identities; the one to keep is the one that
//! works for this pod: it exists, has a federated credential for the pod's service account
//! (issuer, subject and audience, FACTS §7) and may read the SPC's objects (FACTS §8). Copying
//! the other side's id over it spreads the broken value instead (a nonexistent id into the
//! app's AZURE_CLIENT_ID, or the app onto an identity with no credential and no role).

use super::access::reads_granted;
use super::remedy::{self, AUDIENCE};
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::{Link, LinkKind};
use crate::snapshot::ManagedIdentityObs;

/// What the snapshot shows of one client id for this chain's pod. `None`: not known.
pub(crate) struct Readiness<'a> {
    pub client_id: &'a str,
    pub identity: Option<&'a ManagedIdentityObs>,
    pub exists: Option<bool>,
    pub federated: Option<bool>,
    pub granted: Option<bool>,
}

impl Readiness<'_> {
    /// Known to work end to end for this pod.
    pub fn complete(&self) -> bool {
        [self.exists, self.federated, self.granted] == [Some(true); 3]
    }

    /// Known to lack something.
    pub fn lacking(&self) -> bool {
        [self.exists, self.federated, self.granted].contains(&Some(false))
    }

    /// `identity NAME` or `clientId X`.
    pub fn named(&self) -> String {
        match self.identity {
            Some(i) => format!("identity {} ({})", i.name, self.client_id),
            None => format!("clientId {}", self.client_id),
        }
    }

    /// What it is known to lack, as a predicate (`is no managed identity`, `has no federated
    /// credential for … and no role …`), in the order the token exchange meets it.
    pub fn shortfall(&self, cx: &Ctx) -> String {
        if self.exists == Some(false) {
            return "is no managed identity".to_string();
        }
        let mut lacks = Vec::new();
        if self.federated == Some(false) {
            lacks.push(format!("no federated credential for {}", cx.subject()));
        }
        if self.granted == Some(false) {
            lacks.push(format!(
                "no role or access policy to read the objects of Key Vault {}",
                cx.keyvault()
            ));
        }
        format!("has {}", lacks.join(" and "))
    }
}

/// What the snapshot shows of `client_id` for this chain's pod.
pub(crate) fn readiness<'a>(cx: &Ctx<'a>, client_id: &'a str) -> Readiness<'a> {
    let identity = cx.ix.identity(client_id.trim());
    let exists = match identity {
        Some(_) => Some(true),
        None if super::identity::unseen(cx, client_id).is_none() => Some(false),
        None => None,
    };
    let federated = identity.and_then(|i| {
        let fics = i.federated_credentials.known()?;
        let subject = cx.subject();
        let by_subject: Vec<_> = fics.iter().filter(|f| f.subject == subject).collect();
        if by_subject.is_empty() {
            return Some(false);
        }
        let issuer = cx.cluster().oidc_issuer.known()?;
        Some(
            by_subject
                .iter()
                .any(|f| f.issuer == *issuer && f.audiences.iter().any(|a| a == AUDIENCE)),
        )
    });
    let granted = identity.and_then(|i| {
        let vault = cx
            .ix
            .vault(cx.params.as_deref()?.keyvault_name.as_deref()?)?;
        reads_granted(cx, vault, &i.principal_id)
    });
    Readiness {
        client_id,
        identity,
        exists,
        federated,
        granted,
    }
}

/// The side to keep when the ServiceAccount says `annotated` and the SPC `spc_client`.
pub(crate) enum Side<'a> {
    /// The SPC's identity works, or nothing says it does not: annotate the ServiceAccount.
    Spc,
    /// The ServiceAccount's identity works and the SPC's does not: change the SPC.
    ServiceAccount {
        sa: Readiness<'a>,
        spc: Readiness<'a>,
    },
    /// The SPC's clientID is no managed identity at all, and the ServiceAccount's is one that
    /// is not known to be complete (it lacks a credential or a grant, or they are not read):
    /// only it can be completed (FACTS §7: a client id that names nothing gets no credential
    /// and no role), so the SPC is changed to it and it is given what it lacks (audit DD2).
    OnlyServiceAccount { sa: Readiness<'a> },
    /// Each is known to lack something.
    Neither {
        sa: Readiness<'a>,
        spc: Readiness<'a>,
    },
}

pub(crate) fn pick<'a>(cx: &Ctx<'a>, annotated: &'a str, spc_client: &'a str) -> Side<'a> {
    let spc = readiness(cx, spc_client);
    if spc.complete() || !spc.lacking() {
        return Side::Spc;
    }
    let sa = readiness(cx, annotated);
    if sa.complete() {
        Side::ServiceAccount { sa, spc }
    } else if spc.exists == Some(false) && sa.exists == Some(true) {
        Side::OnlyServiceAccount { sa }
    } else if sa.lacking() {
        Side::Neither { sa, spc }
    } else {
        Side::Spc
    }
}

/// `identity X exists, is federated for <subject> and may read Key Vault <kv>`.
pub(crate) fn works(cx: &Ctx, r: &Readiness) -> String {
    format!(
        "{} exists, has a federated credential for {} and may read the objects of Key Vault {}",
        r.named(),
        cx.subject(),
        cx.keyvault()
    )
}

/// The SPC's clientID set to `id`: where the pod's volume overrides it, on the volume.
pub(crate) fn set_spc_client(cx: &Ctx, id: &str) -> String {
    if cx.attributes.contains_key("clientID") {
        return remedy::edit_owner(
            cx,
            &format!(
                "volume {}: volumeAttributes.clientID: {id} (it overrides the SecretProviderClass's)",
                cx.volume.name
            ),
        );
    }
    remedy::patch_spc_parameter(cx, "clientID", id)
}

/// The chain's SPC-identity findings (no such identity, no credential, no grant) when the
/// ServiceAccount's identity is the complete one: one SPC edit fixes them all, so each fix
/// says it first; creating a credential and a role for the SPC's identity stays the
/// alternative for who means to keep it.
pub(crate) fn point_at_working(cx: &Ctx, links: &mut [Link]) {
    // Read for every chain; most have no finding to re-point (asked first: it is cheapest).
    let re_pointed = |f: &crate::chain::model::Finding| {
        matches!(
            f.code,
            Code::KVC301
                | Code::KVC401
                | Code::KVC402
                | Code::KVC403
                | Code::KVC405
                | Code::KVC501
                | Code::KVC502
                | Code::KVC503
        ) && !f.fix.starts_with('#')
    };
    if [LinkKind::Identity, LinkKind::Federation, LinkKind::Access]
        .iter()
        .all(|k| !links[k.index()].findings.iter().any(re_pointed))
    {
        return;
    }
    let Some(spc_client) = cx.params.as_deref().and_then(|p| p.client_id.as_deref()) else {
        return;
    };
    let Some(annotated) = cx
        .ix
        .service_accounts
        .get(&(cx.ns(), cx.pod.service_account.as_str()))
        .and_then(|sa| sa.annotations.get(super::sa_template::CLIENT_ID))
    else {
        return;
    };
    if super::params::is_placeholder(annotated) || super::params::is_placeholder(spc_client) {
        return;
    }
    if annotated.trim().eq_ignore_ascii_case(spc_client.trim()) {
        same_on_both(cx, links, spc_client.trim());
        return;
    }
    let (spc, edit, why) = match pick(cx, annotated, spc_client) {
        Side::ServiceAccount { sa, spc } => {
            let why = format!("the service account's {}", works(cx, &sa));
            (spc, set_spc_client(cx, sa.client_id), why)
        }
        // The SPC's id names nothing: its Identity finding (KVC301) names the one identity
        // that can be completed, and completes it (audit DD2).
        Side::OnlyServiceAccount { sa, .. } => {
            let edit = remedy::in_turn(
                &[set_spc_client(cx, sa.client_id)]
                    .into_iter()
                    .chain(completion(cx, &sa))
                    .collect::<Vec<_>>()
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>(),
            );
            let why = format!(
                "the service account's {} is the managed identity this pod's service account is meant to use: {}",
                sa.named(),
                standing(cx, &sa)
            );
            for f in links[LinkKind::Identity.index()]
                .findings
                .iter_mut()
                .filter(|f| f.code == Code::KVC301 && !f.fix.starts_with('#'))
            {
                f.fix = format!("{edit}  # {why}").into();
            }
            return;
        }
        _ => return,
    };
    for kind in [LinkKind::Identity, LinkKind::Federation, LinkKind::Access] {
        for f in links[kind.index()]
            .findings
            .iter_mut()
            .filter(|f| re_pointed(f))
        {
            f.fix = match (f.code, spc.identity) {
                // No identity to complete: the edit is the whole fix.
                (Code::KVC301, _) | (_, None) => format!("{edit}  # {why}"),
                (_, Some(i)) => format!("{edit}  # {why}; or, to keep {}: {}", i.name, f.fix),
            }
            .into();
        }
    }
}

/// The ServiceAccount's annotation and the SPC carry the same clientID `client`, and it names
/// no managed identity (audit MM3): neither side says which identity is meant, but the pod's
/// subject does. FACTS §7: an identity accepts the pod's token only through a federated
/// credential naming `system:serviceaccount:<ns>:<sa>`. When exactly one identity seen has
/// one for this pod's subject and is complete for it (it may read the objects too), KVC301's
/// fix sets both sides to it in one go: the SPC's clientID, the annotation, and the restart of
/// the pods that hold the old id (the webhook injects on CREATE only, FACTS §6). With none, or
/// several, which one is meant is not the snapshot's to say: the placeholder stands.
fn same_on_both(cx: &Ctx, links: &mut [Link], client: &str) {
    let identity = &mut links[LinkKind::Identity.index()];
    if !(identity.findings.iter()).any(|f| f.code == Code::KVC301 && !f.fix.starts_with('#')) {
        return;
    }
    if readiness(cx, client).exists != Some(false) {
        return;
    }
    let subject = cx.subject();
    let mut federated = (cx.azure().identities.items.iter())
        .filter(|i| {
            (i.federated_credentials.known().into_iter().flatten()).any(|f| f.subject == subject)
        })
        .map(|i| readiness(cx, i.client_id.as_str()))
        .filter(Readiness::complete);
    let (Some(meant), None) = (federated.next(), federated.next()) else {
        return;
    };
    let id = meant.client_id;
    let sa = cx.pod.service_account.as_str();
    let annotate = format!(
        "kubectl annotate serviceaccount {sa} -n {} azure.workload.identity/client-id={id} --overwrite",
        cx.ns()
    );
    let restart = remedy::restart_sa_pods_not_holding(cx, id);
    let fix = remedy::in_turn(&[&set_spc_client(cx, id), &annotate, &restart]);
    let why = format!(
        "no managed identity has clientId {client}, which SecretProviderClass {} and service account {sa} both name; {} - the one identity whose federated credential names {subject}",
        cx.spc_name,
        works(cx, &meant)
    );
    let sep = if fix.contains("  # ") { "; " } else { "  # " };
    for f in (identity.findings.iter_mut()).filter(|f| f.code == Code::KVC301) {
        if !f.fix.starts_with('#') {
            f.fix = format!("{fix}{sep}{why}").into();
            f.show_safely();
        }
    }
}

/// What the ServiceAccount's identity `sa` is known to lack, as the commands its Federation
/// and Access findings would give it (KVC401 or the credential corrected, KVC501), for the
/// identity itself rather than the SPC's.
fn completion(cx: &Ctx, sa: &Readiness) -> Vec<String> {
    let Some(i) = sa.identity else {
        return Vec::new();
    };
    let own = cx.for_identity(i);
    let mut steps = Vec::new();
    if sa.federated == Some(false) {
        let subject = cx.subject();
        let has_subject =
            (i.federated_credentials.known().into_iter().flatten()).any(|f| f.subject == subject);
        steps.push(if has_subject {
            // Its credential for the subject names another issuer or audience (FACTS §7).
            remedy::fic_update(
                &own,
                &format!(
                    "--issuer {} --audiences {AUDIENCE}",
                    remedy::cluster_issuer(&own)
                ),
            )
        } else {
            remedy::commands(&own, Code::KVC401).1
        });
    }
    if sa.granted == Some(false) {
        steps.push(remedy::commands(&own, Code::KVC501).1);
    }
    steps
}

/// What is known of `sa`: what it has, what it lacks (given by the fix), what is not read.
fn standing(cx: &Ctx, sa: &Readiness) -> String {
    let credential = format!("a federated credential for {}", cx.subject());
    let grant = format!("read access to Key Vault {}", cx.keyvault());
    let mut has = Vec::new();
    let mut lacks = Vec::new();
    let mut unread = Vec::new();
    for (known, what) in [(sa.federated, credential), (sa.granted, grant)] {
        match known {
            Some(true) => has.push(what),
            Some(false) => lacks.push(what),
            None => unread.push(what),
        }
    }
    let mut said = vec!["it exists".to_string()];
    if !has.is_empty() {
        said.push(format!("has {}", has.join(" and ")));
    }
    if !lacks.is_empty() {
        said.push(format!("lacks {} (given here)", lacks.join(" and ")));
    }
    if !unread.is_empty() {
        said.push(format!(
            "whether it has {} is not known",
            unread.join(" and ")
        ));
    }
    said.join(", ")
}
