//! Identity link: which identity the provider authenticates as (FACTS §5 auth selection),
//! whether the parameters are coherent, and whether that managed identity exists.

use super::auth_params::{
    EITHER_CLIENT_ID, EITHER_CREDENTIAL, Problem, TENANT, auth_mode, problem,
};
use super::{params, remedy};
use super::{set, unknown};
use crate::chain::catalog::Code;
use crate::chain::context::{AuthMode, Ctx};
use crate::chain::model::{Fact, Link, Status, Text};

pub(crate) fn check(cx: &mut Ctx, link: &mut Link) {
    if cx.params.is_none() {
        super::no_spc(cx, link);
        return;
    }
    parameters(cx, link, Pods::Mounting);
    if !matches!(cx.mode, AuthMode::ServicePrincipal { .. }) {
        super::sp_secret::unread_ref(cx, link);
    }
    match cx.mode.clone() {
        AuthMode::VmIdentity { user_assigned } => {
            super::note(cx, link, || Fact::new("mode", "useVMManagedIdentity"));
            node_identity(cx, link);
            if user_assigned.is_none() {
                unknown(
                    link,
                    "node identity",
                    "the node scale set's system-assigned identity is not visible to kvchain",
                );
                return;
            }
        }
        AuthMode::ServicePrincipal { secret } => {
            link.facts
                .push(Fact::new("nodePublishSecretRef", secret.as_str()));
            super::sp_secret::check(cx, link, &secret);
            return;
        }
        AuthMode::PodIdentity | AuthMode::Invalid | AuthMode::Unknown => {
            set(link, Status::Unknown, "no identity");
            return;
        }
        AuthMode::WorkloadIdentity { .. } | AuthMode::TokenProxy { .. } => {}
    }
    let Some(client) = cx.mode.client_id().map(str::to_string) else {
        set(link, Status::Unknown, "no clientID");
        return;
    };
    // Unrendered: KVC306 (pushed by `parameters`) says so once; no identity can have that
    // clientId, and no lookup is a second cause (README: placeholders are not validated).
    if params::is_placeholder(&client) {
        set(link, Status::Unknown, "unrendered clientID");
        return;
    }
    super::note(cx, link, || Fact::new("clientID", client.as_str()));
    if let Some(i) = cx.ix.identity(&client) {
        cx.identity = Some(i);
        super::note(cx, link, || Fact::new("identity", i.name.as_str()));
        set(link, Status::Ok, Text::from(i.name.as_str()));
        return;
    }
    // Not found where kvchain may look (a per-clientId gap) is unknown, not absent: an
    // AADSTS700016 event is what says the clientId names nothing (KVC301 from the event).
    if let Some(reason) = unseen(cx, &client) {
        if cx.mounted() {
            set(link, Status::Ok, super::PROVEN_BY_MOUNT);
        } else {
            unknown(link, "Azure unknown", reason);
        }
        return;
    }
    // Deleted since a retired pod that mounts no more last authenticated: history (JJ1).
    let what = format!("a managed identity with clientId {client}");
    if super::read_gone_for_retired(cx, link, &what) {
        return;
    }
    // Node identity mode: userAssignedIdentityID is what names it (FACTS §5), not clientID.
    if matches!(cx.mode, AuthMode::VmIdentity { .. }) {
        link.findings
            .push(super::node_identity::missing(cx, &client));
        return;
    }
    link.findings.push(cx.remedied(
        Code::KVC301,
        cx.spc_resource(),
        // The driver merges the pod volume's attributes over the SPC's (FACTS §5): an
        // override is where the id comes from, and what the fix edits (audit X4, H10).
        match cx.attributes.get("clientID") {
            Some(_) => format!(
                "no managed identity visible to kvchain has clientId {client} (the identity the mount of SecretProviderClass {} authenticates as: pod volume {}'s volumeAttributes.clientID overrides the SecretProviderClass's)",
                cx.spc_name, cx.volume.name
            ),
            None => format!(
                "no managed identity visible to kvchain has clientId {client} (the identity SecretProviderClass {} authenticates as)",
                cx.spc_name
            ),
        },
        vec![format!("clientID: {client}"), format!("{} managed identities listed", cx.azure().identities.items.len())],
    ));
}

/// Why the managed identity with `client_id` could not be seen: the lookup failed
/// (`gaps.all`), or it found no identity in the subscriptions visible to kvchain (a gap keyed
/// by the clientId). `None` when the lookup is conclusive.
pub(crate) fn unseen<'a>(cx: &Ctx<'a>, client_id: &str) -> Option<&'a str> {
    let gaps = &cx.azure().identities.gaps;
    gaps.all.as_deref().or_else(|| {
        (gaps.namespaces.iter())
            .find(|(k, _)| k.eq_ignore_ascii_case(client_id.trim()))
            .map(|(_, reason)| reason.as_str())
    })
}

/// KVC303 (info): the SPC reads Key Vault as a node identity. Decided by the SPC alone, so
/// also said of an SPC no pod in the input mounts.
pub(crate) fn node_identity(cx: &Ctx, link: &mut Link) {
    let AuthMode::VmIdentity { user_assigned } = &cx.mode else {
        return;
    };
    // No userAssignedIdentityID: the provider asks the node's metadata endpoint for a
    // token without a client id, which answers with the scale set's system-assigned
    // identity, if it has one (AKS node pools usually carry user-assigned ones only).
    let who = match user_assigned.as_deref() {
        None => {
            "the node scale set's system-assigned identity (no userAssignedIdentityID)".to_string()
        }
        // Unrendered (KVC306 says so): which node identity is not known yet.
        Some(c) if params::is_placeholder(c) => {
            "a node identity (userAssignedIdentityID is not rendered yet)".to_string()
        }
        Some(c) => format!("node identity {c}"),
    };
    let mut f = cx.remedied(
        Code::KVC303,
        cx.spc_resource(),
        format!(
            "SecretProviderClass {} reads Key Vault as {who}: every pod on those nodes shares it and Key Vault logs cannot tell workloads apart",
            cx.spc_name
        ),
        vec![format!(
            "useVMManagedIdentity: true, userAssignedIdentityID: {}",
            user_assigned.as_deref().unwrap_or("(none)")
        )],
    );
    // A static pod has no service account to federate (KVC207): moving its SPC to workload
    // identity would break the mount, so the move is to a DaemonSet first.
    if let Some(node) = cx.pod.static_node() {
        f.message = format!(
            "{}; pod {} is a static pod of node {node}, which has no service account: the node identity is the only one it can mount with",
            f.message, cx.pod.name
        )
        .into();
        f.fix = format!(
            "# nothing to change for this static pod; for an identity of its own, run it as a DaemonSet (nodeSelector kubernetes.io/hostname: {node}) with a federated ServiceAccount and move SecretProviderClass {} to its clientID",
            cx.spc_name
        )
        .into();
    }
    link.findings.push(f);
}

/// Whose nodePublishSecretRef the provider would read.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pods {
    /// This chain's pod: its volume's ref (or none) is known.
    Mounting,
    /// A SecretProviderClass checked on its own: pods of its namespace name an unrendered
    /// SecretProviderClass (`${SPC}`) and may mount it once rendered, not all with a ref.
    MaybeMounting,
    /// A SecretProviderClass checked on its own: no pod in the input mounts it.
    NoneSeen,
}

/// Check the SPC's parameters as the provider would, set `cx.mode`, and push one finding per
/// kind of problem: invalid (KVC302), deprecated pod identity (KVC304), ignored keys (KVC305),
/// unrendered template values (KVC306), no identity at all on an SPC no pod mounts (KVC307).
pub(crate) fn parameters(cx: &mut Ctx, link: &mut Link, pods: Pods) {
    let Some(p) = cx.params.clone() else { return };
    let nps = match pods {
        Pods::Mounting => Some(cx.node_publish_secret),
        Pods::MaybeMounting | Pods::NoneSeen => None,
    };
    let (mode, mut problems) = auth_mode(&p, nps, remedy::tenant_key_to_edit(cx));
    cx.mode = mode;
    problems.extend(super::cloud::check(cx, &p, pods == Pods::Mounting, link));
    super::miscased::name_in(cx, &mut problems);
    // The tenant each tenant fix names: the identity's home tenant (FACTS §11), looked up
    // only when a fix names it (most groups have no problem at all).
    if problems.iter().any(|pr| pr.fix.contains(TENANT)) {
        let tenant = remedy::home_tenant(cx);
        for pr in &mut problems {
            pr.fix = pr.fix.replace(TENANT, &tenant);
        }
    }
    // The service account's identity annotations are part of the template too.
    let sa_unrendered = match pods {
        Pods::Mounting => super::sa_template::unrendered(cx),
        Pods::MaybeMounting | Pods::NoneSeen => Vec::new(),
    };
    // An unrendered name is an unrendered value like the parameters (a volume naming it is
    // told so by KVC101): said first, with the other template values.
    if let Some(spc) = cx.spc.filter(|s| params::is_placeholder(&s.name)) {
        problems.insert(
            0,
            problem(
                Code::KVC306,
                format!("metadata.name: {}", spc.name),
                "metadata.name: <the SecretProviderClass's name>",
            ),
        );
    }
    // A namespace still a placeholder (`$SA_NAMESPACE` from a guide's heredoc) places the SPC
    // and its pods in no namespace that can exist; the files are read as one namespace so the
    // rest is still judged, but every command naming it waits on the rendering.
    if let Some(spc) = cx.spc.filter(|s| params::is_placeholder(&s.namespace)) {
        problems.insert(
            0,
            problem(
                Code::KVC306,
                format!("metadata.namespace: {}", spc.namespace),
                "metadata.namespace: <the namespace> (in every manifest that has it)",
            ),
        );
    }
    // `secretObjects` are part of the SPC's template too (README: placeholders are reported
    // once, here, and not validated: no KVC905/KVC801 judges them as real names).
    for so in cx.spc.iter().flat_map(|s| &s.secret_objects) {
        let fields = std::iter::once(("secretName", so.secret_name.as_str())).chain(
            so.data.iter().flat_map(|d| {
                [
                    ("objectName", d.object_name.as_str()),
                    ("key", d.key.as_str()),
                ]
            }),
        );
        for (field, v) in fields.filter(|(_, v)| params::is_placeholder(v)) {
            // The CRD's own path: objectName and key live under `data[]`.
            let path = match field {
                "secretName" => format!("secretObjects[{}].secretName", so.secret_name),
                _ => format!("secretObjects[{}].data[].{field}", so.secret_name),
            };
            problems.push(problem(
                Code::KVC306,
                format!("{path}: {v}"),
                format!("{path}: <a real value>"),
            ));
        }
    }
    // `useWorkloadIdentity` is what the author meant by "workload identity", and why no
    // credential is named: one cause, told on the credential finding (not again as KVC305).
    let meant_wi = problems.iter().any(|pr| pr.fix == EITHER_CREDENTIAL)
        && cx.spc.is_some_and(|s| s.parameters.contains_key(MEANT_WI));
    // So is an identity written in userAssignedIdentityID with the VM flag off (audit LLL1).
    let meant_uai = (super::auth_params::unread_user_assigned(&p))
        .filter(|_| !meant_wi && problems.iter().any(|pr| pr.fix == EITHER_CREDENTIAL));
    for code in [Code::KVC302, Code::KVC304, Code::KVC306, Code::KVC307] {
        let mine: Vec<&Problem> = problems.iter().filter(|pr| pr.code == code).collect();
        if mine.is_empty() {
            if code == Code::KVC306 && !sa_unrendered.is_empty() {
                link.findings
                    .push(super::sa_template::finding(cx, &sa_unrendered));
            }
            continue;
        }
        let (mut confirm, _) = remedy::commands(cx, code);
        if code == Code::KVC306 {
            confirm = unrendered_confirm(cx, &mine);
        }
        // Service-principal mode's nodePublishSecretRef lives on the pods' csi volumes, not
        // in the SPC (FACTS §5, the CRD): with the pods known, the SPC edit keeps the
        // clientID half and the volumes are named apart ([`remedy::unreferenced`]).
        let sp_volumes = match pods {
            Pods::Mounting if mine.iter().any(|pr| pr.fix == EITHER_CREDENTIAL) => {
                remedy::unreferenced(cx)
            }
            _ => None,
        };
        let mut hints = mine
            .iter()
            .map(|pr| match sp_volumes {
                Some(_) if pr.fix == EITHER_CREDENTIAL => EITHER_CLIENT_ID,
                _ => pr.fix.as_str(),
            })
            .collect::<Vec<_>>()
            .join("; ");
        // The identity the pod's service account may use: its annotation, or a federated
        // credential for it (audit N3: no placeholder the snapshot can fill).
        let usable = match pods {
            Pods::Mounting => remedy::usable_client_id(cx),
            Pods::MaybeMounting | Pods::NoneSeen => None,
        };
        if let Some(c) = usable {
            hints = hints
                .replace("<workload identity clientId>", c)
                .replace("<identity clientId>", c)
                .replace("<the identity's clientId>", c);
        }
        let subject = match pods {
            Pods::Mounting => cx.subject(),
            Pods::MaybeMounting | Pods::NoneSeen => {
                "the mounting pods' service account".to_string()
            }
        };
        let mut hints = hints.replace("{subject}", &subject);
        let mut evidence: Vec<String> = mine.iter().map(|pr| pr.observed.clone()).collect();
        if let Some(id) = meant_uai.filter(|_| mine.iter().any(|pr| pr.fix == EITHER_CREDENTIAL)) {
            let vm = format!(
                "either useVMManagedIdentity: \"true\" (the identity userAssignedIdentityID names, {id}, is read only then: it must be assigned to the nodes' scale set), or clientID:"
            );
            hints = (hints.replace("<workload identity clientId>", id)).replacen(
                "either clientID:",
                &vm,
                1,
            );
            evidence.push(format!(
                "parameters.userAssignedIdentityID: {id}, read only with useVMManagedIdentity: \"true\""
            ));
        }
        if meant_wi && mine.iter().any(|pr| pr.fix == EITHER_CREDENTIAL) {
            hints = format!("remove {MEANT_WI} (not read) and set {hints}");
            evidence.push(format!(
                "parameters.{MEANT_WI}: not a provider parameter, it selects no identity (clientID does)"
            ));
        }
        let mut fix = match code {
            // aad-pod-identity still mounts where NMI runs: a bare usePodIdentity/clientID
            // edit breaks that mount (no federated credential, no read access: FACTS §7, §8),
            // so the move brings them first, as KVC303's does.
            Code::KVC304 => remedy::switch_to_workload_identity(cx, remedy::Leaving::PodIdentity),
            _ => remedy::edit_spc(cx, &hints),
        };
        if let Some(volumes) = &sp_volumes {
            let client_hint = hints.strip_prefix("either ").unwrap_or(&hints);
            let sole = mine.len() == 1;
            let known = usable.is_some() || meant_wi || meant_uai.is_some();
            fix = volumes.fix(cx, &fix, client_hint, sole, known);
        }
        let mut message = match code {
            Code::KVC306 => format!(
                "SecretProviderClass {} holds unrendered template values ({}): render the template (envsubst, helm template, the guide's export steps) before applying; kvchain does not validate these fields",
                cx.spc_name,
                evidence.join(", ")
            ),
            Code::KVC302 if pods == Pods::Mounting => format!(
                "SecretProviderClass {} (merged with pod volumeAttributes): {}",
                cx.spc_name,
                evidence.join("; ")
            ),
            _ => format!(
                "SecretProviderClass {}: {}",
                cx.spc_name,
                evidence.join("; ")
            ),
        };
        if code == Code::KVC306 {
            let parts = super::sa_template::Parts {
                message: &mut message,
                evidence: &mut evidence,
                confirm: &mut confirm,
                fix: &mut fix,
            };
            super::sa_template::fold_into(cx, parts, &sa_unrendered);
        }
        // Not validated is not healthy: a container seen stuck on a Secret an unrendered
        // entry makes is the failure itself, said here as the cause (one cause, one finding).
        let stuck = match (code, cx.spc) {
            (Code::KVC306, Some(spc)) if pods == Pods::Mounting && !cx.template => {
                params::stuck_on_unrendered(spc, cx.pod)
            }
            _ => Vec::new(),
        };
        let message = match stuck.is_empty() {
            true => message,
            false => format!(
                "{message}; a container of pod {} cannot start on it (see the kubelet's words)",
                cx.pod.name
            ),
        };
        let escalate = !stuck.is_empty();
        evidence.extend(stuck);
        let mut f = cx.finding(code, cx.spc_resource(), message, evidence, confirm, fix);
        if escalate {
            f.severity = crate::chain::model::Severity::Error;
        }
        // Wrong, but not read in this identity mode (a junk tenant with a VM's identity).
        if mine.iter().all(|pr| pr.harmless) {
            f.severity = crate::chain::model::Severity::Warning;
        }
        // With no pod in sight, service-principal mode (the pods' refs) is as likely as a
        // forgotten clientID: a note, unless useWorkloadIdentity shows workload identity was
        // meant (upstream service-principal examples set usePodIdentity: "false" and no pod).
        if code == Code::KVC307 && pods == Pods::NoneSeen && !meant_wi {
            f.severity = crate::chain::model::Severity::Info;
        }
        if code == Code::KVC304 && pods == Pods::Mounting {
            super::pod_identity::unbound(cx, &mut f);
        }
        link.findings.push(f);
    }
    ignored_keys(cx, link, meant_wi, meant_uai.is_some());
    if pods == Pods::Mounting {
        super::volume_params::check(cx, link);
    }
}

/// KVC306's confirm shows where the placeholders are: `.spec.parameters` holds none of
/// `secretObjects` nor the name, so it prints the whole SPC filtered (docs/codes.yaml) unless
/// every one is a parameter, or every one is in `secretObjects`.
fn unrendered_confirm(cx: &Ctx, mine: &[&Problem]) -> String {
    let all_in = |prefix: &str| mine.iter().all(|pr| pr.observed.starts_with(prefix));
    if all_in("secretObjects[") {
        remedy::show_spc(cx, "{.spec.secretObjects}")
    } else if mine.iter().all(|pr| {
        !pr.observed.starts_with("secretObjects[") && !pr.observed.starts_with("metadata.")
    }) {
        remedy::commands(cx, Code::KVC306).0
    } else {
        remedy::get_spc(cx, "-o yaml | grep -E '\\$|<'")
    }
}

/// The parameter blog posts use to "turn on" workload identity; the provider never reads it.
const MEANT_WI: &str = "useWorkloadIdentity";

/// KVC305: keys of the SPC's own parameters the provider never reads (`told_wi`: leave out
/// `useWorkloadIdentity`, already named as the reason no credential is set; `told_uai`: leave
/// out `userAssignedIdentityID`, named in that credential's fix).
fn ignored_keys(cx: &Ctx, link: &mut Link, told_wi: bool, told_uai: bool) {
    let Some(spc) = cx.spc else { return };
    // A miscased required key is told where its absence is (KVC302, [`super::miscased`]).
    let told = |k: &str| {
        cx.params
            .as_deref()
            .is_some_and(|p| super::miscased::stands_for(p, k).is_some())
    };
    // The mode a clientID waits on, and the finding whose fix moves off it.
    let mut waits_on: Option<(&str, &str)> = None;
    let mut unknown = params::unknown(
        spc.parameters
            .keys()
            .map(String::as_str)
            .filter(|k| !(told(k) || (told_wi && *k == MEANT_WI))),
    );
    // A key near an identity-mode flag (`useManagedIdentity`) beside a clientID in use: the
    // flag, set, takes precedence and clientID is then not read (FACTS §5), so the rename
    // would move a working workload-identity chain to the node's or pod identity. The key
    // changes nothing now: it is removed, never renamed (audit UU5).
    if matches!(
        cx.mode,
        AuthMode::WorkloadIdentity { .. } | AuthMode::TokenProxy { .. }
    ) {
        for u in &mut unknown {
            let meant = u.hint.as_deref().and_then(did_you_mean);
            if let Some(flag @ ("useVMManagedIdentity" | "usePodIdentity")) = meant {
                u.hint = Some(format!(
                    "not {flag}: set, that identity mode would take precedence and clientID, the identity in use, would no longer be read"
                ));
            }
        }
    }
    // Read by the provider only for a VM managed identity (FACTS §5): elsewhere it is as
    // unread as an unknown key, though it looks like it picks the identity.
    if let Some(p) = cx.params.as_deref()
        && p.user_assigned_identity_id.is_some()
        && !super::pod::truthy(&p.use_vm_managed_identity)
        && !told_uai
    {
        // What does choose the identity, in the mode the provider takes (FACTS §5).
        let chooser = match &cx.mode {
            AuthMode::PodIdentity => {
                "pod identity: the AzureIdentityBinding matched by the pod's aadpodidbinding label chooses the identity"
            }
            AuthMode::WorkloadIdentity { .. } => "workload identity: clientID is the identity",
            AuthMode::TokenProxy { .. } => "identity binding: clientID is the identity",
            AuthMode::ServicePrincipal { .. } => {
                "service-principal mode: the credentials in nodePublishSecretRef are the identity"
            }
            _ => {
                "the identity here is chosen by clientID (workload identity) or nodePublishSecretRef (service principal)"
            }
        };
        unknown.push(params::Unknown {
            key: "userAssignedIdentityID",
            hint: Some(format!(
                "read only with useVMManagedIdentity: \"true\"; {chooser}"
            )),
        });
    }
    // The mirror case: with a VM's identity or pod identity on, the provider never reads
    // clientID (FACTS §5: workload identity only when no mode is set), though it looks like
    // a move to workload identity. Several modes at once are KVC302's; a mode the pod volume
    // turns on over the SPC's clientID is KVC303's (its fix removes the override).
    let own = &spc.parsed;
    if own.client_id.is_some() {
        let on = match &cx.mode {
            AuthMode::VmIdentity { user_assigned }
                if super::pod::truthy(&own.use_vm_managed_identity) =>
            {
                Some((
                    "useVMManagedIdentity",
                    match user_assigned {
                        Some(_) => "the node identity userAssignedIdentityID names is used",
                        None => "the node scale set's system-assigned identity is used",
                    },
                    "KVC303",
                ))
            }
            AuthMode::PodIdentity if super::pod::truthy(&own.use_pod_identity) => Some((
                "usePodIdentity",
                "the AzureIdentityBinding matched by the pod's aadpodidbinding label chooses the identity",
                "KVC304",
            )),
            _ => None,
        };
        if let Some((flag, chooser, move_code)) = on {
            unknown.push(params::Unknown {
                key: "clientID",
                hint: Some(format!(
                    "read only when no identity mode is set, for workload identity; with {flag}: \"true\" {chooser}"
                )),
            });
            waits_on = Some((flag, move_code));
        }
    }
    if unknown.is_empty() {
        return;
    }
    let described: Vec<String> = unknown.iter().map(params::Unknown::described).collect();
    let suggested: Vec<String> = unknown
        .iter()
        .map(|u| match u.key {
            MEANT_WI => meant_wi_fix(cx),
            // Meant as the move to workload identity, most likely: say what completes it.
            "clientID" if let Some((flag, code)) = waits_on => {
                format!(
                    "remove clientID, or, to use it, set {flag}: \"false\" once its identity has what {code}'s fix creates first (federated credential, read access)"
                )
            }
            // A did-you-mean names the key meant; a key that is simply not read (or
            // read in another mode only) has nothing to become.
            key => match u.hint.as_deref().and_then(did_you_mean) {
                // A flag meant as its default ("false"): the rename would change nothing.
                Some(meant)
                    if meant.starts_with("use")
                        && (cx.spc.and_then(|s| s.parameters.get(key)))
                            .is_some_and(|v| v.trim().eq_ignore_ascii_case("false")) =>
                {
                    format!("remove {key} ({meant} is \"false\" unless set: renaming it changes nothing)")
                }
                Some(meant) => format!("rename {key} to {meant}"),
                None if u.hint.is_some() => format!("remove {key}"),
                None => format!("remove or rename {key}"),
            },
        })
        .collect();
    let (confirm, _) = remedy::commands(cx, Code::KVC305);
    link.findings.push(cx.finding(
        Code::KVC305,
        cx.spc_resource(),
        format!(
            "SecretProviderClass {} has parameters the Azure provider does not read, so they change nothing: {}",
            cx.spc_name,
            described.join("; ")
        ),
        unknown.iter().map(|u| format!("parameters.{}", u.key)).collect(),
        confirm,
        remedy::edit_spc(cx, &suggested.join("; ")),
    ));
}

/// What to do with `useWorkloadIdentity`: drop it where a clientID (even a miscased one)
/// already selects workload identity, else put the identity's client id in its place — the
/// one the pod's service account can use when the snapshot knows it.
fn meant_wi_fix(cx: &Ctx) -> String {
    let has_client = cx.params.as_deref().is_some_and(|p| p.client_id.is_some())
        || super::miscased::written_for(cx, "clientID").is_some();
    if has_client {
        return format!("remove {MEANT_WI} (clientID already selects workload identity)");
    }
    match remedy::usable_client_id(cx) {
        Some(c) => format!("replace {MEANT_WI} with clientID: {c}"),
        None => format!("replace {MEANT_WI} with clientID: <the workload identity's client id>"),
    }
}

/// The parameter a KVC305 hint suggests (`did you mean keyvaultName? …`).
fn did_you_mean(hint: &str) -> Option<&str> {
    let rest = hint.strip_prefix("did you mean ")?;
    rest.split_once('?').map(|(k, _)| k)
}
