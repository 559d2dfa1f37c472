//! `kvchain check -f FILE`: one manifest file's text, read as the command reads it (the load
//! and the origin scan share the text), then diagnosed and reported in every format.
#![no_main]

use std::path::PathBuf;

use kvchain::source::{manifest_scan, manifests};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // `files::read` refuses a file that is not UTF-8 before any parser sees it.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let name = PathBuf::from("fuzz.yaml");
    let mut inputs = manifests::files::Inputs {
        label: "fuzz.yaml".into(),
        ..Default::default()
    };
    inputs.named.insert(name.clone());
    inputs.files.push((name, Ok(text.to_string())));
    let Ok(snapshot) = manifests::load_inputs(&inputs) else {
        return;
    };
    let scan = manifest_scan::scan(&inputs);
    kvchain_fuzz::check(snapshot, Some(&scan));
});
