//! Repairing a fault: restore the piece of the world it changed as it was just before, taking
//! the faults stacked on the same piece after it off first and making them again afterwards.

use super::apply::change;
use super::{Applied, Undo, find, kinds};
use crate::source::lab::scenario::RoleAssignment;
use crate::source::lab::world::{Workload, WorkloadKey, World};

/// Undo fault `id` alone. An undo restores its piece of the world as it was just before the
/// fault, so the faults applied after it on the same piece are undone first (newest first)
/// and made again afterwards: repairing one of two faults leaves the other in place, and
/// repairing both gives back the world before either.
pub fn repair(world: &mut World, id: &str) -> Result<String, String> {
    let def = find(id).ok_or_else(|| format!("unknown fault {id:?}"))?;
    let at = world
        .faults
        .iter()
        .position(|a| a.id == id)
        .ok_or_else(|| format!("fault {id} is not applied"))?;
    // A bare pod is made again under its own name: not while the deleted one still
    // terminates (the API server answers AlreadyExists), checked before anything is undone.
    if let Undo::BarePod(pod) = &world.faults[at].undo {
        let key = (
            pod.metadata.namespace.clone().unwrap_or_default(),
            pod.metadata.name.clone().unwrap_or_default(),
        );
        if world.pods.contains_key(&key) {
            return Err(format!(
                "pod {}/{} is still terminating: repair once it is gone",
                key.0, key.1
            ));
        }
    }
    let piece = world.faults[at].undo.piece();
    let later: Vec<usize> = (at + 1..world.faults.len())
        .filter(|&j| world.faults[j].undo.piece() == piece)
        .collect();
    let mut redo = Vec::new();
    for &j in later.iter().rev() {
        let a = world.faults.remove(j);
        restore(world, a.undo)?;
        redo.push((a.id, a.target, a.at));
    }
    let a = world.faults.remove(at);
    let note = after_repair(world, &a)
        .map(|n| format!(" — {n}"))
        .unwrap_or_default();
    let stood = broken_for(world, &a);
    restore(world, a.undo)?;
    for (id, target, at) in redo.into_iter().rev() {
        let undo = change(world, &id, &target)?;
        world.faults.push(Applied {
            id,
            target,
            undo,
            at,
        });
    }
    world.mark_changed();
    Ok(format!(
        "repaired: {} after {stood} of lab time{note}",
        def.title
    ))
}

/// How long the fault stood, in lab time (whole seconds): what a trainer times a class by.
fn broken_for(world: &World, a: &Applied) -> String {
    // Rounded up: the TUI's clock steps in fractions of a second (1m 59.9s is 2m).
    let millis = world
        .now()
        .duration_since(a.at)
        .as_millis()
        .max(0)
        .unsigned_abs();
    let secs = u64::try_from(millis.div_ceil(1000)).unwrap_or(u64::MAX);
    humantime::format_duration(std::time::Duration::from_secs(secs)).to_string()
}

/// What the repair leaves to the owner's controller: a Deployment's rollout back, a
/// StatefulSet's or DaemonSet's order (none under OnDelete), a Job run again, a bare pod made
/// again by the repair itself.
fn after_repair(world: &World, a: &Applied) -> Option<String> {
    let target: &WorkloadKey = &a.target;
    match &a.undo {
        Undo::PodLabel { .. } => Some(kinds::template_rollout(
            world.workloads.get(target)?,
            target,
        )),
        Undo::Workload(_) | Undo::BarePod(_) => Some(kinds::recreated(target)),
        // Reloader acts on update events as they come; one missed while it ran no pod is not
        // replayed at its start ([R] `--sync-after-restart` replays add events, and only with
        // `--reload-on-create`).
        Undo::Reloader => Some(
            "Reloader runs again and restarts on Secret changes from now on; a change made while it was down is not replayed (R restarts a pod that kept the old env)".into(),
        ),
        _ => None,
    }
}

fn restore(world: &mut World, undo: Undo) -> Result<(), String> {
    match undo {
        Undo::Fics { identity, mut fics } => {
            // Corrected in place: the credentials put back are written again (a new
            // `lastModifiedAt`); one the fault left as it was keeps its own.
            let now = world.now();
            if let Some(i) = world.identities.get_mut(identity) {
                crate::source::lab::scenario::stamp_changed(&mut fics, &i.fics, now);
                i.fics = fics;
            }
        }
        Undo::RoleAssignments(ras) => {
            // A grant given back is made again (a new `createdOn`); one the fault left as
            // it was keeps its own.
            let now = world.now();
            let same = |a: &RoleAssignment, b: &RoleAssignment| {
                a.name == b.name
                    && a.spec.principal_id == b.spec.principal_id
                    && a.spec.role == b.spec.role
                    && a.spec.scope == b.spec.scope
                    && a.spec.data_actions == b.spec.data_actions
                    && a.spec.not_data_actions == b.spec.not_data_actions
            };
            world.role_assignments = (ras.into_iter())
                .map(|mut ra| {
                    match world.role_assignments.iter().find(|now| same(now, &ra)) {
                        Some(kept) => ra.created_at = kept.created_at,
                        None => ra.created_at = Some(now),
                    }
                    ra
                })
                .collect();
        }
        Undo::Network { vault, network } => {
            if let Some(v) = world.vaults.get_mut(&vault) {
                v.network = network;
            }
        }
        Undo::Object { vault, objects } => {
            if let Some(v) = world.vaults.get_mut(&vault) {
                // Keep versions written meanwhile; restore the enabled flags / the object.
                for (key, object) in objects {
                    match v.objects.get_mut(&key) {
                        Some(o) => {
                            for ver in o.versions.iter_mut() {
                                if let Some(old) = object.versions.iter().find(|x| x.id == ver.id) {
                                    ver.enabled = old.enabled;
                                }
                            }
                        }
                        // `az keyvault <type> recover`: back from the deleted objects.
                        None => {
                            v.deleted.remove(&key);
                            v.objects.insert(key, object);
                        }
                    }
                }
            }
        }
        Undo::Spc { key, spc } => {
            world.spcs.insert(key, *spc);
        }
        Undo::PodLabel { workload, value } => {
            if let Some(w) = world.workloads.get_mut(&workload)
                && let Some(m) = w.template_mut().and_then(|t| t.metadata.as_mut())
            {
                m.labels
                    .get_or_insert_with(Default::default)
                    .insert(crate::source::lab::webhook::USE_LABEL.into(), value);
            }
            // Back to the template before the fault: the Deployment returns to its
            // ReplicaSet (a restartedAt here would roll out a third one).
            world.template_edited();
        }
        Undo::SaAnnotation { key, value } => {
            if let Some(sa) = world.service_accounts.get_mut(&key) {
                let ann = sa.metadata.annotations.get_or_insert_with(Default::default);
                match value {
                    Some(v) => {
                        ann.insert(crate::source::lab::webhook::CLIENT_ID_ANNOTATION.into(), v)
                    }
                    None => ann.remove(crate::source::lab::webhook::CLIENT_ID_ANNOTATION),
                };
            }
        }
        Undo::Rotation(before) => {
            let csi = &mut world.cluster.csi_driver;
            if before && !csi.enable_secret_rotation {
                // Turned on again: versions created meanwhile wait for the next poll.
                csi.rotation_enabled_at = Some(world.clock.now());
            }
            csi.enable_secret_rotation = before;
        }
        Undo::Reloader => world.cluster.reloader_stopped = false,
        Undo::Workload(w) => {
            let mut w = *w;
            // A re-created object is a new object: new uid, new ReplicaSets.
            match &mut w {
                Workload::Deployment(d) => d.metadata.uid = None,
                Workload::StatefulSet(s) => s.metadata.uid = None,
                Workload::DaemonSet(d) => d.metadata.uid = None,
                Workload::Job(j) => j.metadata.uid = None,
            }
            world.add_workload(w);
        }
        Undo::BarePod(pod) => {
            world.create_pod(*pod)?;
        }
    }
    Ok(())
}
