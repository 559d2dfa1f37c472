//! Shapes met in public manifests (audit AAA), written here as our own fixtures and judged
//! from the documented behaviour: the workload-identity webhook fills a variable only in a
//! labelled pod's container that does not set it itself (FACTS §6), so a placeholder in the
//! service account's annotations fails nothing there (AAA3, AAA4); an item the vault is not
//! known to hold fails the whole mount when added (FACTS §5), so KVC801 offers the one
//! mounted file nothing else reads beside it (AAA2); a vault name written as a shell
//! variable is kept in the pasted commands (AAA7).

use serde_json::Value;

use crate::hostile_manifests::kvchain;

const CLIENT: &str = "3c3c3c3c-4d4d-4e5e-8f6f-7a7a7a7a7a7a";
const TENANT: &str = "8e8e8e8e-9f9f-4a0a-8b1b-2c2c2c2c2c2c";

/// `check -f m.yaml -o json` over `docs`: the report.
fn report(docs: &[String]) -> Value {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("m.yaml"), docs.join("\n---\n")).unwrap();
    let out = kvchain(&["check", "-f", "m.yaml", "-o", "json"], d.path());
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn findings<'r>(r: &'r Value, code: &str) -> Vec<&'r Value> {
    (r["findings"].as_array().into_iter().flatten())
        .filter(|f| f["code"] == code)
        .collect()
}

fn service_account(client: &str) -> String {
    format!(
        "apiVersion: v1
kind: ServiceAccount
metadata:
  name: app-sa
  namespace: team
  annotations: {{azure.workload.identity/client-id: '{client}'}}"
    )
}

fn spc(vault: &str, objects: &str, secret_objects: &str) -> String {
    format!(
        "apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata: {{name: app-kv, namespace: team}}
spec:
  provider: azure
  parameters:
    clientID: {CLIENT}
    keyvaultName: {vault}
    tenantId: {TENANT}
    objects: |
      array:
{objects}{secret_objects}"
    )
}

const ONE_SECRET: &str = "        - |
          objectName: api-key
          objectType: secret
";

/// A Deployment running as `app-sa`, `labelled` for the webhook, mounting `app-kv`; `env`:
/// the container's own env entries.
fn deployment(labelled: bool, env: &str) -> String {
    let label = if labelled {
        ", azure.workload.identity/use: 'true'"
    } else {
        ""
    };
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata: {{name: app, namespace: team}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: app}}}}
  template:
    metadata: {{labels: {{app: app{label}}}}}
    spec:
      serviceAccountName: app-sa
      containers:
        - name: app
          image: mcr.microsoft.com/azurelinux/busybox:1.36
{env}          volumeMounts:
            - {{name: kv, mountPath: /mnt/kv, readOnly: true}}
      volumes:
        - name: kv
          csi:
            driver: secrets-store.csi.k8s.io
            readOnly: true
            volumeAttributes: {{secretProviderClass: app-kv}}"
    )
}

const OWN_IDENTITY_ENV: &str = "          env:
            - {name: AZURE_CLIENT_ID, value: 3c3c3c3c-4d4d-4e5e-8f6f-7a7a7a7a7a7a}
            - {name: AZURE_TENANT_ID, value: 8e8e8e8e-9f9f-4a0a-8b1b-2c2c2c2c2c2c}
";

/// AAA3, AAA4. A placeholder client-id on the account fails the app's token requests only
/// where the webhook puts it: in a labelled pod's container without its own AZURE_CLIENT_ID.
#[test]
fn a_service_account_placeholder_is_judged_where_the_webhook_would_put_it() {
    let placeholder = "<identity client id>";
    let judged = |labelled: bool, env: &str| {
        let r = report(&[
            service_account(placeholder),
            spc("kv-team", ONE_SECRET, ""),
            deployment(labelled, env),
        ]);
        let f = findings(&r, "KVC306");
        assert_eq!(f.len(), 1, "{r:#}");
        f[0].clone()
    };
    // Labelled, the container sets nothing: the placeholder lands and fails.
    let lands = judged(true, "");
    assert_eq!(lands["severity"], "warning", "{lands:#}");
    assert!(
        (lands["message"].as_str().unwrap()).contains("the app's own token requests fail"),
        "{lands:#}"
    );
    // Labelled, the container sets both variables itself: the webhook overwrites neither.
    let own = judged(true, OWN_IDENTITY_ENV);
    let message = own["message"].as_str().unwrap();
    assert_eq!(own["severity"], "info", "{own:#}");
    assert!(
        message.contains("injects them into no container"),
        "{own:#}"
    );
    assert!(!message.contains("token requests fail"), "{own:#}");
    // An init container without them beside: it gets the placeholder, and only it is named.
    let with_init = deployment(true, OWN_IDENTITY_ENV).replace(
        "      containers:\n",
        "      initContainers:\n        - {name: fetch, image: mcr.microsoft.com/azurelinux/busybox:1.36}\n      containers:\n",
    );
    let r = report(&[
        service_account(placeholder),
        spc("kv-team", ONE_SECRET, ""),
        with_init,
    ]);
    let init = findings(&r, "KVC306");
    assert_eq!(init.len(), 1, "{r:#}");
    let message = init[0]["message"].as_str().unwrap();
    assert_eq!(init[0]["severity"], "warning", "{r:#}");
    assert!(
        message.contains("of container fetch of pod app"),
        "{message}"
    );
    // Not labelled: nothing is injected now; it would be once labelled.
    let unlabelled = judged(false, "");
    let message = unlabelled["message"].as_str().unwrap();
    assert!(message.contains("injects nothing now"), "{unlabelled:#}");
    assert!(message.contains("once labelled"), "{unlabelled:#}");
    // Only the client id is a placeholder: only AZURE_CLIENT_ID is named.
    assert!(!message.contains("AZURE_TENANT_ID"), "{unlabelled:#}");
}

/// AAA2. The vault is not read by `check -f`: adding an item it may lack fails the whole
/// mount, so the fix says so and offers the one mounted file nothing else reads.
#[test]
fn an_unlisted_object_name_offers_the_one_unread_file_when_the_vault_is_unread() {
    let entry = "  secretObjects:
    - secretName: app-secret
      type: Opaque
      data:
        - {objectName: app-key-in-vault, key: api-key}
";
    let r = report(&[
        service_account(CLIENT),
        spc("kv-team", ONE_SECRET, entry),
        deployment(true, ""),
    ]);
    let f = findings(&r, "KVC801");
    assert_eq!(f.len(), 1, "{r:#}");
    let fix = f[0]["fix"].as_str().unwrap();
    assert!(
        fix.contains("add an item {objectName: app-key-in-vault, objectType: secret}"),
        "{fix}"
    );
    assert!(fix.contains("fails the whole mount"), "{fix}");
    assert!(
        fix.contains("secretObjects[app-secret].data[key=api-key].objectName: api-key"),
        "{fix}"
    );
}

/// AAA7. A guide that `envsubst`s its manifests sets its own variable: the fixes name it, so
/// the pasted chain does not stop at an empty `$KEYVAULT_NAME`.
#[test]
fn a_vault_name_written_as_a_shell_variable_is_kept_in_the_fixes() {
    // Pod identity (retired): the migration to workload identity grants the new identity
    // read access on the vault, named in the command.
    let pod_identity = spc("${KV_NAME_TEAM}", ONE_SECRET, "").replace(
        &format!("    clientID: {CLIENT}\n"),
        "    usePodIdentity: 'true'\n",
    );
    let r = report(&[service_account(CLIENT), pod_identity, deployment(true, "")]);
    let fixes: Vec<&str> = (r["findings"].as_array().into_iter().flatten())
        .filter_map(|f| f["fix"].as_str())
        .filter(|f| f.contains("az keyvault") || f.contains("az role assignment"))
        .collect();
    assert!(!fixes.is_empty(), "{r:#}");
    for fix in fixes {
        assert!(!fix.contains("$KEYVAULT_NAME"), "{fix}");
        assert!(fix.contains("\"$KV_NAME_TEAM\""), "{fix}");
    }
}

/// AAA6. The AKS application routing add-on makes an SPC per Ingress that reads Key Vault
/// with the add-on's own identity: KVC303's move to workload identity cannot be made there
/// (nothing on the Ingress selects an identity, and a patch of the SPC is reconciled back).
#[test]
fn the_app_routing_operators_spc_gets_no_migration_it_cannot_take() {
    let generated = format!(
        "apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: keyvault-web
  namespace: team
  labels: {{app.kubernetes.io/managed-by: aks-app-routing-operator}}
  ownerReferences:
    - {{apiVersion: networking.k8s.io/v1, kind: Ingress, name: web, uid: 5a5a5a5a-6b6b-4c7c-8d8d-9e9e9e9e9e9e, controller: true}}
spec:
  provider: azure
  parameters:
    keyvaultName: kv-team
    tenantId: {TENANT}
    useVMManagedIdentity: 'true'
    userAssignedIdentityID: {CLIENT}
    objects: '{{\"array\":[\"{{\\\"objectName\\\":\\\"web-cert\\\",\\\"objectType\\\":\\\"secret\\\"}}\"]}}'
  secretObjects:
    - secretName: keyvault-web
      type: kubernetes.io/tls
      data:
        - {{objectName: web-cert, key: tls.key}}
        - {{objectName: web-cert, key: tls.crt}}"
    );
    let r = report(&[generated]);
    let f = findings(&r, "KVC303");
    assert_eq!(f.len(), 1, "{r:#}");
    let fix = f[0]["fix"].as_str().unwrap();
    assert!(fix.starts_with("# nothing to move"), "{fix}");
    assert!(
        fix.contains("application routing add-on for Ingress web"),
        "{fix}"
    );
    assert!(!fix.contains("az identity create"), "{fix}");
    assert!(
        (f[0]["confirm"].as_str().unwrap()).contains("ingressProfile.webAppRouting.identity"),
        "{:#}",
        f[0]
    );
}

/// CCC1, CCC10. The driver fills a Secret's data item by item, so a key one entry names twice
/// holds the later item's file (KVC807 on the entry); the same `objects` item listed twice
/// writes the same content twice and loses nothing (info), where two items to one file
/// overwrite (error).
#[test]
fn twin_keys_and_twin_items_are_told_for_what_they_do() {
    let two_objects = "        - |
          objectName: api-key
          objectType: secret
        - |
          objectName: api-user
          objectType: secret
";
    let twin_key = "  secretObjects:
    - secretName: app-secret
      type: Opaque
      data:
        - {objectName: api-key, key: value}
        - {objectName: api-user, key: value}
";
    let r = report(&[
        service_account(CLIENT),
        spc("kv-team", two_objects, twin_key),
        deployment(true, ""),
    ]);
    let f = findings(&r, "KVC807");
    assert_eq!(f.len(), 1, "{r:#}");
    let message = f[0]["message"].as_str().unwrap();
    assert!(
        message.contains(
            "writes key value of Secret app-secret twice, from api-key and then from api-user"
        ),
        "{message}"
    );
    assert!(message.contains("it holds api-user's value"), "{message}");

    let same_twice = format!("{ONE_SECRET}{ONE_SECRET}");
    let r = report(&[
        service_account(CLIENT),
        spc("kv-team", &same_twice, ""),
        deployment(true, ""),
    ]);
    let f = findings(&r, "KVC706");
    assert_eq!(f.len(), 1, "{r:#}");
    assert_eq!(f[0]["severity"], "info", "{r:#}");
    assert!(
        (f[0]["fix"].as_str().unwrap()).contains("remove objects[1], a copy of objects[0]"),
        "{r:#}"
    );

    let collide = "        - |
          objectName: api-key
          objectType: secret
        - |
          objectName: api-user
          objectType: secret
          objectAlias: api-key
";
    let r = report(&[
        service_account(CLIENT),
        spc("kv-team", collide, ""),
        deployment(true, ""),
    ]);
    let f = findings(&r, "KVC706");
    assert_eq!(f.len(), 1, "{r:#}");
    assert_eq!(f[0]["severity"], "error", "{r:#}");
}
