//! The source's clock as the rules read it, and how they read it: the incremental engine
//! re-diagnoses, when the clock moves, only the chains whose verdict the move changes.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use jiff::Timestamp;

/// What verdicts built since the last [`super::Index::take_clock_read`] made of the clock.
pub(super) struct ClockReads {
    /// The time itself was read (it is in a message): any move changes the chain.
    exact: AtomicBool,
    /// The earliest instant (Unix nanoseconds, `i64::MAX`: none) at which a comparison made
    /// with the clock turns: until then, moving the clock forward changes nothing.
    until: AtomicI64,
}

/// How the chains built since the last take read the clock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum ClockUse {
    /// Not at all, or only in comparisons that stay true as time moves on.
    #[default]
    None,
    /// Only in comparisons that turn at this instant.
    Until(Timestamp),
    /// The time itself.
    Exact,
}

/// The source's clock, noting each read (see [`super::Index::clock`]).
#[derive(Clone, Copy)]
pub(crate) struct Clock<'a> {
    at: Timestamp,
    reads: &'a ClockReads,
}

impl Clock<'_> {
    /// The time itself (a message names it, or the age is in it): every move matters.
    pub fn now(self) -> Timestamp {
        // Load first: once set, threads sharing the index do not write the line again.
        if !self.reads.exact.load(Ordering::Relaxed) {
            self.reads.exact.store(true, Ordering::Relaxed);
        }
        self.at
    }

    /// Whether the time is past `t`. Once it is, moving on keeps it so; until then, the answer
    /// holds until `t` (noted, so the engine knows when to ask again).
    pub fn after(self, t: Timestamp) -> bool {
        if self.at > t {
            return true;
        }
        self.reads.until.fetch_min(
            t.as_nanosecond().try_into().unwrap_or(i64::MAX),
            Ordering::Relaxed,
        );
        false
    }
}

impl ClockReads {
    pub(super) fn new() -> ClockReads {
        ClockReads {
            exact: AtomicBool::new(false),
            until: AtomicI64::new(i64::MAX),
        }
    }

    /// The clock at `at`, noting its reads here.
    pub(super) fn at(&self, at: Timestamp) -> Clock<'_> {
        Clock { at, reads: self }
    }

    /// How the clock was read since the last take (and forget it).
    pub(super) fn take(&self) -> ClockUse {
        let exact = self.exact.swap(false, Ordering::Relaxed);
        let until = self.until.swap(i64::MAX, Ordering::Relaxed);
        match (exact, until) {
            (true, _) => ClockUse::Exact,
            (false, i64::MAX) => ClockUse::None,
            // A deadline jiff cannot hold is none the engine could reach: ask every time.
            (false, t) => {
                Timestamp::from_nanosecond(t.into()).map_or(ClockUse::Exact, ClockUse::Until)
            }
        }
    }
}
