//! Whether something restarts the pods that read a synced Secret through env when it changes
//! (KVC902): Stakater Reloader's annotations as Reloader reads them ([`crate::reloader`]), the
//! kinds it restarts, what makes it skip a Secret, and what holds its change back from the
//! pods (a paused Deployment, an OnDelete owner, a StatefulSet partition).

use super::reloaded::reloaded;
use super::*;

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

/// When a synced Secret changes, in words true for the driver's rotation: on (or not read),
/// "when the Secret rotates"; off, the driver never fetches a mounted volume again nor
/// updates the Secret in place (FACTS §4, §11), so it changes only when a mount writes it
/// again (after it is deleted, or from a new pod's mount).
pub(crate) fn when_it_changes(cx: &Ctx) -> &'static str {
    if crate::chain::rules::remedy::rotation_off(cx) {
        "when a new mount writes the Secret again, the one way it changes with rotation off"
    } else {
        "when the Secret rotates"
    }
}

/// Whether a workload with annotations `own` and pod-template annotations `template` is
/// restarted by Stakater Reloader when synced Secret `secret` changes ([`reloader::restart`],
/// as Reloader's ShouldReload decides: the template's annotations when the workload has none
/// of its own, `reload` entries as anchored regexes), read with the keys and flags of the
/// Reloader that acts on the namespace (`cfg`, [`reloader_config`]).
///
/// Reloader's SecretProviderClass annotations are weighed apart ([`super::csi_reload`]): they
/// act only when that Reloader runs with `--enable-csi-integration=true` (FACTS §10).
pub(crate) fn reloader_restarts(
    cfg: &reloader::Config,
    own: &std::collections::BTreeMap<String, String>,
    template: &std::collections::BTreeMap<String, String>,
    resource: &std::collections::BTreeMap<String, String>,
    secret: &str,
) -> bool {
    reloader::restart(cfg, own, template, resource, secret).is_some()
}

/// The keys and flags of the Reloader that acts on the chain's namespace (its renamed
/// annotations, `--auto-reload-all`, `--enable-csi-integration`); Reloader's defaults, with
/// the CSI flag unknown, where none was seen acting there.
pub(crate) fn reloader_config<'a>(cx: &Ctx<'a>) -> reloader::Config<'a> {
    crate::snapshot::reloader_config(cx.cluster().reloader.as_ref(), cx.ns())
}

/// The keys and flags the SecretProviderClass annotations are read with: those of the
/// Reloader whose pod status controller acts on the chain's namespace.
pub(crate) fn spc_reloader_config<'a>(cx: &Ctx<'a>) -> reloader::Config<'a> {
    crate::snapshot::reloader_config_for(
        cx.cluster().reloader.as_ref(),
        cx.ns(),
        crate::snapshot::Watched::PodStatuses,
    )
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
    // The namespace's writers of `secret`, in snapshot order: the first SPC of the namespace
    // that names it, without walking every SPC there for each chain (at 100,000 pods a
    // namespace holds ~400).
    let writers = cx.ix.secret_writers.get(&(ns, secret));
    secret_annotations(
        cx.ix.secrets.get(&(ns, secret)).copied(),
        writers.into_iter().flatten().copied(),
        secret,
    )
}

/// The Secrets of `secrets`, read through env, that Reloader does not restart the workload
/// annotated `own` (its pod template `template`) for. The decision reads only those maps, the
/// Secrets' annotations and the namespace, so the replicas of the chain's SPC side share it:
/// remembered by the addresses of the maps (snapshot objects, alive for the pass; replicas'
/// equal maps are one shared copy) and of the names (the SPC's), decided once per workload.
fn reloader_missed<'s>(
    cx: &Ctx,
    cfg: &reloader::Config,
    own: &std::collections::BTreeMap<String, String>,
    template: &std::collections::BTreeMap<String, String>,
    secrets: &[&'s str],
) -> Vec<&'s str> {
    let restarts =
        |s: &str| reloader_restarts(cfg, own, template, chain_secret_annotations(cx, s), s);
    let side = cx.side.as_ref().filter(|_| secrets.len() <= 64);
    let Some(side) = side else {
        return secrets.iter().copied().filter(|s| !restarts(s)).collect();
    };
    let at = |m: &std::collections::BTreeMap<String, String>| std::ptr::from_ref(m) as usize;
    let names: Box<[(usize, usize)]> = (secrets.iter())
        .map(|s| (s.as_ptr() as usize, s.len()))
        .collect();
    let key = (at(own), at(template), names);
    let known = (side.reloader_missed.borrow().iter())
        .find(|(k, _)| *k == key)
        .map(|&(_, bits)| bits);
    let bits = known.unwrap_or_else(|| {
        let bits = (secrets.iter().enumerate())
            .filter(|(_, s)| !restarts(s))
            .fold(0u64, |bits, (i, _)| bits | 1 << i);
        side.reloader_missed.borrow_mut().push((key, bits));
        bits
    });
    (secrets.iter().enumerate())
        .filter(|(i, _)| bits & 1 << i != 0)
        .map(|(_, s)| *s)
        .collect()
}

/// KVC902: env consumption with nothing that restarts the pods when a Secret rotates: one
/// finding for the pod, naming every synced Secret it reads through env that way.
pub(super) fn reloader<'c>(
    cx: &Ctx<'c>,
    link: &mut Link,
    secrets: &[&str],
    unread: &mut Option<(String, &'c str)>,
) {
    // Reloader rolls Deployments, DaemonSets and StatefulSets (FACTS §10). A CronJob's runs
    // each start a fresh pod that reads the current Secret: nothing to restart; so do a KEDA
    // ScaledJob's, one Job per event, each run to completion (KEDA docs, "Scaling Jobs"). A
    // Job's run reads it once, at start, and nothing (Reloader included) restarts it in
    // place: said as info, with no annotation that would only silence this.
    match cx.workload {
        Some((kind @ ("CronJob" | "ScaledJob"), _)) => {
            super::super::note(cx, link, || {
                Fact::new(
                    "restart on rotation",
                    format!("each {kind} run reads the Secret at start"),
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
                "{} reads synced Secret {} through env but nothing restarts a pod without an owner {} (Reloader restarts workloads): env keeps the value from container start",
                cx.owner_resource(),
                secrets.join(", "),
                when_it_changes(cx)
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
                "{who} reads synced Secret {} through env but nothing restarts its pods {}: Stakater Reloader restarts Deployments, DaemonSets, StatefulSets, Argo Rollouts and CronJobs, not a {kind}, so no annotation helps: env keeps the value from container start",
                secrets.join(", "),
                when_it_changes(cx)
            ),
            vec![format!("owner: {who}")],
        ));
        return;
    }
    static NO_TEMPLATE: std::collections::BTreeMap<String, String> =
        std::collections::BTreeMap::new();
    let anns = match &cx.workload {
        Some(_) => cx
            .workload_object
            .map(|w| (&w.annotations, &*w.template_annotations)),
        None => Some((&cx.pod.annotations, &NO_TEMPLATE)),
    };
    let Some((ann, template)) = anns else {
        // The workload object is not observed: its annotations are unknown. Unread workloads
        // (a 403) leave the Reloader check undone: the link is unknown, not ok (KVC902 may
        // well hold); read but absent (deleted under a running pod) is only said.
        match cx.snap().workloads.unknown_in(cx.ns()) {
            Some(reason) => {
                *unread = Some((
                    format!(
                        "whether anything restarts {} {} (its Reloader annotation, KVC902)",
                        cx.owner_resource(),
                        when_it_changes(cx)
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
    let cfg = reloader_config(cx);
    let missed = reloader_missed(cx, &cfg, ann, template, secrets);
    if missed.is_empty() {
        reloaded(cx, link, secrets, ann, false);
        return;
    }
    // The SecretProviderClass annotations, through Reloader's CSI integration (FACTS §10):
    // the Reloader seen decides whether they act.
    // A general `auto` (or `--auto-reload-all`) reaches the SPC path too, but asks nothing
    // of the CSI integration in particular: it counts only where that integration is on.
    // Reloader reads the SPC's own annotations for a pod status change ([R] upgrade.go
    // populateAnnotationsFromSecretProviderClass): its `ignore` skips the workload, its
    // `match` answers a `search` (audit XB-left).
    let spc_ann: &std::collections::BTreeMap<String, String> =
        cx.spc.map_or(&NO_TEMPLATE, |s| &s.annotations);
    // Read with the keys of the Reloader whose pod status controller acts here, which may
    // not be the one acting on Secrets (`--resources-to-ignore=secrets`).
    let spc_cfg = spc_reloader_config(cx);
    let csi = reloader::spc_asked(&spc_cfg, ann, template, spc_ann, cx.spc_name)
        .map(|key| (key, super::csi_reload::verdict(cx)))
        .filter(|(key, v)| {
            [reloader::SPC_RELOAD, reloader::SPC_AUTO].contains(key)
                || matches!(
                    v,
                    super::csi_reload::Csi::Restarts
                        | super::csi_reload::Csi::Off(super::csi_reload::Off::Rotation(_))
                )
        });
    let csi_why = match csi {
        None => None,
        Some((_, super::csi_reload::Csi::Restarts)) => {
            reloaded(cx, link, secrets, ann, true);
            return;
        }
        Some((key, super::csi_reload::Csi::Unknown(why))) => {
            // Unknown is said whatever the detail: it is no verdict that the link is fine.
            link.facts.push(Fact::new(
                "restart on rotation",
                format!(
                    "unknown: its annotation {key} acts only through Reloader's CSI integration, and {why}"
                ),
            ));
            return;
        }
        Some((_, super::csi_reload::Csi::NoReloader(why))) => {
            link.findings
                .push(super::no_reloader::not_running(cx, &missed, ann, why));
            return;
        }
        Some((key, super::csi_reload::Csi::Off(off))) => Some((key, off)),
    };
    // Reloader reads the template's annotations when the workload has none of its own.
    let read = reloader::read(&cfg, ann, template);
    let from_template = !std::ptr::eq(read, &**ann);
    // A Reloader annotation that names other Secrets is there, and restarts for those only:
    // the fix adds these to its list.
    let named = read.get(cfg.reload);
    // Skipped by Reloader before it reads any reload annotation (FACTS §10): the fix removes
    // what skips it; adding an annotation would change nothing.
    let skips = skipping(cx, &cfg, ann, template, &missed);
    let mut skipped_why = (!skips.reasons.is_empty()).then(|| skips.reasons.join("; "));
    // An SPC annotation the SPC's own `ignore` skips (Reloader's ShouldReload reads it first).
    let spc_ignored = (spc_ann.get(spc_cfg.ignore).is_some_and(|v| v == "true"))
        .then(|| reloader::spc_asked(&spc_cfg, ann, template, &NO_TEMPLATE, cx.spc_name))
        .flatten()
        .filter(|key| [reloader::SPC_RELOAD, reloader::SPC_AUTO].contains(key));
    let spc_skip = skipped_why.is_none() && named.is_none() && spc_ignored.is_some();
    if spc_skip && let Some(key) = spc_ignored {
        skipped_why = Some(format!(
            "its annotation {key} is skipped: SecretProviderClass {} carries {}: \"true\", which Reloader reads before any reload annotation",
            cx.spc_name, spc_cfg.ignore
        ));
    }
    let why = match (named, &csi_why) {
        _ if let Some(why) = &skipped_why => why.clone(),
        (Some(named), _) => {
            format!("its Reloader annotation reload: {named:?} names other Secrets")
        }
        (None, Some((key, off))) => off.why(key),
        (None, None) if reloader::searches(&cfg, read) => format!(
            "its annotation {}: \"true\" restarts it only for Secrets annotated {}: \"true\", which {} {} not",
            cfg.search,
            cfg.matched,
            missed.join(", "),
            if missed.len() == 1 { "is" } else { "are" }
        ),
        (None, None) => "no Reloader annotation".to_string(),
    };
    let mut f = cx.remedied(
        Code::KVC902,
        cx.owner_resource(),
        format!(
            "{} reads synced Secret {} through env but nothing restarts it {} ({why}): env keeps the value from container start",
            cx.owner_resource(),
            missed.join(", "),
            when_it_changes(cx)
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
    if spc_skip {
        // The workload's own Secret annotation restarts it through the synced Secret; or the
        // SPC's `ignore` removed, its annotation acts (where the CSI integration runs).
        f.fix = format!(
            "{}; or remove the SecretProviderClass's {}: kubectl annotate secretproviderclass {} -n {} {}-",
            f.fix,
            spc_cfg.ignore,
            crate::chain::rules::remedy::sh_word(cx.spc_name),
            cx.ns(),
            crate::chain::rules::remedy::sh_word(spc_cfg.ignore)
        )
        .into();
    } else if skipped_why.is_some() {
        let mut steps = skips.commands;
        // Still nothing would restart it once the exclusion is gone: the annotation too.
        if !skips.asked {
            steps.push(f.fix.to_string());
        }
        // In turn: a controlled SPC's note (a `#` line) goes last, after the commands.
        let steps: Vec<&str> = steps.iter().map(String::as_str).collect();
        f.fix = crate::chain::rules::remedy::in_turn(&steps).into();
    } else if named.is_none() && reloader::searches(&cfg, read) {
        // The workload searches: the Secrets need the tag, not the workload another
        // annotation (FACTS §10). The SPC's secretObjects annotations write it whenever the
        // driver creates the Secret (FACTS §2); the Secret already there gets it directly.
        let steps = match_commands(cx, &cfg, &missed);
        let steps: Vec<&str> = steps.iter().map(String::as_str).collect();
        f.fix = crate::chain::rules::remedy::in_turn(&steps).into();
    } else if let Some(named) = named {
        let list = std::iter::once(named.trim())
            .chain(missed.iter().copied())
            .collect::<Vec<_>>()
            .join(",");
        // Quoted: an entry is a regex (`db.*`), which the shell would glob.
        let word =
            crate::chain::rules::remedy::sh_word(&format!("{}={list}", cfg.reload)).into_owned();
        let auto = crate::chain::rules::remedy::sh_word(&format!("{}=true", cfg.auto)).into_owned();
        f.fix = f.fix.replace(&auto, &format!("{word} --overwrite")).into();
    } else if let Some((_, off)) = &csi_why {
        // The Secret's own annotation restarts it on this Reloader as it runs now; the SPC
        // annotation needs what is off.
        f.fix = format!("{}; {}", f.fix, off.fix(cx)).into();
    }
    link.findings.push(f);
}

/// The SPC of the chain's namespace whose secretObjects write synced Secret `secret`, and the
/// entry's index (a JSON patch path), among entries `which` accepts.
fn secret_object_entry<'a>(
    cx: &Ctx<'a>,
    secret: &str,
    which: impl Fn(&crate::snapshot::SecretObjectSpec) -> bool,
) -> Option<(&'a crate::snapshot::SpcObs, usize)> {
    let writers = cx.ix.secret_writers.get(&(cx.ns(), secret));
    writers.into_iter().flatten().copied().find_map(|spc| {
        let i = (spc.secret_objects.iter()).position(|o| o.secret_name == secret && which(o))?;
        Some((spc, i))
    })
}

/// `kubectl annotate secret S -n NS <change>`. The driver does not rewrite a synced Secret
/// that already exists when its SPC's secretObjects change (FACTS §11; only the rotation
/// reconciler updates it), so an annotation the SPC now asks for must be put on the Secret
/// too. One kvchain did not see (manifests, Secrets unread) is changed only if it is there.
fn annotate_secret(cx: &Ctx, secret: &str, change: &str) -> String {
    use crate::chain::rules::remedy::sh_word;
    let ns = cx.ns();
    let name = sh_word(secret);
    let annotate = format!("kubectl annotate secret {name} -n {ns} {change}");
    match cx.ix.secrets.contains_key(&(ns, secret)) {
        true => annotate,
        false => {
            format!("{{ ! kubectl get secret {name} -n {ns} >/dev/null 2>&1 || {annotate}; }}")
        }
    }
}

/// The commands that tag synced Secrets `missed` with Reloader's `match: "true"`: on each
/// observed Secret, and in the secretObjects entry of the SPC that writes it.
fn match_commands(cx: &Ctx, cfg: &reloader::Config, missed: &[&str]) -> Vec<String> {
    use crate::chain::rules::remedy::sh_word;
    let ns = cx.ns();
    let mut out = Vec::new();
    for s in missed.iter().copied() {
        out.push(annotate_secret(
            cx,
            s,
            &format!("{}=true --overwrite", sh_word(cfg.matched)),
        ));
        if let Some((spc, i)) = secret_object_entry(cx, s, |_| true) {
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
                cfg.matched.replace('~', "~0").replace('/', "~1")
            ));
            let map = patch(format!(
                "{{\"op\":\"add\",\"path\":\"{path}\",\"value\":{{\"{}\":\"true\"}}}}",
                cfg.matched
            ));
            // A controller-owned SPC is changed through its owner: a note, said last.
            out.push(crate::chain::rules::remedy::unless_spc_controlled(
                spc,
                format!("{{ {key} 2>/dev/null || {map}; }}"),
            ));
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
    cfg: &reloader::Config,
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
        let Some(skip) = reloader::skipped(cfg, ann, resource, s) else {
            continue;
        };
        out.asked &= reloader::asked(cfg, ann, template, resource, s).is_some();
        match skip {
            reloader::Skip::Excluded => excluded.push(s),
            reloader::Skip::Ignored => {
                // The observed Secret's annotation, and the SPC's secretObjects entry that
                // writes it again whenever the driver creates the Secret (FACTS §2).
                let observed = cx.ix.secrets.contains_key(&(ns, s));
                let from_spc =
                    secret_object_entry(cx, s, |o| o.annotations.contains_key(cfg.ignore));
                out.reasons.push(format!(
                    "Reloader skips Secret {s}: it carries {}: \"true\"{}",
                    cfg.ignore,
                    match from_spc {
                        Some((spc, _)) => format!(
                            ", from SecretProviderClass {}'s secretObjects annotations",
                            spc.name
                        ),
                        None => String::new(),
                    }
                ));
                if observed || from_spc.is_some() {
                    out.commands
                        .push(annotate_secret(cx, s, &format!("{}-", sh_word(cfg.ignore))));
                }
                if let Some((spc, i)) = from_spc {
                    out.commands.push(crate::chain::rules::remedy::unless_spc_controlled(
                        spc,
                        format!(
                            "kubectl patch secretproviderclass {} -n {ns} --type json -p '[{{\"op\":\"remove\",\"path\":\"/spec/secretObjects/{i}/annotations/{}\"}}]'",
                            sh_word(&spc.name),
                            cfg.ignore.replace('~', "~0").replace('/', "~1")
                        ),
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
