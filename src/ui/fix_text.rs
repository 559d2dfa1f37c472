//! Whether a finding's fix is a command to run or a description to read. Most fixes are a
//! command (`kubectl edit …`, `az role assignment create …`, a guarded lookup such as
//! `PRINCIPAL="$(az …)" && [ -n "$PRINCIPAL" ] && …`), some with a note after their `#`;
//! the rest are notes (`# a managed identity cannot do this: …`). The detail pane puts the
//! `$ ` prompt before commands only, and `y` copies the command alone: prose pasted into a
//! shell is an error, a note a no-op at best.

/// A fix, split for showing and copying.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fix<'a> {
    /// A command line to run, and the note after its ` # `, if any.
    Command {
        command: &'a str,
        note: Option<&'a str>,
    },
    /// A description of what to do: nothing to paste into a shell.
    Prose(&'a str),
}

/// The programs the fixes run (a fix starting with one of them, after any `VAR=value`, is a
/// command). `:` is the guard that stops a paste on a variable no source sets
/// (`: "${IDENTITY_RG:?set IDENTITY_RG to …}" && az …`).
const PROGRAMS: &[&str] = &[
    ":",
    "kubectl",
    "az",
    "helm",
    "kubelogin",
    "kvchain",
    "curl",
    "openssl",
    "jq",
    "base64",
    "for",
    "export",
    "cat",
    "echo",
    "grep",
    // A lookup that fills the names the command then uses (`read -r NAME RG < <(az …)`).
    "read",
    // A directory of its own for a live object's YAML (`POD_YAML=$(mktemp -d)/P.yaml && …`).
    "mktemp",
];

pub fn parse(fix: &str) -> Fix<'_> {
    let fix = fix.trim();
    // A comment is read, not run.
    if fix.starts_with('#') || !starts_a_command(fix) {
        return Fix::Prose(fix);
    }
    // The note starts where bash's comment does: a `#` in quotes or in `$(…)` starts none.
    let (command, note) = crate::chain::rules::remedy::split_note(fix);
    Fix::Command {
        command,
        note: note.filter(|n| !n.is_empty()),
    }
}

/// Whether `fix` starts by running one of [`PROGRAMS`]: after `VAR=value` words (a value
/// `"$(program …)"` runs that program), a `{ …; }` group or a `[ … ]` test, or the user's
/// editor (`${EDITOR:-vi} FILE && kubectl apply -f FILE`).
fn starts_a_command(fix: &str) -> bool {
    for word in fix.split_whitespace() {
        // Groups, tests and the `&&` after a plain assignment (`NAME=x && RG=y && az …`).
        if matches!(word, "{" | "[" | "[[" | "&&" | ";") {
            continue;
        }
        if word.starts_with("${EDITOR") {
            return true;
        }
        if is_assignment(word) {
            let value = word.split_once('=').map_or("", |(_, v)| v);
            let inner = value.trim_start_matches('"');
            if let Some(program) = inner.strip_prefix("$(") {
                return PROGRAMS.contains(&program);
            }
            continue;
        }
        return PROGRAMS.contains(&word);
    }
    false
}

/// The command to copy, if the fix is one.
pub fn command(fix: &str) -> Option<&str> {
    match parse(fix) {
        Fix::Command { command, .. } => Some(command),
        Fix::Prose(_) => None,
    }
}

/// `NAME=value` before a command (`KUBECONFIG=… kubectl …`).
fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_program_at_the_start_is_a_command() {
        for fix in [
            "kubectl rollout restart deployment/cart -n shop",
            "az aks update -g \"$CLUSTER_RG\" -n aks --enable-secret-rotation",
            "helm upgrade csi secrets-store-csi-driver/secrets-store-csi-driver",
            "KUBECONFIG=/tmp/k kubectl get pods",
        ] {
            assert_eq!(
                parse(fix),
                Fix::Command {
                    command: fix,
                    note: None
                },
                "{fix}"
            );
        }
    }

    #[test]
    fn a_note_after_the_command_is_not_copied() {
        let fix = "kubectl edit secretproviderclass catalog-kv -n shop  # objects[0].objectName: catalog-apikey";
        assert_eq!(
            parse(fix),
            Fix::Command {
                command: "kubectl edit secretproviderclass catalog-kv -n shop",
                note: Some("objects[0].objectName: catalog-apikey"),
            }
        );
        assert_eq!(
            command(fix),
            Some("kubectl edit secretproviderclass catalog-kv -n shop")
        );
    }

    /// The guarded forms the fixes use (a lookup into a variable, then a test that it is not
    /// empty; a `{ …; }` group; the editor) are commands, and a `#` inside quotes or `$(…)`
    /// starts no note.
    #[test]
    fn guarded_grouped_and_edited_fixes_are_commands() {
        for (fix, command, note) in [
            (
                "PRINCIPAL=\"$(az identity show -g rg -n id --query principalId -o tsv)\" && [ -n \"$PRINCIPAL\" ] && az role assignment create --assignee-object-id \"$PRINCIPAL\"",
                None,
                None,
            ),
            (
                "{ kubectl patch secretproviderclass kv -n app --type json -p '[{\"op\":\"add\"}]' 2>/dev/null || kubectl annotate secret db -n app x=true; }",
                None,
                None,
            ),
            (
                "${EDITOR:-vi} f.yaml && kubectl apply -f f.yaml  # in document 2, set spec.tokenRequests",
                Some("${EDITOR:-vi} f.yaml && kubectl apply -f f.yaml"),
                Some("in document 2, set spec.tokenRequests"),
            ),
            (
                "IDENTITY_NAME=id-app && IDENTITY_RG=rg-app && az identity federated-credential create --name x",
                None,
                None,
            ),
            (
                "kubectl get pod p -o jsonpath='{.a # b}'  # the note",
                Some("kubectl get pod p -o jsonpath='{.a # b}'"),
                Some("the note"),
            ),
        ] {
            assert_eq!(
                parse(fix),
                Fix::Command {
                    command: command.unwrap_or(fix),
                    note
                },
                "{fix}"
            );
        }
    }

    #[test]
    fn prose_and_comments_are_no_commands() {
        for fix in [
            "run a workload that mounts SecretProviderClass edge-sync-kv (its pods make the driver create the Secret)",
            "a managed identity cannot do this: use a multi-tenant app registration",
            "keep what mounts SecretProviderClass edge-sync-kv in namespace shop running",
            "# kubectl cannot fix this: ask the vault's owner",
            "kubectl's webhook must be installed first",
            "",
        ] {
            assert_eq!(parse(fix), Fix::Prose(fix), "{fix}");
            assert_eq!(command(fix), None, "{fix}");
        }
    }
}
