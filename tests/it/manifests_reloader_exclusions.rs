//! Reloader's two exclusions (FACTS §10; [R] `pkg/common/common.go` ShouldReload): the
//! Secret's own `reloader.stakater.com/ignore: "true"` and the workload's own
//! `secrets.exclude.reloader.stakater.com/reload: "a,b"` are read before any reload
//! annotation, so a workload annotated `reloader.stakater.com/auto` is still not restarted for
//! that Secret. The synced Secret takes its annotations from the SPC's
//! `secretObjects[].annotations` (FACTS §2), so the ignore may come from the SPC. KVC902 then
//! says what skips it and its fix removes that; adding `auto` changes nothing.

use serde_json::Value;

/// The SPC syncing `dbs`, with `annotations` (a flow map) on its secretObjects entry.
fn spc(annotations: &str) -> String {
    format!(
        "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {{name: spc, namespace: app}}\nspec:\n  provider: azure\n  parameters:\n    keyvaultName: kv-app\n    tenantId: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b\n    clientID: 0b9c5e1a-7d2f-4c3e-9a8b-1f2e3d4c5b6a\n    objects: |\n      array:\n        - |\n          objectName: db\n          objectType: secret\n  secretObjects:\n  - secretName: dbs\n    type: Opaque\n    annotations: {annotations}\n    data: [{{objectName: db, key: pw}}]\n"
    )
}

/// A Deployment reading `dbs` through env, annotated `own` (a flow map).
fn deployment(own: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: app, annotations: {own}}}\nspec:\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n      containers:\n      - name: web\n        image: nginx\n        env:\n        - name: PW\n          valueFrom: {{secretKeyRef: {{name: dbs, key: pw}}}}\n        volumeMounts: [{{name: s, mountPath: /mnt/s, readOnly: true}}]\n      volumes:\n      - name: s\n        csi: {{driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {{secretProviderClass: spc}}}}\n"
    )
}

fn kvc902(spc: &str, deploy: &str) -> Vec<Value> {
    let (_, r, _) = crate::manifest_run::check_docs(&[spc, deploy]);
    crate::manifest_run::findings_of(&r, "KVC902")
}

fn text(f: &Value, field: &str) -> String {
    f[field].as_str().unwrap_or_default().to_string()
}

/// `auto` with the Secret named in the workload's exclusion list: not restarted, and the fix
/// takes the Secret out of the list, keeping the other entries.
#[test]
fn an_excluded_secret_is_not_restarted_and_the_fix_removes_the_exclusion() {
    let found = kvc902(
        &spc("{}"),
        &deployment(
            "{reloader.stakater.com/auto: 'true', secrets.exclude.reloader.stakater.com/reload: 'cache, dbs'}",
        ),
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    let (msg, fix) = (text(&found[0], "message"), text(&found[0], "fix"));
    assert!(
        msg.contains("secrets.exclude.reloader.stakater.com/reload"),
        "{msg}"
    );
    assert!(
        fix.contains("kubectl annotate deployment/web -n app secrets.exclude.reloader.stakater.com/reload=cache --overwrite"),
        "{fix}"
    );
    assert!(!fix.contains("auto=true"), "auto is already there: {fix}");
}

/// Exclusion entries are names, not regexes (`checkIfResourceIsExcluded` compares trimmed
/// entries): `d.*` excludes nothing, and the only entry removed drops the annotation.
#[test]
fn exclusion_entries_are_names() {
    let regex = kvc902(
        &spc("{}"),
        &deployment(
            "{reloader.stakater.com/auto: 'true', secrets.exclude.reloader.stakater.com/reload: 'd.*'}",
        ),
    );
    assert!(regex.is_empty(), "{regex:#?}");
    let only = kvc902(
        &spc("{}"),
        &deployment(
            "{reloader.stakater.com/auto: 'true', secrets.exclude.reloader.stakater.com/reload: dbs}",
        ),
    );
    assert_eq!(only.len(), 1, "{only:#?}");
    let fix = text(&only[0], "fix");
    assert!(
        fix.contains("secrets.exclude.reloader.stakater.com/reload-"),
        "{fix}"
    );
}

/// The SPC writes `reloader.stakater.com/ignore: "true"` on the Secret: Reloader ignores it
/// whatever the workload says, and the fix removes it from the SPC's secretObjects (a JSON
/// patch whose pointer escapes `/` as `~1`).
#[test]
fn a_secret_ignored_through_the_spc_is_not_restarted() {
    let found = kvc902(
        &spc("{reloader.stakater.com/ignore: 'true'}"),
        &deployment("{reloader.stakater.com/auto: 'true'}"),
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    let (msg, fix) = (text(&found[0], "message"), text(&found[0], "fix"));
    assert!(msg.contains("reloader.stakater.com/ignore"), "{msg}");
    assert!(
        fix.contains("/spec/secretObjects/0/annotations/reloader.stakater.com~1ignore"),
        "{fix}"
    );
    assert!(!fix.contains("auto=true"), "{fix}");
    // Only the exact string "true" ignores (Reloader compares the value to "true").
    let other = kvc902(
        &spc("{reloader.stakater.com/ignore: 'True'}"),
        &deployment("{reloader.stakater.com/auto: 'true'}"),
    );
    assert!(other.is_empty(), "{other:#?}");
}

/// Ignored and not annotated either: removing the ignore alone restarts nothing, so the fix
/// adds the annotation after it.
#[test]
fn an_ignored_secret_of_an_unannotated_workload_needs_both() {
    let found = kvc902(
        &spc("{reloader.stakater.com/ignore: 'true'}"),
        &deployment("{}"),
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    let fix = text(&found[0], "fix");
    let (ignore, auto) = (
        fix.find("reloader.stakater.com~1ignore"),
        fix.find("reloader.stakater.com/auto=true"),
    );
    assert!(ignore.is_some() && auto.is_some() && ignore < auto, "{fix}");
}

/// Audit Z2: `reloader.stakater.com/search: "true"` restarts the workload for a Secret
/// tagged `reloader.stakater.com/match: "true"` ([R] ShouldReload; FACTS §10), and the synced
/// Secret takes the tag from the SPC's secretObjects annotations (FACTS §2). Tagged, nothing
/// is missing; untagged, KVC902 names the missing tag (not "no Reloader annotation") and its
/// fix tags the Secret through the SPC, not the workload.
#[test]
fn search_restarts_for_a_secret_the_spc_tags_with_match() {
    let search = "{reloader.stakater.com/search: 'true'}";
    let tagged = kvc902(
        &spc("{reloader.stakater.com/match: 'true'}"),
        &deployment(search),
    );
    assert!(tagged.is_empty(), "{tagged:#?}");

    let untagged = kvc902(&spc("{}"), &deployment(search));
    assert_eq!(untagged.len(), 1, "{untagged:#?}");
    let (msg, fix) = (text(&untagged[0], "message"), text(&untagged[0], "fix"));
    assert!(
        msg.contains("restarts it only for Secrets annotated reloader.stakater.com/match: \"true\", which dbs is not"),
        "{msg}"
    );
    assert!(!msg.contains("no Reloader annotation"), "{msg}");
    assert!(
        fix.contains(
            "kubectl patch secretproviderclass spc -n app --type json -p '[{\"op\":\"add\",\"path\":\"/spec/secretObjects/0/annotations/reloader.stakater.com~1match\",\"value\":\"true\"}]'"
        ),
        "{fix}"
    );
    assert!(!fix.contains("reloader.stakater.com/auto"), "{fix}");
    // Audit AA2: the driver does not rewrite a Secret that already exists when the SPC's
    // secretObjects change (FACTS §11), so the Secret there, unseen by `check -f`, is tagged
    // too — and only if it is there.
    let pasted = crate::paste_kit::paste_kube(&fix, "", "", "");
    assert_eq!(
        pasted
            .called(
                "kubectl [annotate] [secret] [dbs] [-n] [app] [reloader.stakater.com/match=true]"
            )
            .len(),
        1,
        "{:#?}",
        pasted.calls
    );
    assert!(
        !pasted
            .called("kubectl [patch] [secretproviderclass] [spc]")
            .is_empty(),
        "{:#?}",
        pasted.calls
    );

    // Reloader compares both with the exact string "true".
    let loose = kvc902(
        &spc("{reloader.stakater.com/match: 'True'}"),
        &deployment(search),
    );
    assert_eq!(loose.len(), 1, "match: True tags nothing: {loose:#?}");
}
