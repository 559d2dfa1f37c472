//! Service-principal mode (FACTS §5): the provider reads the credential from the pod volume's
//! nodePublishSecretRef Secret, keys `clientid` and `clientsecret` matched case-insensitively.
//! Only key NAMES are read here (values are fingerprints and are never shown).

use super::remedy;
use super::{set, unknown};
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::{Link, Status};
use crate::snapshot::SourceKind;

/// The keys the provider looks for, in the order it reports them missing.
const KEYS: [&str; 2] = ["clientid", "clientsecret"];

pub(crate) fn check(cx: &Ctx, link: &mut Link, name: &str) {
    let Some(secret) = cx.snap().secret(cx.ns(), name) else {
        absent(cx, link, name);
        return;
    };
    let has = |want: &str| secret.data.keys().any(|k| k.eq_ignore_ascii_case(want));
    let missing: Vec<&str> = KEYS.into_iter().filter(|k| !has(k)).collect();
    if missing.is_empty() {
        // The credential's validity is Entra's to judge, which kvchain does not ask.
        unknown(
            link,
            "service principal",
            "the Secret has clientid and clientsecret; whether Entra accepts them is not observed",
        );
        return;
    }
    let keys: Vec<&str> = secret.data.keys().map(String::as_str).collect();
    // A key that reads as the wanted one once case, '-' and '_' are ignored is the one meant.
    let renames: Vec<(&str, &str)> = missing
        .iter()
        .filter_map(|want| {
            keys.iter()
                .find(|k| {
                    k.chars()
                        .filter(|c| *c != '-' && *c != '_')
                        .collect::<String>()
                        .eq_ignore_ascii_case(want)
                })
                .map(|k| (*k, *want))
        })
        .collect();
    // The provider stops at the first key it misses: the second shows once that one is there.
    let mut failure = format!("\"could not find {} in secrets\"", missing[0]);
    if let Some(next) = missing.get(1) {
        failure.push_str(&format!(
            ", then, once that key is there, \"could not find {next} in secrets\""
        ));
    }
    let message = format!(
        "nodePublishSecretRef Secret {name} has no key {} (keys are matched case-insensitively): the provider fails with {failure}",
        missing.join(" and no key "),
    );
    let evidence = vec![format!("Secret {name} keys: {}", keys.join(", "))];
    // `describe` lists key names and sizes, never values.
    let confirm = format!(
        "kubectl describe secret {} -n {}",
        remedy::sh_word(name),
        cx.ns()
    );
    let fix = if renames.len() == missing.len() {
        let moves: Vec<String> = renames
            .iter()
            .map(|(from, to)| format!("{from} → {to}"))
            .collect();
        if cx.source().kind == SourceKind::Manifests {
            format!(
                "# in the manifest of Secret {name} (namespace {}), rename its keys, values unchanged: {}",
                cx.ns(),
                moves.join(", ")
            )
        } else {
            // A JSON patch moves each value to its new key without printing it.
            let ops: Vec<String> = renames
                .iter()
                .map(|(from, to)| {
                    format!("{{\"op\":\"move\",\"from\":\"/data/{from}\",\"path\":\"/data/{to}\"}}")
                })
                .collect();
            format!(
                "kubectl patch secret {} -n {} --type=json -p '[{}]'",
                remedy::sh_word(name),
                cx.ns(),
                ops.join(",")
            )
        }
    } else {
        format!(
            "# add key(s) {} to Secret {name} in namespace {} (the service principal's application id and client secret)",
            missing.join(", "),
            cx.ns()
        )
    };
    link.findings.push(cx.finding(
        Code::KVC302,
        format!("Secret/{name}"),
        message,
        evidence,
        confirm,
        fix,
    ));
}

/// The Secret is not among what was read: unknown where Secrets cannot be seen (offline, a
/// forbidden namespace); on a cluster where they can, it does not exist and the mount fails.
fn absent(cx: &Ctx, link: &mut Link, name: &str) {
    if cx.source().kind == SourceKind::Manifests {
        unknown(
            link,
            "service principal",
            "the nodePublishSecretRef Secret is not in the given manifests (it is usually created apart, holding the credential)",
        );
        return;
    }
    if let Some(reason) = cx.snap().secrets.unknown_in(cx.ns()) {
        unknown(link, "service principal", reason);
        return;
    }
    set(link, Status::Unknown, "service principal");
    link.findings.push(cx.finding(
        Code::KVC302,
        format!("Secret/{name}"),
        format!(
            "nodePublishSecretRef names Secret {name}, which does not exist in namespace {}: the driver has no credential to pass and the mount fails (NodePublishSecretRefNotFound: \"failed to get node publish secret {}/{name}\")",
            cx.ns(),
            cx.ns()
        ),
        vec![format!("kubectl get secret {name} -n {}: NotFound", cx.ns())],
        format!("kubectl get secret {} -n {}", remedy::sh_word(name), cx.ns()),
        format!(
            "# create Secret {name} in namespace {} with keys clientid and clientsecret (the service principal's application id and client secret), or correct nodePublishSecretRef",
            cx.ns()
        ),
    ));
}
