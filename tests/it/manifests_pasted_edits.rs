//! Fixes of `check -f` say the edit to make and the file to apply where the manifests tell:
//! a mis-cased secretProviderClass key is renamed, not taken for an inline parameter (audit
//! LL8); a Job is re-created from its own file (LL9); a KVC705 fix names the field and value
//! (LL13); a secretObjects entry the driver refuses whole is KVC806's alone (LL14).

use crate::manifest_run::{ONE_OBJECT, SA, check_docs, findings_of, spc};

/// A workload of `kind` (Deployment or Job) named `name` whose volume kv has `attributes`.
fn workload(kind: &str, name: &str, attributes: &str) -> String {
    let (api, extra, restart) = match kind {
        "Job" => ("batch/v1", "", "      restartPolicy: Never\n"),
        _ => ("apps/v1", "  selector: {matchLabels: {app: w}}\n", ""),
    };
    format!(
        "apiVersion: {api}
kind: {kind}
metadata: {{name: {name}, namespace: team-a}}
spec:
{extra}  template:
    metadata: {{labels: {{app: w, azure.workload.identity/use: 'true'}}}}
    spec:
      serviceAccountName: app-sa
{restart}      containers:
      - name: app
        image: busybox
        volumeMounts: [{{name: kv, mountPath: /mnt/kv, readOnly: true}}]
      volumes:
      - {{name: kv, csi: {{driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {{{attributes}}}}}}}
"
    )
}

#[test]
fn kvc103_renames_a_mis_cased_secret_provider_class_key() {
    let dep = workload("Deployment", "wiring", "secretproviderclass: app-kv");
    let (_, r, _) = check_docs(&[SA, &spc("app-kv", "", ONE_OBJECT), &dep]);
    let f = findings_of(&r, "KVC103");
    assert_eq!(f.len(), 1, "{r:#}");
    let fix = f[0]["fix"].as_str().unwrap();
    // The SPC exists: the key is renamed, nothing created, the key not carried as a parameter.
    assert!(
        fix.contains("rename the key secretproviderclass to secretProviderClass"),
        "{fix}"
    );
    assert!(!fix.contains("create SecretProviderClass"), "{fix}");
    assert!(!fix.contains("without secretproviderclass"), "{fix}");
    // Applied, the finding goes.
    let fixed = workload("Deployment", "wiring", "secretProviderClass: app-kv");
    let (_, r, _) = check_docs(&[SA, &spc("app-kv", "", ONE_OBJECT), &fixed]);
    assert!(findings_of(&r, "KVC103").is_empty(), "{r:#}");
}

/// Audit NN6: the mis-cased key beside other inline keys. The SecretProviderClass it names
/// exists, so nothing is created: the key is renamed, and the inline keys go, since once the
/// key is renamed the driver merges the volume's attributes over the SPC's parameters
/// (FACTS §5) and a key left there overrides the SPC's. The fix says so of each; applied,
/// no KVC103 is left and the pod reads app-kv's parameters alone.
#[test]
fn kvc103_renames_a_mis_cased_key_beside_inline_keys_when_the_spc_exists() {
    let typo = "SecretProviderClass: app-kv, usePodIdentity: 'false', keyvaultName: kv-other";
    let dep = workload("Deployment", "wiring", typo);
    let (_, r, _) = check_docs(&[SA, &spc("app-kv", "", ONE_OBJECT), &dep]);
    let f = findings_of(&r, "KVC103");
    assert_eq!(f.len(), 1, "{r:#}");
    let fix = f[0]["fix"].as_str().unwrap();
    assert!(!fix.contains("create SecretProviderClass"), "{fix}");
    assert!(
        fix.contains("rename the key SecretProviderClass to secretProviderClass"),
        "{fix}"
    );
    assert!(fix.contains("SecretProviderClass app-kv exists"), "{fix}");
    assert!(
        fix.contains("remove the inline keys keyvaultName and usePodIdentity"),
        "{fix}"
    );
    // Each key's reason: the SPC's own value wins once the volume's is gone.
    assert!(fix.contains("app-kv sets keyvaultName"), "{fix}");
    assert!(fix.contains("app-kv does not set usePodIdentity"), "{fix}");
    // Applied: the key renamed, the inline keys removed.
    let fixed = workload("Deployment", "wiring", "secretProviderClass: app-kv");
    let (_, r, _) = check_docs(&[SA, &spc("app-kv", "", ONE_OBJECT), &fixed]);
    assert!(findings_of(&r, "KVC103").is_empty(), "{r:#}");
}

#[test]
fn a_job_is_re_created_from_the_file_that_defines_it() {
    let job = workload("Job", "migrate", "secretProviderClass: app-kvv");
    let (_, r, file) = check_docs(&[SA, &spc("app-kv", "", ONE_OBJECT), &job]);
    let f = findings_of(&r, "KVC101");
    assert_eq!(f.len(), 1, "{r:#}");
    let fix = f[0]["fix"].as_str().unwrap();
    assert!(!fix.contains("<the Job's manifest>"), "{fix}");
    // The file holds the SA and SPC too: edited, never applied whole (audit TT2).
    assert!(
        fix.starts_with(&format!("${{EDITOR:-vi}} {file}  # ")),
        "{fix}\nnames not {file}"
    );
    assert!(!fix.contains(&format!("-f {file}")), "{fix}");
    assert!(
        fix.contains("re-create the Job from its document alone"),
        "{fix}"
    );
    assert!(
        fix.contains("kubectl delete job migrate -n team-a"),
        "{fix}"
    );
}

#[test]
fn kvc705_for_a_file_permission_names_the_mode_to_set() {
    let objects = "      array:
        - |
          objectName: db-password
          objectType: secret
          filePermission: 0644x
";
    let dep = workload("Deployment", "web", "secretProviderClass: app-kv");
    let (_, r, _) = check_docs(&[SA, &spc("app-kv", "", objects), &dep]);
    let f = findings_of(&r, "KVC705");
    assert_eq!(f.len(), 1, "{r:#}");
    let fix = f[0]["fix"].as_str().unwrap();
    assert!(
        fix.contains("objects.array[0].filePermission: \"0644\""),
        "{fix}"
    );
    let fixed = objects.replace("0644x", "\"0644\"");
    let (_, r, _) = check_docs(&[SA, &spc("app-kv", "", &fixed), &dep]);
    assert!(findings_of(&r, "KVC705").is_empty(), "{r:#}");
}

/// Audit TT8 (LL13): a null or missing objectName (`objectName:   #name of secrets`) is
/// "objectName is required" (FACTS §5: required); the fix names the entry and what to set,
/// not only `# parameters.objects`.
#[test]
fn kvc705_for_a_missing_object_name_names_the_entry_and_the_value() {
    let objects = "      array:
        - |
          objectName:   #name of secrets
          objectType: secret
";
    let dep = workload("Deployment", "web", "secretProviderClass: app-kv");
    let (_, r, _) = check_docs(&[SA, &spc("app-kv", "", objects), &dep]);
    let f = findings_of(&r, "KVC705");
    assert_eq!(f.len(), 1, "{r:#}");
    let fix = f[0]["fix"].as_str().unwrap();
    assert!(
        fix.ends_with("# objects.array[0].objectName: <the Key Vault object's name>"),
        "{fix}"
    );
    let fixed = objects.replace("objectName:   #name of secrets", "objectName: db-password");
    let (_, r, _) = check_docs(&[SA, &spc("app-kv", "", &fixed), &dep]);
    assert!(findings_of(&r, "KVC705").is_empty(), "{r:#}");
}

#[test]
fn kvc705_for_a_mis_indented_key_says_which_line_to_indent_how() {
    let objects = "      array:
        - |
          objectName: db-password
         objectType: secret
";
    let dep = workload("Deployment", "web", "secretProviderClass: app-kv");
    let (_, r, _) = check_docs(&[SA, &spc("app-kv", "", objects), &dep]);
    let f = findings_of(&r, "KVC705");
    assert_eq!(f.len(), 1, "{r:#}");
    let fix = f[0]["fix"].as_str().unwrap();
    assert!(
        fix.contains("line 4: indent objectType by 4 spaces, as objectName"),
        "{fix}"
    );
}

#[test]
fn an_entry_without_a_secret_name_is_kvc806_alone() {
    let sync = "  secretObjects:
  - secretName: ''
    type: Opaque
    data: [{objectName: nothing-mounted, key: password}]
";
    let dep = workload("Deployment", "web", "secretProviderClass: app-kv");
    let (_, r, _) = check_docs(&[SA, &spc("app-kv", sync, ONE_OBJECT), &dep]);
    assert_eq!(findings_of(&r, "KVC806").len(), 1, "{r:#}");
    assert!(findings_of(&r, "KVC801").is_empty(), "{r:#}");
}

/// `workload` in namespace `ns` (a copy of [`workload`]'s text with the namespace replaced).
fn in_ns(doc: &str, ns: &str) -> String {
    doc.replace("namespace: team-a", &format!("namespace: {ns}"))
}

#[test]
fn kvc101_copies_an_spc_its_own_namespace_still_mounts_rather_than_moving_it() {
    let agent = workload("Deployment", "agent", "secretProviderClass: app-kv");
    let web = in_ns(
        &workload("Deployment", "web", "secretProviderClass: app-kv"),
        "team-b",
    );
    let sa_b = in_ns(SA, "team-b");
    let docs = [SA, &sa_b, &spc("app-kv", "", ONE_OBJECT), &agent, &web];
    let (_, r, _) = check_docs(&docs);
    let f = findings_of(&r, "KVC101");
    assert_eq!(f.len(), 1, "{r:#}");
    let fix = f[0]["fix"].as_str().unwrap();
    // FACTS §11: moving it would leave agent (team-a) without its SPC.
    assert!(!fix.contains("set metadata.namespace"), "{fix}");
    // The file holds other objects: the live object copied, never the file applied whole
    // (audit TT2), and the same copy named for the file.
    assert!(
        fix.contains("kubectl get secretproviderclass app-kv -n team-a -o yaml")
            && fix.contains("a copy in namespace team-b")
            && fix.contains("metadata.namespace: team-b"),
        "{fix}"
    );
    // Applied (a second document in team-b): no KVC101 anywhere.
    let copy = in_ns(&spc("app-kv", "", ONE_OBJECT), "team-b");
    let (_, r, _) = check_docs(&[&docs[..], &[copy.as_str()]].concat());
    assert!(findings_of(&r, "KVC101").is_empty(), "{r:#}");
}

#[test]
fn kvc101_near_miss_gives_each_workload_its_own_edit() {
    let dep = workload("Deployment", "web", "secretProviderClass: app-kvv");
    let job = workload("Job", "migrate", "secretProviderClass: app-kvv");
    let (_, r, file) = check_docs(&[SA, &spc("app-kv", "", ONE_OBJECT), &dep, &job]);
    let f = findings_of(&r, "KVC101");
    assert_eq!(f.len(), 2, "one finding per workload: {r:#}");
    let fixes: Vec<&str> = f.iter().map(|f| f["fix"].as_str().unwrap()).collect();
    assert!(
        fixes
            .iter()
            .any(|x| x.starts_with("kubectl edit deployment/web -n team-a")
                && x.contains("secretProviderClass: app-kv")),
        "{fixes:#?}"
    );
    assert!(
        fixes
            .iter()
            .any(|x| x.contains("kubectl delete job migrate -n team-a")
                && x.starts_with(&format!("${{EDITOR:-vi}} {file}  # "))
                && !x.contains(&format!("-f {file}"))
                && x.contains("secretProviderClass: app-kv")),
        "{fixes:#?}"
    );
    // Both applied: no KVC101 left.
    let (_, r, _) = check_docs(&[
        SA,
        &spc("app-kv", "", ONE_OBJECT),
        &dep.replace("app-kvv", "app-kv"),
        &job.replace("app-kvv", "app-kv"),
    ]);
    assert!(findings_of(&r, "KVC101").is_empty(), "{r:#}");
}
