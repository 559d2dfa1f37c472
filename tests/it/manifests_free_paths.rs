//! Fixes that add a volume or a volumeMount must work when pasted: the API server refuses two
//! volumes of one name in a pod and two volumeMounts of one container at one mountPath
//! (kubernetes core validation, validateVolumes / ValidateVolumeMounts "must be unique"), so
//! the name and path a fix proposes are ones the pod spec does not use yet (audit LL3, LL4,
//! LL5), and a new volume is added to the list, not written as the whole list.

use crate::manifest_run::{self, SA, check_docs, findings_of};

/// SecretProviderClass `name` in team-a holding one secret object, `token`.
fn spc(name: &str, sync: &str) -> String {
    manifest_run::spc(
        name,
        sync,
        "      array:
        - |
          objectName: token
          objectType: secret
",
    )
}

/// Deployment web with container app's `mounts` (flow mappings) and `volumes` (block items).
fn web(env: &str, mounts: &str, volumes: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: team-a}}
spec:
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web, azure.workload.identity/use: 'true'}}}}
    spec:
      serviceAccountName: app-sa
      containers:
      - name: app
        image: busybox
{env}        volumeMounts: [{mounts}]
      volumes:
{volumes}"
    )
}

fn csi(name: &str, spc: &str) -> String {
    format!(
        "      - {{name: {name}, csi: {{driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {{secretProviderClass: {spc}}}}}}}\n"
    )
}

/// The value after each `key: ` in `text`, up to the next ',' or '}'.
fn values<'t>(text: &'t str, key: &str) -> Vec<&'t str> {
    text.match_indices(key)
        .map(|(i, _)| {
            let rest = &text[i + key.len()..];
            rest[..rest.find([',', '}']).unwrap_or(rest.len())].trim()
        })
        .collect()
}

#[test]
fn kvc707_mounts_the_volume_at_a_path_the_container_does_not_use() {
    let dep = web(
        "",
        "{name: first, mountPath: /mnt/secrets-store, readOnly: true}",
        &(csi("first", "other-kv") + &csi("second", "app-kv")),
    );
    let (_, r, _) = check_docs(&[SA, &spc("app-kv", ""), &spc("other-kv", ""), &dep]);
    let f = findings_of(&r, "KVC707");
    assert_eq!(f.len(), 1, "{r:#}");
    let fix = f[0]["fix"].as_str().unwrap();
    assert!(fix.contains("{name: second, mountPath: "), "{fix}");
    let paths = values(fix, "mountPath: ");
    assert_eq!(paths.len(), 1, "{fix}");
    assert_ne!(
        paths[0], "/mnt/secrets-store",
        "taken by volume first: {fix}"
    );
}

#[test]
fn kvc904_adds_a_volume_of_a_free_name_at_a_free_path_to_the_lists() {
    let env = "        env:\n        - {name: TOKEN, valueFrom: {secretKeyRef: {name: orphan, key: token}}}\n";
    let dep = web(
        env,
        "{name: secrets-store, mountPath: /mnt/secrets-store, readOnly: true}",
        &csi("secrets-store", "main-kv"),
    );
    let sync = "  secretObjects:\n  - secretName: orphan\n    type: Opaque\n    data: [{objectName: token, key: token}]\n";
    let (_, r, _) = check_docs(&[SA, &spc("main-kv", ""), &spc("orphan-kv", sync), &dep]);
    let f = findings_of(&r, "KVC904");
    assert_eq!(f.len(), 1, "{r:#}");
    let fix = f[0]["fix"].as_str().unwrap();
    // An entry added, not a list that reads as the whole of it (main-kv's volume stays).
    assert!(fix.contains("add to volumes"), "{fix}");
    assert!(!fix.contains("volumes: ["), "{fix}");
    let names = values(fix, "{name: ");
    assert!(!names.is_empty(), "{fix}");
    assert!(names.iter().all(|n| *n != "secrets-store"), "{fix}");
    let paths = values(fix, "mountPath: ");
    assert_eq!(paths.len(), 1, "{fix}");
    assert_ne!(paths[0], "/mnt/secrets-store", "{fix}");
}

#[test]
fn two_kvc102_fixes_of_one_container_propose_two_directories() {
    let dep = web(
        "",
        "{name: kv, mountPath: /etc/app/db-password, subPath: db-password, readOnly: true}, {name: kv, mountPath: /etc/app/api-key, subPath: api-key, readOnly: true}, {name: cache, mountPath: /mnt/kv}",
        &("      - {name: cache, emptyDir: {}}\n".to_string() + &csi("kv", "app-kv")),
    );
    let (_, r, _) = check_docs(&[SA, &spc("app-kv", ""), &dep]);
    let f = findings_of(&r, "KVC102");
    assert_eq!(f.len(), 2, "{r:#}");
    let dirs: Vec<String> = f
        .iter()
        .map(|f| {
            let fix = f["fix"].as_str().unwrap();
            let at = fix.find("a directory of its own (").expect(fix) + 24;
            fix[at..at + fix[at..].find(',').unwrap()].to_string()
        })
        .collect();
    assert_ne!(
        dirs[0], dirs[1],
        "both fixes applied give two mounts at one path"
    );
    assert!(
        dirs.iter().all(|d| d != "/mnt/kv"),
        "{dirs:?}: /mnt/kv is the cache's"
    );
}
