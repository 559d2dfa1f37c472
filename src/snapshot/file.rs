//! Snapshot files: `kvchain snapshot save` writes what a source observed, `check --snapshot`
//! and `demo --snapshot` read it back. JSON with a format version; secret values were never in
//! a snapshot (only keyed fingerprints), so the file holds none.

use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::Snapshot;
use crate::input::InputError;

/// Bumped when a snapshot written by this version cannot be read by an older one.
pub const FORMAT: u32 = 1;

#[derive(Serialize, Deserialize)]
struct SnapshotFile {
    /// Format version ([`FORMAT`]).
    kvchain_snapshot: u32,
    /// kvchain version that wrote it (for bug reports).
    written_by: String,
    /// Names, ids, tenants and URLs were replaced by pseudonyms.
    anonymized: bool,
    snapshot: Snapshot,
}

pub fn to_string(snapshot: &Snapshot, anonymized: bool) -> anyhow::Result<String> {
    let file = SnapshotFile {
        kvchain_snapshot: FORMAT,
        written_by: env!("CARGO_PKG_VERSION").to_string(),
        anonymized,
        snapshot: snapshot.clone(),
    };
    let mut s = serde_json::to_string_pretty(&file)?;
    s.push('\n');
    Ok(s)
}

/// Largest snapshot file read: 2 GiB, where a 10,000-pod cluster's is ~66 MB. Past it a path
/// given by mistake (a disk image, `/dev/zero`) would be read until memory runs out.
pub const MAX_SNAPSHOT_BYTES: u64 = 2 << 30;

/// What is read of a snapshot before the rest: enough to see whether it starts as JSON.
const HEAD_BYTES: u64 = 64 << 10;

/// Read a snapshot file; errors name the file and what is wrong with it.
pub fn load(path: &Path) -> Result<Snapshot, InputError> {
    let text = read_capped(path, MAX_SNAPSHOT_BYTES)?;
    let mut snapshot = from_str(&text).map_err(|m| InputError::in_file(path, m))?;
    snapshot.source.recorded = true;
    Ok(snapshot)
}

/// The file's text, at most `cap` bytes. Its head is read first: a file that does not start as
/// a JSON object (a binary, a log, `/dev/zero`) is refused then, not after reading it whole;
/// a pipe (`--snapshot <(gunzip -c s.json.gz)`) is read as it comes.
fn read_capped(path: &Path, cap: u64) -> Result<String, InputError> {
    let in_file = |m: String| InputError::in_file(path, m);
    let cannot = |e: std::io::Error| in_file(format!("cannot read snapshot: {e}"));
    let mut file = std::fs::File::open(path).map_err(cannot)?;
    let mut head = Vec::new();
    (&mut file)
        .take(HEAD_BYTES)
        .read_to_end(&mut head)
        .map_err(cannot)?;
    let start = head.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&head);
    if (start.iter().find(|b| !b.is_ascii_whitespace())).is_some_and(|&b| b != b'{') {
        return Err(in_file(NOT_AN_OBJECT.into()));
    }
    let expected = (file.metadata().map_or(0, |m| m.len())).min(cap) as usize;
    let whole = std::io::Cursor::new(head).chain(file);
    crate::input::text_from(whole, path, expected, cap, "a snapshot file")
}

const NOT_AN_OBJECT: &str = "not a kvchain snapshot: expected a JSON object";

pub fn from_str(text: &str) -> Result<Snapshot, String> {
    // A file saved by Notepad or PowerShell 5 starts with a byte-order mark: ignored, as the
    // YAML readers do (README, input limits; audit BB5).
    let text = crate::input::without_bom(text);
    // A snapshot is one JSON object: anything else ("[1,2,3]", YAML) is said as such rather
    // than as the first field error serde meets.
    if !text.trim_start().starts_with('{') {
        return Err(NOT_AN_OBJECT.into());
    }
    // The version first, so a future format gets a clear message rather than a field error.
    #[derive(Deserialize)]
    struct Head {
        kvchain_snapshot: Option<u32>,
    }
    let head: Head = typed(text).map_err(|e| format!("not a kvchain snapshot (JSON): {e}"))?;
    match head.kvchain_snapshot {
        None => return Err("not a kvchain snapshot: no kvchain_snapshot version field".into()),
        Some(v) if v > FORMAT => {
            return Err(format!(
                "snapshot format {v} is newer than this kvchain reads ({FORMAT}); upgrade kvchain"
            ));
        }
        // Formats start at 1: a 0 was never written, so the file is not what it claims
        // (audit F14: it was read as format 1).
        Some(0) => {
            return Err(format!(
                "snapshot format 0 is no format kvchain ever wrote (formats start at 1; this kvchain reads {FORMAT})"
            ));
        }
        Some(_) => {}
    }
    let file: SnapshotFile = typed(text).map_err(|e| format!("invalid snapshot: {e}"))?;
    let mut snapshot = file.snapshot;
    // `parameters` is what the provider reads (FACTS §5); `parsed` is the copy the writing
    // kvchain derived from it. Parsed again here, so a hand-edited parameter is what is
    // diagnosed and a file from an older parser gets this one's reading (audit L5).
    for spc in &mut snapshot.spcs.items {
        spc.parsed = crate::spc::parse(&spc.parameters);
    }
    Ok(snapshot)
}

/// Parses `text` as `T`; an error names the field path and the line and column, never the
/// value found there (a hand-edited file may hold anything): `snapshot.cluster.oidc_issuer
/// .value (line 14, column 14): invalid type: an integer, expected a string`.
fn typed<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let inner = e.inner();
        let at = format!("line {}, column {}", inner.line(), inner.column());
        // serde_json ends its message with " at line L column C": given apart.
        let msg = inner.to_string();
        let msg = msg
            .rsplit_once(" at line ")
            .map_or(msg.as_str(), |(m, _)| m);
        let msg = crate::input::redact(msg);
        match e.path().to_string().as_str() {
            "." => format!("{at}: {msg}"),
            path => format!("{path} ({at}): {msg}"),
        }
    })?;
    de.end().map_err(|e| {
        format!(
            "line {}, column {}: text after the snapshot's JSON object",
            e.line(),
            e.column()
        )
    })?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn a_lab_snapshot_round_trips_to_the_same_diagnosis() {
        let snap = crate::source::lab::run_check("default", None).unwrap();
        let text = to_string(&snap, false).unwrap();
        let back = from_str(&text).unwrap();
        assert_eq!(crate::chain::diagnose(&snap), crate::chain::diagnose(&back));
        assert_eq!(back.source.label, snap.source.label);
    }

    /// Files written before the fingerprints became a sorted list held them as a JSON object
    /// in any key order: they still read, sorted, and write back as the same object.
    #[test]
    fn file_fingerprints_read_and_write_as_a_map_in_any_order() {
        use crate::snapshot::{Fingerprint, SpcPodStatusObs};
        let (a, b) = (Fingerprint::of(b"a"), Fingerprint::of(b"b"));
        let json = format!(
            r#"{{"namespace":"ns","name":"s","pod_name":"p","spc_name":"c","mounted":true,
               "files":{{"zeta":{},"alpha":{}}}}}"#,
            serde_json::to_string(&b).unwrap(),
            serde_json::to_string(&a).unwrap()
        );
        let st: SpcPodStatusObs = serde_json::from_str(&json).unwrap();
        let files = st.files.as_ref().unwrap();
        assert_eq!(files.get("alpha"), Some(&a));
        assert_eq!(files.get("zeta"), Some(&b));
        assert_eq!(files.get("beta"), None);
        let names: Vec<&str> = files.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["alpha", "zeta"]);
        let back = serde_json::to_value(&st).unwrap();
        assert_eq!(
            back["files"],
            serde_json::json!({"alpha": serde_json::to_value(a).unwrap(),
                               "zeta": serde_json::to_value(b).unwrap()})
        );
    }

    /// README "kvchain check": a wrong-typed value is never echoed; the error names the field.
    #[test]
    fn type_errors_name_the_field_path_and_never_the_value() {
        let snap = crate::source::lab::run_check("healthy", None).unwrap();
        let mut v: serde_json::Value =
            serde_json::from_str(&to_string(&snap, false).unwrap()).unwrap();
        v["snapshot"]["source"]["label"] = serde_json::json!(12345);
        let e = from_str(&serde_json::to_string_pretty(&v).unwrap()).unwrap_err();
        assert!(
            e.starts_with("invalid snapshot: snapshot.source.label (line "),
            "{e}"
        );
        assert!(
            e.contains("invalid type: an integer, expected a string"),
            "{e}"
        );
        assert!(!e.contains("12345"), "{e}");
        v["snapshot"] = serde_json::json!("CANARY-snap-3001");
        let e = from_str(&serde_json::to_string(&v).unwrap()).unwrap_err();
        assert!(
            e.contains("snapshot (line 1,") && !e.contains("CANARY"),
            "{e}"
        );
        let e = from_str("[1,2,3]").unwrap_err();
        assert!(e.contains("expected a JSON object"), "{e}");
        let e = from_str(r#"{"kvchain_snapshot": "CANARY-v"}"#).unwrap_err();
        assert!(
            e.contains("kvchain_snapshot") && !e.contains("CANARY"),
            "{e}"
        );
    }

    #[test]
    fn wrong_files_are_refused_with_the_reason() {
        assert!(from_str("{}").unwrap_err().contains("no kvchain_snapshot"));
        assert!(
            from_str(r#"{"kvchain_snapshot": 99}"#)
                .unwrap_err()
                .contains("newer")
        );
        let e = from_str(r#"{"kvchain_snapshot": 0, "snapshot": {}}"#).unwrap_err();
        assert!(
            e.starts_with("snapshot format 0 is no format kvchain ever wrote"),
            "{e}"
        );
        assert!(
            from_str("nope")
                .unwrap_err()
                .contains("not a kvchain snapshot")
        );
        assert!(
            from_str(r#"{"kvchain_snapshot": 1, "snapshot": 3}"#)
                .unwrap_err()
                .contains("invalid snapshot")
        );
    }

    /// A path given by mistake is refused from its head: `/dev/zero` never ends, and was read
    /// until memory ran out; a binary that does not start as JSON is not read whole.
    #[test]
    fn a_file_not_starting_as_json_is_refused_from_its_head() {
        let e = read_capped(Path::new("/dev/zero"), MAX_SNAPSHOT_BYTES).unwrap_err();
        assert_eq!(e.to_string(), format!("/dev/zero: {NOT_AN_OBJECT}"));
        // After a byte-order mark and blank lines, a JSON object is read on.
        let mut f = tempfile::NamedTempFile::new().unwrap();
        let blank = " \n".repeat(HEAD_BYTES as usize);
        write!(f, "\u{feff}{blank}{{\"kvchain_snapshot\": 99}}").unwrap();
        let e = load(f.path()).unwrap_err().to_string();
        assert!(e.contains("snapshot format 99 is newer"), "{e}");
    }

    /// A file over the cap is refused naming the limit, whether its size was known or not.
    #[test]
    fn a_file_over_the_cap_is_refused_naming_the_limit() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        write!(f, "{{\"a\": \"{}\"}}", "x".repeat(1 << 20)).unwrap();
        let e = read_capped(f.path(), 1 << 20).unwrap_err().to_string();
        assert!(
            e.ends_with("larger than 1 MiB: not read (limit for a snapshot file)"),
            "{e}"
        );
        assert!(read_capped(f.path(), 2 << 20).is_ok());
    }
}
