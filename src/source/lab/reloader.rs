//! The lab's Stakater Reloader as a live cluster's would be read: a Deployment
//! `reloader/reloader` whose container args (the Cluster's `reloaderArgs`) go through the
//! parser a live Reloader's do, so the world acts by the same flags the chain reads.

use super::scenario::ClusterSpec;
use crate::snapshot::{ReloaderFacts, ReloaderObs, ReloaderSeen, Runs, Watched, reloader_runs_for};

const NAMESPACE: &str = "reloader";

/// Its flags, read from `reloaderArgs`.
pub fn run(c: &ClusterSpec) -> ReloaderObs {
    let words = c.reloader_args.iter().map(String::as_str);
    crate::snapshot::convert::reloader_flags(words, None, NAMESPACE, None)
}

/// What a live source would see of it: its Deployment when the Cluster runs one (scaled to 0
/// by the trainer's `stop-reloader`, as `kubectl scale` leaves it), none otherwise; nothing
/// unseen, the lab knows its whole cluster.
pub fn facts(c: &ClusterSpec) -> ReloaderFacts {
    ReloaderFacts {
        seen: (c.reloader.then(|| ReloaderSeen {
            namespace: NAMESPACE.into(),
            name: "reloader".into(),
            replicas: Some(if c.reloader_stopped { 0 } else { 1 }),
            run: run(c),
        }))
        .into_iter()
        .collect(),
        unseen: None,
    }
}

/// Whether the lab's Reloader restarts workloads of `ns` for changes of `what` (its flags'
/// namespaces, scaled to 0, `--webhook-url`, `--resources-to-ignore=secrets`), judged as the
/// chain judges a live one ([`reloader_runs_for`]). The flags that would leave it unknown are
/// refused at load ([`unsimulated`]).
pub(crate) fn acts_in(c: &ClusterSpec, ns: &str, what: Watched) -> bool {
    c.reloader && reloader_runs_for(Some(&facts(c)), ns, what) == Runs::Yes
}

/// Why the lab cannot run a Reloader started with `args`: selectors decide over labels the lab
/// does not weigh, so what it restarts would be a guess. None: it can.
pub(crate) fn unsimulated(args: &[String]) -> Option<String> {
    let words = args.iter().map(String::as_str);
    let obs = crate::snapshot::convert::reloader_flags(words, None, NAMESPACE, None);
    let selector = match () {
        _ if obs.namespace_selector.is_some() => "--namespace-selector",
        _ if obs.resource_selector.is_some() => "--resource-label-selector",
        _ => return None,
    };
    Some(format!(
        "{selector} decides over labels the lab does not simulate; name namespaces with --namespaces or --namespaces-to-ignore instead"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(args: &[&str]) -> ClusterSpec {
        ClusterSpec {
            reloader: true,
            reloader_args: args.iter().map(|a| a.to_string()).collect(),
            ..ClusterSpec::default()
        }
    }

    /// The args are read as a live Reloader's are: `--flag=value`, `--flag value`, a bare bool.
    #[test]
    fn its_args_are_read_as_a_live_reloaders() {
        let r = run(&cluster(&[
            "--enable-csi-integration",
            "--namespaces",
            "shop",
        ]));
        assert!(r.csi_integration);
        assert_eq!(r.only.as_deref(), Some(&["shop".to_string()][..]));
        let c = cluster(&["--namespaces=shop"]);
        assert!(acts_in(&c, "shop", Watched::Secrets) && !acts_in(&c, "demo", Watched::Secrets));
        let ignoring = cluster(&["--resources-to-ignore=secrets"]);
        assert!(!acts_in(&ignoring, "shop", Watched::Secrets));
        assert!(acts_in(&ignoring, "shop", Watched::PodStatuses));
        let stopped = ClusterSpec {
            reloader_stopped: true,
            ..cluster(&[])
        };
        assert!(!acts_in(&stopped, "shop", Watched::PodStatuses));
        assert!(
            !acts_in(&ClusterSpec::default(), "shop", Watched::Secrets),
            "none runs"
        );
    }

    #[test]
    fn selectors_are_refused() {
        assert!(unsimulated(&["--namespace-selector=team=a".into()]).is_some());
        assert!(unsimulated(&["--resource-label-selector".into(), "x=y".into()]).is_some());
        assert_eq!(unsimulated(&["--auto-reload-all".into()]), None);
    }
}
