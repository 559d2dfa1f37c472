//! A response body written as it is produced: a writer on a thread of its own fills it in
//! chunks, so a 10,000-pod `/report.json` is never held whole in memory.

use std::convert::Infallible;
use std::io::Write;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame};
use tokio::sync::mpsc;

/// Bytes gathered before a chunk goes out.
const CHUNK: usize = 64 * 1024;
/// Chunks in flight: a slow client holds back the writer, not memory.
const IN_FLIGHT: usize = 4;

/// The body: chunks as the writer sends them, ending when it is done.
pub struct Streamed(mpsc::Receiver<Bytes>);

impl Body for Streamed {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0.poll_recv(cx).map(|c| c.map(|b| Ok(Frame::data(b))))
    }
}

/// Runs `write` on a thread of its own with a writer into the returned body. A client that
/// goes away makes the writer's next chunk fail, which ends `write` early.
pub fn body(
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()> + Send + 'static,
) -> Streamed {
    let (tx, rx) = mpsc::channel(IN_FLIGHT);
    std::thread::spawn(move || {
        let mut w = Chunks {
            buf: Vec::with_capacity(CHUNK),
            tx,
        };
        if let Err(e) = write(&mut w).and_then(|()| w.flush()) {
            tracing::debug!("streamed response ended early: {e}");
        }
    });
    Streamed(rx)
}

struct Chunks {
    buf: Vec<u8>,
    tx: mpsc::Sender<Bytes>,
}

impl Chunks {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(chunk)
            .map_err(|_| std::io::ErrorKind::BrokenPipe.into())
    }
}

impl Write for Chunks {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn the_body_is_what_was_written_in_chunks() {
        let text: Vec<u8> = (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let expected = text.clone();
        let mut body = body(move |w| {
            for piece in text.chunks(1000) {
                w.write_all(piece)?;
            }
            Ok(())
        });
        let mut got = Vec::new();
        let mut frames = 0;
        while let Some(frame) = body.frame().await {
            let data = frame.unwrap().into_data().unwrap();
            assert!(data.len() <= CHUNK + 1000, "{}", data.len());
            got.extend_from_slice(&data);
            frames += 1;
        }
        assert_eq!(got, expected);
        assert!(frames > 10, "{frames} frames");
    }

    #[tokio::test]
    async fn a_client_gone_stops_the_writer() {
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let body = body(move |w| {
            let r = (0..).try_for_each(|_| w.write_all(&[b'x'; 4096]));
            let _ = done_tx.send(r);
            Ok(())
        });
        drop(body);
        let r = tokio::task::spawn_blocking(move || done_rx.recv().unwrap())
            .await
            .unwrap();
        assert_eq!(r.unwrap_err().kind(), std::io::ErrorKind::BrokenPipe);
    }
}
