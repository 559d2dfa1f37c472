//! A document decoded into the type of its kind, refused as kubectl and the API server refuse
//! it: a field of the wrong type, or one the schema does not know.

use serde::de::DeserializeOwned;

use super::{Doc, strict};
use crate::input::InputError;

/// [`typed`], refused as kubectl refuses it when the document sets a field the type does not
/// know (`strict`, audit BB4): a kind kvchain reads, whose schema k8s-openapi (or the CRD's
/// type) holds.
pub(super) fn known<T: DeserializeOwned + serde::Serialize>(
    doc: &Doc,
    what: &str,
    v: serde_yaml::Value,
) -> Result<T, InputError> {
    let t: T = crate::input::typed_ref(&v).map_err(|e| {
        // A field of the wrong type, said as the API server refuses it (audit UUU-real).
        match super::type_error::refused::<T>(&v, &e.path) {
            Some(why) => doc.err(what, why),
            None => doc.err(what, e),
        }
    })?;
    match strict::unknown_field(&v, &t) {
        Some(why) => Err(doc.err(what, why)),
        None => Ok(t),
    }
}

/// A custom resource kvchain reads beyond SecretProviderClasses (an Argo Rollout, a KEDA
/// ScaledJob), refused for a field of the wrong type in its CRD schema's words, as an SPC is
/// (`spec.replicas in body must be of type integer: "string"`): both CRDs type the fields read
/// here, the pod template included (audit WWW-real; serde's words were said). Its type holds
/// only what kvchain reads, so no field is called unknown.
pub(super) fn custom<T: DeserializeOwned>(
    doc: &Doc,
    what: &str,
    v: serde_yaml::Value,
) -> Result<T, InputError> {
    crate::input::typed_ref(&v).map_err(|e| match super::type_error::refused::<T>(&v, &e.path) {
        Some(why) => doc.err(what, why),
        None => doc.err(what, e),
    })
}
