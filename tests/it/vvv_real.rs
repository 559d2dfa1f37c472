//! Audit VVV-real: `kvchain check -f` on manifests of our own (tests/fixtures/vvv_real/), each
//! expectation written from the API server's and kubectl's sources before kvchain was run on
//! it: Go's encoding/json (sigs.k8s.io/json) for type errors, sigs.k8s.io/yaml for keys,
//! apiextensions-apiserver for a custom resource's metadata, the core and batch validation for
//! required fields and names. Values are canaries (`CANARY-vvv-real`): never printed.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::real_kit::{unread, unread_of};

const CANARY: &str = "CANARY-vvv-real";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/vvv_real")
        .join(name)
}

fn check(paths: &[&Path]) -> (i32, Value) {
    super::real_kit::check(paths, CANARY)
}

/// Go's decoder (encoding/json's literalStore, as sigs.k8s.io/json keeps it) prints a number's
/// JSON text where it wanted an integer and ParseInt failed on it: `json: cannot unmarshal number
/// 1.5 into Go struct field DeploymentSpec.spec.replicas of type int32`; an integer out of the
/// field's range alike (`number 3000000000`); kubectl sends go-yaml's float64 through
/// json.Marshal, so `1e30` is `1e+30`. An intstr.IntOrString decodes itself with a plain
/// json.Unmarshal into its int32, which knows no struct: `json: cannot unmarshal number 80.5
/// into Go value of type int32` (`3000000000` alike), and a metav1.Time into a string (`json:
/// cannot unmarshal number into Go value of type string`). Where a string is wanted only the
/// kind is said (`number`), and
/// no string value is ever quoted. An integral float (`replicas: 2.0`, `containerPort: 8e1`) is
/// what json.Marshal writes as `2` and `80`: the API server takes it, so the Deployment is read.
#[test]
fn a_number_where_go_wants_an_integer_is_said_with_its_text() {
    let (code, r) = check(&[&fixture("numbers.yaml")]);
    let unread = unread(&r);
    assert_eq!(unread.len(), 7, "{unread:#?}");
    let expect = [
        (
            "Deployment/half",
            "spec.replicas: ",
            "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type int32",
        ),
        (
            "Pod/big-port",
            "spec.containers[0].ports[0].containerPort: ",
            "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal number 3000000000 into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32",
        ),
        (
            "Pod/probe-port",
            "spec.containers[0].livenessProbe.httpGet.port: ",
            "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal number 80.5 into Go value of type int32",
        ),
        (
            "Pod/deadline",
            "spec.activeDeadlineSeconds: ",
            "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal number 1e+30 into Go struct field PodSpec.spec.activeDeadlineSeconds of type int64",
        ),
        (
            "Pod/socket-port",
            "spec.containers[0].readinessProbe.tcpSocket.port: ",
            "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal number 3000000000 into Go value of type int32",
        ),
        (
            "Pod/stamped",
            "metadata.creationTimestamp: ",
            "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal number into Go value of type string",
        ),
        (
            "Secret/numbered",
            "stringData.pin: ",
            "Secret in version \"v1\" cannot be handled as a Secret: json: cannot unmarshal number into Go struct field Secret.stringData of type string",
        ),
    ];
    for (what, field, said) in expect {
        let u = unread_of(&unread, what);
        assert!(u.contains(field) && u.contains(said), "{u}");
    }
    let chains = r["chains"].as_array().expect("chains");
    assert!(
        chains.iter().any(|c| c["workload"] == "Deployment/whole"),
        "{chains:#?}"
    );
    assert_eq!(code, 1, "{r:#}");
}

/// A custom resource is decoded as unstructured JSON and checked against its CRD's schema, but
/// its metadata is unmarshalled into ObjectMeta on its own (apiextensions-apiserver's
/// GetObjectMetaWithOptions marshals `metadata` alone and json.Unmarshals it), so a label of
/// the wrong type is Go's words with the path inside the metadata: `SecretProviderClass in
/// version "v1" cannot be handled as a SecretProviderClass: json: cannot unmarshal number into
/// Go struct field ObjectMeta.labels of type string`, not the schema's `in body must be of type`.
/// The metadata is decoded first, so its error is the one said.
#[test]
fn a_custom_resources_metadata_is_decoded_as_object_meta() {
    let (_, r) = check(&[&fixture("metadata.yaml")]);
    let unread = unread(&r);
    assert_eq!(unread.len(), 2, "{unread:#?}");
    for (what, field, said) in [
        (
            "SecretProviderClass/labelled",
            "metadata.labels.team: ",
            "SecretProviderClass in version \"v1\" cannot be handled as a SecretProviderClass: json: cannot unmarshal number into Go struct field ObjectMeta.labels of type string",
        ),
        (
            "SecretProviderClass/annotated",
            "metadata.annotations.owner: ",
            "SecretProviderClass in version \"v1\" cannot be handled as a SecretProviderClass: json: cannot unmarshal bool into Go struct field ObjectMeta.annotations of type string",
        ),
    ] {
        let u = unread_of(&unread, what);
        assert!(u.contains(field) && u.contains(said), "{u}");
        assert!(!u.contains("in body must be of type"), "{u}");
    }
}

/// kubectl's YAML-to-JSON (sigs.k8s.io/yaml over go-yaml v2) resolves a plain key as any
/// scalar and writes a boolean key as `"true"`/`"false"`, a number as its decimal text. So a
/// template labelled `yes: web` is labelled `"true": web`, which a `matchLabels` of `"true":
/// web` selects, and a label key `1` is the string `"1"`: both Deployments are applied and read.
#[test]
fn boolean_and_number_keys_are_the_strings_kubectl_sends() {
    let (code, r) = check(&[&fixture("keys.yaml")]);
    let unread = unread(&r);
    assert!(unread.is_empty(), "{unread:#?}");
    assert_eq!(code, 0, "{r:#}");
}

/// Go's decoder names a field's declared type, and k8s.io/api declares many as named types
/// (`type HostPathType string`, `type PodFSGroupChangePolicy string`, batch's `type
/// CompletionMode string`): `json: cannot unmarshal number into Go struct field
/// HostPathVolumeSource.spec.volumes.hostPath.type of type v1.HostPathType` (a pointer field
/// named by what it points to), not `of type string`.
#[test]
fn a_named_go_type_is_said_by_its_name() {
    let (_, r) = check(&[&fixture("named-types.yaml")]);
    let unread = unread(&r);
    assert_eq!(unread.len(), 3, "{unread:#?}");
    for (what, said) in [
        (
            "Pod/host-path",
            "json: cannot unmarshal number into Go struct field HostPathVolumeSource.spec.volumes.hostPath.type of type v1.HostPathType",
        ),
        (
            "Deployment/memory",
            "json: cannot unmarshal bool into Go struct field PodSecurityContext.spec.template.spec.securityContext.fsGroupChangePolicy of type v1.PodFSGroupChangePolicy",
        ),
        (
            "Job/indexed",
            "json: cannot unmarshal array into Go struct field JobSpec.spec.completionMode of type v1.CompletionMode",
        ),
    ] {
        let u = unread_of(&unread, what);
        assert!(u.contains(said), "{u}");
    }
}

/// Batch validation (ValidateCronJobCreate): the CronJob controller names each Job
/// `<name>-<11 characters>` and a Job's name must stay within 63, so a CronJob's name over 52
/// characters is refused: `metadata.name: Invalid value: "…": must be no more than 52
/// characters`. One of exactly 52 is taken. A CronJob without a schedule is refused too
/// (validateCronJobSpec: `spec.schedule: Required value`), and no pod is made from it.
#[test]
fn a_cron_job_named_over_52_characters_is_refused() {
    let (code, r) = check(&[&fixture("cron-names.yaml")]);
    let unread = unread(&r);
    assert_eq!(unread.len(), 2, "{unread:#?}");
    let unscheduled = unread_of(&unread, "CronJob/unscheduled");
    assert!(
        unscheduled.contains("spec.schedule: Required value: the API server refuses the document"),
        "{unscheduled}"
    );
    let long = "nightly-report-export-to-the-finance-warehouse-eu-012";
    let u = unread_of(&unread, &format!("CronJob/{long}"));
    assert!(
        u.contains(&format!(
            "metadata.name: Invalid value: \"{long}\": must be no more than 52 characters"
        )) && u.contains(&format!("The CronJob \"{long}\" is invalid")),
        "{u}"
    );
    assert_eq!(code, 1, "{r:#}");
}

/// ValidatePodSpec refuses a pod spec that leaves out what it requires, `field.Required`:
/// `spec.template.spec.volumes[0].csi.driver: Required value` (ValidateCSIDriverName), a port's
/// `containerPort` (validateContainerPorts: 0, as an absent one reads), a secret volume's
/// `secretName` and its items' `path` (validateKeyToPath), a secretKeyRef's `key`
/// (validateSecretKeySelector) and an envFrom secretRef's `name` (validateSecretEnvSource).
/// kubectl apply creates nothing of such a document: each is listed as not read, every field
/// named, and no chain is built on the csi volume without a driver.
#[test]
fn required_fields_of_the_secret_chain_are_refused_in_the_api_servers_words() {
    let (code, r) = check(&[&fixture("required.yaml")]);
    let unread = unread(&r);
    assert_eq!(unread.len(), 3, "{unread:#?}");
    let driver = unread_of(&unread, "Deployment/no-driver");
    assert!(
        driver.contains("spec.template.spec.volumes[0].csi.driver: Required value"),
        "{driver}"
    );
    let port = unread_of(&unread, "Pod/no-port");
    assert!(
        port.contains("spec.containers[0].ports[0].containerPort: Required value"),
        "{port}"
    );
    let key = unread_of(&unread, "Pod/no-key");
    for field in [
        "spec.volumes[0].secret.secretName: Required value",
        "spec.volumes[0].secret.items[0].path: Required value",
        "spec.containers[0].env[0].valueFrom.secretKeyRef.key: Required value",
        "spec.containers[0].envFrom[0].secretRef.name: Required value",
    ] {
        assert!(key.contains(field), "{field}: {key}");
    }
    assert!(key.contains("the API server refuses the document"), "{key}");
    assert_eq!(r["chains"].as_array().expect("chains").len(), 0, "{r:#}");
    assert_eq!(code, 1, "{r:#}");
}

/// ValidatePodSpec checks a non-empty serviceAccountName with ValidateServiceAccountName
/// (NameIsDNSSubdomain): a chart's `"{{ .Values.serviceAccount.name }}"` left unrendered is no
/// name, so kubectl apply is refused and no pod exists (`spec.template.spec.serviceAccountName:
/// Invalid value: "…": a lowercase RFC 1123 subdomain must consist of …`). The fix is to
/// render it: the line says it is an unrendered template value and names the commands that
/// check the render; no finding (KVC202) is about a pod that never exists. The rendered
/// Deployment beside it is read.
#[test]
fn a_placeholder_service_account_name_is_refused_and_to_be_rendered() {
    let (code, r) = check(&[&fixture("sa-placeholder.yaml")]);
    let unread = unread(&r);
    assert_eq!(unread.len(), 1, "{unread:#?}");
    let u = unread_of(&unread, "Deployment/charted");
    assert!(
        u.contains("spec.template.spec.serviceAccountName: Invalid value: \"{{ .Values.serviceAccount.name }}\": a lowercase RFC 1123 subdomain must consist of")
            && u.contains("It is an unrendered template value")
            && u.contains("helm template … | kvchain check -f -")
            && u.contains("envsubst < FILE | kvchain check -f -"),
        "{u}"
    );
    let chains = r["chains"].as_array().expect("chains");
    assert!(
        chains.iter().all(|c| c["workload"] != "Deployment/charted"),
        "{chains:#?}"
    );
    assert!(
        chains
            .iter()
            .any(|c| c["workload"] == "Deployment/rendered"),
        "{chains:#?}"
    );
    let text = r["findings"].to_string();
    assert!(!text.contains("{{ .Values"), "{text}");
    assert_eq!(code, 1, "{r:#}");
}

/// KVC303 on an SPC that reads Key Vault as the node scale set's system-assigned identity
/// (`useVMManagedIdentity: "true"`, no userAssignedIdentityID), mounted by no pod here: its fix
/// moves the SPC to a workload identity, prerequisites first (docs/codes.yaml KVC303: a
/// per-workload identity, its federated credential, read access, then the switch). The
/// CSIDriver's token audiences, not read from manifests, matter only to the switch (the
/// provider asks the token for the SPC's clientID): the line starts with the identity and
/// checks the CSIDriver right before the `kubectl patch`, not as its first step.
#[test]
fn a_node_identity_notes_fix_starts_with_the_identity_and_checks_tokens_before_the_switch() {
    let spc = "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {name: vm-kv, namespace: shop}\nspec:\n  provider: azure\n  parameters: {useVMManagedIdentity: \"true\", keyvaultName: kv-shop, tenantId: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b, objects: \"array:\\n  - |\\n    objectName: db\\n    objectType: secret\\n\"}\n";
    let (_, r, _) = crate::manifest_run::check_docs(&[spc]);
    let found = crate::manifest_run::findings_of(&r, "KVC303");
    assert_eq!(found.len(), 1, "{r:#}");
    let fix = found[0]["fix"].as_str().expect("fix");
    // Its name and group set first (audit XC-left: no variable the paste leaves unset).
    let create = fix
        .find("&& az identity create ")
        .expect("the identity is created");
    assert!(
        crate::xd_paste::after_guards(fix).starts_with("IDENTITY_NAME=id-shop-vm-kv && "),
        "{fix}"
    );
    assert!(
        !fix[..create].contains("az ") && !fix[..create].contains("kubectl"),
        "{fix}"
    );
    let guard = fix
        .find("{ kubectl get csidriver secrets-store.csi.k8s.io")
        .expect("the CSIDriver is checked");
    let patch = fix
        .find("kubectl patch secretproviderclass vm-kv")
        .expect("the switch");
    assert!(guard < patch, "{fix}");
    assert!(!fix[guard..patch].contains("az "), "{fix}");
}
