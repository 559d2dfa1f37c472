//! No printed command reads a shell variable that nothing sets (audit XD-paste). A fix or
//! confirm names what the snapshot does not know as a variable for the user to set
//! (`"$CLUSTER_RG"` in a manifests check, `"$VALUE_FILE"` for a value kvchain never holds);
//! pasted with it unset, bash expands it to nothing and runs `az aks show -g "" …`, or the
//! first half of a chain before its second fails. So each such variable is guarded at the
//! head of the line, `: "${CLUSTER_RG:?set CLUSTER_RG to …}" && …`: bash stops the whole line
//! there, naming the variable and what to set it to (an interactive shell drops the rest of
//! the line, a script exits), before anything runs. A variable the line sets first
//! (`PRINCIPAL="$(az …)"`, `read -r NAME RG`, `for F in`), one already guarded, or one given a
//! default (`${EDITOR:-vi}`) needs none. One pass over every finding's final texts, so a
//! variable a rule prints in a shape no corpus holds is guarded too.

use std::borrow::Cow;

use super::shell::{Ctx, split_note, walk};

/// Variables every login shell has: reading them is no paste of an unset name.
const ENVIRONMENT: [&str; 5] = ["HOME", "PATH", "PWD", "USER", "SHELL"];

/// `text` with a guard at its head for each variable its command reads before setting it
/// (in order of first use); `text` itself when there is none. Idempotent.
pub(crate) fn guard_unset(text: &str) -> Cow<'_, str> {
    // Every finding's confirm and fix passes here at each chain's stamp: the `memchr` crate's
    // vectorised search (core's `contains` cost 3.8 M instructions per 10,000-pod pass).
    if memchr::memchr(b'$', text.as_bytes()).is_none() {
        return Cow::Borrowed(text);
    }
    let (command, _) = split_note(text);
    let unset = unset_reads(command);
    if unset.is_empty() {
        return Cow::Borrowed(text);
    }
    let guards: Vec<String> = unset.iter().map(|v| required(v)).collect();
    Cow::Owned(format!(": {} && {text}", guards.join(" ")))
}

/// `"${V:?set V to …}"`: variable `v` read where it is used, stopping the line there when it
/// is unset. For a variable only one branch of an `a || b` line needs (the file a create
/// stores, after a recover that needs none), which a guard at the head would ask for first.
pub(crate) fn required(v: &str) -> String {
    format!("\"${{{v}:?set {v} to {}}}\"", what(v))
}

/// The variables `command` reads that nothing in it set before, each once, in order.
pub(crate) fn unset_reads(command: &str) -> Vec<&str> {
    let b = command.as_bytes();
    // Bytes bash reads unquoted (words start there) and the `$`s it expands.
    let mut bare = vec![false; b.len()];
    let mut dollars = Vec::new();
    walk(command, |i, ctx, _| {
        bare[i] = matches!(ctx, Ctx::Bare | Ctx::Subst);
        if ctx != Ctx::Single && b[i] == b'$' {
            dollars.push(i);
        }
        false
    });
    let mut set: Vec<&str> = Vec::new();
    let mut unset: Vec<&str> = Vec::new();
    let mut next_dollar = dollars.iter().peekable();
    let mut i = 0;
    while i < b.len() {
        if next_dollar.peek() == Some(&&i) {
            next_dollar.next();
            if let Some((name, guarded)) = expansion(command, i)
                && !set.contains(&name)
            {
                if guarded {
                    set.push(name);
                } else if !ENVIRONMENT.contains(&name) && !unset.contains(&name) {
                    unset.push(name);
                }
            }
        } else if bare[i] && (i == 0 || b" \t;&|(".contains(&b[i - 1])) {
            set.extend(assigned_at(command, i));
        }
        i += 1;
    }
    unset
}

/// The variable the `$` at `at` expands, and whether the expansion stops the line when it is
/// unset (`${V:?…}`); `None` for a special parameter, a command substitution, or a
/// `${V:-default}` (`-`, `=`, `+` with or without `:`), which reads no unset value.
fn expansion(command: &str, at: usize) -> Option<(&str, bool)> {
    let rest = &command[at + 1..];
    let (braced, rest) = match rest.strip_prefix('{') {
        Some(r) => (true, r.trim_start_matches(['#', '!'])),
        None => (false, rest),
    };
    let name = name_at(rest)?;
    if !braced {
        return Some((name, false));
    }
    let after = rest[name.len()..].trim_start_matches(':');
    match after.as_bytes().first() {
        Some(b'?') => Some((name, true)),
        Some(b'-' | b'=' | b'+') => None,
        _ => Some((name, false)),
    }
}

/// The shell name `s` starts with, if any.
fn name_at(s: &str) -> Option<&str> {
    let end = s
        .bytes()
        .position(|c| !(c.is_ascii_alphanumeric() || c == b'_'))
        .unwrap_or(s.len());
    let name = &s[..end];
    (name.bytes().next())
        .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        .then_some(name)
}

/// The names the word at `at` sets: `NAME=…`, the names of `read [-r] [-p prompt] A B`, the
/// variable of `for V in`.
fn assigned_at(command: &str, at: usize) -> Vec<&str> {
    let rest = &command[at..];
    if let Some(name) = name_at(rest)
        && rest[name.len()..].starts_with('=')
    {
        return vec![name];
    }
    let mut words = rest.split([' ', '\t']).filter(|w| !w.is_empty());
    match words.next() {
        Some("for") => words.next().and_then(name_at).into_iter().collect(),
        Some("read") => {
            let mut names = Vec::new();
            let mut takes_argument = false;
            for w in words {
                if takes_argument {
                    takes_argument = false;
                } else if w.starts_with('-') {
                    takes_argument = matches!(w, "-p" | "-d" | "-t" | "-n" | "-N" | "-u" | "-a");
                } else if name_at(w).is_some_and(|n| n.len() == w.len()) {
                    names.push(w);
                } else {
                    break;
                }
            }
            names
        }
        _ => Vec::new(),
    }
}

/// What the reader sets variable `v` to, for its guard's message: no `"`, `$`, `` ` ``, `\`,
/// `}`, and no `'` either: in `"${v:?…}"` bash reads a `'` of the message as a quote.
fn what(v: &str) -> &'static str {
    match v {
        "CLUSTER_RG" => "the resource group of the AKS cluster",
        "CLUSTER" => "the name of the AKS cluster",
        "IDENTITY_RG" => "the resource group of the managed identity",
        "IDENTITY_NAME" => "the name of the managed identity",
        "KEYVAULT_NAME" => "the name of the Key Vault the SecretProviderClass reads",
        "SERVICE_ACCOUNT" | "SA" => {
            "the service account the pods that mount the SecretProviderClass run as"
        }
        "CLIENT_ID" => "the clientId the SecretProviderClass names",
        "NODEPOOL_VMSS" => "the scale set of the node pool the pods run on",
        "DNS_ZONE_RG" => "the resource group of the private DNS zone",
        "NEW_EXPIRY" => "the new expiry time, such as 2027-12-31T00:00:00Z",
        "VALUE_FILE" => "a file holding the value to store",
        "PFX_OR_PEM_FILE" => "the PFX or PEM file of the certificate",
        "DOCKER_CONFIG_JSON" => "a file holding the docker config JSON of the registry",
        "SPC_FILE" => "the manifest file defining the SecretProviderClass",
        "OVER_PRIVILEGED_ROLE" => "the broad role to remove",
        "ITS_SCOPE" => "the scope that role is assigned at",
        // A name the user's own manifests use (`keyvaultName: $KEYVAULT_NAME_AKS_BASELINE`,
        // kept as written: audit AAA7), or one no entry above describes.
        _ => "the value the template in your manifests gives it",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_variable_nothing_sets_is_guarded_at_the_head() {
        assert_eq!(
            guard_unset("az aks show -g \"$CLUSTER_RG\" -n \"$CLUSTER\"  # $NOTE"),
            ": \"${CLUSTER_RG:?set CLUSTER_RG to the resource group of the AKS cluster}\" \"${CLUSTER:?set CLUSTER to the name of the AKS cluster}\" && az aks show -g \"$CLUSTER_RG\" -n \"$CLUSTER\"  # $NOTE"
        );
    }

    #[test]
    fn a_variable_the_line_sets_guards_or_defaults_needs_no_guard() {
        for t in [
            "P=\"$(az x)\" && [ -n \"$P\" ] && az y \"$P\"",
            "read -r NAME RG < <(az x) && az y -g \"$RG\" -n \"$NAME\"",
            "read -r -s -p pw A && echo \"$A\"",
            "for F in a b; do echo \"$F\"; done",
            ": \"${SA:?set SA}\" && az x --name a-\"${SA//./-}\"",
            "${EDITOR:-vi} f && echo \"$HOME\"",
            "grep -rn -F '${Secret_Provider_Class}' .",
            "az x --query \"[?a=='b'].c\" -o tsv  # with $NOTHING",
            "# all prose: $X",
            "S=\"$(az a)\" && az b --ids \"${S%/subnets/*}\"",
            "kubectl get x -o jsonpath='{.a}' | grep -c \"$(echo 1)\"",
        ] {
            assert!(matches!(guard_unset(t), Cow::Borrowed(_)), "{t}");
        }
    }

    /// Every guard's message reaches the reader whole: bash prints `X: set X to <what>` (a `'`
    /// in it was read as a quote inside `"${…}"`, and the message came out cut and run on into
    /// the next guard).
    #[test]
    fn each_guard_says_its_whole_message_when_pasted() {
        let names = [
            "CLUSTER_RG",
            "CLUSTER",
            "IDENTITY_RG",
            "IDENTITY_NAME",
            "KEYVAULT_NAME",
            "SERVICE_ACCOUNT",
            "SA",
            "CLIENT_ID",
            "NODEPOOL_VMSS",
            "DNS_ZONE_RG",
            "NEW_EXPIRY",
            "VALUE_FILE",
            "PFX_OR_PEM_FILE",
            "DOCKER_CONFIG_JSON",
            "SPC_FILE",
            "OVER_PRIVILEGED_ROLE",
            "ITS_SCOPE",
            "KV_FROM_A_TEMPLATE",
        ];
        for v in names {
            let command = format!("az x \"${v}\" && az y \"${v}\"");
            let text = guard_unset(&command);
            let Ok(out) = std::process::Command::new("bash")
                .args(["-c", &format!("az() {{ :; }}; {text}")])
                .env_remove(v)
                .output()
            else {
                return;
            };
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                !out.status.success()
                    && stderr
                        .trim_end()
                        .ends_with(&format!("{v}: set {v} to {}", what(v))),
                "{text}\n{stderr}"
            );
        }
    }

    #[test]
    fn guarding_is_idempotent_and_reads_inside_substitutions() {
        let once = guard_unset("az x --scope \"$(az y -n \"$KEYVAULT_NAME\" --query id -o tsv)\"");
        assert!(
            once.starts_with(": \"${KEYVAULT_NAME:?set KEYVAULT_NAME to "),
            "{once}"
        );
        assert_eq!(guard_unset(&once), once);
        // A variable read before the line sets it is read unset.
        assert_eq!(unset_reads("echo \"$A\" && A=1"), ["A"]);
        assert_eq!(unset_reads("az x --query \"[?clientId=='$C']\""), ["C"]);
    }
}
