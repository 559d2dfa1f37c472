//! The allocator's tuning as the binary gets it (its own process: nothing else here toggles
//! the options while the test reads them).

#![cfg(all(target_os = "linux", not(feature = "system-alloc")))]

/// mimalloc's `mi_option_purge_delay` (position 15 in its `mi_option_t`).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Freed memory is kept for 250 ms (not mimalloc's 10 ms, which handed a diagnosis's memory
/// back mid-pass), and a prompt-purge phase hands it back at once, then restores the delay.
#[test]
fn freed_memory_is_kept_for_the_purge_delay_outside_prompt_phases() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return; // the environment decides, by design
    }
    // SAFETY: an option getter only reads mimalloc's option table.
    let delay = || unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) };
    // The tuning runs before main; make sure the library is linked in.
    let _ = kvchain::chain::LinkKind::ALL;
    assert_eq!(delay(), 250);
    kvchain::with_prompt_purge(|| assert_eq!(delay(), 0));
    assert_eq!(delay(), 250);
}
