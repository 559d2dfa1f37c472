//! Where a document (or a List item) sits, for error messages.

use std::path::Path;

use crate::input::InputError;

pub(super) struct Doc<'a> {
    pub file: &'a Path,
    pub index: usize,
    pub line: usize,
    /// A List item's place in its document (`items[2]`): the items share the List's document
    /// number and line, so an item's error named only those could not be told from its
    /// siblings' (audit XX8). serde_yaml keeps no line per value, so the item's own line is
    /// not known.
    pub item: Option<&'a str>,
    /// A kind-less document alone in a file named on the command line: refused, not skipped
    /// ([`super::refused::kindless`], audit XX7).
    pub kindless_alone: bool,
}

impl Doc<'_> {
    pub fn err(&self, what: &str, msg: impl std::fmt::Display) -> InputError {
        let line = self.line;
        let text = match self.item {
            // As a List item that is no object is said (`apply_set`).
            Some(item) => format!("List (document starts at line {line}): {item}: {what}: {msg}"),
            None => format!("{what} (document starts at line {line}): {msg}"),
        };
        InputError::in_document(self.file, self.index, text)
    }
}
