//! The identity side named once and fixed so the fix works: client ids, the webhook and
//! its label, ServiceAccounts, service principals and the modes that need none.

use kvchain::chain::testkit::{self as tk, APP, ISSUER, NS};
use kvchain::chain::{Code, Finding, LinkKind, Severity, Status, diagnose};
use kvchain::snapshot::*;

use super::cause_kit::*;

/// FACTS §5: the CSI mount's workload identity reads neither the service account's client-id
/// nor the pod label. A pod with neither (the app does not use workload identity itself) gets
/// one note, not two warnings; one of the two without the other is the app's misconfiguration.
#[test]
fn an_app_without_any_workload_identity_sign_gets_one_note_not_two_warnings() {
    let mut s = tk::healthy();
    tk::sa_mut(&mut s, APP).annotations.clear();
    for p in s.pods.items.iter_mut() {
        p.labels.remove("azure.workload.identity/use");
    }
    let c = one(&s);
    let sa: Vec<(Code, Severity)> = c
        .link(LinkKind::ServiceAccount)
        .findings
        .iter()
        .map(|f| (f.code, f.severity))
        .collect();
    assert_eq!(sa, [(Code::KVC203, Severity::Info)]);
    assert_eq!(c.link(LinkKind::ServiceAccount).status, Status::Ok);
    // Nothing is needed for the mount: pasted, the fix changes nothing (a comment).
    let note = find(&c, Code::KVC203);
    assert!(
        note.fix.starts_with("# nothing for the mount"),
        "{}",
        note.fix
    );
    // The label alone says the app means to use it: the missing client-id is a warning.
    let mut labelled = s.clone();
    for p in labelled.pods.items.iter_mut() {
        p.labels
            .insert("azure.workload.identity/use".into(), "true".into());
    }
    let c = one(&labelled);
    let f = find(&c, Code::KVC203);
    assert_eq!(f.severity, Severity::Warning);
    assert!(c.findings().all(|f| f.code != Code::KVC201));
}

/// FACTS §7: the identity has a client id and a principal (object) id; the service account's
/// annotation takes the client id. Given the principal id, the finding says so, and its fix
/// replaces the pods that hold it: the webhook sets AZURE_CLIENT_ID on CREATE only (FACTS §6).
#[test]
fn a_principal_id_in_the_client_id_annotation_is_named_and_the_fix_restarts_the_pods() {
    let mut s = tk::healthy();
    let principal = s.azure.identities.items[0].principal_id.clone();
    let name = s.azure.identities.items[0].name.clone();
    tk::sa_mut(&mut s, APP).annotations.insert(
        "azure.workload.identity/client-id".into(),
        principal.clone(),
    );
    // Its pods were created with it: they hold the wrong id and need the restart (audit X5).
    tk::created_with_client_id(&mut s, NS, &principal);
    let c = one(&s);
    let f = find(&c, Code::KVC204);
    assert!(
        f.message.contains(&format!(
            "{principal}, which is the principal (object) id of identity {name}"
        )),
        "{}",
        f.message
    );
    assert!(
        f.fix.ends_with(&format!(
            "--overwrite && kubectl rollout restart deployment/{APP} -n {NS}"
        )),
        "{}",
        f.fix
    );
}

/// `useVMManagedIdentity` without `userAssignedIdentityID`: the provider asks the node's
/// metadata endpoint for a token with no client id, which is the scale set's system-assigned
/// identity (not the kubelet's, a user-assigned one). kvchain cannot see it: the link is
/// unknown, and the confirm command lists the scale sets' own identities.
#[test]
fn vm_identity_without_a_user_assigned_id_is_the_scale_sets_own_and_unknown() {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters.remove("clientID");
    spc.parameters
        .insert("useVMManagedIdentity".into(), "true".into());
    tk::reparse(spc);
    let c = one(&s);
    let identity = c.link(LinkKind::Identity);
    assert_eq!(identity.status, Status::Unknown, "{identity:?}");
    let f = find(&c, Code::KVC303);
    assert!(
        f.message
            .contains("the node scale set's system-assigned identity"),
        "{}",
        f.message
    );
    assert!(!f.message.contains("kubelet"), "{}", f.message);
    assert!(
        crate::xd_paste::after_guards(&f.confirm).contains(" && az vmss list -g \"$NODE_RG\" "),
        "{}",
        f.confirm
    );
}

/// KVC202's fix creates the missing account; it annotates a client id only where someone
/// reads it (FACTS §5: the CSI mount reads no annotation; §6: the webhook injects it into
/// pods labelled azure.workload.identity/use), and never with a placeholder the SPC fills.
#[test]
fn a_missing_service_account_is_created_annotated_only_for_a_labelled_pod() {
    let annotate = "kubectl annotate serviceaccount";
    for (labelled, vm_identity, expect_annotation) in [
        (true, false, true),
        (false, false, false),
        (true, true, false),
    ] {
        let mut s = tk::healthy();
        s.service_accounts.items.clear();
        for p in s.pods.items.iter_mut() {
            if !labelled {
                p.labels.remove("azure.workload.identity/use");
            }
        }
        if vm_identity {
            let spc = tk::spc_mut(&mut s, APP);
            spc.parameters.remove("clientID");
            spc.parameters
                .insert("useVMManagedIdentity".into(), "true".into());
            tk::reparse(spc);
        }
        let c = one(&s);
        let f = find(&c, Code::KVC202);
        let case = format!("labelled {labelled}, VM identity {vm_identity}: {}", f.fix);
        assert!(
            f.fix.starts_with("kubectl create serviceaccount "),
            "{case}"
        );
        assert!(!f.fix.contains("<clientID>"), "{case}");
        assert_eq!(f.fix.contains(annotate), expect_annotation, "{case}");
        if expect_annotation {
            let client = tk::client_id(NS, APP);
            assert!(
                f.fix
                    .ends_with(&format!("azure.workload.identity/client-id={client}")),
                "{case}"
            );
        }
    }
}

/// FACTS §6: the webhook injects AZURE_CLIENT_ID from the service account's annotation into
/// labelled pods at CREATE only, and never overwrites a variable already set. What a running
/// pod holds is the truth about its app: a stale wrong id is named on the pod even when the
/// annotation is right again; a wrong annotation that running pods have not received yet is
/// worded as what new pods will get; unlabelled pods read no annotation at all (an info).
#[test]
fn the_client_id_a_pod_holds_is_what_its_app_uses() {
    const WRONG: &str = "00000000-dead-beef-0000-000000000000";
    let client = tk::client_id(NS, APP);
    let hold = |s: &mut Snapshot, id: &str| {
        for p in s.pods.items.iter_mut() {
            p.containers[0].env.retain(|e| e.name != "AZURE_CLIENT_ID");
            p.containers[0].env.push(EnvObs {
                name: "AZURE_CLIENT_ID".into(),
                source: EnvSourceObs::Literal {
                    value: Some(id.into()),
                },
            });
        }
    };
    // The annotation was fixed, the pod still holds the wrong id.
    let mut s = tk::healthy();
    hold(&mut s, WRONG);
    let c = one(&s);
    let f = find(&c, Code::KVC204);
    assert_eq!(f.resource, format!("Pod/{}", c.pod));
    assert!(
        f.message
            .contains(&format!("holds AZURE_CLIENT_ID {WRONG}")),
        "{}",
        f.message
    );
    assert!(
        f.fix.starts_with("kubectl rollout restart deployment/"),
        "{}",
        f.fix
    );
    // The pod holds the right id, the annotation was just changed: latent, said so.
    let mut s = tk::healthy();
    hold(&mut s, &client);
    tk::sa_mut(&mut s, APP)
        .annotations
        .insert("azure.workload.identity/client-id".into(), WRONG.into());
    let c = one(&s);
    let f = find(&c, Code::KVC204);
    assert!(
        f.message
            .contains(&format!("running pods still hold {client}"))
            && f.message
                .contains(&format!("pods created from now on get {WRONG}")),
        "{}",
        f.message
    );
    // Unlabelled pods: nothing injects the annotation; an info, not a claim about the app.
    for p in s.pods.items.iter_mut() {
        p.labels.remove("azure.workload.identity/use");
        p.containers[0].env.retain(|e| e.name != "AZURE_CLIENT_ID");
    }
    let c = one(&s);
    let f = find(&c, Code::KVC204);
    assert_eq!(f.severity, Severity::Info, "{}", f.message);
    assert!(
        f.message.contains("nothing reads the annotation now"),
        "{}",
        f.message
    );
}

/// FACTS §5: userAssignedIdentityID is read with useVMManagedIdentity only; beside a clientID
/// (workload identity) it changes nothing, though it looks like it picks the identity.
#[test]
fn a_user_assigned_identity_id_outside_vm_identity_mode_is_named_unread() {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters.insert(
        "userAssignedIdentityID".into(),
        "7017a6e5-0000-4000-8000-000000000001".into(),
    );
    tk::reparse(spc);
    let c = one(&s);
    let f = find(&c, Code::KVC305);
    assert!(
        f.message
            .contains("userAssignedIdentityID (read only with useVMManagedIdentity"),
        "{}",
        f.message
    );
    // In VM identity mode it is the identity: not unread.
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters.remove("clientID");
    spc.parameters
        .insert("useVMManagedIdentity".into(), "true".into());
    spc.parameters.insert(
        "userAssignedIdentityID".into(),
        "7017a6e5-0000-4000-8000-000000000001".into(),
    );
    tk::reparse(spc);
    let c = one(&s);
    assert!(
        c.findings().all(|f| f.code != Code::KVC305),
        "{:#?}",
        c.findings().collect::<Vec<_>>()
    );
}

/// FACTS §11: which field differs is found only by comparing the presented issuer, subject and
/// audience with each credential; AADSTS70021 names none. A credential wrong in two fields
/// has both named, so fixing the subject alone is not mistaken for the whole repair.
#[test]
fn a_credential_wrong_in_subject_and_issuer_is_named_for_both() {
    let mut s = tk::healthy();
    let fic = tk::fic_mut(&mut s, APP);
    fic.subject = "system:serviceaccount:shop:Web".into();
    fic.issuer = ISSUER.replace("oic.prod-aks", "oic.staging-aks");
    let c = one(&failing_with(s, &aadsts70021(ISSUER)));
    let f = find(&c, Code::KVC401);
    assert!(f.message.contains("differs only in case"), "{}", f.message);
    assert!(
        f.message
            .contains("and its issuer https://westeurope.oic.staging-aks"),
        "{}",
        f.message
    );
    // The event's code quoted after the subject, the nearest credential's difference after
    // it: one parenthesis each, never `…(AADSTS7002138)) (AADSTS70021)` (audit NNN-lab).
    assert!(
        f.message
            .contains("has subject system:serviceaccount:shop:web (AADSTS70021); nearest is"),
        "{}",
        f.message
    );
    assert!(!f.message.contains("))"), "{}", f.message);
}

/// FACTS §5: the provider selects workload identity by clientID; `useWorkloadIdentity` is no
/// parameter of it. A pod mounting such an SPC without clientID fails for want of a
/// credential: one cause (KVC302), whose fix removes the flag and names the service
/// account's own client id, not a second KVC305 for the same flag.
#[test]
fn use_workload_identity_without_client_id_is_one_cause_with_the_flag_named() {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters.remove("clientID");
    spc.parameters
        .insert("useWorkloadIdentity".into(), "true".into());
    spc.parameters
        .insert("cloudNme".into(), "AzurePublicCloud".into());
    tk::reparse(spc);
    let chains = diagnose(&s);
    let f = find_any(&chains, Code::KVC302);
    assert!(f.message.contains("useWorkloadIdentity"), "{}", f.message);
    assert!(f.fix.contains("remove useWorkloadIdentity"), "{}", f.fix);
    assert!(f.fix.contains(&tk::client_id(NS, APP)), "{}", f.fix);
    // The other unread key is still told, without the flag named twice.
    let ignored = find_any(&chains, Code::KVC305);
    assert!(ignored.message.contains("cloudNme"), "{}", ignored.message);
    assert!(
        !ignored.message.contains("useWorkloadIdentity"),
        "{}",
        ignored.message
    );
}

/// FACTS §5: identity binding (useAzureTokenProxy) exchanges through the binding's one
/// federated credential per identity, which kvchain does not read: the Federation link is
/// proven by a mount or unknown with the reason, never "ok" on its own say.
#[test]
fn identity_binding_federation_is_proven_by_a_mount_or_unknown() {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters
        .insert("useAzureTokenProxy".into(), "true".into());
    tk::reparse(spc);
    let c = one(&s);
    let fed = c.link(LinkKind::Federation);
    assert_eq!(
        (fed.status, fed.summary.as_str()),
        (Status::Ok, "proven by mount")
    );
    tk::unmount(&mut s, APP);
    let c = one(&s);
    let fed = c.link(LinkKind::Federation);
    assert_eq!(fed.status, Status::Unknown, "{fed:#?}");
    assert!(
        fed.facts.iter().any(|f| f.observed.contains("not checked")),
        "{fed:#?}"
    );
}

/// FACTS §6: the webhook copies the client-id annotation into AZURE_CLIENT_ID of labelled
/// pods as it is. An unrendered `${VAR}` there is what the app gets: reported once as
/// unrendered (README: KVC306), on the ServiceAccount — not KVC204, a placeholder differs from
/// nothing — and fixed with the SPC's client id when that one is a real value.
#[test]
fn an_unrendered_client_id_annotation_is_what_labelled_pods_get() {
    let mut s = tk::healthy();
    tk::sa_mut(&mut s, APP).annotations.insert(
        "azure.workload.identity/client-id".into(),
        "${USER_ASSIGNED_CLIENT_ID}".into(),
    );
    let c = one(&s);
    assert!(
        c.findings().all(|f| f.code != Code::KVC204),
        "{:#?}",
        c.links
    );
    let f = find(&c, Code::KVC306);
    assert!(f.resource.starts_with("ServiceAccount/"), "{}", f.resource);
    assert!(f.message.contains("unrendered"), "{}", f.message);
    assert!(f.fix.contains(&tk::client_id(NS, APP)), "{}", f.fix);
    assert_eq!(c.link(LinkKind::ServiceAccount).summary, "template");
}

/// FACTS §6: the webhook's object selector matches `azure.workload.identity/use: "true"`
/// exactly, and AKS excludes kube-system from admission webhooks. A "True" label is named as
/// the value it is; a labelled pod in kube-system gets nothing injected, and relabelling is
/// no fix there.
#[test]
fn the_webhook_label_is_exact_and_kube_system_is_never_mutated() {
    let mut s = tk::healthy();
    tk::pod_mut(&mut s, APP)
        .labels
        .insert("azure.workload.identity/use".into(), "True".into());
    let f = find(&one(&s), Code::KVC201).clone();
    assert!(f.message.contains("\"True\""), "{}", f.message);
    assert!(!f.message.contains("lack label"), "{}", f.message);

    let mut s = tk::empty();
    tk::add_app(&mut s, "kube-system", APP, 1);
    let pod = tk::pod_mut(&mut s, APP);
    pod.volumes.retain(|v| v.name != "azure-identity-token");
    pod.containers[0]
        .env
        .retain(|e| e.name != "AZURE_FEDERATED_TOKEN_FILE");
    let c = one(&s);
    let f = find(&c, Code::KVC205);
    assert!(f.message.contains("kube-system"), "{}", f.message);
    assert!(!f.fix.contains("kubectl patch"), "{}", f.fix);
}

/// The healthy app with no pod left: its Deployment's template is all there is (as a live
/// cluster keeps it for a workload whose pods cannot be created), with `annotations` on it, and
/// the ReplicaSet's FailedCreate carrying `message`.
fn uncreated_with(annotations: &[(&str, &str)], message: &str) -> Snapshot {
    let mut s = tk::healthy();
    let mut template = s.pods.items[0].clone();
    s.pods.items.clear();
    s.spc_statuses.items.clear();
    template.name = APP.into();
    template.uid = Default::default();
    template.owners.clear();
    template.node = None;
    template.phase = Default::default();
    template.template_of = Some(tk::owner("Deployment", APP));
    let mut pod_annotations = std::collections::BTreeMap::new();
    for (k, v) in annotations {
        pod_annotations.insert(k.to_string(), v.to_string());
    }
    template.annotations = pod_annotations.into();
    let deployment = s
        .workloads
        .items
        .iter_mut()
        .find(|w| w.kind == "Deployment" && w.name == APP)
        .expect("testkit Deployment");
    deployment.template = Some(Box::new(template));
    s.events.items.push(EventObs {
        namespace: NS.into(),
        involved_kind: "ReplicaSet".into(),
        involved_name: tk::replica_set(APP).into(),
        type_: "Warning".into(),
        reason: "FailedCreate".into(),
        message: message.into(),
        count: 12,
        source: "replicaset-controller".into(),
        last_seen: Some(tk::now()),
        ..EventObs::default()
    });
    s
}

/// FACTS §6 on a cluster: the template says why the webhook refuses the pods, and the
/// FailedCreate that reports the refusal corroborates that one finding (one symptom, one
/// cause), which names the annotation to change.
#[test]
fn a_webhook_refusal_read_from_the_template_absorbs_its_failed_create() {
    let refusal = "Error creating: admission webhook \"mutation.azure-workload-identity.io\" denied the request: token expiration 600 not valid. Expected value to be between 3600 and 86400";
    let s = uncreated_with(
        &[(
            "azure.workload.identity/service-account-token-expiration",
            "600",
        )],
        refusal,
    );
    let chains = diagnose(&s);
    let all: Vec<&Finding> = chains
        .iter()
        .flat_map(|c| c.findings())
        .filter(|f| f.code == Code::KVC106)
        .collect();
    assert_eq!(all.len(), 1, "{all:#?}");
    let f = all[0];
    assert!(
        f.message.contains(
            "token expiration 600 not valid. Expected value to be between 3600 and 86400"
        ),
        "{}",
        f.message
    );
    assert!(
        f.evidence.iter().any(|e| e.contains("pod annotation")),
        "{f:#?}"
    );
    assert!(
        f.evidence.iter().any(|e| e.starts_with("FailedCreate")),
        "the event corroborates: {f:#?}"
    );
    assert!(
        f.fix.contains("service-account-token-expiration: \"3600\""),
        "{}",
        f.fix
    );
}

/// The healthy app switched to service-principal mode (FACTS §5): no clientID in its SPC, its
/// pods' volume naming nodePublishSecretRef `creds`.
fn service_principal() -> Snapshot {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters.remove("clientID");
    tk::reparse(spc);
    for p in &mut s.pods.items {
        for v in &mut p.volumes {
            if let VolumeSourceObs::Csi {
                node_publish_secret,
                ..
            } = &mut v.source
            {
                *node_publish_secret = Some("creds".into());
            }
        }
    }
    s
}

fn sp_secret(keys: &[&str]) -> SecretObs {
    SecretObs {
        namespace: NS.into(),
        name: "creds".into(),
        type_: "Opaque".into(),
        data: keys
            .iter()
            .map(|k| (k.to_string(), Fingerprint::of(b"not shown")))
            .collect(),
        ..SecretObs::default()
    }
}

/// On a cluster the Secret is read by name: a missing one fails the mount, wrong key names
/// fail in the provider with its own message, and the fix moves the values without showing
/// them.
#[test]
fn a_service_principal_secret_is_checked_by_its_key_names() {
    let s = service_principal();
    let f = find_any(&diagnose(&s), Code::KVC302).clone();
    assert_eq!(f.resource, "Secret/creds");
    assert!(f.message.contains("does not exist"), "{}", f.message);
    assert!(
        f.message
            .contains("failed to get node publish secret shop/creds"),
        "{}",
        f.message
    );

    let mut s = service_principal();
    s.secrets
        .items
        .push(sp_secret(&["client-id", "ClientSecret"]));
    let chains = diagnose(&s);
    let f = find_any(&chains, Code::KVC302);
    assert!(
        f.message.contains("\"could not find clientid in secrets\""),
        "{}",
        f.message
    );
    assert!(
        !f.message.contains("clientsecret in secrets"),
        "{}",
        f.message
    );
    assert_eq!(
        f.fix,
        "kubectl patch secret creds -n shop --type=json -p '[{\"op\":\"move\",\"from\":\"/data/client-id\",\"path\":\"/data/clientid\"}]'"
    );

    let mut s = service_principal();
    s.secrets
        .items
        .push(sp_secret(&["CLIENTID", "clientsecret"]));
    let chains = diagnose(&s);
    assert!(
        chains
            .iter()
            .flat_map(|c| c.findings())
            .all(|f| f.code != Code::KVC302),
        "{:#?}",
        chains.iter().flat_map(|c| c.findings()).collect::<Vec<_>>()
    );
}

/// FACTS §6: the webhook injects AZURE_CLIENT_ID on CREATE only, and only with a value. A pod
/// it mutated while the account had no client id holds the token file and no client id; once
/// the account is annotated, the app's own SDK calls still have no identity until the pod is
/// replaced (the mount, which reads the SPC, is not affected).
#[test]
fn a_pod_mutated_before_its_account_had_a_client_id_holds_none() {
    let mut s = tk::healthy();
    for p in s.pods.items.iter_mut() {
        p.containers[0].env.retain(|e| e.name != "AZURE_CLIENT_ID");
    }
    let c = one(&s);
    let f = find(&c, Code::KVC204);
    assert_eq!(f.severity, Severity::Warning);
    assert_eq!(f.resource, format!("Pod/{}", c.pod));
    assert!(
        f.message.contains("has no AZURE_CLIENT_ID"),
        "{}",
        f.message
    );
    assert!(
        f.fix
            .starts_with(&format!("kubectl rollout restart deployment/{APP} -n {NS}")),
        "{}",
        f.fix
    );
    assert_eq!(c.link(LinkKind::Mount).status, Status::Ok);

    // The spec sets it from a Secret: there, and never overwritten; nothing to say.
    for p in s.pods.items.iter_mut() {
        p.containers[0].env.push(EnvObs {
            name: "AZURE_CLIENT_ID".into(),
            source: EnvSourceObs::SecretKey {
                secret: "identity".into(),
                key: "client-id".into(),
                optional: false,
            },
        });
    }
    assert!(one(&s).findings().all(|f| f.code != Code::KVC204));

    // Nothing injected at all (no token file either): not this finding.
    let mut s = tk::healthy();
    for p in s.pods.items.iter_mut() {
        p.volumes.retain(|v| v.name != "azure-identity-token");
        p.containers[0]
            .env
            .retain(|e| e.name != "AZURE_CLIENT_ID" && e.name != "AZURE_FEDERATED_TOKEN_FILE");
    }
    assert!(
        one(&s)
            .findings()
            .all(|f| f.code != Code::KVC204 || !f.message.contains("has no AZURE_CLIENT_ID"))
    );
}
