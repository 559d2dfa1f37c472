//! Whether Stakater Reloader restarts a workload that reads a synced Secret through env
//! (KVC902), judged as Reloader's ShouldReload judges it (FACTS §10; [R] `pkg/common/common.go`
//! at the FACTS commit, audit J3): the workload's annotations first and, when none of
//! `secret.reloader.stakater.com/reload`, `reloader.stakater.com/search`,
//! `reloader.stakater.com/auto` or `secret.reloader.stakater.com/auto` is there, the pod
//! template's; each entry of a `reload` list is the anchored regex `^entry$`.

use serde_json::Value;

const SPC: &str = "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {name: spc, namespace: app}\nspec:\n  provider: azure\n  parameters:\n    keyvaultName: kv-app\n    tenantId: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b\n    clientID: 0b9c5e1a-7d2f-4c3e-9a8b-1f2e3d4c5b6a\n    objects: |\n      array:\n        - |\n          objectName: db\n          objectType: secret\n  secretObjects:\n  - secretName: dbs\n    type: Opaque\n    data: [{objectName: db, key: pw}]\n";

/// A Deployment reading `dbs` through env, with `own` and `template` as its metadata's and
/// its pod template's annotations (flow maps).
fn deployment(own: &str, template: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: app, annotations: {own}}}\nspec:\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata:\n      labels: {{app: web}}\n      annotations: {template}\n    spec:\n      containers:\n      - name: web\n        image: nginx\n        env:\n        - name: PW\n          valueFrom: {{secretKeyRef: {{name: dbs, key: pw}}}}\n        volumeMounts: [{{name: s, mountPath: /mnt/s, readOnly: true}}]\n      volumes:\n      - name: s\n        csi: {{driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {{secretProviderClass: spc}}}}\n"
    )
}

/// The KVC902 findings of `check -f` on the SPC and `deploy`.
fn kvc902(deploy: &str) -> Vec<Value> {
    let (_, r, _) = crate::manifest_run::check_docs(&[SPC, deploy]);
    crate::manifest_run::findings_of(&r, "KVC902")
}

/// A chart's `podAnnotations`: Reloader's annotation on the pod template alone restarts the
/// workload (ShouldReload falls back to the pod annotations).
#[test]
fn a_reloader_annotation_on_the_pod_template_restarts_the_workload() {
    for template in [
        "{reloader.stakater.com/auto: 'true'}",
        "{secret.reloader.stakater.com/auto: 'true'}",
        "{secret.reloader.stakater.com/reload: dbs}",
        "{secret.reloader.stakater.com/reload: 'db.*'}",
    ] {
        let found = kvc902(&deployment("{}", template));
        assert!(found.is_empty(), "{template}: {found:#?}");
    }
}

/// The fallback happens only when the workload has none of the four: its own `reload`
/// naming other Secrets is what Reloader reads, and the template's `auto` is not looked at.
#[test]
fn the_workloads_own_annotation_hides_the_templates() {
    let found = kvc902(&deployment(
        "{secret.reloader.stakater.com/reload: cache}",
        "{reloader.stakater.com/auto: 'true'}",
    ));
    assert_eq!(found.len(), 1, "{found:#?}");
}

/// `reload` entries are anchored regexes: `db.*` and `d.s` name dbs, `db` does not (anchored
/// at the end), nor `bs` (at the start).
#[test]
fn reload_entries_match_as_anchored_regexes() {
    for (list, restarts) in [
        ("'db.*'", true),
        ("'cache, d.s'", true),
        ("db", false),
        ("bs", false),
    ] {
        let found = kvc902(&deployment(
            &format!("{{secret.reloader.stakater.com/reload: {list}}}"),
            "{}",
        ));
        assert_eq!(found.is_empty(), restarts, "{list}: {found:#?}");
    }
}

/// The fix that extends a `reload` list quotes it: an entry is a regex the shell would glob.
#[test]
fn the_reload_list_in_the_fix_is_quoted() {
    let found = kvc902(&deployment(
        "{secret.reloader.stakater.com/reload: 'cache.*'}",
        "{}",
    ));
    assert_eq!(found.len(), 1, "{found:#?}");
    let fix = found[0]["fix"].as_str().unwrap();
    assert!(
        fix.contains("kubectl annotate deployment/web -n app 'secret.reloader.stakater.com/reload=cache.*,dbs' --overwrite"),
        "{fix}"
    );
}
