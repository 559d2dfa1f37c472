//! Pseudonyms that keep what the rules compare between names (audit QQ3).
//!
//! Rules compare names three ways besides equality: case-insensitively (Key Vault and Azure
//! names; a FIC subject that "differs only in case", AADSTS7002138), by edit distance (a vault
//! object, secretObjects entry, service account or SPC a typo away: "did you mean …?"), and by
//! length (the typo threshold is a third of the name). Independent hashes keep none of that,
//! so the anonymized file named another cause and another fix. Here:
//! - all case variants of a name share one pseudonym body, hashed from the lowercase name,
//!   and each variant's upper-case letters are upper-cased in order in the body: names equal
//!   but for case map to pseudonyms equal but for case, and only those;
//! - a pseudonym is at least as long as its name, so a typo threshold never shrinks;
//! - a name a typo away from a name a rule looks up (`refs`: SPC object names, service
//!   accounts, SPC names, FIC subjects) gets the looked-up name's pseudonym with as many
//!   substituted letters as the names have edits, so the same near miss is found again.
//!
//! Bodies are lowercase letters drawn from a salted hash: no pseudonym can be reversed by
//! hashing guesses without the per-file salt, which is not written.

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

pub(super) struct Pseudonyms {
    salt: Vec<u8>,
    /// lowercase name → (prefix, the variants seen)
    groups: BTreeMap<String, (&'static str, BTreeSet<String>)>,
    /// lowercase names a rule looks up and compares with its neighbours by edit distance
    refs: BTreeSet<String>,
}

impl Pseudonyms {
    pub(super) fn new(salt: &[u8]) -> Self {
        Pseudonyms {
            salt: salt.to_vec(),
            groups: BTreeMap::new(),
            refs: BTreeSet::new(),
        }
    }

    pub(super) fn salt(&self) -> &[u8] {
        &self.salt
    }

    /// Record `name` (the first prefix a name is seen with names its class).
    pub(super) fn add(&mut self, prefix: &'static str, name: &str) {
        let g = self
            .groups
            .entry(name.to_ascii_lowercase())
            .or_insert_with(|| (prefix, BTreeSet::new()));
        g.1.insert(name.to_string());
    }

    /// Record `name` as one a rule looks up among its near misses.
    pub(super) fn add_ref(&mut self, prefix: &'static str, name: &str) {
        self.add(prefix, name);
        self.refs.insert(name.to_ascii_lowercase());
    }

    /// Every recorded name (each case variant) → its pseudonym.
    pub(super) fn assign(self) -> BTreeMap<String, String> {
        // lowercase name → lowercase pseudonym
        let mut base: BTreeMap<&str, String> = BTreeMap::new();
        for (lower, (prefix, variants)) in &self.groups {
            let longest = variants.iter().map(|v| v.len()).max().unwrap_or(0);
            let len = longest.saturating_sub(prefix.len() + 1).max(8);
            base.insert(lower, format!("{prefix}-{}", self.letters(lower, len)));
        }
        // Near misses of looked-up names: derived from the looked-up name's pseudonym.
        let mut fixed: BTreeSet<&str> = BTreeSet::new();
        for r in &self.refs {
            let Some(pr) = base.get(r.as_str()).cloned() else {
                continue;
            };
            fixed.insert(r);
            for c in self.groups.keys() {
                if fixed.contains(c.as_str()) || c == r || !near(r, c) {
                    continue;
                }
                let d = strsim::levenshtein(r, c);
                let derived = self.edit(&pr, d, c);
                base.insert(c, derived);
                fixed.insert(c);
            }
        }
        let mut out = BTreeMap::new();
        for (lower, (_, variants)) in &self.groups {
            let b = &base[lower.as_str()];
            for v in variants {
                out.insert(v.clone(), cased(b, v));
            }
        }
        out
    }

    /// `len` lowercase letters from the salted hash of `s`.
    fn letters(&self, s: &str, len: usize) -> String {
        let mut out = String::with_capacity(len);
        let mut round = 0u32;
        while out.len() < len {
            let mut h = Sha256::new();
            h.update(&self.salt);
            h.update(round.to_le_bytes());
            h.update(s.as_bytes());
            for b in h.finalize() {
                if out.len() < len {
                    out.push((b'a' + b % 26) as char);
                }
            }
            round += 1;
        }
        out
    }

    /// `p` with `d` letters of its body substituted (positions and letters from the salted hash
    /// of `seed`), checked to be exactly `d` edits away.
    fn edit(&self, p: &str, d: usize, seed: &str) -> String {
        let start = p.find('-').map_or(0, |i| i + 1);
        let body_len = p.len() - start;
        for attempt in 0..32u32 {
            let h = self.letters(&format!("{seed}\u{0}{attempt}"), 2 * d + 2);
            let h = h.as_bytes();
            let mut b = p.as_bytes().to_vec();
            let mut used = BTreeSet::new();
            for k in 0..d.min(body_len) {
                let mut pos = start + (h[2 * k] as usize) % body_len;
                while used.contains(&pos) {
                    pos = start + (pos - start + 1) % body_len;
                }
                used.insert(pos);
                let mut ch = h[2 * k + 1];
                if ch == b[pos] {
                    ch = b'a' + (ch - b'a' + 1) % 26;
                }
                b[pos] = ch;
            }
            let q = String::from_utf8(b).unwrap_or_default();
            if strsim::levenshtein(p, &q) == d {
                return q;
            }
        }
        // Not reached in practice; still a distinct name.
        format!("{p}{}", "x".repeat(d))
    }
}

/// Whether two (lowercase) names are a typo apart, as the rules measure it: at most two edits,
/// or a third of the longer name's length.
fn near(a: &str, b: &str) -> bool {
    let limit = (a.len().max(b.len()) / 3).max(2);
    a.len().abs_diff(b.len()) <= limit && strsim::levenshtein(a, b) <= limit
}

/// `pseudonym` with the n-th letter of its body upper-cased where `name`'s n-th letter is.
fn cased(pseudonym: &str, name: &str) -> String {
    if !name.bytes().any(|b| b.is_ascii_uppercase()) {
        return pseudonym.to_string();
    }
    let start = pseudonym.find('-').map_or(0, |i| i + 1);
    let mut upper = name
        .bytes()
        .filter(u8::is_ascii_alphabetic)
        .map(|b| b.is_ascii_uppercase());
    let mut out = pseudonym[..start].to_string();
    for c in pseudonym[start..].chars() {
        if c.is_ascii_alphabetic() && upper.next() == Some(true) {
            out.push(c.to_ascii_uppercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_variants_and_near_misses_keep_their_relation() {
        let mut p = Pseudonyms::new(b"salt");
        p.add("sa", "orders");
        p.add("sa", "Orders");
        p.add_ref("obj", "catalog-api-key");
        p.add("obj", "catalog-apikey");
        p.add("obj", "billing-api-key");
        let m = p.assign();
        assert_ne!(m["orders"], m["Orders"]);
        assert!(m["orders"].eq_ignore_ascii_case(&m["Orders"]));
        let d = |a: &str, b: &str| strsim::levenshtein(&m[a], &m[b]);
        assert_eq!(d("catalog-api-key", "catalog-apikey"), 1);
        assert!(d("catalog-api-key", "billing-api-key") > 5);
        assert!(m["catalog-api-key"].len() >= "catalog-api-key".len());
    }
}
