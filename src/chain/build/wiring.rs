//! Which of a pod's volumes have a chain: those that mount, or clearly mean to mount, a
//! SecretProviderClass through the Secrets Store CSI driver (a misspelt driver or attribute
//! key included, so the mistake is diagnosed rather than the volume ignored).

use std::collections::BTreeMap;

use crate::chain::index::{DRIVER, SPC_ATTRIBUTE};
use crate::snapshot::*;

/// How many chains `pod` has: one per volume that wires (or clearly means to wire) an SPC.
pub(super) fn wired_volumes(pod: &PodObs) -> usize {
    // The driver's own volumes first: counted without reading their attributes, which live in
    // allocations of their own (this runs on one thread before the others start).
    let wired = |v: &VolumeObs| match &v.source {
        VolumeSourceObs::Csi { driver, .. } if driver == DRIVER => true,
        VolumeSourceObs::Csi { .. } => wiring(v).is_some(),
        _ => false,
    };
    pod.volumes.iter().filter(|v| wired(v)).count()
}

/// The volume's CSI wiring if it mounts, or clearly means to mount, a SecretProviderClass.
pub(super) struct Wiring<'a> {
    pub driver: &'a str,
    pub read_only: Option<bool>,
    pub attributes: &'a BTreeMap<String, String>,
    pub node_publish_secret: Option<&'a str>,
    pub spc_name: &'a str,
    pub spc_key_typo: Option<&'a str>,
}

pub(super) fn wiring(volume: &VolumeObs) -> Option<Wiring<'_>> {
    let VolumeSourceObs::Csi {
        driver,
        read_only,
        attributes,
        node_publish_secret,
    } = &volume.source
    else {
        return None;
    };
    let exact = attributes.get(SPC_ATTRIBUTE);
    let typo = if exact.is_none() {
        attributes
            .iter()
            .find(|(k, _)| strsim::levenshtein(&k.to_ascii_lowercase(), "secretproviderclass") <= 2)
    } else {
        None
    };
    let meant = driver == DRIVER || exact.is_some() || typo.is_some() || near_driver(driver);
    if !meant {
        return None;
    }
    Some(Wiring {
        driver,
        read_only: *read_only,
        attributes,
        node_publish_secret: node_publish_secret.as_deref(),
        spc_name: exact.or(typo.map(|(_, v)| v)).map_or("", String::as_str),
        spc_key_typo: typo.map(|(k, _)| k.as_str()),
    })
}

/// The SecretProviderClass a volume wires (empty when it means to but names none): `Some`
/// exactly when the volume has a chain of its own.
pub(crate) fn wired_spc(volume: &VolumeObs) -> Option<&str> {
    wiring(volume).map(|w| w.spc_name)
}

/// A driver name one slip away from the Secrets Store driver's.
pub(crate) fn near_driver(driver: &str) -> bool {
    if driver == DRIVER {
        return false;
    }
    let d = driver.to_ascii_lowercase();
    d.contains("secrets-store")
        || d.contains("secret-store")
        || d.contains("secretsstore")
        || strsim::levenshtein(&d, DRIVER) <= 4
}
