//! KVC704's fix. Key Vault counts requests per vault in 10-second windows and answers 429 to
//! those over its limit. Each rotation poll re-mounts every pod's volume on a node at once —
//! one GET per object per pod (FACTS §4, §5; the provider caches nothing) — and so does a
//! rollout's wave of new mounts: the reads arrive as bursts. A longer poll interval makes the
//! bursts rarer, not smaller, so it relieves only a vault whose load is spread over the
//! interval (the average per window exceeds any one node's burst); a vault throttled by the
//! bursts needs fewer reads per poll: fewer objects, fewer pods mounting the SPC, or more
//! vaults (each has its own limit).

use super::driver_setting;
use crate::chain::context::Ctx;
use std::collections::BTreeMap;
use std::time::Duration;

/// The shortest interval the volume-bound fix proposes.
/// Where rotation's 429s show: events on driver ≤v1.5 (MountRotationFailed), the driver's log
/// alone on v1.6, which masks the errors of a re-publish (FACTS §3); a FailedMount is a first
/// mount's.
pub(crate) const ROTATION_429S: &str = "rotation's 429s: reason=MountRotationFailed on driver ≤v1.5; on v1.6 only the driver log: kubectl logs -n kube-system -l app=secrets-store-csi-driver -c secrets-store --tail=500 | grep -e 429 -e 'Too Many Requests'";

const CALMER_POLL: Duration = Duration::from_secs(600);

/// The reads the chain's SPC sends Key Vault per poll.
pub(crate) struct Load {
    pub pods: usize,
    pub objects: usize,
    pub poll: Duration,
    /// The most pods mounting the SPC on one node: one driver's burst is this × objects.
    pub densest_node: usize,
}

impl Load {
    pub fn of(cx: &Ctx) -> Self {
        let mut per_node: BTreeMap<Option<&str>, usize> = BTreeMap::new();
        for pod in cx.ix.pods_mounting(cx.ns(), cx.spc_name) {
            *per_node.entry(pod.node.as_deref()).or_default() += 1;
        }
        // Pods whose node is not known are counted as one node's: the worst case.
        let pods: usize = per_node.values().sum::<usize>().max(1);
        Load {
            pods,
            objects: cx.params.as_deref().map_or(1, |p| p.objects.len().max(1)),
            poll: cx
                .cluster()
                .csi_driver
                .known()
                .map_or(Duration::from_secs(120), |c| c.rotation_poll_interval),
            densest_node: per_node.values().copied().max().unwrap_or(1).max(1),
        }
    }

    pub fn per_poll(&self) -> usize {
        self.pods * self.objects
    }

    /// "3 pods x 1 object": the product, each count with its own number (audit XA-more).
    pub fn pods_x_objects(&self) -> String {
        use crate::glance::plural;
        format!(
            "{} x {}",
            plural(self.pods, "pod"),
            plural(self.objects, "object")
        )
    }

    /// Reads per day (the vault's bill and its average load).
    pub fn per_day(&self) -> u64 {
        self.per_poll() as u64 * self.polls_per_day()
    }

    pub fn polls_per_day(&self) -> u64 {
        86_400 / self.poll.as_secs().max(1)
    }

    /// The average load per 10-s window reaches one node's burst: a longer interval lowers
    /// the load Key Vault sees. Below that, the bursts are what it throttles.
    fn volume_bound(&self) -> bool {
        // In u128: a poll of up to 292 years (the driver's longest) times a large burst
        // overflows u64.
        self.per_poll() as u128 * 10
            >= (self.densest_node as u128 * self.objects as u128)
                * u128::from(self.poll.as_secs().max(1))
    }
}

/// What relieves the throttling the 429 shows.
pub(crate) fn fix(cx: &Ctx) -> String {
    let l = Load::of(cx);
    let spc = cx.spc_name;
    let kv = cx.keyvault();
    let mut ways = Vec::new();
    if l.objects > 1 {
        ways.push(format!(
            "fewer objects in SecretProviderClass {spc} ({} now: values read together can share one secret)",
            l.objects
        ));
    }
    ways.push(format!(
        "fewer pods mounting SecretProviderClass {spc} ({} now; pods that only need the values can read its synced Secret from spec.secretObjects, though they then depend on the mounting pods: KVC903)",
        l.pods
    ));
    ways.push("objects moved to another vault (each vault has its own limit per 10 s)".to_string());
    // Rotation off: no poll re-reads a mounted volume (FACTS §4); only new mounts read, and
    // no poll interval is there to lengthen (audit RR2).
    if super::rotation_off(cx) {
        return format!(
            "# cut the reads sent to Key Vault {kv} at once: each wave of new pods reads {} = {} together, and Key Vault counts them per 10 s: {}. Rotation is off now, so no poll repeats them",
            l.pods_x_objects(),
            crate::glance::plural(l.per_poll(), "object"),
            ways.join(", or ")
        );
    }
    let reads = format!(
        "cut the reads sent to Key Vault {kv} at once: each rotation poll (and each wave of new pods) reads {} = {} together, and Key Vault counts them per 10 s: {}",
        l.pods_x_objects(),
        crate::glance::plural(l.per_poll(), "object"),
        ways.join(", or ")
    );
    if !l.volume_bound() {
        // Advice in words: a note, which pasted runs nothing (audit Z6).
        return format!(
            "# {reads}. A longer poll interval (now {}s) makes these bursts rarer, not smaller: it does not stop the 429s",
            l.poll.as_secs()
        );
    }
    let longer = CALMER_POLL.max(l.poll * 2);
    let minutes = longer.as_secs().div_ceil(60);
    format!(
        "{}  # {} per poll every {}s load the vault evenly: a longer interval lowers that load; or {reads}",
        driver_setting(
            cx,
            &format!("--enable-secret-rotation --rotation-poll-interval {minutes}m"),
            &[
                "enableSecretRotation=true",
                &format!("rotationPollInterval={minutes}m"),
            ],
        ),
        crate::glance::plural(l.per_poll(), "read"),
        l.poll.as_secs()
    )
}
