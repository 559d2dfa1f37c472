//! Audit LLL: the rotation test's timeline (`r`, `M`) checked hop by hop against FACTS §4
//! (rotation: polls, subPath, env), §10 (Reloader) and §11 (the synced Secret's life), on the
//! docs' example world (`demo_world::Head`: SPC `api-kv` in namespace `demo`, synced Secret
//! `api-db` key `password`, rotation every 2m). Values are canaries: no timeline may carry one.

use std::time::Duration;

use kvchain::action::timeline::{RestartWatch, RotationWatch, StepState, Timeline};
use kvchain::chain;
use kvchain::chain::restart_plan::RestartPlan;
use kvchain::snapshot::Snapshot;
use kvchain::source::lab::world::World;
use kvchain::source::lab::{self, export, faults};

use crate::demo_world::{Head, READER};
use crate::hhh_scenarios::settled_in;

const VAULT: &str = "kv-lll";
const OLD: &str = "CANARY-lll-old-3c1e";
const NEW: &str = "CANARY-lll-new-8f2d";

/// The example head, rotation `rotation`, Cluster spec lines `cluster_extra`.
/// The cluster runs Stakater Reloader (a scenario's cluster line).
const RELOADER: &str = "  reloader: true\n";
/// The workload annotation asking Reloader to roll it out for any Secret it references.
const AUTO: &str = r#"{reloader.stakater.com/auto: "true"}"#;

fn head(rotation: bool, cluster_extra: &str) -> Head<'_> {
    Head {
        rotation,
        cluster_extra,
        ..Head::db_password("lll", VAULT_OBJECTS)
    }
}

const VAULT_OBJECTS: &str = "  secrets: [{name: db-password, value: CANARY-lll-old-3c1e}]\n";

/// Deployment `api` (annotations `annotations`, a YAML flow map) mounting `api-kv` at
/// /mnt/secrets-store, and `more` volume mounts (lines indented twelve) of `volumes` (lines
/// indented eight).
fn api(annotations: &str, more: &str, volumes: &str) -> String {
    api_with_env(annotations, "", more, volumes)
}

/// `api` reading `api-db`'s `password` as env `DB_PASSWORD` too.
fn api_env(annotations: &str) -> String {
    let env = "          env:\n            - name: DB_PASSWORD\n              valueFrom: {secretKeyRef: {name: api-db, key: password}}\n";
    api_with_env(annotations, env, "", "")
}

/// [`api`] with `env` (the container's `env:` lines, indented ten).
fn api_with_env(annotations: &str, env: &str, more: &str, volumes: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata: {{name: api, namespace: demo, annotations: {annotations}}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: api}}}}
  template:
    metadata: {{labels: {{app: api, azure.workload.identity/use: "true"}}}}
    spec:
      serviceAccountName: api
      containers:
        - name: api
          image: mcr.microsoft.com/azurelinux/busybox:1.36
{env}          volumeMounts:
            - {{name: secrets-store, mountPath: /mnt/secrets-store, readOnly: true}}
{more}      volumes:
        - name: secrets-store
          csi: {{driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {{secretProviderClass: api-kv}}}}
{volumes}"#
    )
}

/// `api` also reading `api-db`'s `password` as a file through subPath (FACTS §4: bound at
/// container start).
fn api_sub_path(annotations: &str) -> String {
    api(
        annotations,
        "            - {name: synced, mountPath: /etc/api/password, subPath: password, readOnly: true}\n",
        "        - name: synced\n          secret: {secretName: api-db}\n",
    )
}

/// A Deployment `vreader` that mounts no SPC: it reads `api-db` as a whole volume and, in a
/// second mount, its `password` through subPath.
const VREADER: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: vreader, namespace: demo}
spec:
  replicas: 1
  selector: {matchLabels: {app: vreader}}
  template:
    metadata: {labels: {app: vreader}}
    spec:
      containers:
        - name: vreader
          image: mcr.microsoft.com/azurelinux/busybox:1.36
          volumeMounts:
            - {name: synced, mountPath: /etc/reader, readOnly: true}
            - {name: synced, mountPath: /etc/reader-one/password, subPath: password, readOnly: true}
      volumes:
        - name: synced
          secret: {secretName: api-db}
"#;

fn world(head: &Head, docs: &[&str]) -> World {
    settled_in(head.docs(), docs, &[])
}

/// The world of `head` and `docs` run for `secs` lab seconds from its start (the lab polls
/// at every whole 2m from there).
fn world_at(head: &Head, docs: &[&str], secs: u64) -> World {
    let mut all = vec![head.docs()];
    all.extend(docs.iter().map(|d| d.to_string()));
    let sc = lab::scenario::parse("lll", std::path::Path::new("lll.yaml"), &all.join("---\n"))
        .expect("scenario loads");
    let mut w = World::new(sc);
    w.advance(Duration::from_secs(secs));
    w
}

fn diagnosed(w: &World) -> (Snapshot, Vec<chain::Chain>) {
    let s = export::snapshot(w);
    let chains = chain::diagnose(&s);
    (s, chains)
}

/// The watch the TUI starts for `M` (a new value), and the write.
fn write_new_value(w: &mut World) -> RotationWatch {
    write(w, Some(NEW))
}

/// The watch the TUI starts for `r` (`None`: the current value re-stamped) or `M`, and the
/// write.
fn write(w: &mut World, value: Option<&str>) -> RotationWatch {
    let before = export::snapshot(w);
    let watch = RotationWatch::new(&before, VAULT, "db-password")
        .starting_at(before.source.observed_at)
        .same_value(value.is_none());
    w.rotate_secret(VAULT, "db-password", value.map(str::as_bytes))
        .expect("written");
    watch
}

/// Follows `watch` 10 lab seconds at a time, each snapshot diagnosed, until it finishes.
fn follow(w: &mut World, mut watch: RotationWatch) -> Timeline {
    until_finished(w, |s, chains| {
        watch.observe_diagnosed(s, chains);
        watch.timeline()
    })
}

/// Advances the lab 10 s at a time, up to 15 minutes, showing each diagnosed snapshot to
/// `observe`, until the timeline it gives back has finished; no value may reach it.
fn until_finished(
    w: &mut World,
    mut observe: impl FnMut(&Snapshot, &[chain::Chain]) -> Timeline,
) -> Timeline {
    let mut tl = None;
    for _ in 0..90 {
        w.advance(Duration::from_secs(10));
        let (s, chains) = diagnosed(w);
        let now = observe(&s, &chains);
        let finished = now.finished;
        tl = Some(now);
        if finished {
            break;
        }
    }
    let tl = tl.expect("observed");
    assert!(tl.finished, "{tl:#?}");
    let text = format!("{tl:?}");
    assert!(!text.contains(OLD) && !text.contains(NEW), "a value leaked");
    tl
}

fn step<'a>(tl: &'a Timeline, needle: &str) -> &'a StepState {
    &(tl.steps.iter())
        .find(|s| s.label.contains(needle))
        .unwrap_or_else(|| panic!("no step {needle:?}: {tl:#?}"))
        .state
}

/// Whether a step (or a hop's verdict) arrived.
fn reached(state: &StepState) -> bool {
    matches!(state, StepState::Done(_))
}

/// Why the step labelled with `needle` never arrives (the test fails if it does).
fn never_why<'a>(tl: &'a Timeline, needle: &str) -> &'a str {
    match step(tl, needle) {
        StepState::Never(why) => why,
        other => panic!("{needle:?} is {other:?}, not never: {tl:#?}"),
    }
}

/// The synced Secret got the new value, and the subPath copy of its volume (taken before
/// that) never will: a restart of the Deployment is what brings it.
fn assert_sub_path_copy_stale_after_the_secret(tl: &Timeline) {
    assert!(reached(step(tl, "Secret api-db[password]")), "{tl:#?}");
    let why = never_why(tl, "Secret volume at /etc/api/password");
    assert!(
        why.contains("never sees rotated content")
            && why.contains("restart needed (R restarts Deployment/api)"),
        "{why}"
    );
}

fn verdict<'a>(tl: &'a Timeline, hop: &str) -> &'a StepState {
    &(tl.verdict.iter())
        .find(|s| s.label.starts_with(hop))
        .unwrap_or_else(|| panic!("no verdict for {hop}: {tl:#?}"))
        .state
}

/// FACTS §4, §11: env from a synced Secret is read at container start, and only rotation
/// rewrites an existing synced Secret. When the rotation polls fail (here the federated
/// credential's subject, KVC401), the synced Secret never gets the new value: the env hop is
/// blocked by it, and a restart would read the old value again. It said "nothing restarted
/// them (is Reloader running?)", sending the user after Reloader.
#[test]
fn env_blocked_by_failing_rotation_polls_names_the_synced_secret_not_reloader() {
    let cluster = "  faultTarget: demo/api\n";
    let mut w = world(&head(true, cluster), &[&api("{}", "", ""), READER]);
    faults::apply(&mut w, "fic-subject-typo").expect("the fault applies to api");
    w.advance(Duration::from_secs(30));
    let watch = write_new_value(&mut w);
    let tl = follow(&mut w, watch);
    assert!(
        matches!(verdict(&tl, "synced Secret"), StepState::Stuck(_)),
        "{tl:#?}"
    );
    let StepState::Stuck(why) = step(&tl, "Deployment/reader / reader: env DB_PASSWORD") else {
        panic!("{tl:#?}")
    };
    assert!(
        why.contains("synced Secret api-db") && why.contains("KVC401"),
        "the hop before it, and why: {why}"
    );
    assert!(
        why.contains("a restart now would read the old value again"),
        "{why}"
    );
    assert!(!why.contains("Reloader"), "{why}");
}

/// FACTS §4 (rotation off: nothing re-fetches a mounted path) and §11 (a restart does not
/// refresh an existing synced Secret): a subPath of the synced Secret's volume is not fixed by
/// a restart while the Secret itself never gets the new value. It said "restart needed (R
/// restarts Deployment/api)", a restart that would copy the same old value again.
#[test]
fn rotation_off_a_sub_path_of_the_synced_secret_is_not_sent_to_a_restart() {
    let mut w = world(&head(false, ""), &[&api_sub_path("{}")]);
    let watch = write_new_value(&mut w);
    let tl = follow(&mut w, watch);
    let why = never_why(&tl, "Secret volume at /etc/api/password");
    assert!(
        why.contains("--enable-secret-rotation=false")
            && why.contains("a restart alone does not rewrite an existing synced Secret"),
        "{why}"
    );
    // Said of drivers before v1.6, with what v1.6.0's controller does (audit VVV-honest).
    assert!(
        why.contains("on a driver before v1.6 a restart alone")
            && why.contains("a v1.6 driver rewrites it"),
        "{why}"
    );
    assert!(!why.contains("restart needed (R restarts"), "{why}");
}

/// FACTS §4: rotation updates the synced Secret at its next poll (every 2m). Until then a
/// subPath copy of it cannot be refreshed by a restart either (the new container would copy
/// the old value): the hop waits for the Secret, and only once the Secret holds the new value
/// is a restart the way.
#[test]
fn before_the_poll_a_sub_path_of_the_synced_secret_waits_for_the_secret() {
    let mut w = world(&head(true, ""), &[&api_sub_path("{}")]);
    let mut watch = write_new_value(&mut w);
    // The write is seen before any poll: the Secret still holds the old value.
    let (s, chains) = diagnosed(&w);
    watch.observe_diagnosed(&s, &chains);
    let now = watch.timeline();
    assert_eq!(
        step(&now, "Secret volume at /etc/api/password"),
        &StepState::Waiting,
        "{now:#?}"
    );
    let tl = follow(&mut w, watch);
    assert_sub_path_copy_stale_after_the_secret(&tl);
}

/// FACTS §10: `reloader.stakater.com/auto` rolls the Deployment out when a Secret it
/// references changes; the new pod copies the new value at start. The timeline follows that
/// rollout to the new pod's subPath instead of ending at the Secret's update with "never —
/// restart needed" for a pod Reloader is about to replace.
#[test]
fn reloader_rolls_out_a_sub_path_reader_and_the_timeline_follows_it() {
    let mut w = world(&head(true, RELOADER), &[&api_sub_path(AUTO)]);
    let before = export::snapshot(&w);
    let old: Vec<String> = (before.pods.items.iter())
        .filter(|p| p.name.starts_with("api-"))
        .map(|p| p.name.to_string())
        .collect();
    let watch = write_new_value(&mut w);
    let tl = follow(&mut w, watch);
    assert!(reached(verdict(&tl, "volumes")), "{tl:#?}");
    assert!(
        !(tl.steps.iter()).any(|s| matches!(s.state, StepState::Never(_) | StepState::Stuck(_))),
        "{tl:#?}"
    );
    let sub = (tl.steps.iter())
        .find(|s| s.label.contains("Secret volume at /etc/api/password"))
        .expect("the subPath step");
    assert!(
        !old.iter().any(|p| sub.label.contains(p.as_str())),
        "the new pod's copy: {tl:#?}"
    );
}

/// FACTS §5: with objectVersionHistory > 1 the provider writes `<file>/0` (the newest) …
/// `<file>/<n-1>`, and §2: a synced Secret reads `alias/0`. The timeline follows the newest
/// version's file and the Secret fed by it; it looked for a file `db-password` that is not
/// written, called the file stuck and left the synced Secret and its env reader out.
#[test]
fn a_history_object_is_followed_through_its_newest_file_and_synced_secret() {
    let objects = "  secrets:\n    - name: db-password\n      versions: [{value: CANARY-lll-old-0a01}, {value: CANARY-lll-old-3c1e}]\n";
    let head = Head {
        spc_item: "          objectName: db-password\n          objectType: secret\n          objectVersionHistory: 2\n",
        synced: "    - secretName: api-db\n      type: Opaque\n      data:\n        - {objectName: db-password/0, key: password}\n",
        ..Head::db_password("lll", objects)
    };
    let mut w = world(&head, &[&api("{}", "", ""), READER]);
    let watch = write_new_value(&mut w);
    let tl = follow(&mut w, watch);
    assert!(reached(step(&tl, "file db-password/0")), "{tl:#?}");
    assert!(reached(step(&tl, "Secret api-db[password]")), "{tl:#?}");
    assert!(
        matches!(step(&tl, "Deployment/reader / reader: env DB_PASSWORD"), StepState::Never(w) if w.contains("restart needed")),
        "{tl:#?}"
    );
}

/// FACTS §4: a subPath never sees rotated content, whoever mounts it — also a pod that reads
/// the synced Secret as a volume without mounting the SPC itself (a Secret volume follows the
/// Secret). Such a pod was not in the timeline at all, so "volumes" read all reached.
#[test]
fn a_secret_volume_reader_that_mounts_no_spc_is_followed() {
    let mut w = world(&head(true, ""), &[&api("{}", "", ""), VREADER]);
    let watch = write_new_value(&mut w);
    let tl = follow(&mut w, watch);
    let whole = (tl.steps.iter())
        .find(|s| s.label.ends_with("Secret volume at /etc/reader"))
        .unwrap_or_else(|| panic!("the whole volume: {tl:#?}"));
    assert!(reached(&whole.state), "{tl:#?}");
    let why = never_why(&tl, "Secret volume at /etc/reader-one/password");
    assert!(
        why.contains("never sees rotated content")
            && why.contains("restart needed (R restarts Deployment/vreader)"),
        "{why}"
    );
    assert!(
        matches!(verdict(&tl, "volumes"), StepState::Never(_)),
        "{tl:#?}"
    );
}

/// FACTS §4: with rotation off a mounted path is never re-fetched, so the synced Secret never
/// gets a new value; §10: Reloader rolls a workload out when a Secret it reads changes; §11: a
/// restart does not refresh an existing synced Secret. A re-stamp (`r`) leaves env unaffected,
/// but what it says a new value would take may not be "rolled out by Reloader (M writes one)":
/// with rotation off neither Reloader nor a restart would bring a new value to the env.
#[test]
fn with_rotation_off_a_restamp_does_not_promise_reloader_rolls_out_a_new_value() {
    let mut w = world(&head(false, RELOADER), &[&api_env(AUTO)]);
    let watch = write(&mut w, None);
    let tl = follow(&mut w, watch);
    let StepState::Unaffected(why) = step(&tl, "Deployment/api / api: env DB_PASSWORD") else {
        panic!("a re-stamp leaves env as it was: {tl:#?}")
    };
    assert!(!why.contains("rolled out by Reloader"), "{why}");
    assert!(
        why.contains("--enable-secret-rotation=false")
            && why.contains("a restart alone does not rewrite an existing synced Secret"),
        "{why}"
    );
}

/// FACTS §4: "without rotation: delete synced Secret and restart pod"; §11: a restart does
/// not refresh an existing synced Secret. After a new value with rotation off, `R` gives a
/// pod that mounts the new file and reads the old Secret through env: the restart timeline
/// says so, and names the way that works (delete the Secret, then restart), not only that
/// rotation is off.
#[test]
fn a_restart_with_rotation_off_names_the_way_that_refreshes_the_synced_secret() {
    let mut w = world(&head(false, ""), &[&api_env("{}")]);
    w.rotate_secret(VAULT, "db-password", Some(NEW.as_bytes()))
        .expect("written");
    w.advance(Duration::from_secs(60));
    let before = export::snapshot(&w);
    let pod = (before.pods.items.iter())
        .find(|p| p.name.starts_with("api-"))
        .expect("an api pod")
        .clone();
    let plan = RestartPlan::for_pod(&before, &pod);
    let mut watch = RestartWatch::for_plan(&before, "demo", &pod.name, &plan)
        .starting_at(before.source.observed_at);
    w.restart_pod("demo", &pod.name).expect("restarted");
    let tl = until_finished(&mut w, |s, chains| {
        watch.observe_diagnosed(s, chains);
        watch.timeline()
    });
    let why = never_why(&tl, "env DB_PASSWORD fresh");
    assert!(why.contains("only rotation does, and it is off"), "{why}");
    // True of drivers before v1.6 only: v1.6.0's controller updates an existing Secret from
    // the new mount at its next reconcile (createOrUpdateK8sSecret; audit VVV-honest).
    assert!(
        why.contains("a driver before v1.6 never rewrites")
            && why.contains("a v1.6 driver rewrites it"),
        "{why}"
    );
    assert!(
        why.contains("kubectl delete secret api-db -n demo") && why.contains("then restart"),
        "the way that works: {why}"
    );
}

/// FACTS §4: the driver polls every `--rotation-poll-interval` (2m here); the watch gives a
/// mount two polls (4m) and a minute. A mount that did not move said "within two rotation
/// polls (2m00s)", as if two polls took two minutes.
#[test]
fn a_mount_that_did_not_move_says_each_poll_s_interval() {
    let mut w = world(&head(true, ""), &[&api("{}", "", "")]);
    let mut watch = write_new_value(&mut w);
    let (s, chains) = diagnosed(&w);
    watch.observe_diagnosed(&s, &chains);
    // A quiet source: only its clock arrives, past the deadline.
    let deadline = jiff::SignedDuration::try_from(watch.deadline()).unwrap();
    watch.tick(s.source.observed_at.checked_add(deadline).unwrap());
    let tl = watch.timeline();
    assert!(tl.finished, "{tl:#?}");
    let StepState::Stuck(why) = step(&tl, "mounted version") else {
        panic!("{tl:#?}")
    };
    assert!(why.contains("two rotation polls of 2m00s each"), "{why}");
}

/// FACTS §11: a restart does not refresh an existing synced Secret, only the rotation poll
/// does; §4: a subPath is a copy bound at container start. A pod rolled out between the write
/// (at 130 s) and the poll (at 240 s) copies the Secret's old value through subPath: its copy
/// is not reached, though the pod is new. It read "✓" as soon as the Secret moved.
#[test]
fn a_sub_path_copy_taken_before_the_poll_by_a_new_pod_is_not_reached() {
    let mut w = world_at(&head(true, ""), &[&api_sub_path("{}")], 130);
    let watch = write_new_value(&mut w);
    w.rollout_restart("Deployment", "demo", "api")
        .expect("restarted");
    let tl = follow(&mut w, watch);
    assert_sub_path_copy_stale_after_the_secret(&tl);
}

/// FACTS §10: `reloader.stakater.com/auto` restarts a workload for any Secret it references,
/// and Reloader counts a projected volume's secret source as one ([R] getVolumeMountName).
/// The lab's Reloader read only `secret` volumes and env: a workload reading the synced
/// Secret through a projected volume (here with subPath) was never rolled out, so the
/// timeline, which follows projected volumes, waited on a rollout that never came.
#[test]
fn reloader_rolls_out_a_projected_reader_of_the_synced_secret() {
    let projected = api(
        AUTO,
        "            - {name: bundle, mountPath: /etc/api/password, subPath: password, readOnly: true}\n",
        "        - name: bundle\n          projected: {sources: [{secret: {name: api-db}}]}\n",
    );
    let mut w = world(&head(true, RELOADER), &[&projected]);
    let watch = write_new_value(&mut w);
    let tl = follow(&mut w, watch);
    assert!(reached(verdict(&tl, "volumes")), "{tl:#?}");
    assert!(
        reached(step(&tl, "projected volume at /etc/api/password")),
        "{tl:#?}"
    );
}
