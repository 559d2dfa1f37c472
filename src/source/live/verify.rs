//! In-container verify, the pure half: from the latest snapshot, which files and environment
//! variables of a container carry Key Vault content and what they should hold (keyed
//! fingerprints of the synced Secret and, when known, the vault's latest version); then, from
//! what the exec read, one line per file and variable. Values never pass through here — only
//! fingerprints — so nothing can leak into the message.

use std::collections::BTreeSet;

use crate::action::copy_verdict::SecretCopy;
use crate::action::kube::VerifyReading;
use crate::fingerprint::Fingerprint;
use crate::snapshot::{ContainerStateObs, KeyPaths, Observed, Snapshot, VolumeSourceObs};

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

/// A file of a synced Secret's volume (a Secret volume, or a projected volume's Secret
/// source), whole or through subPath: judged against the Secret's key as the lab's verify
/// judges it ([`SecretCopy`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CopyCheck {
    /// Path inside the container.
    pub path: String,
    /// Mounted with `subPath`: bound at container start, never updated (FACTS §4).
    pub sub_path: bool,
    pub synced: SyncedKey,
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
    /// Files of synced Secrets' volumes.
    pub copies: Vec<CopyCheck>,
    pub env: Vec<EnvCheck>,
    /// Things that could not be planned ("SecretProviderClass x not observed").
    pub notes: Vec<String>,
}

impl VerifyPlan {
    pub fn file_paths(&self) -> Vec<String> {
        let copies = self.copies.iter().map(|k| k.path.clone());
        self.files
            .iter()
            .map(|f| f.path.clone())
            .chain(copies)
            .collect()
    }
    pub fn env_names(&self) -> Vec<String> {
        self.env.iter().map(|e| e.name.clone()).collect()
    }
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.copies.is_empty() && self.env.is_empty()
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
                None => under(&m.path, file),
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
    for m in &c.mounts {
        if let Some(v) = p.volume(&m.volume) {
            secret_copies(snapshot, ns, &synced_names, m, v, &mut out);
        }
    }
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

/// The files mount `m` of volume `v` shows from the Secrets the driver syncs (`synced`): a
/// subPath names one file, a whole volume shows every key of the Secret as a file of its name,
/// or, with `items`, the listed keys at their paths (the secret volume plugin's payload).
/// Where a snapshot holds `items` without their paths (written before they were recorded),
/// which file holds which key is not known, and said so, not guessed.
fn secret_copies(
    snapshot: &Snapshot,
    ns: &str,
    synced: &BTreeSet<&str>,
    m: &crate::snapshot::MountObs,
    v: &crate::snapshot::VolumeObs,
    out: &mut VerifyPlan,
) {
    let names: Vec<&str> = match &v.source {
        VolumeSourceObs::Secret { secret_name, .. } => vec![secret_name.as_str()],
        VolumeSourceObs::Projected { secrets, .. } => secrets.iter().map(|x| x.as_str()).collect(),
        _ => return,
    };
    let secrets = (names.into_iter()).map(|name| (name, v.source.key_paths(name)));
    for (secret, layout) in secrets.filter(|(s, _)| synced.contains(s)) {
        // (key, file path in the container)
        let files: Vec<(&str, String)> = match (&m.sub_path, layout) {
            (_, KeyPaths::Unrecorded) => {
                let note = format!(
                    "volume {}: Secret {secret} is mounted through items, whose file paths are not recorded: not verified",
                    m.volume
                );
                // Once per volume, however many mounts of it.
                if !out.notes.contains(&note) {
                    out.notes.push(note);
                }
                continue;
            }
            (Some(sub), layout) => match layout.key_at(sub) {
                Some(key) => vec![(key, m.path.to_string())],
                // Not a file of this Secret.
                None => continue,
            },
            (None, KeyPaths::Items(keys, paths)) => (keys.iter().zip(paths))
                .map(|(k, p)| (k.as_str(), under(&m.path, p)))
                .collect(),
            (None, _) => match snapshot.secret(ns, secret) {
                Some(s) => (s.data.keys())
                    .map(|k| (k.as_str(), under(&m.path, k)))
                    .collect(),
                None => {
                    out.notes.push(format!(
                        "volume {}: Secret {secret} not observed, cannot tell which files it holds",
                        m.volume
                    ));
                    continue;
                }
            },
        };
        for (key, path) in files {
            if !(out.copies.iter()).any(|k| k.path == path) {
                out.copies.push(CopyCheck {
                    path,
                    sub_path: m.sub_path.is_some(),
                    synced: synced_key(snapshot, ns, secret, key),
                });
            }
        }
    }
}

/// File `file` of a volume mounted at `mount`.
fn under(mount: &str, file: &str) -> String {
    format!("{}/{file}", mount.trim_end_matches('/'))
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

/// The lab's judgement of a Secret's copy ([`SecretCopy`]) on what was read: the copy `held`,
/// the Secret's key as the snapshot saw it, and the file this pod mounted for that key as read
/// now (a whole file of the CSI volume that feeds it).
fn copy_verdict(
    plan: &VerifyPlan,
    reading: &VerifyReading,
    k: &CopyCheck,
    held_now: Fingerprint,
) -> String {
    let s = &k.synced;
    let current =
        (s.fingerprint.clone()).map_err(|why| format!("cannot compare with synced Secret: {why}"));
    let feeds = |f: &&FileCheck| {
        !f.sub_path && (f.synced.iter()).any(|x| x.secret == s.secret && x.key == s.key)
    };
    let mounted = (plan.files.iter().find(feeds))
        .and_then(|f| Some((f.path.as_str(), held(&reading.files, &f.path, "").ok()?)));
    let copy = SecretCopy {
        secret: &s.secret,
        key: &s.key,
        sub_path: k.sub_path,
    };
    copy.verdict(held_now, current, mounted)
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
    for k in &plan.copies {
        let verdict = match held(&reading.files, &k.path, "cannot verify: not read") {
            Err(why) => why,
            Ok(h) => {
                read_any = true;
                copy_verdict(plan, reading, k, h)
            }
        };
        let kind = if k.sub_path { "subPath" } else { "file" };
        lines.push(format!("{kind} {}: {verdict}", k.path));
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
#[path = "verify_tests.rs"]
mod tests;
