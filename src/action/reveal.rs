//! Reveal: the one path by which a secret value reaches the screen, on explicit request.
//!
//! A [`Revealed`] value never prints itself (`Debug`/`Display` are masked); the UI shows it
//! masked first and unmasked only on a second key press, for [`UNMASK_FOR`], then drops it.

use std::fmt;
use std::time::Duration;

/// How long an unmasked value stays on screen.
pub const UNMASK_FOR: Duration = Duration::from_secs(10);

/// What to reveal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RevealTarget {
    /// A Key Vault secret: the version the pods mount — `version` when the SPC pins one
    /// (`objectVersion`, FACTS §5), else the latest.
    VaultSecret {
        vault: String,
        object: String,
        version: Option<String>,
    },
    /// One key of a Kubernetes Secret.
    SecretKey {
        namespace: String,
        secret: String,
        key: String,
    },
}

/// A secret value held briefly for display. Cleared on drop.
pub struct Revealed(String);

impl Revealed {
    pub fn new(value: String) -> Self {
        Revealed(value)
    }
    /// `•••••••• (12 chars)`: safe to draw.
    pub fn masked(&self) -> String {
        format!("•••••••• ({} chars)", self.0.chars().count())
    }
    /// The value itself: only for drawing after the user asked a second time.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl Drop for Revealed {
    fn drop(&mut self) {
        // Best effort: overwrite the bytes before the allocation is freed.
        let len = self.0.len();
        self.0.clear();
        self.0.extend(std::iter::repeat_n('\0', len));
    }
}

impl fmt::Debug for Revealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Revealed({})", self.masked())
    }
}

impl fmt::Display for Revealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// Why reveal is not offered, if it is not.
pub fn refusal(read_only: bool, no_reveal: bool) -> Option<&'static str> {
    if no_reveal {
        Some("reveal is disabled (--no-reveal)")
    } else if read_only {
        Some("reveal is disabled in read-only mode (--read-only)")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revealed_values_never_format_themselves() {
        let r = Revealed::new("CANARY-reveal-5521".into());
        let shown = format!("{r} {r:?} {}", r.masked());
        assert!(!shown.contains("CANARY"));
        assert!(shown.contains("(18 chars)"));
        assert_eq!(r.expose(), "CANARY-reveal-5521");
    }

    #[test]
    fn no_reveal_wins_over_read_only() {
        assert_eq!(refusal(false, false), None);
        assert!(refusal(true, true).unwrap().contains("--no-reveal"));
        assert!(refusal(true, false).unwrap().contains("--read-only"));
    }
}
