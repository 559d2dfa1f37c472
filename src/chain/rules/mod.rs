//! One rule module per link. Each `check` reads the [`Ctx`], may fill in what later links need
//! (auth mode, identity, vault), sets the link's status/summary/facts for the non-finding cases
//! (ok, unknown, pending) and pushes findings; `build::settle` then lets findings decide.

pub(crate) mod access;
pub(crate) mod admission;
pub(crate) mod auth_params;
mod cloud;
pub(crate) mod consumers;
mod cross_tenant_first;
pub(crate) mod env_config_maps;
mod env_secret_entry;
pub(crate) mod env_secret_typo;
pub(crate) mod env_secrets;
pub(crate) mod federation;
mod fold_events;
mod followup;
pub(crate) mod history;
pub(crate) mod identity;
mod identity_proof;
pub(crate) mod identity_side;
pub(crate) mod injected_tenant;
pub(crate) mod lone_federation;
mod miscased;
pub(crate) mod mount;
pub(crate) mod new_mount;
pub(crate) mod node;
pub(crate) mod node_identity;
pub(crate) mod node_selector;
mod object_edits;
pub(crate) mod other_volume;
pub(crate) mod params;
mod parse_first;
pub(crate) mod placement;
pub(crate) mod pod;
mod pod_identity;
mod pod_now;
pub(crate) mod provider;
pub(crate) mod remedy;
mod request_order;
mod retired;
mod sa_account;
pub(crate) mod sa_injected;
mod sa_multi;
pub(crate) mod sa_template;
pub(crate) mod service_account;
mod slip;
mod sp_entra;
pub(crate) mod sp_secret;
mod spc_crd;
pub(crate) mod spc_namespace;
pub(crate) mod static_pod;
pub(crate) mod sync;
pub(crate) mod unread_failures;
pub(crate) mod unstarted;
mod unused_volume;
pub(crate) mod vault_object;
mod volume_params;
mod webhook_env;

pub use fold_events::CONTRADICTED;
pub(crate) use fold_events::{apply_events, is_contradicted};
use retired::finished_job;
pub(crate) use retired::{gone_for_retired, read_gone_for_retired};

use super::catalog::Code;
use super::context::Ctx;
use super::model::{Fact, Finding, Link, LinkKind, Severity, SharedText, Status, Text};

/// A context fact (what was checked and found fine). Every healthy chain would pay its
/// allocations, so these are kept only in detail mode ([`crate::chain::explain`]).
pub(crate) fn note(cx: &Ctx, link: &mut Link, f: impl FnOnce() -> Fact) {
    if cx.detail {
        link.facts.push(f());
    }
}

/// Observed vs expected: always kept when they differ, otherwise only in detail mode.
pub(crate) fn compare(cx: &Ctx, link: &mut Link, label: &str, observed: &str, expected: &str) {
    if cx.detail || observed != expected {
        link.facts.push(Fact::compare(label, observed, expected));
    }
}

/// The summary of a link no object was read for but a mount proves (identity, federation,
/// access): one constant, as `fold_events` decides on it (such a link is no object that
/// looks right now) and a rewording must not change that decision.
pub(crate) const PROVEN_BY_MOUNT: &str = "proven by mount";

/// Set a link's non-finding status: unknown / pending / ok with its reason.
pub(crate) fn set(link: &mut Link, status: Status, summary: impl Summary) {
    link.status = status;
    link.summary = summary.into_summary();
}

/// A link's summary: kvchain's own words (a literal, kept as written, without a copy or a
/// scan: most links of every chain get one) or text that may name what the input wrote (a
/// missing SPC), capped and escaped like a finding's text ([`crate::shown`]). A borrowed
/// `&str` that is not a literal does not fit: pass it as [`Text`].
pub(crate) trait Summary {
    fn into_summary(self) -> Text;
}

impl Summary for &'static str {
    fn into_summary(self) -> Text {
        debug_assert!(
            matches!(crate::shown::shown(self), std::borrow::Cow::Borrowed(_)),
            "a literal summary is shown as written: {self:?}"
        );
        Text::const_new(self)
    }
}

impl Summary for Text {
    fn into_summary(self) -> Text {
        match crate::shown::shown_line(&self) {
            std::borrow::Cow::Borrowed(_) => self,
            std::borrow::Cow::Owned(s) => s.into(),
        }
    }
}

impl Summary for String {
    fn into_summary(self) -> Text {
        Text::from(self).into_summary()
    }
}

/// The link cannot be checked: say why, in the summary and as a fact.
pub(crate) fn unknown(link: &mut Link, summary: &'static str, reason: &str) {
    set(link, Status::Unknown, summary);
    link.facts.push(Fact::new("unknown", reason));
}

/// [`unknown`] for a check (`what`, said as its own fact) left undone by a failed read:
/// the "unknown" fact is the read's reason as it stands, which is how the reports tie the
/// link to that gap (counted as not verified, a skipped JUnit case, audit Q1).
pub(crate) fn unknown_check(link: &mut Link, summary: &'static str, what: String, reason: &str) {
    unknown(link, summary, reason);
    link.facts.push(Fact::new("not checked", what));
}

/// `code` (on `resource`, `subject` saying what names it) for object `kind`/`name` when the
/// given files hold its document (in the chain's namespace, or naming none) but kvchain could
/// not read it (no `kind`, a field of the wrong type, which kubectl refuses too): the object is
/// neither absent nor elsewhere (audit Z6, BB3). The message gives the Not read line; the fix
/// is a note (the correction is the user's to write) to correct that document, then apply it;
/// one refused for an unrendered template value is rendered instead.
pub(crate) fn unread_finding(
    cx: &Ctx,
    (code, resource): (Code, String),
    (kind, name): (&str, &str),
    subject: &str,
    evidence: Vec<String>,
) -> Option<Finding> {
    let doc = cx.source().unread_objects.iter().find(|o| {
        o.kind == kind && o.name == name && o.namespace.as_deref().is_none_or(|ns| ns == cx.ns())
    })?;
    let at = doc.reason.split(": ").next().unwrap_or(&doc.file);
    let (mut confirm, _) = remedy::commands(cx, code);
    // Refused for a template not yet rendered (`name: ${SPC_NAME}`, `{{ … }}` unquoted):
    // nothing in it is to be corrected by hand, and the file applied as it is is refused
    // again: it is rendered (audit UUU-real2, as labels.rs and refused.rs say).
    let fix = if params::is_placeholder(name) || doc.reason.contains("unrendered template") {
        if params::is_placeholder(name) {
            // No object is named `${SPC_NAME}`: the confirm finds the templates holding it.
            confirm = remedy::unrendered("metadata.name", name).0;
        }
        let file = remedy::sh_word(&doc.file);
        format!(
            "# {at} holds an unrendered template value (see Not read): render it, check it rendered (helm template … | kvchain check -f -, or envsubst < {file} | kvchain check -f -), then apply what it renders (helm template … | kubectl apply -n {ns} -f -, or envsubst < {file} | kubectl apply -n {ns} -f -)",
            ns = cx.ns()
        )
    } else {
        // A file holding other objects is not applied whole (audit TT2): the document alone.
        let apply = match cx.source().own_file(&doc.file) {
            Some(file) => format!("kubectl apply -n {} -f {}", cx.ns(), remedy::sh_word(file)),
            None => format!(
                "apply that document alone (kubectl apply -n {} -f <a file holding only it>: the file holds other objects, which applying it whole would re-apply as written)",
                cx.ns()
            ),
        };
        format!("# correct {at} (see Not read), then {apply}")
    };
    let message = format!(
        "{subject}, whose document could not be read: {}",
        doc.reason
    );
    Some(cx.finding(code, resource, message, evidence, confirm, fix))
}

/// The chain has no SecretProviderClass to read this link from: pending when it does not
/// exist, unknown (with the reason) when SecretProviderClasses could not be read in the
/// namespace — it may well exist.
pub(crate) fn no_spc(cx: &Ctx, link: &mut Link) {
    if !spc_unread(cx, link) {
        set(link, Status::Pending, "no SPC");
    }
}

/// The chain names a SecretProviderClass that could not be read: marks the link unknown with
/// the reason and says so. A CRD that is not installed is no failed read: no SPC can exist
/// there, so the chain's is known to be absent (KVC101, [`spc_crd`]), not unknown.
pub(crate) fn spc_unread(cx: &Ctx, link: &mut Link) -> bool {
    match cx.snap().spcs.unknown_in(cx.ns()) {
        Some(reason)
            if cx.spc.is_none()
                && !cx.spc_name.is_empty()
                && !crate::snapshot::gaps::is_not_installed(reason) =>
        {
            unknown(link, "SPC unknown", reason);
            true
        }
        _ => false,
    }
}

/// Findings that describe a product missing or old downstream (no synced Secret, a stale
/// mount or Secret): when an earlier link is broken they are its effects, not causes.
const EFFECTS: [Code; 4] = [Code::KVC703, Code::KVC802, Code::KVC805, Code::KVC806];

/// Warnings that still stop everything after their link: a pod the scheduler could not place
/// yet mounts nothing, however soon it may be placed.
const BLOCKING: [Code; 1] = [Code::KVC107];

/// Errors of the Pod link that keep the pod's containers from starting but lie beside the
/// chain, not on it: another volume failing to mount (KVC108), a container's env naming a
/// Secret that does not exist (KVC109). The kubelet mounts each volume on its own, so the
/// chain's mount and sync happen (or fail for their own cause) regardless: no later link
/// follows from them, and they are never the root the later links are marked blocked by. The
/// Consumers link says what it waits on itself (`blocked: volume <name>`, `blocked: Secret
/// <name>`).
const BESIDE: [Code; 2] = [Code::KVC108, Code::KVC109];

/// A finding that is a cause of its own (an error, or a code that blocks what follows), not
/// an effect of another or a finding said beside one.
fn is_cause(f: &Finding) -> bool {
    f.follows.is_none()
        && (f.severity == Severity::Error || BLOCKING.contains(&f.code))
        && !EFFECTS.contains(&f.code)
        && !BESIDE.contains(&f.code)
}

/// Mount-link causes that fail the mount itself: objects the provider refuses (KVC705, FACTS
/// §5), a FailedMount nothing else explains (KVC701), an answer over the driver's gRPC limit
/// (KVC708), a file where another object's versions need a directory (a KVC706 the driver
/// cannot write, [`mount::FILE_AND_DIRECTORY`]). A duplicate file name (the other KVC706) is
/// written twice, not refused, and a volume no container names (KVC707) is never mounted, so
/// neither fails one.
fn fails_mount(f: &Finding) -> bool {
    matches!(f.code, Code::KVC701 | Code::KVC705 | Code::KVC708)
        || (f.code == Code::KVC706 && f.message.contains(mount::FILE_AND_DIRECTORY))
}

/// The cause on a chain's `links` that fails every new mount of its volume, and its link: the
/// first cause up to the Mount link, as it blocks the chain's own stale mount
/// ([`mark_effects`], `sync::unapplied`), on the Mount link one [`fails_mount`].
/// A failure whose objects look right now ("failed, now looks right") is none: what kvchain
/// reads says a new mount gets past it, and the next attempt tells (audit RRR-faults: a role
/// repaired, the rollout the label fix makes read "a new pod would not start").
pub(crate) fn mount_blocker(links: &[Link]) -> Option<(LinkKind, Code)> {
    links[..=LinkKind::Mount.index()].iter().find_map(|l| {
        let f = l.findings.iter().find(|f| {
            is_cause(f)
                && !fold_events::is_contradicted(f)
                && (l.link != LinkKind::Mount || fails_mount(f))
        })?;
        Some((l.link, f.code))
    })
}

/// Mark downstream effects of the chain's first broken link: they say what they follow from
/// and a link holding nothing else reads "blocked" like the mount link does. Runs after the
/// links are settled. `starting`: the pod is on its way to its first mount with no failure
/// (see [`sync::awaiting_mount`]). `object_typos`: the messages of the KVC801 findings that
/// only repeat a typo in `objects` ([`sync::object_typos`]): they follow the Object link's
/// cause; any other KVC801 is a cause of its own.
///
/// `present`: the chain's synced Secrets that exist now (a finding waiting on the cause says
/// whether the Secret is missing or there but not right).
pub(crate) fn mark_effects(
    cx: &Ctx,
    links: &mut [Link],
    starting: bool,
    object_typos: &[SharedText],
    present: &[&str],
) {
    parse_first::mark(cx, links);
    request_order::mark(cx, links);
    // A secretObjects entry naming the object's real vault name while `objects` has it
    // misspelt: fixing the object (KVC601's fix) makes the file, so the entry is no cause.
    let object = LinkKind::VaultObject.index();
    if let Some(cause) = links[object].findings.iter().find(|f| is_cause(f)) {
        let cause = cause.code;
        for f in links[LinkKind::Sync.index()]
            .findings
            .iter_mut()
            .filter(|f| {
                f.code == Code::KVC801 && f.follows.is_none() && object_typos.contains(&f.message)
            })
        {
            follow(cx, f, LinkKind::VaultObject, cause, true, present);
        }
    }
    let root = (links.iter())
        .find_map(|l| {
            let f = l.findings.iter().find(|f| is_cause(f))?;
            Some((l.link, f.code))
        })
        .or_else(|| sync_refusal(&links[LinkKind::Sync.index()]));
    if let Some((root, cause)) = root {
        let blocked = match root {
            LinkKind::Sync => sync_cause_secrets(cx, &links[LinkKind::Sync.index()]),
            _ => None,
        };
        for link in links.iter_mut().filter(|l| l.link > root) {
            effects_of(cx, link, root, cause, present, blocked.as_deref());
        }
        other_volume::follow_own_cause(&mut links[LinkKind::Pod.index()], root, cause);
    }
    sync::awaiting_mount(links, starting);
    for link in links.iter_mut() {
        drawn_as_followed(link);
    }
}

/// With nothing broken before it, a synced Secret the driver does not write although the SPC
/// is mounted (KVC806 as an error: sync off in the driver, its create refused) is the root for
/// whoever reads that Secret without mounting the SPC: a mount of their own would meet the
/// same refusal (FACTS §11 "Sync needs RBAC"; audit WWW-scen). Behind a broken link KVC806 is
/// that link's effect ([`EFFECTS`]).
fn sync_refusal(sync: &Link) -> Option<(LinkKind, Code)> {
    let f = sync.findings.iter().find(|f| is_sync_refusal(f))?;
    Some((LinkKind::Sync, f.code))
}

fn is_sync_refusal(f: &Finding) -> bool {
    f.code == Code::KVC806 && f.severity == Severity::Error && f.follows.is_none()
}

/// The synced Secrets the Sync link's causes are about, when each names one of the SPC's
/// (its message says `Secret <name>`, or it is on `Secret/<name>`); `None` when a cause names
/// none (sync off in the driver: every Secret waits on it). The driver's SPCPS controller
/// makes each secretObjects entry's Secret on its own and goes on past one that fails (FACTS
/// §2), so a cause on one Secret blocks no reader of another (audit LL12).
fn sync_cause_secrets<'a>(cx: &Ctx<'a>, sync: &Link) -> Option<Vec<&'a str>> {
    let names: Vec<&str> = (cx.spc?.secret_objects.iter())
        .map(|o| o.secret_name.as_str())
        .filter(|n| !n.is_empty())
        .collect();
    let names_secret = |f: &Finding, n: &str| {
        *f.resource == *format!("Secret/{n}")
            || [' ', ':', ',', ')', ';']
                .iter()
                .any(|end| f.message.contains(&format!("Secret {n}{end}")))
    };
    let mut out = Vec::new();
    for f in (sync.findings.iter()).filter(|f| is_cause(f) || is_sync_refusal(f)) {
        let named: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| names_secret(f, n))
            .collect();
        if named.is_empty() {
            return None;
        }
        out.extend(named);
    }
    Some(out)
}

/// The synced Secret a KVC903 finding is about (its message: `consumes synced Secret <name> (`).
fn consumed_secret(f: &Finding) -> Option<&str> {
    let (_, rest) = f.message.split_once("consumes synced Secret ")?;
    rest.split_once(' ').map(|(name, _)| name)
}

/// Mark the findings of `link` that follow `root`'s cause `cause`. `blocked`: on a Sync root,
/// the Secrets its causes are about ([`sync_cause_secrets`]); a KVC903 about another Secret
/// does not follow it.
fn effects_of(
    cx: &Ctx,
    link: &mut Link,
    root: LinkKind,
    cause: Code,
    present: &[&str],
    blocked: Option<&[&str]>,
) {
    // An unrendered secretObjects value seen failing at run time (KVC306 is an error only
    // then): the Secret and its readers are not healthy, whatever kvchain could judge.
    if cause == Code::KVC306
        && matches!(link.link, LinkKind::Sync | LinkKind::Consumers)
        && link.status == Status::Ok
        && link.findings.is_empty()
    {
        link.status = Status::Pending;
        link.summary = compact_str::format_compact!("blocked: {}", root.title());
    }
    // Two objects writing one file a secretObjects entry reads: the synced key holds the
    // later one's value, which no check of the Sync link sees (audit CCC8).
    if cause == Code::KVC706
        && matches!(link.link, LinkKind::Sync | LinkKind::Consumers)
        && link.status == Status::Ok
        && link.findings.is_empty()
        && mount::overwrites_synced_key(cx)
    {
        link.status = Status::Warning;
        link.summary = compact_str::format_compact!("blocked: {}", root.title());
    }
    // A vault no name resolves to (KVC506) has no objects to read: the object is not
    // unknown, it was never reachable.
    if cause == Code::KVC506 && link.link == LinkKind::VaultObject && link.status == Status::Unknown
    {
        link.status = Status::Pending;
        link.summary = compact_str::format_compact!("blocked: {}", root.title());
    }
    for f in link.findings.iter_mut().filter(|f| f.follows.is_none()) {
        let effect = EFFECTS.contains(&f.code);
        let elsewhere = |f: &Finding| {
            blocked
                .zip(consumed_secret(f))
                .is_some_and(|(b, s)| !b.contains(&s))
        };
        if effect || (f.code == Code::KVC903 && !elsewhere(f)) {
            follow(cx, f, root, cause, effect, present);
        }
    }
    // A link that waits on an earlier one (consumers of a Secret never synced, a mount
    // that has not happened yet) names the root cause, not the link it waits on.
    // A pod not started whose events are unread (unknown): the root cause found here
    // says why it waits.
    let unseen = unstarted::unseen(link);
    if unseen {
        link.status = Status::Pending;
    }
    // An unrendered vault name left Access and Object unchecked; a real break upstream of
    // them is what blocks them (audit TT9).
    let waiting = unseen
        || link.status == Status::Pending
            && (link.summary.starts_with("blocked: ")
                || link.summary == access::VAULT_UNRENDERED
                || (link.link == LinkKind::Mount && mount::WAITING.contains(&&*link.summary)));
    // Readers started with an optional reference unset run, behind the same root cause.
    let unset = link.status == Status::Pending && link.summary.starts_with("unset: ");
    if waiting {
        link.summary = compact_str::format_compact!("blocked: {}", root.title());
    } else if unset {
        link.summary = compact_str::format_compact!("unset: {}", root.title());
    }
}

/// Mark finding `f` as following `root`'s cause `cause`: it says so and its fix points there.
/// `effect`: a product missing or old downstream (its own fix, deleting a Secret or a pod,
/// cannot work while the cause holds); else a finding whose own fix comes after (KVC903).
fn follow(cx: &Ctx, f: &mut Finding, root: LinkKind, cause: Code, effect: bool, present: &[&str]) {
    f.follows = Some(root);
    // A cause on the finding's own link (KVC705 beside the Mount link's KVC703) is named by
    // its code: "blocked by Mount" on a Mount finding would name nothing.
    let by = if f.link == root {
        cause.as_str()
    } else {
        root.title()
    };
    f.message = format!("blocked by {by}: {}", f.message).into();
    f.fix = if effect {
        // A new mount fails the same way, and a running replica would be lost.
        effect_fix(cx, &format!("{cause} ({})", root.title()))
    } else {
        // A workload relying on another's mount (KVC903) waits on the cause too, and mounting
        // the SPC there would meet it alike. Absent, the Secret exists only once the mount
        // succeeds; present (two SPCs writing it, KVC807, or a stale one), it is not right
        // until the cause is fixed.
        let exists = present
            .iter()
            .any(|s| f.message.contains(&format!("synced Secret {s} ")));
        if exists {
            format!(
                "# fix {cause} ({}) first: the Secret exists but what it holds is wrong until then; then: {}",
                root.title(),
                f.fix
            )
        } else {
            // Behind Sync the mount is there: the driver is what does not write the Secret.
            let until = match root {
                LinkKind::Sync => "the driver writes it",
                _ => "the mount succeeds",
            };
            format!(
                "# fix {cause} ({}) first: no pod has the Secret until {until}; then: {}",
                root.title(),
                f.fix
            )
        }
    }
    .into();
}

/// The fix of an effect (a stale or missing product) once its cause (`by`: code and link) is
/// fixed: what then refreshes it depends on the driver's rotation (FACTS §4). On, its next poll
/// (or the pod's mount, not made yet). Off, a volume already mounted is never fetched again:
/// the pod needs a new mount ([`remedy::remount`]), while a pod not mounted yet gets it from
/// the kubelet's next attempt. Not read: no poll is promised (audit HH2).
fn effect_fix(cx: &Ctx, by: &str) -> String {
    let rotation = cx
        .cluster()
        .csi_driver
        .known()
        .and_then(|c| c.rotation_enabled.known().copied());
    let mounted = !cx.template && cx.mounted();
    match rotation {
        Some(true) => {
            format!("# fix {by} first: the next rotation poll or mount then refreshes this")
        }
        Some(false) if mounted => format!(
            "# fix {by} first, then give this pod a new mount (rotation is off: no poll fetches an already-mounted volume again): {}",
            remedy::remount(cx)
        ),
        None if mounted => format!(
            "# fix {by} first; then, unless the driver's rotation is on (its flags were not read), give this pod a new mount, as an already-mounted volume is fetched again only by a rotation poll: {}",
            remedy::remount(cx)
        ),
        _ => format!("# fix {by} first: the kubelet's next mount attempt then refreshes this"),
    }
}

/// How a link holding findings that follow an earlier link's cause is drawn (README: a link
/// the break kept from being tried is drawn `…`, so the one red box is the cause): with
/// nothing of its own it is pending, `blocked: <link>`; else its own findings decide. The
/// findings keep their severity and are listed; reports count them apart, as blocked, and they
/// decide no exit status (`report::counts`, `output::fails`).
fn drawn_as_followed(link: &mut Link) {
    let Some(followed) = link.findings.iter().find_map(|f| f.follows) else {
        return; // most links
    };
    let worst = |own: bool| {
        link.findings
            .iter()
            .filter(|f| !own || f.follows.is_none())
            .fold(None::<&Finding>, |w, f| match w {
                Some(w) if w.severity >= f.severity => Some(w),
                _ => Some(f),
            })
    };
    let all = worst(false).map(|f| f.severity.status());
    match worst(true) {
        None => {
            link.status = Status::Pending;
            // What the first such finding says blocks it: its link, or another volume of the
            // pod (`blocked by volume files: …`, [`other_volume`]).
            let by = link
                .findings
                .iter()
                .filter(|f| f.follows.is_some())
                .find_map(|f| f.message.strip_prefix("blocked by ")?.split_once(": "))
                .map_or(followed.title(), |(by, _)| by);
            link.summary = compact_str::format_compact!("blocked: {by}");
        }
        // Only a status the findings decided (not a rule's own unknown, say) is redrawn: to
        // the worst finding of its own when a followed one was worse, or named the link at the
        // same severity (audit WWW-scen: "not mounted" for a KVC903 blocked by Sync beside a
        // reader's own KVC902).
        Some(own)
            if Some(link.status) == all
                && (own.severity.status() < link.status || named_by_followed(link)) =>
        {
            link.status = own.severity.status();
            link.summary = Text::const_new(super::catalog::label(own));
        }
        Some(_) => {}
    }
}

/// Whether the link's summary is the label of a finding that follows another link's cause
/// (and of none of its own).
fn named_by_followed(link: &Link) -> bool {
    let named = |f: &&Finding| *link.summary == *super::catalog::label(f);
    (link.findings.iter()).any(|f| f.follows.is_some() && named(&f))
        && !(link.findings.iter()).any(|f| f.follows.is_none() && named(&f))
}
