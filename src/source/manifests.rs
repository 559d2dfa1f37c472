//! `kvchain check -f`: a snapshot from manifest files. Placeholder until the chain-engine work lands.

use std::path::PathBuf;

use crate::snapshot::Snapshot;

pub fn load(_paths: &[PathBuf]) -> anyhow::Result<Snapshot> {
    anyhow::bail!("manifest checking is not built yet")
}
