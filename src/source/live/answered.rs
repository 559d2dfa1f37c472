//! When the cluster last answered (audit W3, W4, W5).
//!
//! The watchers' events say nothing when a watch re-opens on a quiet cluster or a bookmark
//! arrives (kube-runtime keeps both to itself), so the client the source reads with is wrapped:
//! every successful answer, and every byte of a streamed one (a watch event or bookmark), is
//! noted here. The snapshot carries the newest as its data time, and a watcher that failed
//! learns that its own request was answered again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use http_body_util::BodyExt;
use jiff::Timestamp;
use kube::Client;
use tokio::sync::watch;

use super::server_clock::ServerClock;

/// The successful answers so far: a count, and the count at the newest one per request path
/// (a watcher's [`kube::Api::resource_url`]).
#[derive(Debug, Default)]
pub struct Answers {
    pub seq: u64,
    pub by_path: HashMap<String, u64>,
}

impl Answers {
    /// `path` was answered after the count was `since`.
    pub fn answered_after(&self, path: &str, since: u64) -> bool {
        self.by_path.get(path).is_some_and(|n| *n > since)
    }
}

/// What the source's requests have heard back.
#[derive(Debug)]
pub struct Heard {
    /// The newest successful answer or streamed byte.
    last: Mutex<Option<Timestamp>>,
    answers: watch::Sender<Answers>,
    /// The API server's clock, from the `Date` of every answer (audit TTT-time).
    pub clock: ServerClock,
}

impl Default for Heard {
    fn default() -> Self {
        Heard {
            last: Mutex::new(None),
            answers: watch::channel(Answers::default()).0,
            clock: ServerClock::default(),
        }
    }
}

impl Heard {
    /// When the cluster last answered, if ever.
    pub fn last(&self) -> Option<Timestamp> {
        *self.last.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn now(&self) {
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(Timestamp::now());
    }

    fn answered(&self, path: String) {
        self.now();
        self.answers.send_modify(|a| {
            a.seq += 1;
            a.by_path.insert(path, a.seq);
        });
    }

    /// Follows the successful answers (see [`Answers`]).
    pub fn subscribe(&self) -> watch::Receiver<Answers> {
        self.answers.subscribe()
    }

    /// Why the data shown is older than the clock: no answer for longer than `after`, said
    /// with the time of the last one (the age beside it says how long ago that was).
    pub fn unanswered(&self, now: Timestamp, after: std::time::Duration) -> Option<String> {
        let last = self.last()?;
        let silent = now.duration_since(last).unsigned_abs();
        (silent > after).then(|| {
            let at = last
                .round(jiff::Unit::Second)
                .unwrap_or(last)
                .strftime("%H:%M:%S UTC");
            format!("no answer from the API server since {at}; the data shown was read then")
        })
    }
}

/// `client`, noting every successful answer (and every streamed byte) in `heard`.
pub fn noting(client: Client, heard: Arc<Heard>) -> Client {
    let ns = client.default_namespace().to_string();
    let service = tower::service_fn(move |req: hyper::Request<kube::client::Body>| {
        let client = client.clone();
        let heard = heard.clone();
        async move {
            let path = req.uri().path().to_string();
            let res = client.send(req).await?;
            // Any answer, a refusal too, carries the server's clock.
            heard.clock.note(
                res.headers().get(hyper::header::DATE).map(|v| v.as_bytes()),
                Timestamp::now(),
            );
            if !res.status().is_success() {
                return Ok::<_, kube::Error>(res.map(BodyExt::boxed_unsync));
            }
            heard.answered(path);
            Ok(res.map(|body| {
                body.map_frame(move |frame| {
                    if frame.is_data() {
                        heard.now();
                    }
                    frame
                })
                .boxed_unsync()
            }))
        }
    });
    Client::new(service, ns)
}
