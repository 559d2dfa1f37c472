//! SecretProviderClass parameters of the Azure provider, parsed like the provider does.
//!
//! The provider reads `parameters` as a flat string map (values trimmed, booleans via
//! strconv.ParseBool) and `objects` as a YAML string holding `array:` of YAML strings, one per
//! object. Parsing never fails: problems are collected with their position so diagnosis can
//! report them (KVC705) and tests can prove no input panics.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub mod cloud;
mod decode;
mod go_yaml;
mod object_type;
pub(crate) use decode::QUOTED_INTEGER;
pub use go_yaml::go_yaml_error;
pub use object_type::ObjectType;

/// The provider's view of one SecretProviderClass.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AzureSpc {
    pub keyvault_name: Option<String>,
    /// `tenantID`, else the deprecated `tenantId` (the provider prefers `tenantID`).
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    pub use_pod_identity: Option<String>,
    pub use_vm_managed_identity: Option<String>,
    pub user_assigned_identity_id: Option<String>,
    pub use_azure_token_proxy: Option<String>,
    pub cloud_name: Option<String>,
    pub cloud_env_file_name: Option<String>,
    pub objects: Vec<SpcObject>,
    /// Problems found while parsing `objects`, in order.
    pub problems: Vec<SpcProblem>,
}

impl AzureSpc {
    /// The objects of type `t` whose versions the provider lists before reading them
    /// (objectVersionHistory > 1, FACTS §5: it "needs list permission").
    pub fn version_listed(&self, t: ObjectType) -> impl Iterator<Item = &SpcObject> {
        (self.objects.iter()).filter(move |o| o.object_type == Some(t) && o.writes_versions())
    }

    /// Whether item `index` names its file by an absolute objectName (no objectAlias), which
    /// the provider refuses: `file name must be a relative path` (FACTS §5).
    pub fn absolute_object_name(&self, index: usize) -> bool {
        self.problems.iter().any(|pr| {
            pr.message.starts_with(RELATIVE)
                && pr.field.strip_prefix("objects.array[").is_some_and(|r| {
                    r.strip_prefix(index.to_string().as_str()) == Some("].objectName")
                })
        })
    }
}

/// The provider's refusal of an absolute file name ([P] validateFileName).
const RELATIVE: &str = "file name must be a relative path";

/// A parse or validation problem, located as precisely as the input allows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpcProblem {
    /// Dotted path, e.g. `objects`, `objects.array[2].objectType`.
    pub field: String,
    pub message: String,
    /// 1-based line and column inside the `objects` string (or inside the item for items).
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl std::fmt::Display for SpcProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)?;
        if let (Some(l), Some(c)) = (self.line, self.column) {
            write!(f, " (line {l}, column {c})")?;
        }
        Ok(())
    }
}

/// One entry of `objects.array`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpcObject {
    /// Position in `objects.array`.
    pub index: usize,
    pub object_name: String,
    /// As written (`secret`, `key`, `cert`, or anything invalid).
    pub object_type_raw: String,
    pub object_type: Option<ObjectType>,
    pub object_alias: Option<String>,
    /// Pinned version; `None` for "" or "latest".
    pub object_version: Option<String>,
    pub object_version_history: Option<i32>,
    pub object_format: Option<String>,
    pub object_encoding: Option<String>,
    pub file_permission: Option<String>,
    /// Keys the provider does not read (its YAML decoding ignores them), with their scalar
    /// values: a misspelt `objectAlias` leaves the file named after `objectName`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<(String, String)>,
}

impl SpcObject {
    /// The file the driver writes: objectAlias if set, else objectName.
    pub fn file_name(&self) -> &str {
        match &self.object_alias {
            Some(a) if !a.is_empty() => a,
            _ => &self.object_name,
        }
    }

    /// Whether a certificate's PKCS#12 secret read as this object is written as Key Vault holds
    /// it, base64 text: objectType secret asked for in `objectFormat: pfx`, without
    /// `objectEncoding: base64` to decode it (the provider's getSecret; audit CCC3).
    pub fn writes_pfx_text(&self) -> bool {
        self.object_type == Some(ObjectType::Secret)
            && (self.object_format.as_deref()).is_some_and(|f| f.eq_ignore_ascii_case("pfx"))
            && !(self.object_encoding.as_deref()).is_some_and(|e| e.eq_ignore_ascii_case("base64"))
    }

    /// Whether the provider writes a directory of versions for this object, `<file>/<i>`
    /// (objectVersionHistory > 1, FACTS §5), not one file.
    pub fn writes_versions(&self) -> bool {
        self.object_version_history.is_some_and(|n| n > 1)
    }

    /// Whether `id` is the one the provider reports for this object in
    /// SecretProviderClassPodStatus (`secret/<objectName>`). With objectVersionHistory > 1 the
    /// provider reports one id per version, `<type>/<objectName>/<i>` (FACTS §1), index 0 the
    /// newest (§5): `…/0` is then the object's id, the one its current version is read from
    /// (audit O2). Compared in place: it is asked for every object of every chain, and
    /// building or splitting the id searched and copied.
    pub fn is_status_id(&self, id: &str) -> bool {
        let (t, name) = (self.object_type_raw.as_str(), self.object_name.as_str());
        let base = t.len() + 1 + name.len();
        let rest = if id.len() == base {
            ""
        } else if self.writes_versions() && id.len() == base + 2 {
            "/0"
        } else {
            return false;
        };
        id.starts_with(t)
            && id[t.len()..].starts_with('/')
            && id[t.len() + 1..].starts_with(name)
            && id.ends_with(rest)
    }
}

#[derive(Deserialize)]
struct ObjectsArray {
    #[serde(default)]
    array: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawObject {
    #[serde(default)]
    pub(crate) object_name: Option<serde_yaml::Value>,
    #[serde(default)]
    pub(crate) object_type: Option<serde_yaml::Value>,
    #[serde(default)]
    pub(crate) object_alias: Option<serde_yaml::Value>,
    #[serde(default)]
    pub(crate) object_version: Option<serde_yaml::Value>,
    #[serde(default)]
    pub(crate) object_version_history: Option<serde_yaml::Value>,
    #[serde(default)]
    pub(crate) object_format: Option<serde_yaml::Value>,
    #[serde(default)]
    pub(crate) object_encoding: Option<serde_yaml::Value>,
    #[serde(default)]
    pub(crate) file_permission: Option<serde_yaml::Value>,
    /// Every other key.
    #[serde(flatten)]
    other: serde_yaml::Mapping,
}

/// YAML scalars as the Go provider sees them when unmarshalling into a string field.
pub(crate) fn scalar(v: &Option<serde_yaml::Value>) -> Option<String> {
    match v.as_ref()? {
        serde_yaml::Value::String(s) => Some(s.trim().to_string()),
        serde_yaml::Value::Number(n) => Some(n.to_string()),
        serde_yaml::Value::Bool(b) => Some(b.to_string()),
        serde_yaml::Value::Null => None,
        _ => Some(String::new()),
    }
}

fn param(params: &BTreeMap<String, String>, key: &str) -> Option<String> {
    params
        .get(key)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Parse the provider parameters of a SecretProviderClass (after merging pod
/// volumeAttributes over them, when diagnosing a pod).
pub fn parse(params: &BTreeMap<String, String>) -> AzureSpc {
    let mut spc = AzureSpc {
        keyvault_name: param(params, "keyvaultName"),
        tenant_id: param(params, "tenantID").or_else(|| param(params, "tenantId")),
        client_id: param(params, "clientID"),
        use_pod_identity: param(params, "usePodIdentity"),
        use_vm_managed_identity: param(params, "useVMManagedIdentity"),
        user_assigned_identity_id: param(params, "userAssignedIdentityID"),
        use_azure_token_proxy: param(params, "useAzureTokenProxy"),
        cloud_name: param(params, "cloudName"),
        cloud_env_file_name: param(params, "cloudEnvFileName"),
        objects: Vec::new(),
        problems: Vec::new(),
    };
    match params.get("objects") {
        None => spc
            .problems
            .push(problem("objects", "objects is not set", None)),
        Some(text) => parse_objects(text, &mut spc),
    }
    spc
}

fn problem(field: &str, message: &str, loc: Option<serde_yaml::Location>) -> SpcProblem {
    SpcProblem {
        field: field.to_string(),
        message: message.to_string(),
        line: loc.as_ref().map(|l| l.line()),
        column: loc.as_ref().map(|l| l.column()),
    }
}

fn parse_objects(text: &str, spc: &mut AzureSpc) {
    // Aliases could expand a 1 MB `objects` string to gigabytes: one budget for the string
    // and all its items.
    let budget = crate::input::Budget::for_text(text);
    let items = match crate::input::from_str_within::<ObjectsArray>(text, &budget) {
        Ok(ObjectsArray { array: Some(items) }) => items,
        Ok(ObjectsArray { array: None }) => {
            spc.problems.push(problem(
                "objects",
                "no `array:` list in objects (expected `array:` followed by `- |` items)",
                None,
            ));
            return;
        }
        Err(e) => {
            let msg = format!(
                "objects is not valid YAML: {}",
                crate::input::yaml_error_message(&e)
            );
            spc.problems.push(problem("objects", &msg, e.location()));
            return;
        }
    };
    if items.is_empty() {
        spc.problems
            .push(problem("objects.array", "objects array is empty", None));
    }
    for (index, item) in items.iter().enumerate() {
        let field = format!("objects.array[{index}]");
        // One pass: every RawObject field is a Value, so nothing is lost going through one.
        let raw = match crate::input::value_within(item, &budget)
            .map(keys_as_text)
            .and_then(serde_yaml::from_value::<Option<RawObject>>)
        {
            Ok(Some(raw)) => raw,
            Ok(None) => RawObject::default(),
            Err(e) => {
                let msg = format!(
                    "item is not valid YAML: {}",
                    crate::input::yaml_error_message(&e)
                );
                spc.problems.push(problem(&field, &msg, e.location()));
                continue;
            }
        };
        let object = object_from_raw(index, &raw);
        decode::type_problems(&raw, &field, &mut spc.problems);
        validate_object(&object, &field, &mut spc.problems);
        spc.objects.push(object);
    }
}

/// An item's keys as text: the provider skips a key it has no field for whatever its type
/// (`7: x`), and so must the decoding into [`RawObject`].
fn keys_as_text(v: serde_yaml::Value) -> serde_yaml::Value {
    match v {
        serde_yaml::Value::Mapping(m) => serde_yaml::Value::Mapping(
            m.into_iter()
                .map(|(k, v)| match k {
                    serde_yaml::Value::String(_) => (k, v),
                    other => (scalar(&Some(other)).unwrap_or_default().into(), v),
                })
                .collect(),
        ),
        other => other,
    }
}

fn object_from_raw(index: usize, raw: &RawObject) -> SpcObject {
    let object_type_raw = scalar(&raw.object_type).unwrap_or_default();
    SpcObject {
        index,
        object_name: scalar(&raw.object_name).unwrap_or_default(),
        object_type: ObjectType::parse(&object_type_raw),
        object_type_raw,
        object_alias: scalar(&raw.object_alias).filter(|s| !s.is_empty()),
        object_version: scalar(&raw.object_version).filter(|s| !s.is_empty() && s != "latest"),
        object_version_history: scalar(&raw.object_version_history).and_then(|s| s.parse().ok()),
        object_format: scalar(&raw.object_format).filter(|s| !s.is_empty()),
        object_encoding: scalar(&raw.object_encoding).filter(|s| !s.is_empty()),
        file_permission: scalar(&raw.file_permission).filter(|s| !s.is_empty()),
        ignored: raw
            .other
            .iter()
            .map(|(k, v)| {
                let text = |v: &serde_yaml::Value| scalar(&Some(v.clone())).unwrap_or_default();
                (text(k), text(v))
            })
            .collect(),
    }
}

/// How the provider starts its refusal of an unknown `objectType` (met when it fetches the
/// item, not in its validation: `chain::rules::parse_first`, the lab's provider).
pub const UNKNOWN_OBJECT_TYPE: &str = "Invalid vaultObjectTypes";

/// How the provider starts its refusal of a vault name ([`invalid_vault_name`]).
pub const INVALID_VAULT_NAME: &str = "Invalid vault name";

/// The provider's own validation, with its messages.
fn validate_object(o: &SpcObject, field: &str, problems: &mut Vec<SpcProblem>) {
    let mut push = |sub: &str, msg: String| {
        problems.push(SpcProblem {
            field: format!("{field}.{sub}"),
            message: msg,
            line: None,
            column: None,
        })
    };
    if o.object_name.is_empty() {
        push("objectName", "objectName is required".into());
    }
    if o.object_type.is_none() {
        push(
            "objectType",
            format!(
                "{UNKNOWN_OBJECT_TYPE} {:?}. Should be secret, key, or cert",
                o.object_type_raw
            ),
        );
    }
    if let Some(f) = &o.object_format {
        let lower = f.to_ascii_lowercase();
        if lower != "pem" && lower != "pfx" {
            push(
                "objectFormat",
                format!("invalid objectFormat: {f}, should be PEM or PFX"),
            );
        // The provider's type check compares with "pfx" exactly (its value check folds
        // case): `PFX` on a cert passes, and is ignored there (audit CCC12).
        } else if f == "pfx" && o.object_type != Some(ObjectType::Secret) {
            push(
                "objectFormat",
                "PFX format only supported for objectType: secret".into(),
            );
        }
    }
    if let Some(e) = &o.object_encoding {
        // Compared case-insensitively, reported as written (as the provider does).
        if !matches!(e.to_ascii_lowercase().as_str(), "utf-8" | "base64" | "hex") {
            push(
                "objectEncoding",
                format!("invalid objectEncoding: {e}, should be hex, base64 or utf-8"),
            );
        } else if o.object_type != Some(ObjectType::Secret) {
            push(
                "objectEncoding",
                "objectEncoding only supported for objectType: secret".into(),
            );
        }
    }
    let file = o.file_name();
    // The file is named by objectAlias, or by objectName when there is no alias: the field to
    // correct is the one the name came from.
    let named_by = match &o.object_alias {
        Some(a) if !a.is_empty() => "objectAlias",
        _ => "objectName",
    };
    if file.contains("..") {
        push(named_by, "file name must not contain '..'".into());
    } else if file.starts_with('/') {
        push(named_by, format!("{RELATIVE}: {file}"));
    }
    if let Some(p) = &o.file_permission
        && (p.len() > 4 || u32::from_str_radix(p, 8).is_err())
    {
        push(
            "filePermission",
            format!("invalid filePermission {p:?}: expected an octal mode like 0644"),
        );
    }
}

/// A boolean parameter that parses true (the provider trims values, then strconv.ParseBool).
pub fn truthy(v: &Option<String>) -> bool {
    v.as_deref().and_then(parse_bool) == Some(true)
}

/// Names the provider's cloud lookup accepts, compared case-insensitively (FACTS §5 [AR]).
/// go-autorest v0.11.30, the version the provider pins, also maps the Azure CLI spellings
/// `AzureCloud` and `AzureUSGovernment`; older copies of environments.go lack them.
const CLOUDS: [&str; 7] = [
    "azurepubliccloud",
    "azurecloud",
    "azureusgovernmentcloud",
    "azureusgovernment",
    "azurechinacloud",
    "azuregermancloud",
    "azurestackcloud",
];

/// The provider's refusal of vault name `name` (FACTS §5), checked as it checks: 3–24
/// characters first, then `[-a-zA-Z0-9]`. One check for the chain's KVC302 and the lab's
/// provider, so both quote the message the provider gives for that name.
pub fn invalid_vault_name(name: &str) -> Option<String> {
    if !(3..=24).contains(&name.len()) {
        return Some(format!(
            "{INVALID_VAULT_NAME}: {name:?}, must be between 3 and 24 chars"
        ));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Some(format!(
            "{INVALID_VAULT_NAME}: {name:?}, must match [-a-zA-Z0-9]{{3,24}}"
        ));
    }
    None
}

/// Whether the provider's cloud lookup knows `cloudName` (case-insensitive). One list for the
/// chain's KVC302 and the lab's provider, so the two cannot disagree on a name.
pub fn known_cloud(name: &str) -> bool {
    CLOUDS.contains(&name.trim().to_ascii_lowercase().as_str())
}

/// The name the Azure provider registers with the driver (its socket `azure.sock`): the driver
/// looks up an SPC's `spec.provider` verbatim among the registered names (FACTS §3, §11).
pub const AZURE_PROVIDER: &str = "azure";

/// The driver's error for a `spec.provider` no registered provider has, at mount: its
/// NodePublishVolume wraps the provider clients' "provider not found" (v1.5 and v1.6
/// nodeserver.go, provider_client.go); the ≤v1.5 rotation event says `failed to lookup
/// provider client: "<name>"` instead (FACTS §3, §11). One text for the chain's KVC104 and
/// the lab.
pub fn provider_lookup_error(name: &str) -> String {
    format!("error connecting to provider {name:?}: provider not found: provider {name:?}")
}

/// Go's strconv.ParseBool, after the provider's TrimSpace.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim() {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(objects: &str) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        m.insert("keyvaultName".into(), "kv1".into());
        m.insert("tenantId".into(), "t1".into());
        m.insert("objects".into(), objects.into());
        m
    }

    /// The provider's YAML decoding skips keys it has no field for, whatever their type: they
    /// are kept aside (a misspelt objectAlias explains a missing file), never a problem.
    #[test]
    fn keys_the_provider_does_not_read_are_kept_aside_not_rejected() {
        let spc = parse(&params(
            "array:\n  - |\n    objectName: db-pass\n    objectType: secret\n    alias: password\n    7: seven\n",
        ));
        assert!(spc.problems.is_empty(), "{:?}", spc.problems);
        let o = &spc.objects[0];
        assert_eq!(o.file_name(), "db-pass");
        assert_eq!(
            o.ignored,
            [
                ("alias".to_string(), "password".to_string()),
                ("7".to_string(), "seven".to_string())
            ]
        );
    }

    #[test]
    fn parses_upstream_objects_shape_with_alias() {
        let spc = parse(&params(
            "array:\n  - |\n    objectName: db-pass\n    objectType: secret\n    objectAlias: secretalias\n    objectVersion: \"\"\n  - |\n    objectName: key1\n    objectType: key\n    objectVersion: 7cc095105411491b84fe1b92ebbcf01a\n",
        ));
        assert!(spc.problems.is_empty(), "{:?}", spc.problems);
        assert_eq!(spc.objects.len(), 2);
        assert_eq!(spc.objects[0].file_name(), "secretalias");
        assert!(spc.objects[0].is_status_id("secret/db-pass"));
        for other in [
            "secret/db-pas",
            "secret/db-passs",
            "secrets/db-pass",
            "secret-db-pass",
            "key/db-pass",
            "",
        ] {
            assert!(!spc.objects[0].is_status_id(other), "{other}");
        }
        // No history: the index form is no id of this object.
        assert!(!spc.objects[0].is_status_id("secret/db-pass/0"));
        assert_eq!(spc.objects[0].object_version, None);
        assert_eq!(spc.objects[1].object_type, Some(ObjectType::Key));
        assert_eq!(
            spc.objects[1].object_version.as_deref(),
            Some("7cc095105411491b84fe1b92ebbcf01a")
        );
    }

    /// Without objectAlias the provider names the file by objectName: a `..` in it is a
    /// problem of objectName, the field to correct; with an alias it is the alias's.
    #[test]
    fn a_dotdot_file_name_is_reported_on_the_field_it_came_from() {
        let spc = parse(&params(
            "array:\n  - |\n    objectName: démo/../secret\n    objectType: secret\n  - |\n    objectName: fine\n    objectType: secret\n    objectAlias: ../up\n",
        ));
        let fields: Vec<(&str, &str)> = spc
            .problems
            .iter()
            .map(|p| (p.field.as_str(), p.message.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                (
                    "objects.array[0].objectName",
                    "file name must not contain '..'"
                ),
                (
                    "objects.array[1].objectAlias",
                    "file name must not contain '..'"
                ),
            ]
        );
    }

    #[test]
    fn tenant_id_upper_wins_over_deprecated_lower() {
        let mut p = params("array: []");
        p.insert("tenantID".into(), " upper ".into());
        assert_eq!(parse(&p).tenant_id.as_deref(), Some("upper"));
    }

    #[test]
    fn malformed_objects_reports_line_and_column() {
        let spc = parse(&params(
            "array:\n  - |\n    objectName: a\n   - |\n  bad: [\n",
        ));
        let p = &spc.problems[0];
        assert_eq!(p.field, "objects");
        assert!(p.line.is_some() && p.column.is_some(), "{p:?}");
    }

    #[test]
    fn invalid_type_and_pfx_on_cert_are_reported() {
        let spc = parse(&params(
            "array:\n  - |\n    objectName: a\n    objectType: secrets\n  - |\n    objectName: c\n    objectType: cert\n    objectFormat: pfx\n",
        ));
        let fields: Vec<_> = spc.problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "objects.array[0].objectType",
                "objects.array[1].objectFormat"
            ]
        );
    }

    /// The provider folds case for the format's value but compares the type check with "pfx"
    /// exactly: `PFX` on a cert passes its validation (and is ignored there) (audit CCC12).
    #[test]
    fn upper_case_pfx_on_a_cert_passes_as_in_the_provider() {
        let spc = parse(&params(
            "array:\n  - |\n    objectName: c\n    objectType: cert\n    objectFormat: PFX\n",
        ));
        assert!(spc.problems.is_empty(), "{:?}", spc.problems);
    }

    #[test]
    fn missing_objects_is_a_problem_not_a_panic() {
        let spc = parse(&BTreeMap::new());
        assert_eq!(spc.problems[0].message, "objects is not set");
    }
}
