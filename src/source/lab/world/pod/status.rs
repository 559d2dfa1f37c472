//! The pod as the API server returns it, with the status the kubelet reports for its stage:
//! the phase and Ready condition, each container's state (waiting, running since its own
//! start, held back by its config), and the init containers' (completed, a native sidecar
//! running, the one the pod waits on).

use k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting,
    ContainerStatus, Pod, PodCondition, PodStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};

use super::{LabPod, Stage};

impl LabPod {
    /// The pod as the API server would return it.
    pub fn to_pod(&self) -> Pod {
        Pod {
            metadata: ObjectMeta {
                labels: (!self.labels.is_empty()).then(|| (*self.labels).clone()),
                ..self.meta.clone()
            },
            spec: self.spec.as_deref().cloned(),
            status: Some(self.status()),
        }
    }

    /// Pod status as kubelet reports it for the pod's stage.
    pub fn status(&self) -> PodStatus {
        if self.stage == Stage::Unscheduled {
            // Never on a kubelet: no start time, no container statuses; the scheduler's
            // verdict, if it gave one, is the PodScheduled condition.
            return PodStatus {
                phase: Some("Pending".into()),
                conditions: self.waiting.as_ref().map(|(reason, message)| {
                    vec![PodCondition {
                        type_: "PodScheduled".into(),
                        status: "False".into(),
                        reason: Some(reason.clone()),
                        message: Some(message.clone()),
                        ..Default::default()
                    }]
                }),
                ..Default::default()
            };
        }
        if let Some(init) = &self.waiting_init {
            return self.initializing(init);
        }
        if self.stage == Stage::Succeeded {
            return self.completed();
        }
        let waiting = self.waiting.as_ref();
        let state = match (waiting, self.started_at) {
            (Some((reason, message)), _) => ContainerState {
                waiting: Some(ContainerStateWaiting {
                    reason: Some(reason.clone()),
                    message: (!message.is_empty()).then(|| message.clone()),
                }),
                ..Default::default()
            },
            (None, started) => ContainerState {
                running: Some(ContainerStateRunning {
                    started_at: started.map(Time),
                }),
                ..Default::default()
            },
        };
        // Pending while an app container waits (the kubelet's getPhase), even with others
        // running.
        let running = waiting.is_none() && self.config_errors.is_empty();
        let inits: Vec<&k8s_openapi::api::core::v1::Container> = self
            .spec
            .iter()
            .flat_map(|s| s.init_containers.iter().flatten())
            .collect();
        // Before the first container starts, the kubelet reports every container waiting
        // with PodInitializing when the pod has init containers (ContainerCreating when it
        // has none): they run first, in order, once every volume is mounted.
        let state = match waiting {
            Some((reason, _)) if reason == "ContainerCreating" && !inits.is_empty() => {
                ContainerState {
                    waiting: Some(ContainerStateWaiting {
                        reason: Some("PodInitializing".into()),
                        message: None,
                    }),
                    ..Default::default()
                }
            }
            _ => state,
        };
        // Past its volumes (running, or an app container waiting on its own error: an init
        // container's is `initializing`), the init containers have run: each completed,
        // except a native sidecar (restartPolicy: Always), which keeps running beside the
        // app containers.
        let inits_done = waiting.is_none_or(|(reason, _)| reason != "ContainerCreating");
        let init_statuses = (!inits.is_empty()).then(|| {
            inits
                .iter()
                .map(|c| {
                    let sidecar = c.restart_policy.as_deref() == Some("Always");
                    let state = match (inits_done, sidecar) {
                        (false, _) => state.clone(),
                        (true, true) => ContainerState {
                            running: Some(ContainerStateRunning {
                                started_at: self.started_at.map(Time),
                            }),
                            ..Default::default()
                        },
                        (true, false) => ContainerState {
                            terminated: Some(ContainerStateTerminated {
                                exit_code: 0,
                                reason: Some("Completed".into()),
                                ..Default::default()
                            }),
                            ..Default::default()
                        },
                    };
                    ContainerStatus {
                        name: c.name.clone(),
                        ready: inits_done && sidecar,
                        started: Some(inits_done && sidecar),
                        state: Some(state),
                        ..Default::default()
                    }
                })
                .collect()
        });
        PodStatus {
            phase: Some(if running { "Running" } else { "Pending" }.into()),
            // The lab models no readiness probe, gate or lost node: a pod is Ready once its
            // app containers all run.
            conditions: Some(vec![ready_condition(running)]),
            start_time: self.meta.creation_timestamp.clone(),
            init_container_statuses: init_statuses,
            container_statuses: Some(
                self.spec
                    .iter()
                    .flat_map(|s| s.containers.iter())
                    .map(|c| {
                        // Held back by its own config, or started with the rest.
                        let (state, up) = match self.config_error(&c.name) {
                            Some(message) if waiting.is_none() => (
                                ContainerState {
                                    waiting: Some(ContainerStateWaiting {
                                        reason: Some("CreateContainerConfigError".into()),
                                        message: Some(message.to_string()),
                                    }),
                                    ..Default::default()
                                },
                                false,
                            ),
                            _ => (self.own_start(&c.name, &state), waiting.is_none()),
                        };
                        ContainerStatus {
                            name: c.name.clone(),
                            ready: up,
                            started: Some(up),
                            restart_count: 0,
                            image: String::new(),
                            image_id: String::new(),
                            state: Some(state),
                            ..Default::default()
                        }
                    })
                    .collect(),
            ),
            ..Default::default()
        }
    }

    /// App container `name`'s state when it shares the pod's `state`: running since its own
    /// start when it started later than the pod's first containers.
    fn own_start(&self, name: &str, state: &ContainerState) -> ContainerState {
        let late = (self.late_starts.iter()).find(|(c, _)| c == name);
        match (late, &state.running) {
            (Some((_, at)), Some(_)) => ContainerState {
                running: Some(ContainerStateRunning {
                    started_at: Some(Time(*at)),
                }),
                ..Default::default()
            },
            _ => state.clone(),
        }
    }

    /// A Job's pod that ran to completion: phase Succeeded, every container terminated with
    /// exit code 0 (`Completed`), its Ready condition False with `PodCompleted`, as the kubelet
    /// reports it.
    fn completed(&self) -> PodStatus {
        let finished = self.finished_at().map(Time);
        let done = |name: &str, started: Option<jiff::Timestamp>| ContainerStatus {
            name: name.into(),
            ready: false,
            started: Some(false),
            state: Some(ContainerState {
                terminated: Some(ContainerStateTerminated {
                    exit_code: 0,
                    reason: Some("Completed".into()),
                    started_at: started.map(Time),
                    finished_at: finished.clone(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let spec = self.spec.as_deref();
        let inits: Vec<ContainerStatus> = (spec.iter())
            .flat_map(|s| s.init_containers.iter().flatten())
            .map(|c| done(&c.name, None))
            .collect();
        let app = (spec.iter()).flat_map(|s| s.containers.iter()).map(|c| {
            let late = (self.late_starts.iter()).find(|(n, _)| *n == c.name);
            done(&c.name, late.map(|(_, t)| *t).or(self.started_at))
        });
        PodStatus {
            phase: Some("Succeeded".into()),
            conditions: Some(vec![PodCondition {
                type_: "Ready".into(),
                status: "False".into(),
                reason: Some("PodCompleted".into()),
                ..Default::default()
            }]),
            start_time: self.meta.creation_timestamp.clone(),
            init_container_statuses: (!inits.is_empty()).then_some(inits),
            container_statuses: Some(app.collect()),
            ..Default::default()
        }
    }

    /// Pending on init container `init`: the ones before it completed (a native sidecar
    /// among them runs), it waits with the kubelet's reason, the rest and every app container
    /// wait in PodInitializing.
    fn initializing(&self, init: &str) -> PodStatus {
        let waiting = |reason: &str, message: Option<String>| ContainerState {
            waiting: Some(ContainerStateWaiting {
                reason: Some(reason.into()),
                message,
            }),
            ..Default::default()
        };
        let status = |name: &str, state: ContainerState| ContainerStatus {
            name: name.into(),
            ready: false,
            started: Some(false),
            state: Some(state),
            ..Default::default()
        };
        let (reason, message) = self.waiting.clone().unwrap_or_default();
        let mut before = true;
        let inits = self
            .spec
            .iter()
            .flat_map(|s| s.init_containers.iter().flatten());
        let init_statuses = inits
            .map(|c| {
                let state = if c.name == init {
                    before = false;
                    waiting(&reason, (!message.is_empty()).then(|| message.clone()))
                } else if before && c.restart_policy.as_deref() == Some("Always") {
                    // A native sidecar before it started and keeps running (it never
                    // completes); the next init container waited only for its start.
                    ContainerState {
                        running: Some(ContainerStateRunning { started_at: None }),
                        ..Default::default()
                    }
                } else if before {
                    ContainerState {
                        terminated: Some(ContainerStateTerminated {
                            exit_code: 0,
                            reason: Some("Completed".into()),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }
                } else {
                    waiting("PodInitializing", None)
                };
                status(&c.name, state)
            })
            .collect();
        let app = self.spec.iter().flat_map(|s| s.containers.iter());
        PodStatus {
            phase: Some("Pending".into()),
            conditions: Some(vec![ready_condition(false)]),
            start_time: self.meta.creation_timestamp.clone(),
            init_container_statuses: Some(init_statuses),
            container_statuses: Some(
                app.map(|c| status(&c.name, waiting("PodInitializing", None)))
                    .collect(),
            ),
            ..Default::default()
        }
    }
}

/// The Ready condition the kubelet sets on a pod it runs (ContainersNotReady while a
/// container is not ready); an unscheduled pod has none.
fn ready_condition(ready: bool) -> PodCondition {
    PodCondition {
        type_: "Ready".into(),
        status: if ready { "True" } else { "False" }.into(),
        reason: (!ready).then(|| "ContainersNotReady".into()),
        ..Default::default()
    }
}
