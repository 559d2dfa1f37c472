//! What a failed list/watch/get means for the snapshot.
//!
//! Permission and "kind not served" failures are facts about the cluster: they become gaps
//! (unknown with a reason) in the collection they affect, and only there. Everything else is
//! transient: the data already seen is kept and the watch reconnects with backoff.

use kube::runtime::watcher;

use super::connect::Scope;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// A gap in the affected collection, e.g. "cannot list secrets in payments: forbidden".
    Gap(String),
    /// Worth a "reconnecting" status, nothing more.
    Transient(String),
}

/// The API resource a watcher/get targets, for messages and the missing-CRD case.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    /// Plural, as kubectl and RBAC spell it: "secrets", "secretproviderclasses".
    pub plural: &'static str,
    /// API group, "" for core.
    pub group: &'static str,
    /// Whether the kind is a CustomResourceDefinition that may be absent.
    pub crd: bool,
}

impl Target {
    pub fn crd_name(&self) -> String {
        format!("{}.{}", self.plural, self.group)
    }
}

/// The failure is the `watch` verb's, met after a list (kube-runtime's default list-then-watch):
/// a role that may list but not watch still read everything once.
pub fn on_watch(err: &watcher::Error) -> bool {
    matches!(
        err,
        watcher::Error::WatchStartFailed(_) | watcher::Error::WatchFailed(_)
    )
}

pub fn classify_watch(err: &watcher::Error, target: Target, scope: &Scope) -> Failure {
    match err {
        watcher::Error::InitialListFailed(e) => classify(e, "list", target, scope),
        watcher::Error::WatchStartFailed(e) | watcher::Error::WatchFailed(e) => {
            classify(e, "watch", target, scope)
        }
        // 410 Gone and friends arrive in-band; the watcher re-lists by itself.
        watcher::Error::WatchError(status) => Failure::Transient(format!(
            "watch {}: {} {}",
            target.plural, status.code, status.message
        )),
        watcher::Error::NoResourceVersion => {
            Failure::Transient(format!("watch {}: no resourceVersion", target.plural))
        }
    }
}

pub fn classify(err: &kube::Error, verb: &str, target: Target, scope: &Scope) -> Failure {
    match err {
        kube::Error::Api(status) if status.code == 403 => Failure::Gap(format!(
            "cannot {verb} {} {}: forbidden",
            target.plural,
            scope.describe()
        )),
        kube::Error::Api(status) if status.code == 401 => Failure::Gap(format!(
            "cannot {verb} {} {}: unauthorized (credentials rejected)",
            target.plural,
            scope.describe()
        )),
        // A 404 on a *list* means the API server does not serve the resource at all.
        kube::Error::Api(status) if status.code == 404 && target.crd => {
            Failure::Gap(crate::snapshot::gaps::not_installed(&target.crd_name()))
        }
        kube::Error::Api(status) if status.code == 404 => Failure::Gap(format!(
            "the API server does not serve {} ({})",
            target.plural,
            if target.group.is_empty() {
                "core"
            } else {
                target.group
            }
        )),
        kube::Error::Api(_) => {
            Failure::Transient(format!("{verb} {}: {}", target.plural, plain(err)))
        }
        other => Failure::Transient(format!("{verb} {}: {}", target.plural, plain(other))),
    }
}

/// A kube error in one line for people: an API server's answer as `503 InternalError:
/// etcdserver: leader changed` (its HTTP status and the Status object's reason and message),
/// anything else by its innermost cause (`Connection refused (os error 111)`, a TLS or DNS
/// failure), which says what happened where kube's own words say only where (`ServiceError:
/// client error (Connect)`). Never kube's own Display of an answer, which appends the whole
/// Status as a Rust `Debug` dump.
pub fn plain(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(status) => {
            let mut s = status.code.to_string();
            if !status.reason.is_empty() {
                s.push(' ');
                s.push_str(&status.reason);
            }
            if !status.message.is_empty() {
                s.push_str(": ");
                s.push_str(&status.message);
            }
            s
        }
        other => {
            let mut cause: &dyn std::error::Error = other;
            while let Some(inner) = cause.source() {
                cause = inner;
            }
            cause.to_string()
        }
    }
}

/// Why the first request to the cluster failed, naming the server and the context. A server
/// that answered is not "unreachable": its answer is said (`API server https://… (context X)
/// answered 503 InternalError: …`), with how often it was asked when that was more than once.
pub(super) fn not_read(
    endpoint: &super::Endpoint,
    kube: &crate::source::args::KubeArgs,
    e: &kube::Error,
) -> String {
    match e {
        kube::Error::Api(status) => {
            let asked = hyper::StatusCode::from_u16(status.code)
                .is_ok_and(|s| super::retry::worth_retrying(&hyper::Method::GET, s));
            let again = if asked {
                format!(
                    " (asked {} times over {:.1}s)",
                    super::retry::RETRIES + 1,
                    super::retry::WITHIN.as_secs_f64()
                )
            } else {
                String::new()
            };
            format!("API server {endpoint} answered {}{again}", plain(e))
        }
        _ => match kube.request_limit() {
            Some(t) if super::connect::timed_out(e) => format!(
                "cannot reach {endpoint}: no answer within {} (--request-timeout)",
                humantime::format_duration(t)
            ),
            _ => {
                let why = plain(e);
                // rustls's words for a reply that is no TLS record, the usual one being plain
                // HTTP from a server the kubeconfig says https:// to (audit FFF8).
                if why.contains("InvalidContentType") {
                    return format!(
                        "cannot reach {endpoint}: the TLS handshake failed, the server's reply is not TLS ({why}): it may speak plain HTTP; if so, its kubeconfig server should start with http://"
                    );
                }
                format!("cannot reach {endpoint}: {why}")
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;

    fn api(code: u16) -> kube::Error {
        kube::Error::Api(Box::new(Status::failure("nope", "Reason").with_code(code)))
    }

    const SECRETS: Target = Target {
        plural: "secrets",
        group: "",
        crd: false,
    };
    const SPC: Target = Target {
        plural: "secretproviderclasses",
        group: "secrets-store.csi.x-k8s.io",
        crd: true,
    };

    #[test]
    fn forbidden_is_a_gap_named_like_kubectl_would() {
        let f = classify(
            &api(403),
            "list",
            SECRETS,
            &Scope::Namespace("payments".into()),
        );
        assert_eq!(
            f,
            Failure::Gap("cannot list secrets in payments: forbidden".into())
        );
    }

    #[test]
    fn an_answer_is_said_by_its_status_reason_and_message_never_a_debug_dump() {
        let e = kube::Error::Api(Box::new(
            Status::failure("etcdserver: leader changed", "InternalError").with_code(503),
        ));
        assert_eq!(plain(&e), "503 InternalError: etcdserver: leader changed");
        let Failure::Transient(why) = classify(&e, "list", SECRETS, &Scope::All) else {
            panic!("a 503 is transient")
        };
        assert_eq!(
            why,
            "list secrets: 503 InternalError: etcdserver: leader changed"
        );
    }

    #[test]
    fn missing_crd_is_a_fact_and_500_is_transient() {
        assert_eq!(
            classify(&api(404), "list", SPC, &Scope::All),
            Failure::Gap(
                "CRD secretproviderclasses.secrets-store.csi.x-k8s.io not installed".into()
            )
        );
        assert!(matches!(
            classify(&api(500), "list", SECRETS, &Scope::All),
            Failure::Transient(_)
        ));
    }
}
