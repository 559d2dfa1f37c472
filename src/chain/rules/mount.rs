//! Mount link: the objects list parses and maps to distinct files, the driver mounted it
//! (SPCPS), the mounted versions keep up with the vault, rotation is on. FailedMount events are
//! folded in afterwards by `rules::apply_events`.

use std::borrow::Cow;
use std::time::Duration;

use super::remedy;

/// Longest objects list checked for duplicate file names pair by pair.
const PAIRWISE_MAX: usize = 32;
use super::{set, unknown};

pub(crate) mod claim_replaced;
mod lag;
mod spc_unread;
pub(crate) mod status_crd;
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::{Fact, Finding, Link, LinkKind, Status, ThinVec};
use crate::snapshot::ContainerStateObs;
use crate::spc::AzureSpc;
use lag::lag;

/// Slack on top of the poll interval before a version lag counts (kubelet republish cadence).
pub(crate) const LAG_SLACK: Duration = Duration::from_secs(60);

pub(crate) fn check(cx: &mut Ctx, link: &mut Link) {
    if cx.params.is_none() {
        super::no_spc(cx, link);
        spc_unread::mounted(cx, link);
        return;
    }
    match &cx.side {
        Some(side) => link.findings.extend_from_slice(&side.mount),
        None => link.findings.extend(statics(cx)),
    }
    // A finished pod (Succeeded, Failed) holds no mount: the kubelet tore its volumes down.
    // The driver's rotation skips it, and a pod being deleted too ("skip rotation if the pod
    // is being terminated … for jobs that complete aren't gc yet", FACTS §4 [D5]
    // pkg/rotation/reconciler.go), so rotation off changes nothing for either. KVC702 stays
    // on the chains of live pods and templates that mount the SPC.
    let finished = !cx.template && cx.pod.finished();
    if !cx.template && cx.retired() {
        link.findings.retain(|f| f.code != Code::KVC702);
    }
    // A volume no container mounts is never mounted, template or pod (KVC707).
    if super::unused_volume::check(cx, link) {
        return;
    }
    let csi = cx.cluster().csi_driver.known();
    // No SecretProviderClassPodStatus CRD: no new mount can succeed (KVC709).
    if status_crd::missing(cx, link, started_container(cx).is_some()) {
        return;
    }

    // Runtime: did the driver mount it?
    if cx.template {
        set(link, Status::Pending, "template");
        link.facts
            .push(Fact::new("runtime", "a pod template has no mount yet"));
        return;
    }
    // A pod in a terminal phase (evicted, its node shut down: Failed) waits for nothing: the
    // kubelet never retries its mount, whatever its containers last reported.
    let waiting = !finished
        && cx.pod.containers.iter().any(|c| matches!(&c.state, ContainerStateObs::Waiting { reason, .. } if reason == "ContainerCreating"));
    if let Some(reason) = cx.snap().spc_statuses.unread_in(cx.ns()) {
        // Unread statuses hide only what the last mount held: a finished pod holds none now.
        if finished {
            finished_mount(cx, link, None);
            link.facts.push(Fact::new(
                "unknown",
                format!("its last SecretProviderClassPodStatus: {reason}"),
            ));
            return;
        }
        // Whether it mounted is unknown. But a pod on a node and still not started past the
        // time a mount takes, with the events that would say why unread, has no verdict
        // whether or not its SPCPS can be read (README: exit 3): one more permission lost
        // must not turn it into a quiet unknown link (audit F2).
        let placed = cx.pod.node.is_some() && !bound_to_no_node(cx);
        if placed
            && (cx.pod.phase == "Pending" || waiting)
            && super::unstarted::unseen_mount(cx, link)
        {
            link.facts.push(Fact::new("unknown", reason));
        } else {
            unknown(link, "status unknown", reason);
        }
        return;
    }
    let Some(st) = cx.status else {
        earlier_pods_status(cx, link);
        if cx.pod.phase == "Pending" && cx.pod.node.is_none() {
            // Nothing mounts before the scheduler places the pod (its FailedScheduling
            // events say why): not a mount in progress.
            set(link, Status::Pending, "not scheduled");
            link.facts.push(Fact::new(
                "node",
                "none yet: the pod is not scheduled, so no volume is mounted (kubectl describe pod shows the scheduler's FailedScheduling reason)",
            ));
        } else if bound_to_no_node(cx) {
            // No kubelet claims it: never mounted (the pod link says why, KVC107).
            set(link, Status::Pending, NO_NODE);
        } else if (cx.pod.phase == "Pending" || waiting)
            && (super::unstarted::unseen_mount(cx, link)
                || super::unstarted::silent_mount(cx, link))
        {
            // Past the time a mount takes, with no event that could be read saying why.
        } else if cx.pod.phase == "Pending" || waiting {
            set(link, Status::Pending, "mounting");
        } else if cx.pod.phase.is_empty() {
            set(link, Status::Pending, "no status");
        } else if finished {
            finished_mount(cx, link, None);
        } else if let Some(started) = started_container(cx) {
            // The kubelet starts a container only once every volume of the pod is mounted
            // (FACTS §11: "container started" is a success signal): the mount happened, even
            // if its SPCPS is gone or is an earlier pod's. Which versions it holds is unknown.
            set(link, Status::Ok, "mounted");
            rotation_unread(cx, link);
            link.facts.push(Fact::new(
                "mounted",
                format!(
                    "container {started} started, which the kubelet does only once every volume is mounted; no SecretProviderClassPodStatus of this pod was observed, so the versions it mounted are not known"
                ),
            ));
        } else if cx.retired() {
            // Finished or failed without a mount on record: its SPC pod status goes with the
            // unmount at teardown; nothing will mount it again (audit U1).
            set(link, Status::Pending, "pod finished");
            link.facts.push(Fact::new(
                "history",
                format!(
                    "pod {} is {}: no SecretProviderClassPodStatus, and none will be written",
                    cx.pod.name, cx.pod.phase
                ),
            ));
        } else {
            unknown(
                link,
                "no SPCPS",
                &format!(
                    "pod is {} but no SecretProviderClassPodStatus {}-{}-{} was observed",
                    cx.pod.phase,
                    cx.pod.name,
                    cx.ns(),
                    cx.spc_name
                ),
            );
        }
        return;
    };
    super::compare(
        cx,
        link,
        "mounted",
        if st.mounted { "true" } else { "false" },
        "true",
    );
    if finished {
        finished_mount(cx, link, Some(st));
        return;
    }
    if !st.mounted {
        set(link, Status::Pending, "mounting");
        return;
    }
    set(link, Status::Ok, "mounted");
    if cx.retired() {
        // Being deleted: mounted until the kubelet tears it down, but nothing rotates or
        // re-mounts it (the driver's rotation reconciler skips such pods), so the versions of
        // its last mount are history, no lag and no edit it missed (audit U1).
        link.facts.push(Fact::new(
            "history",
            format!(
                "pod {} is being deleted: its mount is not kept current, and its versions say nothing of rotation",
                cx.pod.name,
            ),
        ));
        return;
    }
    rotation_unread(cx, link);
    lag(cx, link, csi.map(|c| c.rotation_poll_interval));
    super::sync::mount_unapplied(cx, link);
}

/// The Mount link of a finished pod (phase Succeeded or Failed): it holds no mount now, the
/// kubelet tore its volumes down (Kubernetes docs, "Volumes": ephemeral volumes live as long
/// as the pod runs) and the driver's rotation skips it (FACTS §4), so the link is neither ok
/// nor broken: it waits on nothing and says what the mount was. `st` is its last SPC pod
/// status, which the driver never deletes itself (FACTS §1): history, not a mount. A Failed
/// pod whose mount failed gets its cause from the events folded in afterwards
/// (`rules::apply_events`).
fn finished_mount(cx: &Ctx, link: &mut Link, st: Option<&crate::snapshot::SpcPodStatusObs>) {
    let summary = if super::finished_job(cx).is_some() {
        "Job finished"
    } else {
        "pod finished"
    };
    set(link, Status::Pending, summary);
    let (pod, phase) = (&cx.pod.name, &cx.pod.phase);
    let last = match (st, started_container(cx)) {
        (Some(st), _) if st.mounted => {
            let versions: Vec<String> = (st.objects.iter())
                .map(|o| format!("{}@{}", o.id, o.version))
                .collect();
            format!(
                "its last SecretProviderClassPodStatus {} said mounted: true ({}), history now",
                st.name,
                if versions.is_empty() {
                    "no objects listed".into()
                } else {
                    versions.join(", ")
                }
            )
        }
        (Some(st), _) => format!(
            "its last SecretProviderClassPodStatus {} said mounted: false",
            st.name
        ),
        (None, Some(c)) => format!(
            "container {c} ran, which the kubelet allows only once every volume is mounted; no SecretProviderClassPodStatus of it was observed, and none will be written"
        ),
        (None, None) => {
            "no SecretProviderClassPodStatus of it was observed, and none will be written".into()
        }
    };
    link.facts.push(Fact::new(
        "history",
        format!(
            "pod {pod} is {phase}: the kubelet tore its volumes down and the driver's rotation skips it, so nothing is mounted or rotated now; {last}"
        ),
    ));
}

/// A mounted link whose rotation check (KVC702) could not be made: the driver's flags were
/// not read (kube-system DaemonSets unreadable, cluster facts not listed). Unknown, not ok:
/// rotation may well be off (README "Degrading, not failing").
fn rotation_unread(cx: &Ctx, link: &mut Link) {
    let why = match cx.cluster().csi_driver.known() {
        Some(csi) => csi.rotation_enabled.unknown_reason().map(Cow::Borrowed),
        None => (cx.cluster().csi_driver.unknown_reason()).map(rotation_read),
    };
    if let Some(why) = why.as_deref() {
        super::unknown_check(
            link,
            "rotation unknown",
            "mounted, but whether the driver rotates it (--enable-secret-rotation, KVC702) is not known".into(),
            why,
        );
    }
}

/// Of the reasons the driver's facts are unknown (`; `-joined), those of the read rotation is
/// taken from: the driver's kube-system DaemonSet (its --enable-secret-rotation), not the
/// CSIDriver object (audit SS4). All of them when none names the DaemonSets.
fn rotation_read(why: &str) -> Cow<'_, str> {
    let ds: Vec<&str> = why
        .split("; ")
        .filter(|r| r.contains("daemonsets"))
        .collect();
    if ds.is_empty() {
        Cow::Borrowed(why)
    } else {
        Cow::Owned(ds.join("; "))
    }
}

/// The Mount link's summary for a pod bound to a node the cluster does not have.
pub(crate) const NO_NODE: &str = "no such node";

/// Summaries of a Mount link that waits for the pod to be mounted, with no failure of its own.
pub(crate) const WAITING: [&str; 3] = ["mounting", "not scheduled", NO_NODE];

/// Whether the mount check left the link waiting for this pod's mount (no SPCPS yet, pod not
/// failed), whatever static findings (rotation off) sit beside it. Read before events fold in.
pub(crate) fn starting(link: &Link) -> bool {
    link.status == Status::Pending && WAITING.contains(&&*link.summary)
}

/// An SPCPS of this name that belongs to an earlier pod of the same name (re-created, as a
/// StatefulSet's are): shown, so its `mounted: true` is not read as this pod's mount.
fn earlier_pods_status(cx: &Ctx, link: &mut Link) {
    let Some(st) = cx
        .ix
        .spcps
        .get(&(cx.ns(), cx.pod.name.as_str(), cx.spc_name))
    else {
        return;
    };
    if let Some(why) = st.earlier_pod(cx.pod) {
        link.facts.push(Fact::new(
            "earlier pod's SPCPS",
            format!(
                "{} is not this pod's mount: {why} (the driver updates it only after this pod's mount succeeds)",
                st.name
            ),
        ));
    }
}

/// The first container of the pod that has started (running, or run and ended).
fn started_container<'a>(cx: &Ctx<'a>) -> Option<&'a str> {
    cx.pod
        .containers
        .iter()
        .find(|c| {
            matches!(
                c.state,
                ContainerStateObs::Running { .. } | ContainerStateObs::Terminated { .. }
            )
        })
        .map(|c| c.name.as_str())
}

/// `spec.nodeName` names a node that is not among the nodes read.
fn bound_to_no_node(cx: &Ctx) -> bool {
    let (Some(node), Some(nodes)) = (cx.pod.node.as_deref(), cx.cluster().nodes.known()) else {
        return false;
    };
    !nodes.iter().any(|n| n.name == node)
}

/// What the link finds whoever mounts the SPC (its merged parameters): [`objects`], and
/// rotation turned off in the driver (KVC702).
pub(crate) fn statics(cx: &Ctx) -> ThinVec<Finding> {
    let mut link = Link::new(LinkKind::Mount);
    if let Some(p) = cx.params.as_deref() {
        objects(cx, p, &mut link);
    }
    if super::remedy::rotation_off(cx) {
        link.findings.push(cx.remedied(
            Code::KVC702,
            remedy::CSIDRIVER.to_string(),
            "secret rotation is disabled in the Secrets Store CSI driver: mounted files keep the version fetched at pod start, and synced Secrets the one they were created with (a pod restart does not rewrite them on a driver before v1.6; a v1.6 driver rewrites them from the new pod's mount)".to_string(),
            vec!["--enable-secret-rotation=false".to_string()],
        ));
    }
    link.findings
}

/// Static: the objects YAML parses, every item is valid (KVC705) and maps to its own file
/// (KVC706). Manifests see this too, and so does an SPC no pod mounts.
pub(crate) fn objects(cx: &Ctx, p: &AzureSpc, link: &mut Link) {
    let objects_problems: Vec<_> = p
        .problems
        .iter()
        .filter(|pr| pr.field.starts_with("objects"))
        .collect();
    if !objects_problems.is_empty() {
        // The whole-string problems already start with "objects …": print them as they are,
        // item problems with their path.
        let said: Vec<String> = objects_problems
            .iter()
            .map(|pr| {
                if pr.field == "objects" {
                    let mut s = pr.message.clone();
                    if let (Some(l), Some(c)) = (pr.line, pr.column) {
                        s.push_str(&format!(" (line {l}, column {c})"));
                    }
                    s
                } else {
                    pr.to_string()
                }
            })
            .collect();
        // The YAML shape helps only where the string or an item did not parse; an item's
        // field that the provider refuses (`objects.array[0].objectAlias`) is not about it.
        let shape_at_fault = objects_problems.iter().any(|pr| !pr.field.contains("]."));
        let format = if !shape_at_fault || said.iter().any(|s| s.contains("array:")) {
            ""
        } else {
            ". The parameter is a YAML string: `array:` followed by one `- |` string per object, each holding objectName and objectType"
        };
        let mut f = cx.remedied(
            Code::KVC705,
            cx.spc_resource(),
            format!(
                "SecretProviderClass {}: {}{format}",
                cx.spc_name,
                said.join("; ")
            ),
            objects_problems.iter().map(|pr| pr.to_string()).collect(),
        );
        // The edit each problem asks for, where the problem says which.
        let edits: Vec<String> = objects_problems
            .iter()
            .filter_map(|pr| super::object_edits::edit(cx, pr))
            .collect();
        if !edits.is_empty() {
            f.fix = remedy::edit_spc(cx, &edits.join("; ")).into();
        }
        link.findings.push(f);
    }
    // Objects lists are short: a pairwise scan beats building a map per chain. A long list
    // (100,000 items in a hostile SPC took minutes pairwise) gets the map.
    let long = p.objects.len() > PAIRWISE_MAX;
    let mut first_by_file = std::collections::HashMap::new();
    let mut last_by_file: Option<std::collections::HashMap<&str, &crate::spc::SpcObject>> = None;
    for (i, o) in p.objects.iter().enumerate() {
        let file = o.file_name();
        let prev = if long {
            match first_by_file.entry(file) {
                std::collections::hash_map::Entry::Occupied(e) => Some(*e.get()),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(o);
                    None
                }
            }
        } else {
            p.objects[..i].iter().find(|q| q.file_name() == file)
        };
        let Some(prev) = prev else {
            continue;
        };
        // The same item twice: the same payload is written twice under one name and the
        // status holds one id, so nothing is lost; the copy is only to be removed (audit
        // CCC10). Items that differ in anything (type, version, format) overwrite.
        if same_item(prev, o) {
            link.findings.push(cx.finding(
                Code::KVC706,
                cx.spc_resource(),
                format!(
                    "objects[{}] of SecretProviderClass {} lists {} again as objects[{}] does, to the same file {file}: the same content is written twice, nothing is lost",
                    o.index, cx.spc_name, o.object_name, prev.index
                ),
                vec![format!("objects[{}] and objects[{}]: objectName {}, objectType {}", prev.index, o.index, o.object_name, o.object_type_raw)],
                remedy::commands(cx, Code::KVC706).0,
                remedy::edit_spc(cx, &format!("objects: remove objects[{}], a copy of objects[{}]", o.index, prev.index)),
            ));
            if let Some(f) = link.findings.last_mut() {
                f.severity = crate::chain::model::Severity::Info;
            }
            continue;
        }
        // A plain file beside an object's version directory of the same name (`multi` and
        // `multi/0`): the driver's atomic writer makes one and then fails on the other, so
        // the whole mount fails (FileWriteError, [D] writePayloadToDir); nothing is
        // overwritten (audit CCC7).
        if prev.writes_versions() != o.writes_versions() {
            let (single, versions) = if o.writes_versions() {
                (prev, o)
            } else {
                (o, prev)
            };
            link.findings.push(clash(
                cx,
                format!(
                    "objects[{}] {} of SecretProviderClass {} is written as file {file} where objects[{}] {} writes its versions into directory {file}/ (objectVersionHistory): {FILE_AND_DIRECTORY}, so every mount of the volume fails",
                    single.index, single.object_name, cx.spc_name, versions.index, versions.object_name
                ),
                vec![
                    format!("objects[{}]: objectName {}, file {file}", single.index, single.object_name),
                    format!("objects[{}]: objectName {}, files {file}/0, {file}/1, …", versions.index, versions.object_name),
                ],
                single.index,
            ));
            continue;
        }
        // Two payloads under one path: the driver keeps the later one (its file map is
        // filled in the provider's order), so the file and every synced key read from it hold
        // the later object's value (audit CCC8).
        let winner = match long {
            // A long list's last writer of each file, worked out once (a scan per clash was
            // quadratic in a hostile SPC).
            true => *last_by_file
                .get_or_insert_with(|| p.objects.iter().map(|q| (q.file_name(), q)).collect())
                .get(file)
                .unwrap_or(&o),
            false => p.objects[i..]
                .iter()
                .rfind(|q| q.file_name() == file)
                .unwrap_or(o),
        };
        let keys = synced_keys_of(cx, file);
        let carried = if keys.is_empty() {
            String::new()
        } else {
            format!(
                ", and {} carr{} it",
                keys.join(", "),
                if keys.len() == 1 { "ies" } else { "y" }
            )
        };
        link.findings.push(clash(
            cx,
            format!(
                "objects {} and {} of SecretProviderClass {} both mount as file {file}: one overwrites the other (the file holds objects[{}] {}'s value, the last written{carried})",
                prev.object_name, o.object_name, cx.spc_name, winner.index, winner.object_name
            ),
            vec![format!(
                "objects[{}]: objectName {}, objectAlias {}",
                o.index,
                o.object_name,
                o.object_alias.as_deref().unwrap_or("(none)")
            )],
            o.index,
        ));
    }
}

/// KVC706 for two items writing one path, fixed by giving `objects[rename]` an alias of its own.
fn clash(cx: &Ctx, message: String, evidence: Vec<String>, rename: usize) -> Finding {
    let (confirm, fix) = remedy::commands(cx, Code::KVC706);
    cx.finding(
        Code::KVC706,
        cx.spc_resource(),
        message,
        evidence,
        confirm,
        fix.replace(
            "parameters.objects",
            &format!("give objects[{rename}] a distinct objectAlias"),
        ),
    )
}

/// What a KVC706 file-and-directory clash says: the driver's write of the mount fails, so the
/// finding is one that fails every mount ([`super::mount_blocker`]).
pub(crate) const FILE_AND_DIRECTORY: &str = "the driver cannot write both";

/// Whether two different objects write one file that a secretObjects entry reads: its synced
/// key holds the later object's value, whatever the Sync link's own checks say (CCC8).
pub(crate) fn overwrites_synced_key(cx: &Ctx) -> bool {
    let Some(p) = cx.params.as_deref() else {
        return false;
    };
    // Grouped by file, once: a pairwise scan was quadratic in a long (hostile) list.
    let mut by_file: std::collections::HashMap<&str, Vec<&crate::spc::SpcObject>> =
        std::collections::HashMap::new();
    for o in &p.objects {
        by_file.entry(o.file_name()).or_default().push(o);
    }
    by_file.iter().any(|(file, writers)| {
        let first = writers[0];
        writers[1..]
            .iter()
            .any(|o| !same_item(first, o) && first.writes_versions() == o.writes_versions())
            && !synced_keys_of(cx, file).is_empty()
    })
}

/// The synced Secret keys read from mounted file `file` (`Secret s key k`), in the SPC's order.
fn synced_keys_of(cx: &Ctx, file: &str) -> Vec<String> {
    cx.spc
        .into_iter()
        .flat_map(|spc| spc.secret_objects.iter())
        .flat_map(|so| {
            (so.data.iter())
                .filter(|d| d.object_name == file)
                .map(|d| format!("synced Secret {} key {}", so.secret_name, d.key))
        })
        .collect()
}

/// Whether two `objects` items ask for the same thing (what the provider writes depends on
/// these alone).
fn same_item(a: &crate::spc::SpcObject, b: &crate::spc::SpcObject) -> bool {
    a.object_name == b.object_name
        && a.object_type == b.object_type
        && a.object_version == b.object_version
        && a.object_version_history == b.object_version_history
        && a.object_format == b.object_format
        && a.object_encoding == b.object_encoding
        && a.file_permission == b.file_permission
}
