//! The one road to Azure: every request (ARM, Resource Graph, Key Vault REST and the SDK's
//! SecretClient) goes through [`CountingClient`], so the request counter is honest, and through
//! [`Http::send`]'s gate, so concurrency is bounded and a throttled host is left alone until
//! its Retry-After has passed.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use azure_core::credentials::TokenCredential;
use azure_core::http::headers::{HeaderName, Headers, RETRY_AFTER};
use azure_core::http::policies::Policy;
use azure_core::http::policies::auth::BearerTokenAuthorizationPolicy;
use azure_core::http::{
    AsyncRawResponse, ClientOptions, Context, HttpClient, Method, Pipeline, PipelineSendOptions,
    RawResponse, Request, RetryOptions, StatusCode, Transport, Url,
};
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::time::{Duration, Instant};

/// At most this many Azure requests in flight at once.
pub const MAX_IN_FLIGHT: usize = 8;
/// A Retry-After up to this long is waited out in place (once); longer ones back off until
/// the next refresh after it.
pub const MAX_INLINE_WAIT: Duration = Duration::from_secs(2);

/// Wraps the real transport and counts every request that leaves the process, and the ones
/// Azure answered 429 (throttled).
#[derive(Debug)]
pub struct CountingClient {
    inner: Arc<dyn HttpClient>,
    count: Arc<AtomicU64>,
    throttled: Arc<AtomicU64>,
}

impl CountingClient {
    pub fn new(
        inner: Arc<dyn HttpClient>,
        count: Arc<AtomicU64>,
        throttled: Arc<AtomicU64>,
    ) -> Self {
        CountingClient {
            inner,
            count,
            throttled,
        }
    }
}

// `HttpClient` is an `async_trait` trait; this is the expansion the macro would write, so the
// crate does not need `async-trait` as a direct dependency.
impl HttpClient for CountingClient {
    fn execute_request<'a, 'b, 'f>(
        &'a self,
        request: &'b Request,
    ) -> Pin<Box<dyn Future<Output = azure_core::Result<AsyncRawResponse>> + Send + 'f>>
    where
        'a: 'f,
        'b: 'f,
        Self: 'f,
    {
        self.count.fetch_add(1, Ordering::Relaxed);
        let sent = self.inner.execute_request(request);
        let throttled = self.throttled.clone();
        Box::pin(async move {
            let answer = sent.await;
            if answer.as_ref().is_ok_and(|r| u16::from(r.status()) == 429) {
                throttled.fetch_add(1, Ordering::Relaxed);
            }
            answer
        })
    }
}

/// Why a fetch failed, shaped for an `Unknown(reason)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchError {
    /// `403 AuthorizationFailed`, `429 throttled, retry after 30s`, `credential: …`.
    pub reason: String,
    pub status: Option<u16>,
    /// Server-asked wait (429/503).
    pub retry_after: Option<Duration>,
}

impl FetchError {
    pub fn other(reason: impl Into<String>) -> Self {
        FetchError {
            reason: reason.into(),
            status: None,
            retry_after: None,
        }
    }

    /// From an HTTP error response: status, the service error code (ARM `error.code`, Key
    /// Vault `error.innererror.code` when more precise) and Retry-After.
    pub fn from_response(status: StatusCode, headers: &Headers, body: &[u8]) -> Self {
        let code = error_code(body);
        let retry_after = retry_after(headers);
        let s = u16::from(status);
        let mut reason = match code {
            Some(c) => format!("{s} {c}"),
            None => format!("{s} {}", status.canonical_reason()),
        };
        if let Some(wait) = retry_after {
            reason.push_str(&format!(
                ", retry after {}",
                humantime::format_duration(Duration::from_secs(wait.as_secs().max(1)))
            ));
        }
        FetchError {
            reason,
            status: Some(s),
            retry_after,
        }
    }

    /// From an azure_core error (SDK client calls, credential failures).
    pub fn from_core(e: &azure_core::Error) -> Self {
        use azure_core::error::ErrorKind;
        match e.kind() {
            ErrorKind::HttpResponse {
                status,
                raw_response: Some(raw),
                ..
            } => FetchError::from_response(*status, raw.headers(), raw.body()),
            ErrorKind::HttpResponse {
                status, error_code, ..
            } => FetchError {
                reason: format!(
                    "{} {}",
                    u16::from(*status),
                    error_code.clone().unwrap_or_default()
                )
                .trim_end()
                .to_string(),
                status: Some(u16::from(*status)),
                retry_after: None,
            },
            ErrorKind::Credential => FetchError::other(format!(
                "Azure credential failed: {}",
                first_line(&e.to_string())
            )),
            _ => FetchError::other(first_line(&e.to_string())),
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.status == Some(404)
    }
}

/// Key Vault puts the precise cause in `error.innererror.code` (`ForbiddenByRbac`,
/// `SecretDisabled`); ARM in `error.code` (`AuthorizationFailed`).
fn error_code(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let err = v.get("error")?;
    let code = err.get("code").and_then(Value::as_str);
    let inner = err
        .get("innererror")
        .and_then(|i| i.get("code"))
        .and_then(Value::as_str);
    match (code, inner) {
        (Some(c), Some(i)) if c != i => Some(format!("{c} ({i})")),
        (Some(c), _) => Some(c.to_string()),
        (None, i) => i.map(str::to_string),
    }
}

const RETRY_AFTER_MS: HeaderName = HeaderName::from_static("retry-after-ms");
const X_MS_RETRY_AFTER_MS: HeaderName = HeaderName::from_static("x-ms-retry-after-ms");

/// Retry-After in seconds (the form ARM and Key Vault send), or the millisecond variants.
pub fn retry_after(headers: &Headers) -> Option<Duration> {
    for h in [X_MS_RETRY_AFTER_MS, RETRY_AFTER_MS] {
        if let Some(ms) = headers
            .get_optional_str(&h)
            .and_then(|v| v.trim().parse::<u64>().ok())
        {
            return Some(Duration::from_millis(ms));
        }
    }
    headers
        .get_optional_str(&RETRY_AFTER)
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

fn first_line(s: &str) -> String {
    let line = s.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let mut out: String = line.chars().take(200).collect();
    if line.chars().count() > 200 {
        out.push('…');
    }
    out
}

/// Shared sending machinery: pipelines per token scope, the concurrency gate and the
/// per-host throttle memory.
pub struct Http {
    transport: Arc<dyn HttpClient>,
    credential: Arc<dyn TokenCredential>,
    pipelines: Mutex<HashMap<String, Pipeline>>,
    gate: Semaphore,
    throttled: Mutex<HashMap<String, Instant>>,
}

impl Http {
    /// `transport` must already be the counting client.
    pub fn new(transport: Arc<dyn HttpClient>, credential: Arc<dyn TokenCredential>) -> Self {
        Http {
            transport,
            credential,
            pipelines: Mutex::new(HashMap::new()),
            gate: Semaphore::new(MAX_IN_FLIGHT),
            throttled: Mutex::new(HashMap::new()),
        }
    }

    pub fn credential(&self) -> Arc<dyn TokenCredential> {
        self.credential.clone()
    }

    /// Client options for SDK clients: our transport, no SDK retries (throttling is handled
    /// here, so a 429 never turns into eight silent retries).
    pub fn client_options(&self) -> ClientOptions {
        ClientOptions {
            transport: Some(Transport::new(self.transport.clone())),
            retry: RetryOptions::none(),
            ..Default::default()
        }
    }

    fn pipeline(&self, scope: &str) -> Pipeline {
        let mut pipelines = self.pipelines.lock().unwrap_or_else(|e| e.into_inner());
        pipelines
            .entry(scope.to_string())
            .or_insert_with(|| {
                let auth: Arc<dyn Policy> = Arc::new(BearerTokenAuthorizationPolicy::new(
                    self.credential.clone(),
                    [scope.to_string()],
                ));
                Pipeline::new(
                    Some("kvchain"),
                    Some(env!("CARGO_PKG_VERSION")),
                    self.client_options(),
                    Vec::new(),
                    vec![auth],
                    None,
                )
            })
            .clone()
    }

    /// Remaining back-off for `host` after a long Retry-After.
    fn throttled_for(&self, host: &str) -> Option<Duration> {
        let now = Instant::now();
        let t = self.throttled.lock().unwrap_or_else(|e| e.into_inner());
        t.get(host)
            .and_then(|until| until.checked_duration_since(now))
            .filter(|d| !d.is_zero())
    }

    fn note_throttle(&self, host: &str, wait: Duration) {
        let mut t = self.throttled.lock().unwrap_or_else(|e| e.into_inner());
        t.insert(host.to_string(), Instant::now() + wait);
    }

    /// Run one Azure call under the gate with the throttling rules: a throttled host is not
    /// called; a short Retry-After is waited out and the call repeated once; a long one makes
    /// the host off-limits until it has passed.
    pub async fn guarded<T, F, Fut>(&self, host: &str, mut call: F) -> Result<T, FetchError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, FetchError>>,
    {
        let mut waited = false;
        loop {
            if let Some(left) = self.throttled_for(host) {
                return Err(FetchError {
                    reason: format!(
                        "not asked: {host} throttled kvchain (429), retry after {}",
                        humantime::format_duration(Duration::from_secs(left.as_secs().max(1)))
                    ),
                    status: Some(429),
                    retry_after: Some(left),
                });
            }
            let result = {
                let _permit = self
                    .gate
                    .acquire()
                    .await
                    .map_err(|_| FetchError::other("request gate closed"))?;
                call().await
            };
            match result {
                Err(e) if matches!(e.status, Some(429) | Some(503)) => {
                    let wait = e.retry_after.unwrap_or(Duration::from_secs(1));
                    if !waited && wait <= MAX_INLINE_WAIT {
                        waited = true;
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    self.note_throttle(host, wait);
                    return Err(e);
                }
                other => return other,
            }
        }
    }

    /// One REST call with a bearer token for `scope`; `Ok` only for 2xx, with the JSON body.
    pub async fn json(
        &self,
        scope: &str,
        method: Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Value, FetchError> {
        let url = Url::parse(url).map_err(|e| FetchError::other(format!("bad URL {url}: {e}")))?;
        let host = url.host_str().unwrap_or_default().to_string();
        let pipeline = self.pipeline(scope);
        self.guarded(&host, || {
            let pipeline = pipeline.clone();
            let url = url.clone();
            let host = host.clone();
            async move {
                let mut req = Request::new(url, method);
                req.insert_header("accept", "application/json");
                if let Some(b) = body {
                    req.insert_header("content-type", "application/json");
                    req.set_body(serde_json::to_vec(b).unwrap_or_default());
                }
                let rsp: RawResponse = pipeline
                    .send(
                        &Context::new(),
                        &mut req,
                        Some(PipelineSendOptions {
                            skip_checks: true,
                            ..Default::default()
                        }),
                    )
                    .await
                    .map_err(|e| FetchError::from_core(&e))?;
                let (status, headers, body) = rsp.deconstruct();
                if !status.is_success() {
                    return Err(FetchError::from_response(status, &headers, &body));
                }
                if body.is_empty() {
                    return Ok(Value::Null);
                }
                serde_json::from_slice(&body)
                    .map_err(|e| FetchError::other(format!("unreadable response from {host}: {e}")))
            }
        })
        .await
    }

    /// GET a paged ARM/Key Vault list (`value` + `nextLink`), at most `max_pages` pages. A
    /// `nextLink` left after the last page read is an error ("more than N pages"): a list cut
    /// short must not look complete (what it misses would read as absent).
    pub async fn list(
        &self,
        scope: &str,
        url: &str,
        max_pages: usize,
    ) -> Result<Vec<Value>, FetchError> {
        let mut items = Vec::new();
        let mut next = Some(url.to_string());
        let mut pages = 0;
        while let Some(u) = next.take() {
            let page = self.json(scope, Method::Get, &u, None).await?;
            if let Some(v) = page.get("value").and_then(Value::as_array) {
                items.extend(v.iter().cloned());
            }
            pages += 1;
            next = page
                .get("nextLink")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string);
            if next.is_some() && pages >= max_pages {
                return Err(FetchError::other(format!(
                    "more than {max_pages} pages, not all read"
                )));
            }
        }
        Ok(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_vault_inner_codes_are_kept() {
        let body = br#"{"error":{"code":"Forbidden","message":"Caller is not authorized","innererror":{"code":"ForbiddenByRbac"}}}"#;
        let e = FetchError::from_response(StatusCode::Forbidden, &Headers::new(), body);
        assert_eq!(e.reason, "403 Forbidden (ForbiddenByRbac)");
    }

    #[test]
    fn retry_after_is_read_in_seconds() {
        let mut h = Headers::new();
        h.insert(RETRY_AFTER, "30");
        let e = FetchError::from_response(StatusCode::TooManyRequests, &h, b"");
        assert_eq!(e.retry_after, Some(Duration::from_secs(30)));
        assert_eq!(e.reason, "429 Too Many Requests, retry after 30s");
    }
}
