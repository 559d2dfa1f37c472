//! The words gopkg.in/yaml.v3 — the Azure provider's decoder of `objects` (FACTS §5:
//! `GetObjectsArray` is `yaml.Unmarshal` into a string array) — gives YAML that does not
//! parse: `yaml: line N: <problem>`. Its `parser.fail` takes N from the parser's context mark
//! when that is past the first line, else from the problem mark (0-based lines; a scanner
//! error's line is one on), and writes no line when both are on the first. Both parsers are
//! libyaml ports, so the marks and problems serde_yaml's libyaml reports are the ones yaml.v3
//! sees. Used by the lab, whose events must read as the provider's.

/// yaml.v3's message for `text` when it is not valid YAML; None when it parses, or fails for
/// a reason that is not a libyaml syntax error (the provider's words for those differ).
pub fn go_yaml_error(text: &str) -> Option<String> {
    let e = serde_yaml::from_str::<serde_yaml::Value>(text).err()?;
    // serde_yaml's Debug of a libyaml error: `Error { kind: PARSER, problem: "…",
    // problem_mark: Mark { line: 4, column: 4 }, context: "…", context_mark: Mark { line: 2,
    // column: 3 } }`, lines 1-based.
    let debug = format!("{e:?}");
    let kind = debug.strip_prefix("Error { kind: ")?.split(',').next()?;
    let scanner = match kind {
        "SCANNER" => true,
        "PARSER" => false,
        _ => return None,
    };
    let line_of = |mark: &str| -> Option<usize> {
        let at = debug.find(&format!("{mark}: Mark {{ line: "))? + mark.len() + 15;
        let digits: String = debug[at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse::<usize>().ok().map(|one_based| one_based - 1)
    };
    let step = usize::from(scanner);
    let line = match (line_of("context_mark"), line_of("problem_mark")) {
        (Some(c), _) if c != 0 => c + step,
        (_, Some(p)) if p != 0 => p + step,
        _ => 0,
    };
    let problem = crate::input::yaml_error_message(&e);
    Some(match line {
        0 => format!("yaml: {problem}"),
        n => format!("yaml: line {n}: {problem}"),
    })
}

#[cfg(test)]
mod tests {
    use super::go_yaml_error;

    /// A key indented one space less than the one above it in a `- |` item ends the literal
    /// block, and yaml.v3 reports the block collection the next `-` was expected in, at its
    /// own line (the context mark: the first `-`, line 1 counted from 0).
    #[test]
    fn a_mis_indented_item_key_is_reported_at_the_collection() {
        let text = "array:\n  - |\n    objectName: a\n   objectType: secret";
        assert_eq!(
            go_yaml_error(text).as_deref(),
            Some("yaml: line 1: did not find expected '-' indicator")
        );
    }

    #[test]
    fn valid_yaml_has_no_error() {
        assert_eq!(go_yaml_error("array:\n  - |\n    objectName: a\n"), None);
    }
}
