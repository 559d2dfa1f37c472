//! The field errors of one pod template, gathered as the API server gathers them: its
//! validation appends every error it finds (`allErrs = append(allErrs, …)`), and kubectl prints
//! them all (`The Deployment "web" is invalid: * spec.template.spec.containers[0].name: …`).
//! kvchain said the first kind of error only (the first check that found one), so a manifest
//! with two mistakes was refused for one, fixed, and refused again for the next.

/// The errors found so far, each `field: reason` in the API server's words.
#[derive(Default)]
pub(super) struct FieldErrors {
    said: Vec<String>,
    /// The note of a value left a template placeholder ([`super::refused::unrendered_note`]),
    /// said once after the errors.
    unrendered: &'static str,
}

impl FieldErrors {
    pub fn push(&mut self, error: String) {
        self.said.push(error);
    }

    /// `field: Required value`.
    pub fn required(&mut self, field: &str) {
        self.said.push(format!("{field}: Required value"));
    }

    /// `field: Invalid value: "value": why`, the value quoted as written (control characters
    /// escaped once); a placeholder's note kept for the end.
    pub fn invalid(&mut self, field: &str, value: &str, why: &str) {
        self.note(value);
        self.said.push(format!(
            "{field}: Invalid value: \"{}\": {why}",
            crate::shown::shown(value)
        ));
    }

    /// Keeps the note of `value` if it is a template placeholder.
    pub fn note(&mut self, value: &str) {
        let note = super::refused::unrendered_note(value);
        if !note.is_empty() {
            self.unrendered = note;
        }
    }

    /// The API server's refusal of the template for every error found, or None.
    pub fn refusal(&self) -> Option<String> {
        super::required::refusal(&self.said).map(|r| format!("{r}.{}", self.unrendered))
    }

    /// The API server's refusal of the document itself (no pod is mentioned), or None.
    pub fn refusal_of_document(&self) -> Option<String> {
        (!self.said.is_empty()).then(|| {
            format!(
                "{}: the API server refuses the document (kubectl apply says so).{}",
                self.said.join("; "),
                self.unrendered
            )
        })
    }

    /// The refusal of each pod a StatefulSet's controller makes from its template (the
    /// StatefulSet itself is taken), or None.
    pub fn refusal_of_pods(&self) -> Option<String> {
        (!self.said.is_empty()).then(|| {
            format!(
                "{}: the API server takes the StatefulSet but refuses each pod its controller makes from this template (its events say FailedCreate: Pod … is invalid), so no pod is made from it.{}",
                self.said.join("; "),
                self.unrendered
            )
        })
    }
}
