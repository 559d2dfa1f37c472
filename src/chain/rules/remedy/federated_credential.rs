//! The "add a federated credential" fix (KVC401, KVC405). `az identity federated-credential
//! create` is the ARM PUT "Create Or Update": under a name the identity already has, it
//! replaces that credential and breaks whichever workload it served. And an identity holds at
//! most 20 credentials (FACTS §7), so a 21st create fails. The name is therefore one no
//! credential of the identity has, and at the limit the fix reuses a credential the chain's
//! namespace proves unused, or lists them to free one (never a `<name>` inside a command),
//! instead of a create that fails.

use super::{AUDIENCE, cluster_issuer, identity_name, identity_rg, on_identity};
use crate::chain::context::Ctx;
use crate::snapshot::FederatedCredentialObs;

/// Federated identity credentials per user-assigned identity (FACTS §7).
pub(crate) const MAX_PER_IDENTITY: usize = 20;
/// Longest credential name (FACTS §7).
const MAX_NAME: usize = 120;

/// A credential for the chain's issuer, subject and audience that takes nothing from a
/// credential another workload may use.
pub(crate) fn fic_create(cx: &Ctx) -> String {
    let base = base_name(cx);
    let Some(fics) = cx.identity.and_then(|i| i.federated_credentials.known()) else {
        // The identity's credentials are not visible: create only under a free name, and
        // only when no credential holds this issuer and subject (else it is updated).
        return on_identity(cx, |name, rg| {
            let create = format!(
                "az identity federated-credential show --name {base} --identity-name {name} -g {rg} >/dev/null 2>&1 && echo 'a credential named {base} exists: create would overwrite it, choose another --name' || {}",
                create_on(cx, &base, name, rg)
            );
            unless_paired(name, rg, &cluster_issuer(cx), &cx.subject(), &create)
        });
    };
    // A credential for this very subject but for case or '_' can serve no service account:
    // it is the slip to correct, not one to leave beside a second (audit EEE9).
    let expected = cx.subject();
    if let Some((slip, why)) =
        (fics.iter()).find_map(|f| unusable_twin(&f.subject, &expected).map(|why| (f, why)))
    {
        return format!(
            "{}  # its subject {} can name no service account ({why}), so nothing uses credential {}: it is corrected, not joined by a second",
            update(cx, &slip.name),
            slip.subject,
            slip.name
        );
    }
    let id = identity_name(cx);
    // A credential this namespace proves unused (another subject of it, whose account does
    // not exist and no pod runs as) is the wrong one written for this chain: a create beside
    // it would leave it counting toward the limit of 20 (FACTS §7) for nothing, so it is
    // corrected in place, below the limit as at it (audit WWW-left).
    if let Some(reuse) = unused_here(cx, fics).first() {
        let count = match fics.len() < MAX_PER_IDENTITY {
            true => format!(
                "it counts toward the {MAX_PER_IDENTITY} federated credentials an identity may hold"
            ),
            false => format!(
                "{id} already holds {} federated credentials, the most an identity may have, so a create fails",
                fics.len()
            ),
        };
        return format!(
            "{}  # {} is for {}, a service account that does not exist in namespace {} and no pod runs as: nothing uses it and {count}, so it is corrected to {}, not joined by a second",
            update(cx, &reuse.name),
            reuse.name,
            reuse.subject,
            cx.ns(),
            cx.subject()
        );
    }
    if fics.len() < MAX_PER_IDENTITY {
        return create(cx, &free_name(&base, fics));
    }
    let full = format!(
        "{id} already holds {} federated credentials, the most an identity may have: a create fails",
        fics.len()
    );
    // Nothing read proves one unused: the list to choose from runs as pasted, and the rest is
    // said in words, never a `<name>` inside a command (a paste would run the placeholder).
    let rg = identity_rg(cx);
    format!(
        "az identity federated-credential list --identity-name {id} -g {rg} -o table  # {full}, and none of them is proven unused: a diagnosis reads one namespace whole ({ns}), and a credential for another namespace or another cluster may be in use where it does not look; from this list, delete one no workload uses (az identity federated-credential delete --identity-name {id} -g {rg} --yes, with its --name), then: {}",
        create(cx, &free_name(&base, fics)),
        ns = cx.ns(),
    )
}

/// `create` (a command that creates a credential for `issuer` and `subject` on identity
/// `identity` of resource group `rg`, shell words), guarded for when the identity's
/// credentials are not read. FACTS §7: issuer and subject are unique per identity, so a
/// create fails when a credential under another name already holds the pair, and a pasted
/// `&&` chain stops there. The pair is looked up first (as KVC402's update looks up the
/// subject, [`super::fic_names`]): found, its audience, the one field left that can differ,
/// is set to the exchange's; else `create` runs. A subject or issuer that is not one plain
/// word cannot go into the JMESPath quotes: `create` is left alone.
pub(crate) fn unless_paired(
    identity: &str,
    rg: &str,
    issuer: &str,
    subject: &str,
    create: &str,
) -> String {
    let plain = |w: &str| (w.bytes()).all(|b| b.is_ascii_alphanumeric() || b"-_.:/".contains(&b));
    if !plain(subject) {
        return create.to_string();
    }
    // The issuer not observed is a lookup (`"$(az aks show …)"`): held in a variable.
    let (set, issuer) = match plain(issuer) {
        true => (String::new(), issuer.to_string()),
        false => (format!("ISSUER={issuer} && "), "$ISSUER".to_string()),
    };
    format!(
        "{{ {set}C=$({}) && if [ -n \"$C\" ]; then az identity federated-credential update --name \"$C\" --identity-name {identity} -g {rg} --audiences {AUDIENCE}; else {create}; fi; }}",
        super::fic_names(
            identity,
            rg,
            &format!("issuer=='{issuer}' && subject=='{subject}'")
        )
    )
}

fn create(cx: &Ctx, name: &str) -> String {
    create_on(cx, name, &identity_name(cx), &identity_rg(cx))
}

/// The create on the identity `identity` of resource group `rg` (shell words).
fn create_on(cx: &Ctx, name: &str, identity: &str, rg: &str) -> String {
    format!(
        "az identity federated-credential create --name {name} --identity-name {identity} -g {rg} --issuer {} --subject {} --audiences {AUDIENCE}",
        cluster_issuer(cx),
        cx.subject(),
    )
}

fn update(cx: &Ctx, name: &str) -> String {
    format!(
        "az identity federated-credential update --name {name} --identity-name {} -g {} --issuer {} --subject {} --audiences {AUDIENCE}",
        identity_name(cx),
        identity_rg(cx),
        cluster_issuer(cx),
        cx.subject(),
    )
}

/// `<namespace>-<service account>`, within the name limit.
fn base_name(cx: &Ctx) -> String {
    fic_name(cx.ns(), &cx.pod.service_account)
}

/// The name kvchain gives the credential of service account `sa` in namespace `ns`:
/// `<namespace>-<service account>`, cut so that a `-N` suffix ([`free_name`]) still keeps it
/// within 120 characters (FACTS §7). Every fix that creates one names it so (audit LL10).
/// A credential's name is `^[a-zA-Z0-9]{1}[a-zA-Z0-9-_]{2,119}$` (the MSI API's pattern, az
/// applies it), and a service account's may hold dots (a DNS subdomain): each is a '-' here,
/// the subject keeping the account's own name (audit XC-paste). An account the user names
/// (`$SA`, `"$SERVICE_ACCOUNT"`) stays their variable, with bash's `${SA//./-}` for its dots.
pub(crate) fn fic_name(ns: &str, sa: &str) -> String {
    if let Some(var) = shell_variable(sa) {
        return format!("{ns}-\"${{{var}//./-}}\"");
    }
    let mut name: String = format!("{ns}-{sa}")
        .chars()
        .map(
            |c| match c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                true => c,
                false => '-',
            },
        )
        .collect();
    // Kubernetes names are ASCII: a byte cut is a character cut.
    name.truncate(MAX_NAME - 4);
    name
}

/// The variable's name when `sa` is a shell variable the user sets (`$SA`, quoted or not).
fn shell_variable(sa: &str) -> Option<&str> {
    let var = sa.trim_matches('"').strip_prefix('$')?;
    (!var.is_empty() && var.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')).then_some(var)
}

/// `base`, or `base-2`, `base-3`, … : the first no credential of the identity is named
/// (ARM names compare case-insensitively).
pub(crate) fn free_name(base: &str, fics: &[FederatedCredentialObs]) -> String {
    let taken = |n: &str| fics.iter().any(|f| f.name.eq_ignore_ascii_case(n));
    if !taken(base) {
        return base.to_string();
    }
    (2..)
        .map(|i| format!("{base}-{i}"))
        .find(|n| !taken(n))
        .expect("fewer names taken than integers")
}

/// Why `subject` can be no service account's while it is `expected` but for a slip: letter
/// case or '_' in place of '-' in a part no Kubernetes name can hold (namespaces and service
/// accounts are lower-case DNS names), or a shape no service-account token has (its subject
/// is always `system:serviceaccount:<namespace>:<name>`, FACTS §7): the account's name or the
/// prefix left out (the practitioners' `system:serviceaccount:payments`,
/// `serviceaccount:payments:app-sa`). None for any other subject, which a workload may use.
fn unusable_twin(subject: &str, expected: &str) -> Option<&'static str> {
    const PREFIX: &str = "system:serviceaccount:";
    if subject == expected {
        return None;
    }
    let fold = |s: &str| s.to_ascii_lowercase().replace('_', "-");
    let names = subject.strip_prefix(PREFIX);
    if fold(subject) == fold(expected)
        && names.is_some_and(|n| n.bytes().any(|b| b.is_ascii_uppercase() || b == b'_'))
    {
        return Some("Kubernetes names are lower-case, without '_'");
    }
    let namespace = (expected.strip_prefix(PREFIX)).and_then(|r| r.split_once(':'));
    if let Some((ns, _)) = namespace
        && names == Some(ns)
    {
        return Some(
            "it lacks the account's name: a token's subject is system:serviceaccount:<namespace>:<name>",
        );
    }
    let tail = expected.strip_prefix(PREFIX)?;
    let cut = ["serviceaccount:", ":serviceaccount:", ""]
        .into_iter()
        .any(|p| subject.strip_prefix(p) == Some(tail));
    cut.then_some("it lacks the system:serviceaccount: prefix every token's subject has")
}

/// Credentials this diagnosis proves unused: on the cluster's issuer, for a service account
/// of the chain's namespace (the one namespace a diagnosis reads whole: the incremental engine
/// gives each chain its namespace's objects only, so a proof from another namespace would
/// differ between `check` and the TUI) that does not exist there and that no pod runs as. A
/// credential for another cluster or namespace may be in use where kvchain does not look, so
/// it is never offered.
fn unused_here<'f>(
    cx: &Ctx,
    fics: &'f [FederatedCredentialObs],
) -> Vec<&'f FederatedCredentialObs> {
    let Some(issuer) = cx.cluster().oidc_issuer.known() else {
        return Vec::new();
    };
    let snap = cx.snap();
    let ns = cx.ns();
    if snap.pods.unknown_in(ns).is_some() || snap.service_accounts.unknown_in(ns).is_some() {
        return Vec::new();
    }
    let prefix = format!("system:serviceaccount:{ns}:");
    fics.iter()
        .filter(|f| f.issuer == *issuer)
        .filter(|f| {
            f.subject.strip_prefix(&prefix).is_some_and(|sa| {
                !sa.contains(':')
                    && sa != cx.pod.service_account.as_str()
                    && !cx.ix.service_accounts.contains_key(&(ns, sa))
                    && cx.ix.runners_of(ns, sa).is_empty()
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fic(name: &str) -> FederatedCredentialObs {
        FederatedCredentialObs {
            name: name.into(),
            issuer: "https://issuer/".into(),
            subject: format!("system:serviceaccount:x:{name}"),
            audiences: vec![AUDIENCE.into()],
            modified_at: None,
        }
    }

    #[test]
    fn only_a_subject_no_service_account_can_have_is_an_unusable_twin() {
        let want = "system:serviceaccount:shop:checkout";
        assert!(unusable_twin("system:serviceaccount:shop:Checkout", want).is_some());
        assert!(unusable_twin("system:serviceaccount:Shop:checkout", want).is_some());
        assert!(
            unusable_twin(
                "system:serviceaccount:shop:check_out",
                "system:serviceaccount:shop:check-out"
            )
            .is_some()
        );
        assert!(unusable_twin(want, want).is_none());
        assert!(unusable_twin("system:serviceaccount:shop:checkout2", want).is_none());
        assert!(unusable_twin("SYSTEM:serviceaccount:shop:checkout", want).is_none());
        // Another namespace's account may exist and use it: not a slip.
        assert!(unusable_twin("system:serviceaccount:default:checkout", want).is_none());
    }

    /// FACTS §7: a service-account token's subject is `system:serviceaccount:<ns>:<sa>`; a
    /// credential missing the account's name or the prefix (the seeds' subject-mismatch table)
    /// matches no token, so it is the slip to correct.
    #[test]
    fn a_subject_missing_the_name_or_the_prefix_is_an_unusable_twin() {
        let want = "system:serviceaccount:payments:app-sa";
        let missing_name = unusable_twin("system:serviceaccount:payments", want);
        assert!(
            missing_name.is_some_and(|w| w.contains("name")),
            "{missing_name:?}"
        );
        for cut in ["serviceaccount:payments:app-sa", "payments:app-sa"] {
            let why = unusable_twin(cut, want);
            assert!(why.is_some_and(|w| w.contains("prefix")), "{cut}: {why:?}");
        }
        assert!(unusable_twin("system:serviceaccount:payments2", want).is_none());
    }

    #[test]
    fn a_taken_name_is_never_chosen() {
        assert_eq!(free_name("shop-app", &[fic("other")]), "shop-app");
        assert_eq!(free_name("shop-app", &[fic("Shop-App")]), "shop-app-2");
        assert_eq!(
            free_name("shop-app", &[fic("shop-app"), fic("shop-app-2")]),
            "shop-app-3"
        );
    }
}
