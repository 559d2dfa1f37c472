//! A keyvaultName the provider refuses before any request (a vault URL, a name outside
//! 3–24 of `[-A-Za-z0-9]`, FACTS §5) is one cause on the Identity link (KVC302). No vault is
//! reached under that name, so Access and Object wait on it ("blocked: Identity"): they are
//! not unknown, and looking the name up is not a read that failed (no gap, so the headline
//! does not call the chain "not verified").

use std::time::Duration;

use kvchain::chain::{Code, LinkKind, Status, diagnose};
use kvchain::source::lab::world::World;
use kvchain::source::lab::{self, export};

use crate::lab_nodes::{CLUSTER, HEALTHY, SHOP};

fn snapshot_with_vault(name: &str) -> kvchain::snapshot::Snapshot {
    let app = HEALTHY.replace(
        "keyvaultName: kv-shop-lab",
        &format!("keyvaultName: {name}"),
    );
    assert_ne!(app, HEALTHY, "the healthy app names kv-shop-lab");
    let docs = [CLUSTER, SHOP, &app].join("\n---\n");
    let sc = lab::scenario::parse("vault-url", std::path::Path::new("vault-url.yaml"), &docs)
        .expect("scenario loads");
    let mut w = World::new(sc);
    w.advance(Duration::from_secs(300));
    export::snapshot(&w)
}

#[test]
fn a_vault_url_blocks_access_and_object_and_is_no_failed_read() {
    for name in [
        "https://kv-shop-lab.vault.azure.net/",
        "kv_shop_lab",
        "a-vault-name-longer-than-24",
    ] {
        let s = snapshot_with_vault(name);
        assert!(
            !s.gaps().iter().any(|g| g.reason.contains(name)),
            "{name}: {:#?}",
            s.gaps()
        );
        let chains = diagnose(&s);
        let c = (chains.iter().find(|c| c.pod.starts_with("checkout-"))).expect("checkout chain");
        let root = c.root_cause().expect("a cause");
        assert_eq!(root.code, Code::KVC302, "{name}: {c:#?}");
        assert_eq!(root.link, LinkKind::Identity);
        for l in [LinkKind::Access, LinkKind::VaultObject] {
            let link = c.link(l);
            assert_eq!(link.status, Status::Pending, "{name} {l:?}: {c:#?}");
            assert_eq!(&*link.summary, "blocked: Identity", "{name} {l:?}");
            assert!(
                link.findings.is_empty(),
                "{name} {l:?}: {:#?}",
                link.findings
            );
        }
        assert!(
            !c.links.iter().any(|l| l.status == Status::Unknown),
            "{name}: {c:#?}"
        );
    }
}

/// Control: a valid name is still judged on the Access link: the lab's vault host does not
/// resolve, and the mount's DNS failure names the vault as missing (KVC506).
#[test]
fn a_valid_name_no_vault_answers_to_is_judged_on_access() {
    let s = snapshot_with_vault("kv-elsewhere");
    let chains = diagnose(&s);
    let c = (chains.iter().find(|c| c.pod.starts_with("checkout-"))).expect("checkout chain");
    let root = c.root_cause().expect("a cause");
    assert_eq!(
        (root.code, root.link),
        (Code::KVC506, LinkKind::Access),
        "{c:#?}"
    );
    assert_ne!(&*c.link(LinkKind::Access).summary, "blocked: Identity");
}

/// Audit TT9 (realworld 013, 073, …): a keyvaultName still a template placeholder, from
/// manifests (nothing seen failing on it), is a KVC306 warning on Identity, no break. Access
/// and Object were not tried, but no break upstream kept them from it (README: `blocked: <link>`
/// names a break): they read that the vault name is unrendered, not "blocked: Identity", and
/// no link of the chain is broken.
#[test]
fn an_unrendered_vault_name_leaves_access_and_object_unchecked_not_blocked() {
    for name in ["$KEYVAULT_NAME", "\"<key-vault-name>\"", "${VAULT}"] {
        let app = HEALTHY.replace(
            "keyvaultName: kv-shop-lab",
            &format!("keyvaultName: {name}"),
        );
        assert_ne!(app, HEALTHY);
        let docs = [SHOP, &app].join("\n---\n");
        let m = kvchain::source::manifests::load_str("m.yaml", &docs).expect("loads");
        let chains = diagnose(&m);
        let c = (chains.iter().find(|c| c.pod.starts_with("checkout")))
            .unwrap_or_else(|| panic!("{name}: checkout chain in {chains:#?}"));
        let identity = c.link(LinkKind::Identity);
        assert_eq!(identity.status, Status::Warning, "{name}: {c:#?}");
        assert!(
            identity.findings.iter().any(|f| f.code == Code::KVC306),
            "{name}: {:#?}",
            identity.findings
        );
        assert!(
            !c.links.iter().any(|l| l.status == Status::Broken),
            "{name}: no link is broken: {c:#?}"
        );
        for l in [LinkKind::Access, LinkKind::VaultObject] {
            let link = c.link(l);
            assert_eq!(link.status, Status::Pending, "{name} {l:?}: {c:#?}");
            assert!(
                !link.summary.starts_with("blocked"),
                "{name} {l:?}: {}",
                link.summary
            );
            assert!(
                link.summary.contains("unrendered"),
                "{name} {l:?}: {}",
                link.summary
            );
        }
    }
}
