//! From `--kubeconfig/--context/-n/-A` to a kube [`Client`] and the scope to watch.
//!
//! kube's own config loader does the heavy lifting (exec credential plugins such as kubelogin,
//! client certificates, token files), so kvchain authenticates exactly as kubectl does.

use std::path::Path;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use super::ConnectError;
use crate::cli::KubeArgs;

/// Which namespaces the namespaced watchers cover.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every namespace (`-A`, or no `-n`).
    All,
    /// One namespace (`-n NS`).
    Namespace(String),
}

impl Scope {
    pub fn from_args(args: &KubeArgs) -> Self {
        match (&args.namespace, args.all_namespaces) {
            (Some(ns), false) => Scope::Namespace(ns.clone()),
            _ => Scope::All,
        }
    }

    /// "in payments" / "at the cluster scope" (kubectl's words), for gap reasons.
    pub fn describe(&self) -> String {
        match self {
            Scope::All => "at the cluster scope".into(),
            Scope::Namespace(ns) => format!("in {ns}"),
        }
    }
}

/// A ready client plus what to call the cluster in the UI (the kube context name).
pub struct Connection {
    pub client: Client,
    pub label: String,
    pub scope: Scope,
    /// The API server's URL, for "connecting to …".
    pub server: String,
}

/// Loads the kubeconfig the way kubectl does: `--kubeconfig`, else `KUBECONFIG`, else
/// `~/.kube/config`, else the in-cluster service account. Only when none of these exists is
/// the result [`ConnectError::NoKubeconfig`] (the caller then opens the lab); a kubeconfig
/// that exists but is broken is a real error the user must see.
pub async fn connect(args: &KubeArgs) -> Result<Connection, ConnectError> {
    let scope = Scope::from_args(args);
    let options = KubeConfigOptions {
        context: args.context.clone(),
        cluster: None,
        user: None,
    };
    let kubeconfig = match &args.kubeconfig {
        Some(path) => Some(read(path)?),
        None => match std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
            // Like kubectl: KUBECONFIG replaces ~/.kube/config, and files in it that do not
            // exist are skipped.
            Some(list) => {
                let mut merged: Option<Kubeconfig> = None;
                let missing: Vec<String> = std::env::split_paths(&list)
                    .filter(|p| !p.exists())
                    .map(|p| p.display().to_string())
                    .collect();
                if !missing.is_empty() && std::env::split_paths(&list).all(|p| !p.exists()) {
                    // Say which file was looked for: the user set KUBECONFIG on purpose.
                    return Err(ConnectError::NoKubeconfig(format!(
                        "KUBECONFIG names {}, which does not exist",
                        missing.join(", ")
                    )));
                }
                for path in std::env::split_paths(&list).filter(|p| p.exists()) {
                    let next = read(&path)?;
                    merged = Some(match merged {
                        None => next,
                        Some(m) => m
                            .merge(next)
                            .map_err(|e| ConnectError::Other(anyhow::anyhow!("KUBECONFIG: {e}")))?,
                    });
                }
                merged
            }
            None => match default_path().filter(|p| p.exists()) {
                Some(p) => Some(read(&p)?),
                None => None,
            },
        },
    };
    let (config, label) = match kubeconfig {
        Some(k) => {
            let label = args
                .context
                .clone()
                .or_else(|| k.current_context.clone())
                .unwrap_or_else(|| "kubeconfig".into());
            if k.contexts.is_empty() && k.clusters.is_empty() {
                return Err(ConnectError::NoKubeconfig(
                    "the kubeconfig defines no cluster".into(),
                ));
            }
            let config = Config::from_custom_kubeconfig(k, &options)
                .await
                .map_err(|e| ConnectError::Other(anyhow::anyhow!("kubeconfig: {e}")))?;
            (config, label)
        }
        None => match Config::incluster() {
            Ok(c) => (c, "in-cluster".to_string()),
            Err(_) => {
                return Err(ConnectError::NoKubeconfig(
                    "no --kubeconfig, KUBECONFIG or ~/.kube/config, and not running in a cluster"
                        .into(),
                ));
            }
        },
    };
    let server = config.cluster_url.to_string();
    let client = Client::try_from(config).map_err(|e| {
        ConnectError::Other(anyhow::anyhow!("cannot build a Kubernetes client: {e}"))
    })?;
    Ok(Connection {
        client,
        label,
        scope,
        server,
    })
}

fn read(path: &Path) -> Result<Kubeconfig, ConnectError> {
    Kubeconfig::read_from(path)
        .map_err(|e| ConnectError::Other(anyhow::anyhow!("{}: {e}", path.display())))
}

fn default_path() -> Option<std::path::PathBuf> {
    directories::BaseDirs::new().map(|d| d.home_dir().join(".kube").join("config"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_flag_narrows_scope_and_default_is_all() {
        let mut a = KubeArgs::default();
        assert_eq!(Scope::from_args(&a), Scope::All);
        a.namespace = Some("payments".into());
        assert_eq!(Scope::from_args(&a), Scope::Namespace("payments".into()));
        assert_eq!(Scope::from_args(&a).describe(), "in payments");
    }

    #[tokio::test]
    async fn missing_explicit_kubeconfig_is_an_error_not_a_fallback() {
        let args = KubeArgs {
            kubeconfig: Some("/nonexistent/kvchain/kubeconfig".into()),
            ..KubeArgs::default()
        };
        match connect(&args).await {
            Err(ConnectError::Other(e)) => assert!(e.to_string().contains("/nonexistent")),
            Err(ConnectError::NoKubeconfig(w)) => panic!("unexpected fallback: {w}"),
            Ok(_) => panic!("connected to nothing"),
        }
    }
}
