//! Audit HHH: the lab as a trainer uses it (stacked faults, faults on chains of each workload
//! kind, evidence in time), checked against the documented behaviour (FACTS, docs/scenarios.md).
//! Each scenario is written here from the docs' own example world, not copied from the
//! built-ins: namespace `demo`, Deployment `api` mounting SecretProviderClass `api-kv`
//! (synced Secret `api-db`) as service account `api`, federated on identity `id-api`.

use kvchain::chain::{self, Chain, Code};
use kvchain::source::lab::world::World;
use kvchain::source::lab::{self, export};

use crate::compound_optional::with as findings;
use crate::demo_world::{Head, ISSUER, READER};

/// The docs' example world (docs/scenarios.md "Complete example"), rotation on with a 2m poll.
pub(crate) fn world_yaml() -> String {
    world_with(SECRET)
}

/// The vault's objects, `api-kv`'s one object and its `secretObjects` of the example world.
pub(crate) struct Objects {
    /// The identity's role on the vault (FACTS §8: the one the object type needs).
    pub(crate) role: &'static str,
    pub(crate) vault: &'static str,
    pub(crate) spc: &'static str,
    pub(crate) sync: &'static str,
}

/// The docs' example: secret `db-password`, synced as key `password` of Opaque `api-db`.
pub(crate) const SECRET: Objects = Objects {
    role: "Key Vault Secrets User",
    vault: "secrets: [{name: db-password, value: not-a-real-password}]",
    spc: "objectName: db-password\n          objectType: secret",
    sync: "secretName: api-db\n      type: Opaque\n      data: [{objectName: db-password, key: password}]",
};

/// A certificate read as objectType secret (key + chain) and synced as `kubernetes.io/tls`
/// (FACTS §2, §5): the secret Key Vault manages with the certificate.
pub(crate) const CERT: Objects = Objects {
    role: "Key Vault Secrets User",
    vault: "certificates: [{name: web-cert, subject: CN=web.example.com}]",
    spc: "objectName: web-cert\n          objectType: secret",
    sync: "secretName: web-tls\n      type: kubernetes.io/tls\n      data: [{objectName: web-cert, key: tls.key}, {objectName: web-cert, key: tls.crt}]",
};

/// The certificate's key read as objectType key (its public key, FACTS §5), not synced.
const CERT_KEY: Objects = Objects {
    role: "Key Vault Certificate User",
    vault: "certificates: [{name: web-cert, subject: CN=web.example.com}]",
    spc: "objectName: web-cert\n          objectType: key",
    sync: "secretName: web-key\n      type: Opaque\n      data: [{objectName: web-cert, key: public.pem}]",
};

/// The example world with objects `o`.
pub(crate) fn world_with(o: Objects) -> String {
    let (vault_objects, spc_item, synced) = (
        format!("  {}\n", o.vault),
        format!("          {}\n", o.spc),
        format!("    - {}\n", o.sync),
    );
    let head = Head {
        cluster_extra: "  faultTarget: demo/api\n",
        role: Some(o.role),
        spc_item: &spc_item,
        synced: &synced,
        ..Head::db_password("hhh", &vault_objects)
    };
    format!("{}{API}", head.docs())
}

/// Deployment `api` mounting `api-kv` as service account `api`.
const API: &str = r#"---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: demo}
spec:
  replicas: 1
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api, azure.workload.identity/use: "true"}}
    spec:
      serviceAccountName: api
      containers:
        - name: api
          image: mcr.microsoft.com/azurelinux/busybox:1.36
          volumeMounts: [{name: secrets-store, mountPath: /mnt/secrets-store, readOnly: true}]
      volumes:
        - name: secrets-store
          csi: {driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {secretProviderClass: api-kv}}
"#;

/// `extra` documents beside the example world and a Timeline of `events` (YAML flow maps),
/// run until settled (every timeline event has happened).
pub(crate) fn settled(extra: &[&str], events: &[&str]) -> World {
    settled_in(world_yaml(), extra, events)
}

/// [`settled`] in world `world`.
pub(crate) fn settled_in(world: String, extra: &[&str], events: &[&str]) -> World {
    let mut docs = vec![world];
    docs.extend(extra.iter().map(|d| d.to_string()));
    if !events.is_empty() {
        let list: String = events.iter().map(|e| format!("    - {e}\n")).collect();
        docs.push(format!(
            "apiVersion: lab.kvchain.dev/v1\nkind: Timeline\nmetadata: {{name: t}}\nspec:\n  events:\n{list}"
        ));
    }
    let sc = lab::scenario::parse("hhh", std::path::Path::new("hhh.yaml"), &docs.join("---\n"))
        .expect("scenario loads");
    let mut w = World::new(sc);
    w.run_until_stable(lab::MAX_SETTLE);
    w
}

pub(crate) fn diagnose(w: &World) -> Vec<Chain> {
    chain::diagnose(&export::snapshot(w))
}

/// HHH1. With the mounting workload deleted, the reader's KVC904 fix mounts the SPC in the
/// reader and sets the service account the identity federates. A credential is usable only
/// when issuer, subject and audience all match this cluster's token exactly (FACTS §7, §11):
/// a trainer's `fic-subject-typo` (`…:demo:Api`, which names no valid service account) or
/// `fic-issuer-mismatch` (another issuer) leaves none. The fix used to offer
/// `serviceAccountName: Api` (refused by the API server) or `api` (still AADSTS70021).
#[test]
fn reader_fix_names_no_account_whose_credential_cannot_match() {
    for fault in ["fic-subject-typo", "fic-issuer-mismatch"] {
        let w = settled(
            &[READER],
            &[
                &format!("{{at: 1m, applyFault: {{id: {fault}}}}}"),
                "{at: 1m, applyFault: {id: delete-mounting-workload}}",
            ],
        );
        let chains = diagnose(&w);
        let f = findings(&chains, Code::KVC904);
        assert!(!f.is_empty(), "{fault}: no KVC904");
        for f in f {
            let fix = f.fix.as_str();
            assert!(
                fix.contains("secretProviderClass: api-kv"),
                "{fault}: {fix}"
            );
            assert!(!fix.contains("serviceAccountName:"), "{fault}: {fix}");
            assert!(
                fix.contains("a federated credential for system:serviceaccount:demo:default"),
                "{fault}: {fix}"
            );
            assert!(fix.contains(ISSUER), "{fault}: {fix}");
        }
    }
}

/// HHH1, the healthy credential: with only the workload deleted, `api`'s credential matches,
/// so the reader is told to run as `api`.
#[test]
fn reader_fix_names_the_federated_account_when_its_credential_matches() {
    let w = settled(
        &[READER],
        &["{at: 1m, applyFault: {id: delete-mounting-workload}}"],
    );
    let chains = diagnose(&w);
    let f = findings(&chains, Code::KVC904);
    assert!(!f.is_empty(), "no KVC904");
    for f in f {
        assert!(
            f.fix
                .contains("serviceAccountName: api (it runs as default)"),
            "{}",
            f.fix
        );
    }
}

/// HHH2. `disable-object` on a certificate disables its secret and key with it
/// (docs/scenarios.md). The secret is managed by the certificate: Key Vault refuses operations
/// on it ("Perform the operation on the corresponding certificate", SecretManagedByKeyVault),
/// so KVC602's fix enables the certificate's version; `az keyvault secret set-attributes` on
/// the managed secret did nothing when pasted.
/// The same for the certificate's key (a key the vault lists beside a certificate of its name).
#[test]
fn a_disabled_certificate_is_enabled_as_a_certificate() {
    for (what, objects) in [("secret", CERT), ("key", CERT_KEY)] {
        let w = settled_in(
            world_with(objects),
            &[],
            &["{at: 1m, applyFault: {id: disable-object}}"],
        );
        let chains = diagnose(&w);
        let f = findings(&chains, Code::KVC602);
        assert!(!f.is_empty(), "{what}: no KVC602");
        for f in f {
            assert!(
                !f.fix.contains(&format!("az keyvault {what} ")),
                "{}",
                f.fix
            );
            let enable = "az keyvault certificate set-attributes --vault-name kv-hhh -n web-cert";
            assert!(f.fix.starts_with(enable), "{}", f.fix);
            assert!(f.fix.contains(" --enabled true"), "{}", f.fix);
        }
    }
}

/// HHH3. `delete-object` on a certificate deletes the secret and key Key Vault manages with it
/// (docs/scenarios.md). Only the certificate can be recovered; a `secret set` under the
/// soft-deleted name fails. KVC601's fix recovers the certificate of that name before it creates
/// anything; since audit UUU-azure the lab lists its soft-deleted objects, so the fix knows the
/// certificate is there to recover and creates nothing at all.
#[test]
fn a_deleted_certificate_is_recovered_as_a_certificate_before_any_create() {
    let w = settled_in(
        world_with(CERT),
        &[],
        &["{at: 1m, applyFault: {id: delete-object}}"],
    );
    let chains = diagnose(&w);
    let f = findings(&chains, Code::KVC601);
    assert!(!f.is_empty(), "no KVC601");
    for f in f {
        let shell = f.fix.split("  #").next().unwrap_or_default();
        let steps: Vec<&str> = shell.split(" || ").collect();
        let recover = steps
            .iter()
            .position(|c| *c == "az keyvault certificate recover --vault-name kv-hhh -n web-cert");
        let set = steps
            .iter()
            .position(|c| c.starts_with("az keyvault secret set "));
        assert!(recover.is_some() && set.is_none(), "{}", f.fix);
    }
}
