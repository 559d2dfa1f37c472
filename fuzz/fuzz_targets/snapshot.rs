//! `kvchain check --snapshot FILE`: a recorded snapshot file's text through its loader, then
//! diagnosed and reported in every format.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(mut snapshot) = kvchain::snapshot::file::from_str(text) else {
        return;
    };
    // What `file::load` sets after `from_str`.
    snapshot.source.recorded = true;
    kvchain_fuzz::check(snapshot, None);
});
