//! Edits of the pod spec where its owner keeps it: the workload's template (made to reach the
//! pods where its controller holds it back: a paused Deployment resumed, an OnDelete owner's
//! pods deleted), a Job re-created from its manifest, a static pod's file on its node, a bare
//! pod recreated.

use super::paused;
use crate::chain::context::Ctx;
use crate::snapshot::PodObs;

/// Change `what` in the pod spec: on the workload's template, or, for a pod nothing owns, by
/// recreating the pod (a pod's spec cannot be edited in place, but for its images).
/// A paused Deployment's edit ends with the resume that rolls it out, an OnDelete owner's with
/// its pods deleted ([`paused::rolled_in`]).
pub(crate) fn edit_owner(cx: &Ctx, what: &str) -> String {
    if cx.template && !matches!(cx.workload, Some(("Job", _))) {
        let edit = format!(
            "kubectl edit {} -n {}  # {what}",
            cx.owner_kubectl(),
            cx.ns()
        );
        return paused::rolled_in(cx, cx.pod, cx.workload, edit, EDITED);
    }
    edit_pod_owner(cx, cx.pod, cx.workload, what)
}

/// What a template edit changes, as [`paused::rolled_in`] says it.
const EDITED: &str = "the edited template";

/// [`edit_owner`] for pod `pod` of the chain's namespace owned by `workload` (a consumer of
/// the chain's Secret need not be the chain's pod).
pub(crate) fn edit_pod_owner(
    cx: &Ctx,
    pod: &PodObs,
    workload: Option<(&str, &str)>,
    what: &str,
) -> String {
    let ns = cx.ns();
    let name = &pod.name;
    let edit = match workload {
        // The API server refuses any change of a Job's pod template (immutable): the Job is
        // re-created from its manifest.
        Some(("Job", n)) => {
            // `check -f` knows the Job's file: the edit is made there and the Job re-created
            // from it (audit LL9), as one command like a bare pod's, so the pasted fix runs
            // it (audit PP5: a `#` note ran nothing).
            let job = cx.ix.workload(ns, "Job", n);
            let file = job.and_then(|w| w.file.as_deref());
            match file {
                // A file holding other objects is never applied whole (audit TT2: an SPC
                // still a template would overwrite the rendered live one): the edit is made
                // there, the Job re-created from its document alone.
                Some(file) if job.is_some_and(|w| w.file_shared) => {
                    let file = super::sh_word(file);
                    format!(
                        "${{EDITOR:-vi}} {file}  # {what}; then re-create the Job from its document alone (a Job's pod template cannot be changed; the file holds other objects, which applying it whole would re-apply as written): kubectl delete job {n} -n {ns} --ignore-not-found && kubectl apply -n {ns} -f <a file holding only the Job's document>"
                    )
                }
                Some(file) => {
                    let file = super::sh_word(file);
                    format!(
                        "${{EDITOR:-vi}} {file} && kubectl delete job {n} -n {ns} --ignore-not-found && kubectl apply -n {ns} -f {file}  # {what} (a Job's pod template cannot be changed: this re-creates the Job from its manifest)"
                    )
                }
                None => format!(
                    "# a Job's pod template cannot be changed: in its manifest, {what}; then re-create it: kubectl delete job {n} -n {ns} --ignore-not-found && kubectl apply -f <the Job's manifest>"
                ),
            }
        }
        Some(("Node", n)) => static_pod_edit(n, what),
        Some((k, n)) => format!(
            "kubectl edit {}/{n} -n {ns}  # {what}{}",
            k.to_ascii_lowercase(),
            operator_note(cx, k, n)
        ),
        // `check -f` knows the bare pod's file when it holds that pod alone: the edit is made
        // there, then the pod is re-created from it (the running pod's spec, through `kubectl
        // get`, would be the old one). A file holding other objects is never re-applied (audit
        // TT2: an SPC still a template would overwrite the rendered live one, a ServiceAccount
        // undo another fix's annotate): the loader forgets it, and the live pod is edited.
        None => match pod.file.as_deref() {
            Some(file) => {
                let file = super::sh_word(file);
                format!(
                    "${{EDITOR:-vi}} {file} && kubectl delete pod {name} -n {ns} --ignore-not-found && kubectl apply -n {ns} -f {file}  # {what} (a pod's spec cannot be edited in place: this recreates it from its manifest)"
                )
            }
            // The live pod's YAML goes to a directory of its own: written where the fix is
            // pasted, it would overwrite a file of that name there, the user's manifest
            // perhaps (audit UU2: `> tool.yaml` emptied it before `kubectl get` even ran).
            None => format!(
                "POD_YAML=$(mktemp -d)/{name}.yaml && kubectl get pod {name} -n {ns} -o yaml > \"$POD_YAML\" && ${{EDITOR:-vi}} \"$POD_YAML\" && kubectl replace --force -f \"$POD_YAML\"  # {what} (a pod's spec cannot be edited in place: this recreates it)"
            ),
        },
    };
    paused::rolled_in(cx, pod, workload, edit, EDITED)
}

/// A workload whose controller owner is another object (an operator's custom resource,
/// Kubernetes docs "Owners and Dependents"): that controller manages it and may put an edit of
/// its template back, so the change belongs in the owner too (audit UUU-honest). Empty when
/// nothing controls it.
fn operator_note(cx: &Ctx, kind: &str, name: &str) -> String {
    let Some(up) =
        (cx.ix.workload(cx.ns(), kind, name)).and_then(|w| w.owners.iter().find(|o| o.controller))
    else {
        return String::new();
    };
    format!(
        "; {kind}/{name} is controlled by {}/{} (its ownerReferences), which may put its template back: make the same change in {}/{} too",
        up.kind, up.name, up.kind, up.name
    )
}

/// A static pod (its mirror is owned by its Node) lives in a manifest file on that node; the
/// API's copy is a mirror, and deleting it restarts nothing (the kubelet re-creates the
/// mirror of the pod it still runs).
fn static_pod_edit(node: &str, what: &str) -> String {
    format!(
        "# static pod of node {node}: in its manifest file on {node} (the kubelet's staticPodPath, /etc/kubernetes/manifests by default), {what}; the kubelet re-creates the pod when the file changes (kubectl cannot: deleting the mirror pod restarts nothing)"
    )
}

/// KVC102's edit: the volume mounted as a directory instead of one file through `subPath`
/// (a copy taken at start, never updated). Without the subPath the mount path becomes a
/// directory holding the file, so the path the app reads changes: the edit says where the file
/// then is, and that the app must read it there.
pub(crate) fn mount_as_directory(
    cx: &Ctx,
    container: &str,
    m: &crate::snapshot::MountObs,
) -> String {
    let sub = m.sub_path.as_deref().unwrap_or_default();
    let found = (cx.pod.containers.iter()).find(|c| c.name == container);
    let mounts = found.map_or(&[][..], |c| &c.mounts[..]);
    // The volume already mounted whole in this container: that directory has the file, and
    // a second mount of it would only repeat it.
    if let Some(whole) = mounts
        .iter()
        .find(|o| o.volume == m.volume && o.sub_path.is_none())
    {
        return edit_owner(
            cx,
            &format!(
                "container {container}: remove the volumeMount of {} at {} (subPath {sub}); the volume is mounted whole at {} already, so point the app at {}/{sub} instead of {} (rotated content reaches it there)",
                m.volume,
                m.path,
                whole.path,
                whole.path.trim_end_matches('/'),
                m.path
            ),
        );
    }
    // A directory no other mount of the container uses (the API refuses two mounts at one
    // path). Each subPath mount of this volume in the container has a KVC102 of its own, all
    // printed at once: each gets a directory of its own, in their order, so applying every
    // fix gives no two mounts one path (audit LL5).
    let candidates = [
        format!("/mnt/{}", m.volume),
        format!("/mnt/{}-files", m.volume),
    ];
    let mut given: Vec<String> = Vec::new();
    for o in mounts
        .iter()
        .filter(|o| o.volume == m.volume && o.sub_path.is_some())
    {
        let dir = super::free_mount_path(found, &candidates, &given);
        if o == m {
            break;
        }
        given.push(dir);
    }
    let dir = super::free_mount_path(found, &candidates, &given);
    edit_owner(
        cx,
        &format!(
            "container {container}, volumeMount {} at {}: remove subPath {sub} and set mountPath to a directory of its own ({dir}, say): the file is then {dir}/{sub}, so point the app at that path instead of {} (rotated content reaches it there)",
            m.volume, m.path, m.path
        ),
    )
}

/// `kubectl set env` of each `(container, assignment)` (`VAR=value`, or `VAR-` to remove it)
/// on the owner's pod template, for the kinds whose template it edits and rolls out (a
/// CronJob's next run); a paused or OnDelete owner gets the step that brings the change to
/// its pods ([`paused::rolled_in`]). `None` for a Job (its template is immutable) or a bare
/// pod: the caller edits the owner another way.
pub(crate) fn set_env(cx: &Ctx, entries: &[(&str, String)], note: &str) -> Option<String> {
    let Some((kind @ ("Deployment" | "StatefulSet" | "DaemonSet" | "CronJob"), name)) = cx.workload
    else {
        return None;
    };
    let set = entries
        .iter()
        .map(|(c, assignment)| {
            format!(
                "kubectl set env {}/{name} -n {} -c {} {assignment}",
                kind.to_ascii_lowercase(),
                cx.ns(),
                super::sh_word(c)
            )
        })
        .collect::<Vec<_>>()
        .join(" && ");
    let set = match note {
        "" => set,
        note => format!("{set}  # {note}"),
    };
    Some(paused::rolled_in(
        cx,
        cx.pod,
        cx.workload,
        set,
        "the template kubectl set env changes",
    ))
}
