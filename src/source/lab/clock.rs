//! The lab clock: deterministic lab time, advanced explicitly. The real-time pacing (speed
//! factor, pause) lives here too so the UI can show both; nothing reads the wall clock except
//! the `Source` task that decides how far to advance.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

/// Lab time starts here, so every run of a scenario produces the same timestamps.
pub const LAB_EPOCH: Timestamp = Timestamp::constant(1_768_467_600, 0); // 2026-01-15T09:00:00Z

/// Default speed: a 2-minute rotation poll shows in 4 seconds.
pub const DEFAULT_SPEED: f64 = 30.0;

#[derive(Clone, Debug, PartialEq)]
pub struct Clock {
    elapsed: Duration,
    pub speed: f64,
    pub paused: bool,
}

impl Default for Clock {
    fn default() -> Self {
        Clock {
            elapsed: Duration::ZERO,
            speed: DEFAULT_SPEED,
            paused: false,
        }
    }
}

impl Clock {
    pub fn now(&self) -> Timestamp {
        at(self.elapsed)
    }
    /// Lab time since the scenario started.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }
    pub fn set_elapsed(&mut self, d: Duration) {
        self.elapsed = d;
    }
    /// Lab time that passes during `real` wall time at the current speed (zero when paused).
    pub fn lab_delta(&self, real: Duration) -> Duration {
        if self.paused {
            Duration::ZERO
        } else {
            real.mul_f64(self.speed.max(0.0))
        }
    }
    /// Speed stays within sane bounds: [`MIN_SPEED`] to [`MAX_SPEED`] (an hour per second).
    pub fn scale(&mut self, factor: f64) {
        if factor.is_finite() && factor > 0.0 {
            self.speed = (self.speed * factor).clamp(MIN_SPEED, MAX_SPEED);
        }
    }

    /// "lab speed ×0.11"; at a bound, says so ("lab speed ×0.1 — the minimum").
    pub fn describe_speed(&self) -> String {
        let bound = if self.speed <= MIN_SPEED {
            " — the minimum"
        } else if self.speed >= MAX_SPEED {
            " — the maximum"
        } else {
            ""
        };
        format!("lab speed ×{}{bound}", crate::glance::speed(self.speed))
    }
}

/// The slowest lab clock: a tenth of real time.
pub const MIN_SPEED: f64 = 0.1;
/// The fastest: an hour per second.
pub const MAX_SPEED: f64 = 3600.0;

/// A speed asked for at start (`--speed`, the config's `lab.speed`): within the bounds, else
/// why not, naming the bound. Refused rather than clamped: a clamped speed ran the lab at one
/// nobody asked for without a word (audit EEE14); `+`/`-` stop at the bounds and say so.
pub fn check_speed(s: f64) -> Result<f64, String> {
    use crate::glance::speed;
    if !(s.is_finite() && s > 0.0) {
        return Err(format!("must be a positive number, got {s}"));
    }
    if s > MAX_SPEED {
        return Err(format!(
            "{s} is above the maximum ×{} (an hour per real second)",
            speed(MAX_SPEED)
        ));
    }
    if s < MIN_SPEED {
        return Err(format!(
            "{s} is below the minimum ×{} (a tenth of real time)",
            speed(MIN_SPEED)
        ));
    }
    Ok(s)
}

/// The timestamp `d` after the lab epoch.
pub fn at(d: Duration) -> Timestamp {
    let sd = SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX);
    LAB_EPOCH.checked_add(sd).unwrap_or(Timestamp::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_is_the_documented_instant_and_speed_is_bounded() {
        assert_eq!(LAB_EPOCH.to_string(), "2026-01-15T09:00:00Z");
        let mut c = Clock::default();
        assert_eq!(
            c.lab_delta(Duration::from_secs(4)),
            Duration::from_secs(120)
        );
        c.paused = true;
        assert_eq!(c.lab_delta(Duration::from_secs(4)), Duration::ZERO);
        c.scale(1e9);
        assert_eq!(c.speed, 3600.0);
        c.scale(f64::NAN);
        assert_eq!(c.speed, 3600.0);
        assert_eq!(c.describe_speed(), "lab speed ×3600 — the maximum");
        c.speed = 0.2;
        c.scale(0.5);
        c.scale(0.5);
        assert_eq!(c.describe_speed(), "lab speed ×0.1 — the minimum");
        c.scale(1.1);
        assert_eq!(c.describe_speed(), "lab speed ×0.11");
    }
}
