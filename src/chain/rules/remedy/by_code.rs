//! The default confirm and fix commands of each code (see the parent module): one arm per
//! code, the longer fixes in modules of their own (KVC902's in `reloader`, the remount in
//! `remount`, the webhook's label in `webhook`).

use super::remount::{remount, rotation_off};
use super::webhook::{install_webhook, label_fix, pod_labels_and_env, webhook_config};
use super::*;
use crate::chain::context::AuthMode;

/// Default confirm/fix for a code in this chain.
pub(crate) fn commands(cx: &Ctx, code: Code) -> (String, String) {
    use Code::*;
    let ns = cx.ns();
    let kv = &*cx.keyvault_arg();
    match code {
        KVC101 => (
            format!(
                "kubectl get secretproviderclass -n {ns} && kubectl get secretproviderclass -A --field-selector metadata.name={}",
                sh_word(cx.spc_name)
            ),
            apply_spc_file(ns, cx.spc_name),
        ),
        KVC102 => (
            format!(
                "kubectl get {} -n {ns} -o jsonpath='{{{}.containers[*].volumeMounts}}'",
                cx.owner_kubectl(),
                cx.pod_spec_path()
            ),
            edit_owner(cx, "mount the volume as a directory: remove subPath"),
        ),
        KVC103 => (
            format!(
                "kubectl get {} -n {ns} -o jsonpath='{{{}.volumes}}'",
                cx.owner_kubectl(),
                cx.pod_spec_path()
            ),
            super::wiring::kvc103_fix(cx),
        ),
        KVC104 => (install_confirm(cx), install_fix(cx)),
        KVC105 => (
            "kubectl get csidriver secrets-store.csi.k8s.io -o jsonpath='{.spec.tokenRequests}'".to_string(),
            token_requests_fix(cx),
        ),
        KVC106 => (
            format!(
                "kubectl get events -n {ns} --field-selector reason=FailedCreate -o custom-columns=OBJECT:.involvedObject.name,MESSAGE:.message"
            ),
            edit_owner(cx, "what the FailedCreate message names (service account, webhook annotations, hostNetwork…)"),
        ),
        KVC107 => (
            format!(
                "kubectl describe pod {} -n {ns} | grep -A3 FailedScheduling; kubectl get nodes --show-labels",
                cx.pod.name
            ),
            edit_owner(
                cx,
                "make nodeSelector, affinity and tolerations match a node pool that exists (or add that pool); drop a nodeName of a node that does not exist",
            ),
        ),
        KVC108 => (
            format!("kubectl describe pod {} -n {ns} | grep -A3 FailedMount", cx.pod.name),
            edit_owner(cx, "repair the volume the FailedMount message names (create its Secret, fix its items key, or mark the source optional), or drop it"),
        ),
        // The rule fills both in with the Secret and the container (env_secrets).
        KVC109 => (
            format!("kubectl get pod {} -n {ns} -o jsonpath='{{.status.containerStatuses[*].state.waiting}}'", cx.pod.name),
            edit_owner(cx, "name a Secret (and key) that exists in the container's env, or set optional: true"),
        ),
        KVC201 => (
            match cx.pod_template_path() {
                Some(t) if cx.template => format!(
                    "kubectl get {} -n {ns} -o jsonpath='{{{t}.metadata.labels}}'",
                    cx.owner_kubectl()
                ),
                _ => pod_labels_and_env(cx),
            },
            label_fix(cx),
        ),
        // The label is there (the finding says so): what is missing is the webhook's
        // mutation, which only a pod created while the webhook runs gets (FACTS §6).
        KVC205 => (
            match cx.cluster().workload_identity_webhook.known() {
                // Installed: what is left to see is its configuration, which decides what it
                // skips (a selector, failurePolicy), and when it was created.
                Some(true) => format!("{} && {}", pod_labels_and_env(cx), webhook_config()),
                _ => format!(
                    "{} && kubectl get mutatingwebhookconfiguration | grep azure-wi",
                    pod_labels_and_env(cx)
                ),
            },
            match cx.cluster().workload_identity_webhook.known() {
                Some(false) => format!(
                    "{} && {}  # the webhook mutates pods on CREATE only",
                    install_webhook(cx),
                    restart(cx)
                ),
                // Nothing to install: re-admitting the pod (a new one, created while the
                // webhook runs and the label is on the template) is what mutates it.
                Some(true) => format!(
                    "{}  # the webhook mutates pods on CREATE only: the new pods are admitted with the label; if they come up without the token too, its configuration leaves them out (the confirm shows its failurePolicy and selectors)",
                    restart(cx)
                ),
                None => format!(
                    "{}  # the webhook mutates pods on CREATE only; if kubectl get mutatingwebhookconfiguration | grep azure-wi finds nothing, install it first: {}",
                    restart(cx),
                    install_webhook(cx)
                ),
            },
        ),
        KVC207 => {
            let node = cx.pod.static_node().unwrap_or("(unknown)");
            let client = cx.params.as_deref().and_then(|p| p.client_id.as_deref()).unwrap_or("<clientID>");
            (
                format!(
                    "kubectl get pod {} -n {ns} -o jsonpath='{{.metadata.annotations}} {{.metadata.ownerReferences[*].kind}} {{.spec.serviceAccountName}}'",
                    cx.pod.name
                ),
                format!(
                    "# run it as a DaemonSet (nodeSelector kubernetes.io/hostname: {node} keeps it on that node) whose ServiceAccount carries azure.workload.identity/client-id: {client} and has a federated credential; then remove its manifest from {node}'s staticPodPath (/etc/kubernetes/manifests by default)"
                ),
            )
        }
        KVC206 => (
            format!(
                "kubectl get pod {} -n {ns} -o jsonpath='{{.spec.initContainers[*].env[?(@.name==\"AZURE_TENANT_ID\")].value}} {{.spec.containers[*].env[?(@.name==\"AZURE_TENANT_ID\")].value}}' && kubectl get serviceaccount {} -n {ns} -o jsonpath='{{.metadata.annotations}}'",
                cx.pod.name,
                sh_word(&cx.pod.service_account)
            ),
            super::reinject(cx),
        ),
        KVC202 => (
            format!(
                "kubectl get serviceaccount {} -n {ns}",
                cx.pod.service_account
            ),
            match annotated_sa(cx) {
                // One already carries this clientID: use it rather than create a twin.
                Some(sa) => edit_owner(cx, &format!("serviceAccountName: {sa}")),
                None => {
                    let sa = &cx.pod.service_account;
                    let create = format!("kubectl create serviceaccount {sa} -n {ns}");
                    // The CSI mount reads no annotation (FACTS §5): only a pod labelled for
                    // workload identity needs the client id, for its own SDK (the webhook).
                    let labelled = cx
                        .pod
                        .labels
                        .get("azure.workload.identity/use")
                        .is_some_and(|v| v == "true");
                    let spc_client = cx.params.as_deref().and_then(|p| p.client_id.as_deref());
                    match (labelled, spc_client) {
                        (false, _) => create,
                        (true, Some(id)) => format!(
                            "{create} && kubectl annotate serviceaccount {sa} -n {ns} azure.workload.identity/client-id={}",
                            sh_word(id)
                        ),
                        (true, None) => format!(
                            "{create}  # the pod is labelled for workload identity: annotate the account azure.workload.identity/client-id with the client id of the identity the app uses"
                        ),
                    }
                }
            },
        ),
        KVC203 | KVC204 => (
            format!(
                "kubectl get serviceaccount {} -n {ns} -o jsonpath='{{.metadata.annotations}}'",
                cx.pod.service_account
            ),
            // The webhook mutates pods on CREATE only (FACTS §6): running pods keep what
            // they were given until they are replaced.
            {
                // KVC204 moves the account to the SPC's identity: its tenant too, where the
                // pods would be given another (audit XE-ident).
                let tenant = match code {
                    KVC204 => crate::chain::rules::injected_tenant::to_annotate(
                        cx,
                        (cx.ix.service_accounts)
                            .get(&(ns, cx.pod.service_account.as_str()))
                            .copied(),
                        &client_id(cx),
                    ),
                    _ => String::new(),
                };
                let annotate = format!(
                    "kubectl annotate serviceaccount {} -n {ns} azure.workload.identity/client-id={}{tenant} --overwrite",
                    cx.pod.service_account,
                    client_word(cx)
                );
                // KVC204: only the pods that do not hold the id restart (audit X5); KVC203's
                // had none injected.
                let restart = match code {
                    KVC204 => super::restart::restart_sa_pods_not_holding(cx, &client_id(cx)),
                    _ => restart_sa_runners(cx),
                };
                // No webhook, no injection (FACTS §6): it is installed first, so the restart
                // gives the pods the id whichever order the fixes are pasted in (audit
                // RRR-facts: annotate and restart alone injected nothing).
                let annotate = match cx.cluster().workload_identity_webhook.known() {
                    Some(false) => format!("{} && {annotate}", install_webhook(cx)),
                    _ => annotate,
                };
                match restart.strip_prefix("# ") {
                    Some(note) => format!("{annotate}  # {note}"),
                    None => format!("{annotate} && {restart}"),
                }
            },
        ),
        KVC301 => (
            // A service principal is an app registration, which `az identity list` (managed
            // identities) never lists: its Secret's clientid is looked up as one.
            service_principal_show(cx).map_or_else(
                || super::identity_list(&client_id(cx), ".{name:name,rg:resourceGroup}\" -o table"),
                |sp| format!("{sp} --query \"{{name:displayName,appId:appId,tenant:appOwnerOrganizationId}}\" -o table"),
            ),
            match cx.mode {
                // Node identity mode reads userAssignedIdentityID, never clientID (FACTS §5).
                AuthMode::VmIdentity { .. } => edit_spc(cx, "parameters.userAssignedIdentityID: the clientId of a managed identity assigned to the node pool's scale set (the AKS add-on's: az aks show --query addonProfiles.azureKeyvaultSecretsProvider.identity.clientId)"),
                _ => edit_spc(cx, "parameters.clientID: the clientId of an existing managed identity (az identity show -g <rg> -n <name> --query clientId -o tsv)"),
            },
        ),
        KVC302 => (
            get_spc(cx, "-o yaml"),
            edit_spc(cx, "fix the parameters named in the message"),
        ),
        KVC304 => (
            get_spc(cx, "-o jsonpath='{.spec.parameters.usePodIdentity}' && kubectl get azureidentitybinding -A"),
            // The same move as KVC303's: a bare usePodIdentity/clientID edit breaks a mount
            // that works where aad-pod-identity still runs.
            switch_to_workload_identity(cx, Leaving::PodIdentity),
        ),
        KVC305 | KVC306 => (
            get_spc(cx, "-o jsonpath='{.spec.parameters}'"),
            edit_spc(cx, "the parameters named in the message"),
        ),
        KVC307 => (
            get_spc(cx, "-o yaml"),
            // One edit, the two modes offered in its note (audit N3).
            edit_spc(cx, &crate::chain::rules::auth_params::EITHER_CREDENTIAL.replace("{subject}", "the mounting pods' service account")),
        ),
        KVC303 => (
            match cx.mode {
                // The application routing add-on's identity (audit AAA6).
                _ if cx.spc.and_then(|s| s.controller.as_ref()).is_some_and(|o| o.kind == "Ingress") => {
                    format!("az aks show {} --query ingressProfile.webAppRouting.identity", aks_args(cx))
                }
                // The scale sets' own identity, where IMDS looks without a client id.
                AuthMode::VmIdentity { user_assigned: None } => {
                    let rg = super::node_rg(cx);
                    rg.before(&format!("az vmss list {} --query \"[].{{vmss:name,identity:identity.type,principalId:identity.principalId}}\" -o table", rg.args))
                }
                _ => format!("az aks show {} --query addonProfiles.azureKeyvaultSecretsProvider.identity", aks_args(cx)),
            },
            // Its own identity per workload, with what workload identity needs before the
            // switch (a bare clientID edit would break a working mount). Unless the SPC is the
            // AKS application routing operator's, made for an Ingress: it reads with the
            // add-on's identity by design, and nothing on the Ingress changes that (audit AAA6).
            match cx.spc.and_then(|s| s.controller.as_ref()) {
                Some(owner) if owner.kind == "Ingress" => format!(
                    "# nothing to move: SecretProviderClass {} is made by the AKS application routing add-on for Ingress {} (its kubernetes.azure.com/tls-cert-keyvault-uri annotation) and reads Key Vault with the add-on's own managed identity by design; no setting of the Ingress moves it to workload identity, and a patch here is reconciled back. Keep that identity's access to vault {} alone (az aks approuting update --attach-kv grants it per vault)",
                    cx.spc_name,
                    owner.name,
                    cx.keyvault()
                ),
                _ => switch_to_workload_identity(cx, Leaving::NodeIdentity),
            },
        ),
        KVC401 => (fic_list(cx), fic_create(cx)),
        KVC402 => (
            format!("{} && echo {}", fic_list(cx), cluster_issuer(cx)),
            fic_update(cx, &format!("--issuer {}", cluster_issuer(cx))),
        ),
        KVC403 => (
            fic_list(cx),
            fic_update(cx, &format!("--audiences {AUDIENCE}")),
        ),
        KVC404 => (
            format!(
                "{} && az keyvault show -n {kv} --query properties.tenantId -o tsv",
                home_tenant_lookup(cx)
            ),
            edit_spc(cx, &format!(
                "parameters.{}: {}",
                cx.tenant_key(),
                cx.identity
                    .map(|i| i.tenant_id.as_str())
                    .or(cx.vault.map(|v| v.tenant_id.as_str()))
                    .or_else(|| cluster_tenant(cx))
                    .map_or_else(|| "the tenantId that az identity list prints".to_string(), str::to_string)
            )),
        ),
        KVC405 => (
            format!(
                "{} --query \"[].{{name:name,issuer:issuer,subject:subject,audiences:join(',',audiences)}}\"",
                fic_list(cx)
            ),
            format!(
                "{}  # a credential with exactly the presented issuer, subject and audience; or correct the one that differs",
                fic_create(cx)
            ),
        ),
        KVC406 => (
            format!(
                "az keyvault show -n {kv} --query properties.tenantId -o tsv && {}",
                home_tenant_lookup(cx)
            ),
            crate::chain::rules::federation::cross_tenant_fix(
                cx,
                cx.vault.map_or("the vault's tenant", |v| v.tenant_id.as_str()),
            ),
        ),
        KVC501 | KVC502 | KVC503 => {
            let confirm = access_confirm(cx, &principal(cx));
            let fix = with_principal(&principal(cx), |who| {
                if cx.vault.is_some_and(|v| !v.rbac) {
                    set_policy(cx, kv, who, &types_needed(cx, None))
                } else {
                    grant_roles_to(cx, who, &roles_needed(cx, None))
                }
            });
            (confirm, fix)
        }
        KVC504 => (
            format!("az role assignment list --assignee {} --all -o table", principal(cx)),
            with_principal(&principal(cx), |who| format!(
                "{} && az role assignment delete --assignee {who} --role \"$OVER_PRIVILEGED_ROLE\" --scope \"$ITS_SCOPE\"",
                grant_roles_to(cx, who, &roles_needed(cx, None)),
            )),
        ),
        KVC505 => network::firewall_commands(cx),
        KVC506 => (
            format!(
                "nslookup {} ; az keyvault list --query \"[].name\" -o tsv",
                network::vault_host(cx, kv)
            ),
            network::rename_vault(cx, network::nearest_vault(cx, kv)),
        ),
        KVC601 | KVC602 | KVC603 | KVC604 => (
            format!("az keyvault secret list -o table --vault-name {kv}"),
            edit_spc(cx, "objects: objectName/objectVersion of an existing, enabled object"),
        ),
        KVC701 => (
            format!("kubectl describe pod {} -n {ns}", cx.pod.name),
            format!(
                "{}  # the provider's full error",
                super::driver_install::provider_log(cx)
            ),
        ),
        KVC702 => (
            "kubectl get ds -n kube-system -o yaml | grep -e enable-secret-rotation -e rotation-poll-interval".to_string(),
            driver_setting(cx, "--enable-secret-rotation", &["enableSecretRotation=true"]),
        ),
        KVC703 => {
            let status = format!(
                "kubectl get secretproviderclasspodstatus {}-{ns}-{} -n {ns} -o jsonpath='{{.status.objects}}'",
                cx.pod.name, cx.spc_name
            );
            // Rotation off is KVC702's to fix; on (or not known off), it fails somewhere only
            // the driver log tells.
            if rotation_off(cx) {
                (status, remount(cx))
            } else {
                (
                    format!("{status} && {}", rotation::DRIVER_LOG),
                    rotation_stuck_fix(cx),
                )
            }
        }
        KVC704 => (
            format!(
                "kubectl get events -n {ns} --field-selector reason=FailedMount  # {}",
                throttling::ROTATION_429S
            ),
            throttling::fix(cx),
        ),
        KVC705 | KVC706 => (
            show_spc(cx, "{.spec.parameters.objects}"),
            edit_spc(cx, "parameters.objects"),
        ),
        KVC707 => (
            format!(
                "kubectl get {} -n {ns} -o jsonpath='{{{}.containers[*].volumeMounts}}'",
                cx.owner_kubectl(),
                cx.pod_spec_path()
            ),
            edit_owner(
                cx,
                &format!(
                    "add a volumeMounts entry {{name: {}, mountPath: /mnt/secrets-store, readOnly: true}} to the container that needs it",
                    cx.volume.name
                ),
            ),
        ),
        KVC708 => message_size::commands(cx, None),
        KVC709 => crate::chain::rules::mount::status_crd::commands(),
        // Said only of an SPC checked on its own, with its StatefulSet's names (claim_replaced).
        KVC710 => (
            format!(
                "kubectl get statefulset -n {ns} -o 'custom-columns=NAME:.metadata.name,CLAIMS:.spec.volumeClaimTemplates[*].metadata.name,VOLUMES:.spec.template.spec.volumes[*].name'"
            ),
            "# rename the StatefulSet's CSI volume in spec.template.spec.volumes (and the volumeMounts meant for it) so no volumeClaimTemplates entry has its name".to_string(),
        ),
        KVC801 => (
            show_spc(cx, "{.spec.secretObjects}"),
            edit_spc(cx, "secretObjects[].data[].objectName: the mounted file name (objectAlias if set)"),
        ),
        // The file is there (else KVC801) but holds no private key: only the secret view of a
        // certificate does (FACTS §5), so that is what both keys must come from.
        KVC804 => (
            show_spc(cx, "{.spec.secretObjects}"),
            edit_spc(cx, "kubernetes.io/tls secretObjects: tls.key and tls.crt both from an objectType: secret object that backs a certificate (its PEM holds the private key and the chain)"),
        ),
        KVC802 => (
            format!(
                "kubectl get secretproviderclasspodstatus -n {ns} -o custom-columns=POD:.status.podName,SPC:.status.secretProviderClassName,MOUNTED:.status.mounted"
            ),
            format!("# keep at least one running pod that mounts SecretProviderClass {} (no mount, no Secret)", cx.spc_name),
        ),
        KVC803 | KVC903 => (
            format!("kubectl get secret -n {ns} -l secrets-store.csi.k8s.io/managed=true -o 'custom-columns=NAME:.metadata.name,OWNERS:.metadata.ownerReferences[*].name'"),
            match code {
                KVC903 => format!("# mount SecretProviderClass {} in every workload that uses the synced Secret", cx.spc_name),
                // An Ingress mounts nothing: the Secret lives as long as its owners do (the
                // mounting pods' owners, or a bare pod itself; FACTS §2, §11). Shared by every
                // chain of the SPC, so it names no one pod's owner.
                _ => format!(
                    "# keep what mounts SecretProviderClass {} in namespace {ns} running from a workload (its pods' owners own the Secret: deleting or renaming them deletes it, and a pod nothing owns takes it along); an Ingress cannot mount a volume",
                    cx.spc_name
                ),
            },
        ),
        KVC805 => (
            format!("kubectl get secret -n {ns} -o 'custom-columns=NAME:.metadata.name,UPDATED:.metadata.managedFields[*].time'"),
            {
                // FACTS §4: without rotation, delete the Secret and remount; with it turned
                // on, the driver updates the Secret at its next poll (KVC702 says how).
                let rotation_off = super::rotation_off(cx);
                let mut fix = super::remount::remount_readers(cx);
                if rotation_off {
                    fix.push_str("; or enable secret rotation (KVC702), after which the driver updates it at its next poll");
                }
                fix
            },
        ),
        KVC806 => (
            sync_failure_confirm(ns, "FailedToCreateSecret"),
            match install(cx) {
                // The add-on always ships the syncing RBAC: the cause is in the driver's log.
                // The remount's pod step: a bare pod is recreated, not lost (audit DD4).
                Some(DriverInstall::AksAddon) => {
                    let (pod, recreated) = super::remount::pod_step(cx);
                    let recreated = recreated.map(|n| format!("; {n}")).unwrap_or_default();
                    format!(
                        "{pod}  # the AKS add-on grants the driver the RBAC to write Secrets: fix what the driver log names, then remount{recreated}"
                    )
                }
                Some(DriverInstall::Helm) => driver_upgrade(cx, &["syncSecret.enabled=true"]),
                None => in_turn(&[
                    &driver_upgrade(cx, &["syncSecret.enabled=true"]),
                    "# Helm installs only; the AKS add-on grants the RBAC to write Secrets",
                ]),
            },
        ),
        KVC807 => (
            format!(
                "kubectl get secretproviderclass -n {ns} -o 'custom-columns=NAME:.metadata.name,SECRETS:.spec.secretObjects[*].secretName'"
            ),
            edit_spc(
                cx,
                "give this SPC's secretObjects[].secretName a name no other SPC writes, and point its readers at it",
            ),
        ),
        KVC904 => (
            format!("kubectl get secretproviderclasspodstatus,secret -n {ns}"),
            format!("# run a workload that mounts SecretProviderClass {} (its pods make the driver create the Secret)", cx.spc_name),
        ),
        KVC905 => (
            show_spc(cx, "{.spec.secretObjects}"),
            edit_owner(
                cx,
                "secretKeyRef.key / items[].key: a key the synced Secret has (its SecretProviderClass's secretObjects[].data[].key)",
            ),
        ),
        KVC901 => (
            format!(
                "kubectl get pod {} -n {ns} -o jsonpath='{{.status.containerStatuses[*].state.running.startedAt}}'",
                cx.pod.name
            ),
            restart(cx),
        ),
        KVC902 => reloader::commands(cx),
    }
}

/// What prints the home tenant of the identity the provider signs in as: a managed
/// identity's `tenantId`, or, in service-principal mode, the tenant its app registration
/// lives in (`appOwnerOrganizationId` of the Secret's application, FACTS §5, §11).
fn home_tenant_lookup(cx: &Ctx) -> String {
    service_principal_show(cx).map_or_else(
        || super::identity_list(&client_id(cx), ".tenantId\" -o tsv"),
        |sp| format!("{sp} --query appOwnerOrganizationId -o tsv"),
    )
}

/// `kubectl apply` of the file that defines SecretProviderClass `spc`, a file no input read
/// names: a shell variable the user sets (as `$VALUE_FILE` elsewhere). `<file defining …>`
/// was a redirection to bash, which refused the whole line (audit III2).
pub(crate) fn apply_spc_file(ns: &str, spc: &str) -> String {
    format!(
        "kubectl apply -n {ns} -f \"$SPC_FILE\"  # SPC_FILE: the manifest file defining SecretProviderClass {spc}"
    )
}

/// KVC806's confirm: the driver's events of `reason` and its log. The SPCPS controller's
/// create is `FailedToCreateSecret`; the ≤v1.5 rotation reconciler's failed patch of an
/// existing Secret is `SecretRotationFailed` (FACTS §3): a finding from that event lists it.
pub(crate) fn sync_failure_confirm(ns: &str, reason: &str) -> String {
    format!(
        "kubectl get events -n {ns} --field-selector reason={reason} && kubectl logs -n kube-system -l app=secrets-store-csi-driver -c secrets-store --tail=100"
    )
}
