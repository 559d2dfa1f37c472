//! Fixes of `check -f` say the edit to make and the file to apply where the manifests tell:
//! a Job is re-created from its own file (audit LL9); an SPC its own namespace still mounts is
//! copied, not moved (LL6); a near-miss SPC name is each workload's own edit (LL7).

use crate::manifest_run::{check_docs, findings_of};

const SA: &str = "apiVersion: v1
kind: ServiceAccount
metadata: {name: app-sa, namespace: team-a, annotations: {azure.workload.identity/client-id: 11111111-2222-4333-8444-555555555555}}
";

fn spc(name: &str, sync: &str, objects: &str) -> String {
    format!(
        "apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata: {{name: {name}, namespace: team-a}}
spec:
  provider: azure
{sync}  parameters:
    clientID: 11111111-2222-4333-8444-555555555555
    keyvaultName: kv-team-a
    tenantID: 72f988bf-86f1-41af-91ab-2d7cd011db47
    objects: |
{objects}"
    )
}

const ONE_OBJECT: &str = "      array:
        - |
          objectName: db-password
          objectType: secret
";

/// A workload of `kind` (Deployment or Job) named `name` whose volume kv has `attributes`.
fn workload(kind: &str, name: &str, attributes: &str) -> String {
    let (api, extra, restart) = match kind {
        "Job" => ("batch/v1", "", "      restartPolicy: Never\n"),
        _ => ("apps/v1", "  selector: {matchLabels: {app: w}}\n", ""),
    };
    format!(
        "apiVersion: {api}
kind: {kind}
metadata: {{name: {name}, namespace: team-a}}
spec:
{extra}  template:
    metadata: {{labels: {{app: w, azure.workload.identity/use: 'true'}}}}
    spec:
      serviceAccountName: app-sa
{restart}      containers:
      - name: app
        image: busybox
        volumeMounts: [{{name: kv, mountPath: /mnt/kv, readOnly: true}}]
      volumes:
      - {{name: kv, csi: {{driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {{{attributes}}}}}}}
"
    )
}

#[test]
fn a_job_is_re_created_from_the_file_that_defines_it() {
    let job = workload("Job", "migrate", "secretProviderClass: app-kvv");
    let (_, r, file) = check_docs(&[SA, &spc("app-kv", "", ONE_OBJECT), &job]);
    let f = findings_of(&r, "KVC101");
    assert_eq!(f.len(), 1, "{r:#}");
    let fix = f[0]["fix"].as_str().unwrap();
    assert!(!fix.contains("<the Job's manifest>"), "{fix}");
    assert!(
        fix.contains(&format!("kubectl apply -f {file}")),
        "{fix}\nnames not {file}"
    );
    assert!(
        fix.contains("kubectl delete job migrate -n team-a"),
        "{fix}"
    );
}

/// `workload` in namespace `ns` (a copy of [`workload`]'s text with the namespace replaced).
fn in_ns(doc: &str, ns: &str) -> String {
    doc.replace("namespace: team-a", &format!("namespace: {ns}"))
}

#[test]
fn kvc101_copies_an_spc_its_own_namespace_still_mounts_rather_than_moving_it() {
    let agent = workload("Deployment", "agent", "secretProviderClass: app-kv");
    let web = in_ns(
        &workload("Deployment", "web", "secretProviderClass: app-kv"),
        "team-b",
    );
    let sa_b = in_ns(SA, "team-b");
    let docs = [SA, &sa_b, &spc("app-kv", "", ONE_OBJECT), &agent, &web];
    let (_, r, _) = check_docs(&docs);
    let f = findings_of(&r, "KVC101");
    assert_eq!(f.len(), 1, "{r:#}");
    let fix = f[0]["fix"].as_str().unwrap();
    // FACTS §11: moving it would leave agent (team-a) without its SPC.
    assert!(!fix.contains("set metadata.namespace"), "{fix}");
    assert!(
        fix.contains("add a copy of SecretProviderClass app-kv with metadata.namespace: team-b"),
        "{fix}"
    );
    // Applied (a second document in team-b): no KVC101 anywhere.
    let copy = in_ns(&spc("app-kv", "", ONE_OBJECT), "team-b");
    let (_, r, _) = check_docs(&[&docs[..], &[copy.as_str()]].concat());
    assert!(findings_of(&r, "KVC101").is_empty(), "{r:#}");
}

#[test]
fn kvc101_near_miss_gives_each_workload_its_own_edit() {
    let dep = workload("Deployment", "web", "secretProviderClass: app-kvv");
    let job = workload("Job", "migrate", "secretProviderClass: app-kvv");
    let (_, r, file) = check_docs(&[SA, &spc("app-kv", "", ONE_OBJECT), &dep, &job]);
    let f = findings_of(&r, "KVC101");
    assert_eq!(f.len(), 2, "one finding per workload: {r:#}");
    let fixes: Vec<&str> = f.iter().map(|f| f["fix"].as_str().unwrap()).collect();
    assert!(
        fixes
            .iter()
            .any(|x| x.starts_with("kubectl edit deployment/web -n team-a")
                && x.contains("secretProviderClass: app-kv")),
        "{fixes:#?}"
    );
    assert!(
        fixes
            .iter()
            .any(|x| x.contains("kubectl delete job migrate -n team-a")
                && x.contains(&format!("kubectl apply -f {file}"))
                && x.contains("secretProviderClass: app-kv")),
        "{fixes:#?}"
    );
    // Both applied: no KVC101 left.
    let (_, r, _) = check_docs(&[
        SA,
        &spc("app-kv", "", ONE_OBJECT),
        &dep.replace("app-kvv", "app-kv"),
        &job.replace("app-kvv", "app-kv"),
    ]);
    assert!(findings_of(&r, "KVC101").is_empty(), "{r:#}");
}
