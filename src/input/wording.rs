//! How serde_yaml's errors are said (audit XX8):
//! - serde names what it expected by the Rust type it decodes into: `expected struct Coll`,
//!   `expected struct RawObject`, `expected i32`, `expected f64`. A reader of a manifest,
//!   snapshot or config knows none of these: each is said in the input's own terms, with the
//!   range an integer must fall in where a narrow type sets one;
//! - an error of a whole file (the config, a theme) names its line and column as the file's
//!   first thing wrong: serde_yaml leaves the place out of its message at line 1, column 1
//!   (a tab before the first key said only "found character that cannot start any token").

/// `msg` with every `expected <Rust type>` said in the input's terms.
pub fn in_user_terms(msg: &str) -> String {
    const MARK: &str = "expected ";
    // serde's error for a value that fits none of an untagged enum's forms names the enum.
    const UNTAGGED: &str = "data did not match any variant of untagged enum ";
    if let Some(i) = msg.find(UNTAGGED) {
        let after = &msg[i + UNTAGGED.len()..];
        let tail = &after[word_end(after)..];
        let said = format!("{}none of the forms this field takes{tail}", &msg[..i]);
        return in_user_terms(&said);
    }
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(i) = rest.find(MARK) {
        let after = &rest[i + MARK.len()..];
        out.push_str(&rest[..i + MARK.len()]);
        let (said, tail) = if let Some(t) = after.strip_prefix("struct ") {
            ("an object", &t[word_end(t)..])
        } else {
            let end = word_end(after);
            match primitive(&after[..end]) {
                Some(said) => (said, &after[end..]),
                None => ("", after),
            }
        };
        out.push_str(said);
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// `line L, column C: what` for a YAML error of a whole `text`, the field path kept and the
/// value never echoed ([`super::yaml_error_message`]). A reader error (a control character)
/// has only a byte position, from which the place is found.
pub fn located(e: &serde_yaml::Error, text: &str) -> String {
    let full = e.to_string();
    let mut message = super::yaml_error_message(e);
    let mut at = e.location().map(|l| (l.line(), l.column()));
    if let Some((_, pos)) = full.rsplit_once(" at position ")
        && let Ok(pos) = pos.trim_end().parse::<usize>()
    {
        at = text.get(..pos).map(|before| {
            let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
            (before.matches('\n').count() + 1, column)
        });
        if let Some((head, _)) = message.rsplit_once(" at position ") {
            message = head.to_string();
        }
    }
    match at {
        Some((line, column)) => format!("line {line}, column {column}: {message}"),
        None => message,
    }
}

/// Where a Rust identifier at the start of `s` ends.
fn word_end(s: &str) -> usize {
    s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len())
}

fn primitive(name: &str) -> Option<&'static str> {
    Some(match name {
        "u8" => "an integer from 0 to 255",
        "u16" => "an integer from 0 to 65535",
        "u32" => "an integer from 0 to 4294967295",
        "u64" | "u128" | "usize" => "an integer of 0 or more",
        "i8" => "an integer from -128 to 127",
        "i16" => "an integer from -32768 to 32767",
        "i32" => "an integer from -2147483648 to 2147483647",
        "i64" | "i128" | "isize" => "an integer",
        "f32" | "f64" => "a number",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::{in_user_terms, located};

    #[test]
    fn a_whole_files_error_names_its_line_and_column() {
        let text = "\ttheme: light\n";
        let e = serde_yaml::from_str::<serde_yaml::Value>(text).unwrap_err();
        assert_eq!(
            located(&e, text),
            "line 1, column 1: found character that cannot start any token, while scanning for the next token"
        );
        let text = "theme: light\nlab:\n\tspeed: 2\n";
        let e = serde_yaml::from_str::<serde_yaml::Value>(text).unwrap_err();
        assert!(
            located(&e, text).starts_with("line 3, column 1: found character"),
            "{}",
            located(&e, text)
        );
    }

    #[test]
    fn rust_type_names_are_said_in_the_inputs_terms() {
        assert_eq!(
            in_user_terms("invalid type: null, expected struct Coll"),
            "invalid type: null, expected an object"
        );
        assert_eq!(
            in_user_terms("invalid type: a string, expected i32"),
            "invalid type: a string, expected an integer from -2147483648 to 2147483647"
        );
        assert_eq!(
            in_user_terms("invalid type: a string, expected f64; expected u32"),
            "invalid type: a string, expected a number; expected an integer from 0 to 4294967295"
        );
        assert_eq!(
            in_user_terms("keys: data did not match any variant of untagged enum OneOrMany"),
            "keys: none of the forms this field takes"
        );
        // serde's own words, and words that only start like a type, are kept.
        for kept in [
            "expected a sequence",
            "expected a string",
            "expected i32x",
            "expected",
        ] {
            assert_eq!(in_user_terms(kept), kept);
        }
    }
}
