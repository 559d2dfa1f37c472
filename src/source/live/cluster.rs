//! Cluster-wide facts: the OIDC issuer, the workload-identity webhook, and how the Secrets
//! Store CSI driver is installed (registration, token audiences, rotation flags).
//!
//! Each fact is read independently; one that cannot be read is unknown with the reason.

use std::time::Duration;

use k8s_openapi::api::admissionregistration::v1::MutatingWebhookConfiguration;
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::api::rbac::v1::ClusterRole;
use k8s_openapi::api::storage::v1::CSIDriver;
use kube::api::ListParams;
use kube::{Api, Client};

use super::cluster_arrival::{Fact, FactId, Pending};
use super::connect::Scope;
use super::errors::{Failure, Target, classify};
use crate::snapshot::{CsiDriverFacts, DriverInstall, DriverPodObs, NodeObs, Observed, convert};

const CSI: FactId = FactId::CsiDriver;

const DRIVER: &str = "secrets-store.csi.k8s.io";
const WEBHOOK: &str = "mutation.azure-workload-identity.io";
/// Driver DaemonSets: the AKS add-on, then the Helm chart's names (driver chart installed as
/// `csi-secrets-store`, or as a dependency of the Azure provider chart).
const DRIVER_DAEMONSETS: &[&str] = &[
    "aks-secrets-store-csi-driver",
    "csi-secrets-store-secrets-store-csi-driver",
    "secrets-store-csi-driver",
    "csi-secrets-store-provider-azure-secrets-store-csi-driver",
    "csi-secrets-store",
];
const PROVIDER_DAEMONSETS: &[&str] = &[
    "aks-secrets-store-provider-azure",
    "csi-secrets-store-provider-azure",
    "csi-csi-secrets-store-provider-azure",
];
/// Helm creates this ClusterRole only with `syncSecret.enabled=true`.
const SYNC_ROLE: &str = "secretprovidersyncing-role";
const DEFAULT_POLL: Duration = Duration::from_secs(120);

fn reason(e: &kube::Error, verb: &str, plural: &'static str, group: &'static str) -> String {
    let target = Target {
        plural,
        group,
        crd: false,
    };
    let scope = if plural == "daemonsets" || plural == "pods" {
        Scope::Namespace("kube-system".into())
    } else {
        Scope::All
    };
    match classify(e, verb, target, &scope) {
        Failure::Gap(r) | Failure::Transient(r) => r,
    }
}

/// Reads the four facts at once, handing each to `arrive` as it answers (audit FFF6: one
/// that hangs must not hold back the others), its requests noted in `pending` while they wait.
pub async fn observe(client: &Client, pending: &Pending, arrive: &(dyn Fn(Fact) + Sync)) {
    tokio::join!(
        async { arrive(Fact::OidcIssuer(oidc_issuer(client, pending).await)) },
        async {
            arrive(Fact::Webhook(
                workload_identity_webhook(client, pending).await,
            ))
        },
        async { arrive(Fact::CsiDriver(Box::new(csi_driver(client, pending).await))) },
        async { arrive(Fact::Nodes(nodes(client, pending).await)) },
    );
}

/// Nodes' labels and taints: the driver runs per node, where its DaemonSets may schedule.
async fn nodes(client: &Client, pending: &Pending) -> Observed<Vec<NodeObs>> {
    let api: Api<Node> = Api::all(client.clone());
    let params = ListParams::default();
    let list = api.list(&params);
    match pending.ask(FactId::Nodes, "list nodes", list).await {
        Ok(list) => Observed::Known(list.items.iter().map(convert::node).collect()),
        Err(e) => Observed::unknown(reason(&e, "list", "nodes", "")),
    }
}

async fn oidc_issuer(client: &Client, pending: &Pending) -> Observed<String> {
    // kube's request builder keeps the `http` crate out of our dependency list.
    let req = match kube::core::Request::new("/.well-known")
        .get("openid-configuration", &kube::api::GetParams::default())
    {
        Ok(r) => r,
        Err(e) => return Observed::unknown(format!("cannot build the OIDC request: {e}")),
    };
    let asked = client.request::<serde_json::Value>(req);
    let what = "get /.well-known/openid-configuration";
    match pending.ask(FactId::OidcIssuer, what, asked).await {
        Ok(doc) => match doc.get("issuer").and_then(|i| i.as_str()) {
            Some(i) => Observed::Known(i.to_string()),
            None => Observed::unknown("/.well-known/openid-configuration has no issuer"),
        },
        Err(kube::Error::Api(s)) if s.code == 403 || s.code == 401 => {
            Observed::unknown("cannot get /.well-known/openid-configuration: forbidden")
        }
        Err(kube::Error::Api(s)) if s.code == 404 => {
            Observed::unknown("the API server does not publish /.well-known/openid-configuration")
        }
        Err(e) => Observed::unknown(format!(
            "cannot get /.well-known/openid-configuration: {}",
            super::errors::plain(&e)
        )),
    }
}

/// AKS issuers look like `https://<region>.oic.prod-aks.azure.com/<tenant>/<guid>/`.
pub fn tenant_from_issuer(url: &str) -> Option<String> {
    let rest = url.strip_prefix("https://")?;
    let (host, path) = rest.split_once('/')?;
    if !host.contains(".oic.prod-aks.azure.") {
        return None;
    }
    let tenant = path.split('/').next()?;
    let is_guid = tenant.len() == 36 && tenant.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    is_guid.then(|| tenant.to_string())
}

async fn workload_identity_webhook(client: &Client, pending: &Pending) -> Observed<bool> {
    let api: Api<MutatingWebhookConfiguration> = Api::all(client.clone());
    let params = ListParams::default();
    let list = api.list(&params);
    let what = "list mutatingwebhookconfigurations";
    match pending.ask(FactId::Webhook, what, list).await {
        Ok(list) => Observed::Known(
            list.items
                .iter()
                .any(|c| c.webhooks.iter().flatten().any(|w| w.name == WEBHOOK)),
        ),
        Err(e) => Observed::unknown(reason(
            &e,
            "list",
            "mutatingwebhookconfigurations",
            "admissionregistration.k8s.io",
        )),
    }
}

/// `(--enable-secret-rotation, --rotation-poll-interval)` from the driver container's args.
/// Go flags accept `-flag`, `--flag`, `--flag=value` and `--flag value`.
pub fn driver_flags(args: &[String]) -> (bool, Option<Duration>) {
    let mut rotation = false;
    let mut interval = None;
    let mut it = args.iter().peekable();
    while let Some(arg) = it.next() {
        let flag = arg.trim_start_matches('-');
        let (name, value) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (flag, None),
        };
        match name {
            "enable-secret-rotation" => {
                rotation = value
                    .map(|v| v.eq_ignore_ascii_case("true") || v == "1")
                    .unwrap_or(true);
            }
            "rotation-poll-interval" => {
                let v = value.or_else(|| it.next().cloned());
                // A value the driver's flag parser refuses (garbage, or longer than a Go
                // duration) is no interval it runs with.
                interval = v.and_then(|v| crate::snapshot::parse_poll_interval(&v).ok());
            }
            _ => {}
        }
    }
    (rotation, interval)
}

fn driver_args(ds: &DaemonSet) -> Option<Vec<String>> {
    let spec = ds.spec.as_ref()?.template.spec.as_ref()?;
    let c = spec
        .containers
        .iter()
        .find(|c| c.name == "secrets-store")
        .or_else(|| {
            spec.containers.iter().find(|c| {
                c.image.as_deref().is_some_and(|i| {
                    i.contains("secrets-store/driver") || i.contains("csi-secrets-store")
                })
            })
        })?;
    Some(c.args.clone().unwrap_or_default())
}

fn is_provider(ds: &DaemonSet) -> bool {
    let name = ds.metadata.name.as_deref().unwrap_or_default();
    PROVIDER_DAEMONSETS.contains(&name)
        || ds
            .spec
            .as_ref()
            .and_then(|s| s.template.spec.as_ref())
            .is_some_and(|s| {
                s.containers.iter().any(|c| {
                    c.image
                        .as_deref()
                        .is_some_and(|i| i.contains("provider-azure"))
                })
            })
}

/// kube-system DaemonSets: one list when allowed, else gets of the known names.
async fn kube_system_daemonsets(
    client: &Client,
    pending: &Pending,
) -> Result<Vec<DaemonSet>, String> {
    let api: Api<DaemonSet> = Api::namespaced(client.clone(), "kube-system");
    let params = ListParams::default();
    let list = api.list(&params);
    match pending
        .ask(CSI, "list daemonsets in kube-system", list)
        .await
    {
        Ok(list) => Ok(list.items),
        Err(e) => {
            let why = reason(&e, "list", "daemonsets", "apps");
            let mut found = Vec::new();
            let mut any_ok = false;
            for name in DRIVER_DAEMONSETS.iter().chain(PROVIDER_DAEMONSETS) {
                let get = api.get_opt(name);
                if let Ok(d) = pending.ask(CSI, "get daemonsets in kube-system", get).await {
                    any_ok = true;
                    found.extend(d);
                }
            }
            if any_ok { Ok(found) } else { Err(why) }
        }
    }
}

async fn csi_driver(client: &Client, pending: &Pending) -> Observed<CsiDriverFacts> {
    let drivers: Api<CSIDriver> = Api::all(client.clone());
    let roles: Api<ClusterRole> = Api::all(client.clone());
    let (registration, daemonsets, role) = tokio::join!(
        pending.ask(CSI, "get csidrivers", drivers.get_opt(DRIVER)),
        kube_system_daemonsets(client, pending),
        pending.ask(CSI, "get clusterroles", roles.get_opt(SYNC_ROLE))
    );
    let registration = registration.map_err(|e| reason(&e, "get", "csidrivers", "storage.k8s.io"));
    let driver_ds = match &daemonsets {
        Ok(list) => Ok(list
            .iter()
            .find(|d| driver_args(d).is_some() && !is_provider(d))),
        Err(r) => Err(r.clone()),
    };
    let installed = match (&registration, &driver_ds) {
        (Ok(Some(_)), _) | (_, Ok(Some(_))) => true,
        (Ok(None), _) => false,
        // Whether the driver is there is unknown. The DaemonSets refused too are a read of
        // their own (rotation, placement and the driver pods come from them): both reasons,
        // so each gets its gap line and its `kubectl auth can-i` (audit SS4).
        (Err(r), Err(ds)) => return Observed::unknown(format!("{r}; {ds}")),
        (Err(r), _) => return Observed::unknown(r.clone()),
    };
    let mut facts = CsiDriverFacts {
        installed,
        ..CsiDriverFacts::default()
    };
    facts.token_audiences = match &registration {
        Ok(Some(d)) => Observed::Known(
            d.spec
                .token_requests
                .iter()
                .flatten()
                .map(|t| t.audience.clone())
                .collect(),
        ),
        // No CSIDriver object: kubelet mints no tokens for the driver at all.
        Ok(None) => Observed::Known(Vec::new()),
        Err(r) => Observed::unknown(r.clone()),
    };
    match &driver_ds {
        Ok(Some(ds)) => {
            let (rotation, interval) = driver_flags(&driver_args(ds).unwrap_or_default());
            facts.rotation_enabled = Observed::Known(rotation);
            facts.rotation_poll_interval = interval.unwrap_or(DEFAULT_POLL);
            let aks_addon = ds.metadata.name.as_deref() == Some(DRIVER_DAEMONSETS[0]);
            if !aks_addon && let Ok(all) = &daemonsets {
                facts.helm = super::helm_release::driver_release(ds, all, is_provider);
            }
            facts.install = Some(if aks_addon {
                DriverInstall::AksAddon
            } else {
                DriverInstall::Helm
            });
            facts.sync_secret_enabled = if aks_addon {
                // The add-on always ships the syncing RBAC.
                Observed::Known(true)
            } else {
                match &role {
                    Ok(r) => Observed::Known(r.is_some()),
                    Err(e) => Observed::unknown(reason(
                        e,
                        "get",
                        "clusterroles",
                        "rbac.authorization.k8s.io",
                    )),
                }
            };
        }
        Ok(None) => {
            let why = "no Secrets Store CSI driver DaemonSet found in kube-system";
            facts.rotation_enabled = Observed::unknown(why);
            facts.sync_secret_enabled = Observed::unknown(why);
        }
        Err(r) => {
            facts.rotation_enabled = Observed::unknown(r.clone());
            facts.sync_secret_enabled = Observed::unknown(r.clone());
        }
    }
    facts.placement = match &daemonsets {
        Ok(list) => Observed::Known(
            list.iter()
                .filter_map(|d| {
                    if is_provider(d) {
                        Some(convert::placement(d, true))
                    } else {
                        driver_args(d).map(|_| convert::placement(d, false))
                    }
                })
                .collect(),
        ),
        Err(r) => Observed::unknown(r.clone()),
    };
    facts.driver_pods = match &daemonsets {
        Ok(list) => driver_pods(client, list, pending).await,
        Err(r) => Observed::unknown(r.clone()),
    };
    facts.azure_provider = match &daemonsets {
        Ok(list) => Observed::Known(
            list.iter()
                .filter(|d| is_provider(d))
                .any(|d| d.status.as_ref().is_some_and(|s| s.number_ready > 0)),
        ),
        Err(r) => Observed::unknown(r.clone()),
    };
    Observed::Known(facts)
}

/// The pods of the driver's and provider's DaemonSets (whatever the run's namespace scope):
/// one list of kube-system pods per DaemonSet, by its own selector's matchLabels, kept when
/// that DaemonSet owns them. Only node, readiness and which component are kept.
async fn driver_pods(
    client: &Client,
    sets: &[DaemonSet],
    pending: &Pending,
) -> Observed<Vec<DriverPodObs>> {
    let api: Api<Pod> = Api::namespaced(client.clone(), "kube-system");
    let mut out = Vec::new();
    for ds in sets {
        let provider = is_provider(ds);
        if !provider && driver_args(ds).is_none() {
            continue;
        }
        let Some(labels) = ds
            .spec
            .as_ref()
            .and_then(|s| s.selector.match_labels.as_ref())
            .filter(|l| !l.is_empty())
        else {
            continue;
        };
        let selector: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let params = ListParams::default().labels(&selector.join(","));
        let list = match pending
            .ask(CSI, "list pods in kube-system", api.list(&params))
            .await
        {
            Ok(list) => list,
            Err(e) => return Observed::unknown(reason(&e, "list", "pods", "")),
        };
        let owned = |p: &Pod| {
            p.metadata.owner_references.iter().flatten().any(|o| {
                o.kind == "DaemonSet"
                    && (ds.metadata.uid.as_deref() == Some(o.uid.as_str())
                        || ds.metadata.name.as_deref() == Some(o.name.as_str()))
            })
        };
        out.extend(list.items.iter().filter(|p| owned(p)).map(|p| {
            let conditions = p
                .status
                .iter()
                .flat_map(|s| s.conditions.iter().flatten())
                .map(|c| (c.type_.as_str(), c.status.as_str()));
            DriverPodObs {
                name: format!(
                    "kube-system/{}",
                    p.metadata.name.as_deref().unwrap_or_default()
                ),
                node: p
                    .spec
                    .as_ref()
                    .and_then(|s| s.node_name.clone())
                    .unwrap_or_default(),
                provider,
                ready: convert::ready_of(conditions) == Some(true),
            }
        }));
    }
    Observed::Known(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn rotation_flags_in_every_go_spelling() {
        assert_eq!(
            driver_flags(&v(&["--endpoint=unix:///csi/csi.sock"])),
            (false, None)
        );
        assert_eq!(
            driver_flags(&v(&[
                "--enable-secret-rotation=true",
                "--rotation-poll-interval=5m"
            ])),
            (true, Some(Duration::from_secs(300)))
        );
        assert_eq!(
            driver_flags(&v(&[
                "-enable-secret-rotation",
                "--rotation-poll-interval",
                "90s"
            ])),
            (true, Some(Duration::from_secs(90)))
        );
        assert!(!driver_flags(&v(&["--enable-secret-rotation=false"])).0);
    }

    /// An interval longer than a Go duration is no interval the driver runs with (its flag
    /// parser refuses it): not read, rather than overflowing the rules' poll arithmetic.
    #[test]
    fn a_poll_interval_longer_than_go_allows_is_not_read() {
        let flags = |i: &str| driver_flags(&v(&["--enable-secret-rotation", i]));
        assert_eq!(
            flags("--rotation-poll-interval=18446744073709551615s"),
            (true, None)
        );
        assert_eq!(
            flags("--rotation-poll-interval=2562047h47m16s854775807ns"),
            (true, Some(crate::snapshot::MAX_POLL_INTERVAL))
        );
    }

    #[test]
    fn tenant_comes_from_aks_issuers_only() {
        assert_eq!(
            tenant_from_issuer(
                "https://eastus.oic.prod-aks.azure.com/72f988bf-86f1-41af-91ab-2d7cd011db47/0b5a1f6e-1111-2222-3333-444455556666/"
            )
            .as_deref(),
            Some("72f988bf-86f1-41af-91ab-2d7cd011db47")
        );
        assert_eq!(
            tenant_from_issuer("https://kubernetes.default.svc.cluster.local"),
            None
        );
    }
}
