//! Audit RRR-faults: the trainer faults of docs/scenarios.md ("Trainer faults") once more,
//! against what the controllers, the driver and the API server do:
//! - `remove-pod-label` on an OnDelete StatefulSet or DaemonSet, or a partitioned
//!   StatefulSet: only a pod made afterwards has the new template (Kubernetes docs,
//!   StatefulSet and DaemonSet "Update strategies"), so the old pods keep the label. KVC201
//!   names the pods that lack it, and its fix labels the template first, then deletes only
//!   those (deleted first, or all of them, a pod is made again from the broken template or a
//!   fine one is replaced for nothing).
//!
//! The scenario is tests/fixtures/lab/nnn-owner-kinds.yaml (StatefulSet `web`, DaemonSet
//! `agent`, …), edited per test; its vault value is a canary no output shows.

use std::sync::Arc;
use std::time::Duration;

use kvchain::chain::engine::Feed;
use kvchain::chain::{Chain, Code, Finding, diagnose};
use kvchain::source::lab::world::World;
use kvchain::source::lab::{export, faults};

use super::lab_diagnosis::describe;
use super::nnn_trainer::{key, pods, world_with};

const CANARY: &str = "CANARY-nnn-owner-7c31";

/// The owner-kinds world with `web` and `agent` under `updateStrategy: OnDelete` and
/// `nodes` Linux nodes in all (the agent DaemonSet runs a pod on each).
fn on_delete(nodes: usize) -> World {
    world_with(|t| {
        let mut t = t
            .replace(
                "  serviceName: web\n",
                "  serviceName: web\n  updateStrategy: {type: OnDelete}\n",
            )
            .replace(
                "  selector: {matchLabels: {app: agent}}\n",
                "  selector: {matchLabels: {app: agent}}\n  updateStrategy: {type: OnDelete}\n",
            );
        for i in 1..nodes {
            t.push_str(&format!(
                "---\napiVersion: v1\nkind: Node\nmetadata: {{name: aks-nodepool1-12345678-vmss00000{i}, labels: {{kubernetes.io/os: linux}}}}\n"
            ));
        }
        t
    })
}

/// The one KVC201 finding of `owner`'s chains (`StatefulSet/web`), after checking that no
/// finding shows the canary.
fn kvc201(chains: &[Chain], owner: &str) -> Option<Finding> {
    assert!(!describe(chains).contains(CANARY), "a secret value");
    let found: Vec<&Finding> = (chains.iter().flat_map(|c| c.findings()))
        .filter(|f| f.code == Code::KVC201 && &*f.resource == owner)
        .collect();
    let first = found.first().map(|f| (*f).clone());
    for f in &found {
        assert_eq!(
            f.message,
            first.as_ref().unwrap().message,
            "one message per set"
        );
        assert_eq!(f.fix, first.as_ref().unwrap().fix, "one fix per set");
    }
    first
}

/// The pods the fix's `kubectl delete pod NAME… -n demo` deletes, after checking that the
/// template is labelled before it (`&&`: the patch first).
fn deleted_by(fix: &str) -> Vec<String> {
    let (command, _) = fix.split_once("  # ").unwrap_or((fix, ""));
    let patch = command
        .find("kubectl patch ")
        .expect("the template is patched");
    let delete = command.find(" && kubectl delete pod ");
    let Some(delete) = delete else {
        return Vec::new();
    };
    assert!(patch < delete, "the template is labelled first: {fix}");
    let args = &command[delete + " && kubectl delete pod ".len()..];
    let (names, _) = args.split_once(" -n demo").expect("the pods' namespace");
    names.split(' ').map(str::to_string).collect()
}

/// QQQ-faults' stacked fixture (the docs' complete example, an Ingress and a bare reader of
/// `api-db`) run through `steps`, each (lab seconds, fault, applied or else repaired), then to
/// lab second `end`.
fn stacked_through(steps: &[(u64, &str, bool)], end: u64) -> World {
    use super::qqq_faults::{run_to, stacked};
    let mut w = stacked();
    for &(at, id, apply) in steps {
        run_to(&mut w, at);
        let done = match apply {
            true => faults::apply(&mut w, id),
            false => faults::repair(&mut w, id),
        };
        assert!(!done.unwrap().contains(CANARY));
    }
    run_to(&mut w, end);
    w
}

/// FACTS §6 (the webhook mutates at CREATE only) and Kubernetes' update strategies: after
/// `remove-pod-label` on an OnDelete StatefulSet or DaemonSet, only the pod deleted afterwards
/// comes back without the label. KVC201 said "pods of StatefulSet/web lack label" and its fix
/// deleted every pod of the set; it names the one that lacks it, says the other carries it,
/// and its fix labels the template, then deletes that pod alone. Pasted (the label back on
/// the template, the named pods deleted), no KVC201 is left and the other pod was not
/// replaced.
#[test]
fn kvc201_on_an_on_delete_set_names_and_recreates_only_the_pods_that_lack_the_label() {
    for (kind, name, prefix) in [
        ("StatefulSet", "web", "web-"),
        ("DaemonSet", "agent", "agent-"),
    ] {
        let owner = format!("{kind}/{name}");
        let mut w = on_delete(2);
        let before = pods(&w, prefix);
        assert_eq!(before.len(), 2, "{kind}: two pods");
        faults::apply_to(&mut w, "remove-pod-label", &key(kind, name)).unwrap();
        w.advance(Duration::from_secs(60));
        assert!(kvc201(&diagnose(&export::snapshot(&w)), &owner).is_none());
        // The first pod deleted: it comes back from the unlabelled template.
        let (gone, _) = &before[0];
        let (kept, kept_uid) = &before[1];
        w.delete_pod("demo", gone).unwrap();
        w.advance(Duration::from_secs(120));
        let now = pods(&w, prefix);
        let remade: Vec<&String> = (now.iter())
            .map(|(n, _)| n)
            .filter(|n| *n != kept)
            .collect();
        assert_eq!(remade.len(), 1, "{kind}: {now:?}");
        let remade = remade[0].clone();

        let f = kvc201(&diagnose(&export::snapshot(&w)), &owner)
            .unwrap_or_else(|| panic!("{kind}: the remade pod lacks the label"));
        assert!(
            f.message.starts_with(&format!(
                "pod {remade} of {owner} lacks label azure.workload.identity/use: \"true\" ({kept} carries it)"
            )),
            "{kind}: {}",
            f.message
        );
        assert_eq!(
            deleted_by(&f.fix),
            std::slice::from_ref(&remade),
            "{kind}: {}",
            f.fix
        );

        // Pasted: the patch puts the label back on the template (as the repair does), then
        // the named pods are deleted.
        faults::repair(&mut w, "remove-pod-label").unwrap();
        for p in deleted_by(&f.fix) {
            w.delete_pod("demo", &p).unwrap();
        }
        w.advance(Duration::from_secs(180));
        let chains = diagnose(&export::snapshot(&w));
        assert!(
            kvc201(&chains, &owner).is_none(),
            "{kind}: {}",
            describe(&chains)
        );
        let after = pods(&w, prefix);
        assert!(
            after.contains(&(kept.clone(), kept_uid.clone())),
            "{kind}: {kept} was replaced: {after:?}"
        );
    }
}

/// Kubernetes docs, StatefulSet "Partitioned rolling updates": a template change replaces
/// only the ordinals at or above the partition. After `remove-pod-label` under partition 1,
/// web-1 lacks the label and web-0 keeps it: KVC201 names web-1 (it said "pods of
/// StatefulSet/web lack label"), and the partition's note says web-0 "keeps" (it said "web-0
/// keep").
#[test]
fn kvc201_under_a_partition_names_the_replaced_pod() {
    let mut w = world_with(|t| {
        t.replace(
            "  serviceName: web\n",
            "  serviceName: web\n  updateStrategy: {rollingUpdate: {partition: 1}}\n",
        )
    });
    faults::apply_to(&mut w, "remove-pod-label", &key("StatefulSet", "web")).unwrap();
    w.advance(Duration::from_secs(300));
    let f = kvc201(&diagnose(&export::snapshot(&w)), "StatefulSet/web").expect("web-1 lacks it");
    assert!(
        f.message.starts_with(
            "pod web-1 of StatefulSet/web lacks label azure.workload.identity/use: \"true\" (web-0 carries it)"
        ),
        "{}",
        f.message
    );
    assert!(
        f.fix.contains(
            "reaches only its pods with ordinal 1 or above; web-0 keeps the old template"
        ),
        "{}",
        f.fix
    );
    assert!(
        deleted_by(&f.fix).is_empty(),
        "the rollout replaces web-1: {}",
        f.fix
    );
}

/// The TUI's incremental engine publishes what a full diagnosis gives: a DaemonSet's pod
/// made or gone changes what its other pods' KVC201 names (the pods that lack the label, the
/// ones that carry it); it reaches their chains through the SecretProviderClass they mount.
#[test]
fn a_daemonset_pod_remade_reaches_its_siblings_kvc201() {
    let mut w = on_delete(3);
    let mut feed = Feed::new(None);
    let mut check = |w: &World, when: &str| {
        let s = Arc::new(export::snapshot(w));
        feed.update(s.clone());
        let published: Vec<Chain> = feed.chains().iter().map(|c| (**c).clone()).collect();
        assert_eq!(
            describe(&published),
            describe(&diagnose(&s)),
            "after {when}: incremental and full differ"
        );
        for (a, b) in published.iter().zip(&diagnose(&s)) {
            assert_eq!(a, b, "after {when}");
        }
    };
    check(&w, "start");
    faults::apply_to(&mut w, "remove-pod-label", &key("DaemonSet", "agent")).unwrap();
    let first = pods(&w, "agent-");
    assert_eq!(first.len(), 3, "one pod per node: {first:?}");
    for (i, (gone, _)) in first.iter().take(2).enumerate() {
        w.delete_pod("demo", gone).unwrap();
        for step in 0..8 {
            w.advance(Duration::from_secs(15));
            check(&w, &format!("delete {i}, step {step}"));
        }
    }
    let f = kvc201(&diagnose(&export::snapshot(&w)), "DaemonSet/agent").expect("two lack it");
    assert!(f.message.starts_with("pods agent-"), "{}", f.message);
    assert!(
        f.message.contains(&format!("({} carries it)", first[2].0)),
        "{}",
        f.message
    );
}

/// Over ten pods of an OnDelete DaemonSet lack the label (twelve nodes, one pod of the
/// snapshot keeps it): the fix selects them when pasted, among the set's pods, with
/// `-l 'azure.workload.identity/use!=true'` (a selector `!=` also matches a pod without the
/// key: Kubernetes docs, "Labels and Selectors"), after the patch.
#[test]
fn over_ten_unlabelled_pods_are_selected_when_pasted() {
    let w = on_delete(12);
    let mut s = export::snapshot(&w);
    let mut agents: Vec<&mut kvchain::snapshot::PodObs> = (s.pods.items.iter_mut())
        .filter(|p| p.name.starts_with("agent-"))
        .collect();
    assert_eq!(agents.len(), 12, "one pod per node");
    let kept = agents[0].name.to_string();
    for p in agents.iter_mut().skip(1) {
        p.labels.remove("azure.workload.identity/use");
    }
    let f = kvc201(&diagnose(&s), "DaemonSet/agent").expect("eleven lack it");
    assert!(
        f.message.starts_with(&format!(
            "11 pods of DaemonSet/agent lack label azure.workload.identity/use: \"true\" ({kept} carries it)"
        )),
        "{}",
        f.message
    );
    let pasted = super::paste_kit::paste_kube(&f.fix, "", "agent-a agent-b", "");
    assert_eq!(
        pasted.called("kubectl"),
        [
            r#"kubectl [patch] [daemonset] [agent] [-n] [demo] [-p] [{"spec":{"template":{"metadata":{"labels":{"azure.workload.identity/use":"true"}}}}}]"#,
            r#"kubectl [get] [pods] [-n] [demo] [-l] [azure.workload.identity/use!=true] [-o] [jsonpath={.items[?(@.metadata.ownerReferences[0].name=="agent")].metadata.name}]"#,
            "kubectl [delete] [pod] [-n] [demo] [agent-a] [agent-b]",
        ],
        "{}",
        f.fix
    );
}

/// FACTS §5 (the provider parses `objects` before it asks for a token or reads the vault),
/// §11 (events are history only against a later success or once they stop recurring) and
/// docs/scenarios.md (faults stack; repairing one leaves the other): with `break-objects-yaml`
/// on top of a wrong tenant or a removed role, and the objects repaired at 5m, the chain read
/// the other fault as "blocked by Mount … (not met yet: the provider parses objects, KVC705,
/// …)" until the 6m poll, though the objects parse and the next attempt meets that fault
/// first. Between the repair and the poll it is the root cause; the last attempt's objects
/// failure is not shown as healthy (nothing has shown that yet) but as blocked by it.
#[test]
fn between_the_objects_repair_and_the_next_poll_the_fault_left_is_the_root_cause() {
    use super::qqq_faults::api_findings;
    use kvchain::chain::{LinkKind, Status};
    for (other, code, link) in [
        ("spc-wrong-tenant", Code::KVC404, LinkKind::Federation),
        ("remove-role-assignment", Code::KVC501, LinkKind::Access),
    ] {
        let objects = "break-objects-yaml";
        // To 5m30s: the 6m poll has not run.
        let w = stacked_through(
            &[
                (60, other, true),
                (120, objects, true),
                (300, objects, false),
            ],
            330,
        );
        let chains = diagnose(&export::snapshot(&w));
        let found = api_findings(&chains);
        let all = describe(&chains);
        assert!(!all.contains("blocked by Mount"), "{other}:\n{all}");
        let root: Vec<&&Finding> = (found.iter())
            .filter(|f| f.code == code && f.follows.is_none())
            .collect();
        assert!(!root.is_empty(), "{other}: {code} is the root cause\n{all}");
        for f in found.iter().filter(|f| f.code == Code::KVC705) {
            assert_eq!(f.follows, Some(link), "{other}: {}", f.message);
        }
        for c in chains.iter().filter(|c| c.pod.starts_with("api-")) {
            let mount = &c.links[LinkKind::Mount.index()];
            assert_ne!(
                mount.status,
                Status::Ok,
                "{other}: nothing showed the mount well"
            );
        }
    }
}

/// Kubernetes API reference (EphemeralContainer: added only through the pod's
/// `ephemeralcontainers` subresource) and the API server's validation: a Pod created with
/// `spec.ephemeralContainers` is refused ("spec.ephemeralContainers: Forbidden: cannot be set
/// on create"), and so is any pod template holding them ("ephemeral containers not allowed in
/// pod template"). The lab ran such a Pod as if created; it refuses the scenario now, naming the
/// file, the document, the object and the field, as `check -f` lists the manifest under Not
/// read.
#[test]
fn ephemeral_containers_in_a_manifest_are_refused_as_the_api_server_refuses_them() {
    use kvchain::source::lab::scenario;
    use std::path::PathBuf;
    let debugger = "    - {name: debugger, image: mcr.microsoft.com/azurelinux/busybox:1.36}\n";
    let text = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lab/nnn-owner-kinds.yaml"),
    )
    .unwrap();
    let pod = format!(
        "{}\n  ephemeralContainers:\n{debugger}",
        text.trim_end_matches('\n')
    );
    let set = text.replacen(
        "      volumes:\n",
        &format!("      ephemeralContainers:\n  {debugger}      volumes:\n"),
        1,
    );
    for (text, said) in [
        (
            pod,
            "nnn.yaml, document 11: Pod: spec.ephemeralContainers: Forbidden: cannot be set on create: the API server refuses Pod \"tool\"",
        ),
        (
            set,
            "nnn.yaml, document 8: StatefulSet: spec.template.spec.ephemeralContainers: Forbidden: ephemeral containers not allowed in pod template: the API server refuses StatefulSet \"web\"",
        ),
    ] {
        let refused = scenario::parse("nnn", &PathBuf::from("nnn.yaml"), &text)
            .map(|_| ())
            .expect_err("the API server refuses it");
        assert!(refused.to_string().starts_with(said), "{refused}");
        assert!(!refused.to_string().contains(CANARY), "{refused}");
    }

    let manifest = "apiVersion: v1\nkind: Pod\nmetadata: {name: tool, namespace: shop}\nspec:\n  containers:\n    - {name: app, image: busybox}\n  ephemeralContainers:\n    - {name: debugger, image: busybox}\n";
    // Beside a document that is read (with nothing read at all, check -f fails whole).
    let account = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: api, namespace: shop}\n";
    let (rc, r, _) = crate::manifest_run::check_docs(&[account, manifest]);
    let unread = r["unread"].to_string();
    assert!(
        unread.contains("Pod/tool")
            && unread.contains("spec.ephemeralContainers: Forbidden: cannot be set on create"),
        "{unread}"
    );
    assert_eq!(rc, 1, "an unread document fails the check");
}

/// docs/scenarios.md ("the repair puts the label back alone, so a Deployment's rollout returns
/// to the original template's ReplicaSet") and FACTS §6 (the webhook mutates at CREATE): once
/// `remove-pod-label` is repaired, the unlabelled pods are being deleted by the rollout and the
/// template carries the label. KVC201 still said "pods of Deployment/api lack label" with a fix
/// patching the label onto a template that has it; a pod being deleted starts nothing again,
/// so its missing label is history on the link, and no KVC201 stands.
#[test]
fn pods_the_rollout_deletes_after_the_label_repair_hold_no_kvc201() {
    use super::qqq_faults::{api_findings, run_to};
    use kvchain::chain::LinkKind;
    let mut w = stacked_through(&[(60, "remove-pod-label", true)], 360);
    let chains = diagnose(&export::snapshot(&w));
    assert!(
        api_findings(&chains).iter().any(|f| f.code == Code::KVC201),
        "the fault shows: {}",
        describe(&chains)
    );
    faults::repair(&mut w, "remove-pod-label").unwrap();
    run_to(&mut w, 370);
    let s = export::snapshot(&w);
    let deleting: Vec<&str> = (s.pods.items.iter())
        .filter(|p| p.name.starts_with("api-") && p.deleting)
        .filter(|p| !p.labels.contains_key("azure.workload.identity/use"))
        .map(|p| p.name.as_str())
        .collect();
    assert!(
        !deleting.is_empty(),
        "the rollout deletes the unlabelled pods"
    );
    let chains = diagnose(&s);
    let found = api_findings(&chains);
    assert!(
        !found.iter().any(|f| f.code == Code::KVC201),
        "{}",
        describe(&chains)
    );
    for c in chains.iter().filter(|c| deleting.contains(&c.pod.as_str())) {
        let sa = &c.links[LinkKind::ServiceAccount.index()];
        assert!(
            sa.facts.iter().any(|f| f.label == "history"),
            "{}: {:?}",
            c.pod,
            sa.facts
        );
    }
}

/// FACTS §3 (the kubelet starts no container before every volume mounts) and §11 (a failure
/// over objects that look right now is the last attempt's, which the next one tells): with the
/// role removed, the label fix's rollout reads "blocked by KVC501 …: a new pod would not
/// start". Once the role is back (repaired at 5m), the grant is there as kvchain reads it and
/// the pods waiting on the mount retry: the fix no longer waits behind a cause that is gone,
/// though the Access link still says the last attempt failed until the next one.
#[test]
fn a_repaired_grant_no_longer_blocks_the_label_fix() {
    use super::qqq_faults::{api_findings, run_to};
    let steps = [
        (60, "remove-role-assignment", true),
        (120, "remove-pod-label", true),
    ];
    let mut w = stacked_through(&steps, 290);
    let chains = diagnose(&export::snapshot(&w));
    let label = |chains: &[Chain]| -> Vec<Finding> {
        (api_findings(chains).into_iter())
            .filter(|f| f.code == Code::KVC201)
            .cloned()
            .collect()
    };
    let before = label(&chains);
    assert!(
        !before.is_empty() && before.iter().all(|f| f.follows.is_some()),
        "the missing grant blocks the rollout: {}",
        describe(&chains)
    );
    faults::repair(&mut w, "remove-role-assignment").unwrap();
    run_to(&mut w, 310);
    let chains = diagnose(&export::snapshot(&w));
    let after = label(&chains);
    assert!(!after.is_empty(), "{}", describe(&chains));
    for f in &after {
        assert!(
            f.follows.is_none() && !f.message.contains("would not start"),
            "{}",
            f.message
        );
        assert!(!f.fix.starts_with("# fix KVC501"), "{}", f.fix);
    }
}
