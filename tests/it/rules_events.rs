//! Diagnosis from event messages alone (Azure side unknown), and unknown-is-not-missing:
//! what a source cannot see makes a link `unknown` (or `pending`), never a false finding.

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Chain, Code, LinkKind, Status, diagnose, explain};
use kvchain::snapshot::*;

/// The healthy app with the Azure side unknown and its pod stuck mounting on `cause`.
fn failing(cause: &str) -> Snapshot {
    let mut s = tk::healthy();
    s.azure = AzureObs::unknown("no Azure credentials");
    tk::unmount(&mut s, APP);
    s.events.items.push(tk::failed_mount(
        NS,
        &tk::pod_name(APP, 0),
        "secrets-store-inline",
        cause,
    ));
    s
}

fn one(s: &Snapshot) -> Chain {
    let mut chains = diagnose(s);
    assert_eq!(chains.len(), 1);
    chains.remove(0)
}

fn assert_broken_by(c: &Chain, code: Code) {
    assert!(
        c.findings().any(|f| f.code == code),
        "{code} missing: {:#?}",
        c.findings().collect::<Vec<_>>()
    );
    assert_eq!(c.link(code.link()).status, Status::Broken, "{:#?}", c.links);
    let f = c.findings().find(|f| f.code == code).expect("finding");
    assert!(
        f.evidence.iter().any(|e| e.starts_with("FailedMount")),
        "{f:#?}"
    );
}

const AADSTS70021: &str = "failed to get objectType:secret, objectName:web-db-pass, objectVersion:: ClientAssertionCredential authentication failed. \nPOST https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token\n--------------------------------------------------------------------------------\nRESPONSE 400: 400 Bad Request\n--------------------------------------------------------------------------------\n{ \"error\": \"invalid_request\", \"error_description\": \"AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: 'https://westeurope.oic.prod-aks.azure.com/72f988bf-86f1-41af-91ab-2d7cd011db47/4c3f1e2a-9d7b-4d8e-a1c2-3b4d5e6f7a8b/'. Assertion Subject: 'system:serviceaccount:shop:web'. Assertion Audience: 'api://AzureADTokenExchange'.\", \"error_codes\": [70021] }";

#[test]
fn aadsts70021_breaks_federation_while_azure_is_unknown() {
    // One message for three mismatches (FACTS §11): with the credentials unseen, the finding
    // states what the message proves and leaves issuer, subject and audience all possible.
    let c = one(&failing(AADSTS70021));
    assert_broken_by(&c, Code::KVC405);
    assert!(
        !c.findings().any(|f| f.code == Code::KVC401),
        "not a subject typo"
    );
    let f = c.findings().find(|f| f.code == Code::KVC405).expect("405");
    for proven in [
        "system:serviceaccount:shop:web",
        "api://AzureADTokenExchange",
        "https://westeurope.oic.prod-aks.azure.com/72f988bf-86f1-41af-91ab-2d7cd011db47/4c3f1e2a-9d7b-4d8e-a1c2-3b4d5e6f7a8b/",
    ] {
        assert!(f.message.contains(proven), "{proven}: {}", f.message);
    }
    for possible in ["issuer", "subject", "audience"] {
        assert!(f.message.contains(possible), "{possible}: {}", f.message);
    }
    // The fix uses the issuer the message proves, not a shell placeholder.
    assert!(
        f.fix
            .contains("--issuer https://westeurope.oic.prod-aks.azure.com/")
            && !f.fix.contains("$CLUSTER"),
        "{}",
        f.fix
    );
    assert_eq!(c.link(LinkKind::Identity).status, Status::Unknown);
    let mount = c.link(LinkKind::Mount);
    assert_eq!(mount.status, Status::Broken);
    assert_eq!(mount.summary, "blocked: Federation");
    // No KVC701: the message is explained.
    assert!(!c.findings().any(|f| f.code == Code::KVC701));
}

#[test]
fn key_vault_and_driver_messages_map_to_their_links() {
    let cases: [(&str, Code); 7] = [
        (
            "failed to get objectType:secret, objectName:web-db-pass, objectVersion:: GET https://kv-shop.vault.azure.net/secrets/web-db-pass/\n----\nRESPONSE 403: 403 Forbidden\nERROR CODE: Forbidden\n----\n{\"error\":{\"code\":\"Forbidden\",\"message\":\"Caller is not authorized to perform action on resource.\",\"innererror\":{\"code\":\"ForbiddenByRbac\"}}}",
            Code::KVC501,
        ),
        (
            "failed to get objectType:secret, objectName:web-db-pass, objectVersion:: The user, group or application 'appid=1;oid=2;iss=x' does not have secrets get permission on key vault 'kv-shop;location=westeurope'.",
            Code::KVC501,
        ),
        (
            "failed to get objectType:secret, objectName:web-db-pass, objectVersion:: RESPONSE 404: 404 Not Found\nERROR CODE: SecretNotFound\n A secret with (name/id) web-db-pass was not found in this key vault.",
            Code::KVC601,
        ),
        (
            "failed to get objectType:secret, objectName:web-db-pass, objectVersion:: RESPONSE 403: 403 Forbidden\n{\"error\":{\"code\":\"Forbidden\",\"message\":\"Operation get is not allowed on a disabled secret.\",\"innererror\":{\"code\":\"SecretDisabled\"}}}",
            Code::KVC602,
        ),
        (
            "failed to build auth config for mode None: failed to parse workload identity tokens, error: service account tokens not found",
            Code::KVC105,
        ),
        (
            "failed to get keyvault client: failed to get authorizer for keyvault client: failed to acquire token: FromAssertion(): http call(https://login.microsoftonline.com/t/oauth2/v2.0/token)(POST) error: reply status code was 400: {\"error\":\"invalid_client\",\"error_description\":\"AADSTS700211: No matching federated identity record found for presented assertion issuer 'https://x/'.\"}",
            Code::KVC402,
        ),
        (
            "failed to build auth config for mode None: failed to get credentials, nodePublishSecretRef secret is not set",
            Code::KVC302,
        ),
    ];
    for (cause, code) in cases {
        let c = one(&failing(cause));
        assert_broken_by(&c, code);
    }
}

#[test]
fn kubelet_level_messages_without_the_provider_wrapper() {
    for (message, code) in [
        (
            "kubernetes.io/csi: mounter.SetUpAt failed to get CSI client: driver name secrets-store.csi.k8s.io not found in the list of registered CSI drivers",
            Code::KVC104,
        ),
        (
            "MountVolume.SetUp failed for volume \"secrets-store-inline\" : rpc error: code = InvalidArgument desc = Readonly is not true in request",
            Code::KVC103,
        ),
    ] {
        let mut s = tk::healthy();
        s.azure = AzureObs::unknown("offline");
        tk::unmount(&mut s, APP);
        let mut e = tk::failed_mount(NS, &tk::pod_name(APP, 0), "secrets-store-inline", "x");
        e.message = message.into();
        s.events.items.push(e);
        assert_broken_by(&one(&s), code);
    }
}

#[test]
fn sync_events_break_the_sync_link_even_when_mounted() {
    let mut s = tk::healthy();
    s.events.items.push(EventObs {
        namespace: NS.into(),
        involved_kind: "Pod".into(),
        involved_name: tk::pod_name(APP, 0).into(),
        type_: "Warning".into(),
        reason: "FailedToCreateSecret".into(),
        message: "failed to get data in spc shop/web-kv for secret web-secret, err: file matching objectName db-pass not found in the pod".into(),
        count: 1,
        source: "csi-secrets-store-controller".into(),
        ..EventObs::default()
    });
    let c = one(&s);
    assert!(c.findings().any(|f| f.code == Code::KVC801));
    // The healthy entry no longer names db-pass: "failed, now looks right", a wait for the
    // driver's next reconcile (FACTS §2), so a warning, not ok (audit DD1, FF1-c).
    assert_eq!(c.link(LinkKind::Sync).status, Status::Warning);
    // An event about another SPC of the same pod is not this chain's.
    let mut s = tk::healthy();
    s.events.items.push(EventObs {
        namespace: NS.into(),
        involved_kind: "Pod".into(),
        involved_name: tk::pod_name(APP, 0).into(),
        type_: "Warning".into(),
        reason: "FailedToCreateSecret".into(),
        message: "failed to get data in spc shop/other-kv for secret x, err: file matching objectName y not found in the pod".into(),
        ..EventObs::default()
    });
    assert!(one(&s).findings().next().is_none());
}

#[test]
fn old_failed_mounts_are_history_once_mounted_and_other_volumes_are_not_ours() {
    let mut s = tk::healthy();
    let pod = tk::pod_name(APP, 0);
    let mut old = tk::failed_mount(NS, &pod, "secrets-store-inline", AADSTS70021);
    // Before the mount an hour ago succeeded: only a failure older than the newest success
    // signal is history (README "Events are history").
    old.last_seen = Some(tk::ago(jiff::SignedDuration::from_mins(61)));
    s.events.items.push(old);
    assert!(
        one(&s).findings().next().is_none(),
        "mounted: the event is stale"
    );
    let mut s = failing("boom");
    s.events.items[0] = tk::failed_mount(NS, &pod, "other-volume", AADSTS70021);
    let c = one(&s);
    assert!(!c.findings().any(|f| f.link == LinkKind::Federation));
    assert_eq!(c.link(LinkKind::Mount).status, Status::Pending);
}

/// Azure unread on a mounted pod: the mount proves the identity, its credential and its
/// access worked; the object's link stays unknown, since only the vault says whether it
/// expires soon (KVC604) or has a version the mount lags (KVC703) — README "Permissions
/// needed": a missing read leaves its link unknown (audit Q4: it read ✓ "proven by mount" and
/// an expiring secret's warning vanished).
#[test]
fn azure_unknown_but_mounted_proves_the_identity_not_the_objects_versions() {
    let mut s = tk::healthy();
    s.azure = AzureObs::unknown("no Azure credentials");
    let c = one(&s);
    assert!(c.findings().next().is_none());
    for l in [LinkKind::Identity, LinkKind::Federation, LinkKind::Access] {
        assert_eq!(c.link(l).status, Status::Ok, "{:?}", c.link(l));
        assert_eq!(c.link(l).summary, "proven by mount");
    }
    let object = c.link(LinkKind::VaultObject);
    assert_eq!(object.status, Status::Unknown, "{object:?}");
    assert!(
        object
            .facts
            .iter()
            .any(|f| f.label == "unknown" && f.observed == "no Azure credentials"),
        "{object:?}"
    );
    assert!(
        object
            .facts
            .iter()
            .any(|f| f.label == "not checked" && f.observed.contains("KVC604")),
        "{object:?}"
    );
    assert_eq!(c.link(LinkKind::Mount).status, Status::Ok);
}

#[test]
fn azure_unknown_and_not_mounted_is_unknown_not_missing() {
    let mut s = tk::healthy();
    s.azure = AzureObs::unknown("no Azure credentials");
    tk::unmount(&mut s, APP);
    let c = one(&s);
    for l in [
        LinkKind::Identity,
        LinkKind::Federation,
        LinkKind::Access,
        LinkKind::VaultObject,
    ] {
        let link = c.link(l);
        assert_eq!(link.status, Status::Unknown, "{link:?}");
        assert!(
            link.facts
                .iter()
                .any(|f| f.observed.contains("no Azure credentials")),
            "{link:?}"
        );
    }
    assert!(!c.findings().any(|f| matches!(
        f.code,
        Code::KVC301 | Code::KVC401 | Code::KVC501 | Code::KVC601
    )));
}

#[test]
fn forbidden_namespaces_are_unknown_not_missing() {
    let mut s = tk::healthy();
    s.service_accounts = Coll::unknown("forbidden: cannot list serviceaccounts");
    s.secrets
        .gaps
        .namespaces
        .insert(NS.into(), "forbidden".into());
    s.secrets.items.clear();
    s.spc_statuses = Coll::unknown("forbidden: cannot list secretproviderclasspodstatuses");
    let c = one(&s);
    assert!(
        c.findings().next().is_none(),
        "{:#?}",
        c.findings().collect::<Vec<_>>()
    );
    assert_eq!(c.link(LinkKind::ServiceAccount).status, Status::Unknown);
    assert!(
        c.link(LinkKind::ServiceAccount).facts[0]
            .observed
            .contains("forbidden")
    );
    assert_eq!(c.link(LinkKind::Sync).status, Status::Unknown);
    assert_eq!(c.link(LinkKind::Mount).status, Status::Unknown);
    // Whether the env holds the Secret's current value needs the Secret (FACTS §4): unknown,
    // with the reason, never ok.
    let consumers = c.link(LinkKind::Consumers);
    assert_eq!(consumers.status, Status::Unknown, "{consumers:#?}");
    assert!(
        consumers
            .facts
            .iter()
            .any(|f| f.observed.contains("forbidden")),
        "{consumers:#?}"
    );
}

#[test]
fn templates_have_no_runtime_state() {
    let mut s = tk::healthy();
    let pod = tk::pod_mut(&mut s, APP);
    pod.template_of = Some(tk::owner("Deployment", APP));
    pod.phase.clear();
    s.spc_statuses.items.clear();
    s.secrets.items.clear();
    let c = one(&s);
    assert!(
        c.findings().next().is_none(),
        "{:#?}",
        c.findings().collect::<Vec<_>>()
    );
    assert_eq!(c.link(LinkKind::Mount).status, Status::Pending);
    assert_eq!(c.link(LinkKind::Sync).status, Status::Pending);
}

#[test]
fn explain_gives_every_fact_of_one_chain() {
    let s = tk::healthy();
    let id = diagnose(&s)[0].id.clone();
    assert!(diagnose(&s)[0].link(LinkKind::Federation).facts.is_empty());
    let c = explain(&s, &id).expect("chain by id");
    let subject = c
        .link(LinkKind::Federation)
        .facts
        .iter()
        .find(|f| f.label == "subject")
        .expect("subject fact");
    assert_eq!(subject.observed, "system:serviceaccount:shop:web");
    assert!(subject.matches());
    assert!(explain(&s, "shop/nope/web-kv").is_none());
}

#[test]
fn near_miss_wiring_still_makes_a_chain() {
    let mut s = tk::healthy();
    let pod = tk::pod_mut(&mut s, APP);
    let VolumeSourceObs::Csi {
        driver, attributes, ..
    } = &mut pod.volumes[0].source
    else {
        panic!("csi first")
    };
    *driver = "secrets-store.csi.x-k8s.io".into();
    let spc = attributes.remove("secretProviderClass").expect("attr");
    attributes.insert("secretproviderclass".into(), spc);
    let c = one(&s);
    let f = c.findings().find(|f| f.code == Code::KVC103).expect("103");
    assert!(
        f.message.contains("secrets-store.csi.x-k8s.io"),
        "{}",
        f.message
    );
    assert!(
        f.message.contains("\"secretproviderclass\""),
        "{}",
        f.message
    );
    assert_eq!(c.spc, "web-kv");
}

#[test]
fn text_report_colours_only_when_asked() {
    let mut s = tk::healthy();
    tk::fic_mut(&mut s, APP).subject = "system:serviceaccount:shop:Web".into();
    let chains = diagnose(&s);
    let plain = kvchain::report::text(&s, &chains, false);
    let coloured = kvchain::report::text(&s, &chains, true);
    assert!(!plain.contains('\x1b'));
    assert!(coloured.contains("\x1b[31;1mKVC401"));
    assert!(plain.contains("namespace shop"));
    assert!(plain.contains("Deployment/web"));
    assert!(plain.contains("KVC401 error"));
}

/// A ≤v1.5 rotation failure on the healthy app's pod, last seen `ago`.
pub(crate) fn rotation_failed(cause: &str, ago: jiff::SignedDuration) -> EventObs {
    EventObs {
        namespace: NS.into(),
        involved_kind: "Pod".into(),
        involved_name: tk::pod_name(APP, 0).into(),
        type_: "Warning".into(),
        reason: "MountRotationFailed".into(),
        message: format!(
            "provider mount err: rpc error: code = Unknown desc = failed to mount secrets store objects for pod {NS}/{}, err: rpc error: code = Unknown desc = failed to mount objects, error: {cause}",
            tk::pod_name(APP, 0)
        ),
        count: 4,
        source: "csi-secrets-store-rotation".into(),
        last_seen: Some(tk::ago(ago)),
        ..EventObs::default()
    }
}

pub(crate) const FORBIDDEN: &str = "failed to get objectType:secret, objectName:web-db-pass, objectVersion:: GET https://kv-shop.vault.azure.net/secrets/web-db-pass/\nRESPONSE 403: 403 Forbidden\n{\"error\":{\"code\":\"Forbidden\",\"innererror\":{\"code\":\"ForbiddenByRbac\"}}}";

/// FACTS §11 "Evidence ages": a failure older than the newest success signal is history (a
/// fact on the link), not a finding; without a success signal, a rotation failure that has not
/// recurred for two poll intervals while rotation is on and the link's checks pass is history.
#[test]
fn rotation_failures_are_history_after_a_newer_success_and_current_before() {
    let min = jiff::SignedDuration::from_mins;
    let access = |s: &Snapshot| one(s).link(LinkKind::Access).clone();
    // Recent and nothing newer: current evidence.
    let mut s = tk::healthy();
    s.events.items.push(rotation_failed(FORBIDDEN, min(1)));
    let a = access(&s);
    assert_eq!(a.status, Status::Broken, "{a:#?}");
    assert!(a.findings.iter().any(|f| f.code == Code::KVC501));
    // A later SecretRotationComplete for this SPC's Secret: the rotation succeeded since.
    s.events.items.push(EventObs {
        type_: "Normal".into(),
        reason: "SecretRotationComplete".into(),
        message: format!("successfully rotated K8s secret {}", tk::secret_name(APP)),
        count: 30,
        last_seen: Some(tk::ago(jiff::SignedDuration::from_secs(20))),
        ..rotation_failed("", min(0))
    });
    let a = access(&s);
    assert_eq!(a.status, Status::Ok, "{a:#?}");
    assert!(a.findings.is_empty());
    assert!(
        a.facts
            .iter()
            .any(|f| f.label == "history (KVC501, KVC502 or KVC503)"),
        "kept as history: {a:#?}"
    );
    // ...but a SecretRotationComplete for another SPC's Secret proves nothing here.
    s.events.items[1].message = "successfully rotated K8s secret someone-else".into();
    assert_eq!(access(&s).status, Status::Broken);
    // No success event at all (v1.6, or versions unchanged): the failure stopped recurring
    // for more than two polls (2m each) while rotation is on and the roles are fine.
    let mut s = tk::healthy();
    s.events.items.push(rotation_failed(FORBIDDEN, min(5)));
    assert_eq!(access(&s).status, Status::Ok);
    // The same old event while the role really is missing still corroborates the finding.
    s.azure.role_assignments.items.clear();
    let a = access(&s);
    assert!(
        a.findings.iter().any(|f| f.code == Code::KVC501
            && f.evidence
                .iter()
                .any(|e| e.starts_with("MountRotationFailed"))),
        "{a:#?}"
    );
}

#[test]
fn a_failed_mount_older_than_the_container_start_is_history() {
    let mut s = tk::healthy();
    // The SPCPS cannot be read here: the container start is the success signal.
    s.spc_statuses.items.clear();
    s.spc_statuses
        .gaps
        .namespaces
        .insert(NS.into(), "spcps: 403".into());
    let mut old = tk::failed_mount(NS, &tk::pod_name(APP, 0), "secrets-store-inline", FORBIDDEN);
    old.last_seen = Some(tk::ago(jiff::SignedDuration::from_hours(2)));
    s.events.items.push(old);
    let c = one(&s);
    assert!(
        c.findings().all(|f| f.code != Code::KVC501),
        "{:#?}",
        c.links
    );
    s.events.items[0].last_seen = Some(tk::now());
    assert!(one(&s).findings().any(|f| f.code == Code::KVC501));
}

/// Issue 12 §4: a webhook admission denial leaves a Deployment with no pod at all; the
/// ReplicaSet's FailedCreate names the cause on the template's chain (KVC106).
#[test]
fn an_admission_denial_without_pods_is_a_template_chain_with_kvc106() {
    let mut s = tk::healthy();
    let mut template = s.pods.items.remove(0);
    s.spc_statuses.items.clear();
    template.name = APP.into();
    template.template_of = Some(tk::owner("Deployment", APP));
    template.containers[0].state = ContainerStateObs::Unknown;
    tk::workload_mut(&mut s, "Deployment", APP).template = Some(Box::new(template));
    s.events.items.push(EventObs {
        namespace: NS.into(),
        involved_kind: "ReplicaSet".into(),
        involved_name: tk::replica_set(APP).into(),
        type_: "Warning".into(),
        reason: "FailedCreate".into(),
        message: "Error creating: admission webhook \"mutation.azure-workload-identity.io\" denied the request: hostNetwork is set to true, cannot inject proxy sidecar".into(),
        count: 12,
        source: "replicaset-controller".into(),
        last_seen: Some(tk::now()),
        ..EventObs::default()
    });
    let c = one(&s);
    assert_eq!(c.workload.as_ref().map(|w| w.name.as_str()), Some(APP));
    let f = c
        .findings()
        .find(|f| f.code == Code::KVC106)
        .unwrap_or_else(|| panic!("{:#?}", c.links));
    assert_eq!(f.resource, format!("Deployment/{APP}"));
    assert!(
        f.evidence[0].contains("cannot inject proxy sidecar"),
        "{f:#?}"
    );
    assert_eq!(c.link(LinkKind::Pod).status, Status::Broken);
    // Once a pod exists, the template is not diagnosed a second time.
    let healthy = tk::healthy();
    let mut s2 = healthy.clone();
    let t = s2.pods.items[0].clone();
    tk::workload_mut(&mut s2, "Deployment", APP).template = Some(Box::new(PodObs {
        template_of: Some(tk::owner("Deployment", APP)),
        ..t
    }));
    assert_eq!(diagnose(&s2).len(), diagnose(&healthy).len());
}

/// The kubelet starts no container before every volume is mounted (a pod stuck in
/// ContainerCreating): a new replica failing to mount reads nothing, even while the synced
/// Secret its running sibling built exists. Its consumers wait on the mount's cause.
#[test]
fn a_replica_stuck_mounting_has_consumers_blocked_while_its_sibling_reads() {
    let mut s = tk::empty();
    tk::add_app(&mut s, NS, APP, 2);
    s.azure = AzureObs::unknown("no Azure credentials");
    let stuck = tk::pod_name(APP, 1);
    s.spc_statuses.items.retain(|st| st.pod_name != stuck);
    let pod = s
        .pods
        .items
        .iter_mut()
        .find(|p| p.name == stuck)
        .expect("pod");
    pod.phase = "Pending".into();
    for c in &mut pod.containers {
        c.state = ContainerStateObs::Waiting {
            reason: "ContainerCreating".into(),
            message: String::new(),
        };
    }
    s.events.items.push(tk::failed_mount(
        NS,
        &stuck,
        "secrets-store-inline",
        AADSTS70021,
    ));
    let chains = diagnose(&s);
    let of = |pod: &str| {
        chains
            .iter()
            .find(|c| c.pod.as_str() == pod)
            .unwrap_or_else(|| panic!("{pod}: {chains:#?}"))
    };
    let c = of(&stuck);
    assert_eq!(c.link(LinkKind::Federation).status, Status::Broken);
    let consumers = c.link(LinkKind::Consumers);
    assert_eq!(consumers.status, Status::Pending, "{consumers:#?}");
    assert_eq!(consumers.summary.as_str(), "blocked: Federation");
    assert_eq!(c.drawn_status(LinkKind::Consumers), Status::Pending);
    let running = of(&tk::pod_name(APP, 0)).link(LinkKind::Consumers);
    assert_eq!(running.status, Status::Ok, "{running:#?}");
}

/// FACTS §11: events are history once a later signal says otherwise. A Key Vault 403 means
/// Entra issued the token: an older AADSTS70021 for the same pod is a past state of the
/// Federation link, not a second current cause beside the 403.
#[test]
fn a_federation_failure_older_than_a_key_vault_answer_is_history() {
    let mut s = failing(AADSTS70021);
    s.events.items[0].last_seen = Some(tk::ago(jiff::SignedDuration::from_mins(6)));
    let mut denied = tk::failed_mount(NS, &tk::pod_name(APP, 0), "secrets-store-inline", FORBIDDEN);
    denied.last_seen = Some(tk::ago(jiff::SignedDuration::from_mins(1)));
    s.events.items.push(denied);
    let c = one(&s);
    assert!(
        !c.findings().any(|f| f.link == LinkKind::Federation),
        "{:#?}",
        c.links
    );
    assert_ne!(c.link(LinkKind::Federation).status, Status::Broken);
    assert!(
        c.link(LinkKind::Federation)
            .facts
            .iter()
            .any(|f| f.observed.contains("Key Vault answered")),
        "{:#?}",
        c.link(LinkKind::Federation)
    );
    assert_eq!(c.link(LinkKind::Access).status, Status::Broken);
    // The other way round (a 403, then the federation broke) both are current.
    s.events.items[0].last_seen = Some(tk::now());
    let c = one(&s);
    assert_eq!(c.link(LinkKind::Federation).status, Status::Broken);
}

/// A Pending pod with no node has not been scheduled: the kubelet mounts nothing before the
/// scheduler places it (FACTS §11, Nodes). The Mount link says so instead of "mounting".
#[test]
fn an_unscheduled_pod_is_not_mounting() {
    let mut s = tk::healthy();
    tk::unmount(&mut s, APP);
    tk::pod_mut(&mut s, APP).node = None;
    let c = one(&s);
    let mount = c.link(LinkKind::Mount);
    assert_eq!(
        (mount.status, mount.summary.as_str()),
        (Status::Pending, "not scheduled"),
        "{mount:#?}"
    );
    assert!(
        mount
            .facts
            .iter()
            .any(|f| f.observed.contains("not scheduled"))
    );
}

/// README: the one red box is the cause, and a link the break kept from being tried reads
/// pending. A mount that fails because the grant is missing is not a second cause when the
/// Mount link also holds a static warning of its own (rotation off, KVC702): it is drawn
/// pending, the warning still listed (audit E6: it was drawn broken beside the cause).
#[test]
fn a_blocked_mount_with_a_warning_of_its_own_is_drawn_pending() {
    let mut s = tk::healthy();
    if let Observed::Known(csi) = &mut s.cluster.csi_driver {
        csi.rotation_enabled = Observed::Known(false);
    }
    tk::unmount(&mut s, APP);
    let principal = tk::role_mut(&mut s, NS, APP).principal_id.clone();
    (s.azure.role_assignments.items).retain(|r| r.principal_id != principal);
    let pod = tk::pod_name(APP, 0);
    s.events.items.push(tk::failed_mount(
        NS,
        &pod,
        "secrets-store-inline",
        "RESPONSE 403: 403 Forbidden\nERROR CODE: Forbidden\n{\"error\":{\"code\":\"Forbidden\",\"innererror\":{\"code\":\"ForbiddenByRbac\"}}}",
    ));
    let chains = diagnose(&s);
    let c = &chains[0];
    assert_eq!(c.link(LinkKind::Access).status, Status::Broken, "{c:#?}");
    let mount = c.link(LinkKind::Mount);
    assert!(
        mount.findings.iter().any(|f| f.code == Code::KVC702),
        "{mount:#?}"
    );
    assert_eq!(
        c.drawn_status(LinkKind::Mount),
        Status::Pending,
        "{mount:#?}"
    );
    assert_eq!(c.drawn_status(LinkKind::Access), Status::Broken);
}
