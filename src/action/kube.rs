//! Actions against a live cluster: rollout restart, pod delete, permission checks, and the
//! in-container verify. Values read in a container are fingerprinted at once and dropped.

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::{Pod, Secret};
use kube::api::{
    ApiResource, AttachParams, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams,
    PostParams,
};
use kube::{Api, Client};
use tokio::io::AsyncReadExt;

use super::ActionOutcome;
use super::reveal::Revealed;
use crate::chain::restart_plan::RestartPlan;
use crate::fingerprint::Fingerprint;

pub struct KubeActions {
    client: Client,
}

/// The strategic-merge patch `kubectl rollout restart` sends.
pub fn rollout_restart_patch(at: jiff::Timestamp) -> serde_json::Value {
    serde_json::json!({
        "spec": {"template": {"metadata": {"annotations": {
            "kubectl.kubernetes.io/restartedAt": at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
        }}}}
    })
}

/// The merge patch `kubectl argo rollouts restart` sends: the Rollout's controller then
/// replaces, one at a time, every pod created before `restartAt`.
pub fn argo_restart_patch(at: jiff::Timestamp) -> serde_json::Value {
    serde_json::json!({"spec": {"restartAt": at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()}})
}

fn argo_rollouts() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Rollout"),
        "rollouts",
    )
}

impl KubeActions {
    pub fn new(client: Client) -> Self {
        KubeActions { client }
    }

    /// Whether the current user may carry out `plan` (SelfSubjectAccessReview); `Err(reason)`
    /// lets the UI show the action disabled with the reason.
    pub async fn check_restart_allowed(&self, plan: &RestartPlan) -> Result<(), String> {
        let Some((verb, group, resource, namespace, name)) = plan.review_target() else {
            // Nothing to write: the refusal is the answer.
            return Err(plan.confirmation());
        };
        self.review(verb, group, resource, None, namespace, name)
            .await
    }

    /// Whether the current user may exec into `pod` (verify runs `cat` there).
    pub async fn check_exec_allowed(&self, namespace: &str, pod: &str) -> Result<(), String> {
        self.review("create", "", "pods", Some("exec"), namespace, pod)
            .await
    }

    async fn review(
        &self,
        verb: &str,
        group: &str,
        resource: &str,
        subresource: Option<&str>,
        namespace: &str,
        name: &str,
    ) -> Result<(), String> {
        let what = match subresource {
            Some(sub) => format!("{resource}/{sub}"),
            None => resource.to_string(),
        };
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    verb: Some(verb.into()),
                    group: Some(group.into()),
                    resource: Some(resource.into()),
                    subresource: subresource.map(str::to_string),
                    namespace: Some(namespace.into()),
                    name: Some(name.into()),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        let api: Api<SelfSubjectAccessReview> = Api::all(self.client.clone());
        let answer = api
            .create(&PostParams::default(), &review)
            .await
            .map_err(|e| {
                format!(
                    "cannot check permission to {verb} {what}: {}",
                    describe_kube_error(&e)
                )
            })?;
        match answer.status {
            Some(st) if st.allowed => Ok(()),
            Some(st) => Err(format!(
                "not allowed to {verb} {what} {namespace}/{name}{}",
                st.reason.map(|r| format!(": {r}")).unwrap_or_default()
            )),
            None => Err(format!("permission to {verb} {what} unknown: empty review")),
        }
    }

    /// One key of a Secret, for an explicit reveal. The Secret object (all its values) is
    /// dropped here; only the asked key leaves, wrapped.
    pub async fn reveal_secret_key(
        &self,
        namespace: &str,
        secret: &str,
        key: &str,
    ) -> Result<Revealed, String> {
        let api: Api<Secret> = Api::namespaced(self.client.clone(), namespace);
        let found = api.get(secret).await.map_err(|e| match &e {
            kube::Error::Api(s) if s.code == 403 => format!(
                "not allowed to read Secret {namespace}/{secret}: {}; reveal needs get on secrets in namespace {namespace}",
                s.message
            ),
            kube::Error::Api(s) if s.code == 404 => {
                format!("Secret {namespace}/{secret} not found")
            }
            other => format!("reading Secret {namespace}/{secret} failed: {}", describe_kube_error(other)),
        })?;
        let mut data = found.data.unwrap_or_default();
        data.remove(key)
            .map(|v| Revealed::new(String::from_utf8_lossy(&v.0).into_owned()))
            .ok_or_else(|| format!("Secret {namespace}/{secret} has no key {key}"))
    }

    pub async fn restart(&self, plan: &RestartPlan, at: jiff::Timestamp) -> ActionOutcome {
        let result = match plan {
            RestartPlan::Refused { .. } => {
                return ActionOutcome {
                    ok: false,
                    message: plan.confirmation(),
                    audit: None,
                };
            }
            RestartPlan::ArgoRestart { namespace, name } => Api::<DynamicObject>::namespaced_with(
                self.client.clone(),
                namespace,
                &argo_rollouts(),
            )
            .patch(
                name,
                &PatchParams::default(),
                &Patch::Merge(argo_restart_patch(at)),
            )
            .await
            .map(|_| format!("restart of Rollout {namespace}/{name} started (spec.restartAt)")),
            RestartPlan::RolloutRestart {
                namespace,
                kind,
                name,
                ..
            } => {
                let patch = Patch::Strategic(rollout_restart_patch(at));
                let pp = PatchParams::default();
                let c = self.client.clone();
                match kind.as_str() {
                    "Deployment" => Api::<Deployment>::namespaced(c, namespace)
                        .patch(name, &pp, &patch)
                        .await
                        .map(|_| ()),
                    "StatefulSet" => Api::<StatefulSet>::namespaced(c, namespace)
                        .patch(name, &pp, &patch)
                        .await
                        .map(|_| ()),
                    "DaemonSet" => Api::<DaemonSet>::namespaced(c, namespace)
                        .patch(name, &pp, &patch)
                        .await
                        .map(|_| ()),
                    other => {
                        return ActionOutcome {
                            ok: false,
                            message: format!("cannot rollout-restart a {other}"),
                            audit: None,
                        };
                    }
                }
                .map(|_| format!("rollout restart of {kind} {namespace}/{name} started"))
            }
            RestartPlan::DeleteOwnedPod {
                namespace,
                pod,
                owner,
                ..
            } => Api::<Pod>::namespaced(self.client.clone(), namespace)
                .delete(pod, &DeleteParams::default())
                .await
                .map(|_| format!("pod {namespace}/{pod} deleted; {owner} makes a new one")),
            RestartPlan::DeleteBarePod { namespace, pod } => {
                Api::<Pod>::namespaced(self.client.clone(), namespace)
                    .delete(pod, &DeleteParams::default())
                    .await
                    .map(|_| {
                        format!("pod {namespace}/{pod} deleted (bare pod: nothing recreates it)")
                    })
            }
        };
        match result {
            Ok(message) => ActionOutcome {
                ok: true,
                message,
                audit: None,
            },
            Err(e) => ActionOutcome {
                ok: false,
                message: describe_kube_error(&e),
                audit: None,
            },
        }
    }

    /// Read files and the environment of PID 1 in a container and fingerprint what was asked.
    /// Every file and variable gets its own result; once the container turns out to have no
    /// `cat` (distroless), the remaining reads are not attempted and carry that reason.
    pub async fn verify(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
        files: &[String],
        env: &[String],
    ) -> VerifyReading {
        let mut reading = VerifyReading::default();
        let mut no_cat: Option<String> = None;
        for path in files {
            let bytes = match &no_cat {
                Some(why) => Err(why.clone()),
                None => {
                    self.exec_read(namespace, pod, container, &["cat", path])
                        .await
                }
            };
            if let Err(why) = &bytes
                && is_distroless(why)
            {
                no_cat = Some(why.clone());
            }
            reading
                .files
                .push((path.clone(), bytes.map(|b| Fingerprint::of(&b))));
        }
        if !env.is_empty() {
            // The process's own environment, not a fresh shell's: that is what the app holds.
            let environ = match &no_cat {
                Some(why) => Err(why.clone()),
                None => {
                    self.exec_read(namespace, pod, container, &["cat", "/proc/1/environ"])
                        .await
                }
            };
            reading.env = match environ {
                Ok(environ) => fingerprint_environ(&environ, env),
                Err(why) => env.iter().map(|n| (n.clone(), Err(why.clone()))).collect(),
            };
        }
        reading
    }

    async fn exec_read(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
        cmd: &[&str],
    ) -> Result<Vec<u8>, String> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        let ap = AttachParams::default()
            .container(container)
            .stdout(true)
            .stderr(true)
            .stdin(false);
        let mut proc = api
            .exec(pod, cmd.iter().copied(), &ap)
            .await
            .map_err(|e| cannot_verify(&describe_kube_error(&e)))?;
        let mut out = Vec::new();
        if let Some(mut stdout) = proc.stdout() {
            stdout
                .read_to_end(&mut out)
                .await
                .map_err(|e| format!("cannot verify: {e}"))?;
        }
        let status = match proc.take_status() {
            Some(st) => st.await,
            None => None,
        };
        if let Some(st) = status.filter(|s| s.status.as_deref() == Some("Failure")) {
            return Err(cannot_verify(&st.message.unwrap_or_default()));
        }
        Ok(out)
    }
}

/// What verify read, as fingerprints.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerifyReading {
    pub files: Vec<(String, Result<Fingerprint, String>)>,
    pub env: Vec<(String, Result<Fingerprint, String>)>,
}

/// Pick `wanted` variables out of a NUL-separated environ block, fingerprint their values and
/// drop the rest without looking at it.
pub fn fingerprint_environ(
    environ: &[u8],
    wanted: &[String],
) -> Vec<(String, Result<Fingerprint, String>)> {
    wanted
        .iter()
        .map(|name| {
            let prefix = format!("{name}=");
            let found = environ
                .split(|b| *b == 0)
                .find(|entry| entry.starts_with(prefix.as_bytes()))
                .map(|entry| Fingerprint::of(&entry[prefix.len()..]));
            (
                name.clone(),
                found.ok_or_else(|| format!("{name} is not set in the process environment")),
            )
        })
        .collect()
}

const NO_CAT: &str = "cannot verify: the container has no `cat` (distroless image?)";

fn cannot_verify(detail: &str) -> String {
    if detail.contains("executable file not found")
        || detail.contains("no such file or directory") && detail.contains("exec")
    {
        format!("{NO_CAT}: {detail}")
    } else {
        format!("cannot verify: {detail}")
    }
}

/// Whether a failed read means no read in this container can work.
fn is_distroless(why: &str) -> bool {
    why.starts_with(NO_CAT)
}

fn describe_kube_error(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(status) => {
            format!("{} ({}): {}", status.reason, status.code, status.message)
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environ_values_are_fingerprinted_not_kept() {
        let environ = b"PATH=/bin\0DB_PASS=CANARY-env-7731\0HOME=/root\0";
        let got = fingerprint_environ(environ, &["DB_PASS".into(), "MISSING".into()]);
        assert_eq!(got[0].1, Ok(Fingerprint::of(b"CANARY-env-7731")));
        assert!(
            got[1]
                .1
                .as_ref()
                .unwrap_err()
                .contains("MISSING is not set")
        );
        assert!(!format!("{got:?}").contains("CANARY"));
    }

    #[test]
    fn distroless_exec_failure_is_explained() {
        let msg = cannot_verify(
            "OCI runtime exec failed: exec failed: unable to start container process: exec: \"cat\": executable file not found in $PATH",
        );
        assert!(msg.starts_with("cannot verify: the container has no `cat`"));
    }

    #[test]
    fn restart_patch_matches_kubectl() {
        let at = jiff::Timestamp::from_second(1_800_000_000).unwrap();
        let p = rollout_restart_patch(at);
        assert_eq!(
            p["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"],
            "2027-01-15T08:00:00Z"
        );
    }
}
