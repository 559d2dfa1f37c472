//! Test fixtures for the UI: an in-memory [`StaticSource`] and hand-built chains with
//! findings. Used by the rendering tests, the benches, and for developing the UI without a
//! cluster.

use std::sync::Arc;

use futures::future::BoxFuture;
use jiff::Timestamp;
use tokio::sync::mpsc;

use crate::chain::{
    Chain, ChainObject, Code, Fact, Finding, Link, LinkKind, Status, WorkloadRef, thin_vec,
};
use crate::snapshot::{EventObs, Snapshot, SourceInfo, SourceKind};
use crate::source::{
    FaultInfo, FaultTarget, LabControl, LabStatus, Progress, Source, SourceCommand, SourceEvent,
};

/// A source that sends one fixed snapshot (after a progress event), optionally a lab status,
/// then answers commands: `Refresh` resends the snapshot, lab controls update the lab status.
pub struct StaticSource {
    pub snapshot: Arc<Snapshot>,
    pub lab: Option<LabStatus>,
}

impl StaticSource {
    pub fn new(snapshot: Snapshot) -> Self {
        StaticSource {
            snapshot: Arc::new(snapshot),
            lab: None,
        }
    }
}

impl Source for StaticSource {
    fn info(&self) -> SourceInfo {
        self.snapshot.source.clone()
    }

    fn run(
        self: Box<Self>,
        events: mpsc::UnboundedSender<SourceEvent>,
        mut commands: mpsc::UnboundedReceiver<SourceCommand>,
    ) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            let StaticSource { snapshot, mut lab } = *self;
            let total = snapshot.pods.items.len();
            let _ = events.send(SourceEvent::Progress(Progress {
                stage: "pods".into(),
                done: total,
                total: Some(total),
            }));
            if let Some(l) = &lab {
                let _ = events.send(SourceEvent::Lab(l.clone()));
            }
            let _ = events.send(SourceEvent::Snapshot(Arc::clone(&snapshot)));
            while let Some(cmd) = commands.recv().await {
                match cmd {
                    SourceCommand::Refresh => {
                        let _ = events.send(SourceEvent::Snapshot(Arc::clone(&snapshot)));
                    }
                    SourceCommand::Lab(c) => {
                        if let Some(l) = &mut lab {
                            match c {
                                LabControl::Pause => l.paused = true,
                                LabControl::Resume => l.paused = false,
                                LabControl::ScaleSpeed(f) => l.speed *= f,
                                LabControl::Advance(d) => {
                                    l.time = l
                                        .time
                                        .checked_add(
                                            jiff::SignedDuration::try_from(d).unwrap_or_default(),
                                        )
                                        .unwrap_or(l.time)
                                }
                                LabControl::Fault { id, apply, target } => {
                                    for f in l.faults.iter_mut().filter(|f| f.id == id) {
                                        f.active = apply;
                                        f.target = target.clone().filter(|_| apply);
                                    }
                                }
                            }
                            let _ = events.send(SourceEvent::Lab(l.clone()));
                        }
                    }
                    // Dropping the reply tells the UI this source does not act or reveal.
                    SourceCommand::Act { .. }
                    | SourceCommand::Reveal { .. }
                    | SourceCommand::Permission { .. }
                    | SourceCommand::Context(_) => {}
                }
            }
        })
    }
}

/// 2026-01-01T10:00:00Z, the fixtures' clock.
pub fn fixed_time() -> Timestamp {
    "2026-01-01T10:00:00Z"
        .parse()
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// An empty snapshot labelled as a lab scenario.
pub fn lab_snapshot(label: &str) -> Snapshot {
    Snapshot {
        source: SourceInfo {
            kind: SourceKind::Lab,
            label: label.into(),
            observed_at: fixed_time(),
            ..SourceInfo::default()
        },
        ..Snapshot::default()
    }
}

pub fn lab_status() -> LabStatus {
    LabStatus {
        time: fixed_time(),
        speed: 60.0,
        paused: false,
        faults: vec![
            FaultInfo {
                id: "subject-typo".into(),
                title: "federated credential subject with a capitalised namespace".into(),
                link: LinkKind::Federation,
                active: true,
                target: None,
                reach: None,
            },
            FaultInfo {
                id: "no-role".into(),
                title: "remove the Key Vault Secrets User role assignment".into(),
                link: LinkKind::Access,
                active: false,
                target: None,
                reach: None,
            },
        ],
        default_target: Some(FaultTarget {
            kind: "Deployment".into(),
            namespace: "payments".into(),
            name: "api".into(),
        }),
    }
}

/// A chain with all nine links ok.
pub fn healthy_chain(namespace: &str, workload: Option<&str>, pod: &str) -> Chain {
    let spc = "kv-app";
    let links = LinkKind::ALL.map(|k| {
        let mut l = Link::new(k);
        if k == LinkKind::Federation {
            l.facts = thin_vec![Fact::compare(
                "subject",
                format!("system:serviceaccount:{namespace}:app-sa"),
                format!("system:serviceaccount:{namespace}:app-sa"),
            )];
        }
        l
    });
    Chain {
        id: format!("{namespace}/{pod}/{spc}").into(),
        namespace: namespace.into(),
        pod: pod.into(),
        workload: workload.map(|w| WorkloadRef {
            kind: "Deployment".into(),
            name: w.into(),
        }),
        spc: spc.into(),
        volume: "secrets-store".into(),
        vault: Some("kv-prod".into()),
        objects: vec![
            ChainObject {
                name: "db-password".into(),
                object_type: "secret".into(),
                file: "db-password".into(),
                pinned_version: None,
                mounted_version: Some("a1b2c3".into()),
                vault_version: Some("a1b2c3".into()),
                status: Status::Ok,
            },
            ChainObject {
                name: "tls-cert".into(),
                object_type: "cert".into(),
                file: "tls.crt".into(),
                pinned_version: None,
                mounted_version: Some("d4e5f6".into()),
                vault_version: Some("d4e5f6".into()),
                status: Status::Ok,
            },
        ]
        .into(),
        links,
    }
}

/// A representative finding code for each link.
pub fn code_for(link: LinkKind) -> Code {
    match link {
        LinkKind::Pod => Code::KVC102,
        LinkKind::ServiceAccount => Code::KVC203,
        LinkKind::Identity => Code::KVC301,
        LinkKind::Federation => Code::KVC401,
        LinkKind::Access => Code::KVC501,
        LinkKind::VaultObject => Code::KVC601,
        LinkKind::Mount => Code::KVC703,
        LinkKind::Sync => Code::KVC801,
        LinkKind::Consumers => Code::KVC901,
    }
}

/// Break one link of `chain` with a realistic finding; later links become pending, as the
/// engine reports hops it cannot reach.
pub fn break_link(chain: &mut Chain, link: LinkKind) {
    let code = code_for(link);
    let ns = chain.namespace.clone();
    let (message, facts, evidence, resource, confirm, fix) = match link {
        LinkKind::Federation => (
            format!(
                "no federated credential of id-app has subject system:serviceaccount:{ns}:app-sa; fc-app has system:serviceaccount:{}:app-sa (subjects are case-sensitive)",
                capitalise(&ns)
            ),
            vec![
                Fact::compare(
                    "subject",
                    format!("system:serviceaccount:{}:app-sa", capitalise(&ns)),
                    format!("system:serviceaccount:{ns}:app-sa"),
                ),
                Fact::compare(
                    "issuer",
                    "https://eastus.oic.prod-aks.azure.com/tid/cid/",
                    "https://eastus.oic.prod-aks.azure.com/tid/cid/",
                ),
                Fact::compare("audience", "api://AzureADTokenExchange", "api://AzureADTokenExchange"),
            ],
            vec![format!(
                "FailedMount: AADSTS70021: No matching federated identity record found for presented assertion. Assertion Subject: 'system:serviceaccount:{ns}:app-sa'."
            )],
            "ManagedIdentity/id-app".to_string(),
            "az identity federated-credential list --identity-name id-app -g rg-app -o table".to_string(),
            format!(
                "az identity federated-credential update --name fc-app --identity-name id-app -g rg-app --subject system:serviceaccount:{ns}:app-sa"
            ),
        ),
        LinkKind::Access => (
            "identity id-app (principal 1111) has no role on kv-prod that allows secrets/getSecret".to_string(),
            vec![Fact::compare("role", "(none)", "Key Vault Secrets User")],
            vec!["RESPONSE 403: 403 Forbidden ForbiddenByRbac".to_string()],
            "KeyVault/kv-prod".to_string(),
            "az role assignment list --assignee 1111 --scope /subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-prod".to_string(),
            "az role assignment create --role \"Key Vault Secrets User\" --assignee 1111 --scope /subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-prod".to_string(),
        ),
        LinkKind::ServiceAccount => (
            "service account app-sa has no azure.workload.identity/client-id annotation".to_string(),
            vec![Fact::compare("client-id", "(missing)", "2222-3333")],
            vec![],
            "ServiceAccount/app-sa".to_string(),
            format!("kubectl get sa app-sa -n {ns} -o yaml"),
            format!("kubectl annotate sa app-sa -n {ns} azure.workload.identity/client-id=2222-3333"),
        ),
        _ => (
            format!("{} on {}", code.title(), chain.pod),
            vec![Fact::new("observed", format!("{} problem", link.title()))],
            vec![format!("{} evidence", link.title())],
            format!("Pod/{}", chain.pod),
            format!("kubectl describe pod {} -n {ns}", chain.pod),
            format!("kubectl -n {ns} edit pod {}", chain.pod),
        ),
    };
    let severity = code.severity();
    let id = chain.id.clone();
    let l = chain.link_mut(link);
    l.status = severity.status();
    l.summary = match link {
        LinkKind::Federation => "subject typo".into(),
        LinkKind::Access => "no role".into(),
        _ => "broken".into(),
    };
    l.facts = facts.into();
    l.findings = thin_vec![Finding {
        code,
        severity,
        link,
        namespace: ns.as_str().into(),
        resource: resource.into(),
        message: message.into(),
        evidence: evidence.into_iter().map(Into::into).collect(),
        confirm: confirm.into(),
        fix: fix.into(),
        follows: None,
        chain: id,
        suppressed: None,
        now_looks_right: false,
    }];
    if severity.status() == Status::Broken {
        for later in &mut chain.links[link.index() + 1..] {
            later.status = Status::Pending;
            later.summary = "not reached".into();
            later.facts.clear();
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The Azure side unknown: identity, federation, access and object links cannot be checked.
pub fn unknown_azure(chain: &mut Chain) {
    for k in [
        LinkKind::Identity,
        LinkKind::Federation,
        LinkKind::Access,
        LinkKind::VaultObject,
    ] {
        let l = chain.link_mut(k);
        l.status = Status::Unknown;
        l.summary = "Azure unseen".into();
        l.facts = thin_vec![Fact::new("azure", "unknown: --no-azure given")];
        l.findings.clear();
    }
}

/// A small world: a healthy pod, a federation typo, a missing role, a bare pod with a
/// warning, across two namespaces.
pub fn demo_chains() -> Vec<Chain> {
    let mut out = vec![
        healthy_chain("payments", Some("api"), "api-7d9f8-abcde"),
        healthy_chain("payments", Some("api"), "api-7d9f8-fghij"),
    ];
    let mut c = healthy_chain("payments", Some("worker"), "worker-5c6d-xk2p9");
    break_link(&mut c, LinkKind::Federation);
    out.push(c);
    let mut c = healthy_chain("shop", Some("web"), "web-6f7b-q8w2e");
    break_link(&mut c, LinkKind::Access);
    out.push(c);
    let mut c = healthy_chain("shop", None, "debug-shell");
    break_link(&mut c, LinkKind::ServiceAccount);
    out.push(c);
    out
}

/// Events for the demo pods (FailedMount with the real message shape).
pub fn demo_events() -> Vec<EventObs> {
    vec![EventObs {
        namespace: "payments".into(),
        involved_kind: "Pod".into(),
        involved_name: "worker-5c6d-xk2p9".into(),
        type_: "Warning".into(),
        reason: "FailedMount".into(),
        message: "MountVolume.SetUp failed for volume \"secrets-store\" : rpc error: code = Unknown desc = failed to mount secrets store objects for pod payments/worker-5c6d-xk2p9, err: AADSTS70021: No matching federated identity record found for presented assertion.".into(),
        count: 7,
        source: "kubelet".into(),
        last_seen: Some(fixed_time()),
        ..EventObs::default()
    }]
}

/// `pods` chains spread over 50 namespaces × 20 deployments, every 97th broken at the
/// federation link and every 31st with a warning: the 10,000-pod bench world.
pub fn many_chains(pods: usize) -> Vec<Chain> {
    (0..pods)
        .map(|i| {
            let ns = format!("team-{:02}", i % 50);
            let wl = format!("svc-{:02}", (i / 50) % 20);
            let pod = format!("{wl}-{i:05}");
            let mut c = healthy_chain(&ns, Some(&wl), &pod);
            if i % 97 == 0 {
                break_link(&mut c, LinkKind::Federation);
            } else if i % 31 == 0 {
                break_link(&mut c, LinkKind::Mount);
            }
            c
        })
        .collect()
}

/// Drawn lines as plain text, one line each, their spans' styles dropped.
pub fn lines_text(lines: &[ratatui::text::Line<'_>]) -> String {
    (lines.iter())
        .map(|l| {
            (l.spans.iter())
                .map(|s| s.content.as_ref())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}
