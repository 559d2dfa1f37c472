//! In-container verify, the pure half: from the latest snapshot, which files and environment
//! variables of a container carry Key Vault content and what they should hold (keyed
//! fingerprints of the synced Secret and, when known, the vault's latest version); then, from
//! what the exec read, one line per file and variable. Values never pass through here — only
//! fingerprints — so nothing can leak into the message.

use std::collections::BTreeSet;

use crate::action::kube::VerifyReading;
use crate::fingerprint::Fingerprint;
use crate::snapshot::{ContainerStateObs, Observed, Snapshot, VolumeSourceObs};

const DRIVER: &str = "secrets-store.csi.k8s.io";

/// What a Secret key should hold, as the snapshot saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncedKey {
    pub secret: String,
    pub key: String,
    /// `Err(reason)`: the Secret or key is not in the snapshot.
    pub fingerprint: Result<Fingerprint, String>,
}

/// One mounted file to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileCheck {
    /// Path inside the container.
    pub path: String,
    /// Mounted with `subPath`: a copy taken at container start, never updated.
    pub sub_path: bool,
    /// The synced Secret keys fed from this file (SPC `secretObjects`).
    pub synced: Vec<SyncedKey>,
    /// The vault version the SPC asks for (its latest, or the `objectVersion` it pins),
    /// when the source could fingerprint it.
    pub vault: Option<Fingerprint>,
    /// The `objectVersion` the SPC pins (None: latest): the file holds that version
    /// (FACTS §5), so that is what it is compared with.
    pub pinned: Option<String>,
}

/// One environment variable fed from a synced Secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvCheck {
    pub name: String,
    pub synced: SyncedKey,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerifyPlan {
    pub files: Vec<FileCheck>,
    pub env: Vec<EnvCheck>,
    /// Things that could not be planned ("SecretProviderClass x not observed").
    pub notes: Vec<String>,
}

impl VerifyPlan {
    pub fn file_paths(&self) -> Vec<String> {
        self.files.iter().map(|f| f.path.clone()).collect()
    }
    pub fn env_names(&self) -> Vec<String> {
        self.env.iter().map(|e| e.name.clone()).collect()
    }
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.env.is_empty()
    }
}

fn synced_key(snapshot: &Snapshot, ns: &str, secret: &str, key: &str) -> SyncedKey {
    let fingerprint = match snapshot.secret(ns, secret) {
        Some(s) => s
            .data
            .get(key)
            .copied()
            .ok_or_else(|| format!("Secret {secret} has no key {key}")),
        None => Err(match snapshot.secrets.unknown_in(ns) {
            Some(why) => format!("Secret {secret} not observed ({why})"),
            None => format!("Secret {secret} not found"),
        }),
    };
    SyncedKey {
        secret: secret.into(),
        key: key.into(),
        fingerprint,
    }
}

/// Decide what to read in `container` of pod `ns/pod`. `Err` when the container cannot be
/// verified at all (gone, not running).
pub fn plan(
    snapshot: &Snapshot,
    ns: &str,
    pod: &str,
    container: &str,
) -> Result<VerifyPlan, String> {
    let p = snapshot
        .pod(ns, pod)
        .ok_or_else(|| format!("cannot verify: pod {ns}/{pod} is no longer there"))?;
    let c = p
        .containers
        .iter()
        .find(|c| c.name == container)
        .ok_or_else(|| format!("cannot verify: pod {ns}/{pod} has no container {container}"))?;
    match &c.state {
        ContainerStateObs::Running { .. } => {}
        ContainerStateObs::Waiting { reason, .. } => {
            return Err(format!(
                "cannot verify: container {container} is not running (waiting: {reason})"
            ));
        }
        ContainerStateObs::Terminated { reason, .. } => {
            return Err(format!(
                "cannot verify: container {container} is not running (terminated: {reason})"
            ));
        }
        ContainerStateObs::Unknown => {
            return Err(format!(
                "cannot verify: container {container} is not running"
            ));
        }
    }
    let spcs_here = || snapshot.spcs.items.iter().filter(|s| s.namespace == ns);
    let mut out = VerifyPlan::default();

    for m in &c.mounts {
        let Some(VolumeSourceObs::Csi {
            driver, attributes, ..
        }) = p.volume(&m.volume).map(|v| &v.source)
        else {
            continue;
        };
        if driver != DRIVER {
            continue;
        }
        let Some(spc_name) = attributes.get("secretProviderClass") else {
            continue;
        };
        let Some(spc) = spcs_here().find(|s| s.name == spc_name) else {
            out.notes.push(format!(
                "volume {}: SecretProviderClass {spc_name} not observed, cannot tell which files it mounts",
                m.volume
            ));
            continue;
        };
        let vault = spc.parsed.keyvault_name.as_deref().unwrap_or_default();
        for o in &spc.parsed.objects {
            let file = o.file_name();
            let path = match &m.sub_path {
                // A subPath mount is one file of the volume, at the mount path itself.
                Some(sp) if sp == file => m.path.to_string(),
                Some(_) => continue,
                None => format!("{}/{file}", m.path.trim_end_matches('/')),
            };
            let synced = spc
                .secret_objects
                .iter()
                .flat_map(|so| {
                    so.data
                        .iter()
                        .filter(|d| d.object_name == file)
                        .map(|d| synced_key(snapshot, ns, &so.secret_name, &d.key))
                })
                .collect();
            let vault_fp = o.object_type.and_then(|t| {
                snapshot
                    .azure
                    .objects
                    .iter()
                    .find(|v| {
                        v.vault.eq_ignore_ascii_case(vault)
                            && v.object_type == t
                            && v.name == o.object_name
                    })
                    .and_then(|v| match &v.state {
                        Observed::Known(Some(obj)) => match &o.object_version {
                            Some(pinned) => obj.version(pinned).and_then(|v| v.fingerprint),
                            None => obj.latest_fingerprint,
                        },
                        _ => None,
                    })
            });
            if !out.files.iter().any(|f| f.path == path) {
                out.files.push(FileCheck {
                    path,
                    sub_path: m.sub_path.is_some(),
                    synced,
                    vault: vault_fp,
                    pinned: o.object_version.clone(),
                });
            }
        }
    }

    // Secrets the driver syncs in this namespace: named by an SPC, or carrying its label.
    let synced_names: BTreeSet<&str> = spcs_here()
        .flat_map(|s| s.secret_objects.iter().map(|so| so.secret_name.as_str()))
        .chain(
            snapshot
                .secrets
                .items
                .iter()
                .filter(|s| s.namespace == ns && s.driver_managed())
                .map(|s| s.name.as_str()),
        )
        .collect();
    // The variables it took at start, envFrom's included (the one notion the timelines and
    // the lab's verify share): those of Secrets the driver syncs are compared.
    let keys_of = |secret: &str| {
        (snapshot.secret(ns, secret)).map(|s| s.data.keys().map(String::as_str).collect())
    };
    let env = c.secret_env_reads(keys_of);
    for secret in env.unknown_from {
        if synced_names.contains(secret) {
            out.notes.push(format!(
                "envFrom Secret {secret}: not observed, cannot tell which variables it sets"
            ));
        }
    }
    for r in env.reads {
        if synced_names.contains(r.secret) {
            out.env.push(EnvCheck {
                name: r.var.to_string(),
                synced: synced_key(snapshot, ns, r.secret, r.key),
            });
        }
    }
    Ok(out)
}

fn compare_synced(held: &Fingerprint, s: &SyncedKey, stale: &str) -> String {
    match &s.fingerprint {
        Ok(want) if want == held => format!("matches synced Secret {} (key {})", s.secret, s.key),
        Ok(_) => format!(
            "differs from synced Secret {} (key {}) ({stale})",
            s.secret, s.key
        ),
        Err(why) => format!("cannot compare with synced Secret: {why}"),
    }
}

/// What was read for `name` (a file path or a variable), or why not; `missing` when it was
/// not even tried.
fn held(
    readings: &[(String, Result<Fingerprint, String>)],
    name: &str,
    missing: &str,
) -> Result<Fingerprint, String> {
    readings
        .iter()
        .find(|(n, _)| n == name)
        .map_or_else(|| Err(missing.to_string()), |(_, r)| r.clone())
}

/// One line per file and variable. `ok` is false when nothing could be read.
pub fn report(plan: &VerifyPlan, reading: &VerifyReading) -> (bool, String) {
    let mut lines = Vec::new();
    let mut read_any = false;
    for f in &plan.files {
        let held = held(&reading.files, &f.path, "cannot verify: not read");
        let verdict = match held {
            Err(why) => why,
            Ok(held) => {
                read_any = true;
                let stale = if f.sub_path {
                    "stale: subPath mounts never see rotated content, restart needed"
                } else {
                    "the driver has not caught up with a rotation yet"
                };
                let mut parts: Vec<String> = Vec::new();
                let (version, behind) = match &f.pinned {
                    Some(v) => (
                        format!("the pinned version {}", &v[..v.len().min(8)]),
                        "objectVersion edited after the mount? the driver re-reads it only at a rotation",
                    ),
                    None => ("the vault's latest version".to_string(), stale),
                };
                match f.vault {
                    Some(v) if v == held => parts.push(format!("matches {version}")),
                    Some(_) => parts.push(format!("differs from {version} ({behind})")),
                    None => {}
                }
                parts.extend(f.synced.iter().map(|s| compare_synced(&held, s, stale)));
                if parts.is_empty() {
                    parts.push("read, but nothing to compare it with (no synced Secret, vault value not fingerprinted)".into());
                }
                parts.join("; ")
            }
        };
        let kind = if f.sub_path { "subPath" } else { "file" };
        lines.push(format!("{kind} {}: {verdict}", f.path));
    }
    for e in &plan.env {
        let held = held(&reading.env, &e.name, "not read");
        let verdict = match held {
            Err(why) if why.starts_with("cannot verify") => why,
            Err(why) => format!("cannot verify: {why}"),
            Ok(held) => {
                read_any = true;
                compare_synced(&held, &e.synced, "stale: restart needed")
            }
        };
        lines.push(format!("env {}: {verdict}", e.name));
    }
    // One cause for every item (no `cat`, exec forbidden): say it once.
    let reasons: BTreeSet<&str> = reading
        .files
        .iter()
        .chain(&reading.env)
        .filter_map(|(_, r)| r.as_ref().err().map(String::as_str))
        .collect();
    if !read_any && lines.len() > 1 && reasons.len() == 1 {
        lines = reasons.iter().map(|r| r.to_string()).collect();
    }
    lines.extend(plan.notes.iter().cloned());
    if lines.is_empty() {
        lines.push("nothing from Key Vault is mounted or referenced in this container".into());
        return (true, lines.join("\n"));
    }
    (read_any || plan.is_empty(), lines.join("\n"))
}

#[cfg(test)]
mod tests {
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
                    "cannot verify: the container has no `cat` (distroless image?): exec failed"
                        .into(),
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
}
