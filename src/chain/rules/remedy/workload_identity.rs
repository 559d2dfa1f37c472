//! KVC303's and KVC304's fix: moving an SPC from the node's managed identity (or from
//! aad-pod-identity) to a workload identity of its own. Switching the SPC alone breaks a
//! working mount: the new identity first needs a federated credential for the mounting pods'
//! service account at the cluster's issuer (FACTS §7) and read access to the object types it
//! reads, in the vault's permission model (a role on an RBAC vault, an access policy on an
//! access-policy vault: FACTS §8). The pods need nothing else for the mount: the driver
//! requests the service-account token itself (FACTS §5).

use super::{AUDIENCE, cluster_issuer, edit_spc, grant_read, sh_word};
use crate::chain::context::Ctx;
use crate::chain::rules::params::is_placeholder;

/// The guide that sets up workload identity for the Key Vault CSI provider.
const GUIDE: &str = "https://learn.microsoft.com/azure/aks/csi-secrets-store-identity-access";

/// The guide that moves aad-pod-identity workloads to workload identity.
const POD_IDENTITY_GUIDE: &str =
    "https://learn.microsoft.com/azure/aks/workload-identity-migrate-from-pod-identity";

/// The identity mode an SPC leaves for workload identity.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Leaving {
    /// `useVMManagedIdentity` (KVC303).
    NodeIdentity,
    /// `usePodIdentity`, aad-pod-identity (KVC304).
    PodIdentity,
}

/// The node-identity parameters a pod volume may set over its SPC's (FACTS §5).
const NODE_IDENTITY: [&str; 2] = ["useVMManagedIdentity", "userAssignedIdentityID"];

/// The pod-identity parameter (FACTS §5: one of the identity modes).
const POD_IDENTITY: [&str; 1] = ["usePodIdentity"];

/// Create the identity, its federated credentials and its read access, then point the SPC at
/// it, turning off the mode it leaves (`useVMManagedIdentity`, or `usePodIdentity` for
/// KVC304: with a mode on, clientID is not read, FACTS §5). When that mode comes from the pod
/// volume's `volumeAttributes`, which override the SPC (FACTS §5), the volume is what to
/// change: an SPC that already names a workload identity needs nothing else.
///
/// A controller-owned SPC is changed through its owner: the fix says so ([`super::spc::unless_controlled`],
/// audit TT6), as the whole move would end in a patch its controller reverts.
pub(crate) fn switch_to_workload_identity(cx: &Ctx, from: Leaving) -> String {
    super::spc::unless_controlled(cx, switch(cx, from))
}

fn switch(cx: &Ctx, from: Leaving) -> String {
    let pod_identity = from == Leaving::PodIdentity;
    let (mode_keys, whose): (&[&str], &str) = match pod_identity {
        true => (&POD_IDENTITY, "aad-pod-identity"),
        false => (&NODE_IDENTITY, "the node's identity"),
    };
    let overriding: Vec<&str> = super::overridden(cx)
        .map(|(k, _)| k)
        .filter(|k| mode_keys.contains(k))
        .collect();
    let spc_is_workload = cx.spc.is_some_and(|s| {
        let flag = match pod_identity {
            true => &s.parsed.use_pod_identity,
            false => &s.parsed.use_vm_managed_identity,
        };
        s.parsed.client_id.is_some()
            && !flag
                .as_deref()
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    });
    if !overriding.is_empty() && spc_is_workload {
        return super::edit_owner(
            cx,
            &format!(
                "volume {}: remove volumeAttributes.{} (they override SecretProviderClass {}'s workload identity clientID with {whose})",
                cx.volume.name,
                overriding.join(", volumeAttributes."),
                cx.spc_name
            ),
        );
    }
    let ns = cx.ns();
    let lookup = |field: &str| {
        format!(
            "$(az identity show -g \"$IDENTITY_RG\" -n \"$IDENTITY_NAME\" --query {field} -o tsv)"
        )
    };
    // The SPC already names a user-assigned identity in clientID (not read while the mode it
    // leaves is on, FACTS §5): that identity is federated and pointed at, not a new one that
    // reads nothing in the vault (audit: fixer C item 2). Else the one the mounting pods'
    // service accounts name (FACTS §6): a new identity would differ from the annotation, and
    // the switched SPC would meet KVC204 (audit LL2).
    // Accounts that name different identities (audit NN1): one is kept (see
    // [`accounts_choice`]) and the others are annotated to it below.
    let accounts = mounting(cx);
    let (from_accounts, chosen_why) = accounts_choice(cx, &accounts);
    // Nothing names one: the one visible identity already federated for the pod's account is
    // the one to use, not a new identity whose name and group the paste leaves unset
    // (`"$IDENTITY_NAME"`, audit XB-facts: a placeholder the snapshot could fill).
    let named = (spc_client_id(cx).or(from_accounts)).or_else(|| super::usable_client_id(cx));
    let chosen_why = chosen_why.filter(|_| spc_client_id(cx).is_none());
    let observed = named.and_then(|c| cx.ix.identity(c));
    let head = match (named, observed) {
        (Some(_), Some(i)) => format!(
            "IDENTITY_NAME={} && IDENTITY_RG={}",
            sh_word(&i.name),
            sh_word(super::resource_group(&i.resource_id).unwrap_or_default())
        ),
        // Looked up by clientId; an empty answer (not visible to this subscription) stops
        // the line before anything is created or granted.
        (Some(c), None) => format!(
            "IDENTITY_NAME={} && IDENTITY_RG={} && {{ [ -n \"$IDENTITY_NAME\" ] || {{ echo {} >&2; false; }}; }}",
            super::identity_by_client(c, "name"),
            super::identity_by_client(c, "resourceGroup"),
            sh_word(&format!(
                "no managed identity with clientId {c} in this subscription (az account set picks another)"
            )),
        ),
        // None to reuse: a new identity, named and placed from what the snapshot knows (the
        // pods' account, the cluster's resource group, as the AKS guide does), else a guard
        // that stops the paste with what to set (audit XC-left: `"$IDENTITY_NAME"` unset made
        // `az identity create -n ""` fail, and the lines after it act on nothing).
        (None, _) => format!(
            "{} && {} && az identity create -g \"$IDENTITY_RG\" -n \"$IDENTITY_NAME\"",
            new_identity_name(cx, &mounting_accounts(&accounts)).map_or_else(
                || ": \"${IDENTITY_NAME:?set IDENTITY_NAME to the name of the managed identity to create}\"".to_string(),
                |n| format!("IDENTITY_NAME={n}")
            ),
            cx.cluster().resource_group.as_deref().map_or_else(
                || ": \"${IDENTITY_RG:?set IDENTITY_RG to the resource group of the managed identity to create, such as the cluster resource group}\"".to_string(),
                |g| format!("IDENTITY_RG={}", sh_word(g))
            ),
        ),
    };
    // Every pod mounting the SPC exchanges its own service account's token (FACTS §5, §7):
    // one federated credential per account, or the others' mounts break. An observed identity
    // keeps the ones it has (FACTS §7: issuer, subject and audience).
    let has_fic = |sa: &str| {
        let subject = format!("system:serviceaccount:{ns}:{sa}");
        let issuer = cx.cluster().oidc_issuer.known();
        observed
            .and_then(|i| i.federated_credentials.known())
            .is_some_and(|fics| {
                fics.iter().any(|f| {
                    f.subject == subject
                        && issuer.is_some_and(|want| *want == f.issuer)
                        && f.audiences.iter().any(|a| a == AUDIENCE)
                })
            })
    };
    let accounts_mounting = accounts;
    let accounts = mounting_accounts(&accounts_mounting);
    let held = observed
        .and_then(|i| i.federated_credentials.known())
        .map_or(0, Vec::len);
    let to_create = accounts.iter().filter(|sa| !has_fic(sa)).count();
    // FACTS §7: at most 20 federated credentials per identity. A paste that needs more stops
    // at the 21st create, before the grant and the SPC patch: one identity cannot take every
    // mounting account, so the fix says how to split instead of failing half-way (audit Z4).
    if held + to_create > super::federated_credential::MAX_PER_IDENTITY {
        return format!(
            "# {} service accounts mount SecretProviderClass {} in namespace {ns}{}, and a managed identity holds at most {} federated credentials (Entra ID federated identity credentials): one identity cannot serve them all. Give each group of at most {} accounts its own SecretProviderClass with its own identity's clientID, or use AKS identity binding (useAzureTokenProxy), which needs one credential for any number of accounts; guide: {}",
            accounts.len(),
            cx.spc_name,
            match held {
                0 => String::new(),
                n => format!(" (the identity already holds {n})"),
            },
            super::federated_credential::MAX_PER_IDENTITY,
            super::federated_credential::MAX_PER_IDENTITY,
            if pod_identity {
                POD_IDENTITY_GUIDE
            } else {
                GUIDE
            }
        );
    }
    // Named as KVC401 names them (within FACTS §7's 120 characters, audit LL10), and never
    // a name the observed identity holds: a create under it would replace that credential.
    let held_fics = observed.and_then(|i| i.federated_credentials.known());
    let fics: Vec<String> = accounts
        .iter()
        .filter(|sa| !has_fic(sa))
        .map(|sa| {
            let name = super::federated_credential::fic_name(ns, sa);
            let name = held_fics.map_or(name.clone(), |f| {
                super::federated_credential::free_name(&name, f)
            });
            let (identity, rg, issuer) = ("\"$IDENTITY_NAME\"", "\"$IDENTITY_RG\"", cluster_issuer(cx));
            let subject = format!("system:serviceaccount:{ns}:{sa}");
            let create = format!(
                "az identity federated-credential create --name {name} --identity-name {identity} -g {rg} --issuer {issuer} --subject {subject} --audiences {AUDIENCE}"
            );
            // FACTS §7: issuer and subject are unique per identity, so a create fails when a
            // credential already holds the pair (its audience the one field that differs,
            // as `has_fic` found none whole): that one is updated (audit WW2).
            let paired = |f: &&crate::snapshot::FederatedCredentialObs| {
                f.subject == subject && cx.cluster().oidc_issuer.known() == Some(&f.issuer)
            };
            match held_fics {
                Some(held) => match held.iter().find(paired) {
                    Some(f) => format!(
                        "az identity federated-credential update --name {} --identity-name {identity} -g {rg} --audiences {AUDIENCE}",
                        sh_word(&f.name)
                    ),
                    None => create,
                },
                None => super::federated_credential::unless_paired(identity, rg, &issuer, &subject, &create),
            }
        })
        .collect();
    // Read access in the vault's permission model (FACTS §8), unless the observed identity
    // already reads every object (never a role it already holds).
    let reads = observed
        .zip(crate::chain::rules::access::chain_vault(cx))
        .and_then(|(i, v)| crate::chain::rules::access::reads_granted(cx, v, &i.principal_id));
    let grant =
        (reads != Some(true)).then(|| grant_read(cx, &format!("\"{}\"", lookup("principalId"))));
    // The tenant matters from now on (the token is asked there): the new identity's own.
    let off = match pod_identity {
        true => "\\\"usePodIdentity\\\":\\\"false\\\"",
        false => "\\\"useVMManagedIdentity\\\":\\\"false\\\",\\\"userAssignedIdentityID\\\":null",
    };
    let patch = format!(
        "{{\\\"spec\\\":{{\\\"parameters\\\":{{{off},\\\"clientID\\\":\\\"{}\\\",\\\"{}\\\":\\\"{}\\\"}}}}}}",
        lookup("clientId"),
        super::tenant_key_to_edit(cx),
        lookup("tenantId"),
    );
    // The driver requests the pods' token only through a CSIDriver with tokenRequests for
    // the exchange audience (FACTS §5): without it every new mount fails with "service
    // account tokens not found" once the SPC is switched (audit Z3).
    let tokens = token_requests(cx);
    // An account annotated with another identity is annotated to this one in the same fix: an
    // account holds one client-id (FACTS §6), and one naming another would meet KVC204 once
    // the SPC is switched (audit NN1). The webhook injects it at pod creation only (FACTS §6):
    // the labelled pods running as the account are restarted after.
    let value = named.map_or_else(
        || format!("\"{}\"", lookup("clientId")),
        |c| sh_word(c).into_owned(),
    );
    let moved: Vec<&Mounting> = accounts_mounting
        .iter()
        .filter(|m| {
            m.annotated
                .is_some_and(|a| named.is_none_or(|c| !a.eq_ignore_ascii_case(c)))
        })
        .collect();
    let reannotate: Vec<String> = moved
        .iter()
        .flat_map(|m| {
            let annotate = format!(
                "kubectl annotate serviceaccount {} -n {ns} azure.workload.identity/client-id={value} --overwrite",
                sh_word(m.sa)
            );
            let restart =
                super::restart::restart_sa_pods_not_holding(&cx.for_reader(m.pod), named.unwrap_or(&value));
            [annotate, restart]
        })
        .collect();
    // Never "no annotation needed" while an account names another identity (audit NN1).
    let (annotation, moved_note) = match moved.as_slice() {
        [] => ("and need no label or annotation for it ", String::new()),
        _ => (
            "",
            format!(
                "; service account{} {} named another identity: annotated with $IDENTITY_NAME's clientId, and the labelled pods restarted, as an account holds one client-id, which the webhook injects at pod creation only (Azure Workload Identity webhook){}",
                if moved.len() == 1 { "" } else { "s" },
                moved.iter().map(|m| m.sa).collect::<Vec<_>>().join(", "),
                chosen_why
                    .as_deref()
                    .map(|w| format!("; {w}"))
                    .unwrap_or_default(),
            ),
        ),
    };
    let note = format!(
        "new pods mount as $IDENTITY_NAME {annotation}(the driver requests the token, {}){moved_note}; guide: {}",
        match &tokens {
            Tokens::Requested => format!("through its CSIDriver's tokenRequests for {AUDIENCE}"),
            Tokens::Added(_) => format!(
                "through the tokenRequests for {AUDIENCE} the step before adds to the CSIDriver"
            ),
            Tokens::Unknown => format!(
                "through a CSIDriver with tokenRequests for {AUDIENCE}, not read here: the line checks it before the switch and stops there when they lack it (KVC105 adds them; pasted again after, each step takes what it finds)"
            ),
            Tokens::Blocked(_) => format!(
                "through tokenRequests for {AUDIENCE}, which its CSIDriver lacks: add them first, as said"
            ),
        },
        if pod_identity {
            POD_IDENTITY_GUIDE
        } else {
            GUIDE
        }
    );
    let spc = if is_placeholder(cx.spc_name) {
        let off = match pod_identity {
            true => "usePodIdentity: \"false\"",
            false => "useVMManagedIdentity: \"false\", no userAssignedIdentityID",
        };
        edit_spc(
            cx,
            &format!(
                "{off}, clientID and {}: the clientId and tenantId of $IDENTITY_NAME; {note}",
                super::tenant_key_to_edit(cx)
            ),
        )
    } else {
        let patch = format!(
            "kubectl patch secretproviderclass {} -n {ns} --type merge -p \"{patch}\"",
            sh_word(cx.spc_name)
        );
        // The volume's edit, when there is one, comes last: its comment ends the line.
        match overriding.is_empty() {
            true => format!("{patch}  # {note}"),
            false => format!(
                "{patch} && {}",
                super::edit_owner(
                    cx,
                    &format!(
                        "volume {}: remove volumeAttributes.{} (they override the SecretProviderClass); {note}",
                        cx.volume.name,
                        overriding.join(", volumeAttributes.")
                    )
                )
            ),
        }
    };
    // The accounts are moved once the SPC is: its patch's note ends the line.
    let spc = match reannotate.is_empty() {
        true => spc,
        false => super::in_turn(
            &std::iter::once(spc.as_str())
                .chain(reannotate.iter().map(String::as_str))
                .collect::<Vec<_>>(),
        ),
    };
    let steps: Vec<String> = std::iter::once(head).chain(fics).chain(grant).collect();
    let mut parts: Vec<&str> = steps.iter().map(String::as_str).collect();
    match &tokens {
        Tokens::Added(fix) => parts.extend([fix.as_str(), spc.as_str()]),
        // The CSIDriver cannot be given the audience by this paste (the AKS add-on's, or a
        // Helm release still to look up): everything but the switch, which would break every
        // new mount until it is (audit Z3).
        Tokens::Blocked(fix) => {
            let later = format!(
                "# the SecretProviderClass stays on {whose} until its CSIDriver requests tokens for {AUDIENCE}; then: {spc}"
            );
            return super::in_turn(&[parts, vec![fix.as_str(), later.as_str()]].concat());
        }
        Tokens::Requested => parts.push(spc.as_str()),
        // Not read: the paste reads it right before the switch and stops there when the
        // audience is missing (audit AA1: a note was not enough). Only the switch breaks a
        // mount without it (FACTS §5: the token is asked for the SPC's clientID); the
        // identity, its federated credentials and its read access change no mount, and each
        // is taken as it is when pasted again (a credential is looked up first, `az identity
        // create` and `az role assignment create` leave an existing one). So the line starts
        // with the move itself, not with a check on the CSIDriver (audit VVV-real).
        Tokens::Unknown => parts.extend([TOKENS_GUARD, spc.as_str()]),
    }
    super::in_turn(&parts)
}

/// Reads the CSIDriver's token audiences and fails, saying why, unless they list the
/// exchange audience (FACTS §5): what a paste runs before the switch when the CSIDriver was
/// not read.
const TOKENS_GUARD: &str = "{ kubectl get csidriver secrets-store.csi.k8s.io -o jsonpath='{.spec.tokenRequests[*].audience}' | tr ' ' '\\n' | grep -qxF api://AzureADTokenExchange || { echo 'CSIDriver secrets-store.csi.k8s.io requests no token for api://AzureADTokenExchange: add it first (kvchain explain KVC105), or every new mount fails' >&2; false; }; }";

/// Whether the CSIDriver gives the pods' tokens to a workload-identity mount (FACTS §5).
enum Tokens {
    /// Its tokenRequests list the exchange audience.
    Requested,
    /// It lists no such audience, and this command adds it (a Helm release seen on the
    /// driver, or the manifest's document).
    Added(String),
    /// It lists none and the paste cannot add it: the AKS add-on's (a note), or a Helm
    /// release to look up first (`helm list`).
    Blocked(String),
    /// The CSIDriver was not read.
    Unknown,
}

fn token_requests(cx: &Ctx) -> Tokens {
    let Some(have) = super::audience::requested_audiences(cx) else {
        return Tokens::Unknown;
    };
    if have.iter().any(|a| a == AUDIENCE) {
        return Tokens::Requested;
    }
    let fix = super::token_requests_fix_for(cx, Some(AUDIENCE));
    let (command, _) = super::shell::split_note(&fix);
    if command.starts_with("helm upgrade ")
        || command.starts_with("${EDITOR")
        || command.starts_with("kubectl edit csidriver ")
    {
        Tokens::Added(fix)
    } else {
        Tokens::Blocked(fix)
    }
}

/// The SPC's own clientID when it names an identity (a GUID: not empty, not a placeholder).
fn spc_client_id<'a>(cx: &Ctx<'a>) -> Option<&'a str> {
    let c = cx.spc?.parsed.client_id.as_deref()?.trim();
    (!c.is_empty() && !is_placeholder(c) && c.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-'))
        .then_some(c)
}

/// A service account of the pods mounting this chain's SPC: its name (`default` for a pod
/// that names none), the first of its pods by name, and its client-id annotation (trimmed;
/// none when missing, empty or a placeholder: a template's value differs from nothing).
struct Mounting<'a> {
    sa: &'a str,
    pod: &'a crate::snapshot::PodObs,
    annotated: Option<&'a str>,
}

/// The mounting pods' service accounts, each once, by name. (For an SPC checked without a
/// pod, none.)
fn mounting<'a>(cx: &Ctx<'a>) -> Vec<Mounting<'a>> {
    use crate::chain::rules::sa_template::CLIENT_ID;
    let ns = cx.ns();
    let mut out: Vec<Mounting> = Vec::new();
    let pods = (cx.ix.pods_mounting(ns, cx.spc_name))
        .chain(std::iter::once(cx.pod))
        .filter(|p| !p.name.is_empty() || !p.service_account.is_empty());
    for p in pods {
        let sa = match p.service_account.as_str() {
            "" => "default",
            sa => sa,
        };
        match out.iter_mut().find(|m| m.sa == sa) {
            Some(m) if p.name < m.pod.name => m.pod = p,
            Some(_) => {}
            None => {
                let annotated = (cx.ix.service_accounts.get(&(ns, sa)))
                    .and_then(|s| s.annotations.get(CLIENT_ID))
                    .map(|c| c.trim())
                    .filter(|c| !c.is_empty() && !is_placeholder(c));
                out.push(Mounting {
                    sa,
                    pod: p,
                    annotated,
                });
            }
        }
    }
    out.sort_by(|a, b| a.sa.cmp(b.sa));
    out
}

/// The identity the mounting accounts name (FACTS §6: a GUID) that the SPC moves onto, and,
/// when they name several, why this one. An account holds one client-id, and the switched SPC
/// one clientID: accounts naming different ones cannot all agree with it, so one is kept and
/// the others are annotated to it (audit NN1): the first (by account name) whose observed
/// identity already may read every object of the SPC, else the first account's. None when no
/// account names a GUID.
fn accounts_choice<'a>(
    cx: &Ctx<'a>,
    accounts: &[Mounting<'a>],
) -> (Option<&'a str>, Option<String>) {
    let guid = |c: &str| c.len() == 36 && c.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    let mut named: Vec<(&str, &str)> = Vec::new();
    for m in accounts {
        if let Some(c) = m.annotated.filter(|c| guid(c))
            && !named.iter().any(|(_, n)| n.eq_ignore_ascii_case(c))
        {
            named.push((m.sa, c));
        }
    }
    let (Some(&(first_sa, first)), true) = (named.first(), named.len() > 1) else {
        return (named.first().map(|(_, c)| *c), None);
    };
    let vault = crate::chain::rules::access::chain_vault(cx);
    let reads = named.iter().find(|(_, c)| {
        (cx.ix.identity(c).zip(vault)).is_some_and(|(i, v)| {
            crate::chain::rules::access::reads_granted(cx, v, &i.principal_id) == Some(true)
        })
    });
    let listed = named
        .iter()
        .map(|(sa, c)| format!("{sa} names {c}"))
        .collect::<Vec<_>>()
        .join(", ");
    match reads {
        Some(&(sa, c)) => (
            Some(c),
            Some(format!(
                "of the identities the accounts name ({listed}), {c} ({sa}'s) is kept: it already may read the objects of Key Vault {}",
                cx.keyvault()
            )),
        ),
        None => (
            Some(first),
            Some(format!(
                "of the identities the accounts name ({listed}), {first} is kept, the first account's by name ({first_sa}); none is known to read the objects yet"
            )),
        ),
    }
}

/// The service accounts of the pods mounting this chain's SPC, each once, as shell words (a
/// pod without one runs as `default`); for an SPC checked without a pod, the user's to name.
fn mounting_accounts(accounts: &[Mounting]) -> Vec<String> {
    let mut accounts: Vec<String> = accounts
        .iter()
        .map(|m| sh_word(m.sa).into_owned())
        .collect();
    if accounts.is_empty() {
        accounts.push("\"$SERVICE_ACCOUNT\"".to_string());
    }
    accounts
}

/// The name of the identity the move creates, when the snapshot gives one: `id-<ns>-<account>`
/// for the one account that mounts the SPC, else `id-<ns>-<spc>`; `None` when both are
/// unrendered. Azure's managed identity names take letters, digits, `-` and `_`, 3 to 128
/// characters (Microsoft.ManagedIdentity naming rules): a `.` of a Kubernetes name becomes `-`.
fn new_identity_name(cx: &Ctx, accounts: &[String]) -> Option<String> {
    let ns = cx.ns();
    let base = match accounts {
        [one] if !one.starts_with('"') => one.as_str(),
        _ if !is_placeholder(cx.spc_name) => cx.spc_name,
        _ => return None,
    };
    if is_placeholder(ns) {
        return None;
    }
    let mut name: String = format!("id-{ns}-{base}")
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' => c,
            _ => '-',
        })
        .collect();
    name.truncate(128);
    Some(name)
}
