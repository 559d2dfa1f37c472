//! Which Sync findings follow an earlier break and how such links are drawn. KVC801 is judged
//! against the SPC's declared objects, not the files a failure kept from being written: it
//! follows a failing object only when its unmatched name is that object's near-miss (fixing
//! the object makes the file, audit 6 Q2); any other KVC801 is a cause of its own that stays
//! after the object is fixed. README "Finding codes": a link the break kept from being tried
//! is drawn `…` (pending) so the one red box is the cause; its findings are still listed with
//! their severity and counted apart, as blocked (check_blocked_counts).

use std::time::Duration;

use kvchain::chain::{self, Chain, Code, LinkKind, Severity, Status};
use kvchain::source::lab::world::World;
use kvchain::source::lab::{self, export};

use crate::lab_nodes::{CLUSTER, HEALTHY, SHOP};

fn run(app: &str) -> Vec<Chain> {
    let docs = [CLUSTER, SHOP, app];
    let sc = lab::scenario::parse(
        "sync-causes",
        std::path::Path::new("sync-causes.yaml"),
        &docs.join("\n---\n"),
    )
    .expect("scenario loads");
    let mut w = World::new(sc);
    w.advance(Duration::from_secs(120));
    chain::diagnose(&export::snapshot(&w))
}

const OBJECT: &str = "        - |\n          objectName: checkout-db-password\n          objectType: secret\n          objectAlias: db-password\n";
const ENTRY: &str = "        - objectName: db-password\n          key: password\n";

/// An unrelated second object misspelt (`orders-api-kee`, KVC601) and a secretObjects entry
/// naming a file no object writes (`db-pasword`, nothing like the failing object): the
/// KVC801 is its own cause, not "blocked by Object", and its link stays broken.
#[test]
fn lab_sync_causes_an_unrelated_kvc801_is_not_blocked_by_a_failing_object() {
    let app = HEALTHY
        .replace(
            OBJECT,
            &format!("{OBJECT}        - |\n          objectName: orders-api-kee\n          objectType: secret\n"),
        )
        .replace(
            ENTRY,
            &format!("{ENTRY}        - objectName: db-pasword\n          key: password2\n"),
        );
    let chains = run(&app);
    let all: Vec<_> = chains.iter().flat_map(|c| c.findings()).collect();
    assert!(
        all.iter()
            .any(|f| f.code == Code::KVC601 && f.message.contains("orders-api-kee")),
        "{all:#?}"
    );
    let own: Vec<_> = all.iter().filter(|f| f.code == Code::KVC801).collect();
    assert!(!own.is_empty(), "{all:#?}");
    for f in own {
        assert_eq!(f.follows, None, "{f:#?}");
        assert!(!f.message.starts_with("blocked by"), "{}", f.message);
        assert!(f.fix.contains("db-password"), "{}", f.fix);
    }
    for c in &chains {
        assert_eq!(
            c.link(LinkKind::Sync).status,
            Status::Broken,
            "{:#?}",
            c.links
        );
        assert_eq!(c.drawn_status(LinkKind::Sync), Status::Broken);
    }
}

/// R12: the SPC asks the wrong tenant (Federation breaks); the synced Secret's absence
/// (KVC802) follows it, so the Sync link is drawn pending, `blocked: Federation`, while the
/// finding keeps its severity in the list.
#[test]
fn lab_sync_causes_a_link_whose_findings_all_follow_is_drawn_pending() {
    let app = HEALTHY.replace(
        "    tenantId: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b\n",
        "    tenantId: 9a8b7c6d-1111-4222-8333-444455556666\n",
    );
    assert_ne!(app, HEALTHY);
    let chains = run(&app);
    let mut seen = false;
    for c in &chains {
        let sync = c.link(LinkKind::Sync);
        if sync.findings.is_empty() {
            continue;
        }
        seen = true;
        assert!(
            sync.findings.iter().all(|f| f.follows.is_some()),
            "{sync:#?}"
        );
        assert_eq!(sync.status, Status::Pending, "{sync:#?}");
        assert_eq!(c.drawn_status(LinkKind::Sync), Status::Pending);
        assert!(sync.summary.starts_with("blocked: "), "{}", sync.summary);
        // Listed and counted as ever: KVC802 is a warning.
        assert!(
            sync.findings
                .iter()
                .any(|f| f.code == Code::KVC802 && f.severity == Severity::Warning),
            "{sync:#?}"
        );
        // The one red box is the cause.
        let broken: Vec<LinkKind> = c
            .links
            .iter()
            .filter(|l| c.drawn_status(l.link) == Status::Broken)
            .map(|l| l.link)
            .collect();
        assert_eq!(broken, [LinkKind::Federation], "{:#?}", c.links);
    }
    assert!(seen, "no chain with Sync findings: {chains:#?}");
}
