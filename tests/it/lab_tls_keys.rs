//! KVC804 judges each key of a `kubernetes.io/tls` entry by the file mapped to it (audit H1).
//! FACTS §2: the driver takes every key from its own file (GetCertPart): `tls.crt` the
//! CERTIFICATE blocks, `tls.key` the private key. FACTS §5: a `cert` object mounts the
//! certificate alone, a `key` object the PUBLIC KEY PEM, the certificate's `secret` object the
//! private key and chain. So tls.crt from a `cert` file and tls.key from the certificate's
//! `secret` file is a valid Secret; only the source of tls.key needs a private key, and a
//! finding names only the key whose source lacks its part, with a fix that leaves tls.crt be.

use std::time::Duration;

use kvchain::chain::{self, Chain, Code, Finding, LinkKind, Severity, Status};
use kvchain::snapshot::Snapshot;
use kvchain::source::lab::world::World;
use kvchain::source::lab::{self, export};

use crate::lab_nodes::{CLUSTER, SHOP};

/// gateway: the SPC reads certificate gateway-tls as objectType cert, one file for both keys.
const CERT_TLS: &str = include_str!("../../assets/scenarios/cert-for-tls.yaml");
const OBJECTS: &str =
    "        - |\n          objectName: gateway-tls\n          objectType: cert\n";
const DATA: &str = "        - objectName: gateway-tls\n          key: tls.key\n        - objectName: gateway-tls\n          key: tls.crt\n";

/// The gateway scenario with `objects` items and `secretObjects` data replaced.
fn gateway(objects: &str, data: &str) -> String {
    assert!(CERT_TLS.contains(OBJECTS) && CERT_TLS.contains(DATA));
    CERT_TLS.replace(OBJECTS, objects).replace(DATA, data)
}

fn item(object_type: &str, alias: &str) -> String {
    format!(
        "        - |\n          objectName: gateway-tls\n          objectType: {object_type}\n          objectAlias: {alias}\n"
    )
}

fn entry(file: &str, key: &str) -> String {
    format!("        - objectName: {file}\n          key: {key}\n")
}

fn lab_snapshot(app: &str) -> Snapshot {
    let docs = [CLUSTER, SHOP, app];
    let sc = lab::scenario::parse(
        "tls-keys",
        std::path::Path::new("tls-keys.yaml"),
        &docs.join("\n---\n"),
    )
    .expect("scenario loads");
    let mut w = World::new(sc);
    w.advance(Duration::from_secs(120));
    export::snapshot(&w)
}

fn kvc804(chains: &[Chain]) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    for f in chains.iter().flat_map(|c| c.findings()) {
        if f.code == Code::KVC804 && !out.iter().any(|o| o.message == f.message) {
            out.push(f.clone());
        }
    }
    out
}

/// The seed's two-file layout: tls.crt from the cert object, tls.key from the certificate's
/// secret object. The lab's driver builds the Secret with both keys, and neither the lab nor
/// `check -f` on the same manifests says KVC804; the lab's Sync link holds no error.
#[test]
fn lab_tls_keys_tls_crt_from_a_cert_file_and_tls_key_from_the_secret_file_is_valid() {
    let app = gateway(
        &format!("{}{}", item("cert", "tls.crt"), item("secret", "tls.key")),
        &format!(
            "{}{}",
            entry("tls.crt", "tls.crt"),
            entry("tls.key", "tls.key")
        ),
    );
    let s = lab_snapshot(&app);
    let secret = (s.secrets.items.iter())
        .find(|x| x.name == "gateway-tls")
        .expect("the lab's driver builds the Secret");
    assert_eq!(secret.type_, "kubernetes.io/tls");
    assert_eq!(
        secret.data.keys().map(String::as_str).collect::<Vec<_>>(),
        ["tls.crt", "tls.key"]
    );
    let chains = chain::diagnose(&s);
    let gw: Vec<&Chain> = chains.iter().filter(|c| c.spc == "gateway-kv").collect();
    assert!(!gw.is_empty());
    assert!(kvc804(&chains).is_empty(), "{:#?}", kvc804(&chains));
    for c in gw {
        // The Ingress's KVC803 (a warning: it mounts nothing) is the Sync link's only word.
        let sync = c.link(LinkKind::Sync);
        assert_ne!(sync.status, Status::Broken, "{:#?}", c.links);
        assert!(
            sync.findings.iter().all(|f| f.severity != Severity::Error),
            "{:#?}",
            sync.findings
        );
    }
    let docs = [SHOP, &app].join("\n---\n");
    let m = kvchain::source::manifests::load_str("m.yaml", &docs).expect("loads");
    let chains = chain::diagnose(&m);
    assert!(kvc804(&chains).is_empty(), "{:#?}", kvc804(&chains));
}

/// tls.key from the certificate's `key` object (the public key) beside a valid tls.crt from
/// the cert object: the finding names tls.key and the key object only, and its fix adds
/// nothing for tls.crt (no second item, no edit of the tls.crt entry).
#[test]
fn lab_tls_keys_a_key_object_behind_tls_key_is_named_alone() {
    let app = gateway(
        &format!("{}{}", item("cert", "tls.crt"), item("key", "tls.key")),
        &format!(
            "{}{}",
            entry("tls.crt", "tls.crt"),
            entry("tls.key", "tls.key")
        ),
    );
    let chains = chain::diagnose(&lab_snapshot(&app));
    let f = kvc804(&chains);
    assert_eq!(f.len(), 1, "{f:#?}");
    let (message, fix) = (&f[0].message, &f[0].fix);
    assert!(
        message.contains("tls.key from objectType key (gateway-tls)"),
        "{message}"
    );
    assert!(!message.contains("objectType cert"), "{message}");
    assert!(!message.contains("tls.crt from"), "{message}");
    assert!(fix.contains("data[key=tls.key]"), "{fix}");
    assert!(!fix.contains("data[key=tls.crt]"), "{fix}");
    assert!(!fix.contains("tls.crt-secret"), "{fix}");
    assert!(!fix.contains("objects[0]"), "{fix}");
    // The driver builds this Secret without an error (an empty PRIVATE KEY block from the
    // public key): the Ingress's Secret exists, unusable, and is not said to be absent (CCC11).
    let serves: Vec<&str> = (f[0].evidence.iter())
        .map(|e| e.as_str())
        .filter(|e| e.contains("serves Secret gateway-tls"))
        .collect();
    assert!(!serves.is_empty(), "{:#?}", f[0].evidence);
    assert!(
        serves
            .iter()
            .all(|e| e.contains("it exists but holds what this entry builds")),
        "{serves:?}"
    );
}

/// One cert file feeds both keys while the SPC already mounts the certificate's secret under
/// another alias: only tls.key is wrong, and pointing it at that file is the whole fix (no new
/// item, tls.crt left on the cert file it can read).
#[test]
fn lab_tls_keys_tls_key_is_pointed_at_the_secret_file_already_mounted() {
    let app = gateway(
        &format!("{}{}", item("cert", "gw-cert"), item("secret", "gw-key")),
        &format!(
            "{}{}",
            entry("gw-cert", "tls.key"),
            entry("gw-cert", "tls.crt")
        ),
    );
    let chains = chain::diagnose(&lab_snapshot(&app));
    let f = kvc804(&chains);
    assert_eq!(f.len(), 1, "{f:#?}");
    let (message, fix) = (&f[0].message, &f[0].fix);
    assert!(
        message.contains("tls.key from objectType cert"),
        "{message}"
    );
    assert!(!message.contains("tls.crt"), "{message}");
    assert!(
        fix.contains(
            "set secretObjects[gateway-tls].data[key=tls.key] objectName gw-cert to gw-key"
        ),
        "{fix}"
    );
    assert!(!fix.contains("add an item"), "{fix}");
    assert!(!fix.contains("data[key=tls.crt]"), "{fix}");
}

/// A `key` object behind tls.crt holds no certificate either (the driver keeps only the
/// CERTIFICATE blocks of the file): that key is named.
#[test]
fn lab_tls_keys_a_key_object_behind_tls_crt_has_no_certificate() {
    let app = gateway(
        &format!("{}{}", item("key", "tls.crt"), item("secret", "tls.key")),
        &format!(
            "{}{}",
            entry("tls.crt", "tls.crt"),
            entry("tls.key", "tls.key")
        ),
    );
    let docs = [SHOP, &app].join("\n---\n");
    let m = kvchain::source::manifests::load_str("m.yaml", &docs).expect("loads");
    let f = kvc804(&chain::diagnose(&m));
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(
        f[0].message
            .contains("tls.crt from objectType key (gateway-tls)")
            && f[0].message.contains("no certificate for tls.crt")
            && !f[0].message.contains("tls.key from"),
        "{}",
        f[0].message
    );
}

/// The fix reads the certificate as objectType secret, which needs `getSecret` (FACTS §8): an
/// identity whose Certificate User is scoped to the certificate object alone may not read the
/// secret of that name, and one object it may not read fails the whole mount (audit I4). The
/// fix grants Secrets User first; with the role on the vault it needs none.
#[test]
fn lab_tls_keys_the_fix_grants_the_secret_read_it_needs() {
    let scoped = CERT_TLS.replace(
        "  scope:\n    vault: kv-shop-lab\n",
        "  scope:\n    vault: kv-shop-lab\n    object: certificates/gateway-tls\n",
    );
    assert_ne!(scoped, CERT_TLS);
    let chains = chain::diagnose(&lab_snapshot(&scoped));
    let f = kvc804(&chains);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(
        // A principal looked up is read and tested non-empty first (audit V4).
        f[0].fix
            .rsplit("[ -n \"$PRINCIPAL\" ] && ")
            .next()
            // The vault's id held and tested first (audit XE-paste).
            .is_some_and(|grant| grant.starts_with("VAULT_ID=\"$(az keyvault show ")
                && grant.contains("}\" && az role assignment create "))
            && f[0].fix.contains("--role \"Key Vault Secrets User\"")
            && f[0]
                .fix
                .contains(" && kubectl edit secretproviderclass gateway-kv -n shop  #"),
        "{}",
        f[0].fix
    );
    let chains = chain::diagnose(&lab_snapshot(CERT_TLS));
    let f = kvc804(&chains);
    assert!(
        f[0].fix
            .starts_with("kubectl edit secretproviderclass gateway-kv"),
        "Certificate User on the vault reads the secret too: {}",
        f[0].fix
    );
}

/// Keys named other than tls.key and tls.crt, both read from one objectType cert file (audit
/// TT1, realworld 057): renaming them alone leaves tls.key without a private key (FACTS §5),
/// so the one finding names both defects and its edit does both. The manifest edited as the fix
/// says (keys renamed, the item it adds, tls.key pointed at that item's alias) has no KVC804.
#[test]
fn lab_tls_keys_wrong_key_names_on_a_cert_file_get_one_fix_for_both_defects() {
    let app = gateway(
        OBJECTS,
        &format!(
            "{}{}",
            entry("gateway-tls", "gateway-tls.key"),
            entry("gateway-tls", "gateway-tls.crt")
        ),
    );
    let docs = [SHOP, &app].join("\n---\n");
    let m = kvchain::source::manifests::load_str("m.yaml", &docs).expect("loads");
    let f = kvc804(&chain::diagnose(&m));
    assert_eq!(f.len(), 1, "{f:#?}");
    let (message, fix) = (&f[0].message, &f[0].fix);
    assert!(
        message.contains("key 'gateway-tls.key' is not supported")
            && message.contains("tls.key from objectType cert (gateway-tls)")
            && message.contains("no private key"),
        "{message}"
    );
    // No objectType secret object exists for the fix to send the keys to.
    assert!(!fix.contains("the objectType: secret object of"), "{fix}");
    assert!(
        fix.contains(
            "keys tls.key and tls.crt in place of gateway-tls.key, gateway-tls.crt, both from objectName gateway-tls"
        ),
        "{fix}"
    );
    // The item the fix adds (the cert item stays: the Deployment's container reads its file).
    let added = fix
        .split_once(
            "objects: add an item {objectName: gateway-tls, objectType: secret, objectAlias: ",
        )
        .and_then(|(_, rest)| rest.split_once('}'))
        .map(|(alias, _)| alias)
        .unwrap_or_else(|| panic!("the fix adds an objectType secret item: {fix}"));
    assert!(
        fix.contains(&format!(
            "set secretObjects[gateway-tls].data[key=tls.key] objectName gateway-tls to {added}"
        )),
        "{fix}"
    );
    let fixed = gateway(
        &format!("{OBJECTS}{}", item("secret", added)),
        &format!(
            "{}{}",
            entry(added, "tls.key"),
            entry("gateway-tls", "tls.crt")
        ),
    );
    let docs = [SHOP, &fixed].join("\n---\n");
    let m = kvchain::source::manifests::load_str("m.yaml", &docs).expect("loads");
    let left = kvc804(&chain::diagnose(&m));
    assert!(left.is_empty(), "the fix applied leaves {left:#?}");
}
