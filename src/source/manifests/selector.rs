//! A workload's selector as the API server validates it, so a workload it refuses is not
//! diagnosed as if it ran.
//!
//! apps/v1 Deployments, StatefulSets, DaemonSets and ReplicaSets need `spec.selector`
//! (`spec.selector: Required value`), a non-empty one (`empty selector is invalid`), and it
//! must select their own pod template (`spec.template.metadata.labels: Invalid value: …:
//! `selector` does not match template `labels``): Kubernetes' apps validation
//! (ValidateDeploymentSpec and its kin). The typed value reads a missing selector as an empty
//! one, so such a workload read as healthy while `kubectl apply` refuses it and no pod exists.
//! Jobs, CronJobs and Argo Rollouts have selector rules of their own (audit TTT-real): see
//! [`job`], [`cron_job`] and the Rollout arm of [`refused`]; a KEDA ScaledJob's Jobs are
//! judged as Jobs ([`scaled_job`], audit UUU-real).

use serde_yaml::Value;

/// The kinds whose selector must select their template.
const KINDS: [&str; 4] = ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"];

/// Why the API server (or, for an Argo Rollout, its controller) refuses workload `value` of
/// `kind` for its selector, if it does. A selector or label still holding a template
/// placeholder is not judged (it may render to a match), nor is an operator the selector
/// grammar does not know.
pub(super) fn refused(value: &Value, kind: &str) -> Option<String> {
    let api_version = value.get("apiVersion").and_then(Value::as_str)?;
    let spec = value.get("spec")?;
    match (kind, api_version) {
        (k, "apps/v1") if KINDS.contains(&k) => {
            let what = format!(
                "the API server refuses the {kind} (kubectl apply says so), and no pod is made from it"
            );
            selects_template(spec, kind, &what, true)
        }
        ("Job", "batch/v1") => job(spec),
        ("CronJob", "batch/v1") => cron_job(spec),
        ("Rollout", v) if v.starts_with("argoproj.io/") => {
            // With workloadRef the selector and template are the referenced Deployment's.
            if spec.get("workloadRef").is_some_and(|w| !w.is_null()) {
                return None;
            }
            let what = "kubectl apply takes the Rollout, but the Argo Rollouts controller refuses it (an InvalidSpec condition) and makes no ReplicaSet, so no pod is made from it";
            selects_template(spec, kind, what, true).map(|why| {
                why.replace(
                    "spec.selector: Required value:",
                    "spec.selector: Required value: Rollout has missing field '.spec.selector':",
                )
            })
        }
        ("ScaledJob", v) if v.starts_with("keda.sh/") => scaled_job(value, spec),
        _ => None,
    }
}

/// A KEDA ScaledJob: its CRD takes `spec.jobTargetRef` as written, and for each event the KEDA
/// operator creates a batch/v1 Job whose spec is a copy of it, its template labelled
/// `scaledjob: <name>` (KEDA `scale_jobs.go`: `Spec: *scaledJob.Spec.JobTargetRef.DeepCopy()`),
/// which the API server validates as any Job ([`job`]): a selector written without
/// `manualSelector: true` is refused, every Job the ScaledJob makes is, and no pod runs. It was
/// read as a workload whose pods run (audit UUU-real).
fn scaled_job(value: &Value, spec: &Value) -> Option<String> {
    let mut target = spec.get("jobTargetRef")?.clone();
    let name = value.get("metadata")?.get("name")?.as_str()?;
    // The label KEDA adds to the template before it creates the Job.
    if let Some(t) = target.get_mut("template").filter(|t| t.is_mapping()) {
        if t.get("metadata").is_none_or(Value::is_null) {
            t["metadata"] = Value::Mapping(Default::default());
        }
        let meta = t.get_mut("metadata").filter(|m| m.is_mapping())?;
        if meta.get("labels").is_none_or(Value::is_null) {
            meta["labels"] = Value::Mapping(Default::default());
        }
        meta.get_mut("labels")?
            .as_mapping_mut()?
            .insert("scaledjob".into(), name.into());
    }
    let what = "kubectl apply takes the ScaledJob, but the API server refuses each Job KEDA makes from spec.jobTargetRef (the KEDA operator logs \"Failed to create a new Job\"), so no pod is made from it";
    job_refused(&target, what).map(|why| {
        why.replace("spec.selector", "spec.jobTargetRef.selector")
            .replace("spec.template.", "spec.jobTargetRef.template.")
            .replace("spec.manualSelector", "spec.jobTargetRef.manualSelector")
    })
}

/// A batch/v1 Job (batch validation, ValidateJob): the API server generates its selector
/// (`batch.kubernetes.io/controller-uid: <uid>`) unless `spec.manualSelector` is true, and
/// refuses one written without it (`spec.selector: Invalid value: …: `selector` not
/// auto-generated`: what a user writes cannot select the uid it does not know yet). With
/// manualSelector the written selector is required and must select the template.
fn job(spec: &Value) -> Option<String> {
    job_refused(
        spec,
        "the API server refuses the Job (kubectl apply says so), and no pod is made from it",
    )
}

/// [`job`] for Job spec `spec`, said with `what`.
fn job_refused(spec: &Value, what: &str) -> Option<String> {
    if spec.get("manualSelector").and_then(Value::as_bool) == Some(true) {
        return selects_template(spec, "Job", what, false);
    }
    let selector = spec.get("selector").filter(|s| !s.is_null())?;
    let has = |key: &str| {
        selector.get(key).is_some_and(|v| match v {
            Value::Mapping(m) => !m.is_empty(),
            Value::Sequence(s) => !s.is_empty(),
            _ => false,
        })
    };
    (has("matchLabels") || has("matchExpressions")).then(|| {
        format!(
            "spec.selector: Invalid value: `selector` not auto-generated (the API server generates a Job's selector unless spec.manualSelector is true; remove spec.selector): {what}"
        )
    })
}

/// A batch/v1 CronJob (ValidateJobTemplateSpec): the Jobs it makes always get a generated
/// selector, so its job template may hold neither a selector nor `manualSelector: true`.
fn cron_job(spec: &Value) -> Option<String> {
    let job = spec.get("jobTemplate")?.get("spec")?;
    let what = "the API server refuses the CronJob (kubectl apply says so), and no Job or pod is made from it";
    if job.get("selector").is_some_and(|s| !s.is_null()) {
        return Some(format!(
            "spec.jobTemplate.spec.selector: Invalid value: `selector` will be auto-generated (remove it): {what}"
        ));
    }
    (job.get("manualSelector").and_then(Value::as_bool) == Some(true)).then(|| {
        format!(
            "spec.jobTemplate.spec.manualSelector: Unsupported value: true: supported values: \"nil\", \"false\": {what}"
        )
    })
}

/// Whether `spec.selector` is there and selects `spec.template`'s labels; `non_empty`: an
/// empty selector is refused too (apps validation: "empty selector is invalid for a …").
fn selects_template(spec: &Value, kind: &str, what: &str, non_empty: bool) -> Option<String> {
    let Some(selector) = spec.get("selector").filter(|s| !s.is_null()) else {
        return Some(format!("spec.selector: Required value: {what}"));
    };
    let labels = spec
        .get("template")
        .and_then(|t| t.get("metadata"))
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_mapping);
    let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(scalar);
    let pairs = selector.get("matchLabels").and_then(Value::as_mapping);
    let exprs = selector
        .get("matchExpressions")
        .and_then(Value::as_sequence);
    if pairs.is_none_or(|p| p.is_empty()) && exprs.is_none_or(|e| e.is_empty()) {
        return non_empty.then(|| {
            format!("spec.selector: Invalid value: empty selector is invalid for a {kind}: {what}")
        });
    }
    let mut unmet = Vec::new();
    for (k, v) in pairs.into_iter().flatten() {
        let (Some(k), Some(v)) = (scalar(k), scalar(v)) else {
            return None;
        };
        if placeholder(&k) || placeholder(&v) || label(&k).is_some_and(|l| placeholder(&l)) {
            return None;
        }
        if label(&k).as_deref() != Some(v.as_str()) {
            unmet.push(format!("{k}={v}"));
        }
    }
    for e in exprs.into_iter().flatten() {
        let key = e.get("key").and_then(scalar)?;
        let values: Vec<String> = (e.get("values").and_then(Value::as_sequence))
            .into_iter()
            .flatten()
            .filter_map(scalar)
            .collect();
        if placeholder(&key) || values.iter().any(|v| placeholder(v)) {
            return None;
        }
        let has = label(&key);
        let met = match e.get("operator").and_then(Value::as_str)? {
            "In" => has.is_some_and(|l| values.contains(&l)),
            "NotIn" => has.is_none_or(|l| !values.contains(&l)),
            "Exists" => has.is_some(),
            "DoesNotExist" => has.is_none(),
            _ => return None,
        };
        if !met {
            unmet.push(format!("{key} {}", e.get("operator")?.as_str()?));
        }
    }
    if unmet.is_empty() {
        return None;
    }
    Some(format!(
        "spec.template.metadata.labels: Invalid value: `selector` does not match template `labels` (the template's labels lack {}): {what}",
        crate::shown::shown(&unmet.join(", "))
    ))
}

/// A label key or value as the API server reads it (a YAML number or boolean is refused as a
/// label value elsewhere; here it is only compared as written).
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn placeholder(s: &str) -> bool {
    crate::chain::rules::params::is_placeholder(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn why(spec: &str) -> Option<String> {
        let v = crate::input::value(&format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: api}}\nspec:\n{spec}"
        ))
        .unwrap();
        refused(&v, "Deployment")
    }

    const TEMPLATE: &str = "  template:\n    metadata: {labels: {app: api, tier: web}}\n    spec: {containers: [{name: c, image: i}]}\n";

    #[test]
    fn a_selector_that_selects_the_template_is_accepted() {
        assert_eq!(
            why(&format!(
                "  selector: {{matchLabels: {{app: api}}}}\n{TEMPLATE}"
            )),
            None
        );
        let exprs = "  selector:\n    matchExpressions:\n    - {key: tier, operator: In, values: [web, api]}\n    - {key: env, operator: DoesNotExist}\n    - {key: app, operator: Exists}\n    - {key: tier, operator: NotIn, values: [db]}\n";
        assert_eq!(why(&format!("{exprs}{TEMPLATE}")), None);
        // A placeholder may render to a match.
        assert_eq!(
            why(&format!(
                "  selector: {{matchLabels: {{app: $APP}}}}\n{TEMPLATE}"
            )),
            None
        );
    }

    #[test]
    fn a_missing_empty_or_unmatched_selector_is_refused_in_the_api_servers_words() {
        let missing = why(TEMPLATE).unwrap();
        assert!(
            missing.starts_with(
                "spec.selector: Required value: the API server refuses the Deployment"
            ),
            "{missing}"
        );
        let empty = why(&format!("  selector: {{}}\n{TEMPLATE}")).unwrap();
        assert!(
            empty.starts_with("spec.selector: Invalid value: empty selector is invalid"),
            "{empty}"
        );
        let other = why(&format!(
            "  selector: {{matchLabels: {{app: web}}}}\n{TEMPLATE}"
        ))
        .unwrap();
        assert!(
            other.starts_with("spec.template.metadata.labels: Invalid value: `selector` does not match template `labels` (the template's labels lack app=web)"),
            "{other}"
        );
        let expr = why(&format!("  selector:\n    matchExpressions: [{{key: tier, operator: In, values: [db]}}]\n{TEMPLATE}")).unwrap();
        assert!(expr.contains("lack tier In)"), "{expr}");
    }
}
