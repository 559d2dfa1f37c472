//! Audit 12 (A12-10): a lesson's text says what the lab shows next to it. Each test applies
//! the step's fault as the lesson does, lets the lab run, and holds the text to the facts
//! (FACTS §6: the webhook acts on pod CREATE only; FACTS §4: a failed rotation leaves the
//! mounted files and the synced Secret as they were).

use std::time::Duration;

use kvchain::chain::{self, LinkKind, Status, diagnose};
use kvchain::snapshot::{EnvSourceObs, Snapshot};
use kvchain::source::lab::{self, LabSource, export};
use kvchain::source::{FaultTarget, LabControl};

/// The six-hops lesson's lab, settled, and the text of the step that applies `fault`,
/// applied the way the TUI applies it (on the lesson's target).
fn at_step(fault: &str) -> (LabSource, String) {
    let mut src = lab::open("lesson-six-hops", None).unwrap();
    src.world_mut().run_until_stable(Duration::from_secs(600));
    let (lesson, (namespace, name)) = lab::find_lesson(&src, "six-hops").unwrap();
    let step = lesson
        .steps
        .iter()
        .find(|s| s.fault.as_deref() == Some(fault))
        .expect("a step applies the fault");
    src.control(&LabControl::Fault {
        id: fault.into(),
        apply: true,
        target: Some(FaultTarget {
            kind: "Deployment".into(),
            namespace,
            name,
        }),
    })
    .expect("applies");
    // Two rotation polls: whatever the fault does to running pods has happened.
    src.world_mut().advance(Duration::from_secs(300));
    (
        src,
        step.text.split_whitespace().collect::<Vec<_>>().join(" "),
    )
}

fn checkout(s: &Snapshot) -> Vec<chain::Chain> {
    diagnose(s)
        .into_iter()
        .filter(|c| c.workload.as_ref().is_some_and(|w| w.name == "checkout"))
        .collect()
}

#[test]
fn client_id_step_says_running_pods_keep_their_identity() {
    let (src, text) = at_step("sa-client-id-mismatch");
    let s = export::snapshot(src.world());
    let spc_client = s
        .spcs
        .items
        .iter()
        .find(|spc| spc.name == "checkout-kv")
        .and_then(|spc| spc.parsed.client_id.clone())
        .expect("the SPC clientID");
    // What the lab shows: the running pods still carry the id injected at their creation.
    let held: Vec<Option<String>> = s
        .pods
        .items
        .iter()
        .filter(|p| p.name.starts_with("checkout-") && p.template_of.is_none())
        .flat_map(|p| p.containers.iter())
        .flat_map(|c| c.env.iter())
        .filter(|e| e.name == "AZURE_CLIENT_ID")
        .map(|e| match &e.source {
            EnvSourceObs::Literal { value } => value.clone(),
            _ => None,
        })
        .collect();
    assert!(!held.is_empty());
    assert!(
        held.iter()
            .all(|v| v.as_deref() == Some(spc_client.as_str()))
    );
    let chains = checkout(&s);
    assert!(
        chains
            .iter()
            .all(|c| c.link(LinkKind::ServiceAccount).status == Status::Warning)
    );
    // So the text must not say the running app already authenticates as someone else.
    assert!(!text.contains("authenticates as someone else"), "{text}");
    assert!(text.contains("running pods keep"), "{text}");
    assert!(text.contains("Pods created from now on"), "{text}");
}

#[test]
fn broken_objects_step_says_the_synced_secret_keeps_its_content() {
    let before = {
        let mut src = lab::open("lesson-six-hops", None).unwrap();
        src.world_mut().run_until_stable(Duration::from_secs(600));
        export::snapshot(src.world())
    };
    let (src, text) = at_step("break-objects-yaml");
    let s = export::snapshot(src.world());
    let data = |s: &Snapshot| s.secret("shop", "checkout-db").map(|x| x.data.clone());
    // What the lab shows: the synced Secret is there with the same content, Sync is ok.
    assert!(data(&s).is_some());
    assert_eq!(data(&before), data(&s));
    let chains = checkout(&s);
    assert!(!chains.is_empty());
    for c in &chains {
        assert_eq!(c.link(LinkKind::Sync).status, Status::Ok, "{c:#?}");
        assert_eq!(c.link(LinkKind::Mount).status, Status::Broken);
    }
    assert!(!text.contains("loses its source"), "{text}");
    assert!(
        text.contains("synced Secret keep their last content"),
        "{text}"
    );
}
