//! The parameters each Secrets Store mount uses: its SecretProviderClass's own, with the pod
//! volume's `volumeAttributes` merged over them (FACTS §5). The chains diagnose those, so the
//! Azure side must be looked up for them too: a volume that overrides `objects`, `clientID` or
//! `keyvaultName` names objects, identities and vaults its SecretProviderClass does not.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use super::{Snapshot, SpcObs, VolumeSourceObs};
use crate::spc::{self, AzureSpc};

/// The volume attribute that names the SecretProviderClass (not a parameter).
pub const SPC_ATTRIBUTE: &str = "secretProviderClass";
/// The Secrets Store CSI driver's name.
pub const DRIVER: &str = "secrets-store.csi.k8s.io";

impl SpcObs {
    /// This SecretProviderClass's parameters as a mount with `attributes` uses them: borrowed
    /// when the attributes override nothing.
    pub fn merged(&self, attributes: &BTreeMap<String, String>) -> Cow<'_, AzureSpc> {
        if !self.overridden_by(attributes) {
            return Cow::Borrowed(&self.parsed);
        }
        let mut params = self.parameters.clone();
        for (k, v) in attributes {
            if k != SPC_ATTRIBUTE {
                params.insert(k.clone(), v.clone());
            }
        }
        Cow::Owned(spc::parse(&params))
    }
}

impl SpcObs {
    /// Whether a mount with `attributes` sets a parameter to another value than this one.
    pub fn overridden_by(&self, attributes: &BTreeMap<String, String>) -> bool {
        attributes
            .iter()
            .any(|(k, v)| k != SPC_ATTRIBUTE && self.parameters.get(k) != Some(v))
    }
}

impl Snapshot {
    /// The parameters of every mount that overrides its SecretProviderClass's, once per
    /// distinct (SecretProviderClass, attributes): replicas share theirs.
    pub fn overridden_params(&self) -> Vec<AzureSpc> {
        let spcs: BTreeMap<(&str, &str), &SpcObs> = self
            .spcs
            .items
            .iter()
            .map(|s| ((s.namespace.as_str(), s.name.as_str()), s))
            .collect();
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for pod in &self.pods.items {
            for v in &pod.volumes {
                let VolumeSourceObs::Csi {
                    driver, attributes, ..
                } = &v.source
                else {
                    continue;
                };
                let Some(name) = attributes.get(SPC_ATTRIBUTE) else {
                    continue;
                };
                let Some(spc) = spcs.get(&(pod.namespace.as_str(), name.as_str())) else {
                    continue;
                };
                // Most volumes name their SecretProviderClass and nothing else: settled
                // before the set of attributes seen is asked.
                if driver.as_str() != DRIVER
                    || !spc.overridden_by(attributes)
                    || !seen.insert((spc.namespace.as_str(), spc.name.as_str(), attributes))
                {
                    continue;
                }
                out.push(spc.merged(attributes).into_owned());
            }
        }
        out
    }
}
