//! Audit 12 (A12-6): an SPC that pins `objectVersion` mounts that version (FACTS §5). Verify
//! (`x`) compares the file with it, not with the vault's latest, and reveal (`v`) on the
//! object row shows the version the pods mount and says which one it is.

use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kvchain::action::Action;
use kvchain::action::reveal::RevealTarget;
use kvchain::snapshot::ObjectType;
use kvchain::source::SourceEvent;
use kvchain::source::lab::{self, LabSource, export};
use kvchain::ui::app::{App, AppEvent, Effect};
use kvchain::ui::config::UiConfig;
use kvchain::ui::tree::Row;

const VAULT: &str = "kv-shop-lab";
const OBJECT: &str = "checkout-db-password";

/// The healthy chain with checkout's SPC pinned to the older of its object's two versions
/// (shop.yaml: `checkout-pass-v1`, then `checkout-pass-v2`, the latest).
fn pinned() -> (LabSource, String) {
    pinned_as(str::to_string)
}

/// [`pinned`], the pin written as `written` spells the older version's id (its case, say),
/// which the lab run is given back with.
pub(crate) fn pinned_as(written: impl Fn(&str) -> String) -> (LabSource, String) {
    let oldest = {
        let src = lab::open("healthy", None).unwrap();
        let o = &src.world().vaults[VAULT].objects[&(ObjectType::Secret, OBJECT.to_string())];
        assert_eq!(o.versions.len(), 2);
        written(&o.versions.last().unwrap().id)
    };
    let healthy = include_str!("../../assets/scenarios/healthy.yaml").replace(
        "objectAlias: db-password\n",
        &format!("objectAlias: db-password\n          objectVersion: {oldest}\n"),
    );
    assert!(healthy.contains(&oldest), "the SPC is pinned");
    let mut src = crate::lab_nodes::open_healthy_variant(&healthy);
    src.world_mut().run_until_stable(Duration::from_secs(3600));
    (src, oldest)
}

fn checkout_pod(src: &LabSource) -> String {
    export::snapshot(src.world())
        .pods
        .items
        .iter()
        .find(|p| p.name.starts_with("checkout-") && p.template_of.is_none())
        .expect("a checkout pod")
        .name
        .to_string()
}

#[test]
fn verify_compares_a_pinned_file_with_the_pinned_version() {
    let (mut src, oldest) = pinned();
    let out = src.act(&Action::Verify {
        namespace: "shop".into(),
        pod: checkout_pod(&src),
        container: "app".into(),
    });
    assert!(out.ok, "{out:?}");
    assert!(
        out.message.contains(&format!(
            "file db-password: matches the pinned version {}",
            &oldest[..8]
        )),
        "{}",
        out.message
    );
    assert!(!out.message.contains("differs"), "{}", out.message);
}

#[test]
fn reveal_on_a_pinned_object_row_shows_the_version_the_pods_mount() {
    let (src, oldest) = pinned();
    let snapshot = export::snapshot(src.world());
    let mut app = App::new(snapshot.source.clone(), UiConfig::default());
    app.update(AppEvent::Resize(160, 45));
    app.update(AppEvent::Source(SourceEvent::Lab(src.status())));
    app.update(AppEvent::Source(SourceEvent::Snapshot(Arc::new(snapshot))));
    // Open every row down to the objects, then select checkout's pinned object.
    let chains = app.chains.clone();
    let mut found = None;
    for _ in 0..6 {
        for i in 0..app.tree.rows.len() {
            app.tree.select(i, &chains);
            app.update(AppEvent::Key(KeyEvent::new(
                KeyCode::Char('l'),
                KeyModifiers::NONE,
            )));
        }
        found = (0..app.tree.rows.len()).find(|i| {
            matches!(app.tree.rows[*i], Row::Object { chain, object }
                if chains[chain].objects[object].name == OBJECT)
        });
        if found.is_some() {
            break;
        }
    }
    let row = found.expect("checkout's object row");
    app.tree.select(row, &chains);
    let fx = app.update(AppEvent::Key(KeyEvent::new(
        KeyCode::Char('v'),
        KeyModifiers::NONE,
    )));
    let Some(Effect::Reveal(target)) = fx.into_iter().find(|e| matches!(e, Effect::Reveal(_)))
    else {
        panic!("no reveal asked: {:?}", app.message)
    };
    assert_eq!(
        target,
        RevealTarget::VaultSecret {
            vault: VAULT.into(),
            object: OBJECT.into(),
            version: Some(oldest.clone()),
        }
    );
    let (said, _) = app.message.clone().unwrap();
    assert!(
        said.contains(&format!("pinned version {}", &oldest[..8])),
        "{said}"
    );
    // The lab answers with the pinned version's value, not the latest.
    let v = src.reveal(&target).unwrap();
    assert_eq!(v.expose(), "checkout-pass-v1");
}
