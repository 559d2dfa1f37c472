//! An SPC that names no credential (no clientID, no identity mode) makes the provider take a
//! service principal from `nodePublishSecretRef` (FACTS §5). That field belongs to the pod's
//! `csi` volume: the SecretProviderClass CRD has none (upstream
//! `secrets-store.csi.x-k8s.io_secretproviderclasses.yaml`). So the fix edits the SPC for
//! clientID only, and the service-principal alternative names where each mounting pod's owner
//! keeps the volume (audit J5), in words: a note is never run (audit N3).

const SPC: &str = "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {name: app-kv, namespace: shop}\nspec:\n  provider: azure\n  parameters: {keyvaultName: kv-shop, tenantId: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b, objects: \"array:\\n  - |\\n    objectName: db\\n    objectType: secret\\n\"}\n";

/// A pod spec (indented for `template.spec` at `pad`) mounting `app-kv` through volume
/// `volume`, with `extra` added to the csi source.
fn pod_spec(pad: &str, volume: &str, extra: &str) -> String {
    [
        "containers:",
        "- name: c",
        "  image: i",
        &format!("  volumeMounts: [{{name: {volume}, mountPath: /mnt/kv, readOnly: true}}]"),
        "volumes:",
        &format!("- name: {volume}"),
        &format!(
            "  csi: {{driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {{secretProviderClass: app-kv}}{extra}}}"
        ),
    ]
    .iter()
    .map(|l| format!("{pad}{l}\n"))
    .collect()
}

fn deployment(name: &str, volume: &str, extra: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: shop}}\nspec:\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n{}",
        pod_spec("      ", volume, extra)
    )
}

fn pod(name: &str, volume: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: shop}}\nspec:\n{}",
        pod_spec("  ", volume, "")
    )
}

/// The fixes of `code` in `check -f` of `docs`.
fn fixes(docs: &[&str], code: &str) -> Vec<String> {
    let (_, r, _) = crate::manifest_run::check_docs(docs);
    let found: Vec<String> = crate::manifest_run::findings_of(&r, code)
        .iter()
        .map(|f| f["fix"].as_str().unwrap().to_string())
        .collect();
    assert!(!found.is_empty(), "no {code}: {r:#}");
    found
}

/// The SPC edit (the command pasted, and its comment up to the service-principal
/// alternative) and the rest.
fn split(fix: &str) -> (&str, &str) {
    let at = fix.find("service-principal").unwrap_or(fix.len());
    fix.split_at(at)
}

#[test]
fn the_service_principal_alternative_names_each_owner_s_volume() {
    let (app, worker) = (
        deployment("app", "kv", ""),
        deployment("worker", "secrets", ""),
    );
    for fix in fixes(&[SPC, &app, &worker], "KVC302") {
        let (spc, rest) = split(&fix);
        assert!(
            spc.starts_with("kubectl edit secretproviderclass app-kv -n shop  # ")
                && spc.contains("clientID")
                && !spc.contains("nodePublishSecretRef"),
            "{fix}"
        );
        assert!(rest.contains("nodePublishSecretRef"), "{fix}");
        for (owner, volume) in [("app", "kv"), ("worker", "secrets")] {
            assert!(
                rest.contains(&format!("volume {volume} of deployment/{owner}")),
                "{owner}: {fix}"
            );
        }
    }
}

/// A bare pod's spec cannot be edited in place: it is recreated, its volume named.
#[test]
fn a_bare_pod_is_recreated_with_the_reference_on_its_volume() {
    for fix in fixes(&[SPC, &pod("web", "store")], "KVC302") {
        let (spc, rest) = split(&fix);
        assert!(!spc.contains("nodePublishSecretRef"), "{fix}");
        assert!(
            rest.contains(
                "volume store of pod/web (recreated: a pod's spec cannot be edited in place)"
            ),
            "{fix}"
        );
    }
}

/// A workload whose volume already has its reference authenticates; only the other is named.
#[test]
fn an_owner_whose_volume_has_the_reference_is_not_named() {
    let (with, without) = (
        deployment("api", "kv", ", nodePublishSecretRef: {name: sp-creds}"),
        deployment("app", "kv", ""),
    );
    for fix in fixes(&[SPC, &with, &without], "KVC302") {
        let (_, rest) = split(&fix);
        assert!(rest.contains("volume kv of deployment/app"), "{fix}");
        assert!(!rest.contains("deployment/api"), "{fix}");
    }
}

/// No pod mounts it: no volume to name, the wording stays generic (KVC307).
#[test]
fn a_standalone_spc_keeps_the_generic_wording() {
    for fix in fixes(&[SPC], "KVC307") {
        assert!(
            fix.starts_with("kubectl edit secretproviderclass app-kv -n shop  # ")
                && fix.contains("on each pod volume that mounts this SecretProviderClass"),
            "{fix}"
        );
    }
}
