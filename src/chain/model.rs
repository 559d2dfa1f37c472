//! What diagnosis produces: one [`Chain`] per (pod, SecretProviderClass), nine links each.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
pub use thin_vec::{ThinVec, thin_vec};

use super::catalog::Code;

/// The hops of the chain, in the order they are walked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum LinkKind {
    Pod,
    ServiceAccount,
    Identity,
    Federation,
    Access,
    VaultObject,
    Mount,
    Sync,
    Consumers,
}

impl LinkKind {
    pub const ALL: [LinkKind; 9] = [
        LinkKind::Pod,
        LinkKind::ServiceAccount,
        LinkKind::Identity,
        LinkKind::Federation,
        LinkKind::Access,
        LinkKind::VaultObject,
        LinkKind::Mount,
        LinkKind::Sync,
        LinkKind::Consumers,
    ];

    /// Stable machine name (JSON `link`).
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Pod => "pod",
            LinkKind::ServiceAccount => "serviceAccount",
            LinkKind::Identity => "identity",
            LinkKind::Federation => "federation",
            LinkKind::Access => "access",
            LinkKind::VaultObject => "vaultObject",
            LinkKind::Mount => "mount",
            LinkKind::Sync => "sync",
            LinkKind::Consumers => "consumers",
        }
    }

    /// Short title for the chain strip.
    pub fn title(self) -> &'static str {
        match self {
            LinkKind::Pod => "Pod",
            LinkKind::ServiceAccount => "SA",
            LinkKind::Identity => "Identity",
            LinkKind::Federation => "Federation",
            LinkKind::Access => "Access",
            LinkKind::VaultObject => "Object",
            LinkKind::Mount => "Mount",
            LinkKind::Sync => "Sync",
            LinkKind::Consumers => "Consumers",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// Status of a link. Ordered from best to worst so `max()` gives the worst.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Checked and fine.
    Ok,
    /// Not reached yet (e.g. mount waits for an earlier hop; a template has no runtime state).
    Pending,
    /// Never set by the engine: how the `check` outputs show a link (or chain) that only
    /// suppressed findings break or warn ([`Chain::shown_status`]). It no longer fails the
    /// run, and it is no ok either: the finding was accepted, not fixed.
    Suppressed,
    /// Cannot be checked: the observation is unknown (reason in the link summary).
    Unknown,
    Warning,
    Broken,
}

impl Status {
    /// Worst first: the order counts and summaries list statuses in ([`Status::Suppressed`]
    /// where a view counts chains as the outputs show them).
    pub const WORST_FIRST: [Status; 6] = [
        Status::Broken,
        Status::Warning,
        Status::Unknown,
        Status::Suppressed,
        Status::Pending,
        Status::Ok,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Pending => "pending",
            Status::Suppressed => "suppressed",
            Status::Unknown => "unknown",
            Status::Warning => "warning",
            Status::Broken => "broken",
        }
    }
    /// One-cell symbol so status never depends on colour alone.
    pub fn symbol(self) -> &'static str {
        match self {
            Status::Ok => "✓",
            Status::Pending => "…",
            Status::Suppressed => "⊘",
            Status::Unknown => "?",
            Status::Warning => "!",
            Status::Broken => "✗",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
    /// The link status a finding of this severity implies.
    pub fn status(self) -> Status {
        match self {
            Severity::Info => Status::Ok,
            Severity::Warning => Status::Warning,
            Severity::Error => Status::Broken,
        }
    }
}

/// Text of a finding: replicas of a workload share their group's findings, and a clone of
/// shared text is a count, not a copy (a 10,000-pod diagnosis clones thousands of findings).
pub type SharedText = arcstr::ArcStr;

/// A part of a [`SharedText`] (a chain's pod name within its id): a clone is a count.
pub type SharedPart = arcstr::Substr;

/// An evidence-based finding: what was observed, why it breaks the link, how to confirm, how to fix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub code: Code,
    pub severity: Severity,
    pub link: LinkKind,
    pub namespace: SharedText,
    /// `Kind/name` of the object to change (Pod/x, SecretProviderClass/y, ManagedIdentity/z…).
    pub resource: SharedText,
    /// The cause, with the observed values.
    pub message: SharedText,
    /// What was seen: field values, event text.
    pub evidence: Vec<SharedText>,
    /// A command that shows the problem, with real names filled in.
    pub confirm: SharedText,
    /// A command (or edit) that fixes it, with real names filled in.
    pub fix: SharedText,
    /// The earlier broken link this finding is a downstream effect of ("blocked by
    /// Federation"): fixing that link's cause fixes this one too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follows: Option<LinkKind>,
    /// Id of the chain it was found on (names the pod, template or consumer it starts from).
    #[serde(default, skip_serializing_if = "str::is_empty")]
    pub chain: SharedText,
    /// Set when an ignore annotation or config rule covers this finding: it stays visible
    /// (reports mark it) but no longer decides the exit status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<Suppressed>,
    /// A failure event's finding over objects that look right now ("failed, now looks
    /// right"): the last attempt failed and what kvchain reads no longer says why, so it is
    /// no cause that blocks a new mount. Data, not wording: a later pass may reword the fix
    /// (audit VVV-honest).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub now_looks_right: bool,
}

/// What makes findings of several chains one finding (ten replicas of a broken Deployment
/// share theirs): the same code on the same object of the same namespace, saying the same.
pub type FindingKey<'a> = (Code, &'a str, &'a str, &'a str);

impl Finding {
    /// Rules refine a finding's texts after it is made (a message for the offline case, a
    /// fix naming the one SPC there is): once it is final, every text is shown capped and
    /// escaped ([`crate::shown`]), whatever wrote it. The resource, message, confirm and fix
    /// are one line each, so a line break in them is an input value's and is escaped too
    /// ([`crate::shown::shown_line`], audit BB2); evidence keeps an event's lines. Idempotent;
    /// texts that need nothing are left as they are.
    pub fn show_safely(&mut self) {
        fn safe(t: &mut SharedText, show: fn(&str) -> std::borrow::Cow<'_, str>) {
            if let std::borrow::Cow::Owned(s) = show(t.as_str()) {
                *t = s.into();
            }
        }
        let line = crate::shown::shown_line;
        safe(&mut self.resource, line);
        safe(&mut self.message, line);
        // A variable the command reads and nothing sets stops the paste, named (audit
        // XD-paste): guarded here, where every finding's texts are final.
        let guard = crate::chain::rules::remedy::guard_unset;
        safe(&mut self.confirm, guard);
        safe(&mut self.fix, guard);
        safe(&mut self.confirm, line);
        safe(&mut self.fix, line);
        (self.evidence.iter_mut()).for_each(|e| safe(e, crate::shown::shown));
    }

    pub fn key(&self) -> FindingKey<'_> {
        (
            self.code,
            self.namespace.as_str(),
            self.resource.as_str(),
            self.message.as_str(),
        )
    }
}

/// Why a finding is suppressed: which annotation or config rule, and the reason given.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppressed {
    /// `annotation on Deployment/api` or `config ignore rule 2`.
    pub by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Short text of a fact, inline up to 24 bytes (labels and most observed values are): a
/// 10,000-pod diagnosis holds hundreds of thousands of them.
pub type Text = compact_str::CompactString;

/// An observed value next to the expected one, for side-by-side display.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fact {
    pub label: Text,
    pub observed: Text,
    /// `None` when there is nothing to compare against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<Text>,
}

impl Fact {
    pub fn new(label: impl Into<Text>, observed: impl Into<Text>) -> Self {
        Fact {
            label: label.into(),
            observed: observed.into(),
            expected: None,
        }
    }
    pub fn compare(
        label: impl Into<Text>,
        observed: impl Into<Text>,
        expected: impl Into<Text>,
    ) -> Self {
        Fact {
            label: label.into(),
            observed: observed.into(),
            expected: Some(expected.into()),
        }
    }
    pub fn matches(&self) -> bool {
        self.expected.as_ref().is_none_or(|e| *e == self.observed)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub link: LinkKind,
    pub status: Status,
    /// One or two words for the chain strip ("subject typo", "no role", "stale env"), or a
    /// name: compact text, so ten thousand healthy chains allocate none of their ninety
    /// thousand summaries (fixed words are borrowed, names up to 24 bytes inline).
    pub summary: Text,
    /// Observed vs expected values behind the status.
    #[serde(default, skip_serializing_if = "ThinVec::is_empty")]
    pub facts: ThinVec<Fact>,
    #[serde(default, skip_serializing_if = "ThinVec::is_empty")]
    pub findings: ThinVec<Finding>,
}

/// Whether `findings` warn or fail only through suppressed ones: one is suppressed, and none
/// open is a warning or an error. What `check`'s exit status and `serve`'s alerts stop
/// counting, so every output shows it alike (README "Suppressing findings").
pub fn only_suppressed(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.suppressed.is_some())
        && !(findings.iter()).any(|f| f.suppressed.is_none() && f.severity >= Severity::Warning)
}

/// `status` as the outputs show it: a warning or break that only suppressed `findings` give
/// is [`Status::Suppressed`].
pub fn shown(status: Status, findings: &[Finding]) -> Status {
    match status {
        Status::Warning | Status::Broken if only_suppressed(findings) => Status::Suppressed,
        _ => status,
    }
}

/// The fact label of a link that plays no part in the chain's auth mode (the Federation link
/// of a node identity: no federated credential takes part), its value saying why. The link is
/// [`Status::Ok`] for the engine (nothing is wrong), but no check was made: the strips draw it
/// [`NOT_APPLICABLE_SYMBOL`], never ✓ (audit VVV-honest).
pub const NOT_APPLICABLE: &str = "not applicable";
/// How the strips draw a link that does not apply.
pub const NOT_APPLICABLE_SYMBOL: &str = "–";

impl Link {
    /// Whether the link plays a part in this chain (see [`NOT_APPLICABLE`]).
    pub fn applies(&self) -> bool {
        !self.facts.iter().any(|f| f.label == NOT_APPLICABLE)
    }

    /// Marks the link as no part of the chain, `why` in kvchain's fixed words (borrowed).
    pub(crate) fn not_applicable(&mut self, why: &'static str) {
        (self.facts).push(Fact::new(
            Text::const_new(NOT_APPLICABLE),
            Text::const_new(why),
        ));
    }

    pub fn new(link: LinkKind) -> Self {
        Link {
            link,
            status: Status::Ok,
            summary: Text::const_new("ok"),
            facts: ThinVec::new(),
            findings: ThinVec::new(),
        }
    }
}

/// A workload that owns pods (top-level owner: Deployment rather than ReplicaSet).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct WorkloadRef {
    pub kind: Text,
    pub name: Text,
}

/// An object of the SPC as this chain sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainObject {
    pub name: Text,
    pub object_type: Text,
    /// Mounted file name (alias or name).
    pub file: Text,
    /// Pinned version, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned_version: Option<Text>,
    /// Version the pod has mounted (SPCPS), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mounted_version: Option<VersionText>,
    /// Latest version in the vault, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_version: Option<VersionText>,
    pub status: Status,
}

/// An object version as a chain holds it. Key Vault's version ids (32 characters) are held
/// inline: a replica that mounted other versions than its group copies the group's objects,
/// and shared text made each copied version an atomic count on a line another thread last
/// wrote, at build and again when the next diagnosis frees it (when every chain copied them,
/// freeing the previous result's objects was a sixth of the pass's serial part, sampled).
/// Anything longer is shared text.
#[derive(Clone, PartialEq, Eq)]
pub enum VersionText {
    Inline(arrayvec::ArrayString<32>),
    Shared(SharedText),
}

impl VersionText {
    pub fn as_str(&self) -> &str {
        match self {
            VersionText::Inline(s) => s,
            VersionText::Shared(s) => s,
        }
    }
}

impl From<&str> for VersionText {
    fn from(s: &str) -> Self {
        arrayvec::ArrayString::from(s)
            .map_or_else(|_| VersionText::Shared(s.into()), VersionText::Inline)
    }
}

impl std::ops::Deref for VersionText {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Display for VersionText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for VersionText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Serialize for VersionText {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for VersionText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(d)?;
        Ok(VersionText::from(&*s))
    }
}

/// One pod's walk through one SecretProviderClass. A 10,000-pod diagnosis builds (and drops)
/// ten thousand of these: names are compact text (most fit inline), the id is the one text a
/// chain always allocates, and its pod name and findings share it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chain {
    /// Stable id: `<namespace>/<pod>/<spc>`. Shared: each finding names its chain with it.
    pub id: SharedText,
    pub namespace: Text,
    /// Diagnosis takes it from the id (no text of its own; pod names past 24 bytes, common
    /// for replicas, were one more allocation per chain).
    pub pod: SharedPart,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<WorkloadRef>,
    /// SPC name as referenced by the volume (may not exist).
    pub spc: Text,
    /// The pod volume that carries it.
    pub volume: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault: Option<Text>,
    /// Shared with the pod's replicas that mount the same versions (a count, not a copy of
    /// each object per chain).
    #[serde(default, skip_serializing_if = "no_objects")]
    pub objects: Arc<[ChainObject]>,
    /// The nine links, in [`LinkKind::ALL`] order. Held inline: a list of its own was one
    /// more allocation per chain to make and to free on every full pass.
    pub links: [Link; LinkKind::ALL.len()],
}

fn no_objects(objects: &Arc<[ChainObject]>) -> bool {
    objects.is_empty()
}

impl Chain {
    /// A workload's pod template diagnosed as the pod it would create (a manifest's workload,
    /// one none of whose pods is live): no pod, and no SecretProviderClassPodStatus (FACTS §1).
    /// Its chain carries the workload's own name as the pod's, which no pod a controller makes
    /// has (`<replicaset>-<suffix>`, `<statefulset>-<ordinal>`, `<job>-<suffix>`).
    pub fn is_template(&self) -> bool {
        self.workload.as_ref().is_some_and(|w| *w.name == *self.pod)
    }

    pub fn link(&self, kind: LinkKind) -> &Link {
        &self.links[kind.index()]
    }
    pub fn link_mut(&mut self, kind: LinkKind) -> &mut Link {
        &mut self.links[kind.index()]
    }
    pub fn worst(&self) -> Status {
        self.links
            .iter()
            .map(|l| l.status)
            .max()
            .unwrap_or(Status::Ok)
    }
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.links.iter().flat_map(|l| l.findings.iter())
    }
    /// The finding to act on first: the earliest link's error that is not a downstream effect
    /// of another, else the worst finding that is none.
    /// The first broken link that carries a finding of its own: the cause of the break.
    pub fn broken_cause(&self) -> Option<&Link> {
        self.links
            .iter()
            .find(|l| l.status == Status::Broken && !l.findings.is_empty())
    }

    /// How link `kind` is drawn for a person: a broken link after the cause with no error of
    /// its own (a mount that failed because the object is missing; one holding only a static
    /// warning such as rotation off, which is listed all the same) was not reached — pending,
    /// so the one red box is the cause. The link keeps its own status for the engine.
    pub fn drawn_status(&self, kind: LinkKind) -> Status {
        let link = self.link(kind);
        let own_error = || link.findings.iter().any(|f| f.severity == Severity::Error);
        match self.broken_cause() {
            Some(c) if c.link < kind && link.status == Status::Broken && !own_error() => {
                Status::Pending
            }
            _ => link.status,
        }
    }

    /// How the `check` outputs show link `kind` (JSON `status`, the strips, the pictures'
    /// colours): [`Chain::drawn_status`], or [`Status::Suppressed`] where only suppressed
    /// findings break or warn it, as the exit status no longer counts them (audit NNN-out).
    pub fn shown_status(&self, kind: LinkKind) -> Status {
        shown(self.drawn_status(kind), &self.link(kind).findings)
    }

    /// The symbol the strips draw for the link: its shown status's, but
    /// [`NOT_APPLICABLE_SYMBOL`] for an ok link that does not apply (no ✓ for a check never
    /// made).
    pub fn shown_symbol(&self, kind: LinkKind) -> &'static str {
        let st = self.shown_status(kind);
        match st == Status::Ok && !self.link(kind).applies() {
            true => NOT_APPLICABLE_SYMBOL,
            false => st.symbol(),
        }
    }

    /// The chain's status as the outputs show it: its worst shown link, so a chain broken
    /// only by suppressed findings reads `suppressed`, and one broken by an open finding
    /// beside them still reads broken.
    pub fn shown_worst(&self) -> Status {
        (self.links.iter())
            .map(|l| self.shown_status(l.link))
            .max()
            .unwrap_or(Status::Ok)
    }

    pub fn root_cause(&self) -> Option<&Finding> {
        let causes = || self.findings().filter(|f| f.follows.is_none());
        causes()
            .find(|f| f.severity == Severity::Error)
            .or_else(|| causes().max_by_key(|f| f.severity))
            .or_else(|| self.findings().next())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_read_back_whatever_their_length() {
        let kv = "b82206cb5ac249918008b0b97fd1fd66";
        let long = "a version text longer than the thirty-two bytes held inline";
        for text in [kv, long, ""] {
            let v = VersionText::from(text);
            assert_eq!(v.as_str(), text);
            let json = serde_json::to_string(&v).unwrap();
            assert_eq!(json, serde_json::to_string(text).unwrap());
            assert_eq!(serde_json::from_str::<VersionText>(&json).unwrap(), v);
        }
        assert!(matches!(VersionText::from(kv), VersionText::Inline(_)));
        assert!(matches!(VersionText::from(long), VersionText::Shared(_)));
    }
}
