//! Diagnosis: pure, synchronous, no IO. Joins a [`Snapshot`](crate::snapshot::Snapshot) into
//! chains and runs one rule module per link.
//!
//! - [`index`]: hash-map joins built once per call;
//! - `context`: what one (pod, SPC volume) chain sees;
//! - `rules/<link>.rs`: one module per link, in [`LinkKind::ALL`] order;
//! - [`events`]: FailedMount / driver event messages → codes (works with the Azure side unknown).

mod azure_index;
mod build;
pub mod catalog;
pub(crate) mod chain_events;
mod context;
pub mod engine;
pub mod events;
pub(crate) mod index;
pub mod model;
mod orphans;
mod replicas;
pub mod restart_plan;
pub(crate) mod rules;
mod standalone;
pub mod synced_writes;
pub mod testkit;

pub use build::{diagnose, diagnose_detailed, explain};
pub use catalog::Code;
pub use catalog::short;
pub use rules::CONTRADICTED;
pub use rules::unstarted::waits_unexplained;
pub use standalone::{SpcVerdict, unmounted_spcs};
/// The Secrets Store CSI driver's registered name.
pub const DRIVER_NAME: &str = index::DRIVER;
pub use model::*;

/// Builds the joins [`diagnose`] starts from and returns how many pods they index, nothing
/// else: for the `diagnose` bench, which reports this part of the time on its own.
#[doc(hidden)]
pub fn index_only(snapshot: &crate::snapshot::Snapshot) -> usize {
    index::Index::build(snapshot).spcps.len()
}
