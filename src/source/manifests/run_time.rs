//! Objects only a running cluster writes (Events, SecretProviderClassPodStatuses) found among
//! manifests: `check -f` judges desired state, so they are not used, and the report says so
//! instead of dropping them without a word (audit WW5: a user who passed
//! `kubectl get events -o yaml` beside the manifests was told nothing about them).

use std::collections::BTreeMap;
use std::path::Path;

/// The kinds a cluster writes at run time that kvchain reads from a live cluster or a snapshot.
const KINDS: [(&str, &str); 2] = [
    ("Event", "Events"),
    (
        "SecretProviderClassPodStatus",
        "SecretProviderClassPodStatuses",
    ),
];

/// How many run-time objects of each kind each file held.
#[derive(Default)]
pub(super) struct RunTime(BTreeMap<(String, usize), usize>);

impl RunTime {
    /// Count `kind` in `file` when it is a run-time kind; `false` for any other kind.
    pub fn note(&mut self, file: &Path, kind: &str) -> bool {
        let Some(at) = KINDS.iter().position(|(k, _)| *k == kind) else {
            return false;
        };
        *self.0.entry((file.display().to_string(), at)).or_default() += 1;
        true
    }

    /// One line per file and kind (`events.yaml: 3 Events`), in file order.
    pub fn lines(self) -> Vec<String> {
        self.0
            .into_iter()
            .map(|((file, at), n)| {
                let (one, many) = KINDS[at];
                format!("{file}: {n} {}", if n == 1 { one } else { many })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_run_time_kinds_per_file_and_nothing_else() {
        let mut r = RunTime::default();
        for kind in [
            "Event",
            "Event",
            "Deployment",
            "SecretProviderClassPodStatus",
        ] {
            r.note(Path::new("b.yaml"), kind);
        }
        assert!(r.note(Path::new("a.yaml"), "Event"));
        assert!(!r.note(Path::new("a.yaml"), "ConfigMap"));
        assert_eq!(
            r.lines(),
            [
                "a.yaml: 1 Event",
                "b.yaml: 2 Events",
                "b.yaml: 1 SecretProviderClassPodStatus"
            ]
        );
    }
}
