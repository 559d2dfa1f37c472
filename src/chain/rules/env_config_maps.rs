//! KVC109 for ConfigMaps: a container whose env names a ConfigMap (`configMapKeyRef`,
//! `envFrom.configMapRef`, not optional) that does not exist, or a key its `data` lacks, is
//! held by the kubelet with CreateContainerConfigError (`configmap "X" not found`,
//! `couldn't find key K in ConfigMap ns/X`: makeEnvironmentVariables), and, for an init
//! container, every container after it. ConfigMaps are not read: the kubelet's message on the
//! container's current waiting state is the observation, so this is said only where that
//! message is (a live or lab pod, never a template).

use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::Link;
use crate::snapshot::{ContainerObs, ContainerStateObs};

/// What the kubelet refused, from its message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refused<'a> {
    /// `configmap "<name>" not found`.
    Missing { config_map: &'a str },
    /// `couldn't find key <key> in ConfigMap <ns>/<name>`.
    Key { config_map: &'a str, key: &'a str },
}

impl<'a> Refused<'a> {
    fn config_map(&self) -> &'a str {
        match self {
            Refused::Missing { config_map } | Refused::Key { config_map, .. } => config_map,
        }
    }
}

/// The kubelet's CreateContainerConfigError message about a ConfigMap of namespace `ns`.
pub(crate) fn parse<'a>(message: &'a str, ns: &str) -> Option<Refused<'a>> {
    if let Some(name) = message
        .strip_prefix("configmap \"")
        .and_then(|m| m.strip_suffix("\" not found"))
    {
        return Some(Refused::Missing { config_map: name });
    }
    let (key, at) = message
        .strip_prefix("couldn't find key ")?
        .split_once(" in ConfigMap ")?;
    let name = at.strip_prefix(ns)?.strip_prefix('/')?;
    Some(Refused::Key {
        config_map: name,
        key,
    })
}

/// The containers of the chain's pod held for a ConfigMap, with what was refused.
fn held<'a>(cx: &Ctx<'a>) -> Vec<(&'a ContainerObs, &'a str, Refused<'a>)> {
    if cx.template {
        return Vec::new();
    }
    let ns = cx.ns();
    (cx.pod.containers.iter())
        .filter_map(|c| match &c.state {
            ContainerStateObs::Waiting { reason, message }
                if reason == "CreateContainerConfigError" =>
            {
                Some((c, message.as_str(), parse(message, ns)?))
            }
            _ => None,
        })
        .collect()
}

/// The Pod link's KVC109 findings for ConfigMaps.
pub(crate) fn check(cx: &Ctx, link: &mut Link) {
    let ns = cx.ns();
    for (c, message, refused) in held(cx) {
        let (who, after) = super::env_secrets::container_held(c);
        let config_map = refused.config_map();
        let (what, edit, confirm) = match refused {
            Refused::Missing { .. } => (
                format!(
                    "names ConfigMap {config_map} (configMapKeyRef or envFrom configMapRef), which does not exist in namespace {ns}"
                ),
                format!(
                    "{who}: create ConfigMap {config_map} in namespace {ns} (or name one that exists), or set optional: true on its reference if the app runs without it"
                ),
                format!("kubectl get configmap {config_map} -n {ns}"),
            ),
            Refused::Key { key, .. } => (
                format!(
                    "asks ConfigMap {config_map} for key {key} (configMapKeyRef), which its data does not have (env reads data, never binaryData)"
                ),
                format!(
                    "{who}: ask for a key ConfigMap {config_map} has, or add {key} to its data, or set optional: true on the configMapKeyRef if the app runs without it"
                ),
                // The keys only: a ConfigMap's values are not printed.
                format!(
                    "kubectl get configmap {config_map} -n {ns} -o go-template='{{{{range $k, $v := .data}}}}{{{{$k}}}}{{{{\"\\n\"}}}}{{{{end}}}}'"
                ),
            ),
        };
        let mut f = cx.remedied(
            Code::KVC109,
            cx.owner_resource(),
            format!(
                "{who} {what}: the kubelet refuses to start it (CreateContainerConfigError: {message}){after}"
            ),
            vec![format!(
                "{who} waiting: CreateContainerConfigError: {message}"
            )],
        );
        f.fix = crate::chain::rules::remedy::edit_owner(cx, &edit).into();
        f.confirm = confirm.into();
        link.findings.push(f);
    }
}

/// The ConfigMap that keeps the chain's readers from starting (see
/// [`super::env_secrets::reads_chain`]), for the Consumers link's summary.
pub(crate) fn blocking<'a>(cx: &Ctx<'a>) -> Option<&'a str> {
    held(cx)
        .into_iter()
        .find(|(c, _, _)| super::env_secrets::reads_chain(cx, c))
        .map(|(_, _, r)| r.config_map())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kubelet's two messages; a Secret's, or another namespace's, are not a ConfigMap's.
    #[test]
    fn kubelet_messages_name_the_config_map_and_key() {
        assert_eq!(
            parse("configmap \"app-config\" not found", "shop"),
            Some(Refused::Missing {
                config_map: "app-config"
            })
        );
        assert_eq!(
            parse(
                "couldn't find key LOG_LEVEL in ConfigMap shop/app-config",
                "shop"
            ),
            Some(Refused::Key {
                config_map: "app-config",
                key: "LOG_LEVEL"
            })
        );
        assert_eq!(parse("secret \"db\" not found", "shop"), None);
        assert_eq!(parse("couldn't find key k in Secret shop/db", "shop"), None);
        assert_eq!(
            parse("couldn't find key k in ConfigMap other/app-config", "shop"),
            None
        );
    }
}
