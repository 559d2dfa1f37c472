//! The options a live source is opened with, as the command line spells them (kubectl's
//! names where kubectl has one), and the completion of `--context` from the kubeconfig. Here,
//! not in `cli`, so the sources read them without importing the command line above them.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use clap_complete::engine::{ArgValueCandidates, CompletionCandidate};

/// Where to find the cluster, spelled as kubectl spells it.
#[derive(Debug, Args, Default, Clone)]
#[command(next_help_heading = "Cluster")]
pub struct KubeArgs {
    /// Path to the kubeconfig file (default: KUBECONFIG, then ~/.kube/config).
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (`check` takes it more than once: one report over them all).
    #[arg(long, value_name = "NAME", add = ArgValueCandidates::new(contexts))]
    pub context: Vec<String>,
    /// Only this namespace.
    #[arg(
        short = 'n',
        long,
        value_name = "NS",
        conflicts_with = "all_namespaces"
    )]
    pub namespace: Option<String>,
    /// All namespaces (the default when no namespace is given).
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// How long to wait for the API server to answer a single request, as kubectl spells it
    /// (5s, 1m, or whole seconds; 0, the default, waits as long as it takes). Watches stay open.
    #[arg(long, value_name = "DURATION", value_parser = parse_request_timeout)]
    pub request_timeout: Option<Duration>,
}

impl KubeArgs {
    /// The one context asked for, if any (several are `check`'s business: see `commands::fleet`).
    pub fn context(&self) -> Option<&str> {
        self.context.first().map(String::as_str)
    }

    /// The same flags aimed at one context.
    pub fn for_context(&self, name: &str) -> KubeArgs {
        KubeArgs {
            context: vec![name.to_string()],
            ..self.clone()
        }
    }

    /// The per-request limit, if any (`--request-timeout 0` means none, as in kubectl).
    pub fn request_limit(&self) -> Option<Duration> {
        self.request_timeout.filter(|d| !d.is_zero())
    }
}

#[derive(Debug, Args, Default, Clone)]
#[command(next_help_heading = "Azure")]
pub struct AzureArgs {
    /// Azure subscription to search (repeatable; default: all the credential can see).
    #[arg(long = "subscription", value_name = "ID")]
    pub subscriptions: Vec<String>,
    /// Do not call Azure: the Azure side of every chain is unknown.
    #[arg(long)]
    pub no_azure: bool,
    /// At most one Azure fetch per object per interval.
    #[arg(long, value_name = "DURATION", value_parser = parse_refresh, default_value = "60s")]
    pub azure_refresh: Duration,
}

pub fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("{e} (examples: 90s, 5m, 1h30m)"))
}

/// kubectl's `--request-timeout`: a whole number of seconds, or a number with a unit.
pub fn parse_request_timeout(s: &str) -> Result<Duration, String> {
    if let Ok(secs) = s.trim().parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    humantime::parse_duration(s).map_err(|_| {
        format!(
            "invalid timeout {s:?}: a whole number of seconds, or a number with a unit (1s, 2m, 3h)"
        )
    })
}

/// `--azure-refresh`: at most a day; a longer interval means "never" and overflows the timers.
pub fn parse_refresh(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d > Duration::from_secs(24 * 3600) {
        return Err(format!("{s} is longer than the limit of 24h"));
    }
    Ok(d)
}

/// Context names of the default kubeconfig (nothing when it cannot be read: a completion must
/// never fail loudly).
pub fn contexts() -> Vec<CompletionCandidate> {
    kube::config::Kubeconfig::read()
        .map(|k| names(&k))
        .unwrap_or_default()
}

/// Context names of a kubeconfig file.
pub fn contexts_in(path: &std::path::Path) -> Vec<CompletionCandidate> {
    kube::config::Kubeconfig::read_from(path)
        .map(|k| names(&k))
        .unwrap_or_default()
}

fn names(k: &kube::config::Kubeconfig) -> Vec<CompletionCandidate> {
    k.contexts
        .iter()
        .map(|c| CompletionCandidate::new(c.name.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_come_from_the_kubeconfig() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(
            &path,
            "apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts:\n- name: aks-prod\n  context: {cluster: c, user: u}\n- name: kind-dev\n  context: {cluster: c, user: u}\n",
        )
        .unwrap();
        let names: Vec<String> = contexts_in(&path)
            .into_iter()
            .map(|c| c.get_value().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["aks-prod", "kind-dev"]);
        assert!(contexts_in(&dir.path().join("missing")).is_empty());
    }
}
