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
            let patch = patch_key(
                cx,
                name,
                "clientid",
                "\"<the service principal's application (client) id>\"",
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
            // A new secret written straight into the Secret: its value is never printed.
            let value = match app {
                Some(a) => format!(
                    "\"$(az ad app credential reset --id {} --append --query password -o tsv)\"",
                    sh_word(a)
                ),
                None => "\"<a valid client secret of the service principal>\"".to_string(),
            };
            (
                format!(
                    "the clientsecret of nodePublishSecretRef Secret {name}{of} {how}: Entra ID refuses the sign-in, so the provider gets no token"
                ),
                confirm,
                patch_key(cx, name, "clientsecret", &value),
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

/// `kubectl patch` writing `value` (a shell word: quoted text or a command substitution)
/// under `key` of Secret `name`, as the Secret spells the key.
fn patch_key(cx: &Ctx, name: &str, key: &str, value: &str) -> String {
    let spelt = cx
        .snap()
        .secret(cx.ns(), name)
        .and_then(|s| s.data.keys().find(|k| k.eq_ignore_ascii_case(key)))
        .map_or(key, String::as_str);
    // Double-quoted JSON so a command substitution in `value` runs.
    let value = value.trim_matches('"');
    format!(
        "kubectl patch secret {} -n {} --type=merge -p \"{{\\\"stringData\\\":{{\\\"{spelt}\\\":\\\"{value}\\\"}}}}\"  # then the next mount retry reads it",
        remedy::sh_word(name),
        cx.ns()
    )
}
