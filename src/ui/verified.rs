//! The result of an in-container verify (`x`), kept for the events pane: one line per file,
//! variable or subPath checked, each with the status it reports. The status bar only says
//! where to look; a dozen verdicts do not fit on one line.

use crate::action::ActionOutcome;
use crate::chain::Status;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// `verify shop/cart-… [app]`.
    pub title: String,
    pub ok: bool,
    pub items: Vec<(Status, String)>,
}

impl Verified {
    pub fn new(title: String, outcome: &ActionOutcome) -> Verified {
        let items = outcome
            .message
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| (status_of(outcome.ok, l), l.to_string()))
            .collect();
        Verified {
            title,
            ok: outcome.ok,
            items,
        }
    }

    /// One line for the status bar: how many items, how many are not fine.
    pub fn summary(&self) -> String {
        let bad = self
            .items
            .iter()
            .filter(|(s, _)| matches!(s, Status::Broken | Status::Warning))
            .count();
        let n = self.items.len();
        let items = if n == 1 { "item" } else { "items" };
        if !self.ok {
            format!("{}: failed — see the events pane", self.title)
        } else if bad == 0 {
            format!(
                "{}: {n} {items} checked, all match — see the events pane",
                self.title
            )
        } else {
            format!(
                "{}: {n} {items} checked, {bad} not matching — see the events pane",
                self.title
            )
        }
    }
}

/// What one verify line reports, by the verdict words the lab and the live verify use.
fn status_of(ok: bool, line: &str) -> Status {
    let verdict = line.split_once(": ").map_or(line, |(_, v)| v);
    let has = |w: &str| verdict.contains(w);
    if !ok || has("stale") || has("differs") || has("gone") || has("not set") {
        Status::Broken
    } else if has("cannot") || has("not read") || has("nothing to compare") {
        Status::Unknown
    } else if has("has not caught up") {
        Status::Warning
    } else if has("match") {
        Status::Ok
    } else {
        Status::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_item_per_line_with_its_status() {
        let outcome = ActionOutcome {
            ok: true,
            message: "file redis-password: matches the vault's latest version\nenv REDIS_PASSWORD: stale: Secret cart-redis changed after the container started (restart needed)\n".into(), audit: None 
        };
        let v = Verified::new("verify shop/cart-1 [app]".into(), &outcome);
        assert_eq!(v.items.len(), 2);
        assert_eq!(v.items[0].0, Status::Ok);
        assert_eq!(v.items[1].0, Status::Broken);
        assert!(
            v.items[1].1.ends_with("(restart needed)"),
            "whole line kept"
        );
        assert_eq!(
            v.summary(),
            "verify shop/cart-1 [app]: 2 items checked, 1 not matching — see the events pane"
        );
    }
}
