//! Fixes about the workload-identity webhook that must work when pasted: KVC205 (the label is
//! there, the webhook's mutation is not), KVC201 per workload kind (a Job's pod template is
//! immutable, a CronJob's lives in its job template), a Job's pod-spec edits, and a missing
//! service account as the one cause of the Federation link's trouble.

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Code, LinkKind, Status};
use kvchain::snapshot::*;

use super::cause_kit::*;

const USE_LABEL: &str = "azure.workload.identity/use";

/// The healthy app whose pod got nothing from the webhook (no token volume, no token file).
fn not_injected() -> Snapshot {
    let mut s = tk::healthy();
    let pod = tk::pod_mut(&mut s, APP);
    pod.volumes.retain(|v| v.name != "azure-identity-token");
    for c in &mut pod.containers {
        c.env.retain(|e| !e.name.starts_with("AZURE_"));
    }
    s
}

/// codes.yaml KVC205: "Install the workload identity webhook (AKS --enable-workload-identity)
/// and recreate the pod." The pod already carries the label: re-applying it is no fix.
#[test]
fn kvc205_installs_the_webhook_and_recreates_the_pod_it_never_relabels() {
    let mut s = not_injected();
    s.cluster.workload_identity_webhook = Observed::Known(false);
    let f = find(&one(&s), Code::KVC205).clone();
    assert!(f.message.contains("not installed"), "{}", f.message);
    assert!(
        crate::xd_paste::after_guards(&f.fix).starts_with("az aks update ")
            && f.fix.contains("--enable-workload-identity"),
        "{}",
        f.fix
    );
    assert!(
        f.fix
            .contains(&format!("kubectl rollout restart deployment/{APP} -n {NS}")),
        "{}",
        f.fix
    );
    assert!(!f.fix.contains("kubectl patch"), "{}", f.fix);
    assert!(!f.fix.contains(USE_LABEL), "{}", f.fix);

    // The webhook may be there (the pod predates the label): recreating is the fix, and
    // installing it is said as a condition, not done first.
    let s = not_injected();
    let f = find(&one(&s), Code::KVC205).clone();
    assert!(
        f.fix
            .starts_with(&format!("kubectl rollout restart deployment/{APP} -n {NS}")),
        "{}",
        f.fix
    );
    assert!(!f.fix.contains("kubectl patch"), "{}", f.fix);
    assert!(
        f.confirm.contains("mutatingwebhookconfiguration"),
        "{}",
        f.confirm
    );
}

/// FACTS §6: the webhook mutates on CREATE only, pods its objectSelector matches then. With
/// the webhook known installed (the helm world of audit FFF), "the webhook is missing" is no
/// cause: what is left is the pod's admission (the label added later, the pod older than the
/// webhook, or a configuration that skips it), and the fix re-admits the pod, installing
/// nothing. Unknown, both are said; known absent, that alone.
#[test]
fn kvc205_with_the_webhook_installed_names_the_admission_not_a_missing_webhook() {
    let mut s = not_injected();
    s.cluster.workload_identity_webhook = Observed::Known(true);
    let f = find(&one(&s), Code::KVC205).clone();
    for gone in ["missing", "not installed"] {
        assert!(!f.message.contains(gone), "{gone}: {}", f.message);
    }
    for cause in [
        "is installed",
        "CREATE only",
        "after it was created",
        "predates the webhook",
        "namespaceSelector",
        "failurePolicy Ignore",
    ] {
        assert!(f.message.contains(cause), "{cause}: {}", f.message);
    }
    assert!(
        f.evidence
            .iter()
            .any(|e| e.contains("webhook is installed")),
        "{:?}",
        f.evidence
    );
    assert!(
        f.fix.starts_with(&format!(
            "kubectl rollout restart deployment/{APP} -n {NS}  # "
        )),
        "{}",
        f.fix
    );
    assert!(!f.fix.contains("az aks"), "{}", f.fix);
    assert!(!f.fix.contains("install it"), "{}", f.fix);
    assert!(
        f.confirm.contains("failurePolicy") && f.confirm.contains("creationTimestamp"),
        "{}",
        f.confirm
    );

    // Unknown: both the missing webhook and the admission.
    let mut s = not_injected();
    s.cluster.workload_identity_webhook =
        Observed::unknown("mutatingwebhookconfigurations: forbidden");
    let f = find(&one(&s), Code::KVC205).clone();
    for cause in ["not installed, or", "CREATE only", "failurePolicy Ignore"] {
        assert!(f.message.contains(cause), "{cause}: {}", f.message);
    }
    assert!(f.fix.contains("--enable-workload-identity"), "{}", f.fix);

    // Known absent: that alone.
    s.cluster.workload_identity_webhook = Observed::Known(false);
    let f = find(&one(&s), Code::KVC205).clone();
    assert!(
        f.message
            .ends_with("the workload-identity webhook is not installed"),
        "{}",
        f.message
    );
    assert!(!f.message.contains("CREATE"), "{}", f.message);
}

/// The healthy app's pod, unlabelled, owned by `owners` (the pod's owner first, each next
/// one owning the one before), as a Job's pods are, or a CronJob's through its Job.
fn unlabelled_owned_by(owners: &[(&str, &str)]) -> Snapshot {
    let mut s = tk::healthy();
    s.workloads.items.clear();
    let pod = tk::pod_mut(&mut s, APP);
    pod.labels.remove(USE_LABEL);
    pod.owners = vec![tk::owner(owners[0].0, owners[0].1)];
    for (i, (kind, name)) in owners.iter().enumerate() {
        s.workloads.items.push(WorkloadObs {
            kind: (*kind).into(),
            namespace: NS.into(),
            name: (*name).into(),
            owners: owners
                .get(i + 1)
                .map(|(k, n)| vec![tk::owner(k, n)])
                .unwrap_or_default(),
            ..WorkloadObs::default()
        });
    }
    s
}

/// Kubernetes: a Job's spec.template is immutable once created (a patch is refused); a
/// CronJob has no spec.template, its pod template is spec.jobTemplate.spec.template.
#[test]
fn kvc201_labels_the_pod_template_where_each_kind_keeps_it() {
    let s = unlabelled_owned_by(&[("ReplicaSet", "api-5d8f7"), ("Deployment", "api")]);
    let f = find(&one(&s), Code::KVC201).clone();
    assert!(
        f.fix.starts_with(&format!(
            "kubectl patch deployment api -n {NS} -p '{{\"spec\":{{\"template\":{{\"metadata\":{{\"labels\":{{\"{USE_LABEL}\":\"true\"}}}}}}}}}}'"
        )),
        "{}",
        f.fix
    );

    let s = unlabelled_owned_by(&[("Job", "reader-28911"), ("CronJob", "reader")]);
    let f = find(&one(&s), Code::KVC201).clone();
    assert!(
        f.fix.starts_with(&format!(
            "kubectl patch cronjob reader -n {NS} -p '{{\"spec\":{{\"jobTemplate\":{{\"spec\":{{\"template\":{{\"metadata\":{{\"labels\":{{\"{USE_LABEL}\":\"true\"}}}}}}}}}}}}}}'"
        )),
        "{}",
        f.fix
    );

    let s = unlabelled_owned_by(&[("Job", "reader")]);
    let f = find(&one(&s), Code::KVC201).clone();
    assert!(!f.fix.contains("kubectl patch"), "{}", f.fix);
    assert!(!f.fix.contains("kubectl edit"), "{}", f.fix);
    assert!(f.fix.contains(USE_LABEL), "{}", f.fix);
    assert!(
        f.fix
            .contains(&format!("kubectl delete job reader -n {NS}")),
        "re-created: {}",
        f.fix
    );
}

/// Any pod-spec edit of a Job is refused the same way: a Job's fix re-creates it, where a
/// Deployment's is edited in place.
#[test]
fn a_jobs_pod_spec_is_changed_by_recreating_the_job() {
    let sub_path = |s: &mut Snapshot| {
        let pod = tk::pod_mut(s, APP);
        let volume = pod
            .volumes
            .iter()
            .find(|v| matches!(v.source, VolumeSourceObs::Csi { .. }))
            .unwrap()
            .name
            .clone();
        for m in pod.containers.iter_mut().flat_map(|c| c.mounts.iter_mut()) {
            if m.volume == volume {
                m.sub_path = Some("password".into());
            }
        }
    };
    let mut s = unlabelled_owned_by(&[("Job", "reader")]);
    tk::pod_mut(&mut s, APP)
        .labels
        .insert(USE_LABEL.into(), "true".into());
    sub_path(&mut s);
    let f = find(&one(&s), Code::KVC102).clone();
    assert!(!f.fix.starts_with("kubectl edit"), "{}", f.fix);
    assert!(
        f.fix
            .contains(&format!("kubectl delete job reader -n {NS}")),
        "{}",
        f.fix
    );

    let mut s = tk::healthy();
    sub_path(&mut s);
    let f = find(&one(&s), Code::KVC102).clone();
    assert!(
        f.fix
            .starts_with(&format!("kubectl edit deployment/{APP} -n {NS}")),
        "{}",
        f.fix
    );
}

/// A pod naming an account that does not exist while another account of its namespace
/// already carries the SPC's client id: the fix points the pod at that account rather than
/// creating a twin. An account of another namespace carrying the same id is not one the pod
/// can run as (a pod's serviceAccountName is of its own namespace), so it is never named.
#[test]
fn a_missing_service_account_fix_names_the_namespaces_account_with_the_client_id() {
    let mut s = tk::healthy();
    let typo = format!("{}x", tk::sa_name(APP));
    for p in &mut s.pods.items {
        p.service_account = typo.as_str().into();
    }
    let mut elsewhere = tk::sa_mut(&mut s, APP).clone();
    elsewhere.namespace = "other".into();
    elsewhere.name = "aaa-first".into();
    s.service_accounts.items.reverse();
    s.service_accounts.items.push(elsewhere);
    s.service_accounts.items.reverse();
    let c = one(&s);
    let f = c
        .findings()
        .find(|f| f.code == Code::KVC202)
        .expect("KVC202");
    assert!(
        f.fix
            .contains(&format!("serviceAccountName: {}", tk::sa_name(APP))),
        "{}",
        f.fix
    );
    assert!(!f.fix.contains("aaa-first"), "{}", f.fix);
}

/// One symptom, one cause: a pod naming a service account that does not exist (a typo) is
/// KVC202; the Federation link waits on it instead of asking for a credential for the typo's
/// subject (which the KVC202 fix makes useless).
#[test]
fn a_missing_service_account_blocks_federation_instead_of_a_second_cause() {
    let mut s = tk::healthy();
    let typo = format!("{}x", tk::sa_name(APP));
    for p in &mut s.pods.items {
        p.service_account = typo.as_str().into();
    }
    let c = one(&s);
    assert_eq!(codes(&c), [Code::KVC202], "{:#?}", c.links);
    assert!(c.findings().all(|f| f.code != Code::KVC401));
    let federation = c.link(LinkKind::Federation);
    assert_eq!(federation.status, Status::Pending);
    assert!(
        federation.summary.starts_with("blocked"),
        "{}",
        federation.summary
    );

    // With the account there, the same credential mismatch is Federation's own cause.
    let mut s = tk::healthy();
    tk::fic_mut(&mut s, APP).subject = "system:serviceaccount:other:nobody".into();
    assert_eq!(codes(&one(&s)), [Code::KVC401]);
}
