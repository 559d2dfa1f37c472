//! Audit WWW-real: `kvchain check -f` on manifests of our own (tests/fixtures/www_real/), each
//! expectation written from kubectl's and the API server's sources before kvchain was run on
//! it: go-yaml v2's resolve.go (under sigs.k8s.io/yaml) for plain scalars, core validation for
//! file modes, Secret keys and env references, batch validation for a CronJob's schedule.
//! Values are canaries (`CANARY-www-real`): never printed.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::real_kit::{unread, unread_of};

const CANARY: &str = "CANARY-www-real";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/www_real")
        .join(name)
}

fn check(paths: &[&Path]) -> (i32, Value) {
    super::real_kit::check(paths, CANARY)
}

/// go-yaml v2 resolves a plain scalar starting with a digit or a sign with Go's
/// `strconv.ParseInt(s, 0, 64)` after dropping `_`: `0644` and `0o440` are octal, `0x1A4` hex,
/// `+0644` and `0_644` are 420 too. Every mode here is within 0..0777: the pod is applied.
#[test]
fn octal_hex_and_signed_modes_are_what_kubectl_sends() {
    let (code, r) = check(&[&fixture("modes-read.yaml")]);
    let unread = unread(&r);
    assert!(unread.is_empty(), "{unread:#?}");
    assert_eq!(code, 0, "{r:#}");
}

/// The API server refuses a file mode outside 0..0777 (`fileModeErrorMsg`), at the field's
/// path (a downwardAPI item's at its source's path, as validateDownwardAPIVolumeFile gets it):
/// `01000` is 512; `0800` is no octal, so ParseInt fails and go-yaml sends the float 800, not
/// a string. A plain `0123` is the number 83 anywhere, so a label written so is refused as a
/// number where ObjectMeta wants a string.
#[test]
fn modes_out_of_range_are_refused_in_the_api_servers_words() {
    let (code, r) = check(&[&fixture("modes-refused.yaml")]);
    let unread = unread(&r);
    assert_eq!(unread.len(), 6, "{unread:#?}");
    const RANGE: &str = "must be a number between 0 and 0777 (octal), both inclusive";
    for (what, said) in [
        (
            "Pod/too-wide",
            "spec.volumes[0].secret.defaultMode: Invalid value: 512: ",
        ),
        (
            "Pod/no-octal",
            "spec.volumes[0].configMap.defaultMode: Invalid value: 800: ",
        ),
        (
            "Pod/negative",
            "spec.volumes[0].secret.items[0].mode: Invalid value: -1: ",
        ),
        (
            "Pod/downward",
            "spec.volumes[0].downwardAPI.mode: Invalid value: 512: ",
        ),
        (
            "Deployment/projected",
            "spec.template.spec.volumes[0].projected.sources[0].secret.items[0].mode: Invalid value: 1024: ",
        ),
    ] {
        let u = unread_of(&unread, what);
        assert!(u.contains(&format!("{said}{RANGE}")), "{u}");
        assert!(u.contains("the API server refuses the document"), "{u}");
    }
    let label = unread_of(&unread, "Secret/versioned");
    assert!(
        label.contains("metadata.labels.version: ")
            && label.contains("json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string"),
        "{label}"
    );
    assert_eq!(code, 1, "{r:#}");
}

/// sigs.k8s.io/yaml's YAMLToJSON writes a string, number or boolean key as a JSON key and
/// refuses any other (`unsupported map key of type: %!s(<nil>), key: <nil>, value: …`), so a
/// null key (`? : x` or `~: x`) fails the whole document before kubectl sends it; kvchain says
/// where, and never the value (kubectl's message prints it). An empty key is a string: the API
/// server judges it, a label by ValidateLabels (`name part must be non-empty`), a Secret's key
/// by IsConfigMapKey after stringData is merged into data (`data[]: Invalid value: ""`), like a
/// path-like key (`data[db/password]`). The Secret whose keys are valid is read.
#[test]
fn null_and_empty_keys_are_refused_where_kubectl_and_the_api_server_refuse_them() {
    let (code, r) = check(&[&fixture("keys.yaml")]);
    let unread = unread(&r);
    assert_eq!(unread.len(), 5, "{unread:#?}");
    const NULL: &str = "holds a null key (`~`, `null`, or nothing before the `:`): kubectl refuses the document before sending it (error converting YAML to JSON: unsupported map key of type: %!s(<nil>), key: <nil>, value: …";
    const CONFIG_KEY: &str = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";
    for (what, said) in [
        ("Secret/null-label", format!("metadata.labels: {NULL}")),
        ("Secret/null-data", format!("stringData: {NULL}")),
        (
            "Secret/empty-label",
            "metadata.labels: Invalid value: \"\": name part must be non-empty".to_string(),
        ),
        (
            "Secret/empty-key",
            format!("data[]: Invalid value: \"\": {CONFIG_KEY}"),
        ),
        (
            "Secret/path-key",
            format!("data[db/password]: Invalid value: \"db/password\": {CONFIG_KEY}"),
        ),
    ] {
        let u = unread_of(&unread, what);
        assert!(u.contains(&said), "{u}\nwanted: {said}");
        assert!(!u.contains("invalid type: unit value"), "{u}");
    }
    assert_eq!(code, 1, "{r:#}");
}

/// Core validation checks a key selector's `name` with NameIsDNSSubdomain whether it is set or
/// not (validateSecretKeySelector, validateConfigMapKeySelector), so one without `name` is
/// `Invalid value: ""`, and its `key` with IsConfigMapKey; an envFrom configMapRef without
/// `name` is `Required value` (validateConfigMapEnvSource), a placeholder name no subdomain
/// (validateSecretEnvSource). Each pod is refused: not read, exit 1. The pod whose references
/// are valid is read.
#[test]
fn env_references_without_a_valid_name_or_key_are_refused() {
    let (code, r) = check(&[&fixture("refs.yaml")]);
    let unread = unread(&r);
    assert_eq!(unread.len(), 5, "{unread:#?}");
    const SUBDOMAIN: &str =
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters";
    for (what, said) in [
        (
            "Pod/no-secret-name",
            format!("spec.containers[0].env[0].valueFrom.secretKeyRef.name: Invalid value: \"\": {SUBDOMAIN}"),
        ),
        (
            "Pod/no-config-name",
            format!("spec.containers[0].env[0].valueFrom.configMapKeyRef.name: Invalid value: \"\": {SUBDOMAIN}"),
        ),
        (
            "Pod/no-envfrom-name",
            "spec.containers[0].envFrom[0].configMapRef.name: Required value".to_string(),
        ),
        (
            "Deployment/path-key",
            "spec.template.spec.initContainers[0].env[0].valueFrom.secretKeyRef.key: Invalid value: \"db/password\": a valid config key must consist".to_string(),
        ),
        (
            "Pod/placeholder",
            format!("spec.containers[0].envFrom[0].secretRef.name: Invalid value: \"${{SECRET_NAME}}\": {SUBDOMAIN}"),
        ),
    ] {
        let u = unread_of(&unread, what);
        assert!(u.contains(&said), "{u}\nwanted: {said}");
        assert!(u.contains("the API server refuses the document"), "{u}");
    }
    assert!(
        unread_of(&unread, "Pod/placeholder").contains("unrendered template value"),
        "{unread:#?}"
    );
    assert_eq!(code, 1, "{r:#}");
}

/// The driver trims a secretObjects data item's key and objectName before it reads the file and
/// writes the key (secretutil.GetSecretData): `" password "` is the key `password`, which the
/// API server takes, so no KVC806 says it is refused; an entry whose key is blank fails with
/// the driver's own data error (`key in secretObjects.data is empty`), which is no refused
/// create (that would stop later entries).
#[test]
fn secret_object_keys_are_trimmed_as_the_driver_trims_them() {
    let (_, r) = check(&[&fixture("sync-keys.yaml")]);
    let kvc806: Vec<&str> = r["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["code"] == "KVC806" || f["code"] == "KVC801")
        .map(|f| f["message"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(kvc806.len(), 1, "{kvc806:#?}");
    let blank = kvc806[0];
    assert!(
        blank.contains("secretObjects entry blank")
            && blank.contains("key in secretObjects.data is empty")
            && !blank.contains("the API server refuses"),
        "{blank}"
    );
}

/// A custom resource is checked against its CRD's structural schema, as an SPC is: `The
/// Rollout "counted" is invalid: spec.replicas: Invalid value: "string": spec.replicas in body
/// must be of type integer: "string"` (apiextensions' validation, JSON Schema type names). The
/// Argo Rollout and KEDA ScaledJob CRDs type the pod template too, so a wrong type there is
/// refused alike, naming the file, document and field; never serde's words, never the value.
#[test]
fn custom_resources_type_errors_are_said_in_their_crd_schemas_words() {
    let (code, r) = check(&[&fixture("custom-types.yaml")]);
    let unread = unread(&r);
    assert_eq!(unread.len(), 3, "{unread:#?}");
    for (what, kind, name, path, got, want) in [
        (
            "Rollout/counted",
            "Rollout",
            "counted",
            "spec.replicas",
            "string",
            "integer",
        ),
        (
            "Rollout/ported",
            "Rollout",
            "ported",
            "spec.template.spec.containers[0].ports[0].containerPort",
            "string",
            "integer",
        ),
        (
            "ScaledJob/mapped",
            "ScaledJob",
            "mapped",
            "spec.jobTargetRef.template.spec.containers[0].env",
            "object",
            "array",
        ),
    ] {
        let u = unread_of(&unread, what);
        let said = format!(
            "{path}: the API server refuses the document (kubectl apply says: The {kind} \"{name}\" is invalid: {path}: Invalid value: \"{got}\": {path} in body must be of type {want}: \"{got}\")"
        );
        assert!(u.contains("custom-types.yaml, document "), "{u}");
        assert!(u.contains(&said), "{u}\nwanted: {said}");
        assert!(!u.contains("invalid type"), "{u}");
    }
    assert_eq!(code, 1, "{r:#}");
}

/// Batch validation's validateScheduleFormat on create: robfig/cron v3's ParseStandard must
/// take the schedule (minute 0-59, day of week 0-6: `7` is refused; descriptors `@hourly` …
/// `@every <Go duration>`), each failure in the parser's words, and a schedule holding `TZ`
/// is refused ("cannot use TZ or CRON_TZ in schedule, use timeZone field instead"). A
/// CronJob refused so makes no pod: not read, exit 1. Names of days, `@every` and the
/// `timeZone` field are taken.
#[test]
fn cron_schedules_are_judged_as_the_api_server_judges_them() {
    let (code, r) = check(&[&fixture("schedules.yaml")]);
    let unread = unread(&r);
    assert_eq!(unread.len(), 4, "{unread:#?}");
    for (what, said) in [
        (
            "CronJob/minute-61",
            "spec.schedule: Invalid value: \"61 * * * *\": end of range (61) above maximum (59): 61",
        ),
        (
            "CronJob/sunday-7",
            "spec.schedule: Invalid value: \"0 3 * * 7\": end of range (7) above maximum (6): 7",
        ),
        (
            "CronJob/inline-tz",
            "spec.schedule: Invalid value: \"CRON_TZ=Europe/Paris 0 3 * * *\": cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
        ),
        (
            "CronJob/fortnightly",
            "spec.schedule: Invalid value: \"@fortnightly\": unrecognized descriptor: @fortnightly",
        ),
    ] {
        let u = unread_of(&unread, what);
        assert!(u.contains(said), "{u}\nwanted: {said}");
        assert!(u.contains("the API server refuses the document"), "{u}");
    }
    assert_eq!(code, 1, "{r:#}");
}
