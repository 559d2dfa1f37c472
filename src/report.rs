//! Text and JSON reports of a diagnosis (the `kvchain check` contract).
//! Placeholder until the chain-engine work lands.

use crate::chain::{Chain, Severity};
use crate::snapshot::Snapshot;

pub fn text(_snapshot: &Snapshot, _chains: &[Chain], _color: bool) -> String {
    String::new()
}

pub fn json(_snapshot: &Snapshot, _chains: &[Chain]) -> String {
    String::new()
}

pub fn has_errors(chains: &[Chain]) -> bool {
    chains
        .iter()
        .flat_map(|c| c.findings())
        .any(|f| f.severity == Severity::Error)
}
