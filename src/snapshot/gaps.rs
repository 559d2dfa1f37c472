//! What a snapshot could not see, as one flat list: every collection gap and every unknown
//! cluster fact, with the kind, where (a namespace, a vault, or everywhere) and the reason.
//!
//! The report prints it first ("Not visible") and `kvchain check` exits 3 when it hides whole
//! chains; the UI shows it as a banner. The list is derived from the snapshot itself, so no
//! source can record a gap that the user never hears of.

use serde::Serialize;

use super::{Coll, Observed, Snapshot};

mod ingress;

/// One thing that could not be seen.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Gap {
    /// Kubernetes collections by their API plural (`pods`, `secretproviderclasses`,
    /// `workloads` for the six workload kinds); cluster facts and the Azure side by their
    /// place in the snapshot (`cluster.oidcIssuer`, `azure.vaults`).
    pub kind: &'static str,
    /// The namespace that could not be read; `None` when the gap covers every namespace (or
    /// the kind is not namespaced).
    pub namespace: Option<String>,
    /// Azure per-vault gaps: the vault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vault: Option<String>,
    /// Azure per-identity gaps (its federated credentials): the managed identity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// Azure per-object gaps (an object's versions): `<type>/<name>`, in `vault`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// Every namespace but this one could not be read (pods forbidden at the cluster scope:
    /// only the context's namespace is watched). Only with `namespace` unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outside: Option<String>,
    pub reason: String,
    /// `kubectl auth can-i` for each read the reason says was refused (empty otherwise):
    /// what confirms the missing permission, and the line to hand to whoever grants it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub confirm: Vec<String>,
    /// Nothing failed: the source cannot hold this (manifests have no run-time state and no
    /// Azure side) or the user asked not to look (`--no-azure`). Still unknown and listed,
    /// but no sign that reading went wrong.
    #[serde(skip)]
    pub chosen: bool,
    /// An `ingresses` gap where an Ingress may start a chain of its own (the TLS Secret of an
    /// SPC no pod mounts, [`ingress::hides_chains`]), set by [`Snapshot::gaps`].
    #[serde(skip)]
    pub hides_ingress_chains: bool,
}

/// Pods and SecretProviderClasses: without them whole chains are missing, not just a link.
const CHAIN_KINDS: [&str; 2] = ["pods", "secretproviderclasses"];

/// The workload kinds whose pod template is a chain of its own when they run no pod (a
/// Deployment whose pods cannot be created, a CronJob between runs: `orphans::templates`):
/// unread, such chains may be missing too (audit SSS-access). ReplicaSets and Jobs are read
/// as metadata only, for the owners of pods, so refusing them alone hides no chain.
const TEMPLATE_KINDS: [&str; 4] = ["deployments", "statefulsets", "daemonsets", "cronjobs"];
const OWNER_KINDS: [&str; 2] = ["replicasets", "jobs"];

/// `serve`: the gap kind of data served while the API server (or a kind's watch) does not
/// answer ([`super::SourceInfo::stale`], audit FFF5).
pub const CLUSTER: &str = "cluster";

/// `--no-azure`: the user asked for the Azure side not to be read.
pub const AZURE_DISABLED: &str = "Azure disabled (--no-azure)";

impl Gap {
    /// Whether a link's "unknown" fact names this gap: its reason, or one part of a reason
    /// that joins two refused reads (`a; b`: the CSIDriver and the driver's DaemonSet), which
    /// the link records alone when its check needed only that read (audit DDD4), or a fact
    /// that quotes the reason.
    pub fn explains(&self, unknown: &str) -> bool {
        self.reason == unknown
            || self.reason.split("; ").any(|part| part == unknown)
            // A fact that quotes the reason in its sentence (a role definition unread: "the
            // role assignment of principal …: <reason>, so whether it grants … is unknown").
            || (!self.reason.is_empty() && unknown.contains(self.reason.as_str()))
    }

    /// Whole chains may be missing behind this gap (pods or SPCs unread, workloads whose
    /// templates are chains, Ingresses where one may start a chain), as opposed to a link that
    /// shows unknown. A CRD that is not installed is no such gap: it means there
    /// are no SPCs at all, which is known.
    pub fn hides_chains(&self) -> bool {
        if is_not_installed(&self.reason) {
            return false;
        }
        CHAIN_KINDS.contains(&self.kind)
            || (self.kind == "workloads" && templates_unread(&self.reason))
            || self.hides_ingress_chains
    }

    /// What could not be seen, where: "pods in payments", "azure.vaults for vault kv-x",
    /// "cluster.csiDriver".
    /// Names come from the input: every text about a gap is shown capped and escaped
    /// ([`crate::shown`]), whichever format prints it.
    pub fn what(&self) -> String {
        crate::shown::shown_string(
            match (&self.namespace, &self.vault, &self.identity, &self.object) {
                (Some(ns), ..) => format!("{} in {ns}", self.kind),
                _ if self.outside.is_some() => format!(
                    "{} outside namespace {}",
                    self.kind,
                    self.outside.as_deref().unwrap_or_default()
                ),
                (None, Some(v), _, Some(o)) => format!("{} for {o} in vault {v}", self.kind),
                (None, Some(v), ..) => format!("{} for vault {v}", self.kind),
                (None, None, Some(i), _) => format!("{} of identity {i}", self.kind),
                _ => self.kind.to_string(),
            },
        )
    }

    /// [`Gap::what`] that also says when the gap covers every namespace, for outputs read
    /// one gap at a time (SARIF, JUnit, pictures): "pods (all namespaces)", "pods in payments".
    pub fn what_where(&self) -> String {
        // Kubernetes collections are spelled without a dot; cluster facts and the Azure side
        // ("cluster.nodes", "azure.vaults") are not per namespace.
        if self.namespace.is_none()
            && self.vault.is_none()
            && self.outside.is_none()
            && !self.kind.contains('.')
        {
            format!("{} (all namespaces)", self.kind)
        } else {
            self.what()
        }
    }

    /// One line: what, where and why ("pods (all namespaces): cannot list pods at the cluster
    /// scope: forbidden").
    pub fn describe(&self) -> String {
        format!(
            "{}: {}",
            self.what_where(),
            crate::shown::shown(&self.reason)
        )
    }

    /// Whether the gap hides objects of `namespace` (it is in that namespace, or everywhere).
    pub fn covers(&self, namespace: &str) -> bool {
        self.namespace.as_deref().is_none_or(|ns| ns == namespace)
            && self.outside.as_deref() != Some(namespace)
    }

    /// The reason already names the kind and the namespace ("cannot list pods in payments:
    /// forbidden"), so it can stand alone.
    pub fn reason_says_what(&self) -> bool {
        self.reason.contains(self.kind)
            && self
                .namespace
                .as_deref()
                .is_none_or(|ns| self.reason.contains(ns))
    }
}

/// The gaps behind which whole chains may be missing, each as `name` spells it, joined: at
/// most `max` of them, then "and N more". `None` when no chain is hidden: the view is
/// complete as far as chains go. Headlines and error messages say this first.
pub fn hiding_chains(gaps: &[Gap], max: usize, name: impl Fn(&Gap) -> String) -> Option<String> {
    let hiding: Vec<&Gap> = gaps.iter().filter(|g| g.hides_chains()).collect();
    if hiding.is_empty() {
        return None;
    }
    let mut s = hiding
        .iter()
        .take(max)
        .map(|g| name(g))
        .collect::<Vec<_>>()
        .join(", ");
    if hiding.len() > max {
        s.push_str(&format!(" and {} more", hiding.len() - max));
    }
    Some(s)
}

/// The `workloads` gap's reason (one refused read per kind, `; ` between: "cannot list
/// deployments in shop: forbidden; cannot list replicasets …") names a kind whose templates
/// are diagnosed, or names none of the six (a reason written by hand: any may be unread).
fn templates_unread(reason: &str) -> bool {
    let names = |kind: &str| {
        reason
            .split(|c: char| !c.is_ascii_lowercase())
            .any(|word| word == kind)
    };
    TEMPLATE_KINDS.iter().any(|k| names(k)) || !OWNER_KINDS.iter().any(|k| names(k))
}

/// The reason a kind's CRD is missing (a fact: nothing of that kind exists).
pub fn not_installed(crd: &str) -> String {
    format!("CRD {crd} not installed")
}

/// The reason says a kind's CRD is missing ([`not_installed`]): no object of that kind exists,
/// which is known, unlike a read that failed.
pub fn is_not_installed(reason: &str) -> bool {
    reason.starts_with("CRD ") && reason.ends_with(" not installed")
}

impl Snapshot {
    /// Everything this snapshot could not see, Kubernetes first, then cluster facts, then
    /// Azure. Empty for a complete view.
    pub fn gaps(&self) -> Vec<Gap> {
        let mut out = Vec::new();
        coll(&mut out, "pods", &self.pods, Place::Namespace);
        coll(
            &mut out,
            "serviceaccounts",
            &self.service_accounts,
            Place::Namespace,
        );
        coll(
            &mut out,
            "secretproviderclasses",
            &self.spcs,
            Place::Namespace,
        );
        coll(
            &mut out,
            "secretproviderclasspodstatuses",
            &self.spc_statuses,
            Place::Namespace,
        );
        coll(&mut out, "secrets", &self.secrets, Place::Namespace);
        coll(&mut out, "events", &self.events, Place::Namespace);
        coll(&mut out, "workloads", &self.workloads, Place::Namespace);
        let ingresses = out.len();
        coll(&mut out, "ingresses", &self.ingresses, Place::Namespace);
        for g in &mut out[ingresses..] {
            g.hides_ingress_chains = ingress::hides_chains(self, g);
        }

        let c = &self.cluster;
        fact(&mut out, "cluster.oidcIssuer", &c.oidc_issuer);
        fact(
            &mut out,
            "cluster.workloadIdentityWebhook",
            &c.workload_identity_webhook,
        );
        fact(&mut out, "cluster.csiDriver", &c.csi_driver);
        if let Some(d) = c.csi_driver.known() {
            fact(
                &mut out,
                "cluster.csiDriver.tokenAudiences",
                &d.token_audiences,
            );
            fact(&mut out, "cluster.csiDriver.rotation", &d.rotation_enabled);
            fact(
                &mut out,
                "cluster.csiDriver.syncSecret",
                &d.sync_secret_enabled,
            );
            fact(
                &mut out,
                "cluster.csiDriver.azureProvider",
                &d.azure_provider,
            );
            fact(&mut out, "cluster.csiDriver.placement", &d.placement);
            fact(&mut out, "cluster.csiDriver.pods", &d.driver_pods);
        }
        fact(&mut out, "cluster.nodes", &c.nodes);

        let a = &self.azure;
        coll(&mut out, "azure.identities", &a.identities, Place::Identity);
        coll(&mut out, "azure.vaults", &a.vaults, Place::Vault);
        coll(
            &mut out,
            "azure.roleAssignments",
            &a.role_assignments,
            Place::Vault,
        );
        azure_items(&mut out, a);
        for (kind, reason) in &self.source.stale {
            out.push(Gap {
                kind,
                reason: reason.clone(),
                ..Gap::default()
            });
        }
        let manifests = self.source.kind == super::SourceKind::Manifests;
        for g in &mut out {
            g.chosen = manifests || g.reason == AZURE_DISABLED;
            if !g.chosen {
                g.confirm = super::can_i::commands(&g.reason);
            }
        }
        out
    }

    /// `check -n NS` over a source that holds every namespace (manifests, the lab, a snapshot
    /// file), which then reports NS alone (README "kvchain check": "`-n NS` keeps only the
    /// chains of that namespace"), as a live `-n NS` reads NS alone: a read that failed in
    /// another namespace hides nothing of NS and is dropped, so it neither lists that gap nor
    /// makes the report INCOMPLETE (audit NNN-out). What covers NS stays: a read refused at
    /// the cluster scope, NS's own, one of every namespace but another, cluster facts and
    /// the Azure side.
    pub fn narrow_gaps_to(&mut self, ns: &str) {
        for g in [
            &mut self.pods.gaps,
            &mut self.service_accounts.gaps,
            &mut self.spcs.gaps,
            &mut self.spc_statuses.gaps,
            &mut self.secrets.gaps,
            &mut self.events.gaps,
            &mut self.workloads.gaps,
            &mut self.ingresses.gaps,
        ] {
            g.namespaces.retain(|k, _| k == ns);
            // "Every namespace but NS unread": NS itself was read.
            if g.outside.as_ref().is_some_and(|o| o.namespace == ns) {
                g.outside = None;
            }
        }
    }

    /// Pods, SecretProviderClasses, workloads (their templates: TEMPLATE_KINDS) or Ingresses
    /// that may start chains ([`ingress`]) could not be read somewhere: chains may be missing
    /// entirely (`kvchain check` exits 3 unless an error was found anyway). In `serve`, also
    /// data served but not kept current ([`super::SourceInfo::stale`]): what changed since is
    /// unread, wherever it is (audit FFF2, FFF5).
    pub fn incomplete(&self) -> bool {
        !self.source.stale.is_empty() || self.gaps().iter().any(Gap::hides_chains)
    }
}

/// What the keys of a collection's per-part gaps are.
enum Place {
    Namespace,
    Vault,
    /// Keyed by the clientId looked up.
    Identity,
}

fn coll<T>(out: &mut Vec<Gap>, kind: &'static str, c: &Coll<T>, place: Place) {
    if let Some(reason) = &c.gaps.all {
        out.push(Gap {
            kind,
            reason: reason.clone(),
            ..Gap::default()
        });
    }
    if let Some(o) = &c.gaps.outside {
        out.push(Gap {
            kind,
            outside: Some(o.namespace.clone()),
            reason: o.reason.clone(),
            ..Gap::default()
        });
    }
    for (key, reason) in &c.gaps.namespaces {
        let (namespace, vault, identity) = match place {
            Place::Namespace => (Some(key.clone()), None, None),
            Place::Vault => (None, Some(key.clone()), None),
            Place::Identity => (None, None, Some(key.clone())),
        };
        out.push(Gap {
            kind,
            namespace,
            vault,
            identity,
            reason: reason.clone(),
            ..Gap::default()
        });
    }
}

fn fact<T>(out: &mut Vec<Gap>, kind: &'static str, o: &Observed<T>) {
    if let Some(reason) = o.unknown_reason() {
        out.push(Gap {
            kind,
            reason: reason.to_string(),
            ..Gap::default()
        });
    }
}

/// What Azure would not show about one identity or object that was itself found: an
/// identity's federated credentials, an object's versions (a 403 on listing them). Once per
/// identity or object, with the Azure error, however many chains use it (README "What is
/// missing becomes a gap with the Azure error").
fn azure_items(out: &mut Vec<Gap>, a: &super::AzureObs) {
    for id in &a.identities.items {
        if let Some(reason) = id.federated_credentials.unknown_reason() {
            out.push(Gap {
                kind: "azure.federatedCredentials",
                identity: Some(id.name.clone()),
                reason: reason.to_string(),
                ..Gap::default()
            });
        }
    }
    // A role definition that could not be read leaves what its assignments grant unknown
    // (README: "a role definition it may not read"); once per definition (audit DDD5).
    let mut definitions = std::collections::BTreeSet::new();
    for ra in &a.role_assignments.items {
        if let Some(reason) = &ra.unresolved
            && definitions.insert(reason.as_str())
        {
            out.push(Gap {
                kind: "azure.roleDefinitions",
                reason: reason.clone(),
                ..Gap::default()
            });
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for o in &a.objects {
        let Some(reason) = o.state.unknown_reason() else {
            continue;
        };
        let object = format!("{}/{}", o.object_type.as_str(), o.name);
        if seen.insert((o.vault.as_str(), object.clone())) {
            out.push(Gap {
                kind: "azure.objects",
                vault: Some(o.vault.clone()),
                object: Some(object),
                reason: reason.to_string(),
                ..Gap::default()
            });
        }
    }
}

#[cfg(test)]
mod tests;
