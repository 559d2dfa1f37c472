//! `check -f`: what `kubectl apply` makes of the documents. A SecretProviderClass whose
//! apiVersion the CRD does not serve (upstream CRD: `secrets-store.csi.x-k8s.io` `v1` and
//! `v1alpha1` only) is refused, so it is listed as not read naming the field and a pod naming
//! it has no SecretProviderClass (KVC101, FACTS §3 "not found"); a placeholder left in a pod's
//! nodeSelector is reported once as unrendered (README `kvchain check`).

use kvchain::chain::{Chain, Code, Finding, Severity, diagnose};
use kvchain::source::manifests;

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\nspec:\n  containers: [{name: c, image: i}]\n  volumes:\n  - name: secrets\n    csi: {driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {secretProviderClass: kv}}\n---\n";

fn spc(api_version: &str) -> String {
    format!(
        "apiVersion: {api_version}\nkind: SecretProviderClass\nmetadata: {{name: kv, namespace: shop}}\nspec:\n  provider: azure\n  parameters:\n    clientID: 2b4d6f8a-1c3e-4a5b-9d7f-0e2c4a6b8d0f\n    keyvaultName: kv-shop\n    tenantID: 72f988bf-86f1-41af-91ab-2d7cd011db47\n    objects: |\n      array:\n        - |\n          objectName: db\n          objectType: secret\n"
    )
}

fn findings(chains: &[Chain]) -> Vec<&Finding> {
    chains.iter().flat_map(|c| c.findings()).collect()
}

/// The served versions are read; any other apiVersion makes the document unread, naming
/// `apiVersion` and why, and the pod's KVC101 (an error: the files define it, kubectl refuses
/// it) names that document.
#[test]
fn an_spc_whose_api_version_is_not_served_is_not_read_and_its_pods_have_none() {
    for served in [
        "secrets-store.csi.x-k8s.io/v1",
        "secrets-store.csi.x-k8s.io/v1alpha1",
    ] {
        let snap = manifests::load_str("m.yaml", &(POD.to_string() + &spc(served))).expect("loads");
        assert!(
            snap.source.unread.is_empty(),
            "{served}: {:?}",
            snap.source.unread
        );
        let chains = diagnose(&snap);
        assert!(
            !findings(&chains).iter().any(|f| f.code == Code::KVC101),
            "{served}"
        );
    }
    for (version, says) in [
        (
            "secrets-store.csi.k8s.io/v1",
            "did you mean secrets-store.csi.x-k8s.io/v1?",
        ),
        (
            "secrets-store.csi.x-k8s.io/v2",
            "serves secrets-store.csi.x-k8s.io/v1 and the deprecated v1alpha1 only",
        ),
        ("$API_VERSION", "unrendered template value"),
    ] {
        let snap =
            manifests::load_str("m.yaml", &(POD.to_string() + &spc(version))).expect("loads");
        assert!(snap.spcs.items.is_empty(), "{version}: read as an SPC");
        assert_eq!(snap.source.unread.len(), 1, "{version}");
        let unread = &snap.source.unread[0];
        assert!(
            unread.contains("m.yaml, document 2")
                && unread.contains("apiVersion: ")
                && unread.contains(says),
            "{version}: {unread}"
        );
        let chains = diagnose(&snap);
        let f = findings(&chains)
            .into_iter()
            .find(|f| f.code == Code::KVC101)
            .unwrap_or_else(|| panic!("{version}: KVC101"));
        assert_eq!(f.severity, Severity::Error, "{version}");
        assert!(
            f.message.contains("could not be read") && f.message.contains(says),
            "{version}: {}",
            f.message
        );
    }
}

/// A Deployment whose template pins `kubernetes.io/os: $NODE_SELECTOR_OS`, with two CSI
/// volumes. The API server validates a nodeSelector as labels (ValidatePodSpec →
/// ValidateLabels) and refuses the Deployment, so it is not read, naming the field in the API
/// server's words and that the value is unrendered (audit TTT-real: it was read, with a
/// warning); a rendered value is read and no finding.
#[test]
fn an_unrendered_node_selector_refuses_the_deployment() {
    let deployment = |os: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: shop}}\nspec:\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec:\n      nodeSelector: {{kubernetes.io/os: {os:?}}}\n      containers: [{{name: c, image: i}}]\n      volumes:\n      - name: a\n        csi: {{driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {{secretProviderClass: kv}}}}\n      - name: b\n        csi: {{driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {{secretProviderClass: kv}}}}\n---\n"
        )
    };
    let spc = spc("secrets-store.csi.x-k8s.io/v1");
    let snap =
        manifests::load_str("m.yaml", &(deployment("$NODE_SELECTOR_OS") + &spc)).expect("loads");
    assert!(diagnose(&snap).is_empty());
    let unread = snap.source.unread.join("\n");
    assert!(
        unread.contains("m.yaml, document 1")
            && unread.contains("Deployment/web")
            && unread.contains(
                "spec.template.spec.nodeSelector: Invalid value: \"$NODE_SELECTOR_OS\": a valid label must be"
            )
            && unread.contains("unrendered"),
        "{unread}"
    );
    let rendered = manifests::load_str("m.yaml", &(deployment("linux") + &spc)).expect("loads");
    assert!(rendered.source.unread.is_empty());
    let chains = diagnose(&rendered);
    assert_eq!(chains.len(), 2);
    assert!(
        !findings(&chains).iter().any(|f| f.code == Code::KVC106),
        "a rendered nodeSelector is no finding"
    );
}

/// W4: a SecretProviderClass without metadata.namespace is assumed applied with `-n` into its
/// pods' namespace (README); that assumption is said on the Pod link (an info naming the
/// namespace). Pods of two namespaces naming the one document: one apply serves one namespace,
/// so a warning in every namespace but the first in alphabetical order.
#[test]
fn a_namespace_less_spc_says_where_it_must_be_applied() {
    let deployment = |ns: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: poi, namespace: {ns}}}\nspec:\n  selector: {{matchLabels: {{app: poi}}}}\n  template:\n    metadata: {{labels: {{app: poi}}}}\n    spec:\n      containers: [{{name: c, image: i}}]\n      volumes:\n      - name: secrets\n        csi: {{driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {{secretProviderClass: kv}}}}\n---\n"
        )
    };
    let floating =
        spc("secrets-store.csi.x-k8s.io/v1").replace("{name: kv, namespace: shop}", "{name: kv}");
    let notes = |text: &str| -> Vec<(String, Severity, String)> {
        let snap = manifests::load_str("apps.yaml", text).expect("loads");
        let mut out: Vec<(String, Severity, String)> = findings(&diagnose(&snap))
            .into_iter()
            .filter(|f| f.code == Code::KVC101)
            .map(|f| {
                (
                    f.namespace.to_string(),
                    f.severity,
                    format!("{} | {}", f.message, f.fix),
                )
            })
            .collect();
        out.dedup();
        out
    };
    let one = notes(&(deployment("api") + &floating));
    assert_eq!(one.len(), 1, "{one:?}");
    let (ns, severity, said) = &one[0];
    assert_eq!((ns.as_str(), *severity), ("api", Severity::Info));
    assert!(
        said.contains("SecretProviderClass kv has no metadata.namespace")
            && said.contains("it must be applied with -n api")
            && said.contains("apps.yaml: add metadata.namespace: api"),
        "{said}"
    );
    let two = notes(&(deployment("web") + &deployment("api") + &floating));
    assert_eq!(two.len(), 2, "{two:?}");
    let api = two.iter().find(|n| n.0 == "api").expect("api");
    let web = two.iter().find(|n| n.0 == "web").expect("web");
    assert_eq!(api.1, Severity::Info, "{}", api.2);
    assert_eq!(web.1, Severity::Warning, "{}", web.2);
    assert!(
        web.2
            .contains("one kubectl apply puts the document in one namespace only")
            && web.2.contains("first in alphabetical order")
            && web.2.contains("metadata.namespace: web"),
        "{}",
        web.2
    );
    // Written with its namespace: nothing to say.
    assert!(notes(&(deployment("shop") + &spc("secrets-store.csi.x-k8s.io/v1"))).is_empty());
    // A pod written without one either: both land wherever they are applied, together.
    let bare = POD.replace("{name: web, namespace: shop}", "{name: web}");
    assert!(notes(&(bare + &floating)).is_empty());
}

/// Audit TT5 (realworld 019 and 058 checked together): two files each define SecretProviderClass
/// kv without a namespace, each beside the pods that name it, in two namespaces. README: such a
/// document is applied with -n into the namespace of the pods that name it, so these are two
/// objects, neither "defined again": both are read, each pod is judged against the document of
/// its own file (its vault), and neither namespace is told another file's pods name it. Two such
/// documents whose pods share a namespace are one object there: the last definition is kept.
#[test]
fn namespace_less_spcs_of_one_name_for_pods_of_two_namespaces_are_two_objects() {
    let dir = tempfile::tempdir().expect("tempdir");
    let floating = |vault: &str| {
        spc("secrets-store.csi.x-k8s.io/v1")
            .replace("{name: kv, namespace: shop}", "{name: kv}")
            .replace("keyvaultName: kv-shop", &format!("keyvaultName: {vault}"))
    };
    let pod_in = |ns: &str| POD.replace("namespace: shop", &format!("namespace: {ns}"));
    let write = |file: &str, text: String| {
        let p = dir.path().join(file);
        std::fs::write(&p, text).expect("write");
        p
    };
    let a = write("a.yaml", floating("kv-one") + "---\n" + &pod_in("web"));
    let b = write("b.yaml", floating("kv-two") + "---\n" + &pod_in("api"));
    let snap = manifests::load(&[a.clone(), b.clone()]).expect("loads");
    assert!(snap.source.unread.is_empty(), "{:?}", snap.source.unread);
    let chains = diagnose(&snap);
    let vault_of = |ns: &str| {
        let c = (chains.iter().find(|c| c.namespace == ns))
            .unwrap_or_else(|| panic!("a chain in {ns}: {chains:#?}"));
        c.vault.as_deref().map(str::to_string)
    };
    assert_eq!(vault_of("web").as_deref(), Some("kv-one"));
    assert_eq!(vault_of("api").as_deref(), Some("kv-two"));
    for f in findings(&chains).iter().filter(|f| f.code == Code::KVC101) {
        assert_eq!(f.severity, Severity::Info, "{}", f.message);
        assert!(
            !f.evidence.iter().any(|e| e.contains("api, web")),
            "each document is named by its own file's pods: {:?}",
            f.evidence
        );
    }
    // Pods of one namespace in both files: one object, the last definition wins.
    let other = pod_in("web").replace("{name: web,", "{name: web2,");
    let b = write("b.yaml", floating("kv-two") + "---\n" + &other);
    let snap = manifests::load(&[a, b]).expect("loads");
    assert_eq!(snap.source.unread.len(), 1, "{:?}", snap.source.unread);
    assert!(
        snap.source.unread[0].contains("SecretProviderClass kv (no namespace)")
            && snap.source.unread[0].contains("defined again"),
        "{:?}",
        snap.source.unread
    );
    let chains = diagnose(&snap);
    assert!(
        chains.iter().all(|c| c.vault.as_deref() == Some("kv-two")),
        "{chains:#?}"
    );
}
