//! The lab: an embedded, simulated AKS + Entra + Key Vault world, the default source.
//!
//! A scenario (plain Kubernetes manifests plus a few lab kinds, see [`scenario`]) is loaded
//! into a [`world::World`] that computes consequences the way AKS does — webhook mutation at
//! pod CREATE, token exchange against federated credentials, Key Vault authorization, mounts
//! or FailedMount with back-off, SPCPS, synced Secrets and their garbage collection, rotation
//! polls, env resolved once at container start, throttling. [`export::snapshot`] turns the
//! world into the same [`Snapshot`] a live cluster gives, so diagnosis cannot tell the lab
//! from the real thing. The world is synchronous and deterministic; [`LabSource`] wraps it in
//! a task that paces lab time against the wall clock.

mod act;
pub mod azure;
pub mod clock;
pub mod config_map;
pub mod export;
pub mod faults;
pub mod generator;
pub mod lesson;
pub mod messages;
pub mod mount;
pub mod nodes;
pub mod provider;
pub mod reloader;
pub mod roles;
pub mod scenario;
pub mod sync;
pub mod vaults;
pub mod webhook;
pub mod world;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use jiff::Timestamp;
use tokio::sync::mpsc;

use crate::action::reveal::{RevealTarget, Revealed};
use crate::input::InputError;
use crate::snapshot::{Snapshot, SourceInfo, SourceKind};
use crate::source::{FaultTarget, LabControl, LabStatus, Source, SourceCommand, SourceEvent};
use scenario::Scenario;
use world::World;

/// Lab time `run_check` runs at most when waiting for the world to settle.
pub const MAX_SETTLE: Duration = Duration::from_secs(6 * 3600);

/// Longest `check --lab --for`: the lab steps through every second, so a week of lab time
/// already takes seconds; `--for 1000000h` would run for hours.
pub const MAX_RUN_FOR: Duration = Duration::from_secs(7 * 24 * 3600);

struct Builtin {
    name: &'static str,
    title: &'static str,
    parts: &'static [&'static str],
}

const CLUSTER: &str = include_str!("../../../assets/scenarios/cluster.yaml");
const CLUSTER_NO_ROTATION: &str =
    include_str!("../../../assets/scenarios/cluster-rotation-off.yaml");
const SHOP: &str = include_str!("../../../assets/scenarios/shop.yaml");
const HEALTHY: &str = include_str!("../../../assets/scenarios/healthy.yaml");
const FIC_SUBJECT: &str = include_str!("../../../assets/scenarios/fic-subject-typo.yaml");
const FIC_ISSUER: &str = include_str!("../../../assets/scenarios/fic-issuer-mismatch.yaml");
const WRONG_ROLE: &str = include_str!("../../../assets/scenarios/wrong-role.yaml");
const NOT_FOUND: &str = include_str!("../../../assets/scenarios/object-not-found.yaml");
const ALIAS: &str = include_str!("../../../assets/scenarios/alias-mismatch.yaml");
const ENV_STALE: &str = include_str!("../../../assets/scenarios/env-stale.yaml");
const GC_TLS: &str = include_str!("../../../assets/scenarios/gc-tls.yaml");
const NO_LABEL: &str = include_str!("../../../assets/scenarios/missing-label.yaml");
const CLIENT_ID: &str = include_str!("../../../assets/scenarios/wrong-client-id.yaml");
const SUBPATH: &str = include_str!("../../../assets/scenarios/subpath.yaml");
const ROTATION_OFF: &str = include_str!("../../../assets/scenarios/rotation-disabled.yaml");
const MALFORMED: &str = include_str!("../../../assets/scenarios/malformed-objects.yaml");
const CERT_TLS: &str = include_str!("../../../assets/scenarios/cert-for-tls.yaml");
const CROSS_TENANT: &str = include_str!("../../../assets/scenarios/cross-tenant.yaml");
const THROTTLING: &str = include_str!("../../../assets/scenarios/throttling.yaml");
const VAULT_TENANT: &str = include_str!("../../../assets/scenarios/vault-other-tenant.yaml");
const LESSON_SIX_HOPS: &str = include_str!("../../../assets/scenarios/lesson-six-hops.yaml");
const LESSON_ROTATION: &str = include_str!("../../../assets/scenarios/lesson-rotation.yaml");

const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "default",
        title: "namespace shop: a healthy chain and, side by side, one workload per failure class",
        parts: &[
            CLUSTER,
            SHOP,
            HEALTHY,
            FIC_SUBJECT,
            FIC_ISSUER,
            WRONG_ROLE,
            NOT_FOUND,
            ALIAS,
            ENV_STALE,
            GC_TLS,
            NO_LABEL,
            CLIENT_ID,
            SUBPATH,
            MALFORMED,
            CERT_TLS,
            CROSS_TENANT,
            THROTTLING,
            VAULT_TENANT,
        ],
    },
    Builtin {
        name: "healthy",
        title: "one healthy chain: file, synced Secret, env consumer with Reloader",
        parts: &[CLUSTER, SHOP, HEALTHY],
    },
    Builtin {
        name: "fic-subject-typo",
        title: "FIC subject differs in case: AADSTS70021",
        parts: &[CLUSTER, SHOP, HEALTHY, FIC_SUBJECT],
    },
    Builtin {
        name: "fic-issuer-mismatch",
        title: "FIC issuer lacks the trailing slash: AADSTS70021",
        parts: &[CLUSTER, SHOP, HEALTHY, FIC_ISSUER],
    },
    Builtin {
        name: "wrong-role",
        title: "Secrets User cannot read a certificate object: 403",
        parts: &[CLUSTER, SHOP, HEALTHY, WRONG_ROLE],
    },
    Builtin {
        name: "object-not-found",
        title: "SPC names an object the vault does not have: 404",
        parts: &[CLUSTER, SHOP, HEALTHY, NOT_FOUND],
    },
    Builtin {
        name: "alias-mismatch",
        title: "secretObjects objectName is the object name, not the alias: no synced Secret",
        parts: &[CLUSTER, SHOP, HEALTHY, ALIAS],
    },
    Builtin {
        name: "env-stale",
        title: "secret rotated at 1m: file and Secret update, env stays old until restart",
        parts: &[CLUSTER, SHOP, HEALTHY, ENV_STALE],
    },
    Builtin {
        name: "gc-tls",
        title: "synced TLS Secret used by an Ingress: garbage-collected with its mounting workload",
        parts: &[CLUSTER, SHOP, HEALTHY, GC_TLS],
    },
    Builtin {
        name: "missing-label",
        title: "pod lacks azure.workload.identity/use: mount works, the app SDK does not",
        parts: &[CLUSTER, SHOP, HEALTHY, NO_LABEL],
    },
    Builtin {
        name: "wrong-client-id",
        title: "service account client-id differs from the SPC clientID",
        parts: &[CLUSTER, SHOP, HEALTHY, CLIENT_ID],
    },
    Builtin {
        name: "subpath",
        title: "secrets file mounted with subPath: rotation never reaches it",
        parts: &[CLUSTER, SHOP, HEALTHY, SUBPATH],
    },
    Builtin {
        name: "rotation-disabled",
        title: "driver rotation off: a new version never reaches the pods",
        parts: &[CLUSTER_NO_ROTATION, SHOP, HEALTHY, ROTATION_OFF],
    },
    Builtin {
        name: "malformed-objects",
        title: "objects YAML mis-indented in the SecretProviderClass",
        parts: &[CLUSTER, SHOP, HEALTHY, MALFORMED],
    },
    Builtin {
        name: "cert-for-tls",
        title: "objectType cert feeds a kubernetes.io/tls Secret: no private key",
        parts: &[CLUSTER, SHOP, HEALTHY, CERT_TLS],
    },
    Builtin {
        name: "cross-tenant",
        title: "SPC tenantId names another tenant: AADSTS700016",
        parts: &[CLUSTER, SHOP, HEALTHY, CROSS_TENANT],
    },
    Builtin {
        name: "throttling",
        title: "eight replicas poll a vault limited to 3 requests per 10 s: 429",
        parts: &[CLUSTER, SHOP, HEALTHY, THROTTLING],
    },
    Builtin {
        name: "vault-other-tenant",
        title: "vault in another tenant than the identity: AKV10032, no tenantId fixes it",
        parts: &[CLUSTER, SHOP, HEALTHY, VAULT_TENANT],
    },
    Builtin {
        name: "lesson-six-hops",
        title: "lesson six-hops: break and repair each hop of a healthy chain",
        parts: &[CLUSTER, SHOP, HEALTHY, LESSON_SIX_HOPS],
    },
    Builtin {
        name: "lesson-rotation",
        title: "lesson rotation: a new value reaches file and Secret, env stays stale until restart",
        parts: &[CLUSTER, SHOP, HEALTHY, ENV_STALE, LESSON_ROTATION],
    },
];

/// The built-in scenario that carries built-in lesson `name` (`demo --lesson NAME`).
pub fn lesson_scenario(name: &str) -> Option<&'static str> {
    let scenario = format!("lesson-{name}");
    BUILTINS.iter().find(|b| b.name == scenario).map(|b| b.name)
}

/// Lesson `name` of `scenario`, with the workload its checks look at by default (the
/// scenario's fault target). The error lists the lessons there are.
pub fn find_lesson(
    src: &LabSource,
    name: &str,
) -> Result<(lesson::Lesson, (String, String)), String> {
    let builtin: Vec<&str> = BUILTINS
        .iter()
        .filter_map(|b| b.name.strip_prefix("lesson-"))
        .collect();
    lesson::find(&src.lessons, src.world(), name, &builtin)
}

/// (name, one-line description) of each built-in scenario.
pub fn builtin_scenarios() -> Vec<(&'static str, &'static str)> {
    let mut v: Vec<_> = BUILTINS.iter().map(|b| (b.name, b.title)).collect();
    v.push(("generated:N", "a generated world of N pods (benchmarks)"));
    v
}

/// Loads a scenario: a built-in name, `generated:N`, or a file path.
pub fn load(spec: &str) -> Result<Scenario, InputError> {
    if let Some(n) = generator::parse_spec(spec) {
        let n = n.map_err(|e| InputError::new(spec, e))?;
        return generator::scenario(n, true).map_err(|e| InputError::new(spec, e));
    }
    if let Some(b) = BUILTINS.iter().find(|b| b.name == spec) {
        let text = b.parts.join("\n---\n");
        let origin = format!("built-in scenario {}", b.name);
        return scenario::parse(b.name, Path::new(&origin), &text);
    }
    let path = Path::new(spec);
    let known = || {
        BUILTINS
            .iter()
            .map(|b| b.name)
            .collect::<Vec<_>>()
            .join(", ")
    };
    // A bare word that is no file: a mistyped scenario name, not an IO error.
    if !path.exists() && !spec.contains(['/', '\\', '.']) {
        return Err(InputError::new(
            "--lab",
            format!(
                "unknown scenario {spec} (built-in: {}, generated:N)",
                known()
            ),
        ));
    }
    let text = crate::input::read_text(path).map_err(|mut e| {
        e.message = format!(
            "cannot read scenario: {} (built-in scenarios: {}, generated:N)",
            e.message
                .strip_prefix("cannot read: ")
                .unwrap_or(&e.message),
            known()
        );
        e
    })?;
    let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or(spec);
    scenario::parse(name, path, &text)
}

/// Runs the lab for `run_for` lab time, or until nothing changes for two poll intervals.
pub fn run_check(scenario: &str, run_for: Option<Duration>) -> anyhow::Result<Snapshot> {
    if let Some(d) = run_for
        && d > MAX_RUN_FOR
    {
        return Err(InputError::new(
            "--for",
            format!(
                "{} is longer than the limit of {}h (7 days of lab time)",
                crate::glance::hours(d),
                MAX_RUN_FOR.as_secs() / 3600
            ),
        )
        .into());
    }
    let sc = load(scenario)?;
    // The world churns through short-lived objects and is freed while converted: returning
    // freed pages at once keeps them from adding to the peak.
    Ok(crate::with_prompt_purge(|| {
        let mut w = World::new(sc);
        match run_for {
            Some(d) => w.advance(d),
            None => {
                w.run_until_stable(MAX_SETTLE);
            }
        }
        // The world is not needed after: freed while converted, before the diagnosis allocates.
        export::into_snapshot(w)
    }))
}

/// Whether a snapshot is due although nothing in the world changed: verdicts read the clock
/// (a mount behind the vault for longer than a poll, an expiry coming), and the diagnosis
/// moves its clock only with a snapshot, so a quiet world (rotation off: nothing polls) would
/// never show them. At most once a second of real time, and no more than a twentieth of the
/// time on exporting (`sent`: when the last went out, at which lab time, its export's cost).
fn clock_due(sent: (Instant, Timestamp, Duration), now: Timestamp) -> bool {
    let (at, lab_time, cost) = sent;
    now > lab_time && at.elapsed() >= CLOCK_RESEND.max(cost * 20)
}

/// How often the lab's clock reaches the diagnosis when nothing else changes.
const CLOCK_RESEND: Duration = Duration::from_secs(1);

/// The lab as a [`Source`].
pub struct LabSource {
    world: World,
    /// The scenario's lessons (`demo --lesson`).
    lessons: Vec<lesson::Lesson>,
}

pub fn open(scenario: &str, speed: Option<f64>) -> anyhow::Result<LabSource> {
    let sc = load(scenario)?;
    let lessons = sc.lessons.clone();
    let mut world = World::new(sc);
    if let Some(s) = speed {
        world.clock.speed = clock::check_speed(s).map_err(|e| anyhow::anyhow!("--speed: {e}"))?;
    }
    Ok(LabSource { world, lessons })
}

impl LabSource {
    pub fn world(&self) -> &World {
        &self.world
    }
    pub fn world_mut(&mut self) -> &mut World {
        &mut self.world
    }

    pub fn status(&self) -> LabStatus {
        LabStatus {
            time: self.world.now(),
            speed: self.world.clock.speed,
            paused: self.world.clock.paused,
            faults: faults::infos(&self.world),
            default_target: faults::default_target(&self.world).map(fault_target),
        }
    }

    /// Applies a trainer control; the outcome message is for the status line.
    pub fn control(&mut self, c: &LabControl) -> Result<String, String> {
        let w = &mut self.world;
        match c {
            LabControl::Pause => {
                w.clock.paused = true;
                Ok("lab paused".into())
            }
            LabControl::Resume => {
                w.clock.paused = false;
                Ok("lab running".into())
            }
            LabControl::ScaleSpeed(f) => {
                w.clock.scale(*f);
                Ok(w.clock.describe_speed())
            }
            LabControl::Advance(d) => {
                w.advance(*d);
                Ok(format!("lab advanced {}", humantime::format_duration(*d)))
            }
            LabControl::Fault {
                id,
                apply: true,
                target,
            } => {
                let key = match target {
                    Some(t) => (t.kind.clone(), t.namespace.clone(), t.name.clone()),
                    None => faults::default_target(w).ok_or_else(|| faults::no_target(w))?,
                };
                faults::apply_to(w, id, &key)
            }
            LabControl::Fault {
                id, apply: false, ..
            } => faults::repair(w, id),
        }
    }
}

fn fault_target((kind, namespace, name): world::WorkloadKey) -> FaultTarget {
    FaultTarget {
        kind,
        namespace,
        name,
    }
}

impl LabSource {
    /// The explicit reveal path: the one place a lab value leaves the lab, wrapped so it
    /// never prints itself.
    pub fn reveal(&self, target: &RevealTarget) -> Result<Revealed, String> {
        let w = &self.world;
        let bytes = match target {
            RevealTarget::VaultSecret {
                vault,
                object,
                version,
            } => {
                let v = w
                    .vaults
                    .get(vault)
                    .ok_or_else(|| format!("vault {vault} not found"))?;
                let o = v
                    .objects
                    .get(&(crate::snapshot::ObjectType::Secret, object.clone()))
                    .ok_or_else(|| format!("secret {object} not found in vault {vault}"))?;
                let shown = match version {
                    Some(v) => o
                        .versions
                        .iter()
                        .find(|x| x.id == *v)
                        .ok_or_else(|| format!("secret {object} has no version {v}"))?,
                    None => o
                        .latest()
                        .ok_or_else(|| format!("secret {object} has no version"))?,
                };
                if !shown.enabled {
                    return Err("Operation get is not allowed on a disabled secret.".into());
                }
                shown.content.clone()
            }
            RevealTarget::SecretKey {
                namespace,
                secret,
                key,
            } => w
                .secrets
                .get(&(namespace.clone(), secret.clone()))
                .ok_or_else(|| format!("secrets \"{secret}\" not found in namespace {namespace}"))?
                .data
                .as_ref()
                .and_then(|d| d.get(key))
                .map(|v| v.0.clone())
                .ok_or_else(|| format!("Secret {namespace}/{secret} has no key {key}"))?,
        };
        Ok(Revealed::new(String::from_utf8_lossy(&bytes).into_owned()))
    }
}

impl Source for LabSource {
    fn info(&self) -> SourceInfo {
        SourceInfo {
            kind: SourceKind::Lab,
            label: self.world.name.clone(),
            observed_at: self.world.now(),
            ..SourceInfo::default()
        }
    }

    fn run(
        self: Box<Self>,
        events: mpsc::UnboundedSender<SourceEvent>,
        mut commands: mpsc::UnboundedReceiver<SourceCommand>,
    ) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            let mut lab = *self;
            let mut ticker = tokio::time::interval(Duration::from_millis(100));
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            let mut last_tick = Instant::now();
            let mut sent_revision = 0;
            // When the last snapshot went out, at which lab time, and what exporting it cost.
            let mut sent_at = (Instant::now(), lab.world.now(), Duration::ZERO);
            let mut last_status: Option<(LabStatus, Instant)> = None;
            loop {
                let mut force = false;
                tokio::select! {
                    cmd = commands.recv() => match cmd {
                        None => return,
                        Some(SourceCommand::Refresh) => force = true,
                        Some(SourceCommand::Lab(c)) => {
                            let msg = match lab.control(&c) {
                                Ok(m) | Err(m) => m,
                            };
                            let _ = events.send(SourceEvent::Status(msg));
                            last_status = None;
                        }
                        Some(SourceCommand::Act { action, reply }) => {
                            let _ = reply.send(lab.act(&action));
                        }
                        Some(SourceCommand::Reveal { target, reply }) => {
                            let _ = reply.send(lab.reveal(&target));
                        }
                        // The lab has no access control: the trainer may do anything.
                        Some(SourceCommand::Permission { reply, .. }) => {
                            let _ = reply.send(Ok(()));
                        }
                        Some(SourceCommand::Context(_)) => {
                            let _ = events.send(SourceEvent::Status(
                                "the lab has no kube contexts".into(),
                            ));
                        }
                    },
                    _ = ticker.tick() => {
                        let now = Instant::now();
                        let d = lab.world.clock.lab_delta(now - last_tick);
                        last_tick = now;
                        lab.world.advance(d);
                    }
                }
                if force
                    || lab.world.revision != sent_revision
                    || clock_due(sent_at, lab.world.now())
                {
                    sent_revision = lab.world.revision;
                    let started = Instant::now();
                    let snap = Arc::new(export::snapshot(&lab.world));
                    sent_at = (Instant::now(), lab.world.now(), started.elapsed());
                    if events.send(SourceEvent::Snapshot(snap)).is_err() {
                        return;
                    }
                }
                // The clock display needs the time about once a second while running; a control
                // change (speed, pause, fault) is sent at once.
                let status = lab.status();
                let due = match &last_status {
                    None => true,
                    Some((s, at)) => {
                        s.speed != status.speed
                            || s.paused != status.paused
                            || s.faults != status.faults
                            || (!status.paused && at.elapsed() >= Duration::from_secs(1))
                    }
                };
                if due {
                    if events.send(SourceEvent::Lab(status.clone())).is_err() {
                        return;
                    }
                    last_status = Some((status, Instant::now()));
                }
            }
        })
    }
}
