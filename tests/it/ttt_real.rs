//! Audit TTT-real: `kvchain check -f` on real-world shapes and hostile manifests of our own
//! (tests/fixtures/ttt_real/), each expectation written from the Kubernetes API, kubectl and
//! kustomize documents before kvchain was run on it. Vault values are canaries
//! (`CANARY-ttt-re`): never printed.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use super::real_kit::unread;

const CANARY: &str = "CANARY-ttt-re";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ttt_real")
        .join(name)
}

fn run(paths: &[&Path], format: &str) -> Output {
    super::real_kit::run(paths, format, CANARY)
}

fn check(paths: &[&Path]) -> (i32, Value) {
    super::real_kit::check(paths, CANARY)
}

fn chain<'a>(r: &'a Value, resource: &str) -> Option<&'a Value> {
    r["chains"].as_array().expect("chains").iter().find(|c| {
        c["workload"] == resource
            || c["pod"]
                .as_str()
                .is_some_and(|p| format!("Pod/{p}") == resource)
    })
}

fn findings<'a>(r: &'a Value, code: &str) -> Vec<&'a Value> {
    r["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["code"] == code)
        .collect()
}

/// The API server validates a pod spec's nodeSelector as labels (ValidatePodSpec →
/// ValidateLabels: a value is empty or at most 63 alphanumerics, '-', '_' or '.', starting and
/// ending with an alphanumeric) and refuses the object that carries one that is not:
/// `spec.template.spec.nodeSelector: Invalid value: "$NODE_SELECTOR_OS": a valid label must be
/// an empty string or …`. A Deployment, a bare Pod and a CronJob with such values are refused
/// by `kubectl apply`, so, as every document it refuses (README "kvchain check"), each is listed
/// as not read naming its file, document and field in those words, and exit 1. A placeholder
/// that is a valid label value (`REPLACE_ME`) is taken by the API server: read. An Argo
/// Rollout's CRD does not validate its template: the Rollout exists, and the API server refuses
/// each ReplicaSet its controller makes, so no pod runs (KVC106, an error, never "the API server
/// refuses the Rollout itself").
#[test]
fn a_node_selector_that_is_no_label_is_refused_as_the_api_server_refuses_it() {
    let (code, r) = check(&[&fixture("node-selectors.yaml")]);
    let unread = unread(&r);
    assert_eq!(unread.len(), 3, "{unread:#?}");
    let says = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
    for (doc, what, field) in [
        (
            "document 3",
            "Deployment/unrendered",
            "spec.template.spec.nodeSelector: Invalid value: \"$NODE_SELECTOR_OS\": ",
        ),
        (
            "document 4",
            "Pod/helm-pod",
            "spec.nodeSelector: Invalid value: \"{{ .Values.pool }}\": ",
        ),
        (
            "document 5",
            "CronJob/nightly",
            "spec.jobTemplate.spec.template.spec.nodeSelector: Invalid value: \"gpu pool\": ",
        ),
    ] {
        let u = unread
            .iter()
            .find(|u| u.contains(what))
            .unwrap_or_else(|| panic!("{what} not listed: {unread:#?}"));
        assert!(
            u.contains("node-selectors.yaml, ") && u.contains(doc),
            "{u}"
        );
        assert!(u.contains(&format!("{field}{says}")), "{u}");
    }
    assert!(
        unread.iter().filter(|u| u.contains("unrendered")).count() == 2,
        "{unread:#?}"
    );
    assert!(chain(&r, "Deployment/unrendered").is_none());
    assert!(chain(&r, "Pod/helm-pod").is_none());
    assert!(chain(&r, "Deployment/token").is_some(), "{:#}", r["chains"]);
    let refused = findings(&r, "KVC106");
    assert_eq!(refused.len(), 1, "{refused:#?}");
    let f = refused[0];
    assert_eq!(f["resource"], "Rollout/canary");
    assert_eq!(f["severity"], "error");
    let msg = f["message"].as_str().unwrap();
    assert!(msg.contains("kubernetes.io/os: ${NODE_OS}"), "{msg}");
    assert!(msg.contains("refuses each ReplicaSet"), "{msg}");
    assert!(!msg.contains("refuses Rollout/canary itself"), "{msg}");
    assert_eq!(code, 1);
}

/// A file mode quoted (`mode: "0444"`, `defaultMode: '0755'`) is a string where the pod spec
/// has an int32 (Kubernetes API: KeyToPath, DownwardAPIVolumeFile and the volume sources'
/// `defaultMode`). kubectl sends it as a JSON string and the API server's decoder refuses the
/// object: `Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string into
/// Go struct field DownwardAPIVolumeFile.spec.volumes.projected.sources.downwardAPI.items.mode
/// of type int32` (Go names the struct holding the field and its JSON path without indices).
/// Each document is listed as not read in those words, naming the field, and how to write the
/// mode; serde's "invalid type: a string, expected an integer" is not the API server's.
#[test]
fn a_quoted_file_mode_is_refused_in_the_api_servers_words() {
    let (code, r) = check(&[&fixture("quoted-modes.yaml")]);
    let unread = unread(&r);
    assert_eq!(unread.len(), 2, "{unread:#?}");
    let pod = unread.iter().find(|u| u.contains("Pod/web")).expect("pod");
    assert!(
        pod.contains("spec.volumes[0].projected.sources[0].downwardAPI.items[0].mode: ")
            && pod.contains("Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field DownwardAPIVolumeFile.spec.volumes.projected.sources.downwardAPI.items.mode of type int32"),
        "{pod}"
    );
    let cron = unread
        .iter()
        .find(|u| u.contains("CronJob/report"))
        .expect("cron");
    assert!(
        cron.contains("spec.jobTemplate.spec.template.spec.volumes[0].configMap.defaultMode: ")
            && cron.contains("CronJob in version \"v1\" cannot be handled as a CronJob: json: cannot unmarshal string into Go struct field ConfigMapVolumeSource.spec.jobTemplate.spec.template.spec.volumes.configMap.defaultMode of type int32"),
        "{cron}"
    );
    for u in &unread {
        assert!(!u.contains("expected an integer"), "serde's words: {u}");
        assert!(u.contains("unquoted"), "{u}");
    }
    assert_eq!(code, 1, "{r:#}");
}

/// kustomize's namespace transformer puts every namespaced object a kustomization renders (its
/// `resources`, through the bases' kustomizations, and its `components`' resources) into the
/// kustomization's `namespace:`, whatever namespace the file says (kustomize docs: namespace,
/// components). `kubectl apply -k overlays/prod` creates the base's ServiceAccount (written in
/// `dev`), SecretProviderClass (written in `default`), Deployment and the component's worker,
/// all in `prod`, where they fit together. Read as written they were diagnosed apart, in
/// namespaces they never have. The overlay also patches the base's SPC (its vault): read as
/// written, even in `prod`, the SPC would be diagnosed with a vault it never has, so the whole
/// render is set aside (audit UUU-real): the base's and the component's files are listed as not
/// read, naming the overlay's patch and the command that checks the render, the patch as a
/// patch, and nothing is diagnosed in a namespace the objects never have. (An overlay that only
/// sets the namespace is read there: uuu_real::a_kustomization_that_changes_its_objects_is_
/// checked_as_rendered.)
#[test]
fn a_kustomize_namespace_puts_the_rendered_objects_where_apply_puts_them() {
    let (_, r) = check(&[&fixture("kustomize-one")]);
    let chains = r["chains"].as_array().expect("chains");
    assert!(chains.is_empty(), "{r:#}");
    for f in r["findings"].as_array().expect("findings") {
        assert_eq!(f["namespace"], "prod", "{f:#}");
        for cmd in ["fix", "confirm"] {
            let text = f[cmd].as_str().unwrap_or("");
            assert!(
                !text.contains("-n default") && !text.contains("-n dev"),
                "{text}"
            );
        }
    }
    let unread = unread(&r);
    assert_eq!(unread.len(), 3, "{unread:#?}");
    assert!(
        unread
            .iter()
            .any(|u| u.contains("vault-patch.yaml: a kustomize patch")),
        "{unread:#?}"
    );
    for file in ["base/app.yaml: ", "components/worker/worker.yaml: "] {
        let u = unread
            .iter()
            .find(|u| u.contains(file))
            .unwrap_or_else(|| panic!("{file} {unread:#?}"));
        assert!(
            u.contains("(namespace prod, patches (SecretProviderClass/api-kv)")
                && u.contains("kubectl kustomize ")
                && u.contains("overlays/prod | kvchain check -f -"),
            "{u}"
        );
    }
}

/// One base under two overlays that put it in `dev` and in `prod`: what is applied is two
/// renders, and neither is the file as written. kvchain cannot read one file as two, so the
/// base is not read, naming both overlays and the command that checks each render, and exit 1
/// (a document not read), never a diagnosis of objects in the namespace the file names.
#[test]
fn a_base_two_overlays_put_in_two_namespaces_is_not_read_as_written() {
    let (code, r) = check(&[&fixture("kustomize-two")]);
    let unread = unread(&r);
    assert_eq!(unread.len(), 1, "{unread:#?}");
    let u = &unread[0];
    assert!(u.contains("base/app.yaml: "), "{u}");
    assert!(
        u.contains("overlays/dev/kustomization.yaml (namespace dev)"),
        "{u}"
    );
    assert!(
        u.contains("overlays/prod/kustomization.yaml (namespace prod)"),
        "{u}"
    );
    assert!(u.contains("overlays/dev | kvchain check -f -"), "{u}");
    assert!(u.contains("overlays/prod | kvchain check -f -"), "{u}");
    assert!(r["chains"].as_array().expect("chains").is_empty(), "{r:#}");
    assert_eq!(code, 1);
}

/// A patch file named alone (`check -f overlays/prod/vault-patch.yaml`, as pre-commit passes a
/// changed file) is still a patch: the kustomization beside it names it, and `kubectl apply -k`
/// never sends it as it is. It is refused as when its directory is given (README "kvchain
/// check"), naming the kustomization and the command; with nothing else read, exit 2.
#[test]
fn a_kustomize_patch_named_alone_is_still_a_patch() {
    let patch = fixture("kustomize-one/overlays/prod/vault-patch.yaml");
    let out = run(&[&patch], "json");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("a kustomize patch"), "{err}");
    assert!(
        err.contains("overlays/prod/kustomization.yaml names it"),
        "{err}"
    );
    assert!(err.contains("overlays/prod | kvchain check -f -"), "{err}");
    assert_eq!(out.status.code(), Some(2), "{err}");
}

/// Selectors beyond apps/v1. A batch/v1 Job gets a generated selector
/// (`batch.kubernetes.io/controller-uid`) unless `spec.manualSelector` is true, and the API
/// server refuses one written without it (batch validation: `spec.selector: Invalid value: …:
/// `selector` not auto-generated`); with manualSelector the selector is required
/// (`spec.selector: Required value`) and must select the template. A CronJob's job template may
/// hold no selector (`spec.jobTemplate.spec.selector: Invalid value: …: `selector` will be
/// auto-generated`). An Argo Rollout without workloadRef needs a selector that selects its
/// template (argo-rollouts ValidateRolloutSpec: "Rollout has missing field '.spec.selector'",
/// "`selector` does not match template `labels``): the API server takes it, its controller
/// marks it InvalidSpec and makes no ReplicaSet. Each such document is listed as not read in
/// those words; the valid ones (manualSelector with a matching selector, no selector at all, a
/// Rollout selecting its template) are read.
#[test]
fn job_cron_job_and_rollout_selectors_are_judged_by_their_own_rules() {
    let (code, r) = check(&[&fixture("selectors.yaml")]);
    let unread = unread(&r);
    let on = |what: &str| {
        unread
            .iter()
            .find(|u| u.contains(&format!("{what} (document")))
            .cloned()
            .unwrap_or_else(|| panic!("{what} not listed: {unread:#?}"))
    };
    assert!(
        on("Job/written").contains("spec.selector: Invalid value: `selector` not auto-generated")
    );
    assert!(on("Job/manual-none").contains("spec.selector: Required value"));
    assert!(on("CronJob/nightly").contains(
        "spec.jobTemplate.spec.selector: Invalid value: `selector` will be auto-generated"
    ));
    let bare = on("Rollout/bare");
    assert!(
        bare.contains("spec.selector: Required value: Rollout has missing field '.spec.selector'")
            && bare.contains("Argo Rollouts controller"),
        "{bare}"
    );
    assert!(on("Rollout/astray").contains(
        "spec.template.metadata.labels: Invalid value: `selector` does not match template `labels`"
    ));
    for read in ["Job/manual-ok", "Job/plain", "Rollout/fine"] {
        assert!(
            !unread.iter().any(|u| u.contains(read)),
            "{read}: {unread:#?}"
        );
    }
    assert_eq!(unread.len(), 5, "{unread:#?}");
    assert_eq!(code, 1);
}

/// A file every document of which `kubectl apply` refuses (an SPC whose apiVersion is an
/// unrendered `$API_VERSION`, Deployments whose nodeSelector is no label, as a README's raw
/// template is): nothing can be read, exit 2 (README "kvchain check"). The message names every
/// refused document and why, not the first and a count, so one run tells every fix.
#[test]
fn when_nothing_can_be_read_every_refused_document_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let deployment = |name: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}}}\nspec:\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n      nodeSelector: {{kubernetes.io/os: $NODE_SELECTOR_OS}}\n      containers: [{{name: c, image: i}}]\n"
        )
    };
    let text = format!(
        "apiVersion: $API_VERSION\nkind: SecretProviderClass\nmetadata: {{name: kv}}\nspec: {{provider: azure}}\n---\n{}---\n{}",
        deployment("one"),
        deployment("two")
    );
    let file = dir.path().join("raw-template.yaml");
    std::fs::write(&file, text).expect("write");
    let out = run(&[&file], "text");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("raw-template.yaml, document 1: SecretProviderClass/kv"),
        "{err}"
    );
    for (doc, what) in [
        ("document 2", "Deployment/one"),
        ("document 3", "Deployment/two"),
    ] {
        assert!(
            err.lines().any(|l| l.contains(doc)
                && l.contains(what)
                && l.contains("spec.template.spec.nodeSelector: Invalid value")),
            "{doc}: {err}"
        );
    }
}

/// `kubectl apply` sends every definition of an object in turn, and the API server refuses one
/// it cannot validate: that one changes nothing, so the definition before it is what the
/// cluster holds (README "kvchain check": "an object defined twice … is what its last
/// definition says, as after kubectl apply" holds for definitions that are applied). A
/// Deployment written twice, its second copy refused (a nodeSelector still `$NODE_SELECTOR_OS`),
/// runs as the first copy says: it is diagnosed, the refused copy is listed as not read, and
/// the first is not said to be "left out".
#[test]
fn a_refused_later_definition_leaves_the_earlier_one_in_place() {
    let dir = tempfile::tempdir().expect("tempdir");
    let deployment = |os: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: api, namespace: shop}}\nspec:\n  selector: {{matchLabels: {{app: api}}}}\n  template:\n    metadata: {{labels: {{app: api}}}}\n    spec:\n      nodeSelector: {{kubernetes.io/os: {os}}}\n      containers: [{{name: c, image: i, volumeMounts: [{{name: kv, mountPath: /kv, readOnly: true}}]}}]\n      volumes:\n      - name: kv\n        csi: {{driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {{secretProviderClass: kv}}}}\n"
        )
    };
    let spc = "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {name: kv, namespace: shop}\nspec:\n  provider: azure\n  parameters:\n    clientID: 0f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f\n    keyvaultName: kv-shop\n    tenantId: 9e8d7c6b-5a49-4837-a261-5f4e3d2c1b0a\n    objects: |\n      array:\n        - |\n          objectName: db\n          objectType: secret\n";
    let first = dir.path().join("a-app.yaml");
    let second = dir.path().join("b-overlay.yaml");
    std::fs::write(&first, format!("{spc}---\n{}", deployment("linux"))).expect("write");
    std::fs::write(&second, deployment("$NODE_SELECTOR_OS")).expect("write");
    let (code, r) = check(&[dir.path()]);
    let unread = unread(&r);
    assert_eq!(unread.len(), 1, "{unread:#?}");
    assert!(
        unread[0].contains("b-overlay.yaml, document 1: Deployment/api")
            && unread[0].contains("nodeSelector: Invalid value"),
        "{unread:#?}"
    );
    assert!(chain(&r, "Deployment/api").is_some(), "{r:#}");
    assert_eq!(code, 1);
}

/// A Helm chart's template (`{{- if … }}` around a document, `{{- include … | nindent 4 }}`)
/// given as it sits in the chart: kubectl refuses both documents (the first starts with `{`,
/// which kubectl reads as JSON; the second is no YAML), so nothing is read, exit 2. The parser's
/// words alone ("key must be a string") do not tell the user why: each message says the
/// document is a chart template and how to check it rendered.
#[test]
fn a_chart_template_is_said_to_need_rendering() {
    let out = run(&[&fixture("chart-template.yaml")], "text");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for doc in ["document 1", "document 2"] {
        assert!(
            err.lines().any(|l| l.contains(doc)
                && l.contains("a chart template, not a manifest")
                && l.contains("helm template … | kvchain check -f -")),
            "{doc}: {err}"
        );
    }
}
