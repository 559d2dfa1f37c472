//! Fixes that change a paused Deployment's pod template. While a Deployment is paused
//! (`spec.paused: true`) its controller rolls out no change of the template, until
//! `kubectl rollout resume` (Kubernetes docs, Deployments, "Pausing and Resuming a rollout"):
//! a label patch, `kubectl set env`, an edit, or Reloader's template change at a rotation
//! (FACTS §10), all leave the running pods as they are. Such a fix says so and ends with the
//! resume that rolls the change out. Only a Deployment the snapshot has read as paused: any
//! other owner's fix is left as it is.

use crate::snapshot::Snapshot;

/// Why the template change of Deployment `name` waits for the resume, and what else resuming
/// rolls out; `resumed`: the fix's command resumes it.
fn held(ns: &str, name: &str, change: &str, resumed: bool) -> String {
    let resume = format!("kubectl rollout resume deployment/{name} -n {ns}");
    let then = if resumed {
        format!("so the fix resumes it ({resume})")
    } else {
        format!("until {resume}")
    };
    format!(
        "Deployment {name} is paused (spec.paused): {change} rolls out nothing while it stays paused, {then}, which also rolls out whatever other template change the pause held back"
    )
}

/// The name of `workload` when it is a Deployment of namespace `ns` the snapshot has read as
/// paused; `None` for any other owner, a Deployment running, or one not read.
pub(crate) fn paused_deployment<'w>(
    s: &Snapshot,
    ns: &str,
    workload: Option<(&str, &'w str)>,
) -> Option<&'w str> {
    let ("Deployment", name) = workload? else {
        return None;
    };
    s.workloads
        .items
        .iter()
        .any(|w| w.paused && w.kind == "Deployment" && w.namespace == ns && w.name == name)
        .then_some(name)
}

/// `fix`, which changes the pod template of `workload` (`change` says what the template gets),
/// made to take effect when that is a paused Deployment: the resume after its command, and
/// why in its comment. A fix that is only a comment (nothing to paste) gets the note. Any
/// other owner's fix is returned unchanged.
pub(crate) fn rolled(
    s: &Snapshot,
    ns: &str,
    workload: Option<(&str, &str)>,
    fix: String,
    change: &str,
) -> String {
    let Some(name) = paused_deployment(s, ns, workload) else {
        return fix;
    };
    if let Some(note) = fix.strip_prefix("# ") {
        return format!("# {note}; {}", held(ns, name, change, false));
    }
    let why = held(ns, name, change, true);
    // A trailing comment would swallow a command after it: the resume goes before it.
    let resume = format!("kubectl rollout resume deployment/{name} -n {ns}");
    match fix.split_once("  # ") {
        Some((run, note)) => format!("{run} && {resume}  # {note}; {why}"),
        None => format!("{fix} && {resume}  # {why}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::WorkloadObs;

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

    #[test]
    fn the_resume_goes_before_the_comment() {
        let fix = rolled(
            &snap(true),
            "team",
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
            "team",
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
            "team",
            Some(("Deployment", "api")),
            fix(),
            "x",
        );
        assert_eq!(running, fix());
        let unread = rolled(
            &Snapshot::default(),
            "team",
            Some(("Deployment", "api")),
            fix(),
            "x",
        );
        assert_eq!(unread, fix());
        let other = rolled(
            &snap(true),
            "team",
            Some(("StatefulSet", "api")),
            fix(),
            "x",
        );
        assert_eq!(other, fix());
        let elsewhere = rolled(&snap(true), "prod", Some(("Deployment", "api")), fix(), "x");
        assert_eq!(elsewhere, fix());
    }
}
