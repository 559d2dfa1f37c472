//! KVC805 for a Secret of the synced name that the driver did not make: it lacks the driver's
//! `secrets-store.csi.k8s.io/managed: "true"` label, the one the driver's informer selects
//! Secrets by (FACTS §2). Made first by someone else (kubectl, a Helm chart, a pipeline), it is
//! not there for the driver: its create is answered AlreadyExists and taken for done, its
//! patcher owns nothing and the rotation reconciler finds nothing to patch (FACTS §3:
//! SecretRotationFailed `failed to patch secret <name> with new data`), so it never holds what
//! `secretObjects` make (FACTS §11: the driver does not rewrite a Secret that exists). That is
//! drivers before v1.6: v1.6.0's controller creates or updates at every reconcile (FACTS §2;
//! [D] createOrUpdateK8sSecret: an Update of the whole Secret after AlreadyExists, whoever made
//! it), so there it lasts until the next reconcile; kvchain does not read the driver's version,
//! and the message says both (audit UUU-honest). This is
//! the "synced Secret exists but its data is empty" practitioners meet; a wrong objectName
//! makes no Secret at all (KVC801).

use super::remedy;
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::{Link, Severity};
use crate::snapshot::{EventObs, SecretObjectSpec, SecretObs};

/// What an unmanaged Secret's content lacks against its entry, as [`super::content`] read it.
pub(super) struct Differences<'a> {
    pub lacking: &'a [&'a str],
    pub leftover: &'a [&'a str],
    /// Keys whose value differs from the mounted file that makes it.
    pub values: Vec<&'a str>,
    pub retyped: bool,
    /// Evidence already gathered (keys, values, readers).
    pub evidence: Vec<String>,
}

impl<'a> Differences<'a> {
    /// `differ`: [`super::values_differ`]'s lines (`key <k> (…)`), the evidence too.
    pub fn new(
        lacking: &'a [&'a str],
        leftover: &'a [&'a str],
        differ: &'a [String],
        retyped: bool,
    ) -> Self {
        let values = (differ.iter())
            .map(|d| d.split(' ').nth(1).unwrap_or(""))
            .collect();
        Differences {
            lacking,
            leftover,
            values,
            retyped,
            evidence: differ.to_vec(),
        }
    }
}

/// KVC805 naming the Secret as not the driver's, when it differs from what `so` makes.
pub(super) fn finding(
    cx: &Ctx,
    link: &mut Link,
    so: &SecretObjectSpec,
    secret: &SecretObs,
    d: Differences,
) {
    let mut parts = Vec::new();
    if !d.lacking.is_empty() {
        parts.push(format!(
            "it lacks key {} that secretObjects of SecretProviderClass {} make",
            d.lacking.join(", "),
            cx.spc_name
        ));
    }
    if !d.values.is_empty() {
        parts.push(format!(
            "the value of its key {} differs from the mounted files",
            d.values.join(", ")
        ));
    }
    if d.retyped {
        parts.push(format!(
            "its type {} is not the entry's {}",
            secret.type_, so.type_
        ));
    }
    if !d.leftover.is_empty() {
        parts.push(format!(
            "it holds key {} that no secretObjects entry makes",
            d.leftover.join(", ")
        ));
    }
    let has: Vec<&str> = secret.data.keys().map(String::as_str).collect();
    let mut evidence = vec![format!(
        "Secret {} labels: {} (no secrets-store.csi.k8s.io/managed: \"true\"); keys: {}",
        secret.name,
        labels(secret),
        if has.is_empty() {
            "none".to_string()
        } else {
            has.join(", ")
        }
    )];
    evidence.extend(d.evidence);
    let mut f = cx.remedied(
        Code::KVC805,
        format!("Secret/{}", secret.name),
        format!(
            "synced Secret {} was not made by the driver: it lacks the secrets-store.csi.k8s.io/managed label the driver selects its Secrets by, so a driver before v1.6 never writes, patches or owns it (its create is answered AlreadyExists and taken for done; rotation finds no Secret to patch), and {}; a v1.6 driver replaces it with what secretObjects make, label included, at its next reconcile (within 5 minutes of a mount){}",
            secret.name,
            parts.join("; "),
            if d.retyped {
                ", except that the API server refuses that update of its type (a Secret's type cannot change) and the driver reports FailedToCreateSecret"
            } else {
                ""
            }
        ),
        evidence,
    );
    // Only keys nobody reads any more: nothing breaks now, but it will never rotate.
    if d.lacking.is_empty() && d.values.is_empty() && !d.retyped {
        f.severity = Severity::Warning;
    }
    f.confirm = format!(
        "kubectl get secret {} -n {} -o jsonpath='{{.metadata.labels}} {{.metadata.ownerReferences}} {{.metadata.managedFields[*].manager}}'",
        remedy::sh_word(&secret.name),
        cx.ns()
    )
    .into();
    f.fix = format!(
        "{}; whatever made Secret {} (the managers the confirm prints: kubectl, a Helm chart, a pipeline) must stop applying it, or it comes back without the label and the driver again leaves it as it is",
        f.fix, secret.name
    )
    .into();
    link.findings.push(f);
}

fn labels(secret: &SecretObs) -> String {
    if secret.labels.is_empty() {
        return "none".to_string();
    }
    (secret.labels.iter())
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// From manifests (a pod template, no run): each Secret document of the given files named
/// like a synced Secret of `spc` (an entry with no static cause, `causes`), without the
/// driver's label, that lacks what its entry makes. Applied, it exists before any mount and
/// the driver never writes it, whatever the run does, so this is known offline; its fix keeps
/// the document from being applied.
pub(super) fn in_files(
    cx: &Ctx,
    link: &mut Link,
    spc: &crate::snapshot::SpcObs,
    causes: &[Option<usize>],
) {
    for (so, _) in (spc.secret_objects.iter().zip(causes)).filter(|(_, c)| c.is_none()) {
        in_files_entry(cx, link, so);
    }
}

fn in_files_entry(cx: &Ctx, link: &mut Link, so: &SecretObjectSpec) {
    let Some(&secret) = cx.ix.secrets.get(&(cx.ns(), so.secret_name.as_str())) else {
        return;
    };
    if secret.driver_managed() {
        return;
    }
    let lacking = super::keys_lacking(cx, so, secret);
    let leftover = super::edited::leftover_keys(so, secret);
    let retyped = super::edited::retyped(so, secret).is_some();
    if lacking.is_empty() && leftover.is_empty() && !retyped {
        return;
    }
    let d = Differences::new(&lacking, &leftover, &[], retyped);
    finding(cx, link, so, secret, d);
    if let Some(f) = link.findings.last_mut() {
        f.fix = format!(
            "# do not apply the Secret {name} document of the given files: the driver makes Secret {name} at the first mount, with its label; where it was applied: kubectl delete secret {} -n {} --ignore-not-found",
            remedy::sh_word(&secret.name),
            cx.ns(),
            name = secret.name,
        )
        .into();
    }
}

/// The index, among `link`'s findings, of the unmanaged-Secret finding that the rotation
/// reconciler's failed patch `e` is the symptom of: it reads Secrets through its labelled
/// cache, finds none of that name and reports the patch failed (FACTS §3) — evidence of the
/// one cause, not a driver failure of its own (KVC806).
pub(crate) fn patch_symptom(cx: &Ctx, e: &EventObs, link: &Link) -> Option<usize> {
    if !super::missing::failed_patch(e) {
        return None;
    }
    let named = (e.message.strip_prefix("failed to patch secret ")?)
        .split(' ')
        .next()?;
    let spc = cx.spc?;
    let i = (spc.secret_objects.iter()).position(|so| so.secret_name == named)?;
    let secret = cx.synced_secret(i).filter(|s| !s.driver_managed())?;
    let resource = format!("Secret/{}", secret.name);
    (link.findings.iter()).position(|f| f.code == Code::KVC805 && *f.resource == *resource)
}
