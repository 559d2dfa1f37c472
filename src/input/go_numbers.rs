//! Plain scalars that kubectl reads as numbers where serde_yaml reads strings.
//!
//! kubectl reads YAML with sigs.k8s.io/yaml over go-yaml v2, whose `resolve` (resolve.go) reads
//! a plain scalar starting with a digit or a sign by removing every `_` and trying, in order,
//! Go's `strconv.ParseInt(s, 0, 64)`, `ParseUint(s, 0, 64)` and, when it looks like a YAML
//! float, `ParseFloat`. Base 0 is Go's literal syntax: `0x1A4` hex, `0o644` and `0644` octal
//! (a leading `0`: YAML 1.1), `0b111` binary, an optional sign before any of them. One starting
//! with `.` is a float when `ParseFloat` takes it. serde_yaml reads YAML 1.2, where `0644`,
//! `+0644`, `1_000` and `0800` are strings: so `defaultMode: 0644` anywhere but where the
//! octal form was special-cased, `replicas: 0_3` or a label `version: 0123` read as kubectl
//! never sends them (the API server gets 420, 3 and the number 83, and refuses the label).
//! `0800` is no octal: ParseInt fails, and the float `800` is sent (audit WWW-real).

use serde_yaml::Value;

/// go-yaml v2's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn yaml_style_float(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mantissa),
    };
    let exp_ok = exp.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    mantissa_ok && exp_ok
}

/// Go's `strconv.ParseInt(s, 0, 64)` then `ParseUint(s, 0, 64)` (which takes no sign), as one
/// JSON number; `None` when both fail.
fn go_int(s: &str) -> Option<Value> {
    let (negative, signed, body) = match s.as_bytes().first()? {
        b'-' => (true, true, &s[1..]),
        b'+' => (false, true, &s[1..]),
        _ => (false, false, s),
    };
    // By bytes: any character may follow the first two (`1\u{feff}`, found by parser_props).
    let prefixed = |p: &str| {
        let b = body.as_bytes();
        (b.len() > 2 && b[..2].eq_ignore_ascii_case(p.as_bytes())).then(|| &body[2..])
    };
    let (radix, digits) = if let Some(d) = prefixed("0x") {
        (16, d)
    } else if let Some(d) = prefixed("0o") {
        (8, d)
    } else if let Some(d) = prefixed("0b") {
        (2, d)
    } else if body.len() > 1 && body.starts_with('0') {
        (8, &body[1..])
    } else {
        (10, body)
    };
    // from_str_radix takes a sign of its own: only digits of the base here.
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u128::from_str_radix(digits, radix).ok()?;
    if negative {
        let v = i128::try_from(magnitude).ok().map(|m| -m)?;
        return i64::try_from(v).ok().map(|v| Value::Number(v.into()));
    }
    if let Ok(v) = i64::try_from(magnitude) {
        return Some(Value::Number(v.into()));
    }
    // Past int64: ParseUint, which refuses a sign.
    (!signed)
        .then(|| u64::try_from(magnitude).ok())
        .flatten()
        .map(|v| Value::Number(v.into()))
}

/// The number go-yaml v2 resolves plain scalar `s` to, if any: an integer, or a float (for the
/// caller to send as kubectl does, [`super::file_modes::kubectl_float`]).
pub(crate) fn resolve(s: &str) -> Option<Result<Value, f64>> {
    match s.as_bytes().first()? {
        b'.' => yaml_style_float(s)
            .then(|| s.parse().ok().map(Err))
            .flatten(),
        b'0'..=b'9' | b'+' | b'-' => {
            let plain = s.replace('_', "");
            if let Some(n) = go_int(&plain) {
                return Some(Ok(n));
            }
            yaml_style_float(&plain)
                .then(|| plain.parse().ok().map(Err))
                .flatten()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(s: &str) -> Option<i64> {
        match resolve(s)? {
            Ok(v) => v.as_i64(),
            Err(_) => None,
        }
    }

    /// Go's ParseInt with base 0 (after go-yaml drops `_`): the octal, hex, binary and `0o`
    /// forms, signed or not.
    #[test]
    fn go_literal_integers() {
        for (s, want) in [
            ("0644", 420),
            ("0400", 256),
            ("0o644", 420),
            ("0O644", 420),
            ("0x1A4", 420),
            ("0X1a4", 420),
            ("0b111", 7),
            ("+0644", 420),
            ("-0644", -420),
            ("0_644", 420),
            ("1_000", 1000),
            ("0", 0),
            ("00", 0),
            ("420", 420),
            ("-0x10", -16),
        ] {
            assert_eq!(int(s), Some(want), "{s}");
        }
        // Past int64: ParseUint, which takes no sign.
        assert_eq!(
            resolve("18446744073709551615"),
            Some(Ok(Value::Number(u64::MAX.into())))
        );
        assert_eq!(resolve("0xFFFFFFFFFFFFFFFF").map(|r| r.is_ok()), Some(true));
    }

    /// What ParseInt refuses is a float when it looks like one (`0800` is 800, `0x` forms
    /// never), else a string.
    #[test]
    fn floats_and_strings() {
        assert_eq!(resolve("0800"), Some(Err(800.0)));
        assert_eq!(resolve("08.5"), Some(Err(8.5)));
        assert_eq!(resolve(".5"), Some(Err(0.5)));
        assert_eq!(resolve("1e3"), Some(Err(1000.0)));
        assert_eq!(
            resolve("+18446744073709551615").map(|r| r.is_err()),
            Some(true)
        );
        for s in [
            "0x",
            "0xG",
            "0o8",
            "0b2",
            "08a",
            "1.2.3",
            "-",
            "+",
            "2024-01-01",
            "1e",
            "e3",
            "0x1.8p1",
            "v1",
            ".",
            "..5",
            "1:30",
            // Found by parser_props (a panic slicing inside a character).
            "1\u{feff}- \"",
            "-1\u{feff}",
            "0\u{e9}",
            "0x\u{e9}",
        ] {
            assert_eq!(resolve(s), None, "{s}");
        }
    }
}
