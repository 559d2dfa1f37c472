//! `check -f`: a container's env names a Secret that no given file defines and no
//! SecretProviderClass syncs, within two edits of one a SecretProviderClass of its namespace
//! does sync (`db-cred` for `db-creds`). The driver creates only the Secret secretObjects names
//! (FACTS §2), so the kubelet refuses the container (`secret "db-cred" not found`,
//! CreateContainerConfigError: KVC109). Offline any other Secret the files do not define is
//! unknown (it may be made elsewhere: [`super::env_secrets`] says nothing from manifests); a
//! near miss of a synced one is the typo the README treats a ServiceAccount or
//! SecretProviderClass name alike for (an error with "did you mean").

use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::Link;
use crate::snapshot::{ContainerObs, SourceKind};

/// At most this many edits away from a synced Secret's name, as for a ServiceAccount's.
const NEAR: usize = 2;

/// Whether `d` edits make a typo of names `a` and `b`, not two names: short names are a few
/// edits from many others (`db` is two from `ca`), so each edit needs four characters of the
/// shorter name behind it.
fn typo(d: usize, a: &str, b: &str) -> bool {
    (1..=NEAR).contains(&d) && a.chars().count().min(b.chars().count()) >= 4 * d
}

/// KVC109 for each required env reference of the pod (or template) whose Secret is a near
/// miss of a synced one.
pub(crate) fn check(cx: &Ctx, link: &mut Link) {
    if cx.source().kind != SourceKind::Manifests || super::env_secrets::names_unrendered_secret(cx)
    {
        return;
    }
    for c in &cx.pod.containers {
        for (secret, using, _) in super::env_secrets::required_refs(c) {
            let Some((near, spc)) = near_synced(cx, secret) else {
                continue;
            };
            link.findings
                .push(finding(cx, c, secret, &using, near, spc));
        }
    }
}

/// The Secret a container that reads the chain names with such a typo: the kubelet starts
/// that container never, so the Consumers link waits on it (as on KVC109's Secret).
pub(crate) fn blocking<'a>(cx: &Ctx<'a>) -> Option<&'a str> {
    if cx.source().kind != SourceKind::Manifests || super::env_secrets::names_unrendered_secret(cx)
    {
        return None;
    }
    (cx.pod.containers.iter())
        .filter(|c| super::env_secrets::reads_chain(cx, c))
        .flat_map(super::env_secrets::required_refs)
        .map(|(secret, ..)| secret)
        .find(|secret| near_synced(cx, secret).is_some())
}

/// The synced Secret of the namespace `secret` is a near miss of, and the SecretProviderClass
/// that syncs it; `None` when `secret` is defined in the files, synced itself, a template
/// placeholder, or far from every synced name.
fn near_synced<'a>(cx: &Ctx<'a>, secret: &str) -> Option<(&'a str, &'a str)> {
    let ns = cx.ns();
    if super::params::is_placeholder(secret)
        || cx.ix.secrets.contains_key(&(ns, secret))
        || cx.ix.secret_writers.contains_key(&(ns, secret))
    {
        return None;
    }
    (cx.ix.secret_writers.iter())
        .filter(|((n, _), _)| *n == ns)
        .map(|((_, name), writers)| (strsim::levenshtein(name, secret), *name, writers))
        .filter(|(d, name, _)| typo(*d, name, secret))
        .min_by_key(|(d, name, _)| (*d, *name))
        .and_then(|(_, name, writers)| writers.first().map(|spc| (name, spc.name.as_str())))
}

fn finding(
    cx: &Ctx,
    c: &ContainerObs,
    secret: &str,
    using: &str,
    near: &str,
    spc: &str,
) -> crate::chain::model::Finding {
    let (who, after) = super::env_secrets::container_held(c);
    let field = match using {
        "envFrom" => "envFrom secretRef.name".to_string(),
        env => format!(
            "{}: secretKeyRef.name",
            env.split(" (key").next().unwrap_or(env)
        ),
    };
    cx.finding(
        Code::KVC109,
        cx.owner_resource(),
        format!(
            "{who} ({using}) names Secret {secret}, which no given file defines and no SecretProviderClass syncs (did you mean {near}, which SecretProviderClass {spc} syncs?): unless it is made outside these files, the kubelet refuses to start it (CreateContainerConfigError: secret \"{secret}\" not found){after}"
        ),
        vec![
            format!("{who}: {using}: Secret {secret}"),
            format!("SecretProviderClass {spc} secretObjects: secretName {near}"),
        ],
        format!("kubectl get secret {secret} {near} -n {}", cx.ns()),
        super::remedy::edit_owner(
            cx,
            &format!(
                "{who}: {field}: {near} (the Secret SecretProviderClass {spc} syncs)"
            ),
        ),
    )
}
