//! kvchain: walk the AKS secret chain and see every broken link.
//!
//! Data flows one way: a [`source`] produces a [`snapshot::Snapshot`], [`chain::diagnose`]
//! turns it into chains with findings, and the UI or a [`report`] draws them. Actions go back
//! to the source.

pub mod action;
pub mod chain;
pub mod cli;
pub mod codedoc;
pub mod commands;
pub mod complete;
pub mod error;
pub mod fingerprint;
pub mod glance;
pub mod input;
pub mod logging;
pub mod output;
pub mod report;
pub mod snapshot;
pub mod source;
pub mod spc;
pub mod suppress;
pub mod ui;

/// Diagnosis and the lab allocate and free many small strings per chain; glibc's allocator
/// spent a third of a 10,000-pod diagnosis in malloc/free (profiled), mimalloc far less.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's defaults keep freed memory resident: arenas are committed eagerly, so a purge
/// only resets pages (the kernel takes them back under pressure, resident until then), and
/// purges wait 10 ms. A 10,000-pod list frees most of what it reads while the slim store
/// grows, so resident memory stayed ~40% above the live heap (measured: `check` peaked at
/// 152 MiB for a 78 MiB heap). Committing on demand and purging at once returns freed pages
/// as they empty. Defaults only: `MIMALLOC_*` environment variables still win.
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static TUNE_ALLOCATOR: extern "C" fn() = tune_allocator;

#[cfg(target_os = "linux")]
extern "C" fn tune_allocator() {
    // Positions in mimalloc's `mi_option_t` (the same in its v2 and v3 headers); the binding
    // names neither.
    const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: option setters only write the option table; this runs before main, before the
    // first allocation and before any other thread exists.
    unsafe {
        libmimalloc_sys::mi_option_set_default(ARENA_EAGER_COMMIT, 0);
        libmimalloc_sys::mi_option_set_default(PURGE_DELAY, 0);
    }
}
