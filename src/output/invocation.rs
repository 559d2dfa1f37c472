//! SARIF `invocations[0]`: what the run could not read, as tool execution notifications.
//!
//! Code scanning reads a run with no results as "nothing wrong". When pods or
//! SecretProviderClasses could not be read, chains may be missing, so an empty `results` is no
//! verdict: each gap becomes a notification (kind, where, why) — `error` when chains may be
//! missing, `warning` when links that depend on it are unknown, `note` when nothing failed (the
//! source cannot hold it, or `--no-azure` asked not to look) — and `executionSuccessful` is
//! false when an error-level notification is present. Inputs that could not be read are errors
//! too: they are left out of every verdict. So is a chain without a verdict (a pod stuck past
//! its mount's time with the events that would say why unread: `check` exits 3, UNDETERMINED):
//! one `undetermined` error each, or its empty `results` would read as a clean bill.

use std::collections::BTreeMap;

use serde_json::json;
use serde_sarif::sarif::{
    Invocation, Location, LogicalLocation, Message, MultiformatMessageString, Notification,
    PropertyBag, ReportingConfiguration, ReportingDescriptor, ReportingDescriptorReference,
};

use crate::chain::{Chain, LinkKind};
use crate::shown::shown;
use crate::snapshot::{Gap, Snapshot};

/// The notification kinds, in `tool.driver.notifications` order (descriptors refer by index).
#[derive(Clone, Copy)]
enum Kind {
    Incomplete,
    UnknownLinks,
    NotObserved,
    UnreadInput,
    /// Last, so the indexes of the others stay as they were.
    Undetermined,
}

const KINDS: [Kind; 5] = [
    Kind::Incomplete,
    Kind::UnknownLinks,
    Kind::NotObserved,
    Kind::UnreadInput,
    Kind::Undetermined,
];

impl Kind {
    fn id(self) -> &'static str {
        match self {
            Kind::Incomplete => "incomplete",
            Kind::UnknownLinks => "unknown-links",
            Kind::NotObserved => "not-observed",
            Kind::UnreadInput => "unread-input",
            Kind::Undetermined => "undetermined",
        }
    }
    fn level(self) -> &'static str {
        match self {
            Kind::Incomplete | Kind::UnreadInput | Kind::Undetermined => "error",
            Kind::UnknownLinks => "warning",
            Kind::NotObserved => "note",
        }
    }
    fn text(self) -> &'static str {
        match self {
            Kind::Incomplete => {
                "Pods, SecretProviderClasses, workloads or Ingresses could not be read: chains behind the gap may be missing, so no result there means unknown, not healthy."
            }
            Kind::UnknownLinks => {
                "Something could not be read: the links that depend on it are unknown, not ok."
            }
            Kind::NotObserved => {
                "Not observed by this source (manifests hold no run-time state) or by choice (--no-azure): the links that depend on it are unknown."
            }
            Kind::UnreadInput => {
                "An input document could not be read: it is left out of every result."
            }
            Kind::Undetermined => {
                "A pod has not started long after its mount was due and no event that could be read says why: its chain has no verdict, so no result there means unknown, not healthy."
            }
        }
    }
    /// Its place in [`KINDS`], which lists the variants in declaration order.
    fn index(self) -> i64 {
        self as i64
    }
}

/// `tool.driver.notifications`: one descriptor per notification kind.
pub fn descriptors() -> Vec<ReportingDescriptor> {
    KINDS
        .iter()
        .map(|k| {
            ReportingDescriptor::builder()
                .id(k.id())
                .short_description(MultiformatMessageString::builder().text(k.text()).build())
                .default_configuration(
                    ReportingConfiguration::builder()
                        .level(json!(k.level()))
                        .build(),
                )
                .build()
        })
        .collect()
}

/// The run's one invocation: every gap, unread input and chain without a verdict, and whether
/// the run saw enough to stand for the cluster.
pub fn invocation(snapshot: &Snapshot, gaps: &[Gap], chains: &[Chain]) -> Invocation {
    let mut notes: Vec<Notification> = gaps.iter().map(gap_notification).collect();
    notes.extend(
        chains
            .iter()
            .filter(|c| crate::chain::waits_unexplained(c))
            .map(undetermined_notification),
    );
    notes.extend(snapshot.source.unread.iter().map(|u| {
        let u = shown(u);
        notification(
            Kind::UnreadInput,
            format!("Not read (left out of every result): {u}"),
            BTreeMap::from([("input".to_string(), json!(u))]),
            None,
        )
    }));
    let successful = !notes
        .iter()
        .any(|n| n.level.as_ref().is_some_and(|l| l == "error"));
    Invocation::builder()
        .execution_successful(successful)
        .tool_execution_notifications(notes)
        .build()
}

/// A chain whose pod waits for its mount with its cause unread: no verdict on it (the Mount
/// link's facts say why, the events gap's reason first).
fn undetermined_notification(c: &Chain) -> Notification {
    let mount = c.link(LinkKind::Mount);
    let reasons: Vec<String> = mount
        .facts
        .iter()
        .filter(|f| f.label == "unknown")
        .map(|f| shown(&f.observed).into_owned())
        .collect();
    let props = BTreeMap::from([
        ("chain".to_string(), json!(shown(&c.id))),
        ("namespace".to_string(), json!(shown(&c.namespace))),
        ("pod".to_string(), json!(shown(&c.pod))),
        ("reasons".to_string(), json!(reasons)),
    ]);
    notification(
        Kind::Undetermined,
        format!(
            "Undetermined: pod {}/{} has not started long after its mount was due, and no event that could be read says why ({}). Chain {} has no verdict: no result for it means unknown, not healthy.",
            shown(&c.namespace),
            shown(&c.pod),
            reasons.join("; "),
            shown(&c.id)
        ),
        props,
        Some((c.namespace.as_str(), "namespace")),
    )
}

fn gap_notification(g: &Gap) -> Notification {
    let kind = if g.hides_chains() {
        Kind::Incomplete
    } else if g.chosen {
        Kind::NotObserved
    } else {
        Kind::UnknownLinks
    };
    let consequence = match kind {
        Kind::Incomplete => {
            "Chains behind it may be missing: no result there means unknown, not healthy"
        }
        _ => "Links that depend on it are unknown, not ok",
    };
    let name = |v: &Option<String>| json!(v.as_deref().map(shown));
    let props = BTreeMap::from([
        ("kind".to_string(), json!(g.kind)),
        ("namespace".to_string(), name(&g.namespace)),
        ("vault".to_string(), name(&g.vault)),
        ("identity".to_string(), name(&g.identity)),
        ("object".to_string(), name(&g.object)),
        ("reason".to_string(), json!(shown(&g.reason))),
        ("hidesChains".to_string(), json!(g.hides_chains())),
    ]);
    // Where, for viewers that group by location: the namespace (or vault, or identity) it
    // covers.
    let place = match (&g.namespace, &g.vault, &g.identity) {
        (Some(ns), ..) => Some((ns.as_str(), "namespace")),
        (None, Some(v), _) => Some((v.as_str(), "vault")),
        (None, None, Some(i)) => Some((i.as_str(), "identity")),
        (None, None, None) => None,
    };
    notification(
        kind,
        format!("Not visible: {}. {consequence}.", g.describe()),
        props,
        place,
    )
}

fn notification(
    kind: Kind,
    text: String,
    props: BTreeMap<String, serde_json::Value>,
    place: Option<(&str, &str)>,
) -> Notification {
    let mut n = Notification::builder()
        .descriptor(
            ReportingDescriptorReference::builder()
                .id(kind.id())
                .index(kind.index())
                .build(),
        )
        .level(json!(kind.level()))
        .message(Message::builder().text(text).build())
        .properties(PropertyBag::builder().additional_properties(props).build())
        .build();
    if let Some((name, what)) = place {
        let name = shown(name);
        n.locations = Some(vec![
            Location::builder()
                .logical_locations(vec![
                    LogicalLocation::builder()
                        .name(name.to_string())
                        .fully_qualified_name(name.to_string())
                        .kind(what)
                        .build(),
                ])
                .build(),
        ]);
    }
    n
}
