//! A CronJob's `spec.schedule` as the API server validates it on create (batch validation's
//! validateScheduleFormat): robfig/cron v3's `ParseStandard` must take it (five fields —
//! minute 0-59, hour 0-23, day of month 1-31, month 1-12 or `jan`…`dec`, day of week 0-6 or
//! `sun`…`sat` — or a descriptor: `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`,
//! `@midnight`, `@hourly`, `@every <Go duration>`), and it may not hold `TZ` at all (`TZ=` and
//! `CRON_TZ=` prefixes were refused on create since the `timeZone` field: "cannot use TZ or
//! CRON_TZ in schedule, use timeZone field instead"). Each failure is `spec.schedule: Invalid
//! value: "<schedule>": <error>`, the parser's own words. kvchain read any schedule, so a
//! CronJob the API server refuses (`61 * * * *`, `0 0 * * 7`, `@fortnightly`) read as one that
//! makes pods (audit WWW-real).

use k8s_openapi::api::batch::v1::CronJob;

/// Why the API server refuses CronJob `c` for its schedule, each error in its order, or None.
pub(super) fn cron_job(c: &CronJob) -> Option<String> {
    if let Some(why) = super::required::cron_job(c) {
        return Some(why);
    }
    let schedule = c.spec.as_ref().map(|s| s.schedule.as_str())?;
    let shown = crate::shown::shown(schedule);
    let mut said = Vec::new();
    // A TZ prefix is refused whatever follows; its location is not looked up here.
    let tz_prefix = schedule.starts_with("TZ=") || schedule.starts_with("CRON_TZ=");
    if !tz_prefix && let Err(e) = parse_standard(schedule) {
        said.push(format!("spec.schedule: Invalid value: \"{shown}\": {e}"));
    }
    if schedule.contains("TZ") {
        said.push(format!(
            "spec.schedule: Invalid value: \"{shown}\": cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
        ));
    }
    (!said.is_empty()).then(|| {
        format!(
            "{}: the API server refuses the document (kubectl apply says so), and no pod is made from it",
            said.join(", ")
        )
    })
}

/// A field's bounds and names (robfig/cron's `bounds`).
struct Bounds {
    min: u64,
    max: u64,
    names: &'static [&'static str],
    /// The value of `names[0]`.
    first: u64,
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const FIELDS: [Bounds; 5] = [
    Bounds {
        min: 0,
        max: 59,
        names: &[],
        first: 0,
    },
    Bounds {
        min: 0,
        max: 23,
        names: &[],
        first: 0,
    },
    Bounds {
        min: 1,
        max: 31,
        names: &[],
        first: 0,
    },
    Bounds {
        min: 1,
        max: 12,
        names: &MONTHS,
        first: 1,
    },
    Bounds {
        min: 0,
        max: 6,
        names: &DAYS,
        first: 0,
    },
];

/// robfig/cron v3's `ParseStandard`, without a time zone prefix: its error text, or Ok.
fn parse_standard(spec: &str) -> Result<(), String> {
    if spec.is_empty() {
        return Err("empty spec string".into());
    }
    if spec.starts_with('@') {
        return descriptor(spec);
    }
    let fields: Vec<&str> = spec.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "expected exactly 5 fields, found {}: [{}]",
            fields.len(),
            fields.join(" ")
        ));
    }
    for (field, bounds) in fields.iter().zip(&FIELDS) {
        for expr in field.split(',').filter(|e| !e.is_empty()) {
            range(expr, bounds)?;
        }
    }
    Ok(())
}

/// robfig/cron's `getRange` checks, in its order and words.
fn range(expr: &str, r: &Bounds) -> Result<(), String> {
    let range_and_step: Vec<&str> = expr.split('/').collect();
    let low_and_high: Vec<&str> = range_and_step[0].split('-').collect();
    let single = low_and_high.len() == 1;
    let (start, mut end) = if matches!(low_and_high[0], "*" | "?") {
        (r.min, r.max)
    } else {
        let start = int_or_name(low_and_high[0], r)?;
        match low_and_high.len() {
            1 => (start, start),
            2 => (start, int_or_name(low_and_high[1], r)?),
            _ => return Err(format!("too many hyphens: {expr}")),
        }
    };
    let step = match range_and_step.len() {
        1 => 1,
        2 => {
            let step = must_parse_int(range_and_step[1])?;
            // "N/step" means "N-max/step".
            if single {
                end = r.max;
            }
            step
        }
        _ => return Err(format!("too many slashes: {expr}")),
    };
    if start < r.min {
        return Err(format!(
            "beginning of range ({start}) below minimum ({}): {expr}",
            r.min
        ));
    }
    if end > r.max {
        return Err(format!(
            "end of range ({end}) above maximum ({}): {expr}",
            r.max
        ));
    }
    if start > end {
        return Err(format!(
            "beginning of range ({start}) beyond end of range ({end}): {expr}"
        ));
    }
    if step == 0 {
        return Err(format!("step of range should be a positive number: {expr}"));
    }
    Ok(())
}

fn int_or_name(expr: &str, r: &Bounds) -> Result<u64, String> {
    let lower = expr.to_lowercase();
    match r.names.iter().position(|n| *n == lower) {
        Some(i) => Ok(r.first + i as u64),
        None => must_parse_int(expr),
    }
}

/// robfig/cron's `mustParseInt` over Go's `strconv.Atoi` (a sign allowed, decimal digits).
fn must_parse_int(expr: &str) -> Result<u64, String> {
    let digits = expr.strip_prefix(['+', '-']).unwrap_or(expr);
    let quoted = crate::shown::shown(expr);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "failed to parse int from {expr}: strconv.Atoi: parsing \"{quoted}\": invalid syntax"
        ));
    }
    let Ok(n) = expr.parse::<i64>() else {
        return Err(format!(
            "failed to parse int from {expr}: strconv.Atoi: parsing \"{quoted}\": value out of range"
        ));
    };
    u64::try_from(n).map_err(|_| format!("negative number ({n}) not allowed: {expr}"))
}

/// robfig/cron's `parseDescriptor`.
fn descriptor(d: &str) -> Result<(), String> {
    match d {
        "@yearly" | "@annually" | "@monthly" | "@weekly" | "@daily" | "@midnight" | "@hourly" => {
            Ok(())
        }
        _ => match d.strip_prefix("@every ") {
            Some(duration) => {
                go_duration(duration).map_err(|e| format!("failed to parse duration {d}: {e}"))
            }
            None => Err(format!("unrecognized descriptor: {d}")),
        },
    }
}

/// Go's `time.ParseDuration` syntax (a sign, then numbers each with a unit among ns, us, µs,
/// μs, ms, s, m, h; `0` alone), in its error words.
fn go_duration(orig: &str) -> Result<(), String> {
    let quoted = crate::shown::shown(orig);
    let invalid = || format!("time: invalid duration \"{quoted}\"");
    let mut s = orig.strip_prefix(['+', '-']).unwrap_or(orig);
    if s == "0" {
        return Ok(());
    }
    if s.is_empty() {
        return Err(invalid());
    }
    while !s.is_empty() {
        let int = s.len() - s.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let rest = &s[int..];
        let frac = match rest.strip_prefix('.') {
            Some(r) => 1 + r.len() - r.trim_start_matches(|c: char| c.is_ascii_digit()).len(),
            None => 0,
        };
        // Digits before or after the point: `.5s` and `5.s` are numbers, `.s` is not.
        if int == 0 && frac <= 1 {
            return Err(invalid());
        }
        s = &s[int + frac..];
        let unit_len = s.len()
            - s.trim_start_matches(|c: char| c != '.' && !c.is_ascii_digit())
                .len();
        let unit = &s[..unit_len];
        if unit.is_empty() {
            return Err(format!("time: missing unit in duration \"{quoted}\""));
        }
        if !matches!(
            unit,
            "ns" | "us" | "\u{b5}s" | "\u{3bc}s" | "ms" | "s" | "m" | "h"
        ) {
            return Err(format!(
                "time: unknown unit \"{}\" in duration \"{quoted}\"",
                crate::shown::shown(unit)
            ));
        }
        s = &s[unit_len..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What robfig/cron v3's ParseStandard takes and refuses, in its words (parser.go).
    #[test]
    fn parse_standard_as_robfig_cron_v3() {
        for ok in [
            "*/5 * * * *",
            "0 0 * * MON-FRI",
            "0 3 1,15 jan-jun sun",
            "? * * * *",
            "5/15 * * * *",
            "*/61 * * * *",
            "@hourly",
            "@every 1h30m",
            "@every 90s",
            "@every .5h",
            "@every 0",
            "0 0 31 2 *",
            "0  0  *  *  *",
        ] {
            assert_eq!(parse_standard(ok), Ok(()), "{ok}");
        }
        for (bad, said) in [
            ("61 * * * *", "end of range (61) above maximum (59): 61"),
            ("0 0 * * 7", "end of range (7) above maximum (6): 7"),
            ("0 0 0 * *", "beginning of range (0) below minimum (1): 0"),
            ("* * * *", "expected exactly 5 fields, found 4: [* * * *]"),
            (
                "0 0 * * * *",
                "expected exactly 5 fields, found 6: [0 0 * * * *]",
            ),
            (
                "5-1 * * * *",
                "beginning of range (5) beyond end of range (1): 5-1",
            ),
            (
                "*/0 * * * *",
                "step of range should be a positive number: */0",
            ),
            ("1-2-3 * * * *", "too many hyphens: 1-2-3"),
            ("1/2/3 * * * *", "too many slashes: 1/2/3"),
            (
                "x * * * *",
                "failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax",
            ),
            ("@fortnightly", "unrecognized descriptor: @fortnightly"),
            (
                "@every 1d",
                "failed to parse duration @every 1d: time: unknown unit \"d\" in duration \"1d\"",
            ),
            (
                "@every 5",
                "failed to parse duration @every 5: time: missing unit in duration \"5\"",
            ),
            ("@every", "unrecognized descriptor: @every"),
        ] {
            assert_eq!(parse_standard(bad), Err(said.to_string()), "{bad}");
        }
    }
}
