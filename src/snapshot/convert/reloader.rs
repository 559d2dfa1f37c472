//! A Deployment that runs Stakater Reloader: its image, and its flags as Reloader's cobra
//! command reads them ([R] `internal/pkg/util/util.go` `ConfigureReloaderFlags`).

use super::super::ReloaderObs;

/// Whether `image` is Stakater Reloader's (`stakater/reloader`, from any registry, any tag
/// or digest).
pub(crate) fn is_reloader_image(image: &str) -> bool {
    let repo = image.split('@').next().unwrap_or(image);
    // A tag follows the last ':' after the last '/' (a registry's port comes before it).
    let repo = match repo.rfind(':') {
        Some(i) if !repo[i..].contains('/') => &repo[..i],
        _ => repo,
    };
    repo == "stakater/reloader" || repo.ends_with("/stakater/reloader")
}

/// Reloader's flags from a container's `command` and `args` (cobra: `--flag=value` or
/// `--flag value`, a list comma-separated or repeated) and its `KUBERNETES_NAMESPACE`
/// (`Some("")` set from a field reference: the Deployment's own namespace, `own_ns`).
pub(crate) fn observe<'a>(
    words: impl IntoIterator<Item = &'a str>,
    kubernetes_namespace: Option<&str>,
    own_ns: &str,
    available: Option<i32>,
) -> ReloaderObs {
    let mut obs = ReloaderObs {
        available,
        ..ReloaderObs::default()
    };
    let mut scoped: Vec<String> = Vec::new();
    let mut words = words.into_iter().peekable();
    while let Some(w) = words.next() {
        let Some(flag) = w.strip_prefix("--").or_else(|| w.strip_prefix('-')) else {
            continue;
        };
        let (name, value) = match flag.split_once('=') {
            Some((n, v)) => (n, v.to_string()),
            None => match words.peek() {
                Some(v) if !v.starts_with('-') && takes_value(flag) => {
                    (flag, words.next().unwrap_or_default().to_string())
                }
                _ => (flag, String::new()),
            },
        };
        let list = || {
            value
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        match name {
            "namespaces" => scoped.extend(list()),
            "namespaces-to-ignore" => obs.ignored_namespaces.extend(list()),
            "namespace-selector" if !value.is_empty() => obs.namespace_selector = Some(value),
            "resource-label-selector" if !value.is_empty() => obs.resource_selector = Some(value),
            "resources-to-ignore" => {
                obs.ignores_secrets |= list().any(|r| r.eq_ignore_ascii_case("secrets"))
            }
            "webhook-url" => obs.webhook_only = !value.is_empty(),
            // Bool flags: `--flag` alone is true, `--flag=v` Go's ParseBool (pflag; a value
            // after a space is an argument, not the flag's).
            "auto-reload-all" => obs.auto_reload_all = bool_flag(&value),
            "enable-csi-integration" => obs.csi_integration = bool_flag(&value),
            "secret-annotation"
            | "auto-annotation"
            | "secret-auto-annotation"
            | "auto-search-annotation"
            | "search-match-annotation"
            | "ignore-annotation" => {
                obs.renamed.insert(name.to_string(), value);
            }
            _ => {}
        }
    }
    obs.only = if !scoped.is_empty() {
        Some(scoped)
    } else {
        match kubernetes_namespace {
            Some("") => Some(vec![own_ns.to_string()]),
            Some(ns) => Some(vec![ns.to_string()]),
            None => None,
        }
    };
    obs
}

/// A pflag bool's value: empty (the flag alone) is true; otherwise Go's ParseBool, a value it
/// rejects failing Reloader's start, taken as the default (false).
fn bool_flag(value: &str) -> bool {
    value.is_empty() || crate::spc::parse_bool(value) == Some(true)
}

fn takes_value(flag: &str) -> bool {
    matches!(
        flag,
        "secret-annotation"
            | "auto-annotation"
            | "secret-auto-annotation"
            | "auto-search-annotation"
            | "search-match-annotation"
            | "ignore-annotation"
            | "namespaces"
            | "namespaces-to-ignore"
            | "namespace-selector"
            | "resource-label-selector"
            | "resources-to-ignore"
            | "webhook-url"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn its_image_is_told_from_any_registry_tag_or_digest() {
        for image in [
            "ghcr.io/stakater/reloader:v1.4.1",
            "stakater/reloader",
            "docker.io/stakater/reloader:v0.0.60",
            "registry.example:5000/mirror/stakater/reloader@sha256:abcd",
        ] {
            assert!(is_reloader_image(image), "{image}");
        }
        for image in [
            "stakater/reloader-operator:v1",
            "example/reloader:v1",
            "registry:5000/stakater/reloaderx",
        ] {
            assert!(!is_reloader_image(image), "{image}");
        }
    }

    #[test]
    fn flags_are_read_as_cobra_reads_them() {
        let args = [
            "--namespaces-to-ignore=kube-system, shop",
            "--resources-to-ignore",
            "Secrets",
            "--resource-label-selector=team=a",
            "--log-format=json",
        ];
        let r = observe(args, None, "reloader", Some(1));
        assert_eq!(r.ignored_namespaces, ["kube-system", "shop"]);
        assert!(r.ignores_secrets);
        assert_eq!(r.resource_selector.as_deref(), Some("team=a"));
        assert_eq!(r.only, None);
        // The chart's watchGlobally: false sets KUBERNETES_NAMESPACE from the pod's namespace.
        let r = observe([], Some(""), "reloader", None);
        assert_eq!(r.only, Some(vec!["reloader".to_string()]));
        // --namespaces (scoped mode) wins over KUBERNETES_NAMESPACE.
        let r = observe(["--namespaces=a,b"], Some("c"), "reloader", None);
        assert_eq!(r.only, Some(vec!["a".to_string(), "b".to_string()]));
    }

    /// [R] `internal/pkg/util/util.go`: `--auto-reload-all` and `--enable-csi-integration`
    /// are pflag bools (alone: true; a value only after `=`), the annotation flags strings.
    #[test]
    fn bool_and_annotation_flags_are_read() {
        let r = observe(
            ["--auto-reload-all", "--enable-csi-integration=false"],
            None,
            "reloader",
            None,
        );
        assert!(r.auto_reload_all && !r.csi_integration);
        let r = observe(
            [
                "--enable-csi-integration=True",
                "--auto-annotation",
                "example.com/auto",
                "--ignore-annotation=example.com/ignore",
            ],
            None,
            "reloader",
            None,
        );
        assert!(r.csi_integration && !r.auto_reload_all);
        assert_eq!(r.renamed["auto-annotation"], "example.com/auto");
        assert_eq!(r.renamed["ignore-annotation"], "example.com/ignore");
    }
}
