//! What restricts the tree: a text filter and a namespace.

use crate::chain::{Chain, SpcVerdict};

/// What restricts the tree: `/text` and `:ns NAME`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// Case-insensitive; matches pod, workload, namespace, SPC, a finding code or a status.
    pub text: String,
    pub namespace: Option<String>,
}

impl Filter {
    pub fn is_active(&self) -> bool {
        !self.text.is_empty() || self.namespace.is_some()
    }

    pub fn matches(&self, chain: &Chain) -> bool {
        if let Some(ns) = &self.namespace
            && chain.namespace != *ns
        {
            return false;
        }
        if self.text.is_empty() {
            return true;
        }
        let needle = self.text.to_lowercase();
        let contains = |s: &str| s.to_lowercase().contains(&needle);
        contains(&chain.pod)
            || contains(&chain.namespace)
            || contains(&chain.spc)
            || chain.workload.as_ref().is_some_and(|w| contains(&w.name))
            || chain.shown_worst().as_str() == needle
            || chain.findings().any(|f| contains(f.code.as_str()))
    }

    /// [`Filter::matches`] for a SecretProviderClass no chain mounts: its namespace, name,
    /// vault, status or a finding code, as a chain's row is matched by its SPC.
    pub fn matches_spc(&self, spc: &SpcVerdict) -> bool {
        if self
            .namespace
            .as_ref()
            .is_some_and(|ns| spc.namespace != *ns)
        {
            return false;
        }
        if self.text.is_empty() {
            return true;
        }
        let needle = self.text.to_lowercase();
        let contains = |s: &str| s.to_lowercase().contains(&needle);
        contains(&spc.name)
            || contains(&spc.namespace)
            || spc.vault.as_deref().is_some_and(contains)
            || spc.shown_status().as_str() == needle
            || spc.findings.iter().any(|f| contains(f.code.as_str()))
    }
}
