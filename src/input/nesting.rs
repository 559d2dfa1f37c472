//! How deeply a YAML text nests and how many values each document holds, measured in one
//! linear pass before it is parsed.
//!
//! serde_yaml gives up beyond 128 levels ("recursion limit exceeded"), but only after libyaml
//! has scanned the whole document, and libyaml re-checks every open flow level (`[`, `{`) on
//! each token: 100,000 `[` take close to a minute before that error. And serde_yaml holds all
//! of a document's parser events, then its whole value tree, before any of it is used: ~260
//! bytes a value, so a dense document costs a hundred times its size (a 60 MB `a: [0,0,…]`
//! took 6.4 GB and a minute). Rejecting such a text here keeps hostile input from hanging the
//! run or exhausting memory. The scan is an estimate, not a YAML parser: flow levels are
//! counted exactly (outside quotes and comments), block levels from the indentation stack and
//! `- ` entries, values where a scalar, collection or entry begins, with generous room for the
//! estimate's slack.

/// Flow collections open at once: serde_yaml's own recursion limit, so nothing it could read
/// is rejected.
pub const MAX_FLOW: usize = 128;
/// Block levels (indentation steps and `- ` entries) plus flow levels. Twice serde_yaml's limit:
/// the indentation estimate may count a level twice (`- key:` then its value indented).
pub const MAX_TOTAL: usize = 256;
/// Values (scalars, collections and entries, keys included) one document may hold: 4,000,000
/// is ~1 GB while serde_yaml reads it, and room for the largest file read (64 MiB of `kubectl
/// get -A -o yaml` is ~3.4 million values at the ~19 bytes a value of real manifests).
pub const MAX_VALUES: usize = 4_000_000;

/// Where a text is first rejected, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooDeep {
    /// Byte offset of the line that starts the document holding it (its `---`, or 0).
    pub document_start: usize,
    /// 1-based line and column of the opening or value that goes past the limit.
    pub line: usize,
    pub column: usize,
    pub why: Limit,
}

/// The limit a document passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// [`MAX_FLOW`] or [`MAX_TOTAL`] levels.
    Depth,
    /// [`MAX_VALUES`] values.
    Values,
}

impl std::fmt::Display for TooDeep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.why {
            Limit::Depth => write!(f, "nested more than {MAX_FLOW} levels deep"),
            Limit::Values => write!(
                f,
                "more than {MAX_VALUES} values in one YAML document (split it into several documents or files)"
            ),
        }?;
        write!(
            f,
            " (line {}, column {}): rejected before parsing",
            self.line, self.column
        )
    }
}

/// The first place `text` nests beyond [`MAX_FLOW`] flow or [`MAX_TOTAL`] levels, or a
/// document passes [`MAX_VALUES`] values, if any.
pub fn too_deep(text: &str) -> Option<TooDeep> {
    let mut s = Scan::default();
    let mut offset = 0;
    for (n, line) in text.split('\n').enumerate() {
        if let Some((column, why)) = s.line(line, offset) {
            return Some(TooDeep {
                document_start: s.document_start,
                line: n + 1,
                column,
                why,
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
    /// Values begun in this document.
    values: usize,
}

impl Scan {
    /// Scans one line (without its `\n`); the 1-based column where a limit is passed.
    fn line(&mut self, line: &str, offset: usize) -> Option<(usize, Limit)> {
        let deep = |column| Some((column, Limit::Depth));
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
                return deep(indent + 1);
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
            let begins = match c {
                b'#' | b' ' | b'\t' | b']' | b'}' | b',' | b':' => false,
                b'[' | b'{' => start || self.flow > 0,
                _ => start,
            };
            if begins {
                self.values += 1;
                if self.values > MAX_VALUES {
                    return Some((i + 1, Limit::Values));
                }
            }
            match c {
                b'#' if i == 0 || matches!(b[i - 1], b' ' | b'\t') => break,
                b' ' | b'\t' => {}
                b'"' | b'\'' if start => self.quote = Some(c),
                b'[' | b'{' if start || self.flow > 0 => {
                    self.flow += 1;
                    start = true;
                    if self.flow > MAX_FLOW || self.depth(dashes) > MAX_TOTAL {
                        return deep(i + 1);
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
                        return deep(i + 1);
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
                column: 4 + MAX_FLOW,
                why: Limit::Depth,
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

    #[test]
    fn a_document_of_more_values_than_the_limit_is_found_where_it_passes_it() {
        let zeros = |n: usize| "0,".repeat(n);
        let dense = format!("kind: x\na: [{}]\n", zeros(MAX_VALUES));
        // `kind`, `x`, `a` and the list are four values: the list's (MAX_VALUES - 3)th zero
        // is the first past the limit, at column 5 + 2 × (MAX_VALUES - 4).
        let found = too_deep(&dense).expect("over the limit");
        assert_eq!(
            (found.line, found.column, found.why),
            (2, 5 + 2 * (MAX_VALUES - 4), Limit::Values)
        );
        // Block entries and quoted scalars count as well.
        let entries = format!("- \"q\"\n{}", "- 0\n".repeat(MAX_VALUES / 2));
        assert_eq!(too_deep(&entries).map(|d| d.why), Some(Limit::Values));
        // The count is per document: two halves of the limit are read.
        let half = format!("a: [{}]\n", zeros(MAX_VALUES / 2 - 2));
        assert_eq!(too_deep(&format!("{half}---\n{half}")), None);
        // Comments, block scalars' lines and quoted text hold no values.
        let quiet = format!(
            "a: |\n{}b: \"{}\"\n# {}\n",
            "  0, 0, 0\n".repeat(MAX_VALUES / 2),
            "0 ".repeat(MAX_VALUES),
            "0,".repeat(MAX_VALUES)
        );
        assert_eq!(too_deep(&quiet), None);
    }
}
