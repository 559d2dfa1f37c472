//! Audit F11: SecretProviderClassPodStatuses forbidden leave the Mount link (and what follows
//! from it) unknown. That is no exit 3 — README: only unread pods or SPCs, or an undetermined
//! pod, are — but "0 errors" alone would read as healthy: the headline counts the chains a
//! failed read left unverified and their unknown links, and the JSON summary carries both.
//! What was not read by choice (`--no-azure`) counts for nothing here.

use kvchain::chain::diagnose;
use kvchain::chain::testkit as tk;
use kvchain::snapshot::*;

fn headline_and_summary(s: &Snapshot) -> (String, serde_json::Value) {
    let chains = diagnose(s);
    let text = kvchain::report::text(s, &chains, false);
    let json: serde_json::Value = serde_json::from_str(&kvchain::report::json(s, &chains)).unwrap();
    (
        text.lines().next().unwrap_or_default().to_string(),
        json["summary"].clone(),
    )
}

fn live(mut s: Snapshot) -> Snapshot {
    s.source.kind = SourceKind::Live;
    s
}

#[test]
fn the_headline_counts_chains_a_failed_read_left_unverified() {
    let mut s = live(tk::healthy());
    let (headline, summary) = headline_and_summary(&s);
    assert!(!headline.contains("not verified"), "{headline}");
    assert!(summary.get("unverified").is_none(), "{summary}");

    s.spc_statuses.gaps.all =
        Some("cannot list secretproviderclasspodstatuses at the cluster scope: forbidden".into());
    let chains = diagnose(&s);
    // Not verified is no pass: exit 3 unless something fails (audit VVV-honest).
    assert!(
        kvchain::report::undetermined(&s, &chains),
        "exit 3 for a link gap"
    );
    let (headline, summary) = headline_and_summary(&s);
    assert_eq!(headline.lines().count(), 1);
    let n = summary["unverified"].as_u64().unwrap();
    assert!(n >= 1, "{summary}");
    assert!(summary["unknown_links"].as_u64().unwrap() >= n, "{summary}");
    assert!(
        headline.contains(&format!("{n} chain")) && headline.contains("not verified"),
        "{headline}"
    );
    assert!(headline.contains("links unknown") || headline.contains("link unknown"));
}

#[test]
fn what_was_left_unread_by_choice_leaves_the_headline_alone() {
    let mut s = live(tk::healthy());
    s.azure.vaults.gaps.all = Some(kvchain::snapshot::gaps::AZURE_DISABLED.into());
    s.azure.identities.gaps.all = Some(kvchain::snapshot::gaps::AZURE_DISABLED.into());
    let (headline, summary) = headline_and_summary(&s);
    assert!(!headline.contains("not verified"), "{headline}");
    assert!(summary.get("unverified").is_none(), "{summary}");
}

/// Audit Q1: a check a failed read left undone, whose link says what was not checked beside
/// the read's reason — the driver's rotation flag (csidrivers or its DaemonSets unread), the
/// owner's Reloader annotation (workloads unread), the cluster's issuer (its discovery unread,
/// on a pod not yet mounted) — is counted as not verified, and its JUnit case is skipped with
/// that reason, never a pass: README "Degrading, not failing".
#[test]
fn a_check_left_undone_by_a_failed_read_is_not_verified_in_every_count() {
    const WHY: &str = "cannot list things at the cluster scope: forbidden";
    type Edit = fn(&mut Snapshot);
    let cases: [(&str, Edit); 3] = [
        ("rotation", |s| {
            s.cluster.csi_driver = Observed::unknown(WHY);
        }),
        ("restart", |s| {
            s.workloads.items.clear();
            s.workloads.gaps.all = Some(WHY.into());
        }),
        ("issuer", |s| {
            tk::unmount(s, tk::APP);
            s.cluster.oidc_issuer = Observed::unknown(WHY);
        }),
    ];
    for (name, edit) in cases {
        let mut s = live(tk::healthy());
        edit(&mut s);
        let chains = diagnose(&s);
        assert!(
            chains.iter().any(|c| c
                .links
                .iter()
                .any(|l| l.status == kvchain::chain::Status::Unknown
                    && l.facts.iter().any(|f| f.label == "not checked"))),
            "{name}: {chains:#?}"
        );
        let (headline, summary) = headline_and_summary(&s);
        assert!(
            summary["unverified"].as_u64().unwrap_or(0) >= 1,
            "{name}: {summary}"
        );
        assert!(headline.contains("not verified"), "{name}: {headline}");
        let xml = kvchain::output::junit::render(
            &s,
            &chains,
            &kvchain::output::Context {
                scan: None,
                base: None,
                fail_on: kvchain::output::FailOn::Error,
                ..Default::default()
            },
        );
        assert!(
            xml.contains("<skipped") && xml.contains(WHY),
            "{name}: {xml}"
        );
    }
}

/// Audit SS5: with `--no-azure` and the ServiceAccounts refused, the headline counts the links
/// the refusal left unknown, not those unknown only because Azure was not read by choice (the
/// Object link, "Azure disabled (--no-azure)"): README "What is unread by choice
/// (`--no-azure`) … is not counted there".
#[test]
fn links_unknown_only_by_choice_are_not_counted_as_a_failed_read() {
    use kvchain::chain::Status;
    use kvchain::snapshot::gaps::AZURE_DISABLED;
    let mut s = live(tk::healthy());
    s.azure = AzureObs::unknown(AZURE_DISABLED);
    s.service_accounts.items.clear();
    s.service_accounts.gaps.all =
        Some("cannot list serviceaccounts at the cluster scope: forbidden".into());
    let chains = diagnose(&s);
    let by_choice = |l: &kvchain::chain::Link| {
        let mut unknown = l.facts.iter().filter(|f| f.label == "unknown").peekable();
        unknown.peek().is_some() && unknown.all(|f| f.observed == AZURE_DISABLED)
    };
    let links = || {
        chains
            .iter()
            .flat_map(|c| c.links.iter())
            .filter(|l| l.status == Status::Unknown)
    };
    assert!(
        links().any(by_choice),
        "a link unknown for --no-azure: {chains:#?}"
    );
    let failed = links().filter(|l| !by_choice(l)).count();
    assert!(failed >= 1, "{chains:#?}");
    let (headline, summary) = headline_and_summary(&s);
    assert_eq!(
        summary["unknown_links"].as_u64(),
        Some(failed as u64),
        "{summary}"
    );
    assert!(
        headline.contains(&format!(
            "({} unknown: a read failed",
            kvchain::glance::plural(failed, "link")
        )),
        "{headline}"
    );
}
