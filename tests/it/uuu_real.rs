//! Audit UUU-real: `kvchain check -f` on hostile manifests of our own (tests/fixtures/uuu_real/),
//! each expectation written from the Kubernetes API server's and kubectl's documented words
//! before kvchain was run on it. Values are canaries (`CANARY-uuu-real`): never printed.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::real_kit::unread;

const CANARY: &str = "CANARY-uuu-real";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/uuu_real")
        .join(name)
}

fn check(paths: &[&Path]) -> (i32, Value) {
    super::real_kit::check(paths, CANARY)
}

fn unread_of<'a>(unread: &'a [String], what: &str) -> &'a str {
    unread
        .iter()
        .find(|u| u.contains(what))
        .unwrap_or_else(|| panic!("{what} not listed as unread: {unread:#?}"))
}

/// A field of the wrong type is refused by the API server's decoder, in Go's words: `<Kind> in
/// version "v1" cannot be handled as a <Kind>: json: cannot unmarshal <JSON kind> into Go struct
/// field <innermost struct>.<JSON path without indices> of type <Go type>` (apimachinery's JSON
/// decoding; e.g. "cannot unmarshal number into Go struct field LabelSelector.spec.selector.
/// matchLabels of type string"). A custom resource is refused by its CRD's schema: `The
/// SecretProviderClass "x" is invalid: <path>: Invalid value: "boolean": <path> in body must be
/// of type string: "boolean"`. Each document is listed as not read in those words, naming file,
/// object and field; serde's words ("invalid type: …, expected …") are no refusal. The other
/// documents are read (the Deployment `web` makes its chain), and exit 1.
#[test]
fn a_field_of_the_wrong_type_is_refused_in_the_api_servers_words() {
    let file = fixture("type-errors.yaml");
    let (code, r) = check(&[&file]);
    let unread = unread(&r);
    assert_eq!(unread.len(), 6, "{unread:#?}");
    let expect = [
        (
            "Deployment/many",
            "spec.replicas: ",
            "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32",
        ),
        (
            "Pod/quoted-port",
            "spec.containers[0].ports[0].containerPort: ",
            "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32",
        ),
        (
            "StatefulSet/yes-mount",
            "spec.template.spec.containers[0].volumeMounts[0].readOnly: ",
            "StatefulSet in version \"v1\" cannot be handled as a StatefulSet: json: cannot unmarshal string into Go struct field VolumeMount.spec.template.spec.containers.volumeMounts.readOnly of type bool",
        ),
        (
            "Job/env-map",
            "spec.template.spec.containers[0].env: ",
            "Job in version \"v1\" cannot be handled as a Job: json: cannot unmarshal object into Go struct field Container.spec.template.spec.containers.env of type []v1.EnvVar",
        ),
        (
            "ServiceAccount/numbered",
            "metadata.annotations.azure.workload.identity/client-id: ",
            "ServiceAccount in version \"v1\" cannot be handled as a ServiceAccount: json: cannot unmarshal number into Go struct field ObjectMeta.metadata.annotations of type string",
        ),
        (
            "SecretProviderClass/flagged",
            "spec.parameters.usePodIdentity: ",
            "The SecretProviderClass \"flagged\" is invalid: spec.parameters.usePodIdentity: Invalid value: \"boolean\": spec.parameters.usePodIdentity in body must be of type string: \"boolean\"",
        ),
    ];
    for (what, field, said) in expect {
        let u = unread_of(&unread, what);
        assert!(u.starts_with(&file.display().to_string()), "{u}");
        assert!(u.contains(field) && u.contains(said), "{u}");
        assert!(!u.contains("invalid type"), "serde's words: {u}");
    }
    let chains = r["chains"].as_array().expect("chains");
    assert!(
        chains.iter().any(|c| c["workload"] == "Deployment/web"),
        "{chains:#?}"
    );
    assert_eq!(code, 1, "{r:#}");
}

/// The API server refuses an object whose `metadata.name` is no lowercase RFC 1123 subdomain
/// (apimachinery `NameIsDNSSubdomain`; a StatefulSet's must be an RFC 1123 label since
/// Kubernetes 1.27, kubernetes#114172): `metadata.name: Invalid value: "…": a lowercase RFC 1123
/// subdomain must consist of lower case alphanumeric characters, '-' or '.', …`. A template
/// placeholder (`{{ .Release.Name }}-app`, `$APP_NAME`, `${NAME}`) is such a name: the object
/// is never created, so it is not read (no finding, KVC306 included, is about it), and it is
/// said to be unrendered, with the command that checks the render. `db.primary` is a subdomain
/// but no label: a StatefulSet so named is refused too, and is no template.
#[test]
fn a_name_the_api_server_refuses_is_not_read_and_a_placeholder_is_said_unrendered() {
    let (code, r) = check(&[&fixture("names.yaml")]);
    let unread = unread(&r);
    assert_eq!(unread.len(), 4, "{unread:#?}");
    let subdomain = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
    for (what, name) in [
        (
            "Deployment/{{ .Release.Name }}-app",
            "{{ .Release.Name }}-app",
        ),
        ("ServiceAccount/$APP_NAME", "$APP_NAME"),
        ("SecretProviderClass/${NAME}", "${NAME}"),
    ] {
        let u = unread_of(&unread, what);
        assert!(
            u.contains(&format!(
                "metadata.name: Invalid value: \"{name}\": {subdomain}"
            )),
            "{u}"
        );
        assert!(u.contains("the API server refuses"), "{u}");
        assert!(u.contains("unrendered template"), "{u}");
    }
    let sts = unread_of(&unread, "StatefulSet/db.primary");
    assert!(
        sts.contains("metadata.name: Invalid value: \"db.primary\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'"),
        "{sts}"
    );
    assert!(!sts.contains("unrendered"), "{sts}");
    let findings = r["findings"].as_array().expect("findings");
    assert!(
        findings.iter().all(|f| f["code"] != "KVC306"),
        "{findings:#?}"
    );
    assert_eq!(code, 1, "{r:#}");
}

/// KEDA creates each Job of a ScaledJob with `spec.jobTargetRef` copied as its spec and
/// `scaledjob: <name>` added to the template's labels (KEDA `scale_jobs.go`). The API server
/// validates that Job as any Job: a selector written without `manualSelector: true` is refused
/// (`spec.selector: Invalid value: … `selector` not auto-generated`), and with it the selector
/// must select the template (`selector` does not match template `labels`). kubectl apply takes
/// the ScaledJob itself; no Job, so no pod, is ever made from it: listed as not read, naming the
/// jobTargetRef field. `manualSelector` with the label KEDA adds, and no selector at all, are
/// read (their pods run).
#[test]
fn a_scaled_jobs_selector_is_judged_as_its_jobs_are() {
    let (code, r) = check(&[&fixture("scaled-jobs.yaml")]);
    let unread = unread(&r);
    assert_eq!(unread.len(), 2, "{unread:#?}");
    let written = unread_of(&unread, "ScaledJob/written-selector");
    assert!(
        written
            .contains("spec.jobTargetRef.selector: Invalid value: `selector` not auto-generated")
            && written.contains(
                "kubectl apply takes the ScaledJob, but the API server refuses each Job KEDA makes"
            ),
        "{written}"
    );
    let other = unread_of(&unread, "ScaledJob/manual-other");
    assert!(
        other.contains("spec.jobTargetRef.template.metadata.labels: Invalid value: `selector` does not match template `labels` (the template's labels lack app=other)"),
        "{other}"
    );
    let workloads: Vec<&str> = r["chains"]
        .as_array()
        .expect("chains")
        .iter()
        .filter_map(|c| c["workload"].as_str())
        .collect();
    assert!(
        !workloads.contains(&"ScaledJob/written-selector"),
        "{workloads:?}"
    );
    assert_eq!(code, 1, "{r:#}");
}

/// `kubectl apply -k` sends kustomize's render (kustomize docs, "kustomization" fields): a
/// `secretGenerator` names its Secret `<name>-<hash>` and rewrites each reference to it; a
/// patch on a `target` changes that object (here the SPC's vault). Read as the files write
/// them, the render's objects would be diagnosed with a vault and references they never have,
/// so each file such a render holds is not read, naming the kustomization, what it changes and
/// the command that checks the render (`kubectl kustomize DIR | kvchain check -f -`), and no
/// chain is built from them. `images` (no verdict reads an image) and `replicas` (modelled)
/// leave the render readable: read in the overlay's namespace.
#[test]
fn a_kustomization_that_changes_its_objects_is_checked_as_rendered() {
    let (code, r) = check(&[&fixture("kustomize-generated")]);
    let left = unread(&r);
    assert_eq!(left.len(), 1, "{left:#?}");
    assert!(
        left[0].contains("app.yaml: rendered by kustomizations that do not leave it as written")
            && left[0].contains("secretGenerator app-env")
            && left[0].contains("kubectl kustomize "),
        "{left:#?}"
    );
    assert_eq!(r["chains"].as_array().expect("chains").len(), 0, "{r:#}");
    assert_eq!(code, 1, "{r:#}");

    let (code, r) = check(&[&fixture("kustomize-patched")]);
    let left = unread(&r);
    assert_eq!(left.len(), 1, "{left:#?}");
    assert!(
        left[0].contains("base/app.yaml: ")
            && left[0].contains("patches (target SecretProviderClass/api-kv)")
            && left[0].contains("overlays/prod"),
        "{left:#?}"
    );
    assert!(
        !r.to_string().contains("kv-base"),
        "a vault kustomize replaces was diagnosed: {r:#}"
    );
    assert_eq!(code, 1, "{r:#}");

    let (_, r) = check(&[&fixture("kustomize-scaled")]);
    assert!(unread(&r).is_empty(), "{r:#}");
    let chains = r["chains"].as_array().expect("chains");
    assert!(!chains.is_empty(), "{r:#}");
    for c in chains {
        assert_eq!(c["namespace"], "prod", "{c:#}");
    }
}

/// kubectl reads YAML 1.1 (go-yaml v2 under sigs.k8s.io/yaml): a plain `yes`, `on` (and `no`,
/// `off`, `y`, `n` in their cases) is a boolean, a quoted `"yes"` a string. `readOnly: yes` is
/// `true` to the API server: the pod is read (its chain built). `value: yes` in an env entry is
/// sent as `true`, which the API server refuses: `Deployment in version "v1" cannot be handled
/// as a Deployment: json: cannot unmarshal bool into Go struct field EnvVar.spec.template.spec.
/// containers.env.value of type string`; quoted, it is the string and read.
#[test]
fn yaml_1_1_booleans_are_read_as_kubectl_reads_them() {
    let (code, r) = check(&[&fixture("yaml11-booleans.yaml")]);
    let unread = unread(&r);
    assert_eq!(unread.len(), 1, "{unread:#?}");
    let env = unread_of(&unread, "Deployment/env-yes");
    assert!(
        env.contains("spec.template.spec.containers[0].env[0].value: ")
            && env.contains("Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal bool into Go struct field EnvVar.spec.template.spec.containers.env.value of type string"),
        "{env}"
    );
    let chains = r["chains"].as_array().expect("chains");
    for read in ["Pod/mounted-yes", "Deployment/env-quoted"] {
        assert!(
            chains.iter().any(|c| c["workload"] == read
                || c["pod"]
                    .as_str()
                    .is_some_and(|p| format!("Pod/{p}") == read)),
            "{read} not read: {r:#}"
        );
    }
    assert_eq!(code, 1, "{r:#}");
}
