//! One rule module per link. Each `check` reads the [`Ctx`], may fill in what later links need
//! (auth mode, identity, vault), sets the link's status/summary/facts for the non-finding cases
//! (ok, unknown, pending) and pushes findings; `build::settle` then lets findings decide.

pub(crate) mod access;
pub(crate) mod admission;
pub(crate) mod auth_params;
pub(crate) mod consumers;
pub(crate) mod env_config_maps;
pub(crate) mod env_secrets;
pub(crate) mod federation;
mod followup;
pub(crate) mod history;
pub(crate) mod identity;
mod identity_proof;
pub(crate) mod identity_side;
mod injected_tenant;
mod miscased;
pub(crate) mod mount;
pub(crate) mod node;
pub(crate) mod node_selector;
pub(crate) mod other_volume;
pub(crate) mod params;
pub(crate) mod placement;
pub(crate) mod pod;
pub(crate) mod remedy;
mod sa_multi;
mod sa_template;
pub(crate) mod service_account;
mod slip;
pub(crate) mod sp_secret;
pub(crate) mod spc_namespace;
pub(crate) mod static_pod;
pub(crate) mod sync;
pub(crate) mod unstarted;
pub(crate) mod vault_object;

use super::catalog::Code;
use super::context::{Ctx, event_evidence};
use super::events;
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
        match crate::shown::shown(&self) {
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

/// The chain has no SecretProviderClass to read this link from: pending when it does not
/// exist, unknown (with the reason) when SecretProviderClasses could not be read in the
/// namespace — it may well exist.
pub(crate) fn no_spc(cx: &Ctx, link: &mut Link) {
    if !spc_unread(cx, link) {
        set(link, Status::Pending, "no SPC");
    }
}

/// The chain names a SecretProviderClass that could not be read: marks the link unknown with
/// the reason and says so.
pub(crate) fn spc_unread(cx: &Ctx, link: &mut Link) -> bool {
    match cx.snap().spcs.unknown_in(cx.ns()) {
        Some(reason) if cx.spc.is_none() && !cx.spc_name.is_empty() => {
            unknown(link, "SPC unknown", reason);
            true
        }
        _ => false,
    }
}

/// Fold classified mount/sync events into the links they break.
///
/// Only current evidence counts: an event older than the chain's latest success signal (or a
/// rotation failure that stopped recurring) is history, kept as a fact on the link it once
/// broke ([`history`]).
///
/// Returns whether a current FailedMount was folded in: the mount failed, so the pod is no
/// longer merely on its way to one.
pub(crate) fn apply_events(cx: &Ctx, links: &mut [Link]) -> bool {
    if cx.events.is_empty() {
        return false; // most chains: no success signals to gather
    }
    let signals = history::Signals::of(cx);
    // Decided before any event adds findings: "clean" means the objects showed no problem.
    // Per event: whether it is current, and whether it only restates an earlier failure.
    let current: Vec<(bool, bool)> = cx
        .events
        .iter()
        .map(|(code, e)| {
            let link = code.map_or(LinkKind::Mount, |c| c.link());
            let clean = links[link.index()].findings.is_empty();
            let now = match signals
                .past(e, clean)
                .or_else(|| superseded(cx, *code, e))
                .or_else(|| history::firewall_open_now(cx, *code, e, clean))
            {
                Some(why) => {
                    history::record(&mut links[link.index()], *code, e, why);
                    false
                }
                None => e.type_ != "Normal",
            };
            (now, now && events::is_followup(&e.message))
        })
        .collect();
    let has_cause = current.iter().any(|&(now, followup)| now && !followup);
    // Links whose objects were read and showed nothing wrong, before any event is folded in.
    let seen_fine = LinkKind::ALL.map(|l| objects_look_right(cx, &links[l.index()]));
    let spc_objects_fine = spc_objects_validate(cx, &links[LinkKind::Mount.index()]);
    let mut blocked_by: Option<LinkKind> = None;
    let unrendered = cx
        .params
        .as_deref()
        .map_or_else(Vec::new, |p| auth_params::unrendered_values(p, cx.spc));
    // The kubelet's generic timeout names no cause (FACTS §3): with none among the events,
    // a cause the objects show up to the Mount link is what it restates.
    let structural = followup::structural_cause(links);
    for ((code, e), &(now, followup)) in cx.events.iter().zip(&current) {
        if !now || (has_cause && followup) {
            continue;
        }
        if followup && let Some(l) = structural {
            followup::fold(&mut links[l.index()], e);
            blocked_by = Some(blocked_by.map_or(l, |b| b.min(l)));
            continue;
        }
        let code = match code {
            Some(c) => resolve(cx, *c, e),
            None if e.type_ == "Normal" => continue,
            None => Code::KVC701,
        };
        let evidence = event_evidence(e);
        // An event that proves what the Identity link read from the SPC (an unrendered value,
        // an invalid tenant) is that finding's evidence, not a second cause.
        if identity_proof::fold(
            cx,
            &mut links[LinkKind::Identity.index()],
            code,
            e,
            &evidence,
            &unrendered,
        ) {
            if e.reason == "FailedMount" {
                blocked_by =
                    Some(blocked_by.map_or(LinkKind::Identity, |b| b.min(LinkKind::Identity)));
            }
            continue;
        }
        // A 403 or 404 for an object under the objectType the SPC asks, which the vault holds
        // under another type: the wrong objectType (KVC601 on the Object link) is the cause,
        // and the refusal for the type asked is its proof, not a missing grant.
        if matches!(code, Code::KVC501 | Code::KVC601)
            && let Some(f) = wrong_type_of(cx, &mut links[LinkKind::VaultObject.index()], e)
        {
            if !f.evidence.iter().any(|known| **known == *evidence) {
                f.evidence.push(evidence.into());
            }
            if e.reason == "FailedMount" {
                blocked_by = Some(
                    blocked_by.map_or(LinkKind::VaultObject, |b| b.min(LinkKind::VaultObject)),
                );
            }
            continue;
        }
        let link = &mut links[code.link().index()];
        // The driver failing to build a synced Secret the SPC's secretObjects already say it
        // cannot build (KVC804's tls keys, KVC801's file, a type's required key): the event
        // is that cause's proof (one symptom, one cause), not a KVC806 of its own.
        if code.link() == LinkKind::Sync
            && let Some(f) = sync::event_cause(cx, e).and_then(|i| link.findings.get_mut(i))
        {
            if !f.evidence.iter().any(|known| **known == *evidence) {
                f.evidence.push(evidence.into());
            }
            continue;
        }
        // A DaemonSet pod's selector or taint rejection, which the placement rule judged not
        // to be its story (`placement::daemon_pod`): no finding of its own.
        if code == Code::KVC107
            && placement::daemon_pod(cx)
            && !link.findings.iter().any(|f| f.code == code)
        {
            continue;
        }
        // A rule that found the cause from the objects owns the symptom: the event
        // corroborates it (the same code first, else the same failure seen from the rule's
        // side) and adds no second, contradictory cause.
        let known = link
            .findings
            .iter()
            .position(|f| f.code == code)
            .or_else(|| {
                link.findings
                    .iter()
                    .position(|f| same_failure(f.code, code))
            });
        if let Some(f) = known.map(|i| &mut link.findings[i]) {
            if !f.evidence.iter().any(|known| **known == *evidence) {
                f.evidence.push(evidence.into());
            }
            federation::quote_event_code(f, &e.message);
        } else {
            let mut f = remedy::from_event(cx, code, e, evidence);
            // The Mount link's one code about what kvchain reads is KVC705 (the SPC's
            // objects); an unclassified FailedMount (KVC701) names nothing kvchain can check,
            // so it is never shown right and stays as it is.
            let fine = match code {
                Code::KVC705 => spc_objects_fine,
                // No answer at all: the DNS zone and the route are not what kvchain reads.
                _ if remedy::network::is_unanswered(&e.message) => false,
                _ => seen_fine[code.link().index()],
            };
            if fine {
                contradicted(&mut f, code.link());
                // Settled now, so the link does not read as the code's cause ("no FIC
                // matches") over objects that show none: the attempt failed, the next tells.
                link.status = f.severity.status();
                link.summary = Text::const_new(CONTRADICTED);
            }
            link.findings.push(f);
        }
        if e.reason == "FailedMount" {
            blocked_by = Some(blocked_by.map_or(code.link(), |b| b.min(code.link())));
        }
    }
    let Some(cause) = blocked_by else {
        return false;
    };
    let mount = &mut links[LinkKind::Mount.index()];
    if cause != LinkKind::Mount && mount.status < Status::Broken {
        mount.status = Status::Broken;
        mount.summary = compact_str::format_compact!("blocked: {}", cause.title());
    }
    // The kubelet starts no container before its volumes mount: nothing in this pod reads
    // the synced Secret yet, even one a running sibling had built.
    let consumers = &mut links[LinkKind::Consumers.index()];
    if consumers.status == Status::Ok && consumers.findings.is_empty() {
        consumers.status = Status::Pending;
        consumers.summary = compact_str::format_compact!("blocked: {}", cause.title());
    }
    true
}

/// An object's failure that a newer failure of the same object contradicts: a 404 (not
/// found) followed by 403s for a disabled version proves the object exists again (FACTS §11:
/// events are history). Returns why the older one is history.
fn superseded(cx: &Ctx, code: Option<Code>, e: &crate::snapshot::EventObs) -> Option<String> {
    let code = code?;
    let seen = e.last_seen?;
    // A later answer from Key Vault (a 403 or a 404) means the token exchange got through:
    // an earlier sign-in or federation failure, or an earlier 403 before a 404, is history.
    // Key Vault applies its network rules before the caller's grants: a later refusal for
    // want of a grant got past the firewall, so an earlier firewall refusal (or a request
    // that got no answer) is history too.
    if code.link() < LinkKind::VaultObject {
        let past_network =
            |c: Code| code == Code::KVC505 && c.link() == LinkKind::Access && c != Code::KVC505;
        let (later_code, later) = cx.events.iter().find(|(c, later)| {
            c.is_some_and(|c| {
                (c.link() > code.link()
                    && matches!(c.link(), LinkKind::Access | LinkKind::VaultObject))
                    || past_network(c)
            }) && later.type_ != "Normal"
                && later.last_seen.is_some_and(|t| t > seen)
        })?;
        let past = if later_code.is_some_and(past_network) {
            "the vault's network rules: Key Vault refused it for want of a grant".to_string()
        } else {
            format!("the {} link: Key Vault answered", code.link().title())
        };
        return Some(format!(
            "a later {} ({}) got past {past}",
            later.reason,
            later
                .last_seen
                .map_or_else(String::new, crate::glance::time),
        ));
    }
    let code = Some(code).filter(|c| c.link() == LinkKind::VaultObject)?;
    let name = events::object_name(&e.message)?;
    let (_, later) = cx.events.iter().find(|(c, later)| {
        c.is_some_and(|c| c != code && c.link() == LinkKind::VaultObject)
            && later.type_ != "Normal"
            && later.last_seen.is_some_and(|t| t > seen)
            && events::object_name(&later.message) == Some(name)
    })?;
    Some(format!(
        "a later {} for {name} ({}) says otherwise",
        later.reason,
        later
            .last_seen
            .map_or_else(String::new, crate::glance::time)
    ))
}

/// The Object link's KVC601 saying that the object an event failed on (`failed to get
/// objectType:<t>, objectName:<n>`) exists under another type than `<t>`.
fn wrong_type_of<'l>(
    cx: &Ctx,
    object: &'l mut Link,
    e: &crate::snapshot::EventObs,
) -> Option<&'l mut Finding> {
    let name = events::object_name(&e.message)?;
    let t = events::object_type(&e.message)?;
    let p = cx.params.as_deref()?;
    let index = p
        .objects
        .iter()
        .find(|o| o.object_name == name && o.object_type == Some(t))?
        .index;
    let marker = format!("objects[{index}] {}", vault_object::WRONG_TYPE);
    object
        .findings
        .iter_mut()
        .find(|f| f.code == Code::KVC601 && f.message.contains(&marker))
}

/// Whether the link's own objects were read and show nothing wrong: the identity's
/// credentials, the vault's grants, the object (not "proven by mount", which read none).
fn objects_look_right(cx: &Ctx, link: &Link) -> bool {
    let read = match link.link {
        LinkKind::Federation => cx.identity.is_some_and(|i| {
            matches!(i.federated_credentials, crate::snapshot::Observed::Known(_))
        }),
        LinkKind::Access => cx.vault.is_some() && cx.azure().role_assignments.gaps.all.is_none(),
        LinkKind::VaultObject => cx.vault.is_some(),
        _ => false,
    };
    read && link.status == Status::Ok
        && link.findings.is_empty()
        && link.summary != "proven by mount"
}

/// Whether the SPC's `objects` parameter was read and parses and validates now (no static
/// KVC705 or KVC706 on the Mount link): what a KVC705 event (the provider rejecting them) is
/// about.
fn spc_objects_validate(cx: &Ctx, mount: &Link) -> bool {
    cx.params
        .as_deref()
        .is_some_and(|p| !p.problems.iter().any(|pr| pr.field.starts_with("objects")))
        && !mount
            .findings
            .iter()
            .any(|f| matches!(f.code, Code::KVC705 | Code::KVC706))
}

/// The summary of a link whose current failure event its objects contradict.
pub const CONTRADICTED: &str = "failed, now looks right";

/// A current failure event on a link whose objects now look right: either they changed after
/// it (a repair the next attempt will prove) or the cause is something kvchain does not read.
/// The event's own explanation (a credential "not visible", a role "missing") would contradict
/// what is shown, and its fix would create what exists: say what is known instead.
fn contradicted(f: &mut Finding, link: LinkKind) {
    // When and how (a pod's FailedMount, another's MountRotationFailed) is the evidence: the
    // message stays one for every pod failing the same way, so the report shows it once.
    f.message = format!(
        "a recent attempt failed (see the event), but what kvchain reads for the {} link looks right now: it changed after that (the next rotation poll or mount retry will tell), or the cause is something kvchain does not read",
        link.title()
    )
    .into();
    f.fix = format!(
        "# nothing to change in what kvchain reads: wait for the next attempt; if it fails again: {}",
        f.confirm
    )
    .into();
}

/// The code an event's classification stands for in this chain. A vault request with no
/// answer is a name no vault has when its host does not resolve and none of the vaults read
/// has it (KVC506), else the network (KVC505). AADSTS700016 ("application
/// not found in the directory") means a wrong clientID only while no identity with that
/// clientID is known and the tenant asked is the cluster's; a known identity, or a tenant
/// asked that is not the cluster's, says the SPC's tenantID is wrong (KVC404, FACTS §11).
fn resolve(cx: &Ctx, code: Code, e: &crate::snapshot::EventObs) -> Code {
    match code {
        Code::KVC301
            if cx.identity.is_some() || remedy::foreign_tenant(cx, &e.message).is_some() =>
        {
            Code::KVC404
        }
        // A vault host that does not resolve, named by no vault read: the name (FACTS §11).
        // A timeout is not: the public name resolved, so the vault exists somewhere.
        Code::KVC505
            if events::unreached_vault(&e.message).is_some_and(|u| {
                u.how == events::Unreached::Dns && remedy::network::names_no_vault(cx, u.vault)
            }) =>
        {
            Code::KVC506
        }
        c => c,
    }
}

/// Two codes that name one failure seen from two sides: the event's message (`event`) and a
/// rule reading the objects (`rule`), which knows which field or grant is wrong.
fn same_failure(rule: Code, event: Code) -> bool {
    use Code::*;
    let family = |c: Code| match c {
        // AADSTS70021 and its successors: one of issuer / subject / audience differs.
        KVC401 | KVC402 | KVC403 | KVC405 => 1,
        // The tenant asked does not know the client, or the vault refuses the tenant.
        KVC404 | KVC406 => 2,
        // Key Vault 403 for want of a grant.
        KVC501 | KVC502 | KVC503 => 3,
        // The driver cannot build the synced Secret from the mounted files.
        KVC801 | KVC804 => 4,
        _ => 0,
    };
    rule == event || (family(rule) != 0 && family(rule) == family(event))
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

/// Mark downstream effects of the chain's first broken link: they say what they follow from
/// and a link holding nothing else reads "blocked" like the mount link does. Runs after the
/// links are settled. `starting`: the pod is on its way to its first mount with no failure
/// (see [`sync::awaiting_mount`]). `object_typos`: the messages of the KVC801 findings that
/// only repeat a typo in `objects` ([`sync::object_typos`]): they follow the Object link's
/// cause; any other KVC801 is a cause of its own.
///
/// `present`: the chain's synced Secrets that exist now (a finding waiting on the cause says
/// whether the Secret is missing or there but not right).
/// A finding that is a cause of its own (an error, or a code that blocks what follows), not
/// an effect of another or a finding said beside one.
fn is_cause(f: &Finding) -> bool {
    f.follows.is_none()
        && (f.severity == Severity::Error || BLOCKING.contains(&f.code))
        && !EFFECTS.contains(&f.code)
        && !BESIDE.contains(&f.code)
}

pub(crate) fn mark_effects(
    links: &mut [Link],
    starting: bool,
    object_typos: &[SharedText],
    present: &[&str],
) {
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
            follow(f, LinkKind::VaultObject, cause, true, present);
        }
    }
    let root = links.iter().find_map(|l| {
        let f = l.findings.iter().find(|f| is_cause(f))?;
        Some((l.link, f.code))
    });
    if let Some((root, cause)) = root {
        for link in links.iter_mut().filter(|l| l.link > root) {
            effects_of(link, root, cause, present);
        }
        other_volume::follow_own_cause(&mut links[LinkKind::Pod.index()], root, cause);
    }
    sync::awaiting_mount(links, starting);
    for link in links.iter_mut() {
        drawn_as_followed(link);
    }
}

/// Mark the findings of `link` that follow `root`'s cause `cause`.
fn effects_of(link: &mut Link, root: LinkKind, cause: Code, present: &[&str]) {
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
    // A vault no name resolves to (KVC506) has no objects to read: the object is not
    // unknown, it was never reachable.
    if cause == Code::KVC506 && link.link == LinkKind::VaultObject && link.status == Status::Unknown
    {
        link.status = Status::Pending;
        link.summary = compact_str::format_compact!("blocked: {}", root.title());
    }
    for f in link.findings.iter_mut().filter(|f| f.follows.is_none()) {
        let effect = EFFECTS.contains(&f.code);
        if effect || f.code == Code::KVC903 {
            follow(f, root, cause, effect, present);
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
    let waiting = unseen
        || link.status == Status::Pending
            && (link.summary.starts_with("blocked: ")
                || (link.link == LinkKind::Mount && mount::WAITING.contains(&&*link.summary)));
    if waiting {
        link.summary = compact_str::format_compact!("blocked: {}", root.title());
    }
}

/// Mark finding `f` as following `root`'s cause `cause`: it says so and its fix points there.
/// `effect`: a product missing or old downstream (its own fix, deleting a Secret or a pod,
/// cannot work while the cause holds); else a finding whose own fix comes after (KVC903).
fn follow(f: &mut Finding, root: LinkKind, cause: Code, effect: bool, present: &[&str]) {
    f.follows = Some(root);
    f.message = format!("blocked by {}: {}", root.title(), f.message).into();
    f.fix = if effect {
        // A new mount fails the same way, and a running replica would be lost.
        format!(
            "# fix {cause} ({}) first: the next rotation poll or mount then refreshes this",
            root.title()
        )
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
            format!(
                "# fix {cause} ({}) first: no pod has the Secret until the mount succeeds; then: {}",
                root.title(),
                f.fix
            )
        }
    }
    .into();
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
        // Only a status the findings decided (not a rule's own unknown, say) is redrawn.
        Some(own) if Some(link.status) == all && own.severity.status() < link.status => {
            link.status = own.severity.status();
            link.summary = Text::const_new(super::catalog::short(own.code));
        }
        Some(_) => {}
    }
}
