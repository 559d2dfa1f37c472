//! The apply set read: every queued document, the last definition of each object, and the
//! one before it where kubectl apply would be refused the last.

impl super::Builder {
    /// Convert every queued document (the last definition of each object).
    pub(super) fn read_queued(&mut self) {
        let set = std::mem::take(&mut self.set);
        self.unread_pods.extend(set.unread_pods.iter().cloned());
        let (docs, mut held) = set.into_parts();
        // (position, why) of every document not read, listed in order at the end.
        let mut errors = Vec::new();
        let mut refused = Vec::new();
        for (i, q) in docs.into_iter().enumerate() {
            match q.map(|q| self.judge(q)) {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    errors.push((i, e));
                    refused.push(i);
                }
                Err(e) => errors.push((i, e)),
            }
        }
        // kubectl apply sends every definition in turn: one the API server refuses changes
        // nothing, so the definition before it is what the cluster holds (audit TTT-real: a
        // Deployment whose later copy was refused vanished from the report).
        while let Some(later) = refused.pop() {
            let Some(at) = held.iter().position(|(by, _, _)| *by == later) else {
                continue;
            };
            let (_, earlier, q) = held.swap_remove(at);
            errors.retain(|(i, _)| *i != earlier);
            if let Err(e) = self.judge(q) {
                errors.push((earlier, e));
                refused.push(earlier);
            }
            // Another document it superseded (namespace-less SPCs) waits for its own turn.
            refused.push(later);
        }
        errors.sort_by_key(|(i, _)| *i);
        for (_, e) in errors {
            self.unread(e);
        }
    }
}
