//! The in-container verify's pure half, tested on the test kit's snapshots.

use super::*;
use crate::chain::testkit::{self, NS};
use crate::snapshot::{EnvObs, EnvSourceObs, MountObs};

fn pod() -> String {
    testkit::pod_name(testkit::APP, 0)
}

fn value() -> Fingerprint {
    Fingerprint::of(b"value-of-shop-web")
}

#[test]
fn plan_reads_the_aliased_file_and_the_synced_env_var() {
    let s = testkit::healthy();
    let p = plan(&s, NS, &pod(), "app").unwrap();
    assert_eq!(p.file_paths(), ["/mnt/secrets-store/password"]);
    assert_eq!(p.files[0].synced[0].secret, testkit::secret_name("web"));
    assert_eq!(p.files[0].synced[0].fingerprint, Ok(value()));
    assert_eq!(p.files[0].vault, Some(value()));
    // AZURE_FEDERATED_TOKEN_FILE is a literal: not a synced Secret, not read.
    assert_eq!(p.env_names(), ["DB_PASSWORD"]);
}

#[test]
fn unsynced_secrets_sub_paths_and_env_from_are_planned_as_kubelet_sees_them() {
    let mut s = testkit::healthy();
    let p = testkit::pod_mut(&mut s, "web");
    let c = &mut p.containers[0];
    c.mounts.push(MountObs {
        volume: "secrets-store-inline".into(),
        path: "/etc/app/password".into(),
        sub_path: Some("password".into()),
        read_only: true,
    });
    c.env.push(EnvObs {
        name: "UNRELATED".into(),
        source: EnvSourceObs::SecretKey {
            secret: "helm-release".into(),
            key: "x".into(),
            optional: false,
        },
    });
    c.env_from_secrets.push(testkit::secret_name("web").into());
    let p = plan(&s, NS, &pod(), "app").unwrap();
    assert_eq!(
        p.file_paths(),
        ["/mnt/secrets-store/password", "/etc/app/password"]
    );
    assert!(p.files[1].sub_path);
    // envFrom adds `password`; the unrelated Secret is not the driver's business.
    assert_eq!(p.env_names(), ["DB_PASSWORD", "password"]);
}

/// FACTS §5: `objectVersion` selects the version the file holds. A pinned file is
/// compared with that version, not the vault's latest (audit 12, A12-6).
#[test]
fn a_pinned_file_is_compared_with_the_pinned_version() {
    let mut s = testkit::healthy();
    let newer = Fingerprint::of(b"a newer value nobody mounts");
    let Observed::Known(Some(obj)) = &mut testkit::object_mut(&mut s, "web").state else {
        panic!("the object is observed")
    };
    let pinned = obj.versions[0].version.clone();
    obj.versions[0].fingerprint = Some(value());
    let mut latest = obj.versions[0].clone();
    latest.version = "0123456789abcdef0123456789abcdef".into();
    latest.fingerprint = Some(newer);
    obj.versions.insert(0, latest);
    obj.latest_fingerprint = Some(newer);
    let spc = testkit::spc_mut(&mut s, "web");
    let object = testkit::object_name("web");
    spc.parameters.insert(
        "objects".into(),
        testkit::objects_yaml(&[&[
            ("objectName", &object),
            ("objectType", "secret"),
            ("objectAlias", "password"),
            ("objectVersion", &pinned),
        ]]),
    );
    testkit::reparse(spc);

    let p = plan(&s, NS, &pod(), "app").unwrap();
    assert_eq!(p.files[0].vault, Some(value()));
    assert_eq!(p.files[0].pinned.as_deref(), Some(pinned.as_str()));
    let reading = VerifyReading {
        files: vec![("/mnt/secrets-store/password".into(), Ok(value()))],
        env: vec![("DB_PASSWORD".into(), Ok(value()))],
    };
    let (ok, msg) = report(&p, &reading);
    assert!(ok);
    assert!(
        msg.starts_with(&format!(
            "file /mnt/secrets-store/password: matches the pinned version {}",
            &pinned[..8]
        )),
        "{msg}"
    );
    assert!(!msg.contains("differs"), "{msg}");
}

#[test]
fn a_container_that_is_not_running_cannot_be_verified() {
    let mut s = testkit::healthy();
    testkit::pod_mut(&mut s, "web").containers[0].state = ContainerStateObs::Waiting {
        reason: "ContainerCreating".into(),
        message: String::new(),
    };
    let err = plan(&s, NS, &pod(), "app").unwrap_err();
    assert!(
        err.starts_with("cannot verify: container app is not running"),
        "{err}"
    );
    assert!(
        plan(&s, NS, "gone", "app")
            .unwrap_err()
            .contains("no longer there")
    );
    assert!(
        plan(&testkit::healthy(), NS, &pod(), "sidecar")
            .unwrap_err()
            .contains("no container sidecar")
    );
}

#[test]
fn report_says_match_stale_and_cannot_verify_per_item() {
    let s = testkit::healthy();
    let p = plan(&s, NS, &pod(), "app").unwrap();
    let fresh = VerifyReading {
        files: vec![("/mnt/secrets-store/password".into(), Ok(value()))],
        env: vec![("DB_PASSWORD".into(), Ok(value()))],
    };
    let (ok, msg) = report(&p, &fresh);
    assert!(ok);
    assert_eq!(
        msg,
        "file /mnt/secrets-store/password: matches the vault's latest version; matches synced Secret web-secret (key password)\n\
         env DB_PASSWORD: matches synced Secret web-secret (key password)"
    );

    let old = Fingerprint::of(b"the value before rotation");
    let stale = VerifyReading {
        files: vec![("/mnt/secrets-store/password".into(), Ok(value()))],
        env: vec![("DB_PASSWORD".into(), Ok(old))],
    };
    let (_, msg) = report(&p, &stale);
    assert!(
        msg.contains("env DB_PASSWORD: differs from synced Secret web-secret (key password) (stale: restart needed)"),
        "{msg}"
    );

    let distroless = VerifyReading {
        files: vec![(
            "/mnt/secrets-store/password".into(),
            Err(
                "cannot verify: the container has no `cat` (distroless image?): exec failed".into(),
            ),
        )],
        env: vec![(
            "DB_PASSWORD".into(),
            Err("DB_PASSWORD is not set in the process environment".into()),
        )],
    };
    let (ok, msg) = report(&p, &distroless);
    assert!(!ok, "nothing could be read");
    assert!(
        msg.starts_with(
            "file /mnt/secrets-store/password: cannot verify: the container has no `cat`"
        ),
        "{msg}"
    );
    assert!(
        msg.contains("env DB_PASSWORD: cannot verify: DB_PASSWORD is not set"),
        "{msg}"
    );
}

#[test]
fn one_cause_for_everything_is_said_once() {
    let s = testkit::healthy();
    let p = plan(&s, NS, &pod(), "app").unwrap();
    let why = "cannot verify: the container has no `cat` (distroless image?): exec: \"cat\": executable file not found in $PATH".to_string();
    let r = VerifyReading {
        files: vec![("/mnt/secrets-store/password".into(), Err(why.clone()))],
        env: vec![("DB_PASSWORD".into(), Err(why.clone()))],
    };
    assert_eq!(report(&p, &r), (false, why));
}

#[test]
fn sub_path_copies_are_called_stale_for_good() {
    let mut s = testkit::healthy();
    testkit::pod_mut(&mut s, "web").containers[0].mounts[0].sub_path = Some("password".into());
    testkit::pod_mut(&mut s, "web").containers[0].mounts[0].path = "/etc/pw".into();
    let p = plan(&s, NS, &pod(), "app").unwrap();
    let r = VerifyReading {
        files: vec![("/etc/pw".into(), Ok(Fingerprint::of(b"old")))],
        env: vec![("DB_PASSWORD".into(), Ok(value()))],
    };
    let (_, msg) = report(&p, &r);
    assert!(
        msg.starts_with("subPath /etc/pw: differs from the vault's latest version (stale: subPath mounts never see rotated content, restart needed)"),
        "{msg}"
    );
}

#[test]
fn missing_synced_secret_is_a_reason_not_a_verdict() {
    let mut s = testkit::healthy();
    s.secrets.items.clear();
    let p = plan(&s, NS, &pod(), "app").unwrap();
    // The env var's Secret is no longer known as synced by label, but the SPC names it.
    let r = VerifyReading {
        files: vec![("/mnt/secrets-store/password".into(), Ok(value()))],
        env: vec![("DB_PASSWORD".into(), Ok(value()))],
    };
    let (_, msg) = report(&p, &r);
    assert!(
        msg.contains(
            "env DB_PASSWORD: cannot compare with synced Secret: Secret web-secret not found"
        ),
        "{msg}"
    );
}

/// A Secret volume's `items` write each listed key at its path (Kubernetes docs, Secrets:
/// "Projection of Secret keys to specific paths"): the plan reads that path, for a whole
/// volume and a subPath alike. A snapshot file written before paths were recorded holds the
/// keys alone: which file holds a key is unknown, said, not guessed.
#[test]
fn a_secret_volume_through_items_is_read_at_its_paths_unless_they_are_unrecorded() {
    let with = |paths: Vec<crate::snapshot::Name>| {
        let mut s = testkit::healthy();
        let secret = testkit::secret_name("web");
        let p = testkit::pod_mut(&mut s, "web");
        p.volumes.push(crate::snapshot::VolumeObs {
            name: "synced".into(),
            source: VolumeSourceObs::Secret {
                secret_name: secret.as_str().into(),
                optional: false,
                keys: vec!["password".into()],
                paths,
            },
        });
        for (path, sub_path) in [("/etc/synced", None), ("/etc/pw", Some("db/pw.txt"))] {
            p.containers[0].mounts.push(MountObs {
                volume: "synced".into(),
                path: path.into(),
                sub_path: sub_path.map(Into::into),
                read_only: true,
            });
        }
        plan(&s, NS, &pod(), "app").unwrap()
    };
    let p = with(vec!["db/pw.txt".into()]);
    let copies: Vec<(&str, bool, &str)> = (p.copies.iter())
        .map(|c| (c.path.as_str(), c.sub_path, c.synced.key.as_str()))
        .collect();
    assert_eq!(
        copies,
        [
            ("/etc/synced/db/pw.txt", false, "password"),
            ("/etc/pw", true, "password")
        ]
    );
    assert!(p.notes.is_empty(), "{:?}", p.notes);

    let p = with(vec![]);
    assert!(p.copies.is_empty(), "{:?}", p.copies);
    assert_eq!(
        p.notes,
        [
            "volume synced: Secret web-secret is mounted through items, whose file paths are not recorded: not verified"
        ]
    );
}
