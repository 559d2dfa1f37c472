//! The SecretProviderClasses no chain mounts ([`crate::chain::unmounted_spcs`]) in the tree:
//! a group of their namespace, after its workloads, a row each, as `check` lists them after
//! the chains.
//! `check` and `serve` report them; a tree without them read green over an SPC with a bad
//! tenantId or KVC710 (audit XC-tui).

use crate::chain::SpcVerdict;

use super::{Counts, Filter, NsNode, SpcNode};

/// What the SPC rows add to the tree's counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SpcCounts {
    /// SPC rows in the (filtered) tree.
    pub shown: usize,
    /// Of those, the ones whose namespace's pods were not read: not known to be mounted by no
    /// pod (audit SS2), as `check`'s headline says them apart.
    pub unread: usize,
}

/// Put the verdicts the filter keeps under their namespaces (`namespaces` is sorted by name; a
/// namespace with no chain is added in its place, open as `open` says). Each counts in its
/// namespace's and in `counts` by its shown status. O(SPCs · log namespaces): nothing when
/// there is none, the usual case.
pub(super) fn merge(
    namespaces: &mut Vec<NsNode>,
    spcs: &[SpcVerdict],
    filter: &Filter,
    counts: &mut Counts,
    open: impl Fn(&str) -> bool,
) -> SpcCounts {
    let mut n = SpcCounts::default();
    for (index, v) in spcs.iter().enumerate() {
        if !filter.matches_spc(v) {
            continue;
        }
        let at = match namespaces.binary_search_by(|ns| ns.name.as_str().cmp(&v.namespace)) {
            Ok(at) => at,
            Err(at) => {
                namespaces.insert(
                    at,
                    NsNode {
                        name: v.namespace.clone(),
                        open: open(&v.namespace),
                        counts: Counts::default(),
                        workloads: Vec::new(),
                        spcs: Vec::new(),
                    },
                );
                at
            }
        };
        let status = v.shown_status();
        let ns = &mut namespaces[at];
        ns.counts.add(status);
        counts.add(status);
        ns.spcs.push(SpcNode {
            name: v.name.clone(),
            index,
            status,
            pods_unread: v.pods_unread.is_some(),
        });
        n.shown += 1;
        n.unread += usize::from(v.pods_unread.is_some());
    }
    if n.shown > 0 {
        for ns in namespaces.iter_mut() {
            ns.spcs.sort_by(|a, b| a.name.cmp(&b.name));
        }
    }
    n
}
