//! Audit OOO-left: leftovers earlier audits named but did not fix, each checked against the
//! documented behaviour (FACTS, the Kubernetes docs, the README).

use crate::exec_support::Exec;
use crate::live_actions::{start_on, verify_busybox};
use crate::live_support::*;
use crate::nnn_live_verify_volumes::world_with_secret_volume;
use serde_json::json;

use std::path::PathBuf;
use std::time::Duration;

use kvchain::chain::restart_plan::RestartPlan;
use kvchain::chain::testkit as tk;
use kvchain::chain::{self, Code, Finding, LinkKind, Severity};
use kvchain::snapshot::{ContainerStateObs, PodObs, Snapshot};
use kvchain::source::lab::world::World;
use kvchain::source::lab::{export, scenario};

use std::sync::Arc;

use kvchain::snapshot::{ServiceAccountObs, SourceKind};
use kvchain::ui::app::{App, AppEvent};
use kvchain::ui::config::UiConfig;
use kvchain::ui::testing::{self, lab_snapshot};

use crate::ui_no_data::{tree_text, type_keys};

use kvchain::source::SourceEvent;
use kvchain::source::lab::faults;
use kvchain::ui::views;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// A value the renamed file held when its container started: never shown either.
const BEFORE: &str = "CANARY-ooo-left-items-before-5c1a";

/// Leftover 1: A Secret volume's `items` write key `username` to file `user.txt` (the secret volume
/// plugin's payload: "the key is projected to the path", Kubernetes docs, Secrets / "Projection
/// of Secret keys to specific paths"). The live snapshot keeps those paths as the lab's world
/// does, so the live verify judges such files as the lab's does (`action::copy_verdict`):
/// the whole volume's `user.txt` follows the Secret, a subPath copy of it is stale once the
/// Secret changed (FACTS §4). No value shows.
#[tokio::test]
async fn live_verify_judges_a_secret_volume_mounted_through_items() {
    // The subPath names the item's path, not its key.
    let api = world_with_secret_volume(
        json!({"secretName": "foosecret", "items": [{"key": "username", "path": "user.txt"}]}),
        "user.txt",
    );
    let mut run = start_on(
        &api,
        None,
        Some(|cmd| match cmd {
            [c, p] if c == "cat" && p == "/mnt/secrets-store/secretalias" => {
                Exec::Prints(CANARY.as_bytes().to_vec())
            }
            [c, p] if c == "cat" && p == "/etc/synced/user.txt" => {
                Exec::Prints(CANARY.as_bytes().to_vec())
            }
            [c, p] if c == "cat" && p == "/etc/app/username" => {
                Exec::Prints(BEFORE.as_bytes().to_vec())
            }
            [c, p] if c == "cat" && p == "/proc/1/environ" => Exec::Prints(b"PATH=/bin\0".to_vec()),
            _ => Exec::Fails("command terminated with non-zero exit code: exit code 1"),
        }),
    )
    .await;
    let out = run.act(verify_busybox()).await;
    assert!(out.ok, "{}", out.message);
    let lines: Vec<&str> = out.message.lines().collect();
    assert!(
        lines.contains(&"file /etc/synced/user.txt: matches Secret foosecret (key username)"),
        "{}",
        out.message
    );
    assert!(
        lines.contains(&"subPath /etc/app/username: stale: Secret foosecret (key username) changed after the container started, and a subPath copy never sees updates (restart needed)"),
        "{}",
        out.message
    );
    assert!(!out.message.contains("not verified"), "{}", out.message);
    for value in [CANARY, BEFORE] {
        assert!(!out.message.contains(value), "{}", out.message);
    }
    run.assert_no_canary();
}

/// The Job fixture's canaries: its vault value and the one a rotation writes after the run.
const JOB_CANARIES: [&str; 2] = ["CANARY-ooo-left-job-4b9e", "CANARY-ooo-left-rotated-71d0"];

fn job_world() -> World {
    job_world_with(|t| t)
}

fn job_pods(s: &Snapshot) -> Vec<&PodObs> {
    (s.pods.items.iter())
        .filter(|p| p.owners.iter().any(|o| o.kind == "Job"))
        .collect()
}

/// The job fixture's text, with `edit` applied, as a world.
fn job_world_with(edit: impl Fn(String) -> String) -> World {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lab/ooo-left-job.yaml");
    let text = edit(std::fs::read_to_string(path).expect("fixture"));
    let sc = scenario::parse("ooo-left-job", &PathBuf::from("ooo-left-job.yaml"), &text)
        .expect("fixture loads");
    World::new(sc)
}

/// Leftover 2: A Job's pod runs to completion (Kubernetes, Jobs: "the Job tracks the successful
/// completions"; the pod's phase is Succeeded, "all containers in the Pod have terminated in
/// success"). The lab's Job pods did run for ever, so README's "a finished Job's pod" (refused
/// by `R`) and a finished pod's history (README: "A retired pod — finished (a Job's) … mounts
/// and retries nothing again, and the driver's rotation skips it") could not be met in the
/// lab. Once finished: its containers terminated with exit code 0, no finding flags it (a
/// rotation after it ended leaves no stale env: it runs nothing), no restart is offered, and
/// the complete Job makes no pod again, even once its pod is deleted.
#[test]
fn a_lab_jobs_pod_completes_and_is_neither_flagged_nor_restarted() {
    let mut w = job_world();
    w.advance(Duration::from_secs(60));
    let snap = export::snapshot(&w);
    let pods = job_pods(&snap);
    assert_eq!(pods.len(), 1, "{pods:#?}");
    assert_eq!(pods[0].phase, "Running", "it runs first");
    let name = pods[0].name.to_string();

    // Past the run, and past a rotation (at 12m, polled at 14m) that would leave a running
    // reader's env stale.
    w.advance(Duration::from_secs(15 * 60));
    let snap = export::snapshot(&w);
    let pods = job_pods(&snap);
    assert_eq!(
        pods.len(),
        1,
        "the complete Job made no other pod: {pods:#?}"
    );
    let pod = pods[0];
    assert_eq!(
        (pod.name.as_str(), pod.phase.as_str()),
        (name.as_str(), "Succeeded")
    );
    for c in &pod.containers {
        assert_eq!(
            c.state,
            ContainerStateObs::Terminated {
                reason: "Completed".into(),
                exit_code: 0
            },
            "{c:#?}"
        );
    }
    let chains = chain::diagnose(&snap);
    let flagged: Vec<_> = (chains.iter().flat_map(|c| c.findings()))
        .filter(|f| f.severity > Severity::Info)
        .collect();
    assert!(flagged.is_empty(), "{flagged:#?}");
    assert!(
        !(chains.iter().flat_map(|c| c.findings())).any(|f| f.code == Code::KVC901),
        "a finished pod holds no stale copy: {chains:#?}"
    );
    let plan = RestartPlan::for_pod(&snap, pod);
    assert!(
        matches!(&plan, RestartPlan::Refused { why, .. } if why.contains("has finished (Succeeded)")),
        "{plan:?}"
    );
    let refused = w
        .restart_pod("demo", &name)
        .expect_err("nothing to restart");
    assert!(refused.contains("has finished"), "{refused}");

    // Deleted, it is not run again: the Job has its completion.
    w.delete_pod("demo", &name).expect("the pod is there");
    w.advance(Duration::from_secs(120));
    assert!(job_pods(&export::snapshot(&w)).is_empty());

    let text = format!("{chains:?}");
    for canary in JOB_CANARIES {
        assert!(!text.contains(canary));
    }
}

/// A lab snapshot over the test kit's demo chains (namespaces `payments`…) whose namespaces
/// `payments` and `quiet` hold their `default` ServiceAccount, as every namespace does.
fn namespaced_app(edit: impl FnOnce(&mut Snapshot)) -> App {
    let mut snap = lab_snapshot("default");
    for ns in ["payments", "quiet"] {
        snap.service_accounts.items.push(ServiceAccountObs {
            namespace: ns.into(),
            name: "default".into(),
            ..Default::default()
        });
    }
    edit(&mut snap);
    let mut app = App::new(snap.source.clone(), UiConfig::default());
    app.update(AppEvent::Resize(120, 30));
    app.apply(Arc::new(snap), testing::demo_chains());
    app
}

fn status(app: &App) -> String {
    app.message
        .as_ref()
        .map(|(t, _)| t.clone())
        .unwrap_or_default()
}

/// Leftover 3: `:ns NAME` over no chain told a namespace that does not exist (a typo) from one without
/// chains by nothing. Kubernetes makes a `default` ServiceAccount in every namespace
/// (Kubernetes docs, "Service Accounts": "every namespace has a default ServiceAccount"), so
/// where ServiceAccounts were read a namespace with none does not exist; where they were not,
/// or the source reads one namespace only, whether it exists is unknown, said so (README:
/// unknown is not absent).
#[test]
fn ns_tells_a_missing_namespace_from_an_empty_one_and_from_one_not_read() {
    let mut app = namespaced_app(|_| {});
    type_keys(&mut app, ":ns quiet");
    assert_eq!(status(&app), "no chains in namespace quiet");
    assert!(
        tree_text(&mut app)
            .contains("No chains in namespace quiet (:ns with no name or esc shows all)."),
        "{}",
        tree_text(&mut app)
    );

    type_keys(&mut app, ":ns nosuch");
    assert_eq!(
        status(&app),
        "namespace nosuch does not exist (namespaces: payments, quiet)"
    );
    let pane = tree_text(&mut app);
    assert!(
        pane.contains("Namespace nosuch does not exist (:ns with no name or esc shows all)."),
        "{pane}"
    );
    assert!(!pane.contains("No chains in namespace nosuch"), "{pane}");

    // ServiceAccounts there could not be read: unknown, not absent.
    let mut app = namespaced_app(|s| {
        s.source.kind = SourceKind::Live;
        (s.service_accounts.gaps.namespaces).insert("locked".into(), "forbidden".into());
    });
    type_keys(&mut app, ":ns locked");
    assert_eq!(
        status(&app),
        "no chains seen in namespace locked; whether it exists is unknown: its ServiceAccounts could not be read: forbidden"
    );
    assert!(!tree_text(&mut app).contains("does not exist"));

    // A source that reads one namespace (`-n payments`) knows nothing of another.
    let mut app = namespaced_app(|s| {
        s.source.kind = SourceKind::Live;
        s.source.only_namespace = Some("payments".into());
    });
    type_keys(&mut app, ":ns nosuch");
    assert_eq!(
        status(&app),
        "no chains seen in namespace nosuch; whether it exists is unknown: only namespace payments is read"
    );
}

/// The status bar's rows as drawn, trimmed and joined by one space.
fn status_text(app: &mut App) -> String {
    let mut t = Terminal::new(TestBackend::new(app.size.width, app.size.height)).unwrap();
    t.draw(|f| views::draw(f, app)).unwrap();
    let area = app.areas().status;
    let buf = t.backend().buffer();
    let rows: Vec<String> = (area.y..area.y + area.height)
        .map(|y| {
            let row: String = (area.x..area.x + area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect();
            row.trim().to_string()
        })
        .collect();
    rows.join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Leftover 4: A lab fault's title and what the owner's controller does with it (README `b`: "the
/// status line says what the owner's controller does with a template fault (a StatefulSet from
/// its highest ordinal …)") were cut at the terminal's edge on an 80- or 100-column screen: the
/// bar was one line. It takes the lines the message needs, so the whole of it shows, the
/// fault's title first.
#[test]
fn a_long_fault_message_is_never_cut_on_a_narrow_status_bar() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lab/nnn-owner-kinds.yaml");
    let text = std::fs::read_to_string(path).expect("fixture");
    let sc = scenario::parse(
        "nnn-owner-kinds",
        &PathBuf::from("nnn-owner-kinds.yaml"),
        &text,
    )
    .expect("fixture loads");
    let mut w = World::new(sc);
    w.advance(Duration::from_secs(60));
    let web = (
        "StatefulSet".to_string(),
        "demo".to_string(),
        "web".to_string(),
    );
    let said = faults::apply_to(&mut w, "remove-pod-label", &web).expect("applied");
    assert!(
        said.starts_with("applied: Remove the pod template's label azure.workload.identity/use — StatefulSet demo/web"),
        "{said}"
    );
    for (width, height) in [(80, 24), (100, 30)] {
        let mut app = namespaced_app(|_| {});
        app.update(AppEvent::Resize(width, height));
        app.update(AppEvent::Source(SourceEvent::Status(said.clone())));
        let bar = status_text(&mut app);
        let whole = said.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(bar.contains(&whole), "{width} columns: {bar}");
        // The rest of the screen keeps its place: the bar grew, it did not overdraw.
        assert!(app.areas().status.height > 1, "{width} columns");
    }
}

/// Leftover 5: Key Vault's RBAC deny (innererror `ForbiddenByRbac`, FACTS §3's message) prints the
/// resource as Azure's authorization decision writes it, lower-cased whole:
/// `Resource: '/subscriptions/…/resourcegroups/test-piyush1-rg/providers/microsoft.keyvault/vaults/test-piyush-kv-1011/secrets/…'`
/// (the message FACTS cites, piyushsachdeva/Terraform_AKS#2). The lab printed ARM's casing
/// (`resourceGroups`, `Microsoft.KeyVault`, the group's own capitals).
#[test]
fn the_labs_rbac_deny_names_the_resource_lower_cased_as_key_vault_does() {
    let mut w = job_world_with(|t| {
        let ra = t
            .find("apiVersion: lab.kvchain.dev/v1\nkind: RoleAssignment")
            .unwrap();
        let end = ra + t[ra..].find("---\n").unwrap() + 4;
        let t = format!("{}{}", &t[..ra], &t[end..]);
        t.replace(
            "  tenantID: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b\n  secrets:",
            "  tenantID: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b\n  resourceGroup: RG-Vaults\n  secrets:",
        )
    });
    w.advance(Duration::from_secs(60));
    let snap = export::snapshot(&w);
    let denied = (snap.events.items.iter())
        .find(|e| e.reason == "FailedMount" && e.message.contains("ForbiddenByRbac"))
        .unwrap_or_else(|| panic!("no RBAC deny: {:#?}", snap.events.items));
    let m = &denied.message;
    let start = m.find("Resource: '").expect("a Resource line") + "Resource: '".len();
    let resource = &m[start..start + m[start..].find('\'').unwrap()];
    assert!(resource.starts_with("/subscriptions/"), "{resource}");
    assert!(
        resource.ends_with(
            "/resourcegroups/rg-vaults/providers/microsoft.keyvault/vaults/kv-ooo/secrets/db-password"
        ),
        "{resource}"
    );
    assert_eq!(resource, resource.to_lowercase());
    for canary in JOB_CANARIES {
        assert!(!m.contains(canary));
    }
}

/// The items fixture, rotating vault secret `rotated` at 3m, run to 7m (the 4m poll rewrote
/// the synced Secret).
fn items_world(rotated: &str) -> World {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lab/ooo-left-items.yaml");
    let text = std::fs::read_to_string(path)
        .expect("fixture")
        .replace("ROTATED", rotated);
    let sc = scenario::parse(
        "ooo-left-items",
        &PathBuf::from("ooo-left-items.yaml"),
        &text,
    )
    .expect("fixture loads");
    let mut w = World::new(sc);
    w.advance(Duration::from_secs(7 * 60));
    w
}

/// Leftover 1, the rules' side: with `items` paths recorded, KVC901 judges a subPath copy of
/// a Secret volume by the key its file holds (`items[].path` → `items[].key`). Without them
/// it judged all the Secret's keys: a rotation of key `password` flagged the copy of key
/// `username` as holding "the old value" (an error on a pod that holds the Secret's value:
/// a healthy pod flagged). It is information now, naming the key that did not change; a
/// rotation of `username` itself makes the copy stale (FACTS §4), an error.
#[test]
fn a_sub_path_copy_through_items_is_judged_by_its_own_key() {
    let other = chain::diagnose(&export::snapshot(&items_world("db-password")));
    let stale: Vec<_> = (other.iter().flat_map(|c| c.findings()))
        .filter(|f| f.code == Code::KVC901)
        .collect();
    for f in &stale {
        assert_eq!(
            f.severity,
            Severity::Info,
            "only key password changed: {f:#?}"
        );
        assert!(
            f.message.contains("key username holds the value it held"),
            "{}",
            f.message
        );
    }

    let own = chain::diagnose(&export::snapshot(&items_world("db-user")));
    let stale: Vec<_> = (own.iter().flat_map(|c| c.findings()))
        .filter(|f| f.code == Code::KVC901)
        .collect();
    assert!(
        stale.iter().any(|f| f.severity == Severity::Error
            && f.message.contains("file /etc/app/user")
            && f.message.contains("holds the old value")),
        "{own:#?}"
    );
    let text = format!("{other:?}{own:?}");
    for canary in [
        "CANARY-ooo-left-user-2f81",
        "CANARY-ooo-left-pass-9c07",
        "CANARY-ooo-left-rotated-5e3d",
    ] {
        assert!(!text.contains(canary));
    }
}

/// The test kit's healthy chain moved to pod identity (`usePodIdentity: "true"`, no clientID):
/// its pod `labels` added, and, when `failing`, its mount failing with NMI's words.
fn pod_identity_world(binding: Option<&str>, failing: bool) -> Snapshot {
    let mut s = tk::healthy();
    let spc = (s.spcs.items.iter_mut())
        .find(|x| x.name == tk::spc_name(tk::APP))
        .expect("the app's SPC");
    spc.parameters.remove("clientID");
    spc.parameters
        .insert("usePodIdentity".into(), "true".into());
    tk::reparse(spc);
    if let Some(b) = binding {
        let pod = tk::pod_mut(&mut s, tk::APP);
        let mut labels = (*pod.labels).clone();
        labels.insert("aadpodidbinding".into(), b.into());
        pod.labels = labels.into();
    }
    if failing {
        tk::unmount(&mut s, tk::APP);
        let pod = tk::pod_name(tk::APP, 0);
        s.events.items.push(tk::failed_mount(
            tk::NS,
            &pod,
            "secrets-store-inline",
            &format!(
                "failed to get authorizer for keyvault client: nmi response failed with status code: 404, response body: getting assigned identities for pod {}/{pod} in CREATED state failed after 16 attempts, retry duration [5]s, error: <nil>. Check MIC pod logs for identity assignment errors",
                tk::NS
            ),
        ));
    }
    s
}

/// Leftover 6: with `usePodIdentity: "true"` the provider asks aad-pod-identity's NMI for the
/// pod's token (FACTS §5: pod identity is one of the provider's identity modes), and NMI
/// answers only for a pod an AzureIdentityBinding selects by its `aadpodidbinding` label
/// (aad-pod-identity: "no AzureAssignedIdentity found for pod", "getting assigned identities
/// for pod … in CREATED state failed"). A pod without it fails to mount: the cause is named on
/// the Identity link, on the mode's own finding (KVC304), as an error whose evidence is NMI's
/// event — not a generic mount failure (KVC701) beside a mere deprecation warning. Its fix is
/// the move to workload identity (which needs no binding), or the label.
#[test]
fn a_pod_identity_pod_without_its_binding_label_is_told_on_the_identity_link() {
    let chains = chain::diagnose(&pod_identity_world(None, true));
    let all: Vec<&Finding> = chains.iter().flat_map(|c| c.findings()).collect();
    assert!(
        !all.iter().any(|f| f.code == Code::KVC701),
        "no generic mount failure: {all:#?}"
    );
    let f = all
        .iter()
        .find(|f| f.code == Code::KVC304)
        .unwrap_or_else(|| panic!("{all:#?}"));
    assert_eq!(f.link, LinkKind::Identity);
    assert_eq!(f.severity, Severity::Error, "{f:#?}");
    assert!(
        f.message.contains("no aadpodidbinding label"),
        "{}",
        f.message
    );
    assert!(
        f.evidence
            .iter()
            .any(|e| e.contains("AzureAssignedIdentity")
                || e.contains("getting assigned identities for pod")),
        "NMI's event is its evidence: {f:#?}"
    );
    assert!(
        f.fix.contains("workload-identity-migrate") || f.fix.contains("usePodIdentity"),
        "{}",
        f.fix
    );
    assert!(f.fix.contains("aadpodidbinding"), "{}", f.fix);

    // Labelled and mounted: pod identity is deprecated, nothing more.
    let chains = chain::diagnose(&pod_identity_world(Some("web-binding"), false));
    let f = (chains.iter().flat_map(|c| c.findings()))
        .find(|f| f.code == Code::KVC304)
        .expect("KVC304");
    assert_eq!(f.severity, Severity::Warning, "{f:#?}");
    assert!(
        !f.message.contains("aadpodidbinding label"),
        "{}",
        f.message
    );
}
