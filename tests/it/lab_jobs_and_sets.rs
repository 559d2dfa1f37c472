//! Jobs and StatefulSets in the lab against Kubernetes' controllers and FACTS (audit ZZ):
//! a pod that never mounted runs no container, so its readers wait on the root cause whatever
//! the owner's kind (ZZ3); Reloader's advice deletes no StatefulSet pod that merely waits for
//! its mount (ZZ1); a Job pod's delete counts as a failure against `backoffLimit`, so at the
//! limit the restart is refused and the lab makes no new pod (ZZ2); a finished Job pod holds no
//! client id (ZZ4); `rolloutRestart` takes only what kubectl restarts (ZZ5); the Job
//! controller's labels (ZZ6); a fault acts on a StatefulSet too, and with nothing mounting says so (ZZ7); a finding two workloads
//! share is pointed at from the second (ZZ8).

use std::path::Path;
use std::time::Duration;

use kvchain::chain::{self, Chain, Code, Finding, LinkKind, Severity, Status};
use kvchain::source::lab::world::World;
use kvchain::source::lab::{export, scenario};

use crate::demo_world::{CLIENT, Head};

const OTHER_CLIENT: &str = "0d0d0d0d-1e1e-4f2f-8a3a-4b4b4b4b4b4b";

/// The pod spec every workload here runs: an env reader of Secret `api-db` that mounts SPC
/// `api-kv`, as service account `api`.
const POD_SPEC: &str = "    metadata:
      labels: {app: APP, azure.workload.identity/use: 'true'}
    spec:
      serviceAccountName: api
      restartPolicy: RESTART
      containers:
        - name: app
          image: mcr.microsoft.com/azurelinux/busybox:1.36
          env:
            - name: DB_PASSWORD
              valueFrom: {secretKeyRef: {name: api-db, key: password}}
          volumeMounts:
            - {name: secrets-store, mountPath: /mnt/secrets-store, readOnly: true}
      volumes:
        - name: secrets-store
          csi:
            driver: secrets-store.csi.k8s.io
            readOnly: true
            volumeAttributes: {secretProviderClass: api-kv}";

fn template(app: &str, restart: &str) -> String {
    POD_SPEC.replace("APP", app).replace("RESTART", restart)
}

fn job(name: &str, backoff: Option<i32>) -> String {
    let backoff = backoff.map_or(String::new(), |b| format!("  backoffLimit: {b}\n"));
    format!(
        "apiVersion: batch/v1
kind: Job
metadata: {{name: {name}, namespace: demo}}
spec:
{backoff}  template:
{}",
        template(name, "Never")
    )
}

fn stateful_set(name: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: {name}, namespace: demo}}
spec:
  replicas: 1
  serviceName: {name}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
{}",
        template(name, "Always")
    )
}

fn deployment(name: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: demo}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: {name}}}}}
  template:
{}",
        template(name, "Always")
    )
}

fn base(granted: bool, sa_client: &str, cluster_extra: &str) -> String {
    let mut head = Head::db_password("jobs", VAULT_OBJECTS);
    head.role = head.role.filter(|_| granted);
    Head {
        sa_client,
        cluster_extra,
        ..head
    }
    .docs()
}

/// The vault's one secret.
const VAULT_OBJECTS: &str = "  secrets:\n    - {name: db-password, value: jobs-canary-value-5d1}\n";

fn parse(docs: &str) -> Result<scenario::Scenario, String> {
    scenario::parse("jobs", Path::new("jobs.yaml"), docs).map_err(|e| e.to_string())
}

fn world(docs: &str) -> World {
    World::new(parse(docs).expect("scenario loads"))
}

fn docs(parts: &[&str]) -> String {
    parts.join("\n---\n")
}

fn at(w: &mut World, secs: u64) -> Vec<Chain> {
    let done = w.clock.elapsed();
    w.advance(Duration::from_secs(secs).saturating_sub(done));
    chain::diagnose(&export::snapshot(w))
}

fn found(chains: &[Chain], code: Code) -> Vec<Finding> {
    (chains.iter().flat_map(|c| c.findings()))
        .filter(|f| f.code == code)
        .cloned()
        .collect()
}

fn job_pods(w: &World) -> Vec<String> {
    (w.pods.values())
        .filter(|p| p.controller().is_some_and(|o| o.kind == "Job"))
        .map(|p| p.meta.name.clone().unwrap_or_default())
        .collect()
}

/// ZZ3. A Job pod whose mount fails (no grant) starts no container: its Consumers link is
/// blocked by Access like a Deployment's, never ✓ because its KVC902 is information.
#[test]
fn a_job_pod_that_never_mounted_has_its_readers_blocked_by_the_root_cause() {
    let mut w = world(&docs(&[&base(false, CLIENT, ""), &job("migrate", None)]));
    let chains = at(&mut w, 300);
    assert!(!found(&chains, Code::KVC501).is_empty(), "{chains:#?}");
    let kvc902 = found(&chains, Code::KVC902);
    assert!(
        kvc902.iter().any(|f| f.severity == Severity::Info),
        "{kvc902:#?}"
    );
    for c in &chains {
        let consumers = c.link(LinkKind::Consumers);
        assert_eq!(consumers.status, Status::Pending, "{c:#?}");
        assert_eq!(&*consumers.summary, "blocked: Access", "{c:#?}");
    }
}

/// ZZ1. Reloader's annotation changes no template now: a StatefulSet pod waiting for its
/// mount (blocked upstream, or just starting) is no reason to delete it, which would only
/// make the same pod wait again.
#[test]
fn reloader_advice_deletes_no_statefulset_pod_that_waits_for_its_mount() {
    for (granted, secs) in [(false, 300), (true, 0)] {
        let mut w = world(&docs(&[&base(granted, CLIENT, ""), &stateful_set("web")]));
        let chains = at(&mut w, secs);
        let kvc902 = found(&chains, Code::KVC902);
        assert!(!kvc902.is_empty(), "granted {granted}: {chains:#?}");
        for f in &kvc902 {
            assert!(f.fix.contains("kubectl annotate statefulset/web"), "{f:#?}");
            assert!(!f.fix.contains("kubectl delete pod"), "{f:#?}");
        }
    }
}

/// ZZ2. Kubernetes' Job controller counts a pod deleted before it succeeded as failed and,
/// past `backoffLimit`, fails the Job and makes no new pod: with `backoffLimit: 0` a restart
/// by delete ends the run, so the fix refuses it and says how to run again; the lab's Job
/// makes no new pod either. Within the limit (6 when unset) a new pod comes.
#[test]
fn a_job_pods_restart_counts_against_its_backoff_limit() {
    let rotate = "apiVersion: lab.kvchain.dev/v1
kind: Timeline
metadata: {name: rotate}
spec:
  events:
    - at: 3m
      rotateSecret: {vault: kv-jobs, name: db-password, value: jobs-canary-rotated-9e2}";
    let mut w = world(&docs(&[
        &base(true, CLIENT, ""),
        &job("migrate", Some(0)),
        rotate,
    ]));
    let chains = at(&mut w, 300);
    let stale = found(&chains, Code::KVC901);
    assert!(!stale.is_empty(), "{chains:#?}");
    for f in &stale {
        assert!(!f.fix.contains("kubectl delete pod"), "{f:#?}");
        assert!(f.fix.contains("ends Job migrate"), "{f:#?}");
        assert!(f.fix.contains("backoffLimit is 0"), "{f:#?}");
    }

    for (backoff, comes_back) in [(Some(0), false), (None, true)] {
        let mut w = world(&docs(&[&base(true, CLIENT, ""), &job("migrate", backoff)]));
        at(&mut w, 30);
        let first = job_pods(&w);
        assert_eq!(first.len(), 1, "{first:?}");
        w.delete_pod("demo", &first[0]).expect("the pod is there");
        at(&mut w, 120);
        let after = job_pods(&w);
        assert_eq!(
            !after.is_empty(),
            comes_back,
            "backoffLimit {backoff:?}: {after:?}"
        );
        if comes_back {
            assert_ne!(after, first, "a new pod");
        }
    }
}

/// ZZ4. A finished Job pod holds nothing: KVC204 says no pod of the account runs, and that the
/// next one is created with the annotation's id, not that running pods hold another id or
/// that no pod is labelled.
#[test]
fn a_client_id_mismatch_with_only_finished_pods_says_so() {
    let mut w = world(&docs(&[
        &base(true, OTHER_CLIENT, ""),
        &job("migrate", None),
    ]));
    at(&mut w, 60);
    let mut snap = export::snapshot(&w);
    for p in snap.pods.items.iter_mut() {
        p.phase = "Succeeded".into();
    }
    let chains = chain::diagnose(&snap);
    let kvc204 = found(&chains, Code::KVC204);
    assert!(!kvc204.is_empty(), "{chains:#?}");
    for f in &kvc204 {
        assert!(f.message.contains("no pod of it runs now"), "{f:#?}");
        assert!(!f.message.contains("running pods still hold"), "{f:#?}");
        assert!(!f.fix.contains("KVC201"), "{f:#?}");
        assert!(!f.fix.contains("is labelled"), "{f:#?}");
    }
}

/// ZZ4. A CronJob's finished run and its template are two chains of one cause: the template's
/// KVC204 says what the account's pods hold in the words the pod's chain uses, so the reports
/// show it once, not twice with two stories.
#[test]
fn a_cron_jobs_finished_run_and_its_template_give_one_client_id_finding() {
    let mut w = world(&docs(&[
        &base(true, OTHER_CLIENT, ""),
        &job("migrate", None),
    ]));
    at(&mut w, 60);
    let mut snap = export::snapshot(&w);
    let cron = kvchain::snapshot::OwnerRef {
        kind: "CronJob".into(),
        name: "nightly".into(),
        uid: "c0c0c0c0-0000-4000-8000-000000000001".into(),
        controller: true,
    };
    let mut template = snap.pods.items[0].clone();
    for p in snap.pods.items.iter_mut() {
        p.phase = "Succeeded".into();
    }
    template.name = "nightly".into();
    template.uid = String::new().into();
    template.phase = String::new().into();
    template.owners = Vec::new();
    template.template_of = Some(cron.clone());
    for w in snap.workloads.items.iter_mut().filter(|w| w.kind == "Job") {
        w.owners = vec![cron.clone()];
    }
    snap.workloads.items.push(kvchain::snapshot::WorkloadObs {
        kind: "CronJob".into(),
        namespace: "demo".into(),
        name: "nightly".into(),
        uid: cron.uid.to_string(),
        template: Some(Box::new(template)),
        ..Default::default()
    });
    let chains = chain::diagnose(&snap);
    assert!(
        chains.iter().any(|c| c.pod == "nightly"),
        "the template has a chain: {chains:#?}"
    );
    let kvc204 = found(&chains, Code::KVC204);
    assert!(
        kvc204.len() >= 2,
        "the run's and the template's: {kvc204:#?}"
    );
    for f in &kvc204 {
        assert!(f.message.contains("no pod of it runs now"), "{f:#?}");
    }
    let text = kvchain::report::text(&snap, &chains, false);
    assert_eq!(
        text.matches("KVC204").count(),
        1,
        "one cause, one finding: {text}"
    );
}

/// ZZ5, ZZ6. kubectl restarts Deployments, DaemonSets and StatefulSets only; a Job's pod
/// carries the Job controller's labels, not a revision hash.
#[test]
fn a_job_is_not_rollout_restarted_and_its_pod_has_the_job_labels() {
    let mut w = world(&docs(&[&base(true, CLIENT, ""), &job("migrate", None)]));
    at(&mut w, 30);
    let refused = w.rollout_restart("Job", "demo", "migrate").unwrap_err();
    assert!(refused.contains("restarting is not supported"), "{refused}");
    let pod = (w.pods.values())
        .find(|p| p.controller().is_some_and(|o| o.kind == "Job"))
        .expect("a Job pod");
    assert_eq!(
        pod.labels.get("job-name").map(String::as_str),
        Some("migrate")
    );
    assert_eq!(
        pod.labels
            .get("batch.kubernetes.io/job-name")
            .map(String::as_str),
        Some("migrate")
    );
    assert!(pod.labels.get("controller-uid").is_some());
    assert!(pod.labels.get("controller-revision-hash").is_none());
}

/// ZZ7, NNN-lab. The trainer faults act on every owner kind: with only a StatefulSet mounting
/// the SPC (and `faultTarget` naming it), a fault acts on it; with no pod or workload mounting
/// one the refusal says so, and what `faultTarget` names.
#[test]
fn a_fault_acts_on_a_statefulset_and_says_why_when_nothing_mounts() {
    let mut w = world(&docs(&[
        &base(true, CLIENT, "  faultTarget: demo/web\n"),
        &stateful_set("web"),
    ]));
    at(&mut w, 30);
    kvchain::source::lab::faults::apply(&mut w, "remove-role-assignment")
        .expect("a StatefulSet is a target");

    let mut w = world(&docs(&[&base(true, CLIENT, "  faultTarget: demo/api\n")]));
    at(&mut w, 30);
    let refused =
        kvchain::source::lab::faults::apply(&mut w, "remove-role-assignment").unwrap_err();
    assert!(
        refused.contains("no workload or pod mounts a SecretProviderClass"),
        "{refused}"
    );
    assert!(refused.contains("faultTarget demo/api"), "{refused}");
}

/// ZZ8. One identity lacking its grant is one finding for every workload reading the vault:
/// printed in full under the first group, and pointed at from the other, whose Access link is
/// broken too.
#[test]
fn a_shared_finding_is_pointed_at_under_every_other_workload() {
    let mut w = world(&docs(&[
        &base(false, CLIENT, ""),
        &deployment("api"),
        &stateful_set("web"),
    ]));
    let chains = at(&mut w, 180);
    let snap = export::snapshot(&w);
    let text = kvchain::report::text(&snap, &chains, false);
    assert_eq!(text.matches("KVC501 error").count(), 2, "{text}");
    let web = &text[text.find("StatefulSet/web").expect("web's group")..];
    assert!(
        web.contains("KVC501 error [access] KeyVault/kv-jobs  the same finding as under demo Deployment/api above"),
        "{text}"
    );
}
