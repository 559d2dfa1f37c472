//! Codes that need runtime or Azure observations from the Object link on (object versions,
//! mounts, rotation, the synced Secret and its consumers), each planted in the testkit's
//! healthy world (one working chain: namespace `shop`, Deployment `web`) by changing exactly
//! one thing.

use jiff::SignedDuration;
use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Code, LinkKind, Severity, Status};
use kvchain::snapshot::*;

use super::rules_runtime::{all, codes, csi, latest, only, run};

#[test]
fn kvc601_object_not_found() {
    let mut s = tk::healthy();
    tk::object_mut(&mut s, APP).state = Observed::Known(None);
    let chains = run(&s);
    only(&chains, Code::KVC601);
    assert_eq!(chains[0].objects[0].status, Status::Broken);
}

#[test]
fn kvc602_latest_version_disabled() {
    let mut s = tk::healthy();
    latest(&mut s).enabled = false;
    let f = only(&run(&s), Code::KVC602);
    assert!(f.fix.contains("--enabled true"));
}

#[test]
fn kvc604_expiring_within_a_week() {
    let mut s = tk::healthy();
    latest(&mut s).expires = Some(tk::now() + SignedDuration::from_hours(48));
    let f = only(&run(&s), Code::KVC604);
    assert!(f.message.contains("expires"), "{}", f.message);
    // Pasted into a shell, `<new date>` reads a file named `new` and az never runs: the date
    // no source shows is a quoted variable (README, finding codes), the version the mounted one.
    let version = &latest(&mut s).version.clone();
    assert!(
        f.fix
            .contains(&format!("--version {version} --expires \"$NEW_EXPIRY\""))
            && !f.fix.contains('<'),
        "{}",
        f.fix
    );
}

#[test]
fn kvc701_unexplained_failed_mount_shown_verbatim() {
    let mut s = tk::healthy();
    tk::unmount(&mut s, APP);
    let pod = tk::pod_name(APP, 0);
    s.events.items.push(tk::failed_mount(
        NS,
        &pod,
        "secrets-store-inline",
        // Not the gRPC size limit (FACTS §3), which is KVC708's.
        "failed to write file: no such file or directory",
    ));
    let chains = run(&s);
    let f = only(&chains, Code::KVC701);
    assert!(f.evidence[0].contains("failed to write file: no such file or directory"));
    assert_eq!(chains[0].link(LinkKind::Mount).status, Status::Broken);
}

#[test]
fn kvc702_rotation_disabled() {
    let mut s = tk::healthy();
    csi(&mut s).rotation_enabled = Observed::Known(false);
    only(&run(&s), Code::KVC702);
}

/// The vault gains version V2, created 30 minutes ago, above the one the app mounts.
pub(crate) fn newer_version_30_minutes_ago(s: &mut Snapshot) {
    let Observed::Known(Some(o)) = &mut tk::object_mut(s, APP).state else {
        panic!()
    };
    o.versions.insert(
        0,
        ObjectVersion {
            version: tk::V2.into(),
            enabled: true,
            created: Some(tk::ago(SignedDuration::from_mins(30))),
            ..ObjectVersion::default()
        },
    );
}

#[test]
fn kvc703_mounted_version_lags_longer_than_the_poll_interval() {
    let mut s = tk::healthy();
    newer_version_30_minutes_ago(&mut s);
    let f = only(&run(&s), Code::KVC703);
    assert!(f.message.contains(tk::V1) && f.message.contains(tk::V2));
    // Within the poll interval (+ slack) it is not yet a finding.
    let Observed::Known(Some(o)) = &mut tk::object_mut(&mut s, APP).state else {
        panic!()
    };
    o.versions[0].created = Some(tk::ago(SignedDuration::from_secs(90)));
    assert!(!codes(&run(&s)).contains(&Code::KVC703));
}

#[test]
fn kvc704_throttling_with_a_transactions_estimate() {
    let mut s = tk::healthy();
    tk::unmount(&mut s, APP);
    s.events.items.push(tk::failed_mount(
        NS,
        &tk::pod_name(APP, 0),
        "secrets-store-inline",
        "failed to get objectType:secret, objectName:web-db-pass, objectVersion:: GET https://kv-shop.vault.azure.net/secrets/web-db-pass/\n--------\nRESPONSE 429: 429 Too Many Requests",
    ));
    let f = only(&run(&s), Code::KVC704);
    assert!(f.message.contains("720 reads/day"), "{}", f.message); // 1 pod × 1 object × 720 polls
}

/// No running pod: the only one failed without a mount. (A pod still on its way to its mount
/// is no KVC802: the Sync link waits, see rules_pending.)
#[test]
fn kvc802_no_running_pod_mounts_the_spc() {
    let mut s = tk::healthy();
    tk::unmount(&mut s, APP);
    let pod = tk::pod_mut(&mut s, APP);
    pod.phase = "Failed".into();
    for c in &mut pod.containers {
        c.state = ContainerStateObs::Terminated {
            reason: "Error".into(),
            exit_code: 1,
        };
    }
    let f = only(&run(&s), Code::KVC802);
    assert_eq!(f.severity, Severity::Warning);
    assert_eq!(f.follows, None, "nothing upstream blocks it: {f:#?}");
}

#[test]
fn kvc805_synced_secret_differs_from_the_mount() {
    let mut s = tk::healthy();
    tk::secret_mut(&mut s, APP)
        .data
        .insert("password".into(), Fingerprint::of(b"stale"));
    only(&run(&s), Code::KVC805);
}

/// FACTS §2: a `kubernetes.io/tls` Secret holds the private key (tls.key) and the certificates
/// (tls.crt) split out of the mounted PEM file, never the whole file.
#[test]
fn kvc805_tls_secret_is_compared_with_the_pem_parts_the_driver_writes() {
    let mut s = tk::healthy();
    let (key, cert) = (Fingerprint::of(b"the key"), Fingerprint::of(b"the chain"));
    let so = &mut tk::spc_mut(&mut s, APP).secret_objects[0];
    so.type_ = "kubernetes.io/tls".into();
    so.data = ["tls.key", "tls.crt"]
        .map(|k| SecretObjectData {
            object_name: "password".into(),
            key: k.into(),
        })
        .into();
    let secret = tk::secret_mut(&mut s, APP);
    secret.type_ = "kubernetes.io/tls".into();
    secret.data = [("tls.key".to_string(), key), ("tls.crt".to_string(), cert)].into();
    s.spc_statuses.items[0].pem_parts = [(
        "password".to_string(),
        PemParts {
            key: Some(key),
            cert: Some(cert),
        },
    )]
    .into();
    let chains = run(&s);
    assert!(
        !codes(&chains).contains(&Code::KVC805),
        "{:#?}",
        all(&chains)
    );
    // A Secret that really differs from the mount is still found, naming only that key.
    tk::secret_mut(&mut s, APP)
        .data
        .insert("tls.crt".into(), Fingerprint::of(b"an older chain"));
    let f = only(&run(&s), Code::KVC805);
    assert!(f.message.ends_with("tls.crt"), "{}", f.message);
}

#[test]
fn kvc806_secret_missing_while_mounted_sync_disabled() {
    let mut s = tk::healthy();
    csi(&mut s).sync_secret_enabled = Observed::Known(false);
    s.secrets.items.clear();
    let f = only(&run(&s), Code::KVC806);
    assert!(f.message.contains("syncSecret.enabled"), "{}", f.message);
}

/// A synced Secret missing while mounted, the events unread: a Secret deleted since it was
/// written (recreated at the driver's next reconcile, FACTS §2 "Requeued every 5 min") and
/// one the driver fails to create look alike. Knowing less is no surer verdict: no more severe
/// than with the events read and empty, the gap named, the confirm reading the events and the
/// driver log, and no pod deleted for a failure nobody saw.
#[test]
fn kvc806_secret_missing_with_events_unread_names_the_gap_not_a_failure() {
    let mut s = tk::healthy();
    s.secrets.items.clear();
    let read = only(&run(&s), Code::KVC806).severity;
    s.events.gaps.all = Some("events: forbidden".into());
    let f = only(&run(&s), Code::KVC806);
    assert!(f.severity <= read, "{f:#?}");
    assert_eq!(f.severity, Severity::Warning);
    assert!(
        f.message
            .contains("events could not be read (events: forbidden)")
            && !f.message.contains("the driver failed to create it"),
        "{}",
        f.message
    );
    assert!(!f.fix.contains("kubectl delete pod"), "{}", f.fix);
    assert!(
        f.confirm.contains("reason=FailedToCreateSecret") && f.confirm.contains("kubectl logs"),
        "{}",
        f.confirm
    );
    // The chain strip says what is seen, not a failure nobody saw (events read or not).
    for c in run(&s) {
        let sync = c.link(LinkKind::Sync);
        assert_eq!(sync.summary, "Secret missing", "{sync:#?}");
    }
}

/// A rotation after the pod started: the vault's version the mount and the Secret now hold
/// was created after the pod, and the Secret was written then.
fn rotated_after_start(s: &mut Snapshot) {
    let at = tk::ago(SignedDuration::from_mins(5));
    tk::secret_mut(s, APP).updated_at = Some(at);
    if let Observed::Known(Some(o)) = &mut tk::object_mut(s, APP).state {
        o.versions[0].created = Some(at);
    }
}

#[test]
fn kvc901_env_older_than_the_secret() {
    let mut s = tk::healthy();
    rotated_after_start(&mut s);
    let f = only(&run(&s), Code::KVC901);
    assert_eq!(f.severity, Severity::Error);
    assert!(f.message.contains("DB_PASSWORD"));
    assert!(f.message.contains("holds the old value"), "{}", f.message);
}

/// FACTS §2/§4: the driver recreates a deleted synced Secret from what it mounts. Written
/// after the container started but from the vault versions the pod's first mount read (all
/// created before the pod), it holds the value the process holds: no error, no restart; an
/// info says why, and what would make it otherwise (an SPC edit kvchain cannot date).
#[test]
fn kvc901_a_secret_rebuilt_from_versions_older_than_the_pod_is_not_a_stale_env() {
    let mut s = tk::healthy();
    tk::secret_mut(&mut s, APP).updated_at = Some(tk::ago(SignedDuration::from_mins(5)));
    let f = only(&run(&s), Code::KVC901);
    assert_eq!(f.severity, Severity::Info, "{f:#?}");
    assert!(f.message.contains("holds the same value"), "{}", f.message);
    assert!(f.fix.starts_with("# nothing to do"), "{}", f.fix);
    let chains = run(&s);
    assert_eq!(chains[0].link(LinkKind::Consumers).status, Status::Ok);
}

#[test]
fn kvc902_env_without_reloader() {
    let mut s = tk::healthy();
    tk::workload_mut(&mut s, "Deployment", APP)
        .annotations
        .clear();
    let f = only(&run(&s), Code::KVC902);
    assert_eq!(f.resource, "Deployment/web");
}

/// The healthy world's pod with its owners removed: a pod nothing recreates.
fn bare(s: &mut Snapshot) {
    for pod in s.pods.items.iter_mut() {
        pod.owners.clear();
    }
}

/// FACTS §10: Reloader restarts a workload by changing its pod template; a pod nothing owns
/// has none, so a Reloader annotation on it restarts nothing, and the fix recreates the pod.
#[test]
fn kvc902_a_bare_pod_is_restarted_by_nothing_even_with_a_reloader_annotation() {
    let mut s = tk::healthy();
    bare(&mut s);
    for pod in s.pods.items.iter_mut() {
        pod.annotations
            .insert("reloader.stakater.com/auto".into(), "true".into());
    }
    let pod = tk::pod_name(APP, 0);
    let f = only(&run(&s), Code::KVC902);
    assert_eq!(f.resource, format!("Pod/{pod}"));
    assert!(
        f.fix.starts_with(&format!(
            "kubectl get pod {pod} -n {NS} -o yaml | kubectl replace --force -f -"
        )),
        "{}",
        f.fix
    );
    assert!(!f.fix.contains("annotate"), "{}", f.fix);
}

/// `kubectl rollout restart` takes Deployments, StatefulSets and DaemonSets only: another
/// owner recreates a deleted pod, and a pod nothing owns is recreated from itself.
#[test]
fn kvc901_restart_fix_fits_the_owner() {
    let mut s = tk::healthy();
    rotated_after_start(&mut s);
    let pod = tk::pod_name(APP, 0);
    let fix = |s: &Snapshot| only(&run(s), Code::KVC901).fix.to_string();
    assert_eq!(
        fix(&s),
        format!("kubectl rollout restart deployment/{APP} -n {NS}")
    );
    let mut job = s.clone();
    for p in job.pods.items.iter_mut() {
        p.owners = vec![OwnerRef {
            kind: "Job".into(),
            name: "nightly".into(),
            uid: "uid-job".into(),
            controller: true,
        }];
    }
    assert!(
        fix(&job).starts_with(&format!(
            "kubectl delete pod {pod} -n {NS}  # its Job nightly"
        )),
        "{}",
        fix(&job)
    );
    bare(&mut s);
    assert!(
        fix(&s).starts_with(&format!(
            "kubectl get pod {pod} -n {NS} -o yaml | kubectl replace --force -f -"
        )),
        "{}",
        fix(&s)
    );
}

/// A pod's spec cannot be edited in place (but for its images): a spec fix on a bare pod
/// recreates it with the change; on a workload it edits the template.
#[test]
fn kvc102_spec_fix_recreates_a_bare_pod_and_edits_a_workload() {
    let mut s = tk::healthy();
    for p in s.pods.items.iter_mut() {
        p.containers[0].mounts.push(MountObs {
            volume: "secrets-store-inline".into(),
            path: "/mnt/secrets/password".into(),
            sub_path: Some("password".into()),
            read_only: true,
        });
    }
    let f = only(&run(&s), Code::KVC102);
    assert!(
        f.fix
            .starts_with(&format!("kubectl edit deployment/{APP} -n {NS}  #")),
        "{}",
        f.fix
    );
    // The container mounts the volume whole too: that directory has the file, so the subPath
    // mount goes and the app reads the file there (audit I S1: say where the file then is; a
    // second mount at the whole mount's path would be refused).
    assert!(
        f.fix.contains("remove the volumeMount of secrets-store-inline at /mnt/secrets/password (subPath password); the volume is mounted whole at /mnt/secrets-store already, so point the app at /mnt/secrets-store/password instead of /mnt/secrets/password"),
        "{}",
        f.fix
    );
    // Without the whole mount, the subPath mount becomes a directory holding the file.
    let mut alone = s.clone();
    for p in alone.pods.items.iter_mut() {
        p.containers[0]
            .mounts
            .retain(|m| m.volume != "secrets-store-inline" || m.sub_path.is_some());
    }
    let f = only(&run(&alone), Code::KVC102);
    assert!(
        f.fix.contains("remove subPath password and set mountPath to a directory of its own (/mnt/secrets-store-inline, say): the file is then /mnt/secrets-store-inline/password, so point the app at that path instead of /mnt/secrets/password"),
        "{}",
        f.fix
    );
    bare(&mut s);
    let pod = tk::pod_name(APP, 0);
    let f = only(&run(&s), Code::KVC102);
    assert!(
        f.fix.starts_with(&format!(
            "POD_YAML=$(mktemp -d)/{pod}.yaml && kubectl get pod {pod} -n {NS} -o yaml > \"$POD_YAML\" && ${{EDITOR:-vi}} \"$POD_YAML\" && kubectl replace --force -f \"$POD_YAML\"  #"
        )),
        "{}",
        f.fix
    );
}

#[test]
fn replicas_of_one_workload_share_workload_level_findings() {
    let mut s = tk::empty();
    tk::add_app(&mut s, NS, APP, 3);
    tk::workload_mut(&mut s, "Deployment", APP)
        .annotations
        .clear();
    let chains = run(&s);
    assert_eq!(chains.len(), 3);
    let report = kvchain::report::json(&s, &chains);
    let v: serde_json::Value = serde_json::from_str(&report).expect("json");
    let n = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["code"] == "KVC902")
        .count();
    assert_eq!(n, 1, "de-duplicated across the three pods");
}

/// Issue 12 §4: a pod that reads the synced Secret while no pod mounts the SPC is a chain of
/// its own: KVC903 while the Secret still exists, KVC904 once it is gone (one finding: the
/// consumer that cannot start, naming why the Secret is missing; no KVC802 beside it).
#[test]
fn a_consumer_of_a_synced_secret_nobody_mounts_is_a_chain() {
    let mut s = tk::healthy();
    let mut reader = s.pods.items[0].clone();
    reader.name = "reader".into();
    reader.owners.clear();
    reader
        .volumes
        .retain(|v| !matches!(v.source, VolumeSourceObs::Csi { .. }));
    reader.containers[0].mounts.clear();
    s.pods.items = vec![reader].into();
    s.spc_statuses.items.clear();
    let chains = run(&s);
    assert_eq!(chains.len(), 1, "{:#?}", all(&chains));
    assert_eq!(chains[0].pod, "reader");
    assert_eq!(chains[0].spc, tk::spc_name(APP));
    let f = chains[0]
        .findings()
        .find(|f| f.code == Code::KVC903)
        .unwrap_or_else(|| panic!("{:#?}", all(&chains)));
    assert_eq!(f.resource, "Pod/reader");
    assert_eq!(f.chain, chains[0].id);
    // No other pod mounts it: the Secret is what earlier mounts left, and is not made again.
    assert!(f.message.contains("is not created again"), "{}", f.message);
    // The Secret is gone (its owners were deleted): the reader cannot start.
    s.secrets.items.clear();
    let chains = run(&s);
    let c = codes(&chains);
    assert_eq!(c, [Code::KVC904], "{c:?}");
    assert_eq!(chains[0].link(LinkKind::Consumers).status, Status::Broken);
}

/// FACTS §10: `secret.reloader.stakater.com/reload` restarts for the Secrets it lists only.
/// A workload listing others is told so (not "no annotation"), and the fix adds the Secret to
/// its list instead of a second, different annotation.
#[test]
fn kvc902_a_reload_list_naming_other_secrets_is_extended() {
    let mut s = tk::healthy();
    let ann = &mut tk::workload_mut(&mut s, "Deployment", APP).annotations;
    ann.clear();
    ann.insert(
        "secret.reloader.stakater.com/reload".into(),
        "other-secret".into(),
    );
    let f = only(&run(&s), Code::KVC902);
    assert!(f.message.contains("names other Secrets"), "{}", f.message);
    assert!(
        !f.message.contains("no Reloader annotation"),
        "{}",
        f.message
    );
    assert!(
        f.fix.contains(&format!(
            "secret.reloader.stakater.com/reload=other-secret,{} --overwrite",
            tk::secret_name(APP)
        )),
        "{}",
        f.fix
    );
}

/// FACTS §4: a file mounted with subPath never sees updates. A synced Secret mounted so and
/// rewritten by a rotation after the container started leaves the file with the old value,
/// as an env var would be.
#[test]
fn kvc901_a_subpath_file_of_a_rotated_secret_holds_the_old_value() {
    let mut s = tk::healthy();
    rotated_after_start(&mut s);
    let secret = tk::secret_name(APP);
    let pod = tk::pod_mut(&mut s, APP);
    pod.containers[0]
        .env
        .retain(|e| !matches!(e.source, EnvSourceObs::SecretKey { .. }));
    pod.volumes.push(VolumeObs {
        name: "db".into(),
        source: VolumeSourceObs::Secret {
            secret_name: secret.as_str().into(),
            optional: false,
            keys: vec![],
            paths: vec![],
        },
    });
    pod.containers[0].mounts.push(MountObs {
        volume: "db".into(),
        path: "/etc/db/password".into(),
        sub_path: Some("password".into()),
        read_only: true,
    });
    let f = only(&run(&s), Code::KVC901);
    assert!(f.message.contains("subPath password"), "{}", f.message);
    assert!(
        f.message.contains("the file holds the old value"),
        "{}",
        f.message
    );
    // Mounted as a directory, the kubelet refreshes it: nothing to say.
    tk::pod_mut(&mut s, APP).containers[0]
        .mounts
        .last_mut()
        .unwrap()
        .sub_path = None;
    assert!(!tk::codes(&run(&s)).contains(&Code::KVC901));
}

/// Q4: with objectVersionHistory the provider lists the versions and skips disabled ones
/// (FACTS §5): a disabled latest version is no "get is not allowed" failure there; the
/// files shift instead (`/0` is the newest enabled version), which the Object link says.
#[test]
fn a_disabled_latest_version_under_history_is_skipped_not_kvc602() {
    let mut s = tk::healthy();
    let obj = tk::object_name(APP);
    let objects = tk::objects_yaml(&[&[
        ("objectName", &obj),
        ("objectType", "secret"),
        ("objectAlias", "password"),
        ("objectVersionHistory", "2"),
    ]]);
    let spc = tk::spc_mut(&mut s, APP);
    tk::set_objects(spc, objects);
    let mut older = latest(&mut s).clone();
    older.version = "0123456789abcdef0123456789abcdef".into();
    latest(&mut s).enabled = false;
    if let Observed::Known(Some(o)) = &mut tk::object_mut(&mut s, APP).state {
        o.versions.push(older);
    }
    let chains = run(&s);
    let c = &chains[0];
    assert!(
        !c.findings().any(|f| f.code == Code::KVC602),
        "{:#?}",
        all(&chains)
    );
    let link = c.link(LinkKind::VaultObject);
    assert_ne!(link.status, Status::Broken, "{link:#?}");
    let said: Vec<String> = link.facts.iter().map(|f| format!("{f:?}")).collect();
    assert!(
        said.iter()
            .any(|f| f.contains("skips") && f.contains("0123456789abcdef0123456789abcdef")),
        "{said:#?}"
    );
    // The same object without history: the provider GETs the latest version: KVC602.
    let mut s = tk::healthy();
    latest(&mut s).enabled = false;
    only(&run(&s), Code::KVC602);
}

/// The driver refuses a `secretObjects` entry without secretName, type or data (FACTS §2):
/// the fix names the entry and fills what the snapshot tells (a type from its keys, the files
/// its data may name), instead of "secretName, type and data are all required".
#[test]
fn kvc806_an_invalid_entry_is_completed_by_name() {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    let name = spc.secret_objects[0].secret_name.clone();
    spc.secret_objects[0].type_.clear();
    let f = only(&run(&s), Code::KVC806);
    assert!(
        f.fix.contains(&format!(
            "# secretObjects[{name}]: type: Opaque (secretName, type"
        )),
        "{}",
        f.fix
    );

    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    let tls = &mut spc.secret_objects[0];
    tls.type_.clear();
    tls.data[0].key = "tls.crt".into();
    let f = only(&run(&s), Code::KVC806);
    assert!(f.fix.contains("type: kubernetes.io/tls"), "{}", f.fix);

    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    let file = spc.parsed.objects[0].file_name().to_string();
    spc.secret_objects[0].data.clear();
    let chains = run(&s);
    let fixes: Vec<_> = chains
        .iter()
        .flat_map(|c| c.findings())
        .filter(|f| f.code == Code::KVC806)
        .map(|f| f.fix.to_string())
        .collect();
    assert!(
        fixes.iter().any(|f| f.contains(&format!(
            "data: at least one {{objectName, key}}, objectName one of the files mounted: {file}"
        ))),
        "{fixes:#?}"
    );
}
