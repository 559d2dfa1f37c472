//! Which files hold one object alone (audit TT2). A bare Pod's spec edit, or a Job's, is made
//! in its manifest file and the object re-created from it with `kubectl apply -f FILE`; that
//! re-applies every object of the file as written: an SPC whose values are still placeholders
//! overwrites the rendered live one, a ServiceAccount undoes another fix's `kubectl annotate`.
//! So a pod or Job keeps its file only when the file holds nothing else; otherwise its fix
//! edits the live object (or names the document to apply alone). Every other fix that would
//! edit and apply a file (an SPC's, the CSIDriver's, an unread document's) asks the same of
//! `SourceInfo::shared_files`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::snapshot::{PodObs, WorkloadObs};

/// Objects counted per file: a document is one (an unreadable one too: `kubectl apply -f`
/// would send or refuse it all the same), a `List` each of its items; an empty or `null`
/// document is none (kubectl skips it).
#[derive(Default)]
pub(super) struct Objects(HashMap<Arc<Path>, usize>);

impl Objects {
    pub(super) fn count(&mut self, file: &Arc<Path>, value: Result<&serde_yaml::Value, ()>) {
        let n = match value {
            Ok(v) if v.is_null() => 0,
            Ok(v) => match v.get("items").and_then(|i| i.as_sequence()) {
                Some(items) if super::str_at(v, "kind").ends_with("List") => items.len(),
                _ => 1,
            },
            Err(()) => 1,
        };
        *self.0.entry(file.clone()).or_default() += n;
    }

    /// The files holding more than one object, sorted (`SourceInfo::shared_files`).
    pub(super) fn shared(&self) -> Vec<String> {
        let mut files: Vec<String> = (self.0.iter())
            .filter(|&(_, &n)| n > 1)
            .map(|(f, _)| f.display().to_string())
            .collect();
        files.sort();
        files
    }

    /// Forget the file of every bare pod whose file holds other objects too (its fix edits the
    /// live pod), and mark a Job's shared (its fix edits the file, applies its document alone).
    pub(super) fn forget_shared(&self, pods: &mut [PodObs], workloads: &mut [WorkloadObs]) {
        let alone = |f: &str| self.0.get(Path::new(f)).is_some_and(|&n| n == 1);
        for p in pods.iter_mut() {
            if p.file.as_deref().is_some_and(|f| !alone(f)) {
                p.file = None;
            }
        }
        for w in workloads.iter_mut() {
            w.file_shared = w.file.as_deref().is_some_and(|f| !alone(f));
        }
    }
}
