//! Input errors: bad files, scenarios, configs. They name the file, document and field, and
//! make `kvchain check` exit with status 2.

use std::fmt;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// Where: file, document index, object, field, line/column — as much as is known.
    pub location: String,
    pub message: String,
}

impl InputError {
    /// Every input error is made here, so here its message is redacted: a parse or type
    /// error that quotes the offending value (`invalid type: integer `…``, `string "…"`) says
    /// only its kind, as the value may be secret material (README "Input errors", audit QQ5).
    pub fn new(location: impl Into<String>, message: impl Into<String>) -> Self {
        InputError {
            location: location.into(),
            message: super::redact(&message.into()),
        }
    }

    /// `file: message`.
    pub fn in_file(path: &Path, message: impl Into<String>) -> Self {
        InputError::new(path.display().to_string(), message)
    }

    /// `file, document N: message` for multi-document YAML (N is 1-based).
    pub fn in_document(path: &Path, document: usize, message: impl Into<String>) -> Self {
        InputError::new(format!("{}, document {document}", path.display()), message)
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

impl std::error::Error for InputError {}
