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
