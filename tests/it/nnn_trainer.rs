//! Audit NNN-lab: the trainer faults act on every owner kind the lab runs, each with its own
//! controller's behaviour (Kubernetes: a StatefulSet replaces its pods one at a time from the
//! highest ordinal, none under `OnDelete`; a DaemonSet node by node; a Job's pod template is
//! immutable; nothing recreates a bare pod), and a repair says how long the link stood broken.
//! The scenario is tests/fixtures/lab/nnn-owner-kinds.yaml (one chain run by a StatefulSet
//! `web`, its faultTarget, a DaemonSet `agent`, a Job `migrate` and a bare Pod `tool`); its
//! vault value is a canary no message may show.

use std::path::PathBuf;
use std::time::Duration;

use kvchain::chain::{self, Chain, Code, Status};
use kvchain::source::lab::world::World;
use kvchain::source::lab::{export, faults, scenario};

const CANARY: &str = "CANARY-nnn-owner-7c31";

fn fixture_text() -> String {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lab/nnn-owner-kinds.yaml");
    std::fs::read_to_string(path).expect("fixture")
}

/// The fixture's world (with `edit` applied to its text), run for a minute: every pod mounted.
pub(crate) fn world_with(edit: impl Fn(String) -> String) -> World {
    let text = edit(fixture_text());
    let sc = scenario::parse(
        "nnn-owner-kinds",
        &PathBuf::from("nnn-owner-kinds.yaml"),
        &text,
    )
    .expect("fixture loads");
    let mut w = World::new(sc);
    w.advance(Duration::from_secs(60));
    w
}

fn world() -> World {
    world_with(|t| t)
}

fn chains(w: &World) -> Vec<Chain> {
    chain::diagnose(&export::snapshot(w))
}

/// The chains of `owner` (`StatefulSet/web`, or `Pod/tool` for the bare pod).
fn of<'a>(chains: &'a [Chain], owner: &str) -> Vec<&'a Chain> {
    (chains.iter())
        .filter(|c| match &c.workload {
            Some(w) => format!("{}/{}", w.kind, w.name) == owner,
            None => format!("Pod/{}", c.pod) == owner,
        })
        .collect()
}

fn has(chains: &[&Chain], code: Code) -> bool {
    chains.iter().any(|c| c.findings().any(|f| f.code == code))
}

pub(crate) fn key(kind: &str, name: &str) -> (String, String, String) {
    (kind.into(), "demo".into(), name.into())
}

/// Names and uids of the live (not terminating) pods whose name starts with `prefix`.
pub(crate) fn pods(w: &World, prefix: &str) -> Vec<(String, String)> {
    (w.pods.values())
        .filter(|p| p.name().starts_with(prefix))
        .filter(|p| p.stage != kvchain::source::lab::world::Stage::Terminating)
        .map(|p| (p.name().to_string(), p.uid().to_string()))
        .collect()
}

fn no_canary(message: &str) {
    assert!(!message.contains(CANARY), "a secret value in {message:?}");
}

/// The scenario's `faultTarget` names a StatefulSet: it is the default target (it was refused
/// as "no Deployment mounts a SecretProviderClass"), a fault breaks its chains with the
/// catalogue's code and the repair brings them back, saying how long the link stood broken.
#[test]
fn a_fault_breaks_and_repairs_the_faulttarget_statefulset() {
    let mut w = world();
    assert_eq!(faults::default_target(&w), Some(key("StatefulSet", "web")));
    let applied = faults::apply(&mut w, "fic-subject-typo").expect("the StatefulSet is a target");
    no_canary(&applied);
    w.advance(Duration::from_secs(180));
    let c = chains(&w);
    let web = of(&c, "StatefulSet/web");
    assert_eq!(web.len(), 2, "{c:#?}");
    assert!(
        web.iter()
            .all(|c| c.findings().any(|f| f.code == Code::KVC401)),
        "{web:#?}"
    );
    let repaired = faults::repair(&mut w, "fic-subject-typo").expect("repairs");
    no_canary(&repaired);
    assert!(repaired.contains("after 3m of lab time"), "{repaired}");
    w.advance(Duration::from_secs(300));
    let c = chains(&w);
    let web = of(&c, "StatefulSet/web");
    assert!(web.iter().all(|c| c.worst() == Status::Ok), "{web:#?}");
}

/// A bare pod is a target of its own (selected in the TUI, or the lab's last resort): an
/// Azure-side fault breaks its chain and the repair heals it through rotation, no restart.
#[test]
fn a_fault_breaks_and_repairs_a_bare_pods_chain() {
    let mut w = world();
    let tool = key("Pod", "tool");
    let uid = pods(&w, "tool");
    faults::apply_to(&mut w, "remove-role-assignment", &tool).expect("a bare pod is a target");
    w.advance(Duration::from_secs(180));
    let c = chains(&w);
    assert!(has(&of(&c, "Pod/tool"), Code::KVC501), "{c:#?}");
    faults::repair(&mut w, "remove-role-assignment").expect("repairs");
    w.advance(Duration::from_secs(300));
    let c = chains(&w);
    assert!(
        of(&c, "Pod/tool").iter().all(|c| c.worst() == Status::Ok),
        "{c:#?}"
    );
    assert_eq!(pods(&w, "tool"), uid, "the same pod: nothing restarted it");
}

/// Removing the label from a bare pod reaches nothing (the webhook mutates on CREATE only and
/// nothing recreates the pod), and a Job's pod template is immutable: both are refused with
/// why, and the pod is left as it was.
#[test]
fn remove_pod_label_is_refused_for_a_job_and_a_bare_pod_with_why() {
    let mut w = world();
    let before = (pods(&w, "migrate"), pods(&w, "tool"));
    let job = faults::apply_to(&mut w, "remove-pod-label", &key("Job", "migrate")).unwrap_err();
    assert!(job.contains("field is immutable"), "{job}");
    let bare = faults::apply_to(&mut w, "remove-pod-label", &key("Pod", "tool")).unwrap_err();
    assert!(
        bare.contains("bare pod") && bare.contains("CREATE"),
        "{bare}"
    );
    w.advance(Duration::from_secs(120));
    assert_eq!((pods(&w, "migrate"), pods(&w, "tool")), before);
    let c = chains(&w);
    assert!(!has(&of(&c, "Job/migrate"), Code::KVC201), "{c:#?}");
}

/// remove-pod-label on a StatefulSet: its controller replaces the pods one at a time from the
/// highest ordinal (web-1 before web-0), as the applied message says; the new pods lack the
/// label (KVC201); the repair rolls them back and the chains are healthy.
#[test]
fn remove_pod_label_rolls_a_statefulset_from_the_highest_ordinal_and_back() {
    let mut w = world();
    let first = pods(&w, "web-");
    let applied = faults::apply_to(&mut w, "remove-pod-label", &key("StatefulSet", "web")).unwrap();
    assert!(applied.contains("from the highest ordinal"), "{applied}");
    // web-1 goes first; web-0 keeps its uid until web-1 runs again.
    let mut order = Vec::new();
    for _ in 0..300 {
        w.advance(Duration::from_secs(1));
        for (name, uid) in pods(&w, "web-") {
            if !first.contains(&(name.clone(), uid)) && !order.contains(&name) {
                order.push(name);
            }
        }
    }
    assert_eq!(order, ["web-1", "web-0"], "replaced in this order");
    let c = chains(&w);
    assert!(has(&of(&c, "StatefulSet/web"), Code::KVC201), "{c:#?}");
    let repaired = faults::repair(&mut w, "remove-pod-label").unwrap();
    assert!(repaired.contains("from the highest ordinal"), "{repaired}");
    w.advance(Duration::from_secs(600));
    let c = chains(&w);
    let web = of(&c, "StatefulSet/web");
    assert_eq!(web.len(), 2, "{c:#?}");
    assert!(web.iter().all(|c| c.worst() == Status::Ok), "{web:#?}");
}

/// Under `updateStrategy: OnDelete` a template edit replaces no pod: the fault says so instead
/// of "(rolls out)", and the pods keep the label (and their uid) until deleted.
#[test]
fn remove_pod_label_on_an_on_delete_set_says_no_pod_is_replaced() {
    let mut w = world_with(|t| {
        t.replace(
            "  serviceName: web\n",
            "  serviceName: web\n  updateStrategy: {type: OnDelete}\n",
        )
    });
    let first = pods(&w, "web-");
    let applied = faults::apply_to(&mut w, "remove-pod-label", &key("StatefulSet", "web")).unwrap();
    assert!(
        applied.contains("OnDelete: no pod is replaced until deleted"),
        "{applied}"
    );
    assert!(!applied.contains("rolls out"), "{applied}");
    w.advance(Duration::from_secs(300));
    assert_eq!(pods(&w, "web-"), first, "no pod replaced");
    let repaired = faults::repair(&mut w, "remove-pod-label").unwrap();
    assert!(repaired.contains("OnDelete"), "{repaired}");
}

/// A DaemonSet's template edit replaces its pod on each node (the lab's one node here), said.
#[test]
fn remove_pod_label_replaces_a_daemonsets_pod_node_by_node() {
    let mut w = world();
    let first = pods(&w, "agent-");
    assert_eq!(first.len(), 1, "{first:?}");
    let applied = faults::apply_to(&mut w, "remove-pod-label", &key("DaemonSet", "agent")).unwrap();
    assert!(applied.contains("node by node"), "{applied}");
    w.advance(Duration::from_secs(180));
    let now = pods(&w, "agent-");
    assert_eq!(now.len(), 1, "{now:?}");
    assert_ne!(now, first, "a new pod on the node");
    let c = chains(&w);
    assert!(has(&of(&c, "DaemonSet/agent"), Code::KVC201), "{c:#?}");
}

/// delete-mounting-workload on a bare pod deletes it; nothing recreates it, so the repair makes
/// it again from its saved manifest and says so (not that a controller replaced it). A Job
/// deleted and made again runs a new pod, said as such.
#[test]
fn deleting_a_bare_pod_or_a_job_and_the_repair_say_what_makes_them_again() {
    let mut w = world();
    let tool = key("Pod", "tool");
    let old = pods(&w, "tool");
    faults::apply_to(&mut w, "delete-mounting-workload", &tool).expect("deletes the pod");
    let early = faults::repair(&mut w, "delete-mounting-workload").unwrap_err();
    assert!(early.contains("still terminating"), "{early}");
    w.advance(Duration::from_secs(60));
    assert!(pods(&w, "tool").is_empty(), "nothing recreated it");
    let repaired = faults::repair(&mut w, "delete-mounting-workload").unwrap();
    assert!(
        repaired.contains("nothing recreates a bare pod"),
        "{repaired}"
    );
    w.advance(Duration::from_secs(60));
    let new = pods(&w, "tool");
    assert_eq!(new.len(), 1, "{new:?}");
    assert_ne!(new, old, "a new pod, not the old one");
    let c = chains(&w);
    assert!(
        of(&c, "Pod/tool").iter().all(|c| c.worst() == Status::Ok),
        "{c:#?}"
    );

    let job = key("Job", "migrate");
    faults::apply_to(&mut w, "delete-mounting-workload", &job).unwrap();
    w.advance(Duration::from_secs(60));
    let repaired = faults::repair(&mut w, "delete-mounting-workload").unwrap();
    assert!(repaired.contains("runs a new pod"), "{repaired}");
    w.advance(Duration::from_secs(60));
    assert_eq!(pods(&w, "migrate").len(), 1);
}

/// The trainer's `disable-rotation` on the default lab: KVC702's fix is `az aks update`
/// of the lab's own cluster, which the lab knows whole (its name, and the resource group its
/// identities live in): pasted, it must run as it is, with no `"$CLUSTER_RG"` left to fill.
#[test]
fn the_default_labs_rotation_fix_names_its_cluster_whole() {
    let mut w = World::new(kvchain::source::lab::load("default").unwrap());
    w.advance(Duration::from_secs(60));
    faults::apply(&mut w, "disable-rotation").unwrap();
    w.advance(Duration::from_secs(10));
    let c = chains(&w);
    let fix = (c.iter().flat_map(|c| c.findings()))
        .find(|f| f.code == Code::KVC702)
        .map(|f| f.fix.to_string())
        .expect("rotation off is KVC702");
    assert!(
        fix.starts_with("az aks update -g rg-kvchain-lab -n aks-shop-lab "),
        "{fix}"
    );
    assert!(!fix.contains('$'), "{fix}");
}

/// A lesson whose `target` is the StatefulSet: the fault its first step applies names the
/// StatefulSet (it named a Deployment of that name, which the lab refused as not found, so
/// no lesson could teach on another kind), the lab applies it there, and the class sees it.
#[test]
fn a_lessons_fault_lands_on_a_statefulset_target() {
    use kvchain::source::lab::{self, lesson};
    use kvchain::source::{LabControl, SourceCommand, SourceEvent};
    use kvchain::ui::app::{App, AppEvent, Effect};
    use kvchain::ui::config::UiConfig;

    let text = fixture_text()
        + "
---
apiVersion: lab.kvchain.dev/v1
kind: Lesson
metadata: {name: web-federation}
spec:
  title: Who may exchange the token?
  target: demo/web
  steps:
    - fault: fic-subject-typo
      text: The subject no longer matches.
      check: {link: federation, status: broken, code: KVC401}
";
    let dir = std::env::temp_dir().join(format!("nnn-lab-lesson-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("nnn-lesson.yaml");
    std::fs::write(&path, text).unwrap();
    let mut src = lab::open(path.to_str().unwrap(), None).expect("scenario loads");
    let run = lesson::start(&src, "web-federation").expect("lesson");
    assert_eq!(run.kind, "StatefulSet");
    let s = export::snapshot(src.world());
    let mut app = App::new(s.source.clone(), UiConfig::default());
    app.update(AppEvent::Resize(120, 40));
    app.update(AppEvent::Source(SourceEvent::Lab(src.status())));
    let mut applied = 0;
    for e in app.start_lesson(run) {
        if let Effect::Command(SourceCommand::Lab(c)) = e
            && let LabControl::Fault { target, .. } = &c
        {
            assert_eq!(
                target.as_ref().map(|t| t.kind.as_str()),
                Some("StatefulSet")
            );
            src.control(&c)
                .expect("the lab applies it to the StatefulSet");
            applied += 1;
        }
    }
    assert_eq!(applied, 1);
    src.world_mut().advance(Duration::from_secs(180));
    let c = chains(src.world());
    assert!(has(&of(&c, "StatefulSet/web"), Code::KVC401), "{c:#?}");
    let _ = std::fs::remove_dir_all(dir);
}

/// README "Keys" `b`: a break acts on the selected row's workload, a bare pod included (its
/// chain names no owner; the TUI fell back to the lab's default target, so a bare pod's chain
/// could not be broken from its row). The menu names the pod and the fault is sent for it.
#[test]
fn the_break_menu_on_a_bare_pods_row_acts_on_that_pod() {
    use std::sync::Arc;

    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use kvchain::source::{FaultTarget, LabControl, SourceCommand, SourceEvent};
    use kvchain::ui::app::{App, AppEvent, Effect};
    use kvchain::ui::config::UiConfig;
    use kvchain::ui::testing::{healthy_chain, lab_snapshot, lab_status};

    let mut app = App::new(lab_snapshot("default").source, UiConfig::default());
    app.update(AppEvent::Resize(160, 45));
    app.update(AppEvent::Source(SourceEvent::Lab(lab_status())));
    let chains = vec![
        healthy_chain("shop", Some("checkout"), "checkout-1"),
        healthy_chain("shop", None, "tool"),
    ];
    app.apply(Arc::new(lab_snapshot("default")), chains);
    let all = app.chains.clone();
    let row = (0..app.tree.rows.len())
        .find(|i| {
            app.tree.select(*i, &all);
            app.selected_chain().is_some_and(|c| &*c.pod == "tool")
        })
        .expect("the bare pod's row");
    app.tree.select(row, &all);
    let tool = FaultTarget {
        kind: "Pod".into(),
        namespace: "shop".into(),
        name: "tool".into(),
    };
    assert_eq!(app.fault_target(), Some(tool.clone()));
    let key =
        |app: &mut App, code| app.update(AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    key(&mut app, KeyCode::Char('b'));
    // The testing status's first fault is applied already (a repair); the second is a break.
    key(&mut app, KeyCode::Char('j'));
    let sent: Vec<Option<FaultTarget>> = (key(&mut app, KeyCode::Enter).into_iter())
        .filter_map(|e| match e {
            Effect::Command(SourceCommand::Lab(LabControl::Fault { target, .. })) => Some(target),
            _ => None,
        })
        .collect();
    assert_eq!(sent, [Some(tool)]);
}

/// The Deployment's own case, now that the catalogue's title no longer says "(rolls out)" of
/// every kind: the applied and repaired messages say its controller rolls out new pods.
#[test]
fn remove_pod_label_on_a_deployment_says_it_rolls_out() {
    let mut w = World::new(kvchain::source::lab::load("default").unwrap());
    w.advance(Duration::from_secs(60));
    let applied = faults::apply(&mut w, "remove-pod-label").unwrap();
    assert!(
        applied.contains("Deployment shop/checkout rolls out new pods"),
        "{applied}"
    );
    w.advance(Duration::from_secs(120));
    let repaired = faults::repair(&mut w, "remove-pod-label").unwrap();
    assert!(
        repaired.contains("after 2m of lab time — Deployment shop/checkout rolls out new pods"),
        "{repaired}"
    );
    // Paused (`kubectl rollout pause`): the template change rolls nothing out until resumed.
    w.set_paused("shop", "checkout", true).unwrap();
    let applied = faults::apply(&mut w, "remove-pod-label").unwrap();
    assert!(
        applied.contains("is paused: it rolls out nothing until resumed"),
        "{applied}"
    );
}

/// Faults whose change serves more than their target say so in the break menu (noticed in
/// audit NNN-lab's walkthrough: `disable-rotation` read "on Deployment shop/checkout"): the
/// driver's rotation flag is the cluster's (FACTS §4: no per-volume rotation attribute), a
/// vault's firewall answers every chain reading that vault. A fault on an object the target
/// only uses names that object (audit SSS-time: `sa-client-id-mismatch` read "on Deployment
/// shop/checkout" while it changed the ServiceAccount every pod running as it reads); one on
/// the target's own template names only its target.
#[test]
fn faults_reaching_past_their_target_say_what_they_reach() {
    let mut src = kvchain::source::lab::open("default", None).expect("built-in scenario");
    for id in [
        "disable-rotation",
        "vault-firewall",
        "fic-subject-typo",
        "sa-client-id-mismatch",
        "wrong-role",
        "delete-object",
        "spc-wrong-tenant",
        "remove-pod-label",
    ] {
        faults::apply(src.world_mut(), id).expect("the fault applies");
    }
    let infos = faults::infos(src.world());
    let reach = |id: &str| {
        let f = infos
            .iter()
            .find(|f| f.id == id)
            .expect("a catalogued fault");
        assert!(f.active, "{id} applied");
        f.reach.clone()
    };
    assert_eq!(
        reach("disable-rotation").as_deref(),
        Some("the CSI driver: every chain in the cluster")
    );
    assert_eq!(
        reach("vault-firewall").as_deref(),
        Some("Key Vault kv-shop-lab: every chain reading it")
    );
    assert_eq!(
        reach("fic-subject-typo").as_deref(),
        Some("the federated credentials of managed identity id-checkout: every pod it serves")
    );
    assert_eq!(
        reach("sa-client-id-mismatch").as_deref(),
        Some("ServiceAccount shop/checkout: every pod running as it")
    );
    assert_eq!(
        reach("wrong-role").as_deref(),
        Some(
            "the roles of id-checkout on Key Vault kv-shop-lab: every chain reading it as id-checkout"
        )
    );
    assert_eq!(
        reach("delete-object").as_deref(),
        Some("secret checkout-db-password in Key Vault kv-shop-lab: every chain reading it")
    );
    assert_eq!(
        reach("spc-wrong-tenant").as_deref(),
        Some("SecretProviderClass shop/checkout-kv: every pod mounting it")
    );
    assert_eq!(reach("remove-pod-label"), None);
}
