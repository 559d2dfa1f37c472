//! Names a fix adds to a pod spec: a volume name the pod does not use yet and a mountPath its
//! container does not use yet. The API server refuses a pod spec with two volumes of one name
//! or two volumeMounts of one container at one mountPath (kubernetes
//! `pkg/apis/core/validation` validateVolumes "must be unique", ValidateVolumeMounts
//! `mountpoints.Has`), so a fix that pastes a taken one is refused (audit LL3, LL4, LL5).

use crate::snapshot::{ContainerObs, PodObs};

/// The first of `candidates` that `taken` refuses not; past the last, the last with `-2`,
/// `-3`, … appended.
fn first_free(candidates: &[String], taken: impl Fn(&str) -> bool) -> String {
    if let Some(c) = candidates.iter().find(|c| !taken(c)) {
        return c.clone();
    }
    let last = candidates.last().map_or("secrets-store", String::as_str);
    (2..)
        .map(|i| format!("{last}-{i}"))
        .find(|c| !taken(c))
        .unwrap_or_default()
}

/// Whether `path` is one of `paths` (a trailing '/' aside: the kubelet cleans the path).
fn same_path<'p>(mut paths: impl Iterator<Item = &'p str>, path: &str) -> bool {
    let path = path.trim_end_matches('/');
    paths.any(|p| p.trim_end_matches('/') == path)
}

/// A mountPath for a new volumeMount of `container` (None: the container is not known): the
/// first of `candidates` none of its mounts uses nor `also` (paths other fixes of the same
/// report give to this container).
pub(crate) fn free_mount_path(
    container: Option<&ContainerObs>,
    candidates: &[String],
    also: &[String],
) -> String {
    first_free(candidates, |p| {
        let mounts = container.map_or(&[][..], |c| &c.mounts[..]);
        same_path(mounts.iter().map(|m| m.path.as_str()), p)
            || same_path(also.iter().map(String::as_str), p)
    })
}

/// A volume name `pod` does not use yet, from `candidates` (DNS labels).
pub(crate) fn free_volume_name(pod: &PodObs, candidates: &[String]) -> String {
    first_free(candidates, |n| pod.volumes.iter().any(|v| v.name == n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_free_numbers_past_the_last() {
        let c = vec!["/mnt/a".to_string(), "/mnt/b".to_string()];
        assert_eq!(first_free(&c, |_| false), "/mnt/a");
        assert_eq!(first_free(&c, |p| p == "/mnt/a"), "/mnt/b");
        assert_eq!(
            first_free(&c, |p| p == "/mnt/a" || p == "/mnt/b" || p == "/mnt/b-2"),
            "/mnt/b-3"
        );
    }

    #[test]
    fn same_path_ignores_a_trailing_slash() {
        assert!(same_path(["/mnt/kv/"].into_iter(), "/mnt/kv"));
        assert!(!same_path(["/mnt/kv"].into_iter(), "/mnt/kv2"));
    }
}
