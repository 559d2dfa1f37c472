//! The UI loop's timers. They live as long as the loop: a timer created anew on every pass
//! never fires while other events keep arriving (a busy source), which once left a revealed
//! value on screen for minutes. The reveal deadline has its own timer so the value is masked
//! again on time, not up to a tick late.

use std::time::Duration;

use tokio::time::{Instant, Interval, MissedTickBehavior, interval};

/// Data age once a second; the loading spinner ten times a second.
pub const SLOW: Duration = Duration::from_secs(1);
pub const FAST: Duration = Duration::from_millis(100);

pub struct Ticks {
    slow: Interval,
    fast: Interval,
}

impl Default for Ticks {
    fn default() -> Self {
        Ticks::new()
    }
}

impl Ticks {
    pub fn new() -> Ticks {
        let mut slow = interval(SLOW);
        let mut fast = interval(FAST);
        // A late tick is not worth catching up on: skip to the next one.
        slow.set_missed_tick_behavior(MissedTickBehavior::Skip);
        fast.set_missed_tick_behavior(MissedTickBehavior::Skip);
        Ticks { slow, fast }
    }

    /// Resolves at the next tick: every second, every 100 ms while `loading`, and at
    /// `deadline` (when a revealed value must be hidden again).
    pub async fn next(&mut self, loading: bool, deadline: Option<Instant>) {
        let deadline_sleep = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = self.slow.tick() => {}
            _ = self.fast.tick(), if loading => {}
            _ = deadline_sleep => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::mpsc;

    /// The loop's shape: other events arrive every 300 ms, faster than a tick.
    async fn ticks_while_busy(run_for: Duration, deadline: Option<Instant>) -> Vec<Instant> {
        let (tx, mut rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(300)).await;
                if tx.send(()).is_err() {
                    return;
                }
            }
        });
        let mut ticks = Ticks::new();
        let end = Instant::now() + run_for;
        let mut seen = Vec::new();
        let mut deadline = deadline;
        while Instant::now() < end {
            tokio::select! {
                Some(()) = rx.recv() => {}
                _ = ticks.next(false, deadline) => {
                    let now = Instant::now();
                    seen.push(now);
                    // As the app does: the value is hidden, so no deadline any more.
                    deadline = deadline.filter(|d| now < *d);
                }
            }
        }
        seen
    }

    #[tokio::test(start_paused = true)]
    async fn ticks_keep_coming_while_other_events_arrive() {
        let seen = ticks_while_busy(Duration::from_secs(10), None).await;
        // One at start, then one a second.
        assert!(seen.len() >= 10, "{} ticks in 10s", seen.len());
    }

    #[tokio::test(start_paused = true)]
    async fn the_reveal_deadline_fires_on_time_while_busy() {
        let start = Instant::now();
        let deadline = start + Duration::from_millis(10_250);
        let seen = ticks_while_busy(Duration::from_secs(11), Some(deadline)).await;
        assert!(
            seen.contains(&deadline),
            "no tick at the deadline: {:?}",
            seen.iter().map(|t| *t - start).collect::<Vec<_>>()
        );
    }
}
