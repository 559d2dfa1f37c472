//! A fake kubelet exec for the verify tests: a websocket server speaking the exec side of
//! `v4.channel.k8s.io` (stdout on channel 1, the final Status on channel 3), which wiremock
//! cannot do. Optionally it fronts the fake API server: plain requests are forwarded there,
//! one per connection, so the live source can list, watch and exec through one URL.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::SinkExt;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

/// What the container does for one exec: print to stdout and succeed, or fail with the
/// message the API server relays.
#[derive(Clone)]
pub enum Exec {
    Prints(Vec<u8>),
    Fails(&'static str),
}

pub type Answer = fn(&[String]) -> Exec;
/// (path, command) of every exec.
pub type Seen = Arc<Mutex<Vec<(String, Vec<String>)>>>;

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Serves exec on a local port; everything else goes to `backend` (host:port), if any.
/// Returns the URL to point a kube client at, and the execs seen.
pub async fn serve(answer: Answer, backend: Option<std::net::SocketAddr>) -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen: Seen = Arc::default();
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let Some(head) = peek_head(&sock).await else {
                    return;
                };
                if head.to_ascii_lowercase().contains("upgrade: websocket") {
                    exec(sock, answer, log).await;
                } else if let Some(backend) = backend {
                    forward(sock, backend, head.len() + 4).await;
                }
            });
        }
    });
    (format!("http://{addr}"), seen)
}

/// The request head, without consuming it (the websocket handshake reads it again).
async fn peek_head(sock: &TcpStream) -> Option<String> {
    let mut buf = vec![0u8; 16 * 1024];
    for _ in 0..500 {
        let n = sock.peek(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        if let Some(end) = find(&buf[..n], b"\r\n\r\n") {
            return Some(String::from_utf8_lossy(&buf[..end]).into_owned());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    None
}

/// One request to the backend with `connection: close`, its whole answer back, then close:
/// the client never reuses this connection, so a later exec always reaches `exec`.
async fn forward(mut sock: TcpStream, backend: std::net::SocketAddr, head_len: usize) {
    let mut head = vec![0u8; head_len];
    if sock.read_exact(&mut head).await.is_err() {
        return;
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut lines: Vec<&str> = head
        .trim_end()
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    let length: usize = lines
        .iter()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    if sock.read_exact(&mut body).await.is_err() {
        return;
    }
    lines.push("connection: close");
    let mut request = lines.join("\r\n").into_bytes();
    request.extend_from_slice(b"\r\n\r\n");
    request.extend(body);
    let Ok(mut up) = TcpStream::connect(backend).await else {
        return;
    };
    if up.write_all(&request).await.is_err() {
        return;
    }
    let mut response = Vec::new();
    let _ = up.read_to_end(&mut response).await;
    let _ = sock.write_all(&response).await;
    let _ = sock.shutdown().await;
}

async fn exec(sock: TcpStream, answer: Answer, log: Seen) {
    let mut asked: Option<(String, Vec<String>)> = None;
    // The callback's error type is tungstenite's, not ours to shrink.
    #[allow(clippy::result_large_err)]
    let cb = |req: &Request, mut resp: Response| {
        let path = req.uri().path().to_string();
        let command = req
            .uri()
            .query()
            .unwrap_or_default()
            .split('&')
            .filter_map(|kv| kv.strip_prefix("command="))
            .map(percent_decode)
            .collect();
        asked = Some((path, command));
        resp.headers_mut().insert(
            "sec-websocket-protocol",
            "v4.channel.k8s.io".parse().unwrap(),
        );
        Ok(resp)
    };
    let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(sock, cb).await else {
        return;
    };
    let Some((path, command)) = asked else {
        return;
    };
    let reply = answer(&command);
    log.lock().unwrap().push((path, command));
    let status = match reply {
        Exec::Prints(out) => {
            let mut frame = vec![1u8];
            frame.extend(out);
            let _ = ws.send(Message::binary(frame)).await;
            json!({"metadata": {}, "status": "Success"})
        }
        Exec::Fails(message) => json!({"metadata": {}, "status": "Failure",
            "message": message, "reason": "InternalError", "code": 500}),
    };
    let mut frame = vec![3u8];
    frame.extend(serde_json::to_vec(&status).unwrap());
    let _ = ws.send(Message::binary(frame)).await;
    let _ = ws.close(None).await;
}

/// A kube client for `url`.
pub fn client(url: &str) -> kube::Client {
    kube::Client::try_from(kube::Config::new(url.parse().unwrap())).unwrap()
}
