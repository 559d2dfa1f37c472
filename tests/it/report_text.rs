//! The text report streamed to a writer reads exactly as the one built in memory, and a
//! writer that fails stops it with that writer's error.

use kvchain::chain::{self, testkit as tk};
use kvchain::report;
use kvchain::source::lab;

#[test]
fn the_streamed_text_report_is_the_built_one_and_stops_at_a_write_error() {
    let snapshot = lab::run_check("default", None).expect("lab default");
    let chains = chain::diagnose(&snapshot);
    let spcs = chain::unmounted_spcs(&snapshot, &chains);
    let built = report::text_with(&snapshot, &chains, &spcs, true);
    assert!(built.contains("namespace"), "{built}");

    let mut streamed = Vec::new();
    report::write_text(&mut streamed, &snapshot, &chains, &spcs, true).unwrap();
    assert_eq!(String::from_utf8(streamed).unwrap(), built);

    /// Accepts a few bytes, then fails like a closed pipe.
    struct Closing(usize);
    impl std::io::Write for Closing {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            if self.0 == 0 {
                return Err(std::io::ErrorKind::BrokenPipe.into());
            }
            let n = b.len().min(self.0);
            self.0 -= n;
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let err = report::write_text(Closing(100), &snapshot, &chains, &spcs, false).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
}

/// The `healthy` lab with its pods unread at the cluster scope, as a 403 leaves a live view.
fn pods_unread() -> kvchain::snapshot::Snapshot {
    let mut snapshot = lab::run_check("healthy", None).expect("lab healthy");
    snapshot.pods =
        kvchain::snapshot::Coll::unknown("cannot list pods at the cluster scope: forbidden");
    snapshot
}

/// An incomplete view says so in its first words, naming what could not be read, before any
/// count a reader could take for a verdict ("0 errors"); a complete one, or one where only a
/// link is unknown, keeps the plain headline.
#[test]
fn the_headline_of_an_incomplete_view_starts_with_what_could_not_be_read() {
    let snapshot = pods_unread();
    let chains = chain::diagnose(&snapshot);
    let text = report::text(&snapshot, &chains, false);
    let headline = text.lines().next().unwrap();
    assert!(
        headline.starts_with(
            "INCOMPLETE: pods (all namespaces) could not be read — kvchain check lab (healthy): 0 chains"
        ),
        "{headline}"
    );
    assert!(headline.contains("0 errors"), "the counts stay: {headline}");

    let mut spcs_in_shop = lab::run_check("healthy", None).unwrap();
    spcs_in_shop.spcs.gaps.namespaces.insert(
        "shop".into(),
        "cannot list secretproviderclasses in shop: forbidden".into(),
    );
    spcs_in_shop
        .pods
        .gaps
        .namespaces
        .insert("shop".into(), "cannot list pods in shop: forbidden".into());
    let chains = chain::diagnose(&spcs_in_shop);
    let text = report::text(&spcs_in_shop, &chains, false);
    assert!(
        text.starts_with(
            "INCOMPLETE: pods in shop, secretproviderclasses in shop could not be read — kvchain check"
        ),
        "{text}"
    );

    let healthy = lab::run_check("healthy", None).unwrap();
    let text = report::text(&healthy, &chain::diagnose(&healthy), false);
    assert!(text.starts_with("kvchain check lab (healthy): "), "{text}");

    let mut secrets_unread = lab::run_check("healthy", None).unwrap();
    secrets_unread.secrets.gaps.all = Some("cannot list secrets: forbidden".into());
    let text = report::text(&secrets_unread, &chain::diagnose(&secrets_unread), false);
    // A link is unknown, no chain is missing: not INCOMPLETE, but no verdict either (exit 3
    // unless something fails, audit VVV-honest), said first.
    assert!(
        text.starts_with("UNVERIFIED: a read failed — kvchain check lab (healthy): "),
        "{text}"
    );
    assert!(!text.contains("INCOMPLETE"), "{text}");
}

/// The AADSTS70021 a provider reports for a subject no federated credential has (FACTS §5),
/// as the kubelet's FailedMount (§3) and as ≤v1.5's MountRotationFailed (§3) wrap it.
fn aadsts70021(pod: &str) -> String {
    format!(
        "failed to mount secrets store objects for pod {}/{pod}, err: rpc error: code = Unknown desc = failed to mount objects, error: failed to get objectType:secret, objectName:{}, objectVersion:: ClientAssertionCredential authentication failed. \nPOST https://login.microsoftonline.com/{}/oauth2/v2.0/token\n--------------------------------------------------------------------------------\nRESPONSE 400: 400 Bad Request\n--------------------------------------------------------------------------------\n{{ \"error\": \"invalid_request\", \"error_description\": \"AADSTS70021: No matching federated identity record found for presented assertion. Assertion Subject: 'system:serviceaccount:{}:{}'. Assertion Audience: 'api://AzureADTokenExchange'.\", \"error_codes\": [70021] }}",
        tk::NS,
        tk::object_name(tk::APP),
        tk::TENANT,
        tk::NS,
        tk::sa_name(tk::APP),
    )
}

/// Two replicas of one Deployment whose ServiceAccount has no federated credential (one
/// KVC401 for both): the running one's rotation fails (MountRotationFailed), the new one is
/// stuck in ContainerCreating (FailedMount). `extra` more replicas are stuck the same way.
fn two_replicas_failing_differently(extra: usize) -> kvchain::snapshot::Snapshot {
    use kvchain::snapshot::*;
    let mut s = tk::empty();
    tk::add_app(&mut s, tk::NS, tk::APP, 2 + extra);
    tk::fic_mut(&mut s, tk::APP).subject = format!("system:serviceaccount:{}:other", tk::NS);
    let running = tk::pod_name(tk::APP, 0);
    let mut rotation = tk::failed_mount(tk::NS, &running, "secrets-store-inline", "");
    rotation.reason = "MountRotationFailed".into();
    rotation.source = "csi-secrets-store-rotation".into();
    rotation.message = format!("provider mount err: {}", aadsts70021(&running));
    s.events.items.push(rotation);
    for i in 1..2 + extra {
        let stuck = tk::pod_name(tk::APP, i);
        s.spc_statuses.items.retain(|st| st.pod_name != stuck);
        let pod = s.pods.items.iter_mut().find(|p| p.name == stuck).unwrap();
        pod.phase = "Pending".into();
        for c in &mut pod.containers {
            c.state = ContainerStateObs::Waiting {
                reason: "ContainerCreating".into(),
                message: String::new(),
            };
        }
        let mut e = tk::failed_mount(tk::NS, &stuck, "secrets-store-inline", "");
        e.message = format!(
            "MountVolume.SetUp failed for volume \"secrets-store-inline\" : rpc error: code = Unknown desc = {}",
            aadsts70021(&stuck)
        );
        s.events.items.push(e);
    }
    s
}

/// A finding two chains share is printed once with what each of them saw: the running
/// replica's MountRotationFailed and the stuck one's FailedMount, each once.
#[test]
fn a_shared_finding_shows_the_evidence_of_every_chain_once() {
    let s = two_replicas_failing_differently(0);
    let chains = chain::diagnose(&s);
    let kvc401: Vec<_> = chains
        .iter()
        .flat_map(|c| c.findings())
        .filter(|f| f.code == kvchain::chain::Code::KVC401)
        .collect();
    assert_eq!(kvc401.len(), 2, "one per replica: {chains:#?}");
    assert_eq!(kvc401[0].key(), kvc401[1].key(), "one finding");
    let text = report::text(&s, &chains, false);
    let seen = |reason: &str| {
        text.lines()
            .filter(|l| l.contains("seen:") && l.contains(reason))
            .count()
    };
    assert_eq!(seen("MountRotationFailed"), 1, "{text}");
    assert_eq!(seen("FailedMount"), 1, "{text}");
    assert_eq!(text.matches("KVC401 error").count(), 1, "{text}");
    let json: serde_json::Value = serde_json::from_str(&report::json(&s, &chains)).unwrap();
    let f = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "KVC401")
        .unwrap();
    let evidence: Vec<&str> = f["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    for reason in ["MountRotationFailed", "FailedMount"] {
        assert_eq!(
            evidence.iter().filter(|e| e.contains(reason)).count(),
            1,
            "{evidence:#?}"
        );
    }
    let sarif = kvchain::output::sarif::render(&s, &chains, &Default::default());
    let sarif: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    let r = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "KVC401")
        .unwrap();
    assert_eq!(
        r["properties"]["evidence"].as_array().unwrap().len(),
        evidence.len()
    );
}

/// Ten replicas each stuck with their own event: the merged evidence stops at
/// `MAX_EVIDENCE` lines plus one saying how many more there were.
#[test]
fn a_shared_findings_evidence_is_capped_with_a_count_of_the_rest() {
    let s = two_replicas_failing_differently(8);
    let chains = chain::diagnose(&s);
    let mine: std::collections::BTreeSet<String> = chains
        .iter()
        .flat_map(|c| c.findings())
        .filter(|f| f.code == kvchain::chain::Code::KVC401)
        .flat_map(|f| f.evidence.iter().map(|e| e.to_string()))
        .collect();
    assert!(mine.len() > report::MAX_EVIDENCE, "{mine:#?}");
    let json: serde_json::Value = serde_json::from_str(&report::json(&s, &chains)).unwrap();
    let f = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "KVC401")
        .unwrap();
    let evidence = f["evidence"].as_array().unwrap();
    assert_eq!(evidence.len(), report::MAX_EVIDENCE + 1, "{evidence:#?}");
    let more = format!("… and {} more", mine.len() - report::MAX_EVIDENCE);
    assert_eq!(evidence[report::MAX_EVIDENCE], more.as_str());
    // The text shows each decisive line once: the stuck replicas' FailedMounts differ only in
    // the pod they name.
    let text = report::text(&s, &chains, false);
    let seen = |what: &str| {
        text.lines()
            .filter(|l| l.contains("seen:") && l.contains(what))
            .count()
    };
    assert_eq!(seen("FailedMount"), 1, "{text}");
    assert_eq!(seen(&more), 1, "{text}");
}

/// Audit SS2: with the pods unread, an SPC no chain mounts is not "mounted by no pod" — the
/// unread pods may mount it (unknown is not absent). The headline, the section, the JSON entry
/// and a JUnit case say it is not known to be mounted, and why; a view whose pods were read
/// keeps "mounted by no pod".
#[test]
fn with_the_pods_unread_no_spc_is_said_to_be_mounted_by_no_pod() {
    let snapshot = pods_unread();
    let chains = chain::diagnose(&snapshot);
    let spcs = chain::unmounted_spcs(&snapshot, &chains);
    assert!(
        !spcs.is_empty(),
        "the healthy lab's SPC is checked on its own"
    );
    let text = report::text_with(&snapshot, &chains, &spcs, false);
    assert!(!text.contains("mounted by no pod"), "{text}");
    let headline = text.lines().next().unwrap();
    assert!(
        headline.contains(", 1 SPC not known to be mounted (pods unread),"),
        "{headline}"
    );
    assert!(
        text.contains(
            "SecretProviderClasses not known to be mounted (pods unread: cannot list pods at the cluster scope: forbidden)"
        ),
        "{text}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&report::json_with(&snapshot, &chains, &spcs)).unwrap();
    assert_eq!(
        json["spcs"][0]["pods_unread"], "cannot list pods at the cluster scope: forbidden",
        "{json:#}"
    );

    // A finding on it makes a JUnit case: its name makes no claim either.
    let mut spcs = spcs;
    let other = lab::run_check("default", None).unwrap();
    let found = chain::diagnose(&other);
    let mut f = found
        .iter()
        .flat_map(|c| c.findings())
        .next()
        .unwrap()
        .clone();
    f.severity = kvchain::chain::Severity::Error;
    spcs[0].findings.push(f);
    let cx = kvchain::output::Context {
        scan: None,
        base: None,
        fail_on: kvchain::output::FailOn::Error,
        spcs: &spcs,
    };
    let xml = kvchain::output::junit::render(&snapshot, &chains, &cx);
    assert!(!xml.contains("mounted by no pod"), "{xml}");
    assert!(
        xml.contains("(not known to be mounted: pods unread)"),
        "{xml}"
    );
    // With the pods read, "mounted by no pod" stays: check_classes' lone SPC headline.
}
