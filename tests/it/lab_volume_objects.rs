//! A pod volume's `volumeAttributes.objects` replace its SecretProviderClass's objects (FACTS
//! §5: volume attributes are merged over the parameters). The mount reads the volume's
//! objects, so the Azure side must be looked up for those, and a finding names them: an
//! object the vault lacks is said by name, with the vault's nearest name in the fix.

use kvchain::chain::{self, Code};
use kvchain::source::lab::world::World;
use kvchain::source::lab::{self, export};

const CLUSTER: &str = include_str!("../../assets/scenarios/cluster.yaml");
const SHOP: &str = include_str!("../../assets/scenarios/shop.yaml");
const HEALTHY: &str = include_str!("../../assets/scenarios/healthy.yaml");

/// healthy.yaml with the checkout volume naming `object` in its own `objects`.
fn volume_objects(object: &str) -> String {
    let volume = "              secretProviderClass: checkout-kv";
    assert!(HEALTHY.contains(volume));
    let objects = format!(
        "{volume}\n              objects: \"array:\\n  - |\\n    objectName: {object}\\n    objectType: secret\\n\""
    );
    let healthy = HEALTHY.replace(volume, &objects);
    [CLUSTER, SHOP, &healthy].join("\n---\n")
}

fn diagnose(text: &str) -> (kvchain::snapshot::Snapshot, Vec<chain::Chain>) {
    let sc = lab::scenario::parse("volume-objects", std::path::Path::new("v.yaml"), text)
        .expect("scenario loads");
    let mut w = World::new(sc);
    w.run_until_stable(lab::MAX_SETTLE);
    let snap = export::snapshot(&w);
    let chains = chain::diagnose(&snap);
    (snap, chains)
}

/// The one KVC601 of `chains`: the vault has no such object.
fn kvc601(chains: &[chain::Chain]) -> &chain::Finding {
    chains
        .iter()
        .flat_map(|c| c.findings())
        .find(|f| f.code == Code::KVC601)
        .expect("the vault has no such object: KVC601")
}

#[test]
fn an_object_only_the_volume_names_is_looked_up_and_named() {
    let (snap, chains) = diagnose(&volume_objects("checkout-db-pasword"));
    assert!(
        snap.azure
            .objects
            .iter()
            .any(|o| o.name == "checkout-db-pasword"),
        "the volume's object is looked up: {:?}",
        snap.azure.objects
    );
    let f = kvc601(&chains);
    assert!(
        f.message.contains("secret checkout-db-pasword (objects[0] of pod volume secrets-store's volumeAttributes.objects")
            && f.message.contains("did you mean checkout-db-password?"),
        "{}",
        f.message
    );
    // The volume is what the mount reads: its objects are edited.
    assert!(
        f.fix.starts_with("kubectl edit deployment/checkout -n shop  # volume secrets-store: volumeAttributes.objects[0].objectName: checkout-db-password"),
        "{}",
        f.fix
    );
}

/// Without an alias the file is named after the object (FACTS §5), and a `secretObjects` entry
/// must name a mounted file (FACTS §2). When the entry reads the file by the mistyped object's
/// name, pointing the object at the vault's name alone would move the file from under it (and
/// KVC801's fix would then point it back): the fix keeps the file's name with an alias.
#[test]
fn a_rename_keeps_the_file_a_synced_secret_reads() {
    const NOT_FOUND: &str = include_str!("../../assets/scenarios/object-not-found.yaml");
    let objects = "          objectName: catalog-api-key\n          objectType: secret\n";
    assert!(NOT_FOUND.contains(objects));
    let synced = format!(
        "{objects}  secretObjects:\n    - secretName: catalog-secret\n      type: Opaque\n      data:\n        - objectName: catalog-api-key\n          key: api-key\n"
    );
    let text = [CLUSTER, SHOP, &NOT_FOUND.replace(objects, &synced)].join("\n---\n");
    let (_, chains) = diagnose(&text);
    let f = kvc601(&chains);
    assert!(
        f.fix.ends_with("# objects[0]: objectName catalog-apikey, objectAlias catalog-api-key (the file keeps the name its readers use)"),
        "{}",
        f.fix
    );
    // Without that reader the rename is all (lab_placeholders: an entry that reads the vault's
    // name gets the plain rename).
    let (_, chains) = diagnose(&[CLUSTER, SHOP, NOT_FOUND].join("\n---\n"));
    let f = kvc601(&chains);
    assert!(
        f.fix.ends_with("# objects[0].objectName: catalog-apikey"),
        "{}",
        f.fix
    );
}

/// A volume naming another existing secret than its SecretProviderClass does: the mount
/// works, and the Object link says so from the vault, not "not looked up".
#[test]
fn a_volume_naming_another_existing_object_reads_ok() {
    let (snap, chains) = diagnose(&volume_objects("orders-api-key"));
    assert!(
        snap.azure
            .objects
            .iter()
            .any(|o| o.name == "orders-api-key"),
        "{:?}",
        snap.azure.objects
    );
    let checkout: Vec<_> = chains
        .iter()
        .filter(|c| c.id.contains("checkout"))
        .collect();
    assert!(!checkout.is_empty());
    for c in checkout {
        let object = c.link(kvchain::chain::LinkKind::VaultObject);
        assert_eq!(object.status, kvchain::chain::Status::Ok, "{c:#?}");
    }
}
