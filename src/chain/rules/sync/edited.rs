//! A synced Secret that an edit of `secretObjects` left behind (KVC805). FACTS §2: the driver
//! writes exactly the keys `secretObjects` make, creating the Secret at mount and never
//! rewriting an existing one there; FACTS §4/§11: only the rotation reconciler (rotation on)
//! applies an SPC edit made after pod start, at its next poll, and it can fail silently
//! (drivers from v1.6.0 log rotation errors only).

use crate::chain::context::Ctx;
use crate::chain::rules::mount::LAG_SLACK;
use crate::snapshot::{SecretObjectSpec, SecretObs};

/// Where rotation stands toward an SPC edit the Secret does not show yet.
pub(super) enum Rotation {
    /// Off, or not known to be on: only a new Secret (delete it, remount) applies the edit.
    NotOn,
    /// On, and the Secret was written less than a poll interval (+ the KVC703 slack) ago:
    /// the next poll should apply the edit. `ago`, `poll` in seconds.
    Due { ago: u64, poll: u64 },
    /// On, and a poll (+ slack) has passed since the Secret was written without applying it
    /// (`ago` unknown when neither the Secret nor the SPCPS says when it was written).
    Stuck { ago: Option<u64>, poll: u64 },
}

/// Rotation's stance for `secret`, written by this chain's mount. The later of the Secret's
/// and the SPCPS's last writes: rotation updates both, so either one being recent means a
/// poll ran then.
pub(super) fn rotation(cx: &Ctx, secret: &SecretObs) -> Rotation {
    let written = [secret.updated_at, cx.status.and_then(|st| st.updated_at)]
        .into_iter()
        .flatten()
        .max();
    rotation_since(cx, written)
}

/// Rotation's stance toward an SPC edit not applied by what was last written at `written`
/// (`None`: not known when).
pub(super) fn rotation_since(cx: &Ctx, written: Option<jiff::Timestamp>) -> Rotation {
    let Some(csi) = cx.cluster().csi_driver.known() else {
        return Rotation::NotOn;
    };
    if csi.rotation_enabled.known() != Some(&true) {
        return Rotation::NotOn;
    }
    let poll = csi.rotation_poll_interval;
    let Some(written) = written else {
        return Rotation::Stuck {
            ago: None,
            poll: poll.as_secs(),
        };
    };
    let clock = cx.ix.clock();
    let limit =
        jiff::SignedDuration::try_from(poll + LAG_SLACK).unwrap_or(jiff::SignedDuration::MAX);
    let past = written.checked_add(limit).is_ok_and(|t| clock.after(t));
    let ago = clock.now().duration_since(written).as_secs().max(0) as u64;
    if past {
        Rotation::Stuck {
            ago: Some(ago),
            poll: poll.as_secs(),
        }
    } else {
        Rotation::Due {
            ago,
            poll: poll.as_secs(),
        }
    }
}

/// Why the Secret lacks keys `secretObjects` now make, by rotation's stance.
pub(super) fn lacking_why(rotation: &Rotation) -> String {
    match rotation {
        Rotation::NotOn => "it was written before they were added, and a driver before v1.6 does not rewrite an existing Secret at mount, only rotation updates it (a v1.6 driver rewrites it at its next reconcile, within 5 minutes of a mount)".to_string(),
        Rotation::Due { ago, poll } => format!(
            "it was written before they were added, and rotation is on (poll interval {poll}s): the Secret or the pod's SPCPS was last written {ago}s ago, so its next poll should write them"
        ),
        // The SPC's edit time is not observed: the Secret's last write bounds the poll that
        // should have applied it, and a fresh edit still has a poll to go.
        Rotation::Stuck { ago, poll } => format!(
            "it was written before they were added, and rotation is on (poll interval {poll}s) but has not applied the SPC edit: the Secret and the pod's SPCPS were last written {}; unless the SPC was edited less than a poll ago, rotation fails silently (drivers from v1.6.0 log its errors only, no event)",
            match ago {
                Some(a) => format!("{a}s ago, more than a poll"),
                None => "at a time the snapshot does not show".to_string(),
            }
        ),
    }
}

/// The fix while rotation's next poll should still apply the edit: nothing to delete.
pub(super) fn due_fix(secret: &str, poll: u64, keys: &str) -> String {
    format!(
        "# nothing to delete yet: rotation's next poll (every {poll}s) rewrites Secret {secret} from the edited SecretProviderClass; if it still lacks {keys} after that, the driver log says why: {}",
        super::remedy::DRIVER_LOG
    )
}

/// The fix while rotation's next poll should rewrite a Secret whose values differ from the
/// mount (the reconciler patches a Secret whose data differs, FACTS §2): nothing to delete,
/// and the env readers restart after that poll, not before (a restart now reads the old value
/// again, FACTS §11; audit YY1).
pub(super) fn due_rewrite_fix(cx: &Ctx, secret: &str, poll: u64) -> String {
    let then = match super::super::remedy::env_readers_restart(cx) {
        Some(restart) => format!(
            "; after it, restart what read the old value through env (env keeps the value read at container start): {restart}"
        ),
        None => String::new(),
    };
    format!(
        "# nothing to delete yet: rotation's next poll (every {poll}s) rewrites Secret {secret} from the mounted files{then}; if it still differs after that poll, the driver log says why: {}",
        super::remedy::DRIVER_LOG
    )
}

/// Why a synced Secret is of another type than its entry now makes, when it is: a Secret's
/// type cannot be changed (the API server refuses the update), so it was written before the
/// entry's type was edited and neither rotation nor a restart rewrites it (FACTS §2, §11;
/// audit YY3). Empty or placeholder types are not judged.
pub(super) fn retyped(so: &SecretObjectSpec, secret: &SecretObs) -> Option<String> {
    let (now, was) = (so.type_.as_str(), secret.type_.as_str());
    if now.is_empty() || was.is_empty() || now == was || super::super::params::is_placeholder(now) {
        return None;
    }
    Some(format!(
        "is of type {was}, not the {now} its secretObjects entry now makes: it was written before the type was edited, and a Secret's type cannot be changed (the API server refuses the update), so neither rotation nor a restart rewrites it"
    ))
}

/// Keys the live Secret holds that no `secretObjects` entry for it makes any more: leftovers
/// of an earlier SPC (FACTS §2: the driver writes exactly the entries' keys, so a rebuilt
/// Secret drops them). Template placeholders are not judged.
pub(super) fn leftover_keys<'s>(so: &SecretObjectSpec, secret: &'s SecretObs) -> Vec<&'s str> {
    let left: Vec<&str> = secret
        .data
        .keys()
        .map(String::as_str)
        .filter(|k| !so.data.iter().any(|d| d.key == *k))
        .collect();
    // A placeholder key makes no key to compare with (KVC306 says so). Asked only when
    // something is left over: most Secrets hold exactly what their secretObjects make.
    if !left.is_empty() && super::unrendered_key(so) {
        return Vec::new();
    }
    left
}

/// A container or volume that asks the Secret for a leftover key by name: the kubelet stops it
/// once the Secret is rebuilt without the key (KVC905's symptom, before it happens).
pub(super) struct Reader {
    /// `Kind/name` of the workload (or the bare pod).
    owner: String,
    /// The command that edits its owner, with what to change.
    edit: String,
    pub evidence: String,
}

/// The readers of `so`'s Secret asking for one of `leftover` by name, once per owner and use.
pub(super) fn leftover_readers(cx: &Ctx, so: &SecretObjectSpec, leftover: &[&str]) -> Vec<Reader> {
    use crate::chain::index::Use;
    use crate::snapshot::VolumeSourceObs;
    let mut readers: Vec<Reader> = Vec::new();
    if leftover.is_empty() {
        return readers;
    }
    let made: Vec<&str> = so.data.iter().map(|d| d.key.as_str()).collect();
    let consumers = cx
        .ix
        .secret_consumers
        .get(&(cx.ns(), so.secret_name.as_str()));
    for c in consumers.into_iter().flatten() {
        let asked: Vec<&str> = match &c.how {
            Use::Env { key, .. } => vec![*key],
            Use::Volume { volume } => match c
                .pod
                .volumes
                .iter()
                .find(|v| v.name == *volume)
                .map(|v| &v.source)
            {
                Some(VolumeSourceObs::Secret { keys, .. }) => {
                    keys.iter().map(|k| k.as_str()).collect()
                }
                Some(VolumeSourceObs::Projected { secret_items, .. }) => secret_items
                    .iter()
                    .filter(|s| s.secret == so.secret_name)
                    .flat_map(|s| s.keys.iter().map(|k| k.as_str()))
                    .collect(),
                _ => continue,
            },
            Use::EnvFrom { .. } | Use::ImagePull => continue,
        };
        let gone: Vec<&str> = asked.into_iter().filter(|k| leftover.contains(k)).collect();
        if gone.is_empty() {
            continue;
        }
        let workload = cx.ix.workload_of(c.pod);
        let owner = match workload {
            Some((k, n)) => format!("{k}/{n}"),
            None => format!("Pod/{}", c.pod.name),
        };
        let what = crate::chain::rules::consumers::describe_in(c.pod, &c.how);
        let evidence = format!("{owner}: {what} asks for key {}", gone.join(", "));
        if readers.iter().any(|r| r.evidence == evidence) {
            continue;
        }
        let change = format!(
            "{what}: ask for a key SecretProviderClass {} makes ({}) instead of {}, or add back the secretObjects data entry that made it",
            cx.spc_name,
            made.join(", "),
            gone.join(", ")
        );
        let edit = crate::chain::rules::remedy::edit_pod_owner(cx, c.pod, workload, &change);
        readers.push(Reader {
            owner,
            edit,
            evidence,
        });
    }
    readers
}

/// The message part for keys left over from an earlier SPC.
pub(super) fn leftover_part(
    cx: &Ctx,
    so: &SecretObjectSpec,
    leftover: &[&str],
    readers: &[Reader],
) -> String {
    let mut owners: Vec<&str> = readers.iter().map(|r| r.owner.as_str()).collect();
    owners.dedup();
    format!(
        "has key {} that no secretObjects entry of SecretProviderClass {} makes any more: a leftover of an earlier SPC (the driver writes exactly the entries' keys, so it goes when Secret {} is rebuilt: deleted and remounted, garbage-collected, or re-created by a v1.6 driver's reconcile){}",
        leftover.join(", "),
        cx.spc_name,
        so.secret_name,
        if owners.is_empty() {
            ", and nothing asks for it by name".to_string()
        } else {
            format!("; its readers ({}) break then", owners.join(", "))
        }
    )
}

/// The fix for leftovers: point the readers at a key the SPC makes (the first reader's edit
/// pasted, the others named), or nothing to do when no one asks for them.
pub(super) fn leftover_fix(
    cx: &Ctx,
    so: &SecretObjectSpec,
    leftover: &[&str],
    readers: &[Reader],
) -> String {
    let Some(first) = readers.first() else {
        return format!(
            "# nothing asks for {} by name: the next rebuild of Secret {} drops it; to keep it, add its secretObjects data entry back to SecretProviderClass {}",
            leftover.join(", "),
            so.secret_name,
            cx.spc_name
        );
    };
    let others: Vec<&str> = readers[1..]
        .iter()
        .map(|r| r.owner.as_str())
        .filter(|o| *o != first.owner)
        .collect();
    if others.is_empty() {
        first.edit.clone()
    } else {
        format!("{}; likewise in {}", first.edit, others.join(", "))
    }
}

/// The Mount link of a pod whose mount predates an SPC edit that rotation, though on, has not
/// applied past a poll (+ slack): drawn `!` like a lagging mount (KVC703), since its files too
/// are older than the SPC. The finding is the Sync link's KVC805, which names this as evidence.
/// Runs after the links are settled: only a Mount link nothing else decided is redrawn.
pub(crate) fn mount_predates_edit(cx: &Ctx, links: &mut [crate::chain::model::Link]) {
    use crate::chain::model::{LinkKind, Status};
    let mount = &links[LinkKind::Mount.index()];
    if mount.status != Status::Ok || !mount.findings.is_empty() || cx.template {
        return;
    }
    let Some(spc) = cx.spc else { return };
    // Most chains' Secrets have every key: a lookup per key settles them before anything
    // that allocates (every healthy chain of a 10k-pod pass comes through here).
    let any_key_missing = spc.secret_objects.iter().enumerate().any(|(i, so)| {
        cx.synced_secret(i).is_some_and(|secret| {
            so.data
                .iter()
                .any(|d| !secret.data.contains_key(d.key.as_str()))
        })
    });
    if !any_key_missing || super::unmounted_objects(cx).is_none() {
        return;
    }
    let stuck = spc.secret_objects.iter().enumerate().any(|(i, so)| {
        cx.synced_secret(i).is_some_and(|secret| {
            !super::keys_lacking(cx, so, secret).is_empty()
                && matches!(rotation(cx, secret), Rotation::Stuck { .. })
        })
    });
    if stuck {
        let mount = &mut links[LinkKind::Mount.index()];
        mount.status = Status::Warning;
        mount.summary = "predates SPC edit".into();
    }
}
