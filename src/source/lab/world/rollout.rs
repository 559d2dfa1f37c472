//! A Deployment's rollout from its old ReplicaSets to the new one, as the deployment
//! controller does it: `RollingUpdate` (the default: maxSurge 25% rounded up, maxUnavailable
//! 25% rounded down, or the Deployment's own values) keeps at most `replicas + maxSurge` pods
//! and at least `replicas - maxUnavailable` available ones, so a new pod that never becomes
//! ready stalls the rollout after the surge; `Recreate` removes every old pod and creates the
//! new ones once the old are gone. A pod counts as available once it runs (the lab has no
//! readiness probes or minReadySeconds).

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::rolling::scaled;

/// How a Deployment replaces its pods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Strategy {
    RollingUpdate {
        max_surge: usize,
        max_unavailable: usize,
    },
    Recreate,
}

impl Strategy {
    /// The Deployment's `spec.strategy`, its bounds resolved against `replicas` as the
    /// controller does (ResolveFenceposts).
    pub(super) fn of(d: &Deployment, replicas: usize) -> Strategy {
        let strategy = d.spec.as_ref().and_then(|s| s.strategy.as_ref());
        if strategy.and_then(|s| s.type_.as_deref()) == Some("Recreate") {
            return Strategy::Recreate;
        }
        let rolling = strategy.and_then(|s| s.rolling_update.as_ref());
        let quarter = IntOrString::String("25%".into());
        let surge = rolling
            .and_then(|r| r.max_surge.as_ref())
            .unwrap_or(&quarter);
        let unavailable = rolling
            .and_then(|r| r.max_unavailable.as_ref())
            .unwrap_or(&quarter);
        let max_surge = scaled(surge, replicas, true);
        let mut max_unavailable = scaled(unavailable, replicas, false);
        // Both zero would never move: the controller allows one unavailable pod.
        if max_surge == 0 && max_unavailable == 0 {
            max_unavailable = 1;
        }
        Strategy::RollingUpdate {
            max_surge,
            max_unavailable,
        }
    }
}

/// The pods of one Deployment as a rollout step sees them (terminating pods left out: the
/// controller does not count them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Counts {
    pub new: usize,
    pub new_available: usize,
    pub old: usize,
    pub old_available: usize,
    /// Old pods still there, terminating ones included (Recreate waits for them to go).
    pub old_present: usize,
}

/// What one step of the rollout does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Step {
    /// New pods to create.
    pub create: usize,
    /// Old pods that are not available to remove (they serve nothing).
    pub remove_unavailable: usize,
    /// Old available pods to remove.
    pub remove_available: usize,
}

/// One step of the controller: scale the old ReplicaSets down as far as the availability
/// bound allows, then the new one up as far as the surge bound allows.
pub(super) fn step(strategy: Strategy, replicas: usize, c: Counts) -> Step {
    match strategy {
        Strategy::Recreate => {
            let create = if c.old_present == 0 {
                replicas.saturating_sub(c.new)
            } else {
                0
            };
            Step {
                create,
                remove_unavailable: c.old - c.old_available,
                remove_available: c.old_available,
            }
        }
        Strategy::RollingUpdate {
            max_surge,
            max_unavailable,
        } => {
            let min_available = replicas.saturating_sub(max_unavailable);
            let total = c.new + c.old;
            let new_unavailable = c.new - c.new_available;
            // reconcileOldReplicaSets: the room to scale down, unhealthy old pods first.
            let room = total
                .saturating_sub(min_available)
                .saturating_sub(new_unavailable);
            let remove_unavailable = room.min(c.old - c.old_available);
            let available = c.new_available + c.old_available;
            let remove_available = if room == 0 {
                0
            } else {
                available.saturating_sub(min_available).min(c.old_available)
            };
            // reconcileNewReplicaSet, on what is left.
            let left = total - remove_unavailable - remove_available;
            let create = replicas
                .saturating_sub(c.new)
                .min((replicas + max_surge).saturating_sub(left));
            Step {
                create,
                remove_unavailable,
                remove_available,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::{DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment};

    fn deployment(strategy: Option<DeploymentStrategy>) -> Deployment {
        Deployment {
            spec: Some(DeploymentSpec {
                strategy,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn rolling(surge: usize, unavailable: usize) -> Strategy {
        Strategy::RollingUpdate {
            max_surge: surge,
            max_unavailable: unavailable,
        }
    }

    /// Kubernetes docs (Deployment, "Max Surge"/"Max Unavailable"): 25% each by default,
    /// surge rounded up, unavailable rounded down.
    #[test]
    fn default_bounds_are_a_quarter_surge_up_unavailable_down() {
        let d = deployment(None);
        assert_eq!(Strategy::of(&d, 2), rolling(1, 0));
        assert_eq!(Strategy::of(&d, 4), rolling(1, 1));
        assert_eq!(Strategy::of(&d, 10), rolling(3, 2));
        assert_eq!(Strategy::of(&d, 1), rolling(1, 0));
    }

    #[test]
    fn the_deployments_own_strategy_is_honoured() {
        let own = deployment(Some(DeploymentStrategy {
            type_: Some("RollingUpdate".into()),
            rolling_update: Some(RollingUpdateDeployment {
                max_surge: Some(IntOrString::Int(0)),
                max_unavailable: Some(IntOrString::String("50%".into())),
            }),
        }));
        assert_eq!(Strategy::of(&own, 4), rolling(0, 2));
        let both_zero = deployment(Some(DeploymentStrategy {
            type_: None,
            rolling_update: Some(RollingUpdateDeployment {
                max_surge: Some(IntOrString::Int(0)),
                max_unavailable: Some(IntOrString::Int(0)),
            }),
        }));
        assert_eq!(Strategy::of(&both_zero, 3), rolling(0, 1));
        let recreate = deployment(Some(DeploymentStrategy {
            type_: Some("Recreate".into()),
            rolling_update: None,
        }));
        assert_eq!(Strategy::of(&recreate, 3), Strategy::Recreate);
    }

    /// Two replicas, default bounds: one surge pod; no old pod goes until it is available.
    #[test]
    fn a_new_pod_that_never_runs_stalls_the_rollout_after_the_surge() {
        let s = rolling(1, 0);
        let start = Counts {
            old: 2,
            old_available: 2,
            old_present: 2,
            ..Default::default()
        };
        assert_eq!(
            step(s, 2, start),
            Step {
                create: 1,
                ..Default::default()
            }
        );
        let stuck = Counts { new: 1, ..start };
        assert_eq!(step(s, 2, stuck), Step::default());
        let ready = Counts {
            new: 1,
            new_available: 1,
            ..start
        };
        assert_eq!(
            step(s, 2, ready),
            Step {
                create: 1,
                remove_unavailable: 0,
                remove_available: 1
            }
        );
    }

    #[test]
    fn recreate_waits_for_the_old_pods_to_be_gone() {
        let c = Counts {
            old: 2,
            old_available: 2,
            old_present: 2,
            ..Default::default()
        };
        assert_eq!(
            step(Strategy::Recreate, 2, c),
            Step {
                create: 0,
                remove_unavailable: 0,
                remove_available: 2
            }
        );
        let terminating = Counts {
            old_present: 2,
            ..Default::default()
        };
        assert_eq!(step(Strategy::Recreate, 2, terminating).create, 0);
        assert_eq!(step(Strategy::Recreate, 2, Counts::default()).create, 2);
    }

    #[test]
    fn a_first_rollout_creates_every_replica() {
        assert_eq!(step(rolling(1, 0), 3, Counts::default()).create, 3);
    }
}
