//! Carrying out confirmed actions on the live cluster. The UI has already confirmed (and
//! refused writes in `--read-only`); here the target is checked against the latest snapshot,
//! the permission checked where that is cheap, and the action run. The attempt is recorded by
//! [`crate::source::audited`], as for every source.

use std::sync::Arc;

use kube::Client;
use tokio::sync::watch as twatch;

use super::azure_loop::VaultState;
use super::verify;
use super::watch::Shared;
use crate::action::keyvault;
use crate::action::keyvault::NewValue;
use crate::action::kube::KubeActions;
use crate::action::reveal::{RevealTarget, Revealed};
use crate::action::{Action, ActionOutcome};
use crate::chain::restart_plan::RestartPlan;
use crate::snapshot::{ObjectType, Observed, Snapshot};
use crate::source::PermissionQuestion;
use crate::source::azure::VaultAccess;
use crate::source::azure::permissions::VaultNeed;
use crate::source::azure::vault_access::VaultSecret;

/// What an action may use: the cluster, the view the user acted on, and Key Vault.
#[derive(Clone)]
pub struct Ctx {
    pub client: Client,
    pub latest: Option<Arc<Snapshot>>,
    pub vault: twatch::Receiver<VaultState>,
    pub shared: Arc<Shared>,
}

fn refused(message: String) -> ActionOutcome {
    ActionOutcome {
        ok: false,
        message,
        audit: None,
    }
}

fn loaded(ctx: &Ctx) -> Result<&Snapshot, String> {
    ctx.latest
        .as_deref()
        .ok_or_else(|| "the cluster is still loading; try again in a moment".to_string())
}

/// Key Vault, or why not: the same reason the Azure side of the snapshot is unknown.
fn vault_access(ctx: &Ctx) -> Result<Arc<VaultAccess>, String> {
    match &*ctx.vault.borrow() {
        VaultState::Ready(a) => Ok(a.clone()),
        VaultState::Starting => {
            Err("Azure credentials are still being checked; try again in a moment".into())
        }
        VaultState::Unavailable(why) => Err(format!("the Azure side is unavailable: {why}")),
    }
}

/// The `cloudName` the SecretProviderClasses give `vault` ("" ⇒ public cloud).
fn cloud_name_of(snapshot: Option<&Snapshot>, vault: &str) -> String {
    snapshot
        .into_iter()
        .flat_map(|s| &s.spcs.items)
        .filter(|s| {
            s.parsed
                .keyvault_name
                .as_deref()
                .is_some_and(|v| v.eq_ignore_ascii_case(vault))
        })
        .find_map(|s| s.parsed.cloud_name.clone())
        .unwrap_or_default()
}

/// Whether a rotation test of secret `object` in `vault` proves anything, judged on the
/// SecretProviderClasses that mount it: refused when none does, and when every one of them
/// would not see a new version (keys/certs, pinned `objectVersion`, certificate-backed).
pub fn rotation_target(
    snapshot: &Snapshot,
    vault: &str,
    object: &str,
) -> Result<VaultSecret, String> {
    let refs: Vec<_> = snapshot
        .spcs
        .items
        .iter()
        .filter(|s| {
            s.parsed
                .keyvault_name
                .as_deref()
                .is_some_and(|v| v.eq_ignore_ascii_case(vault))
        })
        .flat_map(|s| {
            s.parsed
                .objects
                .iter()
                .filter(|o| o.object_name == object)
                .map(move |o| (s, o))
        })
        .collect();
    if refs.is_empty() {
        return Err(format!(
            "no SecretProviderClass mounts {object} from vault {vault}"
        ));
    }
    // A certificate's secret has the certificate's name; the vault says so too (`managed`).
    let backs_certificate = refs
        .iter()
        .any(|(_, o)| o.object_type == Some(ObjectType::Cert))
        || snapshot.azure.objects.iter().any(|o| {
            o.vault.eq_ignore_ascii_case(vault)
                && o.object_type == ObjectType::Secret
                && o.name == object
                && matches!(&o.state, Observed::Known(Some(v)) if v.backs_certificate)
        });
    let mut first_refusal = None;
    for (spc, o) in &refs {
        match keyvault::refusal(
            o.object_type,
            o.object_version.as_deref(),
            backs_certificate,
            false,
        ) {
            None => {
                return Ok(VaultSecret {
                    vault: vault.to_string(),
                    cloud_name: spc.parsed.cloud_name.clone().unwrap_or_default(),
                    object: object.to_string(),
                });
            }
            Some(why) => {
                first_refusal.get_or_insert_with(|| {
                    format!("{why} (SecretProviderClass {}/{})", spc.namespace, spc.name)
                });
            }
        }
    }
    Err(first_refusal.unwrap_or_default())
}

async fn rotate(ctx: &Ctx, vault: &str, object: &str, value: NewValue<'_>) -> ActionOutcome {
    let target = match loaded(ctx).and_then(|s| rotation_target(s, vault, object)) {
        Ok(t) => t,
        Err(why) => return refused(format!("cannot rotate {vault}/{object}: {why}")),
    };
    let access = match vault_access(ctx) {
        Ok(a) => a,
        Err(why) => return refused(format!("cannot rotate {vault}/{object}: {why}")),
    };
    let outcome = access.rotate(&target, value, jiff::Timestamp::now()).await;
    if outcome.ok {
        // The timeline waits for the new version: re-read now rather than at the next interval.
        ctx.shared.refresh.notify_waiters();
    }
    outcome
}

/// What restarting `namespace/pod` would do, judged on the latest view.
fn restart_plan(ctx: &Ctx, namespace: &str, pod: &str) -> Result<RestartPlan, String> {
    let snapshot = loaded(ctx)?;
    let p = snapshot
        .pod(namespace, pod)
        .ok_or_else(|| format!("pod {namespace}/{pod} is no longer there"))?;
    Ok(RestartPlan::for_pod(snapshot, p))
}

/// Whether the user may do what `question` asks, where that is cheap to know: Kubernetes
/// answers SelfSubjectAccessReviews; Key Vault answers through the caller's ARM permissions
/// on the vault (RBAC) or the vault's access policies. A question nobody can answer (Azure
/// unavailable, vault not found, permissions API refused) is a yes: the write still checks.
pub async fn permitted(ctx: Ctx, question: PermissionQuestion) -> Result<(), String> {
    let kube = KubeActions::new(ctx.client.clone());
    let (vault, need) = match &question {
        PermissionQuestion::Act(Action::Restart { namespace, pod }) => {
            let plan = restart_plan(&ctx, namespace, pod)?;
            return kube.check_restart_allowed(&plan).await;
        }
        PermissionQuestion::Act(Action::Verify { namespace, pod, .. }) => {
            return kube.check_exec_allowed(namespace, pod).await;
        }
        PermissionQuestion::Act(Action::Rotate { vault, .. } | Action::Restore { vault, .. }) => {
            (vault, VaultNeed::Rotate)
        }
        PermissionQuestion::Reveal(RevealTarget::VaultSecret { vault, .. }) => {
            (vault, VaultNeed::Reveal)
        }
        // Reading a Secret is asked by the reveal itself; the UI does not ask ahead.
        PermissionQuestion::Reveal(RevealTarget::SecretKey { .. }) => return Ok(()),
    };
    let Some(access) = vault_access_settled(&ctx).await else {
        return Ok(());
    };
    let cloud_name = cloud_name_of(ctx.latest.as_deref(), vault);
    access.permitted(vault, &cloud_name, need).await
}

/// Key Vault once the Azure loop has checked the credentials (a question asked at start-up
/// waits for that rather than answering "unknown" for good); `None` when it is unavailable.
async fn vault_access_settled(ctx: &Ctx) -> Option<Arc<VaultAccess>> {
    let mut rx = ctx.vault.clone();
    let settled = rx.wait_for(|s| !matches!(s, VaultState::Starting));
    match tokio::time::timeout(SETTLE_WAIT, settled).await {
        Ok(Ok(s)) => match &*s {
            VaultState::Ready(a) => Some(a.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// How long a permission question waits for the Azure credentials to be checked.
const SETTLE_WAIT: std::time::Duration = std::time::Duration::from_secs(20);

async fn restart(ctx: &Ctx, namespace: &str, pod: &str) -> ActionOutcome {
    let plan = match restart_plan(ctx, namespace, pod) {
        Ok(p) => p,
        Err(why) => return refused(why),
    };
    let kube = KubeActions::new(ctx.client.clone());
    if let Err(why) = kube.check_restart_allowed(&plan).await {
        return refused(why);
    }
    kube.restart(&plan, jiff::Timestamp::now()).await
}

async fn verify(ctx: &Ctx, namespace: &str, pod: &str, container: &str) -> ActionOutcome {
    let plan = match loaded(ctx).and_then(|s| verify::plan(s, namespace, pod, container)) {
        Ok(p) => p,
        Err(why) => return refused(why),
    };
    if plan.is_empty() {
        let (ok, message) = verify::report(&plan, &Default::default());
        return ActionOutcome {
            ok,
            message,
            audit: None,
        };
    }
    let kube = KubeActions::new(ctx.client.clone());
    if let Err(why) = kube.check_exec_allowed(namespace, pod).await {
        return refused(format!("cannot verify: {why}"));
    }
    let reading = kube
        .verify(
            namespace,
            pod,
            container,
            &plan.file_paths(),
            &plan.env_names(),
        )
        .await;
    let (ok, message) = verify::report(&plan, &reading);
    ActionOutcome {
        ok,
        message,
        audit: None,
    }
}

/// Runs `action` against the cluster and Key Vault.
pub async fn run(ctx: Ctx, action: Action) -> ActionOutcome {
    match &action {
        Action::Restart { namespace, pod } => restart(&ctx, namespace, pod).await,
        Action::Verify {
            namespace,
            pod,
            container,
        } => verify(&ctx, namespace, pod, container).await,
        Action::Rotate {
            vault,
            object,
            marker,
        } => {
            let value = if *marker {
                NewValue::Marker
            } else {
                NewValue::Restamp
            };
            rotate(&ctx, vault, object, value).await
        }
        Action::Restore {
            vault,
            object,
            version,
        } => rotate(&ctx, vault, object, NewValue::Restore(version)).await,
    }
}

/// Reads one value for an explicit reveal.
pub async fn reveal(ctx: Ctx, target: RevealTarget) -> Result<Revealed, String> {
    match target {
        RevealTarget::VaultSecret {
            vault,
            object,
            version,
        } => {
            let access = vault_access(&ctx)
                .map_err(|why| format!("cannot reveal {vault}/{object}: {why}"))?;
            let cloud_name = cloud_name_of(ctx.latest.as_deref(), &vault);
            access
                .reveal(
                    &VaultSecret {
                        vault,
                        cloud_name,
                        object,
                    },
                    version.as_deref(),
                )
                .await
        }
        RevealTarget::SecretKey {
            namespace,
            secret,
            key,
        } => {
            KubeActions::new(ctx.client.clone())
                .reveal_secret_key(&namespace, &secret, &key)
                .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::testkit;

    fn web() -> (Snapshot, String, String) {
        (
            testkit::healthy(),
            testkit::vault_name(testkit::NS),
            testkit::object_name("web"),
        )
    }

    #[test]
    fn a_mounted_secret_can_be_rotated_in_its_cloud() {
        let (mut s, vault, object) = web();
        let spc = testkit::spc_mut(&mut s, "web");
        spc.parameters
            .insert("cloudName".into(), "AzureUSGovernmentCloud".into());
        testkit::reparse(spc);
        let t = rotation_target(&s, &vault.to_uppercase(), &object).unwrap();
        assert_eq!(t.cloud_name, "AzureUSGovernmentCloud");
        assert_eq!(t.object, object);
    }

    #[test]
    fn pinned_versions_certificates_and_unmounted_objects_are_refused() {
        let (mut s, vault, object) = web();
        assert!(
            rotation_target(&s, &vault, "nobody-mounts-this")
                .unwrap_err()
                .contains("no SecretProviderClass mounts nobody-mounts-this")
        );

        let spc = testkit::spc_mut(&mut s, "web");
        let pinned = testkit::objects_yaml(&[&[
            ("objectName", &object),
            ("objectType", "secret"),
            ("objectVersion", testkit::V1),
        ]]);
        testkit::set_objects(spc, pinned);
        let why = rotation_target(&s, &vault, &object).unwrap_err();
        assert!(why.contains("objectVersion is pinned to"), "{why}");
        assert!(why.contains("SecretProviderClass shop/web-kv"), "{why}");

        let (mut s, vault, object) = web();
        if let Observed::Known(Some(o)) = &mut testkit::object_mut(&mut s, "web").state {
            o.backs_certificate = true;
        }
        assert!(
            rotation_target(&s, &vault, &object)
                .unwrap_err()
                .contains("backs a certificate")
        );

        let (mut s, vault, object) = web();
        let spc = testkit::spc_mut(&mut s, "web");
        let key = testkit::objects_yaml(&[&[("objectName", &object), ("objectType", "key")]]);
        testkit::set_objects(spc, key);
        assert!(
            rotation_target(&s, &vault, &object)
                .unwrap_err()
                .contains("objectType key")
        );
    }
}
