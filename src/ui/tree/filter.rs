//! What restricts the tree: a text filter and a namespace.

use crate::chain::Chain;

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
}
