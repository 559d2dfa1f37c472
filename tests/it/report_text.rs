//! The text report streamed to a writer reads exactly as the one built in memory, and a
//! writer that fails stops it with that writer's error.

use kvchain::chain;
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
    assert!(
        text.starts_with("kvchain check lab (healthy): "),
        "a link is unknown, no chain is missing: {text}"
    );
}
