//! Whether Stakater Reloader restarts a workload when one of its Secrets changes, decided as
//! Reloader's `ShouldReload` decides it (FACTS §10; [R] `pkg/common/common.go`): one matcher
//! for the chain's KVC902, the rotation timeline and the lab's Reloader, so none of them can
//! disagree with the others or with Reloader. Upstream's behaviour, beside the engine and the
//! lab as [`crate::spc`] is: both read it, neither owns it.
//!
//! - The workload's own annotations are read first. When none of the four annotations that
//!   ask for a Secret restart is there (`secret.reloader.stakater.com/reload`,
//!   `reloader.stakater.com/search`, `reloader.stakater.com/auto`,
//!   `secret.reloader.stakater.com/auto`), the pod template's are read instead (a chart's
//!   `podAnnotations` put them there).
//! - Each comma-separated entry of a `reload` list, trimmed, is the anchored regex
//!   `^entry$` (Go's RE2; an entry that does not compile is skipped).
//! - `auto` values are Go's `strconv.ParseBool` (`true`, `True`, `1`, `t`…), untrimmed.
//! - Before any of that, two exclusions (FACTS §10): the Secret's own
//!   `reloader.stakater.com/ignore: "true"` (the exact string), and the workload's own
//!   `secrets.exclude.reloader.stakater.com/reload` list (never the template's: Reloader reads
//!   it before it falls back to the template), whose trimmed entries are names, not regexes.
//!   Either one and the workload is not restarted for that Secret, whatever else it says.

use std::collections::BTreeMap;

/// Annotation keys Reloader reads for a Secret (its defaults, FACTS §10).
pub(crate) const RELOAD: &str = "secret.reloader.stakater.com/reload";
pub(crate) const SEARCH: &str = "reloader.stakater.com/search";
pub(crate) const AUTO: &str = "reloader.stakater.com/auto";
const TYPED_AUTO: &str = "secret.reloader.stakater.com/auto";
/// On the Secret (resource side): Reloader restarts nothing for it.
pub(crate) const IGNORE: &str = "reloader.stakater.com/ignore";
/// On the Secret, for a workload's `search`.
pub(crate) const MATCH: &str = "reloader.stakater.com/match";
/// On the workload: the Secrets (comma-separated names) it is not restarted for.
pub(crate) const EXCLUDE: &str = "secrets.exclude.reloader.stakater.com/reload";

/// Why Reloader skips a workload for a Secret before reading its reload annotations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Skip {
    /// The Secret carries `reloader.stakater.com/ignore: "true"`.
    Ignored,
    /// The workload's own `secrets.exclude.reloader.stakater.com/reload` names the Secret.
    Excluded,
}

/// The resource-side annotations Reloader reads on a Secret (kept by the snapshot; every
/// other annotation is dropped).
pub(crate) fn resource_side(
    annotations: Option<&BTreeMap<String, String>>,
) -> BTreeMap<String, String> {
    annotations
        .into_iter()
        .flatten()
        .filter(|(k, _)| *k == IGNORE || *k == MATCH)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Whether Reloader skips the workload with own annotations `own` for Secret `secret` whose
/// annotations are `resource` ([R] ShouldReload: the ignore annotation compared to `"true"`,
/// then the exclusion list, entries trimmed and compared by name).
pub(crate) fn skipped(
    own: &BTreeMap<String, String>,
    resource: &BTreeMap<String, String>,
    secret: &str,
) -> Option<Skip> {
    if resource.get(IGNORE).is_some_and(|v| v == "true") {
        return Some(Skip::Ignored);
    }
    own.get(EXCLUDE)
        .is_some_and(|list| list.split(',').any(|e| e.trim() == secret))
        .then_some(Skip::Excluded)
}

/// Why Reloader restarts the workload for a Secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Restart {
    /// An entry of the `reload` list matches the Secret's name.
    Named,
    /// `auto` (any Secret the template references).
    Auto,
    /// `search: "true"` on the workload and `match: "true"` on the Secret.
    Searched,
}

/// The annotations Reloader reads for a Secret change: the workload's `own` when one of the
/// four is there, else the pod template's.
pub(crate) fn read<'a>(
    own: &'a BTreeMap<String, String>,
    template: &'a BTreeMap<String, String>,
) -> &'a BTreeMap<String, String> {
    if [RELOAD, SEARCH, AUTO, TYPED_AUTO]
        .iter()
        .any(|k| own.contains_key(*k))
    {
        own
    } else {
        template
    }
}

/// How Reloader restarts a workload with annotations `own` and pod-template annotations
/// `template` when Secret `secret`, annotated `resource`, changes; `None`: it does not
/// ([`skipped`] first; `search` counts when the Secret carries `match: "true"`, which the
/// driver writes when the SPC's secretObjects annotations ask for it, FACTS §2).
pub(crate) fn restart(
    own: &BTreeMap<String, String>,
    template: &BTreeMap<String, String>,
    resource: &BTreeMap<String, String>,
    secret: &str,
) -> Option<Restart> {
    if skipped(own, resource, secret).is_some() {
        return None;
    }
    asked(own, template, resource, secret)
}

/// How the workload's reload annotations ask for a restart when `secret` changes, before the
/// exclusions of [`skipped`].
/// `reload` entries, then `auto`, then `search` with the Secret's `match` ([R]
/// ShouldReload: `search` and `match` are compared with the exact string `"true"`).
pub(crate) fn asked(
    own: &BTreeMap<String, String>,
    template: &BTreeMap<String, String>,
    resource: &BTreeMap<String, String>,
    secret: &str,
) -> Option<Restart> {
    let ann = read(own, template);
    if ann
        .get(RELOAD)
        .is_some_and(|list| list_matches(list, secret))
    {
        return Some(Restart::Named);
    }
    let on = |k: &str| ann.get(k).is_some_and(|v| go_parse_bool(v) == Some(true));
    if on(AUTO) || on(TYPED_AUTO) {
        return Some(Restart::Auto);
    }
    (searches(ann) && resource.get(MATCH).is_some_and(|v| v == "true")).then_some(Restart::Searched)
}

/// The workload's Reloader annotations ask for Secrets tagged `match` (`search: "true"`).
pub(crate) fn searches(ann: &BTreeMap<String, String>) -> bool {
    ann.get(SEARCH).is_some_and(|v| v == "true")
}

/// Whether one entry of comma-separated `list` matches `name` as Reloader matches it:
/// `^entry$`, entries trimmed, an entry that is no valid regex skipped.
pub(crate) fn list_matches(list: &str, name: &str) -> bool {
    list.split(',').map(str::trim).any(|entry| {
        // The usual entry is a plain name: compared without building a regex.
        if entry
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return entry == name;
        }
        // Concatenated as Reloader does, without a group: `^a|b$` is `^a` or `b$`.
        anchored(entry).is_some_and(|re| re.is_match(name))
    })
}

/// `^entry$` compiled once per thread: every replica of a workload asks about the same list,
/// and a pass may ask thousands of times (None: no valid regex, as Reloader skips it).
fn anchored(entry: &str) -> Option<regex::Regex> {
    use std::cell::RefCell;
    use std::collections::HashMap;
    thread_local! {
        static COMPILED: RefCell<HashMap<String, Option<regex::Regex>>> = RefCell::new(HashMap::new());
    }
    COMPILED.with(|c| {
        let mut c = c.borrow_mut();
        if let Some(re) = c.get(entry) {
            return re.clone();
        }
        // Bounded: reload lists are a few entries per workload, not per pod.
        if c.len() >= 1024 {
            c.clear();
        }
        let re = regex::Regex::new(&format!("^{entry}$")).ok();
        c.insert(entry.to_string(), re.clone());
        re
    })
}

/// Go's strconv.ParseBool, without the provider's trim (Reloader passes the value as written).
fn go_parse_bool(v: &str) -> Option<bool> {
    if v.trim() != v {
        return None;
    }
    crate::spc::parse_bool(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [R] ShouldReload: `regexp.Compile("^" + value + "$")` per trimmed entry.
    #[test]
    fn entries_are_anchored_regexes() {
        assert!(list_matches("db.*", "dbs"));
        assert!(list_matches("other, db-.*", "db-main"));
        assert!(!list_matches("db", "dbs"), "anchored at the end");
        assert!(!list_matches("b.*", "dbs"), "anchored at the start");
        // "^" + "db|x" + "$": an alternation's branches are anchored one end each.
        assert!(list_matches("db|x", "dbs"));
        assert!(
            !list_matches("db[", "db["),
            "an invalid regex matches nothing"
        );
        assert!(list_matches("a.b", "a.b") && list_matches("a.b", "axb"));
    }

    /// [R] ShouldReload: `ignore` is compared to "true"; exclusion entries are trimmed names,
    /// read from the workload's own annotations only.
    #[test]
    fn exclusions_come_first() {
        let m = |kv: &[(&str, &str)]| -> BTreeMap<String, String> {
            kv.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let auto = m(&[(AUTO, "true"), (EXCLUDE, "a, db ")]);
        let none = m(&[]);
        assert_eq!(restart(&auto, &none, &none, "db"), None);
        assert_eq!(restart(&auto, &none, &none, "d.*"), Some(Restart::Auto));
        let ignored = m(&[(IGNORE, "true")]);
        assert_eq!(skipped(&none, &ignored, "x"), Some(Skip::Ignored));
        assert_eq!(skipped(&none, &m(&[(IGNORE, "True")]), "x"), None);
        assert_eq!(
            restart(&none, &m(&[(AUTO, "true"), (EXCLUDE, "db")]), &none, "db"),
            Some(Restart::Auto),
            "the template's exclusion is not read"
        );
    }
}
