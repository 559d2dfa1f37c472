//! An env reader whose Reloader annotation restarts it: whether its controller lets that
//! restart reach the pods (moved from `restarts.rs`, unchanged, to keep that file small).

use super::*;

/// The owner's Reloader annotation restarts it when `secrets` rotate, by changing its pod
/// template (FACTS §10); KVC902 when its controller holds that change back from the pods
/// ([`remedy::reloader_held`]): a paused Deployment rolls out nothing until resumed, an
/// OnDelete owner replaces no pod, a StatefulSet's partition none below it (this pod).
/// `by_csi`: the restart comes through the SecretProviderClass annotations, whose Reloader
/// [`super::csi_reload::verdict`] found acting; else through the Secrets', whose Reloader is
/// looked for here.
pub(super) fn reloaded(
    cx: &Ctx,
    link: &mut Link,
    secrets: &[&str],
    ann: &crate::snapshot::StrMap,
    by_csi: bool,
) {
    use crate::chain::rules::remedy;
    if !by_csi && let Some(why) = super::no_reloader::no_reloader(cx) {
        link.findings
            .push(super::no_reloader::not_running(cx, secrets, ann, why));
        return;
    }
    let held = match remedy::reloader_held_in(cx, cx.pod, cx.workload, ann) {
        Some(remedy::Hold::Paused(name)) => Some((
            format!(
                "Deployment {name} is paused (spec.paused): that change rolls out nothing until it is resumed, so env keeps the value from container start"
            ),
            "spec.paused: true".to_string(),
            remedy::resume_commands(cx, name),
        )),
        Some(remedy::Hold::OnDelete(kind, name)) => Some((
            format!(
                "{kind} {name} has updateStrategy OnDelete: that change replaces no pod, so env keeps the value from container start until the pod is deleted"
            ),
            "updateStrategy: OnDelete".to_string(),
            remedy::on_delete_commands(cx, kind, name),
        )),
        Some(remedy::Hold::Partition {
            name,
            partition,
            start,
            ..
        }) => {
            // The partition counts replicas from ordinals.start (UpdateObs::updated_from).
            let from = start.saturating_add(partition);
            let (not, kept, seen) = match crate::chain::restart_plan::ordinal(name, &cx.pod.name) {
                Some(i) if !cx.template => (
                    format!("not pod {} (ordinal {i})", cx.pod.name),
                    "env keeps the value from container start until the partition is lowered or the pod is deleted",
                    format!("pod {}: ordinal {i}", cx.pod.name),
                ),
                _ => (
                    format!("not its pods below ordinal {from}"),
                    "their env keeps the value from container start until the partition is lowered or they are deleted",
                    format!("template: ordinals from {start}"),
                ),
            };
            let said = crate::chain::restart_plan::partition_said(partition, start);
            let start_seen = match start {
                0 => String::new(),
                _ => format!(", ordinals.start: {start}"),
            };
            Some((
                format!(
                    "StatefulSet {name} has {said}: that change reaches only its pods with ordinal {from} or above, {not}, so {kept}"
                ),
                format!("rollingUpdate.partition: {partition}{start_seen} ({seen})"),
                remedy::partition_commands(cx, name, partition, start),
            ))
        }
        _ => None,
    };
    let Some((why, seen, (confirm, fix))) = held else {
        super::super::note(cx, link, || {
            Fact::new(
                "restart on rotation",
                super::no_reloader::reloader_fact(cx.cluster(), cx.ns()),
            )
        });
        return;
    };
    let who = cx.owner_resource();
    link.findings.push(cx.finding(
        Code::KVC902,
        who.clone(),
        format!(
            "{who} reads synced Secret {} through env, and its Reloader annotation restarts it by changing the pod template, but {why}",
            secrets.join(", ")
        ),
        vec![
            seen,
            format!("annotations: {:?}", ann.keys().collect::<Vec<_>>()),
        ],
        confirm,
        fix,
    ));
}
