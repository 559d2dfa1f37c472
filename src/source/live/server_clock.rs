//! The API server's clock, read from the `Date` header of its answers (audit TTT-time).
//!
//! Every time a live diagnosis compares — an event's `lastTimestamp` against two rotation poll
//! intervals (FACTS §11 "Evidence ages"), a mount behind the vault past a poll (KVC703) — was
//! stamped by the cluster. Judged against this machine's clock, a workstation running an hour
//! ahead makes a rotation failure of 30 s ago look an hour old (history) and fires KVC703 an
//! hour early. The snapshot's "now" is therefore the local clock moved by the skew the last
//! answer's `Date` (RFC 9110 §6.6.1, IMF-fixdate, whole seconds) showed.

use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};

/// Below this the skew is the header's own rounding (whole seconds) plus the answer's
/// latency, not a clock set wrong: treated as none, so a healthy cluster's "now" does not
/// jitter from one snapshot to the next.
pub const NOISE: SignedDuration = SignedDuration::from_secs(2);

/// The server's time in a `Date` header value, if it reads as an HTTP date.
pub fn parse_date(value: &[u8]) -> Option<Timestamp> {
    let text = std::str::from_utf8(value).ok()?.trim();
    jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(text)
        .ok()
}

/// How far the server's clock is ahead of ours (negative: behind), from a `Date` it sent and
/// our clock when its answer arrived; `None` within [`NOISE`].
pub fn skew_of(server: Timestamp, local: Timestamp) -> Option<SignedDuration> {
    let skew = server.duration_since(local);
    (skew.abs() >= NOISE).then_some(skew)
}

/// Why the skew could not be read from an answer, said once in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unread {
    Absent,
    Unparsable,
}

/// The skew the newest answer showed, and whether a header that could not be read was
/// already logged (once per source: every answer of a proxy that strips it would say it).
#[derive(Debug, Default)]
pub struct ServerClock {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    skew: Option<SignedDuration>,
    logged_unread: bool,
    logged_skew: Option<SignedDuration>,
}

impl ServerClock {
    /// Notes one answer's `Date` header (`None`: absent), received at `local`. An absent or
    /// unreadable header leaves the skew measured before in place: one answer through a proxy
    /// that strips it says nothing about the server's clock.
    pub fn note(&self, header: Option<&[u8]>, local: Timestamp) {
        let read = match header {
            None => Err(Unread::Absent),
            Some(v) => parse_date(v).ok_or(Unread::Unparsable),
        };
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match read {
            Ok(server) => {
                s.skew = skew_of(server, local);
                if s.skew != s.logged_skew {
                    s.logged_skew = s.skew;
                    match s.skew {
                        Some(d) => tracing::warn!(
                            skew = %format!("{d:#}"),
                            "the API server's clock differs from this machine's; times are judged on the server's (its Date header)"
                        ),
                        None => tracing::info!("the API server's clock agrees with this machine's"),
                    }
                }
            }
            Err(why) if !s.logged_unread => {
                s.logged_unread = true;
                let why = match why {
                    Unread::Absent => "absent",
                    Unread::Unparsable => "unparsable",
                };
                tracing::info!(
                    date_header = why,
                    "the API server's Date header could not be read; this machine's clock is taken as the cluster's"
                );
            }
            Err(_) => {}
        }
    }

    /// The skew to apply, taken once per snapshot; none until a `Date` was read.
    pub fn skew(&self) -> SignedDuration {
        let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.skew.unwrap_or(SignedDuration::ZERO)
    }
}

/// `local` on the server's clock.
pub fn on_server(local: Timestamp, skew: SignedDuration) -> Timestamp {
    local.checked_add(skew).unwrap_or(local)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn an_http_date_is_read_and_garbage_is_not() {
        assert_eq!(
            parse_date(b"Mon, 07 Dec 2026 05:08:10 GMT"),
            Some(ts("2026-12-07T05:08:10Z"))
        );
        assert_eq!(parse_date(b"yesterday"), None);
        assert_eq!(parse_date(b"\xff\xfe"), None);
    }

    #[test]
    fn the_skew_of_the_last_readable_header_holds_and_noise_is_none() {
        let clock = ServerClock::default();
        let local = ts("2026-12-07T06:08:10Z");
        assert_eq!(clock.skew(), SignedDuration::ZERO);
        clock.note(Some(b"Mon, 07 Dec 2026 05:08:10 GMT"), local);
        assert_eq!(clock.skew(), SignedDuration::from_hours(-1));
        // A proxy that strips the header, or one that garbles it, says nothing new.
        clock.note(None, local);
        clock.note(Some(b"not a date"), local);
        assert_eq!(clock.skew(), SignedDuration::from_hours(-1));
        // A second's difference is the header's rounding, not a wrong clock.
        clock.note(Some(b"Mon, 07 Dec 2026 06:08:09 GMT"), local);
        assert_eq!(clock.skew(), SignedDuration::ZERO);
        assert_eq!(
            on_server(local, SignedDuration::from_hours(-1)),
            ts("2026-12-07T05:08:10Z")
        );
    }
}
