//! Findings of several chains made one ([`crate::chain::Finding::key`]): the reports show each
//! once, with what every chain saw. Two replicas failing for one cause may have seen it
//! differently (one pod's FailedMount, another's MountRotationFailed): the finding kept carries
//! the union of their evidence lines, so no chain's observation is lost.

use std::borrow::{Borrow, Cow};
use std::collections::hash_map::Entry;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::chain::{Chain, Finding, FindingKey, SharedText, SpcVerdict};

/// Most evidence lines a merged finding shows: ten replicas each naming their own pod would
/// otherwise bury the finding. Past it, one last line says how many more distinct ones there
/// were (all of them are still on the chains).
pub const MAX_EVIDENCE: usize = 8;

/// A finding of one or more chains (or SecretProviderClass verdicts), once.
pub struct Merged<'a> {
    /// The first one seen; owned only when a duplicate saw something it did not.
    pub finding: Cow<'a, Finding>,
    /// Ids of the chains it was found on, in chain order (none for an SPC verdict's).
    pub chains: Vec<&'a str>,
}

/// Every finding once, in first-seen order: chains first, then the SPC verdicts.
pub fn merge<'a, C: Borrow<Chain>>(chains: &'a [C], spcs: &'a [SpcVerdict]) -> Vec<Merged<'a>> {
    let mut at: FxHashMap<FindingKey<'a>, usize> = FxHashMap::default();
    let mut out: Vec<Merged<'a>> = Vec::new();
    // Distinct lines past the cap, per finding that has any (usually none).
    let mut more: FxHashMap<usize, FxHashSet<&'a str>> = FxHashMap::default();
    let of_chains = chains.iter().flat_map(|c| {
        let c = c.borrow();
        c.findings().map(move |f| (f, Some(c.id.as_str())))
    });
    let of_spcs = spcs
        .iter()
        .flat_map(|s| s.findings.iter().map(|f| (f, None)));
    for (f, chain) in of_chains.chain(of_spcs) {
        let i = match at.entry(f.key()) {
            Entry::Vacant(e) => {
                e.insert(out.len());
                out.push(Merged {
                    finding: Cow::Borrowed(f),
                    chains: Vec::new(),
                });
                out.len() - 1
            }
            Entry::Occupied(e) => {
                let i = *e.get();
                add_evidence(&mut out[i].finding, f, &mut more, i);
                i
            }
        };
        let ids = &mut out[i].chains;
        if let Some(id) = chain
            && ids.last() != Some(&id)
        {
            ids.push(id);
        }
    }
    for (i, lines) in more {
        let tail = format!("… and {} more", lines.len());
        out[i].finding.to_mut().evidence.push(tail.into());
    }
    out
}

/// Adds the lines of `dup`'s evidence that `kept` lacks, up to [`MAX_EVIDENCE`]; the rest go
/// into `more[i]`.
fn add_evidence<'a>(
    kept: &mut Cow<'a, Finding>,
    dup: &'a Finding,
    more: &mut FxHashMap<usize, FxHashSet<&'a str>>,
    i: usize,
) {
    // Replicas failing alike saw alike: the common case compares and copies nothing.
    if kept.evidence == dup.evidence {
        return;
    }
    for line in &dup.evidence {
        if kept.evidence.contains(line) {
            continue;
        }
        if kept.evidence.len() < MAX_EVIDENCE {
            kept.to_mut().evidence.push(SharedText::clone(line));
        } else {
            more.entry(i).or_default().insert(line.as_str());
        }
    }
}
