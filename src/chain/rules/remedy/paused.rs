//! Fixes that change a workload's pod template when its controller does not roll that change
//! out to the running pods by itself:
//! - a paused Deployment (`spec.paused: true`) rolls out no template change until
//!   `kubectl rollout resume` (Kubernetes docs, Deployments, "Pausing and Resuming a rollout");
//! - a StatefulSet or DaemonSet with `updateStrategy.type: OnDelete` replaces no pod when its
//!   template changes: only a pod deleted afterwards is made from the new one (Kubernetes
//!   docs, StatefulSet "Update strategies", DaemonSet "Update strategy");
//! - a StatefulSet's `rollingUpdate.partition` above 0 updates only the ordinals at or above
//!   it, and one below, even deleted, comes back at the previous revision (StatefulSet,
//!   "Partitioned rolling updates").
//!
//! A label patch, `kubectl set env`, an edit or Reloader's template change at a rotation
//! (FACTS §10) is then held back. [`hold_found`] decides it, in one place, for the fixes
//! ([`rolled_in`]) and for the Consumers link's Reloader check: such a fix says so and ends with
//! what makes it take effect (the resume; the pods deleted, as the restart plan deletes
//! them). Where the namespace's workloads could not be read, the fix says what it depends on,
//! as the restart plan does. Any other owner's fix is left as it is.

use super::ordered_wait::stuck_deleted;
use super::restart::delete_owner_pods;
use crate::chain::context::Ctx;
use crate::chain::restart_plan::Lookup;
use crate::snapshot::{PodObs, Snapshot, StrMap, WorkloadObs};

/// What keeps a change of a workload's pod template from reaching its running pods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Hold<'w> {
    /// Deployment `spec.paused`: nothing rolls out until it is resumed.
    Paused(&'w str),
    /// StatefulSet or DaemonSet (kind, name) with `updateStrategy` `OnDelete`.
    OnDelete(&'static str, &'w str),
    /// StatefulSet `rollingUpdate.partition` above 0, its `ordinals.start` (the partition
    /// counts replicas from it: ordinals from `start + partition` are updated,
    /// [`crate::snapshot::UpdateObs::updated_from`]) and its replicas when read.
    Partition {
        name: &'w str,
        partition: i32,
        start: i32,
        replicas: Option<i32>,
    },
    /// (kind, name) not observed, the namespace's workloads not read: whether one of the
    /// above holds is not known.
    Unknown(&'static str, &'w str),
}

/// [`hold_found`] for a chain's owner, found through the diagnosis's index: every chain asks (the
/// Consumers link's Reloader check), and a search of the snapshot's workloads per chain made
/// a 10,000-pod pass six times slower.
pub(crate) fn hold_in<'w>(cx: &Ctx, workload: Option<(&str, &'w str)>) -> Option<Hold<'w>> {
    let ns = cx.ns();
    hold_found(cx.snap(), ns, workload, |kind, name| {
        cx.ix.workload(ns, kind, name)
    })
}

/// What holds back a template change of `workload` in namespace `ns` (`find` looks the
/// workload up by kind and name); `None` for any owner that rolls it out (or that is not a
/// Deployment, StatefulSet or DaemonSet), or for one read as absent.
fn hold_found<'s, 'w>(
    s: &'s Snapshot,
    ns: &str,
    workload: Option<(&str, &'w str)>,
    find: impl FnOnce(&'static str, &str) -> Option<&'s WorkloadObs>,
) -> Option<Hold<'w>> {
    let (kind, name) = workload?;
    let kind = match kind {
        "Deployment" => "Deployment",
        "StatefulSet" => "StatefulSet",
        "DaemonSet" => "DaemonSet",
        _ => return None,
    };
    let found = find(kind, name);
    // Unknown is not "rolls out": said, as the restart plan says it.
    let Some(w) = found else {
        return s
            .workloads
            .unknown_in(ns)
            .map(|_| Hold::Unknown(kind, name));
    };
    if kind == "Deployment" {
        return w.paused.then_some(Hold::Paused(name));
    }
    let update = w.update.as_ref()?;
    if update.on_delete {
        return Some(Hold::OnDelete(kind, name));
    }
    match update.partition {
        Some(partition) if partition > 0 && kind == "StatefulSet" => Some(Hold::Partition {
            name,
            partition,
            start: update.start,
            replicas: w.replicas,
        }),
        _ => None,
    }
}

/// Set by Reloader on a Deployment it paused for its `pause-period` (stakater/Reloader,
/// `deployment.reloader.stakater.com/paused-at`): Reloader resumes it when the period ends.
const RELOADER_PAUSED_AT: &str = "deployment.reloader.stakater.com/paused-at";

/// What keeps Reloader's restart of `pod`'s workload (annotated `annotations`), a change of
/// its pod template at each rotation (FACTS §10), from reaching `pod`: a paused Deployment,
/// unless Reloader paused it itself for its pause-period (it resumes it); an OnDelete owner;
/// a StatefulSet's partition above `pod`'s ordinal (Kubernetes docs, StatefulSet "Partitioned
/// rolling updates": ordinals below it are not updated when the template changes), or above 0
/// for a template, which stands for every ordinal, 0 included. A pod at or above the partition
/// is restarted, and one whose ordinal its name does not tell is not said held; nor is a
/// workload not read, which has no annotations to go by.
/// `found`: the workload object, as the caller already looked it up (for its annotations).
pub(crate) fn reloader_held<'w>(
    s: &Snapshot,
    pod: &PodObs,
    workload: Option<(&str, &'w str)>,
    found: Option<&WorkloadObs>,
    annotations: &StrMap,
) -> Option<Hold<'w>> {
    let hold = hold_found(s, &pod.namespace, workload, |_, _| found);
    reloader_held_by(hold, pod, annotations)
}

/// [`reloader_held`] for a chain's owner ([`hold_in`]).
pub(crate) fn reloader_held_in<'w>(
    cx: &Ctx,
    pod: &PodObs,
    workload: Option<(&str, &'w str)>,
    annotations: &StrMap,
) -> Option<Hold<'w>> {
    reloader_held_by(hold_in(cx, workload), pod, annotations)
}

fn reloader_held_by<'w>(
    hold: Option<Hold<'w>>,
    pod: &PodObs,
    annotations: &StrMap,
) -> Option<Hold<'w>> {
    match hold? {
        Hold::Paused(_) if annotations.contains_key(RELOADER_PAUSED_AT) => None,
        h @ (Hold::Paused(_) | Hold::OnDelete(..)) => Some(h),
        h @ Hold::Partition {
            name,
            partition,
            start,
            ..
        } => below_partition(pod, name, partition, start).then_some(h),
        Hold::Unknown(..) => None,
    }
}

/// Whether `pod` of StatefulSet `name` is one its `partition` keeps from a template change:
/// its ordinal (`<name>-<ordinal>`) below `start + partition` (the controller counts the
/// partition among the replicas, from `ordinals.start`); a template, for its ordinals from
/// `start` up.
fn below_partition(pod: &PodObs, name: &str, partition: i32, start: i32) -> bool {
    if pod.template_of.is_some() {
        return partition > 0;
    }
    let from = start.saturating_add(partition);
    crate::chain::restart_plan::ordinal(name, &pod.name).is_some_and(|i| i < from)
}

fn resume(ns: &str, name: &str) -> String {
    format!("kubectl rollout resume deployment/{name} -n {ns}")
}

/// Why the template change of Deployment `name` waits for the resume, and what else resuming
/// rolls out; `resumed`: the fix's command resumes it.
fn held(ns: &str, name: &str, change: &str, resumed: bool) -> String {
    let resume = resume(ns, name);
    let then = if resumed {
        format!("so the fix resumes it ({resume})")
    } else {
        format!("until {resume}")
    };
    format!(
        "Deployment {name} is paused (spec.paused): {change} rolls out nothing while it stays paused, {then}, which also rolls out whatever other template change the pause held back"
    )
}

/// Why `change` replaces no pod of OnDelete `kind/name`: `deleted` how many of its pods the
/// fix deletes (`Some(0)`: those its template makes; `None`: the fix deletes none, `then` is
/// the step to take).
fn on_delete(kind: &str, name: &str, change: &str, deleted: Option<usize>, then: &str) -> String {
    let what = match deleted {
        Some(1) => ", so the fix deletes its pod".to_string(),
        Some(_) => ", so the fix deletes its pods (all at once: to keep serving, delete them one at a time)".to_string(),
        None => format!(": then {then}"),
    };
    format!(
        "{kind} {name} has updateStrategy OnDelete: {change} replaces no pod, only a pod deleted afterwards comes back from it{what}"
    )
}

/// Which pods of StatefulSet `name` `change` leaves as they are: the first `partition` of its
/// replicas, ordinals from `start`.
fn partitioned(
    name: &str,
    partition: i32,
    start: i32,
    replicas: Option<i32>,
    change: &str,
) -> String {
    let kept = "the old template, even deleted and re-created, until the partition is lowered";
    let below = match replicas {
        Some(r) if partition >= r => format!(", none of its {r}: they all keep {kept}"),
        Some(r) => format!(
            "; {} {} {kept}",
            super::restart::ordinals_said(name, start, partition.min(r)),
            if partition.min(r) == 1 {
                "keeps"
            } else {
                "keep"
            }
        ),
        None => format!("; the ones below keep {kept}"),
    };
    let (said, from) = (
        crate::chain::restart_plan::partition_said(partition, start),
        start.saturating_add(partition),
    );
    format!(
        "StatefulSet {name} has {said}: {change} reaches only its pods with ordinal {from} or above{below}"
    )
}

/// What the fix cannot tell about a workload not read (the restart plan's words).
fn unknown(ns: &str, kind: &str, name: &str, change: &str) -> String {
    if kind == "Deployment" {
        return format!(
            "{change} rolls out unless Deployment {name} is paused: that is not known (Deployments not read), and a paused Deployment rolls out no template change until {}",
            resume(ns, name)
        );
    }
    format!(
        "{kind} {name}'s updateStrategy is not known (not observed): under OnDelete, or a partition above a pod's ordinal, {change} replaces no pod"
    )
}

/// `fix`, which changes the pod template of `workload` (`change` says what the template gets),
/// made to take effect when its controller holds the change back ([`hold_in`]): after its
/// command, the resume of a paused Deployment, the delete of an OnDelete owner's pods (`pod`:
/// the chain's pod, or the template, whose owner's pods are named), and why in its comment; a
/// partition or a workload not read is said. A fix that is only a comment (nothing to paste)
/// gets the note. Any other owner's fix is returned unchanged.
pub(crate) fn rolled_in(
    cx: &Ctx,
    pod: &PodObs,
    workload: Option<(&str, &str)>,
    fix: String,
    change: &str,
) -> String {
    rolled_by(cx.ix, pod, workload, hold_in(cx, workload), fix, change)
}

/// [`rolled_in`] for a template change made later, at each rotation, by Reloader (KVC902):
/// the pods an OrderedReady StatefulSet's rollout would wait for today are no reason to delete
/// them now, when nothing changes the template (a pod waiting for its mount comes up with the
/// mount, and a new pod of the same template fails as the old one did): no stuck-pod delete
/// is added (audit ZZ1). A paused Deployment or an OnDelete owner is said as for any change.
pub(crate) fn rolled_in_later(
    cx: &Ctx,
    workload: Option<(&str, &str)>,
    fix: String,
    change: &str,
) -> String {
    let hold = hold_in(cx, workload);
    rolled_with(cx.ix, cx.pod, hold, fix, change, None)
}

/// [`rolled_in`] with the hold already decided; `look` finds an OnDelete owner's pods, and an
/// OrderedReady StatefulSet's pods its rollout waits for ([`stuck_deleted`], audit PP4).
fn rolled_by<'s>(
    look: &impl Lookup<'s>,
    pod: &PodObs,
    workload: Option<(&str, &str)>,
    hold: Option<Hold<'_>>,
    fix: String,
    change: &str,
) -> String {
    let stuck = stuck_deleted(look, pod, workload, hold, change);
    rolled_with(look, pod, hold, fix, change, stuck)
}

/// [`rolled_by`] with the stuck pods' delete (and why) decided.
fn rolled_with<'s>(
    look: &impl Lookup<'s>,
    pod: &PodObs,
    hold: Option<Hold<'_>>,
    fix: String,
    change: &str,
    stuck: Option<(String, String)>,
) -> String {
    let ns = pod.namespace.as_str();
    let Some(hold) = hold else {
        return match stuck {
            Some((delete, why)) => {
                let unran = format!("then {delete}: {why}");
                then_run(fix, Some(delete), why, unran)
            }
            None => fix,
        };
    };
    // The command that makes the change take effect, why with it, and why without it.
    let (run, ran, unran) = match hold {
        Hold::Paused(name) => (
            Some(resume(ns, name)),
            held(ns, name, change, true),
            held(ns, name, change, false),
        ),
        Hold::OnDelete(kind, name) => match delete_owner_pods(look, pod, kind, name) {
            Some((delete, n)) => (
                Some(delete.clone()),
                on_delete(kind, name, change, Some(n), ""),
                on_delete(kind, name, change, None, &delete),
            ),
            None => {
                let why = on_delete(kind, name, change, None, "delete each of its pods");
                (None, why.clone(), why)
            }
        },
        Hold::Partition {
            name,
            partition,
            start,
            replicas,
        } => {
            let why = partitioned(name, partition, start, replicas, change);
            (None, why.clone(), why)
        }
        Hold::Unknown(kind, name) => {
            let why = unknown(ns, kind, name, change);
            (None, why.clone(), why)
        }
    };
    // A pod the rollout waits for is deleted too (after a partition's note, which says
    // which pods the change reaches).
    let (run, ran, unran) = match stuck {
        Some((delete, why)) => (
            Some(run.map_or(delete.clone(), |r| format!("{r} && {delete}"))),
            format!("{ran}; {why}"),
            format!("{unran}; then {delete}: {why}"),
        ),
        None => (run, ran, unran),
    };
    then_run(fix, run, ran, unran)
}

/// `fix` followed by `run` when there is one (`ran`: why, in its comment); a fix that is only
/// a comment gets `unran` in it instead, nothing to paste.
pub(super) fn then_run(fix: String, run: Option<String>, ran: String, unran: String) -> String {
    if let Some(note) = fix.strip_prefix("# ") {
        return format!("# {note}; {unran}");
    }
    // A trailing comment would swallow a command after it: the command goes before it.
    let (cmd, note) = match fix.split_once("  # ") {
        Some((cmd, note)) => (cmd, Some(note)),
        None => (fix.as_str(), None),
    };
    let (cmd, why) = match run {
        Some(run) => (format!("{cmd} && {run}"), ran),
        None => (cmd.to_string(), unran),
    };
    match note {
        Some(note) => format!("{cmd}  # {note}; {why}"),
        None => format!("{cmd}  # {why}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{UpdateObs, WorkloadObs};

    /// [`hold_in`] over a snapshot without a diagnosis (the owner searched in it).
    fn hold<'w>(s: &Snapshot, ns: &str, workload: Option<(&str, &'w str)>) -> Option<Hold<'w>> {
        hold_found(s, ns, workload, |kind, name| {
            (s.workloads.items.iter())
                .find(|w| w.kind == kind && w.namespace == ns && w.name == name)
        })
    }

    /// [`rolled_in`] over a snapshot without a diagnosis (the owner searched in it).
    fn rolled(
        s: &Snapshot,
        pod: &PodObs,
        workload: Option<(&str, &str)>,
        fix: String,
        change: &str,
    ) -> String {
        let scan = crate::chain::restart_plan::Scan::new(s);
        let hold = hold(s, &pod.namespace, workload);
        rolled_by(&scan, pod, workload, hold, fix, change)
    }

    fn snap(paused: bool) -> Snapshot {
        let mut s = Snapshot::default();
        s.workloads.items.push(WorkloadObs {
            kind: "Deployment".into(),
            namespace: "team".into(),
            name: "api".into(),
            paused,
            ..Default::default()
        });
        s
    }

    fn pod(ns: &str) -> PodObs {
        PodObs {
            namespace: ns.into(),
            name: "api-7d9f8b6c5d-x2x7q".into(),
            ..Default::default()
        }
    }

    #[test]
    fn the_resume_goes_before_the_comment() {
        let fix = rolled(
            &snap(true),
            &pod("team"),
            Some(("Deployment", "api")),
            "kubectl edit deployment/api -n team  # add x".into(),
            "the edited template",
        );
        assert_eq!(
            fix,
            "kubectl edit deployment/api -n team && kubectl rollout resume deployment/api -n team  # add x; Deployment api is paused (spec.paused): the edited template rolls out nothing while it stays paused, so the fix resumes it (kubectl rollout resume deployment/api -n team), which also rolls out whatever other template change the pause held back"
        );
    }

    #[test]
    fn a_note_only_fix_gets_the_note_and_no_command() {
        let fix = rolled(
            &snap(true),
            &pod("team"),
            Some(("Deployment", "api")),
            "# do it by hand".into(),
            "the change",
        );
        assert!(
            fix.starts_with("# do it by hand; Deployment api is paused")
                && fix
                    .contains("stays paused, until kubectl rollout resume deployment/api -n team,"),
            "{fix}"
        );
        assert_eq!(fix.matches("  # ").count(), 0, "{fix}");
    }

    #[test]
    fn running_unknown_and_other_owners_are_left_alone() {
        let fix = || "kubectl edit deployment/api -n team  # add x".to_string();
        let running = rolled(
            &snap(false),
            &pod("team"),
            Some(("Deployment", "api")),
            fix(),
            "x",
        );
        assert_eq!(running, fix());
        // Read, and absent: nothing is held (the restart plan says nothing either).
        let unread = rolled(
            &Snapshot::default(),
            &pod("team"),
            Some(("Deployment", "api")),
            fix(),
            "x",
        );
        assert_eq!(unread, fix());
        let other = rolled(
            &snap(true),
            &pod("team"),
            Some(("ReplicaSet", "api")),
            fix(),
            "x",
        );
        assert_eq!(other, fix());
        let elsewhere = rolled(
            &snap(true),
            &pod("prod"),
            Some(("Deployment", "api")),
            fix(),
            "x",
        );
        assert_eq!(elsewhere, fix());
    }

    /// Kubernetes docs (StatefulSet, partitioned rolling updates): ordinals below the
    /// partition keep the previous revision even when deleted; a partition at or above the
    /// replicas updates none.
    #[test]
    fn a_partition_names_the_ordinals_it_leaves_out() {
        let mut s = Snapshot::default();
        s.workloads.items.push(WorkloadObs {
            kind: "StatefulSet".into(),
            namespace: "team".into(),
            name: "db".into(),
            replicas: Some(3),
            update: Some(UpdateObs {
                on_delete: false,
                partition: Some(2),
                parallel: false,
                start: 0,
            }),
            ..Default::default()
        });
        let fix = rolled(
            &s,
            &pod("team"),
            Some(("StatefulSet", "db")),
            "kubectl edit statefulset/db -n team".into(),
            "the edited template",
        );
        assert_eq!(
            fix,
            "kubectl edit statefulset/db -n team  # StatefulSet db has rollingUpdate.partition 2: the edited template reaches only its pods with ordinal 2 or above; db-0, db-1 keep the old template, even deleted and re-created, until the partition is lowered"
        );
        s.workloads.items[0].update = Some(UpdateObs {
            on_delete: false,
            partition: Some(3),
            parallel: false,
            start: 0,
        });
        let fix = rolled(
            &s,
            &pod("team"),
            Some(("StatefulSet", "db")),
            "kubectl edit statefulset/db -n team".into(),
            "x",
        );
        assert!(fix.ends_with("x reaches only its pods with ordinal 3 or above, none of its 3: they all keep the old template, even deleted and re-created, until the partition is lowered"), "{fix}");
        // spec.ordinals.start 5: the partition counts replicas from it (upstream
        // newVersionedStatefulSetPod: ordinal < start + partition keeps the current revision).
        s.workloads.items[0].update = Some(UpdateObs {
            partition: Some(2),
            start: 5,
            ..Default::default()
        });
        let fix = rolled(
            &s,
            &pod("team"),
            Some(("StatefulSet", "db")),
            "kubectl edit statefulset/db -n team".into(),
            "x",
        );
        assert!(fix.ends_with("# StatefulSet db has rollingUpdate.partition 2 (counted from ordinals.start 5: ordinal 7): x reaches only its pods with ordinal 7 or above; db-5, db-6 keep the old template, even deleted and re-created, until the partition is lowered"), "{fix}");
    }

    /// Reloader's template change at a rotation reaches a StatefulSet's pods only at or above
    /// its partition (Kubernetes docs, partitioned rolling updates): held per pod by its
    /// ordinal; a template stands for ordinal 0 up; a name without an ordinal is not said held.
    #[test]
    fn reloader_is_held_below_the_partition_only() {
        let mut s = Snapshot::default();
        let set = WorkloadObs {
            kind: "StatefulSet".into(),
            namespace: "team".into(),
            name: "db".into(),
            replicas: Some(3),
            update: Some(UpdateObs {
                on_delete: false,
                partition: Some(2),
                parallel: false,
                start: 0,
            }),
            ..Default::default()
        };
        s.workloads.items.push(set.clone());
        let held = |name: &str, template: bool| {
            let mut p = pod("team");
            p.name = name.into();
            if template {
                p.template_of = Some(crate::snapshot::OwnerRef {
                    kind: "StatefulSet".into(),
                    name: "db".into(),
                    uid: Default::default(),
                    controller: true,
                });
            }
            let w = Some(("StatefulSet", "db"));
            reloader_held(&s, &p, w, Some(&set), &StrMap::default()).is_some()
        };
        assert!(held("db-0", false) && held("db-1", false));
        assert!(!held("db-2", false) && !held("db-10", false));
        assert!(!held("dbx-0", false) && !held("db-a", false));
        assert!(held("db", true));
    }
}
