//! Live clusters through kube-rs watchers. Placeholder until the live source lands.

use futures::future::BoxFuture;
use tokio::sync::mpsc;

use crate::cli::{AzureArgs, KubeArgs};
use crate::snapshot::{Snapshot, SourceInfo};
use crate::source::{Source, SourceCommand, SourceEvent};

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// No kubeconfig / in-cluster config at all: callers fall back to the lab.
    #[error("no kubeconfig: {0}")]
    NoKubeconfig(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

pub async fn snapshot_once(_kube: &KubeArgs, _azure: &AzureArgs) -> anyhow::Result<Snapshot> {
    anyhow::bail!("live clusters are not supported yet; use `kvchain check -f DIR` or `--lab`")
}

pub struct LiveSource;

pub async fn connect(_kube: &KubeArgs, _azure: &AzureArgs) -> Result<LiveSource, ConnectError> {
    Err(ConnectError::NoKubeconfig(
        "live clusters are not supported yet".into(),
    ))
}

impl Source for LiveSource {
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
