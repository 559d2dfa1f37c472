//! `kvchain serve`: the live source, continuously, behind four read-only HTTP endpoints.
//!
//! `/metrics` (Prometheus), `/report.json` (the `check -o json` report of the latest
//! diagnosis), `/healthz` (the process answers) and `/readyz` (a first complete diagnosis
//! exists). The exporter never sends the source a command: the command channel is held open
//! and never written to, so no action, restart or reveal can run, whatever the RBAC allows.
//! The config's `ignore:` rules and the objects' `kvchain.dev/ignore` annotations mark
//! findings as `check` marks them; the metrics alerts read leave suppressed ones out.

pub mod metrics;
mod stream;

use std::convert::Infallible;
use std::process::ExitCode;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{Either, Full};
use hyper::{Method, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::chain::engine::Feed;
use crate::chain::{self, Chain};
use crate::cli::ServeArgs;
use crate::report;
use crate::snapshot::Snapshot;
use crate::source::live::{self, ConnectError, LiveSource};
use crate::source::{Source, SourceEvent};
use crate::suppress::Rules;

pub async fn run(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let live = match live::connect(&args.kube, &args.azure).await {
        Ok(l) => l,
        Err(ConnectError::NoKubeconfig(why)) => anyhow::bail!(
            "no cluster configured ({why}); in a pod, kvchain uses its service account"
        ),
        Err(ConnectError::Other(e)) => return Err(e),
    };
    if let Some(n) = live.notice() {
        tracing::warn!("{n}");
        crate::say!("kvchain: {n}");
    }
    let rules = crate::ui::config::load(&crate::cli::UiArgs {
        config: args.config.clone(),
        ..Default::default()
    })?
    .ignore;
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.listen))?;
    crate::say!(
        "kvchain: serving /metrics /report.json /healthz /readyz on {}",
        args.listen
    );
    serve_with(live, listener, rules).await?;
    Ok(ExitCode::SUCCESS)
}

/// The latest diagnosis and what the exporter has counted.
#[derive(Default)]
struct State {
    latest: Option<Arc<Latest>>,
    diagnoses: u64,
    /// The source stopped for good (it said why).
    failed: Option<String>,
}

struct Latest {
    snapshot: Arc<Snapshot>,
    /// Shared with the feed: a new snapshot copies the list, not the chains.
    chains: Vec<Arc<Chain>>,
    /// The SecretProviderClasses no chain mounts, checked with the diagnosis that made
    /// `chains` (`/metrics` and `/report.json` read them; nothing changes between scrapes).
    spcs: Vec<chain::SpcVerdict>,
    finished_at: f64,
    duration_seconds: f64,
}

type Shared = Arc<RwLock<State>>;

/// Runs `live` and answers HTTP on `listener` until the listener fails. Tests call this on a
/// source pointed at a fake API server.
pub async fn serve(live: LiveSource, listener: TcpListener) -> anyhow::Result<()> {
    serve_with(live, listener, Rules::default()).await
}

/// [`serve`] with the config's `ignore:` rules (annotations are read either way).
pub async fn serve_with(
    live: LiveSource,
    listener: TcpListener,
    rules: Rules,
) -> anyhow::Result<()> {
    let rules = Arc::new(rules);
    let state: Shared = Arc::new(RwLock::new(State::default()));
    let (events_tx, events) = mpsc::unbounded_channel();
    // Held for as long as the exporter runs and never written to: read-only by construction.
    let (_commands, commands_rx) = mpsc::unbounded_channel();
    // What it serves but cannot keep current is a gap of every diagnosis (audit FFF2).
    let source = tokio::spawn(Box::new(live.served()).run(events_tx, commands_rx));
    let diagnose = tokio::spawn(diagnose_loop(events, state.clone(), rules));
    let served = accept_loop(listener, state).await;
    source.abort();
    diagnose.abort();
    served
}

async fn diagnose_loop(
    mut events: mpsc::UnboundedReceiver<SourceEvent>,
    state: Shared,
    rules: Arc<Rules>,
) {
    // Suppressions are marked as each chain is built, as the TUI marks them: a kept chain
    // keeps its marks. Namespace annotations are not read on a live cluster (README).
    let marks = rules.clone();
    let finish: Arc<chain::engine::Finish> = Arc::new(move |kube, chains| {
        crate::suppress::apply(kube, &Default::default(), &marks, chains);
    });
    // Kept across snapshots: each costs what changed since the last (the first, everything).
    let mut feed = Feed::new(Some(finish));
    while let Some(event) = events.recv().await {
        match event {
            SourceEvent::Snapshot(snapshot) => {
                let started = Instant::now();
                let fed = feed.update(snapshot.clone());
                let chains = feed.chains();
                let took = started.elapsed();
                tracing::debug!(
                    rebuilt = fed.work.chains,
                    whole = fed.whole,
                    ms = took.as_millis() as u64,
                    "diagnosed"
                );
                let spcs = crate::suppress::unmounted_spcs(&snapshot, &chains, &rules);
                let latest = Latest {
                    snapshot,
                    chains,
                    spcs,
                    finished_at: jiff::Timestamp::now().as_millisecond() as f64 / 1000.0,
                    duration_seconds: took.as_secs_f64(),
                };
                let mut s = state.write().unwrap_or_else(|p| p.into_inner());
                s.latest = Some(Arc::new(latest));
                s.diagnoses += 1;
            }
            SourceEvent::Failed(why) => {
                tracing::error!("live source stopped: {why}");
                state.write().unwrap_or_else(|p| p.into_inner()).failed = Some(why);
            }
            SourceEvent::Status(s) => tracing::info!("{s}"),
            SourceEvent::Unreachable { why, retry_in, .. } => {
                tracing::warn!("{why}; reconnecting in {}s", retry_in.as_secs())
            }
            SourceEvent::Progress(_) | SourceEvent::Lab(_) => {}
        }
    }
}

async fn accept_loop(listener: TcpListener, state: Shared) -> anyhow::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        let state = state.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let state = state.clone();
                let openmetrics = req
                    .headers()
                    .get(hyper::header::ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.contains("application/openmetrics-text"));
                async move {
                    Ok::<_, Infallible>(answer(req.method(), req.uri().path(), openmetrics, &state))
                }
            });
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!("http connection: {e}");
            }
        });
    }
}

/// A response body: whole, or streamed as it is written (`/report.json`).
type Body = Either<Full<Bytes>, stream::Streamed>;

fn reply(status: StatusCode, content_type: &str, body: String) -> Response<Body> {
    with_body(
        status,
        content_type,
        Either::Left(Full::new(Bytes::from(body))),
    )
}

fn with_body(status: StatusCode, content_type: &str, body: Body) -> Response<Body> {
    let mut r = Response::new(body);
    *r.status_mut() = status;
    if let Ok(v) = content_type.parse() {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    r
}

const TEXT: &str = "text/plain; charset=utf-8";

/// One request. Only GET (and HEAD) exist; everything is computed from the latest diagnosis.
/// `openmetrics`: the client asked for OpenMetrics (Prometheus does); others get the classic
/// text format.
fn answer(method: &Method, path: &str, openmetrics: bool, state: &Shared) -> Response<Body> {
    if method != Method::GET && method != Method::HEAD {
        return reply(
            StatusCode::METHOD_NOT_ALLOWED,
            TEXT,
            "kvchain serve is read-only: GET only\n".into(),
        );
    }
    let (latest, diagnoses, failed) = {
        let s = state.read().unwrap_or_else(|p| p.into_inner());
        (s.latest.clone(), s.diagnoses, s.failed.clone())
    };
    match (path, latest) {
        ("/healthz", _) => match failed {
            Some(why) => reply(
                StatusCode::SERVICE_UNAVAILABLE,
                TEXT,
                format!("source stopped: {why}\n"),
            ),
            None => reply(StatusCode::OK, TEXT, "ok\n".into()),
        },
        // Ready stays ready through an outage: an unready pod would drop out of Prometheus's
        // targets, and the outage is what must be scraped (`kvchain_incomplete 1`, the read
        // time); the answer says it (audit W4).
        ("/readyz", Some(l)) => reply(StatusCode::OK, TEXT, readiness(&l.snapshot)),
        ("/metrics", Some(l)) => {
            // The SPCs no pod mounts fail `check` too: their findings are in the families
            // (audit FF3), suppressed as /report.json marks them.
            let om = metrics::render(&metrics::Diagnosis {
                snapshot: &l.snapshot,
                chains: &l.chains,
                spcs: &l.spcs,
                finished_at: l.finished_at,
                duration_seconds: l.duration_seconds,
                diagnoses,
            });
            if openmetrics {
                reply(
                    StatusCode::OK,
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    om,
                )
            } else {
                reply(
                    StatusCode::OK,
                    "text/plain; version=0.0.4; charset=utf-8",
                    metrics::classic(&om),
                )
            }
        }
        // Streamed from the diagnosis it holds: tens of megabytes at 10,000 pods.
        ("/report.json", Some(l)) => with_body(
            StatusCode::OK,
            "application/json",
            Either::Right(stream::body(move |w| {
                // Read where the engine keeps them: no copy per scrape.
                report::write_json(w, &l.snapshot, &l.chains, &l.spcs)
            })),
        ),
        ("/readyz" | "/metrics" | "/report.json", None) => reply(
            StatusCode::SERVICE_UNAVAILABLE,
            TEXT,
            "not ready: the first complete snapshot is still being read\n".into(),
        ),
        _ => reply(
            StatusCode::NOT_FOUND,
            TEXT,
            "not found: /metrics, /report.json, /healthz, /readyz\n".into(),
        ),
    }
}

/// `/readyz`'s body: `ready`, then what is served but not current — a silent API server, the
/// kinds listed but no longer watched (audit W4, FFF2).
fn readiness(snapshot: &Snapshot) -> String {
    let mut body = String::from("ready");
    let src = &snapshot.source;
    let not_live = (src.stale.iter()).filter(|(kind, _)| *kind != crate::snapshot::gaps::CLUSTER);
    for why in src.unanswered.iter().chain(not_live.map(|(_, why)| why)) {
        body.push_str("; ");
        body.push_str(why);
    }
    body.push('\n');
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(method: Method, path: &str, state: &Shared) -> StatusCode {
        answer(&method, path, false, state).status()
    }

    #[test]
    fn alive_at_once_ready_only_with_a_diagnosis() {
        let state: Shared = Arc::default();
        assert_eq!(status(Method::GET, "/healthz", &state), StatusCode::OK);
        for path in ["/readyz", "/metrics", "/report.json"] {
            assert_eq!(
                status(Method::GET, path, &state),
                StatusCode::SERVICE_UNAVAILABLE,
                "{path}"
            );
        }
        state.write().unwrap().latest = Some(Arc::new(Latest {
            snapshot: Arc::new(Snapshot::default()),
            chains: Vec::new(),
            spcs: Vec::new(),
            finished_at: 1.0,
            duration_seconds: 0.1,
        }));
        for path in ["/readyz", "/metrics", "/report.json"] {
            assert_eq!(status(Method::GET, path, &state), StatusCode::OK, "{path}");
        }
        state.write().unwrap().failed = Some("gone".into());
        assert_eq!(
            status(Method::GET, "/healthz", &state),
            StatusCode::SERVICE_UNAVAILABLE,
            "a stopped source is restarted by the kubelet"
        );
    }

    #[test]
    fn nothing_but_get_and_the_four_paths() {
        let state: Shared = Arc::default();
        for m in [Method::POST, Method::PUT, Method::DELETE, Method::PATCH] {
            assert_eq!(
                status(m, "/metrics", &state),
                StatusCode::METHOD_NOT_ALLOWED
            );
        }
        assert_eq!(
            status(Method::GET, "/reveal", &state),
            StatusCode::NOT_FOUND
        );
    }
}
