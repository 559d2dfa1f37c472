//! Consumers link: who reads the synced Secret and whether they see current values. Env vars
//! are a start-time snapshot (FACTS §4): a rotated Secret needs a restart (Reloader, §10).

mod env_readers;
pub(crate) mod keys;
pub(crate) mod offline;
use crate::reloader;
mod rollout;
pub(crate) mod stale;
mod versions;

use super::set;
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::index::{Use, pod_address};
use crate::chain::model::{Fact, Link, Status};
use crate::snapshot::{EnvSourceObs, PodObs, VolumeSourceObs};

/// `never_built`: the `secretObjects` entries the driver can never build (bit `i` for entry
/// `i`, from the sync link): their consumers wait on that cause, whatever else holds.
pub(crate) fn check(cx: &mut Ctx, link: &mut Link, never_built: u64) {
    let Some(spc) = cx.spc else {
        super::no_spc(cx, link);
        return;
    };
    // A file mounted with subPath holds what the volume held at the container's start.
    stale::csi_sub_paths(cx, link);
    if spc.secret_objects.is_empty() {
        set(link, Status::Ok, "files only");
        return;
    }
    let mut env_users = 0usize;
    let mut total = 0usize;
    // The synced Secrets this pod reads through env: a rotation reaches it only by a restart.
    let mut env_secrets: Vec<&str> = Vec::new();
    // A Secret this pod needs that does not exist: its containers cannot start until the
    // sync link's cause is fixed (env: CreateContainerConfigError; volume: FailedMount).
    let secrets_known = cx.snap().secrets.unknown_in(cx.ns()).is_none();
    let mut blocked = false;
    // The consumers of a scaled-down template's Secrets have chains of their own, whose
    // KVC904 names this workload (one symptom, one finding).
    let parked = crate::chain::orphans::is_parked(cx.pod, cx.workload_object);
    // Readers asking for keys the Secret lacks, told per owner and Secret after the loop.
    let mut asks = Vec::new();
    // Other workloads' pods reading a synced Secret through env, with the Secret: their env
    // is a start-time snapshot too (FACTS §4), restarted or not by their own owner (audit X2).
    let mut other_env: Vec<(&PodObs, &str)> = Vec::new();
    for (i, so) in spc.secret_objects.iter().enumerate() {
        let Some((list, unmounted)) = cx.consumers_of(i) else {
            continue;
        };
        // Built before the SPC went wrong, a Secret still exists and is read as it is.
        let stuck = i < 64 && never_built & (1 << i) != 0;
        let unbuildable = stuck && cx.synced_secret(i).is_none();
        for c in list {
            if std::ptr::eq(c.pod, cx.pod) {
                total += 1;
                let absent =
                    unbuildable || (secrets_known && !cx.template && cx.synced_secret(i).is_none());
                blocked |= absent && required(cx.pod, &c.how);
                // A Secret that never exists neither changes nor rotates: no restart advice,
                // and which keys it lacks is for after the cause is fixed.
                if unbuildable {
                    continue;
                }
                if !absent {
                    keys::check(
                        cx,
                        link,
                        &mut asks,
                        i,
                        &so.secret_name,
                        cx.pod,
                        &c.how,
                        stuck,
                    );
                }
                stale::check(cx, link, i, &so.secret_name, cx.pod, &c.how);
                if super::sync::is_env(&c.how) {
                    env_users += 1;
                    if !env_secrets.contains(&so.secret_name.as_str()) {
                        env_secrets.push(&so.secret_name);
                    }
                }
            } else if !parked && unmounted.binary_search(&pod_address(c.pod)).is_ok() {
                not_mounted(cx, link, &so.secret_name, c.pod, &c.how, None);
                // A copy taken at start goes stale, and a key the Secret lacks stops the
                // container, whoever mounts the SPC (FACTS §2, §4). The Secret exists here
                // (KVC903): were it never made (KVC904), its keys would be moot.
                if !unbuildable {
                    keys::check(
                        cx,
                        link,
                        &mut asks,
                        i,
                        &so.secret_name,
                        c.pod,
                        &c.how,
                        stuck,
                    );
                    stale::check(cx, link, i, &so.secret_name, c.pod, &c.how);
                    if super::sync::is_env(&c.how) && !c.pod.deleting {
                        other_env.push((c.pod, &so.secret_name));
                    }
                }
            }
        }
    }
    keys::emit(cx, link, asks);
    // Why the restart check could not be made (the owner's annotations unread).
    let mut restart_unknown = None;
    // A terminating pod is restarted by nothing and needs no restart: what holds its env is
    // going away with it (its owner may be gone too, so no restart target could be named:
    // audit S1).
    if !env_secrets.is_empty() && !cx.pod.deleting {
        reloader(cx, link, &env_secrets, &mut restart_unknown);
    }
    env_readers::other_readers(cx, link, &other_env, &mut restart_unknown);
    // An Ingress serving a Secret the driver has not built has no certificate either.
    blocked |= secrets_known
        && !cx.template
        && spc.secret_objects.iter().enumerate().any(|(i, so)| {
            cx.synced_secret(i).is_none()
                && cx
                    .ix
                    .ingress_tls
                    .contains_key(&(cx.ns(), so.secret_name.as_str()))
        });
    super::note(cx, link, || {
        Fact::new("consumers in this pod", total.to_string())
    });
    if env_readers::env_stale_against_mount(cx, link, &env_secrets) {
        return;
    }
    if blocked && link.findings.is_empty() {
        set(link, Status::Pending, "blocked: Sync");
        return;
    }
    // Whether a reader holds the Secret's current value needs the Secret's last write: with
    // Secrets unreadable here, a stale env is as possible as a fresh one.
    if total > 0
        && link.findings.is_empty()
        && let Some(reason) = cx.snap().secrets.unknown_in(cx.ns())
    {
        super::unknown(link, "Secret unknown", reason);
        return;
    }
    if let Some((what, why)) = restart_unknown
        && link.findings.is_empty()
    {
        super::unknown_check(link, "restart unknown", what, why);
        return;
    }
    set(
        link,
        Status::Ok,
        match (total, env_users) {
            (0, _) => "none",
            (_, 0) => "volume",
            _ => "env",
        },
    );
    other_volume_fails(cx, link);
}

/// The kubelet starts no container before every volume of the pod is set up: another volume
/// failing keeps the pod in ContainerCreating although this chain's mount succeeded (KVC108 on
/// the Pod link says so); and it starts no container whose env names a Secret or key that does
/// not exist, or a ConfigMap (KVC109). Nothing here reads the secret: the link waits and says on what.
fn other_volume_fails(cx: &Ctx, link: &mut Link) {
    if let Some(volume) = super::other_volume::blocking_volume(cx) {
        set(link, Status::Pending, format!("blocked: volume {volume}"));
    } else if let Some(secret) = super::env_secrets::blocking_secret(cx) {
        set(link, Status::Pending, format!("blocked: Secret {secret}"));
    } else if let Some(config_map) = super::env_config_maps::blocking(cx) {
        set(
            link,
            Status::Pending,
            format!("blocked: ConfigMap {config_map}"),
        );
    }
}

/// Whether the pod cannot start without the Secret: an `optional` env key, envFrom or secret
/// volume starts without it (the variables unset, the volume empty).
pub(crate) fn required(pod: &PodObs, how: &Use) -> bool {
    match how {
        Use::Env { container, var, .. } => !optional_env(container, var),
        Use::EnvFrom { optional, .. } => !optional,
        // Without it the kubelet pulls anonymously: a private registry refuses the image.
        Use::ImagePull => true,
        Use::Volume { volume } => !pod.volumes.iter().any(|v| {
            v.name == *volume && matches!(v.source, VolumeSourceObs::Secret { optional: true, .. })
        }),
    }
}

/// Whether env var `var` of `container` reads its Secret with `secretKeyRef.optional: true`.
fn optional_env(container: &crate::snapshot::ContainerObs, var: &str) -> bool {
    container.env.iter().any(|e| {
        e.name == var && matches!(e.source, EnvSourceObs::SecretKey { optional: true, .. })
    })
}

pub(crate) fn describe(how: &Use) -> String {
    match how {
        Use::Env {
            container,
            var,
            key,
        } => {
            format!("container {} env {var} (key {key})", container.name)
        }
        Use::EnvFrom { container, .. } => format!("container {} envFrom", container.name),
        Use::Volume { volume } => format!("volume {volume}"),
        Use::ImagePull => "imagePullSecrets".to_string(),
    }
}

/// The kinds Stakater Reloader restarts (FACTS §10; its docs: Deployments, DaemonSets,
/// StatefulSets, Argo Rollouts with `--is-Argo-Rollouts=true`, OpenShift DeploymentConfigs,
/// CronJobs). Jobs are read once per run and said apart. Any other owner — a ReplicaSet with
/// no Deployment above it, an operator's resource, a static pod's Node — is never restarted
/// by it, whatever it is annotated with.
pub(crate) fn reloader_watches(kind: &str) -> bool {
    matches!(
        kind,
        "Deployment" | "DaemonSet" | "StatefulSet" | "Rollout" | "DeploymentConfig" | "CronJob"
    )
}

/// Whether a workload with annotations `own` and pod-template annotations `template` is
/// restarted by Stakater Reloader when synced Secret `secret` changes ([`reloader::restart`],
/// as Reloader's ShouldReload decides: the template's annotations when the workload has none
/// of its own, `reload` entries as anchored regexes).
///
/// Reloader's SecretProviderClass annotations are not counted: they act only when Reloader
/// runs with `--enable-csi-integration=true`, which is off by default (FACTS §10), and
/// kvchain does not see Reloader's flags. A workload relying on them alone gets KVC902
/// saying so ([`csi_annotation`]).
pub(crate) fn reloader_restarts(
    own: &std::collections::BTreeMap<String, String>,
    template: &std::collections::BTreeMap<String, String>,
    resource: &std::collections::BTreeMap<String, String>,
    secret: &str,
) -> bool {
    reloader::restart(own, template, resource, secret).is_some()
}

/// The annotations Reloader reads on synced Secret `secret` (FACTS §10): the observed
/// Secret's (`found`); when it is not observed, those the secretObjects entry of an SPC of its
/// namespace (`spcs`) gives it when the driver creates it (FACTS §2).
pub(crate) fn secret_annotations<'s>(
    found: Option<&'s crate::snapshot::SecretObs>,
    mut spcs: impl Iterator<Item = &'s crate::snapshot::SpcObs>,
    secret: &str,
) -> &'s std::collections::BTreeMap<String, String> {
    static NONE: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    match found {
        Some(s) => &s.annotations,
        None => spcs
            .find_map(|spc| spc.secret_objects.iter().find(|o| o.secret_name == secret))
            .map_or(&NONE, |o| &o.annotations),
    }
}

/// [`secret_annotations`] of the chain's namespace.
pub(crate) fn chain_secret_annotations<'a>(
    cx: &Ctx<'a>,
    secret: &str,
) -> &'a std::collections::BTreeMap<String, String> {
    let ns = cx.ns();
    secret_annotations(
        cx.ix.secrets.get(&(ns, secret)).copied(),
        cx.ix.spcs_in(ns),
        secret,
    )
}

/// The Reloader annotation of `ann` that asks for a restart when SecretProviderClass `spc`
/// changes, if any: it needs Reloader's CSI integration (off by default, FACTS §10).
fn csi_annotation<'a>(
    ann: &'a std::collections::BTreeMap<String, String>,
    spc: &str,
) -> Option<&'a str> {
    let reload = "secretproviderclass.reloader.stakater.com/reload";
    let auto = "secretproviderclass.reloader.stakater.com/auto";
    if ann
        .get(reload)
        .is_some_and(|v| v.split(',').any(|s| s.trim() == spc))
    {
        Some(reload)
    } else if ann.get(auto).is_some_and(|v| v == "true") {
        Some(auto)
    } else {
        None
    }
}

/// KVC902: env consumption with nothing that restarts the pods when a Secret rotates: one
/// finding for the pod, naming every synced Secret it reads through env that way.
fn reloader<'c>(
    cx: &Ctx<'c>,
    link: &mut Link,
    secrets: &[&str],
    unread: &mut Option<(String, &'c str)>,
) {
    // Reloader rolls Deployments, DaemonSets and StatefulSets (FACTS §10). A CronJob's runs
    // each start a fresh pod that reads the current Secret: nothing to restart. A Job's run
    // reads it once, at start, and nothing (Reloader included) restarts it in place: said as
    // info, with no annotation that would only silence this.
    match cx.workload {
        Some(("CronJob", _)) => {
            super::note(cx, link, || {
                Fact::new(
                    "restart on rotation",
                    "each CronJob run reads the Secret at start",
                )
            });
            return;
        }
        Some(("Job", _)) => {
            let who = cx.owner_resource();
            let mut f = cx.remedied(
                Code::KVC902,
                who.clone(),
                format!(
                    "{who} reads synced Secret {} through env once, at container start: Reloader restarts Deployments, DaemonSets and StatefulSets, not Jobs, so a run keeps the value it started with and the next run reads the current one",
                    secrets.join(", ")
                ),
                vec![format!("owner: {who}")],
            );
            f.severity = crate::chain::model::Severity::Info;
            link.findings.push(f);
            return;
        }
        _ => {}
    }
    if cx.workload.is_none() && !cx.template {
        // Reloader restarts a workload by changing its pod template (FACTS §10): a pod that
        // nothing owns has none, whatever annotations it carries.
        link.findings.push(cx.remedied(
            Code::KVC902,
            cx.owner_resource(),
            format!(
                "{} reads synced Secret {} through env but nothing restarts a pod without an owner when the Secret rotates (Reloader restarts workloads): env keeps the value from container start",
                cx.owner_resource(),
                secrets.join(", ")
            ),
            vec!["ownerReferences: none".to_string()],
        ));
        return;
    }
    if let Some((kind, _)) = cx.workload
        && !reloader_watches(kind)
    {
        let who = cx.owner_resource();
        link.findings.push(cx.remedied(
            Code::KVC902,
            who.clone(),
            format!(
                "{who} reads synced Secret {} through env but nothing restarts its pods when the Secret rotates: Stakater Reloader restarts Deployments, DaemonSets, StatefulSets, Argo Rollouts and CronJobs, not a {kind}, so no annotation helps: env keeps the value from container start",
                secrets.join(", ")
            ),
            vec![format!("owner: {who}")],
        ));
        return;
    }
    let no_template = std::collections::BTreeMap::new();
    let anns = match &cx.workload {
        Some(_) => cx
            .workload_object
            .map(|w| (&w.annotations, &*w.template_annotations)),
        None => Some((&cx.pod.annotations, &no_template)),
    };
    let Some((ann, template)) = anns else {
        // The workload object is not observed: its annotations are unknown. Unread workloads
        // (a 403) leave the Reloader check undone: the link is unknown, not ok (KVC902 may
        // well hold); read but absent (deleted under a running pod) is only said.
        match cx.snap().workloads.unknown_in(cx.ns()) {
            Some(reason) => {
                *unread = Some((
                    format!(
                        "whether anything restarts {} when the Secret rotates (its Reloader annotation, KVC902)",
                        cx.owner_resource()
                    ),
                    reason,
                ));
            }
            None => link.facts.push(Fact::new(
                "restart on rotation",
                "unknown (workload not observed)",
            )),
        }
        return;
    };
    let missed: Vec<&str> = secrets
        .iter()
        .copied()
        .filter(|s| !reloader_restarts(ann, template, chain_secret_annotations(cx, s), s))
        .collect();
    if missed.is_empty() {
        reloaded(cx, link, secrets, ann);
        return;
    }
    // Reloader reads the template's annotations when the workload has none of its own.
    let read = reloader::read(ann, template);
    let from_template = !std::ptr::eq(read, &**ann);
    // A Reloader annotation that names other Secrets is there, and restarts for those only:
    // the fix adds these to its list.
    let named = read.get(reloader::RELOAD);
    // Skipped by Reloader before it reads any reload annotation (FACTS §10): the fix removes
    // what skips it; adding an annotation would change nothing.
    let skips = skipping(cx, ann, template, &missed);
    let skipped_why = (!skips.reasons.is_empty()).then(|| skips.reasons.join("; "));
    let why = match (named, csi_annotation(ann, cx.spc_name)) {
        _ if let Some(why) = &skipped_why => why.clone(),
        (Some(named), _) => {
            format!("its Reloader annotation reload: {named:?} names other Secrets")
        }
        (None, Some(csi)) => format!(
            "its annotation {csi} acts only when Reloader runs with --enable-csi-integration=true, off by default, and then on SecretProviderClass pod status changes, which need rotation on"
        ),
        (None, None) if reloader::searches(read) => format!(
            "its annotation {}: \"true\" restarts it only for Secrets annotated {}: \"true\", which {} {} not",
            reloader::SEARCH,
            reloader::MATCH,
            missed.join(", "),
            if missed.len() == 1 { "is" } else { "are" }
        ),
        (None, None) => "no Reloader annotation".to_string(),
    };
    let mut f = cx.remedied(
        Code::KVC902,
        cx.owner_resource(),
        format!(
            "{} reads synced Secret {} through env but nothing restarts it when the Secret rotates ({why}): env keeps the value from container start",
            cx.owner_resource(),
            missed.join(", ")
        ),
        vec![if from_template {
            format!(
                "annotations: none of Reloader's; pod template annotations: {:?}",
                template.keys().collect::<Vec<_>>()
            )
        } else {
            format!("annotations: {:?}", ann.keys().collect::<Vec<_>>())
        }],
    );
    if from_template {
        f.confirm = format!(
            "kubectl get {} -n {} -o jsonpath='{{.metadata.annotations}}{{\"\\n\"}}{{.spec.template.metadata.annotations}}'",
            cx.owner_kubectl(),
            cx.ns()
        )
        .into();
    }
    if skipped_why.is_some() {
        let mut steps = skips.commands;
        // Still nothing would restart it once the exclusion is gone: the annotation too.
        if !skips.asked {
            steps.push(f.fix.to_string());
        }
        f.fix = steps.join(" && ").into();
    } else if named.is_none() && reloader::searches(read) {
        // The workload searches: the Secrets need the tag, not the workload another
        // annotation (FACTS §10). The SPC's secretObjects annotations write it whenever the
        // driver creates the Secret (FACTS §2); the Secret already there gets it directly.
        f.fix = match_commands(cx, &missed).join(" && ").into();
    } else if let Some(named) = named {
        let list = std::iter::once(named.trim())
            .chain(missed.iter().copied())
            .collect::<Vec<_>>()
            .join(",");
        // Quoted: an entry is a regex (`db.*`), which the shell would glob.
        let word = super::remedy::sh_word(&format!("{}={list}", reloader::RELOAD)).into_owned();
        f.fix = f
            .fix
            .replace(
                "reloader.stakater.com/auto=true",
                &format!("{word} --overwrite"),
            )
            .into();
    }
    link.findings.push(f);
}

/// The commands that tag synced Secrets `missed` with Reloader's `match: "true"`: on each
/// observed Secret, and in the secretObjects entry of the SPC that writes it.
fn match_commands(cx: &Ctx, missed: &[&str]) -> Vec<String> {
    use crate::chain::rules::remedy::sh_word;
    let ns = cx.ns();
    let mut out = Vec::new();
    for s in missed.iter().copied() {
        if cx.ix.secrets.contains_key(&(ns, s)) {
            out.push(format!(
                "kubectl annotate secret {} -n {ns} {}=true --overwrite",
                sh_word(s),
                reloader::MATCH
            ));
        }
        let entry = cx.ix.spcs_in(ns).find_map(|spc| {
            let i = spc.secret_objects.iter().position(|o| o.secret_name == s)?;
            Some((spc, i))
        });
        if let Some((spc, i)) = entry {
            // JSON patch `add` of a key needs its map; the snapshot keeps only Reloader's
            // keys of it, so whether the map exists is not known: the key first, and the map
            // only when that fails for want of one (nothing else is there to replace).
            let patch = |op: String| {
                format!(
                    "kubectl patch secretproviderclass {} -n {ns} --type json -p '[{op}]'",
                    sh_word(&spc.name)
                )
            };
            let path = format!("/spec/secretObjects/{i}/annotations");
            let key = patch(format!(
                "{{\"op\":\"add\",\"path\":\"{path}/{}\",\"value\":\"true\"}}",
                reloader::MATCH.replace('/', "~1")
            ));
            let map = patch(format!(
                "{{\"op\":\"add\",\"path\":\"{path}\",\"value\":{{\"{}\":\"true\"}}}}",
                reloader::MATCH
            ));
            out.push(format!("{{ {key} 2>/dev/null || {map}; }}"));
        }
    }
    out
}

/// What makes Reloader skip the workload for Secrets `missed` ([`reloader::skipped`]), with
/// the commands that undo it.
struct Skips {
    reasons: Vec<String>,
    commands: Vec<String>,
    /// The workload's reload annotations ask for every skipped Secret.
    asked: bool,
}

fn skipping(
    cx: &Ctx,
    ann: &std::collections::BTreeMap<String, String>,
    template: &std::collections::BTreeMap<String, String>,
    missed: &[&str],
) -> Skips {
    use crate::chain::rules::remedy::sh_word;
    let ns = cx.ns();
    let mut out = Skips {
        reasons: Vec::new(),
        commands: Vec::new(),
        asked: true,
    };
    let mut excluded = Vec::new();
    for s in missed.iter().copied() {
        let resource = chain_secret_annotations(cx, s);
        let Some(skip) = reloader::skipped(ann, resource, s) else {
            continue;
        };
        out.asked &= reloader::asked(ann, template, resource, s).is_some();
        match skip {
            reloader::Skip::Excluded => excluded.push(s),
            reloader::Skip::Ignored => {
                // The observed Secret's annotation, and the SPC's secretObjects entry that
                // writes it again whenever the driver creates the Secret (FACTS §2).
                let observed = cx.ix.secrets.contains_key(&(ns, s));
                let from_spc = cx.ix.spcs_in(ns).find_map(|spc| {
                    let i = spc.secret_objects.iter().position(|o| {
                        o.secret_name == s && o.annotations.contains_key(reloader::IGNORE)
                    })?;
                    Some((spc.name.as_str(), i))
                });
                out.reasons.push(format!(
                    "Reloader skips Secret {s}: it carries {}: \"true\"{}",
                    reloader::IGNORE,
                    match from_spc {
                        Some((spc, _)) =>
                            format!(", from SecretProviderClass {spc}'s secretObjects annotations"),
                        None => String::new(),
                    }
                ));
                if observed {
                    out.commands.push(format!(
                        "kubectl annotate secret {} -n {ns} {}-",
                        sh_word(s),
                        reloader::IGNORE
                    ));
                }
                if let Some((spc, i)) = from_spc {
                    out.commands.push(format!(
                        "kubectl patch secretproviderclass {} -n {ns} --type json -p '[{{\"op\":\"remove\",\"path\":\"/spec/secretObjects/{i}/annotations/{}\"}}]'",
                        sh_word(spc),
                        reloader::IGNORE.replace('/', "~1")
                    ));
                }
            }
        }
    }
    if let Some(list) = ann.get(reloader::EXCLUDE).filter(|_| !excluded.is_empty()) {
        out.reasons.push(format!(
            "its annotation {}: {list:?} excludes {}",
            reloader::EXCLUDE,
            excluded.join(", ")
        ));
        let rest: Vec<&str> = list
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty() && !excluded.contains(e))
            .collect();
        let change = if rest.is_empty() {
            format!("{}-", reloader::EXCLUDE)
        } else {
            format!(
                "{} --overwrite",
                sh_word(&format!("{}={}", reloader::EXCLUDE, rest.join(",")))
            )
        };
        out.commands.push(format!(
            "kubectl annotate {} -n {ns} {change}",
            cx.owner_kubectl()
        ));
    }
    out
}

/// The owner's Reloader annotation restarts it when `secrets` rotate, by changing its pod
/// template (FACTS §10); KVC902 when its controller holds that change back from the pods
/// ([`remedy::reloader_held`]): a paused Deployment rolls out nothing until resumed, an
/// OnDelete owner replaces no pod, a StatefulSet's partition none below it (this pod).
fn reloaded(cx: &Ctx, link: &mut Link, secrets: &[&str], ann: &crate::snapshot::StrMap) {
    use crate::chain::rules::remedy;
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
            let (not, kept, seen) = match crate::action::restart::ordinal(name, &cx.pod.name) {
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
            let said = crate::action::restart::partition_said(partition, start);
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
        super::note(cx, link, || {
            Fact::new("restart on rotation", "Reloader annotation")
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

/// [`describe`], naming a projected volume as such (its `secret` source is a consumer too).
pub(crate) fn describe_in(pod: &PodObs, how: &Use) -> String {
    match how {
        Use::Volume { volume }
            if pod.volumes.iter().any(|v| {
                v.name == *volume && matches!(v.source, VolumeSourceObs::Projected { .. })
            }) =>
        {
            format!("projected volume {volume}")
        }
        _ => describe(how),
    }
}

/// KVC903: another workload consumes the synced Secret without mounting the SPC.
/// `nobody`: `Some(exists)` when no pod at all mounts the SPC (the consumer's own orphan
/// chain): a Secret left by earlier mounts goes with its owners, and none is made again.
pub(crate) fn not_mounted(
    cx: &Ctx,
    link: &mut Link,
    secret: &str,
    other: &PodObs,
    how: &Use,
    nobody: Option<bool>,
) {
    let who = match cx.ix.workload_of(other) {
        Some((k, n)) => format!("{k}/{n}"),
        None => format!("Pod/{}", other.name),
    };
    // One finding per workload: each further way it reads the Secret (another container, a
    // projected volume's secret source) is evidence on it.
    let seen = format!("{who}: {}", describe_in(other, how));
    if let Some(f) = link
        .findings
        .iter_mut()
        .find(|f| f.code == Code::KVC903 && f.resource == who)
    {
        if !f.evidence.iter().any(|e| **e == *seen) {
            f.evidence.push(seen.into());
        }
        return;
    }
    link.findings.push(cx.remedied(
        Code::KVC903,
        who.clone(),
        format!(
            "{who} consumes synced Secret {secret} ({}) but none of its pods mount SecretProviderClass {}: {}",
            describe(how),
            cx.spc_name,
            match nobody {
                Some(true) => "no pod mounts it now: the Secret left by earlier mounts goes with its owners and is not created again",
                Some(false) => "no pod mounts it at all, so the driver never creates the Secret (no mount, no Secret)",
                None => "the Secret lives while the mounting pods' owners do (a workload scaled to zero keeps it, frozen) and is garbage-collected with them; it is created and kept current only while some pod mounts the SPC",
            }
        ),
        vec![seen],
    ));
}
