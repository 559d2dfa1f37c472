//! Service-principal mode (FACTS §5: no identity mode, no clientID ⇒ the nodePublishSecretRef
//! Secret's `clientid`/`clientsecret`): what Entra ID says of that credential at sign-in. The
//! codes and their meaning are Entra's, as the Azure SDK's service-principal troubleshooting
//! lists them for ClientSecretCredential (learn.microsoft.com/azure/developer/java/sdk/
//! troubleshooting-authentication-service-principal): AADSTS700016 "the specified application
//! wasn't found in the specified tenant" (the clientId or the tenantId is wrong),
//! AADSTS7000215 "an invalid client secret was provided", AADSTS7000222 "an expired client
//! secret was provided". The Secret is at fault (or the tenant), never the SPC's clientID:
//! setting one would move the SPC to workload identity.

use super::remedy::{self, edit_spc, sh_word};
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::events;
use crate::chain::model::Finding;
use crate::snapshot::EventObs;

/// The application an Entra message names: `Application with identifier '<id>'` (700016) or
/// `a secret added to app '<id>'` (7000215).
fn app_id(message: &str) -> Option<&str> {
    ["Application with identifier '", "added to app '"]
        .iter()
        .find_map(|key| {
            let rest = &message[message.find(key)? + key.len()..];
            rest.get(..rest.find('\'')?)
        })
        .filter(|id| !id.is_empty() && !id.starts_with('<'))
}

/// The finding for an Entra sign-in refusal of the nodePublishSecretRef Secret `name`'s
/// credential, if `e` is one.
pub(super) fn from_event(cx: &Ctx, name: &str, e: &EventObs, evidence: &str) -> Option<Finding> {
    let code = events::aadsts(&e.message)?;
    let app = app_id(&e.message);
    let ns = cx.ns();
    let secret = sh_word(name);
    let confirm = format!("kubectl describe secret {secret} -n {ns}");
    let (message, confirm, fix) = match code {
        "AADSTS700016" => {
            let tenant =
                events::directory(&e.message).unwrap_or("the SecretProviderClass's tenant");
            let app = app.unwrap_or("<the Secret's clientid>");
            let patch = prompted(
                cx,
                name,
                "clientid",
                "application (client) id of the service principal",
                false,
            );
            let tenant_fix = edit_spc(
                cx,
                &format!(
                    "parameters.{}: the home tenant of application {app}, if it lives in another tenant",
                    cx.tenant_key()
                ),
            );
            (
                format!(
                    "Entra ID tenant {tenant} has no application {app} (AADSTS700016), the clientid of nodePublishSecretRef Secret {name} that the provider signs in with (service-principal mode): the Secret's clientid is not the service principal's application id, or the SecretProviderClass {} names another tenant than the application's",
                    cx.tenant_key()
                ),
                format!(
                    "az ad sp show --id {} --query \"{{app:appDisplayName,tenant:appOwnerOrganizationId}}\" -o table  # in tenant {tenant}; and {confirm}",
                    sh_word(app)
                ),
                format!("{patch}  — or, if the application lives in another tenant: {tenant_fix}"),
            )
        }
        "AADSTS7000215" | "AADSTS7000222" => {
            let how = match code {
                "AADSTS7000215" => {
                    "is not a valid client secret of the application (AADSTS7000215; the secret's ID instead of its value is a common slip)"
                }
                _ => "has expired (AADSTS7000222)",
            };
            let of = app.map_or_else(String::new, |a| format!(" for application {a}"));
            // A new secret written straight into the Secret, or one typed unseen: the value is
            // never printed, and nothing is written when there is none (audit T5).
            let fix = match app {
                Some(a) => format!(
                    "az ad app credential reset --id {} --append --query password -o tsv | {{ IFS= read -r V && {}; }}  # a new secret of the application, straight into the Secret (never printed); then the next mount retry reads it",
                    sh_word(a),
                    write_v(cx, name, "clientsecret")
                ),
                None => prompted(
                    cx,
                    name,
                    "clientsecret",
                    "client secret of the service principal (input hidden)",
                    true,
                ),
            };
            (
                format!(
                    "the clientsecret of nodePublishSecretRef Secret {name}{of} {how}: Entra ID refuses the sign-in, so the provider gets no token"
                ),
                confirm,
                fix,
            )
        }
        _ => return None,
    };
    Some(cx.finding(
        Code::KVC302,
        format!("Secret/{name}"),
        message,
        vec![evidence.to_string()],
        confirm,
        fix,
    ))
}

/// `kubectl patch` of Secret `name`'s `key` (as the Secret spells it) to `$V`, only when `V`
/// is not empty: an empty value is a missing key to the provider (FACTS §5). The patch comes
/// from a here-string, so the value is neither in kubectl's arguments nor in shell tracing
/// (`set -x` prints the test as `[ -n x ]`).
fn write_v(cx: &Ctx, name: &str, key: &str) -> String {
    format!(
        "[ -n \"${{V:+x}}\" ] && kubectl patch secret {} -n {} --type=merge --patch-file /dev/stdin <<<\"{{\\\"stringData\\\":{{\\\"{}\\\":\\\"$V\\\"}}}}\"",
        sh_word(name),
        cx.ns(),
        remedy::secret_key(cx, name, key)
    )
}

/// [`write_v`] of a value the user types at a prompt (`hidden`: not echoed), in a subshell so
/// `V` does not outlive the command. The value is not one kvchain knows: a placeholder
/// patched in would replace the Secret's value with the placeholder's text (audit T5).
fn prompted(cx: &Ctx, name: &str, key: &str, prompt: &str, hidden: bool) -> String {
    let (flags, newline) = if hidden {
        ("-rs", " && echo >&2")
    } else {
        ("-r", "")
    };
    format!(
        "( printf '%s: ' '{prompt}' >&2 && IFS= read {flags} V{newline} && {} )  # then the next mount retry reads it",
        write_v(cx, name, key)
    )
}
