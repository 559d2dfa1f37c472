//! Live clusters through kube-rs watchers.
//!
//! ```text
//!  watchers (one per kind) ─┐  convert on arrival   ┌─ cluster facts (OIDC, CSI driver)
//!  named-secret reads ──────┼──▶ LiveState ◀────────┼─ Azure loop (own task, own cadence)
//!                           │   (slim obs only)     │
//!                           └──────── changed ──▶ assembler: debounce → Snapshot → UI
//! ```
//! Startup lists run concurrently; the UI sees progress until every kind has listed once,
//! then a snapshot per burst of changes. Failures degrade only what they touch (see
//! [`errors`]).
//!
//! Actions and reveals ([`act`]) run off the loop, judged on the latest snapshot; Key Vault
//! is reached through the Azure loop's [`VaultAccess`](crate::source::azure::VaultAccess)
//! (same credential and transport as the observation), or refused with its reason.

mod act;
mod answered;
mod azure_loop;
mod cluster;
mod cluster_arrival;
pub mod connect;
pub(crate) mod errors;
mod helm_release;
mod kinds;
mod kubeconfig_error;
pub mod listed;
mod retry;
mod secrets;
mod server_clock;
pub mod store;
pub mod switch;
mod verify;
mod watch;
mod widen;

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use jiff::Timestamp;
use kube::Client;
use tokio::sync::{mpsc, watch as twatch};
use tokio::task::JoinSet;

pub use connect::{Connection, Endpoint, NoCluster, Scope};
pub use secrets::wanted as wanted_secrets;

use crate::snapshot::{AzureObs, Snapshot, SourceInfo, SourceKind};
use crate::source::args::{AzureArgs, KubeArgs};
use crate::source::azure::{self, AzureObserver};
use crate::source::{Progress, Source, SourceCommand, SourceEvent};
use azure_loop::{AzureSetup, VaultState};
use watch::Shared;

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// No kubeconfig / in-cluster config at all: callers fall back to the lab, saying what
    /// was looked for.
    #[error("no cluster configured: {0}")]
    NoKubeconfig(NoCluster),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Timings. The defaults suit a real cluster; tests shorten them.
#[derive(Clone, Debug)]
pub struct LiveOptions {
    /// Changes closer together than this make one snapshot.
    pub debounce: Duration,
    /// Re-read of OIDC issuer and CSI driver installation.
    pub cluster_refresh: Duration,
    /// Re-read of the Secrets chains name that the driver does not manage.
    pub secrets_refresh: Duration,
    /// `kvchain check`: give up waiting for a kind that cannot be listed after this long.
    pub startup_deadline: Duration,
    /// A quiet cluster still gets a snapshot this often: the diagnosis moves its clock only
    /// with one, and verdicts turn with time (a mount behind the vault past a poll, an expiry).
    pub clock_tick: Duration,
    /// A cluster silent for longer than this is said to be unanswering (status bar, `serve`'s
    /// `kvchain_incomplete`): a healthy API server sends every watch a bookmark about once a
    /// minute, and every watch is re-opened within 290 s.
    pub stale_after: Duration,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            debounce: Duration::from_millis(250),
            cluster_refresh: Duration::from_secs(300),
            secrets_refresh: Duration::from_secs(60),
            startup_deadline: Duration::from_secs(60),
            clock_tick: Duration::from_secs(10),
            stale_after: STALE_AFTER,
        }
    }
}

/// See [`LiveOptions::stale_after`]: two bookmark periods.
pub const STALE_AFTER: Duration = Duration::from_secs(120);

/// A connected live cluster, ready to run.
pub struct LiveSource {
    client: Client,
    label: String,
    /// Where the client points (`None` for a client built by hand, as in tests).
    endpoint: Option<Endpoint>,
    scope: Scope,
    azure: Arc<AzureSetup>,
    options: LiveOptions,
    /// Said once when the source starts (e.g. the scope was narrowed).
    notice: Option<String>,
    /// The scope was narrowed to one namespace because pods cannot be listed cluster-wide:
    /// every other namespace stays a gap of every snapshot (README "Live clusters": it "says
    /// so"), so no report reads the one namespace as the whole cluster.
    narrowed: Option<crate::snapshot::Outside>,
    /// `serve`: its snapshots say what is served but not kept current as gaps
    /// ([`SourceInfo::stale`]).
    served: bool,
}

impl LiveSource {
    /// A source on an already-built client (tests point one at a local fake API server).
    pub fn new(client: Client, label: impl Into<String>, scope: Scope, azure: AzureArgs) -> Self {
        LiveSource {
            client,
            label: label.into(),
            endpoint: None,
            scope,
            azure: Arc::new(AzureSetup::Connect(azure)),
            options: LiveOptions::default(),
            notice: None,
            narrowed: None,
            served: false,
        }
    }

    /// The source runs behind `serve`, which serves its latest data as current: each
    /// snapshot carries as gaps the kinds listed but not kept current (audit FFF2).
    pub fn served(mut self) -> Self {
        self.served = true;
        self
    }

    /// The scope actually watched (connect may narrow `-A` to the context's namespace).
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The API server and kube context this source reads (`None` for a hand-built client).
    pub fn endpoint(&self) -> Option<&Endpoint> {
        self.endpoint.as_ref()
    }

    /// What the user should know about how the source connected, if anything.
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    pub fn with_options(mut self, options: LiveOptions) -> Self {
        self.options = options;
        self
    }

    /// Use an Azure observer built beforehand instead of connecting with the `AzureArgs`
    /// (tests inject one on an in-process transport).
    pub fn with_azure_observer(mut self, observer: AzureObserver) -> Self {
        self.azure = Arc::new(AzureSetup::Ready(Arc::new(observer)));
        self
    }

    /// Lists everything once, reads Azure once, and returns the snapshot (`kvchain check`).
    pub async fn snapshot(&self) -> Snapshot {
        let (tx, _rx) = mpsc::unbounded_channel();
        let engine = Engine::start(self, tx);
        let deadline = tokio::time::Instant::now() + self.options.startup_deadline;
        loop {
            if engine.sync_wanted() && engine.shared.read().complete() {
                break;
            }
            let woke = tokio::time::timeout_at(deadline, engine.shared.changed.notified()).await;
            if woke.is_err() {
                let why = format!(
                    "not listed within {}",
                    humantime::format_duration(self.options.startup_deadline)
                );
                engine.shared.update(|s| s.give_up(&self.scope, &why));
                break;
            }
        }
        // The cluster's clock, not this machine's: events and statuses were stamped by it.
        let now = server_clock::on_server(Timestamp::now(), engine.shared.heard.clock.skew());
        let mut snapshot = engine.shared.read().take_snapshot(&self.label, now);
        drop(engine);
        snapshot.azure = match self.azure.observer().await {
            Ok(observer) => observer.observe(&azure::wanted(&snapshot)).await,
            Err(reason) => AzureObs::unknown(&reason),
        };
        snapshot
    }
}

/// The running parts of a live source. Dropping it aborts every task.
struct Engine {
    shared: Arc<Shared>,
    wanted_secrets: twatch::Sender<Option<secrets::Wanted>>,
    k8s_view: twatch::Sender<Option<Arc<Snapshot>>>,
    _tasks: JoinSet<()>,
}

impl Engine {
    fn start(src: &LiveSource, events: mpsc::UnboundedSender<SourceEvent>) -> Engine {
        let shared = Shared::new(events);
        if let Some(outside) = &src.narrowed {
            shared.update(|s| s.pods.gaps.outside = Some(outside.clone()));
        }
        if let Scope::Namespace(ns) = &src.scope {
            shared.update(|s| s.only_namespace = Some(ns.clone()));
        }
        // Every read notes when the cluster answered (the data time, audit W3).
        let client = answered::noting(src.client.clone(), shared.heard.clone());
        let mut tasks = JoinSet::new();
        kinds::spawn_all(&mut tasks, &client, &src.scope, &shared);
        tasks.spawn(cluster_loop(
            client.clone(),
            shared.clone(),
            src.options.cluster_refresh,
        ));
        let (wanted_secrets, wanted_rx) = twatch::channel(None);
        tasks.spawn(secrets::run(
            client,
            shared.clone(),
            wanted_rx,
            src.options.secrets_refresh,
        ));
        let (k8s_view, _) = twatch::channel(None);
        Engine {
            shared,
            wanted_secrets,
            k8s_view,
            _tasks: tasks,
        }
    }

    /// Tells the by-name secret reader what the chains name so far (see
    /// [`secrets::wanted_now`]). Returns whether the watches are synced. Works on the store
    /// directly, so a one-shot check never holds a second copy of the observations.
    fn sync_wanted(&self) -> bool {
        let (wanted, synced) = {
            let state = self.shared.read();
            (secrets::wanted_now(&state), state.watches_synced())
        };
        if let Some(wanted) = wanted {
            self.wanted_secrets.send_if_modified(|old| {
                let changed = old.as_ref() != Some(&wanted);
                if changed {
                    *old = Some(wanted);
                }
                changed
            });
        }
        synced
    }

    /// A snapshot for the UI, also handed to the Azure loop.
    fn snapshot(&self, src: &LiveSource) -> Arc<Snapshot> {
        // Silences are measured on this machine's clock (they were noted on it); what the
        // diagnosis compares with the cluster's stamps runs on the server's clock, its skew
        // taken once for the whole snapshot (audit TTT-time).
        let local = Timestamp::now();
        let skew = self.shared.heard.clock.skew();
        let now = server_clock::on_server(local, skew);
        let (mut snapshot, stale) = {
            let mut state = self.shared.read();
            let stale = state.stale(local, src.options.stale_after);
            (state.assemble(&src.label, now), stale)
        };
        // Just built, so not shared yet: the data time and, past the quiet a healthy cluster
        // keeps, the silence said (the clock tick alone must not make old data look new): the
        // whole server's, else that of the kinds whose watch keeps failing.
        if let Some(s) = Arc::get_mut(&mut snapshot) {
            s.source.read_at = self
                .shared
                .heard
                .last()
                .map(|t| server_clock::on_server(t, skew));
            s.source.unanswered = self
                .shared
                .heard
                .unanswered(local, src.options.stale_after)
                .or(stale);
            if src.served {
                s.source.stale = self.shared.read().not_live_gaps();
                // The report served as the latest says its data is old, as the metrics and
                // `/readyz` do (audit FFF5).
                if let Some(why) = &s.source.unanswered {
                    s.source
                        .stale
                        .push((crate::snapshot::gaps::CLUSTER, why.clone()));
                }
            }
        }
        self.k8s_view.send_replace(Some(snapshot.clone()));
        snapshot
    }
}

async fn cluster_loop(client: Client, shared: Arc<Shared>, every: Duration) {
    let pending = shared.read().cluster_pending.clone();
    let arrive = |fact: cluster_arrival::Fact| shared.update(|s| s.cluster_arrive(fact));
    loop {
        cluster::observe(&client, &pending, &arrive).await;
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shared.refresh.notified() => {}
        }
    }
}

impl Source for LiveSource {
    fn info(&self) -> SourceInfo {
        SourceInfo {
            kind: SourceKind::Live,
            label: self.label.clone(),
            // This machine's clock, not the API server's (audit UUU-time checked it): the TUI
            // keeps it in `App::source` until the first snapshot replaces it, and nothing
            // shown or compared reads it there: ages, the events pane, the timeline's clock
            // and `source_clock` take every time from a snapshot, whose `observed_at` is on
            // the server's clock (`server_clock::on_server`).
            observed_at: Timestamp::now(),
            ..SourceInfo::default()
        }
    }

    fn run(
        self: Box<Self>,
        events: mpsc::UnboundedSender<SourceEvent>,
        mut commands: mpsc::UnboundedReceiver<SourceCommand>,
    ) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            let mut this = *self;
            // A narrowed source that may now list pods cluster-wide starts again, wide: its
            // engine and tasks are dropped (aborted) and the Azure setup is kept.
            while this.run_scope(&events, &mut commands).await == Ended::Widen {
                widen::widen(&mut this);
            }
        })
    }
}

/// Why [`LiveSource::run_scope`] returned.
#[derive(PartialEq, Eq)]
enum Ended {
    /// The UI closed its commands.
    Closed,
    /// Pods can be listed cluster-wide now: run again over all namespaces (audit FFF4).
    Widen,
}

impl LiveSource {
    /// Runs the source over its scope until the UI closes, or until a narrowed scope can
    /// widen.
    async fn run_scope(
        &self,
        events: &mpsc::UnboundedSender<SourceEvent>,
        commands: &mut mpsc::UnboundedReceiver<SourceCommand>,
    ) -> Ended {
        {
            if let Some(n) = &self.notice {
                let _ = events.send(SourceEvent::Status(n.clone()));
            }
            let engine = Engine::start(self, events.clone());
            let mut tasks = JoinSet::new();
            let (vault_tx, vault) = twatch::channel(VaultState::Starting);
            tasks.spawn(azure_loop::run(
                self.azure.clone(),
                engine.shared.clone(),
                engine.k8s_view.subscribe(),
                vault_tx,
            ));
            let mut complete = false;
            let mut latest: Option<Arc<Snapshot>> = None;
            let act_ctx = |latest: &Option<Arc<Snapshot>>| act::Ctx {
                client: self.client.clone(),
                latest: latest.clone(),
                vault: vault.clone(),
                shared: engine.shared.clone(),
            };
            let mut assembly = Duration::ZERO;
            // A kind that cannot list (API server erroring, not forbidding) must not keep the UI
            // on the progress screen: past the deadline it is shown unknown with the last error,
            // and its watcher keeps retrying; a later successful list fills it in.
            let give_up = tokio::time::sleep(self.options.startup_deadline);
            tokio::pin!(give_up);
            // The narrowing was decided once, at start: asked again on the cluster facts'
            // cadence, so a permission granted later widens the view (README "Degrading, not
            // failing"; audit FFF4).
            // Asked beside this loop: a probe that hangs must not hold up the snapshots that
            // say how long the cluster has not answered.
            let (widen_tx, mut widened) = tokio::sync::oneshot::channel();
            let mut narrowed = self.narrowed.is_some();
            if narrowed {
                tasks.spawn(widen::ask_until_listable(
                    self.client.clone(),
                    engine.shared.clone(),
                    self.options.cluster_refresh,
                    widen_tx,
                ));
            }
            loop {
                tokio::select! {
                    _ = engine.shared.changed.notified() => {}
                    asked = &mut widened, if narrowed => match asked {
                        Ok(()) => return Ended::Widen,
                        Err(_) => {
                            narrowed = false;
                            continue;
                        }
                    },
                    // Nothing changed for a while: the same objects at a later time.
                    _ = tokio::time::sleep(self.options.clock_tick), if complete => {}
                    _ = &mut give_up, if !complete => {
                        let why = format!(
                            "not listed within {}",
                            humantime::format_duration(self.options.startup_deadline)
                        );
                        engine.shared.update(|s| s.give_up(&self.scope, &why));
                        continue;
                    }
                    command = commands.recv() => match command {
                        None => return Ended::Closed,
                        Some(SourceCommand::Refresh) => {
                            // Wakes the cluster facts' re-read and, when narrowed, the probe.
                            engine.shared.refresh.notify_waiters();
                            continue;
                        }
                        // Actions and reveals run off the loop: a slow API call must not hold
                        // up snapshots.
                        Some(SourceCommand::Act { action, reply }) => {
                            let job = act::run(act_ctx(&latest), action);
                            tasks.spawn(async move {
                                let _ = reply.send(job.await);
                            });
                            continue;
                        }
                        Some(SourceCommand::Reveal { target, reply }) => {
                            let job = act::reveal(act_ctx(&latest), target);
                            tasks.spawn(async move {
                                let _ = reply.send(job.await);
                            });
                            continue;
                        }
                        Some(SourceCommand::Permission { question, reply }) => {
                            let job = act::permitted(act_ctx(&latest), question);
                            tasks.spawn(async move {
                                let _ = reply.send(job.await);
                            });
                            continue;
                        }
                        // Switching contexts is the wrapper's job (switch.rs); a bare source has one.
                        Some(SourceCommand::Lab(_) | SourceCommand::Context(_)) => continue,
                    },
                }
                // Let a burst of watch events settle into one snapshot. Assembling costs little
                // now that snapshots share the store's objects (~0.35 ms at 10k pods, see
                // benches/live_store.rs), but the pause still grows with it: snapshots never
                // take more than ~20% of a core.
                // Before the first one only progress is sent: a short pause bounds those
                // events without holding back the first snapshot by a debounce or two.
                let pause = if complete {
                    self.options.debounce.max(assembly * 4)
                } else {
                    self.options.debounce.min(STARTUP_PAUSE)
                };
                tokio::time::sleep(pause).await;
                let synced = engine.sync_wanted();
                // After the first complete snapshot, later ones never wait for anything.
                complete = complete || (synced && engine.shared.read().complete());
                let event = if complete {
                    let started = std::time::Instant::now();
                    let snapshot = engine.snapshot(self);
                    assembly = started.elapsed();
                    latest = Some(snapshot.clone());
                    SourceEvent::Snapshot(snapshot)
                } else {
                    SourceEvent::Progress(startup_progress(&engine.shared))
                };
                let _ = events.send(event);
            }
        }
    }
}

/// The pause between startup progress events.
const STARTUP_PAUSE: Duration = Duration::from_millis(20);

/// Startup progress: how many of the kinds (plus cluster facts and named Secrets) are in,
/// and what is still loading with its count so far ("listing pods 1500, events 200").
fn startup_progress(shared: &Shared) -> Progress {
    let state = shared.read();
    let kinds = state.progress();
    let total = kinds.len() + 2;
    let mut done = kinds.iter().filter(|(_, synced, _)| *synced).count();
    done += usize::from(state.cluster_synced) + usize::from(state.named_secrets.synced);
    let loading: Vec<String> = kinds
        .iter()
        .filter(|(_, synced, _)| !synced)
        .map(|(name, _, n)| format!("{name} {n}"))
        .collect();
    let stage = if loading.is_empty() && !state.cluster_synced {
        "cluster facts (OIDC issuer, CSI driver)".to_string()
    } else if loading.is_empty() {
        "Secrets named by SecretProviderClasses".to_string()
    } else {
        format!("listing {}", loading.join(", "))
    };
    Progress {
        stage,
        done,
        total: Some(total),
    }
}

/// Connects with the user's kubeconfig and checks the API server answers, so an exec
/// credential plugin (kubelogin's device-code prompt) runs before the TUI takes the terminal.
/// [`prepare`] then [`open`], for callers that show where they connect while it happens.
pub async fn connect(kube: &KubeArgs, azure: &AzureArgs) -> Result<LiveSource, ConnectError> {
    open(prepare(kube).await?, kube, azure).await
}

/// Reads the kubeconfig and builds the client, without a request: cheap, and the place where
/// "no cluster configured" is decided. [`Connection::endpoint`] names where [`open`] will go.
pub async fn prepare(kube: &KubeArgs) -> Result<Connection, ConnectError> {
    connect::connect(kube).await
}

/// Asks the API server for its version (bounded by `--request-timeout`) and picks the scope.
/// Failures name the server URL and the context.
///
/// All namespaces is the default; when the user did not ask for it explicitly (`-A`) and may
/// not list pods cluster-wide, the context's namespace is watched instead, as kubectl would.
pub async fn open(
    c: Connection,
    kube: &KubeArgs,
    azure: &AzureArgs,
) -> Result<LiveSource, ConnectError> {
    c.client.apiserver_version().await.map_err(|e| {
        ConnectError::Other(anyhow::anyhow!(errors::not_read(&c.endpoint, kube, &e)))
    })?;
    let mut scope = c.scope;
    let mut notice = None;
    let mut narrowed = None;
    if scope == Scope::All
        && !kube.all_namespaces
        && let Err(kube::Error::Api(status)) = widen::pods_listable(&c.client).await
        && status.code == 403
    {
        let ns = c.client.default_namespace().to_string();
        notice = Some(format!(
            "cannot list pods at the cluster scope; showing namespace {ns} only (-n picks another)"
        ));
        narrowed = Some(crate::snapshot::Outside {
            namespace: ns.clone(),
            reason: format!(
                "cannot list pods at the cluster scope: forbidden; only namespace {ns} is watched (-n picks another)"
            ),
        });
        scope = Scope::Namespace(ns);
    }
    let mut live = LiveSource::new(c.client, c.label, scope, azure.clone());
    live.notice = notice;
    live.narrowed = narrowed;
    live.endpoint = Some(c.endpoint);
    Ok(live)
}

/// `kvchain check` without `-f`/`--lab`: one complete live snapshot.
pub async fn snapshot_once(kube: &KubeArgs, azure: &AzureArgs) -> anyhow::Result<Snapshot> {
    let live = match connect(kube, azure).await {
        Ok(l) => l,
        Err(ConnectError::NoKubeconfig(why)) => anyhow::bail!(
            "no cluster configured ({why}); use `kvchain check -f DIR` or `--lab SCENARIO`, or --kubeconfig PATH"
        ),
        Err(ConnectError::Other(e)) => return Err(e),
    };
    if let Some(n) = live.notice() {
        crate::say!("kvchain: {n}");
    }
    Ok(live.snapshot().await)
}
