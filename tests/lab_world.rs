//! The lab world on its own: mounts, events, SPCPS, synced Secrets, GC, env snapshots,
//! rotation, clock. These assert what the simulated AKS does, independent of diagnosis.

use std::time::Duration;

use kvchain::snapshot::{ContainerStateObs, Snapshot};
use kvchain::source::lab::{self, export, world::World};

fn world(name: &str) -> World {
    World::new(lab::load(name).expect("built-in scenario loads"))
}

fn snap(w: &World) -> Snapshot {
    export::snapshot(w)
}

fn pod_state<'a>(s: &'a Snapshot, prefix: &str) -> Vec<&'a ContainerStateObs> {
    s.pods
        .items
        .iter()
        .filter(|p| p.name.starts_with(prefix))
        .flat_map(|p| p.containers.iter().filter(|c| !c.init).map(|c| &c.state))
        .collect()
}

#[test]
fn dump_default() {
    let mut w = world("default");
    let ran = w.run_until_stable(Duration::from_secs(3600));
    let s = snap(&w);
    eprintln!("ran {ran:?}");
    for p in &s.pods.items {
        eprintln!(
            "{} {} {:?}",
            p.name,
            p.phase,
            p.containers.iter().map(|c| &c.state).collect::<Vec<_>>()
        );
    }
    for e in &s.events.items {
        eprintln!(
            "EV {} {} x{} {}",
            e.involved_name,
            e.reason,
            e.count,
            &e.message[..e.message.len().min(300)]
        );
    }
    for x in &s.secrets.items {
        eprintln!(
            "SECRET {} {:?} owners={:?}",
            x.name,
            x.data.keys().collect::<Vec<_>>(),
            x.owners
        );
    }
    for x in &s.spc_statuses.items {
        eprintln!("SPCPS {} {:?} files={:?}", x.name, x.objects, x.files);
    }
    let _ = pod_state(&s, "x");
}
