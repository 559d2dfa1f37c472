//! From `--kubeconfig/--context/-n/-A` to a kube [`Client`] and the scope to watch.
//!
//! kube's own config loader does the heavy lifting (exec credential plugins such as kubelogin,
//! client certificates, token files), so kvchain authenticates exactly as kubectl does.

use std::path::Path;
use std::time::Duration;

use kube::client::ClientBuilder;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use super::ConnectError;
use super::kubeconfig_error::{Defined, describe, describe_client, describe_in};
use super::retry::ServerErrors;
use crate::source::args::KubeArgs;
use tower::buffer::BufferLayer;
use tower::retry::RetryLayer;

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

/// Where kvchain is connecting: the API server URL and the kube context that names it. Shown
/// while connecting and in every failure to connect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// The API server URL, as the kubeconfig (or the in-cluster environment) gives it.
    pub server: String,
    /// The kube context; `None` for the in-cluster service account.
    pub context: Option<String>,
}

impl std::fmt::Display for Endpoint {
    /// `https://… (context aks-payments)`, `https://… (in-cluster service account)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.context {
            Some(c) => write!(f, "{} (context {c})", self.server),
            None => write!(f, "{} (in-cluster service account)", self.server),
        }
    }
}

/// Why there is no cluster to connect to, naming every place that was looked in. The TUI
/// falls back to the lab and shows this; `check` refuses with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoCluster {
    /// One entry per place, with what was found there: `KUBECONFIG=/x (no such file)`.
    pub looked_for: Vec<String>,
}

impl std::fmt::Display for NoCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "looked for {}", self.looked_for.join("; "))
    }
}

/// A ready client plus what to call the cluster in the UI (the kube context name). Nothing
/// has been sent to the API server yet. Cloned for every attempt to reach it.
#[derive(Clone)]
pub struct Connection {
    pub client: Client,
    pub label: String,
    pub scope: Scope,
    pub endpoint: Endpoint,
}

/// Loads the kubeconfig the way kubectl does: `--kubeconfig`, else `KUBECONFIG`, else
/// `~/.kube/config`, else the in-cluster service account. Only when none of these exists is
/// the result [`ConnectError::NoKubeconfig`] (the caller then opens the lab); a kubeconfig
/// that exists but is broken is a real error the user must see.
pub async fn connect(args: &KubeArgs) -> Result<Connection, ConnectError> {
    let scope = Scope::from_args(args);
    if args.context.len() > 1 {
        return Err(ConnectError::Other(anyhow::anyhow!(
            "--context given {} times: only `kvchain check` reads several clusters at once",
            args.context.len()
        )));
    }
    let options = KubeConfigOptions {
        context: args.context().map(str::to_string),
        cluster: None,
        user: None,
    };
    let (kubeconfig, mut looked_for, read) = load(args)?;
    let (config, label, context) = match kubeconfig {
        Some(k) => {
            let label = args
                .context()
                .map(str::to_string)
                .or_else(|| k.current_context.clone())
                .unwrap_or_else(|| "kubeconfig".into());
            if k.contexts.is_empty() && k.clusters.is_empty() {
                // Name the file(s) read: "the kubeconfig" alone leaves the user guessing which.
                looked_for.push(format!("{} defines no cluster", read.join(", ")));
                return Err(ConnectError::NoKubeconfig(NoCluster { looked_for }));
            }
            // Name the file(s) and, for a context or cluster not there, the ones that are.
            let defined = Defined {
                files: read.join(", "),
                contexts: k.contexts.iter().map(|c| c.name.clone()).collect(),
                clusters: k.clusters.iter().map(|c| c.name.clone()).collect(),
                requested: args.context().map(str::to_string),
                current: k.current_context.clone(),
            };
            let config = Config::from_custom_kubeconfig(k, &options)
                .await
                .map_err(|e| ConnectError::Other(anyhow::anyhow!(describe_in(&e, &defined))))?;
            (config, label.clone(), Some(label))
        }
        None => match Config::incluster() {
            Ok(c) => (c, "in-cluster".to_string(), None),
            Err(e) => {
                looked_for.push(match std::env::var_os("KUBERNETES_SERVICE_HOST") {
                    None => "the in-cluster service account (KUBERNETES_SERVICE_HOST not set: not in a pod)".to_string(),
                    Some(_) => format!("the in-cluster service account ({e})"),
                });
                return Err(ConnectError::NoKubeconfig(NoCluster { looked_for }));
            }
        },
    };
    let endpoint = Endpoint {
        server: config
            .cluster_url
            .to_string()
            .trim_end_matches('/')
            .to_string(),
        context,
    };
    let exec = (config.auth_info.exec.as_ref()).and_then(|x| x.command.clone());
    let client = build_client(config, args.request_limit()).map_err(|e| {
        // The client key and certificates are read here: said without their bytes.
        let why = describe_client(&e, exec.as_deref());
        ConnectError::Other(anyhow::anyhow!(
            "cannot build a Kubernetes client for {endpoint}: {why}"
        ))
    })?;
    Ok(Connection {
        client,
        label,
        scope,
        endpoint,
    })
}

/// The kubeconfig kubectl would read (`--kubeconfig`, else `KUBECONFIG` merged, else
/// `~/.kube/config`), or `None` with every place that was looked in; and the files read, as
/// the user would name them (`KUBECONFIG file /x`).
type Loaded = (Option<Kubeconfig>, Vec<String>, Vec<String>);

fn load(args: &KubeArgs) -> Result<Loaded, ConnectError> {
    let mut looked_for = Vec::new();
    let mut files = Vec::new();
    let kubeconfig = match &args.kubeconfig {
        Some(path) => {
            let name = format!("--kubeconfig {}", path.display());
            let read = read(path, &name)?;
            files.push(name);
            Some(read)
        }
        None => match std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
            // Like kubectl: KUBECONFIG replaces ~/.kube/config, and files in it that do not
            // exist are skipped.
            Some(list) => {
                let mut merged: Option<Kubeconfig> = None;
                for path in std::env::split_paths(&list) {
                    if !path.exists() {
                        looked_for
                            .push(format!("KUBECONFIG file {} (no such file)", path.display()));
                        continue;
                    }
                    let name = format!("KUBECONFIG file {}", path.display());
                    let next = read(&path, &name)?;
                    files.push(name);
                    merged = Some(match merged {
                        None => next,
                        Some(m) => m.merge(next).map_err(|e| {
                            ConnectError::Other(anyhow::anyhow!("KUBECONFIG: {}", describe(&e)))
                        })?,
                    });
                }
                merged
            }
            None => {
                looked_for.push("KUBECONFIG (not set)".to_string());
                match default_path() {
                    Some(p) if p.exists() => {
                        files.push(p.display().to_string());
                        Some(read(&p, &p.display().to_string())?)
                    }
                    Some(p) => {
                        looked_for.push(format!("{} (no such file)", p.display()));
                        None
                    }
                    None => {
                        looked_for.push("~/.kube/config (no home directory)".to_string());
                        None
                    }
                }
            }
        },
    };
    Ok((kubeconfig, looked_for, files))
}

/// The contexts of the kubeconfig kubectl would read, in file order, and the current one
/// (`--all-contexts`, the TUI's `:ctx`). No kubeconfig at all is [`ConnectError::NoKubeconfig`].
pub fn contexts(args: &KubeArgs) -> Result<(Vec<String>, Option<String>), ConnectError> {
    let (kubeconfig, mut looked_for, _) = load(args)?;
    match kubeconfig {
        Some(k) if !k.contexts.is_empty() => Ok((
            k.contexts.iter().map(|c| c.name.clone()).collect(),
            k.current_context.clone(),
        )),
        _ => {
            looked_for.push("a context in the kubeconfig".to_string());
            Err(ConnectError::NoKubeconfig(NoCluster { looked_for }))
        }
    }
}

/// kube's client, with `--request-timeout` bounding each request until the API server
/// answers (its headers). A watch is answered at once and then streams, so the limit never cuts
/// a quiet watch; an API server that accepts connections and never answers fails fast.
///
/// kube's own retry (up to 15 tries over minutes, outside any timeout) is replaced by
/// [`ServerErrors`]: a few tries within seconds, each bounded by the timeout, so a server
/// answering 5xx is reported with its answer, not as silent.
fn build_client(mut config: Config, limit: Option<Duration>) -> Result<Client, kube::Error> {
    config.default_retry = false;
    let builder = ClientBuilder::try_from(config)?;
    // The retry layer clones its service for every request: the buffer makes that cheap.
    let buffer = BufferLayer::new(1024);
    let retry = RetryLayer::new(ServerErrors::default());
    Ok(match limit {
        Some(t) => builder
            .with_layer(&tower::timeout::TimeoutLayer::new(t))
            // tower says "request timed out": the limit and the flag are said instead, for a
            // kind's gap as for the whole server (audit SS6).
            .with_layer(&tower::util::MapErrLayer::new(move |e: tower::BoxError| {
                if e.is::<tower::timeout::error::Elapsed>() {
                    Box::new(RequestTimeout(t)) as tower::BoxError
                } else {
                    e
                }
            }))
            .with_layer(&buffer)
            .with_layer(&retry)
            .build(),
        None => builder.with_layer(&buffer).with_layer(&retry).build(),
    })
}

/// A request that `--request-timeout` (the limit) cut: "no answer within 5s
/// (--request-timeout)", the words [`super::errors::plain`] gives it wherever it is reported.
#[derive(Debug)]
pub struct RequestTimeout(pub Duration);

impl std::fmt::Display for RequestTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "no answer within {} (--request-timeout)",
            humantime::format_duration(self.0)
        )
    }
}

impl std::error::Error for RequestTimeout {}

/// Whether a request failed because `--request-timeout` ran out.
pub fn timed_out(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Service(inner) if inner.is::<RequestTimeout>())
}

/// Errors name the file as the user gave it (`name`: `--kubeconfig /x`, `KUBECONFIG file
/// /x`), the line and column and what is wrong, never a line of it: a kubeconfig holds tokens
/// and keys ([`describe`]). A file that cannot be read is named once, with the flag: it read
/// `/x: cannot read /x: …`, the path twice and the flag not at all (audit XB-users).
fn read(path: &Path, name: &str) -> Result<Kubeconfig, ConnectError> {
    Kubeconfig::read_from(path).map_err(|e| {
        let what = match &e {
            kube::config::KubeconfigError::ReadConfig(io, _) => format!("cannot read it: {io}"),
            other => describe(other),
        };
        ConnectError::Other(anyhow::anyhow!("{name}: {what}"))
    })
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
