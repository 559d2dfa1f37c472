//! What a container's copy of a synced Secret's key holds, judged against the Secret now: the
//! one judgement the lab's in-container verify and the live one share (audit NNN-out: the live
//! verify judged no Secret volume, the lab's did). A Secret volume (or a projected volume's
//! Secret source) follows its Secret, as the kubelet syncs it; a subPath of it is the file as
//! it was when the container started and never sees a later change (FACTS §4: the atomic
//! writer swaps a symlink the bind mount does not follow). Only fingerprints come in.

use crate::fingerprint::Fingerprint;

/// A copy of key `key` of Secret `secret` in a container.
#[derive(Clone, Copy, Debug)]
pub struct SecretCopy<'a> {
    pub secret: &'a str,
    pub key: &'a str,
    /// Mounted with subPath: bound at the container's start, never updated.
    pub sub_path: bool,
}

impl SecretCopy<'_> {
    /// The verdict on a copy that holds `held`, against the Secret's key now (`current`, or
    /// the words saying why it is not known), and the file the pod mounted from the vault for
    /// that key (`mounted`, when there is one): a Secret that matches the copy may itself be
    /// behind the vault, since only rotation rewrites an existing synced Secret (FACTS §11).
    pub fn verdict(
        &self,
        held: Fingerprint,
        current: Result<Fingerprint, String>,
        mounted: Option<(&str, Fingerprint)>,
    ) -> String {
        let SecretCopy {
            secret,
            key,
            sub_path,
        } = *self;
        match current {
            Err(why) => why,
            Ok(cur) if cur == held => match mounted {
                Some((file, f)) if f != cur => format!(
                    "matches Secret {secret} (key {key}), but that Secret is stale: key {key} differs from file {file} this pod mounted (a driver before v1.6 rewrites a synced Secret only at rotation, a v1.6 one at its next reconcile)"
                ),
                _ => format!("matches Secret {secret} (key {key})"),
            },
            Ok(_) if sub_path => format!(
                "stale: Secret {secret} (key {key}) changed after the container started, and a subPath copy never sees updates (restart needed)"
            ),
            // The kubelet rewrites a Secret volume on its sync (a minute or so, plus its
            // cache): behind for now, not for good.
            Ok(_) => format!(
                "differs from Secret {secret} (key {key}): the kubelet has not refreshed the volume yet"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_matches_is_stale_for_good_or_for_now_and_sees_a_secret_behind_the_mount() {
        let (old, new) = (Fingerprint::of(b"old"), Fingerprint::of(b"new"));
        let copy = |sub_path| SecretCopy {
            secret: "db",
            key: "pw",
            sub_path,
        };
        assert_eq!(
            copy(true).verdict(old, Ok(old), None),
            "matches Secret db (key pw)"
        );
        assert!(
            copy(true)
                .verdict(old, Ok(new), None)
                .starts_with("stale: ")
        );
        assert!(
            (copy(false).verdict(old, Ok(new), None)).contains("has not refreshed the volume yet")
        );
        assert!(
            (copy(false).verdict(old, Ok(old), Some(("pw.txt", new))))
                .contains("but that Secret is stale: key pw differs from file pw.txt")
        );
        assert_eq!(copy(true).verdict(old, Err("gone".into()), None), "gone");
    }
}
