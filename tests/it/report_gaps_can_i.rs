//! A refused read is a permission to ask for: "Not visible" and JSON `gaps` give, beside each
//! refusal, the `kubectl auth can-i` line that confirms it (audit Q5 leftover), one per
//! refused kind of a merged reason, and none for a failure no role explains.

use kvchain::chain;
use kvchain::report;
use kvchain::source::lab;

fn refused() -> kvchain::snapshot::Snapshot {
    let mut s = lab::run_check("healthy", None).expect("lab healthy");
    s.events.gaps.namespaces.insert(
        "shop".into(),
        "cannot list events in shop: forbidden".into(),
    );
    s.workloads.gaps.all = Some(
        "cannot list deployments at the cluster scope: forbidden; cannot list replicasets at \
         the cluster scope: forbidden"
            .into(),
    );
    s.secrets.gaps.all = Some("list secrets: 503 InternalError: etcdserver: leader changed".into());
    s
}

#[test]
fn each_refused_read_is_confirmed_with_kubectl_auth_can_i_in_its_scope() {
    let s = refused();
    let chains = chain::diagnose(&s);
    let text = report::text(&s, &chains, false);
    let section: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("Not visible"))
        .take_while(|l| !l.is_empty())
        .collect();
    let at = |needle: &str| {
        section
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle} missing:\n{}", section.join("\n")))
    };
    // Under its own reason, in the namespace that refused.
    let events = at("cannot list events in shop: forbidden");
    assert_eq!(
        section[events + 1].trim(),
        "confirm: kubectl auth can-i list events -n shop"
    );
    let workloads = at("cannot list deployments at the cluster scope");
    assert_eq!(
        section[workloads + 1..workloads + 3]
            .iter()
            .map(|l| l.trim())
            .collect::<Vec<_>>(),
        [
            "confirm: kubectl auth can-i list deployments -A",
            "confirm: kubectl auth can-i list replicasets -A"
        ]
    );
    // A server error is no missing permission: no can-i line follows it.
    let secrets = at("503 InternalError");
    assert!(
        section
            .get(secrets + 1)
            .is_none_or(|l| !l.contains("can-i")),
        "{}",
        section.join("\n")
    );

    let json: serde_json::Value =
        serde_json::from_str(&report::json(&s, &chains)).expect("json report");
    let gaps = json["gaps"].as_array().unwrap();
    let events = gaps.iter().find(|g| g["kind"] == "events").unwrap();
    assert_eq!(
        events["confirm"],
        serde_json::json!(["kubectl auth can-i list events -n shop"])
    );
    let secrets = gaps.iter().find(|g| g["kind"] == "secrets").unwrap();
    assert!(secrets.get("confirm").is_none(), "{secrets}");
}
