//! ServiceAccount link: the SA exists; for workload identity, its client-id annotation and the
//! pod label that make the webhook inject AZURE_* env and the token (needed by the app's own
//! SDK calls — the CSI mount itself gets its token from the driver, FACTS §5/§6).

use super::{params, remedy};
use super::{set, unknown};
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::{Fact, Finding, Link, Severity, Status, Text};
use crate::snapshot::{ServiceAccountObs, SourceKind};

pub(crate) use super::sa_injected::{injected_client_id, injected_env, same};
use super::sa_template::{CLIENT_ID, TENANT_ID as TENANT_ANNOTATION};
pub(super) const USE_LABEL: &str = "azure.workload.identity/use";

mod injection;
use injection::{stale_injection, webhook_injected};

pub(crate) fn check(cx: &mut Ctx, link: &mut Link) {
    if super::static_pod::check(cx, link) {
        return;
    }
    let sa_name = cx.pod.service_account.as_str();
    super::note(cx, link, || Fact::new("serviceAccount", sa_name));
    let sa = cx.ix.service_accounts.get(&(cx.ns(), sa_name)).copied();
    let Some(sa) = sa else {
        if let Some(reason) = cx.snap().service_accounts.unknown_in(cx.ns()) {
            unknown(link, "SA unknown", reason);
            return;
        }
        if super::gone_for_retired(cx, link, &format!("ServiceAccount {sa_name}"), |t| {
            t.service_account == sa_name
        }) {
            return;
        }
        link.findings.push(missing(cx, sa_name));
        return;
    };
    set(link, Status::Ok, Text::from(sa_name));
    // A placeholder annotation is a template value, told once with the SPC's (KVC306 on the
    // identity link): whether it agrees with the SPC is known once it is rendered.
    if sa.annotations.iter().any(|(k, v)| {
        [CLIENT_ID, TENANT_ANNOTATION].contains(&k.as_str()) && params::is_placeholder(v)
    }) {
        unknown(
            link,
            "template",
            "an azure.workload.identity annotation is an unrendered template value (KVC306)",
        );
    }
    // Only workload identity reads the SA's identity; other modes don't care.
    let Some(spc_client) = cx.params.as_deref().and_then(|p| p.client_id.as_deref()) else {
        return;
    };
    if !workload_identity(cx) {
        return;
    }
    let annotated = sa.annotations.get(CLIENT_ID);
    let seen = annotated.map_or("(none)", String::as_str);
    // A template on either side says nothing about whether the two agree once rendered
    // (asked only when they differ: most chains agree).
    let differ = !seen.trim().eq_ignore_ascii_case(spc_client)
        && !params::is_placeholder(seen)
        && !params::is_placeholder(spc_client);
    if cx.detail || differ {
        link.facts.push(Fact::compare(CLIENT_ID, seen, spc_client));
    }
    let labelled = cx.pod.labels.get(USE_LABEL).is_some_and(|v| v == "true");
    if annotated.is_none() && !labelled {
        // Neither sign of the app using workload identity itself: the CSI mount needs neither
        // (the driver requests the token for the SPC's clientID, FACTS §5). One note, not two
        // warnings about a pod that is fine.
        let (sa_note, sa_evidence) = label_on_sa(sa);
        let mut evidence = vec![
            format!("metadata.annotations: {:?}", sa.annotations),
            format!("pod labels: {:?}", cx.pod.labels),
        ];
        evidence.extend(sa_evidence);
        let mut f = cx.remedied(
            Code::KVC203,
            cx.sa_resource(),
            format!(
                "service account {sa_name} has no {CLIENT_ID} annotation and pods of {} lack label {USE_LABEL}: fine for the CSI mount, which needs neither; only if the app itself calls Azure with workload identity does it need both{sa_note}",
                cx.owner_resource()
            ),
            evidence,
        );
        f.severity = Severity::Info;
        // Nothing to do for the mount: the fix is conditional, and says so.
        f.fix = format!(
            "# nothing for the mount; only if the app calls Azure with workload identity, label its pods {USE_LABEL}: \"true\" and: {}",
            f.fix
        )
        .into();
        link.findings.push(f);
        return;
    }
    match annotated {
        None => {
            link.findings.push(cx.remedied(
                Code::KVC203,
                cx.sa_resource(),
                format!(
                    "service account {sa_name} has no {CLIENT_ID} annotation: the CSI mount does not need it (the SPC's clientID is used), but the webhook injects no AZURE_CLIENT_ID for the app's own Azure SDK calls{}",
                    // FACTS §6: the webhook injects the annotation; without it nothing does.
                    match cx.cluster().workload_identity_webhook.known() {
                        Some(false) => "; and the webhook is not installed either (KVC205): the fix installs it first",
                        _ => "",
                    }
                ),
                vec![format!("metadata.annotations: {:?}", sa.annotations)],
            ));
        }
        Some(a) if differ => {
            // A principal (object) id where the client id belongs is the usual mix-up: both
            // are on the identity, and RBAC is granted to the principal (FACTS §7).
            let principal_of = cx
                .azure()
                .identities
                .items
                .iter()
                .find(|i| i.principal_id.eq_ignore_ascii_case(a.trim()));
            // Other SPCs of the pod with identities of their own: one annotation for several
            // identities, said per SPC (`sa_multi`).
            let others = super::sa_multi::other_clients(cx, spc_client);
            if principal_of.is_none() && !others.is_empty() {
                super::sa_multi::several(cx, link, a, spc_client, &others, labelled);
                super::injected_tenant::check(cx, link, sa, spc_client);
                label_and_injection(cx, link, sa, spc_client);
                return;
            }
            // Another workload of the account mounts an SPC on the annotated identity: the
            // annotation is not this SPC's to take (audit LL1).
            if principal_of.is_none()
                && let Some(agreeing) = super::sa_multi::agreeing_elsewhere(cx, a)
            {
                super::sa_multi::shared_account(cx, link, a, spc_client, agreeing, labelled);
                super::injected_tenant::check(cx, link, sa, spc_client);
                label_and_injection(cx, link, sa, spc_client);
                return;
            }
            // The account's workloads mount SPCs on different identities, none of them the
            // annotated one: one finding for the account, one plan (audit NN2).
            if principal_of.is_none() && super::sa_account::check(cx, link, a, labelled) {
                super::injected_tenant::check(cx, link, sa, spc_client);
                label_and_injection(cx, link, sa, spc_client);
                return;
            }
            // The driver merges the pod volume's attributes over the SPC's parameters (FACTS
            // §5): a volumeAttributes.clientID is where the mount's id comes from, not the SPC.
            let own = cx
                .spc
                .and_then(|s| s.parameters.get("clientID"))
                .map(String::as_str);
            let overridden =
                cx.attributes.contains_key("clientID") && own.is_none_or(|o| !same(o, spc_client));
            if super::sa_injected::mount_side_judged(cx, link, a, own, spc_client, &principal_of) {
                super::injected_tenant::check(cx, link, sa, spc_client);
                label_and_injection(cx, link, sa, spc_client);
                return;
            }
            let uses = if overridden {
                format!(
                    "pod volume {} overrides SecretProviderClass {}'s clientID{} with volumeAttributes.clientID {spc_client}",
                    cx.volume.name,
                    cx.spc_name,
                    own.map(|o| format!(" {o}")).unwrap_or_default()
                )
            } else {
                format!(
                    "SecretProviderClass {} uses clientID {spc_client}",
                    cx.spc_name
                )
            };
            let message = match principal_of {
                Some(i) => format!(
                    "service account {sa_name} says client-id {a}, which is the principal (object) id of identity {}, not a client id (its client id is {}): the webhook injects it as AZURE_CLIENT_ID and the app's own token requests fail",
                    i.name, i.client_id
                ),
                // The webhook injects the annotation into labelled pods only (FACTS §6).
                None if !labelled => format!(
                    "service account {sa_name} says client-id {a} but {uses}: no pod of {} is labelled {USE_LABEL}, so nothing reads the annotation now; labelled, the app and the mount would authenticate as different identities",
                    cx.owner_resource()
                ),
                // Injected at creation only (FACTS §6): running pods keep what they were given.
                // Said of the account's pods, not of this chain's one: every chain of the
                // account says the same (audit X5).
                // A Pod read from a manifest was never created: nothing was injected into it,
                // and it is told as the templates are, one finding with them (audit LL14). A
                // template whose account has pods (a CronJob's finished run) says what they
                // hold in their words: one finding with theirs, not a second (audit ZZ4).
                None if cx.source().kind != SourceKind::Manifests
                    && (!cx.template || remedy::sa_labelled_seen(cx)) =>
                {
                    super::sa_injected::held(cx, sa_name, a, &uses, spc_client)
                }
                None => format!(
                    "service account {sa_name} says client-id {a} but {uses}: the mount and the app authenticate as different identities"
                ),
            };
            let mut f = cx.remedied(
                Code::KVC204,
                cx.sa_resource(),
                message,
                vec![
                    format!("ServiceAccount {sa_name}: {CLIENT_ID}: {a}"),
                    if overridden {
                        format!(
                            "volume {}: volumeAttributes.clientID: {spc_client} (SecretProviderClass {}: clientID: {})",
                            cx.volume.name,
                            cx.spc_name,
                            own.unwrap_or("(none)")
                        )
                    } else {
                        format!(
                            "SecretProviderClass {}: clientID: {spc_client}",
                            cx.spc_name
                        )
                    },
                ],
            );
            if !labelled && principal_of.is_none() {
                f.severity = Severity::Info;
            }
            if principal_of.is_none() {
                keep_working_side(cx, &mut f, a, spc_client);
                if overridden && own.is_some_and(|o| same(o, a)) {
                    stray_override(cx, &mut f, a, spc_client);
                }
            }
            link.findings.push(f);
        }
        Some(a) => stale_injection(cx, link, sa, a, spc_client),
    }
    super::injected_tenant::check(cx, link, sa, spc_client);
    label_and_injection(cx, link, sa, spc_client);
}

/// The SPC and the service account agree and only the pod volume's override differs: where the
/// Azure side does not judge the identities (manifests; else [`keep_working_side`] chose),
/// the stray override is what to fix, with the annotation as the alternative: nothing read
/// tells which identity is meant.
fn stray_override(cx: &Ctx, f: &mut Finding, annotated: &str, spc_client: &str) {
    use super::identity_side::{readiness, set_spc_client};
    // Where the Azure side judges either identity, `keep_working_side` has chosen.
    let sa = readiness(cx, annotated);
    if readiness(cx, spc_client).complete() || sa.complete() || sa.lacking() {
        return;
    }
    let annotate = std::mem::take(&mut f.fix);
    f.fix = format!(
        "{}  # the SecretProviderClass and the service account both say {annotated}; or, if {spc_client} is the identity meant: {annotate}",
        set_spc_client(cx, annotated)
    )
    .into();
}

/// KVC204 when each identity is known to lack something: what each lacks is said. (When the
/// SPC's side is the broken one, its own link's finding says so and KVC204 is not made:
/// `sa_injected::mount_side_judged`.)
fn keep_working_side(cx: &Ctx, f: &mut Finding, annotated: &str, spc_client: &str) {
    use super::identity_side::{Side, pick};
    // Where the pod volume overrides the clientID, the mount uses the override (FACTS §5):
    // that is the side named.
    let mount_side = if cx.attributes.contains_key("clientID") {
        "the pod volume's"
    } else {
        "the SecretProviderClass's"
    };
    match pick(cx, annotated, spc_client) {
        Side::Spc | Side::ServiceAccount { .. } | Side::OnlyServiceAccount { .. } => {}
        Side::Neither { sa, spc } => {
            let lack =
                |r: &super::identity_side::Readiness| format!("{} {}", r.named(), r.shortfall(cx));
            f.message = format!(
                "{}; neither works for {}: the service account's {}, {mount_side} {}",
                f.message,
                cx.subject(),
                lack(&sa),
                lack(&spc)
            )
            .into();
            f.fix = format!(
                "# complete one identity (the other findings of this chain say how for the SecretProviderClass's), then use it on both sides: {}",
                f.fix
            )
            .into();
        }
    }
}

/// A pod being deleted (or finished) whose owner's pod template carries the label now (a
/// rollout replacing the unlabelled pods, the trainer's `remove-pod-label` repaired): it
/// starts nothing again and the pods its owner makes are mutated, so its missing label is
/// history, said on the link, not a KVC201 whose fix patches a template that has the label
/// already (audit RRR-faults). Its owner's template lacking it, or unread, the finding stands.
fn replaced_labelled(cx: &Ctx, link: &mut Link) -> bool {
    let labelled = (cx.workload_object.and_then(|w| w.template.as_deref()))
        .is_some_and(|t| t.labels.get(USE_LABEL).is_some_and(|v| v == "true"));
    if !cx.retired() || !labelled {
        return false;
    }
    let state = if cx.pod.deleting {
        "being deleted"
    } else {
        "finished"
    };
    link.facts.push(Fact::new(
        "history",
        format!(
            "pod {} lacks label {USE_LABEL}: \"true\", but it is {state} and the pod template of {} carries it: the pods made from it are mutated",
            cx.pod.name,
            cx.owner_resource()
        ),
    ));
    true
}

/// Whether the SPC mounts with workload identity: a clientID, and neither the node's identity
/// nor pod identity (only then does the pod's service account matter to the mount).
pub(super) fn workload_identity(cx: &Ctx) -> bool {
    cx.params.as_deref().is_some_and(|p| {
        p.client_id.is_some()
            && !super::pod::truthy(&p.use_vm_managed_identity)
            && !super::pod::truthy(&p.use_pod_identity)
    })
}

fn label_and_injection(cx: &Ctx, link: &mut Link, sa: &ServiceAccountObs, spc_client: &str) {
    let label = cx.pod.labels.get(USE_LABEL).map(String::as_str);
    super::compare(
        cx,
        link,
        "pod label azure.workload.identity/use",
        label.unwrap_or("(none)"),
        "true",
    );
    if label != Some("true") {
        if replaced_labelled(cx, link) {
            return;
        }
        // The webhook's selector matches the value exactly (FACTS §6): "True" is no "true".
        // A workload's pods, or one bare pod (which has no pods of its own); of a set whose
        // other pods carry the label (OnDelete, a partition: made from an earlier template),
        // the pods that lack it, by name.
        let split = super::remedy::label_split(cx);
        let (who, one, bare) = match (cx.workload, &split) {
            (Some(_), Some(split)) => (
                split.who(&cx.owner_resource()),
                split.lacking.len() == 1,
                false,
            ),
            (Some(_), None) => (format!("pods of {}", cx.owner_resource()), false, false),
            (None, _) => (cx.owner_resource(), true, true),
        };
        let mut lack = match (label, one) {
            (Some(v), _) => format!(
                "{} label {USE_LABEL}: {v:?}, which the webhook's selector does not match (only \"true\", exactly)",
                if one { "carries" } else { "carry" }
            ),
            (None, true) => format!("lacks label {USE_LABEL}: \"true\""),
            (None, false) => format!("lack label {USE_LABEL}: \"true\""),
        };
        if let Some(split) = &split {
            lack = format!("{lack} ({})", split.carriers());
        }
        let (sa_note, sa_evidence) = label_on_sa(sa);
        let mut evidence = vec![format!("labels: {:?}", cx.pod.labels)];
        evidence.extend(sa_evidence);
        let mut f = cx.remedied(
            Code::KVC201,
            cx.owner_resource(),
            format!(
                "{who} {lack}: the CSI mount works without it (the kubelet hands the driver a token of the pod's service account, per the CSIDriver's tokenRequests), but the app's own Azure SDK calls get no AZURE_CLIENT_ID / token file{sa_note}"
            ),
            evidence,
        );
        if sa.use_label.is_some() {
            let sep = if f.fix.contains("  # ") { "; " } else { "  # " };
            // A bare pod has no template: its own labels are where the webhook looks.
            let place = if bare { "the pod" } else { "the pod template" };
            f.fix = format!(
                "{}{sep}the label on ServiceAccount {} selects nothing (the webhook reads pod labels): it belongs on {place}, as here",
                f.fix, sa.name
            )
            .into();
        }
        // Labelled while the account's identity annotations are templates, the webhook injects
        // them as they are (FACTS §6: any non-empty value): the label waits on KVC306 (LLL2).
        let unrendered: Vec<String> = [CLIENT_ID, TENANT_ANNOTATION]
            .iter()
            .filter_map(|k| Some((k, sa.annotations.get(*k)?)))
            .filter(|(_, v)| params::is_placeholder(v))
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        if !unrendered.is_empty() {
            f.fix = format!(
                "# fix KVC306 (ServiceAccount {}: {}) first: labelled before, the webhook injects {} into AZURE_CLIENT_ID / AZURE_TENANT_ID; then: {}",
                sa.name,
                unrendered.join(", "),
                if unrendered.len() == 1 { "it as it is" } else { "them as they are" },
                f.fix
            )
            .into();
        }
        super::webhook_env::tenant_first(cx, sa, spc_client, &mut f);
        link.findings.push(f);
        return;
    }
    let injected = webhook_injected(cx.pod);
    // FACTS §6: AKS excludes kube-system from admission webhooks: the label mutates nothing
    // there, from manifests as on a cluster (unless a pod shows otherwise).
    if cx.ns() == "kube-system" && !injected {
        let mut f = cx.remedied(
            Code::KVC205,
            cx.owner_resource(),
            format!(
                "pods of {} are labelled {USE_LABEL}: \"true\" in kube-system, which AKS excludes from admission webhooks: nothing is injected (no AZURE_CLIENT_ID, no token file) and the app's own Azure SDK calls fail; the CSI mount does not need it",
                cx.owner_resource()
            ),
            vec![format!("namespace: kube-system; labels: {:?}", cx.pod.labels)],
        );
        f.fix = format!(
            "# run {} in a namespace of its own (with its ServiceAccount and SecretProviderClass): the webhook mutates pods everywhere but kube-system",
            cx.owner_resource()
        )
        .into();
        link.findings.push(f);
        return;
    }
    // Injection happens at admission: a template, or a Pod manifest that was never created,
    // cannot show it (README: KVC205 is not produced from manifests).
    if cx.template || cx.source().kind == SourceKind::Manifests {
        return;
    }
    let seen = if injected { "present" } else { "absent" };
    super::compare(cx, link, "webhook injection", seen, "present");
    if injected {
        return;
    }
    let mut evidence = vec![
        "no projected volume with audience api://AzureADTokenExchange; no AZURE_FEDERATED_TOKEN_FILE env".to_string(),
    ];
    // The cause left depends on whether the webhook is there (audit FFF, helm world): one
    // that is installed is no cause, and naming it sends the reader to install it again.
    let webhook = match cx.cluster().workload_identity_webhook.known() {
        Some(false) => "the workload-identity webhook is not installed".to_string(),
        Some(true) => {
            evidence.push(
                "cluster: the workload-identity webhook is installed (mutatingwebhookconfigurations hold mutation.azure-workload-identity.io)".to_string(),
            );
            format!(
                "the workload-identity webhook is installed, so the pod was not mutated at its admission: {NOT_ADMITTED}"
            )
        }
        None => format!(
            "the workload-identity webhook is not installed, or it is and the pod was not mutated at its admission: {NOT_ADMITTED}"
        ),
    };
    let mut f = cx.remedied(
        Code::KVC205,
        format!("Pod/{}", cx.pod.name),
        format!(
            "pod {} is labelled {USE_LABEL}: \"true\" but has no projected token or AZURE_FEDERATED_TOKEN_FILE: {webhook}",
            cx.pod.name
        ),
        evidence,
    );
    super::webhook_env::tenant_first(cx, sa, spc_client, &mut f);
    link.findings.push(f);
}

/// Why an installed webhook left a labelled pod alone (FACTS §6): it mutates on CREATE only,
/// pods its objectSelector matches then (the label on the pod at admission); a configuration
/// edited away from upstream's (a namespaceSelector, failurePolicy Ignore) skips more.
const NOT_ADMITTED: &str = "it mutates on CREATE only, pods that carry the label then, so the label was put on the pod after it was created, or the pod predates the webhook's install; or the webhook's configuration left it out (a namespaceSelector or objectSelector that does not match it, or failurePolicy Ignore while the webhook did not answer)";

/// Whether the pod's service account is known not to exist, so that no token can be minted
/// for it (KVC202 as an error): in an observed namespace of a cluster, or, offline, a near
/// miss of one the manifests define. The federated subject of an account that is not there
/// is no cause of its own: the account's fix decides which subject is needed.
pub(crate) fn known_missing(cx: &Ctx) -> bool {
    let sa_name = cx.pod.service_account.as_str();
    if cx.ix.service_accounts.contains_key(&(cx.ns(), sa_name))
        || cx.snap().service_accounts.unknown_in(cx.ns()).is_some()
    {
        return false;
    }
    cx.source().kind != SourceKind::Manifests
        || (!params::is_placeholder(sa_name) && near_miss(cx, sa_name).is_some())
}

/// The account of the namespace the manifests define whose name is within two edits of
/// `sa_name` (a typo).
fn near_miss<'a>(cx: &Ctx<'a>, sa_name: &str) -> Option<&'a str> {
    (cx.ix.service_accounts_in(cx.ns()))
        .filter(|s| s.name != "default")
        .map(|s| (strsim::levenshtein(&s.name, sa_name), s.name.as_str()))
        .min()
        .filter(|(d, _)| *d <= 2)
        .map(|(_, n)| n)
}

/// KVC202. On a cluster the account is missing and the pod cannot be created. Offline, an
/// account that is not among the given manifests is usually created elsewhere (a README step,
/// a Helm chart, Terraform): unknown, so a warning — unless the name is a near miss of one the
/// manifests do define, or still a template placeholder.
fn missing(cx: &Ctx, sa_name: &str) -> Finding {
    let evidence = vec![format!("spec.serviceAccountName: {sa_name}")];
    if cx.source().kind != SourceKind::Manifests {
        return cx.remedied(
            Code::KVC202,
            cx.sa_resource(),
            format!(
                "{} runs as service account {sa_name}, which does not exist in namespace {}: the pod cannot be created",
                cx.owner_resource(),
                cx.ns()
            ),
            evidence,
        );
    }
    if params::is_placeholder(sa_name) {
        let (confirm, fix) = super::remedy::unrendered("spec.serviceAccountName", sa_name);
        let mut f = cx.finding(
            Code::KVC202,
            cx.sa_resource(),
            format!(
                "{} runs as service account {sa_name}: an unrendered template value; render the template before applying",
                cx.owner_resource()
            ),
            evidence,
            confirm,
            fix,
        );
        f.severity = Severity::Warning;
        return f;
    }
    // Defined in a document kubectl refuses too: to correct, not to create bare (audit BB3).
    let runs = format!("{} runs as service account {sa_name}", cx.owner_resource());
    let sa = (Code::KVC202, cx.sa_resource());
    if let Some(f) =
        super::unread_finding(cx, sa, ("ServiceAccount", sa_name), &runs, evidence.clone())
    {
        return f;
    }
    if let Some(near) = near_miss(cx, sa_name) {
        return cx.remedied(
            Code::KVC202,
            cx.sa_resource(),
            format!(
                "{} runs as service account {sa_name}, which does not exist in namespace {} (did you mean {near}?): the pod cannot be created",
                cx.owner_resource(),
                cx.ns()
            ),
            evidence,
        );
    }
    let mut f = cx.remedied(
        Code::KVC202,
        cx.sa_resource(),
        format!(
            "{} runs as service account {sa_name}, which is not in the given manifests: unknown offline (it is often created by a README step, a Helm chart or Terraform); if it does not exist in namespace {} the pod cannot be created",
            cx.owner_resource(),
            cx.ns()
        ),
        evidence,
    );
    f.severity = Severity::Warning;
    f
}

/// Older guides put the workload-identity label on the ServiceAccount, where the webhook's
/// objectSelector does not look (FACTS §6: it selects by the pod's labels): the message's note
/// and the evidence line that say so, so a label the user can see in the SA's file does not
/// make a finding read as a false alarm. Empty when the ServiceAccount carries none.
fn label_on_sa(sa: &ServiceAccountObs) -> (String, Option<String>) {
    let Some(v) = sa.use_label.as_deref() else {
        return (String::new(), None);
    };
    (
        format!(
            "; ServiceAccount {} carries label {USE_LABEL}: {v:?}, but the webhook's objectSelector matches pod labels only, never the ServiceAccount's: move it to the pod template",
            sa.name
        ),
        Some(format!(
            "ServiceAccount {} metadata.labels: {{{USE_LABEL:?}: {v:?}}}",
            sa.name
        )),
    )
}
