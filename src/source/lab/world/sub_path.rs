//! subPath mounts as the kubelet makes them: the one file of the volume bind-mounted at the
//! container's start, so it never sees a later change of the volume (FACTS §4: "subPath
//! mounts never see rotated content", the atomic writer swaps a symlink the bind mount does
//! not follow). That holds for a file of the CSI volume and for a key of a Secret volume (or
//! of a projected volume's Secret source) alike: the container keeps the value the synced
//! Secret had at its start, while only rotation rewrites the Secret (§11). The copy is kept
//! as a fingerprint and judged by the lab's verify.

use k8s_openapi::api::core::v1::{Container, KeyToPath, PodSpec, Volume};

use super::*;
use crate::action::copy_verdict::SecretCopy;

/// What a subPath mount of a container shows, from the pod's volumes.
enum Source<'a> {
    /// A file of the pod's CSI volume of that name.
    Csi(&'a CsiVolume),
    /// Key `key` of Secret `secret`.
    Secret { secret: &'a str, key: &'a str },
}

/// The Secret and key that file `path` of a Secret volume (or a projected volume's Secret
/// source) shows: an `items[].path` names its key; without `items`, each key is a file of its
/// own name (the secret volume plugin's payload).
fn secret_file<'a>(v: &'a Volume, path: &'a str) -> Option<(&'a str, &'a str)> {
    let keyed = |items: Option<&'a Vec<KeyToPath>>| match items {
        Some(items) => (items.iter())
            .find(|i| i.path == path)
            .map(|i| i.key.as_str()),
        None => Some(path),
    };
    if let Some(s) = &v.secret {
        let name = s.secret_name.as_deref()?;
        return keyed(s.items.as_ref()).map(|k| (name, k));
    }
    let sources = v.projected.iter().flat_map(|p| p.sources.iter().flatten());
    sources
        .filter_map(|src| src.secret.as_ref())
        .find_map(|s| keyed(s.items.as_ref()).map(|k| (s.name.as_str(), k)))
}

impl World {
    /// Where the file a subPath `sub` of pod `p`'s volume `volume` shows comes from: a CSI
    /// volume's file, or a Secret's key; None for any other volume (ConfigMaps hold no Key
    /// Vault content).
    fn sub_path_source<'a>(
        p: &'a LabPod,
        spec: Option<&'a PodSpec>,
        volume: &str,
        sub: &'a str,
    ) -> Option<Source<'a>> {
        if let Some(v) = p.csi.iter().find(|v| v.name == volume) {
            return Some(Source::Csi(v));
        }
        let v = spec?.volumes.iter().flatten().find(|v| v.name == volume)?;
        let (secret, key) = secret_file(v, sub)?;
        Some(Source::Secret { secret, key })
    }

    /// The files container `c` of pod `p` (namespace `ns`) mounts with subPath, by mount
    /// path, as they are at its start: fingerprints of a CSI volume's file or a Secret's key.
    pub(super) fn subpath_files(
        &self,
        ns: &str,
        p: &LabPod,
        c: &Container,
    ) -> BTreeMap<String, Fingerprint> {
        let mut files = BTreeMap::new();
        for m in c.volume_mounts.iter().flatten() {
            let Some(sub) = m.sub_path.as_deref().filter(|s| !s.is_empty()) else {
                continue;
            };
            let held = match Self::sub_path_source(p, p.spec.as_deref(), &m.name, sub) {
                Some(Source::Csi(v)) => v
                    .mounted
                    .as_ref()
                    .and_then(|mm| mm.files.get(sub))
                    .map(|content| Fingerprint::of(content)),
                Some(Source::Secret { secret, key }) => self
                    .secrets
                    .get(&(ns.to_string(), secret.to_string()))
                    .and_then(|s| s.data.as_ref()?.get(key))
                    .map(|v| Fingerprint::of(&v.0)),
                None => None,
            };
            if let Some(held) = held {
                files.insert(m.mount_path.clone(), held);
            }
        }
        files
    }

    /// Verify's line for the subPath copy at `path` of container `c` in pod `p`, which took
    /// `held` at its start: against the mounted file now (a CSI volume), or the Secret's key
    /// now (a Secret volume) — and then whether that Secret is itself behind a file this pod
    /// mounted, as for env (only rotation rewrites a synced Secret, FACTS §11).
    pub(super) fn sub_path_verdict(
        &self,
        ns: &str,
        p: &LabPod,
        c: &Container,
        path: &str,
        held: Fingerprint,
    ) -> String {
        let mount = (c.volume_mounts.iter().flatten()).find(|m| m.mount_path == path);
        let source = mount.and_then(|m| {
            let sub = m.sub_path.as_deref()?;
            Self::sub_path_source(p, p.spec.as_deref(), &m.name, sub).map(|s| (s, sub))
        });
        let verdict = match source {
            Some((Source::Csi(v), sub)) => {
                match v.mounted.as_ref().and_then(|mm| mm.files.get(sub)) {
                    Some(cur) if Fingerprint::of(cur) == held => "matches the mounted file".into(),
                    Some(_) => "stale: subPath mounts never see rotated content".into(),
                    None => "source file gone".into(),
                }
            }
            Some((Source::Secret { secret, key }, _)) => {
                let current = (self.secrets.get(&(ns.to_string(), secret.to_string())))
                    .and_then(|s| s.data.as_ref()?.get(key))
                    .map(|v| Fingerprint::of(&v.0))
                    .ok_or_else(|| format!("Secret {secret} or key {key} is gone"));
                let mounted = self.mounted_for_key(p, ns, secret, key);
                // The live verify's judgement too (audit NNN-out).
                let copy = SecretCopy {
                    secret,
                    key,
                    sub_path: true,
                };
                copy.verdict(
                    held,
                    current,
                    mounted.as_ref().map(|(f, x)| (f.as_str(), *x)),
                )
            }
            None => "source file gone".into(),
        };
        format!("subPath {path}: {verdict}")
    }
}
