//! `snapshot save --anonymize`: replace names, ids, tenants and URLs with pseudonyms so a
//! snapshot can go into a bug report, keeping the joins diagnosis needs.
//!
//! Pseudonyms are consistent inside one file (same input → same pseudonym, keyed by a random
//! per-file salt so they cannot be reversed by hashing guesses). Names are collected from
//! every place of the typed snapshot that holds one (namespaces, workloads, service accounts,
//! SPCs, Secrets, containers, nodes, vaults, every object a vault lists, identities,
//! credentials, the namespace and service account of every FIC subject, resource groups, the
//! node resource group and scale set a node's providerID names) and
//! then replaced wherever they occur as a whole token — also inside composite strings (pod
//! names, SPCPS names, resource ids, event messages, URLs), so `api-7d9f-x2x` and the SPCPS
//! `api-7d9f-x2x-shop-api-kv` stay joined. A name the file holds but that was not collected
//! would stay verbatim, or half-replaced where it contains a collected one (audit QQ2).
//! Never replaced: the fixed vocabulary (`vocab`: audiences, driver names, data actions, URL
//! paths), where a name may be spelled the same (audit QQ1). Pseudonyms keep the case and
//! near-miss relations the rules compare (`pseudonym`, audit QQ3). GUIDs (tenants, client ids,
//! uids, subscriptions) are replaced by GUID-shaped pseudonyms. The source label (kube
//! context) is replaced outright.

mod pseudonym;
mod vocab;

use aho_corasick::{AhoCorasick, MatchKind};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::Snapshot;
use pseudonym::Pseudonyms;

/// Names that are structure, not identity: never replaced.
const KEEP: &[&str] = &[
    "default",
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "azure",
    "secret",
    "key",
    "cert",
];

/// Object keys (map keys) under these fields are names; other keys are field names. Label and
/// annotation keys are vocabulary (`azure.workload.identity/use`), their values are not.
const NAME_KEYED: &[&str] = &["files", "pem_parts", "data", "namespaces"];

pub fn anonymize(snapshot: &Snapshot) -> anyhow::Result<Snapshot> {
    let salt: [u8; 16] = rand::random();
    anonymize_with(snapshot, &salt)
}

pub fn anonymize_with(snapshot: &Snapshot, salt: &[u8]) -> anyhow::Result<Snapshot> {
    let mut names = Names::new(salt);
    collect(snapshot, &mut names);
    let mut v = serde_json::to_value(snapshot)?;
    let replacer = names.replacer()?;
    walk(&mut v, &replacer, false);
    let mut out: Snapshot = serde_json::from_value(v)?;
    out.source.label = "anonymized".into();
    Ok(out)
}

struct Names {
    p: Pseudonyms,
}

impl Names {
    fn new(salt: &[u8]) -> Self {
        Names {
            p: Pseudonyms::new(salt),
        }
    }
    fn keep(s: &str) -> bool {
        // GUIDs are replaced wherever they stand by the GUID pass.
        s.len() < 3 || KEEP.contains(&s) || is_guid(s)
    }
    fn add(&mut self, prefix: &'static str, s: &str) {
        let s = s.trim();
        if !Self::keep(s) {
            self.p.add(prefix, s);
        }
    }
    /// A name a rule looks up and compares with its near misses ("did you mean …?").
    fn add_ref(&mut self, prefix: &'static str, s: &str) {
        let s = s.trim();
        if !Self::keep(s) {
            self.p.add_ref(prefix, s);
        }
    }
    /// `system:serviceaccount:<ns>:<sa>`: both are names, whether or not anything else in the
    /// file names them (another team's namespace, a typo'd account).
    fn subject(&mut self, subject: &str) {
        let mut parts = subject.trim().split(':');
        if let (Some("system"), Some("serviceaccount"), Some(ns), Some(sa)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        {
            self.add("ns", ns);
            self.add_ref("sa", sa);
        }
    }
    fn replacer(self) -> anyhow::Result<Replacer> {
        let salt = self.p.salt().to_vec();
        let (from, to): (Vec<String>, Vec<String>) = self.p.assign().into_iter().unzip();
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&from)?;
        Ok(Replacer { ac, to, salt })
    }
}

struct Replacer {
    ac: AhoCorasick,
    to: Vec<String>,
    salt: Vec<u8>,
}

impl Replacer {
    /// Replace whole-token occurrences (not glued to a letter, digit or `_`) outside the fixed
    /// vocabulary, then any GUID.
    fn apply(&self, s: &str) -> String {
        let bytes = s.as_bytes();
        let vocab = vocab::protected(s);
        let mut out = String::with_capacity(s.len());
        let mut last = 0;
        for m in self.ac.find_iter(s) {
            let before = m.start().checked_sub(1).map(|i| bytes[i]);
            let after = bytes.get(m.end()).copied();
            let glued = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
            if glued(before) || glued(after) || vocab::inside(&vocab, m.start(), m.end()) {
                continue;
            }
            out.push_str(&s[last..m.start()]);
            out.push_str(&self.to[m.pattern().as_usize()]);
            last = m.end();
        }
        out.push_str(&s[last..]);
        self.guids(&out)
    }

    /// Replace every GUID in `s` (tenants, client ids, uids, subscriptions, ids inside URLs)
    /// with a GUID-shaped pseudonym of it (salted hash of its lowercase form).
    fn guids(&self, s: &str) -> String {
        if s.len() < 36 {
            return s.to_string();
        }
        let mut out = String::with_capacity(s.len());
        let mut i = 0;
        while i < s.len() {
            if i + 36 <= s.len() && s.is_char_boundary(i + 36) && is_guid(&s[i..i + 36]) {
                let mut h = Sha256::new();
                h.update(&self.salt);
                h.update(s[i..i + 36].to_ascii_lowercase().as_bytes());
                out.push_str(&super::guid_of(&h.finalize()));
                i += 36;
            } else {
                let ch = s[i..].chars().next().unwrap_or(' ');
                out.push(ch);
                i += ch.len_utf8();
            }
        }
        out
    }
}

fn walk(v: &mut Value, r: &Replacer, keys_are_names: bool) {
    match v {
        Value::String(s) => *s = r.apply(s),
        Value::Array(a) => a.iter_mut().for_each(|x| walk(x, r, false)),
        Value::Object(o) => {
            let entries = std::mem::take(o);
            for (k, mut x) in entries {
                let child_names = NAME_KEYED.contains(&k.as_str());
                let vocabulary = vocab::VOCAB_TREES.contains(&k.as_str())
                    || (vocab::VOCAB_KEYS.contains(&k.as_str()) && !x.is_object());
                if vocabulary {
                    guids_only(&mut x, r);
                } else {
                    walk(&mut x, r, child_names);
                }
                let k = if keys_are_names { r.apply(&k) } else { k };
                o.insert(k, x);
            }
        }
        _ => {}
    }
}

/// Vocabulary fields: GUIDs replaced, nothing else.
fn guids_only(v: &mut Value, r: &Replacer) {
    match v {
        Value::String(s) => *s = r.guids(s),
        Value::Array(a) => a.iter_mut().for_each(|x| guids_only(x, r)),
        Value::Object(o) => o.values_mut().for_each(|x| guids_only(x, r)),
        _ => {}
    }
}

/// The namespaces a Reloader's flags name.
fn reloader_namespaces(r: &crate::snapshot::ReloaderObs) -> impl Iterator<Item = &String> {
    r.only.iter().flatten().chain(&r.ignored_namespaces)
}

fn collect(s: &Snapshot, n: &mut Names) {
    // The AKS cluster: its name and resource group, and its nodes.
    if let Some(c) = &s.cluster.name {
        n.add("aks", c);
    }
    if let Some(rg) = &s.cluster.resource_group {
        n.add("rg", rg);
    }
    for node in s.cluster.nodes.known().into_iter().flatten() {
        n.add("node", &node.name);
        // Its providerID names the node resource group and scale set (audit XE-paste).
        if let Some(vm) = node.vm() {
            n.add("rg", vm.resource_group);
            if let Some(scale_set) = vm.scale_set {
                n.add("vmss", scale_set);
            }
        }
    }
    // Workloads first: a name shared with a service account reads as the app it is.
    for w in &s.workloads.items {
        n.add("ns", &w.namespace);
        n.add("app", &w.name);
        for ns in w.reloader.iter().flat_map(|r| reloader_namespaces(r)) {
            n.add("ns", ns);
        }
    }
    for r in s.cluster.reloader.iter().flat_map(|r| &r.seen) {
        n.add("ns", &r.namespace);
        n.add("app", &r.name);
        for ns in reloader_namespaces(&r.run) {
            n.add("ns", ns);
        }
    }
    for p in &s.pods.items {
        pod(p, n);
    }
    for t in s
        .workloads
        .items
        .iter()
        .filter_map(|w| w.template.as_deref())
    {
        pod(t, n);
    }
    for v in s.workloads.items.iter().flat_map(|w| &w.claim_replaced) {
        volume(v, n);
    }
    for sa in &s.service_accounts.items {
        n.add("ns", &sa.namespace);
        n.add("sa", &sa.name);
        for s in &sa.image_pull_secrets {
            n.add("secret", s);
        }
    }
    for spc in &s.spcs.items {
        n.add("ns", &spc.namespace);
        n.add("spc", &spc.name);
        for so in &spc.secret_objects {
            n.add("secret", &so.secret_name);
            // The file a key comes from: an object name or alias, compared with the SPC's.
            for d in &so.data {
                n.add_ref("obj", &d.object_name);
            }
        }
        let p = &spc.parsed;
        for v in [
            &p.keyvault_name,
            &p.tenant_id,
            &p.client_id,
            &p.user_assigned_identity_id,
        ]
        .into_iter()
        .flatten()
        {
            n.add("kv", v);
        }
        // Looked up in the vault: a vault object a typo away keeps its "did you mean".
        for o in &p.objects {
            n.add_ref("obj", &o.object_name);
            if let Some(a) = &o.object_alias {
                n.add("obj", a);
            }
        }
    }
    for sec in &s.secrets.items {
        n.add("ns", &sec.namespace);
        n.add("secret", &sec.name);
    }
    for i in &s.ingresses.items {
        n.add("ns", &i.namespace);
        n.add("ing", &i.name);
        for t in &i.tls_secrets {
            n.add("secret", t);
        }
    }
    for e in &s.events.items {
        n.add("ns", &e.namespace);
    }
    for st in &s.spc_statuses.items {
        n.add("ns", &st.namespace);
    }
    for ns in s.pods.gaps.namespaces.keys() {
        n.add("ns", ns);
    }
    if let Some(o) = &s.pods.gaps.outside {
        n.add("ns", &o.namespace);
    }
    let az = &s.azure;
    for i in &az.identities.items {
        n.add("id", &i.name);
        resource_group(&i.resource_id, n);
        if let Some(fics) = i.federated_credentials.known() {
            for f in fics {
                n.add("fic", &f.name);
                n.subject(&f.subject);
            }
        }
    }
    for v in &az.vaults.items {
        n.add("kv", &v.name);
        // Every object the vault lists, not only those an SPC names (audit QQ2).
        for (_, o) in v.object_names.iter().flatten() {
            n.add("obj", o);
        }
        resource_group(&v.resource_id, n);
        for g in v.management_groups.iter().flatten() {
            resource_group(g, n);
        }
    }
    for r in &az.role_assignments.items {
        resource_group(&r.scope, n);
    }
    for o in &az.objects {
        n.add("kv", &o.vault);
        n.add("obj", &o.name);
    }
}

/// The names one pod (or a workload's pod template) holds: its namespace, service account
/// (looked up among the namespace's accounts), node, Secrets and SecretProviderClasses.
fn pod(p: &super::PodObs, n: &mut Names) {
    n.add("ns", &p.namespace);
    n.add_ref("sa", &p.service_account);
    if p.owners.is_empty() && p.template_of.is_none() {
        n.add("pod", &p.name);
    }
    if let Some(node) = &p.node {
        n.add("node", node);
    }
    for s in &p.image_pull_secrets {
        n.add("secret", s);
    }
    for v in &p.volumes {
        volume(v, n);
    }
    for c in &p.containers {
        n.add("ctr", &c.name);
        for e in c.env_from_secrets.iter().chain(&c.env_from_optional) {
            n.add("secret", e);
        }
        for e in &c.env {
            if let super::EnvSourceObs::SecretKey { secret, .. } = &e.source {
                n.add("secret", secret);
            }
        }
    }
    if let Some(o) = &p.template_of {
        n.add("app", &o.name);
    }
}

/// The names a pod volume holds: the SecretProviderClass a CSI volume names, the Secrets.
fn volume(v: &super::VolumeObs, n: &mut Names) {
    use super::VolumeSourceObs as V;
    match &v.source {
        V::Csi {
            attributes,
            node_publish_secret,
            ..
        } => {
            if let Some(spc) = attributes.get("secretProviderClass") {
                n.add_ref("spc", spc);
            }
            if let Some(s) = node_publish_secret {
                n.add("secret", s);
            }
        }
        V::Secret { secret_name, .. } => n.add("secret", secret_name),
        V::Projected {
            secrets,
            secret_items,
            ..
        } => {
            for s in secrets {
                n.add("secret", s);
            }
            for s in secret_items {
                n.add("secret", &s.secret);
            }
        }
        V::Other => {}
    }
}

/// `/subscriptions/<id>/resourceGroups/<rg>/…` → the resource group is a name too, and so is
/// `<mg>` in `/providers/Microsoft.Management/managementGroups/<mg>` (a scope or a vault's
/// management group: an organisation's structure, kept joined by one pseudonym).
fn resource_group(id: &str, n: &mut Names) {
    let mut parts = id.split('/');
    while let Some(p) = parts.next() {
        let prefix = if p.eq_ignore_ascii_case("resourceGroups") {
            "rg"
        } else if p.eq_ignore_ascii_case("managementGroups") {
            "mg"
        } else {
            continue;
        };
        if let Some(name) = parts.next() {
            n.add(prefix, name);
        }
    }
}

use super::is_guid;
