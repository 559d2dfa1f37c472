//! How deeply a YAML text nests, measured in one linear pass before it is parsed.
//!
//! serde_yaml gives up beyond 128 levels ("recursion limit exceeded"), but only after libyaml
//! has scanned the whole document, and libyaml re-checks every open flow level (`[`, `{`) on
//! each token: 100,000 `[` take close to a minute before that error. Rejecting such a text
//! here keeps hostile input from hanging the run. The scan is an estimate, not a YAML parser:
//! flow levels are counted exactly (outside quotes and comments), block levels from the
//! indentation stack and `- ` entries, with generous room for the estimate's slack.

/// Flow collections open at once: serde_yaml's own recursion limit, so nothing it could read
/// is rejected.
pub const MAX_FLOW: usize = 128;
/// Block levels (indentation steps and `- ` entries) plus flow levels. Twice serde_yaml's limit:
/// the indentation estimate may count a level twice (`- key:` then its value indented).
pub const MAX_TOTAL: usize = 256;

/// Where a text first nests too deeply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooDeep {
    /// Byte offset of the line that starts the document holding it (its `---`, or 0).
    pub document_start: usize,
    /// 1-based line and column of the opening that goes past the limit.
    pub line: usize,
    pub column: usize,
}

impl std::fmt::Display for TooDeep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "nested more than {MAX_FLOW} levels deep (line {}, column {}): rejected before parsing",
            self.line, self.column
        )
    }
}

/// The first place `text` nests beyond [`MAX_FLOW`] flow or [`MAX_TOTAL`] levels, if any.
pub fn too_deep(text: &str) -> Option<TooDeep> {
    let mut s = Scan::default();
    let mut offset = 0;
    for (n, line) in text.split('\n').enumerate() {
        if let Some(column) = s.line(line, offset) {
            return Some(TooDeep {
                document_start: s.document_start,
                line: n + 1,
                column,
            });
        }
        offset += line.len() + 1;
    }
    None
}

#[derive(Default)]
struct Scan {
    /// Open flow collections.
    flow: usize,
    /// Inside a quoted scalar (which may span lines): its quote.
    quote: Option<u8>,
    /// Inside a block scalar (`|`, `>`): the indentation of the line that opened it.
    block_scalar: Option<usize>,
    /// Indentation of the enclosing block levels.
    indents: Vec<usize>,
    document_start: usize,
}

impl Scan {
    /// Scans one line (without its `\n`); the 1-based column where the limit is passed.
    fn line(&mut self, line: &str, offset: usize) -> Option<usize> {
        let b = line.trim_end_matches('\r').as_bytes();
        let indent = b.iter().take_while(|&&c| c == b' ').count();
        let blank = indent == b.len() || b[indent] == b'#';
        if self.quote.is_none() && indent == 0 && is_document_marker(b) {
            *self = Scan {
                document_start: offset,
                ..Scan::default()
            };
            return None;
        }
        if let Some(opened) = self.block_scalar {
            if blank || indent > opened {
                return None; // content of a literal or folded scalar
            }
            self.block_scalar = None;
        }
        let mut start = true; // at a place where a node may begin
        if self.quote.is_none() && self.flow == 0 {
            if blank {
                return None;
            }
            while self.indents.last().is_some_and(|&top| top >= indent) {
                self.indents.pop();
            }
            self.indents.push(indent);
            if self.depth(0) > MAX_TOTAL {
                return Some(indent + 1);
            }
        }
        let mut dashes = 0;
        let mut i = if self.quote.is_none() { indent } else { 0 };
        while i < b.len() {
            let c = b[i];
            let next = b.get(i + 1).copied();
            let ends = |n: Option<u8>| matches!(n, None | Some(b' ' | b'\t'));
            if let Some(q) = self.quote {
                match c {
                    b'\\' if q == b'"' => i += 1,
                    b'\'' if q == b'\'' && next == Some(b'\'') => i += 1,
                    _ if c == q => {
                        self.quote = None;
                        start = false;
                    }
                    _ => {}
                }
                i += 1;
                continue;
            }
            match c {
                b'#' if i == 0 || matches!(b[i - 1], b' ' | b'\t') => break,
                b' ' | b'\t' => {}
                b'"' | b'\'' if start => self.quote = Some(c),
                b'[' | b'{' if start || self.flow > 0 => {
                    self.flow += 1;
                    start = true;
                    if self.flow > MAX_FLOW || self.depth(dashes) > MAX_TOTAL {
                        return Some(i + 1);
                    }
                }
                b']' | b'}' if self.flow > 0 => {
                    self.flow -= 1;
                    start = false;
                }
                b',' if self.flow > 0 => start = true,
                b'-' | b'?' if start && self.flow == 0 && ends(next) => {
                    dashes += 1;
                    if self.depth(dashes) > MAX_TOTAL {
                        return Some(i + 1);
                    }
                }
                b':' if self.flow > 0 || ends(next) => start = true,
                b'|' | b'>' if start && self.flow == 0 => {
                    self.block_scalar = Some(indent);
                    break;
                }
                _ => start = false,
            }
            i += 1;
        }
        None
    }

    fn depth(&self, dashes: usize) -> usize {
        self.indents.len() + dashes + self.flow
    }
}

fn is_document_marker(b: &[u8]) -> bool {
    (b.starts_with(b"---") || b.starts_with(b"..."))
        && matches!(b.get(3), None | Some(b' ' | b'\t'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_manifests_are_not_deep() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {a: \"[[[[\"}}\nspec:\n  containers:\n  - name: c\n    args: ['[{', \"{[\\\"\"]\n    command:\n    - |\n      [[[[[[[[\n        {{{{{{{{\n  # [[[[[[[[[[[\n";
        assert_eq!(too_deep(text), None);
    }

    #[test]
    fn flow_beyond_the_limit_is_found_where_it_passes_it() {
        let text = format!("a: 1\n---\nb: {}", "[".repeat(MAX_FLOW + 1));
        assert_eq!(
            too_deep(&text),
            Some(TooDeep {
                document_start: 5,
                line: 3,
                column: 4 + MAX_FLOW
            })
        );
        let ok = format!("{}{}", "[".repeat(MAX_FLOW - 1), "]".repeat(MAX_FLOW - 1));
        assert_eq!(too_deep(&ok), None);
    }

    #[test]
    fn deep_block_nesting_is_found_too() {
        let dashes = "- ".repeat(MAX_TOTAL + 1) + "x\n";
        assert_eq!(too_deep(&dashes).map(|d| d.line), Some(1));
        let indented: String = (0..MAX_TOTAL + 1).map(|i| " ".repeat(i) + "a:\n").collect();
        assert_eq!(too_deep(&indented).map(|d| d.line), Some(MAX_TOTAL + 1));
    }
}
