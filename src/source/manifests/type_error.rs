//! A field of the wrong type (`replicas: many`, `containerPort: "80"`, `readOnly: "yes"`, a list
//! where a map is expected), said as the API server refuses the object, not in serde's words
//! (audit UUU-real; TTT-real did it for file modes alone).
//!
//! kubectl turns the YAML into JSON and sends it; the API server decodes a built-in kind with
//! Go's `encoding/json` (sigs.k8s.io/json) and answers `Deployment in version "v1" cannot be
//! handled as a Deployment: json: cannot unmarshal string into Go struct field
//! DeploymentSpec.spec.replicas of type int32`: the JSON kind of the value written (string,
//! number, bool, array, object), the innermost Go struct holding the field, the JSON path from
//! the object's root without indices or map keys, and the Go type expected. A custom resource
//! (a SecretProviderClass) is checked against its CRD's schema instead: `The
//! SecretProviderClass "x" is invalid: spec.provider: Invalid value: "integer": spec.provider in
//! body must be of type string: "integer"`.
//!
//! k8s-openapi's types carry the Go names (its visitors expect `ContainerPort`, `DeploymentSpec`),
//! so the struct holding each step is found by asking the type itself: the value at that step
//! is replaced by one of the wrong kind and the document decoded again, and serde names what it
//! expected there. This runs only for a document already refused, once per step of its path.

use go_names::named;
use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;
use serde_yaml::Value;

mod go_names;

/// One step of a path: a mapping key (a struct field or a map's key) or a list index.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// What serde expected at a place, as the Go type it stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Expected {
    /// A Go scalar type: `int32`, `string`, `bool`…
    Scalar(&'static str),
    /// A Go type that decodes itself (`UnmarshalJSON`) by a plain `json.Unmarshal` into the
    /// type named here: intstr.IntOrString (an int32 unless a JSON string), metav1.Time (a
    /// string). Go's error then comes from that inner call, which knows no struct: `json:
    /// cannot unmarshal bool into Go value of type int32`.
    Inner(&'static str),
    /// A Go struct, by its name (`ContainerPort`).
    Struct(String),
    /// resource.Quantity, which parses what it is given (its own message).
    Quantity,
    Seq,
    Map,
}

/// What was written where a type error is: its JSON kind (`string`, `bool`, `integer`,
/// `float`, `array`, `object`) and, for a number, the JSON text kubectl sends for it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Got {
    kind: &'static str,
    number: Option<String>,
}

/// The first type error of `v` decoded as `T`: where, what was written and what was expected.
/// An integer out of the field's range is one too (Go's `ParseInt` fails on it alike). `None`
/// when it decodes, or fails otherwise (a missing field): those keep their words.
fn first_error<T: DeserializeOwned>(v: &Value) -> Option<(Vec<Step>, Got, Expected)> {
    let e = serde_path_to_error::deserialize::<_, T>(v).err()?;
    let steps = e
        .path()
        .iter()
        .map(|s| match s {
            Segment::Seq { index } => Some(Step::Index(*index)),
            Segment::Map { key } => Some(Step::Key(key.clone())),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    // serde's own message names the value (`string "hunter2"`): only its kind is kept here, and
    // a number's text is read from the value itself.
    let msg = e.inner().to_string();
    let (rest, kinds): (&str, &[(&str, &'static str)]) = match msg.strip_prefix("invalid type: ") {
        Some(rest) => (
            rest,
            &[
                ("string ", "string"),
                ("boolean ", "bool"),
                ("integer ", "integer"),
                ("floating point ", "float"),
                ("sequence,", "array"),
                ("map,", "object"),
            ],
        ),
        None => (
            msg.strip_prefix("invalid value: ")?,
            &[("integer ", "integer")],
        ),
    };
    let kind = kinds.iter().find(|(p, _)| rest.starts_with(p))?.1;
    let expected = expected(rest.rsplit_once(", expected ")?.1)?;
    let number = matches!(kind, "integer" | "float")
        .then(|| at(v, &steps).and_then(go_number))
        .flatten();
    Some((steps, Got { kind, number }, expected))
}

/// The value of `v` at `steps`.
fn at<'v>(v: &'v Value, steps: &[Step]) -> Option<&'v Value> {
    steps.iter().try_fold(v, |cur, step| match step {
        Step::Key(k) => cur.get(k.as_str()),
        Step::Index(i) => cur.get(*i),
    })
}

/// A YAML number as the JSON text kubectl sends for it: sigs.k8s.io/yaml hands go-yaml's
/// int64 or float64 to Go's `json.Marshal`, which writes a float as its shortest decimal,
/// in exponent form below 1e-6 and from 1e21 (`1e+21`, `1.5e-7`).
fn go_number(n: &Value) -> Option<String> {
    let Value::Number(n) = n else { return None };
    if n.is_i64() || n.is_u64() {
        return Some(n.to_string());
    }
    let f = n.as_f64()?;
    let abs = f.abs();
    if !f.is_finite() {
        return None;
    }
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let e = format!("{f:e}");
        return Some(match e.split_once('e') {
            Some((m, x)) if !x.starts_with('-') => format!("{m}e+{x}"),
            _ => e,
        });
    }
    Some(format!("{f}"))
}

/// serde's "expected …" (k8s-openapi's visitors, serde's primitives) as a Go type.
fn expected(what: &str) -> Option<Expected> {
    Some(match what {
        "i32" => Expected::Scalar("int32"),
        "i64" => Expected::Scalar("int64"),
        "f64" => Expected::Scalar("float64"),
        "a string" => Expected::Scalar("string"),
        "a boolean" => Expected::Scalar("bool"),
        // Secret `data`: Go's []byte, which encoding/json reads from a base64 string.
        "a base64-encoded string" => Expected::Scalar("[]uint8"),
        // intstr.IntOrString reads a JSON string as a string and anything else as an int32
        // (k8s-openapi's visitor says "a 32-bit integer" of one out of its range).
        "IntOrString" | "a 32-bit integer" => Expected::Inner("int32"),
        // metav1.Time (and MicroTime) reads a JSON string (k8s-openapi's holds a jiff
        // Timestamp, whose visitor asks for "a timestamp string").
        "Time" | "a timestamp string" => Expected::Inner("string"),
        "Quantity" => Expected::Quantity,
        "a sequence" => Expected::Seq,
        "a map" => Expected::Map,
        s => {
            let name = s.strip_prefix("struct ").unwrap_or(s);
            let ident = name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                && name.chars().all(|c| c.is_ascii_alphanumeric());
            return ident.then(|| Expected::Struct(name.to_string()));
        }
    })
}

/// `v` with the value at `at` replaced by `with`.
fn replaced(v: &Value, at: &[Step], with: Value) -> Option<Value> {
    let mut out = v.clone();
    let mut cur = &mut out;
    for step in at {
        cur = match step {
            Step::Key(k) => cur.get_mut(k.as_str())?,
            Step::Index(i) => cur.get_mut(*i)?,
        };
    }
    *cur = with;
    Some(out)
}

/// What `T` expects at `at`, asked by putting a boolean there (no container takes one).
fn expected_at<T: DeserializeOwned>(v: &Value, at: &[Step], probe: Value) -> Option<Expected> {
    let (steps, _, e) = first_error::<T>(&replaced(v, at, probe)?)?;
    (steps == at).then_some(e)
}

/// The Go type of what `T` expects at `at`, given serde's `e` there: a list's or map's element
/// asked by putting a boolean inside it.
fn go_type<T: DeserializeOwned>(v: &Value, at: &[Step], e: &Expected) -> Option<String> {
    let element = |probe: Value, step: Step| {
        let mut inner = at.to_vec();
        inner.push(step);
        let (steps, _, e) = first_error::<T>(&replaced(v, at, probe)?)?;
        (steps == inner).then_some(e)
    };
    Some(match e {
        Expected::Scalar(s) | Expected::Inner(s) => s.to_string(),
        Expected::Struct(name) => format!("v1.{name}"),
        Expected::Quantity => "resource.Quantity".into(),
        Expected::Seq => {
            let el = element(Value::Sequence(vec![Value::Bool(true)]), Step::Index(0))?;
            format!("[]{}", scalar_or_struct(&el)?)
        }
        Expected::Map => {
            let mut m = serde_yaml::Mapping::new();
            m.insert(Value::String("k".into()), Value::Bool(true));
            let el = element(Value::Mapping(m), Step::Key("k".into()))?;
            format!("map[string]{}", scalar_or_struct(&el)?)
        }
    })
}

fn scalar_or_struct(e: &Expected) -> Option<String> {
    match e {
        Expected::Scalar(s) | Expected::Inner(s) => Some(s.to_string()),
        Expected::Struct(name) => Some(format!("v1.{name}")),
        Expected::Quantity => Some("resource.Quantity".into()),
        _ => None,
    }
}

/// The API server's refusal of built-in object `v` (decoded as `T`) for a field of the wrong
/// type, in its words, after the field's path as kvchain shows it; `None` when its first error
/// is no type error (its words are kept).
pub(super) fn refused<T: DeserializeOwned>(v: &Value, shown_path: &str) -> Option<String> {
    let kind = v.get("kind").and_then(Value::as_str)?;
    let version = v.get("apiVersion").and_then(Value::as_str)?;
    let (steps, got, e) = first_error::<T>(v)?;
    // A custom resource is decoded as unstructured JSON and checked against its CRD's schema,
    // but its metadata is unmarshalled into ObjectMeta by itself, as Go
    // (apiextensions-apiserver's GetObjectMetaWithOptions, audit VVV-real).
    // The custom resources kvchain reads, checked against their CRDs' schemas (audit
    // WWW-real: a Rollout's and a ScaledJob's type errors were serde's words).
    let custom = matches!(kind, "SecretProviderClass" | "Rollout" | "ScaledJob");
    let in_metadata = matches!(steps.first(), Some(Step::Key(k)) if k == "metadata");
    if custom && !in_metadata {
        return custom_resource(v, kind, shown_path, got.kind, &e);
    }
    // Each key is a struct's field or a map's key, as the type holding it says; Go's path
    // keeps the fields, and names the innermost struct.
    let mut fields = Vec::new();
    let mut holder = None;
    let mut field_at = 0;
    for (i, step) in steps.iter().enumerate() {
        let Step::Key(k) = step else { continue };
        match expected_at::<T>(v, &steps[..i], Value::Bool(true))? {
            Expected::Struct(name) => {
                fields.push(k.as_str());
                holder = Some(name);
                field_at = i;
            }
            Expected::Map => {}
            _ => return None,
        }
    }
    let holder = holder?;
    if custom {
        // Go's path starts inside the metadata it was given alone.
        fields.remove(0);
    }
    // Go prints the JSON text of a number only where it wanted an integer (ParseInt failed on
    // `1.5` or `3000000000`); elsewhere the kind alone, and never a string's value.
    let go_int = matches!(
        e,
        Expected::Scalar("int32" | "int64") | Expected::Inner("int32")
    );
    let got_said = match (got.kind, &got.number) {
        ("integer" | "float", Some(n)) if go_int => format!("number {n}"),
        ("integer" | "float", _) => "number".to_string(),
        (g, _) => g.to_string(),
    };
    // Go names the type a named string, list or map type has (`v1.Protocol`), which
    // k8s-openapi's plain `String` does not keep; inside the field (a list's entry) its element.
    let named = fields.last().and_then(|f| named(&holder, f)).map(|t| {
        if field_at + 1 == steps.len() {
            t
        } else {
            t.trim_start_matches("[]")
        }
    });
    let version = version.rsplit('/').next().unwrap_or(version);
    let head = format!("{kind} in version \"{version}\" cannot be handled as a {kind}");
    let said = match e {
        // resource.Quantity parses the text it is given: any non-quantity is this.
        Expected::Quantity => format!(
            "{head}: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        ),
        Expected::Inner(t) => {
            format!("{head}: json: cannot unmarshal {got_said} into Go value of type {t}")
        }
        // The metadata itself of the wrong kind (`metadata: 5`): no field to name.
        _ if fields.is_empty() => format!(
            "{head}: json: cannot unmarshal {got_said} into Go value of type {}",
            go_type::<T>(v, &steps, &e)?
        ),
        _ => format!(
            "{head}: json: cannot unmarshal {got_said} into Go struct field {holder}.{} of type {}",
            fields.join("."),
            match named {
                Some(t) => t.to_string(),
                None => go_type::<T>(v, &steps, &e)?,
            }
        ),
    };
    let hint = crate::input::file_modes::quoted_hint(&steps_shown(&steps), got.kind).unwrap_or("");
    let pods = matches!(
        kind,
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" | "CronJob" | "Pod"
    );
    let made = if pods {
        ", and no pod is made from it"
    } else {
        ""
    };
    Some(format!(
        "{shown_path}: the API server refuses the document (kubectl apply says: {said}){made}{hint}"
    ))
}

/// The keys of `steps`, for the file-mode hint (which looks for `volumes` … `defaultMode`).
fn steps_shown(steps: &[Step]) -> Vec<&str> {
    steps
        .iter()
        .filter_map(|s| match s {
            Step::Key(k) => Some(k.as_str()),
            Step::Index(_) => None,
        })
        .collect()
}

/// A custom resource's field of the wrong type, as its CRD's schema refuses it (apiextensions'
/// validation: `<path> in body must be of type <type>: "<got>"`, JSON Schema type names).
fn custom_resource(
    v: &Value,
    kind: &str,
    shown_path: &str,
    got: &str,
    e: &Expected,
) -> Option<String> {
    let name = v
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)?;
    let got = match got {
        "bool" => "boolean",
        "float" => "number",
        g => g,
    };
    let want = match e {
        Expected::Scalar("string") => "string",
        Expected::Scalar("bool") => "boolean",
        Expected::Scalar("int32" | "int64") => "integer",
        Expected::Seq => "array",
        Expected::Map | Expected::Struct(_) => "object",
        _ => return None,
    };
    Some(format!(
        "{shown_path}: the API server refuses the document (kubectl apply says: The {kind} \"{}\" is invalid: {shown_path}: Invalid value: \"{got}\": {shown_path} in body must be of type {want}: \"{got}\")",
        crate::shown::shown(name)
    ))
}
