//! The fixes of a big `OnDelete` DaemonSet, whose pods a template change does not replace
//! (Kubernetes docs, DaemonSet "Update strategy": under OnDelete new pods are made only when
//! old ones are deleted): every broken pod's finding carries a fix that ends with its owner's
//! pods deleted. The diagnosis looks those pods up through its index (each set's pods worked
//! out once per pass) rather than searching the snapshot's pods for each of hundreds of
//! findings; the fixes are the same text either way: over 10 pods selected by owner reference
//! when pasted, up to 10 named in name order, only the owner's own pods.

use kvchain::chain::Code;
use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::snapshot::*;

use super::rules_runtime::run;
use super::rules_update_strategies::owned_by;

const ON_DELETE: UpdateObs = UpdateObs {
    on_delete: true,
    partition: None,
    parallel: false,
    start: 0,
};

/// Every fix of `code` in `s`: one per pod of `pods`, all the same text, which is returned.
fn the_fix(s: &Snapshot, code: Code, pods: usize) -> String {
    let chains = run(s);
    let fixes: Vec<String> = (chains.iter())
        .flat_map(|c| c.findings())
        .filter(|f| f.code == code)
        .map(|f| f.fix.to_string())
        .collect();
    assert_eq!(fixes.len(), pods, "one {code:?} per pod");
    assert!(
        fixes.iter().all(|f| *f == fixes[0]),
        "every pod's fix is the same"
    );
    fixes[0].clone()
}

/// `pods` pods of OnDelete DaemonSet `web`, each mounting the secrets-store volume with a
/// subPath (KVC102: a template edit), no Reloader annotation (KVC902: the pods deleted after
/// each rotation). A sibling DaemonSet's pod and another namespace's `web` pod stand beside
/// them: neither is one of its pods.
fn big(pods: usize) -> Snapshot {
    let mut s = owned_by("DaemonSet", pods, ON_DELETE, false);
    for p in s.pods.items.iter_mut() {
        p.containers[0].mounts[0].sub_path = Some("db-password".into());
    }
    // Name order is not pod order.
    s.pods.items.reverse();
    let mut sibling = s.pods.items[0].clone();
    sibling.name = "agent-a1b2c".into();
    sibling.owners = vec![tk::owner("DaemonSet", "agent")];
    sibling.containers[0].mounts[0].sub_path = None;
    let mut elsewhere = sibling.clone();
    elsewhere.namespace = "other".into();
    elsewhere.name = format!("{APP}-zz9zz").as_str().into();
    elsewhere.owners = vec![tk::owner("DaemonSet", APP)];
    s.pods.items.push(sibling);
    s.pods.items.push(elsewhere);
    s
}

const EDIT: &str = "kubectl edit daemonset/web -n shop";
const WHY_102: &str = "DaemonSet web has updateStrategy OnDelete: the edited template replaces no pod, only a pod deleted afterwards comes back from it, so the fix deletes its pods (all at once: to keep serving, delete them one at a time)";
const WHY_902: &str = "after each rotation: DaemonSet web has updateStrategy OnDelete, and Reloader restarts by changing the pod template, which replaces no pod under OnDelete; or switch it to updateStrategy RollingUpdate with a Reloader annotation, or read the mounted file instead of env";

#[test]
fn hundreds_of_broken_pods_get_the_owner_reference_delete() {
    let n = 400;
    let s = big(n);
    let select = format!(
        "kubectl delete pod -n {NS} $(kubectl get pods -n {NS} -o jsonpath='{{.items[?(@.metadata.ownerReferences[0].name==\"{APP}\")].metadata.name}}')"
    );
    let kvc102 = the_fix(&s, Code::KVC102, n);
    let (run, note) = kvc102.split_once("  # ").unwrap();
    assert_eq!(run, format!("{EDIT} && {select}"));
    assert!(note.ends_with(&format!("; {WHY_102}")), "{note}");
    assert_eq!(
        the_fix(&s, Code::KVC902, n),
        format!("{select}  # {WHY_902}")
    );
}

#[test]
fn up_to_ten_pods_are_named_in_name_order_and_only_the_owners() {
    let s = big(10);
    let names: Vec<String> = (0..10).map(|i| format!("{APP}-q{i}x7z")).collect();
    let delete = format!("kubectl delete pod {} -n {NS}", names.join(" "));
    let kvc102 = the_fix(&s, Code::KVC102, 10);
    let (run, note) = kvc102.split_once("  # ").unwrap();
    assert_eq!(run, format!("{EDIT} && {delete}"));
    assert!(note.ends_with(&format!("; {WHY_102}")), "{note}");
    assert_eq!(
        the_fix(&s, Code::KVC902, 10),
        format!("{delete}  # {WHY_902}")
    );
}
