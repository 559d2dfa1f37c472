//! Several pods' restarts in one fix (every pod of a SecretProviderClass remounted, every
//! workload of a service account restarted): one command per owner, with what it costs said
//! once for the owner (audit NN7). Each pod's restart is its restart plan ([`RestartPlan`]),
//! so the fix and the one-key restart still agree; a plan's note, written for one pod, would
//! otherwise come once per pod of a StatefulSet under OnDelete or below its partition.

use crate::chain::context::Ctx;
use crate::chain::index::{HashMap, PodRestarts, pod_address};
use crate::chain::restart_plan::{
    RestartPlan, below_partition, ordinal, partition_keeps, partition_said,
};
use crate::snapshot::PodObs;

/// The restarts of a fix, in the order they were added; each owner's once.
#[derive(Default)]
pub(crate) struct Restarts {
    entries: Vec<Entry>,
    /// The pods given a restart so far ([`pod_address`]) and the entry each went to: the first
    /// restart of a pod holds. A map: a remount adds every replica of the SPC's workloads.
    pods: HashMap<usize, usize>,
}

enum Entry {
    /// The pods of one controller (`kind/name` in `ns`): its rollout restart, the pods it has
    /// deleted instead (the pods the rollout leaves out, or every one it would not replace),
    /// and the plans' notes on the deletes.
    Owner {
        ns: String,
        kind: String,
        name: String,
        rollout: Option<(String, Option<String>)>,
        deletes: Vec<(String, Option<String>)>,
    },
    /// A command of its own (a bare pod's recreate, an Argo Rollout's restart, a template's).
    Command(String),
}

impl Restarts {
    /// Restart running pod `pod` as its restart plan says.
    pub(crate) fn pod(&mut self, cx: &Ctx, pod: &PodObs) {
        if self.pods.contains_key(&pod_address(pod)) {
            return;
        }
        let at = match RestartPlan::for_pod_in(cx.snap(), cx.ix, pod) {
            RestartPlan::RolloutRestart {
                namespace,
                kind,
                name,
                note,
            } => {
                let command = format!(
                    "kubectl rollout restart {}/{name} -n {namespace}",
                    kind.to_ascii_lowercase()
                );
                let at = self.owner(namespace, kind, name);
                if let Entry::Owner { rollout, .. } = &mut self.entries[at] {
                    rollout.get_or_insert((command, note));
                }
                at
            }
            RestartPlan::DeleteOwnedPod {
                namespace,
                pod,
                owner,
                note,
            } => {
                let (kind, name) = owner.split_once('/').unwrap_or((&owner, ""));
                let at = self.owner(namespace, kind.to_string(), name.to_string());
                // Each pod comes here once (`pods` above).
                if let Entry::Owner { deletes, .. } = &mut self.entries[at] {
                    deletes.push((pod, note));
                }
                at
            }
            plan => self.command(plan.command()),
        };
        self.pods.insert(pod_address(pod), at);
    }

    /// Running pod `pod` restarted by `command` (with its note), when it has none yet (a bare
    /// pod's recreate that says more than its plan).
    pub(crate) fn pod_by(&mut self, pod: &PodObs, command: String) {
        if !self.pods.contains_key(&pod_address(pod)) {
            let at = self.command(command);
            self.pods.insert(pod_address(pod), at);
        }
    }

    /// A restart already written as a command (with its note), each once: its entry.
    pub(crate) fn command(&mut self, command: String) -> usize {
        let at =
            (self.entries.iter()).position(|e| matches!(e, Entry::Command(c) if *c == command));
        at.unwrap_or_else(|| {
            self.entries.push(Entry::Command(command));
            self.entries.len() - 1
        })
    }

    fn owner(&mut self, ns: String, kind: String, name: String) -> usize {
        let at = self.entries.iter().position(|e| {
            matches!(e, Entry::Owner { ns: n, kind: k, name: m, .. }
                if *n == ns && *k == kind && *m == name)
        });
        at.unwrap_or_else(|| {
            self.entries.push(Entry::Owner {
                ns,
                kind,
                name,
                rollout: None,
                deletes: Vec::new(),
            });
            self.entries.len() - 1
        })
    }

    /// [`Restarts::commands`], with the command each pod's restart is in: shared by the chains
    /// that print the same restarts ([`crate::chain::index::Index::remount_restarts`]).
    pub(crate) fn shared(mut self, cx: &Ctx) -> PodRestarts {
        let entry_of = std::mem::take(&mut self.pods);
        PodRestarts {
            commands: self.commands(cx),
            entry_of,
        }
    }

    /// The commands, one per owner (`rollout && delete  # notes`), in the order added.
    pub(crate) fn commands(self, cx: &Ctx) -> Vec<String> {
        // Beside other owners' commands, a rollout's note ("its pods are replaced node by
        // node") says whose it is.
        let named = self.entries.len() > 1;
        (self.entries.into_iter())
            .map(|e| match e {
                Entry::Command(c) => c,
                Entry::Owner {
                    ns,
                    kind,
                    name,
                    rollout,
                    deletes,
                } => owner_command(cx, &ns, (&kind, &name, named), rollout, deletes),
            })
            .collect()
    }
}

/// One owner's restart: its rollout, then the delete of its pods the rollout does not
/// replace, in one command; the notes once each. Under a partition, the per-pod "ordinal N is
/// below" notes become one sentence for the pods deleted, and the rollout's "the ones below
/// keep running" goes when they are deleted in the same fix.
fn owner_command(
    cx: &Ctx,
    ns: &str,
    (kind, name, named): (&str, &str, bool),
    rollout: Option<(String, Option<String>)>,
    deletes: Vec<(String, Option<String>)>,
) -> String {
    let mut commands: Vec<String> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    let partition = (kind == "StatefulSet")
        .then(|| cx.ix.workload(ns, kind, name))
        .flatten()
        .and_then(|w| w.update.as_ref())
        .filter(|u| !u.on_delete)
        .and_then(|u| {
            let p = u.partition.filter(|&p| p > 0)?;
            Some((u.updated_from(), partition_said(p, u.start)))
        });
    // The deletes' notes that only say a pod is below the partition.
    // In name order: the same command whichever pod's finding it is built from.
    let mut deletes = deletes;
    deletes.sort_by(|a, b| (ordinal(name, &a.0), &a.0).cmp(&(ordinal(name, &b.0), &b.0)));
    let mut below: Vec<i32> = Vec::new();
    let mut delete_notes: Vec<String> = Vec::new();
    for (pod, note) in &deletes {
        let Some(note) = note else { continue };
        let i = ordinal(name, pod);
        if let (Some(i), Some((from, said))) = (i, &partition)
            && *note == below_partition(i, name, said, *from)
        {
            below.push(i);
        } else if !delete_notes.contains(note) {
            delete_notes.push(note.clone());
        }
    }
    if let Some((command, note)) = rollout {
        commands.push(command);
        let note = match (&partition, below.is_empty(), note) {
            // The pods below are deleted here: they do not keep running.
            (Some((from, said)), false, Some(n)) => {
                let n = n.replace(&partition_keeps(*from, said), "");
                Some(n.trim().to_string()).filter(|n| !n.is_empty())
            }
            (_, _, n) => n,
        };
        notes.extend(note.map(|n| match named {
            true => format!("{kind} {name}: {n}"),
            false => n,
        }));
    }
    if !deletes.is_empty() {
        let pods: Vec<&str> = deletes.iter().map(|(p, _)| p.as_str()).collect();
        commands.push(format!("kubectl delete pod {} -n {ns}", pods.join(" ")));
        notes.push(match pods.len() {
            1 => format!("{kind} {name} starts a new one"),
            _ => format!("{kind} {name} starts a new one for each"),
        });
    }
    if let (Some((from, said)), false) = (&partition, below.is_empty()) {
        let ordinals: Vec<String> = below.iter().map(i32::to_string).collect();
        let (pods, each) = match below.len() {
            1 => (format!("pod ordinal {}", ordinals[0]), "it comes back"),
            _ => (
                format!("pod ordinals {}", ordinals.join(", ")),
                "each comes back",
            ),
        };
        notes.push(format!(
            "a rollout restart of StatefulSet {name} replaces only ordinals {from} and up ({said}), so {pods} below it {} deleted: {each} with the same name, at its current revision",
            if below.len() == 1 { "is" } else { "are" }
        ));
    }
    notes.extend(delete_notes);
    let commands = commands.join(" && ");
    match notes.is_empty() {
        true => commands,
        false => format!("{commands}  # {}", super::shell::notes_joined(&notes)),
    }
}
