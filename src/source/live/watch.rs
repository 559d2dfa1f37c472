//! One watcher per kind: list, then watch, with kube-runtime's backoff; every object is
//! converted to its slim observation on arrival and only that is stored.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard};

use futures::StreamExt;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Resource};
use serde::de::DeserializeOwned;
use tokio::sync::{Notify, mpsc};

use super::answered::Heard;
use super::connect::Scope;
use super::errors::{Failure, Target, classify_watch, on_watch};
use super::store::{Key, Kind, LiveState};
use crate::source::{Progress, SourceEvent};

/// State shared by the watcher tasks and the assembler.
pub struct Shared {
    state: Mutex<LiveState>,
    /// Something in `state` changed: the assembler debounces these into snapshots.
    pub changed: Notify,
    /// The user asked for a re-read (cluster facts, named secrets, Azure).
    pub refresh: Notify,
    /// What the source's requests heard back: the data time, and recoveries (audit W3, W5).
    pub heard: Arc<Heard>,
    events: mpsc::UnboundedSender<SourceEvent>,
}

impl Shared {
    pub fn new(events: mpsc::UnboundedSender<SourceEvent>) -> Arc<Self> {
        Arc::new(Shared {
            state: Mutex::new(LiveState::default()),
            changed: Notify::new(),
            refresh: Notify::new(),
            heard: Arc::default(),
            events,
        })
    }

    /// Reads the state. A poisoned lock only means another task panicked mid-update; the
    /// observations are still plain data, so keep going rather than take the UI down.
    pub fn read(&self) -> MutexGuard<'_, LiveState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Changes the state and wakes the assembler.
    pub fn update<R>(&self, f: impl FnOnce(&mut LiveState) -> R) -> R {
        let r = f(&mut self.read());
        self.changed.notify_one();
        r
    }

    /// Like [`Shared::update`], but wakes the assembler only when `f` says something changed:
    /// a noisy stream of irrelevant events must not rebuild snapshots.
    pub fn update_if(&self, f: impl FnOnce(&mut LiveState) -> bool) {
        let changed = f(&mut self.read());
        if changed {
            self.changed.notify_one();
        }
    }

    pub fn send(&self, event: SourceEvent) {
        // The receiver is gone only when the UI quit; the source is about to stop anyway.
        let _ = self.events.send(event);
    }

    pub fn status(&self, message: String) {
        self.send(SourceEvent::Status(message));
    }
}

/// What to watch and where its observations go.
pub struct Watch<K, T> {
    pub target: Target,
    pub scope: Scope,
    pub api: Api<K>,
    pub config: watcher::Config,
    /// Object → observation; `None` drops objects kvchain does not read (e.g. most events).
    pub convert: fn(&K) -> Option<T>,
    pub slot: fn(&mut LiveState) -> &mut Kind<T>,
}

impl<K, T> Watch<K, T> {
    pub fn new(
        target: Target,
        scope: &Scope,
        api: Api<K>,
        config: watcher::Config,
        convert: fn(&K) -> Option<T>,
        slot: fn(&mut LiveState) -> &mut Kind<T>,
    ) -> Self {
        Watch {
            target,
            scope: scope.clone(),
            api,
            config,
            convert,
            slot,
        }
    }
}

/// How often a long initial list reports its count.
const PROGRESS_EVERY: usize = 500;

fn key<K: Resource>(obj: &K) -> Key {
    let m = obj.meta();
    (
        m.namespace.as_deref().unwrap_or_default().into(),
        m.name.as_deref().unwrap_or_default().into(),
    )
}

/// A watch resumed without a re-list: the first event after a failure says it is back, and
/// the kind is current again.
fn recovered<T>(
    shared: &Shared,
    target: Target,
    troubled: &mut bool,
    slot: fn(&mut LiveState) -> &mut Kind<T>,
) {
    if std::mem::take(troubled) {
        shared.update(|s| slot(s).failing_since = None);
        shared.status(format!("watch {}: reconnected", target.plural));
    }
}

/// The watch delivers again: a kind said to be not live-updated is live again. Returns what
/// clears the store's note (and says whether it changed anything).
fn watching<T>(not_live: &mut Option<String>) -> impl FnOnce(&mut Kind<T>) -> bool {
    let was = not_live.take().is_some();
    move |k: &mut Kind<T>| was && k.not_live.take().is_some()
}

/// Runs until the task is aborted. Lasting failures (403, missing CRD) become gaps and the
/// watcher keeps retrying with backoff, so a permission granted later is picked up.
pub async fn run<K, T>(w: Watch<K, T>, shared: Arc<Shared>)
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + 'static,
    T: Clone + Send + 'static,
{
    let Watch {
        target,
        scope,
        api,
        config,
        convert,
        slot,
    } = w;
    let mut buffer: BTreeMap<Key, T> = BTreeMap::new();
    let mut listed = 0usize;
    // Set after a transient failure so recovery can be announced once.
    let mut troubled = false;
    let mut last_gap: Option<String> = None;
    // A list completed: a refused watch after it leaves the data listed, not kept current.
    let mut listed_once = false;
    let mut not_live: Option<String> = None;
    // A watch that resumes on a quiet cluster delivers no event: its request answered again
    // after the failure is the recovery (audit W5).
    let path = api.resource_url().to_string();
    let mut answers = shared.heard.subscribe();
    let mut failed_at = 0;
    let mut stream = pin!(watcher(api, config).default_backoff());
    loop {
        let event = tokio::select! {
            event = stream.next() => match event {
                Some(event) => event,
                None => break,
            },
            Ok(()) = answers.changed(), if troubled => {
                if answers.borrow_and_update().answered_after(&path, failed_at) {
                    recovered(&shared, target, &mut troubled, slot);
                }
                continue;
            }
        };
        match event {
            Ok(watcher::Event::Init) => {
                buffer.clear();
                listed = 0;
            }
            Ok(watcher::Event::InitApply(obj)) => {
                listed += 1;
                if let Some(t) = convert(&obj) {
                    buffer.insert(key(&obj), t);
                }
                if listed.is_multiple_of(PROGRESS_EVERY) {
                    shared.send(SourceEvent::Progress(Progress {
                        stage: target.plural.to_string(),
                        done: listed,
                        total: None,
                    }));
                }
            }
            Ok(watcher::Event::InitDone) => {
                let items = std::mem::take(&mut buffer);
                shared.update(|s| slot(s).replace(&scope, items));
                listed_once = true;
                if troubled || last_gap.is_some() {
                    shared.status(format!("watch {}: reconnected", target.plural));
                }
                troubled = false;
                last_gap = None;
            }
            Ok(watcher::Event::Apply(obj)) => {
                let item = convert(&obj);
                let live = watching(&mut not_live);
                shared.update_if(|s| slot(s).apply(key(&obj), item) | live(slot(s)));
                recovered(&shared, target, &mut troubled, slot);
            }
            Ok(watcher::Event::Delete(obj)) => {
                let live = watching(&mut not_live);
                shared.update_if(|s| slot(s).delete(&key(&obj)) | live(slot(s)));
                recovered(&shared, target, &mut troubled, slot);
            }
            Err(err) => match classify_watch(&err, target, &scope) {
                // A list-only role (audit Q3): the watch is refused after a complete list.
                // What was listed stands — erasing it made one-shot checks race the refusal —
                // and is no gap (a one-shot check needs no watch); the TUI says it is not kept
                // current.
                Failure::Gap(reason) if listed_once && on_watch(&err) => {
                    if not_live.as_ref() != Some(&reason) {
                        tracing::warn!(%reason, "watch refused after a list");
                        shared.status(format!(
                            "{}: listed, not live-updated ({reason})",
                            target.plural
                        ));
                        // From the first refusal on (at start, or revoked mid-run: the
                        // re-opened watch is refused), the data is as old as this.
                        let since = jiff::Timestamp::now();
                        shared.update(|s| slot(s).not_live = Some((since, reason.clone())));
                        not_live = Some(reason);
                    }
                }
                Failure::Gap(reason) => {
                    // The gap drops what was listed, and the note with it.
                    listed_once = false;
                    not_live = None;
                    if last_gap.as_ref() != Some(&reason) {
                        tracing::info!(%reason, "watch gap");
                        shared.update(|s| slot(s).set_gap(&scope, reason.clone()));
                        last_gap = Some(reason);
                    }
                }
                Failure::Transient(message) => {
                    tracing::debug!(%message, "watch failed");
                    troubled = true;
                    failed_at = answers.borrow_and_update().seq;
                    shared.status(format!("{message}; reconnecting"));
                    shared.update(|s| {
                        let kind = slot(s);
                        kind.last_error = Some(message);
                        kind.failing_since.get_or_insert_with(jiff::Timestamp::now);
                    });
                }
            },
        }
    }
}
