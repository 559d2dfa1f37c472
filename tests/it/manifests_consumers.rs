//! `check -f`: the consumers of a synced Secret, from manifests alone. A key the Secret lacks
//! is KVC905 for every reader, mounting the SPC or not, through env, a secret volume or a
//! projected volume's secret source (docs/codes.yaml KVC905); a template placeholder in
//! `secretObjects` is reported once as unrendered (KVC306) and not validated (README,
//! `kvchain check`), so it is neither a key the Secret lacks nor a file no object writes.

use kvchain::chain::{Chain, Code, Finding, Severity, diagnose};

const SPC: &str = r#"apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata: {name: app-kv, namespace: demo}
spec:
  provider: azure
  parameters:
    clientID: 0b9c5e1a-7d2f-4c3e-9a8b-1f2e3d4c5b6a
    keyvaultName: kv-demo
    tenantID: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b
    objects: |
      array:
        - |
          objectName: db-password
          objectType: secret
  secretObjects:
    - secretName: SECRET_NAME
      type: Opaque
      data:
        - {objectName: OBJECT_NAME, key: "KEY"}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: app
  namespace: demo
  annotations: {azure.workload.identity/client-id: 0b9c5e1a-7d2f-4c3e-9a8b-1f2e3d4c5b6a}
"#;

/// A Deployment `name`; `mount`: whether it mounts app-kv; `containers` and `volumes` are
/// indented under the pod spec.
fn deployment(name: &str, mount: bool, env: &str, volumes: &str) -> String {
    let csi = if mount {
        "        - name: s\n          csi:\n            driver: secrets-store.csi.k8s.io\n            readOnly: true\n            volumeAttributes: {secretProviderClass: app-kv}\n"
    } else {
        "        - {name: tmp, emptyDir: {}}\n"
    };
    format!(
        r#"---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: demo}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata:
      labels: {{app: {name}, azure.workload.identity/use: "true"}}
    spec:
      serviceAccountName: app
      containers:
        - name: c
          image: busybox
{env}      volumes:
{csi}{volumes}"#
    )
}

const ENV_PASSWORD: &str = "          env:\n            - name: PW\n              valueFrom: {secretKeyRef: {name: app-db, key: password}}\n";
const ENV_USERNAME: &str = "          env:\n            - name: USER\n              valueFrom: {secretKeyRef: {name: app-db, key: username}}\n";

fn spc(secret: &str, object: &str, key: &str) -> String {
    SPC.replace("SECRET_NAME", secret)
        .replace("OBJECT_NAME", object)
        .replace("KEY", key)
}

fn check(text: &str) -> Vec<Chain> {
    diagnose(&kvchain::source::manifests::load_str("m.yaml", text).expect("loads"))
}

fn with(chains: &[Chain], code: Code) -> Vec<Finding> {
    let mut out: Vec<Finding> = chains
        .iter()
        .flat_map(|c| c.findings())
        .filter(|f| f.code == code)
        .cloned()
        .collect();
    out.dedup_by(|a, b| a.message == b.message);
    out
}

fn all(chains: &[Chain]) -> Vec<(Code, Severity, String)> {
    chains
        .iter()
        .flat_map(|c| c.findings())
        .map(|f| (f.code, f.severity, f.message.to_string()))
        .collect()
}

/// N1: a workload that does not mount the SPC asks for a key the Secret lacks: KVC905 on it,
/// beside KVC903 (it depends on another workload's mount: a different cause).
#[test]
fn manifests_consumers_a_reader_without_the_spc_asking_for_a_missing_key_is_kvc905() {
    let text = spc("app-db", "db-password", "password")
        + &deployment("app", true, "", "")
        + &deployment("reader", false, ENV_USERNAME, "");
    let chains = check(&text);
    let f = with(&chains, Code::KVC905);
    assert_eq!(f.len(), 1, "{:#?}", all(&chains));
    assert_eq!(f[0].severity, Severity::Error);
    assert_eq!(f[0].resource, "Deployment/reader");
    assert!(f[0].message.contains("key username"), "{}", f[0].message);
    assert!(f[0].fix.contains("deployment/reader"), "{}", f[0].fix);
    assert_eq!(with(&chains, Code::KVC903).len(), 1, "{:#?}", all(&chains));
    // The key it has: KVC903 alone.
    let text = spc("app-db", "db-password", "password")
        + &deployment("app", true, "", "")
        + &deployment("reader", false, ENV_PASSWORD, "");
    let chains = check(&text);
    assert!(
        with(&chains, Code::KVC905).is_empty(),
        "{:#?}",
        all(&chains)
    );
}

/// N2: placeholders in secretObjects (key, objectName, secretName) are KVC306 naming the
/// field, and no KVC905 / KVC801 judges them as real values.
#[test]
fn manifests_consumers_placeholders_in_secret_objects_are_kvc306_and_not_validated() {
    for (secret, object, key, field) in [
        (
            "app-db",
            "db-password",
            "${SECRET_KEY}",
            "key: ${SECRET_KEY}",
        ),
        (
            "app-db",
            "db-password",
            "{{ .Values.key }}",
            "key: {{ .Values.key }}",
        ),
        ("app-db", "db-password", "<key>", "key: <key>"),
        ("app-db", "$OBJECT", "password", "objectName: $OBJECT"),
        (
            "${APP}-db",
            "db-password",
            "password",
            "secretName: ${APP}-db",
        ),
    ] {
        let text = spc(secret, object, key) + &deployment("app", true, ENV_PASSWORD, "");
        let chains = check(&text);
        let unrendered = with(&chains, Code::KVC306);
        assert_eq!(unrendered.len(), 1, "{field}: {:#?}", all(&chains));
        assert_eq!(unrendered[0].severity, Severity::Warning);
        assert!(
            unrendered[0].message.contains(field)
                && unrendered[0].message.contains("secretObjects"),
            "{field}: {}",
            unrendered[0].message
        );
        for code in [Code::KVC905, Code::KVC801] {
            assert!(
                with(&chains, code).is_empty(),
                "{field}: {code}: {:#?}",
                all(&chains)
            );
        }
    }
}

/// N11: a projected volume's secret source with `items[].key` absent from the Secret is the
/// same lookup as a plain secret volume's: KVC905; an item the Secret has is fine.
#[test]
fn manifests_consumers_a_projected_items_key_the_secret_lacks_is_kvc905() {
    let projected = |key: &str| {
        format!(
            "        - name: proj\n          projected:\n            sources:\n              - secret:\n                  name: app-db\n                  items: [{{key: {key}, path: f}}]\n"
        )
    };
    let text = spc("app-db", "db-password", "password")
        + &deployment("app", true, "", &projected("username"));
    let chains = check(&text);
    let f = with(&chains, Code::KVC905);
    assert_eq!(f.len(), 1, "{:#?}", all(&chains));
    assert_eq!(f[0].severity, Severity::Error);
    assert!(
        f[0].message.contains("projected volume proj"),
        "{}",
        f[0].message
    );
    assert!(f[0].message.contains("username"), "{}", f[0].message);
    let text = spc("app-db", "db-password", "password")
        + &deployment("app", true, "", &projected("password"));
    assert!(with(&check(&text), Code::KVC905).is_empty());
}

/// Kubernetes' ServiceAccount admission copies the service account's `imagePullSecrets` into a
/// pod that names none: a template of a workload running as that account pulls with the synced
/// Secret, and depends on another workload's mount for it (KVC903) like any reader.
#[test]
fn manifests_consumers_a_service_accounts_image_pull_secret_reaches_its_pods() {
    let sa_pulls = |text: String| {
        text.replace(
            "  annotations: {azure.workload.identity/client-id: 0b9c5e1a-7d2f-4c3e-9a8b-1f2e3d4c5b6a}\n",
            "  annotations: {azure.workload.identity/client-id: 0b9c5e1a-7d2f-4c3e-9a8b-1f2e3d4c5b6a}\nimagePullSecrets: [{name: app-db}]\n",
        )
    };
    let text = sa_pulls(spc("app-db", "db-password", "password"))
        + &deployment("app", true, "", "")
        + &deployment("reader", false, "", "");
    assert!(text.contains("imagePullSecrets: [{name: app-db}]"));
    let chains = check(&text);
    let f = with(&chains, Code::KVC903);
    assert_eq!(f.len(), 1, "{:#?}", all(&chains));
    assert_eq!(f[0].resource, "Deployment/reader");
    assert!(
        f[0].message.contains("imagePullSecrets"),
        "{}",
        f[0].message
    );
    // A pod naming its own imagePullSecrets keeps them: the account's are not added.
    let own = deployment("reader", false, "", "").replace(
        "      containers:\n",
        "      imagePullSecrets: [{name: registry}]\n      containers:\n",
    );
    let text = sa_pulls(spc("app-db", "db-password", "password"))
        + &deployment("app", true, "", "")
        + &own;
    assert!(
        with(&check(&text), Code::KVC903).is_empty(),
        "{:#?}",
        all(&check(&text))
    );
}

/// W5: no pod in the files mounts the SPC. The driver makes the Secret only for a mounting pod
/// (FACTS §2), so a reader that needs it cannot start unless something outside the files
/// mounts the SPC: KVC904 (an error; a warning when its only use is optional), Sync drawn
/// "no mount" (not unknown), and the fix adds the CSI volume to that workload. When another
/// workload in the files mounts it, the reader depends on that mount: KVC903, a warning.
#[test]
fn manifests_consumers_a_reader_of_an_spc_no_pod_mounts_cannot_start_unless_mounted_elsewhere() {
    let text =
        spc("app-db", "db-password", "password") + &deployment("reader", false, ENV_PASSWORD, "");
    let chains = check(&text);
    assert!(
        with(&chains, Code::KVC903).is_empty(),
        "{:#?}",
        all(&chains)
    );
    let f = with(&chains, Code::KVC904);
    assert_eq!(f.len(), 1, "{:#?}", all(&chains));
    assert_eq!(f[0].severity, Severity::Error);
    assert_eq!(f[0].resource, "Deployment/reader");
    assert!(
        f[0].message
            .contains("no pod in the given manifests mounts it")
            && f[0]
                .message
                .contains("unless something outside these files does")
            && f[0].message.contains("cannot start"),
        "{}",
        f[0].message
    );
    assert!(
        f[0].fix.contains("Deployment/reader")
            && f[0].fix.contains("secretProviderClass: app-kv")
            && f[0].fix.contains("volumeMounts")
            && !f[0].fix.contains('<'),
        "{}",
        f[0].fix
    );
    let c = chains
        .iter()
        .find(|c| c.findings().any(|f| f.code == Code::KVC904))
        .expect("chain");
    let sync = &c.links[kvchain::chain::LinkKind::Sync.index()];
    assert_eq!(
        (sync.status, sync.summary.as_str()),
        (kvchain::chain::Status::Pending, "no mount")
    );
    // Optional everywhere: its pods start with the values unset (Kubernetes: optional
    // Secrets), nothing fails: an info (audit 17, A17-10).
    let optional = ENV_PASSWORD.replace("key: password}", "key: password, optional: true}");
    let chains = check(
        &(spc("app-db", "db-password", "password") + &deployment("reader", false, &optional, "")),
    );
    let f = with(&chains, Code::KVC904);
    assert_eq!(f.len(), 1, "{:#?}", all(&chains));
    assert_eq!(f[0].severity, Severity::Info, "{}", f[0].message);
    // Another workload mounts it: KVC903 (a warning), no KVC904.
    let chains = check(
        &(spc("app-db", "db-password", "password")
            + &deployment("app", true, "", "")
            + &deployment("reader", false, ENV_PASSWORD, "")),
    );
    assert_eq!(with(&chains, Code::KVC903).len(), 1, "{:#?}", all(&chains));
    assert_eq!(with(&chains, Code::KVC903)[0].severity, Severity::Warning);
    assert!(
        with(&chains, Code::KVC904).is_empty(),
        "{:#?}",
        all(&chains)
    );
}

/// The volume KVC904's fix adds mounts an SPC that names no identity (no clientID, no
/// identity mode): the provider then wants a nodePublishSecretRef (FACTS §5: "failed to get
/// credentials, nodePublishSecretRef secret is not set"), so pasted alone the volume trades a
/// missing Secret for a failing mount. The fix says what the mount needs besides; an SPC
/// with a clientID needs nothing more.
#[test]
fn manifests_consumers_the_added_volume_of_an_spc_without_identity_says_what_it_needs() {
    let no_identity = spc("app-db", "db-password", "password")
        .replace("    clientID: 0b9c5e1a-7d2f-4c3e-9a8b-1f2e3d4c5b6a\n", "");
    let chains = check(&(no_identity + &deployment("reader", false, ENV_PASSWORD, "")));
    let f = with(&chains, Code::KVC904);
    assert_eq!(f.len(), 1, "{:#?}", all(&chains));
    assert!(
        f[0].fix.contains("secretProviderClass: app-kv")
            && f[0].fix.contains("names no identity")
            && f[0].fix.contains("parameters.clientID")
            && f[0].fix.contains("nodePublishSecretRef"),
        "{}",
        f[0].fix
    );
    let chains = check(
        &(spc("app-db", "db-password", "password")
            + &deployment("reader", false, ENV_PASSWORD, "")),
    );
    let f = with(&chains, Code::KVC904);
    assert!(!f[0].fix.contains("names no identity"), "{}", f[0].fix);
}

/// Audit TT4 (realworld 050): a placeholder client-id on the service account of labelled pods
/// is KVC306 also when those pods only read the synced Secret (their chain starts at the
/// consumer): the webhook injects it as it is into every container of a labelled pod, mount or
/// none (FACTS §6), and README reports placeholders in the SA's identity annotations. An
/// unlabelled reader's pods are never mutated, so nothing injects the placeholder there.
#[test]
fn manifests_consumers_a_placeholder_client_id_on_a_labelled_readers_sa_is_kvc306() {
    let placeholder = "<AAD-app-client-id>";
    let sa = SPC.replace(
        "{azure.workload.identity/client-id: 0b9c5e1a-7d2f-4c3e-9a8b-1f2e3d4c5b6a}",
        &format!("{{azure.workload.identity/client-id: \"{placeholder}\"}}"),
    );
    assert_ne!(sa, SPC);
    let base = sa
        .replace("SECRET_NAME", "app-db")
        .replace("OBJECT_NAME", "db-password")
        .replace("KEY", "password");
    let text = base.clone() + &deployment("reader", false, ENV_PASSWORD, "");
    let chains = check(&text);
    assert!(
        !with(&chains, Code::KVC904).is_empty(),
        "the reader's chain starts at the consumer: {:#?}",
        all(&chains)
    );
    let f = with(&chains, Code::KVC306);
    assert_eq!(f.len(), 1, "{:#?}", all(&chains));
    assert_eq!(f[0].severity, Severity::Warning);
    assert_eq!(f[0].resource, "ServiceAccount/app");
    assert!(
        f[0].message
            .contains(&format!("azure.workload.identity/client-id: {placeholder}")),
        "{}",
        f[0].message
    );
    // The same reader unlabelled: the webhook leaves its pods alone.
    let unlabelled = deployment("reader", false, ENV_PASSWORD, "")
        .replace(", azure.workload.identity/use: \"true\"", "");
    let chains = check(&(base + &unlabelled));
    assert!(
        with(&chains, Code::KVC306).is_empty(),
        "{:#?}",
        all(&chains)
    );
}
