//! KVC801 for a `secretObjects` entry naming an object the SPC's `objects` forgot to list
//! (audit H5). FACTS §2: `data[].objectName` must equal a mounted file; §5: the file is the
//! objectAlias, else the objectName. When the vault holds an object of that name the fix adds
//! the item `{objectName, objectType}` and leaves the other items alone; it never points the
//! entry at another object's file (that value would land under this key) nor renames an item
//! whose file something else reads (that reader would break, as codes.yaml KVC804 keeps too).

use std::time::Duration;

use kvchain::chain::{self, Chain, Code, Finding};
use kvchain::source::lab::world::World;
use kvchain::source::lab::{self, export};

use crate::lab_nodes::{CLUSTER, HEALTHY, SHOP};

/// The healthy scenario's one secretObjects entry (checkout-db ← file db-password).
const SECRET_OBJECTS: &str = "  secretObjects:\n    - secretName: checkout-db\n";

/// The healthy checkout with a second synced Secret `checkout-api` whose key reads `file`.
fn with_entry(file: &str) -> String {
    assert!(HEALTHY.contains(SECRET_OBJECTS));
    HEALTHY.replace(
        SECRET_OBJECTS,
        &format!(
            "  secretObjects:\n    - secretName: checkout-api\n      type: Opaque\n      data:\n        - objectName: {file}\n          key: API_KEY\n    - secretName: checkout-db\n"
        ),
    )
}

fn lab_run(app: &str) -> Vec<Chain> {
    let docs = [CLUSTER, SHOP, app];
    let sc = lab::scenario::parse(
        "unlisted",
        std::path::Path::new("unlisted.yaml"),
        &docs.join("\n---\n"),
    )
    .expect("scenario loads");
    let mut w = World::new(sc);
    w.advance(Duration::from_secs(120));
    chain::diagnose(&export::snapshot(&w))
}

fn manifests_run(app: &str) -> Vec<Chain> {
    let docs = [SHOP, app].join("\n---\n");
    let s = kvchain::source::manifests::load_str("m.yaml", &docs).expect("loads");
    chain::diagnose(&s)
}

fn kvc801(chains: &[Chain]) -> Finding {
    let mut f: Vec<Finding> = Vec::new();
    for x in chains.iter().flat_map(|c| c.findings()) {
        if x.code == Code::KVC801 && !f.iter().any(|o| o.message == x.message) {
            f.push(x.clone());
        }
    }
    assert_eq!(f.len(), 1, "{f:#?}");
    f.remove(0)
}

/// Neither wrong edit: the checkout-db password's file under API_KEY, or objects[0] renamed
/// (taking db-password from checkout-db and the container reading it).
fn assert_no_wrong_edit(fix: &str) {
    assert!(!fix.contains("objects[0].objectName"), "{fix}");
    assert!(!fix.contains("objectName: db-password"), "{fix}");
}

/// The vault holds orders-api-key (a secret), the SPC mounts checkout-db-password only: the
/// fix adds the item for that secret.
#[test]
fn lab_sync_unlisted_an_object_the_vault_holds_is_added_to_objects() {
    let f = kvc801(&lab_run(&with_entry("orders-api-key")));
    assert!(
        f.fix.contains(
            "objects: add an item {objectName: orders-api-key, objectType: secret} for secretObjects[checkout-api].data[key=API_KEY]"
        ),
        "{}",
        f.fix
    );
    assert_no_wrong_edit(&f.fix);
    assert!(
        f.message.contains(
            "no item of objects lists orders-api-key, which Key Vault kv-shop-lab holds as a secret"
        ),
        "{}",
        f.message
    );
}

/// `check -f`: the vault is not read. Adding the item is the likely fix, said as such; still
/// no re-pointing at another object's file and no rename of objects[0].
#[test]
fn lab_sync_unlisted_without_the_vault_adding_the_item_is_the_likely_fix() {
    let f = kvc801(&manifests_run(&with_entry("orders-api-key")));
    assert!(
        f.fix
            .contains("objects: add an item {objectName: orders-api-key, objectType: secret}")
            && f.fix.contains("likely"),
        "{}",
        f.fix
    );
    assert_no_wrong_edit(&f.fix);
}

/// The vault lists no object of that name either: no edit of the working item, and the
/// message says the vault lacks it.
#[test]
fn lab_sync_unlisted_a_name_the_vault_lacks_leaves_the_other_items_alone() {
    let f = kvc801(&lab_run(&with_entry("missing-file")));
    assert_no_wrong_edit(&f.fix);
    assert!(
        f.message
            .contains("Key Vault kv-shop-lab holds no object of that name"),
        "{}",
        f.message
    );
}

/// A slip of a mounted file whose item another entry reads (checkout-db's password from
/// `db-password`): renaming that item would break checkout-db, so it is not offered; the
/// nearest file is, as is adding an item.
#[test]
fn lab_sync_unlisted_a_slip_never_renames_an_item_another_entry_reads() {
    // objects[0] unaliased: its file is its Key Vault name, which checkout-db reads.
    let app = with_entry("checkout-db-passwords")
        .replace("          objectAlias: db-password\n", "")
        .replace(
            "        - objectName: db-password\n",
            "        - objectName: checkout-db-password\n",
        );
    let f = kvc801(&manifests_run(&app));
    assert!(!f.fix.contains("objects[0].objectName"), "{}", f.fix);
    assert!(
        f.fix.contains(
            "secretObjects[checkout-api].data[key=API_KEY].objectName: checkout-db-password"
        ),
        "{}",
        f.fix
    );
}

/// A slip of a mounted file the vault is known to lack (the lab lists its names): the entry
/// is the typo. Renaming objects[0] to it would make the mount fail, so only the entry's
/// edit is offered.
#[test]
fn lab_sync_unlisted_a_slip_the_vault_lacks_is_the_entrys_typo() {
    let app = HEALTHY
        .replace("          objectAlias: db-password\n", "")
        .replace(
            "        - objectName: db-password\n",
            "        - objectName: checkout-db-pasword\n",
        );
    let f = kvc801(&lab_run(&app));
    assert!(
        f.fix.ends_with(
            "# secretObjects[checkout-db].data[key=password].objectName: checkout-db-password"
        ),
        "{}",
        f.fix
    );
}
