//! KVC804's fix keeps a cert or key object as it is while something else reads its file
//! (`rules::sync::tls`): the containers of every pod of the SPC's namespace that mount the
//! SPC's volume. Those pods are looked up through the index (the pods referencing each SPC,
//! worked out once per pass), not by searching every pod of the snapshot for each finding,
//! which made a world of many tls SPCs quadratic. The readers are the same either way: the
//! SPC's own namespace only, each container once, in name order.

use kvchain::chain::Code;
use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::snapshot::*;

use super::rules_runtime::run;

/// `web`'s SPC syncs a kubernetes.io/tls Secret from an objectType cert object (KVC804).
/// Beside its replicas: a bare pod of the namespace that mounts the same SPC, one that mounts
/// nothing, and a pod of another namespace whose volume names an SPC of the same name.
fn world() -> Snapshot {
    let mut s = tk::empty();
    tk::add_app(&mut s, NS, APP, 3);
    tk::add_app(&mut s, NS, "api", 1);
    tk::sync_tls_from(tk::spc_mut(&mut s, APP), APP, "cert");
    let mut reader = s.pods.items.iter().next().expect("a web pod").clone();
    reader.name = "reader".into();
    reader.owners.clear();
    reader.containers[0].name = "tail".into();
    let mut stranger = reader.clone();
    stranger.namespace = "other".into();
    stranger.name = "stranger".into();
    stranger.containers[0].name = "peek".into();
    s.pods.items.push(reader);
    s.pods.items.push(stranger);
    s
}

#[test]
fn the_readers_of_a_cert_file_are_the_namespaces_pods_mounting_the_spc() {
    let s = world();
    let chains = run(&s);
    let fixes: Vec<String> = (chains.iter())
        .filter(|c| c.namespace == NS)
        .flat_map(|c| c.findings())
        .filter(|f| f.code == Code::KVC804)
        .map(|f| f.fix.to_string())
        .collect();
    // The three replicas and the bare reader mount the SPC: four chains, one fix.
    assert_eq!(fixes.len(), 4, "{fixes:#?}");
    assert!(fixes.iter().all(|f| *f == fixes[0]), "{fixes:#?}");
    let readers = fixes[0]
        .split_once("as it is: ")
        .and_then(|(_, rest)| rest.split_once(" read its file password"))
        .map(|(readers, _)| readers)
        .unwrap_or_else(|| panic!("the fix names the file's readers: {}", fixes[0]));
    let container = &s.pods.items.iter().next().unwrap().containers[0].name;
    assert_eq!(
        readers,
        format!("Deployment/{APP} container {container}, Pod/reader container tail")
    );
    assert!(!fixes[0].contains("stranger") && !fixes[0].contains("peek"));
}
