//! Snapshot files: `kvchain snapshot save` writes what a source observed, `check --snapshot`
//! and `demo --snapshot` read it back. JSON with a format version; secret values were never in
//! a snapshot (only keyed fingerprints), so the file holds none.

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

/// Read a snapshot file; errors name the file and what is wrong with it.
pub fn load(path: &Path) -> Result<Snapshot, InputError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| InputError::in_file(path, format!("cannot read snapshot: {e}")))?;
    let mut snapshot = from_str(&text).map_err(|m| InputError::in_file(path, m))?;
    snapshot.source.recorded = true;
    Ok(snapshot)
}

pub fn from_str(text: &str) -> Result<Snapshot, String> {
    // A file saved by Notepad or PowerShell 5 starts with a byte-order mark: ignored, as the
    // YAML readers do (README, input limits; audit BB5).
    let text = crate::input::without_bom(text);
    // A snapshot is one JSON object: anything else ("[1,2,3]", YAML) is said as such rather
    // than as the first field error serde meets.
    if !text.trim_start().starts_with('{') {
        return Err("not a kvchain snapshot: expected a JSON object".into());
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
}
