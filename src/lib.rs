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
