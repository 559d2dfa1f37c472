//! A SecretProviderClass's `parameters.objects` string (YAML inside YAML, the provider's own
//! format): parsed alone, then as part of a manifest whose pod mounts the SPC, diagnosed and
//! reported, so what the parser makes of it reaches every rule that reads the objects.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(objects) = std::str::from_utf8(data) else {
        return;
    };
    let params = BTreeMap::from([
        ("keyvaultName".to_string(), "kv-shop".to_string()),
        (
            "tenantId".to_string(),
            "72f988bf-86f1-41af-91ab-2d7cd011db47".to_string(),
        ),
        (
            "clientID".to_string(),
            "3f2c9a1e-7b4d-4e8a-9c1f-2a6b5d8e0f13".to_string(),
        ),
        ("objects".to_string(), objects.to_string()),
    ]);
    let _ = kvchain::spc::parse(&params);

    let spc = serde_json::json!({
        "apiVersion": "secrets-store.csi.x-k8s.io/v1",
        "kind": "SecretProviderClass",
        "metadata": {"name": "web-kv", "namespace": "shop"},
        "spec": {
            "provider": "azure",
            "secretObjects": [{
                "secretName": "web-db",
                "type": "Opaque",
                "data": [{"objectName": "db-password", "key": "password"}],
            }],
            "parameters": params,
        },
    });
    let pod = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "shop",
                     "labels": {"azure.workload.identity/use": "true"}},
        "spec": {
            "serviceAccountName": "web",
            "containers": [{
                "name": "web",
                "image": "busybox",
                "env": [{"name": "DB", "valueFrom": {"secretKeyRef": {"name": "web-db", "key": "password"}}}],
                "volumeMounts": [{"name": "kv", "mountPath": "/mnt/kv", "readOnly": true}],
            }],
            "volumes": [{"name": "kv", "csi": {
                "driver": "secrets-store.csi.k8s.io",
                "readOnly": true,
                "volumeAttributes": {"secretProviderClass": "web-kv"},
            }}],
        },
    });
    let (Ok(spc), Ok(pod)) = (serde_yaml::to_string(&spc), serde_yaml::to_string(&pod)) else {
        return;
    };
    let text = format!("{spc}---\n{pod}");
    let Ok(snapshot) = kvchain::source::manifests::load_str("fuzz.yaml", &text) else {
        return;
    };
    kvchain_fuzz::check(snapshot, None);
});
