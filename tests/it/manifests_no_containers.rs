//! A workload or pod whose pod spec has no container (audit BB4, FF1-d): `template.spec: null`,
//! `template: null`, `spec: {}` or `containers: []`. The API server's validation requires one
//! (`spec.template.spec.containers: Required value`, as `kubectl apply` prints it), so no pod is
//! ever made from the document. It is listed under Not read naming the document and the field,
//! as an unknown field is (`manifests_unknown_fields`), and makes the exit status 1 (README:
//! "an unread document"), never dropped in silence with exit 0.

const SPC: &str = "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {name: app-kv, namespace: shop}\nspec:\n  provider: azure\n  parameters: {clientID: 0b9c5e1a-7d2f-4c3e-9a8b-1f2e3d4c5b6a, keyvaultName: kv-shop, tenantId: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b, objects: \"array:\\n  - |\\n    objectName: db\\n    objectType: secret\\n\"}\n";

const HEAD: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app, namespace: shop}\nspec:\n  selector: {matchLabels: {app: app}}\n";

fn check(doc: &str) -> (i32, String) {
    let (rc, r, _) = crate::manifest_run::check_docs(&[SPC, doc]);
    (rc, r["unread"].to_string())
}

#[test]
fn a_workload_without_a_container_is_unread_naming_the_field() {
    for (doc, why) in [
        (
            format!("{HEAD}  template:\n    metadata: {{labels: {{app: app}}}}\n    spec: null\n"),
            "spec.template.spec is missing or null",
        ),
        (
            format!("{HEAD}  template: null\n"),
            "spec.template.spec is missing or null",
        ),
        (
            format!("{HEAD}  template:\n    metadata: {{labels: {{app: app}}}}\n    spec: {{}}\n"),
            "no containers listed",
        ),
        (
            format!(
                "{HEAD}  template:\n    metadata: {{labels: {{app: app}}}}\n    spec: {{containers: []}}\n"
            ),
            "no containers listed",
        ),
    ] {
        let (rc, said) = check(&doc);
        assert!(
            said.contains("document 2: Deployment/app")
                && said.contains(&format!(
                    "spec.template.spec.containers: Required value ({why})"
                )),
            "{doc}\n{said}"
        );
        assert_eq!(rc, 1, "an unread document fails the check: {said}");
    }
}

#[test]
fn a_cron_job_and_a_pod_name_their_own_paths() {
    let cron = "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: nightly, namespace: shop}\nspec:\n  schedule: '0 1 * * *'\n  jobTemplate:\n    spec:\n      template:\n        spec: null\n";
    let (_, said) = check(cron);
    assert!(
        said.contains("CronJob/nightly")
            && said.contains("spec.jobTemplate.spec.template.spec.containers: Required value"),
        "{said}"
    );
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: one, namespace: shop}\nspec: {}\n";
    let (_, said) = check(pod);
    assert!(
        said.contains("Pod/one") && said.contains("spec.containers: Required value"),
        "{said}"
    );
}

#[test]
fn a_workload_with_a_container_is_read() {
    let doc = format!(
        "{HEAD}  template:\n    metadata: {{labels: {{app: app}}}}\n    spec:\n      containers: [{{name: c, image: i}}]\n"
    );
    let (rc, said) = check(&doc);
    assert_eq!(said, "[]");
    assert_eq!(rc, 0);
}

/// A pod spec the API server's validation (ValidatePodSpec) refuses for a duplicate: two
/// volumes of one name (`spec.volumes[1].name: Duplicate value: "kv"`), or two mounts of one
/// container at one mountPath (`…volumeMounts[1].mountPath: Invalid value: "/mnt/kv": must be
/// unique`). kubectl apply is refused, so no pod is made: the document is listed under Not
/// read naming file, object and field, exit status 1, as a pod spec without container is.
/// With the duplicate renamed the document is read.
#[test]
fn duplicate_volume_names_and_mount_paths_are_refused_naming_the_field() {
    let volume = |name: &str| {
        format!(
            "{{name: {name}, csi: {{driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {{secretProviderClass: app-kv}}}}}}"
        )
    };
    let deployment = |second: &str| {
        format!(
            "{HEAD}  template:\n    metadata: {{labels: {{app: app}}}}\n    spec:\n      containers: [{{name: c, image: i, volumeMounts: [{{name: kv, mountPath: /mnt/kv, readOnly: true}}]}}]\n      volumes: [{}, {}]\n",
            volume("kv"),
            volume(second)
        )
    };
    let (rc, said) = check(&deployment("kv"));
    assert!(
        said.contains("m.yaml")
            && said.contains("document 2: Deployment/app")
            && said.contains(r#"spec.template.spec.volumes[1].name: Duplicate value: \"kv\""#),
        "{said}"
    );
    assert_eq!(rc, 1, "an unread document fails the check: {said}");
    // Read, the chain is diagnosed (its findings are the rules', not a refusal).
    let (_, said) = check(&deployment("kv-2"));
    assert_eq!(said, "[]", "distinct names are read");

    let pod = |second: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: one, namespace: shop}}\nspec:\n  containers:\n  - name: c\n    image: i\n    volumeMounts:\n    - {{name: kv, mountPath: /mnt/kv, readOnly: true}}\n    - {{name: other, mountPath: {second}, readOnly: true}}\n  volumes: [{}, {}]\n",
            volume("kv"),
            volume("other")
        )
    };
    let (rc, said) = check(&pod("/mnt/kv"));
    assert!(
        said.contains("document 2: Pod/one")
            && said.contains(
                r#"spec.containers[0].volumeMounts[1].mountPath: Invalid value: \"/mnt/kv\": must be unique"#
            ),
        "{said}"
    );
    assert_eq!(rc, 1, "{said}");
    let (_, said) = check(&pod("/mnt/other"));
    assert_eq!(said, "[]", "distinct paths are read");
}
