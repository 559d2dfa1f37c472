//! Which mount/sync events are still current evidence and which are history (FACTS §11
//! "Evidence ages"). Events outlive the state they describe by an hour (the API server's event
//! TTL): a link's status comes from the newest evidence, so a failure older than the latest
//! success signal for the same pod and SecretProviderClass no longer counts.
//!
//! Success signals: the SPCPS written or updated (a mount or a rotation succeeded), a container
//! started (kubelet starts none before its volumes are mounted), a later
//! `MountRotationComplete` / `SecretRotationComplete`, a synced Secret written. A recovered
//! rotation often leaves no success event at all (v1.6 has none; `MountRotationComplete` only
//! when versions change), so a rotation failure that stopped recurring for two poll intervals,
//! with rotation on and the link's own checks passing, is history too. With rotation off no
//! attempt follows a rotation failure at all: on a mounted pod whose link checks pass it is
//! history, and what it left (a mount behind the vault) is KVC703's to say.

use std::time::Duration;

use jiff::Timestamp;

use crate::chain::catalog::Code;
use crate::chain::context::{Ctx, event_evidence};
use crate::chain::index::Clock;
use crate::chain::model::{Fact, Link};
use crate::glance;
use crate::snapshot::{ContainerStateObs, EventObs, PodObs};

/// The newest success signals of one chain, gathered once per chain.
pub(crate) struct Signals<'a> {
    clock: Clock<'a>,
    /// The SPCPS says mounted: kubelet's earlier FailedMount retries ended in success.
    mounted: bool,
    /// The SPCPS list could not be read: whether the pod mounted is not known from it.
    status_unread: bool,
    /// The SPCPS was last written (created on mount, updated on rotation).
    status_written: Option<Timestamp>,
    /// The latest start of a (non-init) container of the pod.
    started: Option<Timestamp>,
    /// The latest rotation-complete event for this pod and SPC.
    rotated: Option<Timestamp>,
    /// The oldest last write among this SPC's synced Secrets (None if one is missing).
    synced: Option<Timestamp>,
    /// Rotation is on, with this poll interval (None: off or unknown).
    rotation_poll: Option<Duration>,
    /// Rotation is known to be off: nothing re-fetches a mounted volume (FACTS §4).
    rotation_off: bool,
    /// The node the pod is bound to: a FailedScheduling before it is past.
    node: Option<&'a str>,
    /// This SPC's synced Secrets that do not exist (read and absent).
    absent_secrets: Vec<&'a str>,
    /// For a template's FailedCreate events: the newest pod the refusing controller created
    /// after the event (audit RR1).
    created_since: Vec<(&'a EventObs, &'a PodObs)>,
}

impl<'a> Signals<'a> {
    pub fn of(cx: &Ctx<'a>) -> Self {
        let status_written = cx.status.filter(|s| s.mounted).and_then(|s| s.updated_at);
        let started = cx
            .pod
            .containers
            .iter()
            .filter(|c| !c.init)
            .filter_map(|c| match &c.state {
                ContainerStateObs::Running { started_at } => Some(*started_at),
                _ => None,
            })
            .max();
        let secrets: Vec<&str> = cx
            .spc
            .map(|s| {
                s.secret_objects
                    .iter()
                    .map(|o| o.secret_name.as_str())
                    .collect()
            })
            .unwrap_or_default();
        let rotated = cx
            .events
            .iter()
            .map(|(_, e)| *e)
            .filter(|e| is_rotation_success(e, &secrets))
            .filter_map(|e| e.last_seen)
            .max();
        let synced = if secrets.is_empty() {
            None
        } else {
            secrets
                .iter()
                .map(|name| {
                    cx.ix
                        .secrets
                        .get(&(cx.ns(), *name))
                        .and_then(|s| s.updated_at.or(s.created_at))
                })
                .collect::<Option<Vec<_>>>()
                .and_then(|times| times.into_iter().min())
        };
        // Secrets unread: none is known absent.
        let secrets_read = cx.snap().secrets.unknown_in(cx.ns()).is_none();
        let absent_secrets = (secrets.iter().copied())
            .filter(|name| secrets_read && !cx.ix.secrets.contains_key(&(cx.ns(), *name)))
            .collect();
        let rotation_poll = super::remedy::rotation_poll(cx);
        let rotation_off = super::remedy::rotation_off(cx);
        let created_since = (cx.events.iter())
            .filter(|(_, e)| e.reason == "FailedCreate")
            .filter_map(|(_, e)| Some((*e, cx.ix.created_since(e)?)))
            .collect();
        Signals {
            clock: cx.ix.clock(),
            mounted: cx.mounted(),
            status_unread: cx.snap().spc_statuses.unread_in(cx.ns()).is_some(),
            status_written,
            started,
            rotated,
            synced,
            absent_secrets,
            rotation_poll,
            rotation_off,
            node: cx.pod.node.as_deref(),
            created_since,
        }
    }

    /// Why `e` is history (the newer success signal), or None while it is current evidence.
    /// `link_clean`: the link the event would break has no finding from the objects.
    pub fn past(&self, e: &EventObs, link_clean: bool) -> Option<String> {
        if e.type_ == "Normal" {
            return None;
        }
        let newer = |t: Option<Timestamp>| match (t, e.last_seen) {
            (Some(t), Some(seen)) => (seen < t).then_some(t),
            _ => None,
        };
        let mount_ok = || {
            newer(self.status_written)
                .map(|t| format!("SPCPS written at {}", glance::time(t)))
                .or_else(|| {
                    newer(self.rotated)
                        .map(|t| format!("rotation completed at {}", glance::time(t)))
                })
        };
        match e.reason.as_str() {
            "FailedScheduling" => self
                .node
                .map(|n| format!("the pod is scheduled now, on node {n}")),
            "FailedMount" => {
                // A failure newer than the status's last write is never history: the SPCPS
                // may say mounted from before it (a re-publish that failed after the mount).
                let after_write =
                    matches!((self.status_written, e.last_seen), (Some(w), Some(seen)) if seen > w);
                if self.mounted && !after_write {
                    return Some("the volume is mounted now (SPCPS mounted: true)".into());
                }
                mount_ok().or_else(|| {
                    newer(self.started).map(|t| format!("container started at {}", glance::time(t)))
                })
            }
            "MountRotationFailed" | "SecretRotationFailed" => mount_ok()
                .or_else(|| {
                    newer(self.synced)
                        .map(|t| format!("synced Secret written at {}", glance::time(t)))
                })
                .or_else(|| self.stopped(e, link_clean))
                .or_else(|| self.never_retried(link_clean)),
            // The controller that was refused created a pod after it: the create was retried
            // and admitted (the Job path reads the same, `rules::finished_job`).
            "FailedCreate" => (self.created_since.iter())
                .find(|(x, _)| std::ptr::eq(*x, e))
                .map(|(_, p)| {
                    let at = (p.created_at)
                        .map(|t| format!(", at {}", glance::time(t)))
                        .unwrap_or_default();
                    // A newer ReplicaSet of the Deployment made the pod (audit UU1): the
                    // refused template was replaced, and the new one admitted.
                    let newer = (p.owners.iter())
                        .find(|o| o.kind == "ReplicaSet" && o.name != e.involved_name);
                    match newer {
                        Some(o) if e.involved_kind == "ReplicaSet" => format!(
                            "ReplicaSet {} was superseded: the Deployment's newer ReplicaSet {} created pod {} after it{at}: the new template was admitted",
                            e.involved_name, o.name, p.name
                        ),
                        _ => format!(
                            "{} {} created pod {} after it{at}: the create was retried and admitted",
                            e.involved_kind, e.involved_name, p.name
                        ),
                    }
                }),
            // A rotation completing says nothing of a Secret still missing (a
            // MountRotationComplete is the mount's): while the Secret the event names (any,
            // when it names none) is absent, only that Secret's write makes it history (audit
            // RR3), else one event is both history and the missing Secret's evidence.
            "FailedToCreateSecret" => newer(self.synced)
                .map(|t| format!("synced Secret written at {}", glance::time(t)))
                .or_else(|| {
                    let named = crate::chain::events::secret_name(&e.message);
                    let absent =
                        (self.absent_secrets.iter()).any(|s| named.is_none_or(|n| n == *s));
                    (!absent)
                        .then(|| newer(self.rotated))
                        .flatten()
                        .map(|t| format!("rotation completed at {}", glance::time(t)))
                }),
            _ => None,
        }
    }

    /// A rotation failure that has not recurred for two poll intervals while rotation runs.
    fn stopped(&self, e: &EventObs, link_clean: bool) -> Option<String> {
        let poll = self.rotation_poll?;
        let seen = e.last_seen?;
        let quiet = jiff::SignedDuration::try_from(poll * 2).ok()?;
        // Past once the clock reaches `seen + quiet`, not only beyond it: a failure recorded
        // by a poll is two intervals old when the poll after the next one runs, and that poll
        // not failing again is the signal (an SPC without secretObjects whose versions did
        // not change leaves no success event at all). Strictly later, a repaired chain read
        // broken until a second after that poll, past "within one poll after the next
        // successful rotation" (FACTS §11). The message does not name the time.
        let due = seen
            .checked_add(quiet)
            .and_then(|t| t.checked_sub(jiff::SignedDuration::from_nanos(1)));
        let past = link_clean && due.is_ok_and(|t| self.clock.after(t));
        past.then(|| {
            format!(
                "not repeated since {} (rotation polls every {}s)",
                glance::time(seen),
                poll.as_secs()
            )
        })
    }
}

impl Signals<'_> {
    /// A rotation failure while rotation is off now: nothing retries it (FACTS §4: with
    /// rotation off an already-mounted path is never re-fetched), so waiting for "the next
    /// attempt" would wait forever. What it left is read from the mount itself: the SPCPS's
    /// versions against the vault's latest (KVC703, whose fix remounts). Only for a pod whose
    /// SPCPS says mounted (else that comparison has nothing to read) and a link whose own
    /// checks pass (else the event is its structural finding's evidence).
    /// With the SPCPS list unread, a started container proves the mount instead (the kubelet
    /// starts none before its volumes mount).
    fn never_retried(&self, link_clean: bool) -> Option<String> {
        let mounted = self.mounted || (self.status_unread && self.started.is_some());
        (self.rotation_off && mounted && link_clean).then(|| {
            "rotation is off now, so nothing retries it: whether the mount missed a version is read from the mount's versions".to_string()
        })
    }
}

/// Why a firewall refusal (KVC505 answered by Key Vault, not a request that got no answer) is
/// not current evidence: the vault's network rules as read now let the cluster through, and
/// the Access link holds a finding from its objects that explains the failures now (a missing
/// grant: one symptom, one cause). On a link that otherwise looks right the refusal stays a
/// finding that says it failed and now looks right (`rules::contradicted`): nothing else
/// explains it until the next attempt tells.
pub(crate) fn firewall_open_now(
    cx: &Ctx,
    code: Option<Code>,
    e: &EventObs,
    link_clean: bool,
) -> Option<String> {
    if code != Some(Code::KVC505) || link_clean {
        return None;
    }
    // No answer at all (DNS, a private endpoint): the network rules are not what failed.
    if crate::chain::events::unanswered(&e.message) {
        return None;
    }
    let vault = cx.vault.filter(|v| super::access::network_admits(v))?;
    let n = &vault.network;
    Some(format!(
        "Key Vault {}'s network rules let the cluster through now (publicNetworkAccess: {}, networkAcls.defaultAction: {}{})",
        vault.name,
        if n.public_access {
            "Enabled"
        } else {
            "Disabled"
        },
        if n.default_deny { "Deny" } else { "Allow" },
        if n.default_deny {
            ", a rule admits the cluster's egress"
        } else {
            ""
        }
    ))
}

/// Why a Key Vault 403 for want of a grant (KVC501, KVC502, KVC503) is not current evidence:
/// it was last seen before the role assignments that let the read through now were made
/// (ARM's `createdOn`), so it was refused for want of a grant that exists now (FACTS §11,
/// evidence in time). One seen after such a grant was made stays a finding. With the reason,
/// when that grant was made.
pub(crate) fn granted_since(
    cx: &Ctx,
    code: Option<Code>,
    e: &EventObs,
) -> Option<(String, Timestamp)> {
    if !matches!(code?, Code::KVC501 | Code::KVC502 | Code::KVC503) || e.type_ == "Normal" {
        return None;
    }
    super::access::granted_after(cx, &e.message, e.last_seen?)
}

/// Why a refused token exchange (KVC401, KVC402, KVC403, KVC405: no federated credential
/// matched) is not current evidence: every credential of the identity that matches what was
/// presented (the AADSTS70021 message's issuer, subject and audience, else the chain's own)
/// was last changed after the event was last seen (ARM's `systemData.lastModifiedAt`), so it
/// was refused by a credential corrected in place since (FACTS §11, evidence in time; as
/// [`granted_since`] for a grant). One seen after the change, or a matching credential whose
/// last change is not known or came before it, stays a finding. With the reason, when.
pub(crate) fn fic_changed_since(
    cx: &Ctx,
    code: Option<Code>,
    e: &EventObs,
) -> Option<(String, Timestamp)> {
    let fic_code = matches!(
        code?,
        Code::KVC401 | Code::KVC402 | Code::KVC403 | Code::KVC405
    );
    if !fic_code || e.type_ == "Normal" {
        return None;
    }
    let seen = e.last_seen?;
    let fics = cx.identity?.federated_credentials.known()?;
    let (issuer, subject, audience) = match crate::chain::events::presented(&e.message) {
        Some(p) => (p.issuer, p.subject, p.audience),
        None => (
            cx.cluster().oidc_issuer.known()?.clone(),
            cx.subject(),
            super::remedy::AUDIENCE.to_string(),
        ),
    };
    let matching: Vec<_> = (fics.iter())
        .filter(|f| f.issuer == issuer && f.subject == subject)
        .filter(|f| f.audiences.contains(&audience))
        .collect();
    // Each one that matches now changed after the refusal: none of them matched then.
    let changed = (matching.iter())
        .map(|f| f.modified_at.filter(|&at| at > seen).map(|at| (*f, at)))
        .collect::<Option<Vec<_>>>()?;
    let (f, at) = changed.into_iter().max_by_key(|(_, at)| *at)?;
    let why = format!(
        "it predates the credential's change: {} (subject {}) was last modified at {}",
        f.name,
        f.subject,
        glance::time(at)
    );
    Some((why, at))
}

/// `MountRotationComplete` names the SPC (the chain's events are already filtered by it);
/// `SecretRotationComplete` names the synced Secret: one of this SPC's.
fn is_rotation_success(e: &EventObs, secrets: &[&str]) -> bool {
    match e.reason.as_str() {
        "MountRotationComplete" => true,
        "SecretRotationComplete" => e
            .message
            .strip_prefix("successfully rotated K8s secret ")
            .is_some_and(|name| secrets.contains(&name.trim())),
        _ => false,
    }
}

/// Keep a past event visible on the link it once broke, as history rather than a finding.
/// `<evidence> — <why>`: the TUI shows the event by its decisive line up to the last ` — `
/// ([`crate::glance::history`]).
/// Its label names the codes its message may stand for ([`alike`]), never one it cannot prove.
pub(crate) fn record(link: &mut Link, code: Option<Code>, e: &EventObs, why: String) {
    let label = match code {
        Some(c) => format!("history ({})", alike_label(c, &e.message)),
        None => "history".to_string(),
    };
    link.facts
        .push(Fact::new(label, format!("{} — {why}", event_evidence(e))));
}

/// The codes `code`'s event `message` may stand for ([`alike`]), said as one label:
/// `KVC501, KVC502 or KVC503`, or the code alone when the message tells it.
pub(crate) fn alike_label(code: Code, message: &str) -> String {
    match alike(code, message) {
        Some([first @ .., last]) => {
            let first: Vec<&str> = first.iter().map(|c| c.as_str()).collect();
            format!("{} or {last}", first.join(", "))
        }
        _ => code.to_string(),
    }
}

/// A current failure over objects that look right now (`fold_events`' "failed, now looks
/// right") keeps the code its message reads as, which the message cannot prove when it stands
/// for several ([`alike`]): the trainer's wrong-role (Crypto User for a secret, KVC502) leaves
/// a 403 that reads as a missing grant (KVC501) once the role is back. Its message says which
/// codes the event may stand for, as the history label does once it is past.
pub(crate) fn say_alike(f: &mut crate::chain::model::Finding, code: Code, message: &str) {
    if alike(code, message).is_some() {
        f.message = format!(
            "{}; its message may stand for {} (what it was refused for has changed since, so which one is not known)",
            f.message,
            alike_label(code, message)
        )
        .into();
    }
}

/// The codes a past event's message may stand for when it cannot tell one, `code` (what [`crate::chain::events::classify`]
/// read) first. Key Vault answers a grant missing (KVC501), one for another object type
/// (KVC502) and grants in the model the vault does not enforce (KVC503) with one 403
/// (`ForbiddenByRbac`, or an access policy's "does not have … permission"), and Entra one
/// AADSTS700016 for a clientID no identity has and for an identity asked of another tenant
/// (KVC301, KVC404: docs/codes.yaml gives both that upstream text). A current event is told
/// apart against the grants and identities read now; a past one cannot be, as what it was
/// refused for has changed since.
fn alike(code: Code, message: &str) -> Option<&'static [Code]> {
    match code {
        Code::KVC501 => Some(&[Code::KVC501, Code::KVC502, Code::KVC503]),
        Code::KVC301 if message.contains("AADSTS700016") => Some(&[Code::KVC301, Code::KVC404]),
        _ => None,
    }
}
