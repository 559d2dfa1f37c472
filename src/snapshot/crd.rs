//! The Secrets Store CSI driver's CRDs (`secrets-store.csi.x-k8s.io/v1`), as in
//! `shared/upstream/crds`. Only the fields kvchain reads are typed; unknown fields are ignored.

use std::borrow::Cow;
use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `kube::Resource` for a namespaced kind of the driver's group (`secrets-store.csi.x-k8s.io/v1`)
/// typed by hand: both CRDs' objects may lack what kube's derive requires of them.
macro_rules! driver_resource {
    ($ty:ty, $kind:literal, $plural:literal) => {
        impl kube::Resource for $ty {
            type DynamicType = ();
            type Scope = k8s_openapi::NamespaceResourceScope;

            fn kind(_: &()) -> Cow<'_, str> {
                $kind.into()
            }
            fn group(_: &()) -> Cow<'_, str> {
                "secrets-store.csi.x-k8s.io".into()
            }
            fn version(_: &()) -> Cow<'_, str> {
                "v1".into()
            }
            fn plural(_: &()) -> Cow<'_, str> {
                $plural.into()
            }
            fn meta(&self) -> &ObjectMeta {
                &self.metadata
            }
            fn meta_mut(&mut self) -> &mut ObjectMeta {
                &mut self.metadata
            }
        }
    };
}

driver_resource!(
    SecretProviderClass,
    "SecretProviderClass",
    "secretproviderclasses"
);

/// `SecretProviderClass`. Written by hand, not derived by kube's `CustomResource`: its CRD
/// requires no field, so an object without `spec` exists in a cluster (its mounts fail for want
/// of a provider), and the derived type refuses it ("missing field `spec`"), which failed the
/// decode of the whole list holding it and left every other SPC unread.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct SecretProviderClass {
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: SecretProviderClassSpec,
}

impl SecretProviderClass {
    /// One named `name` holding `spec` (namespace unset), as kube's derive made it.
    pub fn new(name: &str, spec: SecretProviderClassSpec) -> Self {
        SecretProviderClass {
            metadata: ObjectMeta {
                name: Some(name.to_string()),
                ..ObjectMeta::default()
            },
            spec,
        }
    }
}

/// Written with its `apiVersion` and `kind`, as the API server serves it (and as the strict
/// check of a manifest compares its keys with the typed value written back).
impl Serialize for SecretProviderClass {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = s.serialize_struct("SecretProviderClass", 4)?;
        out.serialize_field("apiVersion", "secrets-store.csi.x-k8s.io/v1")?;
        out.serialize_field("kind", "SecretProviderClass")?;
        out.serialize_field("metadata", &self.metadata)?;
        out.serialize_field("spec", &self.spec)?;
        out.end()
    }
}

/// `SecretProviderClass.spec`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretProviderClassSpec {
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default)]
    pub parameters: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub secret_objects: Option<Vec<SecretObject>>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretObject {
    #[serde(default)]
    pub secret_name: Option<String>,
    #[serde(default, rename = "type")]
    pub type_: Option<String>,
    #[serde(default)]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub data: Option<Vec<SecretObjectDataEntry>>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretObjectDataEntry {
    #[serde(default)]
    pub object_name: Option<String>,
    #[serde(default)]
    pub key: Option<String>,
}

/// `SecretProviderClassPodStatus`: the CRD has no spec, only `status`, so the kube
/// [`kube::Resource`] impl is written by hand rather than derived.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SecretProviderClassPodStatus {
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub status: Option<SpcpsStatus>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpcpsStatus {
    #[serde(default)]
    pub pod_name: Option<String>,
    #[serde(default)]
    pub secret_provider_class_name: Option<String>,
    #[serde(default)]
    pub mounted: Option<bool>,
    #[serde(default)]
    pub target_path: Option<String>,
    #[serde(default)]
    pub objects: Option<Vec<SpcpsStatusObject>>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SpcpsStatusObject {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
}

driver_resource!(
    SecretProviderClassPodStatus,
    "SecretProviderClassPodStatus",
    "secretproviderclasspodstatuses"
);
