//! Confirm and fix commands with the chain's real names, per code. Rules with more context
//! (an object name, a nearest subject) write their own; these are the defaults ([`commands`]),
//! and what event-only findings (Azure side unknown, [`from_event`]) use.
//!
//! This module keeps the names every fix shares (the cluster, the driver's install, the
//! identity, the tenant and issuer, as the snapshot knows them or as shell variables to fill)
//! and the shell quoting; the commands on one kind of object live in their own modules (the
//! SPC in `spc`, the pod's owner in `owner`, Key Vault access in `access`).

use crate::chain::catalog::Code;
use crate::chain::context::{Ctx, resource_group};
use crate::chain::events;
use crate::chain::model::Finding;
use crate::snapshot::DriverInstall;

mod access;
mod audience;
mod binding;
mod by_code;
mod credential;
mod driver_install;
mod federated_credential;
mod free_path;
mod from_event;
mod guard;
mod helm;
pub(crate) mod message_size;
pub(crate) mod network;
mod node_rg;
mod ordered_wait;
mod owner;
mod paused;
mod reloader;
mod remount;
mod restart;
mod restart_set;
mod rotation;
mod shell;
mod spc;
mod tenant;
mod throttling;
mod webhook;
mod wiring;
mod workload_identity;

pub(crate) use access::{
    access_confirm, deny_assigned, deny_before_grant, fewest_roles, grant_read, grant_read_as,
    grant_roles, grant_roles_to, lists_versions, permissions_flag, policy_confirm, policy_flag,
    principal, principal_of_app, role_for, roles_needed, secret_client_id, secret_key,
    service_principal_show, set_policy, types_needed, vault_assignments, vault_scope,
    with_principal,
};
pub(crate) use audience::{
    AUDIENCE, audiences_needed, cluster_audiences, token_audience, token_requests_fix,
    token_requests_fix_for,
};
pub(crate) use by_code::{apply_spc_file, commands};
pub(crate) use credential::unreferenced;
pub(crate) use driver_install::{install_confirm, install_fix};
pub(crate) use federated_credential::fic_create;
pub(crate) use free_path::{free_mount_path, free_volume_name};
pub(crate) use from_event::from_event;
pub(crate) use guard::{guard_unset, required};
pub(crate) use helm::driver_upgrade;
pub(crate) use node_rg::{looked_up, node_rg, node_vmss, pod_node_pool};
pub(crate) use owner::{edit_owner, edit_pod_owner, mount_as_directory, set_env};
pub(crate) use paused::{Hold, reloader_held, reloader_held_in, rolled_in, rolled_in_later};
pub(crate) use reloader::{on_delete_commands, partition_commands, resume_commands};
pub(crate) use remount::{
    env_readers_restart, remount, renews_mount, rotation_off, rotation_poll, rotation_stuck_fix,
};
pub(crate) use restart::{
    reinject, restart, restart_pod, restart_sa_pods_not_holding, restart_sa_runners,
    sa_labelled_seen, sa_only_finished, sa_pods_not_holding,
};
pub(crate) use rotation::DRIVER_LOG;
pub(crate) use shell::{Cut, comment_at, cuts, in_turn, split_note};
pub(crate) use spc::{
    edit_spc, get_spc, note_overrides, overridden, patch_spc_parameter, show_spc,
    unless_controlled, unless_spc_controlled,
};
pub(crate) use tenant::{home_tenant, tenant_key_to_edit};
pub(crate) use webhook::label_split;
pub(crate) use workload_identity::{Leaving, switch_to_workload_identity};

pub(crate) const CSIDRIVER: &str = "CSIDriver/secrets-store.csi.k8s.io";

/// `-g <resource group> -n <cluster>` of `az aks` commands: what the snapshot knows (the lab's
/// Cluster), else the shell variables `$CLUSTER_RG` / `$CLUSTER` for the user to set.
pub(crate) fn aks_args(cx: &Ctx) -> String {
    format!("-g {} -n {}", aks_rg(cx), aks_name(cx))
}

/// The AKS cluster's resource group, else `"$CLUSTER_RG"`.
pub(crate) fn aks_rg(cx: &Ctx) -> String {
    cx.cluster().resource_group.as_deref().map_or_else(
        || "\"$CLUSTER_RG\"".to_string(),
        |g| sh_word(g).into_owned(),
    )
}

/// The AKS cluster's name, else `"$CLUSTER"`.
pub(crate) fn aks_name(cx: &Ctx) -> String {
    cx.cluster()
        .name
        .as_deref()
        .map_or_else(|| "\"$CLUSTER\"".to_string(), |n| sh_word(n).into_owned())
}

/// The AKS node pool of a node name (`aks-<pool>-<id>-vmss<n>`).
pub(crate) fn node_pool(node: &str) -> Option<&str> {
    let mut parts = node.strip_prefix("aks-")?.split('-');
    let pool = parts.next()?;
    parts.next_back()?.starts_with("vmss").then_some(pool)
}

/// A service account of the pod's namespace annotated with the SPC's clientID (KVC202's fix
/// moves the pod to it rather than create a twin).
pub(crate) fn annotated_sa<'a>(cx: &Ctx<'a>) -> Option<&'a str> {
    let client = cx.params.as_deref()?.client_id.as_deref()?;
    (cx.ix.service_accounts_in(cx.ns()))
        .find(|sa| {
            sa.annotations
                .get("azure.workload.identity/client-id")
                .map(String::as_str)
                == Some(client)
        })
        .map(|sa| sa.name.as_str())
}

/// How the driver was installed, when the source saw its DaemonSet.
pub(crate) fn install(cx: &Ctx) -> Option<DriverInstall> {
    cx.cluster().csi_driver.known().and_then(|c| c.install)
}

/// The command that changes a driver flag: the add-on's flags on `az aks update`, or the
/// Helm chart's values (`key=value`) on the release that installed the driver; both when the
/// install method is not known. `az aks update` carries the add-on's rotation flags in the
/// Azure CLI itself; `az aks addon update` is the aks-preview extension's, which a CLI without
/// that extension does not know (audit XC-paste).
pub(crate) fn driver_setting(cx: &Ctx, addon_flags: &str, helm_values: &[&str]) -> String {
    let addon = format!("az aks update {} {addon_flags}", aks_args(cx));
    let helm = helm::driver_upgrade(cx, helm_values);
    match install(cx) {
        Some(DriverInstall::AksAddon) => addon,
        Some(DriverInstall::Helm) => helm,
        None => format!("{addon}  # AKS add-on; with Helm: {helm}"),
    }
}

/// `-g <rg>` of the identity when known, else a shell variable the user fills in.
pub(crate) fn identity_rg(cx: &Ctx) -> String {
    cx.identity
        .and_then(|i| resource_group(&i.resource_id))
        .map_or_else(|| "\"$IDENTITY_RG\"".to_string(), str::to_string)
}

pub(crate) fn identity_name(cx: &Ctx) -> String {
    cx.identity
        .map_or_else(|| "\"$IDENTITY_NAME\"".to_string(), |i| i.name.clone())
}

/// The client id the provider signs in with, as a shell word: the mode's or the SPC's; in
/// service-principal mode the nodePublishSecretRef Secret's `clientid`, read when pasted
/// (FACTS §5; an application id, not a secret value); else `<clientID>`.
pub(crate) fn client_id(cx: &Ctx) -> String {
    if let Some(c) = known_client_id(cx) {
        return c.to_string();
    }
    match &cx.mode {
        crate::chain::context::AuthMode::ServicePrincipal { secret } => {
            secret_client_id(cx, secret)
        }
        // The SecretProviderClass unread: a failure event names the clientId the provider
        // used, else the ServiceAccount's annotation may; a placeholder the snapshot could
        // fill would make a lookup that finds nothing read as "no such identity" (audit DDD9).
        _ if cx.spc.is_none() => (event_client_id(cx).map(str::to_string))
            .or_else(|| usable_client_id(cx).map(str::to_string))
            .unwrap_or_else(|| "<clientID>".to_string()),
        _ => "<clientID>".to_string(),
    }
}

/// The clientId an Entra error of the chain's events names (AADSTS700016: "Application with
/// identifier '<id>' was not found").
fn event_client_id<'a>(cx: &Ctx<'a>) -> Option<&'a str> {
    cx.events.iter().find_map(|(_, e)| {
        let (_, rest) = e.message.split_once("Application with identifier '")?;
        let (id, _) = rest.split_once('\'')?;
        (!id.is_empty() && id.len() <= 64).then_some(id)
    })
}

/// The clientId the mode or the SPC names, if any.
pub(crate) fn known_client_id<'a>(cx: &'a Ctx) -> Option<&'a str> {
    (cx.mode.client_id()).or_else(|| cx.params.as_deref().and_then(|p| p.client_id.as_deref()))
}

/// The clientId of a managed identity the chain's pod could use for workload identity when
/// the SPC names none: the one its ServiceAccount is annotated with, else the one visible
/// identity with a federated credential for the pod's service account (at the cluster's
/// issuer when that is known; FACTS §7: the credential is what lets the account use it).
pub(crate) fn usable_client_id<'a>(cx: &Ctx<'a>) -> Option<&'a str> {
    let annotated = (cx.ix.service_accounts)
        .get(&(cx.ns(), cx.pod.service_account.as_str()))
        .and_then(|sa| {
            sa.annotations
                .get(crate::chain::rules::sa_template::CLIENT_ID)
        })
        .map(String::as_str)
        .filter(|c| !crate::chain::rules::params::is_placeholder(c));
    if annotated.is_some() {
        return annotated;
    }
    let subject = cx.subject();
    let issuer = cx.cluster().oidc_issuer.known();
    let mut federated = (cx.azure().identities.items.iter())
        .filter(|i| {
            (i.federated_credentials.known().into_iter().flatten())
                .any(|f| f.subject == subject && issuer.is_none_or(|i| *i == f.issuer))
        })
        .map(|i| i.client_id.as_str());
    let first = federated.next();
    federated.next().is_none().then_some(first).flatten()
}

/// A quoted command substitution printing `field` of the managed identity with clientId
/// `client`: `az identity list` is the lookup by clientId. Plain nested double quotes: bash
/// reads the JMESPath's single quotes inside them as text (audit T1).
pub(crate) fn identity_by_client(client: &str, field: &str) -> String {
    format!(
        "\"$({})\"",
        identity_list(client, &format!(".{field}\" -o tsv"))
    )
}

/// `az identity list --query "[?clientId=='<client>']<rest>`: the lookup of a managed identity
/// by clientId, `rest` closing the query and adding arguments. A clientId is a GUID, but an
/// SPC's clientID or an annotation is a free string (the CRD gives no pattern, audit BB1):
/// inside the double-quoted JMESPath a `"`, `$(…)` or backquote would run when pasted, and no
/// shell quoting can be written there. A value with such a character is never written in the
/// query: it is assigned, as one quoted word ([`sh_word`]), to CLIENT_ID, which the query
/// reads (a variable's text is not run), the whole grouped so that it stands wherever a
/// command does. kvchain's own `<clientID>` is kept as written.
pub(crate) fn identity_list(client: &str, rest: &str) -> String {
    let plain = client
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.:/@+,<>".contains(&b));
    if plain {
        format!("az identity list --query \"[?clientId=='{client}']{rest}")
    } else {
        format!(
            "{{ CLIENT_ID={}; az identity list --query \"[?clientId=='$CLIENT_ID']{rest}; }}",
            sh_word(client)
        )
    }
}

/// [`client_id`] as one shell word: an observed value quoted ([`sh_word`]; audit BB1, an
/// SPC's clientID is a free string), kvchain's own text (`<clientID>`, the Secret's clientid
/// read when pasted) as it is. An SPC clientID that is still a template placeholder (KVC306)
/// is said as the value to write, as KVC306's own fix says it: quoted, `'$VAR'` would be
/// written literally into the annotation even once the variable is set (audit TT7).
///
/// A client id kvchain cannot name is `"${CLIENT_ID:?…}"`: bash expands it to the value the
/// user sets and refuses the line while CLIENT_ID is unset or empty, so no empty annotation
/// is written. `<the same clientId as the SecretProviderClass>` (and `<clientID>`) pasted as
/// a word were redirections, from a file `the` (audit III6): the annotate never ran.
pub(crate) fn client_word(cx: &Ctx) -> String {
    const TO_SET: &str =
        "\"${CLIENT_ID:?set CLIENT_ID to the clientId the SecretProviderClass names}\"";
    match known_client_id(cx) {
        Some(c) if crate::chain::rules::params::is_placeholder(c) => TO_SET.to_string(),
        Some(c) => sh_word(c).into_owned(),
        None => match client_id(cx) {
            c if c.starts_with('<') => TO_SET.to_string(),
            c => c,
        },
    }
}

/// The cluster's OIDC issuer: observed, else as an AADSTS70021 message presented it.
pub(crate) fn cluster_issuer(cx: &Ctx) -> String {
    cx.cluster()
        .oidc_issuer
        .known()
        .cloned()
        .or_else(|| presented_issuer(cx))
        .unwrap_or_else(|| {
            format!(
                "\"$(az aks show {} --query oidcIssuerProfile.issuerUrl -o tsv)\"",
                aks_args(cx)
            )
        })
}

/// The cluster's Entra ID tenant: observed, else the tenant segment of its AKS OIDC issuer
/// (`https://<region>.oic.prod-aks.azure.com/<tenant>/<guid>/`, FACTS §7). The cluster's
/// managed identities usually live there.
pub(crate) fn cluster_tenant<'a>(cx: &Ctx<'a>) -> Option<&'a str> {
    let cluster = cx.cluster();
    if let Some(t) = cluster.tenant_id.known() {
        return Some(t.as_str());
    }
    let issuer = cluster.oidc_issuer.known()?;
    let path = issuer.strip_prefix("https://")?.split_once('/')?.1;
    let first = path.split('/').next()?;
    let guid = first.len() == 36
        && first.bytes().enumerate().all(|(i, b)| {
            matches!(i, 8 | 13 | 18 | 23) == (b == b'-') && (b == b'-' || b.is_ascii_hexdigit())
        });
    guid.then_some(first)
}

/// The tenant an AADSTS700016 asked (`…not found in the directory '<tenant>'`), else the
/// SPC's tenantID, when it is not the cluster's: the identity exists, the SPC asks the
/// wrong tenant (FACTS §11). `None` when they agree or either is unknown.
pub(crate) fn foreign_tenant<'m>(cx: &'m Ctx, message: &'m str) -> Option<&'m str> {
    let asked = events::directory(message)
        .or_else(|| cx.params.as_deref().and_then(|p| p.tenant_id.as_deref()))?;
    let home = cluster_tenant(cx)?;
    (!asked.eq_ignore_ascii_case(home)).then_some(asked)
}

/// The issuer an AADSTS70021 event says the driver's token carried, if any.
pub(crate) fn presented_issuer(cx: &Ctx) -> Option<String> {
    cx.events
        .iter()
        .filter(|(c, _)| *c == Some(Code::KVC405))
        .find_map(|(_, e)| events::presented(&e.message))
        .map(|p| p.issuer)
}

/// The jsonpath of container `c`'s `field` within `list_of(c)`, selected by name: init
/// containers, native sidecars among them (restartPolicy: Always), are under
/// `initContainers` / `initContainerStatuses`, not `containers` (a `containers[*]` path never
/// shows them).
pub(crate) fn container_path(
    prefix: &str,
    c: &crate::snapshot::ContainerObs,
    status: bool,
    field: &str,
) -> String {
    let list = match (c.init, status) {
        (true, false) => "initContainers",
        (true, true) => "initContainerStatuses",
        (false, false) => "containers",
        (false, true) => "containerStatuses",
    };
    format!("{prefix}.{list}[?(@.name==\"{}\")]{field}", c.name)
}

/// The note of a fix that changes a live object from `check -f` because the manifest file
/// defining it holds other objects ([`crate::snapshot::SourceInfo::own_file`], audit TT2):
/// the change belongs in the file too, which is never re-applied whole.
pub(crate) fn shared_file_note(what: &str, file: &str) -> String {
    format!(
        "  # {what}; make the same change in {} too, but do not apply it whole: it holds other objects, which kubectl apply -f would re-apply as written",
        sh_word(file)
    )
}

/// `word` as one shell word: as it is when it holds only characters a shell passes through,
/// else single-quoted (a name still written `<your-spc>` would otherwise be a redirection).
pub(crate) fn sh_word(word: &str) -> std::borrow::Cow<'_, str> {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/=@%+,".contains(&b));
    if plain {
        word.into()
    } else {
        format!("'{}'", word.replace('\'', "'\\''")).into()
    }
}

/// A field that still holds a template placeholder: no object can be named by it, so the
/// confirm finds the templates that hold it and the fix is to render them. (confirm, fix)
pub(crate) fn unrendered(field: &str, value: &str) -> (String, String) {
    let quoted = sh_word(value);
    (
        format!("grep -rn -F {quoted} ."),
        format!(
            "# render the manifests before applying (envsubst, helm template, kustomize): {field} is {value}"
        ),
    )
}

/// `command(name, rg)` on the chain's managed identity, given its name and resource group as
/// shell words: observed, as they are; not observed but named by a clientID, looked up by it
/// first (`az identity federated-credential` takes no clientId) and run only when found
/// (audit V4, as T6's fix; fixer A's leftovers: KVC402, KVC403 and the create); else the
/// shell variables to fill. A command with `||` is grouped, so that a lookup that finds
/// nothing runs none of it.
pub(crate) fn on_identity(cx: &Ctx, command: impl FnOnce(&str, &str) -> String) -> String {
    let client = known_client_id(cx).filter(|c| !crate::chain::rules::params::is_placeholder(c));
    if cx.identity.is_none()
        && let Some(client) = client
    {
        let command = command("\"$NAME\"", "\"$RG\"");
        let command = if command.contains(" || ") {
            format!("{{ {command}; }}")
        } else {
            command
        };
        return format!(
            "read -r NAME RG < <({}) && [ -n \"$RG\" ] && {command}",
            identity_list(client, ".[name,resourceGroup]\" -o tsv")
        );
    }
    command(&identity_name(cx), &identity_rg(cx))
}

/// The federated credentials of the chain's identity ([`on_identity`]).
pub(crate) fn fic_list(cx: &Ctx) -> String {
    on_identity(cx, |name, rg| {
        format!("az identity federated-credential list --identity-name {name} -g {rg} -o table")
    })
}

/// `az identity federated-credential update` of the chain's credential, setting `set`
/// (`--issuer …`): the identity's credential for the chain's subject, found by it when
/// pasted and updated only when there is one (KVC402 and KVC403 name the field that
/// differs; the subject is the one that matched, FACTS §7).
pub(crate) fn fic_update(cx: &Ctx, set: &str) -> String {
    let subject = cx.subject();
    on_identity(cx, |name, rg| {
        format!(
            "read -r C < <({}) && [ -n \"$C\" ] && az identity federated-credential update --name \"$C\" --identity-name {name} -g {rg} {set}",
            fic_names(name, rg, &format!("subject=='{subject}'"))
        )
    })
}

/// The names of identity `name`'s (of resource group `rg`, shell words) federated credentials
/// that JMESPath `filter` selects, one a line: how a pasted fix finds a credential it cannot
/// read by what it holds (KVC402's by subject, a create's guard by issuer and subject).
pub(crate) fn fic_names(name: &str, rg: &str, filter: &str) -> String {
    format!(
        "az identity federated-credential list --identity-name {name} -g {rg} --query \"[?{filter}].name\" -o tsv"
    )
}

impl Ctx<'_> {
    /// A finding with the code's default confirm and fix commands for this chain.
    pub(crate) fn remedied(
        &self,
        code: Code,
        resource: String,
        message: String,
        evidence: Vec<String>,
    ) -> Finding {
        let (confirm, fix) = commands(self, code);
        self.finding(code, resource, message, evidence, confirm, fix)
    }
}
