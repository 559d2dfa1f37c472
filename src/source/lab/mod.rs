//! The lab: an embedded, simulated AKS + Entra + Key Vault world. Placeholder until the lab lands.

use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::mpsc;

use crate::snapshot::{Snapshot, SourceInfo};
use crate::source::{Source, SourceCommand, SourceEvent};

/// (name, one-line description) of each built-in scenario.
pub fn builtin_scenarios() -> Vec<(&'static str, &'static str)> {
    Vec::new()
}

pub fn run_check(_scenario: &str, _run_for: Option<Duration>) -> anyhow::Result<Snapshot> {
    anyhow::bail!("the lab is not built yet")
}

pub struct LabSource;

pub fn open(_scenario: &str, _speed: Option<f64>) -> anyhow::Result<LabSource> {
    anyhow::bail!("the lab is not built yet")
}

impl Source for LabSource {
    fn info(&self) -> SourceInfo {
        SourceInfo::default()
    }
    fn run(
        self: Box<Self>,
        _events: mpsc::UnboundedSender<SourceEvent>,
        _commands: mpsc::UnboundedReceiver<SourceCommand>,
    ) -> BoxFuture<'static, ()> {
        Box::pin(async {})
    }
}
