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

/// What a Reloader reads for a Secret: the annotation keys, as its flags may rename them, and
/// the flags that decide beyond them (made from the Reloader seen by
/// [`crate::snapshot::reloader_config`]: this module reads no snapshot) ([R] `internal/pkg/util/util.go`,
/// `pkg/common/common.go` ShouldReload). The exclusion list and the SecretProviderClass keys
/// have no flag: they are always the defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Config<'a> {
    /// `--secret-annotation`.
    pub reload: &'a str,
    /// `--auto-annotation`.
    pub auto: &'a str,
    /// `--secret-auto-annotation`.
    pub typed_auto: &'a str,
    /// `--auto-search-annotation`.
    pub search: &'a str,
    /// `--search-match-annotation`, read on the Secret.
    pub matched: &'a str,
    /// `--ignore-annotation`, read on the Secret.
    pub ignore: &'a str,
    /// `--auto-reload-all`.
    pub auto_reload_all: bool,
    /// `--enable-csi-integration`; None: no Reloader was read (the flags are not known).
    pub csi: Option<bool>,
}

/// Reloader's defaults, for a Reloader whose flags were not read.
pub(crate) const DEFAULT: Config<'static> = Config {
    reload: RELOAD,
    auto: AUTO,
    typed_auto: TYPED_AUTO,
    search: SEARCH,
    matched: MATCH,
    ignore: IGNORE,
    auto_reload_all: false,
    csi: None,
};

/// Annotation keys Reloader reads for a Secret (its defaults, FACTS §10).
pub(crate) const RELOAD: &str = "secret.reloader.stakater.com/reload";
pub(crate) const SEARCH: &str = "reloader.stakater.com/search";
pub(crate) const AUTO: &str = "reloader.stakater.com/auto";
pub(crate) const TYPED_AUTO: &str = "secret.reloader.stakater.com/auto";
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
    cfg: &Config,
    own: &BTreeMap<String, String>,
    resource: &BTreeMap<String, String>,
    secret: &str,
) -> Option<Skip> {
    if resource.get(cfg.ignore).is_some_and(|v| v == "true") {
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
    cfg: &Config,
    own: &'a BTreeMap<String, String>,
    template: &'a BTreeMap<String, String>,
) -> &'a BTreeMap<String, String> {
    if [cfg.reload, cfg.search, cfg.auto, cfg.typed_auto]
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
    cfg: &Config,
    own: &BTreeMap<String, String>,
    template: &BTreeMap<String, String>,
    resource: &BTreeMap<String, String>,
    secret: &str,
) -> Option<Restart> {
    if skipped(cfg, own, resource, secret).is_some() {
        return None;
    }
    asked(cfg, own, template, resource, secret)
}

/// How the workload's reload annotations ask for a restart when `secret` changes, before the
/// exclusions of [`skipped`].
/// `reload` entries, then `search` with the Secret's `match` ([R] ShouldReload: `search`
/// and `match` are compared with the exact string `"true"`), then `auto`, which
/// `--auto-reload-all` stands for where neither `auto` key has a value.
pub(crate) fn asked(
    cfg: &Config,
    own: &BTreeMap<String, String>,
    template: &BTreeMap<String, String>,
    resource: &BTreeMap<String, String>,
    secret: &str,
) -> Option<Restart> {
    let ann = read(cfg, own, template);
    if ann
        .get(cfg.reload)
        .is_some_and(|list| list_matches(list, secret))
    {
        return Some(Restart::Named);
    }
    if searches(cfg, ann) && resource.get(cfg.matched).is_some_and(|v| v == "true") {
        return Some(Restart::Searched);
    }
    auto(cfg, ann, cfg.typed_auto).then_some(Restart::Auto)
}

/// Reloader's `auto` for annotations `ann` (already the workload's or the template's): either
/// `auto` key true by Go's ParseBool, or `--auto-reload-all` where both are empty or absent
/// (`reloader.stakater.com/auto: "false"` keeps a workload out of it).
fn auto(cfg: &Config, ann: &BTreeMap<String, String>, typed_auto: &str) -> bool {
    let value = |k: &str| ann.get(k).map_or("", String::as_str);
    let (general, typed) = (value(cfg.auto), value(typed_auto));
    go_parse_bool(general) == Some(true)
        || go_parse_bool(typed) == Some(true)
        || (cfg.auto_reload_all && general.is_empty() && typed.is_empty())
}

/// The workload's Reloader annotations ask for Secrets tagged `match` (`search: "true"`).
pub(crate) fn searches(cfg: &Config, ann: &BTreeMap<String, String>) -> bool {
    ann.get(cfg.search).is_some_and(|v| v == "true")
}

/// SecretProviderClass annotation keys ([R] `internal/pkg/options/flags.go`; no flag renames
/// them).
pub(crate) const SPC_RELOAD: &str = "secretproviderclass.reloader.stakater.com/reload";
pub(crate) const SPC_AUTO: &str = "secretproviderclass.reloader.stakater.com/auto";
const SPC_EXCLUDE: &str = "secretproviderclasses.exclude.reloader.stakater.com/reload";

/// Which of the workload's annotations asks Reloader to restart it when the status of a pod
/// mounting SecretProviderClass `spc` changes, read as ShouldReload reads them for that kind
/// (its `reload` list and typed `auto` are the SPC keys; `search` with the SPC's `match`, the
/// general `auto` and `--auto-reload-all` count too; the SPC's `ignore` and the SPC exclusion
/// list first). The resource-side annotations (`resource`) are the SecretProviderClass's own,
/// which Reloader reads for a pod status change ([R] `internal/pkg/handler/upgrade.go`
/// populateAnnotationsFromSecretProviderClass), not the synced Secret's. This acts only under
/// `--enable-csi-integration` ([`Config::csi`]), which the caller weighs. None: nothing asks.
pub(crate) fn spc_asked<'c>(
    cfg: &Config<'c>,
    own: &BTreeMap<String, String>,
    template: &BTreeMap<String, String>,
    resource: &BTreeMap<String, String>,
    spc: &str,
) -> Option<&'c str> {
    if resource.get(cfg.ignore).is_some_and(|v| v == "true")
        || own
            .get(SPC_EXCLUDE)
            .is_some_and(|list| list.split(',').any(|e| e.trim() == spc))
    {
        return None;
    }
    let ann = if [SPC_RELOAD, cfg.search, cfg.auto, SPC_AUTO]
        .iter()
        .any(|k| own.contains_key(*k))
    {
        own
    } else {
        template
    };
    if ann
        .get(SPC_RELOAD)
        .is_some_and(|list| list_matches(list, spc))
    {
        return Some(SPC_RELOAD);
    }
    if searches(cfg, ann) && resource.get(cfg.matched).is_some_and(|v| v == "true") {
        return Some(cfg.search);
    }
    let on = |k: &str| ann.get(k).is_some_and(|v| go_parse_bool(v) == Some(true));
    match () {
        _ if on(SPC_AUTO) => Some(SPC_AUTO),
        _ if on(cfg.auto) => Some(cfg.auto),
        _ if auto(cfg, ann, SPC_AUTO) => Some("--auto-reload-all"),
        _ => None,
    }
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

/// The name Reloader gives a resource in its `STAKATER_<NAME>_<KIND>` variables ([R]
/// `internal/pkg/util/util.go` ConvertToEnvVarName): upper-cased, each run of characters
/// other than A–Z and 0–9 one `_` when it follows a kept character, none at the start.
pub(crate) fn env_var_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut last_kept = false;
    for c in name.bytes().map(|b| b.to_ascii_uppercase()) {
        if c.is_ascii_uppercase() || c.is_ascii_digit() {
            out.push(c as char);
            last_kept = true;
        } else {
            if last_kept {
                out.push('_');
            }
            last_kept = false;
        }
    }
    out
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

    /// [R] util.go ConvertToEnvVarName, on the names its own tests use and on runs of
    /// separators (one `_` each, none leading; a trailing one kept).
    #[test]
    fn env_var_names_are_reloaders() {
        assert_eq!(env_var_name("api-db"), "API_DB");
        assert_eq!(env_var_name("my.secret-v2"), "MY_SECRET_V2");
        assert_eq!(env_var_name("-a--b."), "A_B_");
    }

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
        assert_eq!(restart(&DEFAULT, &auto, &none, &none, "db"), None);
        assert_eq!(
            restart(&DEFAULT, &auto, &none, &none, "d.*"),
            Some(Restart::Auto)
        );
        let ignored = m(&[(IGNORE, "true")]);
        assert_eq!(skipped(&DEFAULT, &none, &ignored, "x"), Some(Skip::Ignored));
        assert_eq!(skipped(&DEFAULT, &none, &m(&[(IGNORE, "True")]), "x"), None);
        assert_eq!(
            restart(
                &DEFAULT,
                &none,
                &m(&[(AUTO, "true"), (EXCLUDE, "db")]),
                &none,
                "db"
            ),
            Some(Restart::Auto),
            "the template's exclusion is not read"
        );
    }
}
