//! A multi-document YAML stream read as `kubectl apply -f` reads it: split on `---` lines first,
//! each document then decoded on its own (k8s.io/apimachinery's `YAMLReader`), so a mistake in
//! one document costs that document only.
//!
//! serde_yaml reads a stream through one libyaml parser, which cannot resynchronise after a
//! syntax error (its iterator ends there), and the documents after a bad one would be lost
//! without a word. Splitting first keeps them: the error of document N is reported at its own
//! line, and documents N+1… are read as usual. Aliases still share one budget for the whole
//! text ([`Budget::for_text`]), so splitting cannot multiply what a file may expand to.

use serde::de::DeserializeSeed;
use serde_yaml::Value;

use super::{Bounded, Budget, nesting, without_bom};

/// One document of a stream, read or not.
#[derive(Debug)]
pub struct Document {
    /// 1-based position in the file, counting every `---` (a leading part holding only
    /// comments, blank lines or directives is no document).
    pub index: usize,
    /// 1-based line where the document's content starts (the line after its `---`).
    pub line: usize,
    pub value: Result<Value, DocumentError>,
}

/// Why one document is not valid YAML (or JSON); `line` and `column` are the file's, not the
/// document's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentError {
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// What is wrong, without the location.
    pub message: String,
    /// The document is JSON (it starts with `{`, as kubectl tells JSON from YAML): said so,
    /// with the JSON parser's message (audit QQ6).
    pub json: bool,
}

impl std::fmt::Display for DocumentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let syntax = if self.json { "JSON" } else { "YAML" };
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "invalid {syntax} at line {l}, column {c}: "),
            _ => write!(f, "invalid {syntax}: "),
        }?;
        f.write_str(&self.message)
    }
}

/// Most `---` documents read from one file. kubectl has no such limit, but a real apply set is
/// far below it, and each document costs a parse and its values kept until the snapshot is
/// built: 54 MB of `---\nx: 1\n` took 5 GB and half a minute (audit F4).
pub const MAX_DOCUMENTS: usize = 100_000;

/// A file with more documents than [`MAX_DOCUMENTS`]: none of it is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooManyDocuments(pub usize);

impl std::fmt::Display for TooManyDocuments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} YAML documents, more than the {MAX_DOCUMENTS} kvchain reads from one file: not read (split it into several files)",
            self.0
        )
    }
}

/// The documents of `text` (a leading byte-order mark dropped), each read on its own, one at
/// a time: only the document being read is held, so memory follows the largest document, not
/// the file. More than [`MAX_DOCUMENTS`] `---` parts is refused before any is parsed; a part
/// holding more behind `...` end markers ends with an error document at the limit.
pub fn documents(text: &str) -> Result<Documents<'_>, TooManyDocuments> {
    let text = without_bom(text);
    // Counted before any is listed: the list of a file of millions of parts is itself large.
    let separators = text.split('\n').filter(|l| is_separator(l)).count();
    if separators > MAX_DOCUMENTS {
        return Err(TooManyDocuments(separators));
    }
    let parts = parts(text);
    if parts.len() > MAX_DOCUMENTS {
        return Err(TooManyDocuments(parts.len()));
    }
    Ok(Documents {
        text,
        budget: Budget::for_text(text),
        parts: parts.into(),
        current: None,
        count: 0,
        done: false,
    })
}

/// Iterator over the documents of a stream; see [`documents`].
pub struct Documents<'a> {
    text: &'a str,
    budget: Budget,
    parts: std::collections::VecDeque<Part>,
    /// The part being read: its documents, its first document's number, its part.
    current: Option<(serde_yaml::Deserializer<'a>, usize, Part)>,
    /// Documents yielded so far.
    count: usize,
    done: bool,
}

impl Iterator for Documents<'_> {
    type Item = Document;

    fn next(&mut self) -> Option<Document> {
        if self.done {
            return None;
        }
        loop {
            if let Some((des, first, part)) = &mut self.current {
                let Some(de) = des.next() else {
                    self.current = None;
                    continue;
                };
                let index = self.count + 1;
                let line = if index == *first {
                    part.content_line
                } else {
                    // After a `...` end marker inside the part: no line of its own is known.
                    part.first_line
                };
                if index > MAX_DOCUMENTS {
                    self.done = true;
                    return Some(too_many(index, line));
                }
                let body = &self.text[part.start..part.end];
                let value = Bounded::manifest(&self.budget, self.text)
                    .deserialize(de)
                    .map_err(|e| document_error(&e, body, part.first_line, line));
                if value.is_err() {
                    // libyaml cannot resynchronise inside this part; the next part is read anew.
                    self.current = None;
                }
                self.count = index;
                return Some(Document { index, line, value });
            }
            let part = self.parts.pop_front()?;
            let body = &self.text[part.start..part.end];
            let first = self.count + 1;
            let offset = part.first_line - 1;
            if let Some(deep) = nesting::too_deep(body) {
                // Read nothing of this part: libyaml would take quadratic time over it.
                let deep = nesting::TooDeep {
                    line: deep.line + offset,
                    ..deep
                };
                self.count = first;
                return Some(Document {
                    index: first,
                    line: part.content_line,
                    value: Err(DocumentError {
                        line: None,
                        column: None,
                        message: deep.to_string(),
                        json: false,
                    }),
                });
            }
            if let Some(list) = super::kubectl_output::read(body, &self.budget) {
                self.count = first;
                return Some(Document {
                    index: first,
                    line: part.content_line,
                    value: Ok(list),
                });
            }
            if let Some(values) = json_values(&self.text[..part.end], &part) {
                // Each JSON value its own document, as kubectl's decoder reads them (XX2).
                if self.count + self.parts.len() + values.len() > MAX_DOCUMENTS {
                    self.done = true;
                    return Some(too_many(first, part.content_line));
                }
                for v in values.into_iter().rev() {
                    self.parts.push_front(v);
                }
                continue;
            }
            self.current = Some((serde_yaml::Deserializer::from_str(body), first, part));
        }
    }
}

/// The document at the limit, standing for itself and the rest of the file.
fn too_many(index: usize, line: usize) -> Document {
    Document {
        index,
        line,
        value: Err(DocumentError {
            line: None,
            column: None,
            message: format!(
                "more than {MAX_DOCUMENTS} YAML documents in one file: this one and the rest are not read (split it into several files)"
            ),
            json: false,
        }),
    }
}

/// A part holding JSON objects back to back (`cat a.json b.json`, one per line, no `---`),
/// split into one part per value: kubectl's decoder reads a JSON input as a stream of values
/// (`cat *.json | kubectl apply -f -`, audit XX2). `None` unless the part's content starts
/// with `{` and another object follows the first; a value that does not parse starts the
/// last part, so its error keeps its place and number. Whatever follows the last object that
/// is not one (a YAML comment) stays in its part, read by YAML as before. `text` ends with
/// the part; `part` gives its place.
fn json_values(text: &str, part: &Part) -> Option<Vec<Part>> {
    let body = &text[part.start..];
    let start = json_start(body)?;
    let json = &body[start..];
    let mut values = serde_json::Deserializer::from_str(json).into_iter::<serde::de::IgnoredAny>();
    let mut ends = Vec::new();
    while let Some(Ok(_)) = values.next() {
        let end = values.byte_offset();
        if !json[end..].trim_start().starts_with('{') {
            break;
        }
        ends.push(start + end);
    }
    if ends.is_empty() {
        return None;
    }
    // Lines counted once, from part to part.
    let (mut from, mut line) = (0, part.first_line);
    let mut out = Vec::with_capacity(ends.len() + 1);
    for end in ends.into_iter().chain([body.len()]) {
        let piece = &body[from..end];
        let lead = piece.len() - piece.trim_start().len();
        let content_line = if from == 0 {
            part.content_line
        } else {
            line + piece[..lead].matches('\n').count()
        };
        out.push(Part {
            start: part.start + from,
            end: part.start + end,
            first_line: line,
            content_line,
        });
        line += piece.matches('\n').count();
        from = end;
    }
    Some(out)
}

/// Where a part's content starts (after its `---`, comments and directives), if it is `{`.
fn json_start(body: &str) -> Option<usize> {
    let mut offset = 0;
    for line in body.split_inclusive('\n') {
        let skip = if is_separator(line) { 3 } else { 0 };
        let rest = &line[skip..];
        if is_content(rest) {
            let at = offset + skip + (rest.len() - rest.trim_start().len());
            return body[at..].starts_with('{').then_some(at);
        }
        offset += line.len();
    }
    None
}

/// The error of a part (`body`, starting at the file's line `first_line`) that did not read.
/// A JSON document (kubectl's test: it starts with `{`) that JSON cannot parse either is
/// said with the JSON parser's message and place. A reader error (a control character) has no
/// place of its own in serde_yaml (it says line 1, column 1), only a byte position: the place
/// is found from it, or none is given.
///
/// An error of the whole document (serde_yaml's alias "repetition limit exceeded") has no place
/// at all: the line the document starts at (`doc_line`) is said instead (audit XX8).
fn document_error(
    e: &serde_yaml::Error,
    body: &str,
    first_line: usize,
    doc_line: usize,
) -> DocumentError {
    let mut out = parse_error(e, body, first_line, doc_line);
    // A chart's template (`{{- if … }}`, `{{ include … | nindent 4 }}`) is no manifest until
    // rendered; the parser's own words ("key must be a string", "did not find expected node
    // content") did not say so (audit TTT-real).
    if body.contains("{{") {
        out.message.push_str(
            " (the document holds template directives, {{ … }}: a chart template, not a manifest; check it rendered: helm template … | kvchain check -f -)",
        );
    }
    out
}

fn parse_error(
    e: &serde_yaml::Error,
    body: &str,
    first_line: usize,
    doc_line: usize,
) -> DocumentError {
    let offset = first_line - 1;
    let json_text = json_view(body);
    let json = json_text.is_some();
    if let Some(text) = json_text
        && let Err(j) = serde_json::from_str::<serde::de::IgnoredAny>(&text)
    {
        let message = j.to_string();
        let message = message
            .find(" at line ")
            .map_or(&*message, |i| &message[..i]);
        return DocumentError {
            line: (j.line() > 0).then(|| j.line() + offset),
            column: (j.column() > 0).then_some(j.column()),
            message: super::redact(message),
            json,
        };
    }
    let mut message = super::yaml_error_message(e);
    let mut at = e.location().map(|l| (l.line() + offset, l.column()));
    if let Some((head, pos)) = message.rsplit_once(" at position ")
        && let Ok(pos) = pos.parse::<usize>()
    {
        at = body.get(..pos).map(|before| {
            let line = before.matches('\n').count();
            let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
            (line + first_line, column)
        });
        message = head.to_string();
    }
    if at.is_none() {
        if message == "repetition limit exceeded" {
            message.push_str(" (its aliases expand too many times)");
        }
        message.push_str(&format!(" (document starts at line {doc_line})"));
    }
    DocumentError {
        line: at.map(|a| a.0),
        column: at.map(|a| a.1),
        message,
        json,
    }
}

/// The part as JSON would read it, if its document is JSON (its content starts with `{`): the
/// `---` marker, comments and directives before the content blanked, so lines and columns stay.
fn json_view(body: &str) -> Option<String> {
    let mut out = String::with_capacity(body.len());
    let mut lines = body.split_inclusive('\n');
    for line in lines.by_ref() {
        if is_separator(line) {
            out.push_str("   ");
            out.push_str(&line[3..]);
        } else if !is_content(line) {
            out.extend(line.ends_with('\n').then_some('\n'));
        } else {
            out.push_str(line);
            break;
        }
        if !out.trim().is_empty() {
            break;
        }
    }
    lines.for_each(|l| out.push_str(l));
    out.trim_start().starts_with('{').then_some(out)
}

/// One `---`-delimited part of a stream, as byte range and lines.
#[derive(Debug, PartialEq, Eq)]
struct Part {
    start: usize,
    end: usize,
    /// 1-based line of the part's first byte.
    first_line: usize,
    /// 1-based line where its document starts (after the `---`).
    content_line: usize,
}

/// The parts of `text`: one per `---` line (a line that is `---`, alone or followed by a blank
/// and more, as kubectl splits), plus the text before the first one when it holds content. A
/// content-less leading part (comments, `%YAML` directives) is read with the document after it.
fn parts(text: &str) -> Vec<Part> {
    let mut markers = Vec::new(); // (byte offset, 0-based line)
    let mut offset = 0;
    for (n, line) in text.split('\n').enumerate() {
        if is_separator(line) {
            markers.push((offset, n));
        }
        offset += line.len() + 1;
    }
    let lead_end = markers.first().map_or(text.len(), |&(o, _)| o);
    let mut out = Vec::new();
    let lead_has_content = text[..lead_end].lines().any(is_content);
    if lead_has_content {
        out.push(Part {
            start: 0,
            end: lead_end,
            first_line: 1,
            content_line: 1,
        });
    }
    for (i, &(start, line)) in markers.iter().enumerate() {
        let end = markers.get(i + 1).map_or(text.len(), |&(o, _)| o);
        // A content-less lead (directives, comments) belongs to the first document.
        let (start, first_line) = if i == 0 && !lead_has_content {
            (0, 1)
        } else {
            (start, line + 1)
        };
        out.push(Part {
            start,
            end,
            first_line,
            content_line: line + 2,
        });
    }
    out
}

fn is_separator(line: &str) -> bool {
    let t = line.trim_end();
    t == "---" || t.starts_with("--- ") || t.starts_with("---\t")
}

fn is_content(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && !t.starts_with('#') && !t.starts_with('%')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(text: &str) -> Vec<(usize, usize, Result<String, String>)> {
        documents(text)
            .expect("within the limit")
            .map(|d| {
                (
                    d.index,
                    d.line,
                    d.value
                        .map(|v| serde_yaml::to_string(&v).unwrap().trim().to_string())
                        .map_err(|e| e.to_string()),
                )
            })
            .collect()
    }

    /// kubectl decodes each `---` document on its own: a syntax error in document 2 is
    /// reported at the file's line, and document 3 is still read.
    #[test]
    fn a_syntax_error_costs_only_its_document() {
        let text = "a: 1\n---\nb: \"unclosed\n---\nc: 3\n";
        let docs = summary(text);
        assert_eq!(docs.len(), 3, "{docs:?}");
        assert_eq!(docs[0], (1, 1, Ok("a: 1".into())));
        let (index, line, err) = &docs[1];
        assert_eq!((*index, *line), (2, 3));
        let err = err.clone().unwrap_err();
        assert!(err.starts_with("invalid YAML at line "), "{err}");
        assert!(
            err.contains("line 3") || err.contains("line 4"),
            "line of the file: {err}"
        );
        assert_eq!(docs[2], (3, 5, Ok("c: 3".into())));
    }

    #[test]
    fn a_duplicate_key_costs_only_its_document() {
        let docs = summary("a: 0\n---\nb: 1\nb: 2\n---\nc: 3\n");
        assert_eq!(docs.len(), 3);
        let err = docs[1].2.clone().unwrap_err();
        // serde_yaml places it at the mapping's first key: line 3 of the file.
        assert!(
            err.contains("duplicate key \"b\"") && err.contains("at line 3,"),
            "{err}"
        );
        assert_eq!(docs[2], (3, 6, Ok("c: 3".into())));
    }

    #[test]
    fn numbering_and_lines_match_the_separators() {
        // A comment-only lead is no document; an empty `---` document still counts.
        let docs = summary("# head\n---\na: 1\n---\n---\nb: 2\n");
        let seen: Vec<_> = docs.iter().map(|d| (d.0, d.1)).collect();
        assert_eq!(seen, [(1, 3), (2, 5), (3, 6)]);
        assert_eq!(docs[1].2, Ok("null".into()));
        // No separator at all: one document at line 1.
        assert_eq!(summary("a: 1\n"), [(1, 1, Ok("a: 1".into()))]);
        // A `%YAML` directive before the first `---` is read with that document.
        assert_eq!(
            summary("%YAML 1.1\n---\na: 1\n"),
            [(1, 3, Ok("a: 1".into()))]
        );
        // `--- ` followed by content, CRLF line ends.
        assert_eq!(
            summary("--- {a: 1}\r\n--- \r\nb: 2\r\n"),
            [(1, 2, Ok("a: 1".into())), (2, 3, Ok("b: 2".into()))]
        );
        // A `---` inside a block scalar is indented: no separator.
        assert_eq!(summary("a: |\n  ---\n  x\n").len(), 1);
    }

    #[test]
    fn too_deep_costs_only_its_document_and_names_the_files_line() {
        let deep = "[".repeat(200);
        let docs = summary(&format!("a: 1\n---\nb: {deep}\n---\nc: 3\n"));
        assert_eq!(docs.len(), 3);
        let err = docs[1].2.clone().unwrap_err();
        assert!(
            err.contains("nested more than") && err.contains("line 3"),
            "{err}"
        );
        assert_eq!(docs[2].2, Ok("c: 3".into()));
    }

    /// Audit XX2: JSON objects back to back are a stream of documents, as kubectl's JSON
    /// decoder reads them: each its own number and line; a broken one costs itself.
    #[test]
    fn json_objects_back_to_back_are_documents() {
        let docs = summary("{\"a\": 1}\n{\"b\": 2} {\"c\": 3}\n---\n{\"d\": 4}\n");
        let seen: Vec<_> = docs.iter().map(|d| (d.0, d.1, d.2.clone())).collect();
        assert_eq!(
            seen,
            [
                (1, 1, Ok("a: 1".into())),
                (2, 2, Ok("b: 2".into())),
                (3, 2, Ok("c: 3".into())),
                (4, 4, Ok("d: 4".into())),
            ]
        );
        let docs = summary("# lead\n{\"a\": 1}\n\n{\"b\" 2}\n");
        assert_eq!(docs.len(), 2, "{docs:?}");
        assert_eq!(docs[0], (1, 1, Ok("a: 1".into())));
        let (index, line, err) = &docs[1];
        assert_eq!((*index, *line), (2, 4));
        let err = err.clone().unwrap_err();
        assert!(err.starts_with("invalid JSON at line 4, column 6"), "{err}");
        // One object and a comment after it: one document, as before.
        assert_eq!(summary("{\"a\": 1}\n# done\n"), [(1, 1, Ok("a: 1".into()))]);
    }

    #[test]
    fn the_alias_budget_is_shared_by_all_documents() {
        // Each document alone is within its own size plus the allowance; the budget is the
        // file's, so the parts together cannot expand more than the file could.
        let docs = documents("a: &x [1, 2]\nb: *x\n---\nc: 1\n").expect("within the limit");
        assert!(docs.into_iter().all(|d| d.value.is_ok()));
    }
}
