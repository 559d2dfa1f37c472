use super::*;
use k8s_openapi::ByteString;
use k8s_openapi::api::apps::v1::Deployment;

#[test]
fn secret_values_are_fingerprinted_and_dropped() {
    let canary = "CANARY-9f3e-value";
    let s = Secret {
        metadata: ObjectMeta {
            name: Some("foosecret".into()),
            namespace: Some("app".into()),
            ..Default::default()
        },
        data: Some(
            [(
                "username".to_string(),
                ByteString(canary.as_bytes().to_vec()),
            )]
            .into(),
        ),
        ..Default::default()
    };
    let obs = secret(&s);
    assert_eq!(obs.data["username"], Fingerprint::of(canary.as_bytes()));
    let dump = format!("{obs:?} {}", serde_json::to_string(&obs).unwrap());
    assert!(!dump.contains(canary));
}

/// A pod's lists are held for as long as it lives (10,000 of them on a big cluster):
/// they must not keep the spare room a growing `Vec` reserves.
#[test]
fn a_pods_lists_hold_no_spare_room() {
    let pod: Pod = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "web-1", "namespace": "app",
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                "name": "web-7d9f", "uid": "u1", "controller": true}]},
        "spec": {
            "volumes": [{"name": "kube-api-access-abcde", "projected": {"sources": [
                {"serviceAccountToken": {"path": "token"}},
                {"secret": {"name": "extra"}}]}}],
            "containers": [{"name": "app",
                "env": [{"name": "LOG_LEVEL", "value": "info"}],
                "envFrom": [{"configMapRef": {"name": "cfg"}}, {"secretRef": {"name": "db"}}],
                "volumeMounts": [{"name": "kube-api-access-abcde",
                    "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}]}]
        }
    }))
    .unwrap();
    let p = super::pod(&pod);
    let tight = |what: &str, len: usize, cap: usize| {
        assert_eq!(
            (len, cap),
            (len, len),
            "{what}: {len} items in room for {cap}"
        );
    };
    tight("owners", p.owners.len(), p.owners.capacity());
    tight("volumes", p.volumes.len(), p.volumes.capacity());
    tight("containers", p.containers.len(), p.containers.capacity());
    let c = &p.containers[0];
    tight("mounts", c.mounts.len(), c.mounts.capacity());
    tight("env", c.env.len(), c.env.capacity());
    tight(
        "envFrom secrets",
        c.env_from_secrets.len(),
        c.env_from_secrets.capacity(),
    );
    assert_eq!(c.env_from_secrets, ["db"]);
    let VolumeSourceObs::Projected {
        token_audiences,
        secrets,
        ..
    } = &p.volumes[0].source
    else {
        panic!("expected a projected volume")
    };
    tight(
        "token audiences",
        token_audiences.len(),
        token_audiences.capacity(),
    );
    tight("projected secrets", secrets.len(), secrets.capacity());
}

#[test]
fn upstream_deployment_template_keeps_csi_wiring_and_env_refs() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/upstream/examples/k8s/deployment-synck8s-azure.yaml"
    ))
    .expect("CI runs with ../shared beside the project");
    let d: Deployment = serde_yaml::from_str(&text).unwrap();
    let owner = OwnerRef {
        kind: "Deployment".into(),
        name: "busybox-deployment".into(),
        uid: Default::default(),
        controller: true,
    };
    let p = pod_from_template(owner, "default".into(), &d.spec.unwrap().template);
    let VolumeSourceObs::Csi {
        driver,
        read_only,
        attributes,
        ..
    } = &p.volumes[0].source
    else {
        panic!("expected csi volume")
    };
    assert_eq!(driver, "secrets-store.csi.k8s.io");
    assert_eq!(*read_only, Some(true));
    assert_eq!(attributes["secretProviderClass"], "azure-sync");
    let EnvSourceObs::SecretKey { secret, key, .. } = &p.containers[0].env[0].source else {
        panic!("expected secretKeyRef")
    };
    assert_eq!((secret.as_str(), key.as_str()), ("foosecret", "username"));
}

/// `spec.paused` decides whether a rollout restart rolls anything (kubectl refuses it for a
/// paused Deployment): kept as read, absent meaning not paused (the API's default).
#[test]
fn a_deployments_pause_is_kept() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/upstream/examples/k8s/deployment-synck8s-azure.yaml"
    ))
    .expect("CI runs with ../shared beside the project");
    let mut d: Deployment = serde_yaml::from_str(&text).unwrap();
    assert!(!super::deployment(&d).paused);
    d.spec.as_mut().unwrap().paused = Some(true);
    assert!(super::deployment(&d).paused);
}

/// An event written through events.k8s.io and read as core/v1 (kube-scheduler's
/// FailedScheduling) has no `count` or `lastTimestamp`; `eventTime` is its first occurrence and
/// `series` its repeats: how often and how recently come from the series.
#[test]
fn a_series_event_is_as_recent_and_as_frequent_as_its_series() {
    use k8s_openapi::api::core::v1::{Event, EventSeries};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
    let first: jiff::Timestamp = "2026-12-01T09:00:00Z".parse().unwrap();
    let last: jiff::Timestamp = "2026-12-01T09:40:00Z".parse().unwrap();
    let e = Event {
        reason: Some("FailedScheduling".into()),
        event_time: Some(MicroTime(first)),
        series: Some(EventSeries {
            count: Some(17),
            last_observed_time: Some(MicroTime(last)),
        }),
        ..Default::default()
    };
    let obs = event(&e);
    assert_eq!(obs.count, 17);
    assert_eq!(obs.last_seen, Some(last));
    // A legacy event: lastTimestamp and count as written.
    let legacy = Event {
        count: Some(3),
        last_timestamp: Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(last)),
        ..Default::default()
    };
    let obs = event(&legacy);
    assert_eq!((obs.count, obs.last_seen), (3, Some(last)));
}

/// A StatefulSet read from the API server (live, the lab's export) as its controller makes its
/// pods: a template volume a claim template names is that claim's PersistentVolumeClaim in
/// every pod (updateStorage), so the kept template holds no CSI volume of that name, and the
/// workload keeps the volume as written, for the report to say why no pod mounts its SPC.
#[test]
fn a_stateful_set_s_claim_template_replaces_the_template_volume_of_its_name() {
    let set: k8s_openapi::api::apps::v1::StatefulSet = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "db", "namespace": "data"},
        "spec": {"serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
            "template": {"metadata": {"labels": {"app": "db"}}, "spec": {
                "containers": [{"name": "db", "volumeMounts": [
                    {"name": "data", "mountPath": "/data"}, {"name": "kv", "mountPath": "/kv"}]}],
                "volumes": [
                    {"name": "data", "csi": {"driver": "secrets-store.csi.k8s.io",
                        "volumeAttributes": {"secretProviderClass": "db-kv"}}},
                    {"name": "kv", "csi": {"driver": "secrets-store.csi.k8s.io",
                        "volumeAttributes": {"secretProviderClass": "other-kv"}}}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"}}]}
    }))
    .unwrap();
    let w = stateful_set(&set);
    let replaced: Vec<&str> = w.claim_replaced.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(replaced, ["data"]);
    let template = w
        .template
        .as_deref()
        .expect("a template with a CSI volume is kept");
    let csi: Vec<&str> = (template.volumes.iter())
        .filter(|v| matches!(v.source, VolumeSourceObs::Csi { .. }))
        .map(|v| v.name.as_str())
        .collect();
    assert_eq!(csi, ["kv"], "{:?}", template.volumes);
}
