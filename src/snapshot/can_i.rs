//! The `kubectl auth can-i` line that confirms a refused read. A gap's reason names each read
//! the API server refused ("cannot list pods in payments: forbidden"; workloads join several
//! with "; "), so the check that proves it, and that a user hands to whoever grants the
//! role, is spelled from the reason itself. Only names that are safe to paste bare (a
//! Kubernetes plural, a namespace, an API path) make a command: the reason comes from the
//! input (a snapshot file may say anything).

/// One `kubectl auth can-i` per refused read `reason` names, in order, without repeats.
/// Empty when it names none (a timeout, an Azure error, a choice such as `--no-azure`).
pub fn commands(reason: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (at, _) in reason.match_indices("cannot ") {
        if let Some(cmd) = refused_read(&reason[at + "cannot ".len()..])
            && !out.contains(&cmd)
        {
            out.push(cmd);
        }
    }
    out
}

/// `list pods in payments: forbidden…` → `kubectl auth can-i list pods -n payments`.
fn refused_read(rest: &str) -> Option<String> {
    let (verb, rest) = rest.split_once(' ')?;
    if !matches!(verb, "list" | "get" | "watch") {
        return None;
    }
    let (what, rest) = rest.split_once([' ', ':']).unwrap_or((rest, ""));
    let rest = rest.trim_start();
    let path = what.starts_with('/');
    if !(safe(what, path) && what.len() > 1) {
        return None;
    }
    let (scope, rest) = if let Some(r) = rest.strip_prefix("at the cluster scope") {
        (if cluster_scoped(what) { "" } else { " -A" }.to_string(), r)
    } else if let Some(r) = rest.strip_prefix("in ") {
        let (ns, r) = r.split_once(':')?;
        if !safe(ns, false) {
            return None;
        }
        (format!(" -n {ns}"), r)
    } else if path {
        (String::new(), rest.trim_start_matches(':'))
    } else {
        return None;
    };
    let rest = rest.trim_start_matches(':').trim_start();
    rest.starts_with("forbidden")
        .then(|| format!("kubectl auth can-i {verb} {what}{scope}"))
}

/// A Kubernetes plural (`secretproviderclasses`, `deployments.apps`), a namespace, or with
/// `path` an API path (`/.well-known/openid-configuration`): nothing a shell reads specially.
fn safe(s: &str, path: bool) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| {
            b.is_ascii_lowercase()
                || b.is_ascii_digit()
                || matches!(b, b'-' | b'.')
                || (path && matches!(b, b'/' | b'_'))
        })
}

/// Kinds without a namespace, which `-A` does not apply to.
fn cluster_scoped(plural: &str) -> bool {
    let base = plural.split('.').next().unwrap_or(plural);
    matches!(
        base,
        "nodes"
            | "namespaces"
            | "csidrivers"
            | "csinodes"
            | "mutatingwebhookconfigurations"
            | "validatingwebhookconfigurations"
            | "clusterroles"
            | "clusterrolebindings"
            | "customresourcedefinitions"
    )
}

#[cfg(test)]
mod tests {
    use super::commands;

    #[test]
    fn a_refused_list_is_confirmed_in_its_scope() {
        assert_eq!(
            commands("cannot list pods in payments: forbidden"),
            ["kubectl auth can-i list pods -n payments"]
        );
        assert_eq!(
            commands("cannot list secretproviderclasses at the cluster scope: forbidden"),
            ["kubectl auth can-i list secretproviderclasses -A"]
        );
        assert_eq!(
            commands("cannot watch events at the cluster scope: forbidden"),
            ["kubectl auth can-i watch events -A"]
        );
    }

    #[test]
    fn every_refused_kind_of_a_merged_gap_is_confirmed_once() {
        let why = "cannot list deployments at the cluster scope: forbidden; cannot list \
                   replicasets at the cluster scope: forbidden; cannot list deployments at the \
                   cluster scope: forbidden";
        assert_eq!(
            commands(why),
            [
                "kubectl auth can-i list deployments -A",
                "kubectl auth can-i list replicasets -A"
            ]
        );
    }

    #[test]
    fn cluster_kinds_and_api_paths_take_no_namespace_flag() {
        assert_eq!(
            commands("cannot get csidrivers at the cluster scope: forbidden"),
            ["kubectl auth can-i get csidrivers"]
        );
        assert_eq!(
            commands(
                "OIDC issuer unknown: cannot get /.well-known/openid-configuration: forbidden"
            ),
            ["kubectl auth can-i get /.well-known/openid-configuration"]
        );
    }

    #[test]
    fn the_watched_namespace_note_after_the_refusal_is_no_obstacle() {
        assert_eq!(
            commands(
                "cannot list pods at the cluster scope: forbidden; only namespace shop is \
                 watched (-n picks another)"
            ),
            ["kubectl auth can-i list pods -A"]
        );
    }

    #[test]
    fn anything_but_a_refusal_or_a_name_unsafe_to_paste_makes_no_command() {
        for why in [
            "list pods: 503 InternalError: etcdserver: leader changed",
            "cannot list pods at the cluster scope: unauthorized (credentials rejected)",
            "Azure disabled (--no-azure)",
            "cannot list pods in pay$(rm -rf ~): forbidden",
            "cannot list po`x`ds at the cluster scope: forbidden",
            "cannot reach https://10.0.0.1:443: Connection refused",
            "cannot look up vault kv-x: 403 Forbidden",
        ] {
            assert!(commands(why).is_empty(), "{why}: {:?}", commands(why));
        }
    }
}
