//! kvchain: walk the AKS secret chain and see every broken link.
//!
//! Data flows one way: a [`source`] produces a [`snapshot::Snapshot`], [`chain::diagnose`]
//! turns it into chains with findings, and the UI or a [`report`] draws them. Actions go back
//! to the source.

/// `eprintln!` without its panic: when stderr itself fails (redirected to a full device)
/// there is nowhere left to say so, and a warning is not worth a crash (exit 101).
///
/// Everything kvchain writes on stderr passes here, and its messages echo values it did not
/// choose: file names, kubeconfig context names, theme names, arguments. Raw, `ESC[2J` in one
/// cleared the reader's screen and OSC 52 set their clipboard (audit XX6). The whole text is
/// escaped here, once, as every echoed value is ([`shown::shown`]: control characters as
/// `\u{…}`, line breaks kept); a part already escaped has no control character left to change.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let text = format!($($arg)*);
        let _ = writeln!(std::io::stderr(), "{}", $crate::shown::shown(&text));
    }};
}

pub mod action;
pub mod chain;
pub mod cli;
pub mod codedoc;
pub mod commands;
pub mod fingerprint;
pub mod glance;
pub mod input;
pub mod k8s_name;
pub mod logging;
pub mod output;
pub(crate) mod reloader;
pub mod report;
pub mod shown;
pub mod snapshot;
pub mod source;
pub mod spc;
pub mod suppress;
pub mod ui;

/// Diagnosis and the lab allocate and free many small strings per chain; glibc's allocator
/// spent a third of a 10,000-pod diagnosis in malloc/free (profiled), mimalloc far less.
#[cfg(not(feature = "system-alloc"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc commits its arenas eagerly by default on Linux and advises them for transparent
/// huge pages, so memory becomes resident 2 MiB at a time and what is freed inside a huge page
/// stays resident. A 10,000-pod list frees most of what it reads while the slim store grows:
/// resident memory ran ~40% above the live heap (`check` peaked at ~150 MiB resident for a
/// ~78 MiB heap). Committing on demand measured the same gain as turning THP off (both
/// together, nothing more; purging freed pages at once as well, ~2 MiB for more time). A
/// default only: `MIMALLOC_ARENA_EAGER_COMMIT` in the environment still wins.
#[cfg(all(target_os = "linux", not(feature = "system-alloc")))]
#[used]
#[unsafe(link_section = ".init_array")]
static TUNE_ALLOCATOR: extern "C" fn() = tune_allocator;

#[cfg(all(target_os = "linux", not(feature = "system-alloc")))]
extern "C" fn tune_allocator() {
    // Its position in mimalloc's `mi_option_t` (the same in the v2 and v3 headers); the
    // binding does not name it.
    const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
    // SAFETY: an option setter only writes the option table; this runs before main, before
    // the first allocation and before any other thread exists.
    unsafe {
        libmimalloc_sys::mi_option_set_default(ARENA_EAGER_COMMIT, 0);
        libmimalloc_sys::mi_option_set_default(PURGE_DELAY, PURGE_DELAY_MS);
    }
}

/// How long freed memory stays with the process before it goes back to the OS: mimalloc's
/// 10 ms is a third of a 10,000-pod diagnosis, so the memory its first chains freed was handed
/// back mid-pass and faulted in again for the last ones (4,200 page faults a pass; 45.8 ms
/// against 34.8 ms with 250 ms, measured alternately on a loaded VM). The first live snapshot
/// churns the same way (0.87–0.92 s against 0.67 s). It costs the TUI ~1.5 MiB resident at
/// 10,000 pods. A default only: `MIMALLOC_PURGE_DELAY` in the environment still wins.
#[cfg(all(target_os = "linux", not(feature = "system-alloc")))]
const PURGE_DELAY_MS: std::ffi::c_long = 250;

/// Runs `f` with freed memory handed back to the OS at once instead of after the 250 ms
/// purge delay (see [`PromptPurge`]).
pub fn with_prompt_purge<T>(f: impl FnOnce() -> T) -> T {
    let _purge = PromptPurge::start();
    f()
}

/// While held, freed memory goes back to the OS at once instead of after the 250 ms
/// purge delay. For a batch phase that builds, churns and frees large structures: the lab
/// world of `check --lab` (its peak resident memory at 10,000 pods was 22 MB, 12%, above the
/// same run purging at once, for 5–10% more time) and the one-shot live listing of `check`
/// (pages of objects decoded and dropped as the slim observations grow: ~5 MB lower peak at
/// 10,000 pods). The option is process-wide; other runs keep the default.
pub struct PromptPurge {
    #[cfg(not(feature = "system-alloc"))]
    before: std::ffi::c_long,
}

/// Its position in mimalloc's `mi_option_t` (the same in the v2 and v3 headers); the binding
/// does not name it.
#[cfg(not(feature = "system-alloc"))]
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

impl PromptPurge {
    pub fn start() -> PromptPurge {
        #[cfg(not(feature = "system-alloc"))]
        {
            // SAFETY: option getters and setters only read and write mimalloc's option
            // table, which it reads afresh at each purge.
            let before = unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) };
            unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 0) };
            PromptPurge { before }
        }
        #[cfg(feature = "system-alloc")]
        PromptPurge {}
    }
}

impl Drop for PromptPurge {
    fn drop(&mut self) {
        // SAFETY: as in `start`.
        #[cfg(not(feature = "system-alloc"))]
        unsafe {
            libmimalloc_sys::mi_option_set(PURGE_DELAY, self.before)
        };
    }
}
