//! Untrusted input files and YAML, read within bounds.
//!
//! Everything a user points kvchain at (`-f`, `--lab`, `--config`, themes, an SPC's `objects`
//! string) goes through here so that hostile input ends in an [`InputError`], never a hang, a
//! panic or an out-of-memory abort:
//! - only regular files are read: opening a FIFO blocks until a writer appears, and a device
//!   such as `/dev/zero` never ends;
//! - a file is at most [`MAX_FILE_BYTES`];
//! - YAML aliases may not expand a file beyond what it spells out by more than
//!   [`ALIAS_EXTRA_BYTES`] of strings or [`ALIAS_EXTRA_NODES`] values (serde_yaml limits alias
//!   jumps, not the size they expand to: one 1 MiB string aliased 4,000 times is 4 GiB);
//! - YAML nested more deeply than serde_yaml reads is rejected before parsing, in linear
//!   time ([`nesting`]): libyaml takes quadratic time over deep flow nesting;
//! - a leading UTF-8 byte-order mark is dropped (editors on Windows write one);
//! - type errors name the field path and never echo the offending value, which may be secret
//!   material (`stringData`, a Key Vault secret `value`).

use std::cell::Cell;
use std::fs::Metadata;
use std::io::Read;
use std::path::Path;

use serde::de::{DeserializeOwned, DeserializeSeed, Deserializer, EnumAccess, MapAccess};
use serde::de::{SeqAccess, VariantAccess, Visitor};
use serde_yaml::Value;
use serde_yaml::value::{Tag, TaggedValue};

pub use error::InputError;

mod error;
pub(crate) mod file_modes;
mod go_numbers;
mod wording;
pub use wording::located;
mod kubectl_output;
pub mod nesting;
pub mod stream;

/// Largest input file read (64 MiB: a `kubectl get -A -o yaml` of a large cluster fits).
pub const MAX_FILE_BYTES: u64 = 64 << 20;
/// String bytes YAML aliases may add to a file beyond its own size.
pub const ALIAS_EXTRA_BYTES: usize = 64 << 20;
/// Values (scalars, sequences, mappings) YAML aliases may add beyond the file's size in bytes.
pub const ALIAS_EXTRA_NODES: usize = 1_000_000;

/// What a path is, when it is not a regular file or a directory ("a FIFO", "a socket", …).
pub fn special_kind(meta: &Metadata) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_file() || t.is_dir() {
        None
    } else if t.is_fifo() {
        Some("a FIFO")
    } else if t.is_socket() {
        Some("a socket")
    } else if t.is_char_device() {
        Some("a character device")
    } else if t.is_block_device() {
        Some("a block device")
    } else {
        Some("not a regular file")
    }
}

/// The warning printed for a special file met while listing a directory.
pub fn warn_skipped(path: &Path, kind: &str) {
    crate::say!(
        "kvchain: warning: skipping {}: {kind}, only regular files are read",
        path.display()
    );
}

/// Reads a regular file as UTF-8 text (without a leading byte-order mark). A FIFO, socket or
/// device, a file over [`MAX_FILE_BYTES`] or non-UTF-8 bytes are an error naming the file.
pub fn read_text(path: &Path) -> Result<String, InputError> {
    let meta = std::fs::metadata(path)
        .map_err(|e| InputError::in_file(path, format!("cannot read: {e}")))?;
    if meta.is_dir() {
        return Err(InputError::in_file(path, "is a directory, expected a file"));
    }
    if let Some(kind) = special_kind(&meta) {
        return Err(InputError::in_file(
            path,
            format!("is {kind}: only regular files are read"),
        ));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_big(path, MAX_FILE_BYTES, ONE_INPUT));
    }
    let file = std::fs::File::open(path)
        .map_err(|e| InputError::in_file(path, format!("cannot read: {e}")))?;
    text_from(file, path, meta.len() as usize, MAX_FILE_BYTES, ONE_INPUT)
}

const ONE_INPUT: &str = "one input file";

fn too_big(path: &Path, cap: u64, limit_for: &str) -> InputError {
    InputError::in_file(
        path,
        format!(
            "larger than {} MiB: not read (limit for {limit_for})",
            cap >> 20
        ),
    )
}

/// Standard input (`-f -`) as UTF-8 text, within the same limits as a file; `name` stands for it
/// in messages.
pub fn read_stdin(name: &Path) -> Result<String, InputError> {
    text_from(std::io::stdin().lock(), name, 0, MAX_FILE_BYTES, ONE_INPUT)
}

/// At most `cap` bytes of `reader` as UTF-8 text, without a leading byte-order mark; past it
/// the error says the file is over the limit for `limit_for` ("one input file").
pub fn text_from(
    reader: impl Read,
    path: &Path,
    expected: usize,
    cap: u64,
    limit_for: &str,
) -> Result<String, InputError> {
    let mut bytes = Vec::with_capacity(expected);
    // A file may grow between stat and read, a pipe has no size: the limit holds for what is read.
    reader
        .take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| InputError::in_file(path, format!("cannot read: {e}")))?;
    if bytes.len() as u64 > cap {
        return Err(too_big(path, cap, limit_for));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        InputError::in_file(
            path,
            format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

/// `text` without a leading UTF-8 byte-order mark.
pub fn without_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// The documents of a (multi-document) YAML text as values, aliases expanded within the
/// budget of the whole text. Iteration stops being useful after the first error.
pub fn documents(text: &str) -> impl Iterator<Item = Result<Value, serde_yaml::Error>> + '_ {
    let text = without_bom(text);
    let budget = Budget::for_text(text);
    // Too deep somewhere: the documents before that one are read, then the error ends it.
    let deep = nesting::too_deep(text);
    let (head, error) = match &deep {
        Some(d) => (&text[..d.document_start], Some(too_deep_error(d))),
        None => (text, None),
    };
    let empty_head = head.trim().is_empty();
    // Kubernetes objects (a lab scenario's): volume file modes as kubectl reads them.
    let docs = serde_yaml::Deserializer::from_str(head)
        .take_while(move |_| !empty_head)
        .map(move |de| Bounded::manifest(&budget, head).deserialize(de));
    docs.chain(error.map(Err))
}

fn too_deep_error(d: &nesting::TooDeep) -> serde_yaml::Error {
    serde::de::Error::custom(d.to_string())
}

/// The error for a text nested too deeply to be parsed in reasonable time, if it is.
fn check_nesting(text: &str) -> Result<(), serde_yaml::Error> {
    nesting::too_deep(text).map_or(Ok(()), |d| Err(too_deep_error(&d)))
}

/// One YAML value (the first document of `text`), aliases expanded within budget.
pub fn value(text: &str) -> Result<Value, serde_yaml::Error> {
    documents(text).next().unwrap_or_else(|| Ok(Value::Null))
}

/// The first document of `text` as a value, charging a shared budget (see [`from_str_within`]).
pub fn value_within(text: &str, budget: &Budget) -> Result<Value, serde_yaml::Error> {
    check_nesting(without_bom(text))?;
    match serde_yaml::Deserializer::from_str(without_bom(text)).next() {
        Some(de) => Bounded::new(budget).deserialize(de),
        None => Ok(Value::Null),
    }
}

/// Parses `text` as one `T`, with the alias budget enforced first. For small typed inputs
/// (config, themes, an SPC's objects) whose messages come from serde_yaml's own paths.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, serde_yaml::Error> {
    from_str_within(text, &Budget::for_text(text))
}

/// [`from_str`] charging a budget shared by several texts (an SPC's `objects` and each of its
/// items), so many small texts cannot each expand to the full allowance.
pub fn from_str_within<T: DeserializeOwned>(
    text: &str,
    budget: &Budget,
) -> Result<T, serde_yaml::Error> {
    let text = without_bom(text);
    check_nesting(text)?;
    for de in serde_yaml::Deserializer::from_str(text) {
        Bounded::new(budget).deserialize(de)?;
    }
    serde_yaml::from_str(text)
}

/// Deserializes a value into `T`; the error names the field path (`spec.replicas`) and never
/// the offending value.
pub fn typed<T: DeserializeOwned>(v: Value) -> Result<T, FieldError> {
    typed_from(v)
}

/// [`typed`] from a borrowed value, which the caller keeps (to compare with what `T` knows).
pub fn typed_ref<T: DeserializeOwned>(v: &Value) -> Result<T, FieldError> {
    typed_from(v)
}

fn typed_from<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<T, FieldError> {
    serde_path_to_error::deserialize(d).map_err(|e| {
        let inner = e.inner().to_string();
        FieldError {
            path: e.path().to_string(),
            message: if is_base64_error(&inner) {
                NOT_BASE64.to_string()
            } else {
                redact(&inner)
            },
        }
    })
}

/// What a base64 field (a Secret's `data`) that does not decode is said to be.
pub const NOT_BASE64: &str = "not valid base64";

/// The `base64` crate's decode errors, as k8s-openapi's `ByteString` passes them on (a Secret's
/// `data` values): they name the offending byte and its offset, or the value's length —
/// pieces of the secret, so the whole message is replaced.
fn is_base64_error(msg: &str) -> bool {
    [
        "Invalid symbol ",
        "Invalid last symbol ",
        "Invalid input length",
        "Invalid padding",
    ]
    .iter()
    .any(|p| msg.starts_with(p))
}

/// A type error inside a document: where (dotted path, `.` for the document itself) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub path: String,
    pub message: String,
}

impl FieldError {
    /// The path under a prefix: `spec` + `replicas` → `spec.replicas`.
    pub fn under(&self, prefix: &str) -> String {
        match (prefix.is_empty(), self.path == ".") {
            (_, true) => format!("{prefix}: {}", self.message),
            (true, false) => format!("{}: {}", self.path, self.message),
            (false, false) if self.path.starts_with('[') => {
                format!("{prefix}{}: {}", self.path, self.message)
            }
            (false, false) => format!("{prefix}.{}: {}", self.path, self.message),
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.under(""))
    }
}

/// A YAML error's message without serde_yaml's " at line L column C" (callers report the
/// location on their own, relative to the file) and with no value echoed ([`redact`]): what
/// every YAML parse or type error is said as.
pub fn yaml_error_message(e: &serde_yaml::Error) -> String {
    let s = e.to_string();
    let s = match s.find(" at line ") {
        Some(i) => &s[..i],
        None => &s,
    };
    redact(s)
}

/// serde's "invalid type: string \"hunter2\", expected …" echoes the value; a field of the
/// wrong type may hold a secret, so only the value's kind is kept.
pub fn redact(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(i) = rest
        .find("invalid type: ")
        .or_else(|| rest.find("invalid value: "))
    {
        let head = &rest[..i];
        let after_label = i + rest[i..].find(": ").unwrap_or(0) + 2;
        out.push_str(head);
        out.push_str(&rest[i..after_label]);
        rest = &rest[after_label..];
        let (kind, tail) = if let Some(t) = rest.strip_prefix("string \"") {
            ("a string", skip_quoted(t))
        } else if let Some(t) = rest.strip_prefix("character `") {
            ("a character", t.split_once('`').map_or("", |(_, r)| r))
        } else if let Some(t) = rest.strip_prefix("integer `") {
            ("an integer", t.split_once('`').map_or("", |(_, r)| r))
        } else if let Some(t) = rest.strip_prefix("floating point `") {
            ("a number", t.split_once('`').map_or("", |(_, r)| r))
        } else if let Some(t) = rest.strip_prefix("boolean `") {
            ("a boolean", t.split_once('`').map_or("", |(_, r)| r))
        } else {
            continue;
        };
        out.push_str(kind);
        rest = tail;
    }
    out.push_str(rest);
    // `expected struct Coll`, `expected i32`: said as `an object`, an integer's range.
    wording::in_user_terms(&out)
}

/// The text after a Debug-escaped string's closing quote.
fn skip_quoted(s: &str) -> &str {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return &s[i + 1..],
            _ => {}
        }
    }
    ""
}

/// What aliases may still expand to, for one text (or a family of texts).
pub struct Budget {
    bytes: Cell<usize>,
    nodes: Cell<usize>,
}

impl Budget {
    pub fn for_text(text: &str) -> Budget {
        Budget {
            bytes: Cell::new(text.len() + ALIAS_EXTRA_BYTES),
            nodes: Cell::new(text.len() + ALIAS_EXTRA_NODES),
        }
    }

    fn charge<E: serde::de::Error>(&self, bytes: usize) -> Result<(), E> {
        match (
            self.bytes.get().checked_sub(bytes),
            self.nodes.get().checked_sub(1),
        ) {
            (Some(b), Some(n)) => {
                self.bytes.set(b);
                self.nodes.set(n);
                Ok(())
            }
            _ => Err(E::custom(format!(
                "YAML aliases expand to more than the input's own size plus {} MiB (or {} values): rejected",
                ALIAS_EXTRA_BYTES >> 20,
                ALIAS_EXTRA_NODES
            ))),
        }
    }
}

/// Builds a [`Value`] like serde_yaml's own visitor, charging every value to the budget.
#[derive(Clone, Copy)]
struct Bounded<'b> {
    budget: &'b Budget,
    /// The text the values are read from, and where in it the parser is: a manifest's plain
    /// scalars are resolved as kubectl reads them ([`file_modes`]).
    src: &'b str,
    at: file_modes::At,
}

impl<'b> Bounded<'b> {
    /// Values as serde_yaml reads them (config, themes, an SPC's `objects`, a lab scenario).
    fn new(budget: &'b Budget) -> Self {
        Bounded {
            budget,
            src: "",
            at: file_modes::At::Off,
        }
    }

    /// A manifest read from `src`: its scalars as kubectl reads them.
    fn manifest(budget: &'b Budget, src: &'b str) -> Self {
        Bounded {
            budget,
            src,
            at: file_modes::At::Elsewhere,
        }
    }

    fn at(self, at: file_modes::At) -> Self {
        Bounded { at, ..self }
    }
}

impl<'de> DeserializeSeed<'de> for Bounded<'_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Bounded<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<Value, E> {
        self.budget.charge(0)?;
        Ok(file_modes::kubectl_key(self.at, Value::Bool(b)))
    }
    fn visit_i64<E: serde::de::Error>(self, i: i64) -> Result<Value, E> {
        self.budget.charge(0)?;
        Ok(file_modes::kubectl_key(self.at, Value::Number(i.into())))
    }
    fn visit_u64<E: serde::de::Error>(self, u: u64) -> Result<Value, E> {
        self.budget.charge(0)?;
        Ok(file_modes::kubectl_key(self.at, Value::Number(u.into())))
    }
    fn visit_f64<E: serde::de::Error>(self, f: f64) -> Result<Value, E> {
        self.budget.charge(0)?;
        Ok(file_modes::kubectl_key(
            self.at,
            file_modes::kubectl_float(self.at, f),
        ))
    }
    // An integer past u64/i64: Kubernetes' YAML (go-yaml) resolves it as a float, so it is a
    // number kubectl sends on (and the API server refuses where it wants a string). serde's
    // default would fail the whole document with a message that spells out the digits, which
    // may be a Secret's `stringData` value (audit QQ5).
    fn visit_u128<E: serde::de::Error>(self, u: u128) -> Result<Value, E> {
        self.visit_f64(u as f64)
    }
    fn visit_i128<E: serde::de::Error>(self, i: i128) -> Result<Value, E> {
        self.visit_f64(i as f64)
    }
    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Value, E> {
        self.budget.charge(s.len())?;
        Ok(Value::String(s.to_owned()))
    }
    // serde_yaml lends a scalar from the text where it can: only there are its quotes seen.
    fn visit_borrowed_str<E: serde::de::Error>(self, s: &'de str) -> Result<Value, E> {
        // A number to kubectl's YAML 1.1 that YAML 1.2 reads as a string: `0644`, `+0644`,
        // `1_000`, `0800` (audit WWW-real).
        if self.at != file_modes::At::Off && file_modes::plain(self.src, s) {
            match go_numbers::resolve(s) {
                Some(Ok(n)) => {
                    self.budget.charge(0)?;
                    return Ok(file_modes::kubectl_key(self.at, n));
                }
                Some(Err(f)) => return self.visit_f64(f),
                None => {}
            }
        }
        // A manifest's value or key read as kubectl's YAML 1.1 reads it (a key then made the
        // string sigs.k8s.io/yaml makes of it, in visit_bool).
        if self.at != file_modes::At::Off
            && let Some(b) = file_modes::plain_bool(self.src, s)
        {
            return self.visit_bool(b);
        }
        self.visit_str(s)
    }
    fn visit_string<E: serde::de::Error>(self, s: String) -> Result<Value, E> {
        self.budget.charge(s.len())?;
        Ok(Value::String(s))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Value, E> {
        self.budget.charge(0)?;
        Ok(Value::Null)
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<Value, E> {
        self.visit_unit()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        self.deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.budget.charge(0)?;
        let mut items = Vec::new();
        let entry = self.at(self.at.value());
        while let Some(v) = seq.next_element_seed(entry)? {
            items.push(v);
        }
        Ok(Value::Sequence(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.budget.charge(0)?;
        let mut m = serde_yaml::Mapping::new();
        while let Some(k) = map.next_key_seed(self.at(self.at.map_key()))? {
            if m.contains_key(&k) {
                return Err(serde::de::Error::custom(format!(
                    "duplicate key {}",
                    key_name(&k)
                )));
            }
            let v = map.next_value_seed(self.at(self.at.value()))?;
            m.insert(k, v);
        }
        Ok(Value::Mapping(m))
    }
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        // A tagged value (`!Tag value`).
        let (tag, contents) = data.variant::<String>()?;
        if tag.is_empty() {
            return Err(serde::de::Error::custom("empty YAML tag is not allowed"));
        }
        let value = contents.newtype_variant_seed(self)?;
        Ok(Value::Tagged(Box::new(TaggedValue {
            tag: Tag::new(tag),
            value,
        })))
    }
}

fn key_name(k: &Value) -> String {
    match k {
        Value::String(s) => format!("{s:?}"),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        _ => "(a collection)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_keeps_the_kind_and_drops_the_value() {
        assert_eq!(
            redact(r#"invalid type: string "hun\"ter2", expected a map"#),
            "invalid type: a string, expected a map"
        );
        assert_eq!(
            redact("invalid type: integer `1234`, expected a sequence"),
            "invalid type: an integer, expected a sequence"
        );
        assert_eq!(
            redact("invalid type: boolean `false`, expected a string"),
            "invalid type: a boolean, expected a string"
        );
        assert_eq!(
            redact("invalid type: sequence, expected a string"),
            "invalid type: sequence, expected a string"
        );
    }

    /// A Secret's `data` value that is not base64: the decoder's message names a byte of the
    /// value and its offset (`Invalid symbol 45, offset 6.`); only the field and "not valid
    /// base64" may be said.
    #[test]
    fn base64_errors_name_neither_symbol_nor_offset() {
        use k8s_openapi::api::core::v1::Secret;
        for bad in ["CANARY-9f3b-notbase64!!", "QUJDR", "QUJ=", "QQ"] {
            let v = value(&format!(
                "metadata: {{name: s}}\ndata: {{token: {bad:?}}}\n"
            ))
            .unwrap();
            let e = typed::<Secret>(v).unwrap_err();
            assert_eq!(e.to_string(), "data.token: not valid base64", "{bad}");
        }
    }

    #[test]
    fn aliases_within_budget_expand_like_serde_yaml() {
        let text = "a: &x [1, two, {k: v}]\nb: *x\nc: !T 3\n";
        let ours = value(text).unwrap();
        let theirs: Value = serde_yaml::from_str(text).unwrap();
        assert_eq!(ours, theirs);
    }

    #[test]
    fn duplicate_keys_are_an_error() {
        let e = value("a: 1\na: 2\n").unwrap_err().to_string();
        assert!(e.contains("duplicate key \"a\""), "{e}");
    }

    #[test]
    fn bom_is_dropped_before_every_document() {
        let docs: Vec<_> = documents("\u{feff}a: 1\n---\nb: 2\n").collect();
        assert_eq!(docs.len(), 2);
        assert!(docs.iter().all(|d| d.is_ok()), "{docs:?}");
    }
}
