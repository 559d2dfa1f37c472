//! Asking again when the API server answers with an error of its own, a bounded number of
//! times.
//!
//! kube's default client retries 429/503/504 up to 15 times with pauses growing to 1000 s,
//! minutes in all: a control plane answering 503 held `check` (and a whole fleet report) that
//! long, and a `--request-timeout` around those retries then blamed "no answer" on a server that
//! answered every request at once. kvchain uses this policy instead, *inside* the per-request
//! timeout: a transient failure (an etcd leader change, a throttled burst) is absorbed, and a
//! server that keeps failing is given up on after [`RETRIES`] more tries within [`WITHIN`], with
//! its own answer as the reason.

use std::time::Duration;

use hyper::{Method, Request, Response, StatusCode};
use kube::client::Body;
use tower::BoxError;
use tower::retry::Policy;

/// Tries after the first answer; the pauses before them are 0.5 s, 1 s and 2 s.
pub const RETRIES: u32 = 3;
const FIRST_PAUSE: Duration = Duration::from_millis(500);
/// The pauses added up: how long after its first answer a failing request is given up.
pub const WITHIN: Duration = Duration::from_millis(3500);

/// The per-request state: how many tries were made after the first.
#[derive(Clone, Debug, Default)]
pub struct ServerErrors {
    retried: u32,
}

/// Whether an answer with `status` to a `method` request is worth asking again. 429, 503 and
/// 504 say the request was not processed (as kube's own policy has it), so any method may be
/// repeated; a 500 or 502 may come after a write took effect, so only reads are repeated.
pub fn worth_retrying(method: &Method, status: StatusCode) -> bool {
    match status {
        StatusCode::TOO_MANY_REQUESTS
        | StatusCode::SERVICE_UNAVAILABLE
        | StatusCode::GATEWAY_TIMEOUT => true,
        StatusCode::INTERNAL_SERVER_ERROR | StatusCode::BAD_GATEWAY => method == Method::GET,
        _ => false,
    }
}

impl<B> Policy<Request<Body>, Response<B>, BoxError> for ServerErrors {
    type Future = tokio::time::Sleep;

    fn retry(
        &mut self,
        req: &mut Request<Body>,
        result: &mut Result<Response<B>, BoxError>,
    ) -> Option<Self::Future> {
        // Transport errors and timeouts are not retried here: they are the caller's to report
        // (watchers back off by themselves; `--request-timeout` must mean what it says).
        let Ok(answer) = result else { return None };
        if self.retried >= RETRIES || !worth_retrying(req.method(), answer.status()) {
            return None;
        }
        let pause = FIRST_PAUSE * 2u32.pow(self.retried);
        self.retried += 1;
        tracing::debug!(status = %answer.status(), retry = self.retried, "asking the API server again in {pause:?}");
        Some(tokio::time::sleep(pause))
    }

    fn clone_request(&mut self, req: &Request<Body>) -> Option<Request<Body>> {
        // Only bodies held whole can be sent again; a streamed one is not retried.
        let body = req.body().try_clone()?;
        let mut copy = Request::builder()
            .method(req.method().clone())
            .uri(req.uri().clone())
            .version(req.version())
            .body(body)
            .ok()?;
        *copy.headers_mut() = req.headers().clone();
        *copy.extensions_mut() = req.extensions().clone();
        Some(copy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_add_up_to_within() {
        let total: Duration = (0..RETRIES).map(|n| FIRST_PAUSE * 2u32.pow(n)).sum();
        assert_eq!(total, WITHIN);
    }

    #[test]
    fn writes_are_repeated_only_when_the_server_did_not_process_them() {
        assert!(worth_retrying(
            &Method::GET,
            StatusCode::INTERNAL_SERVER_ERROR
        ));
        assert!(worth_retrying(
            &Method::PATCH,
            StatusCode::SERVICE_UNAVAILABLE
        ));
        assert!(!worth_retrying(
            &Method::PATCH,
            StatusCode::INTERNAL_SERVER_ERROR
        ));
        assert!(!worth_retrying(&Method::GET, StatusCode::FORBIDDEN));
        assert!(!worth_retrying(&Method::GET, StatusCode::NOT_FOUND));
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_is_asked_again_at_most_retries_times() {
        let mut policy = ServerErrors::default();
        let mut req = Request::get("/version").body(Body::empty()).unwrap();
        let mut tries = 0;
        loop {
            let mut answer: Result<_, BoxError> = Ok(Response::builder()
                .status(StatusCode::SERVICE_UNAVAILABLE)
                .body(())
                .unwrap());
            match policy.retry(&mut req, &mut answer) {
                Some(pause) => pause.await,
                None => break,
            }
            tries += 1;
        }
        assert_eq!(tries, RETRIES);
    }
}
