//! What is known of the cluster itself: OIDC issuer, tenant, webhook, the CSI driver
//! installation and the nodes its DaemonSets may run on.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Observed;

/// The reason of a cluster fact no source has tried to read (the default of a snapshot built
/// by hand or by an older kvchain), as opposed to a read that failed.
pub const NOT_OBSERVED: &str = "not observed";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClusterFacts {
    /// Cluster OIDC issuer URL as the API server publishes it (trailing '/' kept).
    pub oidc_issuer: Observed<String>,
    /// Tenant the cluster (and its webhook config) lives in.
    pub tenant_id: Observed<String>,
    pub workload_identity_webhook: Observed<bool>,
    pub csi_driver: Observed<CsiDriverFacts>,
    /// Nodes with what decides where the driver's DaemonSets run (labels, taints).
    #[serde(default = "not_observed")]
    pub nodes: Observed<Vec<NodeObs>>,
    /// The AKS cluster's name and resource group, where the source knows them (the lab's
    /// Cluster document): `az aks` fixes name them instead of `$CLUSTER` / `$CLUSTER_RG`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_group: Option<String>,
    /// The Stakater Reloader Deployments the source saw ([`super::ReloaderFacts::of`]); None
    /// where not observed (the lab simulates one; a snapshot saved before this was read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reloader: Option<super::ReloaderFacts>,
}

fn not_observed<T>() -> Observed<T> {
    Observed::unknown(NOT_OBSERVED)
}

/// A node as far as DaemonSet placement is concerned.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct NodeObs {
    pub name: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub taints: Vec<TaintObs>,
    /// `spec.providerID`, where the cloud provider set it: on AKS the node's VM, which names
    /// the node resource group and scale set ([`super::node_vm`]). Empty where not read.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub provider_id: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaintObs {
    pub key: String,
    #[serde(default)]
    pub value: String,
    /// NoSchedule | PreferNoSchedule | NoExecute
    pub effect: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TolerationObs {
    #[serde(default)]
    pub key: String,
    /// Equal (default) | Exists
    #[serde(default)]
    pub operator: String,
    #[serde(default)]
    pub value: String,
    /// Empty: every effect.
    #[serde(default)]
    pub effect: String,
}

/// One `matchExpressions` entry of a required node-affinity term.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeRequirementObs {
    pub key: String,
    /// In | NotIn | Exists | DoesNotExist | Gt | Lt
    pub operator: String,
    #[serde(default)]
    pub values: Vec<String>,
}

/// Where a driver or provider DaemonSet's pods may run: its pod template's nodeSelector,
/// required node affinity (terms ORed, requirements ANDed) and tolerations.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacementObs {
    /// `kube-system/<name>`.
    pub daemonset: String,
    /// The Azure provider (else the driver).
    pub provider: bool,
    #[serde(default)]
    pub node_selector: BTreeMap<String, String>,
    #[serde(default)]
    pub affinity: Vec<Vec<NodeRequirementObs>>,
    #[serde(default)]
    pub tolerations: Vec<TolerationObs>,
}

/// One pod of the driver's or the Azure provider's DaemonSet.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriverPodObs {
    /// `kube-system/<name>`.
    pub name: String,
    /// `spec.nodeName`; empty while not bound.
    #[serde(default)]
    pub node: String,
    /// The Azure provider's (else the driver's).
    pub provider: bool,
    /// Its Ready condition is True.
    pub ready: bool,
}

impl Default for ClusterFacts {
    fn default() -> Self {
        ClusterFacts {
            oidc_issuer: Observed::unknown(NOT_OBSERVED),
            tenant_id: Observed::unknown(NOT_OBSERVED),
            workload_identity_webhook: Observed::unknown(NOT_OBSERVED),
            csi_driver: Observed::unknown(NOT_OBSERVED),
            nodes: Observed::unknown(NOT_OBSERVED),
            name: None,
            resource_group: None,
            reloader: None,
        }
    }
}

/// What is known of the Secrets Store CSI driver installation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CsiDriverFacts {
    /// The CSIDriver object `secrets-store.csi.k8s.io` exists (driver registered).
    pub installed: bool,
    /// Audiences in CSIDriver `spec.tokenRequests`.
    pub token_audiences: Observed<Vec<String>>,
    /// `--enable-secret-rotation`.
    pub rotation_enabled: Observed<bool>,
    /// `--rotation-poll-interval` (default 2m).
    #[serde(with = "humantime_serde_compat")]
    pub rotation_poll_interval: Duration,
    /// When rotation was last turned on, where the source saw it happen (the lab's repair of
    /// `disable-rotation`); None: not known, taken as long ago. A version created before it
    /// could not be fetched until the first poll after it (FACTS §4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation_enabled_at: Option<jiff::Timestamp>,
    /// `syncSecret.enabled` / the driver may write Secrets.
    pub sync_secret_enabled: Observed<bool>,
    /// The Azure provider is running.
    pub azure_provider: Observed<bool>,
    /// How the driver was installed (from its DaemonSet); `None` when not seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install: Option<DriverInstall>,
    /// The Helm release that installed the driver, from its DaemonSet's labels; `None` when
    /// they were not seen (not Helm, an older snapshot, labels removed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub helm: Option<HelmRelease>,
    /// Scheduling constraints of the driver and provider DaemonSets (presence is per node).
    #[serde(default = "not_observed")]
    pub placement: Observed<Vec<PlacementObs>>,
    /// The driver's and the Azure provider's DaemonSet pods, wherever they run (kube-system,
    /// whatever namespace scope the run has): which nodes have them, ready or not. Placement
    /// says where a pod may be created; a pod placed before a NoSchedule taint keeps running
    /// there (FACTS §11 "Nodes": presence is per node). Not observed in an older snapshot.
    #[serde(default = "not_observed")]
    pub driver_pods: Observed<Vec<DriverPodObs>>,
    /// The manifest file and document number that define it (`check -f` only): KVC105's fix
    /// edits that document, not an installer's release the files do not show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<(String, usize)>,
}

/// A Helm release as its resources' labels show it: every chart template of the driver's and
/// the Azure provider's charts labels its objects `app.kubernetes.io/instance: <release>` and
/// `helm.sh/chart: <chart>-<version>` ([D] and [P] `templates/_helpers.tpl`), and Helm 3
/// annotates them `meta.helm.sh/release-name` / `meta.helm.sh/release-namespace`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelmRelease {
    /// The release name.
    pub name: String,
    /// The release's namespace (`helm upgrade -n`).
    pub namespace: String,
    /// The chart the release installed: the driver's own (`secrets-store-csi-driver`), or the
    /// Azure provider's (`csi-secrets-store-provider-azure`), which carries the driver as a
    /// subchart whose values sit under `secrets-store-csi-driver.`.
    pub chart: String,
    /// The chart's version, when its label carries one: the upgrade keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// How the Secrets Store CSI driver was installed: it decides which command changes its flags
/// (`az aks update` vs `helm upgrade`) and whether secret sync can be off at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DriverInstall {
    /// The AKS add-on `azure-keyvault-secrets-provider` (DaemonSet `aks-secrets-store-csi-driver`).
    AksAddon,
    /// The Helm chart (or anything that is not the add-on).
    Helm,
}

impl Default for CsiDriverFacts {
    fn default() -> Self {
        CsiDriverFacts {
            installed: true,
            token_audiences: Observed::unknown(NOT_OBSERVED),
            rotation_enabled: Observed::unknown(NOT_OBSERVED),
            rotation_poll_interval: Duration::from_secs(120),
            rotation_enabled_at: None,
            sync_secret_enabled: Observed::unknown(NOT_OBSERVED),
            azure_provider: Observed::unknown(NOT_OBSERVED),
            install: None,
            helm: None,
            placement: Observed::unknown(NOT_OBSERVED),
            driver_pods: Observed::unknown(NOT_OBSERVED),
            manifest: None,
        }
    }
}

impl CsiDriverFacts {
    /// The earliest moment the content of a mount or synced Secret at `at` can have been
    /// fetched from the vault: with rotation on, the driver re-fetches every poll (FACTS §4),
    /// so no earlier than two poll intervals before `at` (the margin FACTS §11 gives a working
    /// rotation). None with rotation off or not known, or turned on within those two polls: a
    /// synced Secret is then rewritten only when it is missing (FACTS §11) and may hold any
    /// older value.
    pub fn followed_since(&self, at: jiff::Timestamp) -> Option<jiff::Timestamp> {
        if self.rotation_enabled.known() != Some(&true) {
            return None;
        }
        let margin = jiff::SignedDuration::try_from(self.rotation_poll_interval * 2).ok()?;
        let since = at.checked_sub(margin).ok()?;
        if self.rotation_enabled_at.is_some_and(|on| on > since) {
            return None;
        }
        Some(since)
    }
}

/// The longest `--rotation-poll-interval` the driver can hold: a Go `time.Duration` is an
/// `int64` of nanoseconds (2562047h47m16.854775807s), and the driver's flag parser refuses more.
pub const MAX_POLL_INTERVAL: Duration = Duration::new(9_223_372_036, 854_775_807);

/// A `--rotation-poll-interval` value (humantime spelling: "2m", "90s", "1h30m"), at most
/// [`MAX_POLL_INTERVAL`]. A longer one is no interval a driver ever ran with, and the rules'
/// arithmetic on it (two polls, a poll plus slack) would overflow (fuzzing: a snapshot's
/// `"18446744073709551615s"` panicked `check --snapshot`).
pub fn parse_poll_interval(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| e.to_string())?;
    if d > MAX_POLL_INTERVAL {
        return Err(format!(
            "longer than any rotation poll interval the driver can run with (at most {}, Go's time.Duration)",
            humantime::format_duration(MAX_POLL_INTERVAL)
        ));
    }
    Ok(d)
}

/// Durations serialize as humantime strings ("2m").
pub mod humantime_serde_compat {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        super::parse_poll_interval(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// FACTS §4/§11: with rotation on the content at `at` was fetched within two polls; rotation
    /// turned on within those two polls gives no such bound (what was there before may be any
    /// older value), one turned on earlier does (audit K3).
    #[test]
    fn rotation_turned_on_within_two_polls_bounds_nothing() {
        let at = jiff::Timestamp::from_second(1_800_000_000).unwrap();
        let ago = |s: i64| at.checked_sub(jiff::SignedDuration::from_secs(s)).unwrap();
        let mut csi = CsiDriverFacts {
            rotation_enabled: Observed::Known(true),
            ..Default::default()
        };
        assert_eq!(csi.followed_since(at), Some(ago(240)));
        csi.rotation_enabled_at = Some(ago(100));
        assert_eq!(csi.followed_since(at), None);
        csi.rotation_enabled_at = Some(ago(300));
        assert_eq!(csi.followed_since(at), Some(ago(240)));
        csi.rotation_enabled = Observed::Known(false);
        assert_eq!(csi.followed_since(at), None);
    }
}
