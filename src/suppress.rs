//! Suppressions, as kube-linter and Polaris spell them: an annotation on the pod, its workload,
//! its SecretProviderClass or its namespace, or an `ignore:` rule in the config file.
//!
//! ```yaml
//! metadata:
//!   annotations:
//!     kvchain.dev/ignore: "KVC204,KVC902"
//!     kvchain.dev/ignore-reason: "client-id comes from the SDK config, see TICKET-12"
//! ```
//!
//! A suppressed finding is marked ([`Finding::suppressed`]), never removed: reports show it as
//! suppressed and only the exit status stops counting it. Pure: no IO.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use crate::chain::{Chain, Code, Finding, SpcVerdict, Suppressed};
use crate::snapshot::Snapshot;

pub const IGNORE: &str = "kvchain.dev/ignore";
pub const IGNORE_REASON: &str = "kvchain.dev/ignore-reason";

/// One `ignore:` entry of the config file. Every given field must match.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct IgnoreRule {
    /// A code (`KVC204`) or `*` for every code.
    pub code: String,
    /// Namespace glob (`team-*`); any namespace when absent.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Resource glob on `Kind/name` (`Deployment/legacy-*`), matched against the finding's
    /// resource, the chain's workload, pod and SecretProviderClass; any when absent.
    #[serde(default)]
    pub resource: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// Config rules, checked once: an unknown code or a bad glob names the rule and its field.
#[derive(Clone, Debug, Default)]
pub struct Rules {
    rules: Vec<(IgnoreRule, Option<glob::Pattern>, Option<glob::Pattern>)>,
}

impl Rules {
    pub fn new(rules: &[IgnoreRule]) -> Result<Rules, String> {
        let mut out = Vec::with_capacity(rules.len());
        for (i, r) in rules.iter().enumerate() {
            if r.code != "*" && Code::parse(&r.code).is_none() {
                return Err(format!(
                    "ignore[{i}].code: unknown code {:?} (see `kvchain codes`)",
                    r.code
                ));
            }
            let pattern = |field: &str, g: &Option<String>| {
                g.as_deref()
                    .map(glob::Pattern::new)
                    .transpose()
                    .map_err(|e| format!("ignore[{i}].{field}: {e}"))
            };
            let ns = pattern("namespace", &r.namespace)?;
            let res = pattern("resource", &r.resource)?;
            out.push((r.clone(), ns, res));
        }
        Ok(Rules { rules: out })
    }
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

/// Annotations of namespaces (the snapshot has no Namespace objects): `namespace → annotations`.
pub type NamespaceAnnotations = BTreeMap<String, BTreeMap<String, String>>;

/// Mark every finding an annotation or a rule covers. Returns how many were marked.
pub fn apply(
    snapshot: &Snapshot,
    namespaces: &NamespaceAnnotations,
    rules: &Rules,
    chains: &mut [Chain],
) -> usize {
    let index = Index::new(snapshot);
    let mut marked = 0;
    for chain in chains.iter_mut() {
        let open = chain
            .links
            .iter()
            .flat_map(|l| &l.findings)
            .any(|f| f.suppressed.is_none());
        if !open {
            continue;
        }
        let holders = annotation_holders(&index, namespaces, chain);
        let names = chain_names(chain);
        let findings = chain.links.iter_mut().flat_map(|l| &mut l.findings);
        marked += mark(findings, &holders, rules, &chain.namespace, &names);
    }
    marked
}

/// [`apply`] for the SecretProviderClasses no chain mounts ([`crate::chain::unmounted_spcs`]):
/// the same annotations (the SPC's own and its Namespace's) and the same config rules (code,
/// namespace glob, resource glob on the finding's resource and `SecretProviderClass/NAME`),
/// so a suppression holds whether or not a pod mounts the SPC yet. Returns how many were
/// marked.
pub fn apply_spcs(
    snapshot: &Snapshot,
    namespaces: &NamespaceAnnotations,
    rules: &Rules,
    spcs: &mut [SpcVerdict],
) -> usize {
    // The usual case, every SPC mounted: no index to build.
    if spcs.is_empty() {
        return 0;
    }
    let index = Index::new(snapshot);
    let mut marked = 0;
    for spc in spcs.iter_mut() {
        let mut holders = Vec::new();
        if let Some(a) = index.spcs.get(&(spc.namespace.as_str(), spc.name.as_str())) {
            holders.push((format!("SecretProviderClass/{}", spc.name), *a));
        }
        if let Some(a) = namespaces.get(spc.namespace.as_str()) {
            holders.push((format!("Namespace/{}", spc.namespace), a));
        }
        let names = [format!("SecretProviderClass/{}", spc.name)];
        marked += mark(&mut spc.findings, &holders, rules, &spc.namespace, &names);
    }
    marked
}

/// The SecretProviderClasses no chain of a diagnosis mounts ([`crate::chain::unmounted_spcs`]),
/// checked on their own with the config's `ignore:` rules and the annotations applied, as the
/// long-running modes (the TUI, `serve`) show them beside each diagnosis. ~12 ms at 2,000 such
/// SPCs (`diagnose/unmounted_spcs_2k_of_4k`); with none, no index is built.
pub fn unmounted_spcs(
    snapshot: &Snapshot,
    chains: &[std::sync::Arc<Chain>],
    rules: &Rules,
) -> Vec<SpcVerdict> {
    let mut spcs = crate::chain::unmounted_spcs(snapshot, chains);
    apply_spcs(snapshot, &Default::default(), rules, &mut spcs);
    spcs
}

/// Mark each finding not yet suppressed that an annotation of `holders` (nearest first) or a
/// rule covers. Returns how many were marked.
fn mark<'f>(
    findings: impl IntoIterator<Item = &'f mut Finding>,
    holders: &[(String, &Annotations)],
    rules: &Rules,
    ns: &str,
    names: &[String],
) -> usize {
    let mut marked = 0;
    for f in findings {
        if f.suppressed.is_some() {
            continue;
        }
        f.suppressed = by_annotation(holders, f.code).or_else(|| by_rule(rules, ns, names, f));
        marked += usize::from(f.suppressed.is_some());
    }
    marked
}

type Annotations = BTreeMap<String, String>;

/// The annotations of pods, workloads and SecretProviderClasses by name, built once: a scan
/// of the snapshot per chain made suppressions quadratic (minutes at 100,000 pods). The first
/// object of a name wins, as the scan found it.
struct Index<'a> {
    pods: HashMap<(&'a str, &'a str), &'a Annotations>,
    workloads: HashMap<(&'a str, &'a str, &'a str), &'a Annotations>,
    spcs: HashMap<(&'a str, &'a str), &'a Annotations>,
}

impl<'a> Index<'a> {
    fn new(s: &'a Snapshot) -> Index<'a> {
        let mut index = Index {
            pods: HashMap::new(),
            workloads: HashMap::new(),
            spcs: HashMap::new(),
        };
        for p in &s.pods.items {
            index
                .pods
                .entry((&p.namespace, &p.name))
                .or_insert(&p.annotations);
        }
        for w in &s.workloads.items {
            index
                .workloads
                .entry((&w.namespace, &w.kind, &w.name))
                .or_insert(&w.annotations);
        }
        for spc in &s.spcs.items {
            index
                .spcs
                .entry((&spc.namespace, &spc.name))
                .or_insert(&spc.annotations);
        }
        index
    }
}

/// `(Kind/name, annotations)` that may carry an ignore annotation for this chain, nearest first.
fn annotation_holders<'a>(
    index: &Index<'a>,
    namespaces: &'a NamespaceAnnotations,
    c: &Chain,
) -> Vec<(String, &'a Annotations)> {
    let mut out = Vec::new();
    if let Some(a) = index.pods.get(&(c.namespace.as_str(), c.pod.as_str())) {
        out.push((format!("Pod/{}", c.pod), *a));
    }
    if let Some(w) = &c.workload
        && let Some(a) =
            index
                .workloads
                .get(&(c.namespace.as_str(), w.kind.as_str(), w.name.as_str()))
    {
        out.push((format!("{}/{}", w.kind, w.name), *a));
    }
    if let Some(a) = index.spcs.get(&(c.namespace.as_str(), c.spc.as_str())) {
        out.push((format!("SecretProviderClass/{}", c.spc), *a));
    }
    if let Some(a) = namespaces.get(c.namespace.as_str()) {
        out.push((format!("Namespace/{}", c.namespace), a));
    }
    out
}

fn by_annotation(
    holders: &[(String, &BTreeMap<String, String>)],
    code: Code,
) -> Option<Suppressed> {
    holders.iter().find_map(|(what, a)| {
        let list = a.get(IGNORE)?;
        listed(list, code).then(|| Suppressed {
            by: format!("annotation {IGNORE} on {what}"),
            reason: a.get(IGNORE_REASON).cloned(),
        })
    })
}

/// Whether an annotation value (`"KVC204, KVC902"`, `"*"`) names `code`.
pub fn listed(value: &str, code: Code) -> bool {
    value
        .split([',', ' ', '\n', '\t'])
        .map(str::trim)
        .any(|c| c == "*" || c.eq_ignore_ascii_case(code.as_str()))
}

/// The names a resource glob may match for a chain.
fn chain_names(c: &Chain) -> Vec<String> {
    let mut v = vec![
        format!("Pod/{}", c.pod),
        format!("SecretProviderClass/{}", c.spc),
    ];
    if let Some(w) = &c.workload {
        v.push(format!("{}/{}", w.kind, w.name));
    }
    v
}

fn by_rule(rules: &Rules, ns: &str, names: &[String], f: &Finding) -> Option<Suppressed> {
    rules
        .rules
        .iter()
        .enumerate()
        .find(|(_, (r, nsp, resp))| {
            (r.code == "*" || r.code == f.code.as_str())
                && nsp.as_ref().is_none_or(|p| p.matches(ns))
                && resp
                    .as_ref()
                    .is_none_or(|p| p.matches(&f.resource) || names.iter().any(|n| p.matches(n)))
        })
        .map(|(i, (r, _, _))| Suppressed {
            by: format!("config ignore rule {i}"),
            reason: r.reason.clone(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotation_lists_codes_case_insensitively_and_star_means_all() {
        assert!(listed("KVC204,KVC902", Code::KVC902));
        assert!(listed("kvc204, KVC902", Code::KVC204));
        assert!(!listed("KVC2040", Code::KVC204));
        assert!(listed("*", Code::KVC101));
        assert!(!listed("", Code::KVC101));
    }

    #[test]
    fn rules_reject_unknown_codes_and_bad_globs_naming_the_field() {
        let bad = IgnoreRule {
            code: "KVC999".into(),
            ..Default::default()
        };
        assert!(Rules::new(&[bad]).unwrap_err().contains("ignore[0].code"));
        let bad = IgnoreRule {
            code: "KVC101".into(),
            resource: Some("Deployment/[".into()),
            ..Default::default()
        };
        assert!(
            Rules::new(&[bad])
                .unwrap_err()
                .contains("ignore[0].resource")
        );
    }
}
