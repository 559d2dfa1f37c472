//! The head of the lab worlds several test files write, in the shape of docs/scenarios.md's
//! "Complete example": a Cluster, identity `id-api` federated for service account `demo/api`,
//! vault `kv-<name>` with the identity's role on it, namespace `demo`, the account, and
//! SecretProviderClass `api-kv` with one object. Each file adds its workloads and edits what
//! its tests are about (the texts are plain, so `replace` on them is exact).

pub(crate) const ISSUER: &str = "https://westeurope.oic.prod-aks.azure.com/11111111-2222-4333-8444-555555555555/66666666-7777-4888-9999-aaaaaaaaaaaa/";
pub(crate) const TENANT: &str = "11111111-2222-4333-8444-555555555555";
pub(crate) const CLIENT: &str = "0c0c0c0c-1d1d-4e2e-8f3f-4a4a4a4a4a4a";
pub(crate) const PRINCIPAL: &str = "9a9a9a9a-8b8b-4c7c-9d6d-5e5e5e5e5e5e";

/// What differs between the worlds: see [`Head::docs`].
pub(crate) struct Head<'a> {
    /// The Cluster's name; the vault is `kv-<name>`.
    pub name: &'a str,
    pub rotation: bool,
    /// More Cluster spec lines (`  faultTarget: demo/api\n`).
    pub cluster_extra: &'a str,
    /// The KeyVault's object lists, as spec lines (`  secrets:\n    - {…}\n`).
    pub vault_objects: &'a str,
    /// The identity's role on the vault; `None`: no role.
    pub role: Option<&'a str>,
    /// The account's `azure.workload.identity/client-id`.
    pub sa_client: &'a str,
    /// `api-kv`'s one objects item, as its lines (indented ten).
    pub spc_item: &'a str,
    /// `api-kv`'s `secretObjects` entries, as their lines (indented four).
    pub synced: &'a str,
}

impl<'a> Head<'a> {
    /// Secret `db-password` (value `value`) read by Key Vault Secrets User and synced as key
    /// `password` of Opaque Secret `api-db`; rotation on, every 2 minutes.
    pub(crate) fn db_password(name: &'a str, vault_objects: &'a str) -> Self {
        Head {
            name,
            rotation: true,
            cluster_extra: "",
            vault_objects,
            role: Some("Key Vault Secrets User"),
            sa_client: CLIENT,
            spc_item: "          objectName: db-password\n          objectType: secret\n",
            synced: "    - secretName: api-db\n      type: Opaque\n      data:\n        - {objectName: db-password, key: password}\n",
        }
    }

    /// The documents, each after `---` but the first, ending in a line break.
    pub(crate) fn docs(&self) -> String {
        let Head {
            name,
            rotation,
            cluster_extra,
            vault_objects,
            sa_client,
            spc_item,
            synced,
            ..
        } = self;
        let grant = self.role.map_or(String::new(), |role| {
            format!(
                "---
apiVersion: lab.kvchain.dev/v1
kind: RoleAssignment
metadata: {{name: ra-api}}
spec:
  principalID: {PRINCIPAL}
  role: {role}
  scope: {{vault: kv-{name}}}
"
            )
        });
        format!(
            "apiVersion: lab.kvchain.dev/v1
kind: Cluster
metadata: {{name: {name}}}
spec:
  oidcIssuerURL: {ISSUER}
  tenantID: {TENANT}
  csiDriver: {{enableSecretRotation: {rotation}, rotationPollInterval: 2m}}
{cluster_extra}---
apiVersion: lab.kvchain.dev/v1
kind: ManagedIdentity
metadata: {{name: id-api}}
spec:
  clientID: {CLIENT}
  principalID: {PRINCIPAL}
  tenantID: {TENANT}
  federatedCredentials:
    - {{name: fic-api, issuer: {ISSUER}, subject: 'system:serviceaccount:demo:api'}}
---
apiVersion: lab.kvchain.dev/v1
kind: KeyVault
metadata: {{name: kv-{name}}}
spec:
  tenantID: {TENANT}
{vault_objects}{grant}---
apiVersion: v1
kind: Namespace
metadata: {{name: demo}}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: api
  namespace: demo
  annotations: {{azure.workload.identity/client-id: {sa_client}}}
---
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata: {{name: api-kv, namespace: demo}}
spec:
  provider: azure
  parameters:
    clientID: {CLIENT}
    keyvaultName: kv-{name}
    tenantId: {TENANT}
    objects: |
      array:
        - |
{spc_item}  secretObjects:
{synced}"
        )
    }
}

/// A Deployment `reader` that reads `api-db`'s `password` through env and mounts nothing, as
/// service account `default`: a consumer of the synced Secret only.
pub(crate) const READER: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: reader, namespace: demo}
spec:
  replicas: 1
  selector: {matchLabels: {app: reader}}
  template:
    metadata: {labels: {app: reader}}
    spec:
      containers:
        - name: reader
          image: mcr.microsoft.com/azurelinux/busybox:1.36
          env:
            - name: DB_PASSWORD
              valueFrom: {secretKeyRef: {name: api-db, key: password}}
";
