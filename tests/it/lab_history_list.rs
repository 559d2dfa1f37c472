//! objectVersionHistory makes the provider list an object's versions before it reads them,
//! which "needs list permission" (FACTS §5). On an access-policy vault whose policy grants
//! only get, the listing is refused (AccessDenied, FACTS §3 wording with `list`): the lab's
//! mount fails so, and the diagnosis names the missing permission (KVC502 on the Access link,
//! the refusal its evidence) with a set-policy that keeps get and adds list. It read all
//! green (audit E4).

use std::time::Duration;

use kvchain::chain::{self, Code, LinkKind, Status};
use kvchain::snapshot::Snapshot;
use kvchain::source::lab::{self, export, world::World};

const CLUSTER: &str = include_str!("../../assets/scenarios/cluster.yaml");
const SHOP: &str = include_str!("../../assets/scenarios/shop.yaml");
const HEALTHY: &str = include_str!("../../assets/scenarios/healthy.yaml");
/// id-checkout's principal, which the access policy names.
const PRINCIPAL: &str = "c30a102a-6825-5741-a906-d8eb137bbaea";

/// The healthy checkout chain on kv-shop-lab under access policies granting `perms` on
/// secrets, its object read with objectVersionHistory 2; a minute of lab time.
fn run(perms: &str) -> Snapshot {
    let rbac = "  enableRbacAuthorization: true\n";
    assert!(SHOP.contains(rbac));
    let shop = SHOP.replacen(
        rbac,
        &format!(
            "  enableRbacAuthorization: false\n  accessPolicies:\n    - objectID: {PRINCIPAL}\n      tenantID: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b\n      secrets: [{perms}]\n"
        ),
        1,
    );
    let alias = "          objectAlias: db-password\n";
    assert!(HEALTHY.contains(alias));
    let healthy = HEALTHY.replacen(
        alias,
        &format!("{alias}          objectVersionHistory: 2\n"),
        1,
    );
    let sc = lab::scenario::parse(
        "history",
        std::path::Path::new("history.yaml"),
        &[CLUSTER, &shop, &healthy].join("\n---\n"),
    )
    .expect("scenario loads");
    let mut w = World::new(sc);
    w.advance(Duration::from_secs(60));
    export::snapshot(&w)
}

fn checkout(s: &Snapshot) -> Vec<chain::Chain> {
    chain::diagnose(s)
        .into_iter()
        .filter(|c| c.pod.starts_with("checkout"))
        .collect()
}

#[test]
fn history_without_list_fails_the_mount_and_names_the_permission() {
    let s = run("get");
    let refused: Vec<&str> = (s.events.items.iter())
        .filter(|e| e.reason == "FailedMount" && e.involved_name.starts_with("checkout"))
        .map(|e| e.message.as_str())
        .collect();
    assert!(!refused.is_empty(), "the mount fails");
    assert!(
        refused
            .iter()
            .all(|m| m.contains("does not have secrets list permission")),
        "{refused:#?}"
    );
    let chains = checkout(&s);
    assert!(!chains.is_empty());
    for c in &chains {
        let access = c.link(LinkKind::Access);
        assert_eq!(access.status, Status::Broken, "{access:#?}");
        let f = &access.findings[0];
        assert_eq!(f.code, Code::KVC502);
        assert!(f.message.contains("objectVersionHistory"), "{}", f.message);
        assert!(
            f.fix.ends_with(&format!(
                "--object-id {PRINCIPAL} --secret-permissions get list"
            )),
            "{}",
            f.fix
        );
        // The refusal is the finding's evidence, not a second cause on the Mount link.
        assert!(!c.findings().any(|f| f.code == Code::KVC701), "{c:#?}");
        assert_eq!(c.drawn_status(LinkKind::Mount), Status::Pending);
    }
}

#[test]
fn history_with_list_mounts_and_the_access_reads_green() {
    let s = run("get, list");
    for c in checkout(&s) {
        assert_eq!(c.link(LinkKind::Access).status, Status::Ok, "{c:#?}");
        assert_eq!(c.link(LinkKind::Mount).status, Status::Ok, "{c:#?}");
        // (The Secret's objectName db-password matches no file now: history mounts
        // db-password/0 and /1, KVC801, which is the Sync link's own story.)
        assert!(
            !c.findings()
                .any(|f| matches!(f.code, Code::KVC501 | Code::KVC502 | Code::KVC701)),
            "{c:#?}"
        );
    }
}
